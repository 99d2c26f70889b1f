"""Forecasts a demographer would sign (issue 21): the mothers' own fertility, migration that
fades, honest Monte Carlo widths, the register moved to the start year, counted fallbacks,
policies from their date, one engine for a register and for any county of a census table."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from qzfp.model import cohort
from qzfp.model.assumptions import demography_param_arrays
from qzfp.model.base import calibrate, calibrate_counties
from qzfp.model.county import census_indicators_at, project_census
from qzfp.model.migration import migration_sd
from qzfp.model.montecarlo import draw_paths, monte_carlo
from qzfp.model.projection import project
from qzfp.register import load_register
from qzfp.register.census import load_census

CHANGSHAN = "330822"


@pytest.fixture(scope="module")
def register():
    return load_register()


def _index(register, code: str) -> int:
    return register.counties["county_code"].astype(str).tolist().index(code)


# --- 1. fertility from mothers and children who match -----------------------------------------


def test_a_county_whose_young_women_work_away_keeps_its_births_when_more_of_them_leave(register):
    # Changshan's children stay while their mothers work away: counted against the resident
    # women only, its "TFR" is 1.9; the mothers' own rate (resident and absent women) is 1.06.
    # Its first projected year's births stay near the births of the census children, instead
    # of falling by 30 % as soon as more women leave (2,049 against 2,940 before)
    r = project(register, demography_param_arrays(np.arange(2011, 2014)))
    cal = r.calibration
    i = _index(register, CHANGSHAN)
    assert cal.tfr_effective[i] > 1.7 and cal.tfr[i] < 1.2
    census_births = cal.achieved[i, 0] * cal.census_resident[i] / 1e3
    first = r.county_births_resident[0, 0, i].sum()
    assert abs(first / census_births - 1) < 0.10


def test_where_registered_women_outnumber_residents_at_every_age_resident_births_are_the_registered_ones(register):
    # all children of absent mothers live at home (left_behind_share 1): the births counted in
    # the county are those of its registered mothers
    r = project(register, demography_param_arrays(np.arange(2011, 2016)))
    i = _index(register, CHANGSHAN)
    women = r.county_pop[0, :, i, 1, 15:50] >= r.county_pop_resident[0, :, i, 1, 15:50]
    assert women.all()
    np.testing.assert_allclose(r.county_births_resident[0, :, i], r.county_births[0, :, i], rtol=1e-12)
    # with no left-behind children the resident births are those of the resident women alone
    none = project(register, demography_param_arrays(np.arange(2011, 2016), {"fertility.left_behind_share": 0}))
    assert none.county_births_resident[0, 1, i].sum() < 0.8 * r.county_births_resident[0, 1, i].sum()


# --- 2. migration as a dated assumption that fades ---------------------------------------------


def test_no_countys_migration_rate_is_carried_forward_for_ever(register):
    pa = demography_param_arrays(np.arange(2011, 2061))
    r = project(register, pa)
    i = _index(register, CHANGSHAN)
    pop = r.county_pop_resident[0, :, i].sum(axis=(-2, -1))
    rate = r.county_net_migration_resident[0, :, i].sum(axis=(-2, -1)) / pop * 1e3
    half = pa["demography.migration.resident.half_life"][0, 0]
    # after one half-life the rate is half of what it was
    assert rate[int(half)] == pytest.approx(0.5 * rate[0], rel=0.02)
    assert abs(rate[-1]) < 0.25 * abs(rate[0])


# --- 3. bands as wide as ten-year county forecasts really miss ---------------------------------


def test_a_countys_migration_deviation_is_persistent_and_as_wide_as_the_rulebook_says(register):
    pa = demography_param_arrays(np.arange(2011, 2022))
    cal = calibrate(register, pa)
    d = draw_paths(pa, cal, 20_000, seed=3)
    p = "demography.uncertainty.migration_sd"
    sd = migration_sd(cal.features, pa[p][0, 0], {f: pa[f"{p}_{f}"][0, 0]
                                                  for f in ("district", "inflow_share", "outflow_share")})[0]
    np.testing.assert_allclose(d.mig_dev.std(axis=0), sd, rtol=0.03)
    # Quzhou's six counties share the Zhejiang part and the Quzhou part of their deviations:
    # their correlation is the sum of the two shares of the variance
    share = (pa["demography.uncertainty.migration_regional_share"][0, 0]
             + pa["demography.uncertainty.migration_prefecture_share"][0, 0])
    corr = np.corrcoef(d.mig_dev[:, 2], d.mig_dev[:, 3])[0, 1]
    assert corr == pytest.approx(share, abs=0.03)


def test_the_citys_resident_band_ten_years_ahead_is_as_wide_as_its_counties_deviations_make_it(register):
    # ten years of a persistent deviation d per mille a year move a county's residents by about
    # 10 d / 1000 in log; the city band is the sum of its counties' (correlated) moves.  Before,
    # independent yearly shocks shared by all counties gave the city ±1.7 %.
    pa = demography_param_arrays(np.arange(2011, 2022))
    r = monte_carlo(register, pa, 2000, seed=11)
    pop = r.city_indicators(resident=True)["resident_pop"][:, -1]
    q10, q90 = np.percentile(pop, [10, 90])
    assert (q90 - q10) / np.median(pop) > 0.08
    cal = r.calibration
    p = "demography.uncertainty.migration_sd"
    sd = migration_sd(cal.features, pa[p][0, 0], {f: pa[f"{p}_{f}"][0, 0]
                                                  for f in ("district", "inflow_share", "outflow_share")})[0]
    i = _index(register, CHANGSHAN)
    log_county = np.log(r.county_pop_resident[:, -1, i].sum(axis=(-2, -1)))
    assert log_county.std() == pytest.approx(sd[i] * 10 / 1e3, rel=0.15)


# --- 4. the register's year ----------------------------------------------------------------------


def test_the_registered_base_is_the_register_moved_from_its_year_to_the_start(register):
    # the packaged register counts 2006: a projection starting in 2011 starts from those totals
    # moved by five years of the engine's own growth, not from the 2006 totals
    census = load_census()
    codes = register.counties["county_code"].astype(str).to_numpy()
    totals = np.bincount(register.village_county, register.villages["population"].to_numpy(), minlength=len(codes))
    cal = calibrate(register, demography_param_arrays(np.arange(2011, 2013)))
    grown_2011 = calibrate_counties(census, codes, 2011).base_pop.sum(axis=(1, 2))
    grown_2006 = calibrate_counties(census, codes, 2006).base_pop.sum(axis=(1, 2))
    np.testing.assert_allclose(cal.base_pop.sum(axis=(1, 2)), totals * grown_2011 / grown_2006, rtol=1e-9)
    assert not np.allclose(cal.base_pop.sum(axis=(1, 2)), totals, rtol=1e-3)


# --- 5. every clip, fallback and non-convergence counted and shown ----------------------------------


def test_a_backward_step_that_stops_at_the_iteration_limit_is_counted(register, monkeypatch):
    monkeypatch.setattr(cohort, "BACK_ITER", 1)
    cal = calibrate_counties(load_census(), np.array(["330822", "330802"]), 2006)
    assert cal.diagnostics.back_not_converged > 0 and cal.diagnostics.back_residual > 0
    assert any(p.id == "diag.back_not_converged" for p in cal.diagnostics.warnings())


def test_the_county_at_the_edge_of_the_plausible_life_expectancy_is_counted(register):
    d = project(register, demography_param_arrays(np.arange(2011, 2016))).diagnostics
    assert [c for c, _ in d.e0_bounded] == ["330802"]  # Kecheng: census deaths of 4.26 per mille
    assert any(p.id == "diag.e0_bounded" and "330802" in p.text() for p in d.warnings())


def test_out_migration_beyond_a_cohorts_survivors_is_capped_and_counted(register):
    # a Monte Carlo path can draw a deviation of several hundred per mille a year for a county;
    # the cohorts it would empty lose their survivors and no more, and each cap is counted
    from qzfp.model.mortality import mortality_from
    from qzfp.model.projection import Draws, project_calibrated

    pa = demography_param_arrays(np.arange(2011, 2014))
    cal = calibrate(register, pa)
    c = len(cal.mort_mult)
    draws = Draws(np.zeros((1, 3)), np.zeros((1, 3)), np.full((1, c), -600.0), np.zeros((1, c)), np.zeros((1, c)))
    from qzfp.model.assumptions import yearly_assumptions

    out = project_calibrated(cal, pa, yearly_assumptions(pa, "medium"), mortality_from(pa), None, draws)
    assert out["diagnostics"].capped > 0
    assert (out["pop"] >= 0).all()


def test_monte_carlo_clips_of_the_tfr_and_the_life_expectancy_are_counted(register):
    pa = demography_param_arrays(np.arange(2011, 2031), {"uncertainty.tfr_sd": 1.5, "uncertainty.e0_gain_sd": 2.0})
    d = monte_carlo(register, pa, 200, seed=1).diagnostics
    assert d.paths == 200 and d.tfr_floored > 0 and d.e0_clipped > 0
    kinds = {p.id for p in d.warnings()}
    assert "diag.mc_clipped" in kinds


def test_qzfp_summary_prints_a_warning_line_for_each_kind_of_event(capsys):
    from qzfp.cli import main

    assert main(["summary", "baseline"]) == 0
    err = capsys.readouterr().err
    assert "warning: population:" in err and "330802" in err and "e0=82.0" in err


def test_run_json_and_the_population_page_hold_the_engines_counts(tmp_path):
    from qzfp.reporting.run import run_reports

    path = tmp_path / "s.yaml"
    path.write_text("extends: baseline\nscenario_name: s\nhorizon: 2\nmc_paths: 10\n", encoding="utf-8")
    assert run_reports([path], out=tmp_path / "out", progress=False) == 0
    run = json.loads((tmp_path / "out" / "s" / "run.json").read_text(encoding="utf-8"))
    assert run["population_diagnostics"]["e0_bounded"][0]["code"] == "330802"
    page = (tmp_path / "out" / "s" / "01_population.html").read_text(encoding="utf-8")
    assert "needed a life expectancy outside the plausible band" in page
    assert "How good is this method?" in page


# --- 7. one engine for a register and for any county of a census table -------------------------------


def test_a_census_county_projection_is_the_register_projection_of_the_same_county():
    # a one-county register holding the census-derived registered total of Changshan at its
    # start year: the register projection and the census projection are the same numbers
    census = load_census()
    proj = project_census(census, [CHANGSHAN], until=dt.date(2015, 6, 1))
    total = float(proj.pop[0, 0, 0].sum())
    counties = pd.DataFrame({"county_code": [CHANGSHAN], "name_zh": ["常山县"], "name_en": ["Changshan"]})
    townships = pd.DataFrame({"township_code": [CHANGSHAN + "001"], "county_code": [CHANGSHAN], "kind": ["town"],
                              "urban": [False]})
    villages = pd.DataFrame({"village_code": [CHANGSHAN + "001001"], "township_code": [CHANGSHAN + "001"],
                             "county_code": [CHANGSHAN], "urban": [False], "population": [total],
                             "in_migrants": [0]})
    reg = SimpleNamespace(counties=counties, townships=townships, villages=villages, village_township=np.array([0]),
                          village_county=np.array([0]), township_county=np.array([0]), sha256="one-changshan",
                          year=int(proj.years[0]), source="tests")
    r = project(reg, demography_param_arrays(proj.years))
    np.testing.assert_allclose(r.county_pop_resident[0, :, 0], proj.pop[:, 1, 0], rtol=1e-9)
    np.testing.assert_allclose(r.county_pop[0, :, 0], proj.pop[:, 0, 0], rtol=1e-9)


def test_the_paths_of_a_census_projection_do_not_depend_on_how_the_counties_are_chunked(monkeypatch):
    import qzfp.model.county as county

    census = load_census()
    codes = ["330822", "330802", "110101", "110102"]
    whole = census_indicators_at(census, codes, dt.date(2020, 11, 1), n_paths=40, seed=5)
    monkeypatch.setattr(county, "_CHUNK_CELLS", 1)  # one county at a time
    chunked = census_indicators_at(census, codes, dt.date(2020, 11, 1), n_paths=40, seed=5)
    np.testing.assert_allclose(chunked["quantiles"], whole["quantiles"], rtol=1e-12)
    np.testing.assert_allclose(chunked["central"], whole["central"], rtol=1e-12)
    assert whole["quantiles"].shape == (2, 3, 4)


# --- after the second read -------------------------------------------------------------------------


def test_a_county_moved_back_before_the_census_runs_at_what_it_did_in_the_2000s(register):
    # Longyou lost people slowly in 2000-2010 (368,157 -> 362,380) though the national model
    # expects it to lose them fast after 2010: its 2006 base lies between its two censuses
    # (moved back at the 2010s' rate it came out at 397,525)
    cal = calibrate(register, demography_param_arrays(np.arange(2006, 2008)))
    i = _index(register, "330825")
    assert 362_380 * 0.99 < cal.base_resident[i].sum() < 368_157 * 1.01


def test_the_paths_spread_only_after_the_census_they_start_from(register):
    # a projection starting in 2006 passes the 2010 census: until then every path is the central one
    pa = demography_param_arrays(np.arange(2006, 2016))
    mc = monte_carlo(register, pa, 50, seed=2)
    central = project(register, pa)
    res = mc.county_pop_resident.sum(axis=(-2, -1))  # (paths, T, C)
    np.testing.assert_allclose(res[:, :5], np.broadcast_to(central.county_pop_resident[:, :5].sum(axis=(-2, -1)),
                                                           res[:, :5].shape), rtol=1e-9)
    assert res[:, -1].std(axis=0).min() > 0


def test_overridden_assumptions_keep_the_policies_dates_and_a_later_start_keeps_their_catch_up():
    from qzfp.model.assumptions import yearly_assumptions

    years = np.arange(2013, 2020)
    plain = yearly_assumptions(demography_param_arrays(years), "medium").tfr_factor
    other = yearly_assumptions(demography_param_arrays(years, {"migration.net_rate": 0.0}), "medium").tfr_factor
    np.testing.assert_array_equal(other, plain)
    later = yearly_assumptions(demography_param_arrays(np.arange(2017, 2020)), "medium").tfr_factor
    np.testing.assert_allclose(later[0], plain[0, 4:], rtol=1e-12)  # 2017 is 2017 whatever the start
    # a rule set by a sweep from the first year counts as in force long before: no catch-up
    pa = demography_param_arrays(years, {"fertility.policy.response": 1.0})
    swept = pa.with_values({"demography.fertility.policy.universal_two_child": np.ones((1, len(years)))})
    f = yearly_assumptions(swept, "medium").tfr_factor[0]
    sel = pa["demography.fertility.policy.selective_two_child_effect"][0, 0]
    uni = pa["demography.fertility.policy.universal_two_child_effect"][0, 0]
    assert f[0] == pytest.approx(1 + uni, abs=1e-9) and f[-1] == pytest.approx(1 + sel + uni, abs=1e-9)


def test_the_counties_of_one_prefecture_share_more_of_their_deviation_than_those_of_one_province(register):
    census = load_census()
    codes = np.array(["330802", "330803", "330102", "110101"])  # Kecheng, Qujiang; Hangzhou; Beijing
    pa = demography_param_arrays(np.arange(2011, 2013))
    cal = calibrate_counties(census, codes, 2011)
    d = draw_paths(pa, cal, 40_000, seed=8)
    s_r = pa["demography.uncertainty.migration_regional_share"][0, 0]
    s_f = pa["demography.uncertainty.migration_prefecture_share"][0, 0]
    corr = np.corrcoef(d.mig_dev.T)
    assert corr[0, 1] == pytest.approx(s_r + s_f, abs=0.02)  # one prefecture
    assert corr[0, 2] == pytest.approx(s_r, abs=0.02)  # one province, two prefectures
    assert abs(corr[0, 3]) < 0.02  # two provinces
