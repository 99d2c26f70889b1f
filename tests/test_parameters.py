"""Tests of the dated rulebook (qzfp.rules.rulebook) and of the shipped rule values."""

from __future__ import annotations

import datetime as dt
import re
import textwrap
from pathlib import Path

import numpy as np
import pytest

from qzfp.errors import ParameterError
from qzfp.rules.rulebook import Rulebook, load_rulebook

OWN_FILES = (
    "village",
    "township",
    "county",
    "training",
    "elections",
    "activities",
    "migrants",
    "reward_assistance",
    "shaoshengkuaifu",
    "insurance",
    "members",
)


@pytest.fixture(scope="module")
def rb() -> Rulebook:
    return load_rulebook()


def write_rulebook(tmp_path: Path, files: dict[str, str]) -> Path:
    d = tmp_path / "policy"
    d.mkdir(exist_ok=True)
    for name, text in files.items():
        (d / f"{name}.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return d


ALLOWANCE = """
vice_president:
  allowance:
    description: Monthly allowance
    unit: yuan/month
    values:
      2004-01-01: {value: 60, reference: "衢委办[2004]38号"}
      '2008-07-01': {value: 100, reference: "assumption: test"}
"""


def problems_of(directory: Path) -> list[str]:
    with pytest.raises(ParameterError) as info:
        load_rulebook(directory)
    return [str(p) for p in info.value.problems]


# ---------------------------------------------------------------- the shipped rules


def test_village_threshold_is_500_people_from_2006(rb):
    p = rb.get("village.vice_president.population_threshold")
    assert p.value_in_year(2006) == 500
    assert p.value_in_year(2021) == 500
    assert "衢委办[2006]101号" in p.values[0].reference
    assert p.values[0].note  # the effective date is explained


def test_village_allowance_is_60_yuan_a_month_from_2004_under_38hao(rb):
    p = rb.get("village.vice_president.allowance")
    for year in (2004, 2006, 2015):
        assert p.value_in_year(year) == 60
    assert p.unit == "yuan/month"
    assert "衢委办[2004]38号" in p.values[0].reference


def test_one_vice_president_per_village_township_and_county(rb):
    for path in (
        "village.vice_president.posts_per_village",
        "township.vice_president.posts_per_township",
        "county.president.posts",
        "county.vice_president.posts",
        "county.secretary_general.posts",
    ):
        assert rb.value_in_year(path, 2006) == 1, path
        assert rb.get(path).unit == "post"


def test_extra_township_posts_are_off_in_the_baseline(rb):
    assert rb.value_in_year("township.vice_president.extra_post_population_step", 2010) == 0


def test_reward_assistance_is_600_until_2011_and_960_from_2012(rb):
    p = rb.get("reward_assistance.amount")
    assert p.value_in_year(2004) == 600
    assert p.value_in_year(2005) == 600
    assert p.value_in_year(2011) == 600
    assert p.value_in_year(2012) == 960
    # where the 960 yuan was read is the rule's note (for whoever maintains the rulebook);
    # the reference that reports and proposals cite names the scheme, not that report
    assert "Tianjin" in p.values[-1].note and "Tianjin" not in p.values[-1].reference
    assert "天津" not in p.values[-1].reference_zh
    assert rb.value_in_year("reward_assistance.eligibility_age", 2006) == 60


def test_re_elections_start_in_2007_every_five_years(rb):
    assert rb.value_in_year("elections.first_year", 2006) == 2007
    assert rb.value_in_year("elections.interval_years", 2006) == 5


def test_dated_activities_happen_once_a_year(rb):
    for path in (
        "activities.members_day.events_per_year",
        "activities.world_population_day.events_per_year",
        "activities.spring_festival.events_per_year",
    ):
        assert rb.value_in_year(path, 2006) == 1


def test_townships_train_village_vice_presidents(rb):
    assert rb.value_in_year("training.village_cadres_included", 2006) is True


def test_every_value_of_the_own_rulebook_files_has_a_reference_and_assumptions_give_a_reason(rb):
    own = [p for p in rb.paths() if p.split(".")[0] in OWN_FILES]
    assert len(own) >= 35
    for path in own:
        p = rb.get(path)
        assert p.unit and p.description
        for dv in p.values:
            assert dv.reference
            if dv.reference.lower().startswith("assumption"):
                assert len(dv.reference) > len("assumption: ") + 20, path


def test_shares_are_bounded_by_one(rb):
    for path in rb.paths():
        p = rb.get(path)
        if p.unit == "share":
            assert p.max == 1.0


# ---------------------------------------------------------------- dates and series


def test_a_change_dated_mid_year_applies_from_the_next_year(tmp_path):
    rb = load_rulebook(write_rulebook(tmp_path, {"village": ALLOWANCE}))
    p = rb.get("village.vice_president.allowance")
    assert p.value_in_year(2008) == 60
    assert p.value_in_year(2009) == 100
    assert p.value_at(dt.date(2008, 7, 1)) == 100
    assert p.value_at(dt.date(2008, 6, 30)) == 60


def test_series_gives_the_value_on_1_january_of_each_year(tmp_path):
    rb = load_rulebook(write_rulebook(tmp_path, {"village": ALLOWANCE}))
    years = np.arange(2006, 2012)
    expected = np.where(years >= 2009, 100.0, 60.0)
    np.testing.assert_array_equal(
        rb.get("village.vice_president.allowance").series(years), expected
    )


def test_asking_for_a_year_before_the_first_value_is_an_error(tmp_path):
    rb = load_rulebook(write_rulebook(tmp_path, {"village": ALLOWANCE}))
    with pytest.raises(ParameterError, match="no value in force on 2003-01-01"):
        rb.get("village.vice_president.allowance").value_in_year(2003)
    with pytest.raises(ParameterError, match="2004-01-01"):
        rb.get("village.vice_president.allowance").series([2003, 2004])


def test_param_arrays_hold_numbers_and_bools_as_one_by_t_floats(tmp_path):
    flag = """
    included:
      description: a flag
      unit: bool
      values:
        2000-01-01: {value: true, reference: x}
    label:
      description: a text
      unit: code
      values:
        2000-01-01: {value: abc, reference: x}
    """
    rb = load_rulebook(write_rulebook(tmp_path, {"village": ALLOWANCE, "training": flag}))
    pa = rb.to_param_arrays(range(2007, 2011))
    assert pa["village.vice_president.allowance"].shape == (1, 4)
    np.testing.assert_array_equal(pa["village.vice_president.allowance"][0], [60, 60, 100, 100])
    np.testing.assert_array_equal(pa["training.included"], [[1.0, 1.0, 1.0, 1.0]])
    assert "training.label" not in pa
    with pytest.raises(ParameterError, match="text parameter"):
        rb.to_param_arrays([2007], ["training.label"])


def test_the_packaged_rulebook_gives_arrays_for_the_baseline_years(rb):
    pa = rb.to_param_arrays(range(2006, 2022))
    assert pa.n == 1 and pa.t == 16
    assert pa["reward_assistance.amount"][0, 2012 - 2006] == 960


# ---------------------------------------------------------------- lookup, explain, tree


def test_unknown_path_suggests_the_closest_one(rb):
    with pytest.raises(ParameterError, match=r"did you mean 'village\.vice_president\.allowance'"):
        rb.get("village.vice_president.allowence")


def test_a_namespace_path_lists_its_parameters(rb):
    with pytest.raises(ParameterError, match="is a namespace"):
        rb.get("village.vice_president")


def test_explain_shows_description_unit_and_history_with_references_newest_last(rb):
    text = rb.explain("reward_assistance.amount")
    assert text.splitlines()[0] == "reward_assistance.amount"
    assert "yuan/person/year" in text
    assert text.index("2004-01-01") < text.index("2012-01-01")
    assert "Tianjin" in text


def test_tree_lists_every_parameter_with_unit_and_latest_value_by_namespace(rb):
    text = rb.tree()
    assert "village  (" in text
    line = next(s for s in text.splitlines() if "vice_president.population_threshold" in s)
    assert "500 person" in line
    assert "960 yuan/person/year" in text
    for path in rb.paths():
        assert path.split(".", 1)[1] in text


# ---------------------------------------------------------------- overrides


def test_scalar_override_applies_from_its_start_and_keeps_earlier_history(tmp_path):
    rb = load_rulebook(write_rulebook(tmp_path, {"village": ALLOWANCE}))
    new = rb.with_override("village.vice_president.allowance", 80, "test", start="2006-01-01")
    p = new.get("village.vice_president.allowance")
    assert [p.value_in_year(y) for y in (2005, 2006, 2010)] == [60, 80, 80]
    assert p.values[-1].reference == "test"
    # the original rulebook is unchanged
    assert rb.value_in_year("village.vice_president.allowance", 2010) == 100


def test_scalar_override_without_start_replaces_the_whole_history(tmp_path):
    rb = load_rulebook(write_rulebook(tmp_path, {"village": ALLOWANCE}))
    p = rb.with_override("village.vice_president.allowance", 70).get(
        "village.vice_president.allowance"
    )
    assert [dv.value for dv in p.values] == [70]
    assert p.values[0].start == dt.date(2004, 1, 1)


def test_dated_override_supersedes_later_rulebook_values(tmp_path):
    rb = load_rulebook(write_rulebook(tmp_path, {"village": ALLOWANCE}))
    new = rb.with_override(
        "village.vice_president.allowance",
        {"2007-01-01": 90, dt.date(2010, 1, 1): {"value": 120, "reference": "why"}},
        "scenario",
    )
    p = new.get("village.vice_president.allowance")
    # rulebook 60 before 2007, override 90 from 2007 (the rulebook's 100 of 2008-07-01 is gone)
    assert [p.value_in_year(y) for y in (2006, 2007, 2009, 2010)] == [60, 90, 90, 120]
    assert [dv.reference for dv in p.values] == ["衢委办[2004]38号", "scenario", "why"]
    assert "village.vice_president.allowance" in new.overridden
    assert "scenario override" in new.explain("village.vice_president.allowance")


def test_override_is_type_and_range_checked(tmp_path):
    rb = load_rulebook(write_rulebook(tmp_path, {"village": ALLOWANCE}))
    path = "village.vice_president.allowance"
    with pytest.raises(ParameterError, match="negative amount"):
        rb.with_override(path, -5)
    with pytest.raises(ParameterError, match="expected a number"):
        rb.with_override(path, "sixty")
    with pytest.raises(ParameterError, match="expected a number"):
        rb.with_override(path, True)
    with pytest.raises(ParameterError, match="unparseable date"):
        rb.with_override(path, {"2008-13-01": 5})
    with pytest.raises(ParameterError, match="empty dated override"):
        rb.with_override(path, {})
    with pytest.raises(ParameterError, match="did you mean"):
        rb.with_override("village.vice_president.alowance", 5)


def test_overridden_rulebook_changes_its_hash(tmp_path):
    rb = load_rulebook(write_rulebook(tmp_path, {"village": ALLOWANCE}))
    assert rb.with_override("village.vice_president.allowance", 61).sha256 != rb.sha256


# ---------------------------------------------------------------- strict loading


def param(body: str, values: str = "2004-01-01: {value: 1, reference: x}") -> str:
    return (
        "p:\n"
        + textwrap.indent(textwrap.dedent(body), "  ")
        + "  values:\n"
        + textwrap.indent(values, "    ")
        + "\n"
    )


@pytest.mark.parametrize(
    ("text", "location", "message"),
    [
        (
            param("description: d\nunit: u\ncolour: red\n"),
            "x.yaml:p.colour",
            "unknown key 'colour'",
        ),
        (param("unit: u\n"), "x.yaml:p.description", "missing description"),
        (param("description: d\n"), "x.yaml:p.unit", "missing unit"),
        ("p:\n  description: d\n  unit: u\n", "x.yaml:p.values", "missing values"),
        ("p:\n  description: d\n  unit: u\n  values: {}\n", "x.yaml:p.values", "empty values"),
        (
            param("description: d\nunit: u\n", "2004-01-01: {value: 1}"),
            "x.yaml:p.values.2004-01-01.reference",
            "missing reference",
        ),
        (
            param("description: d\nunit: u\n", "2004-01-01: {reference: r}"),
            "x.yaml:p.values.2004-01-01.value",
            "missing value",
        ),
        (
            param("description: d\nunit: u\n", "2004-01-01: {value: 1, reference: r, source: s}"),
            "x.yaml:p.values.2004-01-01.source",
            "unknown key 'source'",
        ),
        (
            param("description: d\nunit: u\n", "2004-01-01: 5"),
            "x.yaml:p.values.2004-01-01",
            "expected {value: ..., reference: ...}",
        ),
        (
            param("description: d\nunit: u\n", "2004-01-01: {value: -60, reference: r}"),
            "x.yaml:p.values.2004-01-01.value",
            "negative amount",
        ),
        (
            param("description: d\nunit: u\nmax: 10\n", "2004-01-01: {value: 11, reference: r}"),
            "x.yaml:p.values.2004-01-01.value",
            "above the maximum 10",
        ),
        (
            param("description: d\nunit: u\nmin: 5\n", "2004-01-01: {value: 4, reference: r}"),
            "x.yaml:p.values.2004-01-01.value",
            "below the minimum 5",
        ),
        (
            param("description: d\nunit: share\n", "2004-01-01: {value: 1.5, reference: r}"),
            "x.yaml:p.values.2004-01-01.value",
            "above the maximum 1",
        ),
        (
            param("description: d\nunit: u\n", "2004-01-01: {value: [1, 2], reference: r}"),
            "x.yaml:p.values.2004-01-01.value",
            "got a list",
        ),
        (
            param("description: d\nunit: u\n", "2004-01-01: {value: {a: 1}, reference: r}"),
            "x.yaml:p.values.2004-01-01.value",
            "got a mapping",
        ),
        (
            param(
                "description: d\nunit: u\n",
                "2004-01-01: {value: 1, reference: r}\n2005-01-01: {value: a, reference: r}",
            ),
            "x.yaml:p.values",
            "mixed value types",
        ),
        (
            param(
                "description: d\nunit: code\nchoices: [a, b]\n",
                "2004-01-01: {value: c, reference: r}",
            ),
            "x.yaml:p.values.2004-01-01.value",
            "'c' is not one of ['a', 'b']",
        ),
        (
            param("description: d\nunit: u\n", "2004-02-30: {value: 1, reference: r}"),
            "x.yaml:p.values.2004-02-30",
            "unparseable date",
        ),
        (
            param("description: d\nunit: u\n", "soon: {value: 1, reference: r}"),
            "x.yaml:p.values.soon",
            "unparseable date",
        ),
        (
            param("description: d\nunit: u\n", "2004: {value: 1, reference: r}"),
            "x.yaml:p.values.2004",
            "unparseable date",
        ),
        (
            param("description: d\nunit: u\n", "2004-01-01: {value: 1, reference: r, reference_zh: 5}"),
            "x.yaml:p.values.2004-01-01.reference_zh",
            "expected a non-empty text, got int 5",
        ),
        (
            param("description: d\nunit: u\n", '2004-01-01: {value: 1, reference: r, reference_zh: " "}'),
            "x.yaml:p.values.2004-01-01.reference_zh",
            "expected a non-empty text",
        ),
        (
            param("description: d\nunit: u\n",
                  '2004-01-01: {value: 1, reference: "assumption: why", reference_zh: "原因"}'),
            "x.yaml:p.values.2004-01-01.reference_zh",
            "the reference is an assumption, so the Chinese one starts with '假设：'",
        ),
        (
            param("description: d\nunit: u\n",
                  '2004-01-01: {value: 1, reference: "a document", reference_zh: "假设：原因"}'),
            "x.yaml:p.values.2004-01-01.reference_zh",
            "starts with '假设：' but the reference is not an assumption",
        ),
        (
            param("description: d\nunit: u\n", "2004-01-01: {value: 1, reference: r, referenc_zh: x}"),
            "x.yaml:p.values.2004-01-01.referenc_zh",
            "unknown key 'referenc_zh' (did you mean 'reference_zh'?)",
        ),
        (param("description: d\nunit: u\nmin: low\n"), "x.yaml:p.min", "expected a number"),
        (
            param("description: d\nunit: code\nchoices: [1, a]\n", "2004-01-01: {value: a, reference: r}"),
            "x.yaml:p.choices.0",
            "expected a text, got int 1",
        ),
        (
            param("description: d\nunit: u\n", "2004-01-01: {value: 1, reference: 3}"),
            "x.yaml:p.values.2004-01-01.reference",
            "expected a non-empty text, got int 3",
        ),
        (
            param(
                "description: d\nunit: u\n",
                "2004-01-01: {value: 1, reference: r}\n'2004-01-01': {value: 2, reference: r}",
            ),
            "x.yaml:p.values.2004-01-01",
            "two values with the same date",
        ),
        (param("description: 5\nunit: u\n"), "x.yaml:p.description", "expected a non-empty text"),
        ("p: 5\n", "x.yaml:p", "expected a parameter"),
        ("p: {}\n", "x.yaml:p", "empty namespace"),
        ("p:\n  description: a\n  description: b\n", "x.yaml:3", "duplicate key 'description'"),
        ("p: [unclosed\n", "x.yaml:", "invalid YAML"),
        ("", "x.yaml", "empty file"),
    ],
)
def test_malformed_rulebook_file_is_reported_with_file_and_key_path(
    tmp_path, text, location, message
):
    d = tmp_path / "policy"
    d.mkdir()
    (d / "x.yaml").write_text(text, encoding="utf-8")
    problems = problems_of(d)
    assert any(location in p and message in p for p in problems), problems


def test_all_problems_of_all_files_are_reported_together(tmp_path):
    d = write_rulebook(
        tmp_path,
        {
            "a": param("unit: u\n"),
            "b": param("description: d\nunit: u\n", "2004-01-01: {value: -1, reference: r}"),
        },
    )
    problems = problems_of(d)
    assert any(p.startswith(str(d / "a.yaml")) or "a.yaml:p.description" in p for p in problems)
    assert any("b.yaml:p.values.2004-01-01.value" in p for p in problems)


def test_a_folder_without_yaml_files_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()
    assert any("no *.yaml" in p for p in problems_of(tmp_path / "empty"))
    assert any("not found" in p for p in problems_of(tmp_path / "missing"))


def test_string_and_yaml_dates_are_both_accepted(tmp_path):
    rb = load_rulebook(write_rulebook(tmp_path, {"village": ALLOWANCE}))
    starts = [dv.start for dv in rb.get("village.vice_president.allowance").values]
    assert starts == [dt.date(2004, 1, 1), dt.date(2008, 7, 1)]


def test_editing_a_file_is_seen_on_the_next_load(tmp_path):
    d = write_rulebook(tmp_path, {"village": ALLOWANCE})
    assert load_rulebook(d).value_in_year("village.vice_president.allowance", 2005) == 60
    (d / "village.yaml").write_text(
        textwrap.dedent(ALLOWANCE).replace("value: 60", "value: 65"), encoding="utf-8"
    )
    assert load_rulebook(d).value_in_year("village.vice_president.allowance", 2005) == 65


def test_param_arrays_know_each_value_s_unit_effective_year_and_the_years_before_the_start():
    rb = load_rulebook().with_override("village.vice_president.allowance", {"2008-07-01": 100})
    pa = rb.to_param_arrays(range(2006, 2011))
    path = "village.vice_president.allowance"
    # 60 since 2004-01-01; 100 dated 2008-07-01 is first in force on 1 January 2009
    np.testing.assert_array_equal(pa[path][0], [60, 60, 60, 100, 100])
    np.testing.assert_array_equal(pa.effective_year(path)[0], [2004, 2004, 2004, 2009, 2009])
    assert pa.units[path] == "yuan/month"
    years, values = pa.history(path)
    assert years[0] <= 2004 and years[-1] == 2010
    assert values[0, list(years).index(2004)] == 60 and values[0, list(years).index(2005)] == 60
    rate_years, rate = pa.history("costs.allowance_indexation_rate")  # first value 2006-01-01
    assert np.isnan(rate[0, list(rate_years).index(2005)]) and rate[0, list(rate_years).index(2006)] == 0


def test_a_value_set_by_with_values_applies_from_the_first_year_or_the_year_it_changes():
    pa = load_rulebook().to_param_arrays(range(2006, 2011))
    path = "village.vice_president.allowance"
    swept = pa.with_values({path: np.array([[80, 80, 90, 90, 90], [70, 70, 70, 70, 70]])})
    np.testing.assert_array_equal(swept.effective_year(path), [[2006, 2006, 2008, 2008, 2008]] + [[2006] * 5])
    assert swept.effective_year("village.vice_president.population_threshold")[0, 0] == 2006


# ---------------------------------------------------------------- references in Chinese


def test_a_value_carries_its_chinese_reference_and_one_without_it_has_none(tmp_path):
    d = write_rulebook(tmp_path, {"v": """
        p:
          description: d
          unit: u
          values:
            2004-01-01: {value: 1, reference: "衢委办[2004]38号"}
            2008-01-01:
              value: 2
              reference: "assumption: one a month"
              reference_zh: "  假设：每月一次 "
    """})
    p = load_rulebook(d).get("v.p")
    assert [dv.reference_zh for dv in p.values] == ["", "假设：每月一次"]
    assert "reference (zh): 假设：每月一次" in load_rulebook(d).explain("v.p")


def test_an_override_may_give_its_chinese_reference_and_the_default_one_is_kept_otherwise(tmp_path):
    rb = load_rulebook(write_rulebook(tmp_path, {"v": ALLOWANCE}))
    path = "v.vice_president.allowance"
    by_default = rb.with_override(path, 80, "scenario s", start="2010-01-01", reference_zh="方案s")
    assert by_default.get(path).values[-1].reference_zh == "方案s"
    own = rb.with_override(path, {"2010-01-01": {"value": 80, "reference": "assumption: why",
                                                 "reference_zh": "假设：原因"},
                                  "2012-01-01": {"value": 90, "reference": "planner"}},
                           "scenario s", reference_zh="方案s")
    assert [dv.reference_zh for dv in own.get(path).values[-2:]] == ["假设：原因", ""]
    with pytest.raises(ParameterError, match="starts with '假设：'"):
        rb.with_override(path, {"value": 80, "reference": "assumption: why", "reference_zh": "原因"})


def test_every_reference_of_the_rulebook_with_english_words_has_a_chinese_one_without_any(rb):
    """The rule: a value needs ``reference_zh`` when its reference, after the ``assumption:``
    label, has a word in Latin letters that the zh page scan would flag (not a code, a
    symbol or an allowed abbreviation); the Chinese reference itself has no such word."""
    from chinese import english_words

    missing, english = [], []
    for path in rb.paths():
        for dv in rb.get(path).values:
            reason = re.sub(r"^\s*assumption\s*:", "", dv.reference)
            if english_words(reason, set()) and not dv.reference_zh:
                missing.append(f"{path}@{dv.start}")
            if english_words(dv.reference_zh, set()):
                english.append((f"{path}@{dv.start}", english_words(dv.reference_zh, set())))
        if english_words(rb.get(path).description_zh, set()):
            english.append((path, english_words(rb.get(path).description_zh, set())))
    assert missing == [] and english == []
    assert sum(bool(dv.reference_zh) for p in rb.paths() for dv in rb.get(p).values) >= 260


def test_the_chinese_references_keep_the_document_numbers_and_figures_of_the_english_ones(rb):
    # A translation that drops 衢委办[2006]101号 or a figure is not the same reference.
    lost = []
    for path in rb.paths():
        for dv in rb.get(path).values:
            if not dv.reference_zh:
                continue
            for doc in re.findall(r"[\u4e00-\u9fff]+\[\d{4}\]\d+号|国务院令第\d+号", dv.reference):
                if doc not in dv.reference_zh:
                    lost.append((path, doc))
    assert lost == []


def test_with_values_keeps_the_effective_year_of_every_path_it_does_not_set():
    # the allowance of 60 yuan/month was decreed in 2004: a sweep over the threshold (N > 1)
    # must still count its indexation from 2004, as a plain run does
    pa = load_rulebook().to_param_arrays(range(2006, 2011))
    swept = pa.with_values({"village.vice_president.population_threshold": np.array([300.0, 500.0])})
    np.testing.assert_array_equal(swept.effective_year("village.vice_president.allowance"), [[2004] * 5])


def test_the_shipped_rulebook_and_scenarios_read_the_same_on_libyaml_as_on_the_python_parser():
    # read_yaml parses with libyaml's parser (FastStrictLoader); a value that parser read
    # differently from PyYAML's own (dates, duplicate keys, numbers like 1e3) would show here
    import yaml

    from qzfp.rules import yamlfile

    if yamlfile.FastStrictLoader is yamlfile.StrictLoader:
        pytest.skip("PyYAML built without libyaml")
    root = Path(yamlfile.__file__).parent.parent
    files = sorted(root.glob("rules/policy/*.yaml")) + sorted(root.glob("scenarios/*.yaml"))
    assert len(files) > 10
    for f in files:
        text = f.read_text(encoding="utf-8-sig")
        assert yamlfile.read_yaml(f) == yaml.load(text, Loader=yamlfile.StrictLoader), f  # noqa: S506


@pytest.mark.parametrize(
    "text, location, detail",
    [
        ("p:\n\tdescription: a\n", "x.yaml:2", "found character '\\t' that cannot start any token"),
        ("a: &x [1]\nb: *y\n", "x.yaml:2", "found undefined alias 'y'"),
    ],
)
def test_a_file_libyaml_refuses_is_reported_with_the_python_parser_s_fuller_message(tmp_path, text, location,
                                                                                    detail):
    from qzfp.rules.yamlfile import read_yaml

    f = tmp_path / "x.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ParameterError) as err:
        read_yaml(f)
    assert location in str(err.value) and detail in str(err.value), str(err.value)
