"""Grids whose levers include unit costs run the engines once per distinct value of the other
levers and price each point: every figure must be that of the point's own run."""

from __future__ import annotations

import numpy as np

from qzfp.model.comparison import _outcomes, sweep
from qzfp.model.plan.grid import coverage, evaluate_plans
from qzfp.model.plan.year import YearView, plan_arrays, year_arrays
from qzfp.model.projection import project
from qzfp.model.repricing import cost_only_paths
from qzfp.model.run import prepare_register, run_arrays
from qzfp.rules.scenario import load_scenario

#: an allowance and a training cost (unit costs only), the indexation rate (read by the unit
#: costs but not one) and the threshold (moves the posts)
GRID = {
    "village.vice_president.allowance": [40.0, 95.0],
    "costs.training.per_batch": [0.0, 3000.0],
    "costs.allowance_indexation_rate": [0.0, 0.05],
    "village.vice_president.population_threshold": [300.0, 900.0],
}


def test_only_the_unit_costs_of_budget_lines_are_priced_without_a_run_of_their_own():
    assert cost_only_paths(list(GRID)) == ["village.vice_president.allowance", "costs.training.per_batch"]


def test_every_sweep_point_has_the_figures_of_its_own_run():
    s = load_scenario("baseline")
    reg, pa = prepare_register(s, None), s.arrays()
    df = sweep(s, GRID, chunk=3)
    assert len(df) == 16
    for _, row in df.iterrows():
        own = _outcomes(run_arrays(reg, pa.with_values({p: np.array([row[p]]) for p in GRID})))
        for name, value in own.items():
            assert row[name] == float(value[0]), (name, dict(row[list(GRID)]))


def test_every_plan_has_the_budget_and_coverage_of_its_own_run():
    s = load_scenario("baseline")
    reg, pa = prepare_register(s, None), s.arrays()
    year = int(s.years[3])
    table = evaluate_plans(s, GRID, year, chunk=3).table
    pop = YearView(project(reg, pa), 3)
    one = year_arrays(pa, 3)
    for _, row in table.iterrows():
        own = coverage(run_arrays(reg, plan_arrays(pa, one, 3, {p: np.array([row[p]]) for p in GRID}), population=pop))
        for name, value in own.items():
            assert row[name] == float(value[0]), (name, dict(row[list(GRID)]))
