"""Tests of qzfp.model.workload: the WHO WISN method on small hand-made populations."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from qzfp.errors import ParameterError
from qzfp.model import workload as workload_module
from qzfp.model.arrays import group_sum
from qzfp.model.schedules import election_years, training_plan
from qzfp.model.staffing import STAFFING_PATHS, staffing
from qzfp.model.workload import (
    CADRES,
    COMPONENTS,
    Components,
    wisn,
    workload_paths,
)
from qzfp.model.workload_tables import component_totals, components_table, summary_table, wisn_table
from qzfp.rules.paramarrays import ParamArrays

YEARS = np.array([2007, 2008, 2009])  # 2007 is an election year below

STAFFING = {
    "village.vice_president.population_threshold": 500,
    "village.vice_president.posts_per_village": 1,
    "village.vice_president.population_rounding": 1,
    "township.vice_president.posts_per_township": 1,
    "township.vice_president.extra_post_population_step": 0,
    "township.vice_president.extra_post_above_population": 30000,
    "county.president.posts": 1,
    "county.vice_president.posts": 1,
    "county.secretary_general.posts": 1,
    "county.secretariat.staff": 2,
    "migrants.association.in_migrants_per_association": 500,
    "migrants.association.min_in_migrants": 500,
    "migrants.out_association.per_county": 1,
    "members.per_1000_population": 70,
    "members.volunteers_per_village": 10,
    "village.vice_president.reads_resident_population": 0,
    "township.vice_president.reads_resident_population": 0,
    "members.reads_resident_population": 0,
}
assert set(STAFFING) == set(STAFFING_PATHS)


def zero_workload_params() -> dict[str, float]:
    """Every workload path at 0 except a valid working time and election/training setup."""
    values = dict.fromkeys(workload_paths(), 0.0)
    values["reward_assistance.eligibility_age"] = 60  # the population's aged-60+ indicator as is
    for cadre in CADRES:
        values.update({
            f"workload.{cadre}.working_time.working_days": 260,
            f"workload.{cadre}.working_time.public_holidays": 11,
            f"workload.{cadre}.working_time.annual_leave": 10,
            f"workload.{cadre}.working_time.sick_leave": 5,
            f"workload.{cadre}.working_time.other_leave": 4,
            f"workload.{cadre}.working_time.hours_per_day": 8,
        })
    values.update({"elections.first_year": 2007, "elections.interval_years": 5,
                   "training.cycle_years": 2, "training.batch_size": 30, "training.course_days": 3})
    return values


def make_pa(values: dict) -> ParamArrays:
    cols = {p: np.asarray(v, dtype=float).reshape(-1, 1) for p, v in {**STAFFING, **values}.items()}
    n = max(a.shape[0] for a in cols.values())
    return ParamArrays(YEARS, {p: np.broadcast_to(a, (n, len(YEARS))).copy() for p, a in cols.items()})


def make_pop(village_pop, township_of, aged, urban, township_migrants) -> SimpleNamespace:
    """One county; villages constant over the years; other indicators as given."""
    s = max(township_of) + 1
    villages = pd.DataFrame({
        "village_code": [f"v{i}" for i in range(len(village_pop))],
        "township_code": [f"t{t}" for t in township_of], "county_code": "c0",
        "urban": urban, "kind": "village",
    })
    reg = SimpleNamespace(
        villages=villages,
        townships=pd.DataFrame({"township_code": [f"t{i}" for i in range(s)], "county_code": "c0"}),
        counties=pd.DataFrame({"county_code": ["c0"]}),
        village_township=np.asarray(township_of), village_county=np.zeros(len(village_pop), int),
        township_county=np.zeros(s, int),
    )

    def const(a):
        return np.broadcast_to(np.asarray(a, float)[None, None, :], (1, len(YEARS), len(a))).copy()

    vpop = const(village_pop)
    return SimpleNamespace(
        years=YEARS, register=reg, village_pop=vpop, village_aged_60plus=const(aged),
        village_women_15_49=vpop * 0.25, village_births=vpop * 0.01, village_in_migrants=vpop * 0.02,
        township_pop=group_sum(vpop, reg.village_township, s),
        township_in_migrants=const(township_migrants),
    )


def worked_example_pop() -> SimpleNamespace:
    # one township of 4 villages, the last one an urban community
    return make_pop([800, 600, 450, 2000], [0, 0, 0, 0], aged=[300, 200, 150, 100],
                    urban=[False, False, False, True], township_migrants=[1200])


def test_wisn_worked_example_for_a_township_vice_president_is_reproduced_to_the_cent():
    v = zero_workload_params()
    tv = "workload.township_vice_president"
    v.update({
        f"{tv}.standards.village_supervision": 16,        # hour/village
        f"{tv}.standards.reward_assistance_review": 0.5,  # hour/eligible person
        f"{tv}.standards.migrant_service": 0.2,           # hour/in-migrant
        f"{tv}.standards.members_day_event": 24,          # hour/event
        "activities.members_day.events_per_year": 1,
        "reward_assistance.eligible_share": 0.1,
        f"{tv}.category_allowance.reports_and_statistics": 10,   # % of AWT
        f"{tv}.category_allowance.meetings_and_coordination": 10,
        f"{tv}.individual_allowance.township_leadership_meetings": 96,  # hour/year
    })
    pop = worked_example_pop()
    pa = make_pa(v)
    wr = wisn(pop, staffing(pop, pa), pa)
    w = wr["township_vice_president"]
    # By hand (WISN manual, 2010):
    #   AWT = (260 − (11 + 10 + 5 + 4)) × 8 = 230 × 8 = 1,840 h
    awt = (260 - (11 + 10 + 5 + 4)) * 8
    assert awt == 1840
    #   eligible rural people 60+ = (300 + 200 + 150) × 0.1 = 65 (the community is urban)
    #   annual workload × standard: 4 villages × 16 h + 65 × 0.5 h + 1,200 × 0.2 h + 1 × 24 h
    #                              = 64 + 32.5 + 240 + 24 = 360.5 h
    hours = 4 * 16 + 65 * 0.5 + 1200 * 0.2 + 1 * 24
    assert hours == 360.5
    #   Σ workload / standard workload = Σ volume / (AWT / standard) = 360.5 / 1,840 = 0.19592 post
    #   CAF = 1 / (1 − 20 / 100) = 1.25;  IAF = 96 / 1,840 = 0.05217 post
    #   required = 0.19592 × 1.25 + 0.05217 = 0.29708 post → 0.30
    required = hours / awt * (1 / (1 - 20 / 100)) + 96 / awt
    assert w.awt[0, 0] == awt
    assert w.caf[0, 0] == 1.25
    assert w.iaf[0, 0] == pytest.approx(96 / 1840, abs=1e-15)
    assert w.workload_hours[0, 1, 0] == pytest.approx(hours, abs=1e-9)  # 2008: no election
    assert w.required[0, 1, 0] == pytest.approx(required, abs=1e-12)
    assert round(w.required[0, 1, 0], 2) == round(required, 2) == 0.30
    #   WISN difference = 1 − 0.29708 = 0.70292; WISN ratio = 1 / 0.29708 = 3.366
    assert w.difference[0, 1, 0] == pytest.approx(1 - required, abs=1e-12)
    assert w.ratio[0, 1, 0] == pytest.approx(1 / required, abs=1e-12)


def _village_major(pop: SimpleNamespace) -> SimpleNamespace:
    """The same population with every village array laid out village-major in memory, as
    the population engine's are (the WISN sums then run in cache blocks)."""
    def vm(a):
        return np.ascontiguousarray(np.moveaxis(a, -1, 0)).transpose(1, 2, 0)
    return SimpleNamespace(**{k: vm(a) if k.startswith("village_") else a for k, a in vars(pop).items()})


@pytest.mark.parametrize("layout", ["c_order", "village_major_in_blocks"])
def test_wisn_worked_example_for_a_village_vice_president_is_reproduced(layout, monkeypatch):
    v = zero_workload_params()
    vv = "workload.village_vice_president"
    v.update({
        f"{vv}.working_time.annual_leave": 0,          # part-time: no leave of its own
        f"{vv}.working_time.hours_per_day": 2,         # hour/day given to the post
        f"{vv}.standards.members_day_event": 4,        # hour/event
        "activities.members_day.events_per_year": 1,
        f"{vv}.standards.home_visit": 0.5,             # hour/visit
        "workload.volumes.home_visits_per_woman_15_49": 0.5,
        "workload.volumes.home_visits_per_birth": 2,
        f"{vv}.standards.reward_assistance_review": 1,  # hour/eligible person
        "reward_assistance.eligible_share": 0.1,
        f"{vv}.standards.migrant_service": 0.5,        # hour/in-migrant
        f"{vv}.standards.self_governance_meeting": 2,  # hour/meeting
        "workload.volumes.self_governance_meetings_per_village": 12,
        f"{vv}.category_allowance.records_and_reports": 20,          # % of AWT
        f"{vv}.individual_allowance.village_committee_liaison": 24,  # hour/year
    })
    pop = worked_example_pop()  # villages of 800, 600, 450 people and an urban community of 2,000
    if layout != "c_order":
        monkeypatch.setattr(workload_module, "GROUP_BLOCK_BYTES", len(YEARS) * 8 * 2)  # 2 villages a block
        pop = _village_major(pop)
    pa = make_pa(v)
    w = wisn(pop, staffing(pop, pa), pa)["village_vice_president"]
    # By hand, in 2008 (no re-election):
    #   AWT = (260 − (11 + 0 + 5 + 4)) × 2 = 240 × 2 = 480 h;  CAF = 1 / (1 − 0.20) = 1.25;
    #   IAF = 24 / 480 = 0.05 post
    # village of 800 (women 15–49 = 200, births 8, in-migrants 16, rural aged 60+ 300):
    #   event 1 × 4 = 4 h; visits (200 × 0.5 + 8 × 2) = 116 × 0.5 = 58 h; eligible 300 × 0.1 = 30 × 1
    #   = 30 h; in-migrants 16 × 0.5 = 8 h; meetings 12 × 2 = 24 h  →  124 h
    #   required = 124 / 480 × 1.25 + 0.05 = 0.372917 post; one post → ratio 2.6816
    # village of 450 (women 112.5, births 4.5, in-migrants 9, aged 150), no post:
    #   4 + (56.25 + 9) × 0.5 + 15 + 4.5 + 24 = 80.125 h → 80.125 / 480 × 1.25 + 0.05 = 0.258659
    # community of 2,000 (urban: no reward-and-assistance reviews; women 500, births 20, in-migrants 40):
    #   4 + (250 + 40) × 0.5 + 0 + 20 + 24 = 193 h → 193 / 480 × 1.25 + 0.05 = 0.552604
    assert w.awt[0, 1] == 480 and w.caf[0, 1] == 1.25 and w.iaf[0, 1] == pytest.approx(0.05)
    np.testing.assert_allclose(w.workload_hours[0, 1, [0, 2, 3]], [124, 80.125, 193], rtol=1e-12)
    required = np.array([0.3729166667, 0.2586588542, 0.5526041667])
    np.testing.assert_allclose(w.required[0, 1, [0, 2, 3]], required, rtol=1e-9)
    assert w.ratio[0, 1, 0] == pytest.approx(1 / 0.3729166667, rel=1e-9)  # 2.6816
    assert w.difference[0, 1, 2] == pytest.approx(-0.2586588542, rel=1e-9)  # no post provided


def test_wisn_worked_example_for_the_county_secretariat_is_reproduced():
    v = zero_workload_params()
    cs = "workload.county_secretariat"
    v.update({
        f"{cs}.standards.members_day_event": 40,           # hour/event
        "activities.members_day.events_per_year": 1,
        f"{cs}.standards.township_supervision": 40,        # hour/township
        f"{cs}.standards.reward_assistance_audit": 0.1,    # hour/eligible person
        "reward_assistance.eligible_share": 0.1,
        f"{cs}.standards.migrant_association_support": 8,  # hour/association
        "migrants.out_association.per_county": 1,
        f"{cs}.standards.health_education_session": 20,    # hour/session
        "workload.volumes.health_education_sessions_per_10000": 10,
        f"{cs}.category_allowance.reports_and_statistics": 10,  # % of AWT
        f"{cs}.individual_allowance.accounts": 92,              # hour/year
    })
    pop = worked_example_pop()  # one county: one township of 3,850 people, 1,200 in-migrants
    pa = make_pa(v)
    w = wisn(pop, staffing(pop, pa), pa)["county_secretariat"]
    # By hand, in 2008 (no re-election):
    #   AWT = (260 − (11 + 10 + 5 + 4)) × 8 = 1,840 h; CAF = 1 / (1 − 0.10) = 1.1111; IAF = 92 / 1,840 = 0.05
    #   event 1 × 40 = 40 h; 1 township × 40 = 40 h; eligible (300 + 200 + 150) × 0.1 = 65 × 0.1 = 6.5 h;
    #   associations: in-migrant max(1, floor(1,200 / 500)) = 2 + out-migrant 1 = 3 × 8 = 24 h;
    #   health education 3,850 / 10,000 × 10 = 3.85 sessions × 20 = 77 h  →  187.5 h
    #   required = 187.5 / 1,840 / 0.9 + 0.05 = 0.163225 post; provided = secretary-general 1 +
    #   secretariat staff 2 = 3 → WISN difference 2.836775, ratio 18.3795
    assert w.workload_hours[0, 1, 0] == pytest.approx(187.5, abs=1e-9)
    assert w.required[0, 1, 0] == pytest.approx(0.1632246377, rel=1e-9)
    assert w.difference[0, 1, 0] == pytest.approx(3 - 0.1632246377, rel=1e-9)
    assert w.ratio[0, 1, 0] == pytest.approx(3 / 0.1632246377, rel=1e-9)


def test_part_time_village_cadre_has_fewer_available_hours():
    v = zero_workload_params()
    vv = "workload.village_vice_president.working_time"
    v.update({f"{vv}.annual_leave": 0, f"{vv}.hours_per_day": 2})
    pop = worked_example_pop()
    pa = make_pa(v)
    wr = wisn(pop, staffing(pop, pa), pa)
    # AWT = (260 − (11 + 0 + 5 + 4)) × 2 = 480 h
    assert np.all(wr["village_vice_president"].awt == (260 - (11 + 0 + 5 + 4)) * 2)


def test_home_visits_grow_with_women_and_births():
    v = zero_workload_params()
    v.update({"workload.village_vice_president.standards.home_visit": 0.5,
              "workload.volumes.home_visits_per_woman_15_49": 0.5, "workload.volumes.home_visits_per_birth": 2})
    pop = worked_example_pop()
    pa = make_pa(v)
    w = wisn(pop, staffing(pop, pa), pa)["village_vice_president"]
    visits = pop.village_women_15_49 * 0.5 + pop.village_births * 2
    np.testing.assert_allclose(w.workload_hours, visits * 0.5)
    np.testing.assert_allclose(w.required, visits * 0.5 / 1840)


def test_reelection_work_appears_only_in_election_years():
    v = zero_workload_params()
    v.update({"workload.county_secretariat.standards.reelection": 160,
              "workload.county_secretariat.standards.township_reelection_supervision": 16})
    pop = worked_example_pop()
    pa = make_pa(v)
    w = wisn(pop, staffing(pop, pa), pa)["county_secretariat"]
    # elections in 2007, 2012, ...: 2007 only among 2007..2009; one township to supervise
    np.testing.assert_allclose(w.workload_hours[0, :, 0], [160 + 16, 0, 0])
    years = np.arange(2005, 2019)
    rules = ParamArrays(years, {"elections.first_year": np.full((1, 14), 2007.0),
                                "elections.interval_years": np.full((1, 14), 5.0)})
    np.testing.assert_array_equal(election_years(rules)[0], [y in (2007, 2012, 2017) for y in years])


@pytest.mark.parametrize("key, value", [("interval_years", 4.5), ("first_year", 2007.5)])
def test_an_election_rule_that_is_not_a_whole_number_of_years_is_an_error_naming_it(key, value):
    years = np.arange(2006, 2010)
    data = {"elections.first_year": np.full((1, 4), 2007.0), "elections.interval_years": np.full((1, 4), 5.0)}
    data[f"elections.{key}"] = np.full((1, 4), value)
    with pytest.raises(ParameterError) as err:
        election_years(ParamArrays(years, data))
    assert err.value.problems[0].location == f"elections.yaml:{key}"
    assert "whole" in err.value.problems[0].message and f"{value:g}" in err.value.problems[0].message


def test_training_batches_are_rounded_up():
    pop = make_pop([600] * 70, [0] * 70, aged=[0] * 70, urban=[False] * 70, township_migrants=[0])
    v = zero_workload_params()
    v["training.village_cadres_included"] = 1
    pa = make_pa(v)
    plan = training_plan(staffing(pop, pa), pa)
    # 70 village vice-presidents, trained every 2 years: 35 trainees a year in batches of 30 → 2
    np.testing.assert_allclose(plan.township_trainees[0, :, 0], 70 / 2)
    np.testing.assert_array_equal(plan.township_batches[0, :, 0], np.ceil(35 / 30))
    # county courses: 4 county full-time cadres (vice-president, secretary-general, 2 staff)
    # + 1 township vice-president, every 2 years → 2.5 a year, 1 batch
    np.testing.assert_allclose(plan.county_trainees[0, :, 0], (1 + 1 + 2 + 1) / 2)
    np.testing.assert_array_equal(plan.county_batches[0, :, 0], 1)


def _packaged_pa(years: np.ndarray) -> ParamArrays:
    from qzfp.rules.rulebook import load_rulebook

    return load_rulebook().to_param_arrays(years)


def test_larger_merged_townships_show_lower_wisn_ratios_with_the_packaged_rulebook():
    # townships of 17,700 (mean before the 2006 adjustment), 23,200 (after) and 60,000 (the
    # largest), made of villages of about 1,160 people, all rural
    sizes = [17700, 23200, 60000]
    counts = [round(p / 1160) for p in sizes]
    township_of = np.repeat(np.arange(3), counts)
    vpop = np.concatenate([[p / k] * k for p, k in zip(sizes, counts, strict=True)])
    pop = make_pop(vpop, township_of, aged=vpop * 0.15, urban=[False] * len(vpop),
                   township_migrants=np.asarray(sizes) * 0.02)
    pa = _packaged_pa(YEARS)
    w = wisn(pop, staffing(pop, pa), pa)["township_vice_president"]
    assert np.all(np.diff(w.required, axis=-1) > 0)  # volume grows with population
    assert np.all(np.diff(w.ratio, axis=-1) < 0)
    assert np.all(w.ratio[..., 2] < 1)  # the 60,000 township: one post cannot carry the work
    tab = wisn_table(wisn(pop, staffing(pop, pa), pa), cadres=("township_vice_president",))
    assert tab.loc[tab.below_1, "township_code"].unique().tolist() == ["t2"]


def test_tables_are_consistent_with_the_arrays():
    pop = worked_example_pop()
    pa = _packaged_pa(YEARS)
    wr = wisn(pop, staffing(pop, pa), pa)
    tab = wisn_table(wr)
    assert len(tab) == len(YEARS) * (4 + 1 + 1)
    comps = components_table(wr)
    per_unit = comps.groupby(["year", "cadre", "village_code", "township_code"])["workload_hours"].sum()
    merged = tab.set_index(["year", "cadre", "village_code", "township_code"])["workload_hours"]
    np.testing.assert_allclose(per_unit.sort_index().to_numpy(), merged.sort_index().to_numpy())
    assert set(comps["component"]) == {c for cadre in CADRES for c, _ in COMPONENTS[cadre]}
    s = summary_table(wr)
    np.testing.assert_allclose(s["required"], tab.groupby(["year", "cadre"], sort=False)["required"].sum())


def test_component_totals_of_a_year_equal_the_components_table_summed_over_units():
    pop = worked_example_pop()
    pa = _packaged_pa(YEARS)
    wr = wisn(pop, staffing(pop, pa), pa)
    comps = components_table(wr)
    for t, year in ((0, YEARS[0]), (len(YEARS) - 1, YEARS[-1])):
        tot = component_totals(wr, t)
        grouped = comps[comps["year"] == year].groupby(["cadre", "component"], sort=False).agg(
            volume=("volume", "sum"), volume_unit=("volume_unit", "first"),
            standard_hours=("standard_hours", "first"), workload_hours=("workload_hours", "sum"),
            staff=("staff", "sum")).reset_index()
        assert tot[["cadre", "component", "volume_unit"]].equals(grouped[["cadre", "component", "volume_unit"]])
        for c in ("volume", "standard_hours", "workload_hours", "staff"):
            np.testing.assert_allclose(tot[c].to_numpy(), grouped[c].to_numpy(), rtol=1e-12)


def test_component_totals_need_the_components():
    pop = worked_example_pop()
    pa = make_pa(zero_workload_params())
    wr = wisn(pop, staffing(pop, pa), pa, keep_components=False)
    with pytest.raises(ParameterError, match="keep_components"):
        component_totals(wr, 0)


def test_two_parameter_sets_in_one_call_equal_two_separate_calls():
    pop = worked_example_pop()
    pa = _packaged_pa(YEARS)
    path = "workload.township_vice_president.standards.village_supervision"
    both = pa.with_values({path: np.array([[16.0], [40.0]]),
                           "village.vice_president.population_threshold": np.array([[500.0], [300.0]])})
    w2 = wisn(pop, staffing(pop, both), both)
    for i in range(2):
        one = both.take(i)
        w1 = wisn(pop, staffing(pop, one), one)
        for cadre in CADRES:
            np.testing.assert_allclose(w2[cadre].required[i], w1[cadre].required[0])
            np.testing.assert_allclose(w2[cadre].ratio[i], w1[cadre].ratio[0])
    assert not w2.cadres["township_vice_president"].components  # sweeps keep no components


def test_leave_exceeding_the_working_days_is_rejected_with_its_key():
    v = zero_workload_params()
    v["workload.county_secretariat.working_time.other_leave"] = 300
    pop = worked_example_pop()
    pa = make_pa(v)
    with pytest.raises(ParameterError) as err:
        wisn(pop, staffing(pop, pa), pa)
    assert err.value.problems[0].location == "workload.yaml:county_secretariat.working_time"


def test_category_allowances_of_100_percent_or_more_are_rejected():
    v = zero_workload_params()
    v["workload.village_vice_president.category_allowance.records"] = 100
    pop = worked_example_pop()
    pa = make_pa(v)
    with pytest.raises(ParameterError, match="less than 100 %"):
        wisn(pop, staffing(pop, pa), pa)


def test_election_interval_below_one_year_is_rejected():
    v = zero_workload_params()
    v["elections.interval_years"] = 0
    pop = worked_example_pop()
    pa = make_pa(v)
    with pytest.raises(ParameterError) as err:
        wisn(pop, staffing(pop, pa), pa)
    assert err.value.problems[0].location == "elections.yaml:interval_years"


def test_training_batch_size_of_zero_is_rejected():
    v = zero_workload_params()
    v["training.batch_size"] = 0
    pop = worked_example_pop()
    pa = make_pa(v)
    with pytest.raises(ParameterError) as err:
        wisn(pop, staffing(pop, pa), pa)
    assert err.value.problems[0].location == "training.yaml:batch_size"


def test_missing_workload_standard_is_named():
    v = zero_workload_params()
    del v["workload.township_vice_president.standards.village_supervision"]
    pop = worked_example_pop()
    pa = make_pa(v)
    with pytest.raises(ParameterError) as err:
        wisn(pop, staffing(pop, pa), pa)
    assert [p.location for p in err.value.problems] == ["workload.township_vice_president.standards.village_supervision"]


def test_components_table_needs_the_components():
    pop = worked_example_pop()
    pa = make_pa(zero_workload_params())
    wr = wisn(pop, staffing(pop, pa), pa, keep_components=False)
    with pytest.raises(ParameterError, match="keep_components"):
        components_table(wr)
    with pytest.raises(ParameterError, match="unknown cadre"):
        wr["nurse"]


def test_component_volumes_are_computed_only_when_first_read_and_then_kept(monkeypatch):
    v = zero_workload_params()
    v.update({"workload.volumes.home_visits_per_woman_15_49": 0.5, "workload.volumes.home_visits_per_birth": 2})
    pop = worked_example_pop()
    pa = make_pa(v)
    calls = []
    volume = workload_module._volume
    monkeypatch.setattr(workload_module, "_volume", lambda terms: calls.append(1) or volume(terms))
    w = wisn(pop, staffing(pop, pa), pa)["village_vice_president"]
    assert isinstance(w.components, Components) and calls == []
    assert list(w.components) == [c for c, _ in COMPONENTS["village_vice_president"]]
    assert len(w.components) == len(COMPONENTS["village_vice_president"]) and calls == []
    vol, unit, std = w.components["home_visit"]
    np.testing.assert_array_equal(vol, pop.village_women_15_49 * 0.5 + pop.village_births * 2)
    assert vol.shape == w.required.shape and std.shape == (1, len(YEARS))
    assert w.components["home_visit"][0] is vol and len(calls) == 1
    with pytest.raises(KeyError):
        w.components["nursing"]


def test_a_second_run_on_the_same_population_and_rules_reads_the_same_village_workload(monkeypatch):
    monkeypatch.setattr(workload_module, "_SMALL_BASE", 1)  # these small villages count as large arrays
    pa = _packaged_pa(YEARS)
    changeable = _village_major(worked_example_pop())
    first = wisn(changeable, staffing(changeable, pa), pa)["village_vice_president"].required
    assert wisn(changeable, staffing(changeable, pa), pa)["village_vice_president"].required is not first
    pop = _village_major(worked_example_pop())
    for name in ("village_women_15_49", "village_births", "village_aged_60plus", "village_in_migrants",
                 "village_pop"):
        memory = getattr(pop, name).base
        memory.setflags(write=False)  # unchangeable, as the arrays of a kept projection
        setattr(pop, name, memory.transpose(1, 2, 0))
    kept = wisn(pop, staffing(pop, pa), pa)["village_vice_president"].required
    again = wisn(pop, staffing(pop, pa), pa)["village_vice_president"].required
    assert again is kept and not kept.flags.writeable  # read, not written again
    np.testing.assert_array_equal(kept, first)  # the same values as computed afresh
    path = "workload.village_vice_president.standards.home_visit"
    other = pa.with_values({path: pa[path] * 2})
    changed = wisn(pop, staffing(pop, other), other)["village_vice_president"].required
    assert changed is not kept and np.all(changed >= kept) and np.any(changed > kept)
