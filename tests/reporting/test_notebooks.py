"""The report notebooks: generated, stripped, parameterised, and they run with papermill.

Kernel runs are the slow part (a few seconds each), so they are made once, two at a
time, in a module fixture: every notebook in English (with a params file) and in
Chinese, and the cheapest notebook (03_budget) with every file of params/.  The tests
then read the executed notebooks.
"""

from __future__ import annotations

import importlib.util
import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import papermill as pm
import pytest
import yaml

import qzfp.reporting.sections as qn
from qzfp.errors import ScenarioError
from qzfp.i18n import format_number, format_persons, format_yuan, place_names
from qzfp.model.run import simulate
from qzfp.register.census import CENSUS_2010
from qzfp.reporting.run import REPORT_NOTEBOOKS
from qzfp.reporting.sections import display as qn_display
from qzfp.reporting.sections import population as qn_population
from qzfp.rules.scenario import SCENARIO_KEYS, Scenario, load_scenario, parameters_cell_source

ROOT = Path(__file__).resolve().parents[2]
NB_DIR = ROOT / "notebooks"
PARAMS = sorted((ROOT / "params").glob("*.yaml"))
SMALL = {"horizon": 3, "mc_paths": 10}
CHEAPEST = "03_budget"
#: The params file each other notebook is run with (in English).
FILE_FOR = {"01_population": "township_merger", "02_staffing_workload": "threshold_300",
            "04_compare": "allowance_100"}


def _load_generator():
    spec = importlib.util.spec_from_file_location("make_notebooks", ROOT / "tools" / "make_notebooks.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _file_params(stem: str) -> dict:
    """What ``papermill -f params/<stem>.yaml -p horizon 3 -p mc_paths 10`` injects."""
    params = yaml.safe_load((ROOT / "params" / f"{stem}.yaml").read_text(encoding="utf-8"))
    return {**params, **SMALL}


# --------------------------------------------------------------------------- committed files
def test_every_report_notebook_of_the_pipeline_is_committed_and_generated():
    gen = _load_generator()
    assert list(gen.NOTEBOOKS) == list(REPORT_NOTEBOOKS)
    for stem in REPORT_NOTEBOOKS:
        assert (NB_DIR / f"{stem}.ipynb").is_file()


@pytest.mark.parametrize("stem", REPORT_NOTEBOOKS)
def test_committed_notebook_equals_what_the_generator_writes(stem):
    gen = _load_generator()
    assert (NB_DIR / f"{stem}.ipynb").read_text(encoding="utf-8") == gen.render(stem), (
        "run python tools/make_notebooks.py"
    )


def test_generator_check_mode_reports_a_stale_notebook(tmp_path, capsys):
    gen = _load_generator()
    assert gen.main(["--out", str(tmp_path)]) == 0
    assert gen.main(["--check", "--out", str(tmp_path)]) == 0
    path = tmp_path / "03_budget.ipynb"
    path.write_text(path.read_text(encoding="utf-8").replace("qn.budget_basis", "qn.budget_x"),
                    encoding="utf-8")
    assert gen.main(["--check", "--out", str(tmp_path)]) == 1
    assert "03_budget.ipynb" in capsys.readouterr().out


@pytest.mark.parametrize("stem", REPORT_NOTEBOOKS)
def test_committed_notebook_is_stripped_of_outputs_and_execution_counts(stem):
    raw = json.loads((NB_DIR / f"{stem}.ipynb").read_text(encoding="utf-8"))
    for cell in raw["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == []
            assert cell["execution_count"] is None
    assert raw["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("stem", REPORT_NOTEBOOKS)
def test_first_cell_is_a_markdown_title_and_second_the_parameters_cell(stem):
    nb = nbformat.read(NB_DIR / f"{stem}.ipynb", as_version=4)
    assert nb.cells[0].cell_type == "markdown"
    assert nb.cells[0].source.startswith("# ")
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and params[0] is nb.cells[1]
    assert params[0].source == parameters_cell_source()


@pytest.mark.parametrize("stem", REPORT_NOTEBOOKS)
def test_papermill_infers_every_scenario_key_with_type_default_and_help(stem):
    inferred = pm.inspect_notebook(str(NB_DIR / f"{stem}.ipynb"))
    assert list(inferred) == list(SCENARIO_KEYS)
    for key, spec in SCENARIO_KEYS.items():
        p = inferred[key]
        assert p["inferred_type_name"] == spec.type.__name__
        assert p["default"] == repr(spec.default)
        assert p["help"] == spec.help


# --------------------------------------------------------------------------- helpers in-process
def test_scenario_from_namespace_takes_the_scenario_keys_and_ignores_other_names():
    s = qn.scenario_from_namespace({"horizon": 2, "lang": "zh", "qn": object(), "In": []})
    assert (s.horizon, s.lang) == (2, "zh")
    assert list(s.years) == [2006, 2007, 2008]


def _parent_and_child(tmp_path: Path) -> Path:
    """A parent that changes horizon and language, a child that sets both back to their
    baseline defaults (15 years, English)."""
    parent = tmp_path / "parent.yaml"
    parent.write_text("scenario_name: parent\nhorizon: 1\nlang: zh\nmc_paths: 0\n", encoding="utf-8")
    child = tmp_path / "child.yaml"
    child.write_text(f"scenario_name: child\nextends: {parent}\nhorizon: 15\nlang: en\n",
                     encoding="utf-8")
    return child


def _papermill_namespace(file: Path) -> dict:
    """The kernel namespace of a papermill run with ``-f file``: the parameters cell's
    defaults, the injected cell's values, and the input history holding both cells."""
    values = yaml.safe_load(file.read_text(encoding="utf-8"))
    injected = "# Parameters\n" + "".join(f"{k} = {v!r}\n" for k, v in values.items())
    ns = {k: spec.default for k, spec in SCENARIO_KEYS.items()}
    ns.update(values)
    ns["_ih"] = ["", parameters_cell_source(), injected, "results = qn.setup(globals())"]
    return ns


def test_a_key_a_child_file_sets_to_its_baseline_default_wins_over_the_parent_under_papermill(tmp_path):
    child = _parent_and_child(tmp_path)
    s = qn.scenario_from_namespace(_papermill_namespace(child))
    expected = load_scenario(child)
    assert (s.horizon, s.lang, s.params["mc_paths"]) == (15, "en", 0)
    assert (s.horizon, s.lang, s.params["mc_paths"]) == (expected.horizon, expected.lang,
                                                          expected.params["mc_paths"])


def test_the_injected_parameters_are_the_names_of_papermills_cell_after_the_parameters_cell(tmp_path):
    ns = _papermill_namespace(_parent_and_child(tmp_path))
    assert qn.injected_parameters(ns) == {"scenario_name", "extends", "horizon", "lang"}
    assert qn.injected_parameters({"_ih": ["", parameters_cell_source(), "x = 1"]}) is None
    assert qn.injected_parameters({}) is None


def test_scenario_from_namespace_rejects_a_bad_parameter_naming_it():
    with pytest.raises(ScenarioError, match="lang"):
        qn.scenario_from_namespace({"lang": "fr"})
    with pytest.raises(ScenarioError, match="horizon"):
        qn.scenario_from_namespace({"horizon": "ten"})


def test_table_html_labels_headers_formats_numbers_and_escapes_text():
    df = pd.DataFrame({"year": [2006], "population": [1234567.4], "county": ["<b>柯城区</b>"],
                       "at_or_above_threshold": [True], "wisn_ratio": [np.nan]})
    html_en = qn.table_html(df, "en", decimals={"wisn_ratio": 2})
    assert "Population [persons]" in html_en and ">2006<" in html_en
    assert "1,234,567" in html_en and "&lt;b&gt;柯城区&lt;/b&gt;" in html_en
    assert ">Yes<" in html_en and ">—<" in html_en
    html_zh = qn.table_html(df, "zh")
    assert "人口（人）" in html_zh and ">是<" in html_zh


@pytest.fixture(scope="module")
def small_results():
    return simulate(Scenario.from_parameters(horizon=3))


def test_shortage_table_lists_merged_townships_largest_first(small_results, monkeypatch):
    monkeypatch.setattr(qn_display, "_display", lambda obj: None)
    table = qn.workload_shortages(small_results)
    w = small_results.workload
    tw = w[(w["cadre"] == "township_vice_president") & (w["year"] == 2009)]
    assert len(table) == int((tw["ratio"] < 1).sum()) > 0
    assert (table["wisn_ratio"] < 1).all()
    assert table["population"].is_monotonic_decreasing
    assert (table["townships_absorbed"] > 0).any()
    largest_short = tw[tw["ratio"] < 1].sort_values("population").iloc[-1]
    assert table["township_code"].iloc[0] == str(largest_short["township_code"])


# --------------------------------------------------------------------------- shared work
def _counting_chart(calls: list):
    from matplotlib.figure import Figure

    def chart(df: pd.DataFrame, lang: str, *, title: str = "") -> Figure:
        calls.append(title)
        fig = Figure(figsize=(2, 1))
        fig.add_subplot().plot(df["x"], df["y"])
        return fig

    return chart


def test_a_chart_of_the_same_data_is_drawn_once_and_shown_again(monkeypatch):
    shown: list = []
    monkeypatch.setattr(qn_display, "_display", shown.append)
    monkeypatch.setattr(qn_display, "_CHART_CACHE", type(qn_display._CHART_CACHE)())
    calls: list = []
    chart = _counting_chart(calls)
    df = pd.DataFrame({"x": [1, 2, 3], "y": [1.0, 4.0, 9.0]})
    qn.show_chart(chart, df, "en", title="t")
    qn.show_chart(chart, df.copy(), "en", title="t")  # equal content, another object
    assert calls == ["t"]
    assert len(shown) == 2 and shown[0].data.startswith(b"\x89PNG") and shown[1].data == shown[0].data


@pytest.mark.parametrize("change", ["data", "lang", "keyword", "dpi", "extra column", "style"])
def test_a_chart_is_drawn_again_when_its_data_language_options_or_resolution_change(change, monkeypatch):
    monkeypatch.setattr(qn_display, "_display", lambda obj: None)
    monkeypatch.setattr(qn_display, "_CHART_CACHE", type(qn_display._CHART_CACHE)())
    calls: list = []
    chart = _counting_chart(calls)
    df = pd.DataFrame({"x": [1, 2, 3], "y": [1.0, 4.0, 9.0]})
    qn.show_chart(chart, df, "en", title="t")
    args, kwargs, dpi = [df, "en"], {"title": "t"}, 110
    if change == "data":
        args[0] = df.assign(y=[1.0, 4.0, 9.000001])
    elif change == "lang":
        args[1] = "zh"
    elif change == "keyword":
        kwargs["title"] = "u"
    elif change == "dpi":
        dpi = 90
    elif change == "extra column":
        args[0] = df.assign(z=0.0)
    else:
        import matplotlib as mpl

        monkeypatch.setitem(mpl.rcParams, "lines.linewidth", 3.0)  # e.g. a style set in the notebook
    qn.show_chart(chart, *args, dpi=dpi, **kwargs)
    assert len(calls) == 2


@pytest.mark.parametrize("unhashable", ["object", "list cells"])
def test_a_chart_with_an_input_that_cannot_be_hashed_is_drawn_every_time(unhashable, monkeypatch):
    monkeypatch.setattr(qn_display, "_display", lambda obj: None)
    calls: list = []
    chart = _counting_chart(calls)
    df = pd.DataFrame({"x": [1, 2], "y": [1.0, 2.0]})
    for _ in range(2):
        if unhashable == "object":
            qn.show_chart(chart, df, "en", title=object())
        else:
            qn.show_chart(chart, df.assign(tags=[["a"], ["b"]]), "en", title="t")
    assert len(calls) == 2


def test_the_chart_cache_keeps_only_the_most_recent_charts(monkeypatch):
    monkeypatch.setattr(qn_display, "_display", lambda obj: None)
    monkeypatch.setattr(qn_display, "_CHART_CACHE", type(qn_display._CHART_CACHE)())
    monkeypatch.setattr(qn_display, "CHART_CACHE_SIZE", 2)
    calls: list = []
    chart = _counting_chart(calls)
    df = pd.DataFrame({"x": [1, 2], "y": [1.0, 2.0]})
    for title in ("a", "b", "c", "a"):
        qn.show_chart(chart, df, "en", title=title)
    assert calls == ["a", "b", "c", "a"] and len(qn_display._CHART_CACHE) == 2


def test_scenarios_with_the_same_demography_share_one_uncertainty_band(monkeypatch):
    monkeypatch.setattr(qn_population, "_BAND_CACHE", type(qn_population._BAND_CACHE)())
    base = simulate(Scenario.from_parameters(horizon=3))
    dearer = simulate(Scenario.from_parameters(horizon=3, overrides={"village.vice_president.allowance": 90}))
    fewer = simulate(Scenario.from_parameters(horizon=3, overrides={"demography.fertility.tfr": 1.0}))
    b = qn_population._band_data(base, 5, 1, "medium")
    assert qn_population._band_data(dearer, 5, 1, "medium") is b  # the allowance does not move the population
    f = qn_population._band_data(fewer, 5, 1, "medium")
    for key in ("pop", "resident_pop"):  # both bands of both populations move with fertility
        assert f is not b and (f[key][1]["q50"].iloc[-1] < b[key][1]["q50"].iloc[-1])
    assert qn_population._band_data(base, 5, 2, "medium") is not b  # another seed: other paths
    from qzfp.model.projection import project

    pa = base.scenario.arrays()
    for v in ("low", "medium", "high", "constant"):  # the medium row reuses the scenario's projection
        ind = project(base.register, pa, variant=v).city_indicators(resident=True)
        for key in ("pop", "resident_pop"):
            variants = b[key][0]
            row = variants[variants["variant"] == v]["value"].to_numpy()
            assert np.array_equal(row, ind[key][0]), (v, key)


def test_default_comparison_starts_with_the_baseline_and_drops_same_model_files(monkeypatch):
    monkeypatch.chdir(ROOT)
    s = Scenario.from_parameters(horizon=1, scenario_name="allowance_100", overrides={
        "village.vice_president.allowance": {"2008-01-01": 100}})
    results, default = qn.compare_scenarios(s)
    names = [r.name for r in results]
    assert default and names[0] == "baseline" and names[1] == "allowance_100"
    assert "baseline_zh" not in names  # models the same as the baseline
    assert all(list(r.years) == [2006, 2007] for r in results)


def test_explicit_compare_with_uses_the_scenario_as_base(monkeypatch):
    monkeypatch.chdir(ROOT)
    s = Scenario.from_parameters(horizon=1, compare_with=["threshold_300"])
    results, default = qn.compare_scenarios(s)
    assert not default and [r.name for r in results] == ["baseline", "threshold_300"]


# --------------------------------------------------------------------------- kernel runs
def _runs() -> dict[str, tuple[str, dict]]:
    runs = {}
    for stem in REPORT_NOTEBOOKS:
        if stem == CHEAPEST:
            continue
        runs[f"{stem}:en"] = (stem, _file_params(FILE_FOR[stem]))
        runs[f"{stem}:zh"] = (stem, {**SMALL, "lang": "zh"})
    # the population page checked against a census it names (the 2010 table at its own date)
    runs["01_population:zh"] = ("01_population", {**SMALL, "lang": "zh", "horizon": 5,
                                                  "census_check": str(CENSUS_2010),
                                                  "census_check_date": "2010-11-01"})
    for f in PARAMS:  # includes baseline (en) and baseline_zh (zh)
        runs[f"{CHEAPEST}:{f.stem}"] = (CHEAPEST, _file_params(f.stem))
    return runs


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    out = tmp_path_factory.mktemp("executed")

    def run(item):
        key, (stem, params) = item
        path = out / f"{key.replace(':', '_')}.ipynb"
        nb = pm.execute_notebook(str(NB_DIR / f"{stem}.ipynb"), str(path), parameters=params,
                                 kernel_name="python3", progress_bar=False, cwd=str(ROOT),
                                 request_save_on_cell_execute=False)
        return key, (nb, params)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(run, _runs().items()))


def _text(nb) -> str:
    parts = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if o.output_type == "stream":
                parts.append(o.text)
            for mime in ("text/markdown", "text/html", "text/plain"):
                if mime in o.get("data", {}):
                    parts.append(o["data"][mime])
    return "\n".join(parts)


def _expected(params: dict):
    return simulate(Scenario.from_parameters(**params))


def test_every_run_finishes_without_errors_warnings_or_stray_text(executed):
    assert len(executed) == 2 * 3 + len(PARAMS)
    for key, (nb, _) in executed.items():
        for cell in nb.cells:
            for o in cell.get("outputs", []):
                assert o.output_type != "error", key
                assert o.output_type != "stream", f"{key}: {o.get('text', '')[:300]}"
                if o.output_type in ("execute_result", "display_data"):
                    assert "text/plain" not in o.data or len(o.data) > 1, f"{key}: bare repr"


def test_every_params_file_runs_with_plain_papermill_parameters(executed):
    for f in PARAMS:
        nb, params = executed[f"{CHEAPEST}:{f.stem}"]
        res = _expected(params)
        lang = res.scenario.lang
        total = res.budget[res.budget["year"] == res.years[0]]["amount_yuan"].sum()
        assert format_yuan(total, lang, compact=True) in _text(nb), f.stem


def test_population_report_shows_the_models_start_population_and_pinyin_names(executed):
    nb, params = executed["01_population:en"]
    res = _expected(params)
    text = _text(nb)
    first = res.summary().iloc[0]
    assert format_persons(first["population"], "en") in text
    assert "Kecheng" in text and "柯城区" not in text
    assert "The 2006 township adjustment" in text
    assert "How good is this projection" in text
    assert "No later census is named" in text
    images = [sum("image/png" in o.get("data", {}) for o in c.get("outputs", [])) for c in nb.cells]
    # the county pyramids as one figure of small multiples, the band, the 2006 adjustment
    pyramids = next(i for i, c in enumerate(nb.cells) if "population_pyramids" in c.source)
    assert images[pyramids] == 1
    assert sum(images) >= 1 + 1 + 2


def test_population_report_in_chinese_has_chinese_headings_and_names(executed):
    nb, params = executed["01_population:zh"]
    res = _expected(params)
    text = _text(nb)
    assert format_persons(res.summary().iloc[0]["population"], "zh") in text
    assert "柯城区" in text and "Kecheng" not in text
    assert "2006年乡镇（街道）区划调整" in text
    # how good is this projection: fitted rates and the check against the named census
    assert "预测的可靠性" in text and "相异指数（%）" in text
    check = res.census_check
    assert format_number(check["total_projected"].iloc[-1], "zh", 0) in text
    # 2006 adjustment: pre-2006 and 2006 township counts of the example register
    assert re.search(r"由139个减为106个", text)


def test_staffing_report_quotes_the_posts_and_shortfalls_of_the_model(executed):
    for key in ("02_staffing_workload:en", "02_staffing_workload:zh"):
        nb, params = executed[key]
        res = _expected(params)
        lang = res.scenario.lang
        last = res.summary().iloc[-1]
        text = _text(nb)
        assert format_number(last["total_posts"], lang) in text
        assert format_number(last["village_vice_presidents"], lang) in text
        w = res.workload
        tw = w[(w["cadre"] == "township_vice_president") & (w["year"] == res.years[-1])]
        short = tw[tw["ratio"] < 1].sort_values("population", ascending=False)
        name = place_names([short["township_code"].iloc[0]], lang, res.register)[0]
        assert name in text


def test_budget_report_basis_table_carries_rules_references_and_amounts(executed):
    nb, params = executed[f"{CHEAPEST}:baseline"]
    res = _expected(params)
    text = _text(nb)
    b = res.budget[res.budget["year"] == res.years[0]]
    for line in ("village_vp_allowance", "reward_assistance"):
        row = b[b["line"] == line]
        assert row["rule_path"].iloc[0] in text
        assert format_number(row["amount_yuan"].sum(), "en") in text
    assert "衢委办[2004]38号" in text


def test_comparison_report_shows_differences_sensitivity_and_sweep(executed):
    nb, params = executed["04_compare:en"]
    text = _text(nb)
    assert "`baseline`" in text and "`allowance_100`" in text
    base = _expected({**params, "scenario_name": "baseline", "overrides": {}, "extends": ""})
    scen = _expected(params)
    delta = scen.summary()["budget_yuan"].iloc[-1] - base.summary()["budget_yuan"].iloc[-1]
    assert "+" + format_yuan(delta, "en", compact=True) in text
    assert "Sensitivity" in text and "Sweep of two levers" in text
    nb_zh, _ = executed["04_compare:zh"]
    assert "敏感性分析" in _text(nb_zh) and "双参数扫描" in _text(nb_zh)


def test_plain_papermill_with_extends_keeps_a_key_the_file_sets_to_its_baseline_default(tmp_path):
    from qzfp.i18n import t

    child = _parent_and_child(tmp_path)  # the parent: 1 year in Chinese; the child: 15 in English
    nb = pm.execute_notebook(str(NB_DIR / f"{CHEAPEST}.ipynb"), str(tmp_path / "out.ipynb"),
                             parameters=yaml.safe_load(child.read_text(encoding="utf-8")),
                             kernel_name="python3", progress_bar=False, cwd=str(ROOT),
                             request_save_on_cell_execute=False)
    text = _text(nb)
    assert t("nb.budget.title", "en") in text and t("nb.budget.title", "zh") not in text
    assert "2021" in text  # 2006 + 15 years, not the parent's single year


def test_the_uncertainty_band_at_the_largest_mc_paths_fits_in_1_5_gb_of_address_space():
    """10,000 paths drawn at once would need ~5.5 GB (0.55 MB a path for Quzhou over 16
    years, measured); drawn in chunks the band stays within the limit, and its quantiles
    keep their meaning (the start year is known: no spread; q10 ≤ q50 ≤ q90 every year)."""
    import subprocess
    import sys

    n = SCENARIO_KEYS["mc_paths"].max
    assert n == 10_000
    limit = 1536 * 1024**2
    code = ("import resource, json\n"
            f"resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))\n"
            "from qzfp.rules.scenario import Scenario\nfrom qzfp.model.run import simulate\nfrom qzfp.reporting import sections as notebook\n"
            f"res = simulate(Scenario.from_parameters(horizon=15, mc_paths={n}))\n"
            f"_, q = notebook.population._band_data(res, {n}, 2006, 'medium')['resident_pop']\n"
            "print(q.to_json(orient='records'))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = json.loads(done.stdout)
    assert len(rows) == 16
    assert rows[0]["q10"] == pytest.approx(rows[0]["q90"])
    assert all(r["q10"] <= r["q50"] <= r["q90"] for r in rows)
    assert rows[-1]["q90"] > rows[-1]["q10"]


def test_paths_up_to_one_chunk_are_the_same_as_one_monte_carlo_call():
    from qzfp.model.montecarlo import monte_carlo
    from qzfp.register import load_register

    res = simulate(Scenario.from_parameters(horizon=3, mc_paths=50))
    assert qn.mc_chunk_paths(load_register(), 4, 50) >= 50
    bands = qn_population._band_data(res, 50, 7, "medium")
    ind = monte_carlo(res.register, res.scenario.arrays(), 50, 7).city_indicators(resident=True)
    for key in ("pop", "resident_pop"):
        np.testing.assert_allclose(bands[key][1]["q50"].to_numpy(), np.quantile(ind[key], 0.5, axis=0))
