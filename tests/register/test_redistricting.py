"""Tests of qzfp.register.redistricting: township merges, merges to a target size, village consolidation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qzfp.errors import RegisterError
from qzfp.register import example_plan_path, load_register
from qzfp.register.redistricting import consolidate_villages, merge_to_target, merge_townships

SMALL = Path(__file__).resolve().parents[1] / "data" / "registers" / "small"


@pytest.fixture(scope="module")
def small():
    return load_register(SMALL)


@pytest.fixture(scope="module")
def reg2006():
    return load_register()


def plan(*rows, **extra) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["old_code", "new_code"])
    for k, v in extra.items():
        df[k] = v
    return df


def test_pre2006_register_plus_shipped_plan_reproduces_the_2006_register_exactly():
    after, mapping = merge_townships(load_register(view="pre2006"),
                                     example_plan_path("pre2006", "2006"))
    expected = load_register(view="2006")
    pd.testing.assert_frame_equal(after.townships, expected.townships)
    pd.testing.assert_frame_equal(after.villages, expected.villages)
    np.testing.assert_array_equal(after.township_population(), expected.township_population())


def test_2006_register_plus_shipped_plan_reproduces_the_2022_register_exactly(reg2006):
    after, _ = merge_townships(reg2006, example_plan_path("2006", "2022"))
    expected = load_register(view="2022")
    pd.testing.assert_frame_equal(after.townships, expected.townships)
    pd.testing.assert_frame_equal(after.villages, expected.villages)


def test_absorbing_merge_keeps_the_absorbers_code_name_and_sums_population(small):
    new, mapping = merge_townships(small, plan(("330802205", "330802100")))
    t = new.townships.set_index("township_code")
    assert "330802205" not in t.index
    assert t.loc["330802100", "name_zh"] == "石梁镇"
    assert t.loc["330802100", "merged_from"] == "330802205"
    pop = pd.Series(new.township_population(), index=new.townships["township_code"])
    old = pd.Series(small.township_population(), index=small.townships["township_code"])
    assert pop["330802100"] == old["330802100"] + old["330802205"]
    assert new.village_population.sum() == small.village_population.sum()
    np.testing.assert_array_equal(mapping.aggregate(small.township_population()),
                                  new.township_population())


def test_merge_into_a_new_code_takes_the_given_name_and_its_kind(small):
    p = plan(("330803100", "330803900"), ("330803200", "330803900"),
             new_name_zh=["上方镇", "上方镇"], new_name_en=["Shangfang Town", ""])
    new, _ = merge_townships(small, p)
    t = new.townships.set_index("township_code")
    assert t.loc["330803900", "name_zh"] == "上方镇"
    assert t.loc["330803900", "kind"] == "town"
    assert t.loc["330803900", "merged_from"] == "330803100;330803200"
    assert new.n_townships == small.n_townships - 1


def test_plan_from_a_csv_file_with_chinese_headers(tmp_path, small):
    path = tmp_path / "plan.csv"
    path.write_bytes("原代码,新代码\n330802205,330802100\n".encode("gbk"))
    new, _ = merge_townships(small, path)
    assert new.n_townships == small.n_townships - 1


def test_plan_with_unknown_and_duplicate_old_codes_is_rejected_with_rows(tmp_path, small):
    path = tmp_path / "plan.csv"
    path.write_text("old_code,new_code\n330802999,330802100\n330802205,330802100\n"
                    "330802205,330802005\n", encoding="utf-8")
    with pytest.raises(RegisterError) as info:
        merge_townships(small, path)
    assert [str(p) for p in info.value.problems] == [
        f'{path}:2: old_code "330802999" is not a township of the register',
        f'{path}:4: duplicate old_code "330802205"',
    ]


def test_merge_across_counties_is_rejected(small):
    with pytest.raises(RegisterError, match="would merge townships of different counties"):
        merge_townships(small, plan(("330803200", "330802100")))


def test_new_code_without_a_name_is_rejected(small):
    with pytest.raises(RegisterError, match='new township "330803900" needs exactly one '
                                            "new_name_zh"):
        merge_townships(small, plan(("330803200", "330803900")))


def test_chained_plan_is_rejected(small):
    with pytest.raises(RegisterError, match='new_code "330802100" is itself merged into '
                                            '"330802005"'):
        merge_townships(small, plan(("330802205", "330802100"), ("330802100", "330802005")))


def test_plan_with_wrong_columns_is_rejected(small):
    with pytest.raises(RegisterError, match="merge plan columns must be"):
        merge_townships(small, pd.DataFrame({"from": ["330802205"], "to": ["330802100"]}))


def test_merge_to_target_reaches_the_target_mean_in_every_county(reg2006):
    target = 30_000
    new, mapping = merge_to_target(reg2006, target)
    old_n = np.bincount(reg2006.township_county, minlength=reg2006.n_counties)
    totals = reg2006.county_population()
    expected_n = np.minimum(old_n, np.maximum(1, totals // target))
    new_n = np.bincount(new.township_county, minlength=new.n_counties)
    np.testing.assert_array_equal(new_n, expected_n)
    assert (totals / new_n >= target).all()
    np.testing.assert_array_equal(new.county_population(), totals)
    assert set(new.townships["township_code"]) <= set(reg2006.townships["township_code"])
    np.testing.assert_array_equal(mapping.aggregate(reg2006.township_population()),
                                  new.township_population())


def test_merge_to_target_merges_smallest_into_smallest_of_same_kind_keeping_larger_code(small):
    # Kecheng: 新新街道 4000, 石梁镇 2870, 黄家乡 1080 → one merge reaches 3,975 ≥ 3,900:
    # 黄家乡 (smallest, the only xiang) joins 石梁镇 (smallest other), which keeps its code.
    new, _ = merge_to_target(small, 3_900)
    t = new.townships.set_index("township_code")
    assert list(t.index[t["county_code"] == "330802"]) == ["330802005", "330802100"]
    assert t.loc["330802100", "merged_from"] == "330802205"
    # Qujiang: 1,880 people can never reach 3,900 per unit → a single unit, the larger code.
    assert list(t.index[t["county_code"] == "330803"]) == ["330803100"]


def test_merge_to_target_is_deterministic(reg2006):
    a, _ = merge_to_target(reg2006, 40_000)
    b, _ = merge_to_target(reg2006, 40_000)
    pd.testing.assert_frame_equal(a.townships, b.townships)


@pytest.mark.parametrize("target", [0, -5, float("nan")])
def test_merge_to_target_rejects_a_non_positive_target(small, target):
    with pytest.raises(RegisterError, match="must be a positive number"):
        merge_to_target(small, target)


def test_consolidate_villages_merges_small_villages_into_smallest_large_one(small):
    new, mapping = consolidate_villages(small, 500)
    v = new.villages.set_index("village_code")
    # 石梁镇: 东山村 450 and 南塘村 300 go to 西溪村 620 (smallest village ≥ 500).
    assert v.loc["330802100202", "population"] == 620 + 450 + 300
    assert v.loc["330802100202", "merged_from"] == "330802100201;330802100203"
    # 黄家乡: 上坞村 380 goes to 黄家村 700.
    assert v.loc["330802205201", "population"] == 700 + 380
    # 灰坪乡 has a single village of 420: it cannot be merged and is reported.
    assert v.loc["330803200201", "population"] == 420
    assert mapping.notes == ('village "330803200201" (420 people) could not be merged: it is '
                             'the only village of township "330803200"',)
    np.testing.assert_array_equal(mapping.aggregate(small.village_population),
                                  new.village_population)
    np.testing.assert_array_equal(new.township_population(), small.township_population())


def test_consolidate_villages_combines_a_township_without_any_large_village(small):
    new, mapping = consolidate_villages(small, 1_000)
    v = new.villages.set_index("village_code")
    # 上方镇 (950, 510): none reaches 1,000 → combined into the larger 上方村.
    assert v.loc["330803100201", "population"] == 950 + 510
    assert any("330803100" in n and "combined into" in n for n in mapping.notes)


def test_consolidate_villages_on_the_example_leaves_none_below_the_threshold(reg2006):
    new, mapping = consolidate_villages(reg2006, 500)
    assert new.n_villages < reg2006.n_villages
    assert new.village_population.min() >= 500 or mapping.notes
    assert new.villages["in_migrants"].sum() == reg2006.villages["in_migrants"].sum()


def test_consolidate_villages_rejects_a_negative_threshold(small):
    with pytest.raises(RegisterError, match="whole number ≥ 0"):
        consolidate_villages(small, -1)


def test_mapping_aggregate_sums_any_array_exactly_along_either_axis(reg2006):
    new, mapping = merge_to_target(reg2006, 35_000)
    rng = np.random.default_rng(1)
    by_township = rng.integers(0, 1_000, size=(3, 4, reg2006.n_townships))
    expected = np.zeros((3, 4, new.n_townships), dtype=by_township.dtype)
    for old, new_i in enumerate(mapping.township):
        expected[..., new_i] += by_township[..., old]
    np.testing.assert_array_equal(mapping.aggregate(by_township, axis=2), expected)
    by_village = rng.integers(0, 100, size=(reg2006.n_villages, 2))
    np.testing.assert_array_equal(mapping.aggregate(by_village, axis=0, level="village"),
                                  by_village)
    with pytest.raises(ValueError, match="cannot tell"):
        mapping.aggregate(np.zeros(7))
