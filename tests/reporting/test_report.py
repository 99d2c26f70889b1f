"""Report machinery: notebooks → HTML pages, run.json, index pages, atomic replacement."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import threading
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

from qzfp.errors import RunError, ScenarioError
from qzfp.reporting import batch as report
from qzfp.reporting import convert, execute, kernels, outcome, publish
from qzfp.reporting.batch import (
    NotebookFailed,
    ScenarioReport,
    exit_code,
    floor_benchmark,
    run_many,
    run_scenario,
    write_top_index,
)
from qzfp.reporting.datafiles import LaterFiles

NB_DIR = Path(__file__).parents[1] / "data" / "notebooks"
OK = NB_DIR / "ok.ipynb"
FAIL = NB_DIR / "fail.ipynb"

ALLOWANCE = 80.0  # [yuan/month]
POSTS = 500  # [post]


def annual_cost_text(allowance: float, posts: int) -> str:
    """What ok.ipynb prints: allowance × 12 months × posts."""
    return f"Annual allowance cost: {allowance * 12 * posts:,.0f} yuan"


def write_table(parameters: dict, folder: Path) -> dict[str, str]:
    """A report hook: writes one CSV and returns a key figure."""
    cost = parameters["allowance"] * 12 * parameters["posts"]
    (folder / "costs.csv").write_text(f"item,amount_yuan\nallowance,{cost}\n", encoding="utf-8")
    return {"Annual allowance cost [yuan]": f"{cost:,.0f}"}


def broken_hook(parameters: dict, folder: Path) -> None:
    (folder / "half_written.csv").write_text("a,b\n", encoding="utf-8")
    raise KeyError("budget")


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> tuple[Path, ScenarioReport]:
    out = tmp_path_factory.mktemp("reports")
    params = {"scenario_name": "baseline", "title": "Baseline", "allowance": ALLOWANCE, "posts": POSTS}
    rep = run_scenario(
        params,
        [OK],
        out,
        progress=False,
        key_figures={"Villages": "1,234"},
        extra_files=write_table,
        metadata={"register_sha256": "ab" * 32},
    )
    return out, rep


def test_a_run_writes_index_page_per_notebook_run_json_and_hook_files(baseline):
    out, rep = baseline
    folder = out / "baseline"
    assert rep.ok and rep.folder == folder
    assert {p.as_posix() for p in rep.files} == {"index.html", "ok.html", "run.json", "costs.csv", "assets/qzfp-cjk.ttf"}
    assert sorted(p.name for p in folder.iterdir()) == ["assets", "costs.csv", "index.html", "ok.html", "run.json"]
    assert not [p for p in out.iterdir() if ".tmp-" in p.name or ".old-" in p.name]
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o777 & ~umask  # not mkdtemp's 0700


def test_notebook_page_shows_the_printed_key_figure_and_no_code_or_parameters(baseline):
    out, _ = baseline
    page = (out / "baseline" / "ok.html").read_text(encoding="utf-8")
    assert annual_cost_text(ALLOWANCE, POSTS) in page
    assert "Allowance report" in page  # markdown is kept
    for code in ("import base64", "annual_cost =", "def _chunk", "allowance: float", "posts = 500",
                 f"allowance = {ALLOWANCE}", "scenario_name"):
        assert code not in page, code
    assert not re.search(r"^\s*import ", page, flags=re.MULTILINE)


def test_notebook_page_embeds_images_and_needs_no_network(baseline):
    out, _ = baseline
    for name in ("ok.html", "index.html"):
        page = (out / "baseline" / name).read_text(encoding="utf-8")
        srcs = re.findall(r"""\bsrc\s*=\s*["']?([^"' >]+)""", page, flags=re.IGNORECASE)
        assert all(s.startswith("data:") for s in srcs), srcs
        links = re.findall(r"""<link\b[^>]*>""", page, flags=re.IGNORECASE)
        assert not links, links
        assert "require.min.js" not in page and "mathjax" not in page.lower()
        assert "cdn" not in " ".join(srcs).lower()
    assert 'src="data:image/png;base64,' in (out / "baseline" / "ok.html").read_text(encoding="utf-8")
    assert "<style" in (out / "baseline" / "ok.html").read_text(encoding="utf-8")


def test_index_page_shows_key_figures_from_caller_and_hook_and_links_every_file(baseline):
    out, _ = baseline
    index = (out / "baseline" / "index.html").read_text(encoding="utf-8")
    assert "Villages" in index and "1,234" in index
    assert f"{ALLOWANCE * 12 * POSTS:,.0f}" in index
    for href in ("ok.html", "run.json", "costs.csv"):
        assert f'href="{href}"' in index


def test_run_json_records_versions_hashes_parameters_and_times(baseline):
    out, _ = baseline
    run = json.loads((out / "baseline" / "run.json").read_text(encoding="utf-8"))
    assert run["parameters"]["allowance"] == ALLOWANCE
    assert run["register_sha256"] == "ab" * 32
    assert re.fullmatch(r"[0-9a-f]{64}", run["scenario_sha256"])
    assert run["scenario_sha256"] == report.parameters_sha256(run["parameters"])
    for dist in ("python", "numpy", "pandas", "papermill", "nbconvert"):
        assert run["versions"][dist]
    assert set(run["notebook_duration_s"]) == {"ok.ipynb"}
    assert run["duration_s"] >= run["notebook_duration_s"]["ok.ipynb"] > 0
    assert run["started"] <= run["finished"]
    assert ["Villages", "1,234"] in run["key_figures"]


def test_run_json_hashes_change_when_parameters_change(baseline, tmp_path, monkeypatch):
    out, _ = baseline
    before = json.loads((out / "baseline" / "run.json").read_text(encoding="utf-8"))
    params = dict(before["parameters"], allowance=ALLOWANCE + 20)
    monkeypatch.chdir(tmp_path)  # a relative out_dir and a kernel cwd outside the report
    (tmp_path / "scratch").mkdir()
    rep = run_scenario(params, [OK.absolute()], Path("reports"), progress=False, cwd=Path("scratch"))
    assert rep.folder == tmp_path / "reports" / "baseline"
    assert {p.as_posix() for p in rep.files} == {"index.html", "ok.html", "run.json", "assets/qzfp-cjk.ttf"}
    after = json.loads((rep.folder / "run.json").read_text(encoding="utf-8"))
    assert after["scenario_sha256"] != before["scenario_sha256"]
    assert after["parameters_sha256"] != before["parameters_sha256"]
    assert annual_cost_text(ALLOWANCE + 20, POSTS) in (rep.folder / "ok.html").read_text(encoding="utf-8")


def test_failing_notebook_leaves_previous_report_byte_identical_and_names_notebook_cell_and_error(
    baseline, tmp_path
):
    out, _ = baseline
    shutil.copytree(out / "baseline", tmp_path / "baseline")
    before = snapshot(tmp_path / "baseline")
    params = json.loads((tmp_path / "baseline" / "run.json").read_text(encoding="utf-8"))["parameters"]
    with pytest.raises(NotebookFailed) as info:
        run_scenario(params, [FAIL], tmp_path, progress=False)
    err = info.value
    assert snapshot(tmp_path / "baseline") == before
    message = str(err)
    kept = tmp_path / ".failed" / "baseline" / "fail.ipynb"
    # cell 3 of the source notebook: markdown, parameters, print, raise
    assert err.cell_index == 3 and "cell 3" in message
    # In [n]: parameters cell, papermill's injected cell, the print cell, then the raise
    assert err.exec_count == 4 and "In [4]" in message
    assert "RuntimeError: deliberate failure for tests" in message
    assert str(FAIL) in message and str(kept) in message
    assert kept.is_file() and err.kept_at == kept
    assert isinstance(err, RunError)
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


def test_failing_hook_leaves_previous_report_untouched_and_names_the_hook(baseline, tmp_path):
    out, _ = baseline
    shutil.copytree(out / "baseline", tmp_path / "baseline")
    before = snapshot(tmp_path / "baseline")
    params = json.loads((tmp_path / "baseline" / "run.json").read_text(encoding="utf-8"))["parameters"]
    with pytest.raises(RunError, match=r"broken_hook.*KeyError"):
        run_scenario(params, [OK], tmp_path, progress=False, extra_files=broken_hook)
    assert snapshot(tmp_path / "baseline") == before
    assert [p.name for p in tmp_path.iterdir()] == ["baseline"]


def table_now_workbook_later(parameters: dict, folder: Path) -> LaterFiles:
    """A report hook answering in two parts: a CSV and the key figure now, a file later."""
    figures = write_table(parameters, folder)

    def later() -> None:
        if parameters.get("fail_later"):
            raise OSError(28, "No space left on device")
        (folder / "later.csv").write_text("written,after\n1,2\n", encoding="utf-8")

    return LaterFiles(figures, later)


def test_a_hook_answering_in_two_parts_has_both_parts_in_the_report_and_its_figures_on_the_index(tmp_path):
    params = {"scenario_name": "two", "allowance": ALLOWANCE, "posts": POSTS}
    rep = run_scenario(params, [OK], tmp_path, progress=False, extra_files=table_now_workbook_later)
    assert (rep.folder / "later.csv").read_text(encoding="utf-8") == "written,after\n1,2\n"
    assert rep.key_figures == {"Annual allowance cost [yuan]": f"{ALLOWANCE * 12 * POSTS:,.0f}"}
    index = (rep.folder / "index.html").read_text(encoding="utf-8")
    assert 'href="later.csv"' in index and f"{ALLOWANCE * 12 * POSTS:,.0f}" in index
    assert json.loads((rep.folder / "run.json").read_text(encoding="utf-8"))["key_figures"] == \
        [["Annual allowance cost [yuan]", f"{ALLOWANCE * 12 * POSTS:,.0f}"]]


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_failure_in_the_later_files_of_the_hook_keeps_the_previous_report_and_names_the_hook(
        baseline, tmp_path, jobs):
    out, _ = baseline
    shutil.copytree(out / "baseline", tmp_path / "baseline")
    before = snapshot(tmp_path / "baseline")
    params = json.loads((tmp_path / "baseline" / "run.json").read_text(encoding="utf-8"))["parameters"]
    reports = run_many([{**params, "fail_later": True}, {**params, "scenario_name": "other"}], [OK], tmp_path,
                       jobs=jobs, progress=False, extra_files=table_now_workbook_later)
    bad, good = reports
    assert not bad.ok and good.ok and exit_code(reports) == 2
    problem = str(bad.problems[0])
    assert "table_now_workbook_later" in problem and "No space left on device" in problem
    assert snapshot(tmp_path / "baseline") == before
    assert (good.folder / "later.csv").is_file()
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


def test_unknown_kernel_is_a_run_error_naming_the_notebook(tmp_path):
    params = {"scenario_name": "x", "allowance": 1.0, "posts": 1}
    with pytest.raises(RunError, match=r"ok\.ipynb.*no_such_kernel"):
        run_scenario(params, [OK], tmp_path, progress=False, kernel_name="no_such_kernel")
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    ("params", "notebooks", "match"),
    [
        ({"allowance": 1.0}, [OK], "scenario_name"),
        ({"scenario_name": "../up"}, [OK], "folder name"),
        ({"scenario_name": ".hidden"}, [OK], "folder name"),
        ({"scenario_name": "a"}, [NB_DIR / "missing.ipynb"], "missing.ipynb: notebook not found"),
        ({"scenario_name": "a"}, [], "at least one notebook"),
        ({"scenario_name": "a"}, [OK, OK], "both write ok.html"),
        ({"scenario_name": "a", "when": object()}, [OK], "JSON"),
    ],
)
def test_bad_input_is_rejected_before_any_kernel_starts(params, notebooks, match, tmp_path, monkeypatch):
    import papermill

    def no_kernel(*args, **kwargs):
        raise AssertionError("a kernel was started")

    monkeypatch.setattr(papermill, "execute_notebook", no_kernel)
    with pytest.raises(ScenarioError, match=match):
        run_scenario(params, notebooks, tmp_path, progress=False)
    assert not list(tmp_path.iterdir())


def test_two_scenarios_with_the_same_name_in_one_batch_are_rejected_naming_the_file(tmp_path):
    with pytest.raises(ScenarioError, match=r"params/a2\.yaml:scenario_name: 'a' is used by two"):
        run_many(
            [{"scenario_name": "a"}, {"scenario_name": "a"}], [OK], tmp_path, progress=False,
            metadata=[{"scenario_path": "params/a.yaml"}, {"scenario_path": "params/a2.yaml"}],
        )


def test_batch_options_that_do_not_fit_the_scenarios_are_rejected(tmp_path):
    with pytest.raises(ScenarioError, match="key_figures: expected 2 entries"):
        run_many([{"scenario_name": "a"}, {"scenario_name": "b"}], [OK], tmp_path, key_figures=[{}])
    with pytest.raises(ScenarioError, match="jobs: expected a positive"):
        run_many([{"scenario_name": "a"}], [OK], tmp_path, jobs=0)


def test_two_scenarios_with_two_jobs_both_land_and_the_top_index_lists_every_report(baseline, tmp_path):
    out, _ = baseline
    shutil.copytree(out / "baseline", tmp_path / "baseline")  # an earlier run's report
    params = [
        {"scenario_name": name, "title": f"Allowance {a:.0f}", "allowance": a, "posts": POSTS}
        for name, a in (("allow_100", 100.0), ("allow_120", 120.0))
    ]
    reports = run_many(params, [OK], tmp_path, jobs=2, progress=False, extra_files=write_table)
    assert [r.name for r in reports] == ["allow_100", "allow_120"]
    assert all(r.ok for r in reports) and exit_code(reports) == 0
    for p in params:
        page = (tmp_path / p["scenario_name"] / "ok.html").read_text(encoding="utf-8")
        assert annual_cost_text(p["allowance"], POSTS) in page
    top = (tmp_path / "index.html").read_text(encoding="utf-8")
    for name in ("baseline", "allow_100", "allow_120"):
        assert f'href="{name}/index.html"' in top
    assert f"{120.0 * 12 * POSTS:,.0f}" in top  # headline figure of each scenario
    assert "Allowance 100" in top


def test_a_failed_scenario_in_a_batch_gives_exit_code_2_and_does_not_stop_the_others(tmp_path):
    good = ScenarioReport(name="a", ok=True, folder=tmp_path / "a")
    bad = ScenarioReport(name="b", ok=False, folder=tmp_path / "b", problems=["x"])
    assert exit_code([good]) == 0
    assert exit_code([good, bad]) == 2


def test_run_many_reports_a_notebook_failure_as_a_failed_scenario(tmp_path):
    reports = run_many(
        [{"scenario_name": "f", "allowance": 1.0, "posts": 1}], [FAIL], tmp_path, progress=False
    )
    (rep,) = reports
    assert not rep.ok and exit_code(reports) == 2
    assert "RuntimeError: deliberate failure for tests" in str(rep.problems[0])
    assert rep.kept_at == tmp_path / ".failed" / "f" / "fail.ipynb"
    assert not (tmp_path / "f").exists()
    assert (tmp_path / "index.html").is_file()


def test_top_index_skips_hidden_and_unreadable_folders(tmp_path):
    (tmp_path / ".failed" / "x").mkdir(parents=True)
    (tmp_path / ".failed" / "x" / "run.json").write_text("{}", encoding="utf-8")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "run.json").write_text("not json", encoding="utf-8")
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "run.json").write_text(
        json.dumps({"scenario_name": "good", "title": "Good one", "key_figures": [["Posts", "7"]]}),
        encoding="utf-8",
    )
    page = write_top_index(tmp_path, lang="zh").read_text(encoding="utf-8")
    assert 'href="good/index.html"' in page and "Good one" in page and "Posts" in page
    assert "broken" not in page and ".failed" not in page
    assert "方案" in page


def test_replacing_a_report_restores_the_old_one_when_the_move_fails(tmp_path, monkeypatch):
    old = tmp_path / "s"
    old.mkdir()
    (old / "run.json").write_text("old", encoding="utf-8")
    new = tmp_path / ".s.tmp-1"
    new.mkdir()
    (new / "run.json").write_text("new", encoding="utf-8")
    real_replace = publish.os.replace

    def failing_replace(src, dst):
        if Path(src) == new:
            raise OSError("disk full")
        return real_replace(src, dst)

    monkeypatch.setattr(publish.os, "replace", failing_replace)
    with pytest.raises(OSError):
        publish.replace_dir(new, old)
    assert (old / "run.json").read_text(encoding="utf-8") == "old"
    monkeypatch.setattr(publish.os, "replace", real_replace)
    publish.replace_dir(new, old)
    assert (old / "run.json").read_text(encoding="utf-8") == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]


def test_floor_benchmark_executes_and_converts_empty_notebooks(tmp_path):
    seconds = floor_benchmark(1, tmp_path)
    assert seconds > 0
    assert (tmp_path / "empty_0.html").is_file()


def test_a_page_that_cannot_be_converted_keeps_the_executed_notebook_and_the_old_report(
    baseline, tmp_path, monkeypatch
):
    out, _ = baseline
    shutil.copytree(out / "baseline", tmp_path / "baseline")
    before = snapshot(tmp_path / "baseline")
    params = json.loads((tmp_path / "baseline" / "run.json").read_text(encoding="utf-8"))["parameters"]

    def cannot_convert(nb, title):
        raise ValueError("unsupported output")

    monkeypatch.setattr(execute, "notebook_to_html", cannot_convert)
    with pytest.raises(RunError, match=r"ok\.ipynb: .*converting to ok\.html failed: ValueError: unsupported output"):
        run_scenario(params, [OK], tmp_path, progress=False)
    assert snapshot(tmp_path / "baseline") == before
    assert (tmp_path / ".failed" / "baseline" / "ok.ipynb").is_file()


def test_a_kernel_runs_the_next_notebook_while_the_page_of_the_last_one_is_written(tmp_path, monkeypatch):
    # One kernel, two notebooks: the first page is written only once the second notebook has
    # run (it leaves a file behind), so the kernel must not wait for the page to be written.
    first = _notebook(tmp_path / "a.ipynb", "print('a')")
    second = _notebook(tmp_path / "b.ipynb", "open('b-ran', 'w').close()")
    work = tmp_path / "work"
    work.mkdir()
    convert_page = execute.notebook_to_html
    seen = []

    def after_the_next_notebook(nb, title):
        if not seen:
            seen.append((work / "b-ran").exists() or _wait_for(work / "b-ran"))
        return convert_page(nb, title)

    monkeypatch.setattr(execute, "notebook_to_html", after_the_next_notebook)
    rep = run_scenario({"scenario_name": "s"}, [first, second], tmp_path / "out", progress=False,
                       notebook_jobs=1, cwd=work)
    assert seen == [True]
    assert [p.name for p in rep.pages] == ["a.html", "b.html"] and all(p.is_file() for p in rep.pages)


def _wait_for(path: Path, limit_s: float = 120.0) -> bool:
    """True once ``path`` exists (False after ``limit_s``: the behaviour under test is missing)."""
    import time

    deadline = time.monotonic() + limit_s
    while not path.exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_pages_carry_the_shipped_cjk_font_so_chinese_shows_without_a_system_font(tmp_path):
    from qzfp.reporting.convert import notebook_to_html
    from qzfp.reporting.pages import ASSETS_DIR

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 衢州市计生协")])
    page = notebook_to_html(nb, "衢州")
    assert f'url("{ASSETS_DIR}/qzfp-cjk.ttf")' in page and '"qzfp CJK"' in page


# --------------------------------------------------------------------------- kernels


def _notebook(path: Path, *sources: str) -> Path:
    """A notebook with a parameters cell (``tag = ""``) and the given code cells."""
    cells = [nbformat.v4.new_code_cell('tag = ""', metadata={"tags": ["parameters"]})]
    cells += [nbformat.v4.new_code_cell(src) for src in sources]
    nb = nbformat.v4.new_notebook(
        cells=cells,
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    nbformat.write(nb, str(path))
    return path


def _outputs(executed: Path) -> str:
    nb = nbformat.read(str(executed), as_version=4)
    return "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))


def test_notebooks_sharing_a_kernel_see_a_fresh_namespace_and_count_cells_from_one(tmp_path):
    import os

    first = _notebook(tmp_path / "a.ipynb", "import os\nleft_over = 1\nprint('pid', os.getpid())")
    second = _notebook(
        tmp_path / "b.ipynb",
        "print('left_over' in globals(), 'os' in dir())\nimport os\nprint('pid', os.getpid())",
    )
    rep = run_scenario({"scenario_name": "warm", "tag": "x"}, [first, second], tmp_path / "out",
                       progress=False, notebook_jobs=1, keep_notebooks=True)
    a, b = (_outputs(rep.folder / "notebooks" / f"{s}.ipynb") for s in "ab")
    pid = re.search(r"pid (\d+)", a).group(1)
    assert f"pid {pid}" in b and int(pid) != os.getpid()  # one kernel ran both notebooks
    assert "True" not in b  # neither the variable nor the import of the first notebook is left
    nb_b = nbformat.read(str(rep.folder / "notebooks" / "b.ipynb"), as_version=4)
    counts = [c.execution_count for c in nb_b.cells if c.cell_type == "code"]
    assert counts == [1, 2, 3]  # parameters, papermill's injected cell, the code: as in a new kernel


def test_pages_keep_the_notebook_order_when_two_kernels_run_them(tmp_path):
    nbs = [_notebook(tmp_path / f"n{i}.ipynb", f"print('page {i}', tag)") for i in range(4)]
    rep = run_scenario({"scenario_name": "order", "tag": "ok"}, nbs, tmp_path / "out", progress=False,
                       notebook_jobs=2, extra_files=write_table_of_tag)
    assert [p.name for p in rep.pages] == [f"n{i}.html" for i in range(4)]
    for i in range(4):
        assert f"page {i} ok" in (rep.folder / f"n{i}.html").read_text(encoding="utf-8")
    assert list(rep.durations_s) == [f"n{i}.ipynb" for i in range(4)]
    assert rep.key_figures == {"tag": "ok"} and (rep.folder / "tag.csv").is_file()


def write_table_of_tag(parameters: dict, folder: Path) -> dict[str, str]:
    """A report hook writing one file (runs while the kernels run)."""
    (folder / "tag.csv").write_text(f"tag\n{parameters['tag']}\n", encoding="utf-8")
    return {"tag": parameters["tag"]}


def test_with_two_kernels_the_first_failing_notebook_in_order_is_named_and_nothing_is_replaced(
    baseline, tmp_path
):
    out, _ = baseline
    shutil.copytree(out / "baseline", tmp_path / "baseline")
    before = snapshot(tmp_path / "baseline")
    good = _notebook(tmp_path / "good.ipynb", "print('fine')")
    bad = _notebook(tmp_path / "bad.ipynb", "raise ValueError('first broken notebook')")
    worse = _notebook(tmp_path / "worse.ipynb", "raise KeyError('second broken notebook')")
    with pytest.raises(NotebookFailed) as info:
        run_scenario({"scenario_name": "baseline", "tag": ""}, [good, bad, worse], tmp_path,
                     progress=False, notebook_jobs=2, extra_files=write_table_of_tag)
    err = info.value
    assert err.notebook == bad and "ValueError: first broken notebook" in str(err)
    assert err.kept_at == tmp_path / ".failed" / "baseline" / "bad.ipynb" and err.kept_at.is_file()
    assert snapshot(tmp_path / "baseline") == before
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


def test_a_non_positive_number_of_kernels_is_rejected_before_any_kernel_starts(tmp_path):
    with pytest.raises(ScenarioError, match="notebook_jobs: expected a positive"):
        run_scenario({"scenario_name": "a"}, [OK], tmp_path, progress=False, notebook_jobs=0)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(("budget", "jobs", "n", "each"), [(2, 1, 1, 2), (2, 2, 2, 1), (8, 2, 3, 4),
                                                         (8, 3, 2, 4), (2, 4, 4, 1)])
def test_parallel_scenarios_share_the_kernel_budget(budget, jobs, n, each, monkeypatch):
    monkeypatch.setattr(kernels, "default_kernel_budget", lambda: budget)
    assert report.kernels_per_scenario(jobs, n) == each


def test_the_kernel_budget_is_at_least_two():
    assert report.default_kernel_budget() >= 2


def hook_with_bad_input(parameters: dict, folder: Path) -> None:
    """A report hook rejecting its input as a qzfp error would."""
    from qzfp.errors import Problem, RegisterError

    raise RegisterError(Problem("villages.csv:row 7", "table.negative_count", column="population", value=-3))


def test_a_bad_input_error_of_the_hook_keeps_its_class_and_location(tmp_path):
    from qzfp.errors import RegisterError

    with pytest.raises(RegisterError) as info:
        run_scenario({"scenario_name": "h", "allowance": 1.0, "posts": 1}, [OK], tmp_path,
                     progress=False, extra_files=hook_with_bad_input)
    (problem,) = info.value.problems
    assert problem.location == "villages.csv:row 7" and "population -3 is negative" in problem.message
    assert not (tmp_path / "h").exists()


def test_the_slow_iri_parser_is_hidden_only_while_nbformat_is_first_imported(monkeypatch):
    import importlib
    import sys

    monkeypatch.delitem(sys.modules, "jsonschema", raising=False)
    monkeypatch.delitem(sys.modules, "rfc3987_syntax", raising=False)
    with convert.without_iri_format_checker():
        with pytest.raises(ImportError):
            importlib.import_module("rfc3987_syntax")
    assert "rfc3987_syntax" not in sys.modules  # an explicit import afterwards is not blocked


# --------------------------------------------------------------------------- scenarios sharing kernels


def test_several_scenarios_run_their_notebooks_in_one_shared_kernel_with_separate_namespaces_and_folders(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(report, "default_kernel_budget", lambda: 1)  # one kernel for the whole batch
    nb = _notebook(
        tmp_path / "who.ipynb",
        "import os\nprint('seen', globals().get('left_over'), 'pid', os.getpid(), 'cwd', os.getcwd())\n"
        "left_over = tag\nopen('scratch.txt', 'w').write(tag)",
    )
    names = ("s1", "s2", "s3")
    seen: dict[str, str] = {}

    def hook(parameters: dict, folder: Path) -> dict[str, str]:  # a closure: not picklable
        seen[parameters["tag"]] = "ran"  # in the data-files process: invisible here
        return {"hook tag": parameters["tag"]}

    reports = run_many([{"scenario_name": n, "tag": n} for n in names], [nb], tmp_path / "out",
                       progress=False, extra_files=hook, keep_notebooks=True)
    assert [r.name for r in reports] == list(names) and exit_code(reports) == 0
    texts = [_outputs(r.folder / "notebooks" / "who.ipynb") for r in reports]
    pids = {re.search(r"pid (\d+)", t).group(1) for t in texts}
    assert len(pids) == 1  # one kernel ran the three scenarios
    assert all("seen None" in t for t in texts)  # no scenario saw another's variable
    for r, t in zip(reports, texts, strict=True):
        assert r.key_figures == {"hook tag": r.name}
        assert f".{r.name}.tmp-" in t  # the kernel worked in this scenario's own scratch folder
        assert not (r.folder / "scratch.txt").exists()  # ... which is not part of the report
    assert seen == {}


def test_a_failing_notebook_in_a_shared_batch_stops_only_its_scenario_and_keeps_its_previous_report(
    baseline, tmp_path, monkeypatch
):
    monkeypatch.setattr(report, "default_kernel_budget", lambda: 1)  # a deterministic order
    out, _ = baseline
    shutil.copytree(out / "baseline", tmp_path / "baseline")  # the previous report of the failing one
    before = snapshot(tmp_path / "baseline")
    first = _notebook(tmp_path / "first.ipynb", "if tag == 'bad':\n    raise ValueError('broken ' + tag)")
    second = _notebook(tmp_path / "second.ipynb", "print('second page', tag)")
    params = [{"scenario_name": "baseline", "tag": "bad"}, {"scenario_name": "other", "tag": "good"}]
    reports = run_many(params, [first, second], tmp_path, jobs=2, progress=False,
                       extra_files=write_table_of_tag, cost={"first": 2.0})
    bad, good = reports
    assert exit_code(reports) == 2 and not bad.ok and good.ok
    assert "ValueError: broken bad" in str(bad.problems[0]) and "first.ipynb" in str(bad.problems[0])
    assert bad.kept_at == tmp_path / ".failed" / "baseline" / "first.ipynb" and bad.kept_at.is_file()
    assert not (tmp_path / ".failed" / "baseline" / "second.ipynb").exists()  # never started
    assert snapshot(tmp_path / "baseline") == before
    assert "second page good" in (tmp_path / "other" / "second.html").read_text(encoding="utf-8")
    assert (tmp_path / "other" / "tag.csv").read_text(encoding="utf-8") == "tag\ngood\n"
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]
    assert 'href="other/index.html"' in (tmp_path / "index.html").read_text(encoding="utf-8")


def test_a_failing_hook_in_a_shared_batch_fails_only_its_scenario(tmp_path):
    def hook(parameters: dict, folder: Path) -> None:
        if parameters["tag"] == "bad":
            raise KeyError("budget")

    params = [{"scenario_name": "a", "tag": "bad"}, {"scenario_name": "b", "tag": "good"}]
    nb = _notebook(tmp_path / "n.ipynb", "print(tag)")
    a, b = run_many(params, [nb], tmp_path / "out", jobs=2, progress=False, extra_files=hook)
    assert not a.ok and b.ok
    assert "writing the data files" in str(a.problems[0]) and "KeyError" in str(a.problems[0])
    assert not (tmp_path / "out" / "a").exists() and (tmp_path / "out" / "b" / "n.html").is_file()


def _pool_of(stems_per_scenario: list[list[str]], cost: dict[str, float]) -> execute.NotebookPool:
    runs = [SimpleNamespace(notebooks=[Path(f"{s}.ipynb") for s in stems], failed=False, left=len(stems))
            for stems in stems_per_scenario]
    return execute.NotebookPool(runs, 2, kernel_name="python3", timeout=None, cost=cost)


def test_a_kernel_runs_the_same_notebook_of_the_next_scenario_while_others_take_other_notebooks():
    pool = _pool_of([["01", "04", "02"], ["01", "04", "02"]], {"01": 3.0, "04": 2.0, "02": 1.0})

    def take(kernel: str, last: str | None) -> tuple[int, str]:
        """What ``pool._next`` gives the kernel thread named ``kernel`` after ``last``."""
        got: list = []
        th = threading.Thread(target=lambda: got.append(pool._next(last)), name=kernel)
        th.start()
        th.join()
        sc, i = got[0]
        return next(k for k, r in enumerate(pool._runs) if r is sc), sc.notebooks[i].stem

    assert take("A", None) == (0, "01")  # costliest first
    assert take("B", None) == (0, "04")  # not 01 of the second scenario: kernel A is running 01
    assert take("A", "01") == (1, "01")  # A keeps to 01 (what the scenarios share is in A)
    assert take("B", "04") == (1, "04")
    assert take("A", "01") == (0, "02")  # no 01 left: the costliest notebook nobody is running
    assert take("B", "04") == (1, "02")  # only 02 left: taken although A is running 02


def test_with_one_scenario_the_kernels_take_the_notebooks_costliest_first():
    pool = _pool_of([["01", "02", "03", "04"]], {"01": 3.0, "04": 2.5})
    order = [pool._runs[0].notebooks[pool._todo.pop(pool._pick(None))[2]].stem for _ in range(4)]
    assert order == ["01", "04", "02", "03"]


def _papermill_error(source: str, cell_index: int) -> SimpleNamespace:
    """What papermill raises for a failing cell: its index counts the injected cell."""
    return SimpleNamespace(cell_index=cell_index, exec_count=4, source=source,
                           ename="RuntimeError", evalue="deliberate failure for tests")


def test_without_the_executed_notebook_the_failed_cell_is_found_by_its_source_not_papermills_index():
    # fail.ipynb: markdown, parameters, print, raise; papermill counts its injected cell: 4
    exc = _papermill_error('raise RuntimeError("deliberate failure for tests")', 4)
    err = outcome.notebook_failed("baseline", FAIL, exc, None)
    assert err.cell_index == 3 and "cell 3 (In [4])" in str(err)


def test_a_failed_cell_that_cannot_be_located_is_reported_as_unknown_not_by_papermills_index(tmp_path):
    exc = _papermill_error("print('a cell that is not in the notebook')", 4)
    err = outcome.notebook_failed("baseline", FAIL, exc, None)
    assert err.cell_index is None and "an unknown cell" in str(err)


def test_an_executed_notebook_without_cell_ids_is_mapped_by_position_without_the_injected_cell(tmp_path):
    nb = nbformat.read(str(FAIL), as_version=4)
    injected = nbformat.v4.new_code_cell("scenario_name = 'baseline'")
    injected.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(2, injected)
    nb.cells[4].metadata["papermill"] = {"exception": True}
    for cell in nb.cells:
        cell.pop("id", None)
    nb.nbformat_minor = 4  # before cell ids
    kept = tmp_path / "fail.ipynb"
    kept.write_text(json.dumps(nb), encoding="utf-8")
    exc = _papermill_error("", 4)  # no source text to match: the position must do
    assert outcome.notebook_failed("baseline", FAIL, exc, kept).cell_index == 3


def test_every_name_the_report_folder_uses_is_refused_as_a_scenario_name():
    # The rules refuse these names (a scenario folder would clash with them); the reporting
    # package lays out its output folder with them: the two lists must agree.
    from qzfp.reporting.outcome import FAILED_DIR
    from qzfp.reporting.pages import ASSETS_DIR, WORK_DIR
    from qzfp.rules.scenario_keys import RESERVED_NAMES

    assert {ASSETS_DIR, "index.html", FAILED_DIR, WORK_DIR} <= RESERVED_NAMES
