"""`qzfp plan`: the best plan under a budget ceiling.

Expected values come from the definitions (a frontier is the running best of coverage
by cost; the best plan is the highest coverage whose cost is within the ceiling), from
hand-built engine results, and from plain ``simulate`` runs of the written scenario
files, never from the plan code's own output.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qzfp.cli import main
from qzfp.errors import ParameterError, QzfpError
from qzfp.model.plan import (
    DEFAULT_OBJECTIVE,
    OBJECTIVES,
    best_plan,
    coverage,
    evaluate_plans,
    frontier,
    parse_ceiling,
    parse_range,
    parse_vary,
    plan,
    plan_scenario_text,
)
from qzfp.model.run import run_arrays, simulate
from qzfp.rules.scenario import load_scenario

REPO = Path(__file__).resolve().parents[2]
SMALL_REGISTER = REPO / "tests" / "data" / "registers" / "small"

ALLOWANCE = "village.vice_president.allowance"
THRESHOLD = "village.vice_president.population_threshold"
TOWNSHIP_POSTS = "township.vice_president.posts_per_township"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def small(tmp_path: Path) -> Path:
    """The small register over 2006..2012 with allowances indexed at 5 %/year and a township
    allowance decreed in 2004 (so a year's cost depends on earlier years)."""
    return write(tmp_path / "small.yaml", f"""\
scenario_name: small
register: {SMALL_REGISTER}
start_year: 2006
horizon: 6
mc_paths: 0
overrides:
  costs.allowance_indexation_rate: 0.05
  township.vice_president.post_allowance:
    "2004-01-01": 150
    "2010-01-01": 180
""")


# --------------------------------------------------------------------------- parsing


def test_a_range_start_stop_step_includes_both_ends():
    assert parse_range("60:120:10", "--vary x") == [60, 70, 80, 90, 100, 110, 120]
    assert parse_range("0.5:1.5:0.25", "--vary x") == [0.5, 0.75, 1.0, 1.25, 1.5]
    assert parse_range("60:65:10", "--vary x") == [60]  # STOP not on the grid: not passed


def test_a_range_may_list_values_separated_by_commas():
    assert parse_range("60,80,100", "--vary x") == [60, 80, 100]
    assert parse_range("500", "--vary x") == [500]


@pytest.mark.parametrize("text, says", [
    ("60:120", "START:STOP:STEP"),
    ("60:120:0", "step must be > 0"),
    ("120:60:10", "STOP must not be below START"),
    ("60;80", "values separated by commas"),
    ("sixty", "values separated by commas"),
    ("60,60", "given twice"),
    ("0:1000000:1", "at most"),
])
def test_a_bad_range_is_refused_with_the_syntax_expected(text, says):
    with pytest.raises(ParameterError) as info:
        parse_range(text, "--vary village.vice_president.allowance")
    (problem,) = info.value.problems
    assert problem.location == "--vary village.vice_president.allowance"
    assert says in problem.message


def test_a_vary_option_without_equals_sign_or_given_twice_is_refused():
    with pytest.raises(ParameterError) as info:
        parse_vary(["village.vice_president.allowance", f"{THRESHOLD}=300", f"{THRESHOLD}=400"])
    text = str(info.value)
    assert "expected PATH=RANGE" in text and "given twice" in text


@pytest.mark.parametrize("text, expected", [
    ("1200000", 1_200_000.0), ("1,200,000", 1_200_000.0), ("120万", 1_200_000.0), ("120万元", 1_200_000.0),
    ("80%", 0.8 * 2_000_000.0), ("1.5e6", 1_500_000.0),
])
def test_a_ceiling_is_yuan_or_ten_thousands_or_a_share_of_the_baseline(text, expected):
    assert parse_ceiling(text, 2_000_000.0) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["lots", "-5", "80%%", "1,2,3", "12,34万"])  # separators only in groups of three
def test_a_bad_ceiling_is_refused_at_the_option(text):
    with pytest.raises(ParameterError) as info:
        parse_ceiling(text, 1.0)
    assert info.value.problems[0].location == "--ceiling"


# --------------------------------------------------------------------------- frontier and choice


def _table(costs, covers):
    return pd.DataFrame({"budget_yuan": costs, "people_covered": covers,
                         "townships_staffed": 0.0, "posts_filled_pct": 0.0})


def test_the_frontier_keeps_the_plans_no_cheaper_plan_matches():
    # plan: 0    1    2    3    4    5
    t = _table([100, 90, 120, 120, 150, 130],
               [10, 10, 15, 18, 17, 18])
    fr = frontier(t, "people_covered")
    # 90 → 10 (plan 1 beats the equally good but dearer plan 0); 120 → 18 (plan 3, better
    # than plan 2 at the same cost); plans 4 and 5 buy nothing more
    assert fr["plan"].tolist() == [1, 3]
    assert fr["budget_yuan"].tolist() == [90, 120]


def test_a_mistyped_ceiling_is_refused_before_any_plan_is_evaluated(monkeypatch):
    import qzfp.model.plan.choice as choice

    def evaluated(*a, **k):
        raise AssertionError("the grid ran before the ceiling was checked")

    monkeypatch.setattr(choice, "evaluate_plans", evaluated)
    with pytest.raises(ParameterError, match="--ceiling"):
        plan("baseline", {"village.vice_president.allowance": [40, 60]}, 2010, "abc")


def test_the_best_plan_is_the_most_coverage_within_the_ceiling_and_then_the_cheapest():
    t = _table([100, 90, 120, 125, 150], [10, 10, 15, 15, 20])
    assert best_plan(t, 95, "people_covered") == 1
    assert best_plan(t, 119.99, "people_covered") == 1
    assert best_plan(t, 130, "people_covered") == 2  # 15 at 120 rather than 15 at 125
    assert best_plan(t, 1e9, "people_covered") == 4


def test_a_ceiling_below_the_cheapest_plan_is_a_clear_error():
    t = _table([100, 90, 120], [10, 10, 15])
    with pytest.raises(ParameterError) as info:
        best_plan(t, 89.5, "people_covered")
    (p,) = info.value.problems
    assert p.location == "--ceiling"
    assert "below the cheapest plan of the grid (90 yuan)" in p.message


def test_an_unknown_objective_names_the_closest():
    with pytest.raises(ParameterError, match="did you mean 'people_covered'"):
        frontier(_table([1], [1]), "people_coverd")


# --------------------------------------------------------------------------- coverage measures


def test_coverage_measures_of_a_hand_built_result():
    from types import SimpleNamespace

    from qzfp.model.workload import CadreWisn, WisnResult

    # two plans, one year, three villages of 1000, 400 and 600 people
    village_pop = np.array([[[1000.0, 400.0, 600.0]]])
    vps = np.array([[[1.0, 0.0, 1.0]], [[1.0, 1.0, 1.0]]])
    st = SimpleNamespace(village_vice_presidents=vps, village_pop=np.broadcast_to(village_pop, (2, 1, 3)), n=2)

    def cadre(required, provided):
        z = np.zeros((2, 1))
        return CadreWisn("c", "x", z + 1, z, z + 1, z, z, np.array(required, dtype=float),
                         np.array(provided, dtype=float))

    village = cadre([[[0.5, 0.5, 0.5]], [[0.5, 0.5, 0.5]]], vps)
    # two townships: ratios 2/1.5 ≥ 1 and 1/1.25 < 1; plan 1: 1/0.8 and 2/2, both ≥ 1
    township = cadre([[[1.5, 1.25]], [[0.8, 2.0]]], [[[2.0, 1.0]], [[1.0, 2.0]]])
    county = cadre([[[4.0]], [[4.0]]], [[[3.0]], [[3.0]]])
    wr = WisnResult(np.array([2010]), st, {"village_vice_president": village,
                                           "township_vice_president": township,
                                           "county_secretariat": county})
    br = SimpleNamespace(year_total=np.array([[7.0], [9.0]]))
    out = coverage(SimpleNamespace(staffing=st, workload=wr, budget=br))
    assert out["budget_yuan"].tolist() == [7.0, 9.0]
    assert out["people_covered"].tolist() == [1600.0, 2000.0]
    assert out["townships_staffed"].tolist() == [1.0, 2.0]
    # plan 0: filled = min(1,.5)+0+min(1,.5) + 1.5+1 + 3 = 6.5 of 1.5 + 2.75 + 4 = 8.25
    # plan 1: filled = 1.5 + 0.8 + 2 + 3 = 7.3 of 1.5 + 2.8 + 4 = 8.3
    assert out["posts_filled_pct"] == pytest.approx([100 * 6.5 / 8.25, 100 * 7.3 / 8.3])


def test_people_covered_on_the_small_register_are_the_people_of_villages_with_a_vice_president(small):
    g = evaluate_plans(small, {THRESHOLD: [300, 500, 700]}, 2009)
    res = simulate(small)
    villages = res.staffing_villages
    pop = villages[villages["year"] == 2009].set_index("village_code")["population"]
    for threshold, covered in zip(g.table[THRESHOLD], g.table["people_covered"], strict=True):
        # the register's villages are whole persons as the rule counts them (rounding 1)
        expected = pop[pop.round() >= threshold].sum()
        assert covered == pytest.approx(expected, rel=1e-12)
    # the 700-person threshold leaves out the villages of 620, 510, 450 ... in 2009 too
    assert g.table["people_covered"].is_monotonic_decreasing


# --------------------------------------------------------------------------- on the engines


@pytest.fixture
def small_plan(small):
    grid = {ALLOWANCE: [40, 60, 90, 120], THRESHOLD: [300, 450, 600], TOWNSHIP_POSTS: [1, 2]}
    return small, grid, evaluate_plans(small, grid, 2011, chunk=5)


def test_every_plan_of_the_grid_equals_a_full_run_of_its_rules(small_plan):
    from qzfp.model.run import prepare_register

    small, grid, g = small_plan
    s = load_scenario(small)
    pa = s.arrays()
    iy = list(s.years).index(2011)
    updates = {p: g.table[p].to_numpy() for p in grid}
    ar = run_arrays(prepare_register(s), pa.with_values(updates))
    np.testing.assert_allclose(g.table["budget_yuan"], ar.budget.year_total[:, iy], rtol=1e-12)
    vp = ar.staffing.village_vice_presidents[:, iy] > 0
    np.testing.assert_allclose(g.table["people_covered"],
                               (ar.staffing.village_pop[:, iy] * vp).sum(axis=-1), rtol=1e-12)
    twn = ar.workload["township_vice_president"].ratio[:, iy]
    np.testing.assert_array_equal(g.table["townships_staffed"], (twn >= 1).sum(axis=-1))


def test_the_frontier_of_a_grid_is_monotone_and_every_choice_fits_its_ceiling(small_plan):
    _, _, g = small_plan
    for objective, (column, _) in OBJECTIVES.items():
        fr = frontier(g.table, objective)
        assert (np.diff(fr["budget_yuan"]) > 0).all()
        assert (np.diff(fr[column]) > 0).all()
        cost, cover = g.table["budget_yuan"].to_numpy(), g.table[column].to_numpy()
        best_so_far = -np.inf
        for ceiling in np.linspace(cost.min(), cost.max() * 1.01, 40):
            i = best_plan(g.table, ceiling, objective)
            assert cost[i] <= ceiling
            assert cover[i] == cover[cost <= ceiling].max()  # nothing within the ceiling does better
            assert cover[i] >= best_so_far  # more money never buys less
            best_so_far = cover[i]
            # the frontier's answer for this budget is the same coverage
            assert fr[fr["budget_yuan"] <= ceiling][column].max() == cover[i]


def test_the_chosen_plan_equals_a_plain_simulate_of_the_written_scenario_file(small, tmp_path):
    grid = {ALLOWANCE: [40, 80, 120], THRESHOLD: [300, 500, 700], TOWNSHIP_POSTS: [1, 2],
            "township.vice_president.post_allowance": [150, 250]}
    base = simulate(small).summary().set_index("year").loc[2011, "budget_yuan"]
    p = plan(small, grid, 2011, base * 1.02, objective="posts_filled")
    f = write(tmp_path / "plan.yaml", plan_scenario_text(p))
    res = simulate(f)  # a plain run of the file, as `qzfp run` would read it
    summary = res.summary().set_index("year").loc[2011]
    assert p.figures["budget_yuan"] == pytest.approx(summary["budget_yuan"], rel=1e-12)
    assert p.figures["budget_yuan"] <= p.ceiling
    assert p.figures["people_covered"] == pytest.approx(
        summary["population"] - summary["people_without_village_vp"], rel=1e-12)
    w = res.workload[res.workload["year"] == 2011]
    twn = w[w["cadre"] == "township_vice_president"]
    assert p.figures["townships_staffed"] == (twn["ratio"] >= 1).sum()
    filled = np.minimum(w["provided"], w["required"]).sum() / w["required"].sum() * 100
    assert p.figures["posts_filled_pct"] == pytest.approx(filled, rel=1e-12)
    # the file says where it came from and sets every lever as an override
    text = f.read_text(encoding="utf-8")
    assert text.startswith("# Written by `qzfp plan` from scenario small")
    assert f"ceiling {p.ceiling:,.2f} yuan" in text
    s = load_scenario(f)
    for path, value in p.levers.items():
        assert s.value(path, 2006) == value
        assert "qzfp plan" in s.parameter(path).dated_value_at(__import__("datetime").date(2011, 1, 1)).reference


def test_a_lever_that_moves_the_population_or_does_not_exist_is_refused(small):
    with pytest.raises(ParameterError, match="moves the population projection"):
        evaluate_plans(small, {"demography.fertility.tfr": [1.0, 1.5]}, 2008)
    with pytest.raises(ParameterError) as info:
        evaluate_plans(small, {"village.vice_president.alowance": [40, 60]}, 2008)
    assert "did you mean 'village.vice_president.allowance'" in str(info.value)
    assert info.value.problems[0].location == "--vary village.vice_president.alowance"


def test_a_lever_value_outside_the_parameters_range_or_a_year_not_modelled_is_refused(small):
    with pytest.raises(ParameterError, match="negative amount"):
        evaluate_plans(small, {ALLOWANCE: [-10, 60]}, 2008)
    with pytest.raises(ParameterError, match=r"2030 is not modelled .*2006\.\.2012"):
        evaluate_plans(small, {ALLOWANCE: [40, 60]}, 2030)


def test_the_default_objective_is_people_in_villages_with_a_vice_president():
    assert DEFAULT_OBJECTIVE == "people_covered"
    assert OBJECTIVES[DEFAULT_OBJECTIVE][0] == "people_covered"


# --------------------------------------------------------------------------- command line


def test_qzfp_plan_writes_the_scenario_frontier_chart_and_changes(small, tmp_path, capsys):
    out = tmp_path / "reports"
    code = main(["plan", str(small), "--year", "2010", "--ceiling", "100%", "--quiet", "--out", str(out),
                 "--vary", f"{ALLOWANCE}=40:100:20", "--vary", f"{THRESHOLD}=300,500,700"])
    printed = capsys.readouterr().out
    assert code == 0
    folder = out / "plan-small-2010"
    names = {p.name for p in folder.iterdir()}
    assert {"plan.yaml", "frontier.csv", "changes.csv", "frontier.png", "index.html"} <= names
    assert "Best plan for 2010 under a ceiling of" in printed
    changes = pd.read_csv(folder / "changes.csv", encoding="utf-8-sig").set_index("item")
    # the baseline column is the scenario as it is: 60 yuan/month, 500 persons
    assert changes.at[ALLOWANCE, "baseline"] == 60
    assert changes.at[THRESHOLD, "baseline"] == 500
    budget = changes.loc["budget_yuan"]
    assert budget["plan"] <= budget["baseline"]  # a 100 % ceiling: no dearer than the baseline
    # the written scenario runs: its 2010 budget is the one in changes.csv
    res = simulate(folder / "plan.yaml")
    assert res.summary().set_index("year").at[2010, "budget_yuan"] == pytest.approx(budget["plan"], rel=1e-12)
    fr = pd.read_csv(folder / "frontier.csv", encoding="utf-8-sig")
    assert (np.diff(fr["budget_yuan"]) > 0).all() and (np.diff(fr["people_covered"]) > 0).all()
    assert main(["validate", str(folder / "plan.yaml")]) == 0


def test_qzfp_plan_with_a_ceiling_below_the_cheapest_plan_exits_1_and_keeps_the_last_output(
        small, tmp_path, capsys):
    out = tmp_path / "reports"
    args = ["plan", str(small), "--year", "2010", "--quiet", "--out", str(out), "--vary", f"{ALLOWANCE}=40,60"]
    assert main([*args, "--ceiling", "100%"]) == 0
    before = (out / "plan-small-2010" / "plan.yaml").read_text(encoding="utf-8")
    capsys.readouterr()
    assert main([*args, "--ceiling", "1000"]) == 1
    err = capsys.readouterr().err
    assert "--ceiling: 1,000 yuan is below the cheapest plan of the grid" in err
    assert "Traceback" not in err
    assert (out / "plan-small-2010" / "plan.yaml").read_text(encoding="utf-8") == before


def test_qzfp_plan_with_a_bad_vary_names_the_option_and_the_closest_path(small, tmp_path, capsys):
    args = ["plan", str(small), "--year", "2010", "--ceiling", "1e9", "--quiet", "--out", str(tmp_path)]
    assert main([*args, "--vary", "village.vice_president.allowanse=40:100:10"]) == 1
    assert "did you mean 'village.vice_president.allowance'" in capsys.readouterr().err
    assert main([*args, "--vary", f"{ALLOWANCE}=40-100"]) == 1
    assert "expected START:STOP:STEP" in capsys.readouterr().err
    assert not any(tmp_path.glob("plan-*"))


def test_the_chinese_plan_tables_and_title_have_no_english(small, tmp_path):
    from qzfp.reporting.folders import plan_headline, plan_tables

    zh = write(tmp_path / "small_zh.yaml", f"extends: {small}\nscenario_name: small_zh\nlang: zh\n"
                                           f"title: 小型登记册\n")
    p = plan(zh, {ALLOWANCE: [40, 60], THRESHOLD: [300, 500]}, 2010, "100%")
    changes, fr = plan_tables(p, "zh")
    text = " ".join([plan_headline(p, "zh"), changes.to_string(), " ".join(map(str, fr.columns)),
                     " ".join(map(str, fr.iloc[:, -1]))])
    assert not re.search(r"[A-Za-z]", text.replace("WISN", "")), text
    head = load_scenario(write(tmp_path / "plan.yaml", plan_scenario_text(p)))
    assert not re.search(r"[A-Za-z]", head.title.replace("WISN", "")), head.title


def test_a_plan_of_a_scenario_that_is_not_found_is_bad_input(tmp_path, capsys):
    assert main(["plan", str(tmp_path / "nope.yaml"), "--year", "2010", "--ceiling", "1", "--quiet",
                 "--vary", f"{ALLOWANCE}=40"]) == 1
    assert "Traceback" not in capsys.readouterr().err


def test_qzfp_error_is_the_base_of_plan_errors():
    assert issubclass(ParameterError, QzfpError)


# --------------------------------------------------------------------------- explorer


def test_the_explorer_ceiling_moves_the_levers_to_the_best_plan_it_fits(small):
    from qzfp.explore import Explorer
    from qzfp.explore.levers import PLAN_LEVER_VALUES

    ex = Explorer(small)
    ex.controls["year"].value = 2010
    start = ex.figures()
    # the field starts at the settings' own budget of the start year; a tighter ceiling
    ceiling = 0.97 * start["budget_yuan"]
    p = ex.plan_to_ceiling(ceiling)
    after = ex.figures()  # the explorer's own full run of the moved levers
    assert after["budget_yuan"] <= ceiling
    row = p.table.iloc[p.chosen]
    assert after["budget_yuan"] == pytest.approx(row["budget_yuan"], rel=1e-12)
    # nothing in the grid within the ceiling covers more people
    within = p.table[p.table["budget_yuan"] <= ceiling]
    assert row["people_covered"] == within["people_covered"].max()
    for key in PLAN_LEVER_VALUES:
        assert ex.controls[key].value == p.settings[key]
    assert "<svg" in ex.plan_html.value  # the frontier with the ceiling marked


def test_the_explorer_ceiling_at_the_current_budget_never_loses_coverage(small):
    from qzfp.explore import Explorer

    ex = Explorer(small)
    before = ex.model.plans(ex.settings(), ex.model.start_year)[1]
    p = ex.plan_to_ceiling()  # the field's default: the current budget, rounded up
    row = p.table.iloc[p.chosen]
    assert row["budget_yuan"] <= ex.ceiling.value
    assert row["people_covered"] >= before["people_covered"]


def test_the_explorer_ceiling_below_every_plan_says_so_and_leaves_the_levers(small):
    from qzfp.explore import Explorer

    ex = Explorer(small)
    settings = ex.settings()
    with pytest.raises(ParameterError):
        ex.plan_to_ceiling(1000)
    assert ex.settings() == settings
    assert "No setting of the levers fits under 1,000 yuan" in ex.plan_html.value


def test_the_progress_bar_of_the_plans_speaks_the_scenarios_language(small, capsys):
    from chinese import english_words

    from qzfp.i18n import t
    from qzfp.reporting.run import load_scenarios

    zh = load_scenarios([small], lang="zh")[0]  # as qzfp --lang zh plan loads it
    evaluate_plans(zh, {THRESHOLD: [300, 500, 700]}, 2009, progress=True)
    err = capsys.readouterr().err
    assert t("progress.plan", "zh", scenario="small", year=2009) in err and t("progress.plans", "zh") in err
    assert english_words(err, {"small"}) == [], err  # "3/3 [00:00<00:00, 91.3个方案/s]"
