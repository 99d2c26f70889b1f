"""Explorer: the ipywidgets layer over ExplorerModel (controls, key figures, chart, budget table, save)."""

from __future__ import annotations

import contextlib
import functools
import html
import math
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import i18n
from ..errors import QzfpError
from ..register import Register
from ..rules.scenario import (
    Scenario,
)

# --------------------------------------------------------------------------- widget layer
from .chart import figures_chart_svg
from .levers import (
    LEVERS,
    LINE_IDS,
    PLAN_LEVER_VALUES,
    RULE_LEVERS,
    VARIANTS,
    ExplorerPlan,
    Outcome,
    label,
    slider_bounds,
)
from .model import ExplorerModel

CONTROL_CLASS = "qzfp-control"
"""CSS class of every control of the explorer (see :data:`CONTROL_CSS`)."""

CONTROL_CSS = (
    ".qzfp-explorer .qzfp-control.widget-inline-hbox {height: auto; flex-wrap: wrap; "
    "align-items: center; margin-bottom: 4px}"
    ".qzfp-explorer .qzfp-control > .widget-label {width: 100%; margin-right: 0; "
    "white-space: normal; overflow: visible; text-overflow: clip; height: auto; "
    "line-height: 1.25; text-align: left; padding: 4px 0 2px 0}"
    ".qzfp-explorer .qzfp-control > select, .qzfp-explorer .qzfp-control > .slider-container, "
    ".qzfp-explorer .qzfp-control > .widget-readout {height: var(--jp-widgets-inline-height)}"
    ".qzfp-explorer .widget-html-content {line-height: 1.4}"
)
"""Style shipped with the widget (in its heading).  ipywidgets draws a control's label
beside it on one line of fixed height, ``nowrap`` and cut with "..." at a fixed width;
here every control (class :data:`CONTROL_CLASS`) wraps: its label takes the whole width
of the column on a line of its own above the slider or list, and itself wraps when
longer, so no label is cut and two columns fit a 1280 px screen."""


@functools.lru_cache(maxsize=1)
def explorer_css() -> str:
    """The explorer's own style: :data:`CONTROL_CSS` and the shipped CJK font (as a ``data:``
    URL, so it needs no file beside the page) drawing every Chinese character inside the
    explorer, its chart included, whatever fonts the machine has (made once per process)."""
    from ..i18n.fonts import shipped_font_data_url
    from ..reporting.pagestyle import font_css

    return CONTROL_CSS + font_css(src=shipped_font_data_url(), scope=".qzfp-explorer")


def _relabel(ctl: Any, options: list[tuple[str, Any]]) -> None:
    """Give a list (``ipywidgets.Dropdown``) new names for the same values, keeping its
    value (ipywidgets selects the first option when the options change)."""
    value = ctl.value
    ctl.options = options
    ctl.value = value


class Explorer:
    """Interactive explorer of a scenario (ipywidgets).

    Parameters
    ----------
    scenario : Scenario or str or Path
        Scenario the explorer starts from.
    register : Register, optional
        Register to use instead of the scenario's (see :class:`ExplorerModel`).
    lang : str, optional
        ``en`` or ``zh``; the scenario's ``lang`` by default (the page has a list to change it).
    shipped_font : bool
        Carry the shipped CJK font in the widget's style (:func:`explorer_css`), so its
        Chinese is drawn whatever fonts the machine has; False when the page provides the
        font itself (the page of ``qzfp explore``).

    Attributes
    ----------
    widget : ipywidgets.VBox
        What to display in a notebook.
    controls : dict of str to ipywidgets.Widget
        One control per lever (:data:`LEVERS`) plus ``year`` and ``county``; setting
        ``controls[key].value`` updates every output at once (synchronously).
    model : ExplorerModel
    last_update_ms : float
        Duration of the last update [ms].
    updates : int
        Number of updates (recomputation and redraw of the outputs) so far, the first
        drawing included: a drag that ends in one change adds one.

    Examples
    --------
    >>> ex = Explorer("baseline")                       # doctest: +SKIP
    >>> ex.controls["village_allowance"].value = 100     # doctest: +SKIP
    >>> ex.figures()["budget_yuan"]                      # doctest: +SKIP
    """

    CHART_SERIES = 7
    """Budget lines shown separately in the chart (the rest is summed as "Other")."""

    def __init__(self, scenario: Scenario | str | os.PathLike, register: Register | None = None,
                 *, lang: str | None = None, shipped_font: bool = True):
        import ipywidgets as w

        self.model = ExplorerModel(scenario, register)
        self.lang = i18n.check_lang(lang or self.model.scenario.lang)
        self._uid = f"qzfp{id(self):x}"
        self.last_update_ms = float("nan")
        self.updates = 0
        self._shipped_font = shipped_font
        self._relabelling = False
        self.controls = self._make_controls(w)
        self._make_outputs(w)
        self.widget = self._make_layout(w)
        self._chart_lines = self._chart_series_lines()
        self._apply_texts()
        for ctl in self.controls.values():
            ctl.observe(self._on_change, names="value")
        self.lang_control.observe(lambda change: self.set_lang(change["new"]), names="value")
        self.refresh()

    def _make_controls(self, w: Any) -> dict[str, Any]:
        """One control per lever (a slider over the parameter's range, or a list), plus the
        year and county of the view; ``w`` is the ipywidgets module.  Their texts (labels,
        names in the lists) are set by :meth:`_apply_texts`."""
        m = self.model
        sc = m.scenario
        base_reg = m.register(m.initial["merge_target"])
        village_max = float(base_reg.villages["population"].max())
        township_max = float(base_reg.township_population().max())
        natural = {
            "village_threshold": village_max,
            "township_extra_step": 2 * township_max,
            "township_extra_above": 2 * township_max,
        }
        # Each control spans its column and its own label (the widget's description, the
        # <label> of the input) takes a whole line above it and wraps instead of being cut
        # with "..." (ipywidgets puts it beside the control, cut at a fixed width): see
        # CONTROL_CSS.  Two such columns fit a 1280 px screen.
        style = {"description_width": "100%"}
        layout = w.Layout(width="98%", flex_flow="row wrap")
        controls: dict[str, Any] = {}
        for lv in RULE_LEVERS.values():
            v0 = m.initial[lv.key]
            p = sc.parameter(lv.path)
            top, step = slider_bounds(v0, natural.get(lv.key, 0.0), p.max)
            lo = float(p.min) if p.min is not None else 0.0
            is_int = isinstance(v0, int) and float(step).is_integer()
            cls = w.IntSlider if is_int else w.FloatSlider
            conv = int if is_int else float
            controls[lv.key] = cls(
                value=conv(v0), min=conv(lo), max=conv(top), step=conv(step),
                style=style, layout=layout, continuous_update=False,
            )
        controls["variant"] = w.Dropdown(options=[(v, v) for v in VARIANTS], value=m.initial["variant"],
                                         style=style, layout=layout)
        mt0 = m.initial["merge_target"]
        top, step = slider_bounds(mt0, 2 * township_max, None)
        controls["merge_target"] = w.IntSlider(
            value=int(mt0), min=0, max=int(top), step=int(max(1, step)),
            style=style, layout=layout, continuous_update=False,
        )
        controls["year"] = w.IntSlider(
            value=int(m.start_year), min=int(m.years[0]), max=int(m.years[-1]), step=1,
            style=style, layout=layout,
            continuous_update=False,  # one update when the drag ends: no queue of stale years
        )
        controls["county"] = w.Dropdown(
            options=[("", "")] + [(str(code), str(code)) for code in m.counties["county_code"]],
            value="", style=style, layout=layout,
        )
        return controls

    def _apply_texts(self) -> None:
        """Every text of the controls and panes in :attr:`lang` (labels, the names in the
        lists, heading, note); the outputs are redrawn by :meth:`refresh`."""
        from ..model.plan import OBJECTIVES

        lang, controls, esc = self.lang, self.controls, html.escape
        for lv in RULE_LEVERS.values():
            controls[lv.key].description = label(lv.label_key, lang)
        controls["variant"].description = label("param.variant", lang)
        _relabel(controls["variant"], [(i18n.t(f"variant.{v}", lang), v) for v in VARIANTS])
        controls["merge_target"].description = (
            f"{label('param.merge_target', lang)} ({label('nb.explore.merge_note', lang)})")
        controls["year"].description = label("nb.explore.year", lang)
        controls["county"].description = label("nb.explore.county_filter", lang)
        name_col = "name_zh" if lang == "zh" else "name_en"
        _relabel(controls["county"], [(label("nb.explore.all_counties", lang), "")] + [
            (str(r[name_col]), str(r["county_code"])) for _, r in self.model.counties.iterrows()])
        self.lang_control.description = label("nb.explore.language", lang)
        self.head_html.value = (f"<h3>{esc(label('nb.explore.title', lang))}</h3>"
                                f"<p>{esc(label('nb.explore.intro', lang))}</p>")
        self.note_html.value = (f"<p style='font-size:90%;color:#444'>"
                                f"{esc(label('nb.explore.controls_note', lang, start_year=self.model.start_year))}</p>")
        self.save_name.description = label("nb.explore.save_name", lang)
        self.save_overwrite.description = label("nb.explore.overwrite", lang)
        self.save_button.description = label("nb.explore.save", lang)
        self.ceiling.description = label("nb.explore.plan_ceiling", lang)
        _relabel(self.plan_objective, [(i18n.t(f"plan.objective.{o}", lang), o) for o in OBJECTIVES])
        self.plan_button.description = label("nb.explore.plan_button", lang)
        self.save_message.value = self.plan_html.value = ""  # said in the other language

    def set_lang(self, lang: str) -> None:
        """Show the explorer in ``lang`` (``en`` or ``zh``): every label and list, then the
        outputs redrawn once; the settings, year and county are kept.

        Raises
        ------
        ScenarioError
            ``lang`` is not a supported language.
        """
        lang = i18n.check_lang(lang)
        if lang == self.lang and self.lang_control.value == lang:
            return
        self.lang = lang
        self._relabelling = True  # relabelling a list reselects its value: no update for that
        try:
            with self.widget.hold_sync():
                self.lang_control.value = lang
                self._apply_texts()
        finally:
            self._relabelling = False
        self.refresh()

    def _make_outputs(self, w: Any) -> None:
        """The output panes (key figures, chart, table, status), the heading with the
        language list, and the save and plan rows."""
        from ..model.plan import DEFAULT_OBJECTIVE, OBJECTIVES

        self.style_html = w.HTML(f"<style>{explorer_css() if self._shipped_font else CONTROL_CSS}</style>")
        self.head_html = w.HTML()
        self.note_html = w.HTML()
        self.lang_control = w.Dropdown(options=[(i18n.t(f"lang.{code}", code), code) for code in i18n.LANGS],
                                       value=self.lang, style={"description_width": "initial"},
                                       layout=w.Layout(width="auto", flex="0 0 auto"))
        self.key_figures_html = w.HTML()
        self.chart_html = w.HTML()
        self.table_html = w.HTML()
        self.status_html = w.HTML()
        self.save_name = w.Text(value="", placeholder="my_scenario",
                                style={"description_width": "initial"})  # whole label
        self.save_overwrite = w.Checkbox(value=False, indent=False)
        self.save_button = w.Button()  # no icon: Font Awesome comes from a CDN the page may not reach
        self.save_message = w.HTML()
        self.save_button.on_click(lambda _b: self._on_save())
        self.ceiling = w.FloatText(value=math.ceil(self.model.figures({})["budget_yuan"]),
                                   style={"description_width": "initial"})
        self.plan_objective = w.Dropdown(options=[(o, o) for o in OBJECTIVES], value=DEFAULT_OBJECTIVE)
        self.plan_button = w.Button()
        self.plan_html = w.HTML()
        self.plan_button.on_click(lambda _b: self._on_plan())

    def _make_layout(self, w: Any) -> Any:
        """The whole explorer: heading and language, the levers beside the view, chart,
        table, plan, save."""
        controls = self.controls
        for ctl in controls.values():
            ctl.add_class(CONTROL_CLASS)
        column = {"flex": "1 1 0", "min_width": "0", "padding": "0 8px 0 0"}
        levers = w.VBox([controls[lv.key] for lv in LEVERS] + [self.note_html], layout=w.Layout(**column))
        view = w.VBox([controls["year"], controls["county"], self.key_figures_html],
                      layout=w.Layout(**column))
        head = w.HBox([self.head_html, self.lang_control],
                      layout=w.Layout(width="100%", justify_content="space-between", align_items="flex-start"))
        save = w.HBox([self.save_name, self.save_overwrite, self.save_button])
        widget = w.VBox([
            self.style_html,
            head,
            w.HBox([levers, view], layout=w.Layout(width="100%")),
            self.chart_html,
            self.table_html,
            w.VBox([w.HBox([self.ceiling, self.plan_objective, self.plan_button]), self.plan_html]),
            w.VBox([save, self.save_message]),
            self.status_html,
        ])
        widget.add_class("qzfp-explorer")
        self.key_figures_html.add_class("qzfp-figures")
        self.status_html.add_class("qzfp-status")
        self.lang_control.add_class("qzfp-lang")
        return widget

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """Display the widget when the explorer itself is the value of a cell."""
        return self.widget._repr_mimebundle_(**kwargs)

    # ---- state
    def settings(self) -> dict[str, Any]:
        """Lever values of the controls (the model's settings)."""
        return {lv.key: self.controls[lv.key].value for lv in LEVERS}

    def state(self) -> dict[str, Any]:
        """Every control's value: the levers plus ``year`` and ``county`` (``""`` = city)."""
        return {**self.settings(), "year": int(self.controls["year"].value),
                "county": self.controls["county"].value}

    def outcome(self) -> Outcome:
        """Results of the current settings (cached by the model)."""
        return self.model.compute(self.settings())

    def figures(self) -> dict[str, Any]:
        """Key figures of the selected year and county (see :meth:`Outcome.figures`)."""
        s = self.state()
        return self.outcome().figures(s["year"], s["county"])

    def budget_table(self) -> pd.DataFrame:
        """Budget table of the selected year and county (see :meth:`Outcome.budget_table`)."""
        s = self.state()
        return self.outcome().budget_table(s["year"], s["county"])

    def save_scenario(self, path_or_name: str | os.PathLike, overwrite: bool = False) -> Path:
        """Save the current lever settings as a scenario file (see
        :meth:`ExplorerModel.save_scenario`) and return its path."""
        return self.model.save_scenario(path_or_name, self.settings(), overwrite=overwrite)

    # ---- events
    def _on_change(self, _change: Any) -> None:
        if not self._relabelling:
            self.refresh()

    def _on_save(self) -> None:
        esc = html.escape
        try:
            path = self.save_scenario(self.save_name.value, overwrite=self.save_overwrite.value)
        except QzfpError as exc:
            reason = "; ".join(p.line(self.lang) for p in exc.problems)
            self.save_message.value = (
                f"<span style='color:#a00000'>{esc(label('nb.explore.not_saved', self.lang, reason=reason))}</span>"
            )
            return
        except OSError as exc:
            self.save_message.value = (
                f"<span style='color:#a00000'>{esc(label('nb.explore.not_saved', self.lang, reason=str(exc)))}</span>"
            )
            return
        self.save_overwrite.value = False
        self.save_message.value = (
            f"<span style='color:#1a6b1a'>{esc(label('nb.explore.saved', self.lang, path=str(path)))}</span>"
        )

    def plan_to_ceiling(self, ceiling: float | None = None) -> ExplorerPlan:
        """Move the staffing-rule levers to the best plan under the ceiling (the field's value
        unless given) for the selected year, and draw the frontier with the ceiling marked.

        Raises
        ------
        ParameterError
            The ceiling is below the cheapest plan (the message is also shown).
        """
        from ..errors import ParameterError
        from ..reporting import charts as plots

        if ceiling is not None:
            self.ceiling.value = float(ceiling)
        year = int(self.controls["year"].value)
        lang, esc = self.lang, html.escape
        try:
            plan = self.model.best_plan(self.settings(), float(self.ceiling.value), year, self.plan_objective.value)
        except ParameterError:
            low = float(self.model.plans(self.settings(), year)[0]["budget_yuan"].min())
            self.plan_html.value = ("<span style='color:#a00000'>" + esc(label(
                "nb.explore.plan_none", lang, ceiling=i18n.format_yuan(self.ceiling.value, lang),
                cheapest=i18n.format_yuan(low, lang))) + "</span>")
            raise
        for key, value in plan.settings.items():
            ctl = self.controls.get(key)
            if key in PLAN_LEVER_VALUES and ctl is not None and ctl.value != value:
                ctl.value = type(ctl.value)(value)
        row = plan.table.iloc[plan.chosen]
        objective = i18n.t(f"plan.objective.{plan.objective}", lang)
        fig = plots.plan_frontier(plan.table, plan.frontier, lang, value=plan.column, objective=objective,
                                  year=year, ceiling=plan.ceiling,
                                  baseline=(plan.current["budget_yuan"], plan.current[plan.column]),
                                  chosen=(float(row["budget_yuan"]), float(row[plan.column])))
        import io

        buf = io.StringIO()
        fig.savefig(buf, format="svg")
        svg = buf.getvalue()
        svg = svg[svg.find("<svg"):]
        message = label("nb.explore.plan_moved", lang, ceiling=i18n.format_yuan(plan.ceiling, lang),
                        budget=i18n.format_yuan(float(row["budget_yuan"]), lang), objective=objective,
                        value=i18n.format_number(float(row[plan.column]), lang, 2 if plan.column.endswith("pct") else 0))
        self.plan_html.value = f"<p>{esc(message)}</p><div style='max-width:100%'>{svg}</div>"
        return plan

    def _on_plan(self) -> None:
        from ..errors import QzfpError as _Error

        with contextlib.suppress(_Error):  # the message is shown in the panel
            self.plan_to_ceiling()

    def _place(self, county: str) -> str:
        if not county:
            return label("nb.explore.all_counties", self.lang)
        row = self.model.counties[self.model.counties["county_code"] == county].iloc[0]
        return i18n.place_name(row, self.lang)

    def _chart_series_lines(self) -> list[str]:
        """Budget lines shown separately in the chart: the lines the levers move plus the
        largest others of the starting settings (city, whole horizon); the rest is "Other"."""
        lever_lines = ("village_vp_allowance", "township_vp_allowance", "reward_assistance")
        totals = self.model.compute({}).amount.sum(axis=(0, 1))
        others = [LINE_IDS[i] for i in np.argsort(-totals, kind="stable")
                  if LINE_IDS[i] not in lever_lines and totals[i] > 0]
        keep = set(lever_lines) | set(others[: self.CHART_SERIES - len(lever_lines)])
        return [x for x in LINE_IDS if x in keep]

    # ---- output
    def refresh(self) -> None:
        """Recompute (if the levers changed) and redraw key figures, chart and table."""
        t0 = time.perf_counter()
        self.updates += 1
        s = self.state()
        try:
            out = self.model.compute(self.settings())
        except QzfpError as exc:
            self.status_html.value = "<span style='color:#a00000'>" + html.escape(
                "; ".join(p.line(self.lang) for p in exc.problems)) + "</span>"
            return
        fig = out.figures(s["year"], s["county"])
        self.key_figures_html.value = self._figures_html(fig)
        self.chart_html.value = self._chart_svg(out, s["year"], s["county"])
        self.table_html.value = self._table_html(out.budget_table(s["year"], s["county"]),
                                                 s["year"], s["county"])
        self.last_update_ms = 1e3 * (time.perf_counter() - t0)
        self.status_html.value = (
            f"<span style='font-size:80%;color:#777'>"
            f"{html.escape(label('nb.explore.updated_in', self.lang, ms=f'{self.last_update_ms:.0f}'))}</span>"
        )

    def _figures_html(self, f: Mapping[str, Any]) -> str:
        lang, esc = self.lang, html.escape
        y0, y1 = int(self.model.years[0]), int(self.model.years[-1])
        rows = [
            (label("col.population", lang), i18n.format_number(f["population"], lang)),
            (label("col.townships", lang), i18n.format_number(f["townships"], lang)),
            (label("col.village_vice_presidents", lang), i18n.format_number(f["village_vice_presidents"], lang)),
            (label("col.township_vice_presidents", lang), i18n.format_number(f["township_vice_presidents"], lang)),
            (label("col.total_posts", lang), i18n.format_number(f["total_posts"], lang)),
            (label("col.wisn_required_staff", lang), i18n.format_number(f["wisn_required_staff"], lang)),
            (label("col.townships_short_of_staff", lang), i18n.format_number(f["townships_short_of_staff"], lang)),
            (label("col.budget_yuan", lang), i18n.format_number(f["budget_yuan"], lang)),
            (label("nb.explore.budget_horizon", lang, start_year=y0, end_year=y1),
             i18n.format_number(f["budget_horizon_yuan"], lang)),
            (label("col.budget_per_capita_yuan", lang), i18n.format_number(f["budget_per_capita_yuan"], lang, 2)),
        ]
        body = "".join(
            f"<tr><td style='padding:1px 10px 1px 0'>{esc(k)}</td>"
            f"<td style='text-align:right;font-variant-numeric:tabular-nums'><b>{esc(v)}</b></td></tr>"
            for k, v in rows
        )
        head = label("nb.explore.figures_title", lang, place=self._place(f["county"]), year=f["year"])
        return f"<div><b>{esc(head)}</b><table style='font-size:95%'>{body}</table></div>"

    def _chart_svg(self, out: Outcome, year: int, county: str) -> str:
        lang = self.lang
        ser = out.series(county)
        by_line = ser["budget_by_line"]  # (T, L)
        idx = [LINE_IDS.index(x) for x in self._chart_lines]
        shown = by_line[:, idx].T
        other = by_line.sum(axis=1) - shown.sum(axis=0)
        labels_ = [i18n.budget_line_label(x, lang) for x in self._chart_lines]
        if np.any(np.abs(other) > 0):
            shown = np.vstack([shown, other])
            labels_.append(i18n.t("other", lang))
        place = self._place(county)
        posts = {
            label("col.total_posts", lang): ser["total_posts"],
            label("col.wisn_required_staff", lang): ser["wisn_required_staff"],
            label("col.village_vice_presidents", lang): ser["village_vice_presidents"],
        }
        return figures_chart_svg(
            out.years, shown, labels_, posts, selected_year=year, lang=lang,
            budget_title=label("nb.explore.chart_budget", lang, place=place,
                               start_year=int(out.years[0]), end_year=int(out.years[-1])),
            posts_title=label("nb.explore.chart_posts", lang, place=place),
            uid=self._uid,
        )

    def _table_html(self, df: pd.DataFrame, year: int, county: str) -> str:
        lang, esc = self.lang, html.escape
        fmt = i18n.format_number

        def qty(x: float) -> str:
            return fmt(x, lang, 0 if abs(x - round(x)) < 1e-9 or abs(x) >= 100 else 1)

        cols = ["line", "quantity", "quantity_unit", "unit_cost_yuan", "amount_yuan",
                "city_yuan", "county_yuan", "township_yuan"]
        th = "".join(f"<th style='text-align:{'left' if c in ('line', 'quantity_unit') else 'right'};"
                     f"padding:2px 8px'>{esc(i18n.column_label(c, lang))}</th>" for c in cols)
        rows = []
        for r in df.itertuples(index=False):
            cells = [
                (i18n.budget_line_label(r.line, lang), "left"),
                (qty(r.quantity), "right"),
                (i18n.unit_label(r.quantity_unit, lang), "left"),
                (fmt(r.unit_cost_yuan, lang, 2 if r.unit_cost_yuan < 100 else 0), "right"),
                (fmt(r.amount_yuan, lang), "right"),
                (fmt(r.city_yuan, lang), "right"),
                (fmt(r.county_yuan, lang), "right"),
                (fmt(r.township_yuan, lang), "right"),
            ]
            rows.append("<tr>" + "".join(
                f"<td style='text-align:{a};padding:1px 8px'>{esc(str(v))}</td>" for v, a in cells
            ) + "</tr>")
        total = df[["amount_yuan", "city_yuan", "county_yuan", "township_yuan"]].sum()
        rows.append(
            "<tr style='border-top:1px solid #1a1a1a;font-weight:bold'>"
            f"<td style='padding:1px 8px'>{esc(label('nb.explore.total', lang))}</td><td></td><td></td><td></td>"
            + "".join(f"<td style='text-align:right;padding:1px 8px'>{esc(fmt(total[c], lang))}</td>"
                      for c in ("amount_yuan", "city_yuan", "county_yuan", "township_yuan"))
            + "</tr>"
        )
        title = label("nb.explore.table_title", lang, place=self._place(county), year=year)
        return (f"<div><b>{esc(title)}</b><div style='max-height:28em;overflow:auto'>"
                f"<table style='border-collapse:collapse;font-size:90%'><thead><tr>{th}</tr></thead>"
                f"<tbody>{''.join(rows)}</tbody></table></div></div>")
