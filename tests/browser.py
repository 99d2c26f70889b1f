"""A headless Chromium driven over the DevTools protocol (``--remote-debugging-pipe``, the
client of :mod:`qzfp.reporting.chromium`), and a JupyterLab server.

Used by the tests to measure what a real browser does with the pages: which font draws
each text node (``CSS.getPlatformFontsForNode``, summed by :meth:`Browser.chinese_fonts`),
whether any network request is made, how wide a laid-out element is.
``Browser(cjk_fonts=False)`` runs Chromium with a fontconfig that hides every system font
able to draw Chinese, as on an office machine without one.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qzfp.reporting.chromium import DevTools, chromium_path

__all__ = ["CJK", "SHIPPED_FAMILY", "Browser", "ChineseText", "chromium_path", "free_port"]

SHIPPED_FAMILY = "Noto Sans CJK SC qzfp"  # the family name inside qzfp/fonts/*.ttf
# CJK punctuation, ideographs and full-width forms: the characters the shipped font must draw.
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")

# fontconfig as the system has it, less every font that has the character 中 (U+4E2D)
_NO_CJK_FONTCONFIG = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <selectfont><rejectfont>
    <pattern><patelt name="charset"><charset><int>0x4e2d</int></charset></patelt></pattern>
  </rejectfont></selectfont>
</fontconfig>
"""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 just now (for a server a test starts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ChineseText:
    """The Chinese of one rendered text node and the fonts that drew it."""

    text: str
    chars: int
    """CJK characters in the text."""
    shipped_glyphs: int
    """Glyphs the shipped font drew for the node."""
    other_fonts: set[str]
    """Other fonts that drew a node of Chinese characters only (a fallback font)."""


class Browser(DevTools):
    """One headless Chromium with one page (:class:`qzfp.reporting.chromium.DevTools`, the one
    that prints ``report.pdf``), with what the tests measure: text nodes and the fonts that
    draw them, network requests, waiting for a condition.  ``with Browser() as b: b.open(path)``.

    Parameters
    ----------
    width, height : int
        Size of the window (CSS pixels).
    allow_hosts : sequence of str
        Hosts the page may still reach (e.g. ``127.0.0.1`` for a local Jupyter server).
    cjk_fonts : bool
        False: Chromium sees no system font that draws Chinese (a fontconfig file of its
        own that rejects every font with 中; :meth:`fc_list` asks the same fontconfig).
    """

    def __init__(self, width: int = 1280, height: int = 800, allow_hosts: Sequence[str] = (),
                 cjk_fonts: bool = True):
        self._fonts_dir = tempfile.mkdtemp(prefix="qzfp-fc-")
        self.env = dict(os.environ)
        if not cjk_fonts:
            conf = Path(self._fonts_dir) / "fonts-without-cjk.conf"
            conf.write_text(_NO_CJK_FONTCONFIG, encoding="utf-8")
            self.env["FONTCONFIG_FILE"] = str(conf)
        try:
            super().__init__(width, height, allow_hosts, env=self.env)
        except BaseException:
            shutil.rmtree(self._fonts_dir, ignore_errors=True)
            raise

    def wait_for(self, expression: str, timeout: float = 60.0, every: float = 0.2) -> Any:
        """Evaluate ``expression`` until it is truthy and return that value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"still false after {timeout:.0f} s: {expression}")
            time.sleep(every)

    def requests(self) -> list[str]:
        """URLs requested since the last :meth:`open` (from ``Network.requestWillBeSent``)."""
        return [ev["params"]["request"]["url"] for ev in self.events
                if ev.get("method") == "Network.requestWillBeSent"]

    def text_nodes(self) -> list[tuple[int, str]]:
        """``(nodeId, text)`` of every non-blank text node of the document."""
        root = self.call("DOM.getDocument", session=True, depth=-1)["root"]
        found: list[tuple[int, str]] = []
        stack = [root]
        while stack:
            node = stack.pop()
            if node.get("nodeName") in ("STYLE", "SCRIPT", "HEAD"):
                continue
            if node.get("nodeType") == 3 and node.get("nodeValue", "").strip():
                found.append((node["nodeId"], node["nodeValue"]))
            stack.extend(reversed(node.get("children", [])))
        return found

    def platform_fonts(self, node_id: int) -> list[dict[str, Any]]:
        """``CSS.getPlatformFontsForNode``: the fonts that draw the node, with glyph counts."""
        return self.call("CSS.getPlatformFontsForNode", session=True, nodeId=node_id)["fonts"]

    def chinese_fonts(self) -> list[ChineseText]:
        """Every rendered text node of the page with Chinese in it and the fonts that drew
        it (nodes not rendered, e.g. ``display: none``, are left out)."""
        found = []
        for node_id, text in self.text_nodes():
            k = len(CJK.findall(text))
            fonts = self.platform_fonts(node_id) if k else []
            if not fonts:  # no Chinese, or not rendered
                continue
            shipped = sum(f["glyphCount"] for f in fonts if f["familyName"] == SHIPPED_FAMILY)
            only_cjk = all(CJK.match(c) for c in text.strip())
            others = {f["familyName"] for f in fonts if f["familyName"] != SHIPPED_FAMILY} if only_cjk else set()
            found.append(ChineseText(text, k, shipped, others))
        return found

    def fc_list(self, pattern: str) -> str:
        """``fc-list PATTERN family`` with the fontconfig Chromium uses ("" without fc-list)."""
        if shutil.which("fc-list") is None:
            return ""
        return subprocess.run(["fc-list", pattern, "family"], env=self.env, capture_output=True,
                              text=True, timeout=60, check=True).stdout

    def close(self) -> None:
        try:
            super().close()
        finally:
            shutil.rmtree(self._fonts_dir, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self


class JupyterLab:
    """A JupyterLab server as a separate process, on a free local port with a token.

    ``with JupyterLab(folder) as lab: browser.navigate(lab.url("lab/tree/x.ipynb"))``.
    Its configuration, runtime and settings folders are throw-away ones inside ``folder``'s
    parent, so nothing of the user's Jupyter set-up is read or written; its kernels import
    the qzfp of this checkout (``PYTHONPATH``).  ``window.jupyterapp`` is exposed so a test
    can run commands of the real application.

    Parameters
    ----------
    root : Path
        Folder the server serves (the notebooks).
    timeout : float
        Seconds to wait for the server to answer [s].
    """

    def __init__(self, root: Path, timeout: float = 120.0):
        import secrets
        import sys
        import urllib.request

        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.home = Path(tempfile.mkdtemp(prefix="qzfp-lab-"))
        repo = str(Path(__file__).resolve().parents[1])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([repo] + [p for p in [env.get("PYTHONPATH")] if p])
        for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTERLAB_SETTINGS_DIR",
                    "JUPYTERLAB_WORKSPACES_DIR", "IPYTHONDIR"):
            env[var] = str(self.home / var.lower())
        # no "get notified about Jupyter news?" toast over the page (and no request for news)
        news = self.home / "jupyterlab_settings_dir" / "@jupyterlab" / "apputils-extension"
        news.mkdir(parents=True)
        (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false", "checkForUpdates": false}',
                                                               encoding="utf-8")
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
               f"--port={self.port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root}",
               "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        self.log = open(self.home / "server.log", "w+b")  # noqa: SIM115 (closed in close())
        self.proc = subprocess.Popen(cmd, env=env, cwd=root, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(self.url("api/status"), timeout=2):
                    break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    text = self.server_log()
                    self.close()
                    raise RuntimeError(f"JupyterLab did not start:\n{text[-3000:]}") from None
                time.sleep(0.2)

    def url(self, path: str) -> str:
        """Address of ``path`` on the server, with the token."""
        return f"http://127.0.0.1:{self.port}/{path}?token={self.token}"

    def server_log(self) -> str:
        """What the server printed so far."""
        self.log.flush()
        return (self.home / "server.log").read_text(encoding="utf-8", errors="replace")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # the server shuts its kernels down on SIGTERM
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> JupyterLab:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
