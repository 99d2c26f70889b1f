"""Every rule in the rulebook changes a result: no parameter is read by nobody."""

from __future__ import annotations

import re

import numpy as np

from qzfp.model.assumptions import DEMOGRAPHY_PATHS
from qzfp.model.budget import BUDGET_PATHS
from qzfp.model.run import simulate
from qzfp.model.staffing import STAFFING_PATHS
from qzfp.model.workload import workload_paths
from qzfp.rules.rulebook import load_rulebook
from qzfp.rules.scenario import Scenario, load_scenario

#: WISN allowances are discovered by prefix (a planner may add one without code).
DYNAMIC = re.compile(r"^workload\.[a-z_]+\.(category|individual)_allowance\.[a-z_]+$")


def short(**changes) -> Scenario:
    return Scenario.from_parameters(**{**load_scenario("baseline").to_papermill(), "horizon": 3, **changes})


def test_every_rulebook_parameter_is_read_by_an_engine():
    used = set(STAFFING_PATHS) | set(workload_paths()) | set(BUDGET_PATHS) | set(DEMOGRAPHY_PATHS)
    unread = [p for p in load_rulebook().paths() if p not in used and not DYNAMIC.match(p)]
    assert unread == []


def test_a_later_eligibility_age_pays_only_the_people_of_that_age():
    base = simulate(short())
    later = simulate(short(overrides={"reward_assistance.eligibility_age": 65}))
    pop = base.arrays.population.county_pop[0].sum(axis=-2)  # (T, C, A)
    factor = pop[..., 65:].sum(axis=-1) / pop[..., 60:].sum(axis=-1)  # (T, C)
    codes = list(base.register.counties["county_code"])
    key = ["year", "county_code"]
    b = base.budget[base.budget["line"] == "reward_assistance"].set_index(key)["quantity"]
    lt = later.budget[later.budget["line"] == "reward_assistance"].set_index(key)["quantity"]
    for (year, code), persons in b.items():
        t, c = int(year) - 2006, codes.index(code)
        # whole persons both: round(x · factor) against round(x) · factor, within one person
        assert lt[(year, code)] == round(lt[(year, code)])
        assert abs(lt[(year, code)] - persons * factor[t, c]) <= 1, (year, code)
    other = base.budget[base.budget["line"] != "reward_assistance"]["amount_yuan"].to_numpy()
    other_later = later.budget[later.budget["line"] != "reward_assistance"]["amount_yuan"].to_numpy()
    np.testing.assert_array_equal(other, other_later)


def test_each_county_counts_its_out_migrant_associations_in_the_migrant_association_line():
    res = simulate(short(overrides={"migrants.out_association.per_county": 2}))
    base = simulate(short())
    def quantity(r):
        return r.budget.loc[r.budget["line"] == "migrant_associations", "quantity"].to_numpy()

    diff = quantity(res) - quantity(base)
    np.testing.assert_allclose(diff, 1.0)  # one more association per county and year
    assert (res.arrays.staffing.out_migrant_associations == 2).all()
