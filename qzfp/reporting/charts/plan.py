"""The frontier of ``qzfp plan``: budget against coverage of a grid of plans."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from qzfp.i18n import format_number, t
from qzfp.reporting.charts.layout import (
    ACCENT,
    INK,
    LIGHT,
    any_label,
    fit_axes,
    money_scale,
    new_figure,
    require_columns,
    style_axes,
    thousands_formatter,
)

#: Most grid plans drawn as dots on a frontier chart [plan]; a larger grid is thinned to
#: every k-th plan (the frontier, the baseline and the chosen plan are always drawn).
PLAN_DOTS = 20_000


def plan_frontier(grid: pd.DataFrame, frontier: pd.DataFrame, lang: str, *, value: str, objective: str,
                  year: int, ceiling: float, baseline: tuple[float, float],
                  chosen: tuple[float, float]) -> Figure:
    """Budget against coverage of a plan grid: every plan as a dot, the frontier as a step
    line (the best coverage reachable for each budget), the ceiling as a vertical line, the
    baseline and the chosen plan marked.

    Parameters
    ----------
    grid, frontier : DataFrame
        Columns ``budget_yuan`` [yuan] and ``value`` (the coverage measure) of every plan
        and of the frontier plans (by cost ascending).
    value : str
        The coverage column (its header labels the y axis).
    objective : str
        Short name of the objective (chart title).
    year : int
        Budget year.
    ceiling : float
        Budget ceiling [yuan].
    baseline, chosen : tuple of float
        (budget [yuan], coverage) of the scenario as it is and of the chosen plan.
    """
    require_columns(grid, ["budget_yuan", value], "plan frontier")
    require_columns(frontier, ["budget_yuan", value], "plan frontier")
    scale = money_scale(lang)
    fig = new_figure(lang, figsize=(7.5, 4.5))
    ax = fig.add_subplot()
    step = max(1, -(-len(grid) // PLAN_DOTS))
    dots = grid.iloc[::step]
    ax.scatter(dots["budget_yuan"] / scale, dots[value], s=4, color=LIGHT, linewidths=0, rasterized=True,
               label=t("chart.plan_frontier.grid", lang))
    fx = frontier["budget_yuan"].to_numpy(dtype=float) / scale
    fy = frontier[value].to_numpy(dtype=float)
    ax.step(fx, fy, where="post", color=ACCENT, linewidth=1.4, marker="o", markersize=3,
            label=t("chart.plan_frontier.frontier", lang))
    ax.axvline(ceiling / scale, color=INK, linestyle="--", linewidth=1.0, label=t("chart.plan_frontier.ceiling", lang))
    ax.plot([baseline[0] / scale], [baseline[1]], linestyle="none", marker="s", markersize=7, markerfacecolor="white",
            markeredgecolor=INK, label=t("chart.plan_frontier.baseline", lang))
    ax.plot([chosen[0] / scale], [chosen[1]], linestyle="none", marker="*", markersize=12, color=ACCENT,
            markeredgecolor=INK, label=t("chart.plan_frontier.chosen", lang))
    ax.xaxis.set_major_formatter(thousands_formatter(lang))
    ax.yaxis.set_major_formatter(FuncFormatter(
        lambda v, _pos: (format_number(v, lang, 2).rstrip("0").rstrip(".") if "." in format_number(v, lang, 2)
                         else format_number(v, lang, 2))))
    ax.set_xlabel(t("chart.plan_frontier.x", lang, year=year))
    ax.set_ylabel(any_label(value, lang))
    style_axes(ax, grid="both")
    ax.legend(fontsize=7, frameon=False, loc="lower right")
    fit_axes(fig, ax, t("chart.plan_frontier.title", lang, objective=objective, year=year))
    return fig
