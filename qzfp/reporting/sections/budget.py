"""Sections of the budget report (03): lines, counties, per inhabitant, funders, basis, parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd

from qzfp import i18n
from qzfp.i18n import (
    budget_line_label,
    format_number,
    format_pct,
    format_yuan,
    t,
)
from qzfp.model.run import Results
from qzfp.reporting.sections.display import (
    county_names,
    heading,
    lang_of,
    md,
    say,
    show_chart,
    show_table,
    wide_by_year,
    years_of,
)


# =========================================================================== budget
def budget_by_line(results: Results) -> pd.DataFrame:
    """Budget by line item: stacked chart and a table with years as columns."""
    from qzfp.reporting.charts import budget_stacked

    lang = lang_of(results)
    start, end = years_of(results)
    heading(t("nb.budget.h_lines", lang))
    b = results.budget
    first = b[b["year"] == start].groupby("line", sort=False)["amount_yuan"].sum()
    total0 = float(first.sum())
    top = first.idxmax() if len(first) else ""
    say("nb.budget.summary", lang, year=start, total=format_yuan(total0, lang, compact=True),
         top_line=budget_line_label(top, lang),
         top_share=format_pct(first.max() / total0 if total0 else np.nan, lang))
    say("nb.budget.period", lang, start_year=start, end_year=end,
         total=format_yuan(b["amount_yuan"].sum(), lang, compact=True))
    show_chart(budget_stacked, b, lang)
    wide = wide_by_year(b, "line", "amount_yuan", total_col=True, total_row="\0total", lang=lang)
    wide.insert(0, "budget_line", [t("total", lang) if x == "\0total" else budget_line_label(x, lang)
                                   for x in wide["line"]])
    wide = wide.drop(columns="line").rename(columns={"budget_line": "line"})
    return show_table(wide, lang, caption=t("nb.budget.lines_caption", lang))


#: ``county_code`` of the city rows of :attr:`Results.budget_totals`.
_ALL = "all"


def _paren(text: str, lang: str) -> str:
    return f"（{text}）" if lang == "zh" else f" ({text})"


def budget_by_county(results: Results) -> pd.DataFrame:
    """Budget of each county by year [yuan]."""
    lang = lang_of(results)
    heading(t("nb.budget.h_counties", lang))
    bt = results.budget_totals
    bt = bt[bt["county_code"] != _ALL]
    wide = wide_by_year(bt, "county_code", "amount_yuan", total_col=True,
                         total_row=t("app.city", lang), lang=lang)
    codes = wide["county_code"].astype(str).tolist()
    wide.insert(0, "county", county_names(results, codes[:-1]) + [codes[-1]])
    wide = wide.drop(columns="county_code")
    start = years_of(results)[0]
    g = bt[bt["year"] == start].set_index("county_code")["amount_yuan"]
    say("nb.budget.counties_note", lang, year=start,
         county=county_names(results, [g.idxmax()])[0], amount=format_yuan(g.max(), lang, compact=True))
    return show_table(wide, lang, caption=t("nb.budget.counties_caption", lang))


def budget_per_capita(results: Results) -> pd.DataFrame:
    """Budget per resident by county and year [yuan/person]."""
    lang = lang_of(results)
    start, end = years_of(results)
    heading(t("nb.budget.h_per_capita", lang))
    bt = results.budget_totals
    bt = bt[bt["county_code"] != _ALL]
    wide = wide_by_year(bt, "county_code", "per_capita_yuan", lang=lang)
    wide.insert(0, "county", county_names(results, wide["county_code"].astype(str)))
    wide = wide.drop(columns="county_code")
    s = results.summary()
    city = {"county": t("app.city", lang), **{str(int(y)): v for y, v in
                                              zip(s["year"], s["budget_per_capita_yuan"], strict=True)}}
    wide.loc[len(wide)] = city
    say("nb.budget.per_capita_note", lang, start_year=start, end_year=end,
         first=format_yuan(s["budget_per_capita_yuan"].iloc[0], lang, decimals=2),
         last=format_yuan(s["budget_per_capita_yuan"].iloc[-1], lang, decimals=2))
    return show_table(wide, lang, decimals=2, caption=t("nb.budget.per_capita_caption", lang))


def budget_funders(results: Results) -> pd.DataFrame:
    """Who pays: city, county and township shares by year, and the split of each line."""
    lang = lang_of(results)
    start = years_of(results)[0]
    heading(t("nb.budget.h_funders", lang))
    b = results.budget
    by_year = b.groupby("year", as_index=False)[["city_yuan", "county_yuan", "township_yuan",
                                                 "amount_yuan"]].sum()
    f0 = by_year.iloc[0]
    tot = float(f0["amount_yuan"]) or np.nan
    say("nb.budget.funders", lang, year=start,
         **{k: format_yuan(f0[f"{k}_yuan"], lang, compact=True)
            + _paren(format_pct(f0[f"{k}_yuan"] / tot, lang), lang)
            for k in ("city", "county", "township")})
    show_table(by_year, lang, caption=t("nb.budget.funders_caption", lang))
    lines = b[b["year"] == start].groupby("line", sort=False, as_index=False)[
        ["amount_yuan", "city_yuan", "county_yuan", "township_yuan"]].sum()
    amt = lines["amount_yuan"].where(lines["amount_yuan"] != 0)
    split = pd.DataFrame({
        "line": [budget_line_label(x, lang) for x in lines["line"]],
        "amount_yuan": lines["amount_yuan"],
        "share_city_pct": 100 * lines["city_yuan"] / amt,
        "share_county_pct": 100 * lines["county_yuan"] / amt,
        "share_township_pct": 100 * lines["township_yuan"] / amt,
    })
    return show_table(split, lang, caption=t("nb.budget.split_caption", lang, year=start))


def budget_basis(results: Results, year: int | None = None) -> pd.DataFrame:
    """The line items of a year with their basis: quantity × unit cost = amount, the rule
    path and the reference it comes from (city totals; every county in the workbook)."""
    lang = lang_of(results)
    year = years_of(results)[0] if year is None else int(year)
    heading(t("nb.budget.h_table", lang))
    say("nb.budget.basis_note", lang, year=year)
    b = i18n.localise_budget(results.budget[results.budget["year"] == year], lang)
    g = b.groupby("line", sort=False, as_index=False).agg(
        quantity=("quantity", "sum"), quantity_unit=("quantity_unit", "first"),
        unit_cost_yuan=("unit_cost_yuan", "first"), amount_yuan=("amount_yuan", "sum"),
        rule_path=("rule_path", "first"), reference=("reference", "first"),
        unit_costs=("unit_cost_yuan", "nunique"))
    # Where counties differ in unit cost, the city line shows the average (amount / quantity).
    mixed = g["unit_costs"] > 1
    g.loc[mixed, "unit_cost_yuan"] = g.loc[mixed, "amount_yuan"] / g.loc[mixed, "quantity"].where(
        g.loc[mixed, "quantity"] != 0)
    out = pd.DataFrame({
        "line": [budget_line_label(x, lang) for x in g["line"]],
        # each quantity as it is: whole posts and persons without decimals, trainee-days with one
        "quantity": [format_number(q, lang, 0 if float(q).is_integer() else 1) for q in g["quantity"]],
        "quantity_unit": [i18n.unit_label(u, lang) for u in g["quantity_unit"]],
        "unit_cost_yuan": g["unit_cost_yuan"], "amount_yuan": g["amount_yuan"],
        "rule_path": g["rule_path"], "reference": g["reference"],
    })
    out.loc[len(out)] = [t("total", lang), "", "", np.nan, float(g["amount_yuan"].sum()), "", ""]
    return show_table(out, lang, decimals={"unit_cost_yuan": 2})


def budget_parameters(results: Results) -> pd.DataFrame:
    """Every parameter value in force in the years modelled, with unit and reference."""
    lang = lang_of(results)
    heading(t("nb.common.parameters", lang))
    md(t("nb.common.parameters_note", lang))
    up = i18n.localise_parameters(results.scenario.used_parameters(), lang)
    up = up[["path", "description", "unit", "since", "value", "reference"]].copy()
    up["value"] = [i18n.value_text(v, lang, u) for v, u in zip(up["value"], up["unit"], strict=True)]
    return show_table(up, lang)
