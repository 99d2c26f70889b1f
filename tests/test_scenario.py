"""Tests of scenario files (qzfp.rules.scenario, params/*.yaml)."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import numpy as np
import pytest
import yaml

from qzfp.errors import Problem, ScenarioError
from qzfp.rules.rulebook import Rulebook, load_rulebook
from qzfp.rules.scenario import (
    SCENARIO_KEYS,
    Scenario,
    baseline_defaults,
    load_scenario,
    parameters_cell_source,
    validate_scenario_file,
)

REPO = Path(__file__).resolve().parents[1]
PARAMS = sorted((REPO / "params").glob("*.yaml"))

RULES = """
vice_president:
  population_threshold:
    description: threshold
    unit: person
    values:
      2006-01-01: {value: 500, reference: "衢委办[2006]101号"}
  allowance:
    description: allowance
    unit: yuan/month
    values:
      2004-01-01: {value: 60, reference: "衢委办[2004]38号"}
      2012-01-01: {value: 80, reference: "assumption: test"}
  label:
    description: a text parameter
    unit: code
    choices: [a, b]
    values:
      2006-01-01: {value: a, reference: x}
"""


@pytest.fixture
def rulebook(tmp_path) -> Rulebook:
    d = tmp_path / "policy"
    d.mkdir()
    (d / "village.yaml").write_text(RULES, encoding="utf-8")
    return load_rulebook(d)


@pytest.fixture
def folder(tmp_path) -> Path:
    d = tmp_path / "scen"
    d.mkdir()
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")  # repo root marker
    return d


def write(folder: Path, name: str, text: str) -> Path:
    p = folder / f"{name}.yaml"
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def problems(path: Path, rulebook: Rulebook) -> list[str]:
    return [str(p) for p in validate_scenario_file(path, rulebook=rulebook)]


def has(probs: list[str], location: str, message: str) -> bool:
    return any(location in p and message in p for p in probs)


# ---------------------------------------------------------------- the shipped files


@pytest.mark.parametrize("path", PARAMS, ids=[p.stem for p in PARAMS])
def test_every_shipped_scenario_file_validates(path):
    assert validate_scenario_file(path) == []


@pytest.mark.parametrize("path", PARAMS, ids=[p.stem for p in PARAMS])
def test_notebook_parameters_give_the_same_scenario_as_the_file(path):
    keys = yaml.safe_load(path.read_text(encoding="utf-8"))  # what papermill -f injects
    from_file = load_scenario(path)
    from_nb = Scenario.from_parameters(**keys)
    assert from_nb.params == from_file.params
    assert from_nb.sha256 == from_file.sha256
    flat = Scenario.from_parameters(**from_file.to_papermill())
    assert flat.sha256 == from_file.sha256


@pytest.mark.parametrize("path", PARAMS, ids=[p.stem for p in PARAMS])
def test_shipped_files_are_plain_yaml_with_simple_top_level_types(path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for key, value in data.items():
        assert key in SCENARIO_KEYS
        assert isinstance(value, (str, int, float, list, dict)), key


def test_baseline_file_holds_every_key_at_its_baseline_default():
    data = yaml.safe_load((REPO / "params" / "baseline.yaml").read_text(encoding="utf-8"))
    assert set(data) == set(SCENARIO_KEYS)
    assert data == baseline_defaults()
    s = load_scenario("baseline")
    assert s.name == "baseline"
    assert s.start_year == 2006 and s.horizon == 15
    np.testing.assert_array_equal(s.years, np.arange(2006, 2022))


def test_allowance_100_raises_the_village_allowance_from_2008():
    s = load_scenario("allowance_100")
    assert s.value("village.vice_president.allowance", 2007) == 60
    assert s.value("village.vice_president.allowance", 2008) == 100
    expected = np.where(s.years >= 2008, 100.0, 60.0)
    np.testing.assert_array_equal(s.series("village.vice_president.allowance"), expected)
    assert s.params["horizon"] == 15  # inherited from baseline


def test_threshold_300_lowers_the_threshold_from_the_start_year():
    s = load_scenario("threshold_300")
    assert s.value("village.vice_president.population_threshold", s.start_year) == 300
    assert s.value("village.vice_president.population_threshold", 2021) == 300


def test_township_by_population_switches_on_extra_posts():
    s = load_scenario("township_by_population")
    assert s.value("township.vice_president.extra_post_population_step", 2006) == 20000
    assert s.value("township.vice_president.extra_post_above_population", 2006) == 30000


def test_other_variants_change_one_top_level_key():
    assert load_scenario("township_merger").params["merge_target"] == 30000
    assert load_scenario("low_fertility").params["variant"] == "low"
    zh = load_scenario("baseline_zh")
    assert zh.lang == "zh"
    assert zh.rulebook.sha256 == load_scenario("baseline").rulebook.sha256


def test_scenarios_have_distinct_hashes_and_a_hash_is_stable():
    hashes = {load_scenario(p).sha256 for p in PARAMS}
    assert len(hashes) == len(PARAMS)
    assert (
        load_scenario("baseline").sha256 == load_scenario(REPO / "params" / "baseline.yaml").sha256
    )


def test_used_parameters_have_a_unit_and_reference_on_every_row():
    table = load_scenario("allowance_100").used_parameters()
    assert list(table.columns[:6]) == ["path", "description", "unit", "since", "value", "reference"]
    assert (table["unit"].str.len() > 0).all()
    assert (table["reference"].str.len() > 0).all()
    rows = table[table["path"] == "village.vice_president.allowance"]
    assert list(rows["value"]) == [60, 100]
    assert list(rows["since"]) == ["2004-01-01", "2008-01-01"]


def test_used_parameters_leave_out_values_superseded_before_the_start_year(folder, rulebook):
    p = write(folder, "late", "start_year: 2013\nhorizon: 2\n")
    table = load_scenario(p, rulebook=rulebook).used_parameters()
    rows = table[table["path"] == "village.vice_president.allowance"]
    assert list(rows["value"]) == [80]


def test_arrays_give_one_by_t_values_for_numeric_parameters():
    s = load_scenario("allowance_100")
    pa = s.arrays()
    assert pa.n == 1 and pa.t == len(s.years)
    np.testing.assert_array_equal(
        pa["village.vice_president.allowance"][0], s.series("village.vice_president.allowance")
    )
    sub = s.arrays(["reward_assistance.amount"])
    assert sub.paths() == ["reward_assistance.amount"]
    assert sub["reward_assistance.amount"][0, 2012 - 2006] == 960


def test_to_papermill_is_flat_and_has_no_extends():
    out = load_scenario("allowance_100").to_papermill()
    assert "extends" not in out
    assert out["scenario_name"] == "allowance_100"
    assert set(out) == set(SCENARIO_KEYS) - {"extends"}
    assert out["overrides"]["village.vice_president.allowance"]["2008-01-01"]["value"] == 100


def test_parameters_cell_declares_every_key_with_its_default():
    ns: dict = {}
    exec(parameters_cell_source(), ns)
    assert {k: ns[k] for k in SCENARIO_KEYS} == baseline_defaults()


# ---------------------------------------------------------------- extends


def test_child_keys_win_and_overrides_merge_per_path(folder, rulebook):
    write(
        folder,
        "parent",
        """
        horizon: 20
        lang: zh
        overrides:
          village.vice_president.population_threshold: 400
          village.vice_president.allowance: 70
        """,
    )
    child = write(
        folder,
        "child",
        """
        extends: parent
        lang: en
        overrides:
          village.vice_president.allowance: {"2010-01-01": 90}
        """,
    )
    s = load_scenario(child, rulebook=rulebook)
    assert s.name == "child"  # scenario_name is not inherited; it defaults to the file stem
    assert s.params["horizon"] == 20 and s.params["lang"] == "en"
    assert s.params["extends"] == ""
    assert s.value("village.vice_president.population_threshold", 2006) == 400
    # the child's dated override replaces the parent's scalar for that path
    assert s.value("village.vice_president.allowance", 2009) == 60
    assert s.value("village.vice_president.allowance", 2010) == 90
    assert s.value("village.vice_president.allowance", 2013) == 90
    assert [Path(c).stem for c in s.chain] == ["child", "parent"]


def test_inherited_override_reference_names_the_file_that_set_it(folder, rulebook):
    write(folder, "parent", "overrides:\n  village.vice_president.population_threshold: 400\n")
    child = write(folder, "child", "extends: parent\n")
    p = load_scenario(child, rulebook=rulebook).parameter(
        "village.vice_president.population_threshold"
    )
    assert "parent.yaml" in p.values[-1].reference
    assert "overrides.village.vice_president.population_threshold" in p.values[-1].reference


def test_extends_cycle_is_an_error_listing_the_chain(folder, rulebook):
    a = write(folder, "a", "extends: b\n")
    write(folder, "b", "extends: c\n")
    write(folder, "c", "extends: a\n")
    probs = problems(a, rulebook)
    assert has(probs, "c.yaml:extends", "extends cycle")
    msg = next(p for p in probs if "cycle" in p).split("extends cycle:")[1]
    assert msg.index("a.yaml") < msg.index("b.yaml") < msg.index("c.yaml")


def test_a_scenario_extending_itself_is_a_cycle(folder, rulebook):
    a = write(folder, "a", "extends: a\n")
    assert has(problems(a, rulebook), "a.yaml:extends", "extends cycle")


def test_extending_a_missing_scenario_suggests_the_closest_name(folder, rulebook):
    write(folder, "parent", "horizon: 5\n")
    child = write(folder, "child", "extends: parnet\n")
    assert has(
        problems(child, rulebook),
        "child.yaml:extends",
        "no scenario named 'parnet' (did you mean 'parent'?)",
    )
    other = write(folder, "other", "extends: sub/missing.yaml\n")
    assert has(problems(other, rulebook), "other.yaml:extends", "not found")


def test_extends_may_be_a_path_relative_to_the_file(folder, rulebook):
    sub = folder / "sub"
    sub.mkdir()
    write(sub, "parent", "horizon: 7\n")
    child = write(folder, "child", "extends: sub/parent.yaml\n")
    assert load_scenario(child, rulebook=rulebook).horizon == 7


def test_names_are_found_in_params_of_the_working_directory_and_its_parents(
    tmp_path, monkeypatch, rulebook
):
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    params = tmp_path / "params"
    params.mkdir()
    write(params, "mine", "horizon: 3\n")
    work = tmp_path / "notebooks"
    work.mkdir()
    monkeypatch.chdir(work)
    assert load_scenario("mine", rulebook=rulebook).horizon == 3
    s = Scenario.from_parameters(extends="mine", scenario_name="x", rulebook=rulebook)
    assert s.horizon == 3 and s.name == "x"
    with pytest.raises(ScenarioError, match="did you mean 'mine'"):
        load_scenario("mien", rulebook=rulebook)


def test_the_extending_files_folder_is_searched_before_the_working_directory(
    tmp_path, monkeypatch, rulebook
):
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    (tmp_path / "params").mkdir()
    write(tmp_path / "params", "base", "horizon: 3\n")
    own = tmp_path / "own"
    own.mkdir()
    write(own, "base", "horizon: 9\n")
    child = write(own, "child", "extends: base\n")
    monkeypatch.chdir(tmp_path)
    assert load_scenario(child, rulebook=rulebook).horizon == 9


def test_from_parameters_keeps_the_parents_value_for_keys_at_their_default(
    folder, rulebook, monkeypatch
):
    write(folder, "parent", "horizon: 20\nvariant: low\n")
    monkeypatch.chdir(folder)
    (folder / "params").mkdir()
    write(folder / "params", "parent", "horizon: 20\nvariant: low\n")
    defaults = baseline_defaults()
    defaults.update(extends="parent", scenario_name="child", lang="zh")
    s = Scenario.from_parameters(rulebook=rulebook, **defaults)
    assert s.horizon == 20 and s.params["variant"] == "low" and s.params["lang"] == "zh"


# ---------------------------------------------------------------- validation errors


@pytest.mark.parametrize(
    ("text", "location", "message"),
    [
        ("horizn: 10\n", ":horizn", "unknown key 'horizn' (did you mean 'horizon'?)"),
        ("horizon: '15'\n", ":horizon", "expected an integer, got str '15'"),
        ("horizon: 1.5\n", ":horizon", "expected an integer"),
        ("horizon: true\n", ":horizon", "expected an integer, got bool"),
        ("horizon: -1\n", ":horizon", "must not be negative"),
        ("horizon: null\n", ":horizon", "got nothing (null)"),
        ("merge_target: -30000\n", ":merge_target", "must not be negative"),
        ("village_merge_below: -1\n", ":village_merge_below", "must not be negative"),
        ("mc_paths: -5\n", ":mc_paths", "must not be negative"),
        ("seed: -1\n", ":seed", "must not be negative"),
        ("sensitivity_pct: -10\n", ":sensitivity_pct", "must not be negative"),
        ("sensitivity_pct: ten\n", ":sensitivity_pct", "expected a number"),
        ("start_year: 1800\n", ":start_year", "must be at least 1950"),
        (
            "start_year: 2004\n",
            ":start_year",
            "village.vice_president.population_threshold: no value in force on 2004-01-01",
        ),
        ("lang: fr\n", ":lang", "'fr' is not one of en, zh"),
        ("variant: meduim\n", ":variant", "did you mean 'medium'"),
        ("title: [a, b]\n", ":title", "expected a text, got list"),
        ("compare_with: baseline\n", ":compare_with", "expected a list"),
        ("compare_with: [baseline, 5]\n", ":compare_with[1]", "expected a scenario name"),
        ("scenario_name: a/b\n", ":scenario_name", "cannot be a folder name"),
        ("overrides: [1]\n", ":overrides", "expected a mapping"),
        (
            "overrides:\n  village.vice_president.alowance: 5\n",
            ":overrides.village.vice_president.alowance",
            "unknown rulebook path (did you mean 'village.vice_president.allowance'?)",
        ),
        (
            "overrides:\n  village.vice_president.allowance: -5\n",
            ":overrides.village.vice_president.allowance",
            "negative amount",
        ),
        (
            "overrides:\n  village.vice_president.allowance: sixty\n",
            ":overrides.village.vice_president.allowance",
            "expected a number",
        ),
        (
            "overrides:\n  village.vice_president.allowance: [60]\n",
            ":overrides.village.vice_president.allowance",
            "expected a number, bool, text or {date: value}",
        ),
        (
            "overrides:\n  village.vice_president.allowance: {}\n",
            ":overrides.village.vice_president.allowance",
            "empty override",
        ),
        (
            "overrides:\n  village.vice_president.allowance: {'2008-13-01': 5}\n",
            ":overrides.village.vice_president.allowance.2008-13-01",
            "unparseable date",
        ),
        (
            "overrides:\n  village.vice_president.allowance: {2008-01-01: -5}\n",
            ":overrides.village.vice_president.allowance.2008-01-01",
            "negative amount",
        ),
        (
            "overrides:\n  village.vice_president.label: c\n",
            ":overrides.village.vice_president.label",
            "'c' is not one of",
        ),
        (
            "overrides:\n  village.vice_president.allowance: {value: 5, reason: x}\n",
            ":overrides.village.vice_president.allowance",
            "expected a value or {value, reference}, got keys ['reason', 'value']",
        ),
        ("- 1\n- 2\n", "bad.yaml", "expected a mapping of scenario keys"),
        ("horizon: 5\nhorizon: 6\n", "bad.yaml:2", "duplicate key 'horizon'"),
        ("horizon: [5\n", "bad.yaml:", "invalid YAML"),
    ],
)
def test_a_bad_scenario_file_is_reported_with_file_key_and_expectation(
    folder, rulebook, text, location, message
):
    p = write(folder, "bad", text)
    probs = problems(p, rulebook)
    assert has(probs, f"bad.yaml{location}" if location.startswith(":") else location, message), (
        probs
    )


def test_all_problems_of_a_file_are_reported_together(folder, rulebook):
    p = write(folder, "bad", "horizon: -1\nlang: fr\ncolour: red\n")
    probs = problems(p, rulebook)
    assert len(probs) == 3


def test_validate_never_raises_for_unreadable_input(folder, rulebook):
    assert has(problems(folder / "missing.yaml", rulebook), "missing.yaml", "file not found")
    listing = write(folder, "listing", "- a\n")
    assert has(problems(listing, rulebook), "listing.yaml", "expected a mapping")
    binary = folder / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage\x81")
    assert has(problems(binary, rulebook), "binary.yaml", "not UTF-8")
    assert all(isinstance(p, Problem) for p in validate_scenario_file(binary, rulebook=rulebook))


def test_an_empty_scenario_file_is_the_baseline(folder, rulebook):
    p = write(folder, "empty", "")
    s = load_scenario(p, rulebook=rulebook)
    expected = baseline_defaults()
    expected["scenario_name"] = "empty"
    assert s.params == expected


def test_from_parameters_rejects_unknown_keys_and_bad_values(rulebook):
    with pytest.raises(ScenarioError, match="parameters:horizn: unknown key 'horizn'"):
        Scenario.from_parameters(horizn=3, rulebook=rulebook)
    with pytest.raises(ScenarioError, match="parameters:lang"):
        Scenario.from_parameters(lang="de", rulebook=rulebook)


def test_load_scenario_of_an_unknown_name_is_an_error():
    with pytest.raises(
        ScenarioError, match="no scenario named 'allowance_10' \\(did you mean 'allowance_100'"
    ):
        load_scenario("allowance_10")


def test_a_scalar_override_with_a_reference_keeps_the_reference(folder, rulebook):
    p = write(
        folder,
        "why",
        """
        overrides:
          village.vice_president.population_threshold: {value: 300, reference: "planner: hill villages"}
        """,
    )
    s = load_scenario(p, rulebook=rulebook)
    param = s.parameter("village.vice_president.population_threshold")
    assert param.values[-1].reference == "planner: hill villages"
    assert s.value("village.vice_president.population_threshold", 2006) == 300


def test_a_start_year_whose_projection_drives_life_expectancy_past_100_is_bad_input_naming_the_last_year(tmp_path):
    # e0_female = 80.2 in 2010 + 0.2 a year (the rulebook) reaches 100.2 in 2110
    path = tmp_path / "late.yaml"
    path.write_text("start_year: 2100\nsensitivity_pct: 0\nmc_paths: 0\n", encoding="utf-8")
    probs = [str(p) for p in validate_scenario_file(path)]
    assert len(probs) == 1
    assert probs[0].endswith("late.yaml:start_year: the projection runs to 2115, but life expectancy "
                             "demography.mortality.e0_female extrapolated by demography.mortality.e0_gain "
                             "passes 100 years in 2110: end the projection by 2109 (start_year + horizon) "
                             "or override demography.mortality.e0_gain")


def test_the_documented_maxima_that_fit_the_life_expectancy_range_load():
    from qzfp.rules.scenario import Scenario

    assert Scenario.from_parameters(horizon=100, sensitivity_pct=0, mc_paths=0).years[-1] == 2106
    assert Scenario.from_parameters(start_year=2100, horizon=9, sensitivity_pct=0, mc_paths=0).years[-1] == 2109


def _e0(path: str) -> tuple[float, float, float, float]:
    """(e0 of ``path``, e0_gain, reference_year, the e0 parameter's max) of the packaged rulebook."""
    from qzfp.rules.rulebook import load_rulebook

    rb = load_rulebook()
    m = "demography.mortality."
    return (rb.get(m + path).latest.value, rb.get(m + "e0_gain").latest.value,
            rb.get(m + "reference_year").latest.value, rb.get(m + path).max)


def test_the_horizon_is_limited_so_that_the_sensitivity_rankings_highest_female_e0_stays_at_most_100():
    # the ranking moves e0_female by +sensitivity_pct %: e0_f (1 + p) + gain (year - ref) <= max
    from qzfp.rules.scenario import Scenario

    e0, gain, ref, top = _e0("e0_female")
    for pct in (10.0, 5.0):
        last = math.floor(ref + (top - e0 * (1 + pct / 100)) / gain)
        ok = Scenario.from_parameters(horizon=last - 2006, sensitivity_pct=pct, mc_paths=0)
        assert ok.years[-1] == last
        with pytest.raises(ScenarioError) as err:
            Scenario.from_parameters(horizon=last - 2005, sensitivity_pct=pct, mc_paths=0)
        assert str(err.value) == (
            f"parameters:horizon: the projection runs to {last + 1}, but in the sensitivity ranking's "
            f"+{pct:g} % move of demography.mortality.e0_female life expectancy demography.mortality.e0_female "
            f"passes 100 years in {last + 1}: end the projection by {last} (start_year + horizon) or lower "
            "sensitivity_pct (0: no sensitivity ranking)")


def test_the_horizon_is_limited_so_that_three_standard_deviations_of_the_monte_carlo_e0_stay_at_most_100():
    # the Monte Carlo's e0 is a random walk of sd 0.1 a year from the start year: 3 sd after k
    # years is 0.3 sqrt(k)
    from qzfp.rules.rulebook import load_rulebook
    from qzfp.rules.scenario import Scenario

    sd = load_rulebook().get("demography.uncertainty.e0_gain_sd").latest.value
    e0, gain, ref, top = _e0("e0_female")
    last = max(y for y in range(2006, 2107) if e0 + gain * (y - ref) + 3 * sd * math.sqrt(y - 2006) <= top)
    assert Scenario.from_parameters(horizon=last - 2006, sensitivity_pct=0, mc_paths=10).years[-1] == last
    with pytest.raises(ScenarioError, match=f"in the Monte Carlo paths .* passes 100 years in {last + 1}: end "
                                            f"the projection by {last} .* or set mc_paths: 0"):
        Scenario.from_parameters(horizon=last - 2005, sensitivity_pct=0, mc_paths=10)
    assert Scenario.from_parameters(horizon=last - 2005, sensitivity_pct=0, mc_paths=0).years[-1] == last + 1


@pytest.mark.parametrize(("key", "text", "code"), [
    ("scenario_name", '"a\\0b"', "U+0000"), ("title", '"T\\x07"', "U+0007"),
    ("description", '"d\\x1b[31m"', "U+001B"), ("compare_with", '["base\\0line"]', "U+0000"),
])
def test_control_characters_in_scenario_texts_are_refused_at_their_key(tmp_path, key, text, code):
    path = tmp_path / "ctl.yaml"
    path.write_text(f"{key}: {text}\n", encoding="utf-8")
    probs = [str(p) for p in validate_scenario_file(path)]
    assert len(probs) == 1 and probs[0].endswith(
        f"ctl.yaml:{key}: contains the control character {code}: texts must be plain "
        "(it would corrupt file names and reports)"), probs


# ---------------------------------------------------------------- Chinese titles and references


def test_a_chinese_report_shows_the_chinese_title_and_description_of_a_scenario(tmp_path):
    s = load_scenario(write(tmp_path, "a", f"extends: {REPO / 'params' / 'allowance_100.yaml'}\nlang: zh\n"))
    assert s.title == "村专职副会长岗位津贴自2008年起提高到每月100元"
    assert s.description.startswith("规定与基准方案相同")
    en = load_scenario("allowance_100")
    assert en.title == "Village vice-presidents' allowance raised to 100 yuan/month from 2008"


def test_a_scenario_that_retitles_without_a_chinese_title_does_not_inherit_its_parents(tmp_path):
    base = REPO / "params" / "allowance_100.yaml"
    own = load_scenario(write(tmp_path, "own", f"extends: {base}\nlang: zh\ntitle: My plan\n"))
    assert own.title == "My plan" and own.params["title_zh"] == ""
    assert own.description.startswith("规定与基准方案相同")  # the description was not changed
    both = load_scenario(write(tmp_path, "both", f"extends: {base}\nlang: zh\ntitle: My plan\ntitle_zh: 我的方案\n"))
    assert both.title == "我的方案"
    params = Scenario.from_parameters(**{**own.to_papermill()})
    assert params.title == "My plan"


def test_an_override_without_its_own_reference_has_a_chinese_default_reference():
    used = load_scenario("threshold_300").used_parameters()
    row = used[(used["path"] == "village.vice_president.population_threshold") & (used["value"] == 300)].iloc[0]
    assert row["reference"].startswith("scenario threshold_300 (")
    assert row["reference_zh"].startswith("方案threshold_300（")
    assert row["reference_zh"].endswith("：overrides.village.vice_president.population_threshold")
    own = load_scenario("allowance_100").used_parameters()
    assert (own.loc[own["value"] == 100, "reference_zh"] == "").all()  # its own reason, not translated
