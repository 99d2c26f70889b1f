"""`qzfp backtest`, `qzfp calibrate-migration` and `qzfp project`: any county of a census table,
projected to a later census and compared; the national back-test and its promises."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest

from qzfp.cli import main
from qzfp.register.census import CENSUS_2010, CENSUS_2020_OUTSIDE_ZHEJIANG

BASE, CHECK = str(CENSUS_2010), str(CENSUS_2020_OUTSIDE_ZHEJIANG)
COLUMNS = ["code", "name_zh", "indicator", "observed", "central", "p10", "p90"]


def _read(folder) -> pd.DataFrame:
    return pd.read_csv(folder / "backtest.csv", dtype={"code": str}, encoding="utf-8-sig")


def _check_rows() -> tuple[list[str], list[dict[str, str]]]:
    with open(CHECK, encoding="utf-8-sig") as fh:
        r = csv.DictReader(fh)
        return list(r.fieldnames or []), list(r)


def _write_check(path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=header)
        w.writeheader()
        w.writerows(rows)
    return path


@pytest.fixture(scope="module")
def sichuan(tmp_path_factory):
    out = tmp_path_factory.mktemp("bt") / "sc"
    assert main(["backtest", BASE, CHECK, "--codes", "5101,5103", "--paths", "60", "--seed", "4",
                 "--out", str(out)]) == 0
    return out


def test_the_backtest_writes_one_row_per_unit_and_indicator_for_the_units_in_both_tables(sichuan, capsys):
    df = _read(sichuan)
    assert list(df.columns) == COLUMNS
    assert set(df["indicator"]) == {"resident_total", "share_60plus", "share_65plus"}
    assert df["code"].str.startswith(("5101", "5103")).all()
    # every unit compared is a county-level row of both tables with the same code and name
    header, rows = _check_rows()
    check = {r["code"]: r["name_zh"] for r in rows}
    for code, name in df[["code", "name_zh"]].drop_duplicates().itertuples(index=False):
        assert check[code] == name
    tot = df[df["indicator"] == "resident_total"].set_index("code")
    for code in tot.index[:3]:  # the observed total is the check table's age groups summed
        row = next(r for r in rows if r["code"] == code)
        assert tot.loc[code, "observed"] == pytest.approx(sum(float(row[k]) for k in header if k[:2] in ("m_", "f_")))
    assert (df["p10"] <= df["central"] * 1.5).all() and (df["p10"] <= df["p90"]).all()


def test_the_same_seed_writes_the_same_file_and_another_seed_other_bands(sichuan, tmp_path):
    assert main(["backtest", BASE, CHECK, "--codes", "5101,5103", "--paths", "60", "--seed", "4",
                 "--out", str(tmp_path / "again")]) == 0
    assert (tmp_path / "again" / "backtest.csv").read_bytes() == (sichuan / "backtest.csv").read_bytes()
    assert main(["backtest", BASE, CHECK, "--codes", "5101,5103", "--paths", "60", "--seed", "5",
                 "--out", str(tmp_path / "other")]) == 0
    a, b = _read(sichuan), _read(tmp_path / "other")
    assert (a["central"] == b["central"]).all() and not (a["p10"] == b["p10"]).all()


def test_the_check_tables_numbers_never_reach_the_projection(sichuan, tmp_path):
    header, rows = _check_rows()
    doubled = [{k: (str(2 * float(v)) if k[:2] in ("m_", "f_") or k in ("resident", "urban") else v)
                for k, v in r.items()} if r["code"].startswith("51") else r for r in rows]
    path = _write_check(tmp_path / "doubled.csv", header, doubled)
    assert main(["backtest", BASE, str(path), "--codes", "5101,5103", "--paths", "60", "--seed", "4",
                 "--out", str(tmp_path / "d")]) == 0
    a, b = _read(sichuan), _read(tmp_path / "d")
    for col in ("central", "p10", "p90"):
        np.testing.assert_array_equal(a[col].to_numpy(), b[col].to_numpy())
    tot = a["indicator"] == "resident_total"
    np.testing.assert_allclose(b.loc[tot, "observed"].to_numpy(), 2 * a.loc[tot, "observed"].to_numpy())


def test_a_unit_renamed_in_the_check_table_is_not_compared(sichuan, tmp_path):
    header, rows = _check_rows()
    first = _read(sichuan)["code"].iloc[0]
    renamed = [dict(r, name_zh=r["name_zh"] + "新") if r["code"] == first else r for r in rows]
    path = _write_check(tmp_path / "renamed.csv", header, renamed)
    assert main(["backtest", BASE, str(path), "--codes", "5101,5103", "--paths", "0",
                 "--out", str(tmp_path / "r")]) == 0
    df = _read(tmp_path / "r")
    assert first not in set(df["code"]) and len(df) == len(_read(sichuan)) - 3
    assert df["p10"].isna().all()  # no paths, no band


@pytest.mark.parametrize("args, where", [
    (["--codes", "51x"], "--codes"),
    (["--codes", "99"], "--codes"),
    (["--check-date", "2009-01-01"], "--check-date"),
    (["--check-date", "1 Nov 2020"], "--check-date"),
    (["--paths", "-3"], "--paths"),
    (["--paths", "10001"], "--paths"),
    (["--seed", "-1"], "--seed"),
    (["--check-date", "2010-12-01"], "--check-date"),  # after the census, before the first 1 January
])
def test_bad_options_are_refused_with_exit_1_and_the_option_named(args, where, tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["backtest", BASE, CHECK, "--out", str(out), *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{where}: ") and "Traceback" not in err
    assert not (out / "backtest.csv").exists()


def test_a_missing_check_table_is_refused_in_chinese_under_lang_zh(tmp_path, capsys):
    assert main(["--lang", "zh", "backtest", BASE, str(tmp_path / "nowhere.csv"), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "nowhere.csv" in err and "无法读取普查表" in err and "Traceback" not in err


def test_a_table_of_counts_only_is_refused_as_the_base(tmp_path, capsys):
    assert main(["backtest", CHECK, CHECK, "--out", str(tmp_path / "o")]) == 1
    assert "counts residents only" in capsys.readouterr().err


def test_qzfp_project_writes_both_populations_of_the_counties_asked_for(tmp_path, capsys):
    assert main(["project", "--codes", "330822", "--until", "2015-06-01", "--out", str(tmp_path / "p")]) == 0
    df = pd.read_csv(tmp_path / "p" / "projection.csv", dtype={"code": str}, encoding="utf-8-sig")
    assert set(df["code"]) == {"330822"} and set(df["basis"]) == {"registered", "resident"}
    assert df["year"].min() == 2011 and df["year"].max() == 2016
    out = capsys.readouterr().out
    assert "2011:" in out and "2016:" in out


def test_calibrating_the_migration_model_on_three_provinces_beats_nothing_changes(tmp_path, capsys):
    assert main(["calibrate-migration", BASE, CHECK, "--codes", "51,52,53", "--paths", "20",
                 "--out", str(tmp_path / "c")]) == 0
    values = dict(line.split(": ") for line in (tmp_path / "c" / "calibration.yaml").read_text().splitlines())
    for key in ("migration.resident.intercept", "uncertainty.migration_sd", "uncertainty.mortality_level_sd"):
        assert key in values
    errors = pd.read_csv(tmp_path / "c" / "errors.csv", encoding="utf-8-sig")
    total = errors[(errors["indicator"] == "resident_total") & (errors["sample"] == "in-sample")].iloc[0]
    assert total["error"] < total["naive_error"]
    assert set(errors["sample"]) == {"in-sample", "leave one province out"}
    assert "uncertainty.migration_prefecture_share" in values


@pytest.mark.parametrize("args, where", [(["--codes", "110101"], "--codes"), (["--codes", "51"], "--codes"),
                                         (["--codes", "51,52,53", "--paths", "5"], "--paths")])
def test_a_calibration_on_too_few_units_provinces_or_paths_is_refused(args, where, tmp_path, capsys):
    assert main(["calibrate-migration", BASE, CHECK, *args, "--out", str(tmp_path / "c")]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{where}: ") and "Traceback" not in err
    assert not (tmp_path / "c" / "calibration.yaml").exists()


def test_qzfp_project_refuses_a_date_before_its_first_year_naming_until(tmp_path, capsys):
    assert main(["project", "--codes", "330822", "--until", "2009-01-01", "--out", str(tmp_path / "p")]) == 1
    assert capsys.readouterr().err.startswith("--until: ")


def test_the_national_backtest_keeps_the_promises_of_its_bands_and_matches_the_shipped_summary(tmp_path):
    # every county outside Zhejiang, 500 paths: the 80 % bands hold 70-90 % of the 2020
    # outcomes, the resident totals miss by at most 0.8 times what "nothing changes" misses,
    # the shares aged 60+ by at most 1.5 points (median); and the summary the population page
    # quotes (qzfp/data/backtest_2010_2020.csv) is this run's
    assert main(["backtest", BASE, CHECK, "--paths", "500", "--seed", "0", "--out", str(tmp_path)]) == 0
    s = pd.read_csv(tmp_path / "summary.csv", encoding="utf-8-sig").set_index("indicator")
    for ind in ("resident_total", "share_60plus", "prefecture_total"):  # a city's band too
        assert 70 <= s.loc[ind, "coverage_pct"] <= 90, ind
    assert s.loc["resident_total", "error"] <= 0.8 * s.loc["resident_total", "naive_error"]
    assert s.loc["share_60plus", "error"] <= 1.5
    assert s.loc["resident_total", "units"] > 2000
    shipped = pd.read_csv(CENSUS_2010.parent / "backtest_2010_2020.csv", encoding="utf-8-sig").set_index("indicator")
    pd.testing.assert_frame_equal(s, shipped, rtol=1e-9)


def test_a_prefecture_total_is_checked_only_where_the_later_census_compares_two_of_its_counties():
    from qzfp.model.backtest import prefecture_groups

    codes = np.array(["330802", "330803", "330822", "330102", "330103", "110101"])
    compared = np.array([True, True, True, True, False, True])  # 330103 is not in the later census
    groups = prefecture_groups(codes, compared)
    # Quzhou (3308) has three compared counties; Hangzhou (3301) one once 330103 is left out;
    # Beijing's (1101) only county stands alone
    assert groups.tolist() == ["3308", "3308", "3308", "", "", ""]
    assert prefecture_groups(codes).tolist() == ["3308", "3308", "3308", "3301", "3301", ""]
