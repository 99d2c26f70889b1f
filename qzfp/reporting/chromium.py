"""A headless Chromium driven over the DevTools protocol (``--remote-debugging-pipe``).

No driver and no web socket: Chromium reads protocol messages (JSON, NUL-terminated) on
file descriptor 3 and answers on 4.  ``report.pdf`` is printed through it
(:mod:`qzfp.reporting.pdf`: one page load, two prints, the second with the contents
numbered), and the tests measure with it what a real browser does with the pages.

Chromium is found as ``$QZFP_CHROMIUM`` or on ``PATH`` (``chromium``, ``chromium-browser``,
``google-chrome``); it runs offline (every host name unresolvable unless allowed) with a
throw-away profile.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["DevTools", "chromium_command", "chromium_path"]

_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def chromium_path() -> str | None:
    """The Chromium (or Chrome) program to use, or None when none is installed."""
    env = os.environ.get("QZFP_CHROMIUM")
    if env:
        return env if (Path(env).is_file() or shutil.which(env)) else None
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium_command(program: str, profile: str | Path) -> list[str]:
    """The headless Chromium command line qzfp uses (offline, throw-away ``profile``)."""
    cmd = [
        program, "--headless", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
        "--disable-extensions", "--disable-background-networking", "--disable-sync",
        "--mute-audio", "--hide-scrollbars", f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * ~NOTFOUND",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
    return cmd


class DevTools:
    """One headless Chromium with one page; ``with DevTools() as b: b.open(path)``.

    Parameters
    ----------
    width, height : int
        Size of the window [CSS px].
    allow_hosts : sequence of str
        Hosts the page may still reach (e.g. ``127.0.0.1`` for a local server); every other
        name stays unresolvable, as in :func:`chromium_command`.
    program : str, optional
        The Chromium program (default :func:`chromium_path`).
    env : mapping, optional
        Environment of the Chromium process (default this process's).

    Raises
    ------
    FileNotFoundError
        No Chromium is installed.
    """

    def __init__(self, width: int = 1280, height: int = 800, allow_hosts: Sequence[str] = (),
                 program: str | None = None, env: Mapping[str, str] | None = None):
        program = program or chromium_path()
        if program is None:
            raise FileNotFoundError("chromium")
        self.profile = tempfile.mkdtemp(prefix="qzfp-cdp-")
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def wire() -> None:  # in the child: fd 3 = commands in, fd 4 = answers out
            os.dup2(to_child_r, 3)
            os.dup2(from_child_w, 4)

        cmd = chromium_command(program, self.profile)
        if allow_hosts:
            cmd = [a + "".join(f", EXCLUDE {h}" for h in allow_hosts)
                   if a.startswith("--host-resolver-rules=") else a for a in cmd]
        cmd += ["--remote-debugging-pipe", f"--window-size={width},{height}", "about:blank"]
        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL, preexec_fn=wire, pass_fds=(3, 4),
                                         close_fds=True, env=None if env is None else dict(env))
        except OSError:
            for fd in (to_child_r, from_child_w, self._to_child, self._from_child):
                os.close(fd)
            shutil.rmtree(self.profile, ignore_errors=True)
            raise
        os.close(to_child_r)
        os.close(from_child_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict[str, Any]] = []
        try:
            targets = self.call("Target.getTargets")["targetInfos"]
            page = next(t for t in targets if t["type"] == "page")
            self.session = self.call("Target.attachToTarget", targetId=page["targetId"], flatten=True)["sessionId"]
            for domain in ("Page", "Network", "DOM", "CSS", "Runtime"):
                self.call(f"{domain}.enable", session=True)
            self.call("Emulation.setDeviceMetricsOverride", session=True, width=width, height=height,
                      deviceScaleFactor=1, mobile=False)
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ protocol
    def _send(self, message: dict[str, Any]) -> None:
        os.write(self._to_child, json.dumps(message).encode() + b"\0")

    def _read(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no answer from Chromium within {timeout:.0f} s")
            ready, _, _ = select.select([self._from_child], [], [], left)
            if ready:
                chunk = os.read(self._from_child, 1 << 20)
                if not chunk:
                    raise RuntimeError("Chromium closed the pipe")
                self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, *, session: bool = False, timeout: float = 60.0, **params: Any) -> Any:
        """Send one command and return its result (events meanwhile go to ``events``)."""
        self._id += 1
        message: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        self._send(message)
        while True:
            answer = self._read(timeout)
            if answer.get("id") == self._id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    def wait_event(self, method: str, timeout: float = 60.0) -> dict[str, Any]:
        """Wait for (and consume) the next event ``method``."""
        for i, ev in enumerate(self.events):
            if ev.get("method") == method:
                return self.events.pop(i)
        while True:
            ev = self._read(timeout)
            if ev.get("method") == method:
                return ev
            self.events.append(ev)

    # ------------------------------------------------------------------ pages
    def open(self, path: Path, timeout: float = 60.0) -> None:
        """Load a file and wait until it and its fonts are loaded."""
        self.events.clear()
        self.call("Page.navigate", session=True, url=Path(path).absolute().as_uri())
        self.wait_event("Page.loadEventFired", timeout)
        self.evaluate("document.fonts.ready.then(() => document.fonts.status)")

    def navigate(self, url: str) -> None:
        """Load ``url`` and wait for its load event."""
        self.events.clear()
        self.call("Page.navigate", session=True, url=url)
        self.wait_event("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        """Evaluate JavaScript in the page (promises awaited) and return its value."""
        res = self.call("Runtime.evaluate", session=True, expression=expression, awaitPromise=True,
                        returnByValue=True)
        if "exceptionDetails" in res:
            raise RuntimeError(str(res["exceptionDetails"]))
        return res["result"].get("value")

    def print_pdf(self, *, timeout: float = 180.0, outline: bool = False, tagged: bool = True) -> bytes:
        """The page printed as a PDF: the page's own ``@page`` size and margins, no header or
        footer of Chromium's; ``outline``: bookmarks made from the headings.

        ``tagged=False`` leaves out the PDF's structure tree (Chromium tags by default): a
        print whose file only says on which page each anchor lands (its named destinations)
        is then about a third faster, with the same pages; an outline needs the tags.
        """
        options: dict[str, Any] = {"generateDocumentOutline": outline}
        if not tagged:
            options["generateTaggedPDF"] = False
        result = self.call("Page.printToPDF", session=True, timeout=timeout, preferCSSPageSize=True,
                           displayHeaderFooter=False, **options)
        return base64.b64decode(result["data"])

    def close(self) -> None:
        try:
            self._send({"id": self._id + 1, "method": "Browser.close"})
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
            self.proc.wait()
        finally:
            os.close(self._to_child)
            os.close(self._from_child)
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> DevTools:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
