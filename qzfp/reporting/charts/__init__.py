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
to render.  Margins are set once from the measured width of the labels (:func:`fit_text`), not
by a constrained layout that measures every tick label at each draw; the figures carry a
no-op layout engine so that savers do not ask for ``bbox_inches="tight"`` (a second draw);
many bars of one style are one polygon collection (:func:`draw_bars`), not one patch per bar;
legends have a fixed place (``loc="best"`` searches every artist at each draw).

Place names: wherever a table has codes, it may also carry ``name`` (already in the right
language) or ``name_zh`` and ``name_en`` (picked by ``lang``); otherwise the codes are shown.
"""

from __future__ import annotations

from qzfp.i18n import BUDGET_LINES
from qzfp.reporting.charts.budget import (
    budget_stacked,
    budget_waterfall,
    waterfall_table,
)
from qzfp.reporting.charts.layout import (
    ACCENT,
    CMAP,
    HATCHES,
    INK,
    LIGHT,
    LINESTYLES,
    MARKERS,
    money_scale,
    save,
    shades,
)
from qzfp.reporting.charts.plan import PLAN_DOTS, plan_frontier
from qzfp.reporting.charts.population import (
    QUANTILES,
    fan_chart,
    fan_quantiles,
    path_quantiles,
    population_pyramid,
    population_pyramids,
    township_sizes,
)
from qzfp.reporting.charts.sensitivity import (
    sweep_heatmap,
    sweep_line,
    tornado,
)
from qzfp.reporting.charts.workload import (
    wisn_ratio_chart,
)

__all__ = [
    "PLAN_DOTS",
    "plan_frontier",
    "BUDGET_LINES",
    "INK",
    "LIGHT",
    "LINESTYLES",
    "MARKERS",
    "QUANTILES",
    "sweep_line",
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
