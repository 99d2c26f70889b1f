"""Tests of qzfp.model.budget: line items per year × county, funding split and totals."""

from __future__ import annotations

import dataclasses
import importlib
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml

import qzfp
from qzfp.errors import ParameterError
from qzfp.model.arrays import group_sum
from qzfp.model.budget import (
    BUDGET_PATHS,
    FUNDERS,
    LINE_IDS,
    LINES,
    annual_factor,
    budget,
    budget_table,
    check_funding,
    indexation_factor,
    totals_table,
)
from qzfp.model.staffing import staffing
from qzfp.rules.paramarrays import ParamArrays
from qzfp.rules.rulebook import load_rulebook
from qzfp.rules.scenario import Scenario

budget_module = importlib.import_module("qzfp.model.budget")  # not the package attribute
YEARS = np.arange(2006, 2014)  # elections 2007 and 2012 with the packaged rule (2007 + 5k)
POLICY = Path(qzfp.__file__).parent / "rules" / "policy"

VILLAGES = pd.DataFrame({
    "village_code": [f"v{i}" for i in range(8)],
    "township_code": ["t0", "t0", "t0", "t1", "t1", "t2", "t2", "t2"],
    "county_code": ["c0", "c0", "c0", "c0", "c0", "c1", "c1", "c1"],
    "urban": [False, False, False, False, True, False, False, False],
    "kind": ["village"] * 4 + ["community"] + ["village"] * 3,
    "population": [499, 500, 1200, 320, 4000, 800, 150, 2600],
    "aged_60plus": [80, 70, 180, 60, 500, 120, 30, 400],
})
TOWNSHIPS = pd.DataFrame({"township_code": ["t0", "t1", "t2"], "county_code": ["c0", "c0", "c1"]})
COUNTIES = pd.DataFrame({"county_code": ["c0", "c1"]})


def make_pop(years: np.ndarray = YEARS) -> SimpleNamespace:
    """Village populations constant over the years (the register's figures)."""
    tindex = {c: i for i, c in enumerate(TOWNSHIPS["township_code"])}
    cindex = {c: i for i, c in enumerate(COUNTIES["county_code"])}
    reg = SimpleNamespace(
        villages=VILLAGES, townships=TOWNSHIPS, counties=COUNTIES,
        village_township=VILLAGES["township_code"].map(tindex).to_numpy(),
        village_county=VILLAGES["county_code"].map(cindex).to_numpy(),
        township_county=TOWNSHIPS["county_code"].map(cindex).to_numpy(),
    )

    def const(col):
        return np.broadcast_to(VILLAGES[col].to_numpy(float)[None, None, :], (1, len(years), len(VILLAGES))).copy()

    vpop = const("population")
    return SimpleNamespace(
        years=years, register=reg, village_pop=vpop, village_aged_60plus=const("aged_60plus"),
        village_women_15_49=vpop * 0.25, village_births=vpop * 0.01, village_in_migrants=vpop * 0.1,
        township_pop=group_sum(vpop, reg.village_township, 3),
        township_in_migrants=group_sum(vpop * 0.1, reg.village_township, 3),
    )


@pytest.fixture(scope="module")
def rulebook():
    return load_rulebook()


@pytest.fixture(scope="module")
def pa(rulebook) -> ParamArrays:
    return rulebook.to_param_arrays(YEARS)


def run(pa: ParamArrays):
    pop = make_pop(pa.years)
    st = staffing(pop, pa)
    return st, budget(pop, st, pa)


def test_village_vice_president_allowance_line_is_posts_times_allowance_times_12(pa, rulebook):
    st, br = run(pa)
    threshold = rulebook.value_in_year("village.vice_president.population_threshold", 2006)
    allowance = rulebook.value_in_year("village.vice_president.allowance", 2006)
    # independent count with plain pandas: villages at or above the threshold, per county
    posts = (VILLAGES.assign(vp=VILLAGES["population"] >= threshold)
             .groupby("county_code")["vp"].sum().reindex(COUNTIES["county_code"]).to_numpy())
    np.testing.assert_array_equal(br.quantity[0, 0, :, LINE_IDS.index("village_vp_allowance")], posts)
    np.testing.assert_allclose(br.line("village_vp_allowance")[0, 0], posts * allowance * 12)
    tab = budget_table(br)
    row = tab[(tab.year == 2006) & (tab.line == "village_vp_allowance")]
    np.testing.assert_allclose(row["amount_yuan"], posts * allowance * 12)
    assert (row["unit_cost_yuan"] == allowance * 12).all()


def test_raising_an_allowance_changes_only_the_lines_that_depend_on_it(pa):
    _, base = run(pa)
    raised = pa.with_values({"village.vice_president.allowance": pa["village.vice_president.allowance"] * 2})
    _, br = run(raised)
    changed = {ln.id for k, ln in enumerate(LINES) if not np.allclose(br.amount[..., k], base.amount[..., k])}
    assert changed == {"village_vp_allowance"}
    np.testing.assert_allclose(br.line("village_vp_allowance"), 2 * base.line("village_vp_allowance"))


def test_totals_equal_the_sum_of_lines_and_funders_the_amount(pa):
    _, br = run(pa)
    tab = budget_table(br)
    assert len(tab) == len(YEARS) * len(COUNTIES) * len(LINES)
    np.testing.assert_allclose(tab[["city_yuan", "county_yuan", "township_yuan"]].sum(axis=1), tab["amount_yuan"])
    np.testing.assert_allclose(tab["quantity"] * tab["unit_cost_yuan"], tab["amount_yuan"])
    tot = totals_table(br)
    by_year = tab.groupby("year")["amount_yuan"].sum().to_numpy()
    np.testing.assert_allclose(tot.loc[tot.county_code == "all", "amount_yuan"], by_year)
    np.testing.assert_allclose(br.year_total[0], by_year)
    assert br.horizon_total[0] == pytest.approx(by_year.sum())
    by_county = tab.groupby(["year", "county_code"])["amount_yuan"].sum().to_numpy()
    np.testing.assert_allclose(tot.loc[tot.county_code != "all", "amount_yuan"], by_county)
    city_pop = VILLAGES["population"].sum()
    np.testing.assert_allclose(br.per_capita[0], by_year / city_pop)


def test_reelections_appear_only_in_election_years(pa, rulebook):
    _, br = run(pa)
    first = rulebook.value_in_year("elections.first_year", 2006)
    interval = rulebook.value_in_year("elections.interval_years", 2006)
    expected_years = [y for y in YEARS if y >= first and (y - first) % interval == 0]
    tab = budget_table(br)
    for line, units in (("reelection_county", len(COUNTIES)), ("reelection_township", len(TOWNSHIPS)),
                        ("reelection_village", len(VILLAGES))):
        rows = tab[(tab.line == line) & (tab.amount_yuan > 0)]
        assert sorted(rows["year"].unique()) == expected_years
        assert rows.groupby("year")["quantity"].sum().eq(units).all()


def test_reward_assistance_is_eligible_rural_people_aged_60_plus_in_whole_persons_times_the_amount_in_force(
        pa, rulebook):
    _, br = run(pa)
    rural_aged = VILLAGES[~VILLAGES["urban"]].groupby("county_code")["aged_60plus"].sum().reindex(COUNTIES["county_code"]).to_numpy()
    k = LINE_IDS.index("reward_assistance")
    for t, year in enumerate(YEARS):
        share = rulebook.value_in_year("reward_assistance.eligible_share", int(year))
        amount = rulebook.value_in_year("reward_assistance.amount", int(year))
        # whole persons per county, rounded half to even: a county pays whole people
        np.testing.assert_allclose(br.quantity[0, t, :, k], np.round(rural_aged * share))
        np.testing.assert_allclose(br.amount[0, t, :, k], np.round(rural_aged * share) * amount)


def test_training_is_paid_per_trainee_day_and_per_batch(pa, rulebook):
    st, br = run(pa)
    v = lambda p: rulebook.value_in_year(p, 2006)  # noqa: E731
    cycle, batch, days = v("training.cycle_years"), v("training.batch_size"), v("training.course_days")
    threshold = v("village.vice_president.population_threshold")
    c = 0  # county c0: 4 full-time county cadres + 2 township vice-presidents (t0, t1)
    county_trainees = (1 + 1 + 2 + 2) / cycle
    c0 = VILLAGES[VILLAGES.county_code == "c0"]
    village_trainees = (c0["population"] >= threshold).groupby(c0["township_code"]).sum().to_numpy() / cycle
    trainee_days = (county_trainees + village_trainees.sum()) * days
    batches = math.ceil(county_trainees / batch) + np.ceil(village_trainees / batch).sum()
    assert br.quantity[0, 0, c, LINE_IDS.index("training_trainee_days")] == pytest.approx(trainee_days)
    assert br.quantity[0, 0, c, LINE_IDS.index("training_batches")] == batches
    assert br.line("training_batches")[0, 0, c] == pytest.approx(batches * v("costs.training.per_batch"))


def test_allowance_indexation_compounds_from_the_start_year(pa):
    _, base = run(pa)
    _, br = run(pa.with_values({"costs.allowance_indexation_rate": np.array([[0.05]])}))
    factor = 1.05 ** (YEARS - YEARS[0])
    np.testing.assert_allclose(indexation_factor(np.full((1, len(YEARS)), 0.05))[0], factor)
    for line in ("village_vp_allowance", "township_vp_allowance", "county_vp_allowance"):
        np.testing.assert_allclose(br.line(line), base.line(line) * factor[None, :, None])
    np.testing.assert_allclose(br.line("county_secretariat"), base.line("county_secretariat"))


def test_two_parameter_sets_in_one_call_equal_two_separate_calls(pa):
    both = pa.with_values({"village.vice_president.allowance": np.array([[60.0], [100.0]]),
                           "village.vice_president.population_threshold": np.array([[500.0], [300.0]])})
    _, br2 = run(both)
    for i in range(2):
        _, br1 = run(both.take(i))
        np.testing.assert_allclose(br2.amount[i], br1.amount[0])
        pd.testing.assert_frame_equal(budget_table(br2, i=i), budget_table(br1))


def test_chinese_references_are_a_column_beside_the_references_empty_when_not_given(pa, rulebook):
    import datetime as dt

    _, br = run(pa)
    assert (budget_table(br)["reference_zh"] == "").all()
    tab = budget_table(br, lambda p, y: rulebook.get(p).dated_value_at(dt.date(y, 1, 1)).reference,
                       references_zh=lambda p, y: rulebook.get(p).dated_value_at(dt.date(y, 1, 1)).reference_zh)
    assert list(tab.columns[4:6]) == ["reference", "reference_zh"]
    ra = tab[(tab.line == "reward_assistance") & (tab.county_code == "c0")].set_index("year")["reference_zh"]
    assert ra[2012] == rulebook.get("reward_assistance.amount").values[-1].reference_zh
    assert "参考资料" in ra[2012] and "960" in ra[2012]


def test_references_come_from_the_mapping_or_callable_given(pa, rulebook):
    _, br = run(pa)
    refs = {ln.rule_path: f"ref of {ln.rule_path}" for ln in LINES}
    tab = budget_table(br, refs)
    assert (tab["reference"] == "ref of " + tab["rule_path"]).all()
    tab = budget_table(br, lambda path, year: rulebook.get(path).dated_value_at(__import__("datetime").date(year, 1, 1)).reference)
    ra = tab[(tab.line == "reward_assistance") & (tab.county_code == "c0")].set_index("year")["reference"]
    assert ra[2006] == rulebook.get("reward_assistance.amount").values[0].reference
    assert ra[2012] == rulebook.get("reward_assistance.amount").values[-1].reference
    with pytest.raises(ParameterError, match="no reference"):
        budget_table(br, {"village.vice_president.allowance": "x"})


def test_funding_shares_that_do_not_sum_to_one_are_rejected_per_line(pa):
    bad = pa.with_values({"funding.fp_insurance.city": np.array([[0.3]]),
                          "funding.training_batches.county": np.array([[0.5]])})
    with pytest.raises(ParameterError) as err:
        run(bad)
    assert [p.location for p in err.value.problems] == ["funding.yaml:training_batches", "funding.yaml:fp_insurance"]
    assert "sum to 1" in err.value.problems[0].message


def test_packaged_funding_shares_sum_to_one_for_every_line(pa):
    shares = check_funding(pa, 1)
    np.testing.assert_allclose(shares.sum(axis=-1), 1.0)
    assert shares.shape == (1, len(YEARS), len(LINES), len(FUNDERS))


def test_missing_parameter_is_named(pa):
    data = {p: a for p, a in pa.data.items() if p != "costs.reelection.village"}
    with pytest.raises(ParameterError) as err:
        run(ParamArrays(YEARS, data))
    assert [p.location for p in err.value.problems] == ["costs.reelection.village"]


def test_unknown_line_is_rejected(pa):
    _, br = run(pa)
    with pytest.raises(ParameterError, match="unknown budget line"):
        br.line("champagne")


@pytest.mark.parametrize("name", ["costs.yaml", "workload.yaml", "funding.yaml"])
def test_rulebook_files_give_every_value_a_unit_and_a_reference(name, tmp_path):
    (tmp_path / name).write_text((POLICY / name).read_text(encoding="utf-8"), encoding="utf-8")
    rb = load_rulebook(tmp_path)  # the strict loader: description, unit, dated values, references
    assert rb.paths()
    raw = yaml.safe_load((POLICY / name).read_text(encoding="utf-8"))
    assert raw  # every non-document figure says why it was assumed
    for path in rb.paths():
        for dv in rb.get(path).values:
            assert dv.reference.startswith("assumption: ") or "号" in dv.reference or "办法" in dv.reference, path


def test_every_budget_path_is_in_the_packaged_rulebook(rulebook):
    assert set(BUDGET_PATHS) <= set(rulebook.paths())


def test_a_funding_share_outside_0_to_1_is_rejected_even_when_the_shares_sum_to_one(pa):
    bad = pa.with_values({"funding.reward_assistance.city": np.array([[1.5]]),
                          "funding.reward_assistance.county": np.array([[-0.5]]),
                          "funding.reward_assistance.township": np.array([[0.0]])})
    with pytest.raises(ParameterError) as err:
        check_funding(bad, 1)
    assert [p.location for p in err.value.problems] == ["funding.yaml:reward_assistance"]
    assert "1.5 + -0.5 + 0 = 1" in err.value.problems[0].message


# --------------------------------------------------------------------------- indexation dates

RATE = "costs.allowance_indexation_rate"


def _unit_costs(scenario: Scenario, line: str) -> dict[int, float]:
    """Unit cost of a line per modelled year [yuan per quantity unit per year]."""
    _, br = run(scenario.arrays())
    k = LINE_IDS.index(line)
    return {int(y): float(br.unit_cost[0, t, k]) for t, y in enumerate(br.years)}


@pytest.mark.parametrize("start", [2006, 2008])
def test_a_decreed_allowance_is_paid_as_decreed_in_its_year_whatever_the_start_year(start):
    # allowance_100: 100 yuan/month from 2008-01-01; indexation at 5 %/year from the start year
    s = Scenario.from_parameters(extends="allowance_100", start_year=start, horizon=2010 - start,
                                 overrides={RATE: 0.05})
    cost = _unit_costs(s, "village_vp_allowance")
    assert cost[2008] == pytest.approx(100 * 12)  # 1,200 yuan/post/year, as decreed
    assert cost[2009] == pytest.approx(100 * 12 * 1.05)  # 1,260
    assert cost[2010] == pytest.approx(100 * 12 * 1.05**2)  # 1,323: compounds from 2008


def test_indexation_of_a_value_decreed_before_the_start_counts_the_years_since_its_decree():
    # the 2004 allowance of 60 yuan/month, the rate 5 %/year from 2006 (the rate rule begins in
    # 2006, so 2004 and 2005 are not indexed): 2008 = 60 × 12 × 1.05² = 793.8 in both runs
    costs = []
    for start in (2006, 2008):
        s = Scenario.from_parameters(start_year=start, horizon=2009 - start,
                                     overrides={RATE: {"2006-01-01": 0.05}})
        costs.append(_unit_costs(s, "village_vp_allowance"))
    for cost in costs:
        assert cost[2008] == pytest.approx(60 * 12 * 1.05**2)
        assert cost[2009] == pytest.approx(60 * 12 * 1.05**3)


def test_a_rule_change_restarts_indexation_in_the_year_of_the_change(pa):
    # a sweep value is in force from the first modelled year: 80 from 2006, 100 from 2009
    raised = np.where(YEARS >= 2009, 100.0, 80.0)[None, :]
    _, br = run(pa.with_values({"village.vice_president.allowance": raised, RATE: np.array([[0.1]])}))
    k = LINE_IDS.index("village_vp_allowance")
    expected = {2006: 80 * 12, 2008: 80 * 12 * 1.1**2, 2009: 100 * 12, 2011: 100 * 12 * 1.1**2}
    for year, value in expected.items():
        assert br.unit_cost[0, year - 2006, k] == pytest.approx(value)


# --------------------------------------------------------------------------- units of the lines


def test_every_budget_line_unit_agrees_with_its_rule_unit(rulebook):
    for ln in LINES:
        unit = rulebook.get(ln.rule_path).unit
        assert ln.rule_unit == unit, ln.id
        # a monthly or yearly amount becomes a yearly cost per quantity unit; others stay
        expected = {"yuan/month": f"yuan/{ln.quantity_unit}/year",
                    "yuan/year": f"yuan/{ln.quantity_unit}/year"}.get(unit, unit)
        assert ln.unit_cost_unit == expected, ln.id
        assert annual_factor(ln) == (12 if unit == "yuan/month" else 1), ln.id


@pytest.mark.parametrize("line_id, indexed", [("village_vp_allowance", False), ("county_secretariat", True)])
def test_the_times_12_follows_the_rule_unit_not_the_indexation_flag(pa, monkeypatch, line_id, indexed):
    _, base = run(pa)
    flipped = tuple(dataclasses.replace(ln, indexed=indexed) if ln.id == line_id else ln for ln in LINES)
    monkeypatch.setattr(budget_module, "LINES", flipped)
    _, br = run(pa)
    k = LINE_IDS.index(line_id)
    monthly = line_id == "village_vp_allowance"  # 60 yuan/month vs 20,000 yuan/post/year
    expected = pa[LINES[k].rule_path][0, 0] * (12 if monthly else 1)  # I = 1 at r = 0
    assert br.unit_cost[0, 0, k] == pytest.approx(expected)
    np.testing.assert_allclose(br.amount, base.amount)


def test_a_rule_whose_unit_differs_from_its_budget_line_is_an_error_naming_it(pa):
    units = {**pa.units, "village.vice_president.allowance": "yuan/day"}
    with pytest.raises(ParameterError) as err:
        run(dataclasses.replace(pa, units=units))
    assert err.value.problems[0].location == "village.yaml:vice_president.allowance"
    assert "yuan/day" in err.value.problems[0].message and "yuan/month" in err.value.problems[0].message
