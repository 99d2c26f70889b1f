"""Loading a township/village register: the packaged example of Quzhou or a user's files.

The result is a :class:`~qzfp.register.tables.Register` (three tidy tables sorted by code plus
integer index arrays that link them).  :func:`load_register` reads

* the packaged example (``path=None``) in one of three views: ``"2006"`` (after the 2006
  township adjustment, the default), ``"pre2006"`` (before it) and ``"2022"`` (the 100 real
  NBS units); see ``qzfp/data/README.md`` for what is real and what is synthetic;
* a folder with ``counties.csv``, ``townships.csv`` and ``villages.csv``;
* an XLSX workbook with sheets ``counties``/``townships``/``villages`` (or ``县``/``乡镇``/``村``);
* a single flat CSV or XLSX sheet of villages with township and county columns.

CSV files may be UTF-8, UTF-8 with BOM or GBK/GB18030; headers may be English or Chinese
(see :data:`ALIASES`); in XLSX, title rows above the header are skipped.  All problems of an
input are collected and raised together as one :class:`~qzfp.errors.RegisterError`, each
with a ``file:row`` location.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from qzfp.errors import Problem, RegisterError

from .files import csv_rows, file_sha256, xlsx_sheets
from .tables import DATA_DIR, EXAMPLE_YEAR, VIEWS, Register
from .validate import (
    counties_table,
    flat_tables,
    normalise_header,
    read_table,
    townships_table,
    villages_table,
)

__all__ = ["example_plan_path", "load_register", "validate_register_file"]

_SHEETS = {
    "counties": {"counties", "county", "县", "县区", "县(市、区)"},
    "townships": {"townships", "township", "乡镇", "乡镇街道", "乡镇(街道)"},
    "villages": {"villages", "village", "村", "村居", "村(社区)", "行政村"},
}



def example_plan_path(from_view: str, to_view: str) -> Path:
    """Path of the shipped merge plan between two consecutive views of the example.

    Parameters
    ----------
    from_view, to_view : str
        ``("pre2006", "2006")`` or ``("2006", "2022")``.
    """
    plans = {("pre2006", "2006"): "merge_pre2006_to_2006.csv",
             ("2006", "2022"): "merge_2006_to_2022.csv"}
    if (from_view, to_view) not in plans:
        raise RegisterError(Problem("view", "register.no_merge_plan", source=from_view, target=to_view))
    return DATA_DIR / plans[(from_view, to_view)]



def _load_example(view: str) -> Register:
    files = [DATA_DIR / "counties.csv", DATA_DIR / f"townships_{view}.csv",
             DATA_DIR / "villages.csv"]
    digest = hashlib.sha256()
    for f in files:
        file_sha256(f, digest)
    read = {"dtype": str, "keep_default_na": False}
    counties = pd.read_csv(files[0], **read)
    townships = pd.read_csv(files[1], **read)
    villages = pd.read_csv(files[2], **read)
    villages["township_code"] = villages[f"township_{view}"]
    for df in (townships, villages):
        for col in ("urban", "synthetic"):
            df[col] = df[col] == "1"
    for col in ("population", "in_migrants"):
        villages[col] = villages[col].astype(np.int64)
    return Register.from_tables(counties, townships, villages,
                                source=f"qzfp example register of Quzhou (view {view})",
                                sha256=digest.hexdigest(), year=EXAMPLE_YEAR)



def _match_sheets(sheets: dict[str, list[list[str]]]) -> dict[str, str]:
    found = {}
    for title in sheets:
        for table, names in _SHEETS.items():
            if normalise_header(title) in {normalise_header(n) for n in names} and table not in found:
                found[table] = title
    return found



def _load_user(path: Path, year: int) -> Register:
    problems: list[Problem] = []
    if not path.exists():
        raise RegisterError(Problem(str(path), "register.no_such_path"))
    tables: dict[str, tuple[list[list[str]] | None, str]] = {}
    digest = hashlib.sha256()
    xlsx = path.suffix.lower() in (".xlsx", ".xlsm")
    if path.is_dir():
        for name in ("counties", "townships", "villages"):
            f = path / f"{name}.csv"
            if not f.exists():
                problems.append(Problem(str(path), "register.folder_missing_table", name=name))
                continue
            file_sha256(f, digest)
            tables[name] = (csv_rows(f, problems), str(f))
        if problems:
            raise RegisterError(problems)
    elif xlsx:
        file_sha256(path, digest)
        sheets = xlsx_sheets(path, problems)
        if sheets is None:
            raise RegisterError(problems)
        found = _match_sheets(sheets)
        if len(found) == 3:
            tables = {t: (sheets[s], f"{path}[{s}]") for t, s in found.items()}
        elif found and set(found) != {"villages"}:
            missing = [t for t in _SHEETS if t not in found]
            raise RegisterError(Problem(str(path), "register.workbook_missing_sheets",
                                        found=", ".join(found.values()), missing=", ".join(missing)))
        else:
            title = found.get("villages", next(iter(sheets)))
            tables = {"flat": (sheets[title], f"{path}[{title}]")}
    elif path.suffix.lower() in (".csv", ".txt"):
        file_sha256(path, digest)
        tables = {"flat": (csv_rows(path, problems), str(path))}
    else:
        raise RegisterError(Problem(str(path), "register.unsupported_type", suffix=path.suffix))

    if "flat" in tables:
        rows, where = tables["flat"]
        df = read_table(rows, "flat", where, problems, spreadsheet=xlsx)
        if df is None:
            raise RegisterError(problems)
        counties, townships, villages = flat_tables(df, where, problems)
    else:
        dfs = {name: read_table(rows, name, where, problems, spreadsheet=xlsx)
               for name, (rows, where) in tables.items()}
        if any(d is None for d in dfs.values()):
            raise RegisterError(problems)
        w = {name: where for name, (_, where) in tables.items()}
        counties = counties_table(dfs["counties"], w["counties"], problems)
        townships = townships_table(dfs["townships"], w["townships"], problems,
                               set(counties["county_code"]), Path(w["counties"]).name)
        villages = villages_table(dfs["villages"], w["villages"], problems, townships,
                             Path(w["townships"]).name)
    if problems:
        raise RegisterError(problems)
    return Register.from_tables(counties, townships, villages, source=str(path),
                                sha256=digest.hexdigest(), year=year)



def load_register(path: str | Path | None = None, *, view: str = "2006",
                  year: int | None = None) -> Register:
    """Load the packaged example register or a user's register.

    Parameters
    ----------
    path : str or Path, optional
        None (or ``""``) for the packaged example of Quzhou; otherwise a folder with
        ``counties.csv``/``townships.csv``/``villages.csv``, an XLSX workbook (three sheets or
        one flat sheet) or a flat CSV of villages with township and county columns.
    view : str
        View of the packaged example: ``"2006"`` (default), ``"pre2006"`` or ``"2022"``.
        Only the default is allowed with a user's ``path``.
    year : int, optional
        Reference year of a user's populations [year] (default 2006, the example's year).

    Returns
    -------
    Register

    Raises
    ------
    RegisterError
        With every problem found, each located as ``file:row``.
    """
    if view not in VIEWS:
        raise RegisterError(Problem("view", "register.unknown_view", view=view, choices=", ".join(VIEWS)))
    if path is None or str(path) == "":
        return _load_example(view)
    if view != "2006":
        raise RegisterError(Problem("view", "register.view_only_example", view=view))
    return _load_user(Path(path), EXAMPLE_YEAR if year is None else int(year))



def validate_register_file(path: str | Path) -> list[Problem]:
    """All problems of a register file or folder; an empty list when it is valid.

    Never raises for bad input: unreadable files become problems too.
    """
    try:
        load_register(path)
    except RegisterError as exc:
        return exc.problems
    except (OSError, ValueError, KeyError) as exc:
        return [Problem(str(path), "register.unreadable", reason=str(exc))]
    return []
