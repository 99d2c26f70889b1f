"""Reading register files into grids of strings: CSV (UTF-8 or GBK/GB18030) and XLSX sheets.

Memory follows the cells that hold data (rows are streamed); more than
:data:`~qzfp.register.validate.MAX_REGISTER_ROWS` rows is a problem and reading stops there.
"""

from __future__ import annotations

import csv
from pathlib import Path

from qzfp.errors import Problem

from .validate import HEADER_SCAN_ROWS, MAX_REGISTER_ROWS

__all__ = ["csv_rows", "file_sha256", "xlsx_sheets"]

def csv_rows(path: Path, problems: list[Problem]) -> list[list[str]] | None:
    """The cells of a CSV file, streamed (memory follows the rows kept, not the file).

    UTF-8 (with or without BOM), else GBK/GB18030; more than :data:`MAX_REGISTER_ROWS`
    rows is a problem and reading stops there.
    """
    with open(path, "rb") as f:
        bom = f.read(3) == b"\xef\xbb\xbf"
    for encoding in ("utf-8-sig",) if bom else ("utf-8", "gb18030"):
        rows: list[list[str]] = []
        try:
            with open(path, encoding=encoding, newline="") as f:
                for row in csv.reader(f):
                    rows.append([c.strip() for c in row])
                    if len(rows) > MAX_REGISTER_ROWS + HEADER_SCAN_ROWS:
                        problems.append(Problem(str(path), "register.too_many_rows", max=MAX_REGISTER_ROWS))
                        return None
            return rows
        except UnicodeDecodeError:
            continue
        except csv.Error as exc:
            problems.append(Problem(str(path), "register.csv_unreadable", reason=str(exc)))
            return None
    problems.append(Problem(str(path), "register.undecodable"))
    return None



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
            problems.append(Problem(where, "register.too_many_rows", max=MAX_REGISTER_ROWS))
            return None
        rows.extend([blank] * pending)
        pending = 0
        rows.append(cells)
    return rows



def xlsx_sheets(path: Path, problems: list[Problem]) -> dict[str, list[list[str]]] | None:
    import openpyxl

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
