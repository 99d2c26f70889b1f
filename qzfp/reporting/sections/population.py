"""Sections of the population report (01): city and counties, pyramids, the projection band, townships, the threshold, the census fit."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any

import numpy as np
import pandas as pd

from qzfp import i18n
from qzfp.errors import ParameterError
from qzfp.i18n import (
    format_number,
    format_pct,
    format_persons,
    t,
)
from qzfp.model.run import Results
from qzfp.reporting.sections.display import (
    county_names,
    heading,
    is_example_register,
    lang_of,
    md,
    say,
    show_chart,
    show_table,
    wide_by_year,
    with_place,
    years_of,
)

# =========================================================================== population
_POP_COLUMNS = ["population", "aged_60plus", "women_15_49", "births", "deaths", "net_migration",
                "in_migrants"]


def population_city(results: Results) -> pd.DataFrame:
    """The city: projection by year with births, deaths, migration; commentary."""
    lang = lang_of(results)
    start, end = years_of(results)
    heading(t("nb.population.h_city", lang))
    city = results.population_counties.groupby("year", as_index=False)[_POP_COLUMNS].sum()
    p0, p1 = float(city["population"].iloc[0]), float(city["population"].iloc[-1])
    say("nb.population.summary", lang, pop_start=format_persons(p0, lang),
         pop_end=format_persons(p1, lang), start_year=start, end_year=end,
         change_pct=format_pct(p1 / p0 - 1 if p0 else np.nan, lang, signed=True))
    a0, a1 = float(city["aged_60plus"].iloc[0]), float(city["aged_60plus"].iloc[-1])
    say("nb.population.aged", lang, aged_start=format_persons(a0, lang),
         aged_end=format_persons(a1, lang), start_year=start, end_year=end)
    return show_table(city, lang)


def population_counties(results: Results) -> pd.DataFrame:
    """Projected population of each county by year (wide table) with the change."""
    lang = lang_of(results)
    start, end = years_of(results)
    heading(t("nb.population.h_counties", lang))
    wide = wide_by_year(results.population_counties, "county_code", "population",
                         total_row=t("app.city", lang), lang=lang, whole=True)
    codes = wide["county_code"].astype(str).tolist()
    names = county_names(results, codes[:-1]) + [codes[-1]]
    wide.insert(0, "county", names)
    wide = wide.drop(columns="county_code")
    first, last = str(start), str(end)
    wide["change_pct"] = 100 * (wide[last] / wide[first] - 1)
    say("nb.population.counties_note", lang, start_year=start, end_year=end)
    return show_table(wide, lang, decimals={"change_pct": 1})


def pyramid_frame(results: Results, county: int | None, year_index: int) -> pd.DataFrame:
    """Persons by single age and sex of a county (row index) or the city (None) in a year.

    Returns
    -------
    DataFrame
        Columns ``age`` [years], ``sex`` (``male``/``female``), ``persons``.
    """
    pop = results.arrays.population.county_pop[0, year_index]  # (C, 2, A)
    arr = pop.sum(axis=0) if county is None else pop[county]
    ages = np.arange(arr.shape[-1])
    return pd.DataFrame({
        "age": np.concatenate([ages, ages]),
        "sex": ["male"] * len(ages) + ["female"] * len(ages),
        "persons": np.concatenate([arr[0], arr[1]]),
    })


def population_pyramids(results: Results) -> list[str]:
    """County pyramids as small multiples of one figure: the start year as bars, the last
    year as an outline."""
    from qzfp.reporting.charts import population_pyramids

    lang = lang_of(results)
    start, end = years_of(results)
    heading(t("nb.population.h_pyramid", lang))
    reg = results.register
    codes = reg.counties["county_code"].astype(str).tolist()
    names = county_names(results, codes)
    city = pyramid_frame(results, None, 0)
    city_end = pyramid_frame(results, None, len(results.years) - 1)
    old0 = city.loc[city["age"] >= 60, "persons"].sum() / city["persons"].sum()
    old1 = city_end.loc[city_end["age"] >= 60, "persons"].sum() / city_end["persons"].sum()
    say("nb.population.pyramid_note", lang, start_year=start, end_year=end,
         share_start=format_pct(old0, lang), share_end=format_pct(old1, lang))
    last = len(results.years) - 1
    panels = [(name, pyramid_frame(results, i, 0), pyramid_frame(results, i, last))
              for i, name in enumerate(names)]
    show_chart(population_pyramids, panels, lang, year=start, compare_year=end,
               place=t("app.city", lang), dpi=90)
    return names


#: (variants, quantiles) of :func:`_band_data`, by :func:`_demography_key` and the draws.
_BAND_CACHE: OrderedDict[tuple, tuple[pd.DataFrame, pd.DataFrame | None]] = OrderedDict()
BAND_CACHE_SIZE = 8
"""Uncertainty bands kept by :func:`_band_data` [bands] (distinct demographies of a batch)."""


def _demography_key(results: Results) -> str:
    """SHA-256 of what a population projection depends on: the register (its content
    hash, redistricting included) and :func:`qzfp.model.projection.demography_digest` (the
    years and every ``demography.*`` parameter)."""
    from qzfp.model.projection import demography_digest

    digest = demography_digest(results.scenario.arrays())
    return hashlib.sha256(f"{results.register.sha256};{digest}".encode()).hexdigest()


def mc_chunk_paths(register: Any, n_years: int, n_paths: int) -> int:
    """Monte Carlo paths the uncertainty band draws at once [path].

    :func:`qzfp.distributed.default_mc_chunk`: the paths whose age-detailed county arrays
    would fit :data:`qzfp.distributed.MC_CHUNK_BYTES` (512 MiB; ~540 paths for Quzhou over 16
    years; the engine keeps only their county totals, the band only each path's city
    population, and the village level of a Monte Carlo result is not held per path).  Paths
    are drawn in chunks of this size (which defines the paths), so memory stays bounded for
    any ``mc_paths`` up to its documented maximum.
    """
    from qzfp.distributed import default_mc_chunk

    return default_mc_chunk(register, n_years, n_paths)


def _band_data(results: Results, n_paths: int, seed: int,
               variant: str) -> dict[str, Any]:
    """City population of the four variants (``year``, ``variant``, ``value`` [persons]) and,
    with ``n_paths`` > 0, quantiles of ``n_paths`` Monte Carlo paths (:func:`qzfp.reporting.charts.path_quantiles`),
    for the registered (``"pop"``) and resident (``"resident_pop"``) populations, and with
    paths what the engine counted in them (``"paths"``, a Diagnostics); computed once per
    process for scenarios with the same demography."""
    from qzfp.model.diagnostics import Diagnostics
    from qzfp.model.montecarlo import monte_carlo
    from qzfp.model.projection import project
    from qzfp.reporting.charts import path_quantiles

    key = (_demography_key(results), n_paths, seed, variant)
    if key in _BAND_CACHE:
        _BAND_CACHE.move_to_end(key)
        return _BAND_CACHE[key]
    pa = results.scenario.arrays()
    own = str(results.scenario.params.get("variant", "medium"))
    runs = {v: (results.arrays.population if v == own else project(results.register, pa, variant=v))
            for v in ("low", "medium", "high", "constant")}
    out: dict[str, Any] = {}
    paths: dict[str, list[np.ndarray]] = {"pop": [], "resident_pop": []}
    if n_paths > 0:
        chunk = mc_chunk_paths(results.register, len(results.years), n_paths)
        if n_paths <= chunk:
            chunks = [(n_paths, seed)]
        else:  # chunk i draws from child i of SeedSequence(seed), as qzfp.distributed does
            streams = np.random.SeedSequence(int(seed)).spawn(-(-n_paths // chunk))
            chunks = [(min(chunk, n_paths - i * chunk), ss) for i, ss in enumerate(streams)]
        counts = Diagnostics()
        for n, ss in chunks:
            mc = monte_carlo(results.register, pa, n, ss, variant=variant)
            ind = mc.city_indicators(resident=True)
            for k in paths:
                paths[k].append(ind[k])
            d = mc.diagnostics
            counts = counts.replace(paths=counts.paths + d.paths, capped=counts.capped + d.capped,
                                    tfr_floored=counts.tfr_floored + d.tfr_floored,
                                    e0_clipped=counts.e0_clipped + d.e0_clipped)
            del mc, ind  # the chunk's paths go before the next chunk is drawn (one chunk in memory)
        out["paths"] = counts
    for k in ("pop", "resident_pop"):
        rows = [pd.DataFrame({"year": results.years, "variant": v,
                              "value": r.city_indicators(resident=True)[k][0]}) for v, r in runs.items()]
        q = path_quantiles(results.years, np.concatenate(paths[k])) if paths[k] else None
        out[k] = (pd.concat(rows, ignore_index=True), q)
    _BAND_CACHE[key] = out
    while len(_BAND_CACHE) > BAND_CACHE_SIZE:
        _BAND_CACHE.popitem(last=False)
    return out


#: The national back-test shipped with the package (``qzfp backtest`` of the 2010 census on the
#: 2020 census outside Zhejiang, 500 paths, seed 0: its ``summary.csv``; docs/population.md).
BACKTEST_SUMMARY = "backtest_2010_2020.csv"


def national_backtest() -> pd.DataFrame:
    """The shipped summary of the national back-test (``indicator, units, error, naive_error,
    ratio, coverage_pct``)."""
    from qzfp.register.census import CENSUS_2010

    return pd.read_csv(CENSUS_2010.parent / BACKTEST_SUMMARY, encoding="utf-8-sig")


#: The errors of the migration model's fit shipped with the package (``qzfp calibrate-migration``'s
#: ``errors.csv``: in-sample and leaving each province out).
MIGRATION_FIT_ERRORS = "migration_fit_2010_2020.csv"


def backtest_sentence(lang: str) -> str:
    """How well the method did in the national back-test (2010 → 2020), in and out of sample."""
    from qzfp.register.census import CENSUS_2010

    s = national_backtest().set_index("indicator")
    fit = pd.read_csv(CENSUS_2010.parent / MIGRATION_FIT_ERRORS, encoding="utf-8-sig")
    loo = fit[(fit["sample"] == "leave one province out") & (fit["indicator"] == "resident_total")]
    tot, s60, pref = s.loc["resident_total"], s.loc["share_60plus"], s.loc["prefecture_total"]
    return t("nb.population.backtest", lang, units=format_number(int(tot["units"]), lang),
             mape=f"{tot['error']:.1f}", naive=f"{tot['naive_error']:.1f}", loo=f"{loo['error'].iloc[0]:.1f}",
             inside=f"{tot['coverage_pct']:.0f}", inside60=f"{s60['coverage_pct']:.0f}",
             inside_pref=f"{pref['coverage_pct']:.0f}", s60=f"{s60['error']:.1f}")


def population_band(results: Results) -> pd.DataFrame:
    """Projection with uncertainty bands (Monte Carlo) and the variants as lines, for the
    resident (常住, the band the national back-test checked) and the registered (户籍)
    population.

    Uses the scenario's ``mc_paths`` and ``seed``; with ``mc_paths = 0`` only the
    variants are shown.

    Returns
    -------
    DataFrame
        ``year``, the city population of each variant and, with paths, ``q10``, ``q50``,
        ``q90`` [persons], for the registered population, then the same for the resident
        population (``resident_`` prefix).
    """
    from qzfp.reporting.charts import fan_chart

    lang = lang_of(results)
    s = results.scenario
    _, end = years_of(results)
    heading(t("nb.population.h_uncertainty", lang))
    n_paths = int(s.params.get("mc_paths", 0))
    bands = _band_data(results, n_paths, int(s.params.get("seed", 0)), str(s.params.get("variant", "medium")))
    md(backtest_sentence(lang))
    table = pd.DataFrame({"year": results.years})
    for key, prefix, basis in (("resident_pop", "resident_", "resident"), ("pop", "", "registered")):
        variants, q = bands[key]
        for v, g in variants.groupby("variant", sort=False):
            table[f"{prefix}variant_{v}"] = g["value"].to_numpy()
        place = t("nb.population.band_place", lang, place=t("app.city", lang), basis=t(f"basis.{basis}", lang))
        if q is not None:
            say(f"nb.population.uncertainty_{basis}", lang, n_paths=format_number(n_paths, lang), year=end,
                p10=format_persons(q["q10"].iloc[-1], lang), p90=format_persons(q["q90"].iloc[-1], lang),
                width=f"{(q['q90'].iloc[-1] / q['q10'].iloc[-1] - 1) * 100:.0f}")
            show_chart(fan_chart, q, lang, place=place, variants=variants)
            for c in ("q10", "q50", "q90"):
                table[prefix + c] = q[c].to_numpy()
        else:
            flat = pd.DataFrame({"year": results.years})
            med = variants[variants["variant"] == "medium"]["value"].to_numpy()
            for c in ("q10", "q25", "q50", "q75", "q90"):
                flat[c] = med
            show_chart(fan_chart, flat, lang, place=place, variants=variants)
    say("nb.population.variants_note" if n_paths > 0 else "nb.population.no_paths", lang)
    counted = bands.get("paths")
    if counted is not None:  # what the paths had to cap or clip, said like the central run's
        items = counted.warnings()
        if items:
            say("nb.population.diagnostics", lang, items="; ".join(p.text(lang) for p in items))
    return show_table(table, lang)


def _township_sizes(results: Results, year_index: int) -> pd.DataFrame:
    tw = results.population_townships
    return tw[tw["year"] == results.years[year_index]]


def population_townships(results: Results, top: int = 10) -> pd.DataFrame:
    """Township sizes per county in the first and last year, and the largest townships."""
    lang = lang_of(results)
    start, end = years_of(results)
    heading(t("nb.population.h_townships", lang))
    rows = []
    for yi, year in ((0, start), (len(results.years) - 1, end)):
        d = _township_sizes(results, yi)
        g = d.groupby("county_code")["population"]
        part = pd.DataFrame({"county_code": g.size().index.astype(str), "year": year,
                             "townships": g.size().to_numpy(), "mean_population": g.mean().to_numpy(),
                             "largest_population": g.max().to_numpy(),
                             "smallest_population": g.min().to_numpy()})
        rows.append(part)
    table = pd.concat(rows, ignore_index=True).sort_values(["county_code", "year"])
    table.insert(0, "county", county_names(results, table["county_code"]))
    table = table.drop(columns="county_code")
    d_end = _township_sizes(results, len(results.years) - 1)
    n_big = int((d_end["population"] >= _big_township(results)).sum())
    say("nb.population.townships_note", lang, n_townships=format_number(len(d_end), lang), year=end,
         mean=format_persons(d_end["population"].mean(), lang),
         largest=format_persons(d_end["population"].max(), lang),
         n_big=format_number(n_big, lang), big=format_persons(_big_township(results), lang))
    show_table(table, lang)
    largest = d_end.sort_values("population", ascending=False).head(top)
    largest = largest[["township_code", "county_code", "population", "aged_60plus", "in_migrants"]]
    largest = with_place(largest, results, "township_code", "township")
    largest.insert(3, "county", county_names(results, largest["county_code"]))
    largest = largest.drop(columns="county_code")
    show_table(largest, lang, caption=t("nb.population.largest_townships", lang, n=top, year=end))
    return table


def _big_township(results: Results) -> float:
    """Population above which a township gets an extra vice-president in the rulebook
    (``township.vice_president.extra_post_above_population``, first year) [person]."""
    return float(results.scenario.value("township.vice_president.extra_post_above_population",
                                        int(results.years[0])))


def population_threshold(results: Results) -> pd.DataFrame:
    """Villages at or above the staffing threshold, per county and year, and crossings."""
    lang = lang_of(results)
    start, end = years_of(results)
    heading(t("nb.population.h_threshold", lang))
    sv = results.staffing_villages
    threshold = results.scenario.series("village.vice_president.population_threshold")
    first = sv[sv["year"] == start].set_index("village_code")["at_or_above_threshold"]
    last = sv[sv["year"] == end].set_index("village_code")["at_or_above_threshold"].reindex(first.index)
    n_above = int(last.sum())
    change = n_above - int(first.sum())
    say("nb.population.threshold", lang, n_above=format_number(n_above, lang),
         threshold=format_number(threshold[-1], lang), year=end, start_year=start,
         change=format_number(change, lang) if change <= 0 else f"+{format_number(change, lang)}")
    say("nb.population.crossing", lang, n_down=format_number(int((first & ~last).sum()), lang),
         n_up=format_number(int((~first & last).sum()), lang), start_year=start, end_year=end)
    wide = wide_by_year(sv.assign(n=sv["at_or_above_threshold"].astype(int)), "county_code", "n",
                         total_row=t("app.city", lang), lang=lang)
    codes = wide["county_code"].astype(str).tolist()
    wide.insert(0, "county", county_names(results, codes[:-1]) + [codes[-1]])
    wide = wide.drop(columns="county_code")
    return show_table(wide, lang, caption=t("nb.population.threshold_caption", lang))


def population_quality(results: Results) -> dict[str, pd.DataFrame | None]:
    """How good is this projection: the base against the census at the census moment, the
    rates fitted per county, and the projection against a later census (``census_check``)."""
    from qzfp.model.backtest import base_against_census

    lang = lang_of(results)
    start, _ = years_of(results)
    pop = results.arrays.population
    cal = pop.calibration
    heading(t("nb.population.h_quality", lang))
    if cal is None or cal.census is None:
        return {}
    rows = ("、" if lang == "zh" else ", ").join(i18n.census_source_label(x, lang)
                                                for x in sorted(set(str(x) for x in cal.source)))
    say("nb.population.quality_intro", lang, census_date=cal.census.date.isoformat(), census_rows=rows,
         start_year=start)
    base = base_against_census(pop)
    if len(base):
        base = base.assign(sex=[t(f"sex.{x}", lang) for x in base["sex"]])
        show_table(base, lang, decimals={"difference_pct": 1},
                   caption=t("nb.population.quality_base", lang))
    else:
        say("nb.population.quality_base_na", lang, census_date=cal.census.date.isoformat())
    pa = results.arrays.pa
    fit = results.census_fit.copy()
    fit["county"] = county_names(results, fit["county_code"].astype(str).tolist())
    fit = fit.drop(columns=["county_code"])
    fit["census_row"] = [i18n.census_source_label(x, lang) for x in fit["census_row"]]
    say("nb.population.quality_rates", lang, e0_min=float(pa["demography.mortality.county_e0_min"][0, 0]),
         e0_max=float(pa["demography.mortality.county_e0_max"][0, 0]))
    show_table(fit, lang, decimals={c: (2 if ("tfr" in c or "permille" in c or "factor" in c) else 1)
                                    for c in fit.columns if c not in ("census_resident", "census_registered")})
    codes = {str(c) for c in pop.county_codes}
    relevant = [n for n in cal.census.notes if str(n.fields.get("code")) in codes]
    if relevant:
        say("nb.population.quality_notes", lang, notes=i18n.t("problem.list_separator", lang).join(
            n.text(lang) for n in relevant))
    for note in cal.notes:
        say(f"nb.population.note_{note}", lang)
    diag = pop.diagnostics.warnings(results.county_name_map(lang))
    if diag:
        say("nb.population.diagnostics", lang, items="; ".join(p.text(lang) for p in diag))
    else:
        say("nb.population.diagnostics_none", lang)
    try:
        check = results.census_check
    except ParameterError as exc:  # the later census lies outside the projected years
        md(exc.problems[0].text(lang))
        return {"base": base, "fit": fit, "check": None}
    if check is None:
        say("nb.population.quality_nocheck", lang)
    else:
        say("nb.population.quality_check", lang, check_date=str(results.scenario.params["census_check_date"]))
        check = check.copy()
        codes = check["county_code"].astype(str).tolist()
        check["county"] = county_names(results, codes[:-1]) + [t("app.city", lang)]
        show_table(check.drop(columns=["county_code"]), lang,
                   decimals={c: 2 for c in check.columns if c.endswith(("_pct", "_pp", "projected", "census"))
                             and not c.startswith("total_")} | {"total_difference_pct": 2})
    return {"base": base, "fit": fit, "check": check}


def _register_sizes(reg: Any) -> dict[str, float]:
    pop = np.asarray(reg.township_population(), dtype=float)
    return {"townships": len(pop), "mean_population": float(pop.mean()),
            "largest_population": float(pop.max()), "smallest_population": float(pop.min())}


def population_adjustment_2006(results: Results) -> pd.DataFrame | None:
    """The 2006 township adjustment: pre-2006 vs 2006 townships (counts, mean, max, chart).

    Only for the packaged example register (which has both views); otherwise a note.
    """
    from qzfp.register import load_register
    from qzfp.reporting.charts import township_sizes

    lang = lang_of(results)
    heading(t("nb.population.h_adjustment", lang))
    if not is_example_register(results):
        say("nb.population.adjustment_unavailable", lang)
        return None
    before, after = load_register(view="pre2006"), load_register(view="2006")
    b, a = _register_sizes(before), _register_sizes(after)
    say("nb.population.adjustment", lang, n_before=format_number(b["townships"], lang),
         n_after=format_number(a["townships"], lang),
         mean_before=format_persons(b["mean_population"], lang),
         mean_after=format_persons(a["mean_population"], lang),
         max_before=format_persons(b["largest_population"], lang),
         max_after=format_persons(a["largest_population"], lang))
    rows = [{"view": t("nb.population.view_pre2006", lang), **b},
            {"view": t("nb.population.view_2006", lang), **a}]
    scen = _register_sizes(results.register)
    if scen["townships"] != a["townships"]:
        rows.append({"view": t("nb.population.view_scenario", lang), **scen})
    table = pd.DataFrame(rows)
    show_table(table, lang)

    def frame(reg: Any) -> pd.DataFrame:
        tw = reg.townships[["township_code", "name_zh", "name_en"]].copy()
        tw["population"] = reg.township_population()
        return tw

    show_chart(township_sizes, frame(after), lang, before=frame(before), kind="hist")
    show_chart(township_sizes, frame(after), lang, before=frame(before), kind="bars")
    return table
