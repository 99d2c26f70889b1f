"""Every plan of a grid of levers with its budget and coverage measures in year Y.

The coverage measures are defined in :mod:`qzfp.model.plan`; the grid points are the
parameter sets of the vectorised engines, evaluated in chunks on one-year views
(:mod:`qzfp.model.plan.year`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numba import njit

from ... import typed
from ...errors import ParameterError, Problem
from ...register import Register
from ...rules.paramarrays import ParamArrays
from ...rules.scenario import Scenario, load_scenario
from ..comparison import sweep_points
from ..repricing import cost_only_paths, grouped, repriced
from ..run import ArrayResults, demographic_paths, prepare_register, run_arrays
from .year import YearView, plan_arrays, year_arrays

#: Largest plan grid [point]: at most about 0.09 ms of CPU a point for the example register
#: (one engine run a point: levers that all move posts or workload), so a minute and a half at
#: the limit; with allowances among the levers the plans share runs (0.0035 ms a point,
#: benchmarks/README.md, plan_city: 100,000 points).  Checked before the grid is expanded.
MAX_PLAN_POINTS = 1_000_000

#: Bytes of one village array of a chunk that a chunk may take [byte]: the engines hold a
#: few dozen (chunk, 1, villages) float arrays at once, so 16 MB each keeps a chunk's
#: working set near half a gigabyte (the bound of a run, see simulate.MAX_VILLAGE_YEARS).
CHUNK_ARRAY_BYTES = 16 * 2**20

MEASURES: tuple[str, ...] = ("people_covered", "townships_staffed", "posts_filled_pct")
"""Coverage measure columns, in the order tables show them."""


# --------------------------------------------------------------------------- measures


def coverage(ar: ArrayResults) -> dict[str, np.ndarray]:
    """Budget and coverage measures of each parameter set in the first year of ``ar``.

    Returns
    -------
    dict of str to numpy.ndarray, each (N,)
        ``budget_yuan`` [yuan], ``people_covered`` [person], ``townships_staffed``
        [township], ``posts_filled_pct`` [%] (definitions in the module docstring).
    """
    st, wr, br = ar.staffing, ar.workload, ar.budget
    with_vp = st.village_vice_presidents[:, 0] > 0  # (N, V)
    vpop = st.village_pop[:, 0]
    if vpop.shape[0] == 1 or vpop.strides[0] == 0:  # one population for every plan (a broadcast view)
        people = _masked_sums(np.ascontiguousarray(with_vp), np.ascontiguousarray(vpop[0], dtype=float))
    else:
        people = np.where(with_vp, vpop, 0.0).sum(axis=-1)
    ratio = wr["township_vice_president"].ratio[:, 0]
    staffed = (ratio >= 1).sum(axis=-1).astype(float)
    required = np.zeros(st.n)
    filled = np.zeros(st.n)
    for c in wr.cadres.values():
        req = c.required[:, 0]
        required = required + req.sum(axis=-1)
        filled = filled + np.minimum(np.broadcast_to(c.provided[:, 0], req.shape), req).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(required > 0, 100.0 * filled / np.where(required > 0, required, 1.0), 100.0)
    return {
        "budget_yuan": np.asarray(br.year_total[:, 0], dtype=float),
        "people_covered": np.asarray(people, dtype=float),
        "townships_staffed": staffed,
        "posts_filled_pct": np.asarray(pct, dtype=float),
    }


@njit(cache=True)
def _masked_sums(mask: np.ndarray, values: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """Σ_v values[v] over the villages where ``mask[n, v]``, per row n (N,): one pass over the
    (N, V) mask, no float copy of it, on one thread (a BLAS product here started threads that
    spun on a busy 2-core machine: half the CPU of a plan search)."""
    out = np.zeros(mask.shape[0])
    for n in range(mask.shape[0]):
        acc = 0.0
        for v in range(mask.shape[1]):
            if mask[n, v]:
                acc += values[v]
        out[n] = acc
    return out


# --------------------------------------------------------------------------- grid


@dataclass
class PlanGrid:
    """Every plan of a grid with its budget and coverage in year Y.

    Attributes
    ----------
    scenario : Scenario
    year : int
        Budget year Y.
    paths : list of str
        The levers (rulebook paths).
    table : pandas.DataFrame
        One row per plan: the levers, ``budget_yuan`` [yuan], ``people_covered``
        [person], ``townships_staffed`` [township], ``posts_filled_pct`` [%].
    baseline : dict
        The scenario as it is: its lever values in year Y and its figures (same keys).
    units : dict
        Unit of each lever.
    """

    scenario: Scenario
    year: int
    paths: list[str]
    table: pd.DataFrame
    baseline: dict[str, float]
    units: dict[str, str]


def chunk_size(n_villages: int) -> int:
    """Plans per vectorised pass so that one (chunk, 1, villages) array stays within
    :data:`CHUNK_ARRAY_BYTES` [plan]."""
    return max(1, CHUNK_ARRAY_BYTES // (8 * max(1, n_villages)))


def check_levers(grid: Mapping[str, Sequence[float]]) -> tuple[list[str], int]:
    """Validate the levers of a plan grid; the number of grid points.

    Raises
    ------
    ParameterError
        An unknown path (with the closest names), a demographic or once-per-run path,
        a value out of the parameter's range, or a grid over :data:`MAX_PLAN_POINTS`.
    """
    paths = list(grid)
    problems = []
    for p in demographic_paths(paths):
        problems.append(Problem(f"--vary {p}", "plan.demographic_lever"))
    if problems:
        raise ParameterError(problems)
    n_points = math.prod(len(grid[p]) for p in paths) if paths else 0
    if n_points > MAX_PLAN_POINTS:
        sizes = " × ".join(f"{len(grid[p]):,}" for p in paths)
        raise ParameterError(Problem("--vary", "plan.too_many_points", sizes=sizes, points=n_points,
                                     max=MAX_PLAN_POINTS))
    return paths, n_points


def evaluate_plans(scenario: Scenario | str, grid: Mapping[str, Sequence[float]], year: int, *,
                   register: Register | None = None, chunk: int | None = None,
                   progress: bool = False) -> PlanGrid:
    """Budget and coverage in year Y of every plan of a grid of levers.

    Parameters
    ----------
    scenario : Scenario or str
        The scenario the plans change (its other rules stay).
    grid : mapping of str to sequence of float
        Lever path → values (each in the parameter's own unit).
    year : int
        Budget year Y (a modelled year of the scenario).
    register : Register, optional
    chunk : int, optional
        Plans per vectorised pass (default :func:`chunk_size`).
    progress : bool
        Show a progress bar (tqdm) counting plans.

    Returns
    -------
    PlanGrid

    Raises
    ------
    ParameterError
        Bad levers (see :func:`check_levers`), or a year the scenario does not model.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    year = typed.year(year, "--year")  # 2015, ２０１５ or 2015年
    pa = scenario.arrays()
    check_levers(grid)
    paths, points = sweep_points(scenario, grid, pa, option="--vary", max_points=None)
    years = np.asarray(scenario.years)
    if int(year) not in set(years.tolist()):
        raise ParameterError(Problem("--year", "plan.year_not_modelled", year=year, scenario=scenario.name,
                                     first=years[0], last=years[-1]))
    iy = int(np.flatnonzero(years == int(year))[0])
    reg = prepare_register(scenario, register)
    variant = scenario.params.get("variant", "medium")
    bar = None
    if progress:
        from tqdm.auto import tqdm

        from ...i18n import t

        bar = tqdm(total=len(points), unit=t("progress.plans", scenario.lang),
                   desc=t("progress.plan", scenario.lang, scenario=scenario.name, year=year))
    try:
        out, base = evaluate_grid(reg, pa, _project(reg, pa, variant), iy, paths, points, variant=variant,
                                  chunk=chunk, bar=bar)
    finally:
        if bar is not None:
            bar.close()
    table = pd.DataFrame({p: points[:, j] for j, p in enumerate(paths)})
    for name, v in out.items():
        table[name] = v
    baseline = {p: float(pa[p][0, iy]) for p in paths}
    baseline.update(base)
    units = {p: scenario.parameter(p).unit for p in paths}
    return PlanGrid(scenario, int(year), paths, table, baseline, units)


def evaluate_grid(register: Register, pa: ParamArrays, population: Any, year_index: int, paths: Sequence[str],
                  points: np.ndarray, *, variant: str = "medium", chunk: int | None = None,
                  bar: Any = None) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Budget and coverage of year ``years[year_index]`` for every point, and for ``pa`` itself.

    The engine loop under :func:`evaluate_plans` (checked levers, a prepared register, a
    projection of ``pa``'s population); the explorer calls it with its own cached register
    and projection.

    Parameters
    ----------
    register : Register
    pa : ParamArrays
        The rules the plans change (N = 1, all modelled years).
    population : PopulationResult
        The projection of ``pa`` over all modelled years (N = 1).
    year_index : int
        Position of year Y in ``pa.years``.
    paths : sequence of str
        The levers.
    points : numpy.ndarray, shape (K, P)
        Lever values of each plan, columns in the order of ``paths``.
    chunk : int, optional
        Plans per vectorised pass (default :func:`chunk_size`).
    bar : tqdm-like, optional
        Updated with the number of plans done.

    Returns
    -------
    plans : dict of str to numpy.ndarray, each (K,)
        ``budget_yuan`` and the :data:`MEASURES` of every plan.
    base : dict of str to float
        The same figures of ``pa`` unchanged.
    """
    iy = int(year_index)
    pop = YearView(population, iy)
    one = year_arrays(pa, iy)
    base = {k: float(v[0]) for k, v in coverage(run_arrays(register, one, variant=variant, population=pop)).items()}
    k = len(points)
    chunk = chunk or chunk_size(register.n_villages)
    out = {name: np.empty(k) for name in ("budget_yuan", *MEASURES)}
    # plans that differ only in unit costs (allowances) share one run: the coverage measures
    # once per distinct value of the other levers, the budget priced plan by plan
    cost = cost_only_paths(paths)
    keys = points[:, [j for j, p in enumerate(paths) if p not in cost]]
    for reps, members, which in grouped(keys, chunk):
        ppa = plan_arrays(pa, one, iy, {p: points[reps, j] for j, p in enumerate(paths)})
        ar = run_arrays(register, ppa, variant=variant, population=pop)
        res = coverage(ar)
        for name in MEASURES:
            out[name][members] = res[name][which]
        for s in range(0, len(members), chunk):
            m, w = members[s:s + chunk], which[s:s + chunk]
            if cost:
                cpa = plan_arrays(pa, one, iy, {p: points[m, j] for j, p in enumerate(paths)})
                out["budget_yuan"][m] = repriced(ar.budget, w, cpa).year_total[:, 0]
            else:
                out["budget_yuan"][m] = res["budget_yuan"][w]
        if bar is not None:
            bar.update(len(members))
    return out, base


def _project(reg: Register, pa: ParamArrays, variant: str) -> Any:
    """The scenario's population projection (once for every plan)."""
    from ..projection import project

    return project(reg, pa, variant=variant)
