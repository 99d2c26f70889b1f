"""Tests of the interactive explorer (qzfp.explore) and its notebook, without a browser.

Controls are set programmatically (``explorer.controls[key].value = ...``); ipywidgets
calls the observers synchronously, so the outputs are up to date right after.
"""

from __future__ import annotations

import html
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pytest
import yaml

import qzfp
from qzfp import i18n
from qzfp.errors import Problem, ScenarioError
from qzfp.explore import (
    LEVERS,
    Explorer,
    ExplorerModel,
)
from qzfp.explore import model as explorer_model
from qzfp.explore import widgets as explorer_widgets
from qzfp.explore.levers import ADDITIVE_FIGURES
from qzfp.model.budget import LINES
from qzfp.model.run import simulate
from qzfp.rules.scenario import Scenario, load_scenario, parameters_cell_source

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "00_explore.ipynb"
ALLOWANCE = "village.vice_president.allowance"
REWARD = "reward_assistance.amount"


def short(name: str = "baseline", **changes) -> Scenario:
    """A packaged scenario with a short horizon (built from parameters, like a notebook)."""
    base = load_scenario(name).to_papermill()
    return Scenario.from_parameters(**{**base, "horizon": 3, **changes})


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return short()


@pytest.fixture()
def ex(scenario) -> Explorer:
    return Explorer(scenario)


def indexation(scenario: Scenario) -> np.ndarray:
    """Allowance indexation I_t = prod_{k<t} (1 + r_k) from the start year: qzfp.model.budget's
    factor when every allowance took effect by the start year (as in the baseline)."""
    r = scenario.series("costs.allowance_indexation_rate")
    return np.concatenate([[1.0], np.cumprod(1.0 + r)[:-1]])


# --------------------------------------------------------------------------- controls


def test_every_lever_has_a_control_plus_year_and_county(ex):
    assert set(ex.controls) == {lv.key for lv in LEVERS} | {"year", "county"}
    assert set(ex.state()) == set(ex.controls)


def test_no_policy_lever_changes_the_population_projection_so_reusing_it_is_exact():
    from qzfp.model.run import demographic_paths

    assert demographic_paths([lv.path for lv in LEVERS if lv.path]) == []


def test_controls_start_at_the_value_in_force_in_the_start_year():
    # allowance_100 raises the allowance to 100 only from 2008; 600 -> 960 reward from 2012
    s = short("allowance_100", horizon=8)
    ex = Explorer(s)
    assert ex.controls["village_allowance"].value == s.value(ALLOWANCE, 2006) == 60
    assert ex.controls["reward_amount"].value == s.value(REWARD, 2006)
    assert ex.controls["variant"].value == s.params["variant"]
    assert ex.controls["merge_target"].value == s.params["merge_target"]
    assert ex.controls["year"].value == s.start_year
    assert ex.controls["county"].value == ""


def test_untouched_controls_reproduce_the_scenario_with_its_dated_values():
    s = short("allowance_100", horizon=8)  # 2006..2014: both dated changes inside
    ex = Explorer(s)
    summary = simulate(s).summary()
    ser = ex.outcome().series("")
    np.testing.assert_allclose(ser["budget_yuan"], summary["budget_yuan"], rtol=1e-12)
    np.testing.assert_allclose(ser["total_posts"], summary["total_posts"], rtol=1e-12)
    np.testing.assert_allclose(ser["wisn_required_staff"], summary["wisn_required_staff"], rtol=1e-12)
    np.testing.assert_array_equal(ser["townships_short_of_staff"], summary["townships_short_of_staff"])


def test_a_moved_control_applies_its_value_from_the_start_year_over_the_whole_horizon():
    s = short(horizon=8)  # reward 600 until 2011, 960 from 2012
    ex = Explorer(s)
    before = ex.outcome()
    ex.controls["reward_amount"].value = 960
    after = ex.outcome()
    li = [ln.id for ln in LINES].index("reward_assistance")
    eligible = after.quantity[:, :, li].sum(axis=1)  # eligible persons per year
    np.testing.assert_allclose(after.amount[:, :, li].sum(axis=1), eligible * 960.0, rtol=1e-12)
    dated = np.array([s.value(REWARD, int(y)) for y in s.years], dtype=float)
    assert dated[0] < 960 and dated[-1] == 960  # the rulebook raises it within the horizon
    rise = after.series("")["budget_yuan"] - before.series("")["budget_yuan"]
    np.testing.assert_allclose(rise, eligible * (960.0 - dated), rtol=1e-9, atol=1e-6)


def test_the_village_allowance_lever_from_60_to_100_adds_posts_times_40_times_12(ex, scenario):
    ex.controls["year"].value = scenario.start_year + 2
    before = ex.figures()
    ex.controls["village_allowance"].value = 100
    after = ex.figures()
    i = 2
    index = indexation(scenario)
    expected = before["village_vice_presidents"] * 40 * 12 * index[i]
    assert after["budget_yuan"] - before["budget_yuan"] == pytest.approx(expected, rel=1e-12)
    vps = ex.outcome().series("")["village_vice_presidents"]
    assert after["budget_horizon_yuan"] - before["budget_horizon_yuan"] == pytest.approx(
        float(np.sum(vps * 40 * 12 * index)), rel=1e-12
    )


def test_a_threshold_lever_of_0_gives_every_village_its_vice_presidents(ex, scenario):
    ex.controls["village_threshold"].value = 0
    n_villages = len(ex.model.register(0).villages)
    per_village = scenario.value("village.vice_president.posts_per_village", scenario.start_year)
    assert ex.figures()["village_vice_presidents"] == n_villages * per_village


def test_the_township_rule_adds_one_post_per_full_step_above_the_size_and_off_adds_none(ex):
    pop = ex.model.population(0, "medium").township_pop[0, 0]  # start year
    ex.controls["township_extra_above"].value = 30000
    ex.controls["township_extra_step"].value = 20000
    expected = len(pop) + np.floor(np.maximum(pop - 30000, 0) / 20000).sum()
    assert ex.figures()["township_vice_presidents"] == expected
    assert expected > len(pop)  # the packaged register has a township of 60,000
    ex.controls["township_extra_step"].value = 0
    assert ex.figures()["township_vice_presidents"] == len(pop)


def test_raising_the_township_allowance_adds_township_posts_times_the_rise_times_12(ex, scenario):
    before = ex.figures()
    ex.controls["township_allowance"].value = ex.controls["township_allowance"].value + 50
    after = ex.figures()
    assert after["budget_yuan"] - before["budget_yuan"] == pytest.approx(
        before["township_vice_presidents"] * 50 * 12 * indexation(scenario)[0], rel=1e-12
    )


def test_variant_low_gives_fewer_births_and_people_than_high_by_the_end(ex, scenario):
    ex.controls["year"].value = int(scenario.years[-1])
    ex.controls["variant"].value = "low"
    low = ex.figures()
    ex.controls["variant"].value = "high"
    high = ex.figures()
    assert low["births"] < high["births"]
    assert low["population"] < high["population"]


def test_a_merger_target_lowers_the_number_of_townships_and_their_posts(ex):
    before = ex.figures()
    ex.controls["merge_target"].value = 30000
    after = ex.figures()
    assert after["townships"] < before["townships"]
    assert after["township_vice_presidents"] == after["townships"]  # one post each (rule off)
    assert after["population"] == pytest.approx(before["population"])
    assert after["village_vice_presidents"] == before["village_vice_presidents"]


def test_county_figures_sum_to_the_citys(ex):
    ex.controls["village_allowance"].value = 80
    ex.controls["year"].value = ex.controls["year"].max
    city = ex.figures()
    per_county = []
    for _, code in ex.controls["county"].options[1:]:
        ex.controls["county"].value = code
        per_county.append(ex.figures())
    assert len(per_county) == len(ex.model.counties)
    for key in ADDITIVE_FIGURES:
        assert sum(f[key] for f in per_county) == pytest.approx(city[key], rel=1e-12), key
    np.testing.assert_allclose(
        ex.budget_table()["amount_yuan"].sum(), per_county[-1]["budget_yuan"], rtol=1e-12
    )


def test_budget_table_splits_each_line_between_city_county_and_township(ex):
    t = ex.budget_table()
    np.testing.assert_allclose(t[["city_yuan", "county_yuan", "township_yuan"]].sum(axis=1), t["amount_yuan"])
    assert t["amount_yuan"].sum() == pytest.approx(ex.figures()["budget_yuan"], rel=1e-12)


def test_policy_levers_reuse_the_projection_and_view_controls_reuse_the_computation(ex, monkeypatch):
    calls = {"project": 0, "run": 0}
    project, run = explorer_model.project, explorer_model.run_arrays

    def counting_project(*a, **k):
        calls["project"] += 1
        return project(*a, **k)

    def counting_run(*a, **k):
        calls["run"] += 1
        return run(*a, **k)

    monkeypatch.setattr(explorer_model, "project", counting_project)
    monkeypatch.setattr(explorer_model, "run_arrays", counting_run)
    for key, value in (("village_allowance", 90), ("village_threshold", 400), ("township_allowance", 200),
                       ("township_extra_step", 10000), ("reward_amount", 700)):
        ex.controls[key].value = value
    assert calls == {"project": 0, "run": 5}
    ex.controls["year"].value = ex.controls["year"].max
    ex.controls["county"].value = ex.controls["county"].options[1][1]
    assert calls == {"project": 0, "run": 5}
    ex.controls["variant"].value = "low"
    ex.controls["variant"].value = "medium"  # projection cached, result cached
    assert calls["project"] == 1 and calls["run"] == 6


def test_outputs_are_redrawn_on_every_change(ex):
    chart, table, figures = ex.chart_html.value, ex.table_html.value, ex.key_figures_html.value
    assert chart.startswith("<svg") and chart.endswith("</svg>")
    ex.controls["village_allowance"].value = 200
    assert ex.chart_html.value != chart
    assert ex.table_html.value != table
    assert ex.key_figures_html.value != figures
    expected = i18n.format_number(ex.figures()["budget_yuan"], "en")
    assert expected in ex.key_figures_html.value
    assert ex.last_update_ms > 0


def test_bad_settings_raise_a_scenario_error_naming_the_lever(scenario):
    m = ExplorerModel(scenario)
    cases = [
        ({"village_allowance": -5}, "explorer:village_allowance"),
        ({"no_such_lever": 1}, "explorer:no_such_lever"),
        ({"variant": "middle"}, "explorer:variant"),
        ({"merge_target": 1.5}, "explorer:merge_target"),
        ({"village_threshold": "500"}, "explorer:village_threshold"),
    ]
    for settings, location in cases:
        with pytest.raises(ScenarioError) as info:
            m.compute(settings)
        assert [p.location for p in info.value.problems] == [location]
    with pytest.raises(ScenarioError, match="year 1999 is not modelled"):
        m.figures({}, year=1999)
    with pytest.raises(ScenarioError, match="unknown county code '999999'"):
        m.figures({}, county="999999")


def test_a_chinese_explorer_labels_counties_and_levers_in_chinese(scenario):
    ex = Explorer(scenario, lang="zh")
    names = [name for name, _ in ex.controls["county"].options]
    assert names[0] == i18n.t("nb.explore.all_counties", "zh")
    assert "柯城区" in names
    assert ex.controls["village_allowance"].description == i18n.t("param.village.vice_president.allowance", "zh")
    assert "万元" in ex.chart_html.value
    # budget table units in Chinese (the rulebook's unit catalogue), none left in English
    assert f">{i18n.t('unit.post', 'zh')}<" in ex.table_html.value
    assert ">post<" not in ex.table_html.value and ">trainee-day<" not in ex.table_html.value


def test_the_language_list_relabels_every_control_and_keeps_the_settings_year_and_county(scenario):
    ex = Explorer(scenario, lang="en")
    ex.controls["village_allowance"].value = 95
    ex.controls["variant"].value = "high"
    county = ex.controls["county"].options[3][1]
    ex.controls["county"].value = county
    ex.controls["year"].value = int(ex.model.years[-1])
    before, figures, updates = ex.state(), ex.figures(), ex.updates
    ex.lang_control.value = "zh"  # what choosing 中文 in the page does
    assert ex.lang == "zh" and ex.state() == before and ex.figures() == figures
    assert ex.updates == updates + 1  # one redraw, not one per relabelled list
    assert ex.controls["village_allowance"].description == i18n.t("param.village.vice_president.allowance", "zh")
    assert ex.controls["variant"].label == i18n.t("variant.high", "zh")
    row = ex.model.counties.set_index("county_code").loc[county]
    assert ex.controls["county"].label == row["name_zh"]
    assert ex.save_button.description == i18n.t("nb.explore.save", "zh")
    assert ex.plan_button.description == i18n.t("nb.explore.plan_button", "zh")
    assert i18n.t("nb.explore.title", "zh") in ex.head_html.value
    assert i18n.t("nb.explore.table_title", "zh", place=row["name_zh"], year=before["year"]) in ex.table_html.value
    ex.set_lang("en")
    assert ex.lang_control.value == "en" and ex.controls["county"].label == row["name_en"]
    assert ex.state() == before
    with pytest.raises(ScenarioError, match="unknown language 'fr'"):
        ex.set_lang("fr")


def test_the_explorer_carries_the_shipped_font_for_its_widgets_and_its_chart(ex):
    import base64
    import re

    from qzfp.i18n.fonts import shipped_font_path
    from qzfp.reporting.pagestyle import FONT_FAMILY

    style = ex.widget.children[0].value
    face = re.search(r'@font-face\{font-family:"([^"]+)";src:url\("data:font/ttf;base64,([A-Za-z0-9+/=]+)"\)', style)
    assert face and face.group(1) == FONT_FAMILY
    assert base64.b64decode(face.group(2)) == Path(shipped_font_path()).read_bytes()
    # first in the font list of everything inside the explorer (labels, lists, tables, SVG text)
    assert re.search(r'\.qzfp-explorer,\.qzfp-explorer \*\{font-family:"qzfp CJK",[^}]*!important\}', style)
    assert f'font-family="{FONT_FAMILY}, ' in ex.chart_html.value
    assert "qzfp-explorer" in ex.widget._dom_classes


def test_every_explorer_label_is_in_the_catalogue_in_both_languages():
    import re

    source = "".join(p.read_text(encoding="utf-8") for p in Path(explorer_model.__file__).parent.glob("*.py"))
    keys = set(re.findall(r'label\("([a-z_.]+)"', source))
    assert keys, "the explorer uses labels"
    for key in keys:
        assert i18n.has(key), key
        assert i18n.template_fields(i18n.CATALOGUE["en"][key]) == i18n.template_fields(i18n.CATALOGUE["zh"][key])


# --------------------------------------------------------------------------- saving


def test_saved_scenario_loads_and_simulate_reproduces_the_explorers_figures(tmp_path):
    ex = Explorer("baseline")  # the file params/baseline.yaml
    ex.controls["village_allowance"].value = 90
    ex.controls["village_threshold"].value = 400
    ex.controls["township_extra_step"].value = 20000
    ex.controls["reward_amount"].value = 700
    ex.controls["variant"].value = "low"
    ex.controls["merge_target"].value = 30000
    path = ex.save_scenario(tmp_path / "explored.yaml")
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert doc["extends"] == "baseline"
    assert doc["variant"] == "low" and doc["merge_target"] == 30000
    assert doc["overrides"] == {
        ALLOWANCE: 90,
        "village.vice_president.population_threshold": 400,
        "township.vice_president.extra_post_population_step": 20000,
        REWARD: 700,
    }
    summary = simulate(qzfp.load_scenario(path)).summary()
    ser = ex.outcome().series("")
    for key in ("population", "village_vice_presidents", "township_vice_presidents", "total_posts",
                "wisn_required_staff", "townships_short_of_staff", "budget_yuan"):
        np.testing.assert_allclose(ser[key], summary[key], rtol=1e-12, err_msg=key)


def test_a_scenario_built_from_parameters_is_saved_with_its_own_keys_when_no_file_matches(tmp_path):
    s = short("allowance_100", horizon=4)  # no file has these parameters
    ex = Explorer(s)
    ex.controls["village_threshold"].value = 300
    path = ex.save_scenario(tmp_path / "from_notebook.yaml")
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert doc["extends"] == "" and doc["horizon"] == 4
    assert doc["overrides"][ALLOWANCE] == {"2008-01-01": {"value": 100, "reference": s.params["overrides"][ALLOWANCE]["2008-01-01"]["reference"]}}
    loaded = qzfp.load_scenario(path)
    assert loaded.value(ALLOWANCE, 2009) == 100
    np.testing.assert_allclose(
        ex.outcome().series("")["budget_yuan"], simulate(loaded).summary()["budget_yuan"], rtol=1e-12
    )


def test_saving_by_name_writes_params_name_yaml_beside_the_start_scenario(tmp_path, monkeypatch):
    params = tmp_path / "params"
    params.mkdir()
    text = (ROOT / "params" / "baseline.yaml").read_text(encoding="utf-8")
    (params / "base.yaml").write_text(text.replace("horizon: 15", "horizon: 3"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    ex = Explorer(load_scenario(params / "base.yaml"))
    ex.controls["reward_amount"].value = 800
    path = ex.save_scenario("mine")
    assert path == params / "mine.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert doc["extends"] == "base" and doc["scenario_name"] == "mine"
    assert doc["overrides"] == {REWARD: 800}
    assert qzfp.load_scenario("mine").value(REWARD, 2008) == 800


def test_saving_refuses_to_overwrite_an_existing_file_unless_confirmed(ex, tmp_path):
    target = tmp_path / "x.yaml"
    ex.controls["village_allowance"].value = 70
    ex.save_scenario(target)
    first = target.read_text(encoding="utf-8")
    ex.controls["village_allowance"].value = 75
    with pytest.raises(ScenarioError, match="exists"):
        ex.save_scenario(target)
    assert target.read_text(encoding="utf-8") == first
    ex.save_scenario(target, overwrite=True)
    assert yaml.safe_load(target.read_text(encoding="utf-8"))["overrides"] == {ALLOWANCE: 75}


@pytest.mark.parametrize("name", ["", "two words", "a*b", ".hidden", "x" * 65, "名 字"])
def test_invalid_scenario_names_are_refused(ex, name):
    with pytest.raises(ScenarioError, match="a scenario name is 1 to 64 letters"):
        ex.save_scenario(name)


def test_an_invalid_file_is_never_written(ex, tmp_path, monkeypatch):
    real = ExplorerModel.scenario_text
    monkeypatch.setattr(ExplorerModel, "scenario_text",
                        lambda self, *a, **k: real(self, *a, **k) + "not_a_key: 1\n")
    with pytest.raises(ScenarioError) as info:
        ex.save_scenario(tmp_path / "broken.yaml")
    assert any("not_a_key" in p.location for p in info.value.problems)
    assert list(tmp_path.iterdir()) == []


def test_the_save_button_reports_success_and_refusal_in_the_message(ex, tmp_path, monkeypatch):
    monkeypatch.setattr(ExplorerModel, "default_params_dir", lambda self: tmp_path)
    ex.save_name.value = "clicked"
    ex.save_button.click()
    assert (tmp_path / "clicked.yaml").is_file()
    assert str(tmp_path / "clicked.yaml") in ex.save_message.value
    ex.save_button.click()
    assert "exists" in ex.save_message.value and "Not saved" in ex.save_message.value
    ex.save_overwrite.value = True
    ex.save_button.click()
    assert "Saved scenario" in ex.save_message.value
    assert ex.save_overwrite.value is False  # confirmation is for one save only
    ex.save_name.value = "no good"
    ex.save_button.click()
    assert "a scenario name" in ex.save_message.value


def test_a_failing_validation_problem_names_the_target_file(ex, tmp_path, monkeypatch):
    monkeypatch.setattr(explorer_model, "validate_scenario",
                        lambda p: [Problem(f"{p}:overrides.x", "scenario.empty")])
    with pytest.raises(ScenarioError) as info:
        ex.save_scenario(tmp_path / "v.yaml")
    assert info.value.problems[0].location == f"{tmp_path / 'v.yaml'}:overrides.x"
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- notebook


def test_the_committed_notebook_is_stripped_and_declares_the_scenario_parameters():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and nb.cells[0] is params[0]
    assert params[0].source == parameters_cell_source()
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    assert "Explorer(scenario)" in nb.cells[-1].source


def test_the_committed_notebook_is_what_the_generator_writes():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_explore_notebook", ROOT / "tools" / "make_explore_notebook.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert nbformat.read(NOTEBOOK, as_version=4) == mod.build()


def test_the_notebook_executes_with_papermill(tmp_path):
    papermill = pytest.importorskip("papermill")
    nb = tmp_path / "00_explore.ipynb"
    shutil.copy(NOTEBOOK, nb)
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(str(nb), str(out), parameters={"horizon": 2, "lang": "zh"},
                               kernel_name="python3", cwd=str(tmp_path), progress_bar=False)
    done = nbformat.read(out, as_version=4)
    errors = [o for c in done.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    data = done.cells[-1].outputs[0]["data"]
    assert "application/vnd.jupyter.widget-view+json" in data


def test_every_slider_updates_once_when_the_drag_ends_so_no_stale_updates_queue_up(ex):
    sliders = [c for c in ex.controls.values() if hasattr(c, "continuous_update")]
    assert {k for k, c in ex.controls.items() if hasattr(c, "continuous_update")} >= {"year", "village_allowance"}
    assert all(c.continuous_update is False for c in sliders)


def test_a_new_year_shows_the_figures_of_that_year_from_the_same_computation(ex):
    # how fast: benchmarks/bench_explorer.py (timing is never asserted in a test)
    computed = ex.outcome()
    for year in list(ex.model.years[1:6]):
        ex.controls["year"].value = int(year)  # what the release of a drag does
        assert ex.outcome() is computed  # no model run for a view control
        shown = html.unescape(ex.key_figures_html.value)
        assert f", {int(year)}" in shown
        assert i18n.format_number(computed.population[computed.year_index(int(year))].sum(), "en") in shown


def test_every_control_is_in_one_of_two_flexible_columns_with_its_own_label_on_a_line_above(ex):
    # how it looks in JupyterLab is measured in test_explorer_in_browser.py
    columns = ex.widget.children[2].children  # after the style and the heading
    assert len(columns) == 2 and all(c.layout.flex == "1 1 0" for c in columns)
    in_columns = [w for col in columns for w in col.children]
    for key, ctl in ex.controls.items():
        assert ctl in in_columns, key
        assert ctl.description  # the input's own <label>, not a copy beside a hidden one
        assert ctl.style.description_width == "100%" and ctl.layout.flex_flow == "row wrap", key
        assert explorer_widgets.CONTROL_CLASS in ctl._dom_classes, key
    assert explorer_widgets.CONTROL_CSS in ex.widget.children[0].value  # the style ships with it


def test_the_explorer_reads_a_register_file_rewritten_in_place_again(tmp_path):
    import pandas as pd

    folder = tmp_path / "register"
    shutil.copytree(ROOT / "tests" / "data" / "registers" / "small", folder)
    model = ExplorerModel(Scenario.from_parameters(register=str(folder), horizon=1))
    before = model.compute().population[0].sum()
    villages = pd.read_csv(folder / "villages.csv", dtype=str)
    villages["population"] = villages["population"].astype(int) * 2
    villages.to_csv(folder / "villages.csv", index=False)
    assert model.compute().population[0].sum() == 2 * before
