"""The budget workbook (``budget.xlsx``): *Summary*, *Line items* with their formulas, one
sheet per county and *Assumptions* (the layout is described in :mod:`qzfp.reporting.workbook`),
and :func:`read_budget_totals`, which reads its amounts back."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from qzfp.errors import Label, Problem, RunError
from qzfp.reporting.publish import atomic_path

from .sheet import (
    AMOUNT,
    AMOUNT_CENTS,
    DEFAULT_LABELS,
    Sheet,
    check_columns,
    has_cents,
    number_format,
    sheet_title,
    write_frame,
)

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

#: Columns of the *Line items* and county sheets, in order (A ... I).
LINE_COLUMNS = ("year", "line", "quantity", "quantity_unit", "unit_cost_yuan", "months", "amount_yuan",
                "rule_path", "reference")
_COL = {name: i + 1 for i, name in enumerate(LINE_COLUMNS)}
_QTY, _COST, _MONTHS, _AMT = "C", "E", "F", "G"
_MONTHS_PER_YEAR = 12


def _joined(values: pd.Series) -> str:
    return "; ".join(dict.fromkeys(str(x) for x in values if pd.notna(x) and str(x) != ""))


def _line_row(sheet: Sheet, r: int, year: int, row: Any, label: Any, monthly: set[str], *, detail: bool,
              with_unit: bool, qty_fmt: str, money: str) -> None:
    """Write one line item at row ``r``: with ``detail``, quantity, unit (``with_unit``), unit
    cost [yuan] per month (and 12 months) or per year and the amount as a formula; without,
    the amount as a number [yuan]; then the rule and its reference."""
    sheet.cell(r, _COL["year"], year, "0")
    sheet.cell(r, _COL["line"], label(row.line))
    if detail:
        per_month = row.rule_path in monthly
        cost = float(row.unit_cost_yuan) / (_MONTHS_PER_YEAR if per_month else 1)
        whole = not has_cents([float(row.quantity)])  # posts, persons ...: "2,170", not "2,170.00"
        sheet.cell(r, _COL["quantity"], float(row.quantity), "#,##0" if whole else qty_fmt)
        if with_unit:
            sheet.cell(r, _COL["quantity_unit"], label(f"unit.{row.quantity_unit}"))
        sheet.cell(r, _COL["unit_cost_yuan"], cost, AMOUNT_CENTS if has_cents([cost]) else AMOUNT)
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


def _line_table(
    sheet: Sheet,
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
    money = AMOUNT_CENTS if has_cents(amounts) else AMOUNT
    whole_qty = detail and not has_cents(table["quantity"].to_numpy(dtype=float))
    qty_fmt = "#,##0" if whole_qty else "#,##0.00"
    amount_col = get_column_letter(_COL["amount_yuan"])

    r = 2
    year_cells: dict[int, str] = {}
    year_totals: dict[int, float] = {}
    for year in years:
        block = table[table["year"] == year]
        first = r
        for row in block.itertuples(index=False):
            _line_row(sheet, r, int(year), row, label, monthly, detail=detail,
                      with_unit="quantity_unit" in table.columns, qty_fmt=qty_fmt, money=money)
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

    _check_budget_inputs(budget, assumptions, summary)
    label = _labeller(labels)
    budget = _normalised(budget)
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
    summary_sheet = Sheet(summary_ws)

    # 2. Line items, 3. counties
    lines_title = sheet_title(label("line_items"), taken)
    lines_sheet = Sheet(wb.create_sheet(lines_title))
    where = _line_table(lines_sheet, budget, years, label, monthly)
    sheets = [summary_sheet, lines_sheet]
    names = dict(county_names or {})
    for code, rows in budget.groupby("county_code", sort=True):
        county_sheet = Sheet(wb.create_sheet(sheet_title(names.get(code, code), taken)))
        _line_table(county_sheet, rows, years, label, monthly)
        sheets.append(county_sheet)

    _summary_sheet(summary_sheet, summary, budget, years, label, lines_title, where)

    # 4. Assumptions
    sheets.append(_assumptions_sheet(Sheet(wb.create_sheet(sheet_title(label("assumptions"), taken))),
                                     assumptions, label))

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    _store_cached_values(path, [sh.cached for sh in sheets])
    return path


def _check_budget_inputs(budget: pd.DataFrame, assumptions: pd.DataFrame, summary: pd.DataFrame) -> None:
    """Raise a :class:`RunError` listing every missing column and the first non-numeric year,
    amount or funder amount of ``budget`` (with the number of such rows)."""
    problems = check_columns(budget, _REQUIRED, "budget table")
    problems += check_columns(assumptions, ASSUMPTION_COLUMNS, "assumptions table")
    problems += check_columns(summary, (), "summary table")
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


def _labeller(labels: Mapping[str, str] | None) -> Any:
    """The display text of an internal name: ``labels``, then :data:`DEFAULT_LABELS`, then the
    name itself (a ``unit.`` key without its prefix)."""
    all_labels = {**DEFAULT_LABELS, **(labels or {})}

    def label(key: Any) -> str:
        key = str(key)
        if key in all_labels:
            return str(all_labels[key])
        return key[len("unit."):] if key.startswith("unit.") else key

    return label


def _normalised(budget: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``budget`` with int years, float amounts [yuan] and text county codes and lines."""
    budget = budget.copy()
    budget["year"] = pd.to_numeric(budget["year"]).astype(int)
    budget["amount_yuan"] = pd.to_numeric(budget["amount_yuan"]).astype(float)
    budget["county_code"] = budget["county_code"].astype(str)
    budget["line"] = budget["line"].astype(str)
    return budget


def _assumptions_sheet(sheet: Sheet, assumptions: pd.DataFrame, label: Any) -> Sheet:
    """Every parameter used, :data:`ASSUMPTION_COLUMNS` first, then any extra column; ``since``
    as a date, numeric values with their decimals, units through ``label``."""
    cols = list(ASSUMPTION_COLUMNS) + [c for c in assumptions.columns if c not in ASSUMPTION_COLUMNS]
    sheet.header(1, [label(c) for c in cols])
    data = assumptions[cols].to_numpy(dtype=object)
    for i in range(data.shape[0]):
        for j, col in enumerate(cols):
            v = data[i, j]
            fmt = "yyyy-mm-dd" if col == "since" else None
            year_unit = str(assumptions["unit"].iloc[i]) in ("year", label("unit.year"))
            if col == "value" and isinstance(v, (float, np.floating)) and not float(v).is_integer():
                fmt = "#,##0.00##"
            elif col == "value" and isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
                fmt = "0" if year_unit else "#,##0"  # a year without a separator: 2007, not 2,007
            if isinstance(v, (bool, np.bool_)):  # the assumption flag, a yes/no value: words, not TRUE/FALSE
                v = label("yes" if v else "no")
            if col == "unit":
                v = label(f"unit.{v}")
            sheet.cell(i + 2, j + 1, v, fmt)
    sheet.finish("B2", wrap_cols={cols.index("description") + 1, cols.index("reference") + 1})
    return sheet


def _sheet_ref(title: str, cell: str) -> str:
    """``'Sheet name'!G12`` (apostrophes doubled, as Excel quotes them)."""
    return "'" + title.replace("'", "''") + "'!" + cell


def _summary_sheet(sheet: Sheet, summary: pd.DataFrame, budget: pd.DataFrame, years: list[int],
                   label: Any, lines_title: str, where: Mapping[str, Any]) -> None:
    """The caller's summary table, then the budget by year and funder.

    Each year's amount refers to that year's total on the line items sheet; the funders'
    shares are numbers; the totals row is ``SUM`` of the years.
    """
    from openpyxl.utils import get_column_letter

    row = write_frame(sheet, summary, 1, label)
    funders = [f for f in _FUNDERS if f in budget.columns]
    by_year = budget.groupby("year")[["amount_yuan", *funders]].sum().reindex(years, fill_value=0.0)
    row += 1
    sheet.cell(row, 1, label("by_year"), bold=True)
    row += 1
    sheet.header(row, [label(c) for c in ("year", "amount_yuan", *funders)])
    first = row + 1
    fmts = {c: number_format(c, by_year[c]) for c in by_year.columns}
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
