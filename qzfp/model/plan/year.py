"""One-year views of a plan year Y: the population result and the rules sliced to Y.

Every chunk of plans runs on these views, which keep what makes year Y's figures depend
on earlier years (the effective year of each amount and the history of the indexation
rate), so a plan's figures equal those of a run over all years.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from ...rules.paramarrays import ParamArrays


class YearView:
    """A population result seen in one year: every (N, T, ...) array sliced to year Y.

    The staffing, workload and budget engines read a population result by attribute
    (``village_pop``, ``county_pop`` ...); this view gives them those arrays for the one
    year a plan is about, so that a chunk of plans costs one year's arithmetic.
    """

    def __init__(self, pop: Any, year_index: int):
        self._pop = pop
        self._i = int(year_index)
        self._t = len(pop.years)
        self.years = np.asarray(pop.years)[self._i:self._i + 1]
        self.register = pop.register
        self._cache: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        cache = self.__dict__["_cache"]
        if name not in cache:
            value = getattr(self._pop, name)
            if isinstance(value, np.ndarray) and value.ndim >= 2 and value.shape[1] == self._t:
                value = value[:, self._i:self._i + 1]
            cache[name] = value
        return cache[name]


def year_arrays(pa: ParamArrays, year_index: int) -> ParamArrays:
    """The rules of one modelled year, keeping what earlier years decide (N unchanged).

    Values of year Y only; each path's effective year as in the full arrays; as prior
    values, the full history up to Y − 1 (so the allowance indexation of year Y counts
    from the same year and at the same rates as in a run over all years).
    """
    i = int(year_index)
    y = int(pa.years[i])
    data = {p: a[:, i:i + 1] for p, a in pa.data.items()}
    since = {p: np.asarray(pa.effective_year(p))[:, i:i + 1] for p in pa.data}
    prior = {}
    for p in pa.data:
        years, values = pa.history(p)
        keep = years < y
        if keep.any():
            prior[p] = np.asarray(values)[:, keep]
    return ParamArrays(pa.years[i:i + 1], data, (), pa.units, since, prior, pa.dated)


def plan_arrays(full: ParamArrays, one_year: ParamArrays, year_index: int,
                 updates: Mapping[str, np.ndarray]) -> ParamArrays:
    """``one_year`` with the levers set to per-plan values (N,), each applied from the first
    modelled year as :meth:`ParamArrays.with_values` does on the full arrays."""
    pa = one_year.with_values(updates)
    n = pa.n
    since = dict(pa.since)
    prior = dict(pa.prior)
    start = float(full.years[0])
    for p, v in updates.items():
        v = np.asarray(v, dtype=float)
        # a value constant from the first modelled year applies from that year
        # (changed_since of the full row)
        since[p] = np.full((n, 1), start)
        before = full.prior.get(p)
        parts = []
        if before is not None and before.shape[1]:
            parts.append(np.broadcast_to(before, (n, before.shape[1])))
        if year_index:
            parts.append(np.repeat(v[:, None], year_index, axis=1))
        if parts:
            prior[p] = np.concatenate(parts, axis=1)
        else:
            prior.pop(p, None)
    return dataclasses.replace(pa, since=since, prior=prior)
