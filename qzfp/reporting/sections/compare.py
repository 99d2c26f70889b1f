"""Sections of the comparison report (04): the scenarios compared, side by side, budget lines, waterfalls, sensitivity, sweep."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from qzfp import i18n
from qzfp.i18n import (
    budget_line_label,
    format_number,
    format_pct,
    param_label,
    t,
)
from qzfp.model.run import Results
from qzfp.reporting.sections.display import (
    heading,
    lang_of,
    period,
    say,
    show_chart,
    show_table,
    signed_yuan,
    simulate_cached,
    years_of,
)
from qzfp.rules.scenario import Scenario, load_scenario, scenario_search_path

# =========================================================================== compare
_ALIGN_KEYS = ("start_year", "horizon", "lang")
_LABEL_KEYS = ("scenario_name", "title", "description", "title_zh", "description_zh", "output_dir",
               "compare_with", "mc_paths", "seed", "sensitivity_pct", "lang")


def _aligned(other: Scenario, scenario: Scenario) -> Scenario:
    """``other`` over the years and in the language of ``scenario``."""
    if all(other.params[k] == scenario.params[k] for k in _ALIGN_KEYS):
        return other
    params = {**other.to_papermill(), **{k: scenario.params[k] for k in _ALIGN_KEYS}}
    return Scenario.from_parameters(**params)


def _model_key(s: Scenario) -> str:
    import json

    return json.dumps({k: v for k, v in s.params.items() if k not in _LABEL_KEYS},
                      sort_keys=True, default=str, ensure_ascii=False)


def _packaged_names() -> list[str]:
    for d in scenario_search_path():
        if (d / "baseline.yaml").is_file():
            files = sorted(Path(d).glob("*.yaml"))
            names = [f.stem for f in files]
            return ["baseline"] + [n for n in names if n != "baseline"]
    return []


def default_comparison(scenario: Scenario) -> list[str]:
    """Scenarios compared when ``compare_with`` is empty: the baseline, then the scenario
    itself, then every other scenario file of the ``params/`` folder in use (the first
    folder of :func:`qzfp.rules.scenario.scenario_search_path` holding ``baseline.yaml``)."""
    return [n for n in _packaged_names() if n != scenario.name]


def compare_scenarios(scenario: Scenario) -> tuple[list[Results], bool]:
    """Results of the scenario and of the scenarios it is compared with.

    The first result is the base of every difference: the baseline when the default list
    is used, else the scenario itself (``compare_with`` given).  Compared scenarios are
    aligned to the scenario's start year, horizon and language; scenarios that model the
    same thing as one already in the list (e.g. ``baseline_zh`` next to ``baseline``) are
    left out.

    Returns
    -------
    (list of Results, bool)
        The results and whether the default list was used.
    """
    names = list(scenario.params.get("compare_with") or [])
    default = not names
    refs = default_comparison(scenario) if default else names
    others = [_aligned(load_scenario(ref), scenario) for ref in refs]
    if default:
        base = [s for s in others if s.name == "baseline"]
        rest = [s for s in others if s.name != "baseline"]
        ordered = base + [scenario] + rest
    else:
        ordered = [scenario] + others
    seen: dict[str, str] = {}
    picked: list[Scenario] = []
    for s in ordered:
        key = _model_key(s)
        if s.name in {p.name for p in picked} or (key in seen and s is not scenario):
            continue
        if key in seen and s is scenario:  # the scenario models the baseline: keep its name
            picked = [p for p in picked if _model_key(p) != key]
        seen[key] = s.name
        picked.append(s)
    return [simulate_cached(s) for s in picked], default


def compare_side_by_side(all_results: Sequence[Results], default: bool) -> pd.DataFrame:
    """The compared scenarios, their key figures in the last year, differences to the base."""
    from qzfp.model.comparison import COMPARED, compare

    scenario = all_results[0].scenario if not default else None
    lang = lang_of(all_results[0])
    start, end = years_of(all_results[0])
    base = all_results[0]
    names = ", ".join(f"`{r.name}`" for r in all_results)
    if default:
        say("nb.compare.default_choice", lang, names=names, baseline=f"`{base.name}`",
             start_year=start, end_year=end)
    else:
        say("nb.compare.chosen", lang, names=names, scenario=f"`{scenario.name}`",
             start_year=start, end_year=end)
    show_table(pd.DataFrame({"scenario": [r.name for r in all_results],
                             "description": [r.scenario.title for r in all_results]}), lang)
    heading(t("nb.compare.h_side", lang))
    c = compare(*all_results, base=0)
    last = c[c["year"] == end]
    wide = last.pivot_table(index="metric", columns="scenario", values="value", sort=False)
    wide = wide.reindex(index=list(COMPARED), columns=[r.name for r in all_results])
    shown = _by_unit(wide)
    shown.insert(0, "metric_label", [i18n.column_label(m, lang) for m in wide.index])
    shown = shown.reset_index(drop=True).rename(columns={"metric_label": "metric"})
    wide.insert(0, "metric_label", [i18n.column_label(m, lang) for m in wide.index])
    wide = wide.reset_index(drop=True).rename(columns={"metric_label": "metric"})
    show_table(shown, lang, caption=t("nb.compare.side_caption", lang, year=end))
    if len(all_results) > 1:
        heading(t("nb.compare.h_differences", lang))
        b0 = float(last[(last["scenario"] == base.name) & (last["metric"] == "budget_yuan")]["value"].iloc[0])
        for r in all_results[1:]:
            v = float(last[(last["scenario"] == r.name) & (last["metric"] == "budget_yuan")]["value"].iloc[0])
            delta = v - b0
            say("nb.compare.delta", lang, baseline=f"`{base.name}`", scenario=f"`{r.name}`", year=end,
                 delta=signed_yuan(delta, lang),
                 delta_pct=format_pct(delta / b0 if b0 else np.nan, lang, signed=True))
        diff = last[last["scenario"] != base.name].pivot_table(
            index="metric", columns="scenario", values="difference", sort=False)
        diff = diff.reindex(index=list(COMPARED), columns=[r.name for r in all_results[1:]])
        shown = _by_unit(diff, signed=True)
        shown.insert(0, "metric_label", [i18n.column_label(m, lang) for m in diff.index])
        shown = shown.reset_index(drop=True).rename(columns={"metric_label": "metric"})
        show_table(shown, lang, caption=t("nb.compare.diff_caption", lang, year=end, baseline=base.name))
    return wide


def _by_unit(wide: pd.DataFrame, *, signed: bool = False) -> pd.DataFrame:
    """A metrics × scenarios table with every value formatted by its metric's unit (whole
    people, posts and yuan; two decimals for per-person and per-10,000 figures)."""
    from qzfp.reporting.folders import format_metric

    return pd.DataFrame({col: [format_metric(str(m), v, "en", signed=signed) for m, v in wide[col].items()]
                         for col in wide.columns}, index=wide.index)


def _plain_number(v: Any, lang: str) -> str:
    """A parameter value with up to three decimals and no trailing zeros (600, 0.25, 1.8)."""
    text = format_number(v, lang, 3)
    return text.rstrip("0").rstrip(".") if "." in text else text


def compare_budget_lines(all_results: Sequence[Results]) -> pd.DataFrame | None:
    """Budget over the whole horizon by line: base amount and each scenario's difference."""
    from qzfp.model.comparison import compare_budget

    if len(all_results) < 2:
        return None
    lang = lang_of(all_results[0])
    start, end = years_of(all_results[0])
    cb = compare_budget(*all_results, base=0)
    base = all_results[0].name
    b = cb[cb["scenario"] == base].set_index("line")["amount_yuan"]
    wide = cb[cb["scenario"] != base].pivot_table(index="line", columns="scenario",
                                                  values="difference_yuan", sort=False)
    wide = wide.reindex(columns=[r.name for r in all_results[1:]])
    wide.insert(0, "baseline_yuan", b.reindex(wide.index))
    wide = wide[(wide.drop(columns="baseline_yuan").abs() > 0.5).any(axis=1)]
    wide.loc["\0total"] = cb.groupby("scenario")["difference_yuan"].sum().reindex(wide.columns).fillna(
        b.sum()).to_numpy()
    wide.loc["\0total", "baseline_yuan"] = float(b.sum())
    wide.insert(0, "budget_line", [t("total", lang) if x == "\0total" else budget_line_label(x, lang)
                                   for x in wide.index])
    wide = wide.reset_index(drop=True).rename(columns={"budget_line": "line"})
    return show_table(wide, lang, caption=t("nb.compare.lines_caption", lang, start_year=start,
                                               end_year=end, baseline=base))


def compare_waterfalls(all_results: Sequence[Results], max_charts: int = 6) -> list[str]:
    """Waterfall of the last year's budget from the base to each other scenario."""
    from qzfp.reporting.charts import budget_waterfall, waterfall_table

    lang = lang_of(all_results[0])
    end = years_of(all_results[0])[1]
    heading(t("nb.compare.h_waterfall", lang))
    base = all_results[0]
    shown = []
    for r in all_results[1:max_charts + 1]:
        wt = waterfall_table(base.budget, r.budget, end)
        if (wt["scenario_yuan"] - wt["baseline_yuan"]).abs().max() <= 0.5:
            say("nb.compare.no_budget_change", lang, scenario=f"`{r.name}`", baseline=f"`{base.name}`",
                 year=end)
            continue
        show_chart(budget_waterfall, wt, lang, year=end, baseline_name=base.name, scenario_name=r.name)
        shown.append(r.name)
    if len(all_results) < 2:
        say("nb.compare.single", lang)
    return shown


def compare_sensitivity(results: Results, top: int = 15) -> pd.DataFrame:
    """Sensitivity ranking: each key assumption moved by ±``sensitivity_pct`` %, effect on
    the horizon's total budget (tornado) and on required staff."""
    from qzfp.model.comparison import sensitivity
    from qzfp.reporting.charts import tornado

    lang = lang_of(results)
    s = results.scenario
    start, end = years_of(results)
    pct = float(s.params.get("sensitivity_pct", 10.0))
    heading(t("nb.compare.h_sensitivity", lang))
    if not 0 < pct < 100:
        say("nb.compare.no_sensitivity", lang)
        return pd.DataFrame()
    sens = sensitivity(s, pct, register=None)
    if sens.empty:
        say("nb.compare.no_sensitivity", lang)
        return sens
    topr = sens.iloc[0]
    say("nb.compare.sensitivity", lang, pct=format_number(pct, lang, 0 if pct.is_integer() else 1),
         top_param=param_label(topr["path"], lang), year=period(start, end, lang),
         low=signed_yuan(topr["budget_effect_low_yuan"], lang),
         high=signed_yuan(topr["budget_effect_high_yuan"], lang))
    say("nb.compare.sensitivity_note", lang, n=format_number(len(sens), lang),
         start_year=start, end_year=end)
    head = sens.head(top)
    show_chart(tornado, pd.DataFrame({"parameter": head["path"], "low": head["budget_effect_low_yuan"],
                                      "high": head["budget_effect_high_yuan"]}),
               lang, outcome="total_budget", pct=pct, max_bars=top)
    table = pd.DataFrame({
        "rank": head["rank"].to_numpy(),
        "parameter": [param_label(p, lang) for p in head["path"]],
        "description": [(s.parameter(p).description_zh if lang == "zh" else "") or s.parameter(p).description
                        for p in head["path"]],
        "unit": [i18n.unit_label(u, lang) for u in head["unit"]],
        "value": [_plain_number(v, lang) for v in head["base_value"]],
        "low": [_plain_number(v, lang) for v in head["low_value"]],
        "high": [_plain_number(v, lang) for v in head["high_value"]],
        "budget_effect_low_yuan": head["budget_effect_low_yuan"].to_numpy(),
        "budget_effect_high_yuan": head["budget_effect_high_yuan"].to_numpy(),
        "staff_effect_low": head["staff_effect_low"].to_numpy(),
        "staff_effect_high": head["staff_effect_high"].to_numpy(),
    })
    return show_table(table, lang)  # whole yuan and whole people


#: Multiples of the scenario's start-year value tried by the sweep heatmap.
SWEEP_FACTORS = (0.5, 1.0, 1.5, 2.0)
SWEEP_PATHS = ("village.vice_president.allowance", "village.vice_president.population_threshold")


def compare_sweep(results: Results) -> pd.DataFrame:
    """A small sweep of the village allowance × the village threshold (heatmaps of the
    horizon's budget and of the village vice-presidents in the last year)."""
    from qzfp.model.comparison import sweep
    from qzfp.reporting.charts import money_scale, sweep_heatmap

    lang = lang_of(results)
    s = results.scenario
    start, end = years_of(results)
    heading(t("nb.compare.h_sweep", lang))
    grid = {}
    for p in SWEEP_PATHS:
        v0 = float(s.value(p, start))
        grid[p] = sorted({round(v0 * f) for f in SWEEP_FACTORS if v0 * f > 0} | {round(v0)})
    sw = sweep(s, grid)
    say("nb.compare.sweep_note", lang, x=param_label(SWEEP_PATHS[0], lang),
         y=param_label(SWEEP_PATHS[1], lang), start_year=start, end_year=end,
         n=format_number(len(sw), lang))
    scale = money_scale(lang)
    unit = t("chart.budget.y", lang)
    show_chart(sweep_heatmap, sw, lang, x=SWEEP_PATHS[0], y=SWEEP_PATHS[1], value="budget_horizon_yuan",
               scale=scale, value_label=t("nb.compare.sweep_budget", lang, unit=unit,
                                          start_year=start, end_year=end))
    show_chart(sweep_heatmap, sw, lang, x=SWEEP_PATHS[0], y=SWEEP_PATHS[1],
               value="village_vice_presidents_last",
               value_label=t("nb.compare.sweep_posts", lang, year=end))
    return sw
