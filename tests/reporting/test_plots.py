"""Charts of qzfp.reporting.charts: each builds in English and Chinese, with no missing glyph."""

from __future__ import annotations

import functools
import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from qzfp.errors import QzfpError  # noqa: E402
from qzfp.i18n import budget_line_label, t  # noqa: E402
from qzfp.reporting import charts as plots  # noqa: E402

TOWNSHIPS = pd.DataFrame(
    {
        "township_code": ["330802005", "330803100", "330825101", "330881102", "330822103"],
        "name_zh": ["新新街道", "廿里镇", "湖镇镇", "贺村镇", "球川镇"],
        "name_en": ["Xinxin", "Nianli", "Huzhen", "Hecun", "Qiuchuan"],
        "population": [60000, 23200, 17700, 31000, 12500],
    }
)


def _pyramid(scale: float = 1.0) -> pd.DataFrame:
    ages = np.arange(0, 101)
    persons = np.maximum(1000 - 9 * ages, 20) * scale
    return pd.DataFrame(
        {
            "age": np.concatenate([ages, ages]),
            "sex": ["male"] * 101 + ["female"] * 101,
            "persons": np.concatenate([persons, persons * 1.05]),
        }
    )


def _draws() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    years = np.arange(2006, 2022)
    rows = [
        (y, d, 2.46e6 * (1 + 0.002 * (y - 2006)) + rng.normal(0, 1e4) * (y - 2006))
        for d in range(40)
        for y in years
    ]
    return pd.DataFrame(rows, columns=["year", "draw", "value"])


def _variants() -> pd.DataFrame:
    years = np.arange(2006, 2022)
    return pd.concat(
        pd.DataFrame({"year": years, "variant": v, "value": 2.46e6 * (1 + g * (years - 2006))})
        for v, g in (("low", -0.002), ("high", 0.006), ("constant", 0.002))
    )


def _budget() -> pd.DataFrame:
    rows = []
    for year in range(2006, 2011):
        for i, line in enumerate(plots.BUDGET_LINES):
            rows.append((year, "330802", line, 1e5 * (i + 1) * (1 + 0.05 * (year - 2006))))
        rows.append((year, "330802", "brand_new_line", 5e4))
    return pd.DataFrame(rows, columns=["year", "county_code", "line", "amount_yuan"])


def _sensitivity() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "parameter": [
                "village.vice_president.allowance",
                "village.vice_president.population_threshold",
                "township.vice_president.post_allowance",
                "reward_assistance.amount",
            ],
            "low": [-2.0e5, 1.5e5, -0.8e5, -4.0e5],
            "high": [2.0e5, -1.2e5, 0.8e5, 4.0e5],
        }
    )


def _sweep() -> pd.DataFrame:
    allowances = [40, 60, 80, 100]
    thresholds = [300, 400, 500, 600]
    return pd.DataFrame(
        [(a, th, 1000 * a * 12 * (1500 - th)) for a in allowances for th in thresholds],
        columns=[
            "village.vice_president.allowance",
            "village.vice_president.population_threshold",
            "total_budget",
        ],
    )


def _wisn() -> pd.DataFrame:
    return TOWNSHIPS.assign(wisn_ratio=[0.55, 0.92, 1.0, 1.4, 0.8])


def _waterfall_table() -> pd.DataFrame:
    return pd.DataFrame(
        {"line": ["village_vp_allowance", "training", "insurance"],
         "baseline_yuan": [600_000.0, 100_000.0, 50_000.0],
         "scenario_yuan": [1_000_000.0, 80_000.0, 50_000.0]}
    )  # fmt: skip


def _charts(lang: str) -> dict[str, Figure]:
    return {
        "pyramid": plots.population_pyramid(
            _pyramid(), lang, place="衢州市" if lang == "zh" else "Quzhou", year=2006,
            compare=_pyramid(0.9), compare_year=2021,
        ),
        "fan": plots.fan_chart(
            _draws(), lang, place="柯城区" if lang == "zh" else "Kecheng", variants=_variants()
        ),
        "townships_bars": plots.township_sizes(TOWNSHIPS, lang, before=TOWNSHIPS.head(3)),
        "townships_hist": plots.township_sizes(
            TOWNSHIPS, lang, before=TOWNSHIPS.head(3), kind="hist"
        ),
        "budget": plots.budget_stacked(_budget(), lang),
        "waterfall": plots.budget_waterfall(
            plots.waterfall_table(_budget(), _budget().assign(amount_yuan=lambda d: np.where(
                d["line"] == "village_vp_allowance", d["amount_yuan"] * 100 / 60, d["amount_yuan"]
            )), 2010),
            lang, year=2010,
        ),
        "tornado": plots.tornado(_sensitivity(), lang, pct=10),
        "heatmap": plots.sweep_heatmap(
            _sweep(), lang, x="village.vice_president.allowance",
            y="village.vice_president.population_threshold", value="total_budget", scale=1e4,
        ),
        "wisn": plots.wisn_ratio_chart(_wisn(), lang, year=2010),
        "pyramids": plots.population_pyramids(
            [(n, _pyramid(k), _pyramid(0.9 * k)) for n, k in (("Kecheng", 1.0), ("Qujiang", 1.5),
                                                              ("Longyou", 0.5), ("Jiangshan", 1.2))],
            lang, year=2006, compare_year=2021, place="衢州市" if lang == "zh" else "Quzhou",
        ),
    }  # fmt: skip


def _texts(fig: Figure) -> str:
    return "\n".join(text.get_text() for text in fig.findobj(Text))


@functools.cache
def _render(lang: str) -> tuple[str, dict[str, Figure], list[str]]:
    """Build and draw every chart once per language, recording all warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figs = _charts(lang)
        for fig in figs.values():
            FigureCanvasAgg(fig).draw()  # a real Agg rendering: glyphs are looked up here
    return lang, figs, [str(w.message) for w in caught]


@pytest.fixture(params=["en", "zh"])
def rendered(request):
    return _render(request.param)


def test_every_chart_returns_a_figure(rendered):
    _, figs, _ = rendered
    assert len(figs) == 10 and all(isinstance(f, Figure) for f in figs.values())


def test_no_chart_warns_about_a_missing_glyph(rendered):
    _, _, messages = rendered
    bad = [m for m in messages if "missing from font" in m or "Glyph" in m]
    assert bad == []


def test_chart_titles_come_from_the_label_catalogue(rendered):
    lang, figs, _ = rendered
    place = "衢州市" if lang == "zh" else "Quzhou"
    assert t("chart.pyramid.title", lang, place=place, year=2006) in _texts(figs["pyramid"])
    assert t("chart.townships.title", lang) in _texts(figs["townships_bars"])
    assert t("chart.budget.title", lang, start_year=2006, end_year=2010) in _texts(figs["budget"])
    assert t("chart.wisn.title", lang, year=2010) in _texts(figs["wisn"])
    assert t("chart.fan.median", lang) in _texts(figs["fan"])


def test_chinese_charts_show_chinese_titles_and_place_names():
    _, figs, _ = _render("zh")
    assert "衢州市2006年人口金字塔" in _texts(figs["pyramid"])
    assert "柯城区人口预测" in _texts(figs["fan"])
    assert "新新街道" in _texts(figs["wisn"])
    assert "村专职副会长岗位津贴" in _texts(figs["waterfall"])
    assert "金额（万元）" in _texts(figs["budget"])
    assert "村专职副会长岗位津贴（元/月）" in _texts(figs["heatmap"])


def test_english_charts_show_pinyin_place_names():
    _, figs, _ = _render("en")
    assert "Xinxin" in _texts(figs["wisn"]) and "新新街道" not in _texts(figs["wisn"])


def test_small_multiple_pyramids_draw_one_panel_per_place_on_a_common_scale():
    fig = _charts("en")["pyramids"]
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["Kecheng", "Qujiang", "Longyou", "Jiangshan"]
    assert len(fig.axes) == 6  # a 2 × 3 grid, the two spare panels hidden
    limits = {tuple(round(v) for v in ax.get_xlim()) for ax in visible}
    assert len(limits) == 1  # shared population axis
    (lo, hi), = limits
    # widest bar: the 0–4 group of the largest place (females: 1.05 × males, scale 1.5)
    widest = sum(1000 - 9 * age for age in range(5)) * 1.5 * 1.05
    assert lo == -hi and hi >= widest
    assert t("chart.pyramid.title", "en", place="Quzhou", year=2006) in _texts(fig)
    assert t("chart.pyramid.compare", "en", year=2021) in _texts(fig)


def test_small_multiple_pyramids_need_at_least_one_place():
    with pytest.raises(QzfpError, match="no places"):
        plots.population_pyramids([], "en")


def test_stacked_budget_keeps_the_largest_lines_and_groups_the_rest_as_other():
    fig = plots.budget_stacked(_budget(), "en", top_n=5)
    legend = [x.get_text() for x in fig.axes[0].get_legend().get_texts()]
    assert len(legend) == 6 and "Other" in legend
    totals = _budget().groupby("line")["amount_yuan"].sum().nlargest(5).index
    assert {budget_line_label(line, "en") for line in totals} <= set(legend)


def _bar_boxes(ax) -> list[tuple[float, float, float, float, str]]:
    """(x0, x1, y0, y1, hatch) of every bar of ``ax``, drawn as Rectangle patches or as
    polygon collections (one polygon per bar)."""
    boxes = [
        (p.get_x(), p.get_x() + p.get_width(), p.get_y(), p.get_y() + p.get_height(),
         p.get_hatch() or "")
        for p in ax.patches
        if isinstance(p, Rectangle)
    ]
    for coll in ax.collections:
        if isinstance(coll, PolyCollection):
            for path in coll.get_paths():
                v = path.vertices
                boxes.append((v[0, 0], v[1, 0], v[0, 1], v[2, 1], coll.get_hatch() or ""))
    return boxes


def test_stacked_budget_bar_heights_add_up_to_the_yearly_total_in_thousand_yuan():
    fig = plots.budget_stacked(_budget(), "en", top_n=30)
    first_year = sum(
        y1 - y0 for x0, x1, y0, y1, _ in _bar_boxes(fig.axes[0]) if abs((x0 + x1) / 2 - 2006) < 1e-9
    )
    expected = _budget().query("year == 2006")["amount_yuan"].sum() / 1e3
    assert first_year == pytest.approx(expected)


def test_waterfall_steps_from_baseline_total_to_scenario_total():
    table = pd.DataFrame(
        {"line": ["village_vp_allowance", "training", "insurance"],
         "baseline_yuan": [600_000.0, 100_000.0, 50_000.0],
         "scenario_yuan": [1_000_000.0, 80_000.0, 50_000.0]}
    )  # fmt: skip
    fig = plots.budget_waterfall(table, "zh", year=2010)
    heights = [p.get_height() for p in fig.axes[0].patches if isinstance(p, Rectangle)]
    base, scen = table["baseline_yuan"].sum() / 1e4, table["scenario_yuan"].sum() / 1e4
    # totals first, then the changes, largest first; the unchanged line has no step
    assert heights == pytest.approx([base, scen, 40.0, -2.0])
    assert base + sum(heights[2:]) == pytest.approx(scen)


def test_waterfall_table_aligns_lines_of_both_scenarios_and_fills_absent_lines_with_zero():
    a = pd.DataFrame({"year": [2010, 2010, 2011], "line": ["training", "insurance", "training"],
                      "amount_yuan": [10.0, 5.0, 99.0]})  # fmt: skip
    b = pd.DataFrame({"year": [2010], "line": ["training"], "amount_yuan": [12.0]})
    out = plots.waterfall_table(a, b, 2010).set_index("line")
    assert out.loc["insurance", "scenario_yuan"] == 0.0
    assert out.loc["training", "baseline_yuan"] == 10.0


def test_tornado_puts_the_largest_effect_on_top():
    fig = plots.tornado(_sensitivity(), "en")
    labels = [x.get_text() for x in fig.axes[0].get_yticklabels()]
    assert labels[-1] == t("param.reward_assistance.amount", "en")
    assert labels[0] == t("param.township.vice_president.post_allowance", "en")


def test_fan_quantiles_match_numpy_quantiles_of_the_paths():
    draws = _draws()
    q = plots.fan_quantiles(draws).set_index("year")
    values = draws[draws["year"] == 2015]["value"].to_numpy()
    assert q.loc[2015, "q10"] == pytest.approx(np.quantile(values, 0.10))
    assert q.loc[2015, "q50"] == pytest.approx(np.median(values))


def test_wisn_chart_hatches_shortfalls_only():
    fig = plots.wisn_ratio_chart(_wisn(), "en")
    bars = _bar_boxes(fig.axes[0])
    short = [y1 - y0 for _, _, y0, y1, hatch in bars if hatch]
    assert len(bars) == len(_wisn())
    assert sorted(short) == pytest.approx(sorted(r for r in _wisn()["wisn_ratio"] if r < 1))


def test_heatmap_annotates_every_grid_cell():
    fig = plots.sweep_heatmap(_sweep(), "en", x="village.vice_president.allowance",
                              y="village.vice_president.population_threshold",
                              value="total_budget")  # fmt: skip
    cells = [x for x in fig.axes[0].texts]
    assert len(cells) == 16
    expected = f"{1000 * 100 * 12 * (1500 - 300):,.0f}"
    assert expected in {c.get_text() for c in cells}


def test_a_chart_input_without_its_columns_raises_an_error_naming_them():
    with pytest.raises(QzfpError, match="missing column\\(s\\) amount_yuan"):
        plots.budget_stacked(pd.DataFrame({"year": [2006], "line": ["training"]}), "en")
    with pytest.raises(QzfpError, match="no rows"):
        plots.wisn_ratio_chart(_wisn().iloc[0:0], "zh")


def test_an_unknown_sex_or_histogram_kind_is_rejected():
    with pytest.raises(QzfpError, match="unknown sex"):
        plots.population_pyramid(_pyramid().assign(sex="x"), "en")
    with pytest.raises(QzfpError, match="'bars' or 'hist'"):
        plots.township_sizes(TOWNSHIPS, "en", kind="pie")


def test_an_unknown_language_is_rejected_before_drawing():
    with pytest.raises(QzfpError, match="unknown language"):
        plots.wisn_ratio_chart(_wisn(), "fr")


def test_chart_functions_leave_pyplot_without_open_figures():
    import matplotlib.pyplot as plt

    before = len(plt.get_fignums())
    plots.tornado(_sensitivity(), "zh")
    assert len(plt.get_fignums()) == before


def test_save_writes_png_svg_and_pdf(tmp_path):
    fig = plots.wisn_ratio_chart(_wisn(), "zh", year=2010)
    for suffix in (".png", ".svg", ".pdf"):
        path = plots.save(fig, tmp_path / "sub" / f"wisn{suffix}")
        assert path.stat().st_size > 1000


def _visible_texts(fig: Figure) -> list[Text]:
    """The texts a rendering of ``fig`` draws (tick labels only of ticks in the view)."""
    ticks, drawn = set(), []
    for ax in fig.axes:
        if not ax.get_visible():
            ticks.update(id(x) for x in ax.findobj(Text))
            continue
        for k, axis in enumerate((ax.xaxis, ax.yaxis)):
            for tick in [*axis.majorTicks, *axis.minorTicks]:
                ticks.update((id(tick.label1), id(tick.label2)))
            lo, hi = sorted(axis.get_view_interval())
            eps = 1e-9 * (hi - lo)
            drawn += [x for x in axis.get_ticklabels()
                      if x.get_visible() and lo - eps <= x.get_position()[k] <= hi + eps]
    others = [x for x in fig.findobj(Text) if id(x) not in ticks and x.get_visible()]
    return [x for x in [*others, *drawn] if x.get_text().strip()]


def test_no_text_of_any_chart_is_clipped_by_the_figure_edge(rendered):
    _, figs, _ = rendered
    for name, fig in figs.items():
        renderer = fig.canvas.get_renderer()
        box = fig.bbox
        for text in _visible_texts(fig):
            ext = text.get_window_extent(renderer)
            inside = (ext.x0 >= box.x0 - 1 and ext.x1 <= box.x1 + 1
                      and ext.y0 >= box.y0 - 1 and ext.y1 <= box.y1 + 1)  # fmt: skip
            assert inside, f"{name}: {text.get_text()!r} at {ext} outside {box}"
        for legend in [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend())]:
            ext = legend.get_window_extent(renderer)
            assert ext.x1 <= box.x1 + 1 and ext.y0 >= box.y0 - 1, f"{name}: legend clipped"


def test_axis_labels_do_not_overlap_the_tick_labels_or_the_title(rendered):
    _, figs, _ = rendered
    for name, fig in figs.items():
        renderer = fig.canvas.get_renderer()
        title = fig._suptitle.get_window_extent(renderer) if fig._suptitle else None
        shown = _visible_texts(fig)
        for ax in fig.axes:
            if not ax.get_visible():
                continue
            for axis, label in ((ax.xaxis, ax.xaxis.label), (ax.yaxis, ax.yaxis.label)):
                if not label.get_text():
                    continue
                lab = label.get_window_extent(renderer)
                for tick in set(axis.get_ticklabels()) & set(shown):
                    if tick.get_text():
                        ext = tick.get_window_extent(renderer)
                        assert not lab.overlaps(ext), f"{name}: {label.get_text()!r} on ticks"
            if title is not None:
                top = ax.get_tightbbox(renderer)
                assert top.y1 <= title.y0 + 1, f"{name}: title overlaps an axes"


def test_a_long_title_is_wrapped_to_the_figure_width():
    fig = plots.sweep_heatmap(
        _sweep(), "zh", x="village.vice_president.allowance",
        y="village.vice_president.population_threshold", value="total_budget", scale=1e4,
        value_label="2006—2021年预算，金额（万元）",
    )  # fmt: skip
    FigureCanvasAgg(fig).draw()
    title = fig._suptitle
    assert "\n" in title.get_text()
    assert title.get_window_extent().width <= fig.bbox.width


def _assert_no_text_clipped(fig: Figure, name: str) -> None:
    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()
    box = fig.bbox
    for text in _visible_texts(fig):
        ext = text.get_window_extent(renderer)
        assert (ext.x0 >= box.x0 - 1 and ext.x1 <= box.x1 + 1 and ext.y0 >= box.y0 - 1
                and ext.y1 <= box.y1 + 1), f"{name}: {text.get_text()!r} at {ext} outside {box}"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_long_township_names_on_the_bar_charts_stay_inside_the_figure(lang):
    long = TOWNSHIPS.assign(name_en=[f"{n} (former south part, synthetic)" for n in TOWNSHIPS["name_en"]],
                            name_zh=[f"{n}（原南部，合成）" for n in TOWNSHIPS["name_zh"]])
    _assert_no_text_clipped(plots.wisn_ratio_chart(long.assign(wisn_ratio=[0.5, 0.9, 1.0, 1.4, 0.8]), lang,
                                                   year=2010), "wisn")
    _assert_no_text_clipped(plots.township_sizes(long, lang, before=long, kind="bars"), "townships")


def test_a_label_too_long_for_any_layout_still_gives_a_chart():
    wide = pd.DataFrame({"parameter": ["p", "q"], "label": ["x" * 150, "村计生协专职副会长津贴" * 6],
                         "low": [-1.0, -2.0], "high": [1.0, 2.0]})
    assert isinstance(plots.tornado(wide, "en"), Figure)  # no endless wrapping
    huge = TOWNSHIPS.assign(name_en=["N" * 120] * len(TOWNSHIPS))
    fig = plots.township_sizes(huge, "en", kind="bars")  # margins shrunk, not refused
    FigureCanvasAgg(fig).draw()
    assert all(ax.get_position().height > 0 for ax in fig.axes)


def test_a_pyramid_with_a_missing_age_is_refused_naming_the_column():
    df = pd.DataFrame({"age": [0, None, 2], "sex": ["male", "female", "male"], "persons": [1.0, 2.0, 3.0]})
    with pytest.raises(QzfpError, match="pyramid:age"):
        plots.population_pyramid(df, "en")


def test_a_chinese_name_in_an_english_chart_is_drawn_with_the_cjk_font():
    names = TOWNSHIPS.drop(columns=["name_zh", "name_en"]).assign(name=TOWNSHIPS["name_zh"],
                                                                  wisn_ratio=[0.5, 0.9, 1.0, 1.4, 0.8])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        FigureCanvasAgg(plots.wisn_ratio_chart(names, "en", year=2010)).draw()
    assert not [w for w in caught if "missing from font" in str(w.message)]
