"""The frontier of a plan grid and the best plan under a budget ceiling.

:func:`frontier` keeps the plans no cheaper plan beats (for each budget, the best
coverage reachable; more money never buys less), and :func:`best_plan` picks the plan
with the highest coverage whose budget is within the ceiling, ties broken by lower cost
(see ``docs/plan.md``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ...errors import ParameterError, Problem
from ...register import Register
from ...rules.scenario import Scenario
from .grid import MEASURES, PlanGrid, evaluate_plans
from .parse import parse_ceiling

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


def objective_column(objective: str) -> str:
    """The table column of an objective name (:data:`OBJECTIVES`).

    Raises
    ------
    ParameterError
        Unknown objective (with the closest name).
    """
    if objective not in OBJECTIVES:
        from ...errors import did_you_mean

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
    parse_ceiling(ceiling, 0.0)  # a mistyped ceiling is refused before the grid runs
    g = evaluate_plans(scenario, grid, year, register=register, chunk=chunk, progress=progress)
    limit = parse_ceiling(ceiling, g.baseline["budget_yuan"])
    chosen = best_plan(g.table, limit, objective)
    fr = frontier(g.table, objective)
    fr["within_ceiling"] = fr["budget_yuan"] <= limit
    return Plan(g, objective, limit, fr, chosen)
