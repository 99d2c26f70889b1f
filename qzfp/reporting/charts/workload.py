"""Workload charts: the WISN ratio of the townships."""


from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from qzfp.i18n import (
    t,
)
from qzfp.reporting.charts.layout import (
    ACCENT,
    INK,
    LIGHT,
    code_names,
    draw_bars,
    fit_axes,
    new_figure,
    require_columns,
    style_axes,
)


# --------------------------------------------------------------------------- WISN
def wisn_ratio_chart(df: pd.DataFrame, lang: str, *, year: int | str = "") -> Figure:
    """WISN ratio by township: bars sorted from the worst, a line at 1, shortfalls hatched.

    Parameters
    ----------
    df : DataFrame
        Columns ``township_code`` and ``wisn_ratio`` (staff in post / staff required
        [dimensionless]); optional ``name`` or ``name_zh``/``name_en``.
    lang : str
        ``"en"`` or ``"zh"``.
    year : int
        Year shown in the title.
    """
    require_columns(df, ["township_code", "wisn_ratio"], "wisn")
    d = df.sort_values("wisn_ratio", kind="stable").reset_index(drop=True)
    names = code_names(d, lang, "township_code")
    ratio = d["wisn_ratio"].to_numpy(dtype=float)
    short = ratio < 1.0
    labelled = len(d) <= 60
    # a labelled bar needs room for its name; unlabelled bars need no more than 11 inches
    fig = new_figure(lang, figsize=(max(6.0, 1.5 + 0.22 * len(d)) if labelled else 11.0, 4.5))
    ax = fig.add_subplot()
    x = np.arange(len(d))
    draw_bars(ax, x[short], ratio[short], width=0.8, facecolor=ACCENT, edgecolor=INK, linewidth=0.4,
          hatch="xxx")
    draw_bars(ax, x[~short], ratio[~short], width=0.8, facecolor=LIGHT, edgecolor=INK, linewidth=0.4)
    ax.axhline(1.0, color=INK, linestyle="--", linewidth=1.2)
    if labelled:
        ax.set_xticks(x, names, rotation=90)  # drawn at 8 pt (style_axes)
    else:
        ax.set_xticks([])
    ax.set_xlabel(t("chart.wisn.x", lang))
    ax.set_ylabel(t("chart.wisn.y", lang))
    ax.legend(
        handles=[
            Patch(facecolor=ACCENT, edgecolor=INK, hatch="xxx", label=t("wisn.shortfall", lang)),
            Patch(facecolor=LIGHT, edgecolor=INK, label=t("wisn.adequate", lang)),
            Line2D([], [], color=INK, linestyle="--", label=t("chart.wisn.line", lang)),
        ],
        fontsize=8,
        frameon=False,
        loc="upper left",  # bars are sorted from the lowest ratio
    )
    style_axes(ax)
    fit_axes(fig, ax, t("chart.wisn.title", lang, year=year), xticksize=8,  # style_axes: 8 pt
              xrotation=90 if labelled else 0)
    return fig
