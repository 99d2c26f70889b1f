"""The one atomic publish and the data-files hook's outcome as plain data."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import pytest

from qzfp.errors import Label, Problem, RegisterError, RunError
from qzfp.reporting.datafiles import (
    HookRunner,
    LaterFiles,
    call_hook,
    can_fork,
    hook_error,
    hook_pool,
    pool_outcome,
)
from qzfp.reporting.publish import atomic_path, copy_file, locked_tempdir, unlock_dir, write_text


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_a_file_written_atomically_replaces_the_old_one_only_when_complete(tmp_path):
    target = tmp_path / "index.html"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(OSError, match="disk full"), atomic_path(target) as part:
        part.write_text("half", encoding="utf-8")
        raise OSError("disk full")
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.html"]  # no partial file left
    write_text(target, "new")
    assert target.read_text(encoding="utf-8") == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~_umask()  # not mkstemp's 0600


def test_a_copy_error_names_the_file_written_not_the_source(tmp_path):
    with pytest.raises(OSError) as err:
        copy_file(tmp_path / "font.otf", tmp_path / "no-such-folder" / "font.otf")
    assert str(tmp_path / "no-such-folder" / "font.otf") in str(err.value)


def test_a_locked_temporary_folder_has_the_mode_of_any_new_folder(tmp_path):
    folder, lock = locked_tempdir(".s.tmp-", tmp_path)
    try:
        assert folder.name.startswith(".s.tmp-") and folder.parent == tmp_path
        assert stat.S_IMODE(folder.stat().st_mode) == 0o777 & ~_umask()
    finally:
        unlock_dir(lock)


def _bad_register_hook(parameters: dict, folder: Path) -> None:
    raise RegisterError([Problem("villages.csv:17", "table.negative_count", column="population", value="-3"),
                         Problem("villages.csv:18", "expected", what=Label("expect.number"), got="'x'")])


def _crashing_hook(parameters: dict, folder: Path) -> None:
    raise KeyError("budget_line")


def test_a_hook_error_crosses_as_its_class_name_and_problems_and_is_rebuilt(tmp_path):
    outcome = call_hook(_bad_register_hook, {}, tmp_path)
    assert json.loads(json.dumps(outcome)) == {  # plain data: nothing but text, lists and dicts
        "problems": [["villages.csv:17", "table.negative_count", {"column": "population", "value": "-3"}],
                     ["villages.csv:18", "expected", {"what": {"label": ["expect.number", {}]}, "got": "'x'"}]],
        "kind": "RegisterError"}
    err = hook_error(outcome, _bad_register_hook, "s")
    assert isinstance(err, RegisterError)
    assert err.lines("en") == ["villages.csv:17: population -3 is negative (expected a number ≥ 0)",
                               "villages.csv:18: expected a number, got 'x'"]
    assert err.lines("zh")[1] == "villages.csv:18: 应为数字，实际为'x'"  # ids and fields, not English text


def test_any_other_hook_failure_is_a_run_error_naming_the_hook_and_the_exception(tmp_path):
    outcome = call_hook(_crashing_hook, {}, tmp_path)
    assert outcome == {"failure": "KeyError: 'budget_line'"}
    err = hook_error(outcome, _crashing_hook, "s")
    assert isinstance(err, RunError)
    assert "writing the data files (_crashing_hook) failed: KeyError: 'budget_line'" in str(err)
    assert hook_error(call_hook(lambda p, f: {"Total": 3}, {}, tmp_path), _crashing_hook, "s") is None


@pytest.mark.skipif(not can_fork(), reason="data-files processes are forked")
def test_a_closure_reaches_the_forked_data_files_processes_and_its_figures_come_back_as_text(tmp_path):
    seen = []

    def hook(parameters: dict, folder: Path) -> dict:
        seen.append(parameters["tag"])  # in the data-files process: invisible here
        (folder / f"{parameters['tag']}.csv").write_text(str(os.getpid()), encoding="utf-8")
        return {"Total": 1234.5}

    pool = hook_pool(hook, 2)
    try:
        futures = [pool.submit({"tag": tag}, tmp_path) for tag in ("a", "b")]
        outcomes = [pool_outcome(f) for f in futures]
    finally:
        pool.shutdown()
    assert outcomes == [{"value": {"Total": "1234.5"}}] * 2
    assert seen == []
    assert {int((tmp_path / f"{t}.csv").read_text(encoding="utf-8")) for t in "ab"} != {os.getpid()}
    runner = HookRunner(hook, {"tag": "c"}, tmp_path, "c")
    assert runner.wait() == {"value": {"Total": "1234.5"}}


def test_the_warm_kernel_engine_is_registered_through_papermills_public_registry():
    from papermill.engines import papermill_engines

    from qzfp.reporting.kernels import WARM_ENGINE, warm_engine

    assert warm_engine() == WARM_ENGINE
    engine = papermill_engines.get_engine(WARM_ENGINE)
    assert engine.__name__ == "WarmKernelEngine"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_data_tables_are_written_byte_for_byte_as_pandas_writes_them(tmp_path, lang):
    # write_csv formats float columns itself (faster); the file must be what pandas' own
    # to_csv(encoding="utf-8-sig") writes: the same shortest float texts, NaN as "", the BOM
    import numpy as np
    import pandas as pd

    from qzfp.model.run import simulate
    from qzfp.reporting.folders import write_csv
    from qzfp.rules.scenario import Scenario

    tables = simulate(Scenario.from_parameters(lang=lang, horizon=3)).tables()
    tables["edges"] = pd.DataFrame({
        "f": [1e16, np.nan, -0.0, np.inf, -np.inf, 5e-324, 0.1, 1 / 3, 1e-5, 1e15 + 0.5],
        "text": ["a", "x,y", 'q"', "", None, "中文", "\n", "b", "c", "d"],
        "n": np.arange(10),
        "f32": np.full(10, 0.1, dtype=np.float32),
    })
    tables["one_float_column"] = pd.DataFrame({"only": [np.nan, 1.0, np.nan]})
    tables["no_rows"] = pd.DataFrame({"x": pd.Series([], dtype=float)})
    tables["same_names"] = pd.DataFrame([[1.5, 2.25]], columns=["a", "a"])
    for name, df in tables.items():
        df.to_csv(tmp_path / "pandas.csv", index=False, encoding="utf-8-sig")
        write_csv(df, tmp_path / "ours.csv")
        assert (tmp_path / "ours.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes(), name


def _two_part_hook(parameters: dict, folder: Path) -> LaterFiles:
    """Writes ``<tag>.first`` and answers; writes ``<tag>.later`` when told to go on."""
    (folder / f"{parameters['tag']}.first").write_text("1", encoding="utf-8")
    return LaterFiles({"Tag": parameters["tag"]},
                      lambda: (folder / f"{parameters['tag']}.later").write_text("2", encoding="utf-8"))


def _runners(kind: str, tmp_path: Path, tags: tuple[str, ...]) -> tuple[list, object]:
    if kind == "pool":
        pool = hook_pool(_two_part_hook, len(tags), len(tags))  # a worker each: both wait at once
        return [pool.start({"tag": t}, tmp_path) for t in tags], pool
    return [HookRunner(_two_part_hook, {"tag": t}, tmp_path, t) for t in tags], None


@pytest.mark.skipif(not can_fork(), reason="data-files processes are forked")
@pytest.mark.parametrize("kind", ["pool", "process"])
def test_a_hook_answering_in_two_parts_writes_its_later_files_only_when_released_and_never_when_cancelled(
        tmp_path, kind):
    import time

    jobs, pool = _runners(kind, tmp_path, ("a", "b"))
    try:
        assert [j.first() for j in jobs] == [{"value": {"Tag": "a"}}, {"value": {"Tag": "b"}}]
        time.sleep(0.3)  # what the hook would have written by now, were it not waiting
        assert sorted(p.name for p in tmp_path.iterdir()) == ["a.first", "b.first"]
        jobs[1].cancel()
        assert jobs[0].wait() == {"value": {"Tag": "a"}}
        assert (tmp_path / "a.later").read_text(encoding="utf-8") == "2"
        jobs[1].release()  # too late: cancelled
        assert jobs[1].wait() == {"value": {"Tag": "b"}} and not (tmp_path / "b.later").exists()
    finally:
        if pool is not None:
            pool.shutdown()


def test_a_failure_in_the_later_files_is_the_outcome_after_a_first_answer_of_figures(tmp_path):
    def hook(parameters: dict, folder: Path) -> LaterFiles:
        return LaterFiles({"Total": 3}, lambda: (_ for _ in ()).throw(KeyError("budget_line")))

    firsts = []
    outcome = call_hook(hook, {}, tmp_path, first=firsts.append, go_on=lambda: True)
    assert firsts == [{"value": {"Total": "3"}}]
    assert outcome == {"failure": "KeyError: 'budget_line'"}
    assert call_hook(hook, {}, tmp_path, go_on=lambda: False) == {"value": {"Total": "3"}}  # skipped


@pytest.mark.skipif(not hasattr(os, "setpriority"), reason="thread niceness is Linux's")
def test_the_later_files_are_written_at_a_lower_priority_and_their_failure_is_raised_to_the_caller():
    from qzfp.reporting.datafiles import LATER_NICENESS, in_lower_priority

    def mine() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    before, seen = mine(), []
    in_lower_priority(lambda: seen.append(mine()))
    assert seen == [max(LATER_NICENESS, before)]
    assert mine() == before  # the calling thread keeps its priority
    with pytest.raises(KeyError, match="budget_line"):
        in_lower_priority(lambda: {}["budget_line"])
