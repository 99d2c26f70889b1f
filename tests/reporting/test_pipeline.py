"""End to end: ``qzfp run`` on real scenario files and the real report notebooks."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from qzfp.cli import main
from qzfp.i18n import format_persons, format_yuan
from qzfp.model.run import simulate
from qzfp.reporting.run import REPORT_NOTEBOOKS, run_reports
from qzfp.reporting.workbook import read_budget_totals
from qzfp.rules.scenario import load_scenario

REPO = Path(__file__).resolve().parents[2]
PARAMS = REPO / "params"
FAIL = REPO / "tests" / "data" / "notebooks" / "fail.ipynb"


def small(tmp: Path, name: str, parent: str, lang: str = "en") -> Path:
    """A scenario file extending a shipped one with a 2-year horizon and few MC paths."""
    path = tmp / f"{name}.yaml"
    path.write_text(
        f"extends: {PARAMS / (parent + '.yaml')}\nscenario_name: {name}\nhorizon: 2\nmc_paths: 10\nlang: {lang}\n",
        encoding="utf-8",
    )
    return path


def tree_digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pipeline")
    base = small(tmp, "base", "baseline")
    variant = small(tmp, "t300", "threshold_300")
    out = tmp / "reports"
    rc = main(["run", str(base), str(variant), "--out", str(out), "--quiet", "--jobs", "2"])
    return tmp, out, rc, {"base": base, "t300": variant}


def test_qzfp_run_exits_0_and_writes_every_expected_file(reports):
    _, out, rc, files = reports
    assert rc == 0
    assert (out / "index.html").is_file()
    for name in files:
        folder = out / name
        for nb in REPORT_NOTEBOOKS:
            assert (folder / f"{nb}.html").is_file(), nb
        for f in ("index.html", "budget.xlsx", "run.json", "data/summary.csv", "data/budget.csv",
                  "data/population_villages.csv", "data/staffing.csv", "data/workload.csv",
                  "data/assumptions.csv"):
            assert (folder / f).is_file(), f


def test_the_result_csvs_read_back_to_the_models_tables_exactly(reports):
    import pandas as pd

    _, out, _, files = reports
    res = simulate(load_scenario(files["base"]))
    raw = (out / "base" / "data" / "workload.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, so Excel shows Chinese
    for stem in ("workload", "population_villages", "budget"):
        model = res.tables()[stem].reset_index(drop=True)
        text_cols = {c: str for c in model.columns if model[c].dtype != float and model[c].dtype != bool
                     and model[c].dtype != "int64"}
        back = pd.read_csv(out / "base" / "data" / f"{stem}.csv", encoding="utf-8-sig", dtype=text_cols,
                           keep_default_na=False,
                           na_values={c: [""] for c in model.columns if model[c].dtype == float})
        assert list(back.columns) == list(model.columns)
        for c in model.columns:
            if model[c].dtype == float:  # the shortest exact decimal: every bit comes back
                assert np.array_equal(back[c].to_numpy(float), model[c].to_numpy(float), equal_nan=True), c
            else:
                assert back[c].astype(str).tolist() == model[c].astype(str).tolist(), c


def test_a_batch_leaves_no_shared_table_folder_behind(reports):
    _, out, _, _ = reports
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]


def _tables() -> dict:
    import pandas as pd

    return {"villages": pd.DataFrame({"code": ["330802005001", "330802005002"], "population": [2151.0, 0.1]}),
            "budget": pd.DataFrame({"line": ["allowance"], "amount_yuan": [720.0]})}


def test_a_table_another_scenario_of_the_batch_wrote_is_copied_not_formatted_again(tmp_path, monkeypatch):
    from qzfp.reporting import run as pipeline

    written: list = []
    real = pipeline.write_csv
    monkeypatch.setattr(pipeline, "write_csv", lambda df, path: written.append(path.name) or real(df, path))
    cache, a, b = tmp_path / "cache", tmp_path / "a", tmp_path / "b"
    for d in (cache, a, b):
        d.mkdir()
    first = _tables()
    second = {**_tables(), "budget": first["budget"].assign(amount_yuan=1200.0)}  # a dearer allowance
    pipeline.write_tables(first, a, cache)
    pipeline.write_tables(second, b, cache)
    assert written == ["villages.csv", "budget.csv", "budget.csv"]  # the villages once for both
    assert (b / "villages.csv").read_bytes() == (a / "villages.csv").read_bytes()
    assert (b / "budget.csv").read_text(encoding="utf-8-sig").splitlines()[1] == "allowance,1200.0"
    (b / "villages.csv").write_text("edited", encoding="utf-8")  # a copy: the other report is untouched
    assert (a / "villages.csv").read_text(encoding="utf-8-sig").startswith("code,population")


def test_a_table_claimed_by_a_process_that_never_finishes_is_written_after_the_wait(tmp_path, monkeypatch):
    from qzfp.reporting import run as pipeline

    monkeypatch.setattr(pipeline, "SHARED_TABLE_WAIT_S", 0.05)
    cache, out = tmp_path / "cache", tmp_path / "out"
    cache.mkdir()
    out.mkdir()
    tables = _tables()
    (cache / f"{pipeline._table_key(tables['villages'])}.claim").write_text("", encoding="utf-8")  # died
    pipeline.write_tables(tables, out, cache)
    assert (out / "villages.csv").read_text(encoding="utf-8-sig").splitlines() == [
        "code,population", "330802005001,2151.0", "330802005002,0.1"]
    assert (out / "budget.csv").is_file()


def test_a_process_that_fails_on_a_claimed_table_releases_it_and_the_others_stop_waiting(
    tmp_path, monkeypatch
):
    import threading
    import time

    from qzfp.reporting import run as pipeline

    cache, out = tmp_path / "cache", tmp_path / "out"
    cache.mkdir()
    out.mkdir()
    tables = _tables()
    claim = cache / f"{pipeline._table_key(tables['villages'])}.claim"

    def disk_full(df, path):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(pipeline, "write_csv", disk_full)
        with pytest.raises(OSError, match="No space"):
            pipeline.write_tables(tables, out, cache)
    assert not claim.exists()  # released: nobody waits for a table that will never come

    claim.write_text("", encoding="utf-8")  # another process is writing it ...
    waiter = threading.Thread(target=pipeline.write_tables, args=(tables, out, cache))
    t0 = time.monotonic()
    waiter.start()
    time.sleep(0.2)
    claim.unlink()  # ... and gives up
    waiter.join(timeout=10)
    assert not waiter.is_alive() and time.monotonic() - t0 < pipeline.SHARED_TABLE_WAIT_S
    assert (out / "villages.csv").read_text(encoding="utf-8-sig").startswith("code,population")


def test_a_failing_hook_of_a_batch_is_named_like_the_hook(tmp_path, monkeypatch, capsys):
    from qzfp.reporting import run as pipeline

    def broken(parameters, folder, *, csv_cache=None):
        raise KeyError("budget")

    monkeypatch.setattr(pipeline, "data_files_hook", broken)
    files = [small(tmp_path, "a", "baseline"), small(tmp_path, "b", "allowance_100")]
    rc = run_reports(files, out=tmp_path / "out", progress=False,
                     notebooks=[REPO / "tests" / "data" / "notebooks" / "ok.ipynb"])
    err = capsys.readouterr().err
    assert rc == 2 and "broken" in err and "KeyError" in err
    assert "functools.partial" not in err and ".qzfp-tables-" not in err
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]


def test_without_a_shared_folder_every_table_is_written(tmp_path):
    from qzfp.reporting import run as pipeline

    pipeline.write_tables(_tables(), tmp_path, tmp_path / "not-there")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["budget.csv", "villages.csv"]


def test_every_chart_of_the_pages_carries_its_title_as_alternative_text(reports):
    from qzfp.i18n import t

    _, out, _, _ = reports
    pages = {nb: (out / "base" / f"{nb}.html").read_text(encoding="utf-8") for nb in REPORT_NOTEBOOKS}
    imgs = [m for html in pages.values() for m in re.findall(r"<img[^>]*>", html)]
    assert imgs and all('alt="' in m for m in imgs)
    assert "No description has been provided" not in "".join(pages.values())
    pyramid = t("chart.pyramid.title", "en", place=t("app.city", "en"), year=2006)
    assert f'alt="{pyramid}"' in pages["01_population"]


def test_the_pages_show_the_model_key_figures_and_no_input_code(reports):
    _, out, _, files = reports
    res = simulate(load_scenario(files["base"]))
    summary = res.summary()
    population = format_persons(summary["population"].iloc[0], "en")
    budget = format_yuan(summary["budget_yuan"].sum(), "en")
    index = (out / "base" / "index.html").read_text(encoding="utf-8")
    assert population in index and budget in index
    page = (out / "base" / "01_population.html").read_text(encoding="utf-8")
    assert population in page
    for nb in REPORT_NOTEBOOKS:
        html = (out / "base" / f"{nb}.html").read_text(encoding="utf-8")
        assert "import qzfp" not in html and "from qzfp" not in html
        assert "mc_paths: int" not in html  # no parameters cell
        assert not re.search(r"<script[^>]+src=[\"']https?://", html)


def test_the_workbook_reads_back_with_the_totals_of_results_budget(reports):
    _, out, _, files = reports
    for name, path in files.items():
        res = simulate(load_scenario(path))
        totals = read_budget_totals(out / name / "budget.xlsx")
        assert totals["total"] == pytest.approx(res.budget["amount_yuan"].sum(), rel=1e-9)
        by_year = res.budget.groupby("year")["amount_yuan"].sum()
        for year, amount in by_year.items():
            assert totals["by_year"][int(year)] == pytest.approx(amount, rel=1e-9)


def test_run_json_hashes_differ_between_scenarios_and_follow_the_scenario(reports):
    _, out, _, files = reports
    a = json.loads((out / "base" / "run.json").read_text(encoding="utf-8"))
    b = json.loads((out / "t300" / "run.json").read_text(encoding="utf-8"))
    assert a["scenario_sha256"] == load_scenario(files["base"]).sha256
    assert a["scenario_sha256"] != b["scenario_sha256"]
    assert a["register_sha256"] == b["register_sha256"]


def test_the_top_index_lists_both_scenarios(reports):
    _, out, _, _ = reports
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="base/index.html"' in index and 'href="t300/index.html"' in index


def test_a_failing_notebook_keeps_the_previous_report_and_exits_2(reports, tmp_path, capsys):
    _, out, _, files = reports
    work = tmp_path / "reports"
    shutil.copytree(out / "base", work / "base")
    before = tree_digest(work / "base")
    rc = run_reports([files["base"]], out=work, progress=False, notebooks=[FAIL])
    assert rc == 2
    err = capsys.readouterr().err
    assert "fail.ipynb" in err and "RuntimeError" in err
    assert tree_digest(work / "base") == before
    assert (work / ".failed" / "base" / "fail.ipynb").is_file()


def test_a_report_in_chinese_uses_chinese_headings_and_county_names(tmp_path):
    path = small(tmp_path, "zh", "baseline", lang="zh")
    out = tmp_path / "reports"
    assert run_reports([path], out=out, progress=False) == 0
    page = (out / "zh" / "01_population.html").read_text(encoding="utf-8")
    assert "柯城区" in page and "人口" in page
    index = (out / "zh" / "index.html").read_text(encoding="utf-8")
    assert "关键" in index
