"""Interactive explorer (package ``qzfp.explore``): move the levers a planner argues about, see posts, workload and budget.

Two layers:

:class:`ExplorerModel`
    Pure computation, no widgets.  Holds the scenario the explorer started from and
    computes, for a dict of *settings* (the levers, see :data:`LEVERS`), the county ×
    year arrays behind the key figures, the chart and the budget table
    (:class:`Outcome`).  It is built for speed: the register is cached per township
    merger target and the population projection per (merger target, variant); the
    policy levers (allowances, threshold, township staffing rule, reward amount) do
    not change the population, so a change of one of them reruns only staffing,
    workload and budget (:func:`qzfp.model.run.run_arrays` with ``population=``),
    on a :class:`~qzfp.rules.paramarrays.ParamArrays` changed with ``with_values``.  No
    tidy table is built except the one budget table shown.

:class:`Explorer`
    The ipywidgets layer: one control per lever plus year and county filter, key
    figures, a chart (one inline SVG redrawn by replacing its markup: a matplotlib
    redraw costs more than the whole model run) and the budget table of the selected
    year and county, all updated on every change; and "Save as scenario".

Meaning of a control
--------------------
A control starts at the scenario's value *in force in the start year*.  A moved control
applies its value from 1 January of the start year over the whole horizon (later dated
changes of that rule are replaced, exactly as a scalar ``overrides`` entry of a scenario
file does).  A control left at (or moved back to) its starting value keeps the
scenario's dated values.

Saving
------
:meth:`ExplorerModel.save_scenario` writes ``params/<name>.yaml``: a scenario file that
``extends`` the scenario the explorer started from, with ``overrides`` (scalars from the
start year) for the changed rules and ``variant`` / ``merge_target`` as top-level keys.
The file is written to a temporary file beside the target, validated with
:func:`qzfp.model.run.validate_scenario`, then moved into place, so an invalid file is
never left behind.  ``qzfp run`` and :func:`qzfp.load_scenario` accept it, and
:func:`qzfp.model.run` of it reproduces the explorer's figures.
"""

from __future__ import annotations

from .chart import figures_chart_svg
from .levers import LEVERS, ExplorerPlan, Lever, Outcome
from .model import ExplorerModel
from .widgets import Explorer

__all__ = ["Explorer", "ExplorerModel", "ExplorerPlan", "LEVERS", "Lever", "Outcome", "figures_chart_svg"]
