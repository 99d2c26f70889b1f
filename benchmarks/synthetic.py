"""Synthetic province- and country-size registers for the benchmarks (never committed as data).

The packaged example is one city (6 counties, ~100 townships, ~2,800 villages).  To see how
qzfp scales to a provincial association (Zhejiang: ~90 counties, ~1,400 townships, ~25,000
villages) or a national office (~2,800 counties, ~40,000 townships, ~500,000 villages) this
module builds registers of those sizes with :meth:`qzfp.register.Register.from_tables`.

Everything is deterministic: the same size and seed give the same register, byte for byte
(``numpy.random.default_rng(seed)``; the register's ``sha256`` is the hash of the
generator's settings, so the engines' caches recognise it).

How a register is drawn
-----------------------
1. Townships are spread over counties as evenly as possible (county ``i`` gets
   ``floor((i + 1) S / C) - floor(i S / C)`` townships); villages over townships the same way
   after a multinomial jitter, so sizes vary but totals are exact.
2. Each township's kind is drawn with the shares of :data:`KIND_SHARES` (subdistrict,
   town, xiang — the mix of Zhejiang's 2020 township list, rounded); a subdistrict is urban.
3. Village populations are log-normal with median :data:`MEDIAN_VILLAGE_POP` and log-sd
   :data:`LOG_SD`, floored at :data:`MIN_VILLAGE_POP`; communities (every village of a
   subdistrict, :data:`TOWN_COMMUNITY_SHARE` of the others) are twice as big.  With
   these values the national total is ~1.3 billion for 500,000 villages, the order of
   China's registered population.
4. Registered in-migrants are :data:`IN_MIGRANT_SHARE` of the population (urban, rural).

Codes follow the statistical division codes' shape: county ``6 digits``, township = county
+ 3 digits, village = township + 3 digits (12 digits).  Names are ``合成县0001``,
``合成县0001镇007`` … (the kind is recognisable from the suffix, as in real registers).

Usage::

    from benchmarks.synthetic import province_register, country_register
    reg = province_register()                      # Register, ~25,000 villages
    python benchmarks/synthetic.py country /tmp/country   # writes counties/townships/villages.csv
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from qzfp.register import Register

#: Shares of township kinds (subdistrict, town, xiang) [share]; assumption: rounded mix of
#: Zhejiang's townships (about 1/3 subdistricts, 1/2 towns, the rest xiang).
KIND_SHARES = (0.33, 0.50, 0.17)
#: Median population of a village [person]; assumption: ~1,300 people per village
#: gives Zhejiang's ~40 million registered rural + urban residents over 25,000 villages.
MEDIAN_VILLAGE_POP = 1300.0
#: Log standard deviation of village populations [-]; assumption: a 5th-95th percentile
#: range of about 0.4x-2.7x the median, like the packaged example.
LOG_SD = 0.6
#: Smallest village [person]; assumption: a few dozen households.
MIN_VILLAGE_POP = 80
#: Share of the villages of towns and xiang that are (urban) communities [share]; assumption.
TOWN_COMMUNITY_SHARE = 0.08
#: Registered in-migrants as a share of the population: (urban, rural) [share]; assumption.
IN_MIGRANT_SHARE = (0.15, 0.03)
#: Reference year of the synthetic populations [year].
YEAR = 2006


@dataclass(frozen=True)
class Size:
    """Number of counties, townships and villages of a synthetic register."""

    counties: int
    townships: int
    villages: int


#: A province like Zhejiang.
PROVINCE = Size(counties=90, townships=1400, villages=25000)
#: A country like China.
COUNTRY = Size(counties=2800, townships=40000, villages=500000)
#: Sizes by name (the command line's first argument).
SIZES = {"province": PROVINCE, "country": COUNTRY}


def _even_split(total: int, parts: int) -> np.ndarray:
    """``parts`` integers summing to ``total`` that differ by at most one."""
    edges = (np.arange(parts + 1) * total) // parts
    return np.diff(edges)


def synthetic_tables(size: Size, seed: int = 2006) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The three register tables (counties, townships, villages) of a synthetic register.

    Parameters
    ----------
    size : Size
        Counties, townships and villages wanted (townships >= counties, villages >=
        townships, counties < 900,000).
    seed : int
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    tuple of pandas.DataFrame
        In the shape :meth:`qzfp.register.Register.from_tables` expects.
    """
    c, s, v = size.counties, size.townships, size.villages
    if not (1 <= c <= s <= v) or c > 899_999:
        raise ValueError(f"need 1 <= counties <= townships <= villages, counties < 900,000; got {size}")
    rng = np.random.default_rng(seed)
    # Text is made as Python strings directly (no fixed-width numpy text arrays, 4 bytes a
    # character, in between), and a value repeated on many rows (a village's township and
    # county code, its kind) is one string object the rows share: the country's tables are
    # drawn in ~0.2 GB instead of ~0.55 GB.
    county_code = [str(100000 + i) for i in range(1, c + 1)]  # 6 digits
    county_name = [f"合成县{i:04d}" for i in range(1, c + 1)]
    counties = pd.DataFrame({
        "county_code": county_code,
        "name_zh": county_name,
        "name_en": [f"Synthetic County {i}" for i in range(1, c + 1)],
    })

    # townships: evenly over counties; numbered within their county
    t_per_c = _even_split(s, c)
    t_county = np.repeat(np.arange(c), t_per_c)
    t_local = np.arange(s) - np.repeat(np.cumsum(t_per_c) - t_per_c, t_per_c) + 1
    if t_local.max() > 999:
        raise ValueError(f"more than 999 townships in a county: {size}")
    kind_idx = rng.choice(3, size=s, p=KIND_SHARES)
    kind_names = ("subdistrict", "town", "xiang")
    suffix = ("街道", "镇", "乡")
    t_code = [f"{county_code[i]}{n:03d}" for i, n in zip(t_county.tolist(), t_local.tolist(), strict=True)]
    t_name = [f"{county_name[i]}{n:03d}{suffix[k]}"
              for i, n, k in zip(t_county.tolist(), t_local.tolist(), kind_idx.tolist(), strict=True)]
    t_county_code = np.asarray(county_code, dtype=object)[t_county]
    townships = pd.DataFrame({
        "township_code": t_code,
        "county_code": t_county_code,
        "name_zh": t_name,
        "name_en": [f"Township {code}" for code in t_code],
        "kind": np.asarray(kind_names, dtype=object)[kind_idx],
        "urban": kind_idx == 0,
    })

    # villages: multinomial over townships around an even split, at least one each
    extra = rng.multinomial(v - s, np.full(s, 1.0 / s))
    v_per_t = 1 + extra
    if v_per_t.max() > 999:
        raise ValueError(f"more than 999 villages in a township: {size}")
    v_town = np.repeat(np.arange(s), v_per_t)
    community = (kind_idx[v_town] == 0) | (rng.random(v) < TOWN_COMMUNITY_SHARE)
    pop = MEDIAN_VILLAGE_POP * np.exp(LOG_SD * rng.standard_normal(v)) * np.where(community, 2.0, 1.0)
    pop = np.maximum(np.round(pop), MIN_VILLAGE_POP).astype(np.int64)
    share = np.where(community, IN_MIGRANT_SHARE[0], IN_MIGRANT_SHARE[1])
    in_migrants = np.round(pop * share).astype(np.int64)
    # township by township (their villages are consecutive), so that no Python integer of
    # a village is made and dropped between the strings that are kept (its freed memory would
    # stay with the process)
    number = [f"{n:03d}" for n in range(1000)]
    comms = community.tolist()
    v_code: list[str] = []
    v_name: list[str] = []
    first = 0
    for code, name, count in zip(t_code, t_name, v_per_t.tolist(), strict=True):
        v_code.extend([code + number[n] for n in range(1, count + 1)])
        v_name.extend([name + number[n] + ("社区" if comms[first + n - 1] else "村") for n in range(1, count + 1)])
        first += count
    villages = pd.DataFrame({
        "village_code": v_code,
        "township_code": np.asarray(t_code, dtype=object)[v_town],
        "county_code": t_county_code[v_town],
        "name_zh": v_name,
        "name_en": [f"Village {code}" for code in v_code],
        "kind": np.asarray(("village", "community"), dtype=object)[community.astype(np.intp)],
        "urban": community,
        "population": pop,
        "in_migrants": in_migrants,
    })
    return counties, townships, villages


def synthetic_register(size: Size, seed: int = 2006) -> Register:
    """A synthetic :class:`~qzfp.register.Register` of the given size (deterministic).

    The ``sha256`` is the SHA-256 of the generator's settings (size, seed, constants of
    this module), so the same call always gives the same cache keys.
    """
    counties, townships, villages = synthetic_tables(size, seed)
    settings = {"size": asdict(size), "seed": seed, "kind_shares": KIND_SHARES,
                "median": MEDIAN_VILLAGE_POP, "log_sd": LOG_SD, "min": MIN_VILLAGE_POP,
                "town_community_share": TOWN_COMMUNITY_SHARE, "in_migrant_share": IN_MIGRANT_SHARE,
                "year": YEAR}
    sha = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()
    return Register.from_tables(counties, townships, villages, source=f"synthetic {size} seed {seed}",
                                sha256=sha, year=YEAR)


def province_register(seed: int = 2006) -> Register:
    """Synthetic province: 90 counties, 1,400 townships, 25,000 villages."""
    return synthetic_register(PROVINCE, seed)


def country_register(seed: int = 2006) -> Register:
    """Synthetic country: 2,800 counties, 40,000 townships, 500,000 villages."""
    return synthetic_register(COUNTRY, seed)


def write_register(register: Register, folder: Path) -> Path:
    """Write ``counties.csv``, ``townships.csv``, ``villages.csv`` (UTF-8) into ``folder``,
    a layout :func:`qzfp.load_register` reads back."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    register.counties.to_csv(folder / "counties.csv", index=False)
    register.townships.drop(columns=["synthetic", "merged_from"], errors="ignore").to_csv(
        folder / "townships.csv", index=False)
    register.villages.drop(columns=["synthetic", "merged_from"], errors="ignore").to_csv(
        folder / "villages.csv", index=False)
    return folder


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in SIZES:
        print("usage: python benchmarks/synthetic.py {province|country} FOLDER", file=sys.stderr)
        return 1
    reg = synthetic_register(SIZES[argv[0]])
    write_register(reg, Path(argv[1]))
    print(f"{argv[0]}: {reg.n_counties} counties, {reg.n_townships} townships, {reg.n_villages} villages, "
          f"{int(reg.village_population.sum()):,} people -> {argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
