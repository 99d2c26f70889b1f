"""The best plan under a budget ceiling: a grid of rules, its frontier, the chosen plan.

A *plan* is a setting of some numeric rulebook paths (the levers: the village
vice-president's allowance, the population threshold, the township staffing rule,
activity counts, ...), each applied from the scenario's first modelled year as a scalar
scenario override is.  :func:`evaluate_plans` computes, for every point of a grid of
levers, the budget of one year Y and three coverage measures in that year:

``people_covered`` [person]
    Registered people living in villages with a vice-president (Σ over villages with at
    least one village vice-president post of the village's registered population, the
    population the staffing tables show).
``townships_staffed`` [township]
    Townships whose WISN ratio of the township vice-presidents (provided / required) is at
    least 1.
``posts_filled_pct`` [%]
    Required posts filled: 100 × Σ min(provided, required) / Σ required over the three WISN
    cadres and all their units (villages, townships, counties).

The grid points are the parameter sets of the vectorised engines (the N axis of
:class:`~qzfp.rules.paramarrays.ParamArrays`), evaluated in chunks.  The levers do not move
the population (demographic paths are refused), so the projection runs once; and only
year Y is needed, so every chunk runs on a one-year view of the population and of the
rules (:func:`year_view`, :func:`year_arrays`) that keeps what makes year Y's figures
depend on earlier years (the effective year of each amount and the history of the
indexation rate).  A plan's figures therefore equal those of a plain
:func:`~qzfp.model.run.simulate` of the scenario file :func:`plan_scenario_text` writes.

:func:`frontier` keeps the plans no cheaper plan beats (for each budget, the best
coverage reachable; more money never buys less), and :func:`best_plan` picks the plan
with the highest coverage whose budget is within the ceiling, ties broken by lower cost
(see ``docs/plan.md``).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ParameterError, Problem
from ..register import Register
from ..rules.paramarrays import ParamArrays
from ..rules.scenario import Scenario, load_scenario
from .comparison import sweep_points
from .run import ArrayResults, demographic_paths, prepare_register, run_arrays

#: Coverage measures a plan can maximise: objective name → (result column, unit).
OBJECTIVES: dict[str, tuple[str, str]] = {
    "people_covered": ("people_covered", "person"),
    "townships_staffed": ("townships_staffed", "township"),
    "posts_filled": ("posts_filled_pct", "%"),
}

#: The objective when none is given: the people the association's village rule is for
#: (衢委办[2006]101号 puts a vice-president in the villages of 500 people or more), the
#: measure every lever moves (allowance, threshold and activity counts through the budget;
#: the threshold through coverage itself).
DEFAULT_OBJECTIVE = "people_covered"

#: Largest plan grid [point]: about 0.09 ms of CPU a point for the example register
#: (benchmarks/README.md, plan_city: 100,000 points), so a minute and a half at the limit.
#: Checked before the grid is expanded.
MAX_PLAN_POINTS = 1_000_000

#: Bytes of one village array of a chunk that a chunk may take [byte]: the engines hold a
#: few dozen (chunk, 1, villages) float arrays at once, so 16 MB each keeps a chunk's
#: working set near half a gigabyte (the bound of a run, see simulate.MAX_VILLAGE_YEARS).
CHUNK_ARRAY_BYTES = 16 * 2**20

#: Largest number of values one ``--vary`` range may expand to [value].
MAX_RANGE_VALUES = 10_000

MEASURES: tuple[str, ...] = ("people_covered", "townships_staffed", "posts_filled_pct")
"""Coverage measure columns, in the order tables show them."""


# --------------------------------------------------------------------------- parsing

_NUMBER = r"[-+]?(?:\d[\d_,]*(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
"""An amount, with optional thousands separators (``1,200,000``)."""
_VALUE = r"[-+]?(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
"""A lever value (commas separate values in a range)."""


def _number(text: str) -> float:
    return float(text.replace(",", "").replace("_", ""))


def parse_range(text: str, where: str) -> list[float]:
    """Values of a ``--vary`` range: ``START:STOP:STEP`` (both ends included) or ``v1,v2,...``.

    Parameters
    ----------
    text : str
        ``60:120:10`` → 60, 70, ..., 120; ``60,80,100``; a single number.
    where : str
        Location named in problems (``--vary PATH``).

    Raises
    ------
    ParameterError
        Not numbers, a step ≤ 0, STOP below START, or more than :data:`MAX_RANGE_VALUES` values.
    """
    text = text.strip()
    if ":" in text:
        parts = [p.strip() for p in text.split(":")]
        if len(parts) != 3 or not all(re.fullmatch(_VALUE, p) for p in parts):
            raise ParameterError(Problem(where, "plan.range_not_numbers", text=text))
        start, stop, step = (float(p) for p in parts)
        if step <= 0:
            raise ParameterError(Problem(where, "plan.step_not_positive", text=text))
        if stop < start:
            raise ParameterError(Problem(where, "plan.stop_below_start", text=text))
        count = math.floor((stop - start) / step + 1e-9) + 1
        if count > MAX_RANGE_VALUES:
            raise ParameterError(Problem(where, "plan.too_many_values", text=text, count=count,
                                         max=MAX_RANGE_VALUES))
        values = [round(start + i * step, 10) for i in range(count)]
        return values
    toks = [p.strip() for p in text.split(",")]
    bad = [tok for tok in toks if not re.fullmatch(_VALUE, tok)]
    if bad or not toks:
        raise ParameterError(Problem(where, "plan.bad_range", text=text))
    values = [_number(tok) for tok in toks]
    if len(set(values)) != len(values):
        raise ParameterError(Problem(where, "plan.value_twice", text=text))
    return values


def parse_vary(items: Sequence[str]) -> dict[str, list[float]]:
    """``--vary PATH=RANGE`` options → ``{path: values}`` (see :func:`parse_range`).

    Raises
    ------
    ParameterError
        An item without ``=``, a bad range, or a path given twice (every problem at once).
    """
    grid: dict[str, list[float]] = {}
    problems: list[Problem] = []
    for item in items:
        path, sep, raw = item.partition("=")
        path = path.strip()
        if not sep or not path or not raw.strip():
            problems.append(Problem(f"--vary {item}", "plan.vary_syntax"))
            continue
        if path in grid:
            problems.append(Problem(f"--vary {path}", "cli.given_twice"))
            continue
        try:
            grid[path] = parse_range(raw, f"--vary {path}")
        except ParameterError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ParameterError(problems)
    if not grid:
        raise ParameterError(Problem("--vary", "plan.no_levers"))
    return grid


def parse_ceiling(text: str | float, baseline_yuan: float | None = None) -> float:
    """A budget ceiling [yuan]: ``1200000``, ``1,200,000``, ``120万`` or ``80%`` (of the baseline).

    Parameters
    ----------
    text : str or float
    baseline_yuan : float, optional
        The baseline's budget of the plan year [yuan], needed for a percentage.

    Raises
    ------
    ParameterError
        Not an amount, negative, or a percentage without a baseline.
    """
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        raw = str(text).strip()
        m = re.fullmatch(rf"({_NUMBER})\s*(%|万元|万|元|yuan)?", raw)
        if not m:
            raise ParameterError(Problem("--ceiling", "plan.ceiling_syntax", text=raw))
        value = _number(m.group(1))
        unit = m.group(2) or ""
        if unit == "%":
            if baseline_yuan is None:
                raise ParameterError(Problem("--ceiling", "plan.ceiling_needs_baseline", text=raw))
            value = baseline_yuan * value / 100.0
        elif unit.startswith("万"):
            value *= 10_000.0
    if not math.isfinite(value) or value < 0:
        raise ParameterError(Problem("--ceiling", "plan.ceiling_negative", text=text))
    return value


# --------------------------------------------------------------------------- one-year views


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
    return ParamArrays(pa.years[i:i + 1], data, (), pa.units, since, prior)


def _plan_arrays(full: ParamArrays, one_year: ParamArrays, year_index: int,
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
        people = with_vp.astype(float) @ np.asarray(vpop[0], dtype=float)
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

        bar = tqdm(total=len(points), unit="plan", desc=f"plan {scenario.name} {year}")
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
    for start in range(0, k, chunk):
        sl = slice(start, min(k, start + chunk))
        ppa = _plan_arrays(pa, one, iy, {p: points[sl, j] for j, p in enumerate(paths)})
        res = coverage(run_arrays(register, ppa, variant=variant, population=pop))
        for name, v in res.items():
            out[name][sl] = v
        if bar is not None:
            bar.update(sl.stop - sl.start)
    return out, base


def _project(reg: Register, pa: ParamArrays, variant: str) -> Any:
    """The scenario's population projection (once for every plan)."""
    from .projection import project

    return project(reg, pa, variant=variant)


# --------------------------------------------------------------------------- frontier


def objective_column(objective: str) -> str:
    """The table column of an objective name (:data:`OBJECTIVES`).

    Raises
    ------
    ParameterError
        Unknown objective (with the closest name).
    """
    if objective not in OBJECTIVES:
        from ..errors import did_you_mean

        raise ParameterError(Problem("--objective", "plan.unknown_objective", objective=objective,
                                     choices=", ".join(OBJECTIVES), hint=did_you_mean(objective, OBJECTIVES)))
    return OBJECTIVES[objective][0]


def _ranked(table: pd.DataFrame, column: str) -> np.ndarray:
    """Row positions by cost ascending, then coverage descending, then grid order."""
    cost = table["budget_yuan"].to_numpy(dtype=float)
    cover = table[column].to_numpy(dtype=float)
    return np.lexsort((np.arange(len(table)), -cover, cost))


def frontier(table: pd.DataFrame, objective: str = DEFAULT_OBJECTIVE) -> pd.DataFrame:
    """The plans no cheaper (or equally cheap) plan matches in coverage.

    Going up in cost, a plan enters the frontier when its coverage is strictly above
    every cheaper plan's; so for any budget B, the best coverage reachable with at most
    B is that of the last frontier plan costing ≤ B (a step function, never decreasing).

    Parameters
    ----------
    table : pandas.DataFrame
        :attr:`PlanGrid.table`.
    objective : str
        One of :data:`OBJECTIVES`.

    Returns
    -------
    pandas.DataFrame
        The frontier rows of ``table`` by cost ascending (coverage strictly ascending),
        with their position in the grid as ``plan``.
    """
    column = objective_column(objective)
    order = _ranked(table, column)
    cover = table[column].to_numpy(dtype=float)[order]
    best_before = np.concatenate([[-np.inf], np.maximum.accumulate(cover)[:-1]])
    keep = order[cover > best_before]
    out = table.iloc[keep].copy()
    out.insert(0, "plan", keep)
    return out.reset_index(drop=True)


def best_plan(table: pd.DataFrame, ceiling: float, objective: str = DEFAULT_OBJECTIVE) -> int:
    """Position in ``table`` of the best plan costing at most ``ceiling``.

    The highest coverage among the plans whose budget is ≤ ceiling [yuan]; among equal
    coverage the lowest cost; among equal cost the first in grid order.

    Raises
    ------
    ParameterError
        At ``--ceiling``: the ceiling is below the cheapest plan of the grid.
    """
    column = objective_column(objective)
    cost = table["budget_yuan"].to_numpy(dtype=float)
    within = np.flatnonzero(cost <= ceiling)
    if len(within) == 0:
        cheapest = int(np.argmin(cost))
        raise ParameterError(Problem("--ceiling", "plan.ceiling_below_cheapest", ceiling=ceiling,
                                     cheapest=cost[cheapest]))
    cover = table[column].to_numpy(dtype=float)
    top = within[cover[within] == cover[within].max()]
    return int(top[np.lexsort((top, cost[top]))[0]])


@dataclass
class Plan:
    """The outcome of :func:`plan`: the grid, its frontier and the chosen plan.

    Attributes
    ----------
    grid : PlanGrid
    objective : str
    ceiling : float
        Budget ceiling of year Y [yuan].
    frontier : pandas.DataFrame
        :func:`frontier` of the grid, with ``within_ceiling`` (bool).
    chosen : int
        Position of the chosen plan in ``grid.table``.
    """

    grid: PlanGrid
    objective: str
    ceiling: float
    frontier: pd.DataFrame
    chosen: int

    @property
    def levers(self) -> dict[str, float]:
        """Lever values of the chosen plan (in each parameter's unit)."""
        row = self.grid.table.iloc[self.chosen]
        return {p: _plain(row[p]) for p in self.grid.paths}

    @property
    def figures(self) -> dict[str, float]:
        """Budget [yuan] and coverage measures of the chosen plan in year Y."""
        row = self.grid.table.iloc[self.chosen]
        return {k: float(row[k]) for k in ("budget_yuan", *MEASURES)}

    def changes(self) -> pd.DataFrame:
        """What the chosen plan changes against the scenario as it is (year Y).

        Returns
        -------
        pandas.DataFrame
            ``item`` (lever path or measure), ``kind`` (``lever`` or ``measure``), ``unit``,
            ``baseline``, ``plan``, ``difference`` (plan − baseline, in the unit).
        """
        rows = []
        base = self.grid.baseline
        for p, v in self.levers.items():
            rows.append({"item": p, "kind": "lever", "unit": self.grid.units[p],
                         "baseline": base[p], "plan": float(v), "difference": float(v) - base[p]})
        units = {"budget_yuan": "yuan", **{OBJECTIVES[o][0]: OBJECTIVES[o][1] for o in OBJECTIVES}}
        for k, v in self.figures.items():
            rows.append({"item": k, "kind": "measure", "unit": units[k],
                         "baseline": base[k], "plan": v, "difference": v - base[k]})
        return pd.DataFrame(rows, columns=["item", "kind", "unit", "baseline", "plan", "difference"])


def _plain(x: Any) -> float | int:
    x = float(x)
    return int(x) if x.is_integer() else x


def plan(scenario: Scenario | str, grid: Mapping[str, Sequence[float]], year: int,
         ceiling: float | str, *, objective: str = DEFAULT_OBJECTIVE, register: Register | None = None,
         chunk: int | None = None, progress: bool = False) -> Plan:
    """The best plan of a grid of levers whose budget of year Y fits a ceiling.

    Parameters
    ----------
    scenario : Scenario or str
    grid : mapping of str to sequence of float
        Lever path → values.
    year : int
        Budget year Y.
    ceiling : float or str
        Budget ceiling of year Y [yuan], or text for :func:`parse_ceiling` (``80%`` of
        the scenario's own budget of Y, ``120万``).
    objective : str
        Coverage measure to maximise (:data:`OBJECTIVES`; default :data:`DEFAULT_OBJECTIVE`).

    Returns
    -------
    Plan

    Raises
    ------
    ParameterError
        Bad levers, objective or ceiling; a ceiling below the cheapest plan.
    """
    objective_column(objective)
    g = evaluate_plans(scenario, grid, year, register=register, chunk=chunk, progress=progress)
    limit = parse_ceiling(ceiling, g.baseline["budget_yuan"])
    chosen = best_plan(g.table, limit, objective)
    fr = frontier(g.table, objective)
    fr["within_ceiling"] = fr["budget_yuan"] <= limit
    return Plan(g, objective, limit, fr, chosen)


# --------------------------------------------------------------------------- scenario file


def plan_scenario(p: Plan) -> dict[str, Any]:
    """The chosen plan as scenario parameters: a flattened copy of the scenario (``extends``
    resolved) with the levers as scalar overrides from its first year, each with a
    reference naming ``qzfp plan``, the ceiling and the year."""
    from ..i18n import format_number, format_yuan, t

    s = p.grid.scenario
    lang = s.lang
    params = s.to_papermill()
    overrides = dict(params.get("overrides") or {})
    ref = (f"qzfp plan: best {p.objective} under a ceiling of {p.ceiling:,.2f} yuan in {p.grid.year} "
           f"(scenario {s.name})")
    for path, v in p.levers.items():
        overrides[path] = {"value": v, "reference": ref}
    ceiling = format_yuan(p.ceiling, lang)
    head = {
        "scenario_name": f"{s.name}_plan_{p.grid.year}",
        "title": t("plan.scenario_title", lang, title=s.title, year=p.grid.year, ceiling=ceiling),
        "description": t("plan.scenario_description", lang, name=s.name, plans=format_number(len(p.grid.table), lang),
                         objective=t(f"plan.objective.{p.objective}", lang), year=p.grid.year, ceiling=ceiling),
    }
    rest = {k: v for k, v in params.items() if k not in head and k != "overrides"}
    return {**head, **rest, "overrides": overrides}


def plan_scenario_text(p: Plan) -> str:
    """:func:`plan_scenario` as a YAML scenario file with a header saying where it came from."""
    import yaml

    s = p.grid.scenario
    head = [
        f"# Written by `qzfp plan` from scenario {s.name} ({s.path or 'packaged'}).",
        f"# Budget year {p.grid.year}, ceiling {p.ceiling:,.2f} yuan, objective {p.objective};",
        f"# the plan's {p.grid.year} budget: {p.figures['budget_yuan']:,.2f} yuan.",
        "# Run it with `qzfp run` (every top-level key is a notebook parameter).",
    ]
    body = yaml.safe_dump(plan_scenario(p), allow_unicode=True, sort_keys=False, width=100)
    return "\n".join(head) + "\n" + body
