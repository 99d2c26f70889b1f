"""Population charts: age pyramids, the Monte Carlo fan chart, township sizes."""


from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from qzfp.errors import Label, Problem, QzfpError
from qzfp.i18n import (
    format_number,
    has,
    t,
)
from qzfp.reporting.charts.layout import (
    ACCENT,
    INK,
    LABELPAD_PT,
    LIGHT,
    LINESTYLES,
    MARKERS,
    PAD,
    TICK_PT,
    code_names,
    draw_bars,
    fit_axes,
    fit_text,
    new_figure,
    require_columns,
    set_title,
    style_axes,
    text_height,
    text_width,
    thousands_formatter,
    tick_texts,
    title_margin,
)

# --------------------------------------------------------------------------- pyramid
_SEX = {"male": 0, "m": 0, "0": 0, "female": 1, "f": 1, "1": 1}


def _pyramid_table(df: pd.DataFrame, age_group: int) -> pd.DataFrame:
    """Persons by age group (index: first age of the group) and sex (columns 0 male, 1 female)."""
    raw = df["sex"].to_numpy()
    if raw.dtype.kind in "iuf":  # 0/1 codes: no string mapping needed
        sex = np.where(np.isin(raw, (0, 1)), raw, np.nan).astype(float)
    else:
        sex = df["sex"].astype(str).str.lower().map(_SEX).to_numpy(dtype=float)
    if np.isnan(sex).any():
        bad = df["sex"].iloc[int(np.flatnonzero(np.isnan(sex))[0])]
        raise QzfpError(Problem("pyramid:sex", "chart.unknown_sex", value=bad))
    age = pd.to_numeric(df["age"], errors="coerce").to_numpy(dtype=float)
    if np.isnan(age).any():
        bad = df["age"].iloc[int(np.flatnonzero(np.isnan(age))[0])]
        raise QzfpError(Problem("pyramid:age", "expected", what=Label("expect.age"), got=repr(bad)))
    group = (age.astype(int) // age_group) * age_group
    groups, idx = np.unique(group, return_inverse=True)
    persons = df["persons"].to_numpy(dtype=float)
    cells = np.bincount(idx * 2 + sex.astype(int), weights=persons, minlength=2 * len(groups))
    return pd.DataFrame(cells.reshape(len(groups), 2), index=groups, columns=[0, 1])


def _draw_pyramid(
    ax: Axes,
    df: pd.DataFrame,
    lang: str,
    *,
    compare: pd.DataFrame | None,
    compare_year: int | None,
    age_group: int,
    labelsize: float = 8,
    legend: bool = True,
    symmetric: bool = True,
    ticks: bool = True,
) -> None:
    """Draw one pyramid (males left, females right, ``compare`` as an outline) on ``ax``
    (``symmetric``: centre the population axis on 0 now; shared axes do it once at the end;
    ``ticks``: label the age groups, done once for axes sharing them)."""
    table = _pyramid_table(df, age_group)
    groups = table.index.to_numpy()
    top_age = int(df["age"].max())
    labels = [
        f"{g}+"
        if g + age_group > top_age
        else (f"{g}–{g + age_group - 1}" if age_group > 1 else str(g))
        for g in groups
    ]
    y = np.arange(len(groups))
    draw_bars(
        ax,
        y,
        -table[0].to_numpy(dtype=float),
        width=0.9,
        horizontal=True,
        facecolor=ACCENT,
        edgecolor=INK,
        linewidth=0.4,
        hatch="///",
        label=t("sex.male", lang),
    )
    draw_bars(
        ax,
        y,
        table[1].to_numpy(dtype=float),
        width=0.9,
        horizontal=True,
        facecolor=LIGHT,
        edgecolor=INK,
        linewidth=0.4,
        label=t("sex.female", lang),
    )
    if compare is not None:
        require_columns(compare, ["age", "sex", "persons"], "pyramid:compare")
        other = _pyramid_table(compare, age_group).reindex(groups).fillna(0.0)
        edges = np.append(y - 0.45, y[-1] + 0.45)
        label = t("chart.pyramid.compare", lang, year=compare_year if compare_year else "")
        for sign, col in ((-1, 0), (1, 1)):
            vals = sign * other[col].to_numpy()
            ax.stairs(
                vals,
                edges,
                orientation="horizontal",
                color=INK,
                linewidth=1.4,
                linestyle="--",
                baseline=None,
                label=label if col == 0 else None,
            )
    ax.set_ylim(-0.6, len(y) - 0.4)
    if ticks:
        ax.set_yticks(y, labels)
    else:
        ax.set_yticks([])
    ax.axvline(0, color=INK, linewidth=0.8)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=4 if legend else 3, symmetric=True))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: format_number(abs(v), lang)))
    if symmetric:
        lim = ax.get_xlim()
        m = max(abs(lim[0]), abs(lim[1]))
        ax.set_xlim(-m, m)
    if legend:
        ax.legend(loc="upper right", fontsize=labelsize, frameon=False)
    style_axes(ax, grid="x")
    ax.tick_params(labelsize=labelsize)


def population_pyramid(
    df: pd.DataFrame,
    lang: str,
    *,
    place: str = "",
    year: int | None = None,
    compare: pd.DataFrame | None = None,
    compare_year: int | None = None,
    age_group: int = 5,
) -> Figure:
    """Population by age and sex, males left and females right.

    Parameters
    ----------
    df : DataFrame
        Columns ``age`` (int, single year; the highest age is open-ended, e.g. 100 = 100+),
        ``sex`` (``"male"``/``"female"`` or 0/1) and ``persons`` [persons]; rows are summed
        within age groups.
    lang : str
        ``"en"`` or ``"zh"``.
    place : str
        Name shown in the title (e.g. the city or a county).
    year : int, optional
        Year of ``df``, shown in the title.
    compare : DataFrame, optional
        Same columns, drawn as an outline (e.g. a later projection year).
    compare_year : int, optional
        Year of ``compare``, for the legend.
    age_group : int
        Width of the age groups [years]; 1 keeps single ages.
    """
    require_columns(df, ["age", "sex", "persons"], "pyramid")
    fig = new_figure(lang, figsize=(6.5, 5.5))
    ax = fig.add_subplot()
    _draw_pyramid(ax, df, lang, compare=compare, compare_year=compare_year, age_group=age_group)
    xlabel, ylabel = t("chart.pyramid.x", lang), t("chart.pyramid.y", lang)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    title, top = title_margin(
        fig, t("chart.pyramid.title", lang, place=place, year=year if year is not None else "")
    )
    set_title(fig, title)
    fit_text(
        fig,
        left=PAD + text_height(10) + LABELPAD_PT + text_width(tick_texts(ax.yaxis), 8) + TICK_PT,
        right=PAD + text_width(tick_texts(ax.xaxis)[-1:], 8) / 2,
        bottom=PAD + text_height(10) + LABELPAD_PT + text_height(8) + TICK_PT,
        top=top,
    )
    return fig


def population_pyramids(
    panels: Sequence[tuple[str, pd.DataFrame, pd.DataFrame | None]],
    lang: str,
    *,
    year: int | None = None,
    compare_year: int | None = None,
    place: str = "",
    age_group: int = 5,
    ncols: int = 3,
) -> Figure:
    """Several pyramids as small multiples of one figure (e.g. every county of a city).

    One figure draws much faster than one figure per place, and the panels share their
    age axis and population scale, so places can be compared at a glance.

    Parameters
    ----------
    panels : sequence of (str, DataFrame, DataFrame or None)
        Per place: its name (panel title), its pyramid (columns as
        :func:`population_pyramid`) and an optional pyramid drawn as an outline.
    lang : str
        ``"en"`` or ``"zh"``.
    year, compare_year : int, optional
        Years of the bars and of the outlines (figure title and legend).
    place : str
        Name of the whole (e.g. the city), shown in the figure title.
    age_group : int
        Width of the age groups [years].
    ncols : int
        Panels per row.
    """
    if not panels:
        raise QzfpError(Problem("pyramids", "chart.no_places"))
    for name, df, _other in panels:
        require_columns(df, ["age", "sex", "persons"], f"pyramid:{name}")
    ncols = max(1, min(int(ncols), len(panels)))
    nrows = -(-len(panels) // ncols)
    fig = new_figure(lang, figsize=(3.3 * ncols, 3.6 * nrows))
    # No shared axes: every panel gets the same limits below, and only the first column
    # creates age ticks (shared axes would share their ticks too).
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    xlabel = t("chart.pyramid.x", lang)
    for k, (ax, (name, df, other)) in enumerate(zip(axes, panels, strict=False)):
        _draw_pyramid(ax, df, lang, compare=other, compare_year=compare_year, age_group=age_group,
                      labelsize=7, legend=False, symmetric=False, ticks=k % ncols == 0)
        ax.set_title(name, fontsize=9, color=INK, pad=4)
        if k % ncols:
            ax.tick_params(left=False)
        if k >= len(panels) - ncols:
            ax.set_xlabel(xlabel, fontsize=8, labelpad=2)
        else:
            ax.tick_params(labelbottom=False)
    m = max(max(abs(v) for v in ax.get_xlim()) for ax in axes[: len(panels)])
    for ax in axes[: len(panels)]:
        ax.set_xlim(-m, m)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncols=len(labels),
               fontsize=8, frameon=False, borderaxespad=0.3)
    title, top = title_margin(
        fig, t("chart.pyramid.title", lang, place=place, year=year if year is not None else "")
    )
    set_title(fig, title)
    ylabel = t("chart.pyramid.y", lang)
    ytick_w = text_width(tick_texts(axes[0].yaxis), 7)
    fig.supylabel(ylabel, fontsize=9, x=PAD / (fig.get_size_inches()[0] * 72.0), ha="left")
    xticks = tick_texts(axes[0].xaxis)
    fit_text(
        fig,
        left=PAD + text_height(9) + 3 + ytick_w + TICK_PT,
        right=PAD + text_width(xticks[-1:], 7) / 2,
        bottom=PAD + text_height(8) + 10 + text_height(8) + 3 + text_height(7) + TICK_PT,
        top=top + text_height(9) + 4,
        wgap=text_width(xticks[:1], 7) / 2 + text_width(xticks[-1:], 7) / 2 + 8,
        hgap=text_height(7) + TICK_PT + text_height(9) + 4 + 4,
        ncols=ncols,
        nrows=nrows,
    )
    return fig


# --------------------------------------------------------------------------- fan chart
QUANTILES = (0.10, 0.25, 0.50, 0.75, 0.90)
_QCOLS = ("q10", "q25", "q50", "q75", "q90")


def fan_quantiles(draws: pd.DataFrame) -> pd.DataFrame:
    """Quantiles by year of simulated paths.

    Parameters
    ----------
    draws : DataFrame
        Columns ``year``, ``draw`` (path id) and ``value``.

    Returns
    -------
    DataFrame
        Columns ``year``, ``q10``, ``q25``, ``q50``, ``q75``, ``q90`` (one row per year).
    """
    require_columns(draws, ["year", "draw", "value"], "fan chart")
    wide = draws.pivot_table(index="year", columns="draw", values="value", aggfunc="sum")
    return path_quantiles(wide.index.to_numpy(), wide.to_numpy(dtype=float).T)


def path_quantiles(years: np.ndarray, paths: np.ndarray) -> pd.DataFrame:
    """Quantiles by year of simulated paths given as an array (no long table built).

    Parameters
    ----------
    years : numpy.ndarray, shape (T,)
        Years.
    paths : numpy.ndarray, shape (N, T)
        One row per path.

    Returns
    -------
    DataFrame
        Columns ``year``, ``q10``, ``q25``, ``q50``, ``q75``, ``q90`` (as :func:`fan_quantiles`).
    """
    q = np.quantile(np.asarray(paths, dtype=float), QUANTILES, axis=0)
    out = pd.DataFrame(q.T, columns=list(_QCOLS))
    out.insert(0, "year", np.asarray(years))
    return out


def fan_chart(
    df: pd.DataFrame,
    lang: str,
    *,
    place: str = "",
    variants: pd.DataFrame | None = None,
    ylabel_key: str = "chart.fan.y",
) -> Figure:
    """Fan chart of a projection: median line with 25–75 % and 10–90 % bands.

    Parameters
    ----------
    df : DataFrame
        Either quantiles (``year``, ``q10``, ``q25``, ``q50``, ``q75``, ``q90``) or simulated
        paths (``year``, ``draw``, ``value``), in [persons] (or the unit of ``ylabel_key``).
    lang : str
        ``"en"`` or ``"zh"``.
    place : str
        Name shown in the title.
    variants : DataFrame, optional
        Deterministic variants as lines: ``year``, ``variant`` (``medium``, ``low``, ``high``,
        ``constant`` or any name) and ``value``.
    ylabel_key : str
        i18n key of the y-axis label.
    """
    q = df if set(_QCOLS) <= set(df.columns) else fan_quantiles(df)
    require_columns(q, ["year", *_QCOLS], "fan chart")
    q = q.sort_values("year")
    fig = new_figure(lang)
    ax = fig.add_subplot()
    x = q["year"].to_numpy()
    ax.fill_between(
        x,
        q["q10"],
        q["q90"],
        facecolor=LIGHT,
        edgecolor=ACCENT,
        linewidth=0.3,
        hatch="...",
        label=t("chart.fan.band_10_90", lang),
    )
    ax.fill_between(
        x,
        q["q25"],
        q["q75"],
        facecolor="#8fa3bf",
        edgecolor=ACCENT,
        linewidth=0.3,
        label=t("chart.fan.band_25_75", lang),
    )
    ax.plot(x, q["q50"], color=INK, linewidth=2, label=t("chart.fan.median", lang))
    if variants is not None:
        require_columns(variants, ["year", "variant", "value"], "fan chart:variants")
        for i, (name, g) in enumerate(variants.groupby("variant", sort=False)):
            g = g.sort_values("year")
            label = t(f"variant.{name}", lang) if has(f"variant.{name}") else str(name)
            ax.plot(
                g["year"],
                g["value"],
                color=INK,
                linewidth=1,
                linestyle=LINESTYLES[(i + 1) % len(LINESTYLES)],
                marker=MARKERS[i % len(MARKERS)],
                markersize=3.5,
                label=label,
            )
    ax.yaxis.set_major_formatter(thousands_formatter(lang))
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel(t("chart.fan.x", lang))
    ax.set_ylabel(t(ylabel_key, lang))
    ax.legend(fontsize=8, frameon=False, loc="best")
    style_axes(ax)
    fit_axes(fig, ax, t("chart.fan.title", lang, place=place))
    return fig


# --------------------------------------------------------------------------- townships
def township_sizes(
    after: pd.DataFrame,
    lang: str,
    *,
    before: pd.DataFrame | None = None,
    kind: str = "bars",
    bins: int = 12,
) -> Figure:
    """Township populations, optionally before and after the 2006 adjustment.

    Parameters
    ----------
    after : DataFrame
        Columns ``township_code`` and ``population`` [persons] (one row per township; rows of a
        township are summed), optional ``name`` or ``name_zh``/``name_en``.
    lang : str
        ``"en"`` or ``"zh"``.
    before : DataFrame, optional
        Same columns for the townships before the adjustment.
    kind : str
        ``"bars"``: townships sorted by size, one panel per period, dashed line at the mean;
        ``"hist"``: histograms of both periods on common bins with their means.
    bins : int
        Number of histogram bins.
    """
    if kind not in ("bars", "hist"):
        raise QzfpError(Problem("township_sizes:kind", "expected", what=Label("expect.bars_or_hist"), got=repr(kind)))
    tables = _township_tables(after, before, lang)
    styles = {"before": dict(color=LIGHT, hatch="///"), "after": dict(color=ACCENT, hatch="")}
    fig = new_figure(lang, figsize=(8, 4.5))
    title = t("chart.townships.title", lang)
    if kind == "bars":
        _township_bars(fig, tables, styles, lang, title)
    else:
        _township_hist(fig, tables, styles, lang, title, bins)
    return fig


TownshipTable = tuple[str, pd.Series, list[str]]
"""One period of :func:`township_sizes`: its key (``before``/``after``), the population of
each township [persons] largest first (index: township code), and the township names."""


def _township_tables(after: pd.DataFrame, before: pd.DataFrame | None, lang: str) -> list[TownshipTable]:
    """The township populations of each period, summed by township and sorted largest first."""
    periods = [("before", before), ("after", after)] if before is not None else [("after", after)]
    tables = []
    for key, frame in periods:
        require_columns(frame, ["township_code", "population"], f"township sizes:{key}")
        names = dict(
            zip(
                frame["township_code"].astype(str),
                code_names(frame, lang, "township_code"),
                strict=True,
            )
        )
        g = frame.groupby(frame["township_code"].astype(str))["population"].sum()
        g = g.sort_values(ascending=False)
        tables.append((key, g, [names[c] for c in g.index]))
    return tables


def _township_bars(fig: Figure, tables: list[TownshipTable], styles: dict, lang: str, title: str) -> None:
    """One panel per period: townships by size, a dashed line at the mean."""
    axes = fig.subplots(1, len(tables), sharey=True, squeeze=False)[0]
    bottoms = []
    for ax, (key, g, names) in zip(axes, tables, strict=True):
        x = np.arange(len(g))
        draw_bars(ax, x, g.to_numpy(dtype=float), width=0.85, facecolor=styles[key]["color"],
                  hatch=styles[key]["hatch"], edgecolor=INK, linewidth=0.3)
        mean = float(g.mean())
        ax.axhline(
            mean,
            color=INK,
            linestyle="--",
            linewidth=1,
            label=t("chart.townships.mean", lang, value=format_number(mean, lang)),
        )
        if len(g) <= 40:
            ax.set_xticks(x, names, rotation=90)  # drawn at 8 pt, as style_axes sets every tick
            bottoms.append(text_width(names, 8))
        else:
            ax.set_xticks([])
            bottoms.append(0.0)
        ax.set_title(t(f"chart.townships.{key}", lang, n=len(g)), fontsize=9)
        ax.set_xlabel(t("chart.townships.x_rank", lang), fontsize=8)
        ax.yaxis.set_major_formatter(thousands_formatter(lang))
        ax.legend(fontsize=8, frameon=False, loc="upper right")  # bars fall to the right
        style_axes(ax)
    axes[0].set_ylabel(t("chart.townships.y", lang))
    text, top = title_margin(fig, title)
    set_title(fig, text)
    fit_text(
        fig,
        left=PAD + text_height(10) + LABELPAD_PT + text_width(tick_texts(axes[0].yaxis), 8) + TICK_PT,
        right=PAD,
        bottom=PAD + text_height(8) + LABELPAD_PT + max(bottoms) + TICK_PT,
        top=top + text_height(9) + 6,
        wgap=16.0,
        ncols=len(axes),
    )


def _township_hist(fig: Figure, tables: list[TownshipTable], styles: dict, lang: str, title: str,
                   bins: int) -> None:
    """Histograms of the periods on common bins, a line at each period's mean."""
    ax = fig.add_subplot()
    allv = np.concatenate([g.to_numpy(dtype=float) for _, g, _ in tables])
    edges = np.histogram_bin_edges(allv, bins=bins)
    for i, (key, g, _) in enumerate(tables):
        counts, _edges = np.histogram(g.to_numpy(dtype=float), bins=edges)
        draw_bars(
            ax,
            (edges[:-1] + edges[1:]) / 2,
            counts,
            width=float(edges[1] - edges[0]),
            facecolor=styles[key]["color"],
            hatch=styles[key]["hatch"],
            alpha=0.85 if key == "after" else 1.0,
            edgecolor=INK,
            linewidth=0.6,
            label=t(f"chart.townships.{key}", lang, n=len(g)),
        )
        mean = float(g.mean())
        ax.axvline(
            mean,
            color=INK,
            linestyle=LINESTYLES[i + 1],
            linewidth=1.2,
            label=t("chart.townships.mean", lang, value=format_number(mean, lang)),
        )
    ax.xaxis.set_major_formatter(thousands_formatter(lang))
    ax.set_xlabel(t("chart.townships.x_hist", lang))
    ax.set_ylabel(t("chart.townships.y_hist", lang))
    ax.legend(fontsize=8, frameon=False, loc="upper right")  # sizes are right-skewed
    style_axes(ax)
    fit_axes(fig, ax, title)
