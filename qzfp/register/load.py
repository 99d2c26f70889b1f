"""The township/village register: load, validate, and the packaged example of Quzhou.

A :class:`Register` holds three tidy tables (counties, townships, villages) sorted by code
plus integer index arrays that link them, so that engines can aggregate villages to
townships and counties with ``np.bincount`` instead of Python loops.

:func:`load_register` reads

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

import csv
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from qzfp.errors import Problem, RegisterError

__all__ = [
    "ALIASES",
    "DATA_DIR",
    "EXAMPLE_YEAR",
    "MAX_REGISTER_ROWS",
    "MAX_VILLAGES",
    "MAX_VILLAGE_POPULATION",
    "VIEWS",
    "Register",
    "csv_rows",
    "example_plan_path",
    "load_register",
    "read_table",
    "township_kind_from_name",
    "validate_register_file",
    "village_kind_from_name",
]

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
#: Views of the packaged example register.
VIEWS = ("2006", "pre2006", "2022")
#: Reference year of the packaged example's populations (and the default for user files).
EXAMPLE_YEAR = 2006

COUNTY_COLUMNS = ["county_code", "name_zh", "name_en"]
TOWNSHIP_COLUMNS = ["township_code", "county_code", "name_zh", "name_en", "kind", "urban",
                    "synthetic", "merged_from"]
VILLAGE_COLUMNS = ["village_code", "township_code", "county_code", "name_zh", "name_en", "kind",
                   "urban", "population", "in_migrants", "synthetic", "merged_from"]

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
_SHEETS = {
    "counties": {"counties", "county", "县", "县区", "县(市、区)"},
    "townships": {"townships", "township", "乡镇", "乡镇街道", "乡镇(街道)"},
    "villages": {"villages", "village", "村", "村居", "村(社区)", "行政村"},
}
_TRUE = {"1", "true", "yes", "y", "t", "是", "真"}
_FALSE = {"0", "false", "no", "n", "f", "否", "假", ""}
_TOWNSHIP_KINDS = {"subdistrict": "subdistrict", "town": "town", "xiang": "xiang",
                   "街道": "subdistrict", "镇": "town", "乡": "xiang"}
_VILLAGE_KINDS = {"village": "village", "community": "community", "村": "village",
                  "社区": "community", "居委会": "community"}
_HEADER_SCAN_ROWS = 20

#: Largest register accepted [villages] (rows of a table).  Memory bound: a 16-year run
#: of the model needs about 8 kB per village (measured: 0.9 GB peak for 100,800 villages,
#: see ``benchmarks/README.md``), and the notebooks of a run hold up to three such
#: copies; Quzhou has 2,800 villages and communities, a whole province some tens of
#: thousands.  A larger area is split by county into several registers.
MAX_VILLAGES = 100_000
#: Rows read from one table of a register [rows]: :data:`MAX_VILLAGES`.
MAX_REGISTER_ROWS = MAX_VILLAGES
#: Plausibility bound of one village's or community's population and in-migrants
#: [person].  Villages and residents' committees typically have 1,000–5,000 people (the
#: largest of the packaged Quzhou register has 6,049; its largest township 60,000), so a
#: larger number is a typing or unit error (a township or county total, digits run
#: together) that would carry into every post and budget line.
MAX_VILLAGE_POPULATION = 200_000
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: A number Excel shortened to scientific notation when saving a CSV ("3.30802E+11"):
#: the digits of the code are lost.
_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:\.\d*)?[eE][+-]?\d+$")


def _norm(header: object) -> str:
    """Normalise a header: strip, drop a trailing unit in brackets, lower case."""
    h = str(header).replace("\ufeff", "").strip()
    h = h.replace("（", "(").replace("）", ")")
    h = re.sub(r"\s*\([^()]*\)$", "", h) if not h.endswith(("(街道)", "(社区)", "(市、区)")) else h
    return re.sub(r"[\s\-]+", "_", h).lower()


_ALIAS_LOOKUP = {table: {_norm(a): canon for canon, aliases in spec.items() for a in aliases}
                 for table, spec in ALIASES.items()}


def township_kind_from_name(name: str) -> str | None:
    """Kind of a township from its Chinese name suffix, ignoring a bracketed remark.

    Returns ``"subdistrict"`` (…街道), ``"town"`` (…镇), ``"xiang"`` (…乡) or ``None``.
    """
    stem = re.sub(r"[(（][^()（）]*[)）]$", "", str(name).strip())
    for suffix, kind in (("街道", "subdistrict"), ("镇", "town"), ("乡", "xiang")):
        if stem.endswith(suffix):
            return kind
    return None


def village_kind_from_name(name: str) -> str:
    """``"community"`` for names ending in 社区/居委会/居民委员会, otherwise ``"village"``."""
    stem = re.sub(r"[(（][^()（）]*[)）]$", "", str(name).strip())
    return "community" if stem.endswith(("社区", "居委会", "居民委员会")) else "village"


# ---------------------------------------------------------------------------------------
# The Register
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Register:
    """Counties, townships and villages with the index arrays that link them.

    Attributes
    ----------
    counties : pd.DataFrame
        ``county_code`` (6 digits), ``name_zh``, ``name_en``; sorted by code.
    townships : pd.DataFrame
        ``township_code``, ``county_code``, ``name_zh``, ``name_en``, ``kind``
        (subdistrict|town|xiang), ``urban``, ``synthetic``, ``merged_from`` (``;``-separated
        codes absorbed by merges, ``""`` if none); sorted by code.
    villages : pd.DataFrame
        ``village_code``, ``township_code``, ``county_code``, ``name_zh``, ``name_en``,
        ``kind`` (village|community), ``urban``, ``population`` [person], ``in_migrants``
        [person], ``synthetic``, ``merged_from``; sorted by code.
    source : str
        Where the register came from.
    sha256 : str
        SHA-256 of the input bytes.
    year : int
        Reference year of the populations.
    village_township, village_county, township_county : np.ndarray
        Row indices (int64) into ``townships``/``counties`` for each village/township.
    census : qzfp.register.census.Census or None
        Census table of the base population of the counties (None: the shipped 2010 census);
        set from a scenario's ``census`` key.
    """

    counties: pd.DataFrame
    townships: pd.DataFrame
    villages: pd.DataFrame
    source: str
    sha256: str
    year: int
    village_township: np.ndarray
    village_county: np.ndarray
    township_county: np.ndarray
    census: Any = None

    @classmethod
    def from_tables(cls, counties: pd.DataFrame, townships: pd.DataFrame,
                    villages: pd.DataFrame, *, source: str, sha256: str,
                    year: int = EXAMPLE_YEAR) -> Register:
        """Build a register from tables that are already valid (sorts, links, checks).

        Optional columns get their defaults (``name_en`` = ``name_zh``, ``kind`` from the
        name, ``urban`` from the kind, ``in_migrants`` = 0, ``synthetic`` = False,
        ``merged_from`` = ""); ``county_code`` of villages is taken from their township.

        Raises
        ------
        RegisterError
            If a village's township or a township's county does not exist.
        """
        c = counties.copy()
        t = townships.copy()
        v = villages.copy()
        for df in (c, t, v):
            if "name_en" not in df or (df["name_en"].astype(str) == "").all():
                df["name_en"] = df["name_zh"]
        if "kind" not in t:
            t["kind"] = [township_kind_from_name(n) for n in t["name_zh"]]
        if "urban" not in t:
            t["urban"] = t["kind"] == "subdistrict"
        if "kind" not in v:
            v["kind"] = [village_kind_from_name(n) for n in v["name_zh"]]
        if "urban" not in v:
            v["urban"] = v["kind"] == "community"
        v["in_migrants"] = v["in_migrants"] if "in_migrants" in v else 0
        for df in (t, v):
            for col, default in (("synthetic", False), ("merged_from", "")):
                if col not in df:
                    df[col] = default
        c = c[COUNTY_COLUMNS].astype(str).sort_values("county_code", ignore_index=True)
        t = t.sort_values("township_code", ignore_index=True)
        t_index = pd.Index(t["township_code"])
        v_town = t_index.get_indexer(v["township_code"])
        problems = [Problem(source, f'village "{code}": township_code "{tc}" does not exist')
                    for code, tc in zip(v["village_code"][v_town < 0],
                                        v["township_code"][v_town < 0], strict=True)]
        t_county = pd.Index(c["county_code"]).get_indexer(t["county_code"])
        problems += [Problem(source, f'township "{code}" is in no county: county_code '
                                     f'"{cc}" does not exist')
                     for code, cc in zip(t["township_code"][t_county < 0],
                                         t["county_code"][t_county < 0], strict=True)]
        if problems:
            raise RegisterError(problems)
        v["county_code"] = t["county_code"].to_numpy()[v_town]
        v = v.sort_values("village_code", ignore_index=True)
        for df, cols in ((t, TOWNSHIP_COLUMNS), (v, VILLAGE_COLUMNS)):
            for col in ("urban", "synthetic"):
                df[col] = df[col].astype(bool)
            for col in cols:
                if col not in ("urban", "synthetic", "population", "in_migrants"):
                    df[col] = df[col].astype(str)
        v["population"] = v["population"].astype(np.int64)
        v["in_migrants"] = v["in_migrants"].astype(np.int64)
        t = t[TOWNSHIP_COLUMNS].reset_index(drop=True)
        v = v[VILLAGE_COLUMNS].reset_index(drop=True)
        village_township = t_index.get_indexer(v["township_code"]).astype(np.int64)
        township_county = pd.Index(c["county_code"]).get_indexer(t["county_code"])
        return cls(counties=c, townships=t, villages=v, source=source, sha256=sha256,
                   year=int(year), village_township=village_township,
                   village_county=township_county[village_township].astype(np.int64),
                   township_county=township_county.astype(np.int64))

    # -- sizes and populations -------------------------------------------------------------
    @property
    def n_counties(self) -> int:
        """Number of counties C."""
        return len(self.counties)

    @property
    def n_townships(self) -> int:
        """Number of townships S."""
        return len(self.townships)

    @property
    def n_villages(self) -> int:
        """Number of villages V."""
        return len(self.villages)

    @property
    def village_population(self) -> np.ndarray:
        """Population per village (V,) [person]."""
        return self.villages["population"].to_numpy(dtype=np.int64)

    def township_population(self) -> np.ndarray:
        """Population per township (S,) [person], the sum of its villages."""
        return np.bincount(self.village_township, weights=self.village_population,
                           minlength=self.n_townships).astype(np.int64)

    def county_population(self) -> np.ndarray:
        """Population per county (C,) [person], the sum of its villages."""
        return np.bincount(self.village_county, weights=self.village_population,
                           minlength=self.n_counties).astype(np.int64)

    def townships_summary(self) -> pd.DataFrame:
        """One row per township: identity, village counts, population and in-migrants.

        Returns
        -------
        pd.DataFrame
            Columns ``township_code, county_code, county_name_zh, name_zh, name_en, kind,
            urban, synthetic, villages, communities, population`` [person],
            ``in_migrants`` [person], ``smallest_village``, ``largest_village`` [person].
        """
        v = self.villages
        idx = self.village_township
        s = self.n_townships
        pop = self.village_population
        out = self.townships[["township_code", "county_code", "name_zh", "name_en", "kind",
                              "urban", "synthetic"]].copy()
        out.insert(2, "county_name_zh",
                   self.counties["name_zh"].to_numpy()[self.township_county])
        comm = (v["kind"] == "community").to_numpy()
        out["villages"] = np.bincount(idx[~comm], minlength=s)
        out["communities"] = np.bincount(idx[comm], minlength=s)
        out["population"] = self.township_population()
        out["in_migrants"] = np.bincount(idx, weights=v["in_migrants"].to_numpy(),
                                         minlength=s).astype(np.int64)
        smallest = np.full(s, np.iinfo(np.int64).max)
        largest = np.zeros(s, dtype=np.int64)
        np.minimum.at(smallest, idx, pop)
        np.maximum.at(largest, idx, pop)
        out["smallest_village"] = np.where(out["villages"] + out["communities"] > 0, smallest, 0)
        out["largest_village"] = largest
        return out

    def counties_summary(self) -> pd.DataFrame:
        """One row per county: townships, villages, population, mean and largest township."""
        t = self.townships_summary()
        g = t.groupby("county_code", sort=True)
        out = self.counties.copy()
        out["townships"] = g.size().reindex(out["county_code"], fill_value=0).to_numpy()
        out["villages"] = (g["villages"].sum() + g["communities"].sum()).reindex(
            out["county_code"], fill_value=0).to_numpy()
        out["population"] = self.county_population()
        out["in_migrants"] = g["in_migrants"].sum().reindex(out["county_code"],
                                                            fill_value=0).to_numpy()
        out["mean_township"] = out["population"] / out["townships"].clip(lower=1)
        out["largest_township"] = g["population"].max().reindex(out["county_code"],
                                                                fill_value=0).to_numpy()
        return out

    def __repr__(self) -> str:
        return (f"Register({self.source!r}, year={self.year}, counties={self.n_counties}, "
                f"townships={self.n_townships}, villages={self.n_villages}, "
                f"population={int(self.village_population.sum())})")


# ---------------------------------------------------------------------------------------
# Reading raw tables (CSV / XLSX) into string grids
# ---------------------------------------------------------------------------------------


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
                    if len(rows) > MAX_REGISTER_ROWS + _HEADER_SCAN_ROWS:
                        problems.append(Problem(str(path), f"more than {MAX_REGISTER_ROWS:,} rows: a "
                                                           f"register is limited to {MAX_REGISTER_ROWS:,} "
                                                           "rows (see MAX_VILLAGES)"))
                        return None
            return rows
        except UnicodeDecodeError:
            continue
        except csv.Error as exc:
            problems.append(Problem(str(path), f"not a readable CSV file: {exc}"))
            return None
    problems.append(Problem(str(path), "cannot decode the file (expected UTF-8, UTF-8 "
                                       "with BOM, GBK or GB18030 text)"))
    return None


def _file_sha256(path: Path, digest: object) -> None:
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
        if filled > MAX_REGISTER_ROWS + _HEADER_SCAN_ROWS:
            problems.append(Problem(where, f"more than {MAX_REGISTER_ROWS:,} rows: a register is "
                                           f"limited to {MAX_REGISTER_ROWS:,} rows (see MAX_VILLAGES)"))
            return None
        rows.extend([blank] * pending)
        pending = 0
        rows.append(cells)
    return rows


def _xlsx_sheets(path: Path, problems: list[Problem]) -> dict[str, list[list[str]]] | None:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for corrupt files
        problems.append(Problem(str(path), f"cannot read the workbook: {exc}"))
        return None
    try:
        sheets = {ws.title: _sheet_rows(ws, f"{path}[{ws.title}]", problems) for ws in wb.worksheets}
    finally:
        wb.close()
    return None if any(v is None for v in sheets.values()) else sheets


def read_table(rows: list[list[str]] | None, table: str, where: str,
               problems: list[Problem], *, aliases: dict[str, list[str]] | None = None,
               required: Sequence[str] | None = None) -> pd.DataFrame | None:
    """Turn a grid of strings into a DataFrame of canonical string columns.

    The header row is the first of the top rows with the most recognised headers (title
    rows above it are skipped).  Blank rows are dropped.  The column ``_row`` holds the
    1-based row number a spreadsheet user sees.

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

    Returns
    -------
    pd.DataFrame or None
        None when the table is unusable (empty, no header, missing columns).
    """
    if rows is None:
        return None
    lookup = ({_norm(a): c for c, al in aliases.items() for a in al} if aliases is not None
              else _ALIAS_LOOKUP[table])
    required = list(required if required is not None else _REQUIRED[table])
    nonblank = [i for i, r in enumerate(rows) if any(c != "" for c in r)]
    if not nonblank:
        problems.append(Problem(where, "the file is empty (expected a header row and data rows)"))
        return None
    scores = [(sum(_norm(c) in lookup for c in rows[i] if c), i)
              for i in nonblank[:_HEADER_SCAN_ROWS]]
    best = max(s for s, _ in scores)
    if best < min(2, len(required)):
        problems.append(Problem(where, "no header row found in the first "
                                       f"{_HEADER_SCAN_ROWS} rows (expected columns "
                                       f"{', '.join(required)})"))
        return None
    h = next(i for s, i in scores if s == best)
    header = rows[h]
    data_idx = [i for i in nonblank if i > h]
    width = max(len(rows[i]) for i in [h, *data_idx])
    cols: dict[str, int] = {}
    ok = True
    for j in range(width):
        name = header[j] if j < len(header) else ""
        if name == "":
            if any(j < len(rows[i]) and rows[i][j] != "" for i in data_idx):
                problems.append(Problem(f"{where}:{h + 1}", f"column {j + 1} has data but no "
                                                            "header"))
                ok = False
            continue
        canon = lookup.get(_norm(name))
        if canon is None:
            problems.append(Problem(f"{where}:{h + 1}", f'unexpected column "{name}" (expected '
                                    f'columns: {", ".join(dict.fromkeys(lookup.values()))})'))
            ok = False
        elif canon in cols:
            problems.append(Problem(f"{where}:{h + 1}", f'columns "{header[cols[canon]]}" and '
                                    f'"{name}" both mean {canon}'))
            ok = False
        else:
            cols[canon] = j
    missing = [c for c in required if c not in cols]
    if missing:
        problems.append(Problem(f"{where}:{h + 1}", f"missing column(s): {', '.join(missing)}"))
        ok = False
    if not data_idx:
        problems.append(Problem(where, "the file is empty: a header row but no data rows"))
        ok = False
    if not ok:
        return None
    df = pd.DataFrame({c: [rows[i][j] if j < len(rows[i]) else "" for i in data_idx]
                       for c, j in cols.items()})
    df["_row"] = [i + 1 for i in data_idx]
    _check_text_cells(df, where, problems)
    return df


def _check_text_cells(df: pd.DataFrame, where: str, problems: list[Problem]) -> None:
    """Control characters anywhere, and codes in scientific notation, are problems."""
    for col in df.columns:
        if col == "_row":
            continue
        values = df[col]
        bad = values.str.contains(_CONTROL_CHARS, regex=True)
        for loc, val in zip(_loc(where, df["_row"][bad]), values[bad], strict=True):
            ch = _CONTROL_CHARS.search(val).group()
            problems.append(Problem(loc, f"{col} {val!r} contains the control character "
                                         f"U+{ord(ch):04X} (names and codes must be plain text)"))
        if col.endswith("code"):
            sci = ~bad & values.str.match(_SCIENTIFIC)
            for loc, val in zip(_loc(where, df["_row"][sci]), values[sci], strict=True):
                problems.append(Problem(loc, f'{col} "{val}" is a number in scientific notation: '
                                             "Excel shortened the code and its digits are lost; "
                                             "format the column as text and enter the codes again"))


# ---------------------------------------------------------------------------------------
# Validating tables
# ---------------------------------------------------------------------------------------


def _loc(where: str, rows: pd.Series) -> list[str]:
    return [f"{where}:{r}" for r in rows]


def _check_codes(df: pd.DataFrame, col: str, where: str, problems: list[Problem]) -> None:
    codes = df[col]
    for loc in _loc(where, df["_row"][codes == ""]):
        problems.append(Problem(loc, f"{col} is empty"))
    bad = (codes != "") & codes.str.contains(r"\s", regex=True)
    for loc, code in zip(_loc(where, df["_row"][bad]), codes[bad], strict=True):
        problems.append(Problem(loc, f'{col} "{code}" contains spaces'))
    dup = (codes != "") & codes.duplicated(keep="first")
    first_row = df.drop_duplicates(col).set_index(col)["_row"]
    for loc, code in zip(_loc(where, df["_row"][dup]), codes[dup], strict=True):
        problems.append(Problem(loc, f'duplicate {col} "{code}" (first on row '
                                     f"{first_row[code]})"))


def _check_names(df: pd.DataFrame, col: str, where: str, problems: list[Problem]) -> None:
    for loc in _loc(where, df["_row"][df[col] == ""]):
        problems.append(Problem(loc, f"{col} is empty"))


def _parse_int(df: pd.DataFrame, col: str, where: str, problems: list[Problem], *,
               empty: int | None) -> pd.Series:
    raw = df[col].str.replace(",", "", regex=False).str.replace(" ", "", regex=False)
    num = pd.to_numeric(raw, errors="coerce")
    is_empty = raw == ""
    if empty is None:
        for loc in _loc(where, df["_row"][is_empty]):
            problems.append(Problem(loc, f"{col} is empty (expected a whole number of people)"))
    not_whole = ~is_empty & (num.isna() | (num % 1 != 0))
    for loc, val in zip(_loc(where, df["_row"][not_whole]), df[col][not_whole], strict=True):
        problems.append(Problem(loc, f'{col} "{val}" is not a whole number'))
    negative = ~is_empty & ~not_whole & (num < 0)
    for loc, val in zip(_loc(where, df["_row"][negative]), df[col][negative], strict=True):
        problems.append(Problem(loc, f"{col} {val} is negative (expected a whole number ≥ 0)"))
    return num.where(~(is_empty | not_whole | negative), 0 if empty is None else empty).astype(
        np.int64)


def _parse_bool(df: pd.DataFrame, col: str, where: str, problems: list[Problem]) -> pd.Series:
    low = df[col].str.lower()
    bad = ~low.isin(_TRUE | _FALSE)
    for loc, val in zip(_loc(where, df["_row"][bad]), df[col][bad], strict=True):
        problems.append(Problem(loc, f'{col} "{val}" is not a yes/no value (expected 1/0, '
                                     "true/false or 是/否)"))
    return low.isin(_TRUE)


def _parse_kind(df: pd.DataFrame, where: str, problems: list[Problem], *,
                township: bool) -> pd.Series:
    names = df["name_zh"]
    given = df["kind"].str.lower() if "kind" in df else pd.Series("", index=df.index)
    table = _TOWNSHIP_KINDS if township else _VILLAGE_KINDS
    kinds = given.map(table)
    bad = (given != "") & kinds.isna()
    for loc, val in zip(_loc(where, df["_row"][bad]), given[bad], strict=True):
        problems.append(Problem(loc, f'kind "{val}" is not one of '
                                     f"{', '.join(sorted(set(table)))}"))
    derive = given == ""
    if township:
        derived = names[derive].map(township_kind_from_name)
        unknown = derived.isna() & (names[derive] != "")
        for loc, name in zip(_loc(where, df["_row"][derive][unknown]), names[derive][unknown],
                             strict=True):
            problems.append(Problem(loc, f'cannot tell the kind of township "{name}" (expected '
                                         "a name ending in 街道, 镇 or 乡, or a kind column)"))
    else:
        derived = names[derive].map(village_kind_from_name)
    kinds[derive] = derived
    return kinds.fillna("")


def _counties(df: pd.DataFrame, where: str, problems: list[Problem]) -> pd.DataFrame:
    _check_codes(df, "county_code", where, problems)
    _check_names(df, "name_zh", where, problems)
    out = df[["county_code", "name_zh"]].copy()
    out["name_en"] = df["name_en"] if "name_en" in df else ""
    out.loc[out["name_en"] == "", "name_en"] = out["name_zh"]
    return out


def _townships(df: pd.DataFrame, where: str, problems: list[Problem],
               county_codes: set[str], county_where: str) -> pd.DataFrame:
    _check_codes(df, "township_code", where, problems)
    _check_names(df, "name_zh", where, problems)
    out = df[["township_code", "county_code", "name_zh"]].copy()
    out["name_en"] = df["name_en"] if "name_en" in df else ""
    out.loc[out["name_en"] == "", "name_en"] = out["name_zh"]
    out["kind"] = _parse_kind(df, where, problems, township=True)
    out["urban"] = (_parse_bool(df, "urban", where, problems) if "urban" in df
                    else out["kind"] == "subdistrict")
    out["synthetic"] = (_parse_bool(df, "synthetic", where, problems) if "synthetic" in df
                        else False)
    out["merged_from"] = df["merged_from"] if "merged_from" in df else ""
    orphan = ~df["county_code"].isin(county_codes)
    for loc, code, cc in zip(_loc(where, df["_row"][orphan]), df["township_code"][orphan],
                             df["county_code"][orphan], strict=True):
        why = "county_code is empty" if cc == "" else (
            f'county_code "{cc}" does not exist in {county_where}')
        problems.append(Problem(loc, f'township "{code}" is in no county: {why}'))
    return out


def _villages(df: pd.DataFrame, where: str, problems: list[Problem],
              townships: pd.DataFrame | None, township_where: str) -> pd.DataFrame:
    _check_codes(df, "village_code", where, problems)
    _check_names(df, "name_zh", where, problems)
    out = df[["village_code", "township_code", "name_zh"]].copy()
    out["name_en"] = df["name_en"] if "name_en" in df else ""
    out.loc[out["name_en"] == "", "name_en"] = out["name_zh"]
    out["kind"] = _parse_kind(df, where, problems, township=False)
    out["urban"] = (_parse_bool(df, "urban", where, problems) if "urban" in df
                    else out["kind"] == "community")
    out["population"] = _parse_int(df, "population", where, problems, empty=None)
    out["in_migrants"] = (_parse_int(df, "in_migrants", where, problems, empty=0)
                          if "in_migrants" in df else 0)
    for col in ("population", "in_migrants"):
        if col not in df:
            continue
        big = out[col] > MAX_VILLAGE_POPULATION
        for loc, val in zip(_loc(where, df["_row"][big]), df[col][big], strict=True):
            problems.append(Problem(loc, f"{col} {val} is implausible for one village (at most "
                                         f"{MAX_VILLAGE_POPULATION:,} people; a township or county "
                                         "total, or digits run together?)"))
    if len(df) > MAX_VILLAGES:
        problems.append(Problem(where, f"{len(df):,} villages: a register is limited to "
                                       f"{MAX_VILLAGES:,} villages (memory); split it by county"))
    out["synthetic"] = (_parse_bool(df, "synthetic", where, problems) if "synthetic" in df
                        else False)
    out["merged_from"] = df["merged_from"] if "merged_from" in df else ""
    if townships is not None:
        t_county = townships.drop_duplicates("township_code").set_index(
            "township_code")["county_code"]
        orphan = ~df["township_code"].isin(t_county.index)
        for loc, code, tc in zip(_loc(where, df["_row"][orphan]), df["village_code"][orphan],
                                 df["township_code"][orphan], strict=True):
            why = "township_code is empty" if tc == "" else (
                f'township_code "{tc}" does not exist in {township_where}')
            problems.append(Problem(loc, f'village "{code}": {why}'))
        if "county_code" in df:
            expected = df["township_code"].map(t_county)
            bad = ~orphan & (df["county_code"] != "") & (df["county_code"] != expected)
            for loc, cc, tc, ex in zip(_loc(where, df["_row"][bad]), df["county_code"][bad],
                                       df["township_code"][bad], expected[bad], strict=True):
                problems.append(Problem(loc, f'county_code "{cc}" differs from county "{ex}" '
                                             f'of township "{tc}"'))
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
            problems.append(Problem(loc, f'{what} "{c}" has {f} "{val}" here but "{ex}" on row '
                                         f'{first.loc[c, "_row"]}'))
    return first.reset_index()[[code, *fields, "_row"]]


def _flat(df: pd.DataFrame, where: str, problems: list[Problem]
          ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    has_cname = "county_name" in df
    cfields = ["county_name"] if has_cname else []
    c = _derive_level(df, "county_code", cfields, where, problems, "county")
    if not has_cname:
        known = _packaged_counties().set_index("county_code")["name_zh"]
        c["county_name"] = c["county_code"].map(known).fillna(c["county_code"])
    counties = pd.DataFrame({"county_code": c["county_code"], "name_zh": c["county_name"],
                             "name_en": c["county_code"].map(
                                 _packaged_counties().set_index("county_code")["name_en"]
                             ).fillna(c["county_name"])})
    t = _derive_level(df, "township_code", ["township_name", "county_code"], where, problems,
                      "township")
    t = t.rename(columns={"township_name": "name_zh"})
    for loc in _loc(where, df["_row"][df["township_code"] == ""]):
        problems.append(Problem(loc, "township_code is empty"))
    townships = _townships(t, where, problems, set(counties["county_code"]), where)
    villages = _villages(df, where, problems, townships, where)
    return counties, townships, villages


# ---------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------


def _packaged_counties() -> pd.DataFrame:
    return pd.read_csv(DATA_DIR / "counties.csv", dtype=str, keep_default_na=False)


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
        raise RegisterError(Problem("view", f"no shipped merge plan from {from_view!r} to "
                                            f"{to_view!r} (available: pre2006→2006, 2006→2022)"))
    return DATA_DIR / plans[(from_view, to_view)]


def _load_example(view: str) -> Register:
    files = [DATA_DIR / "counties.csv", DATA_DIR / f"townships_{view}.csv",
             DATA_DIR / "villages.csv"]
    digest = hashlib.sha256()
    for f in files:
        _file_sha256(f, digest)
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
            if _norm(title) in {_norm(n) for n in names} and table not in found:
                found[table] = title
    return found


def _load_user(path: Path, year: int) -> Register:
    problems: list[Problem] = []
    if not path.exists():
        raise RegisterError(Problem(str(path), "no such file or folder"))
    tables: dict[str, tuple[list[list[str]] | None, str]] = {}
    digest = hashlib.sha256()
    if path.is_dir():
        for name in ("counties", "townships", "villages"):
            f = path / f"{name}.csv"
            if not f.exists():
                problems.append(Problem(str(path), f"missing {name}.csv (a register folder "
                                                   "holds counties.csv, townships.csv and "
                                                   "villages.csv)"))
                continue
            _file_sha256(f, digest)
            tables[name] = (csv_rows(f, problems), str(f))
        if problems:
            raise RegisterError(problems)
    elif path.suffix.lower() in (".xlsx", ".xlsm"):
        _file_sha256(path, digest)
        sheets = _xlsx_sheets(path, problems)
        if sheets is None:
            raise RegisterError(problems)
        found = _match_sheets(sheets)
        if len(found) == 3:
            tables = {t: (sheets[s], f"{path}[{s}]") for t, s in found.items()}
        elif found and set(found) != {"villages"}:
            missing = [t for t in _SHEETS if t not in found]
            raise RegisterError(Problem(str(path), f"the workbook has sheets "
                                        f"{', '.join(found.values())} but no sheet for "
                                        f"{', '.join(missing)} (expected counties/townships/"
                                        "villages or 县/乡镇/村, or one flat sheet)"))
        else:
            title = found.get("villages", next(iter(sheets)))
            tables = {"flat": (sheets[title], f"{path}[{title}]")}
    elif path.suffix.lower() in (".csv", ".txt"):
        _file_sha256(path, digest)
        tables = {"flat": (csv_rows(path, problems), str(path))}
    else:
        raise RegisterError(Problem(str(path), f'unsupported file type "{path.suffix}" '
                                               "(expected .csv, .xlsx or a folder)"))

    if "flat" in tables:
        rows, where = tables["flat"]
        df = read_table(rows, "flat", where, problems)
        if df is None:
            raise RegisterError(problems)
        counties, townships, villages = _flat(df, where, problems)
    else:
        dfs = {name: read_table(rows, name, where, problems)
               for name, (rows, where) in tables.items()}
        if any(d is None for d in dfs.values()):
            raise RegisterError(problems)
        w = {name: where for name, (_, where) in tables.items()}
        counties = _counties(dfs["counties"], w["counties"], problems)
        townships = _townships(dfs["townships"], w["townships"], problems,
                               set(counties["county_code"]), Path(w["counties"]).name)
        villages = _villages(dfs["villages"], w["villages"], problems, townships,
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
        raise RegisterError(Problem("view", f"unknown register view {view!r} (expected one of "
                                            f"{', '.join(VIEWS)})"))
    if path is None or str(path) == "":
        return _load_example(view)
    if view != "2006":
        raise RegisterError(Problem("view", f"view {view!r} applies only to the packaged "
                                            "example register, not to a file"))
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
        return [Problem(str(path), f"cannot read the register: {exc}")]
    return []
