"""Validation of register tables: headers in English or Chinese, codes, names, numbers, kinds.

:func:`read_table` turns a grid of strings (from :mod:`qzfp.register.files`) into a table of
canonical columns; :func:`counties_table`, :func:`townships_table`, :func:`villages_table` and
:func:`flat_tables` check and type them.  Every problem is collected with its ``file:row``
location, never raised one at a time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from qzfp.errors import Label, Problem

from .schema import (
    Code,
    CodeList,
    Name,
    OptionalCode,
    TableSchema,
    Text,
    YesNo,
    choice,
    count,
    validate_frame,
)
from .tables import DATA_DIR, township_kind_from_name, village_kind_from_name

__all__ = [
    "ALIASES",
    "HEADER_SCAN_ROWS",
    "SCHEMAS",
    "MAX_REGISTER_BYTES",
    "MAX_REGISTER_ROWS",
    "MAX_VILLAGES",
    "MAX_VILLAGE_POPULATION",
    "counties_table",
    "flat_tables",
    "normalise_header",
    "packaged_counties",
    "read_table",
    "townships_table",
    "villages_table",
]

_COMMON = {
    "county_code": ["county_code", "县代码", "县区代码", "区县代码", "县(市、区)代码",
                    "县市区代码", "县级代码", "县编码"],
    "township_code": ["township_code", "乡镇代码", "乡镇街道代码", "乡镇(街道)代码", "乡镇编码",
                      "乡镇区划代码", "街道乡镇代码"],
    "village_code": ["village_code", "村代码", "村编码", "村级代码", "行政村代码", "村居代码",
                     "村(社区)代码", "村区划代码", "村居编码"],
    "population": ["population", "pop", "registered_population", "人口", "户籍人口", "总人口",
                   "人口数", "户籍人口数"],
    "in_migrants": ["in_migrants", "migrants", "流入人口", "暂住人口", "流动人口", "外来人口"],
    "name_en": ["name_en", "english_name", "英文名", "英文名称", "拼音"],
    "kind": ["kind", "type", "类型", "类别"],
    "urban": ["urban", "城镇", "是否城镇"],
    "synthetic": ["synthetic", "虚构", "是否虚构"],
    "merged_from": ["merged_from", "合并来源"],
}

_COUNTY_NAME = ["county_name", "县名称", "县名", "县区名称", "县(市、区)", "县区", "县"]

_TOWNSHIP_NAME = ["township_name", "乡镇名称", "乡镇名", "乡镇(街道)名称", "乡镇街道", "乡镇"]

_VILLAGE_NAME = ["village_name", "村名", "村名称", "村委会名称", "村居名称", "村(社区)名称",
                 "行政村", "村"]

#: Accepted column headers (after normalisation) per table: canonical name → aliases.
ALIASES: dict[str, dict[str, list[str]]] = {
    "counties": {
        "county_code": _COMMON["county_code"] + ["code", "代码"],
        "name_zh": ["name_zh", "name", "名称"] + _COUNTY_NAME,
        "name_en": _COMMON["name_en"],
    },
    "townships": {
        "township_code": _COMMON["township_code"] + ["code", "代码"],
        "county_code": _COMMON["county_code"],
        "name_zh": ["name_zh", "name", "名称"] + _TOWNSHIP_NAME,
        **{k: _COMMON[k] for k in ("name_en", "kind", "urban", "synthetic", "merged_from")},
    },
    "villages": {
        "village_code": _COMMON["village_code"] + ["code", "代码"],
        "township_code": _COMMON["township_code"],
        "county_code": _COMMON["county_code"],
        "name_zh": ["name_zh", "name", "名称"] + _VILLAGE_NAME,
        **{k: _COMMON[k] for k in ("name_en", "kind", "urban", "population", "in_migrants",
                                   "synthetic", "merged_from")},
    },
    "flat": {
        "village_code": _COMMON["village_code"],
        "name_zh": ["name_zh", "name"] + _VILLAGE_NAME,
        "township_code": _COMMON["township_code"],
        "township_name": _TOWNSHIP_NAME,
        "county_code": _COMMON["county_code"],
        "county_name": _COUNTY_NAME,
        **{k: _COMMON[k] for k in ("name_en", "kind", "urban", "population", "in_migrants",
                                   "synthetic")},
    },
}

_REQUIRED = {
    "counties": ["county_code", "name_zh"],
    "townships": ["township_code", "county_code", "name_zh"],
    "villages": ["village_code", "township_code", "name_zh", "population"],
    "flat": ["village_code", "name_zh", "township_code", "township_name", "county_code",
             "population"],
}

_TOWNSHIP_KINDS = {"subdistrict": "subdistrict", "town": "town", "xiang": "xiang",
                   "街道": "subdistrict", "镇": "town", "乡": "xiang"}

_VILLAGE_KINDS = {"village": "village", "community": "community", "村": "village",
                  "社区": "community", "居委会": "community"}

HEADER_SCAN_ROWS = 20

#: Largest register accepted [villages] (rows of a table): a national register.  China has
#: about 490,000 villages' committees and 115,000 residents' committees (民政部《2022年民政事业
#: 发展统计公报》: 48.9万个村委会、11.7万个居委会), about 610,000 village-level units;
#: 700,000 leaves room for a register that also lists its merged or dissolved units.
#: ``qzfp validate`` of 700,000 villages needs about 1 GB (``benchmarks/bench_inputs.py``);
#: a run is bounded separately by :data:`qzfp.model.run.MAX_VILLAGE_YEARS`.
MAX_VILLAGES = 700_000

#: Rows read from one table of a register [rows]: :data:`MAX_VILLAGES`.
MAX_REGISTER_ROWS = MAX_VILLAGES

#: Largest register file [byte]: :data:`MAX_VILLAGES` rows of up to 600 bytes (a row of
#: the synthetic national register has about 100, with English names and merge history
#: a real one a few hundred).
MAX_REGISTER_BYTES = 600 * MAX_VILLAGES

#: Plausibility bound of one village's or community's population and in-migrants
#: [person].  Villages and residents' committees typically have 1,000–5,000 people (the
#: largest of the packaged Quzhou register has 6,049; its largest township 60,000), so a
#: larger number is a typing or unit error (a township or county total, digits run
#: together) that would carry into every post and budget line.
MAX_VILLAGE_POPULATION = 200_000

_VillagePersons = count(MAX_VILLAGE_POPULATION, why="why.village_total")


class CountiesTable(TableSchema):
    """``counties.csv`` of a register folder (or the 县 sheet)."""

    county_code: list[Code]
    name_zh: list[Name]
    name_en: list[Text] | None = None


class TownshipsTable(TableSchema):
    """``townships.csv`` (乡镇): an empty ``county_code`` is said by the relational check."""

    township_code: list[Code]
    county_code: list[OptionalCode]
    name_zh: list[Name]
    name_en: list[Text] | None = None
    kind: list[choice([*_TOWNSHIP_KINDS, ""], lower=True)] | None = None
    urban: list[YesNo] | None = None
    synthetic: list[YesNo] | None = None
    merged_from: list[CodeList] | None = None


class _VillageCells(TableSchema):
    """The cells of a village besides its codes and names: population required, in-migrants
    0 when empty."""

    village_code: list[Code]
    name_zh: list[Name]
    name_en: list[Text] | None = None
    kind: list[choice([*_VILLAGE_KINDS, ""], lower=True)] | None = None
    urban: list[YesNo] | None = None
    population: list[_VillagePersons]
    in_migrants: list[count(MAX_VILLAGE_POPULATION, why="why.village_total", empty=0)] | None = None
    synthetic: list[YesNo] | None = None


class VillagesTable(_VillageCells):
    """``villages.csv`` (村): an empty ``township_code`` is said by the relational check."""

    township_code: list[OptionalCode]
    county_code: list[OptionalCode] | None = None
    merged_from: list[CodeList] | None = None


class FlatTable(_VillageCells):
    """One flat table of villages with their township and county."""

    township_code: list[Code]
    township_name: list[Name]
    county_code: list[OptionalCode]
    county_name: list[Name] | None = None


#: The schema of each register table.
SCHEMAS: dict[str, type[TableSchema]] = {"counties": CountiesTable, "townships": TownshipsTable,
                                         "villages": VillagesTable, "flat": FlatTable}


def normalise_header(header: object) -> str:
    """Normalise a header: strip, drop a trailing unit in brackets, lower case."""
    h = str(header).replace("\ufeff", "").strip()
    h = h.replace("（", "(").replace("）", ")")
    h = re.sub(r"\s*\([^()]*\)$", "", h) if not h.endswith(("(街道)", "(社区)", "(市、区)")) else h
    return re.sub(r"[\s\-]+", "_", h).lower()

_ALIAS_LOOKUP = {table: {normalise_header(a): canon for canon, aliases in spec.items() for a in aliases}
                 for table, spec in ALIASES.items()}


def read_table(rows: list[list[str]] | None, table: str, where: str,
               problems: list[Problem], *, aliases: dict[str, list[str]] | None = None,
               required: Sequence[str] | None = None, spreadsheet: bool = False) -> pd.DataFrame | None:
    """Turn a grid of strings into a DataFrame of canonical string columns.

    The header row is the first of the top rows with the most recognised headers (title
    rows above it are skipped).  Blank rows are dropped.  A row with data beyond the
    header's last column is a problem at that row (a number written ``464,527`` without
    quotes is two fields in a CSV file).  The column ``_row`` holds the 1-based row number
    a spreadsheet user sees.  The cells are checked by :func:`check_cells`.

    Parameters
    ----------
    rows : list of list of str or None
        The cells; None if the file could not be read (nothing is added then).
    table : str
        ``"counties"``, ``"townships"``, ``"villages"`` or ``"flat"`` (selects the aliases),
        or any name when ``aliases`` is given.
    where : str
        File (and sheet) name used in problem locations.
    problems : list of Problem
        Problems found are appended here.
    aliases, required : optional
        Canonical → aliases mapping and required canonical columns (default: the
        register tables').
    spreadsheet : bool
        The grid is a sheet of a workbook (problems speak of columns, not of CSV fields).

    Returns
    -------
    pd.DataFrame or None
        None when the table is unusable (empty, no header, missing columns, rows with
        more fields than the header).
    """
    if rows is None:
        return None
    lookup = ({normalise_header(a): c for c, al in aliases.items() for a in al} if aliases is not None
              else _ALIAS_LOOKUP[table])
    required = list(required if required is not None else _REQUIRED[table])
    nonblank = [i for i, r in enumerate(rows) if any(c != "" for c in r)]
    if not nonblank:
        problems.append(Problem(where, "register.file_empty"))
        return None
    scores = [(sum(normalise_header(c) in lookup for c in rows[i] if c), i)
              for i in nonblank[:HEADER_SCAN_ROWS]]
    best = max(s for s, _ in scores)
    if best < min(2, len(required)):
        problems.append(Problem(where, "register.no_header", rows=HEADER_SCAN_ROWS,
                                columns=", ".join(required)))
        return None
    h = next(i for s, i in scores if s == best)
    header = list(rows[h])
    while header and header[-1] == "":
        header.pop()
    width = len(header)
    data_idx = [i for i in nonblank if i > h]
    ok = _field_counts(rows, data_idx, width, where, problems, spreadsheet)
    cols: dict[str, int] = {}
    for j, name in enumerate(header):
        if name == "":
            if any(j < len(rows[i]) and rows[i][j] != "" for i in data_idx):
                problems.append(Problem(f"{where}:{h + 1}", "register.column_without_header",
                                        column=j + 1))
                ok = False
            continue
        canon = lookup.get(normalise_header(name))
        if canon is None:
            problems.append(Problem(f"{where}:{h + 1}", "register.unexpected_column", name=name,
                                    columns=", ".join(dict.fromkeys(lookup.values()))))
            ok = False
        elif canon in cols:
            problems.append(Problem(f"{where}:{h + 1}", "register.same_column_twice",
                                    first=header[cols[canon]], second=name, column=canon))
            ok = False
        else:
            cols[canon] = j
    missing = [c for c in required if c not in cols]
    if missing:
        problems.append(Problem(f"{where}:{h + 1}", "register.missing_columns", columns=", ".join(missing)))
        ok = False
    if not data_idx:
        problems.append(Problem(where, "register.no_data_rows"))
        ok = False
    if not ok:
        return None
    df = pd.DataFrame({c: [rows[i][j] if j < len(rows[i]) else "" for i in data_idx]
                       for c, j in cols.items()})
    df["_row"] = [i + 1 for i in data_idx]
    return df


def _field_counts(rows: list[list[str]], data_idx: list[int], width: int, where: str,
                  problems: list[Problem], spreadsheet: bool) -> bool:
    """False (and a problem per row) when rows have data beyond the header's ``width`` columns."""
    ok = True
    for i in data_idx:
        row = rows[i]
        if len(row) > width and any(c != "" for c in row[width:]):
            last = max(j for j, c in enumerate(row) if c != "") + 1
            problems.append(
                Problem(f"{where}:{i + 1}", "table.beyond_header", column=last, width=width) if spreadsheet
                else Problem(f"{where}:{i + 1}", "table.field_count", count=last, width=width,
                             hint=Label("hint.unquoted_thousands")))
            ok = False
    return ok


def check_cells(df: pd.DataFrame, table: str, where: str, problems: list[Problem]) -> dict[str, list]:
    """The typed cells of a register table checked against its schema (:data:`SCHEMAS`);
    every bad cell is a problem at its row, and then the result is ``{}``."""
    return validate_frame(SCHEMAS[table], df, where, problems)


def _loc(where: str, rows: pd.Series) -> list[str]:
    return [f"{where}:{r}" for r in rows]


def _check_duplicates(df: pd.DataFrame, col: str, where: str, problems: list[Problem]) -> None:
    codes = df[col]
    dup = (codes != "") & codes.duplicated(keep="first")
    if not dup.any():
        return
    first_row = df.drop_duplicates(col).set_index(col)["_row"]
    for loc, code in zip(_loc(where, df["_row"][dup]), codes[dup], strict=True):
        problems.append(Problem(loc, "register.duplicate_code", column=col, value=code,
                                row=first_row[code]))


def _typed(df: pd.DataFrame, cells: dict[str, list], col: str, default: object) -> pd.Series | object:
    """A checked column as a Series (``default`` when the table lacks it or a cell was bad)."""
    if col in cells:
        return pd.Series(cells[col], index=df.index)
    return default


def _parse_kind(df: pd.DataFrame, where: str, problems: list[Problem], *,
                township: bool) -> pd.Series:
    """Canonical kinds: the ``kind`` column (its words checked by the schema), else from the name."""
    names = df["name_zh"]
    given = df["kind"].str.strip().str.lower() if "kind" in df else pd.Series("", index=df.index)
    table = _TOWNSHIP_KINDS if township else _VILLAGE_KINDS
    kinds = given.map(table)
    derive = given == ""
    if township:
        derived = names[derive].map(township_kind_from_name)
        unknown = derived.isna() & (names[derive] != "")
        for loc, name in zip(_loc(where, df["_row"][derive][unknown]), names[derive][unknown],
                             strict=True):
            problems.append(Problem(loc, "register.township_kind_unknown", name=name))
    else:
        derived = names[derive].map(village_kind_from_name)
    kinds[derive] = derived
    return kinds.fillna("")


def counties_table(df: pd.DataFrame, where: str, problems: list[Problem]) -> pd.DataFrame:
    check_cells(df, "counties", where, problems)
    _check_duplicates(df, "county_code", where, problems)
    out = df[["county_code", "name_zh"]].copy()
    out["name_en"] = df["name_en"] if "name_en" in df else ""
    out.loc[out["name_en"] == "", "name_en"] = out["name_zh"]
    return out


def _named_units(df: pd.DataFrame, code_col: str, parent_col: str, where: str,
                 problems: list[Problem], cells: dict[str, list], *, township: bool) -> pd.DataFrame:
    """The columns townships and villages share: code, parent code, names (``name_en`` falls
    back to ``name_zh``), kind and urban (by default: a subdistrict, a community)."""
    _check_duplicates(df, code_col, where, problems)
    out = df[[code_col, parent_col, "name_zh"]].copy()
    out["name_en"] = df["name_en"] if "name_en" in df else ""
    out.loc[out["name_en"] == "", "name_en"] = out["name_zh"]
    out["kind"] = _parse_kind(df, where, problems, township=township)
    default_urban = out["kind"] == ("subdistrict" if township else "community")
    out["urban"] = _typed(df, cells, "urban", default_urban) if "urban" in df else default_urban
    return out


def townships_table(df: pd.DataFrame, where: str, problems: list[Problem],
                    county_codes: set[str], county_where: str, *,
                    cells: dict[str, list] | None = None) -> pd.DataFrame:
    """``cells``: the typed cells when the caller checked them already (a flat table)."""
    cells = check_cells(df, "townships", where, problems) if cells is None else cells
    out = _named_units(df, "township_code", "county_code", where, problems, cells, township=True)
    out["synthetic"] = _typed(df, cells, "synthetic", False)
    out["merged_from"] = df["merged_from"] if "merged_from" in df else ""
    orphan = ~df["county_code"].isin(county_codes)
    for loc, code, cc in zip(_loc(where, df["_row"][orphan]), df["township_code"][orphan],
                             df["county_code"][orphan], strict=True):
        problems.append(
            Problem(loc, "register.township_county_empty", code=code) if cc == "" else
            Problem(loc, "register.township_county_missing", code=code, county=cc,
                    file=county_where))
    return out


def villages_table(df: pd.DataFrame, where: str, problems: list[Problem],
                   townships: pd.DataFrame | None, township_where: str, *,
                   cells: dict[str, list] | None = None) -> pd.DataFrame:
    """``cells``: the typed cells when the caller checked them already (a flat table)."""
    cells = check_cells(df, "villages", where, problems) if cells is None else cells
    out = _named_units(df, "village_code", "township_code", where, problems, cells, township=False)
    out["population"] = _typed(df, cells, "population", 0)
    out["in_migrants"] = _typed(df, cells, "in_migrants", 0)
    for col in ("population", "in_migrants"):
        out[col] = out[col].astype(np.int64) if isinstance(out[col], pd.Series) else out[col]
    if len(df) > MAX_VILLAGES:
        problems.append(Problem(where, "register.too_many_villages", count=len(df), max=MAX_VILLAGES))
    out["synthetic"] = _typed(df, cells, "synthetic", False)
    out["merged_from"] = df["merged_from"] if "merged_from" in df else ""
    if townships is not None:
        t_county = townships.drop_duplicates("township_code").set_index(
            "township_code")["county_code"]
        orphan = ~df["township_code"].isin(t_county.index)
        for loc, code, tc in zip(_loc(where, df["_row"][orphan]), df["village_code"][orphan],
                                 df["township_code"][orphan], strict=True):
            problems.append(
                Problem(loc, "register.village_township_empty", code=code) if tc == "" else
                Problem(loc, "register.village_township_missing", code=code, township=tc,
                        file=township_where))
        if "county_code" in df:
            expected = df["township_code"].map(t_county)
            bad = ~orphan & (df["county_code"] != "") & (df["county_code"] != expected)
            for loc, cc, tc, ex in zip(_loc(where, df["_row"][bad]), df["county_code"][bad],
                                       df["township_code"][bad], expected[bad], strict=True):
                problems.append(Problem(loc, "register.county_differs", county=cc, expected=ex,
                                        township=tc))
    return out


def _derive_level(df: pd.DataFrame, code: str, fields: list[str], where: str,
                  problems: list[Problem], what: str) -> pd.DataFrame:
    """Unique rows of (code, fields) from a flat table; conflicting values are problems."""
    sub = df[df[code] != ""]
    first = sub.drop_duplicates(code).set_index(code)
    for f in fields:
        expected = sub[code].map(first[f])
        bad = sub[f] != expected
        for loc, c, val, ex in zip(_loc(where, sub["_row"][bad]), sub[code][bad], sub[f][bad],
                                   expected[bad], strict=True):
            problems.append(Problem(loc, "register.level_conflict", what=Label(f"noun.{what}"),
                                    code=c, column=f, value=val, expected=ex,
                                    row=first.loc[c, "_row"]))
    return first.reset_index()[[code, *fields, "_row"]]


def flat_tables(df: pd.DataFrame, where: str, problems: list[Problem]
                ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    cells = check_cells(df, "flat", where, problems)
    has_cname = "county_name" in df
    cfields = ["county_name"] if has_cname else []
    c = _derive_level(df, "county_code", cfields, where, problems, "county")
    if not has_cname:
        known = packaged_counties().set_index("county_code")["name_zh"]
        c["county_name"] = c["county_code"].map(known).fillna(c["county_code"])
    counties = pd.DataFrame({"county_code": c["county_code"], "name_zh": c["county_name"],
                             "name_en": c["county_code"].map(
                                 packaged_counties().set_index("county_code")["name_en"]
                             ).fillna(c["county_name"])})
    t = _derive_level(df, "township_code", ["township_name", "county_code"], where, problems,
                      "township")
    t = t.rename(columns={"township_name": "name_zh"})
    townships = townships_table(t, where, problems, set(counties["county_code"]), where, cells={})
    villages = villages_table(df, where, problems, townships, where, cells=cells)
    return counties, townships, villages


def packaged_counties() -> pd.DataFrame:
    return pd.read_csv(DATA_DIR / "counties.csv", dtype=str, keep_default_na=False)
