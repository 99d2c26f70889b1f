"""Tests of qzfp.model.staffing: posts required by the rules, on small hand-made registers."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import qzfp.model.arrays as arrays_module
from qzfp.errors import ParameterError, RegisterError
from qzfp.model.arrays import group_sum
from qzfp.model.staffing import (
    STAFFING_PATHS,
    city_staffing_ratios,
    county_table,
    posts_table,
    staffing,
    staffing_ratios,
    township_table,
    village_table,
)
from qzfp.rules.paramarrays import ParamArrays

YEARS = np.array([2006, 2007, 2008])

# 2 counties, 3 townships, 7 villages; population per village in the first year
VILLAGES = pd.DataFrame({
    "village_code": [f"v{i}" for i in range(7)],
    "township_code": ["t0", "t0", "t0", "t1", "t1", "t2", "t2"],
    "county_code": ["c0", "c0", "c0", "c0", "c0", "c1", "c1"],
    "urban": [False, False, False, False, True, False, False],
    "kind": ["village"] * 4 + ["community"] + ["village"] * 2,
    "population": [499, 500, 1200, 320, 4000, 800, 150],
})
TOWNSHIPS = pd.DataFrame({"township_code": ["t0", "t1", "t2"], "county_code": ["c0", "c0", "c1"]})
COUNTIES = pd.DataFrame({"county_code": ["c0", "c1"]})

BASE = {
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
    "migrants.association.min_in_migrants": 300,
    "migrants.out_association.per_county": 1,
    "members.per_1000_population": 70,
    "members.volunteers_per_village": 10,
    "village.vice_president.reads_resident_population": 0,
    "township.vice_president.reads_resident_population": 0,
    "members.reads_resident_population": 0,
}


def make_register(villages: pd.DataFrame = VILLAGES) -> SimpleNamespace:
    townships = TOWNSHIPS
    tindex = {c: i for i, c in enumerate(townships["township_code"])}
    cindex = {c: i for i, c in enumerate(COUNTIES["county_code"])}
    return SimpleNamespace(
        villages=villages, townships=townships, counties=COUNTIES,
        village_township=villages["township_code"].map(tindex).to_numpy(),
        village_county=villages["county_code"].map(cindex).to_numpy(),
        township_county=townships["county_code"].map(cindex).to_numpy(),
    )


def make_pop(growth: float = 0.01, villages: pd.DataFrame = VILLAGES, township_migrants=None) -> SimpleNamespace:
    """Population growing by ``growth`` a year from the register; townships = sums of villages."""
    reg = make_register(villages)
    vpop = villages["population"].to_numpy(float)[None, None, :] * (1 + growth) ** np.arange(len(YEARS))[None, :, None]
    tpop = np.zeros((1, len(YEARS), len(TOWNSHIPS)))
    np.add.at(tpop, (slice(None), slice(None), reg.village_township), vpop)
    tmig = tpop * 0.05 if township_migrants is None else np.broadcast_to(
        np.asarray(township_migrants, float)[None, None, :], tpop.shape)
    return SimpleNamespace(years=YEARS, register=reg, village_pop=vpop, township_pop=tpop,
                           township_in_migrants=tmig)


def make_pa(**changes) -> ParamArrays:
    """Constant parameters; a list value gives one parameter set per element."""
    values = {**BASE, **changes}
    cols = {p: np.asarray(v, dtype=float).reshape(-1, 1) for p, v in values.items()}
    n = max(a.shape[0] for a in cols.values())
    return ParamArrays(YEARS, {p: np.broadcast_to(a, (n, len(YEARS))).copy() for p, a in cols.items()})


def test_number_of_village_vice_presidents_equals_villages_at_or_above_threshold():
    pop = make_pop()
    st = staffing(pop, make_pa())
    # independent count with plain pandas on the register (first year = register population)
    first = VILLAGES.assign(vp=VILLAGES["population"] >= 500)
    expected_by_county = first.groupby("county_code")["vp"].sum().reindex(COUNTIES["county_code"]).to_numpy()
    assert st.village_vice_presidents[0, 0].sum() == first["vp"].sum()
    np.testing.assert_array_equal(st.village_to_county(st.village_vice_presidents)[0, 0], expected_by_county)


def test_village_of_exactly_500_people_gets_a_vice_president_and_499_does_not():
    st = staffing(make_pop(growth=0.0), make_pa())
    vp = dict(zip(VILLAGES["village_code"], st.village_vice_presidents[0, 0], strict=True))
    assert vp["v1"] == 1  # exactly 500: 以上 includes the number itself
    assert vp["v0"] == 0  # 499
    assert st.at_or_above_threshold[0, 0, 1] and not st.at_or_above_threshold[0, 0, 0]


def _fractional_villages(populations: list[float]) -> pd.DataFrame:
    n = len(populations)
    return pd.DataFrame({
        "village_code": [f"v{i}" for i in range(n)], "township_code": ["t0"] * n,
        "county_code": ["c0"] * n, "urban": [False] * n, "kind": ["village"] * n,
        "population": populations,
    })


def test_a_projected_village_population_is_rounded_to_whole_persons_before_the_threshold():
    # rounding interval 1 person, a half goes to the even neighbour (GB/T 8170-2008):
    # 499.49 -> 499, 499.5 -> 500, 500.5 -> 500, 498.5 -> 498, 501.5 -> 502
    villages = _fractional_villages([499.49, 499.5, 500.5, 498.5, 501.5])
    st = staffing(make_pop(growth=0.0, villages=villages), make_pa())
    np.testing.assert_array_equal(st.village_vice_presidents[0, 0], [0, 1, 1, 0, 1])
    np.testing.assert_array_equal(st.village_pop_counted[0, 0], [499, 500, 500, 498, 502])


def test_the_population_a_planner_reads_is_the_population_the_threshold_rule_applied():
    from qzfp.i18n import format_number

    populations = [298.5, 299.5, 300.5, 301.5, 499.5, 500.4999]
    villages = _fractional_villages(populations)
    for threshold in (299, 300, 301, 500):
        st = staffing(make_pop(growth=0.0, villages=villages),
                      make_pa(**{"village.vice_president.population_threshold": threshold}))
        shown = [int(format_number(p, "en").replace(",", "")) for p in populations]
        np.testing.assert_array_equal(st.at_or_above_threshold[0, 0], [p >= threshold for p in shown])
        np.testing.assert_array_equal(village_table(st)["population_counted"].iloc[:len(populations)], shown)


def test_a_rounding_interval_of_zero_compares_the_unrounded_projection():
    villages = _fractional_villages([499.5, 500.0])
    st = staffing(make_pop(growth=0.0, villages=villages),
                  make_pa(**{"village.vice_president.population_rounding": 0}))
    np.testing.assert_array_equal(st.village_vice_presidents[0, 0], [0, 1])


def test_lowering_the_threshold_never_reduces_posts():
    thresholds = np.array([800, 600, 500, 400, 200, 100])
    st = staffing(make_pop(), make_pa(**{"village.vice_president.population_threshold": thresholds}))
    totals = st.village_vice_presidents.sum(axis=-1)  # (N, T)
    assert np.all(np.diff(totals, axis=0) >= 0)
    # and per village: a village with a post keeps it at every lower threshold
    assert np.all(np.diff(st.village_vice_presidents, axis=0) >= 0)


def test_two_parameter_sets_in_one_call_equal_two_separate_calls():
    pop = make_pop()
    both = staffing(pop, make_pa(**{"village.vice_president.population_threshold": [500, 300],
                                    "township.vice_president.extra_post_population_step": [0, 1000]}))
    one = staffing(pop, make_pa(**{"village.vice_president.population_threshold": 500}))
    two = staffing(pop, make_pa(**{"village.vice_president.population_threshold": 300,
                                   "township.vice_president.extra_post_population_step": 1000,
                                   "township.vice_president.extra_post_above_population": 30000}))
    assert both.n == 2
    for name in ("village_vice_presidents", "township_extra_posts", "migrant_associations", "village_members"):
        np.testing.assert_array_equal(getattr(both, name)[0], getattr(one, name)[0])
        np.testing.assert_array_equal(getattr(both, name)[1], getattr(two, name)[0])


def test_extra_township_posts_are_one_per_full_step_above_the_size():
    villages = VILLAGES.assign(population=[10000, 10000, 10000, 20000, 21000, 1000, 500])
    pop = make_pop(growth=0.0, villages=villages)  # townships: 30000, 41000, 1500
    st = staffing(pop, make_pa(**{"township.vice_president.extra_post_population_step": 5000,
                                  "township.vice_president.extra_post_above_population": 30000}))
    tpop = pop.township_pop[0, 0]
    expected = [math.floor(max(0, p - 30000) / 5000) for p in tpop]  # floor: each *full* step
    assert expected == [0, 2, 0]
    np.testing.assert_array_equal(st.township_extra_posts[0, 0], expected)
    np.testing.assert_array_equal(st.township_vice_presidents[0, 0], [1 + e for e in expected])


def test_extra_post_rule_is_off_when_the_step_is_zero():
    villages = VILLAGES.assign(population=[90000, 1, 1, 1, 1, 1, 1])
    st = staffing(make_pop(villages=villages), make_pa())
    assert np.all(st.township_extra_posts == 0)
    assert np.all(st.township_vice_presidents == 1)


def test_migrant_associations_start_at_the_minimum_and_add_one_per_full_size():
    # per association 500, minimum 300: 299 -> 0, 300 -> 1, 1499 -> 2
    st = staffing(make_pop(township_migrants=[299, 300, 1499]), make_pa())
    np.testing.assert_array_equal(st.migrant_associations[0, 0], [0, 1, 2])


def test_members_and_volunteers_follow_the_ratios():
    pop = make_pop()
    st = staffing(pop, make_pa())
    np.testing.assert_allclose(st.village_members, pop.village_pop * 70 / 1000)
    assert np.all(st.village_volunteers == 10)


def test_ratios_count_villages_without_a_vice_president_and_their_people():
    pop = make_pop(growth=0.0)
    st = staffing(pop, make_pa())
    r = staffing_ratios(st)
    small = VILLAGES[VILLAGES["population"] < 500]
    by_county = small.groupby("county_code")["population"].agg(["count", "sum"]).reindex(COUNTIES["county_code"], fill_value=0)
    np.testing.assert_array_equal(r["county_villages_without_vp"][0, 0], by_county["count"].to_numpy())
    np.testing.assert_array_equal(r["county_people_without_vp"][0, 0], by_county["sum"].to_numpy())
    # posts per 10,000 in county c0: 5 county posts + 2 township + 3 village (500, 1200, 4000)
    c0_pop = VILLAGES.loc[VILLAGES["county_code"] == "c0", "population"].sum()
    assert r["county_posts_per_10000"][0, 0, 0] == pytest.approx((5 + 2 + 3) / c0_pop * 1e4)
    t0_pop = VILLAGES.loc[VILLAGES["township_code"] == "t0", "population"].sum()
    assert r["township_people_per_vice_president"][0, 0, 0] == pytest.approx(t0_pop)


def test_posts_table_is_tidy_and_matches_the_arrays():
    st = staffing(make_pop(), make_pa())
    tab = posts_table(st)
    assert list(tab.columns) == ["year", "county_code", "township_code", "village_code", "level", "post", "posts"]
    assert len(tab) == len(YEARS) * (2 * 4 + 3 + 7)
    per_year = tab.groupby("year")["posts"].sum().to_numpy()
    np.testing.assert_allclose(per_year, st.county_all_posts[0].sum(axis=-1))
    village_rows = tab[(tab.level == "village") & (tab.year == 2006)]
    assert village_rows.set_index("village_code")["posts"].to_dict()["v1"] == 1


def test_village_township_and_county_tables_agree():
    st = staffing(make_pop(), make_pa())
    v, t, c = village_table(st), township_table(st), county_table(st)
    assert v["at_or_above_threshold"].dtype == bool
    assert v.groupby("year")["vice_presidents"].sum().equals(t.groupby("year")["village_vice_presidents"].sum())
    np.testing.assert_allclose(c.groupby("year")["population"].sum(), t.groupby("year")["population"].sum())
    np.testing.assert_allclose(c["total_posts"], c["county_posts"] + c["township_vice_presidents"] + c["village_vice_presidents"])


def test_group_sum_handles_empty_groups_and_unsorted_members():
    values = np.array([[1.0, 2.0, 3.0, 4.0]])
    np.testing.assert_array_equal(group_sum(values, np.array([2, 0, 2, 0]), 4), [[6.0, 0.0, 4.0, 0.0]])


def test_missing_parameters_are_all_named():
    pa = ParamArrays(YEARS, {p: np.ones((1, 3)) for p in STAFFING_PATHS[2:]})
    with pytest.raises(ParameterError) as err:
        staffing(make_pop(), pa)
    assert [p.location for p in err.value.problems] == list(STAFFING_PATHS[:2])


def test_population_array_of_the_wrong_shape_is_a_register_error():
    pop = make_pop()
    pop.village_pop = pop.village_pop[:, :, :5]
    with pytest.raises(RegisterError, match=r"village_pop.*\(N, 3, 7\)"):
        staffing(pop, make_pa())


def test_parameters_for_other_years_are_rejected():
    pa = make_pa()
    other = ParamArrays(YEARS + 1, dict(pa.data))
    with pytest.raises(ParameterError, match="years"):
        staffing(make_pop(), other)


def test_mismatched_parameter_set_counts_are_rejected():
    pop = make_pop()
    pop.village_pop = np.concatenate([pop.village_pop] * 3)
    with pytest.raises(ParameterError, match="parameter sets"):
        staffing(pop, make_pa(**{"village.vice_president.population_threshold": [500, 400]}))


def test_migrant_association_size_of_zero_is_rejected_with_its_key():
    with pytest.raises(ParameterError) as err:
        staffing(make_pop(), make_pa(**{"migrants.association.in_migrants_per_association": 0}))
    assert err.value.problems[0].location == "migrants.yaml:association.in_migrants_per_association"


def village_major(a: np.ndarray) -> np.ndarray:
    """The same values as ``a`` (N, T, M), laid out member-major in memory (as the
    population engine's village arrays are)."""
    return np.ascontiguousarray(np.moveaxis(a, -1, 0)).transpose(1, 2, 0)


def test_group_sums_in_cache_blocks_equal_the_simple_sums(monkeypatch):
    """One equivalence test of the blocked sums (qzfp.model.arrays.group_sum) against plain
    numpy sums, for the layouts, factors and group shapes the engines use."""
    rng = np.random.default_rng(7)
    sizes = rng.integers(0, 40, size=60)
    sizes[[5, 17]] = [0, 900]  # an empty group and one group larger than any block
    index = np.repeat(np.arange(len(sizes)), sizes)
    values = rng.lognormal(7, 1, size=(2, 3, len(index)))
    simple = np.zeros((2, 3, len(sizes)))
    np.add.at(simple, (slice(None), slice(None), index), values)
    monkeypatch.setattr(arrays_module, "GROUP_BLOCK_BYTES", 6 * 8 * 50)  # blocks of 50 members
    mask = rng.random(len(index)) < 0.6  # e.g. rural villages
    masked = np.zeros_like(simple)
    np.add.at(masked, (slice(None), slice(None), index), values * mask)
    shuffled = rng.permutation(len(index))  # unsorted members: the factor follows its member
    for x in (values, village_major(values)):  # C order and member-major (the engine's)
        np.testing.assert_allclose(group_sum(x, index, len(sizes)), simple, rtol=1e-12)
        np.testing.assert_allclose(group_sum(x, index, len(sizes), mask), masked, rtol=1e-12)
        np.testing.assert_allclose(group_sum(x[..., shuffled], index[shuffled], len(sizes), mask[shuffled]),
                                   masked, rtol=1e-12)
    above = values > np.exp(7)  # a boolean array: counts of members per group
    counts = [[np.bincount(index, above[i, j], len(sizes)) for j in range(3)] for i in range(2)]
    np.testing.assert_array_equal(group_sum(village_major(above), index, len(sizes)), counts)


def test_city_ratios_alone_equal_those_of_the_full_ratios():
    pop = make_pop()
    st = staffing(pop, make_pa(**{"village.vice_president.population_threshold": [500, 900]}))
    full, city = staffing_ratios(st), city_staffing_ratios(st)
    assert set(city) == {"posts_per_10000", "villages_without_village_vp", "people_without_village_vp"}
    for k, v in city.items():
        np.testing.assert_array_equal(v, full[k])
    # threshold 900 in the first year: villages of 499, 500, 320, 800, 150 people lack a post
    assert city["villages_without_village_vp"][1, 0] == 5
    assert city["people_without_village_vp"][1, 0] == 499 + 500 + 320 + 800 + 150
    total = VILLAGES["population"].sum()
    assert city["posts_per_10000"][1, 0] == pytest.approx((2 * 5 + 3 + 2) / total * 1e4)


def test_aggregates_kept_on_a_staffing_result_are_computed_once_and_read_only():
    st = staffing(make_pop(), make_pa())
    assert st.county_all_posts is st.county_all_posts
    for name in ("township_vice_presidents", "county_total_posts", "township_village_vice_presidents",
                 "township_total_posts", "county_all_posts"):
        with pytest.raises(ValueError, match="read-only"):
            getattr(st, name)[...] = 0
    np.testing.assert_array_equal(
        st.county_all_posts, st.county_total_posts + st.to_county(st.township_total_posts))


@pytest.mark.parametrize("village_major", [False, True])
def test_the_compiled_village_rule_gives_the_posts_of_the_formula_for_every_parameter_set(village_major):
    # four parameter sets (rounding 0, 1, 10 persons; thresholds 300-600; 1 or 2 posts) on
    # populations with halves and near-threshold values, laid out C-order or village-major
    # (the layout of the population engine's village arrays)
    rng = np.random.default_rng(7)
    n_v = 40
    populations = np.round(rng.uniform(280, 620, size=n_v) * 2) / 2  # many exact halves
    villages = _fractional_villages(list(populations))
    pop = make_pop(growth=0.013, villages=villages)
    if village_major:
        mem = np.ascontiguousarray(pop.village_pop.transpose(2, 0, 1))  # (V, N, T) in memory
        pop.village_pop = mem.transpose(1, 2, 0)
    rounding, threshold, posts = [0, 1, 10, 1], [300, 500, 450, 600], [1, 1, 2, 1]
    pa = make_pa(**{"village.vice_president.population_rounding": rounding,
                    "village.vice_president.population_threshold": threshold,
                    "village.vice_president.posts_per_village": posts})
    st = staffing(pop, pa)
    for i in range(4):
        step = rounding[i]
        counted = pop.village_pop[0] if step == 0 else np.round(pop.village_pop[0] / step) * step
        np.testing.assert_array_equal(st.village_pop_counted[i], counted)
        np.testing.assert_array_equal(st.at_or_above_threshold[i], counted >= threshold[i])
        np.testing.assert_array_equal(st.village_vice_presidents[i], np.where(counted >= threshold[i], posts[i], 0.0))


def test_village_totals_of_the_summary_add_villages_in_numpys_order_for_either_layout():
    from qzfp.model.arrays import unit_sum

    rng = np.random.default_rng(11)
    mem = rng.lognormal(7.0, 0.6, size=(3001, 2, 17))  # (V, N, T + 1): the village-major layout
    for values in (mem.transpose(1, 2, 0)[1, :16], np.ascontiguousarray(mem.transpose(1, 2, 0)[1, :16])):
        np.testing.assert_array_equal(unit_sum(values), values.sum(axis=-1))  # to the last bit
        counts = unit_sum(values > 1000.0)
        np.testing.assert_array_equal(counts, (values > 1000.0).sum(axis=-1))
        assert counts.dtype == np.int64


def test_a_sum_of_arrays_that_cannot_change_is_kept_and_a_sum_of_changeable_ones_is_not(monkeypatch):
    calls = []
    compute = arrays_module._group_sum
    monkeypatch.setattr(arrays_module, "_group_sum", lambda *a: calls.append(1) or compute(*a))
    index = np.array([0, 0, 1, 2, 2])
    index.setflags(write=False)
    base = np.arange(10.0).reshape(2, 5)
    frozen = base.copy()
    frozen.setflags(write=False)
    first = group_sum(frozen[None], index, 3)
    again = group_sum(frozen[None], index, 3)  # a new view of the same unchangeable memory
    assert len(calls) == 1 and np.array_equal(first, again) and again.flags.writeable
    again[...] = -1.0  # the caller's copy: the kept sum is not changed
    np.testing.assert_array_equal(group_sum(frozen[None], index, 3), [[[1, 2, 7], [11, 7, 17]]])
    view = base.view()  # read-only, but its memory can change through `base`
    view.setflags(write=False)
    group_sum(view, index, 3)
    base[0, 0] = 100.0
    np.testing.assert_array_equal(group_sum(view, index, 3)[0], [101, 2, 7])  # summed again
    assert len(calls) == 3


def test_the_rural_mask_is_one_read_only_array_per_register_and_follows_its_villages():
    from qzfp.model.engine import rural_villages

    reg = make_register()
    mask = rural_villages(reg)
    np.testing.assert_array_equal(mask, ~VILLAGES["urban"].to_numpy())
    assert rural_villages(reg) is mask and not mask.flags.writeable
    reg.villages = VILLAGES.assign(urban=True)  # another villages table: another mask
    assert not rural_villages(reg).any()


def test_a_run_on_the_same_unchangeable_population_and_threshold_reads_the_same_flags():
    pop = make_pop()
    pop.village_pop.setflags(write=False)  # as the kept projection's village arrays are
    first = staffing(pop, make_pa())
    again = staffing(pop, make_pa())
    assert again.at_or_above_threshold is first.at_or_above_threshold
    assert again.villages_without_vp is first.villages_without_vp
    other = staffing(pop, make_pa(**{"village.vice_president.population_threshold": 1000}))
    assert other.at_or_above_threshold is not first.at_or_above_threshold
    np.testing.assert_array_equal(other.at_or_above_threshold[0, 0], VILLAGES["population"] >= 1000)


def test_flags_of_a_population_that_can_change_are_computed_again():
    pop = make_pop()
    first = staffing(pop, make_pa()).at_or_above_threshold[0, 0].copy()
    pop.village_pop[0, 0, 0] = 5000.0  # the 499-person village grows past the threshold in place
    again = staffing(pop, make_pa())
    assert not first[0] and again.at_or_above_threshold[0, 0, 0]


@pytest.mark.parametrize("posts", [1, 2, 0.3])
def test_sums_of_the_village_posts_are_those_of_the_posts_array_to_the_last_bit(posts):
    st = staffing(make_pop(), make_pa(**{"village.vice_president.posts_per_village": posts}))
    reg = st.register
    whole_posts = st.village_vice_presidents
    np.testing.assert_array_equal(whole_posts[0, 0], np.where(VILLAGES["population"] >= 500, posts, 0.0))
    assert np.array_equal(st.to_township(st.village_posts), group_sum(whole_posts, reg.village_township, 3))
    assert np.array_equal(st.village_to_county(st.village_posts), group_sum(whole_posts, reg.village_county, 2))
    counted = st.village_posts.exact_group_sum(reg.village_county, 2, None)
    assert (counted is None) == (posts == 0.3)  # whole posts are counted; 0.3 posts are added up
