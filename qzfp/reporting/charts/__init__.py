"""Charts planners expect, in Chinese or English, readable in black and white.

Every chart function takes tidy :class:`pandas.DataFrame` inputs (columns documented per
function) and ``lang`` (``"en"`` or ``"zh"``), and returns a new
:class:`matplotlib.figure.Figure`.  The functions are pure: they read no files, write none,
and do not touch pyplot's global figure list (so a notebook shows a returned figure once).
The only global state they set is the font chain of :func:`qzfp.i18n.setup_fonts`, so that
Chinese renders on any machine.  Use :func:`save` to write a figure.

All titles, axis labels and legends come from :mod:`qzfp.i18n`.  Series are told apart by
grey level *and* hatch, line style or marker, never by colour alone.

Drawing cost: a report draws these charts for every scenario, so they are built to be cheap
to render.  Margins are set once from the measured width of the labels (:func:`_fit`), not
by a constrained layout that measures every tick label at each draw; the figures carry a
no-op layout engine so that savers do not ask for ``bbox_inches="tight"`` (a second draw);
many bars of one style are one polygon collection (:func:`_bars`), not one patch per bar;
legends have a fixed place (``loc="best"`` searches every artist at each draw).

Place names: wherever a table has codes, it may also carry ``name`` (already in the right
language) or ``name_zh`` and ``name_en`` (picked by ``lang``); otherwise the codes are shown.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.layout_engine import LayoutEngine
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedFormatter, FuncFormatter, MaxNLocator

from qzfp.errors import Problem, QzfpError
from qzfp.i18n import (
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
    """A new figure without a layout engine: every chart sets its margins with :func:`_fit`
    from the measured size of its labels (a constrained layout would measure every tick label
    of every axes twice per draw, the largest cost of drawing a chart)."""
    check_lang(lang)
    setup_fonts(lang)
    return Figure(figsize=figsize, layout=_FixedLayout(), **kw)


class _FixedLayout(LayoutEngine):
    """Layout engine that keeps the margins set by :func:`_fit`.

    A figure with a layout engine is known to fit its canvas, so savers (e.g.
    ``qzfp.reporting.sections.show_figure``) do not ask for ``bbox_inches="tight"``, which would draw
    the figure twice."""

    _adjust_compatible = True
    _colorbar_gridspec = True

    def execute(self, fig: Figure) -> None:
        """Nothing to do: the margins were fixed when the chart was built."""


# --------------------------------------------------------------------------- layout
PAD = 6.0
"""Blank border around a figure [pt]."""
_TICK = 3.5 + 3.5 + 1.0
"""Major tick length plus the gap to its label, plus a point of slack [pt]."""
_LABELPAD = 4.0 + 1.0
"""Gap between tick labels and the axis label, plus a point of slack [pt]."""
_MIN_PANEL = 36.0
"""Smallest width or height of a panel (axes) the margins may leave [pt]."""
_AGG = None


def _renderer():
    global _AGG
    if _AGG is None:
        from matplotlib.backends.backend_agg import RendererAgg

        _AGG = RendererAgg(8, 8, _MEASURE_DPI)
    return _AGG


_MEASURE_DPI = 100.0
"""Resolution text is measured at [dpi]: glyph advances are hinted to whole pixels, so a
text's width depends a little on the resolution; :data:`_SLACK` covers the difference."""
_SLACK = 1.05
"""Factor on measured text widths, for the hinting of other resolutions."""


@functools.lru_cache(maxsize=8192)
def _extent(text: str, size: float, fonts: tuple[str, ...]) -> tuple[float, float]:
    """Width and height [pt] of one line of ``text`` at ``size`` [pt] in the font chain
    ``fonts`` (the configured ``font.sans-serif``, part of the cache key)."""
    w, h, _d = _renderer().get_text_width_height_descent(
        text, FontProperties(size=size), ismath=False
    )
    return float(w) * 72.0 / _MEASURE_DPI * _SLACK, float(h) * 72.0 / _MEASURE_DPI


def _width(texts: Sequence[str] | str, size: float) -> float:
    """Largest width [pt] of ``texts`` (several lines of a text: the widest line)."""
    if isinstance(texts, str):
        texts = [texts]
    fonts = tuple(mpl.rcParams["font.sans-serif"])
    return max(
        (_extent(line, float(size), fonts)[0] for s in texts for line in str(s).split("\n")),
        default=0.0,
    )


def _height(size: float, lines: int = 1) -> float:
    """Height [pt] of ``lines`` lines of text at ``size`` [pt] (CJK glyphs included)."""
    return lines * 1.25 * size if lines else 0.0


def _tick_texts(axis: Axis) -> list[str]:
    """The major tick labels ``axis`` will draw (from its locator and formatter, without
    creating the tick artists)."""
    fmt = axis.get_major_formatter()
    if isinstance(fmt, FixedFormatter):
        return [str(v) for v in fmt.seq]
    lo, hi = sorted(axis.get_view_interval())
    eps = 1e-9 * max(abs(hi - lo), 1e-300)
    locs = [v for v in axis.get_major_locator()() if lo - eps <= v <= hi + eps]
    fmt.set_locs(locs)
    return [str(fmt(v, i)) for i, v in enumerate(locs)]


def _wrap(text: str, size: float, width: float) -> str:
    """``text`` broken into as few lines as fit in ``width`` [pt], each break near the middle
    of what is left (at a space, a bracket or a comma if there is one, else between two
    characters, as Chinese allows)."""
    if "\n" in text or _width(text, size) <= width or len(text) < 2:
        return text
    if width < _width(text[:1], size):  # not even one character fits: leave it to the layout
        return text
    lines = int(np.ceil(_width(text, size) / max(width, 1.0)))
    aim = max(1, len(text) // lines if lines > 1 else len(text) // 2)
    cuts = [i for i, c in enumerate(text) if c in " （(，,、：:" and 0 < i < len(text) - 1]
    i = min(cuts, key=lambda k: abs(k - aim)) if cuts else aim
    if cuts and abs(i - aim) > 0.4 * aim:
        i = aim  # no separator near enough: break between characters
    if text[i] == " ":
        head, tail = text[:i], text[i + 1 :]
    elif text[i] in "，,、：:":
        head, tail = text[: i + 1], text[i + 1 :]
    else:
        head, tail = text[:i], text[i:]
    if _width(head, size) > width:  # still too wide: break the head again
        head = _wrap(head, size, width)
    return f"{head.rstrip()}\n{_wrap(tail.lstrip(), size, width)}"


def _fit(
    fig: Figure,
    *,
    left: float,
    right: float,
    bottom: float,
    top: float,
    wgap: float = 0.0,
    hgap: float = 0.0,
    ncols: int = 1,
    nrows: int = 1,
) -> None:
    """Place the subplots of ``fig`` inside margins given in points (``wgap``/``hgap``: space
    between panels [pt]).  Margins that would leave a panel less than :data:`_MIN_PANEL` are shrunk in
    proportion (very long labels are then clipped rather than the chart refused)."""
    w, h = fig.get_size_inches() * 72.0
    room_w = w - ncols * _MIN_PANEL - (ncols - 1) * wgap
    if left + right > room_w:
        k = max(room_w, 0.0) / (left + right)
        left, right = left * k, right * k
    room_h = h - nrows * _MIN_PANEL - (nrows - 1) * hgap
    if top + bottom > room_h:
        k = max(room_h, 0.0) / (top + bottom)
        top, bottom = top * k, bottom * k
    aw = max(w - left - right - (ncols - 1) * wgap, _MIN_PANEL) / ncols
    ah = max(h - top - bottom - (nrows - 1) * hgap, _MIN_PANEL) / nrows
    fig.subplots_adjust(
        left=left / w,
        right=1.0 - right / w,
        bottom=bottom / h,
        top=1.0 - top / h,
        wspace=wgap / aw,
        hspace=hgap / ah,
    )


def _title_margin(fig: Figure, text: str, size: float = 11.0) -> tuple[str, float]:
    """The suptitle text (wrapped to the figure width) and the top margin it needs [pt]."""
    w = fig.get_size_inches()[0] * 72.0
    text = _wrap(text, size, w - 2 * PAD)
    return text, PAD + _height(size, text.count("\n") + 1) + 4.0


def _fit_axes(
    fig: Figure,
    ax: Axes,
    title: str,
    *,
    ticksize: float = 8.0,
    xticksize: float | None = None,
    xrotation: float = 0.0,
    right: float | None = None,
    top_extra: float = 0.0,
) -> None:
    """Set the suptitle ``title`` (wrapped if too wide) and margins of a one-axes figure from
    its measured tick labels, axis labels and title, so nothing is clipped."""
    text, top = _title_margin(fig, title)
    _title(fig, text)
    xsize = ticksize if xticksize is None else xticksize
    yticks, xticks = _tick_texts(ax.yaxis), _tick_texts(ax.xaxis)
    left = PAD + _width(yticks, ticksize) + _TICK
    fig_w, fig_h = fig.get_size_inches() * 72.0
    rad = np.deg2rad(xrotation)
    widths = [_width(x, xsize) for x in xticks] or [0.0]
    tick_h = max(w * np.sin(rad) for w in widths) + _height(xsize) * np.cos(rad) if xticks else 0

    def bottom_margin() -> float:
        b = PAD + tick_h + _TICK
        if ax.get_xlabel():
            lines = ax.get_xlabel().count("\n") + 1
            b += _height(ax.xaxis.label.get_fontsize(), lines) + _LABELPAD
        return b

    # An axis label longer than its axis goes on several lines: the y label within the
    # height the x tick labels leave (less a line, should the x label wrap), the x label
    # within the width the y label leaves.
    ylab, xlab = ax.yaxis.label, ax.xaxis.label
    if ylab.get_text():
        room = fig_h - top - top_extra - bottom_margin() - _height(xlab.get_fontsize())
        ylab.set_text(_wrap(ylab.get_text(), ylab.get_fontsize(), max(room, _MIN_PANEL)))
        left += _height(ylab.get_fontsize(), ylab.get_text().count("\n") + 1) + _LABELPAD
    if xlab.get_text():
        xlab.set_text(_wrap(xlab.get_text(), xlab.get_fontsize(), fig_w - left))
    bottom = bottom_margin()
    if right is None:
        right = PAD + (widths[-1] / 2 if xrotation == 0 else 0.0)
    if 0 < xrotation < 90 and xticks:  # labels hang left of their tick (ha="right")
        lo, hi = ax.get_xlim()
        first = float(ax.get_xticks()[0])
        offset = (fig_w - left - right) * (first - lo) / (hi - lo)
        left = max(left, PAD + widths[0] * np.cos(rad) - offset + 2)
    _fit(fig, left=left, right=right, bottom=bottom, top=top + top_extra)
    if xrotation == 0 and len(xticks) > 2 and not isinstance(ax.xaxis.get_major_formatter(),
                                                             FixedFormatter):
        # numeric tick labels closer than 8 pt to each other: fewer ticks
        lo, hi = ax.get_xlim()
        locs = [v for v in ax.xaxis.get_major_locator()() if min(lo, hi) <= v <= max(lo, hi)]
        room = fig_w - left - right
        gaps = [
            abs(b - a) / abs(hi - lo) * room - (wa + wb) / 2
            for a, b, wa, wb in zip(locs, locs[1:], widths, widths[1:], strict=False)
        ]
        if len(locs) == len(widths) and gaps and min(gaps) < 8.0:
            nbins = max(2, int(room // (max(widths) + 8.0)) - 1)
            ax.xaxis.set_major_locator(MaxNLocator(nbins=nbins, steps=[1, 2, 2.5, 5, 10]))


def _bars(
    ax: Axes,
    pos: np.ndarray,
    length: np.ndarray,
    *,
    base: np.ndarray | float = 0.0,
    width: float = 0.8,
    horizontal: bool = False,
    **style,
) -> PolyCollection:
    """Bars as ONE artist (a :class:`~matplotlib.collections.PolyCollection`; one hatch and
    one colour for all): ``pos`` centres, ``length`` lengths from ``base``, ``width`` [data
    units].  Much cheaper to build and draw than one Rectangle per bar."""
    pos = np.asarray(pos, dtype=float)
    length = np.asarray(length, dtype=float)
    base = np.broadcast_to(np.asarray(base, dtype=float), pos.shape)
    a, b = pos - width / 2, pos + width / 2
    c, d = base, base + length
    if horizontal:
        verts = np.stack([np.c_[c, a], np.c_[d, a], np.c_[d, b], np.c_[c, b]], axis=1)
    else:
        verts = np.stack([np.c_[a, c], np.c_[b, c], np.c_[b, d], np.c_[a, d]], axis=1)
    coll = PolyCollection(verts, closed=True, **style)
    ax.add_collection(coll, autolim=False)
    if len(verts):
        ax.update_datalim(verts.reshape(-1, 2))
    sticky = coll.sticky_edges.x if horizontal else coll.sticky_edges.y
    if np.all(base == 0):
        sticky.append(0.0)
    ax.autoscale_view()
    return coll


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
    """Persons by age group (index: first age of the group) and sex (columns 0 male, 1 female)."""
    raw = df["sex"].to_numpy()
    if raw.dtype.kind in "iuf":  # 0/1 codes: no string mapping needed
        sex = np.where(np.isin(raw, (0, 1)), raw, np.nan).astype(float)
    else:
        sex = df["sex"].astype(str).str.lower().map(_SEX).to_numpy(dtype=float)
    if np.isnan(sex).any():
        bad = df["sex"].iloc[int(np.flatnonzero(np.isnan(sex))[0])]
        raise QzfpError(Problem("pyramid:sex", f"unknown sex {bad!r}; expected male/female or 0/1"))
    age = pd.to_numeric(df["age"], errors="coerce").to_numpy(dtype=float)
    if np.isnan(age).any():
        bad = df["age"].iloc[int(np.flatnonzero(np.isnan(age))[0])]
        raise QzfpError(Problem("pyramid:age", f"expected an age in whole years, got {bad!r}"))
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
    _bars(
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
    _bars(
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
    xlabel, ylabel = t("chart.pyramid.x", lang), t("chart.pyramid.y", lang)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    title, top = _title_margin(
        fig, t("chart.pyramid.title", lang, place=place, year=year if year is not None else "")
    )
    _title(fig, title)
    _fit(
        fig,
        left=PAD + _height(10) + _LABELPAD + _width(_tick_texts(ax.yaxis), 8) + _TICK,
        right=PAD + _width(_tick_texts(ax.xaxis)[-1:], 8) / 2,
        bottom=PAD + _height(10) + _LABELPAD + _height(8) + _TICK,
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
        raise QzfpError(Problem("pyramids", "no places to plot"))
    for name, df, _other in panels:
        _require(df, ["age", "sex", "persons"], f"pyramid:{name}")
    ncols = max(1, min(int(ncols), len(panels)))
    nrows = -(-len(panels) // ncols)
    fig = _figure(lang, figsize=(3.3 * ncols, 3.6 * nrows))
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
    title, top = _title_margin(
        fig, t("chart.pyramid.title", lang, place=place, year=year if year is not None else "")
    )
    _title(fig, title)
    ylabel = t("chart.pyramid.y", lang)
    ytick_w = _width(_tick_texts(axes[0].yaxis), 7)
    fig.supylabel(ylabel, fontsize=9, x=PAD / (fig.get_size_inches()[0] * 72.0), ha="left")
    xticks = _tick_texts(axes[0].xaxis)
    _fit(
        fig,
        left=PAD + _height(9) + 3 + ytick_w + _TICK,
        right=PAD + _width(xticks[-1:], 7) / 2,
        bottom=PAD + _height(8) + 10 + _height(8) + 3 + _height(7) + _TICK,
        top=top + _height(9) + 4,
        wgap=_width(xticks[:1], 7) / 2 + _width(xticks[-1:], 7) / 2 + 8,
        hgap=_height(7) + _TICK + _height(9) + 4 + 4,
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
    _require(draws, ["year", "draw", "value"], "fan chart")
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
    _fit_axes(fig, ax, t("chart.fan.title", lang, place=place))
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
    title = t("chart.townships.title", lang)
    if kind == "bars":
        axes = fig.subplots(1, len(tables), sharey=True, squeeze=False)[0]
        bottoms = []
        for ax, (key, g, names) in zip(axes, tables, strict=True):
            x = np.arange(len(g))
            _bars(ax, x, g.to_numpy(dtype=float), width=0.85, facecolor=styles[key]["color"],
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
                ax.set_xticks(x, names, rotation=90)  # drawn at 8 pt, as _style sets every tick
                bottoms.append(_width(names, 8))
            else:
                ax.set_xticks([])
                bottoms.append(0.0)
            ax.set_title(t(f"chart.townships.{key}", lang, n=len(g)), fontsize=9)
            ax.set_xlabel(t("chart.townships.x_rank", lang), fontsize=8)
            ax.yaxis.set_major_formatter(_thousands(lang))
            ax.legend(fontsize=8, frameon=False, loc="upper right")  # bars fall to the right
            _style(ax)
        axes[0].set_ylabel(t("chart.townships.y", lang))
        text, top = _title_margin(fig, title)
        _title(fig, text)
        _fit(
            fig,
            left=PAD + _height(10) + _LABELPAD + _width(_tick_texts(axes[0].yaxis), 8) + _TICK,
            right=PAD,
            bottom=PAD + _height(8) + _LABELPAD + max(bottoms) + _TICK,
            top=top + _height(9) + 6,
            wgap=16.0,
            ncols=len(axes),
        )
    else:
        ax = fig.add_subplot()
        allv = np.concatenate([g.to_numpy(dtype=float) for _, g, _ in tables])
        edges = np.histogram_bin_edges(allv, bins=bins)
        for i, (key, g, _) in enumerate(tables):
            counts, _edges = np.histogram(g.to_numpy(dtype=float), bins=edges)
            _bars(
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
        ax.xaxis.set_major_formatter(_thousands(lang))
        ax.set_xlabel(t("chart.townships.x_hist", lang))
        ax.set_ylabel(t("chart.townships.y_hist", lang))
        ax.legend(fontsize=8, frameon=False, loc="upper right")  # sizes are right-skewed
        _style(ax)
        _fit_axes(fig, ax, title)
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
        _bars(
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
    # legend: handle 2 em + gap 0.8 em + the longest label, at 7 pt, plus its padding
    legend_w = _width(labels, 7) + 2.8 * 7 + 0.4 * 7 + 0.01 * fig.get_size_inches()[0] * 72
    _fit_axes(
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
    n = len(_waterfall_steps(df, lang)[0]) + 2
    fig = _figure(lang, figsize=(max(6.0, 1.0 + 0.75 * n), 4.8))
    ax = fig.add_subplot()
    low_free = _draw_waterfall(ax, df, lang, base_name, scen_name)
    ax.set_ylabel(t("chart.waterfall.y", lang))
    ax.legend(
        handles=_waterfall_handles(lang),
        fontsize=8,
        frameon=False,
        loc="lower center" if low_free else "upper center",
    )
    _fit_axes(
        fig,
        ax,
        t("chart.waterfall.title", lang, baseline=base_name, scenario=scen_name, year=year),
        xticksize=8,  # _style sets every tick label to 8 pt
        xrotation=30,
        top_extra=3 + _height(7),  # the values written above the bars
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
    ax.yaxis.set_major_formatter(_thousands(lang))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=5))
    _style(ax)
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
    for col, face, hatch in (("low", LIGHT, "///"), ("high", ACCENT, "")):
        _bars(
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
    ax.xaxis.set_major_formatter(_thousands(lang))
    ax.set_xlabel(t("chart.tornado.x", lang, outcome=outcome_label))
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    _style(ax, grid="x")
    _fit_axes(fig, ax, t("chart.tornado.title", lang, outcome=outcome_label))
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
    xl, yl = _any_label(x, lang), _any_label(y, lang)
    vl = value_label or _any_label(value, lang)
    ax.set_xlabel(xl)
    ax.set_ylabel(yl)
    cax = fig.add_axes((0.9, 0.1, 0.02, 0.8))
    cbar = fig.colorbar(im, cax=cax)
    cbar.ax.tick_params(labelsize=7)
    cbar.ax.yaxis.set_major_formatter(_thousands(lang))
    ax.tick_params(labelsize=8)
    bar_w, gap = 10.0, 12.0
    right = PAD + _width(_tick_texts(cbar.ax.yaxis), 7) + _TICK + bar_w + gap
    _fit_axes(fig, ax, t("chart.heatmap.title", lang, value=vl, x=xl, y=yl), right=right)
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
    _require(df, [x, value], "sweep line")
    g = df.groupby(x)[value].sum().sort_index()
    fig = _figure(lang, figsize=(6.0, 3.6))
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
    ax.yaxis.set_major_formatter(_thousands(lang))
    xl, vl = _any_label(x, lang), _any_label(value, lang)
    ax.set_xlabel(xl)
    ax.set_ylabel(vl)
    _style(ax)
    _fit_axes(fig, ax, t("chart.sweep_line.title", lang, value=vl, x=xl), top_extra=_height(7))
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
    labelled = len(d) <= 60
    # a labelled bar needs room for its name; unlabelled bars need no more than 11 inches
    fig = _figure(lang, figsize=(max(6.0, 1.5 + 0.22 * len(d)) if labelled else 11.0, 4.5))
    ax = fig.add_subplot()
    x = np.arange(len(d))
    _bars(ax, x[short], ratio[short], width=0.8, facecolor=ACCENT, edgecolor=INK, linewidth=0.4,
          hatch="xxx")
    _bars(ax, x[~short], ratio[~short], width=0.8, facecolor=LIGHT, edgecolor=INK, linewidth=0.4)
    ax.axhline(1.0, color=INK, linestyle="--", linewidth=1.2)
    if labelled:
        ax.set_xticks(x, names, rotation=90)  # drawn at 8 pt (_style)
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
    _style(ax)
    _fit_axes(fig, ax, t("chart.wisn.title", lang, year=year), xticksize=8,  # _style: 8 pt
              xrotation=90 if labelled else 0)
    return fig


__all__ = [
    "ACCENT",
    "CMAP",
    "HATCHES",
    "budget_stacked",
    "budget_waterfall",
    "fan_chart",
    "fan_quantiles",
    "path_quantiles",
    "money_scale",
    "population_pyramid",
    "population_pyramids",
    "save",
    "shades",
    "sweep_heatmap",
    "tornado",
    "township_sizes",
    "waterfall_table",
    "wisn_ratio_chart",
]
