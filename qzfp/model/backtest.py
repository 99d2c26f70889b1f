"""How good is the projection: the base and the fitted rates against the census, and a
projection against a later census table of the same layout (``census_check``).

Every function takes a :class:`qzfp.model.projection.PopulationResult` (first parameter set) and
returns a tidy table; the ``01_population`` notebook shows them.  Populations between two
1 January stocks are interpolated linearly in time (the census moment of 1 November lies
10/12 of the way from one stock to the next).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ..errors import ParameterError, Problem
from ..register.census import GROUP_LABELS, GROUP_STARTS, Census, fractional_year, prefecture_key

__all__ = [
    "BACKTEST_INDICATORS",
    "PREFECTURE_TOTAL",
    "backtest",
    "backtest_errors",
    "base_against_census",
    "check_against_census",
    "dissimilarity_index",
    "fitted_rates",
    "group_ages",
    "observed_indicators",
    "population_at",
]


def population_at(result, date: dt.date, basis: str = "resident") -> np.ndarray | None:
    """County populations (C, 2, A) at a date, interpolated between 1 January stocks [person].

    Parameters
    ----------
    result : PopulationResult
    date : datetime.date
    basis : {"resident", "registered"}

    Returns
    -------
    numpy.ndarray or None
        None when the date is outside the projected years (the stock of 1 January of the
        following year is needed).
    """
    pop = result.county_pop_resident[0] if basis == "resident" else result.county_pop[0]
    years = np.asarray(result.years)
    x = fractional_year(date)
    i = int(np.floor(x)) - int(years[0])
    f = x - np.floor(x)
    if i < 0 or i >= len(years) or (f > 0 and i + 1 >= len(years)):
        return None
    return pop[i] if f == 0 else (1.0 - f) * pop[i] + f * pop[i + 1]


def group_ages(single: np.ndarray) -> np.ndarray:
    """Single years 0..100+ (..., 101) summed into the 19 census groups (..., 19)."""
    edges = list(GROUP_STARTS) + [single.shape[-1]]
    return np.stack([single[..., a:b].sum(axis=-1) for a, b in zip(edges[:-1], edges[1:], strict=True)], axis=-1)


def dissimilarity_index(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Index of dissimilarity of two distributions over the last two axes (sex × age group) [%].

    ``ID = ½ Σ |p_i/Σp − q_i/Σq| × 100``: the share of one population that would have to
    change group to have the other's structure.
    """
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    ps = p / p.sum(axis=(-2, -1), keepdims=True)
    qs = q / q.sum(axis=(-2, -1), keepdims=True)
    return 50.0 * np.abs(ps - qs).sum(axis=(-2, -1))


def _names(result) -> list[str]:
    reg = result.register
    names = dict(zip(reg.counties["county_code"].astype(str), reg.counties["name_zh"].astype(str), strict=False)) \
        if "name_zh" in reg.counties else {}
    return [names.get(str(c), str(c)) for c in result.county_codes]


def base_against_census(result) -> pd.DataFrame:
    """The modelled resident population at the census moment against the census, by group.

    The base was moved from the census moment to the start year and projected forward again;
    this table shows what comes back at the census moment, city-wide, by sex and age group:
    ``sex, age_group, census, model [person], difference_pct``.  Empty when the census date
    is outside the projected years or the result has no census.
    """
    cal = result.calibration
    cols = ["sex", "age_group", "census", "model", "difference_pct"]
    if cal is None or cal.census is None:
        return pd.DataFrame(columns=cols)
    at = population_at(result, cal.census.date, "resident")
    if at is None:
        return pd.DataFrame(columns=cols)
    model = group_ages(at).sum(axis=0)  # (2, 19)
    census = cal.census_groups.sum(axis=0)
    rows = []
    for s, sex in enumerate(("male", "female")):
        for g, label in enumerate(GROUP_LABELS):
            c, m = census[s, g], model[s, g]
            rows.append((sex, label, c, m, (m / c - 1.0) * 100 if c > 0 else np.nan))
    return pd.DataFrame(rows, columns=cols)


def fitted_rates(result) -> pd.DataFrame:
    """Per county: census rates, the fitted model's rates, e0 and TFR, and the projected rates
    of the resident population in the census year (births and deaths of that year over its
    mean population) [per mille/year]."""
    cal = result.calibration
    codes = result.county_codes
    df = cal.table(codes)
    df.insert(1, "county", _names(result))
    years = np.asarray(result.years)
    i = cal.year - int(years[0])
    if 0 <= i < len(years) - 1:
        pop = result.county_pop_resident[0].sum(axis=(-2, -1))
        mid = 0.5 * (pop[i] + pop[i + 1])
        df["cbr_projected_permille"] = result.county_births_resident[0, i].sum(axis=-1) / mid * 1e3
        df["cdr_projected_permille"] = result.county_deaths_resident[0, i].sum(axis=(-2, -1)) / mid * 1e3
    return df


def check_against_census(result, later: Census) -> pd.DataFrame:
    """The resident projection against a later census table, by county and for the city.

    Parameters
    ----------
    result : PopulationResult
    later : Census
        A census table of the shipped layout with its date (scenario key ``census_check``).

    Returns
    -------
    pandas.DataFrame
        ``county_code, county, total_projected, total_census, total_difference_pct,
        share_60plus_projected, share_60plus_census, share_60plus_difference_pp``, the same
        for 65+, and ``dissimilarity_pct`` (age–sex index of dissimilarity); the last row is
        the city (``county_code`` ``all``) of the counties compared.  Counties the later table
        lacks are left out.

    Raises
    ------
    ParameterError
        The later census date is outside the projected years, or the table has none of the
        register's counties.
    """
    at = population_at(result, later.date, "resident")
    if at is None:
        years = np.asarray(result.years)
        raise ParameterError(Problem("census_check", "backtest.outside_years", date=later.date,
                                     first=years[0], last=years[-1]))
    codes = np.asarray(result.county_codes)
    rows = later.lookup(codes)
    keep = rows.source == "county"
    if not keep.any():
        raise ParameterError(Problem("census_check", "backtest.no_counties", path=later.path,
                                     codes=", ".join(map(str, codes[:5]))))
    model = group_ages(at)[keep]  # (K, 2, 19)
    obs = rows.groups[keep]
    names = np.asarray(_names(result))[keep]
    city_model, city_obs = model.sum(axis=0, keepdims=True), obs.sum(axis=0, keepdims=True)
    model = np.concatenate([model, city_model])
    obs = np.concatenate([obs, city_obs])
    i60, i65 = GROUP_STARTS.index(60), GROUP_STARTS.index(65)

    def share(x: np.ndarray, i: int) -> np.ndarray:
        return x[..., i:].sum(axis=(-2, -1)) / x.sum(axis=(-2, -1)) * 100

    tp, tc = model.sum(axis=(-2, -1)), obs.sum(axis=(-2, -1))
    return pd.DataFrame({
        "county_code": list(codes[keep]) + ["all"],
        "county": list(names) + ["all"],
        "total_projected": tp,
        "total_census": tc,
        "total_difference_pct": (tp / tc - 1.0) * 100,
        "share_60plus_projected": share(model, i60),
        "share_60plus_census": share(obs, i60),
        "share_60plus_difference_pp": share(model, i60) - share(obs, i60),
        "share_65plus_projected": share(model, i65),
        "share_65plus_census": share(obs, i65),
        "share_65plus_difference_pp": share(model, i65) - share(obs, i65),
        "dissimilarity_pct": dissimilarity_index(model, obs),
    })


#: Indicators of the national back-test, their unit and how their error is measured.
BACKTEST_INDICATORS = ("resident_total", "share_60plus", "share_65plus")

#: The summary's row of the prefectures' totals: the compared counties of a prefecture summed
#: (prefectures with at least two), path by path, so that a band for a city is checked too.
PREFECTURE_TOTAL = "prefecture_total"


def observed_indicators(check: Census, codes: np.ndarray, names: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which counties a later table has with the same code and name, and their indicators there.

    Returns
    -------
    same : (C,) bool
        The code is a county-level row of ``check`` with the same ``name_zh``.
    observed : (3, C)
        Resident total [person], shares aged 60+ and 65+ [%] (NaN where not ``same``).
    """
    index = {str(c): i for i, c in enumerate(check.codes)}
    rows = [index.get(str(c)) for c in codes]
    same = np.array([i is not None and check.levels[i] == "county" and str(check.names[i]) == str(n)
                     for i, n in zip(rows, names, strict=True)], dtype=bool)
    observed = np.full((3, len(codes)), np.nan)
    i60, i65 = GROUP_STARTS.index(60), GROUP_STARTS.index(65)
    for j in np.flatnonzero(same):
        g = check.groups[rows[j]]
        total = g.sum()
        if total > 0:
            observed[:, j] = (total, g[:, i60:].sum() / total * 100, g[:, i65:].sum() / total * 100)
    return same, observed


def prefecture_groups(codes: np.ndarray, compared: np.ndarray | None = None) -> np.ndarray:
    """Each compared unit's prefecture (:func:`qzfp.register.census.prefecture_key`) when at least
    two compared units are in it, else ``""`` (the groups whose totals the back-test checks).

    Parameters
    ----------
    codes : (C,) division codes.
    compared : (C,) bool, optional
        The units the later census can check (all when omitted).
    """
    pref = prefecture_key(codes)
    compared = np.ones(len(pref), dtype=bool) if compared is None else np.asarray(compared, dtype=bool)
    labels, counts = np.unique(pref[compared].astype(str), return_counts=True)
    return np.where(compared & np.isin(pref.astype(str), labels[counts >= 2]), pref, "")


def backtest_errors(table: pd.DataFrame) -> pd.DataFrame:
    """The summary of a back-test table (``code, indicator, observed, central, p10, p90, naive``).

    One row per indicator (and one for the prefectures' totals, :data:`PREFECTURE_TOTAL`,
    when the table has them): ``units``; ``error`` — the mean absolute percentage error of
    the totals [%] and the median absolute error of the shares [percentage points];
    ``naive_error`` — the same for the forecast "nothing changes" (the base census's value);
    ``ratio`` = error / naive_error; ``coverage_pct`` — the share of units whose observed
    value lies inside [p10, p90] [%] (NaN without paths).
    """
    rows = []
    for ind in (*BACKTEST_INDICATORS, PREFECTURE_TOTAL):
        d = table[table["indicator"] == ind]
        if ind == PREFECTURE_TOTAL and d.empty:
            continue
        if ind in ("resident_total", PREFECTURE_TOTAL):
            err = (np.abs(d["central"] / d["observed"] - 1.0)).mean() * 100
            naive = (np.abs(d["naive"] / d["observed"] - 1.0)).mean() * 100
        else:
            err = np.abs(d["central"] - d["observed"]).median()
            naive = np.abs(d["naive"] - d["observed"]).median()
        inside = ((d["observed"] >= d["p10"]) & (d["observed"] <= d["p90"])).mean() * 100 \
            if d["p10"].notna().all() and len(d) else np.nan
        rows.append({"indicator": ind, "units": len(d), "error": err, "naive_error": naive,
                     "ratio": err / naive if naive else np.nan, "coverage_pct": inside})
    return pd.DataFrame(rows)


def backtest(base: Census, check: Census, *, prefixes: list[str] | None = None, check_date: dt.date | None = None,
             n_paths: int = 0, seed: int = 0, pa=None) -> tuple[pd.DataFrame, pd.DataFrame, object]:
    """Project every county of ``base`` (codes starting with ``prefixes``) to ``check``'s date and compare.

    The projection and its Monte Carlo paths use only ``base`` and the assumptions (the
    packaged rulebook unless ``pa`` is given): ``check`` is read only to select the units
    compared (same code and ``name_zh``, county level) and for the observed values.

    Parameters
    ----------
    base : Census
        The base census table (full layout).
    check : Census
        The later census table (either layout).
    prefixes : list of str, optional
        Code prefixes of the counties projected (all when omitted).
    check_date : datetime.date, optional
        Date of ``check`` (``check.date`` when omitted).
    n_paths, seed : int
        Monte Carlo paths for p10/p90 and their seed.

    Returns
    -------
    table : DataFrame
        ``code, name_zh, indicator, observed, central, p10, p90, naive`` (``naive`` is the base
        census's value: the forecast "nothing changes"); the counties' rows, then the
        prefectures' totals (:data:`PREFECTURE_TOTAL`, code = the prefecture's first 4 digits).
    summary : DataFrame
        :func:`backtest_errors` of the table.
    diagnostics : Diagnostics
        What the engine counted while projecting.

    Raises
    ------
    ParameterError
        No county of ``base`` has the prefixes, or none of them is in ``check`` with the same
        code and name.
    """
    from .county import census_indicators_at, county_codes

    date = check_date or check.date
    codes = county_codes(base, prefixes)
    if not len(codes):
        raise ParameterError(Problem("--codes", "backtest.no_units", prefixes=",".join(prefixes or []),
                                     path=base.path))
    names = base.lookup(codes).name
    same, observed = observed_indicators(check, codes, names)
    if not same.any():
        raise ParameterError(Problem(check.path, "backtest.none_in_check", n=len(codes), path=base.path))
    groups = prefecture_groups(codes, same)
    res = census_indicators_at(base, codes, date, n_paths=n_paths, seed=seed, pa=pa, groups=groups)
    cal = res["calibration"]
    naive = np.stack([cal.census_resident,
                      cal.census_groups[:, :, GROUP_STARTS.index(60):].sum(axis=(1, 2)) / cal.census_resident * 100,
                      cal.census_groups[:, :, GROUP_STARTS.index(65):].sum(axis=(1, 2)) / cal.census_resident * 100])
    q = res["quantiles"]
    frames = []
    for k, ind in enumerate(BACKTEST_INDICATORS):
        frames.append(pd.DataFrame({
            "code": codes[same], "name_zh": names[same], "indicator": ind, "observed": observed[k, same],
            "central": res["central"][k, same],
            "p10": q[0, k, same] if q is not None else np.nan,
            "p90": q[-1, k, same] if q is not None else np.nan,
            "naive": naive[k, same],
        }))
    member = [groups == g for g in res["group_labels"]]
    gq = res.get("group_quantiles")
    frames.append(pd.DataFrame({
        "code": res["group_labels"], "name_zh": [str(base.lookup(np.array([g + "00"])).name[0])
                                                 for g in res["group_labels"]],
        "indicator": PREFECTURE_TOTAL,
        "observed": [observed[0, m].sum() for m in member], "central": res["group_central"],
        "p10": gq[0] if gq is not None else np.nan, "p90": gq[-1] if gq is not None else np.nan,
        "naive": [naive[0, m].sum() for m in member],
    }))
    table = pd.concat(frames, ignore_index=True)
    return table, backtest_errors(table), res["diagnostics"]
