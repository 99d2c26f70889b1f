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

from .choice import DEFAULT_OBJECTIVE, OBJECTIVES, Plan, best_plan, frontier, objective_column, plan
from .grid import (
    CHUNK_ARRAY_BYTES,
    MAX_PLAN_POINTS,
    MEASURES,
    PlanGrid,
    check_levers,
    chunk_size,
    coverage,
    evaluate_grid,
    evaluate_plans,
)
from .parse import MAX_RANGE_VALUES, parse_ceiling, parse_range, parse_vary
from .scenario import plan_scenario, plan_scenario_text
from .year import YearView, plan_arrays, year_arrays

__all__ = [
    "CHUNK_ARRAY_BYTES",
    "DEFAULT_OBJECTIVE",
    "MAX_PLAN_POINTS",
    "MAX_RANGE_VALUES",
    "MEASURES",
    "OBJECTIVES",
    "Plan",
    "PlanGrid",
    "YearView",
    "best_plan",
    "check_levers",
    "chunk_size",
    "coverage",
    "evaluate_grid",
    "evaluate_plans",
    "frontier",
    "objective_column",
    "parse_ceiling",
    "parse_range",
    "parse_vary",
    "plan",
    "plan_arrays",
    "plan_scenario",
    "plan_scenario_text",
    "year_arrays",
]
