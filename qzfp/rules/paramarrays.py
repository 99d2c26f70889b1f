"""Vectorised view of parameter values: one ``(N, T)`` array per rulebook path.

Every engine (population, staffing, workload, budget) reads its rules and
assumptions from a :class:`ParamArrays`.  ``N`` is the number of parameter sets
computed in one pass (1 for a plain scenario, the grid points of a sweep, the
2K+1 settings of a sensitivity run, or Monte Carlo draws) and ``T`` the number of
modelled years.  Engines return arrays with the same leading ``N`` axis, so a
sweep over an allowance or a threshold costs one vectorised pass, not one
simulation per point.

Besides the values, a ``ParamArrays`` built from the rulebook knows each path's
unit, the year from which the value in force in each modelled year applies (its
*effective year*, used to count allowance indexation from the date a value was
decreed) and the values of the years before the first modelled year back to the
earliest effective year (so that such a count does not depend on where the
projection starts).  A value set with :meth:`ParamArrays.with_values` applies from
the first modelled year (or from the year it changes), as a scalar scenario override
does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from ..errors import ParameterError, Problem


@dataclass(frozen=True)
class ParamArrays:
    """Parameter values per parameter set and year.

    Parameters
    ----------
    years : numpy.ndarray of int, shape (T,)
        Calendar years modelled.
    data : mapping of str to numpy.ndarray, each of shape (N, T)
        Values by dotted rulebook path, in the parameter's own unit.
    labels : list of dict, optional
        For sweeps and sensitivity runs: the varied values of each of the N
        parameter sets (``{path: value}``); empty for a single scenario.
    units : mapping of str to str, optional
        Unit of each path as the rulebook states it (``yuan/month`` ...).
    since : mapping of str to numpy.ndarray, each of shape (N or 1, T), optional
        Effective year of the value in force in each modelled year [year]: the first
        year on whose 1 January that dated value was in force.  Paths without an
        entry are inferred by :meth:`effective_year`.
    prior : mapping of str to numpy.ndarray, each of shape (N or 1, P), optional
        Values in the P years ``years[0] - P .. years[0] - 1`` (NaN where the
        parameter had no value in force yet).
    dated : mapping of str to (numpy.ndarray, numpy.ndarray), optional
        The full dated history of a path of one parameter set, as the rulebook states it:
        the start of each dated value as a fractional calendar year (2014-01-17 →
        2014.044) [year] and the values (K,).  Rules whose effect starts within a year (the
        fertility policies) read it through :meth:`timeline`.
    """

    years: np.ndarray
    data: Mapping[str, np.ndarray]
    labels: tuple = field(default=())
    units: Mapping[str, str] = field(default_factory=dict)
    since: Mapping[str, np.ndarray] = field(default_factory=dict)
    prior: Mapping[str, np.ndarray] = field(default_factory=dict)
    dated: Mapping[str, tuple] = field(default_factory=dict)

    def __post_init__(self) -> None:
        t = len(self.years)
        n = None
        for path, arr in self.data.items():
            if arr.ndim != 2 or arr.shape[1] != t:
                raise ParameterError(Problem(path, "arrays.bad_shape", years=t, shape=arr.shape))
            if n is None:
                n = arr.shape[0]
            elif arr.shape[0] != n:
                raise ParameterError(Problem(path, "arrays.sets_differ", n=arr.shape[0], others=n))

    @property
    def n(self) -> int:
        """Number of parameter sets N."""
        for arr in self.data.values():
            return int(arr.shape[0])
        return 1

    @property
    def t(self) -> int:
        """Number of years T."""
        return len(self.years)

    def __getitem__(self, path: str) -> np.ndarray:
        try:
            return self.data[path]
        except KeyError:
            raise ParameterError(Problem(path, "arrays.no_such_parameter")) from None

    def __contains__(self, path: object) -> bool:
        return path in self.data

    def paths(self) -> list[str]:
        """Dotted paths held, sorted."""
        return sorted(self.data)

    def year_index(self, year: int) -> int:
        """Position of a calendar year in :attr:`years` (``ParameterError`` if not modelled)."""
        hits = np.nonzero(self.years == year)[0]
        if len(hits) == 0:
            raise ParameterError(Problem("", "arrays.year_not_modelled", year=year,
                                          first=self.years[0], last=self.years[-1]))
        return int(hits[0])

    def effective_year(self, path: str) -> np.ndarray:
        """Year from which the value in force in each modelled year applies, (N or 1, T).

        From the rulebook's dated values when known; otherwise (hand-made arrays, values
        set by :meth:`with_values`) the first modelled year or the last year the value
        changed, whichever is later.
        """
        if path in self.since:
            return np.asarray(self.since[path])
        return changed_since(self[path], self.years)

    def history(self, path: str) -> tuple[np.ndarray, np.ndarray]:
        """Years and values of ``path`` from the earliest year held to the last modelled year.

        Returns
        -------
        years : numpy.ndarray of int, shape (P + T,)
        values : numpy.ndarray, shape (N or 1, P + T)
            NaN in years before the parameter's first value.
        """
        values = np.asarray(self[path], dtype=float)
        before = self.prior.get(path)
        if before is None or before.shape[1] == 0:
            return np.asarray(self.years), values
        p = before.shape[1]
        years = np.concatenate([np.arange(self.years[0] - p, self.years[0]), self.years])
        n = max(values.shape[0], before.shape[0])
        full = np.concatenate([np.broadcast_to(before, (n, p)), np.broadcast_to(values, (n, self.t))],
                              axis=1)
        return years, full

    def timeline(self, path: str) -> tuple[np.ndarray, np.ndarray]:
        """Start dates and values of ``path``: when each value took effect, to the day.

        Returns
        -------
        starts : numpy.ndarray, shape (K,)
            Fractional calendar years at which each value starts [year]; the first is at or
            before ``years[0]``.
        values : numpy.ndarray, shape (N or 1, K)
            The value from each start to the next.

        From the rulebook's dated values (:attr:`dated`) when known; otherwise (values set
        by :meth:`with_values`, hand-made arrays) each modelled year's 1 January value from
        that 1 January, the first year's value taken as in force long before (a century: a
        value the projection starts with is not a rule that has just begun).
        """
        if path in self.dated:
            starts, values = self.dated[path]
            return np.asarray(starts, dtype=float), np.asarray(values, dtype=float)[None, :]
        starts = np.asarray(self.years, dtype=float).copy()
        starts[0] -= 100.0
        return starts, np.asarray(self[path], dtype=float)

    def with_values(self, updates: Mapping[str, np.ndarray], labels: Iterable = ()) -> ParamArrays:
        """Return a copy with some paths replaced, broadcasting the rest to the new N.

        Parameters
        ----------
        updates : mapping of str to numpy.ndarray
            New values by path, each of shape (N, T), (N, 1) or (N,) (constant over years).
        labels : iterable of dict, optional
            Description of each of the N parameter sets.
        """
        new: dict[str, np.ndarray] = {}
        n_new = None
        for path, arr in updates.items():
            if path not in self.data:
                raise ParameterError(Problem(path, "arrays.no_such_parameter"))
            a = np.asarray(arr, dtype=float)
            if a.ndim == 1:
                a = a[:, None]
            a = np.broadcast_to(a, (a.shape[0], self.t))
            if n_new is None:
                n_new = a.shape[0]
            elif a.shape[0] != n_new:
                raise ParameterError(Problem(path, "arrays.sets_differ", n=a.shape[0], others=n_new))
            new[path] = a
        if n_new is None:
            return self
        n_old = self.n
        for path, arr in self.data.items():
            if path in new:
                continue
            if n_old == n_new:
                new[path] = arr
            elif n_old == 1:
                new[path] = np.broadcast_to(arr, (n_new, self.t))
            else:
                raise ParameterError(Problem("", "arrays.cannot_combine", old=n_old, new=n_new))
        since = {p: a for p, a in self.since.items() if p not in updates}
        for path in updates:  # a value set here applies from the first modelled year or its change
            since[path] = changed_since(new[path], self.years)
        dated = {p: h for p, h in self.dated.items() if p not in updates}
        return ParamArrays(self.years, new, tuple(labels), self.units, since, self.prior, dated)

    def take(self, i: int) -> ParamArrays:
        """The i-th parameter set alone (N = 1)."""

        def row(a: np.ndarray) -> np.ndarray:
            return a[i : i + 1] if a.shape[0] > 1 else a

        return ParamArrays(
            self.years,
            {p: a[i : i + 1] for p, a in self.data.items()},
            units=self.units,
            since={p: row(a) for p, a in self.since.items()},
            prior={p: row(a) for p, a in self.prior.items()},
            dated=self.dated,
        )


def changed_since(values: np.ndarray, years: np.ndarray) -> np.ndarray:
    """Year of the last change of value at or before each year, (N, T) [year].

    The first year counts as a change: a value seen only from ``years[0]`` is taken to
    apply from ``years[0]``.
    """
    values = np.asarray(values, dtype=float)
    years = np.asarray(years)
    changed = np.ones(values.shape, dtype=bool)
    changed[:, 1:] = values[:, 1:] != values[:, :-1]
    last = np.maximum.accumulate(np.where(changed, np.arange(values.shape[1]), 0), axis=1)
    return years[last].astype(float)
