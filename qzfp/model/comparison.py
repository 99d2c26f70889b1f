"""Scenarios side by side, sweeps over rules and assumptions, and sensitivity.

- :func:`compare` stacks the key figures of several scenarios into one tidy table
  with a ``scenario`` column and the difference against a chosen base.
- :func:`compare_budget` does the same for budget lines (the data of a waterfall
  chart from the base total to a scenario total).
- :func:`sweep` evaluates a grid over any numeric rulebook paths (an allowance ×
  a threshold, say) in vectorised passes: every grid point is one of the N
  parameter sets of a :class:`~qzfp.rules.paramarrays.ParamArrays`, so the engines run
  once per chunk of points, never once per point.
- :func:`sensitivity` moves each key assumption by ±X % (again as 2K + 1
  parameter sets in one pass) and ranks the effects on the horizon's total budget
  and on required staff (the data of a tornado chart).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ParameterError, Problem, did_you_mean
from ..register import Register
from ..rules.paramarrays import ParamArrays
from ..rules.scenario import Scenario, load_scenario
from ..rules.uncertainty import (  # noqa: F401 - KEY_POLICY_PATHS: public here too
    KEY_POLICY_PATHS,
    NOT_SCALED,
    key_assumption_paths,
    sensitivity_moves,
)
from .repricing import cost_only_paths, grouped, repriced
from .run import Results, demographic_paths, prepare_register, run_arrays

#: Figures compared between scenarios (columns of :meth:`Results.summary`).
COMPARED = (
    "population",
    "aged_60plus",
    "in_migrants",
    "villages_at_or_above_threshold",
    "village_vice_presidents",
    "township_vice_presidents",
    "county_posts",
    "total_posts",
    "posts_per_10000",
    "people_without_village_vp",
    "wisn_required_staff",
    "townships_short_of_staff",
    "budget_yuan",
    "budget_per_capita_yuan",
)

#: Largest sweep grid [point]: ~1 ms a point for the example register (measured: 400 points
#: in 0.43 s), so 10 s at the limit; a 100 × 100 heatmap is the most a chart shows legibly.
#: Checked before the grid is expanded, so a huge grid costs nothing.
MAX_SWEEP_POINTS = 10_000

#: Points evaluated per vectorised pass in sweeps (bounds memory: village arrays are
#: (chunk, years, villages) floats).
DEFAULT_CHUNK = 64


def _base_index(results: Sequence[Results], base: int | str) -> int:
    if isinstance(base, str):
        names = [r.name for r in results]
        if base not in names:
            raise ParameterError(Problem("base", "compare.no_such_base", name=base, names=", ".join(names)))
        return names.index(base)
    if not -len(results) <= base < len(results):
        raise ParameterError(Problem("base", "compare.base_out_of_range", index=base, count=len(results)))
    return base % len(results)


def _check_unique(results: Sequence[Results]) -> None:
    names = [r.name for r in results]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ParameterError(Problem("scenario_name", "compare.repeated_names", names=", ".join(dup)))


def compare(*results: Results, base: int | str = 0) -> pd.DataFrame:
    """Key figures of several scenarios in one tidy table.

    Parameters
    ----------
    *results : Results
        Scenarios to compare (distinct names).
    base : int or str
        The scenario the differences are taken against (position or name).

    Returns
    -------
    pandas.DataFrame
        Columns ``scenario``, ``year``, ``metric``, ``value``, ``base_value``,
        ``difference`` (value − base value, in the metric's unit) and
        ``difference_pct`` (% of the base value; NaN where the base is 0).
    """
    if len(results) == 1 and isinstance(results[0], (list, tuple)):
        results = tuple(results[0])
    if not results:
        raise ParameterError(Problem("", "compare.no_scenarios"))
    _check_unique(results)
    b = _base_index(results, base)
    frames = []
    for r in results:
        s = r.summary()
        long = s.melt(id_vars="year", value_vars=list(COMPARED), var_name="metric", value_name="value")
        long.insert(0, "scenario", r.name)
        frames.append(long)
    df = pd.concat(frames, ignore_index=True)
    base_df = frames[b][["year", "metric", "value"]].rename(columns={"value": "base_value"})
    df = df.merge(base_df, on=["year", "metric"], how="left")
    df["difference"] = df["value"] - df["base_value"]
    with np.errstate(divide="ignore", invalid="ignore"):
        df["difference_pct"] = np.where(df["base_value"] != 0,
                                        100.0 * df["difference"] / df["base_value"], np.nan)
    df.attrs["base"] = results[b].name
    return df


def compare_budget(*results: Results, base: int | str = 0) -> pd.DataFrame:
    """Budget over the horizon by line for several scenarios, with differences.

    Returns
    -------
    pandas.DataFrame
        Columns ``scenario``, ``line``, ``amount_yuan`` (sum over all modelled years and
        counties), ``base_amount_yuan``, ``difference_yuan``.  Summing
        ``difference_yuan`` over lines gives the difference of the totals (the steps of a
        waterfall from the base to the scenario).
    """
    if len(results) == 1 and isinstance(results[0], (list, tuple)):
        results = tuple(results[0])
    _check_unique(results)
    b = _base_index(results, base)
    frames = []
    for r in results:
        g = r.budget.groupby("line", sort=False)["amount_yuan"].sum().reset_index()
        g.insert(0, "scenario", r.name)
        frames.append(g)
    df = pd.concat(frames, ignore_index=True)
    base_df = frames[b][["line", "amount_yuan"]].rename(columns={"amount_yuan": "base_amount_yuan"})
    df = df.merge(base_df, on="line", how="outer")
    df["scenario"] = df["scenario"].fillna(results[b].name)
    df[["amount_yuan", "base_amount_yuan"]] = df[["amount_yuan", "base_amount_yuan"]].fillna(0.0)
    df["difference_yuan"] = df["amount_yuan"] - df["base_amount_yuan"]
    df.attrs["base"] = results[b].name
    return df


# --------------------------------------------------------------------------- sweeps


def _budget_outcomes(br: Any) -> dict[str, np.ndarray]:
    """Per parameter set (N,) budget figures of a vectorised run."""
    return {
        "budget_horizon_yuan": br.horizon_total,
        "budget_first_year_yuan": br.year_total[:, 0],
        "budget_last_year_yuan": br.year_total[:, -1],
    }


def _outcomes(ar: Any) -> dict[str, np.ndarray]:
    """Per parameter set (N,) outcome figures of a vectorised run."""
    st, wr = ar.staffing, ar.workload
    required = sum(c.required.sum(axis=-1) for c in wr.cadres.values())  # (N, T)
    twn = wr["township_vice_president"]
    return {
        **_budget_outcomes(ar.budget),
        "village_vice_presidents_last": np.where(st.at_or_above_threshold[:, -1], st.posts_per_village[:, -1:],
                                                 0.0).sum(axis=-1),
        "total_posts_last": st.county_all_posts[:, -1].sum(axis=-1),
        "wisn_required_staff_last": required[:, -1],
        "townships_short_of_staff_last": (twn.ratio[:, -1] < 1).sum(axis=-1).astype(float),
    }


def _check_paths(pa: ParamArrays, paths: Sequence[str], where: str, rulebook: Any) -> None:
    """Every path a numeric parameter: an unknown one with the closest numeric names, a text
    parameter (a choice) said as such."""
    problems = []
    for p in paths:
        if p not in rulebook:
            problems.append(Problem(f"{where} {p}", "rulebook.unknown_parameter", hint=did_you_mean(p, pa.paths())))
        elif p not in pa:
            problems.append(Problem(f"{where} {p}", "compare.not_numeric", hint=did_you_mean(p, pa.paths())))
    if problems:
        raise ParameterError(problems)


def evaluate_points(register: Register, base_pa: ParamArrays, updates: Mapping[str, np.ndarray],
              variant: str, chunk: int) -> dict[str, np.ndarray]:
    """Outcomes for N parameter sets given as per-path value vectors (N,), in chunks.

    Points that differ only in levers that are unit costs (:func:`.repricing.cost_only_paths`:
    an allowance) share one engine run, in chunks of distinct points; each point's budget is
    then priced from that run's quantities with its own unit costs (the same figures as a
    run of its own).
    """
    upd = {p: np.asarray(v, dtype=float) for p, v in updates.items()}
    n = len(next(iter(upd.values())))
    demographic = bool(demographic_paths(list(upd)))
    pop1 = None if demographic else run_arrays(register, base_pa, variant=variant).population
    cost = cost_only_paths(list(upd))
    keys = (np.stack([v for p, v in upd.items() if p not in cost], axis=1) if len(cost) < len(upd)
            else np.empty((n, 0)))
    out: dict[str, np.ndarray] = {}
    for reps, members, which in grouped(keys, chunk) if cost else _plain(n, chunk):
        pa = base_pa.with_values({p: v[reps] for p, v in upd.items()})
        ar = run_arrays(register, pa, variant=variant, population=pop1)
        for k, v in _outcomes(ar).items():
            out.setdefault(k, np.empty(n))[members] = np.asarray(v, dtype=float)[which]
        if not cost:
            continue
        for s in range(0, len(members), chunk):
            m = members[s:s + chunk]
            br = repriced(ar.budget, which[s:s + chunk], base_pa.with_values({p: v[m] for p, v in upd.items()}))
            for k, v in _budget_outcomes(br).items():
                out[k][m] = np.asarray(v, dtype=float)
    return out


def _plain(n: int, chunk: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Consecutive chunks of points, each its own group (the shape of :func:`.repricing.grouped`)."""
    for start in range(0, n, chunk):
        idx = np.arange(start, min(n, start + chunk))
        yield idx, idx, idx - start


def sweep_points(scenario: Scenario, grid: Mapping[str, Sequence[float]],
                 pa: ParamArrays, *, option: str = "--set",
                 max_points: int | None = MAX_SWEEP_POINTS) -> tuple[list[str], np.ndarray]:
    """Validate a sweep grid and expand it into points.

    ``option`` names the command-line option in the problems (``--set`` for a sweep,
    ``--vary`` for a plan); ``max_points`` is the largest grid (None: the caller checks).

    Returns
    -------
    paths : list of str
        The swept rulebook paths.
    points : numpy.ndarray, shape (K, P)
        Every combination of the values, in ``itertools.product`` order.

    Raises
    ------
    ParameterError
        Unknown path (with "did you mean"), a path read once per run, a value outside the
        parameter's range, a path without values.
    """
    if not grid:
        raise ParameterError(Problem("", "sweep.no_paths"))
    paths = list(grid)
    n_points = math.prod(len(grid[p]) for p in paths)
    if max_points is not None and n_points > max_points:
        sizes = " × ".join(f"{len(grid[p]):,}" for p in paths)
        raise ParameterError(Problem(option, "sweep.too_many_points", sizes=sizes, points=n_points,
                                     max=max_points))
    _check_paths(pa, paths, option, scenario.rulebook)
    problems = []
    for p in paths:
        if p.startswith(NOT_SCALED) or p.endswith("reference_year"):
            problems.append(Problem(f"{option} {p}", "sweep.not_sweepable"))
            continue
        param = scenario.parameter(p)
        for v in grid[p]:
            value = int(v) if float(v).is_integer() and abs(v) < 2**53 else float(v)
            for msg in param.check(value):
                problems.append(msg.at(f"{option} {p}"))
        if not grid[p]:
            problems.append(Problem(f"{option} {p}", "sweep.no_values"))
    if problems:
        raise ParameterError(problems)
    # every combination in itertools.product order (the first path varies slowest), built as
    # arrays: a plan grid of a million points is 8 bytes a value, not a list of tuples
    mesh = np.meshgrid(*[np.asarray(list(map(float, grid[p])), dtype=float) for p in paths], indexing="ij")
    points = np.stack([m.ravel() for m in mesh], axis=1)
    return paths, points


def sweep(scenario: Scenario | str, grid: Mapping[str, Sequence[float]], *,
          register: Register | None = None, chunk: int = DEFAULT_CHUNK) -> pd.DataFrame:
    """Evaluate a grid over numeric rules or assumptions in vectorised passes.

    Each grid point sets the given paths to the given values in every modelled year
    (all other rules as in the scenario).

    Parameters
    ----------
    scenario : Scenario or str
    grid : mapping of str to sequence of float
        Rulebook path → values to try, e.g. ``{"village.vice_president.allowance":
        [40, 60, 100], "village.vice_president.population_threshold": [300, 500]}``.
    register : Register, optional
    chunk : int
        Grid points per vectorised pass (memory bound).

    Returns
    -------
    pandas.DataFrame
        One row per grid point: the swept paths, then ``budget_horizon_yuan`` (total over
        all modelled years) [yuan], ``budget_first_year_yuan``, ``budget_last_year_yuan``
        [yuan/year], ``village_vice_presidents_last``, ``total_posts_last`` [post],
        ``wisn_required_staff_last`` [post], ``townships_short_of_staff_last``
        [township], in the last modelled year.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    reg = prepare_register(scenario, register)
    pa = scenario.arrays()
    paths, points = sweep_points(scenario, grid, pa)
    updates = {p: points[:, i] for i, p in enumerate(paths)}
    res = evaluate_points(reg, pa, updates, scenario.params.get("variant", "medium"), chunk)
    df = pd.DataFrame({p: points[:, i] for i, p in enumerate(paths)})
    for k, v in res.items():
        df[k] = v
    df.attrs["scenario"] = scenario.name
    return df


def key_assumptions(scenario: Scenario) -> list[str]:
    """Paths moved by :func:`sensitivity` by default: every numeric rulebook parameter whose
    value in force in the start year is an assumption and non-zero, plus the headline policy
    amounts of :data:`KEY_POLICY_PATHS` (:func:`qzfp.rules.uncertainty.key_assumption_paths`)."""
    return key_assumption_paths(scenario.rulebook, scenario.start_year, scenario.arrays().paths())


def sensitivity(scenario: Scenario | str, pct: float | None = None, *,
                paths: Sequence[str] | None = None, register: Register | None = None,
                chunk: int = DEFAULT_CHUNK, keep_zero: bool = False,
                year: int | None = None) -> pd.DataFrame:
    """Effect of moving each key assumption by ±pct % on total budget and required staff.

    The 2K + 1 settings (base, each path low, each path high) are computed as
    parameter sets of vectorised passes.  A value moved below the parameter's
    minimum or above its maximum is clipped to the bound (a share stays ≤ 1).

    Parameters
    ----------
    scenario : Scenario or str
    pct : float, optional
        Relative change [%]; default: the scenario's ``sensitivity_pct``.
    paths : sequence of str, optional
        Paths to move; default :func:`key_assumptions`.
    keep_zero : bool
        Keep paths whose moves change neither outcome (default: drop them).
    year : int, optional
        A modelled year: the ``budget_*`` columns are then that year's budget [yuan/year]
        instead of the horizon's total (what a budget proposal for one year ranks by).

    Returns
    -------
    pandas.DataFrame
        Ranked by the larger absolute budget effect: ``path``, ``unit``, ``base_value``
        (first modelled year), ``low_value``, ``high_value``, ``budget_base_yuan``,
        ``budget_low_yuan``, ``budget_high_yuan`` (horizon totals [yuan]),
        ``budget_effect_low_yuan``, ``budget_effect_high_yuan`` (differences to base),
        ``staff_base``, ``staff_low``, ``staff_high`` (WISN required staff in the last
        year [post]) and ``staff_effect_low``, ``staff_effect_high``, ``rank``.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    pct = float(scenario.params.get("sensitivity_pct", 10.0) if pct is None else pct)
    if not 0 < pct < 100:
        raise ParameterError(Problem("sensitivity_pct", "sensitivity.bad_pct", value=pct))
    reg = prepare_register(scenario, register)
    pa = scenario.arrays()
    year_index = None
    if year is not None:
        found = np.flatnonzero(scenario.years == int(year))
        if not found.size:
            raise ParameterError(Problem("year", "sensitivity.year_not_modelled", year=year,
                                         first=scenario.years[0], last=scenario.years[-1]))
        year_index = int(found[0])
    paths = list(paths) if paths is not None else key_assumptions(scenario)
    _check_paths(pa, paths, "sensitivity", scenario.rulebook)
    k = len(paths)
    base = {p: pa[p][0] for p in paths}  # (T,)
    # Parameter sets: 0 = base, 1..k = low, k+1..2k = high; each (N, T).
    values = {}
    lows, highs = {}, {}
    for i, p in enumerate(paths):
        arr = np.repeat(base[p][None, :], 2 * k + 1, axis=0)
        arr[1 + i], arr[1 + k + i] = sensitivity_moves(scenario.parameter(p), base[p], pct)
        values[p] = arr
        lows[p], highs[p] = arr[1 + i, 0], arr[1 + k + i, 0]
    res = _evaluate_full(reg, pa, values, scenario.params.get("variant", "medium"), chunk,
                         year_index=year_index)
    b_budget = res["budget_horizon_yuan" if year_index is None else "budget_year_yuan"]
    b_staff = res["wisn_required_staff_last"]
    rows = []
    for i, p in enumerate(paths):
        lo, hi = 1 + i, 1 + k + i
        rows.append({
            "path": p,
            "unit": scenario.parameter(p).unit,
            "base_value": float(base[p][0]),
            "low_value": float(lows[p]),
            "high_value": float(highs[p]),
            "budget_base_yuan": float(b_budget[0]),
            "budget_low_yuan": float(b_budget[lo]),
            "budget_high_yuan": float(b_budget[hi]),
            "budget_effect_low_yuan": float(b_budget[lo] - b_budget[0]),
            "budget_effect_high_yuan": float(b_budget[hi] - b_budget[0]),
            "staff_base": float(b_staff[0]),
            "staff_low": float(b_staff[lo]),
            "staff_high": float(b_staff[hi]),
            "staff_effect_low": float(b_staff[lo] - b_staff[0]),
            "staff_effect_high": float(b_staff[hi] - b_staff[0]),
        })
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    if not keep_zero:
        moved = (df[["budget_effect_low_yuan", "budget_effect_high_yuan", "staff_effect_low", "staff_effect_high"]]
                 .abs().max(axis=1) > 1e-9)
        df = df[moved]
    swing = df[["budget_effect_low_yuan", "budget_effect_high_yuan"]].abs().max(axis=1)
    staff_swing = df[["staff_effect_low", "staff_effect_high"]].abs().max(axis=1)
    df = df.assign(_s=swing, _t=staff_swing).sort_values(["_s", "_t"], ascending=False)
    df = df.drop(columns=["_s", "_t"]).reset_index(drop=True)
    df["rank"] = np.arange(1, len(df) + 1)
    df.attrs.update(scenario=scenario.name, pct=pct, year=year)
    return df


def _evaluate_full(register: Register, base_pa: ParamArrays, values: Mapping[str, np.ndarray],
                   variant: str, chunk: int, year_index: int | None = None) -> dict[str, np.ndarray]:
    """Like :func:`evaluate_points` but with (N, T) arrays per path (year-varying values);
    with ``year_index`` also ``budget_year_yuan``, the budget of that year [yuan/year].

    Only the parameter sets that move a demographic path need their own projection; the
    others (in a sensitivity run, every set but the 2 per demographic path) reuse the
    scenario's single projection (N = 1).  The two groups are evaluated apart and joined
    in the original order, so each set's outcomes are those of a run on its own.
    """
    n = next(iter(values.values())).shape[0]
    demo = demographic_paths(list(values))
    moved = np.zeros(n, dtype=bool)
    for p in demo:
        moved |= np.any(np.asarray(values[p], dtype=float) != np.asarray(base_pa[p], dtype=float)[:1], axis=1)
    groups = [(np.flatnonzero(~moved), False), (np.flatnonzero(moved), True)]
    pop1 = None
    if not moved.all():
        pop1 = run_arrays(register, base_pa, variant=variant).population
    out: dict[str, np.ndarray] = {}
    for rows, own_projection in groups:
        for start in range(0, len(rows), chunk):
            idx = rows[start:start + chunk]
            pa = base_pa.with_values({p: np.asarray(v)[idx] for p, v in values.items()})
            ar = run_arrays(register, pa, variant=variant, population=None if own_projection else pop1)
            outcomes = _outcomes(ar)
            if year_index is not None:
                outcomes["budget_year_yuan"] = ar.budget.year_total[:, year_index]
            for k, v in outcomes.items():
                if k not in out:
                    out[k] = np.empty(n, dtype=float)
                out[k][idx] = np.asarray(v, dtype=float)
    return out
