"""The explorer as a planner opens it, in headless Chromium, for tests and benchmarks.

Two ways in, one set of helpers:

- :func:`explorer_in_lab` writes the shipped ``notebooks/00_explore.ipynb`` with a
  papermill-style injected parameters cell into a folder, starts a JupyterLab server on it
  (:class:`browser.JupyterLab`), opens it in a :class:`browser.Browser`, runs its cells in
  the real application and waits until the explorer's widgets are drawn;
  :func:`kernel_state` and :func:`settled_state` read what the kernel's explorer holds;
- :func:`explorer_in_voila` runs ``qzfp explore ... --no-browser --port P`` as its own
  process (:class:`ExploreCommand`) and opens ``http://127.0.0.1:P/`` in the browser.

Either way the page then has a ``qz`` object of helpers (the explorer's controls, boxes);
:func:`drag` moves a slider with DevTools mouse events, :func:`layout` measures what the
page shows and :func:`check_controls`, :func:`check_not_cut` and :func:`check_labels` say
whether it fits the window.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nbformat
from browser import Browser, JupyterLab, free_port

from qzfp import i18n
from qzfp.explore import LEVERS

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "00_explore.ipynb"

EXPLORER_HELPERS = r"""
window.qz = Object.assign(window.qz || {}, {
  root(i = 0) { return document.querySelectorAll('.qzfp-explorer')[i]; },  // i-th explorer
  controls(i = 0) { return Array.from(qz.root(i).querySelectorAll('.qzfp-control')); },
  control(label) {
    return qz.controls().find(c => c.querySelector(':scope > .widget-label').textContent.startsWith(label));
  },
  rect(e) { const r = e.getBoundingClientRect(); return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width}; },
});
true
"""

LAB_HELPERS = r"""
window.qz = Object.assign(window.qz || {}, {
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
});
true
"""


LOADING_RECORDER = r"""
window.qzLoading = [];  // every text the page shows while it loads (#loading_text), in order
new MutationObserver(() => {
  const e = document.getElementById('loading_text');
  if (e && window.qzLoading[window.qzLoading.length - 1] !== e.textContent) window.qzLoading.push(e.textContent);
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


def _drawn(explorers: int) -> str:
    """JavaScript: true once ``explorers`` explorers show their key figures."""
    return f"document.querySelectorAll('.qzfp-explorer .qzfp-figures table').length >= {explorers}"


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
        b.evaluate(EXPLORER_HELPERS)
        b.evaluate(LAB_HELPERS)
        b.wait_for("qz.kernelIdle()", timeout=120)
        b.evaluate("(async () => { const a = window.jupyterapp; a.shell.activateById(qz.panel().id);"
                   " await a.commands.execute('notebook:run-all-cells'); return true; })()")
        try:
            b.wait_for(f"{_drawn(explorers)} && qz.kernelIdle()", timeout=120)
        except TimeoutError:
            raise AssertionError("the explorer did not render; server log:\n"
                                 + lab.server_log()[-3000:]) from None
        b.evaluate("document.fonts.ready.then(() => true)")
        yield b


class ExploreCommand:
    """``qzfp [GLOBAL...] explore ARGS... --no-browser --port P`` as its own process, in
    ``cwd``, on a free port; ready once it has printed the address it serves.

    Attributes
    ----------
    url : str
        ``http://127.0.0.1:P/``.
    first_line : str
        What the command printed first (the address line).
    """

    def __init__(self, cwd: Path, args: Sequence[str] = (), global_args: Sequence[str] = (),
                 env: dict[str, str] | None = None, timeout: float = 120.0):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = Path(cwd) / f".explore-{self.port}.log"
        qzfp = Path(sys.executable).with_name("qzfp")  # the console script, as a planner runs it
        cmd = [str(qzfp)] if qzfp.exists() else [sys.executable, "-m", "qzfp"]
        cmd += [*global_args, "explore", *args, "--no-browser", "--port", str(self.port)]
        self._err = open(self.log, "w+b")  # noqa: SIM115 (closed in close())
        self.proc = subprocess.Popen(cmd, cwd=cwd, env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=self._err)
        self.first_line = self._read_line(timeout)

    def _read_line(self, timeout: float) -> str:
        deadline, buf = time.monotonic() + timeout, b""
        assert self.proc.stdout is not None
        while b"\n" not in buf:
            ready, _, _ = select.select([self.proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(self.proc.stdout.fileno(), 4096) if ready else b""
            if not chunk:
                self.close()
                raise AssertionError(f"qzfp explore printed no address; it said:\n{self.stderr()[-3000:]}")
            buf += chunk
        return buf.decode("utf-8").split("\n", 1)[0]

    def stderr(self) -> str:
        """What the command wrote to stderr so far."""
        self._err.flush()
        return self.log.read_text(encoding="utf-8", errors="replace")

    def close(self) -> None:
        """Stop the command as Ctrl+C would end it (SIGTERM: Voila stops its kernels)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._err.close()

    def __enter__(self) -> ExploreCommand:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


@contextmanager
def explorer_in_voila(cwd: Path, args: Sequence[str] = (), width: int = 1280, height: int = 800,
                      *, cjk_fonts: bool = True, global_args: Sequence[str] = (),
                      env: dict[str, str] | None = None) -> Iterator[tuple[Browser, ExploreCommand]]:
    """``qzfp explore ARGS`` served from ``cwd`` and opened at its address in a
    ``width`` × ``height`` Chromium window (``cjk_fonts=False``: one without any system
    font that draws Chinese); yields the browser and the command once the explorer is drawn.
    What the page said while it loaded is ``window.qzLoading`` (:data:`LOADING_RECORDER`)."""
    with ExploreCommand(cwd, args, global_args, env) as server, \
            Browser(width, height, allow_hosts=["127.0.0.1"], cjk_fonts=cjk_fonts) as b:
        b.call("Page.addScriptToEvaluateOnNewDocument", session=True, source=LOADING_RECORDER)
        b.navigate(server.url)
        try:
            b.wait_for(_drawn(1), timeout=120)
        except TimeoutError:
            raise AssertionError("the explorer did not render; qzfp explore said:\n"
                                 + server.stderr()[-3000:]) from None
        b.evaluate(EXPLORER_HELPERS)
        b.evaluate("document.fonts.ready.then(() => true)")
        yield b, server


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


def _centre(b: Browser, element: str) -> tuple[float, float]:
    """Centre [CSS px] of the element the JavaScript ``element`` gives, scrolled into view."""
    box = b.evaluate(f"""(() => {{ const e = {element}; e.scrollIntoView({{block: 'center'}});
      const r = e.getBoundingClientRect(); return {{x: r.left + r.width / 2, y: r.top + r.height / 2}}; }})()""")
    return box["x"], box["y"]


def click(b: Browser, element: str) -> None:
    """Click (DevTools mouse events) the element the JavaScript ``element`` gives."""
    x, y = _centre(b, element)
    for kind, buttons in (("mousePressed", 1), ("mouseReleased", 0)):
        b.call("Input.dispatchMouseEvent", session=True, type=kind, x=x, y=y, button="left",
               buttons=buttons, clickCount=1)


def press(b: Browser, key: str, code: int) -> None:
    """Press and release a key (``Enter``, 13) in the focused element."""
    for kind in ("keyDown", "keyUp"):
        b.call("Input.dispatchKeyEvent", session=True, type=kind, key=key, code=key,
               windowsVirtualKeyCode=code, **({"text": "\r"} if key == "Enter" and kind == "keyDown" else {}))


def type_text(b: Browser, element: str, text: str) -> None:
    """Click into the input the JavaScript ``element`` gives, replace its text by ``text``
    as typed (``Input.insertText``) and press Enter."""
    click(b, element)
    b.evaluate(f"(() => {{ const e = {element}; e.focus(); e.select(); return true; }})()")
    b.call("Input.insertText", session=True, text=text)
    press(b, "Enter", 13)


def button(text: str) -> str:
    """JavaScript: the explorer's button that reads ``text``."""
    return f"[...qz.root().querySelectorAll('button')].find(e => e.textContent.trim() === {json.dumps(text)})"


def kernel_state(b) -> dict:
    """The explorer's own record in the kernel: update count and control values (JupyterLab)."""
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


def layout(b: Browser, index: int = 0, view: str = "window.innerWidth") -> dict:
    """What the page shows of every control and label of its ``index``-th explorer, and
    where: the right edge of the visible area is the JavaScript ``view``."""
    return b.evaluate("""((i) => {
      const view = VIEW;
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
    })(INDEX)""".replace("INDEX", str(index)).replace("VIEW", view))


def check_controls(s: dict, lang: str, width: int) -> None:
    """Assert that in the measured explorer ``s`` (see :func:`layout`) every lever, the year
    slider and the county list are shown once, each control (label above its input,
    readout) lies inside the visible area of a ``width`` px window and its own box, and no
    control is drawn over another."""
    assert s["width"] == width
    labels = [c["label"] for c in s["controls"]]
    expected = [i18n.t(lv.label_key, lang) for lv in LEVERS] + [
        i18n.t("nb.explore.year", lang), i18n.t("nb.explore.county_filter", lang)]
    for text in expected:
        assert sum(label.startswith(text) for label in labels) == 1, (text, labels)
    for c in s["controls"]:
        parts = [p for p in (c["box"], c["labelBox"], c["input"], c["readout"]) if p]
        for r in parts:
            assert r["width"] > 0, c["label"]
            assert 0 <= r["left"] and r["right"] <= s["view"] <= width, (c["label"], r, s["view"])
        for r in parts[1:]:  # label, slider and readout inside the control's own box
            assert c["box"]["top"] - 0.5 <= r["top"] and r["bottom"] <= c["box"]["bottom"] + 0.5, (c["label"], r)
        assert c["labelBox"]["bottom"] <= c["input"]["top"] + 0.5, c["label"]  # label above its input
    boxes = [c["box"] for c in s["controls"]]
    for i, a in enumerate(boxes):  # no control drawn over another
        for b in boxes[i + 1:]:
            apart = a["bottom"] <= b["top"] + 0.5 or b["bottom"] <= a["top"] + 0.5 \
                or a["right"] <= b["left"] + 0.5 or b["right"] <= a["left"] + 0.5
            assert apart, (a, b)


def check_not_cut(s: dict) -> None:
    """Assert that the chart (and each of its texts) and the key figure and budget tables
    of the measured explorer ``s`` end within the visible area."""
    assert any(w["what"].startswith("svg") for w in s["wide"])
    assert sum(w["what"].startswith("TABLE") for w in s["wide"]) >= 2  # key figures, budget
    for w in s["wide"]:
        assert w["box"]["right"] <= s["view"] + 0.5, w


def check_labels(s: dict, lang: str) -> None:
    """Assert that no label of the measured explorer ``s`` is cut (each shows its whole text)."""
    assert len(s["labels"]) >= 11  # ten controls and more
    for lab in s["labels"]:
        assert lab["sw"] <= lab["cw"] and lab["sh"] <= lab["ch"], lab
    merge = next(c["label"] for c in s["controls"] if c["label"].startswith(i18n.t("param.merge_target", lang)))
    assert merge.endswith(f"({i18n.t('nb.explore.merge_note', lang)})")  # the whole text
