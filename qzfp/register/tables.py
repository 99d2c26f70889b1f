"""The :class:`Register`: counties, townships and villages with the index arrays that link them.

Three tidy tables sorted by code plus integer index arrays, so that engines aggregate villages
to townships and counties with ``np.bincount`` instead of Python loops.  :data:`DATA_DIR` is
the folder of the packaged example register of Quzhou (``qzfp/data/README.md``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from qzfp.errors import Problem, RegisterError

__all__ = [
    "COUNTY_COLUMNS",
    "DATA_DIR",
    "EXAMPLE_YEAR",
    "TOWNSHIP_COLUMNS",
    "VIEWS",
    "VILLAGE_COLUMNS",
    "Register",
    "township_kind_from_name",
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


#: Text columns whose values repeat from row to row (a township's code on each of its
#: villages, the kinds, the merge notes): each distinct value is held as one string object
#: that every row points to (:func:`_one_object_per_value`), not one object per row.
SHARED_TOWNSHIP_COLUMNS = ("county_code", "kind", "merged_from")
SHARED_VILLAGE_COLUMNS = ("township_code", "county_code", "kind", "merged_from")


def _one_object_per_value(column: pd.Series) -> pd.Series:
    """The same text column (same values, same dtype) with one string object per distinct
    value.  A register of 500,000 villages read from a file or drawn has a separate object
    for every cell (~60 bytes each, 30 MB a column); shared, a column costs its pointers."""
    codes, uniques = pd.factorize(column, use_na_sentinel=False)
    shared = np.asarray(uniques, dtype=object)[codes]
    return pd.Series(shared, index=column.index, name=column.name).astype(column.dtype)


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

    def __post_init__(self) -> None:
        # the index arrays are read-only: the engines keep what they derive from them (the
        # sorted segments of each group, qzfp.model.arrays) for as long as the register lives
        for name in ("village_township", "village_county", "township_county"):
            a = np.array(getattr(self, name), dtype=np.int64)
            a.setflags(write=False)
            object.__setattr__(self, name, a)

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
        problems = [Problem(source, "register.village_township_unknown", code=code, township=tc)
                    for code, tc in zip(v["village_code"][v_town < 0],
                                        v["township_code"][v_town < 0], strict=True)]
        t_county = pd.Index(c["county_code"]).get_indexer(t["county_code"])
        problems += [Problem(source, "register.township_county_unknown", code=code, county=cc)
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
        for df, cols in ((t, SHARED_TOWNSHIP_COLUMNS), (v, SHARED_VILLAGE_COLUMNS)):
            for col in cols:
                df[col] = _one_object_per_value(df[col])
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
