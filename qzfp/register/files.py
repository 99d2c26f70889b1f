"""Reading input tables into grids of strings: CSV (UTF-8 or GBK/GB18030) and XLSX sheets.

Sizes are bounded before anything is parsed (:class:`Limits`): the file's bytes, the
characters of one line, and the rows (rows are streamed, so memory follows the rows kept,
and reading stops at the first row over the bound).  A file over a bound is one problem
naming the bound, never a slow run that ends out of memory.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from qzfp.errors import Label, Problem

from .validate import HEADER_SCAN_ROWS, MAX_REGISTER_BYTES, MAX_REGISTER_ROWS

__all__ = ["MAX_LINE_CHARS", "REGISTER_LIMITS", "Limits", "csv_rows", "file_sha256", "xlsx_sheets"]

#: Longest line of a CSV table [characters]: a census row has about 300, a register row
#: about 150; a longer line is not a row of a table qzfp reads (and the CSV reader would
#: hold it whole in memory).
MAX_LINE_CHARS = 20_000


@dataclass(frozen=True)
class Limits:
    """Size bounds of one kind of table, checked before and while it is read.

    Attributes
    ----------
    what : str
        Catalogue key naming the kind of table (``noun.register_table``).
    max_bytes : int
        Largest file [byte] (checked before reading).
    max_rows : int
        Most data rows [row] (title rows above the header not counted).
    name : str
        The constant a reader looks up in the documentation (``MAX_VILLAGES``).
    max_line : int
        Longest line [character].
    """

    what: str
    max_bytes: int
    max_rows: int
    name: str
    max_line: int = MAX_LINE_CHARS


#: Bounds of one table of a register (:data:`~qzfp.register.validate.MAX_VILLAGES` rows).
REGISTER_LIMITS = Limits("noun.register_table", MAX_REGISTER_BYTES, MAX_REGISTER_ROWS, "MAX_VILLAGES")


class _LineTooLong(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def _bounded_lines(f, max_line: int) -> Iterator[str]:
    """The lines of a text file, refusing one longer than ``max_line`` characters (read in
    pieces, so such a line is never held whole)."""
    number = 0
    while True:
        line = f.readline(max_line + 1)
        if not line:
            return
        number += 1
        if len(line) > max_line and not line.endswith("\n"):
            raise _LineTooLong(number)
        yield line


def too_large(path: Path, limits: Limits, problems: list[Problem]) -> bool:
    """True (and a problem) when the file is larger than ``limits.max_bytes``."""
    size = path.stat().st_size
    if size > limits.max_bytes:
        problems.append(Problem(str(path), "table.too_large", size=size, max=limits.max_bytes,
                                what=Label(limits.what), name=limits.name))
        return True
    return False


def csv_rows(path: Path, problems: list[Problem], limits: Limits = REGISTER_LIMITS,
             encodings: tuple[str, ...] = ("utf-8", "gb18030")) -> list[list[str]] | None:
    """The cells of a CSV file (stripped of surrounding spaces).

    UTF-8 (with or without BOM), else the other ``encodings`` (GBK/GB18030 by default).  A
    file, a line or a number of rows over ``limits`` is a problem, found before any row is
    kept: the rows are counted in a first pass over the file.
    """
    if too_large(path, limits, problems):
        return None
    with open(path, "rb") as f:
        bom = f.read(3) == b"\xef\xbb\xbf"
    for encoding in ("utf-8-sig",) if bom else encodings:
        try:
            # first pass: count the rows without keeping them, so an oversized table is
            # refused in constant memory; second pass: keep them
            if _count_rows(path, encoding, limits) > limits.max_rows + HEADER_SCAN_ROWS:
                problems.append(Problem(str(path), "table.too_many_rows", max=limits.max_rows,
                                        what=Label(limits.what), name=limits.name))
                return None
            with open(path, encoding=encoding, newline="") as f:
                return [[c.strip() for c in row] for row in csv.reader(_bounded_lines(f, limits.max_line))]
        except UnicodeDecodeError:
            continue
        except _LineTooLong as exc:
            problems.append(Problem(f"{path}:{exc.line}", "table.line_too_long", max=limits.max_line))
            return None
        except csv.Error as exc:
            problems.append(Problem(str(path), "register.csv_unreadable", reason=str(exc)))
            return None
    problems.append(Problem(str(path), "register.undecodable"))
    return None


def _count_rows(path: Path, encoding: str, limits: Limits) -> int:
    """Rows of a CSV file, counted up to one over the bound (nothing kept)."""
    n = 0
    with open(path, encoding=encoding, newline="") as f:
        for _ in csv.reader(_bounded_lines(f, limits.max_line)):
            n += 1
            if n > limits.max_rows + HEADER_SCAN_ROWS:
                break
    return n



def file_sha256(path: Path, digest: object) -> None:
    """Feed a file into ``digest`` in blocks (never the whole file in memory)."""
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)



def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).strip()



def _sheet_rows(ws: object, where: str, problems: list[Problem]) -> list[list[str]] | None:
    """The cells of a read-only worksheet as text, within the data's real extent.

    The used range a workbook declares (``<dimension ref="A1:XFD1048576">`` after one
    stray cell far away) is ignored: rows are streamed as stored, each cut after its last
    non-empty cell, blank rows share one empty list and trailing blank rows are dropped,
    so memory follows the cells that hold data.  More than :data:`MAX_REGISTER_ROWS`
    non-blank rows is a problem (reading stops there).
    """
    ws.reset_dimensions()  # do not pad rows to the declared used range
    rows: list[list[str]] = []
    blank: list[str] = []
    pending = 0  # blank rows not yet appended (dropped if nothing follows)
    filled = 0
    for row in ws.iter_rows(values_only=True):
        cells = [_cell(c) for c in row] if row else blank
        while cells and cells[-1] == "":
            cells.pop()
        if not cells:
            pending += 1
            continue
        filled += 1
        if filled > MAX_REGISTER_ROWS + HEADER_SCAN_ROWS:
            problems.append(Problem(where, "table.too_many_rows", max=MAX_REGISTER_ROWS,
                                    what=Label(REGISTER_LIMITS.what), name=REGISTER_LIMITS.name))
            return None
        rows.extend([blank] * pending)
        pending = 0
        rows.append(cells)
    return rows



def xlsx_sheets(path: Path, problems: list[Problem]) -> dict[str, list[list[str]]] | None:
    import openpyxl

    if too_large(path, REGISTER_LIMITS, problems):
        return None
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for corrupt files
        problems.append(Problem(str(path), "register.workbook_unreadable", reason=str(exc)))
        return None
    try:
        sheets = {ws.title: _sheet_rows(ws, f"{path}[{ws.title}]", problems) for ws in wb.worksheets}
    finally:
        wb.close()
    return None if any(v is None for v in sheets.values()) else sheets
