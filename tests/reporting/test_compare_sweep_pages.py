"""The comparison and sweep outputs a reader understands: charts that show the changes,
values by unit, one-lever sweeps as a line and a table, the commands' printed tables."""

from __future__ import annotations

import os
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from qzfp.cli import main  # noqa: E402
from qzfp.reporting import charts as plots  # noqa: E402
from qzfp.reporting.charts import sensitivity  # noqa: E402
from qzfp.reporting.folders import format_metric  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def _waterfall(base: float, change: float):
    df = pd.DataFrame({"line": ["a", "b"], "baseline_yuan": [base * 0.6, base * 0.4],
                       "scenario_yuan": [base * 0.6 + change, base * 0.4]})
    return plots.budget_waterfall(df, "en", year=2010)


def test_a_small_change_gets_an_axis_that_does_not_start_at_zero_with_a_break_mark():
    # 1 % more: from 1,000,000 to 1,010,000 yuan (1,000 and 1,010 thousand yuan).
    fig = _waterfall(1_000_000.0, 10_000.0)
    ax = fig.axes[0]
    lo, hi = ax.get_ylim()
    assert 0 < lo < 1000 and hi > 1010
    # the change (10 thousand yuan) takes a visible part of the axis, not a sliver
    assert 10 / (hi - lo) > 0.2
    marks = [ln for ln in ax.lines if ln.get_transform() == ax.transAxes]
    assert len(marks) == 2


def test_a_large_change_keeps_the_zero_of_the_axis():
    fig = _waterfall(1_000_000.0, 2_000_000.0)  # tripled
    assert fig.axes[0].get_ylim()[0] == 0
    assert not [ln for ln in fig.axes[0].lines if ln.get_transform() == fig.axes[0].transAxes]


def test_a_heatmap_colour_scale_spans_at_least_a_tenth_of_the_values():
    lo, hi = sensitivity._honest_range(np.array([[1631.0, 1632.0]]))
    assert hi - lo == pytest.approx(163.2)
    assert (lo + hi) / 2 == pytest.approx(1631.5)
    assert sensitivity._honest_range(np.array([[100.0, 300.0]])) == (100.0, 300.0)


def test_people_posts_and_counts_are_whole_and_yuan_per_person_has_cents():
    assert format_metric("population", 2429174.4, "en") == "2,429,174"
    assert format_metric("total_posts", 39.0, "en") == "39"
    assert format_metric("budget_per_capita_yuan", 8.304, "en") == "8.30"
    assert format_metric("budget_yuan", 935520.0, "en", signed=True) == "+935,520"


def test_a_one_lever_sweep_is_a_line_chart_and_a_table_and_prints_both(tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["sweep", str(REPO / "params" / "baseline.yaml"), "--set", "village.vice_president.allowance=60,100",
               "--out", str(out)])
    assert rc == 0
    folder = out / "sweep-baseline"
    assert sorted(p.name for p in folder.glob("*.png")) == ["line_budget_horizon_yuan.png",
                                                           "line_wisn_required_staff_last.png"]
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert "Sweep of 1 lever(s) (Village vice-president allowance [yuan/month])" in page
    table = pd.read_csv(folder / "sweep.csv", encoding="utf-8-sig")
    printed = capsys.readouterr().out
    for v in table["budget_horizon_yuan"]:
        assert f"{round(v):,}" in page and f"{round(v):,}" in printed
    assert str(folder) in printed
    umask = os.umask(0o022)
    os.umask(umask)
    assert folder.stat().st_mode & 0o777 == 0o777 & ~umask


def test_compare_prints_the_last_years_headline_table_and_the_folder(tmp_path, capsys):
    out = tmp_path / "out"
    base, other = REPO / "params" / "baseline.yaml", REPO / "params" / "allowance_100.yaml"
    assert main(["compare", str(base), str(other), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    table = pd.read_csv(out / "compare-baseline-allowance_100" / "comparison.csv", encoding="utf-8-sig")
    last = table[(table["year"] == table["year"].max()) & (table["scenario"] == "allowance_100")]
    budget = last[last["metric"] == "budget_yuan"].iloc[0]
    assert f"+{round(budget['difference']):,}" in printed
    people = last[last["metric"] == "population"].iloc[0]
    assert re.search(rf"\b{round(people['value']):,}\b", printed)
    assert str(out / "compare-baseline-allowance_100") in printed


def test_the_comparison_page_shows_whole_people_and_posts_and_plain_parameter_values():
    from qzfp.reporting.sections import table_html
    from qzfp.reporting.sections.compare import _by_unit, _plain_number

    wide = pd.DataFrame({"baseline": [2429174.4, 39.0, 8.6931]}, index=["population", "total_posts",
                                                                       "posts_per_10000"])
    shown = _by_unit(wide)
    assert shown["baseline"].tolist() == ["2,429,174", "39", "8.69"]
    assert [_plain_number(v, "en") for v in (600.0, 0.25, 1.8)] == ["600", "0.25", "1.8"]
    # formatted numbers stay right-aligned in the page's tables
    assert "text-align:right" in table_html(shown.reset_index(drop=True), "en").split("<tbody>")[1]
