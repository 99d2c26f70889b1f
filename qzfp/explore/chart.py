"""The explorer's chart: one inline SVG of the key figures by year, redrawn by replacing its markup."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import numpy as np

from .. import i18n

# --------------------------------------------------------------------------- SVG chart
from .levers import label, nice_step


def _hex(rgba: tuple[float, ...]) -> str:
    return "#" + "".join(f"{int(round(255 * c)):02x}" for c in rgba[:3])


_PATTERNS = (
    "",
    '<path d="M0,6 L6,0" stroke="#1a1a1a" stroke-width="0.7"/>',
    '<circle cx="3" cy="3" r="0.9" fill="#1a1a1a"/>',
    '<path d="M0,6 L6,0 M0,0 L6,6" stroke="#1a1a1a" stroke-width="0.6"/>',
    '<path d="M0,0 L6,6" stroke="#1a1a1a" stroke-width="0.7"/>',
    '<path d="M0,3 L6,3" stroke="#1a1a1a" stroke-width="0.7"/>',
    '<path d="M3,0 L3,6 M0,3 L6,3" stroke="#1a1a1a" stroke-width="0.6"/>',
    '<circle cx="3" cy="3" r="1.8" fill="none" stroke="#1a1a1a" stroke-width="0.6"/>',
    '<path d="M3,0 L3,6" stroke="#1a1a1a" stroke-width="0.7"/>',
)
"""Hatches of the series (same idea as :data:`qzfp.reporting.charts.HATCHES`: grey level *and* hatch)."""


def figures_chart_svg(
    years: np.ndarray,
    budget_by_line: np.ndarray,
    series_labels: list[str],
    posts: dict[str, np.ndarray],
    *,
    selected_year: int,
    lang: str,
    budget_title: str,
    posts_title: str,
    uid: str = "qzfp",
) -> str:
    """Two-panel SVG: stacked budget by line over the years, and posts over the years.

    Parameters
    ----------
    years : numpy.ndarray of int, (T,)
    budget_by_line : numpy.ndarray, (K, T)
        Amount of each shown series [yuan/year] (stacked in this order, first at the bottom).
    series_labels : list of str, (K,)
        Legend text of each budget series.
    posts : dict of str to numpy.ndarray (T,)
        Legend text → posts per year [post], drawn as lines with markers.
    selected_year : int
        Year highlighted by a band.
    lang : str
        Amounts in thousand yuan (en) or 万元 (zh), as :func:`qzfp.reporting.charts.money_scale`.
    budget_title, posts_title : str
    uid : str
        Prefix of the SVG pattern ids (unique per explorer on a page).

    Returns
    -------
    str
        ``<svg>`` markup (about 20 kB); the browser draws it, the kernel only formats it.
        It is 900 px wide at most and shrinks (text included) to a narrower output area,
        so no legend is cut at the edge of a notebook.
    """
    from ..reporting.charts import money_scale

    years = np.asarray(years, dtype=int)
    k = len(series_labels)
    values = np.clip(np.asarray(budget_by_line, dtype=float) / money_scale(lang), 0.0, None)
    canvas = _Canvas(years, lang, [])
    canvas.open(k, uid)
    sel = np.flatnonzero(years == int(selected_year))
    canvas.budget_panel(values, series_labels, sel, budget_title, uid)
    canvas.posts_panel(posts, sel, posts_title)
    canvas.out.append("</svg>")
    return "".join(canvas.out)


@dataclass
class _Canvas:
    """The SVG of :func:`figures_chart_svg` being written: its layout [px] and its markup so far."""

    years: np.ndarray
    lang: str
    out: list[str]
    width: int = 900
    height: int = 560
    left: int = 72
    plot_w: int = 500
    legend_x: int = 600
    top1: int = 34
    h1: int = 250
    top2: int = 340
    h2: int = 170

    @property
    def t(self) -> int:
        return len(self.years)

    def x_of(self, j: float) -> float:
        """Horizontal centre [px] of year position ``j``."""
        return self.left + (j + 0.5) * self.plot_w / self.t

    def open(self, k: int, uid: str) -> None:
        """The ``<svg>`` element and the fill patterns of ``k`` budget series."""
        from ..reporting.charts import INK, shades
        from ..reporting.pagestyle import FONT_FAMILY

        # the shipped CJK font first (its face covers only CJK characters, see
        # qzfp.explore.widgets.explorer_css), so Latin text keeps DejaVu Sans
        self.out += [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" style="max-width:{self.width}px" '
            f'viewBox="0 0 {self.width} {self.height}" font-family="{FONT_FAMILY}, DejaVu Sans, '
            f'Noto Sans CJK SC, Microsoft YaHei, PingFang SC, SimHei, WenQuanYi Zen Hei, sans-serif" '
            f'font-size="11" fill="{INK}">',
            "<defs>",
        ]
        colours = [_hex(c) for c in shades(k)]
        for i, col in enumerate(colours):
            pat = _PATTERNS[i % len(_PATTERNS)]
            self.out.append(
                f'<pattern id="{uid}-p{i}" width="6" height="6" patternUnits="userSpaceOnUse">'
                f'<rect width="6" height="6" fill="{col}"/>{pat}</pattern>'
            )
        self.out.append("</defs>")

    def axes(self, top: float, h: float, ymax: float, title: str, ylabel: str, decimals: int) -> float:
        """Title, gridlines, value and year labels of a panel; the rounded-up top of its scale."""
        from ..reporting.charts import INK

        esc, out, left, plot_w, t = html.escape, self.out, self.left, self.plot_w, self.t
        step = nice_step(ymax)
        ymax = max(step, math.ceil(ymax / step - 1e-9) * step)
        out.append(f'<text x="{left}" y="{top - 12}" font-size="13">{esc(title)}</text>')
        yv = 0.0
        while yv <= ymax + 1e-9 * ymax:
            y = top + h - yv / ymax * h
            out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
                       f'stroke="#d4d4d4" stroke-width="0.6"/>')
            out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
                       f'{esc(i18n.format_number(yv, self.lang, decimals))}</text>')
            yv += step
        out.append(f'<text transform="translate(14,{top + h / 2:.0f}) rotate(-90)" '
                   f'text-anchor="middle">{esc(ylabel)}</text>')
        every = max(1, math.ceil(t / 16))
        for j, yr in enumerate(self.years):
            if j % every == 0:
                out.append(f'<text x="{self.x_of(j):.1f}" y="{top + h + 15}" text-anchor="middle" '
                           f'font-size="10">{yr}</text>')
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{top + h}" y2="{top + h}" '
                   f'stroke="{INK}" stroke-width="0.8"/>')
        return ymax

    def budget_panel(self, values: np.ndarray, series_labels: list[str], sel: np.ndarray, title: str,
                     uid: str) -> None:
        """Upper panel: the budget series stacked by year, the selected year's band, the legend."""
        from ..reporting.charts import INK

        esc, out, t, k = html.escape, self.out, self.t, len(series_labels)
        top1, h1, left, legend_x = self.top1, self.h1, self.left, self.legend_x
        band_w = self.plot_w / t
        cum = np.vstack([np.zeros(t), np.cumsum(values, axis=0)]) if k else np.zeros((1, t))
        ymax1 = self.axes(top1, h1, float(cum[-1].max()) if k else 1.0, title,
                          i18n.t("chart.budget.y", self.lang), 0)
        if len(sel):
            out.append(f'<rect x="{left + sel[0] * band_w:.1f}" y="{top1}" width="{band_w:.1f}" '
                       f'height="{h1}" fill="#e8e8e8"/>')
        bar_w = 0.75 * band_w
        for i in range(k):
            for j in range(t):
                y0, y1 = cum[i, j], cum[i + 1, j]
                if y1 <= y0:
                    continue
                py = top1 + h1 - y1 / ymax1 * h1
                ph = (y1 - y0) / ymax1 * h1
                out.append(f'<rect x="{self.x_of(j) - bar_w / 2:.1f}" y="{py:.2f}" width="{bar_w:.1f}" '
                           f'height="{ph:.2f}" fill="url(#{uid}-p{i})" stroke="{INK}" '
                           f'stroke-width="0.3"/>')
        for i in reversed(range(k)):
            ly = top1 + 4 + (k - 1 - i) * 17
            out.append(f'<rect x="{legend_x}" y="{ly}" width="14" height="11" '
                       f'fill="url(#{uid}-p{i})" stroke="{INK}" stroke-width="0.4"/>')
            out.append(f'<text x="{legend_x + 20}" y="{ly + 10}">{esc(series_labels[i])}</text>')

    def posts_panel(self, posts: dict[str, np.ndarray], sel: np.ndarray, title: str) -> None:
        """Lower panel: posts by year as lines with markers, the selected year's rule, the legend."""
        from ..reporting.charts import INK, LINESTYLES, MARKERS

        esc, out, t = html.escape, self.out, self.t
        top2, h2, legend_x = self.top2, self.h2, self.legend_x
        post_vals = {name: np.asarray(v, dtype=float) for name, v in posts.items()}
        ymax2 = max([float(np.nanmax(v)) for v in post_vals.values() if v.size] + [1.0])
        ymax2 = self.axes(top2, h2, ymax2, title, label("nb.explore.chart_posts_y", self.lang), 0)
        if len(sel):
            xs = self.x_of(sel[0])
            out.append(f'<line x1="{xs:.1f}" x2="{xs:.1f}" y1="{top2}" y2="{top2 + h2}" '
                       f'stroke="#9a9a9a" stroke-dasharray="3,3"/>')
        dashes = {"-": "", "--": "6,3", "-.": "6,3,1,3", ":": "1.5,2.5"}
        for n, (name, v) in enumerate(post_vals.items()):
            pts = " ".join(f"{self.x_of(j):.1f},{top2 + h2 - v[j] / ymax2 * h2:.1f}" for j in range(t))
            ls = LINESTYLES[n % len(LINESTYLES)]
            da = dashes.get(ls, "") if isinstance(ls, str) else "5,1,1,1"
            dash = f' stroke-dasharray="{da}"' if da else ""
            out.append(f'<polyline points="{pts}" fill="none" stroke="{INK}" stroke-width="1.4"{dash}/>')
            self.marks(v, MARKERS[n % len(MARKERS)], top2, h2, ymax2)
            ly = top2 + 4 + n * 17
            out.append(f'<line x1="{legend_x}" x2="{legend_x + 22}" y1="{ly + 6}" y2="{ly + 6}" '
                       f'stroke="{INK}" stroke-width="1.4"{dash}/>')
            out.append(f'<text x="{legend_x + 28}" y="{ly + 10}">{esc(name)}</text>')

    def marks(self, v: np.ndarray, marker: str, top: float, h: float, ymax: float) -> None:
        """One marker (``s`` square, ``^`` triangle, else a dot) at each year of a line."""
        from ..reporting.charts import INK

        for j in range(self.t):
            cx, cy = self.x_of(j), top + h - v[j] / ymax * h
            if marker == "s":
                self.out.append(f'<rect x="{cx - 2.5:.1f}" y="{cy - 2.5:.1f}" width="5" height="5" '
                                f'fill="{INK}"/>')
            elif marker == "^":
                self.out.append(f'<path d="M{cx:.1f},{cy - 3:.1f} l3,5.5 l-6,0 z" fill="white" '
                                f'stroke="{INK}"/>')
            else:
                self.out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="2.5" fill="{INK}"/>')
