"""Projection of any county-level unit of a census table, straight from the table.

No register is needed: the county is the unit.  :func:`project_census` projects the
registered and resident populations of the counties of a census table (the shipped 2010
table, or any table of its layout) with the same engine as :func:`qzfp.simulate`
(:func:`qzfp.model.projection.project_calibrated`), from 1 January after the census moment
to any later date; :func:`census_indicators_at` gives the resident totals and the shares aged
60+ and 65+ at a date for the central projection and for Monte Carlo paths, county chunk by
county chunk, without holding the paths' age detail (the national back-test of
:mod:`qzfp.model.backtest` runs on it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ParameterError, Problem
from ..register.census import Census, fractional_year
from ..rules.paramarrays import ParamArrays
from .assumptions import demography_param_arrays, yearly_assumptions
from .base import Calibration, base_values, calibrate_counties
from .diagnostics import Diagnostics
from .montecarlo import draw_paths
from .mortality import mortality_from
from .projection import project_calibrated

__all__ = ["CensusProjection", "INDICATOR_AGES", "census_indicators_at", "county_codes", "project_census"]

#: First age of the shares the indicators give (``share_60plus``, ``share_65plus``) [year].
INDICATOR_AGES = (60, 65)

#: Counties projected at once by :func:`census_indicators_at` (bounds its memory: the stocks of
#: two years of both populations for every path of the chunk).
_CHUNK_CELLS = 40_000_000


def county_codes(census: Census, prefixes: Sequence[str] | None = None) -> np.ndarray:
    """Codes of the county-level rows of a table whose code starts with one of ``prefixes`` (all when None)."""
    sel = census.levels == "county"
    if prefixes:
        pre = tuple(str(p) for p in prefixes)
        sel &= np.array([str(c).startswith(pre) for c in census.codes])
    return np.asarray(census.codes[sel], dtype=object)


def _years_to(census: Census, until: dt.date, option: str) -> tuple[int, np.ndarray]:
    """First year (1 January after the census moment) and the years projected to reach ``until``.

    Raises
    ------
    ParameterError
        At ``option`` when ``until`` is before that first 1 January (a date between the census
        moment and it is not projected: the census itself is the population there).
    """
    start = census.date.year + 1
    if until < dt.date(start, 1, 1):
        raise ParameterError(Problem(option, "county.before_first_year", date=until.isoformat(),
                                     census=census.date.isoformat(), first=f"{start}-01-01"))
    return start, np.arange(start, int(np.floor(fractional_year(until))) + 2)


@dataclass(frozen=True)
class CensusProjection:
    """The central projection of some counties of a census table.

    Attributes
    ----------
    codes, names : numpy.ndarray
        (C,) county codes and Chinese names.
    years : numpy.ndarray
        (T,) years; stocks at 1 January.
    pop : numpy.ndarray
        (T, 2, C, 2, A) registered (0) and resident (1) persons by sex and single age [person].
    calibration : Calibration
    diagnostics : Diagnostics
    """

    codes: np.ndarray
    names: np.ndarray
    years: np.ndarray
    pop: np.ndarray
    calibration: Calibration
    diagnostics: Diagnostics

    def at(self, date: dt.date) -> np.ndarray:
        """The populations (2, C, 2, A) at a date, linear between the 1 January stocks [person]."""
        x = fractional_year(date)
        i = int(np.floor(x)) - int(self.years[0])
        f = x - np.floor(x)
        if i < 0 or i + (f > 0) >= len(self.years):
            raise ParameterError(Problem("date", "backtest.outside_years", date=date, first=self.years[0],
                                         last=self.years[-1]))
        return self.pop[i] if f == 0 else (1.0 - f) * self.pop[i] + f * self.pop[i + 1]

    def table(self) -> pd.DataFrame:
        """Tidy: ``year, code, name_zh, basis, population, aged_60plus, aged_65plus`` [person]."""
        t, _, c = self.pop.shape[:3]
        rows = []
        for b, basis in enumerate(("registered", "resident")):
            p = self.pop[:, b]  # (T, C, 2, A)
            rows.append(pd.DataFrame({
                "year": np.repeat(self.years, c),
                "code": np.tile(self.codes, t),
                "name_zh": np.tile(self.names, t),
                "basis": basis,
                "population": p.sum(axis=(-2, -1)).reshape(-1),
                "aged_60plus": p[..., 60:].sum(axis=(-2, -1)).reshape(-1),
                "aged_65plus": p[..., 65:].sum(axis=(-2, -1)).reshape(-1),
            }))
        return pd.concat(rows, ignore_index=True)


def _rulebook_arrays(years: np.ndarray, pa: ParamArrays | None) -> ParamArrays:
    if pa is None:
        return demography_param_arrays(years)
    if len(pa.years) != len(years) or np.any(np.asarray(pa.years) != years):
        raise ParameterError(Problem("years", "county.years_differ", given=list(pa.years), needed=list(years)))
    return pa


def project_census(census: Census, codes: Sequence[str] | None = None, *, until: dt.date,
                   pa: ParamArrays | None = None, variant: str = "medium") -> CensusProjection:
    """Project counties of a census table from 1 January after its census moment to ``until``.

    Parameters
    ----------
    census : Census
        A table of the full layout (:func:`qzfp.register.census.load_census`).
    codes : sequence of str, optional
        County codes (every county-level row when omitted); a code the table lacks takes its
        area's row, counted in ``diagnostics``.
    until : datetime.date
        The last date the projection must reach (stocks to 1 January after it are made).
    pa : ParamArrays, optional
        Demographic assumptions over the projected years (the packaged rulebook when omitted).
    variant : str
        As in :func:`qzfp.model.projection.project`.

    Returns
    -------
    CensusProjection
    """
    codes = county_codes(census) if codes is None else np.asarray([str(c) for c in codes], dtype=object)
    start, years = _years_to(census, until, "--until")
    pa = _rulebook_arrays(years, pa)
    asm = yearly_assumptions(pa, variant)
    cal = calibrate_counties(census, codes, start, base_values(pa))
    out = project_calibrated(cal, pa, asm, mortality_from(pa))
    t = len(years)
    return CensusProjection(codes, cal.names, years, out["pop"][0, :t], cal, out["diagnostics"])


def _indicators(pop: np.ndarray) -> np.ndarray:
    """(..., C, 2, A) persons -> (3, ..., C): total [person], shares aged 60+ and 65+ [%]."""
    total = pop.sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = [np.where(total > 0, pop[..., a:].sum(axis=(-2, -1)) / np.where(total > 0, total, 1.0) * 100, np.nan)
                  for a in INDICATOR_AGES]
    return np.stack([total, *shares])


def census_indicators_at(census: Census, codes: Sequence[str], date: dt.date, *, n_paths: int = 0, seed: int = 0,
                         pa: ParamArrays | None = None, variant: str = "medium",
                         quantiles: Sequence[float] = (10, 90),
                         groups: Sequence[str] | None = None) -> dict[str, object]:
    """Resident indicators of counties of a census table at a later date, central and by path.

    Parameters
    ----------
    census : Census
        The base table (full layout).
    codes : sequence of str
        County codes.
    date : datetime.date
        The date of the indicators (after the census moment).
    n_paths, seed : int
        Monte Carlo paths (:func:`qzfp.model.montecarlo.draw_paths` for all the counties at
        once, so a county's paths do not depend on which others are projected with it or on
        the chunks) and their seed.
    pa : ParamArrays, optional
        Assumptions over the projected years (the packaged rulebook when omitted).
    quantiles : sequence of float
        Percentiles of the paths returned.
    groups : sequence of str, optional
        (C,) a group label per county (``""``: in no group); the resident totals of each group
        are summed path by path, so their percentiles are those of the group's total (the
        counties of a group share part of their deviations).

    Returns
    -------
    dict
        ``central`` (3, C): resident total [person], shares aged 60+ and 65+ [%] of the
        central projection; ``quantiles`` (Q, 3, C) of the paths (None without paths);
        ``calibration``; ``diagnostics``; with ``groups``, ``group_labels`` (G,) sorted,
        ``group_central`` (G,) and ``group_quantiles`` (Q, G) of the groups' resident totals.
    """
    codes = np.asarray([str(c) for c in codes], dtype=object)
    start, years = _years_to(census, date, "--check-date")
    pa = _rulebook_arrays(years, pa)
    asm = yearly_assumptions(pa, variant)
    model = mortality_from(pa)
    cal = calibrate_counties(census, codes, start, base_values(pa))
    x = fractional_year(date)
    i = int(np.floor(x)) - start
    f = x - np.floor(x)
    keep = np.full(len(years) + 1, -1)
    keep[i], keep[i + 1] = 0, 1

    def at(pop: np.ndarray) -> np.ndarray:  # (B, 2, 2, C, 2, A) -> resident (B, C, 2, A) at the date
        return (1.0 - f) * pop[:, 0, 1] + f * pop[:, 1, 1]

    central_out = project_calibrated(cal, pa, asm, model, keep=keep, flows=False)
    central = _indicators(at(central_out["pop"]))[:, 0]
    result: dict[str, object] = {"central": central, "quantiles": None, "calibration": cal,
                                 "diagnostics": central_out["diagnostics"]}
    labels, member = _groups(groups, len(codes))
    if labels is not None:
        result["group_labels"] = labels
        result["group_central"] = np.bincount(member[member >= 0], central[0][member >= 0], minlength=len(labels))
    if n_paths <= 0:
        return result
    draws = draw_paths(pa, cal, n_paths, seed)
    c = len(codes)
    chunk = max(1, _CHUNK_CELLS // (n_paths * 2 * 2 * 2 * 101))
    q = np.empty((len(quantiles), 3, c))
    group_paths = np.zeros((n_paths, 0 if labels is None else len(labels)))
    capped = floored = clipped = 0
    for lo in range(0, c, chunk):
        sel = slice(lo, min(c, lo + chunk))
        part = _calibration_part(cal, sel)
        out = project_calibrated(part, pa, asm, model, None, draws.counties(sel), keep=keep, flows=False)
        ind = _indicators(at(out["pop"]))  # (3, B, Cs)
        q[:, :, sel] = np.percentile(ind, quantiles, axis=1)
        if labels is not None:
            m = member[sel]
            for j in np.flatnonzero(m >= 0):  # the chunk's counties into their groups' totals
                group_paths[:, m[j]] += ind[0, :, j]
        d = out["diagnostics"]
        capped += d.capped
        floored, clipped = d.tfr_floored, d.e0_clipped  # national draws: the same in every chunk
    diag = result["diagnostics"]
    result["diagnostics"] = diag.replace(paths=n_paths, capped=diag.capped + capped, tfr_floored=floored,
                                         e0_clipped=clipped)
    result["quantiles"] = q
    if labels is not None:
        result["group_quantiles"] = np.percentile(group_paths, quantiles, axis=0)
    return result


def _groups(groups: Sequence[str] | None, c: int) -> tuple[np.ndarray | None, np.ndarray]:
    """Sorted group labels and each county's group index (-1: none)."""
    if groups is None:
        return None, np.full(c, -1)
    g = np.asarray([str(x) for x in groups], dtype=object)
    labels = np.array(sorted({x for x in g if x}), dtype=object)
    index = {x: i for i, x in enumerate(labels)}
    return labels, np.array([index.get(x, -1) for x in g])


def _calibration_part(cal: Calibration, sel: slice) -> Calibration:
    """The calibration of some counties (the arrays the projection reads)."""
    from dataclasses import replace

    return replace(cal, codes=cal.codes[sel], base_pop=cal.base_pop[sel], base_resident=cal.base_resident[sel],
                   fert_mult=cal.fert_mult[sel], mort_mult=cal.mort_mult[sel],
                   features={k: v[sel] for k, v in cal.features.items()}, region=cal.region[sel],
                   intercensal_residual=cal.intercensal_residual[sel])
