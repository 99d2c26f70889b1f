"""Sections of the staffing and workload report (02): posts, ratios, WISN by cadre and township, shortages, components."""

from __future__ import annotations

import numpy as np
import pandas as pd

from qzfp import i18n
from qzfp.i18n import (
    format_number,
    format_pct,
    format_persons,
    has,
    place_names,
    post_label,
    t,
)
from qzfp.model.run import Results
from qzfp.model.workload_tables import component_totals
from qzfp.reporting.sections.display import (
    county_names,
    heading,
    lang_of,
    md,
    say,
    show_chart,
    show_table,
    years_of,
)


# =========================================================================== staffing
def _post_label(level: str, post: str, lang: str) -> str:
    return post_label(post, lang, level)


def staffing_posts(results: Results) -> pd.DataFrame:
    """Posts the rules require, by level and post, per year."""
    lang = lang_of(results)
    start, end = years_of(results)
    heading(t("nb.staffing.h_posts", lang))
    s = results.summary().iloc[-1]
    say("nb.staffing.summary", lang, year=end, total=format_number(s["total_posts"], lang),
         village=format_number(s["village_vice_presidents"], lang),
         township=format_number(s["township_vice_presidents"], lang),
         county=format_number(s["county_posts"], lang))
    st = results.staffing
    g = st.groupby(["level", "post", "year"], sort=False, as_index=False)["posts"].sum()
    order = {"village": 0, "township": 1, "county": 2}
    g["_o"] = g["level"].map(order).fillna(3)
    g = g.sort_values(["_o", "year"], kind="stable")
    g["post_label"] = [_post_label(lv, p, lang) for lv, p in zip(g["level"], g["post"], strict=True)]
    g["level_label"] = [t(f"level.{lv}", lang) if has(f"level.{lv}") else lv for lv in g["level"]]
    wide = g.pivot_table(index=["level_label", "post_label", "_o"], columns="year", values="posts",
                         aggfunc="sum", sort=False).reset_index().sort_values("_o", kind="stable")
    wide = wide.drop(columns="_o")
    wide.columns = [str(int(c)) if isinstance(c, (int, np.integer)) else c for c in wide.columns]
    total = wide.drop(columns=["level_label", "post_label"]).sum(axis=0)
    wide.loc[len(wide)] = [t("total", lang), "", *total.to_numpy()]
    wide = wide.rename(columns={"level_label": "level", "post_label": "post"})
    return show_table(wide, lang)


def staffing_ratios(results: Results) -> pd.DataFrame:
    """Posts per 10,000 people, people per township vice-president, villages and people
    without a village vice-president: per year for the city, per county in the last year."""
    lang = lang_of(results)
    start, end = years_of(results)
    heading(t("nb.staffing.h_ratios", lang))
    summ = results.summary()
    r = results.ratios()
    last = summ.iloc[-1]
    villages_without = int(last["villages"] - last["villages_at_or_above_threshold"])
    people_per_tvp = float(last["population"]) / max(float(last["township_vice_presidents"]), 1.0)
    say("nb.staffing.ratios", lang, year=end, per_10000=format_number(last["posts_per_10000"], lang, 1),
         people_per_tvp=format_persons(people_per_tvp, lang),
         villages_without=format_number(villages_without, lang),
         people_without=format_persons(last["people_without_village_vp"], lang),
         threshold=format_number(results.scenario.series(
             "village.vice_president.population_threshold")[-1], lang))
    city = summ[["year", "population", "total_posts", "posts_per_10000", "villages",
                 "villages_at_or_above_threshold", "people_without_village_vp"]].copy()
    city.insert(6, "villages_without_village_vp", city["villages"] - city["villages_at_or_above_threshold"])
    show_table(city, lang, decimals={"posts_per_10000": 1},
               caption=t("nb.staffing.ratios_city_caption", lang))
    codes = results.register.counties["county_code"].astype(str).to_numpy()
    pc = results.population_counties
    pop_last = pc[pc["year"] == end].set_index("county_code")["population"].reindex(codes)
    county = pd.DataFrame({
        "county": county_names(results, codes),
        "population": pop_last.to_numpy(),
        "total_posts": results.arrays.staffing.county_all_posts[0, -1],
        "posts_per_10000": r["county_posts_per_10000"][0, -1],
        "people_per_township_vp": r["county_people_per_township_vice_president"][0, -1],
        "villages_without_village_vp": r["county_villages_without_vp"][0, -1],
        "people_without_village_vp": r["county_people_without_vp"][0, -1],
    })
    return show_table(county, lang, decimals={"posts_per_10000": 1},
                      caption=t("nb.staffing.ratios_county_caption", lang, year=end))


def _cadre_label(cadre: str, lang: str) -> str:
    if has(f"post.{cadre}"):
        return t(f"post.{cadre}", lang)
    if has(f"budget.{cadre}"):
        return t(f"budget.{cadre}", lang)
    return i18n.humanise(cadre)


def workload_cadres(results: Results) -> pd.DataFrame:
    """WISN section intro and staff required vs in post by cadre, per year."""
    lang = lang_of(results)
    heading(t("nb.workload.title", lang))
    md(t("nb.workload.intro", lang))
    w = results.workload
    g = w.groupby(["cadre", "year"], sort=False, as_index=False)[["required", "provided"]].sum()
    g["difference"] = g["provided"] - g["required"]
    g["ratio"] = np.where(g["required"] > 0, g["provided"] / g["required"].where(g["required"] > 0, 1), np.nan)
    g.insert(0, "post", [_cadre_label(c, lang) for c in g["cadre"]])
    g = g.drop(columns="cadre").rename(columns={"required": "required_staff", "provided": "staff_in_post",
                                                "difference": "wisn_difference", "ratio": "wisn_ratio"})
    end = years_of(results)[1]
    last = g[g["year"] == end]
    return show_table(last, lang, decimals={"required_staff": 1, "wisn_difference": 1, "wisn_ratio": 2},
                      caption=t("nb.workload.cadres_caption", lang, year=end))


def _township_wisn(results: Results, year: int) -> pd.DataFrame:
    w = results.workload
    tw = w[(w["cadre"] == "township_vice_president") & (w["year"] == year)].copy()
    return tw


def workload_townships(results: Results) -> pd.DataFrame:
    """WISN ratio by township (chart) with the commentary on shortfalls."""
    from qzfp.reporting.charts import wisn_ratio_chart

    lang = lang_of(results)
    end = years_of(results)[1]
    heading(t("nb.workload.h_townships", lang))
    tw = _township_wisn(results, end)
    short = tw[tw["ratio"] < 1]
    say("nb.workload.summary", lang, year=end, n_short=format_number(len(short), lang),
         n_townships=format_number(len(tw), lang),
         gap=format_number(-short["difference"].sum(), lang, 1))
    chart = tw[["township_code", "ratio"]].rename(columns={"ratio": "wisn_ratio"})
    chart["name"] = place_names(chart["township_code"], lang, results.register)
    show_chart(wisn_ratio_chart, chart, lang, year=end)
    return chart


def workload_shortages(results: Results) -> pd.DataFrame:
    """Townships whose WISN ratio is below 1 in the last year, largest township first."""
    lang = lang_of(results)
    end = years_of(results)[1]
    heading(t("nb.workload.h_short", lang))
    tw = _township_wisn(results, end)
    short = tw[tw["ratio"] < 1].sort_values("population", ascending=False)
    merged = results.register.townships.set_index("township_code")["merged_from"].astype(str)
    n_merged = merged.map(lambda s: len([c for c in s.split(";") if c.strip()]))
    table = pd.DataFrame({
        "township_code": short["township_code"].astype(str).to_numpy(),
        "township": place_names(short["township_code"], lang, results.register),
        "county": place_names(short["county_code"], lang, results.register),
        "population": short["population"].to_numpy(),
        "townships_absorbed": n_merged.reindex(short["township_code"].astype(str)).fillna(0).to_numpy(),
        "required_staff": short["required"].to_numpy(),
        "staff_in_post": short["provided"].to_numpy(),
        "wisn_difference": short["difference"].to_numpy(),
        "wisn_ratio": short["ratio"].to_numpy(),
    })
    n_merged_short = int((table["townships_absorbed"] > 0).sum())
    say("nb.workload.short_note", lang, year=end, n_short=format_number(len(table), lang),
         n_merged=format_number(n_merged_short, lang))
    vv = results.workload
    vv = vv[(vv["cadre"] == "village_vice_president") & (vv["year"] == end) & (vv["provided"] > 0)]
    say("nb.workload.villages_short", lang, year=end,
         n_short=format_number(int((vv["ratio"] < 1).sum()), lang),
         n_villages=format_number(len(vv), lang))
    if table.empty:
        return table
    return show_table(table, lang, decimals={"required_staff": 2, "staff_in_post": 0,
                                             "wisn_difference": 2, "wisn_ratio": 2})


def _component_label(component: str, lang: str) -> str:
    key = f"nb.workload.component.{component}"
    return t(key, lang) if has(key) else i18n.humanise(component)


def workload_components(results: Results) -> pd.DataFrame:
    """Workload components of each cadre in the last year (city totals)."""
    lang = lang_of(results)
    end = years_of(results)[1]
    heading(t("nb.workload.h_components", lang))
    g = component_totals(results.arrays.workload, len(results.years) - 1).rename(
        columns={"workload_hours": "hours"})
    g["share"] = 100 * g["hours"] / g.groupby("cadre")["hours"].transform("sum").replace(0, np.nan)
    order = {c: i for i, c in enumerate(g["cadre"].unique())}
    g = g.assign(_o=g["cadre"].map(order)).sort_values(["_o", "hours"], ascending=[True, False],
                                                      kind="stable").drop(columns="_o")
    out = pd.DataFrame({
        "post": [_cadre_label(c, lang) for c in g["cadre"]],
        "component": [_component_label(c, lang) for c in g["component"]],
        "volume": g["volume"].to_numpy(),
        "volume_unit": [i18n.unit_label(u, lang) for u in g["volume_unit"]],
        "standard_hours": g["standard_hours"].to_numpy(),
        "hours": g["hours"].to_numpy(),
        "share_pct": g["share"].to_numpy(),
        "fte": g["staff"].to_numpy(),
    })
    top = g.iloc[0] if len(g) else None
    if top is not None:
        say("nb.workload.components_note", lang, year=end,
             post=_cadre_label(top["cadre"], lang), component=_component_label(top["component"], lang),
             share=format_pct(top["share"] / 100, lang))
    return show_table(out, lang, decimals={"standard_hours": 2, "share_pct": 1, "fte": 1})
