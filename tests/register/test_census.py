"""The census table: loading and checking it, looking a division up, the single-year split."""

from __future__ import annotations

import numpy as np
import pytest
from census_files import census_rows, write_census, write_counts  # tests/census_files.py

from qzfp.register.census import (
    GROUP_STARTS,
    CensusError,
    load_census,
    split_single_years,
)


def test_the_shipped_table_reports_its_two_rows_whose_age_groups_do_not_sum_to_the_resident_total():
    census = load_census()
    assert len(census.codes) == 3221
    # data/SOURCES.md: 211422 off by 30,000 and 430407 off by 6
    notes = {n.message.split()[1]: n for n in census.notes}
    assert set(notes) == {"211422", "430407"}
    assert "+30,000" in notes["211422"].message and "-6" in notes["430407"].message
    line = [i for i, r in enumerate(census_rows(), start=2) if r["code"] == "211422"][0]
    assert notes["211422"].location.endswith(f":{line}")


def test_a_census_table_with_a_missing_column_or_a_bad_value_is_refused_with_file_and_line(tmp_path):
    rows = census_rows()[:3]
    bad = dict(rows[1], m_0="-5")
    path = write_census(tmp_path / "bad.csv", [rows[0], bad, dict(rows[2], code="12AB")])
    with pytest.raises(CensusError) as err:
        load_census(path, "2020-11-01")
    text = str(err.value)
    assert text.splitlines() == [f"{path}:3: m_0 -5 is negative (expected a number ≥ 0)",
                                 f'{path}:4: code "12AB" is not a 6-digit division code']
    (tmp_path / "short.csv").write_text("code,name_zh\n110000,北京\n", encoding="utf-8")
    with pytest.raises(CensusError, match="short.csv:1: missing column"):
        load_census(tmp_path / "short.csv", "2020-11-01")
    with pytest.raises(CensusError, match="census date"):
        load_census(path)


def test_a_code_missing_from_the_table_falls_back_to_its_prefecture_province_or_the_nation():
    census = load_census()
    rows = census.lookup(np.array(["330802", "330899", "339999", "990101"]))
    assert list(rows.source) == ["county", "prefecture", "province", "national"]
    assert list(rows.source_code) == ["330802", "330800", "330000", "000000"]
    provinces = [r for r in census_rows() if r["level"] == "province"]
    assert rows.resident[3] == sum(int(r["resident"]) for r in provinces)
    assert rows.groups[3, 1, 0] == sum(int(r["f_0"]) for r in provinces)


def _counts_row(row: dict[str, str], **changes: object) -> dict[str, object]:
    """A row of the counts layout (2020 census) made from a row of the shipped table."""
    out: dict[str, object] = {k: v for k, v in row.items() if k in ("code", "name_zh", "resident", "urban")
                              or k[:2] in ("m_", "f_")}
    out.update(province="p", prefecture="q")
    out.update(changes)
    return out


def test_a_table_of_resident_counts_only_is_read_with_its_levels_from_the_codes(tmp_path):
    rows = census_rows()
    by_code = {r["code"]: r for r in rows}
    picked = [by_code[c] for c in ("330000", "330800", "330802")]
    path = write_counts(tmp_path / "c2020.csv", [_counts_row(r) for r in picked])
    census = load_census(path, "2020-11-01")
    assert census.layout == "counts"
    assert list(census.levels) == ["province", "prefecture", "county"]
    assert census.resident[2] == float(by_code["330802"]["resident"])
    assert census.groups[2, 1, 0] == float(by_code["330802"]["f_0"])
    assert np.isnan(census.registered).all() and np.isnan(census.birth_rate).all()


def test_a_row_with_an_empty_count_is_left_out_with_a_located_note_not_read_as_zero(tmp_path):
    rows = census_rows()[:3]
    path = write_counts(tmp_path / "c2020.csv", [_counts_row(rows[0]), _counts_row(rows[1], f_0=""),
                                                  _counts_row(rows[2])])
    census = load_census(path, "2020-11-01")
    assert list(census.codes) == [rows[0]["code"], rows[2]["code"]]
    assert len(census.notes) == 1
    assert census.notes[0].location == f"{path}:3" and "f_0" in census.notes[0].message


def test_a_table_of_counts_only_is_refused_as_the_base_of_a_projection(tmp_path):
    path = write_counts(tmp_path / "c2020.csv", [_counts_row(r) for r in census_rows()[:3]])
    census = load_census(path, "2020-11-01")
    with pytest.raises(CensusError) as err:
        census.require_full("s.yaml:census")
    assert str(err.value).startswith("s.yaml:census: ") and "counts residents only" in str(err.value)


# --- the single-year split -----------------------------------------------------------------


def test_the_single_year_split_sums_back_to_every_census_group_of_every_row_exactly():
    census = load_census()
    single = split_single_years(census.groups, np.ones(46))
    edges = list(GROUP_STARTS) + [101]
    for g, (a, b) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        np.testing.assert_allclose(single[..., a:b].sum(axis=-1), census.groups[..., g], rtol=1e-12, atol=1e-6)
    assert single.min() >= 0


def test_a_uniform_age_distribution_is_split_into_equal_single_years():
    # 100 people in each year of age 0..84: groups of 100 x width; the cumulative is a line,
    # which the monotone spline reproduces exactly
    widths = np.diff(GROUP_STARTS)  # the 18 closed groups
    groups = np.concatenate([100.0 * widths, [460.0]])
    single = split_single_years(groups, np.ones(46))
    np.testing.assert_allclose(single[:85], 100.0, rtol=1e-12)
    np.testing.assert_allclose(single[85:100], 10.0)  # 460 over 46 equal weights of ages 85..130
    assert single[100] == pytest.approx(310.0)
