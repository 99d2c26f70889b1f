"""``qzfp explore`` as a planner opens it: the Voilà page in headless Chromium at 1280 × 800.

``qzfp explore --lang zh --no-browser --port P`` runs as its own process in an empty folder
(so it opens on the packaged baseline and saves scenarios to that folder's ``params/``), and
a Chromium that sees no system font able to draw Chinese (a fontconfig of its own; checked
with ``fc-list``) opens ``http://127.0.0.1:P/``.  The tests look at the page as shown
(no code, no sideways scrolling, which font drew each Chinese character), move its slider,
language list and buttons with DevTools mouse and key events, and compare what it shows
with :class:`qzfp.explore.ExplorerModel` of the same scenario, computed here.

How fast a drag settles is measured in ``benchmarks/bench_explorer.py --voila``, not here.
The tests skip only when Chromium is not installed.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from chinese import english_words
from explorer_page import (
    button,
    check_controls,
    check_labels,
    check_not_cut,
    click,
    drag,
    explorer_in_voila,
    layout,
    readout,
    type_text,
)

from qzfp import i18n
from qzfp.explore import LEVERS, ExplorerModel
from qzfp.explore.levers import PLAN_LEVER_VALUES, RULE_LEVERS
from qzfp.reporting.pdf import chromium_path
from qzfp.rules.scenario import load_scenario, packaged_params_dir

WIDTH, HEIGHT = 1280, 800
ALLOWANCE = "village.vice_president.allowance"

pytestmark = pytest.mark.skipif(chromium_path() is None, reason="Chromium not installed")

#: The key figures the page shows, in order: catalogue label, figure of
#: :meth:`ExplorerModel.figures`, decimals shown.
FIGURES = (
    ("col.population", "population", 0),
    ("col.townships", "townships", 0),
    ("col.village_vice_presidents", "village_vice_presidents", 0),
    ("col.township_vice_presidents", "township_vice_presidents", 0),
    ("col.total_posts", "total_posts", 0),
    ("col.wisn_required_staff", "wisn_required_staff", 0),
    ("col.townships_short_of_staff", "townships_short_of_staff", 0),
    ("col.budget_yuan", "budget_yuan", 0),
    ("nb.explore.budget_horizon", "budget_horizon_yuan", 0),
    ("col.budget_per_capita_yuan", "budget_per_capita_yuan", 2),
)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """``qzfp explore --lang zh --no-browser --port P`` in an empty folder, opened in a
    Chromium without Chinese system fonts."""
    folder = tmp_path_factory.mktemp("planner")
    with explorer_in_voila(folder, ["--lang", "zh"], WIDTH, HEIGHT, cjk_fonts=False) as (b, server):
        yield b, server, folder


@pytest.fixture(scope="module")
def page(served):
    return served[0]


@pytest.fixture(scope="module")
def model():
    """The model of the scenario the page opens on (the packaged baseline)."""
    return ExplorerModel(load_scenario(Path(packaged_params_dir()) / "baseline.yaml"))


def label_of(key: str, lang: str) -> str:
    return i18n.t(RULE_LEVERS[key].label_key, lang) if key in RULE_LEVERS else i18n.t(
        next(lv.label_key for lv in LEVERS if lv.key == key), lang)


def settings_shown(b, model: ExplorerModel, lang: str) -> dict:
    """The levers as the page shows them (slider readouts, the variant list)."""
    out = {}
    for lv in LEVERS:
        if lv.key == "variant":
            shown = b.evaluate(f"(() => {{ const s = qz.control({json.dumps(label_of('variant', lang))})"
                               ".querySelector('select'); return s.options[s.selectedIndex].text; })()")
            out["variant"] = next(v for v in ("medium", "low", "high", "constant")
                                  if i18n.t(f"variant.{v}", lang) == shown)
        else:
            value = readout(b, label_of(lv.key, lang))
            out[lv.key] = int(value) if isinstance(model.initial[lv.key], int) else value
    return out


def figures_shown(b) -> list[list[str]]:
    """The rows (label, value) of the key figures table."""
    return b.evaluate("[...qz.root().querySelectorAll('.qzfp-figures tr')]"
                      ".map(r => [...r.cells].map(c => c.textContent.trim()))")


def expected_figures(model: ExplorerModel, settings: dict, lang: str, year: int) -> list[list[str]]:
    f = model.figures(settings, year, "")
    y0, y1 = int(model.years[0]), int(model.years[-1])
    return [[i18n.t(key, lang, start_year=y0, end_year=y1) if key.startswith("nb.") else i18n.t(key, lang),
             i18n.format_number(f[name], lang, decimals)] for key, name, decimals in FIGURES]


def wait_for_figures(b, expected: list[list[str]], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while figures_shown(b) != expected:
        if time.monotonic() > deadline:
            assert figures_shown(b) == expected
        time.sleep(0.1)


def year_shown(b, lang: str) -> int:
    return int(readout(b, i18n.t("nb.explore.year", lang)))


def page_text(b) -> str:
    return b.evaluate("document.body.innerText")


# --------------------------------------------------------------------------- the page


def test_the_command_prints_the_address_it_serves_in_the_language_asked_for(served):
    _, server, _ = served
    assert server.url == f"http://127.0.0.1:{server.port}/"
    assert server.first_line == i18n.t("explore.serving", "zh", url=server.url)


def test_the_page_shows_no_code(page):
    shown = page.evaluate("""({
      editors: document.querySelectorAll('.jp-InputArea, .jp-InputPrompt, .jp-CodeMirrorEditor, .cm-editor, pre').length,
      text: document.body.innerText,
      html: document.documentElement.outerHTML})""")
    assert shown["editors"] == 0
    for code in ("import", "Explorer(", "os.chdir", "explorer.widget"):
        assert code not in shown["text"], code
    assert "os.chdir" not in shown["html"] and "from qzfp" not in shown["html"]  # not even hidden


def test_while_it_loads_the_page_says_so_in_chinese_and_nothing_else(page):
    assert page.evaluate("window.qzLoading") == [i18n.t("explore.loading", "zh")]
    assert page.evaluate("document.getElementById('loading')") is None  # gone once drawn


def test_the_page_asks_nothing_of_the_network_but_its_own_server(served):
    from urllib.parse import urlparse

    page, server, _ = served
    asked = page.requests()
    assert any(u.startswith(server.url) for u in asked)
    others = [u for u in asked if urlparse(u).scheme not in ("data", "blob")
              and (urlparse(u).hostname, urlparse(u).port) != ("127.0.0.1", server.port)]
    assert others == []
    assert page.evaluate("document.documentElement.lang") == "zh"  # the language asked for


def test_the_font_is_the_one_file_the_page_serves_from_its_folder(served):
    import urllib.error
    import urllib.request

    from qzfp.i18n.fonts import shipped_font_path

    page, server, _ = served
    font = server.url + "voila/files/qzfp-cjk.ttf"
    assert font in page.requests()
    with urllib.request.urlopen(font, timeout=30) as answer:
        assert answer.read() == Path(shipped_font_path()).read_bytes()
    title = i18n.t("nb.explore.title", "zh")
    for other in (f"{title}.ipynb", "kernels/qzfp-explore/kernel.json"):  # beside it, not served
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(server.url + "voila/files/" + urllib.request.quote(other), timeout=30)
    # the explorer does not bring a second copy of the font (it would be 3.8 MB more)
    assert page.evaluate("[...document.querySelectorAll('style')].filter(s => s.textContent.includes('data:font')).length") == 0


def test_the_page_fits_1280_px_without_sideways_scrolling(page):
    s = layout(page)
    check_controls(s, "zh", WIDTH)
    check_not_cut(s)
    check_labels(s, "zh")
    scrolled = page.evaluate("""({
      document: document.documentElement.scrollWidth, body: document.body.scrollWidth,
      // any element whose content is wider than itself and that would scroll sideways
      sideways: [...document.querySelectorAll('*')].filter(e => e.scrollWidth > e.clientWidth + 1
        && ['auto', 'scroll'].includes(getComputedStyle(e).overflowX)).map(e => e.tagName + '.' + e.className),
      right: Math.max(...[...qz.root().querySelectorAll('*')].map(e => e.getBoundingClientRect().right))})""")
    assert scrolled["document"] <= WIDTH and scrolled["body"] <= WIDTH
    assert scrolled["sideways"] == []
    assert scrolled["right"] <= WIDTH


def test_every_lever_chart_key_figure_and_button_of_the_explorer_is_on_the_page(page, model):
    zh = "zh"
    assert [row[0] for row in figures_shown(page)] == [row[0] for row in expected_figures(model, {}, zh, 2006)]
    charts = page.evaluate("[...qz.root().querySelectorAll('svg text')].map(t => t.textContent)")
    place = i18n.t("nb.explore.all_counties", zh)
    y0, y1 = int(model.years[0]), int(model.years[-1])
    assert i18n.t("nb.explore.chart_budget", zh, place=place, start_year=y0, end_year=y1) in charts
    assert i18n.t("nb.explore.chart_posts", zh, place=place) in charts
    text = page_text(page)
    assert i18n.t("nb.explore.table_title", zh, place=place, year=y0) in text
    assert i18n.t("nb.explore.plan_ceiling", zh) in text and i18n.t("nb.explore.save_name", zh) in text
    for key in ("nb.explore.plan_button", "nb.explore.save"):
        assert page.evaluate(f"!!({button(i18n.t(key, zh))})"), key
    # it opens on the baseline: every lever at the value in force in the start year
    assert settings_shown(page, model, zh) == model.initial


def test_the_chinese_of_the_page_is_drawn_with_the_shipped_font_on_a_machine_without_chinese_fonts(page):
    assert page.fc_list(":charset=4e2d") == "" and page.fc_list(":lang=zh") == ""  # no system font for 中
    nodes = page.chinese_fonts()
    assert sum(n.chars for n in nodes) > 500
    for n in nodes:  # every Chinese character one glyph of the shipped font, no fallback font
        assert n.shipped_glyphs >= n.chars and not n.other_fonts, n
    drawn = {n.text.strip() for n in nodes}
    assert i18n.t("nb.explore.title", "zh") in drawn                      # heading
    assert i18n.t("param.village.vice_president.allowance", "zh") in drawn  # a widget's label
    chart = set(page.evaluate("[...qz.root().querySelectorAll('svg text')].map(t => t.textContent.trim())"))
    assert len(drawn & chart) >= 5                                       # the chart's titles and legend


def test_no_text_of_the_chinese_page_is_english(page):
    # the language list names each language in itself: 中文, English
    assert english_words(page_text(page), {"English"}) == []


# --------------------------------------------------------------------------- moving it


def test_a_moved_slider_shows_the_key_figures_the_model_computes_for_its_value(page, model):
    label = i18n.t("param.village.vice_president.allowance", "zh")
    before = readout(page, label)
    drag(page, label, 0.5)
    wait_for_figures(page, expected_figures(model, settings_shown(page, model, "zh"), "zh", year_shown(page, "zh")))
    assert readout(page, label) > 3 * before  # moved from 60 to about half of the track
    drag(page, i18n.t("nb.explore.year", "zh"), 1.0)
    assert year_shown(page, "zh") == int(model.years[-1])
    wait_for_figures(page, expected_figures(model, settings_shown(page, model, "zh"), "zh", int(model.years[-1])))


def test_the_language_list_turns_the_page_into_english_and_back_keeping_the_settings(page, model):
    settings, year = settings_shown(page, model, "zh"), year_shown(page, "zh")

    def choose(lang: str) -> None:
        page.evaluate(f"(() => {{ const s = document.querySelector('.qzfp-lang select');"
                      f" s.value = [...s.options].find(o => o.text === {json.dumps(i18n.t(f'lang.{lang}', lang))}).value;"
                      f" s.dispatchEvent(new Event('change', {{bubbles: true}})); return true; }})()")
        page.wait_for(f"document.querySelector('.qzfp-explorer h3').textContent === "
                      f"{json.dumps(i18n.t('nb.explore.title', lang))}", timeout=30)

    choose("en")
    english = layout(page)  # the English labels fit too
    check_controls(english, "en", WIDTH)
    check_not_cut(english)
    check_labels(english, "en")
    assert settings_shown(page, model, "en") == settings and year_shown(page, "en") == year
    wait_for_figures(page, expected_figures(model, settings, "en", year))
    choose("zh")
    wait_for_figures(page, expected_figures(model, settings, "zh", year))


def test_the_plan_button_moves_the_staffing_levers_to_the_models_best_plan_under_the_ceiling(page, model):
    settings, year = settings_shown(page, model, "zh"), year_shown(page, "zh")
    cheapest = float(model.plans(settings, year)[0]["budget_yuan"].min())
    ceiling = round((cheapest + model.figures(settings, year, "")["budget_yuan"]) / 2)  # below the current budget
    type_text(page, "qz.root().querySelector('input[type=number]')", str(ceiling))
    click(page, button(i18n.t("nb.explore.plan_button", "zh")))
    plan = model.best_plan(settings, ceiling, year)
    moved = {k: v for k, v in plan.settings.items() if k in PLAN_LEVER_VALUES}
    assert moved != {k: settings[k] for k in moved}  # the ceiling is below the current budget
    page.wait_for("qz.root().querySelector('svg + *, p') && document.body.innerText.includes("
                  + json.dumps(i18n.format_yuan(ceiling, "zh")) + ")", timeout=60)
    deadline = time.monotonic() + 30
    while {k: settings_shown(page, model, "zh")[k] for k in moved} != moved and time.monotonic() < deadline:
        time.sleep(0.1)
    assert {k: settings_shown(page, model, "zh")[k] for k in moved} == moved
    wait_for_figures(page, expected_figures(model, plan.settings, "zh", year))


def test_save_as_scenario_writes_a_scenario_file_to_the_params_folder_where_the_command_runs(served, model):
    page, _, folder = served
    settings = settings_shown(page, model, "zh")
    type_text(page, "qz.root().querySelector('input[type=text]')", "planner_zh")
    click(page, button(i18n.t("nb.explore.save", "zh")))
    target = folder / "params" / "planner_zh.yaml"
    page.wait_for(f"document.body.innerText.includes({json.dumps(i18n.t('nb.explore.saved', 'zh', path=str(target.resolve())))})",
                  timeout=30)
    saved = load_scenario(target)
    assert saved.value(ALLOWANCE, model.start_year) == settings["village_allowance"]
    assert ExplorerModel(saved).figures({}, int(model.years[-1]), "") == model.figures(settings, int(model.years[-1]), "")
