"""The cell writer shared by qzfp's workbooks: texts as text cells with the characters XML
cannot hold removed, the only formulas qzfp builds, widths that follow the content (CJK
characters count double), wrapped columns with fitting row heights, frozen headers and the
A4 landscape print set-up; valid, unique sheet titles; number formats by column name."""

from __future__ import annotations

import datetime as _dt
import functools
import math
import re
import unicodedata
from typing import Any

import numpy as np
import pandas as pd

from qzfp.errors import Label, Problem

#: Display text of the internal names (sheet keys, column names) in English, the default of ``labels``.
DEFAULT_LABELS = {
    "summary": "Summary",
    "line_items": "Line items",
    "assumptions": "Assumptions",
    "by_year": "Budget by year",
    "total": "Total",
    "year_total": "Total of the year",
    "year": "Year",
    "line": "Line item",
    "quantity": "Quantity",
    "quantity_unit": "Unit",
    "unit_cost_yuan": "Unit cost [yuan]",
    "months": "Months",
    "rule_path": "Rule",
    "reference": "Reference",
    "amount_yuan": "Amount [yuan]",
    "funded_city_yuan": "City [yuan]",
    "funded_county_yuan": "County [yuan]",
    "funded_township_yuan": "Township [yuan]",
    "city_yuan": "City [yuan]",
    "county_yuan": "County [yuan]",
    "township_yuan": "Township [yuan]",
    "path": "Parameter",
    "description": "Description",
    "unit": "Unit",
    "since": "Since",
    "value": "Value",
    "yes": "Yes",
    "no": "No",
}

#: Characters that cannot appear in an XML 1.0 document (or are discouraged control
#: characters): removed from every text written to a workbook.
_UNWRITABLE_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_FORBIDDEN_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_MAX_SHEET = 31
_MAX_WIDTH = 60
AMOUNT = "#,##0"
AMOUNT_CENTS = "#,##0.00"
#: Whole numbers: persons, posts, households ...
WHOLE = "#,##0"


@functools.lru_cache(maxsize=8192)
def _line_width(line: str) -> int:
    """Display width of one line of text: CJK (wide/full-width) characters count 2; kept by
    text (a budget sheet repeats its lines' labels and references row after row)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


def _text_width(value: Any) -> int:
    """Display width of a cell's text: CJK (wide/full-width) characters count 2."""
    if value is None:
        return 0
    if isinstance(value, float):
        text = f"{value:,.2f}"
    elif isinstance(value, int):
        text = f"{value:,}"
    else:
        text = str(value)
    return max(_line_width(line) for line in text.splitlines() or [""])


def clean_text(text: str) -> str:
    """``text`` without the characters a workbook cannot hold.

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    str
        The text with C0 controls (except tab, line feed, carriage return), DEL, the C1
        controls, lone surrogates and U+FFFE/U+FFFF removed.
    """
    return _UNWRITABLE_CHARS.sub("", text)


#: Height of one line of wrapped text [pt] (11 pt Calibri/Carlito, CJK included).
_LINE_HEIGHT_PT = 15


def _wrapped_lines(value: Any, width: float) -> int:
    """Lines a text takes in a wrapped cell ``width`` characters wide (CJK count double)."""
    if value is None:
        return 1
    lines = 0
    for part in str(value).splitlines() or [""]:
        lines += max(1, math.ceil(_line_width(part) / max(width, 1) * 1.1))  # words do not fill a line exactly
    return lines


def sheet_title(name: str, taken: set[str] | None = None) -> str:
    """A valid, unique Excel sheet name from any text.

    Removes control characters (:func:`clean_text`) and ``[]:*?/\\``, strips leading/trailing apostrophes and spaces, cuts to 31
    characters and, if the name is already in ``taken`` (compared case-insensitively, as
    Excel does), appends `` (2)``, `` (3)``... within the limit.  ``taken`` is updated.
    """
    base = _FORBIDDEN_SHEET_CHARS.sub(" ", clean_text(str(name))).strip(" '") or "Sheet"
    base = base[:_MAX_SHEET].rstrip(" '")
    taken = taken if taken is not None else set()
    title, k = base, 1
    while title.lower() in {t.lower() for t in taken}:
        k += 1
        suffix = f" ({k})"
        title = base[: _MAX_SHEET - len(suffix)].rstrip(" '") + suffix
    taken.add(title)
    return title


def _native(value: Any) -> Any:
    """Python scalar openpyxl can write (NaN/NA -> empty cell)."""
    if value is None:
        return None
    if isinstance(value, (pd.Timestamp, _dt.datetime)):
        return value.date() if isinstance(value, pd.Timestamp) else value
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, (list, tuple, dict, set)):
        return str(value)
    return value


def has_cents(values: np.ndarray) -> bool:
    """Whether any finite value has a fraction of a yuan (more than 0.004 from a whole number)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return bool(np.any(np.abs(v - np.round(v)) > 0.004))


class Sheet:
    """Small writer keeping track of widths and styles of one worksheet."""

    def __init__(self, ws):
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

        self.ws = ws
        self.widths: dict[int, int] = {}
        self.cached: dict[str, float] = {}  # formula cell -> value computed by qzfp
        self.bold = Font(bold=True)
        self.head_fill = PatternFill("solid", fgColor="DDE4EE")
        self.top_rule = Border(top=Side(style="thin"), bottom=Side(style="double"))
        self.wrap = Alignment(wrap_text=True, vertical="top")
        self.center = Alignment(horizontal="center", vertical="center", wrap_text=True)

    def cell(self, row: int, col: int, value: Any, fmt: str | None = None, *, bold: bool = False):
        value = _native(value)
        if isinstance(value, str):
            value = clean_text(value)
        c = self.ws.cell(row=row, column=col, value=value)
        if isinstance(value, str):
            c.data_type = "s"  # openpyxl makes "=..." a formula and "#N/A" an error
        if fmt:
            c.number_format = fmt
        if bold:
            c.font = self.bold
        self.widths[col] = max(self.widths.get(col, 0), _text_width(c.value))
        return c

    def formula(self, row: int, col: int, formula: str, value: float, fmt: str | None = None, *,
                bold: bool = False):
        """Write an Excel formula (``"=..."``) with the value qzfp computed for it.

        Formulas are written only here (never through :meth:`cell`, which writes texts and
        numbers); ``value`` is stored as the cell's cached result when the file is saved
        (the budget workbook stores them after saving,
        :func:`qzfp.reporting.workbook.budget.write_budget_workbook`).
        """
        if not formula.startswith("=") or not is_qzfp_formula(formula):
            raise ValueError(f"not a formula qzfp writes: {formula!r}")
        c = self.ws.cell(row=row, column=col)
        c.value = formula
        c.data_type = "f"
        self.cached[c.coordinate] = float(value)
        if fmt:
            c.number_format = fmt
        if bold:
            c.font = self.bold
        self.widths[col] = max(self.widths.get(col, 0), _text_width(float(value)))
        return c

    def header(self, row: int, values: list[Any]) -> None:
        for j, v in enumerate(values, start=1):
            c = self.cell(row, j, v, bold=True)
            c.fill = self.head_fill
            c.alignment = self.center

    def total_row(self, row: int, ncols: int) -> None:
        for j in range(1, ncols + 1):
            c = self.ws.cell(row=row, column=j)
            c.font = self.bold
            c.border = self.top_rule

    def finish(self, freeze: str, *, wrap_cols: set[int] = frozenset(), header_rows: int = 1) -> None:
        """Column widths, wrapped columns with fitting row heights, frozen panes, print set-up.

        A column of ``wrap_cols`` wider than the widest column wraps; every row then gets the
        height of its tallest wrapped cell (LibreOffice does not grow rows of a file it did
        not write, so the text would run over the next rows).  Pages are A4 landscape,
        fitted to the width only, the header row repeated.
        """
        from openpyxl.utils import get_column_letter

        widths = {}
        for col, w in self.widths.items():
            width = min(max(w + 2, 8), _MAX_WIDTH)
            widths[col] = width
            self.ws.column_dimensions[get_column_letter(col)].width = width
        heights: dict[int, int] = {}
        for col in wrap_cols:
            if self.widths.get(col, 0) + 2 <= _MAX_WIDTH:
                continue
            for (cell,) in self.ws.iter_rows(min_col=col, max_col=col, min_row=header_rows + 1):
                cell.alignment = self.wrap
                lines = _wrapped_lines(cell.value, widths[col] - 1)
                heights[cell.row] = max(heights.get(cell.row, 1), lines)
        for row, lines in heights.items():
            if lines > 1:
                self.ws.row_dimensions[row].height = _LINE_HEIGHT_PT * lines + 2
        self.ws.freeze_panes = freeze
        self.ws.print_title_rows = f"1:{header_rows}"
        self.ws.page_setup.orientation = "landscape"
        self.ws.page_setup.paperSize = self.ws.PAPERSIZE_A4
        self.ws.page_setup.fitToWidth = 1
        self.ws.page_setup.fitToHeight = 0
        self.ws.sheet_properties.pageSetUpPr.fitToPage = True


def check_columns(df: pd.DataFrame, required: tuple[str, ...], what: str) -> list[Problem]:
    """The problems of ``df`` as the table ``what``: not a DataFrame, or ``required`` columns missing."""
    if not isinstance(df, pd.DataFrame):
        return [Problem(what, "expected", what=Label("expect.dataframe"), got=type(df).__name__)]
    missing = [c for c in required if c not in df.columns]
    if missing:
        return [
            Problem(what, "table.missing_columns", columns=", ".join(missing), expected=", ".join(required))
        ]
    return []


#: The only formulas qzfp writes (without the leading ``=``): a product of cells of the same
#: row, a ``SUM`` of a column range or of a list of cells, a reference to another sheet's
#: cell, or 0.  Any other formula in a qzfp workbook would be a text gone wrong.
_QZFP_FORMULA = re.compile(
    r"[A-Z]+(\d+)(?:\*[A-Z]+\1)+"
    r"|SUM\([A-Z]+\d+:[A-Z]+\d+\)"
    r"|SUM\([A-Z]+\d+(?:,[A-Z]+\d+)*\)"
    r"|'(?:[^']|'')+'![A-Z]+\d+"
    r"|0"
)


def is_qzfp_formula(formula: str) -> bool:
    """Whether ``formula`` (with or without its ``=``) is one of the formulas qzfp writes."""
    text = formula[1:] if formula.startswith("=") else formula
    return bool(_QZFP_FORMULA.fullmatch(text))



def number_format(name: str, series: pd.Series) -> str | None:
    """Excel number format of a column from its name and dtype (amounts, shares, counts), or None.

    Columns of whole persons, posts, villages ... (:func:`qzfp.i18n.is_count_column`) show whole
    numbers (``#,##0``) even where the model's value has a fraction (a projected population)."""
    from qzfp.i18n import is_count_column

    if is_count_column(name):
        return WHOLE
    if name.endswith("_yuan") or name.endswith("yuan"):
        return AMOUNT_CENTS if has_cents(series.to_numpy(dtype=float, na_value=np.nan)) else AMOUNT
    if "share" in name or name.endswith("_pct_share"):
        return "0.0%"
    if pd.api.types.is_bool_dtype(series):
        return None
    if pd.api.types.is_integer_dtype(series):
        return "#,##0" if name != "year" else "0"
    if pd.api.types.is_float_dtype(series):
        return "#,##0.00"
    return None


def write_frame(sheet: Sheet, df: pd.DataFrame, start_row: int, label: Any) -> int:
    """Write a DataFrame with a bold header at ``start_row``; return the next free row."""
    cols = [str(c) for c in df.columns]
    for j, c in enumerate(cols, start=1):
        h = sheet.cell(start_row, j, label(c), bold=True)
        h.fill = sheet.head_fill
        h.alignment = sheet.center
    fmts = [number_format(c, df[c]) for c in df.columns]
    data = df.to_numpy(dtype=object)
    for i in range(data.shape[0]):
        for j in range(data.shape[1]):
            sheet.cell(start_row + 1 + i, j + 1, data[i, j], fmts[j])
    return start_row + 1 + data.shape[0]
