"""The budget workbook (``budget.xlsx``) that goes into a budget proposal.

Sheets, in this order (``read_budget_totals`` relies on it):

1. *Summary* — the caller's summary table, then the budget by year and funder (each
   year's amount a reference to that year's total on *Line items*, totals ``SUM``).
2. *Line items* — years as rows: for every year one row per budget line with quantity,
   unit, unit cost, months (12 for a rule priced per month) and
   ``amount = quantity × unit cost (× months)`` as an Excel formula, then the year's
   total (``SUM``); a grand total (``SUM`` of the year totals) at the end; the rule and
   its reference on every line.
3. One sheet per county, same layout, for that county's quantities.
4. *Assumptions* — every parameter used: path, description, unit, since, value, reference.

The workbook checks itself: change a quantity or a unit cost and the amount, the year's
total, the grand total and the summary follow.  Every formula cell also carries the value
qzfp computed (so a reader that does not calculate shows the same numbers) and the file
asks to be recalculated on opening.  Counts are shown without decimals when they are
whole, amounts ``#,##0`` yuan (``#,##0.00`` where a sheet has cents).  Header rows are
frozen, headers bold, totals bold with a rule above, widths follow the content (CJK
characters count double), long references wrap in rows tall enough for them, and pages
print on A4 landscape fitted to the width (as many pages down as needed) with the header
repeated.

Every text is written as a text cell, never a formula: a text beginning with ``=`` (or
``+``, ``-``, ``@``) is shown as typed, not evaluated, by Excel, LibreOffice and openpyxl.
Characters that XML 1.0 cannot hold (the C0 control characters other than tab, line feed
and carriage return; DEL and the C1 controls; lone surrogates; U+FFFE/U+FFFF) are removed
from cell texts and sheet titles, so a text can never make the file unreadable
(:func:`clean_text`).  Registers refuse such names up front; this is the writer's own
guarantee whatever the caller passes.  Texts and numbers go through one writer
(``_Sheet.cell``), formulas through another (``_Sheet.formula``), which accepts only the
formulas qzfp itself builds (:func:`is_qzfp_formula`).

Display text comes from ``labels``: a mapping from internal names (sheet keys
``summary``, ``line_items``, ``assumptions``, ``by_year``, ``total``, ``year_total``;
column names; budget line ids; units) to what the reader sees, so a Chinese workbook
needs no code change.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from qzfp.errors import Label, Problem, RunError
from qzfp.reporting.publish import atomic_path

__all__ = ["BUDGET_COLUMNS", "LINE_COLUMNS", "clean_text", "is_qzfp_formula", "read_budget_totals",
           "sheet_title", "write_budget_workbook"]

#: Columns of the budget table (contract); the first six are required.
BUDGET_COLUMNS = (
    "year",
    "county_code",
    "line",
    "rule_path",
    "reference",
    "amount_yuan",
    "quantity",
    "quantity_unit",
    "unit_cost_yuan",
    "funded_city_yuan",
    "funded_county_yuan",
    "funded_township_yuan",
)
_REQUIRED = BUDGET_COLUMNS[:6]
#: Funder columns; ``qzfp.model.budget.budget_table`` names them ``city_yuan``, ``county_yuan``,
#: ``township_yuan`` and both spellings are accepted.
_FUNDERS = (
    "funded_city_yuan",
    "funded_county_yuan",
    "funded_township_yuan",
    "city_yuan",
    "county_yuan",
    "township_yuan",
)
ASSUMPTION_COLUMNS = ("path", "description", "unit", "since", "value", "reference")

_DEFAULT_LABELS = {
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
}

#: Characters that cannot appear in an XML 1.0 document (or are discouraged control
#: characters): removed from every text written to a workbook.
_UNWRITABLE_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_FORBIDDEN_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_MAX_SHEET = 31
_MAX_WIDTH = 60
_AMOUNT = "#,##0"
_AMOUNT_CENTS = "#,##0.00"


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
    longest = 0
    for line in text.splitlines() or [""]:
        w = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)
        longest = max(longest, w)
    return longest


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
        w = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in part)
        lines += max(1, math.ceil(w / max(width, 1) * 1.1))  # words do not fill a line exactly
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


def _has_cents(values: np.ndarray) -> bool:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return bool(np.any(np.abs(v - np.round(v)) > 0.004))


class _Sheet:
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
        (see :func:`_store_cached_values`).
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


def _check_columns(df: pd.DataFrame, required: tuple[str, ...], what: str) -> list[Problem]:
    if not isinstance(df, pd.DataFrame):
        return [Problem(what, "expected", what=Label("expect.dataframe"), got=type(df).__name__)]
    missing = [c for c in required if c not in df.columns]
    if missing:
        return [
            Problem(what, "table.missing_columns", columns=", ".join(missing), expected=", ".join(required))
        ]
    return []


#: Columns of the *Line items* and county sheets, in order (A ... I).
LINE_COLUMNS = ("year", "line", "quantity", "quantity_unit", "unit_cost_yuan", "months", "amount_yuan",
                "rule_path", "reference")
_COL = {name: i + 1 for i, name in enumerate(LINE_COLUMNS)}
_QTY, _COST, _MONTHS, _AMT = "C", "E", "F", "G"
_MONTHS_PER_YEAR = 12


def _joined(values: pd.Series) -> str:
    return "; ".join(dict.fromkeys(str(x) for x in values if pd.notna(x) and str(x) != ""))


def _line_table(
    sheet: _Sheet,
    rows: pd.DataFrame,
    years: list[int],
    label: Any,
    monthly: set[str],
) -> dict[str, Any]:
    """Write the line items of ``rows`` (years as rows) with formulas; return where the totals are.

    For each year: one row per line, ``quantity`` summed over the rows' counties, the unit
    cost per month (and 12 months) when the line's rule is priced per month
    (``rule_path`` in ``monthly``) else per year, and ``amount = quantity × unit cost
    (× months)`` as a formula; then the year's total ``=SUM(...)``.  Last, the grand total,
    ``=SUM`` of the year totals.  Without quantity and unit cost columns the amount is
    written as a number.

    Returns
    -------
    dict
        ``year_cells`` {year: cell of the year's total}, ``total_cell``, ``total`` [yuan].
    """
    from openpyxl.utils import get_column_letter

    sheet.header(1, [label(c) for c in LINE_COLUMNS])
    detail = {"quantity", "unit_cost_yuan"} <= set(rows.columns)
    agg: dict[str, Any] = {"amount_yuan": ("amount_yuan", "sum"), "rule_path": ("rule_path", _joined),
                           "reference": ("reference", _joined)}
    if detail:
        agg.update(quantity=("quantity", "sum"), unit_cost_yuan=("unit_cost_yuan", "first"))
        if "quantity_unit" in rows.columns:
            agg["quantity_unit"] = ("quantity_unit", "first")
    table = rows.groupby(["year", "line"], sort=False).agg(**agg).reset_index()
    order = {line: i for i, line in enumerate(dict.fromkeys(rows["line"]))}
    table["_order"] = table["line"].map(order)
    table = table.sort_values(["year", "_order"], kind="stable")
    amounts = table["amount_yuan"].to_numpy(dtype=float)
    money = _AMOUNT_CENTS if _has_cents(amounts) else _AMOUNT
    whole_qty = detail and not _has_cents(table["quantity"].to_numpy(dtype=float))
    qty_fmt = "#,##0" if whole_qty else "#,##0.00"
    amount_col = get_column_letter(_COL["amount_yuan"])

    r = 2
    year_cells: dict[int, str] = {}
    year_totals: dict[int, float] = {}
    for year in years:
        block = table[table["year"] == year]
        first = r
        for row in block.itertuples(index=False):
            sheet.cell(r, _COL["year"], int(year), "0")
            sheet.cell(r, _COL["line"], label(row.line))
            if detail:
                per_month = row.rule_path in monthly
                cost = float(row.unit_cost_yuan) / (_MONTHS_PER_YEAR if per_month else 1)
                sheet.cell(r, _COL["quantity"], float(row.quantity), qty_fmt)
                if "quantity_unit" in table.columns:
                    sheet.cell(r, _COL["quantity_unit"], label(f"unit.{row.quantity_unit}"))
                sheet.cell(r, _COL["unit_cost_yuan"], cost, _AMOUNT_CENTS if _has_cents([cost]) else _AMOUNT)
                if per_month:
                    sheet.cell(r, _COL["months"], _MONTHS_PER_YEAR, "0")
                    formula = f"={_QTY}{r}*{_COST}{r}*{_MONTHS}{r}"
                else:
                    formula = f"={_QTY}{r}*{_COST}{r}"
                sheet.formula(r, _COL["amount_yuan"], formula, float(row.amount_yuan), money)
            else:
                sheet.cell(r, _COL["amount_yuan"], float(row.amount_yuan), money)
            sheet.cell(r, _COL["rule_path"], row.rule_path)
            sheet.cell(r, _COL["reference"], row.reference)
            r += 1
        total = float(block["amount_yuan"].sum())
        sheet.cell(r, _COL["year"], int(year), "0")
        sheet.cell(r, _COL["line"], label("year_total"))
        formula = f"=SUM({amount_col}{first}:{amount_col}{r - 1})" if r > first else "=0"
        sheet.formula(r, _COL["amount_yuan"], formula, total, money, bold=True)
        sheet.total_row(r, len(LINE_COLUMNS))
        year_cells[int(year)] = f"{amount_col}{r}"
        year_totals[int(year)] = total
        r += 1
    grand = float(sum(year_totals.values()))
    sheet.cell(r, _COL["line"], label("total"))
    refs = ",".join(year_cells.values()) or "0"
    sheet.formula(r, _COL["amount_yuan"], f"=SUM({refs})", grand, money, bold=True)
    sheet.total_row(r, len(LINE_COLUMNS))
    sheet.finish("C2", wrap_cols={_COL["reference"], _COL["rule_path"]})
    return {"year_cells": year_cells, "year_totals": year_totals, "total_cell": f"{amount_col}{r}",
            "total": grand}


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


def _store_cached_values(path: Path, cached: list[dict[str, float]]) -> None:
    """Give every formula cell of the saved workbook its value (``<v>``), sheet by sheet.

    openpyxl saves formulas without a result; readers that do not calculate (pandas,
    previews, ``read_budget_totals``) would see empty cells.  ``cached[i]`` belongs to
    ``xl/worksheets/sheet{i+1}.xml`` (openpyxl numbers sheets in workbook order).
    """
    import zipfile

    if not any(cached):
        return
    cell_re = re.compile(r'<c r="([A-Z]+[0-9]+)"([^>]*)><f>([^<]*)</f><v\s*/?>(?:</v>)?')
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
            for item in src.infolist():
                data = src.read(item.filename)
                m = re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", item.filename)
                values = cached[int(m.group(1)) - 1] if m and int(m.group(1)) <= len(cached) else None
                if values:
                    def fill(mm: re.Match, values: dict[str, float] = values) -> str:
                        v = values.get(mm.group(1))
                        shown = "" if v is None else repr(float(v))
                        return f'<c r="{mm.group(1)}"{mm.group(2)}><f>{mm.group(3)}</f><v>{shown}</v>'

                    data = cell_re.sub(fill, data.decode("utf-8")).encode("utf-8")
                dst.writestr(item, data)


def _number_format(name: str, series: pd.Series) -> str | None:
    if name.endswith("_yuan") or name.endswith("yuan"):
        return _AMOUNT_CENTS if _has_cents(series.to_numpy(dtype=float, na_value=np.nan)) else _AMOUNT
    if "share" in name or name.endswith("_pct_share"):
        return "0.0%"
    if pd.api.types.is_bool_dtype(series):
        return None
    if pd.api.types.is_integer_dtype(series):
        return "#,##0" if name != "year" else "0"
    if pd.api.types.is_float_dtype(series):
        return "#,##0.00"
    return None


def _frame(sheet: _Sheet, df: pd.DataFrame, start_row: int, label: Any) -> int:
    """Write a DataFrame with a bold header at ``start_row``; return the next free row."""
    cols = [str(c) for c in df.columns]
    for j, c in enumerate(cols, start=1):
        h = sheet.cell(start_row, j, label(c), bold=True)
        h.fill = sheet.head_fill
        h.alignment = sheet.center
    fmts = [_number_format(c, df[c]) for c in df.columns]
    data = df.to_numpy(dtype=object)
    for i in range(data.shape[0]):
        for j in range(data.shape[1]):
            sheet.cell(start_row + 1 + i, j + 1, data[i, j], fmts[j])
    return start_row + 1 + data.shape[0]


def write_budget_workbook(
    path: Path,
    budget: pd.DataFrame,
    assumptions: pd.DataFrame,
    summary: pd.DataFrame,
    *,
    labels: Mapping[str, str] | None = None,
    county_names: Mapping[str, str] | None = None,
    monthly_rules: set[str] | None = None,
) -> Path:
    """Write the budget workbook of a scenario.

    Parameters
    ----------
    path : Path
        The ``.xlsx`` file to write (replaced).
    budget : DataFrame
        Budget rows with columns ``year, county_code, line, rule_path, reference,
        amount_yuan`` [yuan] (required) and optionally ``quantity, quantity_unit,
        unit_cost_yuan`` and the funder columns ``funded_city_yuan, funded_county_yuan,
        funded_township_yuan`` or ``city_yuan, county_yuan, township_yuan`` [yuan], summed
        by year on the summary sheet.
    assumptions : DataFrame
        Every parameter used: ``path, description, unit, since, value, reference``
        (``Scenario.used_parameters()``); extra columns are written after these.
    summary : DataFrame
        Headline table shown first, written as given (``*_yuan`` columns as amounts).
    labels : mapping, optional
        Internal name -> display text for sheet keys, column names and line ids.
    county_names : mapping, optional
        ``county_code`` -> name used as the county sheet's title (default the code).
    monthly_rules : set of str, optional
        Rule paths priced per month (their lines show the monthly unit cost and 12
        months); default: the paths whose unit in ``assumptions`` ends with ``/month``.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    RunError
        A table lacks a required column or has a non-numeric amount or year.
    """
    from openpyxl import Workbook

    problems = _check_columns(budget, _REQUIRED, "budget table")
    problems += _check_columns(assumptions, ASSUMPTION_COLUMNS, "assumptions table")
    problems += _check_columns(summary, (), "summary table")
    if not problems:
        for col in ("year", "amount_yuan", *[f for f in _FUNDERS if f in budget.columns]):
            bad = pd.to_numeric(budget[col], errors="coerce").isna() & budget[col].notna()
            bad |= budget[col].isna() if col in ("year", "amount_yuan") else False
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                problems.append(
                    Problem(f"budget table:row {i + 1}", "workbook.not_a_number", column=col,
                            value=budget[col].iloc[i],
                            rows=Label("where.such_rows", n=int(bad.sum())) if bad.sum() > 1 else "")
                )
    if problems:
        raise RunError(problems)

    all_labels = {**_DEFAULT_LABELS, **(labels or {})}

    def label(key: Any) -> str:
        key = str(key)
        if key in all_labels:
            return str(all_labels[key])
        return key[len("unit."):] if key.startswith("unit.") else key

    budget = budget.copy()
    budget["year"] = pd.to_numeric(budget["year"]).astype(int)
    budget["amount_yuan"] = pd.to_numeric(budget["amount_yuan"]).astype(float)
    budget["county_code"] = budget["county_code"].astype(str)
    budget["line"] = budget["line"].astype(str)
    years = sorted(budget["year"].unique().tolist())

    wb = Workbook()
    wb.calculation.fullCalcOnLoad = True  # Excel and LibreOffice recalculate on opening
    taken: set[str] = set()
    monthly = set(monthly_rules) if monthly_rules is not None else {
        str(path) for path, unit in zip(assumptions["path"], assumptions["unit"], strict=True)
        if str(unit).strip().endswith("/month")}

    # 1. Summary (filled once the line items are written: it refers to their totals)
    summary_ws = wb.active
    summary_ws.title = sheet_title(label("summary"), taken)
    summary_sheet = _Sheet(summary_ws)

    # 2. Line items, 3. counties
    lines_title = sheet_title(label("line_items"), taken)
    lines_sheet = _Sheet(wb.create_sheet(lines_title))
    where = _line_table(lines_sheet, budget, years, label, monthly)
    sheets = [summary_sheet, lines_sheet]
    names = dict(county_names or {})
    for code, rows in budget.groupby("county_code", sort=True):
        county_sheet = _Sheet(wb.create_sheet(sheet_title(names.get(code, code), taken)))
        _line_table(county_sheet, rows, years, label, monthly)
        sheets.append(county_sheet)

    _summary_sheet(summary_sheet, summary, budget, years, label, lines_title, where)

    # 4. Assumptions
    ws = wb.create_sheet(sheet_title(label("assumptions"), taken))
    sheet = _Sheet(ws)
    cols = list(ASSUMPTION_COLUMNS) + [c for c in assumptions.columns if c not in ASSUMPTION_COLUMNS]
    sheet.header(1, [label(c) for c in cols])
    data = assumptions[cols].to_numpy(dtype=object)
    for i in range(data.shape[0]):
        for j, col in enumerate(cols):
            v = data[i, j]
            fmt = "yyyy-mm-dd" if col == "since" else None
            if col == "value" and isinstance(v, (float, np.floating)) and not float(v).is_integer():
                fmt = "#,##0.00##"
            elif col == "value" and isinstance(v, (int, np.integer)) and not isinstance(v, bool):
                fmt = "#,##0"
            if col == "unit":
                v = label(f"unit.{v}")
            sheet.cell(i + 2, j + 1, v, fmt)
    sheet.finish("B2", wrap_cols={cols.index("description") + 1, cols.index("reference") + 1})
    sheets.append(sheet)

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    _store_cached_values(path, [sh.cached for sh in sheets])
    return path


def _sheet_ref(title: str, cell: str) -> str:
    """``'Sheet name'!G12`` (apostrophes doubled, as Excel quotes them)."""
    return "'" + title.replace("'", "''") + "'!" + cell


def _summary_sheet(sheet: _Sheet, summary: pd.DataFrame, budget: pd.DataFrame, years: list[int],
                   label: Any, lines_title: str, where: Mapping[str, Any]) -> None:
    """The caller's summary table, then the budget by year and funder.

    Each year's amount refers to that year's total on the line items sheet; the funders'
    shares are numbers; the totals row is ``SUM`` of the years.
    """
    from openpyxl.utils import get_column_letter

    row = _frame(sheet, summary, 1, label)
    funders = [f for f in _FUNDERS if f in budget.columns]
    by_year = budget.groupby("year")[["amount_yuan", *funders]].sum().reindex(years, fill_value=0.0)
    row += 1
    sheet.cell(row, 1, label("by_year"), bold=True)
    row += 1
    sheet.header(row, [label(c) for c in ("year", "amount_yuan", *funders)])
    first = row + 1
    fmts = {c: _number_format(c, by_year[c]) for c in by_year.columns}
    for i, year in enumerate(years):
        r = first + i
        sheet.cell(r, 1, int(year), "0")
        sheet.formula(r, 2, "=" + _sheet_ref(lines_title, where["year_cells"][int(year)]),
                      where["year_totals"][int(year)], fmts["amount_yuan"])
        for j, col in enumerate(funders, start=3):
            sheet.cell(r, j, float(by_year.at[year, col]), fmts[col])
    last = first + len(years) - 1
    total_row = last + 1
    sheet.cell(total_row, 1, label("total"))
    for j, col in enumerate(["amount_yuan", *funders], start=2):
        letter = get_column_letter(j)
        value = where["total"] if col == "amount_yuan" else float(by_year[col].sum())
        sheet.formula(total_row, j, f"=SUM({letter}{first}:{letter}{last})", value, fmts[col])
    sheet.total_row(total_row, 1 + len(by_year.columns))
    sheet.finish("A2")


def write_table_workbook(
    path: Path,
    sheets: Mapping[str, pd.DataFrame],
    *,
    labels: Mapping[str, str] | None = None,
) -> Path:
    """Write plain tables (comparisons, sweeps) to a workbook, one sheet per table.

    Headers are bold and frozen, ``*_yuan`` columns formatted as amounts, widths fit
    the content (as in :func:`write_budget_workbook`).

    Parameters
    ----------
    path : Path
        The ``.xlsx`` file to write (replaced).
    sheets : mapping of str to DataFrame
        Sheet key (translated through ``labels``) → table.
    labels : mapping, optional
        Internal name -> display text for sheet keys and column names.
    """
    from openpyxl import Workbook

    problems = []
    for key, df in sheets.items():
        problems += _check_columns(df, (), f"table {key}")
    if problems:
        raise RunError(problems)
    all_labels = {**_DEFAULT_LABELS, **(labels or {})}

    def label(key: Any) -> str:
        return str(all_labels.get(str(key), key))

    wb = Workbook()
    wb.remove(wb.active)
    taken: set[str] = set()
    for key, df in sheets.items():
        sheet = _Sheet(wb.create_sheet(sheet_title(label(key), taken)))
        _frame(sheet, df, 1, label)
        sheet.finish("A2")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def read_budget_totals(path: Path) -> dict[str, Any]:
    """Read the amounts back from a workbook written by :func:`write_budget_workbook`.

    Returns
    -------
    dict
        ``total`` grand total of the *Line items* sheet [yuan]; ``by_year``
        {year: the year's total}; ``by_line`` {line label: sum of its amounts};
        ``by_county`` {sheet title: grand total}; ``sheets`` the sheet titles in order.
        Values are those stored with the formulas (what qzfp computed, or what the
        program that last saved the file calculated), not recomputed here.
    """
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        names = wb.sheetnames
        if len(names) < 3:
            raise RunError(Problem(str(path), "workbook.too_few_sheets", names=names))

        def read_lines(ws) -> tuple[dict[int, float], dict[str, float], float]:
            # Rows: a line (has a rule), a year's total (a year, no rule), the grand total
            # (no year).  Amounts are column G, as stored (the values of the formulas).
            year_i, line_i, amount_i = 0, 1, LINE_COLUMNS.index("amount_yuan")
            rule_i = LINE_COLUMNS.index("rule_path")
            by_year: dict[int, float] = {}
            by_line: dict[str, float] = {}
            total = 0.0
            for r in ws.iter_rows(min_row=2, values_only=True):
                r = tuple(r) + (None,) * (len(LINE_COLUMNS) - len(r))
                amount = float(r[amount_i] or 0.0)
                if r[year_i] is None:
                    total = amount
                elif r[rule_i] in (None, ""):
                    by_year[int(r[year_i])] = amount
                else:
                    by_line[str(r[line_i])] = by_line.get(str(r[line_i]), 0.0) + amount
            return by_year, by_line, total

        by_year, by_line, total = read_lines(wb[names[1]])
        by_county = {n: read_lines(wb[n])[2] for n in names[2:-1]}
        return {
            "total": total,
            "by_year": by_year,
            "by_line": by_line,
            "by_county": by_county,
            "sheets": list(names),
        }
    finally:
        wb.close()
