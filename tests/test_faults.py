"""Fault injection: killed runs, concurrent runs, a full disk and a read-only output folder.

Every test runs ``qzfp run`` as a user would (a separate process) on a short scenario and
checks what a user sees: the exit code, one line per problem and no traceback, the
previous report byte-identical, nothing half-written visible, and the next run working.
Bounded in time (each run ~15-25 s on 2 cores); the disk tests need a tmpfs mount (root).
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qzfp.reporting.publish import STALE_TEMP_AGE_S, locked_tempdir, remove_stale_temporaries

REPO = Path(__file__).resolve().parents[1]
RUN_TIMEOUT_S = 300
#: What the kernel and its libraries print on their own (never shown to a user).
KERNEL_NOISE = ("[IPKernelApp]", "IPKernelApp", "ZMQError", "Traceback", "zmq.error")


def _scenario(folder: Path, name: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(f"extends: {REPO / 'params' / 'baseline.yaml'}\nscenario_name: {name}\n"
                    "horizon: 1\nmc_paths: 5\n", encoding="utf-8")
    return path


def _start(scenario: Path, out: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "qzfp", "run", str(scenario), "--out", str(out), "--quiet"],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _run(scenario: Path, out: Path) -> tuple[int, str]:
    proc = _start(scenario, out)
    _, err = proc.communicate(timeout=RUN_TIMEOUT_S)
    return proc.returncode, err


def _snapshot(folder: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every visible file under ``folder``."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*"))
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)}


def _processes_in(folder: Path) -> list[int]:
    """Processes whose working directory is inside ``folder`` (a run's kernels)."""
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if str(Path(os.readlink(d / "cwd"))).startswith(str(folder)):
                    pids.append(int(d.name))
            except OSError:
                continue
    return pids


def _assert_clean_stderr(err: str) -> None:
    for noise in KERNEL_NOISE:
        assert noise not in err, err
    for line in err.strip().splitlines():
        assert ": " in line, line  # "location: message"


def _age(paths: list[Path]) -> None:
    old = time.time() - 2 * STALE_TEMP_AGE_S - 60
    for p in paths:
        os.utime(p, (old, old))


@pytest.fixture(scope="module")
def previous(tmp_path_factory) -> tuple[Path, Path, float]:
    """A report folder holding one good report of scenario ``short``, and how long it took [s]."""
    root = tmp_path_factory.mktemp("faults")
    out = root / "out"
    t0 = time.monotonic()
    rc, err = _run(_scenario(root, "short"), out)
    assert rc == 0, err
    return root, out, time.monotonic() - t0


def test_a_killed_run_leaves_the_previous_report_byte_identical_and_the_next_run_cleans_up(previous):
    root, out, duration = previous
    scenario = _scenario(root, "short")
    before = _snapshot(out)
    # while importing, while the kernels start (fractions of a whole run: fixed delays outlived
    # the run on a quiet machine and then saw the new report), while notebooks run (as soon as
    # a kernel works in the report's temporary folder: under load a fraction of the first run's
    # time could still fall before it)
    for delay in (0.5, 0.25 * duration, None):
        proc = _start(scenario, out)
        if delay is None:
            t0 = time.monotonic()
            while not _processes_in(out) and proc.poll() is None and time.monotonic() - t0 < RUN_TIMEOUT_S:
                time.sleep(0.05)
            delay = time.monotonic() - t0
        else:
            time.sleep(delay)
        assert proc.poll() is None, f"the run ended before the kill after {delay:.1f} s"
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        deadline = time.monotonic() + 30  # kernels die with their parent (within seconds)
        while _processes_in(out) and time.monotonic() < deadline:
            time.sleep(0.2)
        leftover = _processes_in(out)
        for pid in leftover:  # our own children: never leave them running
            os.kill(pid, signal.SIGKILL)
        assert not leftover, f"kernels outlived the killed run by 30 s: {leftover}"
        assert _snapshot(out) == before, f"the previous report changed (killed after {delay} s)"
    stale = list(out.glob(".short.tmp-*"))
    assert stale, "the kills should have left temporary folders behind"
    _age(stale)
    rc, err = _run(scenario, out)
    assert rc == 0, err
    assert not list(out.glob(".short.tmp-*")) and not list(out.glob(".*.old-*"))
    assert (out / "short" / "index.html").is_file()


def test_three_concurrent_runs_into_one_folder_all_complete_without_a_traceback(tmp_path):
    out = tmp_path / "out"
    names = ["first", "second", "first"]  # two of them publish the same scenario
    procs = [_start(_scenario(tmp_path, n), out) for n in names]
    results = [p.communicate(timeout=RUN_TIMEOUT_S) for p in procs]
    for p, (_, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err
        _assert_clean_stderr(err)
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="first/index.html"' in index and 'href="second/index.html"' in index
    assert not [p for p in out.iterdir() if p.name.startswith(".") and p.name != ".failed"]


def test_kernels_talk_over_unix_sockets_under_names_no_other_kernel_can_take():
    from qzfp.reporting.kernels import EncryptedKernelManager

    a, b = EncryptedKernelManager(kernel_name="python3"), EncryptedKernelManager(kernel_name="python3")
    assert a.transport == b.transport == "ipc"
    assert a.ip != b.ip


def test_only_temporaries_whose_owner_died_are_removed(tmp_path):
    live, fd = locked_tempdir(".live.tmp-", tmp_path)  # held by this process: a live run
    code = ("import sys, time\nfrom pathlib import Path\nfrom qzfp.reporting.publish import locked_tempdir\n"
            "p, fd = locked_tempdir('.dead.tmp-', Path(sys.argv[1]))\nprint(p, flush=True)\ntime.sleep(60)\n")
    child = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True,
                             cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    dead = Path(child.stdout.readline().strip())
    fresh = Path(tmp_path / ".fresh.tmp-x")  # just created by a run about to lock it
    fresh.mkdir()
    try:
        _age([live, dead])
        assert remove_stale_temporaries(tmp_path) == []  # the child is alive: its folder stays
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        assert remove_stale_temporaries(tmp_path) == [dead]
        assert live.is_dir() and fresh.is_dir() and not dead.exists()
    finally:
        os.close(fd)
        if child.poll() is None:
            child.kill()


@pytest.fixture
def tmpfs(tmp_path):
    """A small tmpfs mounted on a folder of the test (root only)."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mnt)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_a_full_disk_ends_with_exit_2_one_line_per_problem_and_the_previous_report_kept(tmp_path, tmpfs):
    out = tmpfs / "out"
    scenario = _scenario(tmp_path, "short")
    rc, err = _run(scenario, out)
    assert rc == 0, err
    before = _snapshot(out)
    free = os.statvfs(tmpfs).f_bavail * os.statvfs(tmpfs).f_frsize
    with open(tmpfs / "ballast", "wb") as f:  # leave ~1 MB: less than a report needs
        f.write(b"\0" * max(0, free - 2**20))
    rc, err = _run(scenario, out)
    assert rc == 2, err
    _assert_clean_stderr(err)
    assert "No space left on device" in err
    assert _snapshot(out) == before


def test_a_read_only_output_folder_is_refused_in_one_line_and_its_report_kept(tmp_path, tmpfs):
    out = tmpfs / "out"
    scenario = _scenario(tmp_path, "short")
    rc, err = _run(scenario, out)
    assert rc == 0, err
    before = _snapshot(out)
    assert subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], capture_output=True).returncode == 0
    rc, err = _run(scenario, out)
    assert rc == 1, err
    _assert_clean_stderr(err)
    assert len(err.strip().splitlines()) == 1 and "Read-only file system" in err
    assert _snapshot(out) == before


def test_a_report_set_aside_by_a_run_killed_mid_replace_is_put_back_by_the_next_run(tmp_path):
    """Killed between "old report renamed aside" and "new report renamed in place": the
    old report is the only one, so the next run restores it instead of deleting it."""
    aside = tmp_path / ".short.old-abc123"
    aside.mkdir()
    (aside / "run.json").write_text("previous", encoding="utf-8")
    done = tmp_path / ".other.old-def456"  # killed after the new report was in place
    done.mkdir()
    (tmp_path / "other").mkdir()
    _age([aside, done])
    assert sorted(remove_stale_temporaries(tmp_path)) == sorted([aside, done])
    assert (tmp_path / "short" / "run.json").read_text(encoding="utf-8") == "previous"
    assert not aside.exists() and not done.exists() and (tmp_path / "other").is_dir()
