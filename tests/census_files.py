"""Census tables for tests: the rows of the shipped table, and a table written from rows."""

from __future__ import annotations

import csv
from pathlib import Path

from qzfp.register.census import CENSUS_2010


def census_rows() -> list[dict[str, str]]:
    """The rows of the shipped 2010 census table, as text."""
    with open(CENSUS_2010, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def write_census(path: Path, rows: list[dict[str, object]]) -> Path:
    """A census table at ``path`` with the shipped table's columns and ``rows``."""
    header = list(census_rows()[0].keys())
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=header)
        w.writeheader()
        for r in rows:
            w.writerow(r)
    return path


#: Columns of the ``counts`` layout (the 2020 census table: resident counts by sex and age).
COUNT_COLUMNS = ["code", "province", "prefecture", "name_zh", "resident", "urban"] + [
    c for c in list(census_rows()[0].keys()) if c[:2] in ("m_", "f_")]


def write_counts(path: Path, rows: list[dict[str, object]]) -> Path:
    """A census table of the counts layout at ``path`` (missing columns written empty)."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COUNT_COLUMNS, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow(r)
    return path
