"""Census age–sex tables: loading, validation, lookup by county and the single-year split.

The shipped table is the 6th national census of China (1 November 2010) for every province,
prefecture and county (``qzfp/data/census2010_county_age_sex.csv``; source and licence in
``qzfp/data/README.md``): resident persons (常住) by sex and 19 age groups (0, 1–4, 5–9, …,
80–84, 85+), registered (户籍) and urban totals, the census-year crude birth and death rates
and the children ever born per woman aged 15–64.  A planner holding a later census table of
the same layout starts from it with the scenario keys ``census`` and ``census_date``.

The population engine (:mod:`qzfp.model.projection`) turns a county's row into single years of age
with :func:`split_single_years` (monotone cubic interpolation of the cumulative age
distribution, which keeps every group total exactly) and closes the open 85+ group with the
person-years of the county's fitted life table.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from pydantic import Field, create_model

from ..errors import Label, Problem, QzfpError
from .files import Limits, csv_rows
from .schema import (
    DivisionCode,
    Name,
    TableSchema,
    Text,
    amount,
    check_columns,
    choice,
    validate_columns,
)

__all__ = [
    "CENSUS_2010",
    "CENSUS_LIMITS",
    "MAX_CENSUS_BYTES",
    "MAX_CENSUS_ROWS",
    "MAX_CHILDREN_PER_WOMAN",
    "MAX_CRUDE_RATE",
    "MAX_ROW_PERSONS",
    "CensusCountsTable",
    "CensusFullTable",
    "CENSUS_2010_DATE",
    "CENSUS_2020_DATE",
    "CENSUS_2020_OUTSIDE_ZHEJIANG",
    "GROUP_LABELS",
    "GROUP_STARTS",
    "Census",
    "CensusError",
    "CountyRows",
    "LAYOUTS",
    "default_census",
    "fractional_year",
    "level_of_code",
    "load_census",
    "split_single_years",
    "validate_census_file",
    "looks_like_census",
]

#: The shipped census table (2010 census county tables, compiled by leiii/census).
CENSUS_2010 = Path(__file__).resolve().parents[1] / "data" / "census2010_county_age_sex.csv"
#: The 2020 census of every province but Zhejiang (resident counts only: a table to check against).
CENSUS_2020_OUTSIDE_ZHEJIANG = Path(__file__).resolve().parents[1] / "data" / "census2020_county_age_sex_outside_zhejiang.csv"
#: Reference moment of the 7th national census: 0:00 on 1 November 2020.
CENSUS_2020_DATE = dt.date(2020, 11, 1)
#: Reference moment of the 6th national census: 0:00 on 1 November 2010 (国务院第六次全国人口普查公报).
CENSUS_2010_DATE = dt.date(2010, 11, 1)
#: First age of each age group of the table; the last group (85+) is open.
GROUP_STARTS = (0, 1, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85)
GROUP_LABELS = ("0", "1-4") + tuple(f"{a}-{a + 4}" for a in GROUP_STARTS[2:-1]) + ("85+",)
_TOTALS = ("resident", "registered", "urban", "birth_rate_permille", "death_rate_permille",
           "children_ever_born_women_15_64")
_AGE_COLUMNS = tuple(f"{s}_{g}" for s in ("m", "f") for g in GROUP_LABELS)
#: The layout of a table that counts residents only (the 2020 census table of
#: ``../shared/data``): no ``level`` (read from the code), no registered total, no rates.
_COUNT_TOTALS = ("resident", "urban")
_LEVELS = ("province", "prefecture", "county")
#: Layouts of :func:`load_census`: ``full`` (the shipped 2010 table: a base for projections)
#: and ``counts`` (resident counts by sex and age only: a later census to check against).
LAYOUTS = ("full", "counts")

#: Most people one row of a census table may count [person]: a row is at most a province,
#: and the most populous, Guangdong, had 126.0 million residents at the 2020 census
#: (《第七次全国人口普查公报（第三号）》); a larger count is a typing or unit error.
MAX_ROW_PERSONS = 200_000_000
#: Highest plausible crude birth or death rate [per mille/year]: the highest of any country
#: are about 50 (UN World Population Prospects 2022: crude birth rate of Niger, 2010-2020).
MAX_CRUDE_RATE = 100
#: Highest plausible number of children ever born per woman aged 15-64 [child/woman]: the
#: highest total fertility of any country is about 7 (UN WPP 2022, Niger 2010).
MAX_CHILDREN_PER_WOMAN = 15
#: Most rows of a census table [row]: a national table has about 3,200 (the 2010 table:
#: 31 provinces, 333 prefectures and 2,857 counties, 3,221 rows; the 2020 table 3,210).
MAX_CENSUS_ROWS = 10_000
#: Largest census table [byte]: :data:`MAX_CENSUS_ROWS` rows of up to 800 bytes (a row of
#: the shipped table has about 270; the national tables are 0.85 MB).
MAX_CENSUS_BYTES = 800 * MAX_CENSUS_ROWS
#: The bounds of a census table, checked before it is parsed.
CENSUS_LIMITS = Limits("noun.census_table", MAX_CENSUS_BYTES, MAX_CENSUS_ROWS, "MAX_CENSUS_ROWS")

_Persons = amount(MAX_ROW_PERSONS, why="why.census_row")
_Rate = amount(MAX_CRUDE_RATE, why="why.crude_rate")
_AGES = {c: (list[_Persons], Field(alias=c)) for c in _AGE_COLUMNS}


def _field(column: str) -> str:
    """A Python name for a column header (``m_1-4`` → ``m_1_4``, ``m_85+`` → ``m_85plus``)."""
    return column.replace("-", "_").replace("+", "plus")


#: The full layout (the shipped 2010 table): a base for projections.
CensusFullTable = create_model(
    "CensusFullTable", __base__=TableSchema,
    code=(list[DivisionCode], ...), name_zh=(list[Name], ...), level=(list[choice(_LEVELS)], ...),
    resident=(list[_Persons], ...), registered=(list[_Persons], ...), urban=(list[_Persons], ...),
    birth_rate_permille=(list[_Rate], ...), death_rate_permille=(list[_Rate], ...),
    children_ever_born_women_15_64=(list[amount(MAX_CHILDREN_PER_WOMAN, why="why.children_per_woman")], ...),
    **{_field(c): spec for c, spec in _AGES.items()},
)
#: The counts layout (the 2020 census table): resident counts by sex and age only.
CensusCountsTable = create_model(
    "CensusCountsTable", __base__=TableSchema,
    code=(list[DivisionCode], ...), province=(list[Text] | None, None), prefecture=(list[Text] | None, None),
    name_zh=(list[Name], ...), resident=(list[_Persons], ...), urban=(list[_Persons], ...),
    **{_field(c): spec for c, spec in _AGES.items()},
)


def level_of_code(code: str) -> str:
    """Level of a 6-digit division code: ``province`` (``..0000``), ``prefecture`` (``....00``)
    or ``county`` (any other)."""
    if code.endswith("0000"):
        return "province"
    return "prefecture" if code.endswith("00") else "county"


def prefecture_key(codes: Sequence[str] | np.ndarray) -> np.ndarray:
    """The prefecture of each 6-digit division code: its first four digits (GB/T 2260), as an
    object array of str."""
    return np.array([str(c)[:4] for c in codes], dtype=object)


def fractional_year(date: dt.date) -> float:
    """A date as a fractional calendar year (1 November 2020 → 2020.833…) [year]."""
    start = dt.date(date.year, 1, 1).toordinal()
    return date.year + (date.toordinal() - start) / (dt.date(date.year + 1, 1, 1).toordinal() - start)


class CensusError(QzfpError):
    """A census table is malformed (missing column, bad code, negative count …)."""


@dataclass(frozen=True)
class CountyRows:
    """Census figures looked up for the counties of a register (one row per county).

    Attributes
    ----------
    groups : numpy.ndarray
        (C, 2, 19) resident persons by sex (0 male, 1 female) and age group [person].
    resident, registered : numpy.ndarray
        (C,) resident total (the sum of the age groups) and registered total [person]; a row
        whose groups do not sum to its ``resident`` column keeps its registered-minus-resident
        gap.
    birth_rate, death_rate : numpy.ndarray
        (C,) census-year crude rates [per mille/year].
    ceb : numpy.ndarray
        (C,) children ever born per woman aged 15–64 [child/woman].
    source : numpy.ndarray
        (C,) which row was used: ``county``, ``prefecture``, ``province`` (the code's own row
        at that level) or ``national`` (sum of the provinces, for a code the table lacks).
    source_code : numpy.ndarray
        (C,) code of the row used (``"000000"`` for the national sum).
    urban : numpy.ndarray
        (C,) urban (城镇) residents of the row used [person].
    name : numpy.ndarray
        (C,) Chinese name of the row used (``全国`` for the national sum).
    province_birth_rate : numpy.ndarray
        (C,) census-year crude birth rate of the province of the code (its ``..0000`` row;
        the national rate when the table has no such row) [per mille/year].
    """

    groups: np.ndarray
    resident: np.ndarray
    registered: np.ndarray
    birth_rate: np.ndarray
    death_rate: np.ndarray
    ceb: np.ndarray
    source: np.ndarray
    source_code: np.ndarray
    urban: np.ndarray
    name: np.ndarray
    province_birth_rate: np.ndarray


@dataclass(frozen=True)
class Census:
    """A census age–sex table (all rows of the file).

    Attributes
    ----------
    path : str
        File read.
    date : datetime.date
        Census reference date (the population counted is at 0:00 of this day).
    sha256 : str
        SHA-256 of the file's bytes.
    codes, names, levels : numpy.ndarray
        (K,) 6-digit division codes, Chinese names and levels.
    resident, registered, urban : numpy.ndarray
        (K,) totals as given in the file [person].
    birth_rate, death_rate : numpy.ndarray
        (K,) census-year crude rates [per mille/year].
    ceb : numpy.ndarray
        (K,) children ever born per woman aged 15–64 [child/woman].
    groups : numpy.ndarray
        (K, 2, 19) persons by sex and age group [person].
    notes : tuple of Problem
        Inconsistencies found and kept (rows whose age groups do not sum to ``resident``),
        one ``file:line`` problem each; the table is still usable.
    layout : str
        ``full`` (every column of the shipped 2010 table) or ``counts`` (resident counts
        only, as the 2020 census table: ``registered``, the rates and ``ceb`` are NaN and
        the level is read from the code); see :data:`LAYOUTS`.
    """

    path: str
    date: dt.date
    sha256: str
    codes: np.ndarray
    names: np.ndarray
    levels: np.ndarray
    resident: np.ndarray
    registered: np.ndarray
    urban: np.ndarray
    birth_rate: np.ndarray
    death_rate: np.ndarray
    ceb: np.ndarray
    groups: np.ndarray
    notes: tuple = ()
    layout: str = "full"

    def require_full(self, key: str) -> None:
        """Refuse a ``counts`` table where a projection base is needed.

        Raises
        ------
        CensusError
            At ``key`` (the scenario key or option that named the table), naming the file.
        """
        if self.layout != "full":
            raise CensusError(Problem(key, "census.counts_only", path=self.path, layout=CENSUS_2010.name))

    def require_rows(self, codes: Sequence[str]) -> None:
        """Refuse a table that cannot give every code a row (as the base of a projection).

        :meth:`lookup` falls back to the code's prefecture, province, then the nation (the
        sum of the province rows); a table without province rows has no nation, so a code
        without a row of its own, its prefecture's or its province's gets no people.

        Raises
        ------
        CensusError
            One problem per such code, at the file.
        """
        if (self.levels == "province").any():
            return
        have = set(self.codes)
        uncovered = [str(c) for c in codes if not {str(c), str(c)[:4] + "00", str(c)[:2] + "0000"} & have]
        if uncovered:
            raise CensusError([Problem(self.path, "census.no_row_for", code=c, prefecture=c[:4] + "00",
                                       province=c[:2] + "0000") for c in uncovered])

    @property
    def year_fraction(self) -> float:
        """The census date as a fractional calendar year (1 November 2010 → 2010.833…)."""
        return fractional_year(self.date)

    def lookup(self, codes: np.ndarray) -> CountyRows:
        """Rows for county codes, falling back to the prefecture, province or nation.

        A code found in the table uses its own row.  A code the table lacks uses the row of
        its prefecture (first 4 digits + ``00``), else its province (first 2 digits +
        ``0000``), else the sum of all province rows (the nation); rates of the national sum
        are weighted by the resident population.  ``CountyRows.source`` says which (see
        :meth:`require_rows` for a table without province rows).
        """
        index = {c: i for i, c in enumerate(self.codes)}
        prov = self.levels == "province"
        nat_groups = self.groups[prov].sum(axis=0)
        nat_res = float(self.resident[prov].sum())
        w = self.resident[prov] / max(nat_res, 1.0)
        nat = (nat_groups, nat_res, float(self.registered[prov].sum()), float(w @ self.birth_rate[prov]),
               float(w @ self.death_rate[prov]), float(w @ self.ceb[prov]))
        nat_urban = float(self.urban[prov].sum())
        c = len(codes)
        out = {k: np.zeros(c) for k in ("resident", "registered", "birth_rate", "death_rate", "ceb", "urban",
                                        "province_birth_rate")}
        name = np.empty(c, dtype=object)
        groups = np.zeros((c, 2, len(GROUP_STARTS)))
        source = np.empty(c, dtype=object)
        source_code = np.empty(c, dtype=object)
        for j, code in enumerate(str(x) for x in codes):
            i = None
            for cand, kind in ((code, None), (code[:4] + "00", "prefecture"), (code[:2] + "0000", "province")):
                if cand in index:
                    i, kind = index[cand], kind or str(self.levels[index[cand]])
                    break
            if i is None:
                g, res, reg, br, dr, ceb = nat
                source[j], source_code[j] = "national", "000000"
                urb, name[j] = nat_urban * res / max(nat_res, 1.0), "全国"
            else:
                g, res = self.groups[i], float(self.groups[i].sum())
                # keep the file's registered-minus-resident gap when the groups disagree with `resident`
                reg = float(self.registered[i]) - float(self.resident[i]) + res
                br, dr, ceb = self.birth_rate[i], self.death_rate[i], self.ceb[i]
                source[j], source_code[j] = kind, str(self.codes[i])
                urb, name[j] = float(self.urban[i]) * res / max(float(self.resident[i]), 1.0), str(self.names[i])
            p = index.get(code[:2] + "0000")
            out["province_birth_rate"][j] = self.birth_rate[p] if p is not None else nat[3]
            out["urban"][j] = urb
            groups[j] = g
            out["resident"][j], out["registered"][j] = res, reg
            out["birth_rate"][j], out["death_rate"][j], out["ceb"][j] = br, dr, ceb
        return CountyRows(groups=groups, source=source, source_code=source_code, name=name, **out)


def load_census(path: str | Path | None = None, date: dt.date | str | None = None, *,
                date_key: str = "census_date") -> Census:
    """Read and check a census age–sex table of the shipped layout.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        CSV file (UTF-8, with or without BOM, or GBK/GB18030); the shipped 2010 table when
        omitted.  Either the full layout of the shipped table or the ``counts`` layout of the
        2020 census table (``code, province, prefecture, name_zh, resident, urban`` and the
        age groups; the level is read from the code), which can be checked against but not
        projected from (:meth:`Census.require_full`).  Its cells are checked against
        :class:`CensusFullTable` or :class:`CensusCountsTable`.
    date : datetime.date or str, optional
        Census reference date (``YYYY-MM-DD``); 2010-11-01 for the shipped table when omitted.
    date_key : str
        Where a bad ``date`` is reported (the scenario key that gave it, ``file:key``).

    Returns
    -------
    Census

    Raises
    ------
    CensusError
        Every problem of the file at once, each as ``file:line: message`` naming the column:
        the file is missing, unreadable or over the bounds of :data:`CENSUS_LIMITS`; a column
        is missing; a row has more or fewer fields than the header; a code is not 6 digits or
        repeated; a level is unknown; a count or rate is not a number, negative or
        implausible (:data:`MAX_ROW_PERSONS`, :data:`MAX_CRUDE_RATE`,
        :data:`MAX_CHILDREN_PER_WOMAN`); a text holds a control character; ``urban`` exceeds
        ``resident``; a row has no people.  Rows whose age groups do not sum to their
        ``resident`` column, and rows with an empty count (left out), are kept in
        ``Census.notes``.
    """
    p = Path(path) if path else CENSUS_2010
    if date is None:
        if path and p.resolve() != CENSUS_2010.resolve():
            raise CensusError(Problem(str(p), "census.needs_date"))
        date = CENSUS_2010_DATE
    if isinstance(date, str):
        try:
            date = dt.date.fromisoformat(date.strip())
        except ValueError:
            raise CensusError(Problem(date_key, "expected", what=Label("expect.date"),
                                      got=repr(date))) from None
    return _load(str(p), date)


@lru_cache(maxsize=4)
def _load(path: str, date: dt.date) -> Census:
    problems: list[Problem] = []
    try:
        rows = csv_rows(Path(path), problems, CENSUS_LIMITS)
    except OSError as exc:
        raise CensusError(Problem(path, "census.unreadable", reason=str(exc.strerror or exc))) from None
    if rows is None:
        raise CensusError(problems)
    header = rows[0] if rows else []
    counts = "level" not in header and "registered" not in header
    schema = CensusCountsTable if counts else CensusFullTable
    missing, _ = check_columns(schema, header)
    if missing:
        raise CensusError(Problem(f"{path}:1", "census.missing_columns", columns=", ".join(missing),
                                  layout=CENSUS_2010.name))
    totals_cols = _COUNT_TOTALS if counts else _TOTALS
    numeric = [header.index(c) for c in totals_cols + _AGE_COLUMNS]
    at = {c: header.index(c) for c in header if c in _column_names(schema)}
    notes: list[Problem] = []
    kept: list[list[str]] = []
    lines: list[int] = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(row):
            continue
        if len(row) > len(header) and not any(row[len(header):]):
            row = row[:len(header)]  # empty fields after the last column (a trailing comma), as registers read them
        if len(row) > len(header):
            problems.append(Problem(f"{path}:{line}", "table.field_count", count=len(row), width=len(header),
                                    hint=Label("hint.unquoted_thousands")))
            continue
        if len(row) < len(header):
            problems.append(Problem(f"{path}:{line}", "table.short_row", count=len(row), width=len(header)))
            continue
        blank = [header[j] for j in numeric if row[j] == ""]
        if blank:  # a cell left empty as published: the row is left out, and said
            notes.append(Problem(f"{path}:{line}", "census.blank_cells", code=row[at["code"]],
                                 name=row[at["name_zh"]], columns=", ".join(blank)))
            continue
        kept.append(row)
        lines.append(line)
    columns = {c: [r[j] for r in kept] for c, j in at.items()}
    typed = validate_columns(schema, columns, lines, path, problems)
    if not kept and not problems:
        problems.append(Problem(path, "census.no_rows"))
    if problems or typed is None:
        raise CensusError(problems)
    return _census(path, date, typed, lines, notes, counts)


def _column_names(schema: type) -> set[str]:
    return {info.alias or name for name, info in schema.model_fields.items()}


def _census(path: str, date: dt.date, typed: dict[str, list], lines: list[int], notes: list[Problem],
            counts: bool) -> Census:
    """The :class:`Census` of checked cells, after the checks across cells of a row and rows."""
    problems: list[Problem] = []
    codes = np.asarray(typed["code"], dtype=object)
    seen: dict[str, int] = {}
    for code, line in zip(codes, lines, strict=True):
        if code in seen:
            problems.append(Problem(f"{path}:{line}", "census.code_repeats", code=code, line=seen[code]))
        seen.setdefault(code, line)
    n = len(codes)
    nan = np.full(n, np.nan)
    col = {c: np.asarray(typed[c], dtype=float) if c in typed else nan for c in _TOTALS}
    groups = np.stack([np.asarray(typed[c], dtype=float) for c in _AGE_COLUMNS], axis=1)
    sums = groups.sum(axis=1)
    for i in np.flatnonzero(sums <= 0):
        problems.append(Problem(f"{path}:{lines[i]}", "census.no_people"))
    for i in np.flatnonzero(col["urban"] > col["resident"]):
        problems.append(Problem(f"{path}:{lines[i]}", "census.urban_above_resident", urban=col["urban"][i],
                                resident=col["resident"][i]))
    if problems:
        raise CensusError(problems)
    names = np.asarray(typed["name_zh"], dtype=object)
    for i in np.flatnonzero(np.round(sums) != np.round(col["resident"])):
        notes.append(Problem(f"{path}:{lines[i]}", "census.age_sum_differs", code=codes[i], name=names[i],
                             sum=sums[i], resident=col["resident"][i], diff=sums[i] - col["resident"][i]))
    notes.sort(key=lambda p: int(p.location.rsplit(":", 1)[1]))
    levels = [level_of_code(c) for c in codes] if counts else typed["level"]
    raw = Path(path).read_bytes()  # within CENSUS_LIMITS
    return Census(
        path=path,
        date=date,
        sha256=hashlib.sha256(raw).hexdigest(),
        codes=codes,
        names=names,
        levels=np.asarray(levels, dtype=object),
        resident=col["resident"],
        registered=col["registered"],
        urban=col["urban"],
        birth_rate=col["birth_rate_permille"],
        death_rate=col["death_rate_permille"],
        ceb=col["children_ever_born_women_15_64"],
        groups=groups.reshape(n, 2, len(GROUP_STARTS)),
        notes=tuple(notes),
        layout="counts" if counts else "full",
    )


def looks_like_census(path: str | Path) -> bool:
    """True when a CSV file's header starts like a census layout (``code,name_zh,level`` for the
    full layout, ``code,province,prefecture,name_zh,resident`` for the counts layout)."""
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as fh:
            first = fh.readline()
    except OSError:
        return False
    head = first.replace(" ", "").strip()
    return head.startswith("code,name_zh,level") or head.startswith("code,province,prefecture,name_zh,resident")


def validate_census_file(path: str | Path) -> tuple[list[Problem], list[Problem]]:
    """Problems (refusing the table) and notes (kept inconsistencies) of a census table.

    Never raises for bad input; the census date is not needed to check a table.
    """
    try:
        census = _load(str(path), CENSUS_2010_DATE)
    except CensusError as exc:
        return list(exc.problems), []
    return [], list(census.notes)


def default_census() -> Census:
    """The shipped 2010 census table (read once per process)."""
    return load_census()


def _pchip_slopes(h: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """Fritsch–Butland derivatives of a monotone piecewise-cubic Hermite interpolant.

    h (n,) interval widths, delta (..., n) secant slopes -> (..., n+1) knot derivatives
    (as scipy.interpolate.PchipInterpolator, Fritsch & Carlson 1980 / Fritsch & Butland 1984).
    """
    d = np.zeros(delta.shape[:-1] + (delta.shape[-1] + 1,))
    h0, h1 = h[:-1], h[1:]
    w1, w2 = 2 * h1 + h0, h1 + 2 * h0
    dl, dr = delta[..., :-1], delta[..., 1:]
    same = (dl > 0) & (dr > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        inner = (w1 + w2) / (w1 / dl + w2 / dr)
    d[..., 1:-1] = np.where(same, inner, 0.0)
    for end, (ha, hb, da, db) in (("first", (h[0], h[1], delta[..., 0], delta[..., 1])),
                                  ("last", (h[-1], h[-2], delta[..., -1], delta[..., -2]))):
        v = ((2 * ha + hb) * da - ha * db) / (ha + hb)
        v = np.where(np.sign(v) != np.sign(da), 0.0, v)
        v = np.where((np.sign(da) != np.sign(db)) & (np.abs(v) > np.abs(3 * da)), 3 * da, v)
        d[..., 0 if end == "first" else -1] = v
    return d


def split_single_years(groups: np.ndarray, tail: np.ndarray) -> np.ndarray:
    """Split 19 census age groups into single years of age 0..99 and 100+.

    Ages 0..84: the cumulative number of people below each group's first age is
    interpolated by a monotone piecewise-cubic Hermite spline (PCHIP; the method of
    ``graduate_mono`` in the DemoTools R package), and single-year counts are its
    differences at whole ages.  The spline passes through every knot, so each group keeps
    its total exactly, and it is monotone, so no count is negative.  The open group 85+ is
    shared over ages 85..130 in proportion to ``tail`` (the person-years ``L_x`` of the
    county's life table, i.e. the stationary age pattern of the oldest ages) and ages
    100..130 are summed into the open interval 100+.

    Parameters
    ----------
    groups : numpy.ndarray
        (..., 19) persons in the groups 0, 1–4, 5–9, …, 80–84, 85+ [person].
    tail : numpy.ndarray
        (..., 46) non-negative weights of ages 85..130 (broadcast against ``groups``).

    Returns
    -------
    numpy.ndarray
        (..., 101) persons by single year of age, the last entry 100+ [person].
    """
    g = np.asarray(groups, dtype=float)
    knots = np.asarray(GROUP_STARTS, dtype=float)  # 0, 1, 5, ..., 85
    h = np.diff(knots)
    closed = g[..., :-1]  # 18 closed groups
    cum = np.concatenate([np.zeros(g.shape[:-1] + (1,)), np.cumsum(closed, axis=-1)], axis=-1)
    delta = closed / h
    slopes = _pchip_slopes(h, delta)
    ages = np.arange(86, dtype=float)
    seg = np.clip(np.searchsorted(knots, ages, side="right") - 1, 0, len(h) - 1)
    x0, hh = knots[seg], h[seg]
    s = (ages - x0) / hh
    h00, h10, h01, h11 = 2 * s**3 - 3 * s**2 + 1, s**3 - 2 * s**2 + s, -2 * s**3 + 3 * s**2, s**3 - s**2
    y = (h00 * cum[..., seg] + h10 * hh * slopes[..., seg] + h01 * cum[..., seg + 1]
         + h11 * hh * slopes[..., seg + 1])
    y[..., -1] = cum[..., -1]  # age 85 is the last knot (s = 1 of the last segment)
    single = np.maximum(np.diff(y, axis=-1), 0.0)
    # exact group totals despite floating error and the clip at zero: rescale within each group
    grp = np.searchsorted(knots, np.arange(85), side="right") - 1
    sums = np.stack([single[..., grp == j].sum(axis=-1) for j in range(closed.shape[-1])], axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        fix = np.where(sums > 0, closed / sums, 0.0)
    single = single * fix[..., grp]
    w = np.broadcast_to(np.asarray(tail, dtype=float), g.shape[:-1] + (46,))
    wsum = w.sum(axis=-1, keepdims=True)
    share = np.where(wsum > 0, w / np.where(wsum > 0, wsum, 1.0), 1.0 / 46)
    old = g[..., -1:] * share  # ages 85..130
    return np.concatenate([single, old[..., :15], old[..., 15:].sum(axis=-1, keepdims=True)], axis=-1)
