"""qzfp on a Dask cluster started from the command line: wall time against workers, and each
worker's peak memory (issue 17).  Measurements only; nothing here is asserted in a test.

For each number of workers W this script starts ``dask scheduler --host 127.0.0.1`` and
``dask worker ADDRESS --nworkers W --nthreads 1`` as separate processes on loopback (ports
chosen by the system, no dashboards), exactly as a user would, then measures:

``country_mc``
    :func:`qzfp.distributed.monte_carlo_dask` on the synthetic country (2,800 counties,
    500,000 villages; ``benchmarks/synthetic.py``): ``--paths`` paths in chunks of
    ``--chunk``, percentiles of population and 60+ per county.  One chunk's arrays are the
    bound of a worker's memory (~0.2 GB per path); the figure is each worker's peak resident
    memory (``ru_maxrss`` of the worker process, which includes the interpreter, numpy,
    pandas, distributed and the scattered register).
``city_batch``
    ``qzfp run`` of ``--scenarios`` scenarios for the city (the baseline with village
    vice-president allowances from 20 yuan/month up in steps of 1) through the cluster
    (:func:`qzfp.reporting.run.run_reports` with ``executor="dask"``): every scenario's data files
    (simulation, CSV, ``budget.xlsx``, key figures) and its notebooks.  By default the
    notebook is the small test notebook (``--notebooks test``), so the figure is the cost of
    the batch machinery and the model; ``--notebooks report`` runs the four report notebooks
    (about 13 s a scenario on one worker of this machine, so set ``--scenarios`` accordingly).
``local_batch`` (only when asked for)
    the same batch without Dask, ``qzfp run --jobs N`` in this process, for comparison.
``city_sweep``
    :func:`qzfp.distributed.sweep_dask`: 1,000 grid points (40 allowances × 25 thresholds,
    the ``sweep_city`` grid of ``run.py``) in tasks of one 64-point pass.

The workers of one W are restarted (``Client.restart``) before each measurement, so each
peak is that measurement's own.  Sweeps and Monte Carlo are timed twice: on the fresh
workers (each pays its first call: imports, rulebook, calibrating the register's base
population — about half a minute for the country) and again right after ("warm").

Usage::

    .venv/bin/python benchmarks/bench_dask.py                     # W = 1, 2 (~5 min on 2 cores)
    .venv/bin/python benchmarks/bench_dask.py --workers 1,2,4 --paths 16 --scenarios 100

Writes ``benchmarks/results/dask.json`` (git-ignored); the figures are in
``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results" / "dask.json"
START_TIMEOUT = 120.0  # scheduler up, workers registered [s]
#: No dashboard, and the HTTP server Dask starts anyway (health, metrics) on loopback too:
#: by default it listens on every interface, whatever ``--host`` says.
LOOPBACK_HTTP = ("--no-dashboard", "--dashboard-address", "127.0.0.1:0")


def _peak_rss_mb() -> float:
    """Peak resident memory of the calling process [MB] (runs on each worker)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _dask() -> list[str]:
    script = Path(sys.executable).with_name("dask")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "dask"]


@contextmanager
def cluster(n_workers: int, folder: Path) -> Iterator[tuple[str, object]]:
    """A scheduler and ``n_workers`` single-threaded workers started with the ``dask``
    command on loopback; the client and the processes are closed on the way out."""
    from distributed import Client

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    sched_file = folder / f"scheduler-{n_workers}.json"
    procs: list[subprocess.Popen] = []
    client = None
    try:
        procs.append(subprocess.Popen([*_dask(), "scheduler", "--host", "127.0.0.1", "--port", "0", *LOOPBACK_HTTP,
                                       "--scheduler-file", str(sched_file)], env=env, cwd=folder,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        deadline = time.monotonic() + START_TIMEOUT
        while not (sched_file.is_file() and sched_file.read_text().strip()):
            if time.monotonic() > deadline:
                raise TimeoutError("the scheduler did not start")
            time.sleep(0.1)
        address = json.loads(sched_file.read_text())["address"]
        procs.append(subprocess.Popen([*_dask(), "worker", address, "--nworkers", str(n_workers), "--nthreads", "1",
                                       "--host", "127.0.0.1", *LOOPBACK_HTTP, "--memory-limit", "0"],
                                      env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      start_new_session=True))
        client = Client(address, timeout="60s", set_as_default=False)
        client.wait_for_workers(n_workers, timeout=START_TIMEOUT)
        yield address, client
    finally:
        if client is not None:
            client.close()
        for p in reversed(procs):
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(p.pid, sig)
                    p.wait(timeout=20)
                    break
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    continue


def _measure(client: object, fn: Callable[[], object], warm: bool = False) -> dict:
    """Wall time of ``fn`` on freshly restarted workers (``wall_s``: each worker pays its
    first call, e.g. calibrating the register's base population) and, with ``warm``, of a
    second call right after (``warm_wall_s``); the peak memory of each worker."""
    client.restart(wait_for_workers=True)
    t0 = time.perf_counter()
    fn()
    out: dict = {"wall_s": round(time.perf_counter() - t0, 2)}
    if warm:
        t0 = time.perf_counter()
        fn()
        out["warm_wall_s"] = round(time.perf_counter() - t0, 2)
    out["worker_peak_mb"] = [round(p) for p in sorted(client.run(_peak_rss_mb).values())]
    return out


def country_mc(address: str, client: object, paths: int, chunk: int) -> dict:
    sys.path.insert(0, str(HERE))
    from synthetic import country_register

    from qzfp.distributed import monte_carlo_dask
    from qzfp.rules.scenario import Scenario

    reg = country_register()
    pa = Scenario.from_parameters().arrays()
    out = _measure(client, lambda: monte_carlo_dask(reg, pa, paths, 2006, client=client, chunk=chunk,
                                                    indicators=("pop", "aged_60plus")), warm=True)
    return {**out, "paths": paths, "chunk": chunk, "counties": reg.n_counties, "villages": reg.n_villages}


def _batch_files(n: int, folder: Path) -> tuple[Path, list[Path]]:
    params = folder / f"batch-{time.time_ns()}"
    params.mkdir()
    files = []
    for i in range(n):
        f = params / f"allow_{20 + i}.yaml"
        f.write_text(f"scenario_name: allow_{20 + i}\nextends: baseline\n"
                     f"overrides:\n  village.vice_president.allowance: {20 + i}\n", encoding="utf-8")
        files.append(f)
    return params, files


def _batch_notebooks(notebooks: str) -> list[Path]:
    from qzfp.reporting.run import report_notebooks

    return report_notebooks(ROOT / "notebooks") if notebooks == "report" else \
        [ROOT / "tests" / "data" / "notebooks" / "ok.ipynb"]


def city_batch(address: str, client: object, n: int, notebooks: str, folder: Path) -> dict:
    from qzfp.reporting.run import run_reports

    params, files = _batch_files(n, folder)
    nbs = _batch_notebooks(notebooks)
    status: list[int] = []
    out = _measure(client, lambda: status.append(run_reports(files, out=params / "out", notebooks=nbs,
                                                             executor="dask", scheduler=address, progress=False)))
    if status != [0]:
        raise RuntimeError(f"the batch failed (exit status {status})")
    written = sum(1 for p in (params / "out").iterdir() if (p / "run.json").is_file())
    return {**out, "scenarios": n, "written": written, "notebooks": len(nbs), "notebook_set": notebooks}


def local_batch(n: int, notebooks: str, jobs: int, folder: Path) -> dict:
    """The same batch without Dask: ``qzfp run --jobs N`` (one shared pool of warm kernels)."""
    from qzfp.reporting.run import run_reports

    params, files = _batch_files(n, folder)
    t0 = time.perf_counter()
    status = run_reports(files, out=params / "out", notebooks=_batch_notebooks(notebooks), jobs=jobs,
                         progress=False)
    wall = time.perf_counter() - t0
    if status != 0:
        raise RuntimeError(f"the local batch failed (exit status {status})")
    return {"wall_s": round(wall, 2), "scenarios": n, "jobs": jobs, "notebook_set": notebooks,
            "client_peak_mb": round(_peak_rss_mb())}


def city_sweep(address: str, client: object) -> dict:
    import numpy as np

    from qzfp.distributed import sweep_dask
    from qzfp.rules.scenario import Scenario

    grid = {"village.vice_president.allowance": list(np.linspace(20.0, 215.0, 40)),
            "village.vice_president.population_threshold": list(np.linspace(200.0, 1400.0, 25))}
    s = Scenario.from_parameters()
    out = _measure(client, lambda: sweep_dask(s, grid, client=client), warm=True)
    return {**out, "points": 1000}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", default="1,2", help="numbers of workers to try (comma-separated)")
    ap.add_argument("--paths", type=int, default=16, help="Monte Carlo paths on the country")
    ap.add_argument("--chunk", type=int, default=2, help="paths per Monte Carlo chunk (task)")
    ap.add_argument("--scenarios", type=int, default=100, help="scenarios in the city batch")
    ap.add_argument("--notebooks", choices=("test", "report"), default="test")
    ap.add_argument("--only", default="country_mc,city_batch,city_sweep",
                    help="measurements on the cluster; local_batch times the batch without Dask")
    ap.add_argument("--jobs", type=int, default=2, help="--jobs of the local batch")
    ap.add_argument("--out", default=str(RESULTS))
    args = ap.parse_args(argv)
    only = set(args.only.split(","))
    results: dict[str, list] = {k: [] for k in ("country_mc", "city_batch", "city_sweep", "local_batch")
                                if k in only}
    machine = {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version(),
               "load_average_at_start": list(os.getloadavg())}
    print(f"{machine['cpus']} CPUs, load {machine['load_average_at_start'][0]:.2f}; {machine['platform']}")
    with tempfile.TemporaryDirectory(prefix="qzfp-bench-dask-") as tmp:
        if "local_batch" in results:
            r = local_batch(args.scenarios, args.notebooks, args.jobs, Path(tmp))
            results["local_batch"].append(r)
            print(f"local_batch --jobs {args.jobs}: {r['wall_s']:7.2f} s  {r['wall_s'] / r['scenarios']:.2f} s/scenario",
                  flush=True)
        cluster_runs = only - {"local_batch"}
        for w in (int(x) for x in args.workers.split(",") if cluster_runs):
            with cluster(w, Path(tmp)) as (address, client):
                if "country_mc" in results:
                    r = {"workers": w, **country_mc(address, client, args.paths, args.chunk)}
                    results["country_mc"].append(r)
                    print(f"country_mc  W={w}: {r['wall_s']:7.2f} s, warm {r['warm_wall_s']:.2f} s  worker peaks {r['worker_peak_mb']} MB", flush=True)
                if "city_batch" in results:
                    r = {"workers": w, **city_batch(address, client, args.scenarios, args.notebooks, Path(tmp))}
                    results["city_batch"].append(r)
                    print(f"city_batch  W={w}: {r['wall_s']:7.2f} s  {r['written']} reports, "
                          f"{r['wall_s'] / r['scenarios']:.2f} s/scenario, worker peaks {r['worker_peak_mb']} MB",
                          flush=True)
                if "city_sweep" in results:
                    r = {"workers": w, **city_sweep(address, client)}
                    results["city_sweep"].append(r)
                    print(f"city_sweep  W={w}: {r['wall_s']:7.2f} s, warm {r['warm_wall_s']:.2f} s  worker peaks {r['worker_peak_mb']} MB", flush=True)
    doc = {"generated": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine, "args": vars(args),
           "results": results}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
