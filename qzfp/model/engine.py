"""Helpers shared by the engines (staffing, workload, budget): parameters and population arrays.

Every engine reads its rules from a :class:`~qzfp.rules.paramarrays.ParamArrays` (one ``(N, T)``
array per rulebook path) and its people from a population result (a
:class:`~qzfp.model.projection.PopulationResult` or any object with the same attributes, see
``docs/contracts.md``).  The functions here are the one way they do both: check that the
paths they need are present, broadcast a parameter to the N parameter sets, fetch a
population array checked against years × units, pick the registered (户籍) or resident (常住)
population a rule reads, and lay out tidy tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..errors import ParameterError, Problem, RegisterError
from ..rules.paramarrays import ParamArrays
from .arrays import Blocks

__all__ = [
    "INDICATOR_OLD_AGE",
    "check_paths",
    "check_years",
    "common_n",
    "eligibility_age_factor",
    "param",
    "population_array",
    "population_for_rule",
    "rural_villages",
    "tidy_index",
    "village_values",
]


def check_paths(pa: ParamArrays, paths: Iterable[str], engine: str) -> None:
    """Raise :class:`ParameterError` listing every path missing from ``pa``."""
    missing = [p for p in paths if p not in pa]
    if missing:
        raise ParameterError(
            [Problem(p, "engine.missing_parameter", engine=engine) for p in missing]
        )


def common_n(pa: ParamArrays, *arrays: np.ndarray) -> int:
    """Number of parameter sets N of a computation (1 broadcasts to N)."""
    ns = {pa.n} | {int(a.shape[0]) for a in arrays}
    ns.discard(1)
    if len(ns) > 1:
        raise ParameterError(Problem("", "engine.sets_differ", n=sorted(ns)))
    return ns.pop() if ns else 1


def param(pa: ParamArrays, path: str, n: int) -> np.ndarray:
    """Values of ``path`` as a float array broadcast to shape (n, T)."""
    a = pa[path]
    if a.dtype != float:
        a = a.astype(float)
    return a if a.shape[0] == n else np.broadcast_to(a, (n, a.shape[1]))


def population_array(pop: Any, name: str, t: int, m: int) -> np.ndarray:
    """Population array ``name`` of shape (N, T, M), checked.

    Raises
    ------
    RegisterError
        The attribute is missing or its shape does not match years × units.
    """
    arr = getattr(pop, name, None)
    if arr is None:
        raise RegisterError(Problem(name, "engine.missing_array"))
    arr = np.asarray(arr, dtype=float)
    if arr.ndim != 3 or arr.shape[1] != t or arr.shape[2] != m:
        raise RegisterError(
            Problem(name, "engine.bad_shape", years=t, units=m, shape=arr.shape)
        )
    return arr


def village_values(pop: Any, name: str, t: int, m: int) -> np.ndarray | Blocks:
    """Village array ``name`` (``village_…``) for a run that only sums it or weighs it by blocks:
    the result's :meth:`~qzfp.model.projection.PopulationResult.village_blocks` when it has them
    (a country's arrays are then never held), else :func:`population_array`.

    Raises
    ------
    RegisterError
        As :func:`population_array`.
    """
    get = getattr(pop, "village_blocks", None)
    if get is not None and name.startswith("village_"):
        values = get(name[len("village_"):])
        # blocks of other years or villages (a view of one year passes its projection's method
        # on): the array the object itself gives, checked
        if isinstance(values, Blocks) and values.shape[1:] == (t, m):
            return values
    return population_array(pop, name, t, m)


def population_for_rule(pop: Any, pa: ParamArrays, basis_path: str, level: str, indicator: str,
                        t: int, m: int, n: int, *, blocks: bool = False) -> np.ndarray | Blocks:
    """The population a rule reads: registered (户籍) or resident (常住) by its basis parameter.

    Parameters
    ----------
    pop : PopulationResult-like
        Has ``{level}_{indicator}`` and, when a rule reads it, ``{level}_resident_{indicator}``.
    basis_path : str
        The rule's ``reads_resident_population`` parameter (bool, per set and year).
    level : {"village", "township"}
    indicator : {"pop", "aged_60plus"}
    t, m, n : int
        Years, units and parameter sets.
    blocks : bool
        Where the rule reads the registered population alone, give it as :func:`village_values`
        does (a village array of a country as :class:`~qzfp.model.arrays.Blocks`).

    Returns
    -------
    numpy.ndarray or Blocks
        (N, T, M) persons [person]: per parameter set and year the resident array where the
        parameter is true, the registered one elsewhere.
    """
    flag = param(pa, basis_path, n)[:, :, None] > 0.5
    if not flag.any():
        if blocks and level == "village":
            return village_values(pop, f"{level}_{indicator}", t, m)
        return population_array(pop, f"{level}_{indicator}", t, m)
    registered = population_array(pop, f"{level}_{indicator}", t, m)
    return np.where(flag, population_array(pop, f"{level}_resident_{indicator}", t, m), registered)


_RURAL: dict[int, tuple[Any, Any, np.ndarray]] = {}


def rural_villages(register: Any) -> np.ndarray:
    """(V,) bool: the register's villages that are not urban (``villages["urban"]`` false).

    Read-only and the same array for every run on the same register and villages table, so
    that the sums masked by it are kept with the population's (:func:`qzfp.model.arrays.group_sum`).
    """
    villages = register.villages
    hit = _RURAL.get(id(register))
    if hit is not None and hit[0] is register and hit[1] is villages:
        return hit[2]
    rural = ~np.asarray(villages["urban"], dtype=bool)
    rural.setflags(write=False)
    if len(_RURAL) > 16:
        _RURAL.clear()
    _RURAL[id(register)] = (register, villages, rural)
    return rural


def check_years(pop: Any, pa: ParamArrays) -> np.ndarray:
    """Years of the population; ``ParameterError`` if the parameters cover other years."""
    years = np.asarray(pop.years, dtype=int)
    if len(years) != len(pa.years) or np.any(years != np.asarray(pa.years, dtype=int)):
        raise ParameterError(Problem("", "engine.years_differ", given=list(pa.years), projected=list(years)))
    return years


def tidy_index(years: np.ndarray, shape_units: int) -> tuple[np.ndarray, np.ndarray]:
    """Year and unit position columns of a (T, M) array flattened in C order."""
    t = len(years)
    return np.repeat(years, shape_units), np.tile(np.arange(shape_units), t)



#: Age at which the population engine's ``aged_60plus`` indicator starts [year].
INDICATOR_OLD_AGE = 60


def eligibility_age_factor(pop: Any, pa: ParamArrays, n: int) -> np.ndarray | None:
    """Persons aged ≥ the reward-and-assistance eligibility age per person aged 60+.

    ``F = P(age ≥ E) / P(age ≥ 60)`` per county and year from the county's single-year
    ages (of the registered or resident population, as ``reward_assistance.reads_resident_population``
    says), with ``E = reward_assistance.eligibility_age`` in force [year].  Multiplying a
    village's persons aged 60+ by its county's F gives the persons of eligible age (the
    village age structure is the county's below 60/above 60 split, see
    docs/population.md).

    Returns
    -------
    numpy.ndarray, shape (N, T, C), or None
        None when E = 60 in every year and parameter set (F = 1 exactly).
    """
    age = np.rint(param(pa, "reward_assistance.eligibility_age", n)).astype(np.intp)  # (N, T)
    if np.all(age == INDICATOR_OLD_AGE):
        return None
    registered = np.asarray(pop.county_pop).sum(axis=-2)  # (Np, T, C, A)
    resident_flag = param(pa, "reward_assistance.reads_resident_population", n) > 0.5  # (N, T)
    if resident_flag.any():  # the age structure of the population the rule reads
        resident = np.asarray(pop.county_pop_resident).sum(axis=-2)
        county = np.where(resident_flag[:, :, None, None], resident, registered)
    else:
        county = registered
    tail = np.cumsum(county[..., ::-1], axis=-1)[..., ::-1]  # persons aged >= a
    a_max = tail.shape[-1] - 1
    idx = np.broadcast_to(np.clip(age, 0, a_max)[:, :, None, None], (n, *tail.shape[1:3], 1))
    tail = np.broadcast_to(tail, (n, *tail.shape[1:]))
    eligible = np.take_along_axis(tail, idx, axis=-1)[..., 0]
    old = tail[..., INDICATOR_OLD_AGE]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(old > 0, eligible / old, 0.0)
