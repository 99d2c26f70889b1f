"""The explorer as a planner sees it: JupyterLab in headless Chromium at 1280 × 800.

A JupyterLab server is started as its own process (free port, token, throw-away Jupyter
folders) on a temporary folder holding the shipped ``notebooks/00_explore.ipynb`` with a
papermill-style injected cell (3 years, so the kernel starts fast).  Chromium opens it
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
from pathlib import Path

import nbformat
import pytest

from qzfp import i18n
from qzfp.explorer import LEVERS
from qzfp.printpdf import chromium_path
from qzfp.scenario import Scenario, load_scenario
from qzfp.simulate import simulate

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "00_explore.ipynb"
WIDTH, HEIGHT = 1280, 800
HORIZON = 3
ALLOWANCE = "village.vice_president.allowance"

pytestmark = [
    pytest.mark.skipif(chromium_path() is None, reason="Chromium not installed"),
    pytest.mark.skipif(importlib.util.find_spec("jupyterlab") is None
                       or importlib.util.find_spec("jupyterlab_widgets") is None,
                       reason="JupyterLab (with the ipywidgets extension) not installed"),
]

# Helpers defined in the page: the notebook panel, code run in its kernel, the explorer's DOM.
PAGE_HELPERS = r"""
window.qz = {
  panel() {
    const app = window.jupyterapp;
    if (!app) return null;
    for (const w of app.shell.widgets('main'))
      if (w.sessionContext && w.context && w.context.path === 'explore.ipynb') return w;
    return null;
  },
  kernelIdle() {
    const p = qz.panel();
    const k = p && p.sessionContext.session && p.sessionContext.session.kernel;
    return !!(k && k.connectionStatus === 'connected' && k.status === 'idle');
  },
  async kernelRun(code) {          // run code in the notebook's kernel, return its stdout
    const k = qz.panel().sessionContext.session.kernel;
    const future = k.requestExecute({code, silent: false, store_history: false});
    let out = '';
    future.onIOPub = (msg) => {
      if (msg.header.msg_type === 'stream') out += msg.content.text;
      if (msg.header.msg_type === 'error') out += 'ERROR ' + msg.content.ename + ': ' + msg.content.evalue;
    };
    await future.done;
    return out;
  },
  root() { return document.querySelector('.qzfp-explorer'); },
  controls() { return Array.from(qz.root().querySelectorAll('.qzfp-control')); },
  control(label) {
    return qz.controls().find(c => c.querySelector(':scope > .widget-label').textContent.startsWith(label));
  },
  rect(e) { const r = e.getBoundingClientRect(); return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width}; },
};
true
"""


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """The shipped explorer notebook, run in JupyterLab, shown in Chromium at 1280 × 800."""
    from browser import Browser, JupyterLab

    folder = tmp_path_factory.mktemp("lab")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    injected = nbformat.v4.new_code_cell(f"# Parameters\nhorizon = {HORIZON}\nlang = 'en'\n")
    injected.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(1, injected)
    nbformat.write(nb, folder / "explore.ipynb")
    with JupyterLab(folder) as lab, Browser(WIDTH, HEIGHT, allow_hosts=["127.0.0.1"]) as b:
        b.navigate(lab.url("lab/tree/explore.ipynb"))
        b.wait_for("!!window.jupyterapp", timeout=120)
        b.evaluate(PAGE_HELPERS)
        b.wait_for("qz.kernelIdle()", timeout=120)
        b.evaluate("(async () => { const a = window.jupyterapp; a.shell.activateById(qz.panel().id);"
                   " await a.commands.execute('notebook:run-all-cells'); return true; })()")
        try:
            b.wait_for("!!qz.root() && qz.controls().length >= 10 && qz.kernelIdle()"
                       " && qz.root().textContent.includes('2006')", timeout=120)
        except TimeoutError:
            raise AssertionError("the explorer did not render; server log:\n"
                                 + lab.server_log()[-3000:]) from None
        b.evaluate("document.fonts.ready.then(() => true)")
        yield b


def shown(b) -> dict:
    """What the page shows of every control and label of the explorer."""
    return b.evaluate("""(() => {
      const view = Math.min(window.innerWidth, qz.panel().content.node.getBoundingClientRect().right);
      const part = (c, sel) => { const e = c.querySelector(sel); return e ? qz.rect(e) : null; };
      const controls = qz.controls().map(c => ({
        label: c.querySelector(':scope > .widget-label').textContent,
        box: qz.rect(c),
        labelBox: part(c, ':scope > .widget-label'),
        input: part(c, ':scope > .slider-container') || part(c, ':scope > select'),
        readout: part(c, ':scope > .widget-readout'),
      }));
      // the chart, its texts and the tables: what must not run past the right edge either
      const wide = [...qz.root().querySelectorAll('svg, svg text, table')].map(e => ({
        what: e.tagName + ' ' + e.textContent.slice(0, 40), box: qz.rect(e)}));
      const labels = Array.from(qz.root().querySelectorAll('.widget-label'))
        .filter(e => getComputedStyle(e).display !== 'none' && e.textContent.trim())
        .map(e => ({text: e.textContent, sw: e.scrollWidth, cw: e.clientWidth,
                    sh: e.scrollHeight, ch: e.clientHeight}));
      return {view, width: window.innerWidth, controls, labels, wide};
    })()""")


def test_every_control_lies_within_the_1280_px_window(page):
    s = shown(page)
    assert s["width"] == WIDTH
    labels = [c["label"] for c in s["controls"]]
    expected = [i18n.t(lv.label_key, "en") for lv in LEVERS] + [
        i18n.t("nb.explore.year", "en"), i18n.t("nb.explore.county_filter", "en")]
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


def test_the_chart_and_the_budget_table_are_not_cut_at_the_right(page):
    s = shown(page)
    assert any(w["what"].startswith("svg") for w in s["wide"])
    assert sum(w["what"].startswith("TABLE") for w in s["wide"]) >= 2  # key figures, budget
    for w in s["wide"]:
        assert w["box"]["right"] <= s["view"] + 0.5, w


def test_no_label_of_the_explorer_is_cut(page):
    s = shown(page)
    assert len(s["labels"]) >= 11  # ten controls and the scenario name
    for lab in s["labels"]:
        assert lab["sw"] <= lab["cw"] and lab["sh"] <= lab["ch"], lab
    merge = next(c["label"] for c in shown(page)["controls"]
                 if c["label"].startswith(i18n.t("param.merge_target", "en")))
    assert merge.endswith(f"({i18n.t('nb.explore.merge_note', 'en')})")  # the whole text


def drag(b, label: str, fraction: float, steps: int = 8) -> None:
    """Press the slider's handle, move it in ``steps`` quick mouse moves to ``fraction``
    of the track, release it."""
    geo = b.evaluate(f"""(() => {{
      const c = qz.control({json.dumps(label)});
      c.scrollIntoView({{block: 'center'}});
      const h = c.querySelector('.noUi-handle').getBoundingClientRect();
      const t = c.querySelector('.noUi-target').getBoundingClientRect();
      return {{x: h.left + h.width / 2, y: h.top + h.height / 2, left: t.left, width: t.width}};
    }})()""")
    x0, y = geo["x"], geo["y"]
    x1 = geo["left"] + fraction * geo["width"]
    mouse = {"session": True, "button": "left", "y": y}
    page_call = b.call
    page_call("Input.dispatchMouseEvent", type="mouseMoved", x=x0, **{**mouse, "button": "none"})
    page_call("Input.dispatchMouseEvent", type="mousePressed", x=x0, clickCount=1, buttons=1, **mouse)
    for k in range(1, steps + 1):
        page_call("Input.dispatchMouseEvent", type="mouseMoved", x=x0 + (x1 - x0) * k / steps,
                  buttons=1, **mouse)
    page_call("Input.dispatchMouseEvent", type="mouseReleased", x=x1, clickCount=1, buttons=0, **mouse)


def kernel_state(b) -> dict:
    """The explorer's own record in the kernel: update count and control values."""
    out = b.evaluate("qz.kernelRun('import json; print(json.dumps({\"updates\": explorer.updates,"
                     " **explorer.state()}))')")
    return json.loads(out)


def figures_text(b) -> str:
    return b.evaluate("qz.root().querySelector('.qzfp-figures').textContent")


def test_a_drag_ends_with_one_update_showing_the_figures_of_the_last_position(page):
    before = kernel_state(page)
    label = i18n.t("param.village.vice_president.allowance", "en")
    drag(page, label, 0.5)
    after = kernel_state(page)  # runs after the drag's messages: the kernel handles them in order
    value = after["village_allowance"]
    readout = page.evaluate(f"qz.control({json.dumps(label)}).querySelector('.widget-readout').textContent")
    assert float(readout.replace(",", "")) == pytest.approx(value)
    assert value > 3 * before["village_allowance"]  # moved from 60 to about half of the track
    assert after["updates"] - before["updates"] == 1  # no recomputation for passed positions

    base = load_scenario("baseline").to_papermill()
    expected = simulate(Scenario.from_parameters(
        **{**base, "horizon": HORIZON, "overrides": {ALLOWANCE: value}})).summary()
    first = expected[expected["year"] == after["year"]].iloc[0]
    budget = i18n.format_number(float(first["budget_yuan"]), "en")
    horizon = i18n.format_number(float(expected["budget_yuan"].sum()), "en")
    page.wait_for(f"qz.root().querySelector('.qzfp-figures').textContent.includes({json.dumps(budget)})",
                  timeout=30)
    assert horizon in figures_text(page)


def test_dragging_the_year_shows_the_figures_of_the_year_where_the_drag_ended(page):
    before = kernel_state(page)
    drag(page, i18n.t("nb.explore.year", "en"), 1.0)
    after = kernel_state(page)
    last = 2006 + HORIZON
    assert after["year"] == last and after["updates"] - before["updates"] == 1
    base = load_scenario("baseline").to_papermill()
    expected = simulate(Scenario.from_parameters(
        **{**base, "horizon": HORIZON,
           "overrides": {ALLOWANCE: after["village_allowance"]}})).summary()
    row = expected[expected["year"] == last].iloc[0]
    page.wait_for(f"qz.root().querySelector('.qzfp-figures').textContent.includes('{last}')", timeout=30)
    text = figures_text(page)
    assert i18n.format_number(float(row["population"]), "en") in text
    assert i18n.format_number(float(row["budget_yuan"]), "en") in text
