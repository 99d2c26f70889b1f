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

from .budget import (
           ASSUMPTION_COLUMNS,
           BUDGET_COLUMNS,
           LINE_COLUMNS,
           read_budget_totals,
           write_budget_workbook,
)
from .sheet import clean_text, is_qzfp_formula, sheet_title
from .tables import write_table_workbook

__all__ = ["ASSUMPTION_COLUMNS", "BUDGET_COLUMNS", "LINE_COLUMNS", "clean_text", "is_qzfp_formula",
           "read_budget_totals", "sheet_title", "write_budget_workbook", "write_table_workbook"]
