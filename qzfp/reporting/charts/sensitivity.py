"""Sensitivity and sweep charts: the tornado, the sweep heatmap, the sweep line."""


from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from qzfp.i18n import (
    format_number,
    has,
    param_label,
    t,
)
from qzfp.reporting.charts.layout import (
    ACCENT,
    CMAP,
    INK,
    LIGHT,
    PAD,
    TICK_PT,
    any_label,
    draw_bars,
    fit_axes,
    new_figure,
    require_columns,
    style_axes,
    text_height,
    text_width,
    thousands_formatter,
    tick_texts,
)


# --------------------------------------------------------------------------- tornado
def tornado(
    df: pd.DataFrame,
    lang: str,
    *,
    outcome: str = "total_budget",
    pct: float = 10.0,
    max_bars: int = 15,
) -> Figure:
    """Tornado of sensitivities, the assumption with the largest effect on top.

    Parameters
    ----------
    df : DataFrame
        Columns ``parameter`` (rulebook path or any name), ``low`` and ``high``: change of the
        outcome when the assumption is lowered / raised by ``pct`` per cent [outcome unit,
        e.g. yuan].  Optional ``label`` overrides the parameter's label.
    lang : str
        ``"en"`` or ``"zh"``.
    outcome : str
        Outcome key (``total_budget``, ``posts``, ``population`` or any text).
    pct : float
        The ± change applied [%], for the legend.
    max_bars : int
        Only the ``max_bars`` largest effects are shown.
    """
    require_columns(df, ["parameter", "low", "high"], "tornado")
    d = df.copy()
    d["_size"] = np.maximum(d["low"].abs(), d["high"].abs())
    d = d.sort_values("_size", ascending=True).tail(max_bars)
    labels = (
        d["label"].astype(str).tolist()
        if "label" in d.columns
        else [param_label(p, lang) for p in d["parameter"]]
    )
    outcome_label = t(f"outcome.{outcome}", lang) if has(f"outcome.{outcome}") else outcome
    pct_text = format_number(pct, lang, 0 if float(pct).is_integer() else 1)
    fig = new_figure(lang, figsize=(7.5, max(3.0, 1.2 + 0.38 * len(d))))
    ax = fig.add_subplot()
    y = np.arange(len(d))
    for col, face, hatch in (("low", LIGHT, "///"), ("high", ACCENT, "")):
        draw_bars(
            ax,
            y,
            d[col].to_numpy(dtype=float),
            width=0.7,
            horizontal=True,
            facecolor=face,
            edgecolor=INK,
            linewidth=0.5,
            hatch=hatch,
            label=t(f"chart.tornado.{col}", lang, pct=pct_text),
        )
    ax.axvline(0, color=INK, linewidth=0.8)
    ax.set_yticks(y, labels, fontsize=8)
    ax.xaxis.set_major_formatter(thousands_formatter(lang))
    ax.set_xlabel(t("chart.tornado.x", lang, outcome=outcome_label))
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    style_axes(ax, grid="x")
    fit_axes(fig, ax, t("chart.tornado.title", lang, outcome=outcome_label))
    return fig


# --------------------------------------------------------------------------- heatmap
def sweep_heatmap(
    df: pd.DataFrame,
    lang: str,
    *,
    x: str,
    y: str,
    value: str,
    decimals: int = 0,
    scale: float = 1.0,
    value_label: str | None = None,
) -> Figure:
    """Annotated heatmap of a sweep over two parameters.

    Parameters
    ----------
    df : DataFrame
        Long table with columns ``x``, ``y`` and ``value`` (names given by the arguments),
        one row per grid point (duplicates are summed).
    lang : str
        ``"en"`` or ``"zh"``.
    x, y : str
        Column names of the two swept parameters (rulebook paths get their i18n label).
    value : str
        Column of the outcome shown in the cells.
    decimals : int
        Decimals of the cell annotations.
    scale : float
        Divisor applied to the values before display (e.g. 1e4 for 万元).
    value_label : str, optional
        Title text for the value (default: its i18n label or the column name).
    """
    require_columns(df, [x, y, value], "heatmap")
    grid = df.pivot_table(index=y, columns=x, values=value, aggfunc="sum").sort_index()
    grid = grid.sort_index(axis=1)
    z = grid.to_numpy(dtype=float) / scale
    fig = new_figure(
        lang, figsize=(max(5.0, 1.8 + 0.8 * z.shape[1]), max(3.5, 1.5 + 0.45 * z.shape[0]))
    )
    ax = fig.add_subplot()
    vmin, vmax = _honest_range(z)
    im = ax.imshow(z, cmap=CMAP, aspect="auto", origin="lower", vmin=vmin, vmax=vmax)
    mid = (vmin + vmax) / 2
    for (i, j), v in np.ndenumerate(z):
        ax.text(
            j,
            i,
            format_number(v, lang, decimals),
            ha="center",
            va="center",
            fontsize=7,
            color="white" if v < mid else INK,
        )
    ax.set_xticks(
        np.arange(z.shape[1]),
        [format_number(v, lang, 2).rstrip("0").rstrip(".") for v in grid.columns],
    )
    ax.set_yticks(
        np.arange(z.shape[0]),
        [format_number(v, lang, 2).rstrip("0").rstrip(".") for v in grid.index],
    )
    xl, yl = any_label(x, lang), any_label(y, lang)
    vl = value_label or any_label(value, lang)
    ax.set_xlabel(xl)
    ax.set_ylabel(yl)
    cax = fig.add_axes((0.9, 0.1, 0.02, 0.8))
    cbar = fig.colorbar(im, cax=cax)
    cbar.ax.tick_params(labelsize=7)
    cbar.ax.yaxis.set_major_formatter(thousands_formatter(lang))
    ax.tick_params(labelsize=8)
    bar_w, gap = 10.0, 12.0
    right = PAD + text_width(tick_texts(cbar.ax.yaxis), 7) + TICK_PT + bar_w + gap
    fit_axes(fig, ax, t("chart.heatmap.title", lang, value=vl, x=xl, y=yl), right=right)
    box = ax.get_position()
    fw = fig.get_size_inches()[0] * 72.0
    cax.set_position((box.x1 + gap / fw, box.y0 + 0.05 * box.height, bar_w / fw, 0.9 * box.height))
    return fig


def _honest_range(z: np.ndarray, min_relative_span: float = 0.1) -> tuple[float, float]:
    """Colour range of a heatmap that does not exaggerate tiny differences.

    The range spans the values, but at least ``min_relative_span`` of the largest absolute
    value (centred on the values): cells that differ by 0.1 % look alike, as they are.
    """
    lo, hi = float(np.nanmin(z)), float(np.nanmax(z))
    need = min_relative_span * max(abs(lo), abs(hi))
    if hi - lo >= need or need == 0:
        return (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)
    mid = (lo + hi) / 2
    return mid - need / 2, mid + need / 2


def sweep_line(df: pd.DataFrame, lang: str, *, x: str, value: str, decimals: int = 0) -> Figure:
    """A one-lever sweep: the outcome ``value`` against the lever ``x`` (line with markers,
    each point labelled with its value)."""
    require_columns(df, [x, value], "sweep line")
    g = df.groupby(x)[value].sum().sort_index()
    fig = new_figure(lang, figsize=(6.0, 3.6))
    ax = fig.add_subplot()
    xs, ys = g.index.to_numpy(dtype=float), g.to_numpy(dtype=float)
    ax.plot(xs, ys, color=ACCENT, marker="o", linewidth=1.2, markersize=4)
    for xi, yi in zip(xs, ys, strict=True):
        ax.annotate(format_number(yi, lang, decimals), (xi, yi), xytext=(0, 5), textcoords="offset points",
                    ha="center", fontsize=7)
    lo, hi = _honest_range(ys.reshape(1, -1))
    pad = (hi - lo) * 0.25
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xticks(xs, [format_number(v, lang, 2).rstrip("0").rstrip(".") for v in xs])
    ax.yaxis.set_major_formatter(thousands_formatter(lang))
    xl, vl = any_label(x, lang), any_label(value, lang)
    ax.set_xlabel(xl)
    ax.set_ylabel(vl)
    style_axes(ax)
    fit_axes(fig, ax, t("chart.sweep_line.title", lang, value=vl, x=xl), top_extra=text_height(7))
    return fig
