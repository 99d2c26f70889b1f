"""Budget charts: stacked budget lines by year, the waterfall of a scenario against the baseline."""


from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from qzfp.i18n import (
    BUDGET_LINES,
    budget_line_label,
    format_number,
    t,
)
from qzfp.reporting.charts.layout import (
    ACCENT,
    HATCHES,
    INK,
    PAD,
    draw_bars,
    fit_axes,
    money_scale,
    new_figure,
    require_columns,
    shades,
    style_axes,
    text_height,
    text_width,
    thousands_formatter,
)


# --------------------------------------------------------------------------- budget
def _line_order(lines: Sequence[str]) -> list[str]:
    known = [line for line in BUDGET_LINES if line in set(lines)]
    return known + sorted(set(lines) - set(known))


def budget_stacked(df: pd.DataFrame, lang: str, *, top_n: int = 8) -> Figure:
    """Stacked bars of the budget by line item over the years.

    Parameters
    ----------
    df : DataFrame
        Columns ``year``, ``line`` (budget line id, see :data:`qzfp.i18n.BUDGET_LINES`) and
        ``amount_yuan`` [yuan]; other columns (county, funder ...) are summed over.
    lang : str
        ``"en"`` or ``"zh"``; amounts are shown in thousand yuan (en) or 万元 (zh).
    top_n : int
        The ``top_n`` largest lines (over all years) are shown; the rest are summed as "Other".
    """
    require_columns(df, ["year", "line", "amount_yuan"], "budget")
    wide = df.pivot_table(
        index="year", columns="line", values="amount_yuan", aggfunc="sum", fill_value=0.0
    )
    wide = wide[_line_order(list(wide.columns))]
    totals = wide.sum().abs()
    if len(wide.columns) > top_n:
        keep = [c for c in wide.columns if c in set(totals.nlargest(top_n).index)]
        other = wide.drop(columns=keep).sum(axis=1)
        wide = wide[keep].assign(**{"\0other": other})
    scale = money_scale(lang)
    fig = new_figure(lang, figsize=(8.5, 4.8))
    ax = fig.add_subplot()
    years = wide.index.to_numpy()
    colours = shades(len(wide.columns))
    bottom = np.zeros(len(years))
    for i, line in enumerate(wide.columns):
        vals = wide[line].to_numpy(dtype=float) / scale
        label = t("other", lang) if line == "\0other" else budget_line_label(line, lang)
        draw_bars(
            ax,
            years,
            vals,
            base=bottom.copy(),
            width=0.8,
            facecolor=colours[i],
            edgecolor=INK,
            linewidth=0.3,
            hatch=HATCHES[i % len(HATCHES)],
            label=label,
        )
        bottom += vals
    ax.set_xticks(years, [str(y) for y in years], rotation=90 if len(years) > 12 else 0)
    ax.yaxis.set_major_formatter(thousands_formatter(lang))
    ax.set_xlabel(t("chart.budget.x", lang))
    ax.set_ylabel(t("chart.budget.y", lang))
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(
        handles[::-1],
        labels[::-1],
        fontsize=7,
        frameon=False,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
    )
    style_axes(ax)
    # legend: handle 2 em + gap 0.8 em + the longest label, at 7 pt, plus its padding
    legend_w = text_width(labels, 7) + 2.8 * 7 + 0.4 * 7 + 0.01 * fig.get_size_inches()[0] * 72
    fit_axes(
        fig,
        ax,
        t("chart.budget.title", lang, start_year=int(years.min()), end_year=int(years.max())),
        xrotation=90 if len(years) > 12 else 0,
        right=PAD + legend_w + 8,
    )
    return fig


def waterfall_table(baseline: pd.DataFrame, scenario: pd.DataFrame, year: int) -> pd.DataFrame:
    """Budget per line in one year of two scenarios, as input of :func:`budget_waterfall`.

    Parameters
    ----------
    baseline, scenario : DataFrame
        Budget rows with ``year``, ``line`` and ``amount_yuan`` [yuan].
    year : int
        The year compared.

    Returns
    -------
    DataFrame
        Columns ``line``, ``baseline_yuan``, ``scenario_yuan`` (0 where a line is absent).
    """
    parts = []
    for name, frame in (("baseline_yuan", baseline), ("scenario_yuan", scenario)):
        require_columns(frame, ["year", "line", "amount_yuan"], f"waterfall:{name}")
        parts.append(frame[frame["year"] == year].groupby("line")["amount_yuan"].sum().rename(name))
    out = pd.concat(parts, axis=1).fillna(0.0)
    return out.reindex(_line_order(list(out.index))).rename_axis("line").reset_index()


def budget_waterfall(
    df: pd.DataFrame,
    lang: str,
    *,
    year: int | str = "",
    baseline_name: str | None = None,
    scenario_name: str | None = None,
    baseline_tick: str | None = None,
    scenario_tick: str | None = None,
) -> Figure:
    """Waterfall from the baseline total to the scenario total, one step per changed line.

    Parameters
    ----------
    df : DataFrame
        Columns ``line``, ``baseline_yuan`` and ``scenario_yuan`` [yuan] (see
        :func:`waterfall_table`).  Lines that do not change are left out; steps are ordered by
        the size of the change.
    lang : str
        ``"en"`` or ``"zh"``; amounts in thousand yuan (en) or 万元 (zh).
    year : int
        Year shown in the title.
    baseline_name, scenario_name : str, optional
        Names of the two scenarios in the title (default: "Baseline", "Scenario").
    baseline_tick, scenario_tick : str, optional
        Their labels under the two total bars (default: the names).
    """
    require_columns(df, ["line", "baseline_yuan", "scenario_yuan"], "waterfall")
    base_name = baseline_name or t("baseline", lang)
    scen_name = scenario_name or t("scenario", lang)
    n = len(_waterfall_steps(df, lang)[0]) + 2
    fig = new_figure(lang, figsize=(max(6.0, 1.0 + 0.75 * n), 4.8))
    ax = fig.add_subplot()
    low_free = _draw_waterfall(ax, df, lang, baseline_tick or base_name, scenario_tick or scen_name)
    ax.set_ylabel(t("chart.waterfall.y", lang))
    ax.legend(
        handles=_waterfall_handles(lang),
        fontsize=8,
        frameon=False,
        loc="lower center" if low_free else "upper center",
    )
    fit_axes(
        fig,
        ax,
        t("chart.waterfall.title", lang, baseline=base_name, scenario=scen_name, year=year),
        xticksize=8,  # style_axes sets every tick label to 8 pt
        xrotation=30,
        top_extra=3 + text_height(7),  # the values written above the bars
    )
    return fig


def _waterfall_steps(df: pd.DataFrame, lang: str) -> tuple[pd.Series, float, float]:
    """Changed lines (largest change first) and the two totals, in display units."""
    scale = money_scale(lang)
    g = df.groupby("line")[["baseline_yuan", "scenario_yuan"]].sum()
    delta = (g["scenario_yuan"] - g["baseline_yuan"]) / scale
    delta = delta[delta.abs() > 1e-9]
    delta = delta.reindex(delta.abs().sort_values(ascending=False).index)
    return delta, float(g["baseline_yuan"].sum()) / scale, float(g["scenario_yuan"].sum()) / scale


def _waterfall_handles(lang: str) -> list[Patch]:
    return [
        Patch(facecolor="#9aa9bd", edgecolor=INK, hatch="///",
              label=t("chart.waterfall.increase", lang)),
        Patch(facecolor="white", edgecolor=INK, hatch="\\\\\\",
              label=t("chart.waterfall.decrease", lang)),
    ]  # fmt: skip


def _draw_waterfall(ax: Axes, df: pd.DataFrame, lang: str, base_name: str, scen_name: str) -> bool:
    """Draw one waterfall on ``ax``; True if the lower middle of the axes is free for a legend
    (placing a legend by "best" costs a search over every artist at each draw)."""
    delta, start, end = _waterfall_steps(df, lang)
    labels = [base_name] + [budget_line_label(line, lang) for line in delta.index] + [scen_name]
    x = np.arange(len(labels))
    ax.bar([x[0], x[-1]], [start, end], width=0.6, color=ACCENT, edgecolor=INK, linewidth=0.5)
    level = start
    for i, d in enumerate(delta.to_numpy(dtype=float), start=1):
        up = d > 0
        ax.bar(
            x[i],
            d,
            bottom=level,
            width=0.6,
            color="#9aa9bd" if up else "white",
            edgecolor=INK,
            linewidth=0.6,
            hatch="///" if up else "\\\\\\",
        )
        ax.plot(
            [x[i - 1] + 0.3, x[i] - 0.3], [level, level], color=INK, linewidth=0.6, linestyle=":"
        )
        ax.annotate(
            ("+" if up else "") + format_number(d, lang, 1),
            (x[i], level + d),
            xytext=(0, 3 if up else -10),
            textcoords="offset points",
            ha="center",
            fontsize=7,
        )
        level += d
    ax.plot([x[-2] + 0.3, x[-1] - 0.3], [level, level], color=INK, linewidth=0.6, linestyle=":")
    for xi, v in ((x[0], start), (x[-1], end)):
        ax.annotate(
            format_number(v, lang, 1),
            (xi, v),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            fontsize=7,
        )
    ax.set_xticks(x, labels, rotation=30, ha="right", fontsize=7)
    ax.yaxis.set_major_formatter(thousands_formatter(lang))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=5))
    style_axes(ax)
    levels = start + np.concatenate([[0.0], np.cumsum(delta.to_numpy(dtype=float))])
    _waterfall_axis(ax, float(min(levels.min(), end)), float(max(levels.max(), end)))
    ylo, yhi = ax.get_ylim()
    return bool((levels.min() - ylo) > 0.3 * (yhi - ylo))


def _waterfall_axis(ax: Axes, lo: float, hi: float) -> None:
    """Let the value axis show the changes: when they are small beside the totals, the axis
    starts just below the lowest level (not at zero) and a break mark on the axis says so."""
    span = hi - lo
    if lo <= 0 or hi <= 0:
        return
    pad = max(span * 0.6, hi * 0.002)
    bottom = lo - pad
    if bottom < 0.15 * hi:  # the changes are large: the axis keeps its zero
        return
    ax.set_ylim(bottom, hi + pad * 0.8)
    kw = dict(transform=ax.transAxes, color=INK, clip_on=False, linewidth=0.8)
    for dy in (0.0, 0.025):  # the break mark: two short diagonal strokes across the axis
        ax.plot([-0.012, 0.012], [0.01 + dy, 0.035 + dy], **kw)
