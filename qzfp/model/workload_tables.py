"""Tidy tables of a WISN result: per unit, per workload component, summed per year.

Long-format :class:`pandas.DataFrame` views of :class:`~qzfp.model.workload.WisnResult`
for reports and CSV files (one parameter set at a time).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ParameterError, Problem
from .engine import tidy_index
from .staffing import StaffingResult
from .workload import WisnResult

__all__ = ["component_totals", "components_table", "summary_table", "wisn_table"]


def _unit_codes(st: StaffingResult, level: str) -> dict[str, np.ndarray]:
    reg = st.register
    cc = reg.counties["county_code"].to_numpy(dtype=object)
    tc = reg.townships["township_code"].to_numpy(dtype=object)
    if level == "village":
        vc = reg.villages["village_code"].to_numpy(dtype=object)
        return {"county_code": cc[reg.village_county], "township_code": tc[reg.village_township], "village_code": vc}
    if level == "township":
        return {"county_code": cc[reg.township_county], "township_code": tc, "village_code": np.full(len(tc), "", dtype=object)}
    return {"county_code": cc, "township_code": np.full(len(cc), "", dtype=object), "village_code": np.full(len(cc), "", dtype=object)}


def wisn_table(wr: WisnResult, i: int = 0, cadres: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Tidy WISN of parameter set ``i``: one row per year × cadre × unit.

    Columns: ``year``, ``cadre``, ``level``, ``county_code``, ``township_code``,
    ``village_code``, ``population`` [person], ``awt_hours`` [hour/year],
    ``workload_hours`` [hour/year], ``caf``, ``iaf``, ``required`` [post],
    ``provided`` [post], ``difference`` [post], ``ratio``, ``below_1`` (ratio < 1:
    the posts cannot carry the work).
    """
    st = wr.staffing
    pops = {"village": lambda: st.village_pop, "township": lambda: st.township_pop,  # formed when a cadre needs it
            "county": lambda: st.county_pop}
    frames = []
    for cadre in tuple(wr.cadres) if cadres is None else cadres:
        w = wr[cadre]
        codes = _unit_codes(st, w.level)
        m = w.required_staff.shape[2]
        yr, k = tidy_index(wr.years, m)
        tk = np.repeat(np.arange(len(wr.years)), m)
        frames.append(pd.DataFrame({
            "year": yr, "cadre": cadre, "level": w.level,
            **{c: a[k] for c, a in codes.items()},
            "population": pops[w.level]()[i].ravel(),
            "awt_hours": w.awt[i][tk], "workload_hours": w.workload_hours[i].ravel(),
            "caf": w.caf[i][tk], "iaf": w.iaf[i][tk],
            "required": w.required[i].ravel(), "provided": w.provided[i].ravel(),
            "difference": w.difference[i].ravel(), "ratio": w.ratio[i].ravel(),
            "below_1": w.ratio[i].ravel() < 1,
        }))
    return pd.concat(frames, ignore_index=True)


def components_table(wr: WisnResult, i: int = 0, cadres: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Per year × cadre × unit × component: ``volume`` [unit/year], ``volume_unit``,
    ``standard_hours`` [hour/unit], ``standard_workload`` = AWT / standard [unit/year],
    ``workload_hours`` [hour/year], ``staff`` = volume / standard workload [post].

    Requires the result to have been computed with ``keep_components=True``.
    """
    st = wr.staffing
    frames = []
    for cadre in tuple(wr.cadres) if cadres is None else cadres:
        w = wr[cadre]
        if not w.components:
            raise ParameterError(Problem(cadre, "workload.no_components"))
        codes = _unit_codes(st, w.level)
        m = w.required_staff.shape[2]
        yr, k = tidy_index(wr.years, m)
        tk = np.repeat(np.arange(len(wr.years)), m)
        awt = w.awt[i][tk]
        for comp, (vol, unit, std) in w.components.items():
            s = std[i][tk]
            volume = vol[i].ravel()
            with np.errstate(divide="ignore"):
                sw = np.where(s > 0, awt / np.where(s > 0, s, 1.0), np.inf)
            frames.append(pd.DataFrame({
                "year": yr, "cadre": cadre, "level": w.level, **{c: a[k] for c, a in codes.items()},
                "component": comp, "volume": volume, "volume_unit": unit, "standard_hours": s,
                "standard_workload": sw, "workload_hours": volume * s, "staff": volume * s / awt,
            }))
    return pd.concat(frames, ignore_index=True)


def component_totals(wr: WisnResult, year_index: int, i: int = 0,
                     cadres: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Per cadre × component, summed over every unit in one year: what
    :func:`components_table` grouped by cadre and component gives, without building the
    table of every unit (448,000 rows for the example city).

    Parameters
    ----------
    wr : WisnResult
        Computed with ``keep_components=True``.
    year_index : int
        Index of the year in ``wr.years``.
    i : int
        Parameter set.

    Returns
    -------
    pandas.DataFrame
        ``cadre``, ``component``, ``volume`` [unit/year], ``volume_unit``,
        ``standard_hours`` [hour/unit], ``workload_hours`` [hour/year] and ``staff`` [post],
        cadres and components in the order of the rulebook.
    """
    rows = []
    for cadre in tuple(wr.cadres) if cadres is None else cadres:
        w = wr[cadre]
        if not w.components:
            raise ParameterError(Problem(cadre, "workload.no_components"))
        awt = float(w.awt[i][year_index])
        for comp, (vol, unit, std) in w.components.items():
            s = float(std[i][year_index])
            volume = np.asarray(vol[i][year_index], dtype=float)  # (units,)
            hours = volume * s
            rows.append({"cadre": cadre, "component": comp, "volume": float(volume.sum()),
                         "volume_unit": unit, "standard_hours": s, "workload_hours": float(hours.sum()),
                         "staff": float((hours / awt).sum())})
    return pd.DataFrame(rows, columns=["cadre", "component", "volume", "volume_unit", "standard_hours",
                                       "workload_hours", "staff"])


def summary_table(wr: WisnResult, i: int = 0) -> pd.DataFrame:
    """Per year × cadre: units, provided and required posts, units with ratio < 1.

    Columns: ``year``, ``cadre``, ``units``, ``provided``, ``required``, ``difference``,
    ``ratio`` (total provided / total required), ``units_below_1``.
    """
    rows: list[dict[str, Any]] = []
    agg: Callable[[np.ndarray], np.ndarray] = lambda a: a[i].sum(axis=-1)  # noqa: E731
    for cadre in wr.cadres:
        w = wr[cadre]
        prov, req = agg(w.provided), agg(w.required)
        below = (w.ratio[i] < 1).sum(axis=-1)
        units = int(w.required_staff.shape[2])
        for j, year in enumerate(wr.years):
            rows.append({
                "year": int(year), "cadre": cadre, "units": units,
                "provided": prov[j], "required": req[j], "difference": prov[j] - req[j],
                "ratio": prov[j] / req[j] if req[j] > 0 else np.inf, "units_below_1": int(below[j]),
            })
    return pd.DataFrame(rows)
