"""The budget workbook (``budget.xlsx``) that goes into a budget proposal.

Sheets, in this order (``read_budget_totals`` relies on it):

1. *Summary* — the caller's summary table, then the budget by year and funder.
2. *Line items* — one row per budget line, one column per year, a total column, the
   rule path and the reference(s) of the rule; a totals row.
3. One sheet per county, same layout as *Line items*, for that county's rows.
4. *Assumptions* — every parameter used: path, description, unit, since, value, reference.

Amounts are written as numbers (not formulas, so every reader shows them without
recalculating) formatted ``#,##0`` yuan, or ``#,##0.00`` where a sheet has amounts with
cents.  Header rows (and the label column of the wide sheets) are frozen, headers bold,
totals rows bold with a rule above, widths follow the content (CJK characters count
double), and pages print landscape, one page wide, with the header repeated.

Every text is written as a text cell, never a formula: a text beginning with ``=`` (or
``+``, ``-``, ``@``) is shown as typed, not evaluated, by Excel, LibreOffice and openpyxl.
Characters that XML 1.0 cannot hold (the C0 control characters other than tab, line feed
and carriage return; DEL and the C1 controls; lone surrogates; U+FFFE/U+FFFF) are removed
from cell texts and sheet titles, so a text can never make the file unreadable
(:func:`clean_text`).  Registers refuse such names up front; this is the writer's own
guarantee whatever the caller passes.

Display text comes from ``labels``: a mapping from internal names (sheet keys
``summary``, ``line_items``, ``assumptions``, ``by_year``, ``total``; column names;
budget line ids) to what the reader sees, so a Chinese workbook needs no code change.
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

from qzfp.errors import Problem, RunError

__all__ = ["BUDGET_COLUMNS", "clean_text", "read_budget_totals", "sheet_title", "write_budget_workbook"]

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
#: Funder columns; ``qzfp.budget.budget_table`` names them ``city_yuan``, ``county_yuan``,
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
    "year": "Year",
    "line": "Line item",
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

    def finish(self, freeze: str, *, wrap_cols: set[int] = frozenset()) -> None:
        from openpyxl.utils import get_column_letter

        for col, w in self.widths.items():
            width = min(max(w + 2, 8), _MAX_WIDTH)
            self.ws.column_dimensions[get_column_letter(col)].width = width
            if col in wrap_cols and w + 2 > _MAX_WIDTH:
                for (cell,) in self.ws.iter_rows(min_col=col, max_col=col, min_row=2):
                    cell.alignment = self.wrap
        self.ws.freeze_panes = freeze
        self.ws.print_title_rows = "1:1"
        self.ws.page_setup.orientation = "landscape"
        self.ws.page_setup.fitToWidth = 1
        self.ws.page_setup.fitToHeight = 0
        self.ws.sheet_properties.pageSetUpPr.fitToPage = True


def _check_columns(df: pd.DataFrame, required: tuple[str, ...], what: str) -> list[Problem]:
    if not isinstance(df, pd.DataFrame):
        return [Problem(what, f"expected a pandas DataFrame, got {type(df).__name__}")]
    missing = [c for c in required if c not in df.columns]
    if missing:
        return [
            Problem(what, f"missing column(s) {', '.join(missing)}; expected {', '.join(required)}")
        ]
    return []


def _line_table(
    sheet: _Sheet,
    rows: pd.DataFrame,
    years: list[int],
    label: Any,
) -> float:
    """Write lines × years + total; return the grand total [yuan]."""
    header = [label("line")] + [int(y) for y in years] + [label("total"), label("rule_path"), label("reference")]
    sheet.header(1, header)
    pivot = (
        rows.pivot_table(index="line", columns="year", values="amount_yuan", aggfunc="sum", fill_value=0.0, sort=False)
        .reindex(columns=years, fill_value=0.0)
    )
    order = list(dict.fromkeys(rows["line"]))  # first-seen order of the lines
    pivot = pivot.reindex(order)
    values = pivot.to_numpy(dtype=float)
    fmt = _AMOUNT_CENTS if _has_cents(values) else _AMOUNT
    meta = rows.groupby("line", sort=False).agg(
        rule_path=("rule_path", lambda s: "; ".join(dict.fromkeys(str(x) for x in s if pd.notna(x)))),
        reference=("reference", lambda s: "; ".join(dict.fromkeys(str(x) for x in s if pd.notna(x)))),
    )
    ny = len(years)
    for i, line in enumerate(order):
        r = i + 2
        sheet.cell(r, 1, label(line))
        for j in range(ny):
            sheet.cell(r, 2 + j, values[i, j], fmt)
        sheet.cell(r, 2 + ny, values[i].sum(), fmt, bold=True)
        sheet.cell(r, 3 + ny, meta.at[line, "rule_path"])
        sheet.cell(r, 4 + ny, meta.at[line, "reference"])
    r = len(order) + 2
    col_tot = values.sum(axis=0) if len(order) else np.zeros(ny)
    sheet.cell(r, 1, label("total"))
    for j in range(ny):
        sheet.cell(r, 2 + j, col_tot[j], fmt)
    sheet.cell(r, 2 + ny, col_tot.sum(), fmt)
    sheet.total_row(r, 2 + ny)
    sheet.finish("B2", wrap_cols={4 + ny})
    return float(col_tot.sum())


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
                    Problem(
                        f"budget table:row {i + 1}",
                        f"{col} must be a number, got {budget[col].iloc[i]!r}"
                        + (f" ({int(bad.sum())} such rows)" if bad.sum() > 1 else ""),
                    )
                )
    if problems:
        raise RunError(problems)

    all_labels = {**_DEFAULT_LABELS, **(labels or {})}

    def label(key: Any) -> str:
        return str(all_labels.get(str(key), key))

    budget = budget.copy()
    budget["year"] = pd.to_numeric(budget["year"]).astype(int)
    budget["amount_yuan"] = pd.to_numeric(budget["amount_yuan"]).astype(float)
    budget["county_code"] = budget["county_code"].astype(str)
    budget["line"] = budget["line"].astype(str)
    years = sorted(budget["year"].unique().tolist())

    wb = Workbook()
    taken: set[str] = set()

    # 1. Summary
    ws = wb.active
    ws.title = sheet_title(label("summary"), taken)
    sheet = _Sheet(ws)
    row = _frame(sheet, summary, 1, label)
    by_year = budget.groupby("year")[["amount_yuan", *[f for f in _FUNDERS if f in budget.columns]]].sum()
    row += 1
    sheet.cell(row, 1, label("by_year"), bold=True)
    row = _frame(sheet, by_year.reset_index(), row + 1, label)
    sheet.cell(row, 1, label("total"))
    for j, col in enumerate(by_year.columns, start=2):
        sheet.cell(row, j, by_year[col].sum(), _number_format(col, by_year[col]))
    sheet.total_row(row, 1 + len(by_year.columns))
    sheet.finish("A2")

    # 2. Line items, 3. counties
    _line_table(_Sheet(wb.create_sheet(sheet_title(label("line_items"), taken))), budget, years, label)
    names = dict(county_names or {})
    for code, rows in budget.groupby("county_code", sort=True):
        title = sheet_title(names.get(code, code), taken)
        _line_table(_Sheet(wb.create_sheet(title)), rows, years, label)

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
            sheet.cell(i + 2, j + 1, v, fmt)
    sheet.finish("B2", wrap_cols={cols.index("description") + 1, cols.index("reference") + 1})

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


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
        {year: amount}; ``by_line`` {line label: total}; ``by_county`` {sheet title:
        total}; ``sheets`` the sheet titles in order.  Values are the numbers stored in
        the cells (the totals row and total column as written, not recomputed).
    """
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        names = wb.sheetnames
        if len(names) < 3:
            raise RunError(Problem(str(path), f"expected at least 3 sheets, found {names}"))

        def read_lines(ws) -> tuple[dict[int, float], dict[str, float], float]:
            rows = list(ws.iter_rows(values_only=True))
            header = rows[0]
            year_cols = [(j, int(h)) for j, h in enumerate(header) if isinstance(h, int)]
            total_col = year_cols[-1][0] + 1 if year_cols else 1
            by_line = {str(r[0]): float(r[total_col] or 0.0) for r in rows[1:-1]}
            last = rows[-1]
            by_year = {y: float(last[j] or 0.0) for j, y in year_cols}
            return by_year, by_line, float(last[total_col] or 0.0)

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
