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
from explorer_page import (
    check_controls,
    check_labels,
    check_not_cut,
    drag,
    explorer_in_lab,
    figures_text,
    layout,
    settled_state,
)

from qzfp import i18n
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
    """What the page shows of the explorer in ``lang``, within the notebook's panel."""
    return layout(b, LANGS.index(lang),
                  view="Math.min(window.innerWidth, qz.panel().content.node.getBoundingClientRect().right)")


@pytest.mark.parametrize("lang", LANGS)
def test_every_control_lies_within_the_1280_px_window(page, lang):
    check_controls(shown(page, lang), lang, WIDTH)


@pytest.mark.parametrize("lang", LANGS)
def test_the_chart_and_the_budget_table_are_not_cut_at_the_right(page, lang):
    check_not_cut(shown(page, lang))


@pytest.mark.parametrize("lang", LANGS)
def test_no_label_of_the_explorer_is_cut(page, lang):
    check_labels(shown(page, lang), lang)


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
