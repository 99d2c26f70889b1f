"""A headless Chromium driven over the DevTools protocol (``--remote-debugging-pipe``, the
client of :mod:`qzfp.reporting.chromium`), and a JupyterLab server.

Used by the tests to measure what a real browser does with the pages: which font draws
each text node (``CSS.getPlatformFontsForNode``), whether any network request is made, how
wide a laid-out element is.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from qzfp.reporting.chromium import DevTools, chromium_path

__all__ = ["Browser", "chromium_path"]


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
    """

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
        import socket
        import sys
        import urllib.request

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
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
