"""``report.pdf``: a report's pages printed by headless Chromium.

The pages of a scenario (a contents page, then every report page in order) are joined
into one temporary HTML document beside them (so the shipped font in ``assets/`` is
found) and printed by Chromium over its DevTools protocol (:mod:`qzfp.reporting.chromium`):
A4, the pages' own print style (:mod:`qzfp.reporting.pagestyle`) with the scenario and
page number in the footer, the network switched off.  Debian installs Chromium with
``apt-get install chromium``.  Without it the report is written all the same and one line
says why there is no PDF.

The PDF has bookmarks (its outline: Chromium's ``generateDocumentOutline`` makes one of every
page's headings, the pages' titles with their sections below) and page numbers in its
contents.  Chromium cannot number a contents page (CSS ``target-counter`` is not
implemented), so the contents links to every page and section; a first print, cheap
(nothing drawn, no tags: :func:`measure_pages`), tells on which sheet each link lands
(its named destination, read with pypdf), the numbers are written into the contents'
reserved column and the page, still loaded, is printed again with its tags and bookmarks
(the layout does not move: the column's width is reserved in both prints; checked).  A run
prints the PDFs of all its scenarios in one Chromium (:class:`PdfPrinter`), started while
the notebooks run.  The
shipped CJK font is TrueType (``qzfp/fonts``): Chromium embeds it as one subset CID font (a
CFF font would become a Type 3 font per page and style), and the print style turns off
synthetic bold (``font-synthesis``), which Chromium would draw as Type 3 outlines.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from qzfp.reporting.chromium import DevTools, chromium_command, chromium_path
from qzfp.reporting.publish import atomic_path

__all__ = ["ANCHOR_PREFIX", "chromium_command", "chromium_path", "contents_pages", "join_pages",
           "MAX_PREVIOUS_PDF_BYTES", "measure_pages", "outline", "page_sections", "PDF_FILE",
           "PdfPrinter", "previous_pages", "print_numbered", "print_to_pdf", "UnsettledNumbers",
           "write_report_pdf"]

#: Name of the PDF inside a report folder.
PDF_FILE = "report.pdf"
_PRINT_FILE = ".report-print.html"
_TIMEOUT_S = 180.0

_HEAD_RE = re.compile(r"<head\b[^>]*>(.*?)</head>", re.IGNORECASE | re.DOTALL)
_BODY_RE = re.compile(r"<body\b[^>]*>(.*)</body>", re.IGNORECASE | re.DOTALL)
_NAV_RE = re.compile(r'<nav class="qzfp-nav">.*?</nav>', re.DOTALL)
_ANCHOR_LINK_RE = re.compile(r'<a class="anchor-link"[^>]*>.*?</a>', re.DOTALL)
_H2_RE = re.compile(r"<h2(\s[^>]*)?>(.*?)</h2>", re.IGNORECASE | re.DOTALL)
_ID_RE = re.compile(r'\sid="[^"]*"')
#: Prefix of the anchors (and so of the PDF's named destinations) of pages and sections.
ANCHOR_PREFIX = "page-"


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
    with _chromium(program) as browser:
        browser.open(Path(source), timeout)
        data = browser.print_pdf(timeout=timeout, outline=outline)
    _write_pdf(data, target)


def _chromium(program: str | None) -> DevTools:
    """A :class:`DevTools` session, its failures to start as one-line errors."""
    try:
        return DevTools(program=program)
    except FileNotFoundError:
        raise
    except (OSError, RuntimeError, TimeoutError) as exc:
        raise RuntimeError(f"Chromium could not be started: {exc}") from exc


def _write_pdf(data: bytes, target: Path) -> None:
    if not data.startswith(b"%PDF"):
        raise RuntimeError("Chromium wrote no PDF")
    with atomic_path(Path(target)) as partial:
        Path(partial).write_bytes(data)


def contents_pages(pdf: bytes) -> dict[str, int]:
    """The page (from 1) where each page and section of the report starts: the named
    destinations of the contents' links (anchors :data:`ANCHOR_PREFIX`...)."""
    import io
    import logging

    from pypdf import PdfReader

    log = logging.getLogger("pypdf")
    level = log.level
    log.setLevel(logging.ERROR)  # Chromium's trailers count one object less than pypdf: no warning
    try:
        reader = PdfReader(io.BytesIO(pdf))
        return {str(name).lstrip("/"): reader.get_destination_page_number(dest) + 1
                for name, dest in reader.named_destinations.items()
                if str(name).lstrip("/").startswith(ANCHOR_PREFIX)}
    finally:
        log.setLevel(level)


def outline(path: Path) -> list[tuple[int, str, int]]:
    """``(level, title, page from 1)`` of every bookmark of the PDF ``path``, in order (level 0:
    a page of the report, 1: its sections)."""
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    out: list[tuple[int, str, int]] = []

    def walk(items: list, level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
            else:
                out.append((level, item.title, reader.get_destination_page_number(item) + 1))

    walk(reader.outline, 0)
    return out


#: JavaScript writing the page numbers (a JSON mapping anchor -> page) into the contents.
_NUMBER_CONTENTS_JS = """((pages) => {
  for (const a of document.querySelectorAll('.qzfp-toc a[href^="#"]')) {
    const n = pages[a.hash.slice(1)];
    const slot = a.parentElement.querySelector(':scope > .qzfp-toc-page');
    if (slot && n) slot.textContent = String(n);
  }
  return true;
})(%s)"""


#: JavaScript listing the anchors the contents links to (what its numbers are the pages of),
#: written as Chromium names the PDF's destinations: the link's fragment as the browser
#: encodes it (``page-%E6%94%B6.html`` for a page ``收.html``, ``%20`` for a space).
_ANCHORS_JS = """Array.from(document.querySelectorAll('.qzfp-toc a[href^="#"]'), a => a.hash.slice(1))"""


#: Style added to the page for the print that only measures where its anchors land: nothing
#: is drawn, neither text nor image (``visibility`` keeps every box where it is, so every page
#: breaks where it will in the PDF, and Chromium still writes the anchors' destinations) and
#: the print is not tagged: about half as costly as the real print.
_MEASURE_STYLE_ID = "qzfp-measure-print"
_MEASURE_ON_JS = ("(() => { const s = document.createElement('style'); s.id = '" + _MEASURE_STYLE_ID + "';"
                  " s.textContent = 'body * {visibility: hidden !important}';"
                  " document.head.appendChild(s); return true; })()")
_MEASURE_OFF_JS = ("(() => { document.getElementById('" + _MEASURE_STYLE_ID + "').remove();"
                   " return true; })()")


def measure_pages(browser: DevTools, *, timeout: float = _TIMEOUT_S) -> dict[str, int]:
    """The page (from 1) of every anchor of the page loaded in ``browser``, from a print that
    draws nothing and carries no tags (:data:`_MEASURE_ON_JS`); the page is left as it was."""
    browser.evaluate(_MEASURE_ON_JS)
    try:
        return contents_pages(browser.print_pdf(timeout=timeout, tagged=False))
    finally:
        browser.evaluate(_MEASURE_OFF_JS)


class UnsettledNumbers(RuntimeError):
    """Every print of a report moved an anchor away from the page its number said."""

    def __init__(self, prints: int) -> None:
        super().__init__(f"the page numbers of the contents did not settle after {prints} prints")
        self.prints = prints


#: Largest earlier ``report.pdf`` read for its page numbers [byte]: the baseline's is 3 MB; a
#: larger file (not a report of this program, or a report of thousands of pages) is not read.
MAX_PREVIOUS_PDF_BYTES = 64 * 2**20


def previous_pages(path: Path) -> dict[str, int] | None:
    """The page of every anchor of an earlier ``report.pdf`` (:func:`contents_pages`), or None
    when there is none, it is not a regular file of at most :data:`MAX_PREVIOUS_PDF_BYTES`, or
    it cannot be read: what :func:`print_numbered` may try first for the scenario's new report."""
    try:
        path = Path(path)
        if not path.is_file() or path.stat().st_size > MAX_PREVIOUS_PDF_BYTES:
            return None
        return contents_pages(path.read_bytes()) or None
    except Exception:  # no earlier report, or a file pypdf refuses: measure as usual
        return None


def _print_numbered(browser: DevTools, source: Path, target: Path, timeout: float,
                    guess: Mapping[str, int] | None = None) -> dict[str, int]:
    import json

    browser.open(Path(source), timeout)
    linked = set(browser.evaluate(_ANCHORS_JS) or ())  # what the contents numbers

    def of_contents(found: Mapping[str, int]) -> dict[str, int]:
        return {k: v for k, v in found.items() if k in linked}

    if guess and linked and linked <= guess.keys():
        pages, tries = {k: guess[k] for k in linked}, 3  # checked below, as measured numbers are
    else:
        pages, tries = of_contents(measure_pages(browser, timeout=timeout)), 2
    for _ in range(tries):  # after a guess that failed, as after a measuring print
        if pages:
            browser.evaluate(_NUMBER_CONTENTS_JS % json.dumps(pages))
        data = browser.print_pdf(timeout=timeout, outline=True)
        again = of_contents(contents_pages(data))
        if again == pages:
            break
        pages = again
    else:  # no print put its anchors where its numbers said: no PDF rather than wrong numbers
        raise UnsettledNumbers(tries)
    _write_pdf(data, target)
    return pages


class PdfPrinter:
    """One headless Chromium printing every ``report.pdf`` of a run (:func:`print_numbered`).

    :meth:`start` starts Chromium in a thread, so that a run goes on meanwhile; the first
    print waits for it.  A Chromium that failed (a print raised, the process died) is not
    used again: the next print starts a new one.  One thread prints at a time.

    Parameters
    ----------
    program : str, optional
        The Chromium program (default :func:`chromium_path`).
    timeout : float
        Longest wait for a page load or a print [s].
    """

    def __init__(self, program: str | None = None, *, timeout: float = _TIMEOUT_S) -> None:
        self.program = program
        self.timeout = timeout
        self._browser: DevTools | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> PdfPrinter:
        """Start Chromium in the background (once); returns the printer."""
        if self._browser is None and self._thread is None:
            self._thread = threading.Thread(target=self._start, name="qzfp-chromium", daemon=True)
            self._thread.start()
        return self

    def _start(self) -> None:
        try:
            self._browser = _chromium(self.program)
        except BaseException as exc:  # raised by the print that needs it
            self._error = exc

    def _ready(self) -> DevTools:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._browser is not None and self._browser.proc.poll() is not None:
            self._discard()  # died since the last print
        if self._browser is None:
            error, self._error = self._error, None
            if error is not None:
                raise error
            self._start()
            error, self._error = self._error, None
            if error is not None:
                raise error
        assert self._browser is not None
        return self._browser

    def _discard(self) -> None:
        browser, self._browser = self._browser, None
        if browser is not None:
            browser.close()

    def print_numbered(self, source: Path, target: Path, *, guess: Mapping[str, int] | None = None) -> dict[str, int]:
        """Print ``source`` (a joined report) to ``target`` with bookmarks and its contents
        numbered: see :func:`print_numbered`."""
        with self._lock:
            browser = self._ready()
            try:
                return _print_numbered(browser, source, target, self.timeout, guess)
            except BaseException:
                self._discard()  # in an unknown state: the next print starts a new one
                raise

    def close(self) -> None:
        """Close Chromium (waiting for a start still under way)."""
        with self._lock:
            if self._thread is not None:
                self._thread.join()
                self._thread = None
            self._discard()

    def __enter__(self) -> PdfPrinter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def print_numbered(source: Path, target: Path, *, program: str | None = None,
                   timeout: float = _TIMEOUT_S, guess: Mapping[str, int] | None = None) -> dict[str, int]:
    """Print ``source`` (a joined report) to ``target`` with bookmarks and its contents numbered.

    The page is loaded once.  A first print, drawing nothing and without tags
    (:func:`measure_pages`), gives the page of every anchor the contents links to
    (:func:`contents_pages`); the numbers are written into the contents
    (``.qzfp-toc-page``, whose width every print reserves) and the page is printed with its
    tags and bookmarks: that print is the PDF once its anchors are where the numbers say
    (checked); should a page have moved all the same, the numbers are written again and
    the page printed once more.  :class:`PdfPrinter` does the same in a Chromium kept for
    every report of a run.

    ``guess``: the pages of the same anchors in an earlier report of the scenario
    (:func:`previous_pages`).  When the contents links to exactly those anchors, the numbers
    are written in without the measuring print; the PDF print checks them as it checks
    measured ones, so a guess that no longer holds costs one more print.  A PDF whose numbers
    never settle (every print moved an anchor) is not written: this raises
    :class:`UnsettledNumbers`.

    Returns
    -------
    dict
        Anchor -> page number (from 1) of the written PDF.
    """
    with PdfPrinter(program, timeout=timeout) as printer:
        return printer.print_numbered(source, target, guess=guess)


def write_report_pdf(folder: Path, pages: Sequence[str], *, contents: str, lang: str, title: str,
                     footer: str = "", printer: PdfPrinter | None = None,
                     previous: Path | None = None) -> str | None:
    """Write ``folder/report.pdf`` from ``pages`` (file names in ``folder``), with bookmarks
    and the contents numbered (:func:`print_numbered`; ``printer``: the run's
    :class:`PdfPrinter`, else a Chromium of its own).

    ``previous``: the folder of the scenario's earlier report, whose ``report.pdf``'s page
    numbers are tried first (``guess`` of :func:`print_numbered`).

    Returns
    -------
    str or None
        None when the PDF was written, else a one-line message saying why not (Chromium
        missing or failing); the caller prints it and carries on.
    """
    from qzfp.i18n import t

    folder = Path(folder)
    program = chromium_path() if printer is None else (printer.program or chromium_path())
    if program is None:
        return t("index.pdf_missing", lang, reason=t("index.no_chromium", lang))
    source = folder / _PRINT_FILE
    try:
        source.write_text(join_pages(folder, pages, contents=contents, lang=lang, title=title),
                          encoding="utf-8")
        guess = previous_pages(Path(previous) / PDF_FILE) if previous is not None else None
        if printer is None:
            print_numbered(source, folder / PDF_FILE, program=program, guess=guess)
        else:
            printer.print_numbered(source, folder / PDF_FILE, guess=guess)
    except UnsettledNumbers:
        return t("index.pdf_missing", lang, reason=t("index.pdf_unsettled", lang))
    except Exception as exc:  # Chromium failing or too slow, a full disk, pypdf refusing the print ...
        return t("index.pdf_missing", lang, reason=str(exc).replace("\n", " "))
    finally:
        if source.exists():
            source.unlink()
    return None
