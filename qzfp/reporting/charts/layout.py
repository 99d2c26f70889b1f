"""What every chart shares: style (grey levels, hatches), figure, fixed layout measured from
the texts, axes, formatters, place names, :func:`save`."""


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
from matplotlib.ticker import FixedFormatter, FuncFormatter, MaxNLocator

from qzfp.errors import Problem, QzfpError
from qzfp.i18n import (
    check_lang,
    format_number,
    has,
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


def new_figure(lang: str, figsize: tuple[float, float] = FIGSIZE, **kw) -> Figure:
    """A new figure without a layout engine: every chart sets its margins with :func:`fit_text`
    from the measured size of its labels (a constrained layout would measure every tick label
    of every axes twice per draw, the largest cost of drawing a chart)."""
    check_lang(lang)
    setup_fonts(lang)
    return Figure(figsize=figsize, layout=_FixedLayout(), **kw)


class _FixedLayout(LayoutEngine):
    """Layout engine that keeps the margins set by :func:`fit_text`.

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
TICK_PT = 3.5 + 3.5 + 1.0
"""Major tick length plus the gap to its label, plus a point of slack [pt]."""
LABELPAD_PT = 4.0 + 1.0
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


def text_width(texts: Sequence[str] | str, size: float) -> float:
    """Largest width [pt] of ``texts`` (several lines of a text: the widest line)."""
    if isinstance(texts, str):
        texts = [texts]
    fonts = tuple(mpl.rcParams["font.sans-serif"])
    return max(
        (_extent(line, float(size), fonts)[0] for s in texts for line in str(s).split("\n")),
        default=0.0,
    )


def text_height(size: float, lines: int = 1) -> float:
    """Height [pt] of ``lines`` lines of text at ``size`` [pt] (CJK glyphs included)."""
    return lines * 1.25 * size if lines else 0.0


def tick_texts(axis: Axis) -> list[str]:
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
    if "\n" in text or text_width(text, size) <= width or len(text) < 2:
        return text
    if width < text_width(text[:1], size):  # not even one character fits: leave it to the layout
        return text
    lines = int(np.ceil(text_width(text, size) / max(width, 1.0)))
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
    if text_width(head, size) > width:  # still too wide: break the head again
        head = _wrap(head, size, width)
    return f"{head.rstrip()}\n{_wrap(tail.lstrip(), size, width)}"


def fit_text(
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


def title_margin(fig: Figure, text: str, size: float = 11.0) -> tuple[str, float]:
    """The suptitle text (wrapped to the figure width) and the top margin it needs [pt]."""
    w = fig.get_size_inches()[0] * 72.0
    text = _wrap(text, size, w - 2 * PAD)
    return text, PAD + text_height(size, text.count("\n") + 1) + 4.0


def fit_axes(
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
    text, top = title_margin(fig, title)
    set_title(fig, text)
    xsize = ticksize if xticksize is None else xticksize
    yticks, xticks = tick_texts(ax.yaxis), tick_texts(ax.xaxis)
    left = PAD + text_width(yticks, ticksize) + TICK_PT
    fig_w, fig_h = fig.get_size_inches() * 72.0
    rad = np.deg2rad(xrotation)
    widths = [text_width(x, xsize) for x in xticks] or [0.0]
    tick_h = max(w * np.sin(rad) for w in widths) + text_height(xsize) * np.cos(rad) if xticks else 0

    def bottom_margin() -> float:
        b = PAD + tick_h + TICK_PT
        if ax.get_xlabel():
            lines = ax.get_xlabel().count("\n") + 1
            b += text_height(ax.xaxis.label.get_fontsize(), lines) + LABELPAD_PT
        return b

    # An axis label longer than its axis goes on several lines: the y label within the
    # height the x tick labels leave (less a line, should the x label wrap), the x label
    # within the width the y label leaves.
    ylab, xlab = ax.yaxis.label, ax.xaxis.label
    if ylab.get_text():
        room = fig_h - top - top_extra - bottom_margin() - text_height(xlab.get_fontsize())
        ylab.set_text(_wrap(ylab.get_text(), ylab.get_fontsize(), max(room, _MIN_PANEL)))
        left += text_height(ylab.get_fontsize(), ylab.get_text().count("\n") + 1) + LABELPAD_PT
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
    fit_text(fig, left=left, right=right, bottom=bottom, top=top + top_extra)
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


def draw_bars(
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


def style_axes(ax: Axes, grid: str = "y") -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=8, colors=INK)
    if grid:
        ax.grid(True, axis=grid, color="#d4d4d4", linewidth=0.6)
        ax.set_axisbelow(True)


def set_title(fig: Figure, text: str) -> None:
    fig.suptitle(text, fontsize=11, color=INK)


def thousands_formatter(lang: str, scale: float = 1.0) -> FuncFormatter:
    return FuncFormatter(lambda v, _pos: format_number(v / scale, lang))


def money_scale(lang: str) -> float:
    """Divisor of money axes: thousand yuan in English, 万元 (10 000 yuan) in Chinese."""
    return 1e4 if check_lang(lang) == "zh" else 1e3


def require_columns(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    """Raise a clear error if a chart input lacks columns or is empty."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise QzfpError(
            Problem(what, "table.missing_columns", columns=", ".join(missing), expected=", ".join(columns))
        )
    if df.empty:
        raise QzfpError(Problem(what, "chart.no_rows"))


def code_names(df: pd.DataFrame, lang: str, code_col: str) -> list[str]:
    if "name" in df.columns:
        return df["name"].astype(str).tolist()
    col = "name_zh" if lang == "zh" else "name_en"
    if col in df.columns:
        return df[col].astype(str).tolist()
    return df[code_col].astype(str).tolist()


def any_label(name: str, lang: str) -> str:
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
