"""``report.pdf`` of every scenario of a run printed by one Chromium (``PdfPrinter``).

Small notebooks (a title, two sections, a chart) keep these runs short; what is checked is
what a reader opens: each scenario's PDF, its contents numbered with the pages its bookmarks
go to, the chart drawn, and how many Chromium processes the run started.  The tests skip only
when Chromium or poppler-utils is not installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from qzfp.reporting import pdf
from qzfp.reporting.batch import run_many
from qzfp.reporting.pdf import PdfPrinter, chromium_path

pytestmark = [
    pytest.mark.skipif(chromium_path() is None, reason="Chromium not installed"),
    pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("pdfimages") is None,
                       reason="poppler-utils (pdftotext, pdfimages) not installed"),
]

#: A notebook of one page: a title, a first section long enough to fill a few sheets, a
#: second section with a chart (drawn by matplotlib in the kernel).
_CELLS = [
    "from IPython.display import Markdown, display\n"
    "display(Markdown('# Report of ' + tag))",
    "display(Markdown('## First section'))\n"
    "display(Markdown('\\n\\n'.join(f'Paragraph {i} of the first section.' for i in range(paragraphs))))",
    "display(Markdown('## Second section'))\n"
    "import io, matplotlib\n"
    "matplotlib.use('Agg')\n"
    "import matplotlib.pyplot as plt\n"
    "from IPython.display import Image\n"
    "fig, ax = plt.subplots(figsize=(4, 3))\n"
    "ax.plot([1, 2, 3], [3, 1, 2])\n"
    "buf = io.BytesIO()\n"
    "fig.savefig(buf, format='png')\n"
    "display(Image(data=buf.getvalue(), format='png'))",
]


def _notebook(path: Path) -> Path:
    cells = [nbformat.v4.new_code_cell('tag = ""\nparagraphs = 150', metadata={"tags": ["parameters"]})]
    cells += [nbformat.v4.new_code_cell(src) for src in _CELLS]
    nb = nbformat.v4.new_notebook(
        cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, str(path))
    return path


def _text(path: Path, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(["pdftotext", *pages, "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True, timeout=120).stdout


def _bookmarks(path: Path) -> list[tuple[str, int]]:
    """(title, page from 1) of every bookmark, in order."""
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    out: list[tuple[str, int]] = []

    def walk(items):
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                out.append((item.title, reader.get_destination_page_number(item) + 1))

    walk(reader.outline)
    return out


def _numbered_contents(path: Path) -> list[tuple[str, int]]:
    """(title, page number) of every line of the contents page that ends with a number."""
    lines = [ln.strip() for ln in _text(path, 1).splitlines() if ln.strip()]
    return [(m.group(1).strip(), int(m.group(2))) for m in
            (re.match(r"^(?:\d+\.\s+)?(.+?)\s{2,}(\d+)$", ln) for ln in lines) if m]


def _images(path: Path) -> int:
    listing = subprocess.run(["pdfimages", "-list", str(path)], check=True, capture_output=True, text=True).stdout
    return len(listing.splitlines()[2:])


class _Counted(pdf.DevTools):
    """The DevTools session, counting the Chromium processes started."""

    started: list[_Counted] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _Counted.started.append(self)


@pytest.fixture
def counted(monkeypatch):
    _Counted.started = []
    monkeypatch.setattr(pdf, "DevTools", _Counted)
    monkeypatch.setenv("QZFP_PDF", "1")
    return _Counted.started


def _run(tmp_path: Path, names: list[str], paragraphs: int = 150, notebook: str = "page.ipynb") -> list:
    nb = _notebook(tmp_path / notebook)
    params = [{"scenario_name": n, "tag": n, "paragraphs": paragraphs} for n in names]
    return run_many(params, [nb], tmp_path / "out", progress=False)


def _assert_numbered_pdf(folder: Path, name: str) -> None:
    """``folder/report.pdf`` opens, has the contents page numbered with the pages its
    bookmarks go to, and the chart drawn."""
    path = folder / "report.pdf"
    marks = [m for m in _bookmarks(path) if m[1] > 1]  # those of the report's pages, after the contents
    assert [t for t, _ in marks] == [f"Report of {name}", "First section", "Second section"]
    assert marks[-1][1] > marks[0][1] >= 2  # the first section fills sheets: the second starts later
    assert [(re.sub(r"\s", "", t), p) for t, p in _numbered_contents(path)] == \
        [(re.sub(r"\s", "", t), p) for t, p in marks]
    for title, page in marks:
        assert re.sub(r"\s", "", title) in re.sub(r"\s", "", _text(path, page)), (title, page)
    assert _images(path) >= 1  # the chart: the measuring print draws nothing, the PDF draws all


def test_one_chromium_prints_the_numbered_pdf_of_every_scenario_of_a_run(tmp_path, counted):
    reports = _run(tmp_path, ["first", "second"])
    assert [r.ok for r in reports] == [True, True]
    for r in reports:
        _assert_numbered_pdf(r.folder, r.name)
    assert len(counted) == 1


def test_a_chromium_that_died_after_a_pdf_is_replaced_for_the_next_scenario(tmp_path, counted, monkeypatch):
    printed = PdfPrinter.print_numbered

    def print_then_die(self, source, target, **kwargs):
        pages = printed(self, source, target, **kwargs)
        self._browser.proc.kill()  # as if Chromium crashed between two reports
        self._browser.proc.wait()
        return pages

    monkeypatch.setattr(PdfPrinter, "print_numbered", print_then_die)
    reports = _run(tmp_path, ["first", "second"])
    assert [r.ok for r in reports] == [True, True]
    for r in reports:
        _assert_numbered_pdf(r.folder, r.name)
    assert len(counted) == 2


def test_a_print_that_fails_leaves_that_report_without_pdf_and_the_next_one_with_it(tmp_path, counted, monkeypatch,
                                                                                 capsys):
    measure = pdf.measure_pages

    def crash_on_first(browser, **kwargs):
        if browser.evaluate("document.title") == "first":
            browser.proc.kill()  # Chromium dies in the middle of printing the report of "first"
            browser.proc.wait()
        return measure(browser, **kwargs)

    monkeypatch.setattr(pdf, "measure_pages", crash_on_first)
    first, second = _run(tmp_path, ["first", "second"])
    assert first.ok and second.ok
    err = capsys.readouterr().err
    assert err.count("report.pdf not written") == 1 and "Traceback" not in err
    assert not (first.folder / "report.pdf").exists() and (first.folder / "page.html").is_file()
    assert "report.pdf" not in (first.folder / "index.html").read_text(encoding="utf-8")
    _assert_numbered_pdf(second.folder, "second")  # printed before "first" or by a new Chromium after it


def test_the_printer_closes_its_chromium_and_removes_its_profile(tmp_path):
    source = tmp_path / "doc.html"
    source.write_text('<!DOCTYPE html><html><head><title>T</title></head><body><h1>T</h1></body></html>',
                      encoding="utf-8")
    with PdfPrinter() as printer:
        printer.start()
        printer.print_numbered(source, tmp_path / "doc.pdf")
        browser = printer._browser
        profile = Path(browser.profile)
        assert profile.is_dir()
    assert browser.proc.poll() is not None and not profile.exists()
    assert (tmp_path / "doc.pdf").read_bytes().startswith(b"%PDF")


@pytest.fixture
def prints(monkeypatch):
    """The prints of report.pdf's Chromium, in order: "measuring" (untagged, nothing drawn) or
    "pdf"."""
    done: list[str] = []
    print_pdf = pdf.DevTools.print_pdf

    def counted_print(self, **kwargs):
        done.append("pdf" if kwargs.get("tagged", True) else "measuring")
        return print_pdf(self, **kwargs)

    monkeypatch.setattr(pdf.DevTools, "print_pdf", counted_print)
    monkeypatch.setenv("QZFP_PDF", "1")
    return done


def test_a_scenario_run_again_into_its_folder_is_printed_once_with_its_last_report_s_page_numbers(tmp_path, prints):
    # the same pages as the last report: its numbers are written in without a measuring print
    (first,) = _run(tmp_path, ["again"])
    assert first.ok and prints == ["measuring", "pdf"]
    _assert_numbered_pdf(first.folder, "again")
    prints.clear()
    (second,) = _run(tmp_path, ["again"])
    assert second.ok and prints == ["pdf"]
    _assert_numbered_pdf(second.folder, "again")


def test_when_the_last_report_s_page_numbers_no_longer_hold_the_pdf_still_carries_the_right_ones(tmp_path, prints):
    # a first section three times as long moves the second section: the old numbers fail the
    # print's own check, and the PDF is printed again with the numbers that print measured
    (first,) = _run(tmp_path, ["moved"], paragraphs=150)
    old = pdf.contents_pages((first.folder / "report.pdf").read_bytes())
    prints.clear()
    (second,) = _run(tmp_path, ["moved"], paragraphs=450)
    assert second.ok
    new = pdf.contents_pages((second.folder / "report.pdf").read_bytes())
    assert sorted(new) == sorted(old) and new != old
    assert prints == ["pdf", "pdf"]
    _assert_numbered_pdf(second.folder, "moved")


def test_a_last_report_that_cannot_be_read_or_links_other_anchors_is_measured_as_usual(tmp_path, prints):
    (first,) = _run(tmp_path, ["other"])
    (first.folder / "report.pdf").write_bytes(b"%PDF-1.7 not a PDF pypdf can read")
    prints.clear()
    (second,) = _run(tmp_path, ["other"])
    assert second.ok and prints == ["measuring", "pdf"]
    _assert_numbered_pdf(second.folder, "other")
    assert pdf.previous_pages(tmp_path / "no such report.pdf") is None
    # a guess for anchors this document's contents does not link to
    source = tmp_path / "doc.html"
    source.write_text('<!DOCTYPE html><html><head><title>T</title></head><body><h1>T</h1></body></html>',
                      encoding="utf-8")
    prints.clear()
    pdf.print_numbered(source, tmp_path / "doc.pdf", guess={"page-elsewhere.html": 2})
    assert prints == ["measuring", "pdf"]


def test_a_page_named_in_chinese_with_a_space_is_numbered_in_the_contents_and_its_numbers_reused(tmp_path, prints):
    # Chromium names the PDF's destinations by the link's encoded fragment (page-%E6%94%B6...):
    # a page named 收入 a.html must be numbered, and found again in the next run's guess
    (first,) = _run(tmp_path, ["cjk"], notebook="收入 a.ipynb")
    assert first.ok and (first.folder / "收入 a.html").is_file()
    assert prints == ["measuring", "pdf"]
    _assert_numbered_pdf(first.folder, "cjk")
    prints.clear()
    (second,) = _run(tmp_path, ["cjk"], notebook="收入 a.ipynb")
    assert second.ok and prints == ["pdf"]
    _assert_numbered_pdf(second.folder, "cjk")


def test_a_report_whose_page_numbers_never_settle_gets_no_pdf_and_the_run_says_why(tmp_path, prints, monkeypatch,
                                                                                   capsys):
    # every print reads its anchors one page further on than the last: no number written
    # would be right, so no report.pdf is written rather than one with wrong numbers
    read = pdf.contents_pages
    shift = iter(range(1, 100))

    def moving(data):
        k = next(shift)
        return {a: n + k for a, n in read(data).items()}

    monkeypatch.setattr(pdf, "contents_pages", moving)
    (report,) = _run(tmp_path, ["unsettled"])
    assert report.ok and (report.folder / "page.html").is_file()
    assert not (report.folder / "report.pdf").exists()
    assert prints == ["measuring", "pdf", "pdf"]
    err = capsys.readouterr().err
    assert "did not settle" in err and "Traceback" not in err
