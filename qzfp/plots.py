"""Charts planners expect, in Chinese or English, readable in black and white.

Every chart function takes tidy :class:`pandas.DataFrame` inputs (columns documented per
function) and ``lang`` (``"en"`` or ``"zh"``), and returns a new
:class:`matplotlib.figure.Figure`.  The functions are pure: they read no files, write none,
and do not touch pyplot's global figure list (so a notebook shows a returned figure once).
The only global state they set is the font chain of :func:`qzfp.i18n.setup_fonts`, so that
Chinese renders on any machine.  Use :func:`save` to write a figure.

All titles, axis labels and legends come from :mod:`qzfp.i18n`.  Series are told apart by
grey level *and* hatch, line style or marker, never by colour alone.

Place names: wherever a table has codes, it may also carry ``name`` (already in the right
language) or ``name_zh`` and ``name_en`` (picked by ``lang``); otherwise the codes are shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from .errors import Problem, QzfpError
from .i18n import (
    BUDGET_LINES,
    budget_line_label,
    check_lang,
    format_number,
    has,
    param_label,
    setup_fonts,
    t,
)

# --------------------------------------------------------------------------- style
INK = "#1a1a1a"
"""Colour of text, outlines and the main line."""
ACCENT = "#2b4c7e"
"""Dark blue used for a single series (prints as dark grey)."""
LIGHT = "#c8d3e0"
"""Light blue-grey used for a contrasting series (prints as light grey)."""
HATCHES: tuple[str, ...] = ("", "///", "...", "xxx", "\\\\\\", "---", "+++", "ooo", "|||", "***")
"""Hatch cycle combined with grey levels for categorical series."""
LINESTYLES: tuple[str, ...] = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)))
MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X")
CMAP = "cividis"
"""Sequential colour map whose lightness rises monotonically (greyscale-safe)."""
FIGSIZE = (7.5, 4.5)
"""Default figure size [inch]."""


def shades(n: int) -> list[tuple[float, float, float, float]]:
    """``n`` colours of clearly different lightness from :data:`CMAP` (dark to light)."""
    cmap = mpl.colormaps[CMAP]
    return [cmap(v) for v in np.linspace(0.08, 0.92, max(n, 1))][:n]


def _figure(lang: str, figsize: tuple[float, float] = FIGSIZE, **kw) -> Figure:
    check_lang(lang)
    setup_fonts(lang)
    return Figure(figsize=figsize, layout="constrained", **kw)


def _style(ax: Axes, grid: str = "y") -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=8, colors=INK)
    if grid:
        ax.grid(True, axis=grid, color="#d4d4d4", linewidth=0.6)
        ax.set_axisbelow(True)


def _title(fig: Figure, text: str) -> None:
    fig.suptitle(text, fontsize=11, color=INK)


def _thousands(lang: str, scale: float = 1.0) -> FuncFormatter:
    return FuncFormatter(lambda v, _pos: format_number(v / scale, lang))


def money_scale(lang: str) -> float:
    """Divisor of money axes: thousand yuan in English, 万元 (10 000 yuan) in Chinese."""
    return 1e4 if check_lang(lang) == "zh" else 1e3


def _require(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    """Raise a clear error if a chart input lacks columns or is empty."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise QzfpError(
            Problem(what, f"missing column(s) {', '.join(missing)}; expected {', '.join(columns)}")
        )
    if df.empty:
        raise QzfpError(Problem(what, "no rows to plot"))


def _names(df: pd.DataFrame, lang: str, code_col: str) -> list[str]:
    if "name" in df.columns:
        return df["name"].astype(str).tolist()
    col = "name_zh" if lang == "zh" else "name_en"
    if col in df.columns:
        return df[col].astype(str).tolist()
    return df[code_col].astype(str).tolist()


def _any_label(name: str, lang: str) -> str:
    for prefix in ("param", "col", "outcome"):
        if has(f"{prefix}.{name}"):
            return t(f"{prefix}.{name}", lang)
    return str(name)


def save(fig: Figure, path: str | Path, *, dpi: int = 150) -> Path:
    """Write ``fig`` to ``path`` (format from the suffix: .png, .svg, .pdf) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return path


# --------------------------------------------------------------------------- pyramid
_SEX = {"male": 0, "m": 0, "0": 0, "female": 1, "f": 1, "1": 1}


def _pyramid_table(df: pd.DataFrame, age_group: int) -> pd.DataFrame:
    sex = df["sex"].astype(str).str.lower().map(_SEX)
    if sex.isna().any():
        bad = df.loc[sex.isna(), "sex"].iloc[0]
        raise QzfpError(Problem("pyramid:sex", f"unknown sex {bad!r}; expected male/female or 0/1"))
    group = (df["age"].astype(int) // age_group) * age_group
    table = (
        pd.DataFrame({"group": group, "sex": sex.astype(int), "persons": df["persons"]})
        .groupby(["group", "sex"])["persons"]
        .sum()
        .unstack("sex")
        .reindex(columns=[0, 1])
        .fillna(0.0)
    )
    return table


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
    ax.barh(
        y,
        -table[0].to_numpy(),
        height=0.9,
        color=ACCENT,
        edgecolor=INK,
        linewidth=0.4,
        hatch="///",
        label=t("sex.male", lang),
    )
    ax.barh(
        y,
        table[1].to_numpy(),
        height=0.9,
        color=LIGHT,
        edgecolor=INK,
        linewidth=0.4,
        label=t("sex.female", lang),
    )
    if compare is not None:
        _require(compare, ["age", "sex", "persons"], "pyramid:compare")
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
    if ticks:
        ax.set_yticks(y, labels)
    ax.axvline(0, color=INK, linewidth=0.8)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: format_number(abs(v), lang)))
    if symmetric:
        lim = ax.get_xlim()
        m = max(abs(lim[0]), abs(lim[1]))
        ax.set_xlim(-m, m)
    if legend:
        ax.legend(loc="upper right", fontsize=labelsize, frameon=False)
    _style(ax, grid="x")
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
    _require(df, ["age", "sex", "persons"], "pyramid")
    fig = _figure(lang, figsize=(6.5, 5.5))
    ax = fig.add_subplot()
    _draw_pyramid(ax, df, lang, compare=compare, compare_year=compare_year, age_group=age_group)
    ax.set_xlabel(t("chart.pyramid.x", lang))
    ax.set_ylabel(t("chart.pyramid.y", lang))
    _title(fig, t("chart.pyramid.title", lang, place=place, year=year if year is not None else ""))
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
        raise QzfpError(Problem("pyramids", "no places to plot"))
    for name, df, _other in panels:
        _require(df, ["age", "sex", "persons"], f"pyramid:{name}")
    ncols = max(1, min(int(ncols), len(panels)))
    nrows = -(-len(panels) // ncols)
    fig = _figure(lang, figsize=(3.3 * ncols, 3.6 * nrows))
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False).ravel()
    for k, (ax, (name, df, other)) in enumerate(zip(axes, panels, strict=False)):
        _draw_pyramid(ax, df, lang, compare=other, compare_year=compare_year, age_group=age_group,
                      labelsize=7, legend=False, symmetric=False, ticks=k == 0)
        ax.set_title(name, fontsize=9, color=INK)
        if k % ncols:
            ax.tick_params(labelleft=False)
        if k >= len(panels) - ncols:
            ax.set_xlabel(t("chart.pyramid.x", lang), fontsize=8)
    m = max(abs(v) for v in axes[0].get_xlim())  # autoscaled over every (shared) panel
    axes[0].set_xlim(-m, m)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize=8, frameon=False)
    fig.supylabel(t("chart.pyramid.y", lang), fontsize=9)
    _title(fig, t("chart.pyramid.title", lang, place=place, year=year if year is not None else ""))
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
    _require(draws, ["year", "draw", "value"], "fan chart")
    wide = draws.pivot_table(index="year", columns="draw", values="value", aggfunc="sum")
    q = np.quantile(wide.to_numpy(dtype=float), QUANTILES, axis=1)
    out = pd.DataFrame(q.T, columns=list(_QCOLS))
    out.insert(0, "year", wide.index.to_numpy())
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
    _require(q, ["year", *_QCOLS], "fan chart")
    q = q.sort_values("year")
    fig = _figure(lang)
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
        _require(variants, ["year", "variant", "value"], "fan chart:variants")
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
    ax.yaxis.set_major_formatter(_thousands(lang))
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel(t("chart.fan.x", lang))
    ax.set_ylabel(t(ylabel_key, lang))
    ax.legend(fontsize=8, frameon=False, loc="best")
    _style(ax)
    _title(fig, t("chart.fan.title", lang, place=place))
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
        raise QzfpError(Problem("township_sizes:kind", f"expected 'bars' or 'hist', got {kind!r}"))
    periods = [("before", before), ("after", after)] if before is not None else [("after", after)]
    tables = []
    for key, frame in periods:
        _require(frame, ["township_code", "population"], f"township sizes:{key}")
        names = dict(
            zip(
                frame["township_code"].astype(str),
                _names(frame, lang, "township_code"),
                strict=True,
            )
        )
        g = frame.groupby(frame["township_code"].astype(str))["population"].sum()
        g = g.sort_values(ascending=False)
        tables.append((key, g, [names[c] for c in g.index]))
    styles = {"before": dict(color=LIGHT, hatch="///"), "after": dict(color=ACCENT, hatch="")}
    fig = _figure(lang, figsize=(8, 4.5))
    if kind == "bars":
        axes = fig.subplots(1, len(tables), sharey=True, squeeze=False)[0]
        for ax, (key, g, names) in zip(axes, tables, strict=True):
            x = np.arange(len(g))
            ax.bar(x, g.to_numpy(), width=0.85, edgecolor=INK, linewidth=0.3, **styles[key])
            mean = float(g.mean())
            ax.axhline(
                mean,
                color=INK,
                linestyle="--",
                linewidth=1,
                label=t("chart.townships.mean", lang, value=format_number(mean, lang)),
            )
            if len(g) <= 40:
                ax.set_xticks(x, names, rotation=90, fontsize=6)
            else:
                ax.set_xticks([])
            ax.set_title(t(f"chart.townships.{key}", lang, n=len(g)), fontsize=9)
            ax.set_xlabel(t("chart.townships.x_rank", lang), fontsize=8)
            ax.yaxis.set_major_formatter(_thousands(lang))
            ax.legend(fontsize=8, frameon=False)
            _style(ax)
        axes[0].set_ylabel(t("chart.townships.y", lang))
    else:
        ax = fig.add_subplot()
        allv = np.concatenate([g.to_numpy(dtype=float) for _, g, _ in tables])
        edges = np.histogram_bin_edges(allv, bins=bins)
        for i, (key, g, _) in enumerate(tables):
            ax.hist(
                g.to_numpy(dtype=float),
                bins=edges,
                alpha=0.85 if key == "after" else 1.0,
                edgecolor=INK,
                linewidth=0.6,
                label=t(f"chart.townships.{key}", lang, n=len(g)),
                **styles[key],
            )
            mean = float(g.mean())
            ax.axvline(
                mean,
                color=INK,
                linestyle=LINESTYLES[i + 1],
                linewidth=1.2,
                label=t("chart.townships.mean", lang, value=format_number(mean, lang)),
            )
        ax.xaxis.set_major_formatter(_thousands(lang))
        ax.set_xlabel(t("chart.townships.x_hist", lang))
        ax.set_ylabel(t("chart.townships.y_hist", lang))
        ax.legend(fontsize=8, frameon=False)
        _style(ax)
    _title(fig, t("chart.townships.title", lang))
    return fig


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
    _require(df, ["year", "line", "amount_yuan"], "budget")
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
    fig = _figure(lang, figsize=(8.5, 4.8))
    ax = fig.add_subplot()
    years = wide.index.to_numpy()
    colours = shades(len(wide.columns))
    bottom = np.zeros(len(years))
    for i, line in enumerate(wide.columns):
        vals = wide[line].to_numpy(dtype=float) / scale
        label = t("other", lang) if line == "\0other" else budget_line_label(line, lang)
        ax.bar(
            years,
            vals,
            bottom=bottom,
            width=0.8,
            color=colours[i],
            edgecolor=INK,
            linewidth=0.3,
            hatch=HATCHES[i % len(HATCHES)],
            label=label,
        )
        bottom += vals
    ax.set_xticks(years, [str(y) for y in years], rotation=90 if len(years) > 12 else 0)
    ax.yaxis.set_major_formatter(_thousands(lang))
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
    _style(ax)
    _title(
        fig, t("chart.budget.title", lang, start_year=int(years.min()), end_year=int(years.max()))
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
        _require(frame, ["year", "line", "amount_yuan"], f"waterfall:{name}")
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
        Names of the two scenarios (default: "Baseline", "Scenario").
    """
    _require(df, ["line", "baseline_yuan", "scenario_yuan"], "waterfall")
    base_name = baseline_name or t("baseline", lang)
    scen_name = scenario_name or t("scenario", lang)
    scale = money_scale(lang)
    g = df.groupby("line")[["baseline_yuan", "scenario_yuan"]].sum()
    delta = (g["scenario_yuan"] - g["baseline_yuan"]) / scale
    delta = delta[delta.abs() > 1e-9]
    delta = delta.reindex(delta.abs().sort_values(ascending=False).index)
    start = float(g["baseline_yuan"].sum()) / scale
    end = float(g["scenario_yuan"].sum()) / scale
    labels = [base_name] + [budget_line_label(line, lang) for line in delta.index] + [scen_name]
    fig = _figure(lang, figsize=(max(6.0, 1.0 + 0.75 * len(labels)), 4.8))
    ax = fig.add_subplot()
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
    ax.yaxis.set_major_formatter(_thousands(lang))
    ax.set_ylabel(t("chart.waterfall.y", lang))
    ax.legend(
        handles=[
            Patch(
                facecolor="#9aa9bd",
                edgecolor=INK,
                hatch="///",
                label=t("chart.waterfall.increase", lang),
            ),
            Patch(
                facecolor="white",
                edgecolor=INK,
                hatch="\\\\\\",
                label=t("chart.waterfall.decrease", lang),
            ),
        ],
        fontsize=8,
        frameon=False,
    )
    _style(ax)
    _title(fig, t("chart.waterfall.title", lang, baseline=base_name, scenario=scen_name, year=year))
    return fig


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
    _require(df, ["parameter", "low", "high"], "tornado")
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
    fig = _figure(lang, figsize=(7.5, max(3.0, 1.2 + 0.38 * len(d))))
    ax = fig.add_subplot()
    y = np.arange(len(d))
    ax.barh(
        y,
        d["low"],
        height=0.7,
        color=LIGHT,
        edgecolor=INK,
        linewidth=0.5,
        hatch="///",
        label=t("chart.tornado.low", lang, pct=pct_text),
    )
    ax.barh(
        y,
        d["high"],
        height=0.7,
        color=ACCENT,
        edgecolor=INK,
        linewidth=0.5,
        label=t("chart.tornado.high", lang, pct=pct_text),
    )
    ax.axvline(0, color=INK, linewidth=0.8)
    ax.set_yticks(y, labels, fontsize=8)
    ax.xaxis.set_major_formatter(_thousands(lang))
    ax.set_xlabel(t("chart.tornado.x", lang, outcome=outcome_label))
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    _style(ax, grid="x")
    _title(fig, t("chart.tornado.title", lang, outcome=outcome_label))
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
    _require(df, [x, y, value], "heatmap")
    grid = df.pivot_table(index=y, columns=x, values=value, aggfunc="sum").sort_index()
    grid = grid.sort_index(axis=1)
    z = grid.to_numpy(dtype=float) / scale
    fig = _figure(
        lang, figsize=(max(5.0, 1.8 + 0.8 * z.shape[1]), max(3.5, 1.5 + 0.45 * z.shape[0]))
    )
    ax = fig.add_subplot()
    im = ax.imshow(z, cmap=CMAP, aspect="auto", origin="lower")
    lo, hi = np.nanmin(z), np.nanmax(z)
    mid = (lo + hi) / 2
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
    xl, yl = _any_label(x, lang), _any_label(y, lang)
    vl = value_label or _any_label(value, lang)
    ax.set_xlabel(xl)
    ax.set_ylabel(yl)
    cbar = fig.colorbar(im, ax=ax, shrink=0.9)
    cbar.ax.tick_params(labelsize=7)
    cbar.ax.yaxis.set_major_formatter(_thousands(lang))
    ax.tick_params(labelsize=8)
    _title(fig, t("chart.heatmap.title", lang, value=vl, x=xl, y=yl))
    return fig


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
    _require(df, ["township_code", "wisn_ratio"], "wisn")
    d = df.sort_values("wisn_ratio", kind="stable").reset_index(drop=True)
    names = _names(d, lang, "township_code")
    ratio = d["wisn_ratio"].to_numpy(dtype=float)
    short = ratio < 1.0
    fig = _figure(lang, figsize=(max(6.0, 1.5 + 0.22 * len(d)), 4.5))
    ax = fig.add_subplot()
    x = np.arange(len(d))
    ax.bar(
        x[short], ratio[short], width=0.8, color=ACCENT, edgecolor=INK, linewidth=0.4, hatch="xxx"
    )
    ax.bar(x[~short], ratio[~short], width=0.8, color=LIGHT, edgecolor=INK, linewidth=0.4)
    ax.axhline(1.0, color=INK, linestyle="--", linewidth=1.2)
    if len(d) <= 60:
        ax.set_xticks(x, names, rotation=90, fontsize=6)
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
    )
    _style(ax)
    _title(fig, t("chart.wisn.title", lang, year=year))
    return fig


__all__ = [
    "ACCENT",
    "CMAP",
    "HATCHES",
    "budget_stacked",
    "budget_waterfall",
    "fan_chart",
    "fan_quantiles",
    "money_scale",
    "population_pyramid",
    "save",
    "shades",
    "sweep_heatmap",
    "tornado",
    "township_sizes",
    "waterfall_table",
    "wisn_ratio_chart",
]
