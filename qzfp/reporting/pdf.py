"""``report.pdf``: a report's pages printed by headless Chromium.

The pages of a scenario (a contents page, then every report page in order) are joined
into one temporary HTML document beside them (so the shipped font in ``assets/`` is
found) and printed with ``chromium --headless --print-to-pdf``: A4, the pages' own print
style (:mod:`qzfp.reporting.pagestyle`) with the scenario and page number in the footer, the
network switched off.  Chromium is found as ``$QZFP_CHROMIUM`` or on ``PATH``
(``chromium``, ``chromium-browser``, ``google-chrome``); Debian installs it with
``apt-get install chromium``.  Without it the report is written all the same and one line
says why there is no PDF.

The PDF has bookmarks (its outline: Chromium's ``--generate-pdf-document-outline`` makes
one of every page's headings, the pages' titles with their sections below) and page
numbers in its contents.  Chromium cannot number a contents page (CSS ``target-counter``
is not implemented), so the contents links to every page and section; the print tells on
which sheet each link lands (its named destination) and :func:`number_contents` writes the
numbers on the contents page with pypdf, from a one-page print of just the numbers at the
links' heights.  The shipped CJK font is TrueType (``qzfp/fonts``): Chromium embeds it
as one subset CID font (a CFF font would become a Type 3 font per page and style), and
the print style turns off synthetic bold (``font-synthesis``), which Chromium would draw as
Type 3 outlines.
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
from typing import Any

from qzfp.reporting.publish import atomic_path

__all__ = ["PDF_FILE", "chromium_command", "chromium_path", "join_pages", "number_contents", "page_sections",
           "print_to_pdf", "write_report_pdf"]

#: Name of the PDF inside a report folder.
PDF_FILE = "report.pdf"
_PRINT_FILE = ".report-print.html"
_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
_TIMEOUT_S = 180.0

_HEAD_RE = re.compile(r"<head\b[^>]*>(.*?)</head>", re.IGNORECASE | re.DOTALL)
_BODY_RE = re.compile(r"<body\b[^>]*>(.*)</body>", re.IGNORECASE | re.DOTALL)
_NAV_RE = re.compile(r'<nav class="qzfp-nav">.*?</nav>', re.DOTALL)
_ANCHOR_LINK_RE = re.compile(r'<a class="anchor-link"[^>]*>.*?</a>', re.DOTALL)
_H2_RE = re.compile(r"<h2(\s[^>]*)?>(.*?)</h2>", re.IGNORECASE | re.DOTALL)
_ID_RE = re.compile(r'\sid="[^"]*"')
#: Prefix of the anchors (and so of the PDF's named destinations) of pages and sections.
ANCHOR_PREFIX = "page-"


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


def _body(folder: Path, name: str) -> tuple[str, str]:
    """The ``<head>`` content and the ``<body>`` of a page, without its navigation bar and
    the headings' "¶" anchor links (they would end up in the bookmarks)."""
    text = (folder / name).read_text(encoding="utf-8")
    head = _HEAD_RE.search(text)
    body = _BODY_RE.search(text)
    return (head.group(1) if head else "",
            _ANCHOR_LINK_RE.sub("", _NAV_RE.sub("", body.group(1) if body else text)))


def section_anchor(page: str, k: int) -> str:
    """The anchor of the ``k``-th section (``<h2>``) of ``page`` in the joined document."""
    return f"{ANCHOR_PREFIX}{page}-{k}"


def page_sections(folder: Path, pages: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    """The sections of every page: ``(anchor, title)`` of each ``<h2>``, in order."""
    out: dict[str, list[tuple[str, str]]] = {}
    for name in pages:
        _, body = _body(Path(folder), name)
        out[name] = [(section_anchor(name, k), html.unescape(re.sub(r"<[^>]+>", "", m.group(2))).strip())
                     for k, m in enumerate(_H2_RE.finditer(body))]
    return out


def join_pages(folder: Path, pages: Sequence[str], *, contents: str, lang: str, title: str) -> str:
    """One HTML document: ``contents``, then the body of every page, each on a new sheet.

    The ``<head>`` (theme and print style) is that of the first page; navigation bars are
    left out.  Every page is anchored as ``page-<file>`` and each of its sections (``<h2>``)
    as :func:`section_anchor`, the targets of the contents' links.
    """
    from qzfp.reporting.pagestyle import html_lang

    head = ""
    bodies = []
    for name in pages:
        page_head, body = _body(Path(folder), name)
        head = head or page_head
        counter = iter(range(len(body)))

        def anchored(m: re.Match[str], name: str = name, counter: Any = counter) -> str:
            attrs = _ID_RE.sub("", m.group(1) or "")
            return f'<h2 id="{html.escape(section_anchor(name, next(counter)))}"{attrs}>{m.group(2)}</h2>'

        body = _H2_RE.sub(anchored, body)
        bodies.append(
            f'<section id="{ANCHOR_PREFIX}{html.escape(name)}" style="break-before:page">{body}</section>'
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
                 timeout: float = _TIMEOUT_S, outline: bool = False) -> None:
    """Print the HTML file ``source`` to the PDF ``target`` with headless Chromium
    (``outline``: with bookmarks made from the headings).

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
                "--no-pdf-header-footer", *(["--generate-pdf-document-outline"] if outline else []),
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


def _contents_links(reader: Any) -> dict[int, list[tuple[list[float], int]]]:
    """The links of the contents to pages and sections, by sheet: ``(rect, page number)``
    (rect in pt from the bottom left; page numbers from 1), on the sheets before the first
    page they link to."""
    pages = {}
    for name, dest in reader.named_destinations.items():
        if str(name).lstrip("/").startswith(ANCHOR_PREFIX):
            pages[str(name).lstrip("/")] = reader.get_destination_page_number(dest)
    if not pages:
        return {}
    first = min(pages.values())
    links: dict[int, list[tuple[list[float], int]]] = {}
    for i in range(first):
        for annot in reader.pages[i].get("/Annots", None) or []:
            a = annot.get_object()
            target = str(a.get("/Dest", "")).lstrip("/")
            if a.get("/Subtype") == "/Link" and target in pages:
                links.setdefault(i, []).append(([float(x) for x in a["/Rect"]], pages[target] + 1))
    return links


def _numbers_page(links: list[tuple[list[float], int]], height_pt: float, width_pt: float) -> str:
    """An HTML sheet of the same size with each page number at the right margin, at the
    height of its link."""
    from qzfp.reporting.pagestyle import PRINT_MARGIN_MM, page_font_stack

    right = PRINT_MARGIN_MM["right"]
    cells = "".join(
        f'<div style="position:absolute;right:{right}mm;top:{height_pt - y2:.2f}pt;height:{y2 - y1:.2f}pt;'
        f'line-height:{y2 - y1:.2f}pt">{n}</div>' for (_, y1, _, y2), n in links)
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><style>@page{{size:{width_pt:.2f}pt '
            f"{height_pt:.2f}pt;margin:0}}html,body{{margin:0;font-family:{page_font_stack()};font-size:9pt;"
            f"font-variant-numeric:tabular-nums}}</style></head><body>{cells}</body></html>")


def number_contents(pdf: Path, target: Path, *, program: str | None = None) -> bool:
    """Write ``pdf`` to ``target`` with the page number of every page and section the contents
    links to written at the right margin of the contents, beside its link.

    The numbers are printed by Chromium on an empty sheet of the contents' size, one at the
    height of each link, and laid over the contents page (pypdf ``merge_page``); bookmarks,
    links and every other page are kept.  False (``target`` not written) when the contents
    has no such links.
    """
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(str(pdf))
    links = _contents_links(reader)
    if not links:
        return False
    writer = PdfWriter(clone_from=reader)
    with tempfile.TemporaryDirectory(prefix="qzfp-numbers-") as tmp:
        for i, page_links in sorted(links.items()):
            box = reader.pages[i].mediabox
            source = Path(tmp) / f"numbers-{i}.html"
            source.write_text(_numbers_page(page_links, float(box.height), float(box.width)), encoding="utf-8")
            print_to_pdf(source, Path(tmp) / f"numbers-{i}.pdf", program=program)
            writer.pages[i].merge_page(PdfReader(str(Path(tmp) / f"numbers-{i}.pdf")).pages[0])
        with atomic_path(target) as partial, open(partial, "wb") as out:
            writer.write(out)
    return True


def write_report_pdf(folder: Path, pages: Sequence[str], *, contents: str, lang: str, title: str,
                     footer: str = "") -> str | None:
    """Write ``folder/report.pdf`` from ``pages`` (file names in ``folder``), with bookmarks
    and the contents numbered (:func:`number_contents`).

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
        with tempfile.TemporaryDirectory(prefix="qzfp-pdf-") as tmp:
            printed = Path(tmp) / PDF_FILE
            print_to_pdf(source, printed, program=program, outline=True)
            if not number_contents(printed, folder / PDF_FILE, program=program):
                with atomic_path(folder / PDF_FILE) as partial:
                    shutil.copyfile(printed, partial)
    except Exception as exc:  # Chromium failing, a full disk, pypdf refusing the print ...
        return t("index.pdf_missing", lang, reason=str(exc).replace("\n", " "))
    finally:
        if source.exists():
            source.unlink()
    return None
