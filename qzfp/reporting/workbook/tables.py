"""Plain table workbooks (comparisons, sweeps): one sheet per table, written with the
shared cell writer of :mod:`qzfp.reporting.workbook.sheet`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from qzfp.errors import RunError

from .sheet import DEFAULT_LABELS, Sheet, check_columns, sheet_title, write_frame


def write_table_workbook(
    path: Path,
    sheets: Mapping[str, pd.DataFrame],
    *,
    labels: Mapping[str, str] | None = None,
) -> Path:
    """Write plain tables (comparisons, sweeps) to a workbook, one sheet per table.

    Headers are bold and frozen, ``*_yuan`` columns formatted as amounts, widths fit
    the content (as in :func:`~qzfp.reporting.workbook.budget.write_budget_workbook`).

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
        problems += check_columns(df, (), f"table {key}")
    if problems:
        raise RunError(problems)
    all_labels = {**DEFAULT_LABELS, **(labels or {})}

    def label(key: Any) -> str:
        return str(all_labels.get(str(key), key))

    wb = Workbook()
    wb.remove(wb.active)
    taken: set[str] = set()
    for key, df in sheets.items():
        sheet = Sheet(wb.create_sheet(sheet_title(label(key), taken)))
        write_frame(sheet, df, 1, label)
        sheet.finish("A2")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
