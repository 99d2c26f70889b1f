"""``report.pdf``: a report's pages printed by headless Chromium.

The pages of a scenario (a contents page, then every report page in order) are joined
into one temporary HTML document beside them (so the shipped font in ``assets/`` is
found) and printed with ``chromium --headless --print-to-pdf``: A4, the pages' own print
style (:mod:`qzfp.reporting.pagestyle`) with the scenario and page number in the footer, the
network switched off.  Chromium is found as ``$QZFP_CHROMIUM`` or on ``PATH``
(``chromium``, ``chromium-browser``, ``google-chrome``); Debian installs it with
``apt-get install chromium``.  Without it the report is written all the same and one line
says why there is no PDF.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from qzfp.reporting.publish import atomic_path

__all__ = ["PDF_FILE", "chromium_command", "chromium_path", "join_pages", "print_to_pdf", "write_report_pdf"]

#: Name of the PDF inside a report folder.
PDF_FILE = "report.pdf"
_PRINT_FILE = ".report-print.html"
_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
_TIMEOUT_S = 180.0

_HEAD_RE = re.compile(r"<head\b[^>]*>(.*?)</head>", re.IGNORECASE | re.DOTALL)
_BODY_RE = re.compile(r"<body\b[^>]*>(.*)</body>", re.IGNORECASE | re.DOTALL)
_NAV_RE = re.compile(r'<nav class="qzfp-nav">.*?</nav>', re.DOTALL)


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


def join_pages(folder: Path, pages: Sequence[str], *, contents: str, lang: str, title: str) -> str:
    """One HTML document: ``contents``, then the body of every page, each on a new sheet.

    The ``<head>`` (theme and print style) is that of the first page; navigation bars are
    left out.
    """
    from qzfp.reporting.pagestyle import html_lang

    head = ""
    bodies = []
    for name in pages:
        text = (folder / name).read_text(encoding="utf-8")
        if not head:
            m = _HEAD_RE.search(text)
            head = m.group(1) if m else ""
        m = _BODY_RE.search(text)
        body = _NAV_RE.sub("", m.group(1) if m else text)
        bodies.append(
            f'<section id="page-{html.escape(name)}" style="break-before:page">{body}</section>'
        )
    head = re.sub(r"<title>.*?</title>", "", head, flags=re.DOTALL)
    return (
        f'<!DOCTYPE html>\n<html lang="{html_lang(lang)}">\n<head>{head}'
        f"<title>{html.escape(title)}</title></head>\n<body>\n"
        f'<section class="qzfp-contents" style="padding:1rem 0">{contents}</section>\n'
        + "\n".join(bodies)
        + "\n</body>\n</html>\n"
    )


def print_to_pdf(source: Path, target: Path, *, program: str | None = None,
                 timeout: float = _TIMEOUT_S) -> None:
    """Print the HTML file ``source`` to the PDF ``target`` with headless Chromium.

    Raises
    ------
    FileNotFoundError
        No Chromium is installed.
    RuntimeError
        Chromium failed or wrote no PDF (the message is one line).
    """
    program = program or chromium_path()
    if program is None:
        raise FileNotFoundError("chromium")
    profile = tempfile.mkdtemp(prefix="qzfp-chromium-")
    try:
        with atomic_path(target) as partial:
            cmd = chromium_command(program, profile) + [
                "--no-pdf-header-footer",
                f"--print-to-pdf={partial}", Path(source).absolute().as_uri(),
            ]
            try:
                proc = subprocess.run(cmd, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired as exc:
                raise RuntimeError(f"Chromium did not finish within {timeout:.0f} s") from exc
            except OSError as exc:
                raise RuntimeError(f"Chromium could not be started: {exc}") from exc
            if not partial.is_file() or partial.stat().st_size == 0:
                err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
                last = err[-1] if err else f"exit status {proc.returncode}"
                raise RuntimeError(f"Chromium wrote no PDF ({last[:200]})")
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def write_report_pdf(folder: Path, pages: Sequence[str], *, contents: str, lang: str, title: str,
                     footer: str = "") -> str | None:
    """Write ``folder/report.pdf`` from ``pages`` (file names in ``folder``).

    Returns
    -------
    str or None
        None when the PDF was written, else a one-line message saying why not (Chromium
        missing or failing); the caller prints it and carries on.
    """
    from qzfp.i18n import t

    folder = Path(folder)
    program = chromium_path()
    if program is None:
        return t("index.pdf_missing", lang, reason=t("index.no_chromium", lang))
    source = folder / _PRINT_FILE
    try:
        source.write_text(join_pages(folder, pages, contents=contents, lang=lang, title=title),
                          encoding="utf-8")
        print_to_pdf(source, folder / PDF_FILE, program=program)
    except (RuntimeError, OSError) as exc:
        return t("index.pdf_missing", lang, reason=str(exc).replace("\n", " "))
    finally:
        if source.exists():
            source.unlink()
    return None
