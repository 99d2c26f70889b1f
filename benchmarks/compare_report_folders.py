"""Do two report folders of ``qzfp run`` hold the same report?  Compares what a reader gets:

* every CSV (and ``data/diagnostics.json``) byte for byte;
* ``budget.xlsx``: every sheet's cells (openpyxl values);
* the HTML pages: their text (tags, scripts and styles left out), the run's time and duration
  on ``index.html`` and the contents masked;
* ``report.pdf``: ``pdftotext -layout`` (the contents' "generated" time masked),
  ``pdfimages -list``, ``pdffonts`` and its bookmarks with their pages (pypdf).

::

    .venv/bin/python benchmarks/compare_report_folders.py A/baseline B/baseline

Prints one line per difference and exits 1 when there is any, else prints what was compared.
"""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

#: The run's moment and duration, which differ from run to run.
_TIME_RE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d[^\n<]*?\)|\d{4}-\d\d-\d\d \d\d:\d\d(?: \w+)?|\d+\.\d s\b")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.parts.append(" ".join(data.split()))


def html_text(path: Path) -> str:
    parser = _Text()
    parser.feed(path.read_text(encoding="utf-8"))
    return _TIME_RE.sub("<time>", "\n".join(parser.parts))


def workbook_cells(path: Path) -> dict[str, list[tuple]]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    return {ws.title: [tuple(row) for row in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def _run(*cmd: str) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def pdf_facts(path: Path) -> dict[str, object]:
    from pypdf import PdfReader

    from qzfp.reporting.pdf import outline

    return {"text": _TIME_RE.sub("<time>", _run("pdftotext", "-layout", str(path), "-")),
            "images": _run("pdfimages", "-list", str(path)), "fonts": _run("pdffonts", str(path)),
            "bookmarks": outline(path), "pages": len(PdfReader(str(path)).pages)}


def compare(a: Path, b: Path) -> list[str]:
    problems: list[str] = []
    files_a = sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file())
    if files_a != files_b:
        problems.append(f"files differ: only in A {sorted(set(files_a) - set(files_b))}, "
                        f"only in B {sorted(set(files_b) - set(files_a))}")
    for name in sorted(set(files_a) & set(files_b)):
        pa, pb = a / name, b / name
        if name.endswith((".csv", ".json")) and name != "run.json":
            if pa.read_bytes() != pb.read_bytes():
                problems.append(f"{name}: bytes differ")
        elif name.endswith(".xlsx"):
            if workbook_cells(pa) != workbook_cells(pb):
                problems.append(f"{name}: cells differ")
        elif name.endswith(".html"):
            if html_text(pa) != html_text(pb):
                problems.append(f"{name}: text differs")
        elif name.endswith(".pdf"):
            fa, fb = pdf_facts(pa), pdf_facts(pb)
            problems += [f"{name}: {k} differ" for k in fa if fa[k] != fb[k]]
    return problems


def main(argv: list[str]) -> int:
    a, b = Path(argv[0]), Path(argv[1])
    problems = compare(a, b)
    for p in problems:
        print(p)
    if not problems:
        n = sum(1 for p in a.rglob("*") if p.is_file())
        print(f"same report: {n} files (CSV bytes, workbook cells, page texts, PDF text, images, fonts, "
              f"{len(pdf_facts(a / 'report.pdf')['bookmarks'])} bookmarks with their pages)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
