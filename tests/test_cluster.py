"""The Dask executor against a cluster started the way users start one (issue 17).

``dask scheduler`` and ``dask worker ADDRESS --nworkers 2`` run as separate processes on
loopback (ports chosen by the system, no dashboards), then ``qzfp run``, ``qzfp sweep`` and a
Monte Carlo go through the command line and the API with their progress bars on.  Each test
checks that the work ran on the workers (the task keys in the workers' own logs), that the
results equal a local run, and the killing tests that a worker dying mid-batch costs nothing
but time and that a scheduler lost mid-run is a one-line failed report, never a traceback.
Every cluster is torn down in a ``finally`` (the module fixture's finalizer) whatever happens.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import html
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

distributed = pytest.importorskip("distributed")
nbformat = pytest.importorskip("nbformat")

from qzfp.distributed import monte_carlo_dask, monte_carlo_percentiles, run_many_dask, sweep_dask  # noqa: E402
from qzfp.model.comparison import sweep  # noqa: E402
from qzfp.model.run import prepare_register  # noqa: E402
from qzfp.reporting.batch import exit_code, run_many  # noqa: E402
from qzfp.reporting.run import REPORT_NOTEBOOKS  # noqa: E402
from qzfp.rules.scenario import Scenario  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OK = ROOT / "tests" / "data" / "notebooks" / "ok.ipynb"
POSTS = 500  # [post]
START_TIMEOUT = 60.0  # scheduler file written, workers registered [s]
STOP_TIMEOUT = 20.0  # a process group ends after SIGTERM, else SIGKILL [s]
RUN_TIMEOUT = 180.0  # one command or API call on the cluster [s]
#: No dashboard, and the HTTP server Dask starts anyway (health, metrics) on loopback too:
#: by default it listens on every interface, whatever ``--host`` says.
LOOPBACK_HTTP = ("--no-dashboard", "--dashboard-address", "127.0.0.1:0")
GRID = {"village.vice_president.allowance": [40.0, 60.0, 80.0],
        "village.vice_president.population_threshold": [300.0, 500.0]}


# --------------------------------------------------------------------------- the cluster


@dataclass
class Cluster:
    """A scheduler and its workers started with the ``dask`` command."""

    address: str
    client: distributed.Client
    env: dict
    logs: Path
    sessions: tuple[int, ...]  # the scheduler's and the workers' sessions (process groups)

    def worker_pids(self) -> dict[str, int]:
        """Worker address → process id (the processes that run the tasks)."""
        return self.client.run(os.getpid)

    def keys_run(self) -> dict[str, set[str]]:
        """Worker address → keys of the tasks that worker ran to completion (its own log)."""
        return {addr: set(keys) for addr, keys in self.client.run(_keys_put_in_memory).items()}


def _keys_put_in_memory(dask_worker: distributed.Worker) -> list[str]:
    """Keys whose results this worker computed (``put-in-memory`` entries of its state log)."""
    return [str(e[0]) for e in dask_worker.state.log if len(e) > 1 and e[1] == "put-in-memory"]


def _dask_command() -> list[str]:
    """The ``dask`` command of this environment (the script users type, else ``python -m dask``)."""
    script = Path(sys.executable).with_name("dask")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "dask"]


def _stop(proc: subprocess.Popen) -> None:
    """End a process started in its own session (and its children: nannies, workers, kernels)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=STOP_TIMEOUT)
        except ProcessLookupError:
            pass
    # workers restarted by a nanny after a kill are in the same process group
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@contextlib.contextmanager
def start_cluster(logs: Path, n_workers: int = 2) -> Iterator[Cluster]:
    """``dask scheduler`` and ``dask worker ADDRESS --nworkers N`` as processes on loopback, a
    client of the test's own; everything is stopped on the way out, whatever happened."""
    env = {**os.environ,
           # the scheduler, the workers, their kernels and the qzfp commands import this
           # checkout's qzfp, and this module for the report hooks below (as the README asks
           # of hooks: importable on the workers)
           "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests"),
                                          *filter(None, [os.environ.get("PYTHONPATH")])]),
           # long enough worker logs to find every key of a test in them
           "DASK_DISTRIBUTED__ADMIN__LOW_LEVEL_LOG_LENGTH": "100000"}
    env.pop("DASK_SCHEDULER_ADDRESS", None)
    dask = _dask_command()
    procs: list[subprocess.Popen] = []
    client = None
    try:
        scheduler_file = logs / "scheduler.json"
        with open(logs / "scheduler.log", "wb") as log:
            procs.append(subprocess.Popen(
                [*dask, "scheduler", "--host", "127.0.0.1", "--port", "0", *LOOPBACK_HTTP,
                 "--scheduler-file", str(scheduler_file)],
                stdout=log, stderr=subprocess.STDOUT, env=env, cwd=logs, start_new_session=True))
        deadline = time.monotonic() + START_TIMEOUT
        while not scheduler_file.is_file() or not scheduler_file.read_text(encoding="utf-8").strip():
            if time.monotonic() > deadline or procs[0].poll() is not None:
                pytest.fail(f"dask scheduler did not start:\n{(logs / 'scheduler.log').read_text()[-2000:]}")
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text(encoding="utf-8"))["address"]
        assert address.startswith("tcp://127.0.0.1:")
        with open(logs / "worker.log", "wb") as log:
            procs.append(subprocess.Popen(
                [*dask, "worker", address, "--nworkers", str(n_workers), "--host", "127.0.0.1", *LOOPBACK_HTTP],
                stdout=log, stderr=subprocess.STDOUT, env=env, cwd=logs, start_new_session=True))
        client = distributed.Client(address, timeout=f"{START_TIMEOUT}s", set_as_default=False)
        client.wait_for_workers(n_workers, timeout=START_TIMEOUT)
        yield Cluster(address, client, env, logs, tuple(p.pid for p in procs))
    finally:
        if client is not None:
            client.close()
        for proc in reversed(procs):
            _stop(proc)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with start_cluster(tmp_path_factory.mktemp("cluster")) as c:
        yield c


def _wait_for_two_workers(cluster: Cluster) -> None:
    """After a kill: the nanny has started a new worker in place of the dead one."""
    cluster.client.wait_for_workers(2, timeout=START_TIMEOUT)
    deadline = time.monotonic() + START_TIMEOUT
    while len(cluster.client.scheduler_info(n_workers=-1)["workers"]) != 2 and time.monotonic() < deadline:
        time.sleep(0.1)


def _qzfp(args: list[str], cwd: Path, env: dict) -> subprocess.CompletedProcess:
    """The ``qzfp`` command (``python -m qzfp``, as the console script) in a fresh process."""
    return subprocess.run([sys.executable, "-m", "qzfp", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=RUN_TIMEOUT)


# --------------------------------------------------------------------------- a project folder


def _notebook(cells: list[str], parameters: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}),
                *(nbformat.v4.new_code_cell(c) for c in cells)]
    return nb


def _project(folder: Path) -> Path:
    """A working folder as ``qzfp init`` makes it, with small report notebooks: the first runs
    the scenario's Monte Carlo band (``qzfp.reporting.sections.population_band``) and prints it, the
    others only the scenario's name.  Three scenarios: the baseline's rules over 6 years with 30
    paths, a 100 yuan allowance, a 300-person threshold."""
    real = nbformat.read(ROOT / "notebooks" / "01_population.ipynb", as_version=4)
    parameters = next(c.source for c in real.cells if "parameters" in c.get("metadata", {}).get("tags", []))
    (folder / "notebooks").mkdir(parents=True)
    (folder / "params").mkdir()
    band = ["import qzfp.reporting.sections as qn\nresults = qn.setup(globals())",
            "band = qn.population_band(results)\n"
            "print('BAND', band[['year', 'q10', 'q50', 'q90']].to_json(orient='split', double_precision=15))"]
    for i, name in enumerate(REPORT_NOTEBOOKS):
        nbformat.write(_notebook(band if i == 0 else ["print(scenario_name)"], parameters),
                       folder / "notebooks" / f"{name}.ipynb")
    (folder / "params" / "small.yaml").write_text(
        "scenario_name: small\nextends: baseline\nhorizon: 6\nmc_paths: 30\nseed: 17\n", encoding="utf-8")
    (folder / "params" / "allowance.yaml").write_text(
        "scenario_name: allowance\nextends: small.yaml\n"
        "overrides:\n  village.vice_president.allowance: 100\n", encoding="utf-8")
    (folder / "params" / "threshold.yaml").write_text(
        "scenario_name: threshold\nextends: small.yaml\n"
        "overrides:\n  village.vice_president.population_threshold: 300\n", encoding="utf-8")
    return folder


def _band(report: Path) -> pd.DataFrame:
    """The Monte Carlo band printed by the first notebook, read back from its HTML page."""
    text = html.unescape((report / "01_population.html").read_text(encoding="utf-8"))
    m = re.search(r"BAND (\{.*?\})\s*<", text, re.S)
    assert m, f"no band printed in {report}"
    return pd.read_json(io.StringIO(m.group(1)), orient="split")


def _csvs(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*.csv"))}


# --------------------------------------------------------------------------- command line


def _local_reference(project: Path, name: str, folder: Path) -> pd.DataFrame:
    """What a local run computes for a scenario, in this process: its data files (the
    ``qzfp run`` hook, into ``folder``) and the Monte Carlo band of its first notebook."""
    from qzfp.model.run import simulate
    from qzfp.reporting.run import data_files_hook, load_scenarios
    from qzfp.reporting.sections import population_band

    (scenario,) = load_scenarios([project / "params" / f"{name}.yaml"])
    folder.mkdir(parents=True)
    data_files_hook(scenario.to_papermill(), folder).write()  # the key figures, then the later files
    band = population_band(simulate(scenario))[["year", "q10", "q50", "q90"]]
    return pd.read_json(io.StringIO(band.to_json(orient="split", double_precision=15)), orient="split")


def test_qzfp_run_on_a_command_line_cluster_writes_the_reports_of_a_local_run(cluster, tmp_path, monkeypatch):
    project = _project(tmp_path / "project")
    names = ["small", "allowance", "threshold"]
    before = cluster.keys_run()

    remote = _qzfp(["run", *(f"params/{n}.yaml" for n in names), "--executor", "dask",
                    "--scheduler", cluster.address, "--out", "dask"], project, cluster.env)
    assert remote.returncode == 0, remote.stderr[-3000:]
    assert "Traceback" not in remote.stderr
    assert "scenarios (dask)" in remote.stderr and "3/3" in remote.stderr  # the progress bar ran to the end

    # every scenario was a task that one of the workers ran
    after = cluster.keys_run()
    new = {k for addr in after for k in after[addr] - before.get(addr, set())}
    for name in names:
        assert [k for k in new if k.startswith(f"qzfp-run-{name}-")], (name, sorted(new))
    # the same data files and Monte Carlo bands as a local run
    monkeypatch.chdir(project)
    for name in names:
        band = _local_reference(project, name, tmp_path / "local" / name)
        dask_files = _csvs(project / "dask" / name)
        assert "data/summary.csv" in dask_files and dask_files == _csvs(tmp_path / "local" / name)
        pd.testing.assert_frame_equal(_band(project / "dask" / name), band, check_exact=True)
    band = _band(project / "dask" / "small")
    assert list(band["year"]) == list(range(2006, 2013))  # start year + a 6-year horizon
    assert (band["q10"] <= band["q50"]).all() and (band["q50"] <= band["q90"]).all()
    # the 30 random paths are drawn from the first year after the census (2010-11-01): the
    # populations of 1 January up to 2011 are the same in every path, that of 2012 spreads
    assert (band["q90"] == band["q10"]).iloc[:-1].all() and band["q90"].iloc[-1] > band["q10"].iloc[-1]


def test_qzfp_sweep_on_a_command_line_cluster_writes_the_table_of_a_local_sweep(cluster, tmp_path):
    project = _project(tmp_path / "project")
    sets = [f"--set={p}={','.join(f'{v:g}' for v in vs)}" for p, vs in GRID.items()]
    before = cluster.keys_run()

    remote = _qzfp(["sweep", "params/small.yaml", *sets, "--executor", "dask", "--scheduler", cluster.address,
                    "--out", "dask"], project, cluster.env)
    assert remote.returncode == 0, remote.stderr[-3000:]
    assert "Traceback" not in remote.stderr and "sweep (dask)" in remote.stderr

    local = _qzfp(["sweep", "params/small.yaml", *sets, "--out", "local"], project, cluster.env)
    assert local.returncode == 0, local.stderr[-3000:]

    after = cluster.keys_run()
    assert any(k.startswith("qzfp-sweep-") for addr in after for k in after[addr] - before.get(addr, set()))
    table = (project / "dask" / "sweep-small" / "sweep.csv").read_bytes()
    assert table == (project / "local" / "sweep-small" / "sweep.csv").read_bytes()
    grid = pd.read_csv(io.BytesIO(table)).iloc[:, :2].to_numpy()  # every pair of the grid, once
    assert sorted(map(tuple, grid)) == sorted((a, t) for a in GRID["village.vice_president.allowance"]
                                              for t in GRID["village.vice_president.population_threshold"])


@pytest.mark.parametrize("address", ["foo://127.0.0.1:8786", "localhost"])  # a typo, a missing port
def test_a_malformed_scheduler_address_is_one_line_and_exit_status_1_not_a_traceback(cluster, tmp_path, address):
    project = _project(tmp_path / "project")
    t0 = time.monotonic()
    proc = _qzfp(["sweep", "params/small.yaml", "--set=village.vice_president.allowance=40",
                  "--executor", "dask", "--scheduler", address, "--out", "out"], project, cluster.env)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.splitlines()[0].startswith(f"--scheduler {address}: expected the address of a Dask scheduler")
    assert time.monotonic() - t0 < 15  # no client left to time out on its way out (20 s)
    assert not (project / "out").exists()


def test_a_scheduler_that_goes_away_mid_run_is_a_failed_report_in_one_line_not_a_traceback(tmp_path):
    project = _project(tmp_path / "project")
    slow = nbformat.read(project / "notebooks" / "02_staffing_workload.ipynb", as_version=4)
    slow.cells.append(nbformat.v4.new_code_cell("import time\ntime.sleep(60)"))
    nbformat.write(slow, project / "notebooks" / "02_staffing_workload.ipynb")
    logs = tmp_path / "cluster"
    logs.mkdir()
    with start_cluster(logs, n_workers=1) as own:
        scheduler = own.sessions[0]
        run = subprocess.Popen([sys.executable, "-m", "qzfp", "run", "params/small.yaml", "--executor", "dask",
                                "--scheduler", own.address, "--out", "out"], cwd=project, env=own.env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + RUN_TIMEOUT
            while not any(str(k).startswith("qzfp-run-small-") for ks in own.client.processing().values() for k in ks):
                assert time.monotonic() < deadline and run.poll() is None, run.communicate()
                time.sleep(0.1)
            own.client.close()
            os.killpg(scheduler, signal.SIGKILL)  # the scheduler's machine goes away
            out, err = run.communicate(timeout=RUN_TIMEOUT)
        finally:
            if run.poll() is None:
                run.kill()
                run.communicate()
    assert run.returncode == 2, err
    assert "Traceback" not in err and "Traceback" not in out
    (line,) = [x for x in err.splitlines() if "'small'" in x]
    assert "scenario 'small': the Dask task failed" in line and "the previous report is unchanged" in line
    assert not (project / "out" / "small").exists()


# --------------------------------------------------------------------------- API with progress


def write_table(parameters: dict, folder: Path) -> dict[str, str]:
    """Report hook: the annual allowance cost (allowance × 12 months × posts) as CSV."""
    cost = parameters["allowance"] * 12 * parameters["posts"]
    (folder / "costs.csv").write_text(f"item,amount_yuan\nallowance,{cost}\n", encoding="utf-8")
    return {"Annual allowance cost [yuan]": f"{cost:,.0f}"}


def wait_to_be_killed(parameters: dict, folder: Path) -> dict[str, str]:
    """Report hook: the first time, write this worker's process id and wait to be killed;
    afterwards (the task run again elsewhere) the normal table."""
    marker = Path(parameters["marker"]) if "marker" in parameters else None
    if marker is not None and not marker.exists():
        marker.write_text(str(os.getpid()), encoding="utf-8")
        time.sleep(RUN_TIMEOUT)
    return write_table(parameters, folder)


def scenarios(*allowances: float, **extra: object) -> list[dict]:
    return [{"scenario_name": f"allow_{a:.0f}", "title": f"Allowance {a:.0f}", "allowance": a, "posts": POSTS,
             **extra} for a in allowances]


def test_a_report_batch_through_the_api_with_a_progress_bar_runs_on_the_workers(cluster, tmp_path, capfd):
    params = scenarios(80.0, 120.0)
    before = cluster.keys_run()
    reports = run_many_dask(params, [OK], tmp_path / "dask", scheduler=cluster.address, progress=True,
                            extra_files=write_table)
    assert "scenarios (dask)" in capfd.readouterr().err
    assert exit_code(reports) == 0 and [r.name for r in reports] == ["allow_80", "allow_120"]
    after = cluster.keys_run()
    new = {k for addr in after for k in after[addr] - before.get(addr, set())}
    assert {k.rsplit("-", 2)[0] for k in new if k.startswith("qzfp-run-")} == {"qzfp-run-allow_80",
                                                                                "qzfp-run-allow_120"}
    local = run_many(params, [OK], tmp_path / "local", progress=False, extra_files=write_table)
    assert exit_code(local) == 0
    for p in params:
        name = p["scenario_name"]
        assert (tmp_path / "dask" / name / "costs.csv").read_bytes() == (tmp_path / "local" / name / "costs.csv").read_bytes()
        assert (tmp_path / "dask" / name / "costs.csv").read_text(encoding="utf-8") == \
            f"item,amount_yuan\nallowance,{p['allowance'] * 12 * POSTS}\n"


def test_a_sweep_through_the_api_with_a_progress_bar_equals_a_local_sweep(cluster, capfd):
    s = Scenario.from_parameters(horizon=4, mc_paths=0)
    before = cluster.keys_run()
    remote = sweep_dask(s, GRID, scheduler=cluster.address, chunk=2, progress=True)
    assert "sweep (dask)" in capfd.readouterr().err
    pd.testing.assert_frame_equal(remote, sweep(s, GRID, chunk=2), check_exact=True)
    after = cluster.keys_run()
    new = {k for addr in after for k in after[addr] - before.get(addr, set())}
    assert sorted(k.split("-")[2] for k in new if k.startswith("qzfp-sweep-")) == ["0", "1", "2"]  # 6 points / 2


def test_a_monte_carlo_through_the_api_with_a_progress_bar_equals_the_local_one(cluster, capfd):
    s = Scenario.from_parameters(horizon=3)
    reg, pa = prepare_register(s), s.arrays()
    before = cluster.keys_run()
    remote = monte_carlo_dask(reg, pa, 10, seed=7, chunk=3, scheduler=cluster.address, progress=True,
                              indicators=("pop", "births"))
    assert "Monte Carlo (dask)" in capfd.readouterr().err
    local = monte_carlo_percentiles(reg, pa, 10, seed=7, chunk=3, indicators=("pop", "births"))
    for k in ("pop", "births"):
        np.testing.assert_array_equal(remote.county[k], local.county[k])
        np.testing.assert_array_equal(remote.city[k], local.city[k])
    after = cluster.keys_run()
    new = {k for addr in after for k in after[addr] - before.get(addr, set())}
    assert sorted(k.split("-")[2] for k in new if k.startswith("qzfp-mc-")) == ["0", "1", "2", "3"]  # 3+3+3+1


# --------------------------------------------------------------------------- workers killed mid-batch


def _processing_when_removed(cluster: Cluster, address: str) -> set[str]:
    """Keys a worker was processing when the scheduler removed it (the worker's own events;
    the ``all`` topic holds objects the scheduler cannot send in this Dask version)."""
    keys: set[str] = set()
    for _, msg in cluster.client.get_events(address):
        if isinstance(msg, dict) and msg.get("action") == "remove-worker":
            keys.update(map(str, msg.get("processing-tasks", ())))
    return keys


def test_a_worker_killed_mid_batch_is_replaced_and_its_scenario_runs_again(cluster, tmp_path):
    marker = tmp_path / "killed"
    params = scenarios(70.0, 90.0, 110.0)
    params[1]["marker"] = str(marker)
    pids = cluster.worker_pids()
    stop = threading.Event()

    def kill_when_waiting() -> int:
        deadline = time.monotonic() + RUN_TIMEOUT
        while not (marker.is_file() and marker.read_text(encoding="utf-8")):
            if time.monotonic() > deadline or stop.is_set():
                raise TimeoutError("the hook never started")
            time.sleep(0.05)
        pid = int(marker.read_text(encoding="utf-8"))
        os.kill(pid, signal.SIGKILL)  # as the out-of-memory killer would
        return pid

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        killer = pool.submit(kill_when_waiting)
        try:
            reports = run_many_dask(params, [OK], tmp_path / "out", scheduler=cluster.address, progress=True,
                                    extra_files=wait_to_be_killed)
        finally:
            stop.set()
        killed = killer.result(timeout=RUN_TIMEOUT)
    assert killed in pids.values()
    assert exit_code(reports) == 0, [r.problems for r in reports]
    dead = next(addr for addr, pid in pids.items() if pid == killed)
    assert any(k.startswith("qzfp-run-allow_90-") for k in _processing_when_removed(cluster, dead))
    for p in params:
        assert (tmp_path / "out" / p["scenario_name"] / "costs.csv").read_text(encoding="utf-8").endswith(
            f"{p['allowance'] * 12 * POSTS}\n")
    assert not [p for p in (tmp_path / "out").iterdir() if ".tmp-" in p.name]
    _wait_for_two_workers(cluster)


def test_a_worker_killed_mid_monte_carlo_is_replaced_and_the_percentiles_are_unchanged(cluster):
    s = Scenario.from_parameters(horizon=15)
    reg, pa = prepare_register(s), s.arrays()
    n_paths, chunk = 4800, 600  # 8 chunks of ~1 s each on the city (the compiled engine is fast)
    # both workers must be up when the inputs are broadcast: a copy on one worker alone dies
    # with it (a worker replaced by an earlier test may still be starting)
    _wait_for_two_workers(cluster)
    pids = cluster.worker_pids()
    stop = threading.Event()

    def kill_a_busy_worker() -> tuple[str, set[str]]:
        """Kill a worker that holds the shared inputs while it runs a chunk."""
        deadline = time.monotonic() + RUN_TIMEOUT
        while time.monotonic() < deadline and not stop.is_set():
            busy = {a: {str(k) for k in ks if str(k).startswith("qzfp-mc-")}
                    for a, ks in cluster.client.processing().items()}
            held = {a for a, ks in cluster.client.has_what().items() if any(not str(k).startswith("qzfp-") for k in ks)}
            for addr, keys in busy.items():
                if keys and addr in held and addr in pids:
                    os.kill(pids[addr], signal.SIGKILL)
                    return addr, keys
            time.sleep(0.02)
        raise TimeoutError("no worker was seen running a chunk")

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        killer = pool.submit(kill_a_busy_worker)
        run = pool.submit(monte_carlo_dask, reg, pa, n_paths, 11, chunk=chunk, scheduler=cluster.address,
                          progress=True, indicators=("pop",))
        try:
            remote = run.result(timeout=RUN_TIMEOUT)
        finally:
            stop.set()
        dead, running = killer.result(timeout=RUN_TIMEOUT)
    assert running  # the dead worker had a chunk, which ran again elsewhere
    assert running & _processing_when_removed(cluster, dead)
    local = monte_carlo_percentiles(reg, pa, n_paths, 11, chunk=chunk, indicators=("pop",))
    np.testing.assert_array_equal(remote.county["pop"], local.county["pop"])
    np.testing.assert_array_equal(remote.city["pop"], local.city["pop"])
    _wait_for_two_workers(cluster)


def test_the_cluster_listens_on_loopback_only(cluster):
    psutil = pytest.importorskip("psutil")

    info = cluster.client.scheduler_info(n_workers=-1)
    assert info["address"].startswith("tcp://127.0.0.1:")
    assert info["workers"] and all(a.startswith("tcp://127.0.0.1:") for a in info["workers"])
    listening = []
    for proc in psutil.process_iter():
        try:
            if os.getsid(proc.pid) in cluster.sessions:
                listening += [c.laddr.ip for c in proc.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
        except (psutil.Error, ProcessLookupError, PermissionError):
            continue
    assert len(listening) >= 3  # scheduler, two workers (and their nannies, HTTP servers)
    assert set(listening) == {"127.0.0.1"}
