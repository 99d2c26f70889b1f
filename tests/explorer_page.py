"""The explorer notebook opened in JupyterLab in headless Chromium, for tests and benchmarks.

:func:`explorer_in_lab` writes the shipped ``notebooks/00_explore.ipynb`` with a
papermill-style injected parameters cell into a folder, starts a JupyterLab server on it
(:class:`browser.JupyterLab`), opens it in a :class:`browser.Browser`, runs its cells in the
real application and waits until the explorer's widgets are drawn.  The page then has a
``qz`` object of helpers (the notebook panel, code run in its kernel, the explorer's
controls); :func:`drag` moves a slider with DevTools mouse events and :func:`kernel_state`
reads what the kernel's explorer holds.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nbformat
from browser import Browser, JupyterLab

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "00_explore.ipynb"

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
  root(i = 0) { return document.querySelectorAll('.qzfp-explorer')[i]; },  // i-th explorer
  controls(i = 0) { return Array.from(qz.root(i).querySelectorAll('.qzfp-control')); },
  control(label) {
    return qz.controls().find(c => c.querySelector(':scope > .widget-label').textContent.startsWith(label));
  },
  rect(e) { const r = e.getBoundingClientRect(); return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width}; },
};
true
"""




@contextmanager
def explorer_in_lab(folder: Path, parameters: dict[str, Any], width: int = 1280,
                    height: int = 800, extra_cells: tuple[str, ...] = ()) -> Iterator[Browser]:
    """The explorer notebook with ``parameters`` injected (and ``extra_cells`` appended),
    run in JupyterLab, shown in a ``width`` × ``height`` Chromium window [CSS px]; yields
    the browser once every explorer of the notebook is drawn."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    injected = nbformat.v4.new_code_cell(
        "# Parameters\n" + "".join(f"{k} = {v!r}\n" for k, v in parameters.items()))
    injected.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(1, injected)
    nb.cells.extend(nbformat.v4.new_code_cell(src) for src in extra_cells)
    explorers = 1 + sum("Explorer(" in src for src in extra_cells)
    nbformat.write(nb, folder / "explore.ipynb")
    with JupyterLab(folder) as lab, Browser(width, height, allow_hosts=["127.0.0.1"]) as b:
        b.navigate(lab.url("lab/tree/explore.ipynb"))
        b.wait_for("!!window.jupyterapp", timeout=120)
        b.evaluate(PAGE_HELPERS)
        b.wait_for("qz.kernelIdle()", timeout=120)
        b.evaluate("(async () => { const a = window.jupyterapp; a.shell.activateById(qz.panel().id);"
                   " await a.commands.execute('notebook:run-all-cells'); return true; })()")
        try:
            b.wait_for(f"document.querySelectorAll('.qzfp-explorer .qzfp-figures table').length"
                       f" >= {explorers} && qz.kernelIdle()", timeout=120)
        except TimeoutError:
            raise AssertionError("the explorer did not render; server log:\n"
                                 + lab.server_log()[-3000:]) from None
        b.evaluate("document.fonts.ready.then(() => true)")
        yield b


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
    b.call("Input.dispatchMouseEvent", type="mouseMoved", x=x0, **{**mouse, "button": "none"})
    b.call("Input.dispatchMouseEvent", type="mousePressed", x=x0, clickCount=1, buttons=1, **mouse)
    for k in range(1, steps + 1):
        b.call("Input.dispatchMouseEvent", type="mouseMoved", x=x0 + (x1 - x0) * k / steps,
                  buttons=1, **mouse)
    b.call("Input.dispatchMouseEvent", type="mouseReleased", x=x1, clickCount=1, buttons=0, **mouse)


def kernel_state(b) -> dict:
    """The explorer's own record in the kernel: update count and control values."""
    out = b.evaluate("qz.kernelRun('import json; print(json.dumps({\"updates\": explorer.updates,"
                     " **explorer.state()}))')")
    return json.loads(out)


def readout(b: Browser, label: str) -> float:
    """The value a slider shows beside its track."""
    text = b.evaluate(f"qz.control({json.dumps(label)}).querySelector('.widget-readout').textContent")
    return float(text.replace(",", ""))


def settled_state(b: Browser, key: str, label: str, timeout: float = 30.0) -> dict:
    """:func:`kernel_state` once the kernel holds the value the slider ``label`` shows
    (the widget frontend sends at most one change at a time and merges the rest)."""
    deadline = time.monotonic() + timeout
    while True:
        state = kernel_state(b)
        if state[key] == readout(b, label):
            return state
        if time.monotonic() > deadline:
            raise AssertionError(f"the kernel holds {key} = {state[key]} but the slider shows "
                                 f"{readout(b, label)} after {timeout:.0f} s")
        time.sleep(0.1)


def figures_text(b: Browser) -> str:
    """Text of the key figures shown."""
    return b.evaluate("qz.root().querySelector('.qzfp-figures').textContent")
