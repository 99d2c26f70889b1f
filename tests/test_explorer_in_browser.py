"""The explorer as a planner sees it: JupyterLab in headless Chromium at 1280 × 800.

A JupyterLab server is started as its own process (free port, token, throw-away Jupyter
folders) on a temporary folder holding the shipped ``notebooks/00_explore.ipynb`` with a
papermill-style injected cell (3 years, so the kernel starts fast) and one more cell with
the same explorer in Chinese (the layout is checked in both languages).  Chromium opens it
with a 1280 × 800 window, the real application runs its cells, the ipywidgets render, and
the tests measure the page (``getBoundingClientRect``, ``scrollWidth``) and drag a slider
with DevTools mouse events.  The figures expected after a drag come from
:func:`qzfp.simulate` of a scenario with the dragged value, not from the explorer.

How fast a drag settles is measured in ``benchmarks/bench_explorer.py``, not asserted here.
The tests skip only when Chromium or JupyterLab is not installed.
"""

from __future__ import annotations

import importlib.util
import json

import pytest
from explorer_page import drag, explorer_in_lab, figures_text, settled_state

from qzfp import i18n
from qzfp.explore import LEVERS
from qzfp.model.run import simulate
from qzfp.reporting.pdf import chromium_path
from qzfp.rules.scenario import Scenario, load_scenario

WIDTH, HEIGHT = 1280, 800
HORIZON = 3
ALLOWANCE = "village.vice_president.allowance"
LANGS = ("en", "zh")  # the notebook's explorer, then a Chinese one in a cell below

pytestmark = [
    pytest.mark.skipif(chromium_path() is None, reason="Chromium not installed"),
    pytest.mark.skipif(importlib.util.find_spec("jupyterlab") is None
                       or importlib.util.find_spec("jupyterlab_widgets") is None,
                       reason="JupyterLab (with the ipywidgets extension) not installed"),
]


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """The shipped explorer notebook, run in JupyterLab, shown in Chromium at 1280 × 800."""
    zh = "Explorer(scenario, lang='zh').widget  # the same below in Chinese"
    with explorer_in_lab(tmp_path_factory.mktemp("lab"), {"horizon": HORIZON, "lang": "en"},
                         WIDTH, HEIGHT, extra_cells=(zh,)) as b:
        yield b


def shown(b, lang: str) -> dict:
    """What the page shows of every control and label of the explorer in ``lang``."""
    i = LANGS.index(lang)
    return b.evaluate("""((i) => {
      const view = Math.min(window.innerWidth, qz.panel().content.node.getBoundingClientRect().right);
      const part = (c, sel) => { const e = c.querySelector(sel); return e ? qz.rect(e) : null; };
      const controls = qz.controls(i).map(c => ({
        label: c.querySelector(':scope > .widget-label').textContent,
        box: qz.rect(c),
        labelBox: part(c, ':scope > .widget-label'),
        input: part(c, ':scope > .slider-container') || part(c, ':scope > select'),
        readout: part(c, ':scope > .widget-readout'),
      }));
      // the chart, its texts and the tables: what must not run past the right edge either
      const wide = [...qz.root(i).querySelectorAll('svg, svg text, table')].map(e => ({
        what: e.tagName + ' ' + e.textContent.slice(0, 40), box: qz.rect(e)}));
      const labels = Array.from(qz.root(i).querySelectorAll('.widget-label'))
        .filter(e => getComputedStyle(e).display !== 'none' && e.textContent.trim())
        .map(e => ({text: e.textContent, sw: e.scrollWidth, cw: e.clientWidth,
                    sh: e.scrollHeight, ch: e.clientHeight}));
      return {view, width: window.innerWidth, controls, labels, wide};
    })(INDEX)""".replace("INDEX", str(i)))


@pytest.mark.parametrize("lang", LANGS)
def test_every_control_lies_within_the_1280_px_window(page, lang):
    s = shown(page, lang)
    assert s["width"] == WIDTH
    labels = [c["label"] for c in s["controls"]]
    expected = [i18n.t(lv.label_key, lang) for lv in LEVERS] + [
        i18n.t("nb.explore.year", lang), i18n.t("nb.explore.county_filter", lang)]
    for text in expected:  # every lever, the year slider and the county filter are shown
        assert sum(label.startswith(text) for label in labels) == 1, (text, labels)
    for c in s["controls"]:
        parts = [p for p in (c["box"], c["labelBox"], c["input"], c["readout"]) if p]
        for r in parts:
            assert r["width"] > 0, c["label"]
            assert 0 <= r["left"] and r["right"] <= s["view"] <= WIDTH, (c["label"], r, s["view"])
        for r in parts[1:]:  # label, slider and readout inside the control's own box
            assert c["box"]["top"] - 0.5 <= r["top"] and r["bottom"] <= c["box"]["bottom"] + 0.5, (c["label"], r)
        assert c["labelBox"]["bottom"] <= c["input"]["top"] + 0.5, c["label"]  # label above its input
    boxes = [c["box"] for c in s["controls"]]
    for i, a in enumerate(boxes):  # no control drawn over another
        for b in boxes[i + 1:]:
            apart = a["bottom"] <= b["top"] + 0.5 or b["bottom"] <= a["top"] + 0.5 \
                or a["right"] <= b["left"] + 0.5 or b["right"] <= a["left"] + 0.5
            assert apart, (a, b)


@pytest.mark.parametrize("lang", LANGS)
def test_the_chart_and_the_budget_table_are_not_cut_at_the_right(page, lang):
    s = shown(page, lang)
    assert any(w["what"].startswith("svg") for w in s["wide"])
    assert sum(w["what"].startswith("TABLE") for w in s["wide"]) >= 2  # key figures, budget
    for w in s["wide"]:
        assert w["box"]["right"] <= s["view"] + 0.5, w


@pytest.mark.parametrize("lang", LANGS)
def test_no_label_of_the_explorer_is_cut(page, lang):
    s = shown(page, lang)
    assert len(s["labels"]) >= 11  # ten controls and the scenario name
    for lab in s["labels"]:
        assert lab["sw"] <= lab["cw"] and lab["sh"] <= lab["ch"], lab
    merge = next(c["label"] for c in shown(page, lang)["controls"]
                 if c["label"].startswith(i18n.t("param.merge_target", lang)))
    assert merge.endswith(f"({i18n.t('nb.explore.merge_note', lang)})")  # the whole text


def expected_summary(allowance: float):
    """The library's yearly summary of the baseline over the test's horizon with the
    village allowance at ``allowance`` from the start year (a scalar override)."""
    base = load_scenario("baseline").to_papermill()
    return simulate(Scenario.from_parameters(
        **{**base, "horizon": HORIZON, "overrides": {ALLOWANCE: allowance}})).summary()


def wait_for_figure(b, text: str) -> None:
    b.wait_for(f"qz.root().querySelector('.qzfp-figures').textContent.includes({json.dumps(text)})",
               timeout=30)


def test_a_drag_ends_with_one_update_showing_the_figures_of_the_last_position(page):
    label = i18n.t("param.village.vice_president.allowance", "en")
    before = settled_state(page, "village_allowance", label)
    drag(page, label, 0.5)  # eight quick mouse moves, then the release
    after = settled_state(page, "village_allowance", label)
    value = after["village_allowance"]
    assert value > 3 * before["village_allowance"]  # moved from 60 to about half of the track
    assert after["updates"] - before["updates"] == 1  # no recomputation for the passed positions

    expected = expected_summary(value)
    first = expected[expected["year"] == after["year"]].iloc[0]
    wait_for_figure(page, i18n.format_number(float(first["budget_yuan"]), "en"))
    assert i18n.format_number(float(expected["budget_yuan"].sum()), "en") in figures_text(page)


def test_quick_successive_changes_end_with_the_figures_of_the_last_one(page):
    # a burst faster than an update: the widget frontend keeps at most one change in
    # flight and merges the rest, so the kernel never works through a queue of stale ones
    label = i18n.t("param.village.vice_president.allowance", "en")
    before = settled_state(page, "village_allowance", label)
    for fraction in (0.2, 0.3, 0.4, 0.5, 0.6):
        drag(page, label, fraction, steps=3)
    page.evaluate(f"qz.control({json.dumps(label)}).querySelector('.noUi-handle').focus(); true")
    presses = 4
    for _ in range(presses):
        for kind in ("keyDown", "keyUp"):
            page.call("Input.dispatchKeyEvent", session=True, type=kind, key="ArrowRight",
                      code="ArrowRight", windowsVirtualKeyCode=39)
    after = settled_state(page, "village_allowance", label)
    step = page.evaluate("qz.kernelRun('print(explorer.controls[\"village_allowance\"].step)')")
    at_drag_end = after["village_allowance"] - presses * float(step)
    track = page.evaluate(f"qz.control({json.dumps(label)}).querySelector('.noUi-target').getBoundingClientRect().width")
    top = float(page.evaluate("qz.kernelRun('print(explorer.controls[\"village_allowance\"].max)')"))
    assert at_drag_end == pytest.approx(0.6 * top, abs=top / track + float(step))  # where the last drag ended
    assert 1 <= after["updates"] - before["updates"] <= 5 + presses
    expected = expected_summary(after["village_allowance"])
    first = expected[expected["year"] == after["year"]].iloc[0]
    wait_for_figure(page, i18n.format_number(float(first["budget_yuan"]), "en"))


def test_dragging_the_year_shows_the_figures_of_the_year_where_the_drag_ended(page):
    label = i18n.t("nb.explore.year", "en")
    before = settled_state(page, "year", label)
    drag(page, label, 1.0)
    after = settled_state(page, "year", label)
    last = 2006 + HORIZON
    assert after["year"] == last and after["updates"] - before["updates"] == 1
    row = expected_summary(after["village_allowance"]).set_index("year").loc[last]
    wait_for_figure(page, i18n.format_number(float(row["budget_yuan"]), "en"))
    text = figures_text(page)
    assert str(last) in text
    assert i18n.format_number(float(row["population"]), "en") in text
