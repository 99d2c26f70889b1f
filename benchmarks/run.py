"""qzfp benchmarks: the one command (``make bench``).

Prints a table and writes ``benchmarks/results/latest.json`` (git-ignored) with, for each
measurement, the median wall-clock time of several runs, the derived rate, the target and
the peak memory.  Every measurement runs in a fresh Python process (so the peak resident
memory, ``ru_maxrss`` of the process or of the largest process it started, is that
measurement's alone; it includes the interpreter and the imported libraries, ~100 MB) and the first call
(imports, loading the rulebook, calibration) is timed separately from the medians.

Usage::

    .venv/bin/python benchmarks/run.py                 # everything (~5-10 min on 2 cores)
    .venv/bin/python benchmarks/run.py --quick         # fewer repeats, no country-size runs
    .venv/bin/python benchmarks/run.py --only city_scenario,sweep_city
    .venv/bin/python benchmarks/run.py --compare main --only city_scenario      # ratio this tree / main

``--compare REV`` runs every row a second time on the package of another git revision (its tree
extracted with ``git archive`` into ``benchmarks/results/rev/<sha>`` and put first on
``PYTHONPATH``; the measurements and the synthetic registers are this tree's), right after the
row on this tree, and prints the ratio of the medians (this tree / REV).

See ``benchmarks/README.md`` for what each figure means and the latest figures.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results" / "latest.json"
PY = sys.executable

# --------------------------------------------------------------------------- helpers (child side)


#: CPU time of each timed run of this process [s] (all its threads), filled by :func:`_times`.
_CPU: list[float] = []


def _times(fn: Callable[[], object], runs: int) -> list[float]:
    """Wall-clock time of each of ``runs`` calls [s]; their CPU time goes to :data:`_CPU`."""
    out = []
    for _ in range(runs):
        c0 = time.process_time()
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
        _CPU.append(time.process_time() - c0)
    return out


def _peak_mb() -> float:
    """Largest resident set [MB] of this process or of any (waited-for) process it started:
    for ``qzfp run`` that is the biggest of the run process and its kernels."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024.0  # Linux: kB


def _scenario(**params):
    from qzfp.rules.scenario import Scenario

    return Scenario.from_parameters(**params)


def _synthetic(size: str):
    sys.path.insert(0, str(HERE))
    from synthetic import country_register, province_register

    return province_register() if size == "province" else country_register()


def _scenario_latency(register_size: str | None, runs: int, new_demography: bool = False) -> dict:
    from qzfp.model.run import simulate

    s = _scenario()
    reg = None if register_size is None else _synthetic(register_size)
    # every run its own TFR, its rules built beforehand (as city_scenario's): nothing of the last
    # run's projection can be reused
    built = [_scenario(overrides={"demography.fertility.tfr": 1.3 + 0.001 * i})
             for i in range(runs + 1 if new_demography else 0)]
    for x in built:
        x.arrays()
    own = iter(built)

    def one() -> None:
        r = simulate(next(own) if new_demography else s, reg)
        r.summary()

    t0 = time.perf_counter()
    one()
    first = time.perf_counter() - t0
    ts = _times(one, runs)
    return {"times_s": ts, "first_call_s": first}


def m_city_scenario(runs: int) -> dict:
    """One scenario end to end (population, staffing, workload, budget, summary), the city."""
    return _scenario_latency(None, runs)


def m_city_scenario_demography(runs: int) -> dict:
    """As ``city_scenario``, but every run with another TFR (a slider on a demographic lever):
    the projection and the village arrays are computed anew, not reused from the last run."""
    return _scenario_latency(None, runs, new_demography=True)


def m_province_scenario(runs: int) -> dict:
    """One scenario end to end on a synthetic province (90 counties, 1,400 townships, 25,000 villages)."""
    return _scenario_latency("province", runs)


def m_country_scenario(runs: int) -> dict:
    """One scenario end to end on a synthetic country (2,800 counties, 40,000 townships, 500,000 villages)."""
    return _scenario_latency("country", runs)


def _sweep_grid():
    import numpy as np

    return {"village.vice_president.allowance": list(np.linspace(20.0, 215.0, 40)),
            "village.vice_president.population_threshold": list(np.linspace(200.0, 1400.0, 25))}


def m_country_scenario_demography(runs: int) -> dict:
    """As ``country_scenario``, but every run with another TFR: the projection of 2,800 counties
    and its village arrays computed anew."""
    return _scenario_latency("country", runs, new_demography=True)


def m_sweep_city(runs: int) -> dict:
    """A 1,000-point sweep (40 allowances x 25 thresholds) on the city."""
    from qzfp.model.comparison import sweep

    s = _scenario()
    grid = _sweep_grid()
    t0 = time.perf_counter()
    df = sweep(s, grid)
    first = time.perf_counter() - t0
    assert len(df) == 1000
    return {"times_s": _times(lambda: sweep(s, grid), runs), "first_call_s": first, "units": 1000}


def _plan_grid():
    import numpy as np

    return {"village.vice_president.allowance": list(np.arange(40.0, 136.0, 5.0)),             # 20
            "village.vice_president.population_threshold": list(np.arange(200.0, 1181.0, 20.0)),  # 50
            "township.vice_president.posts_per_township": [1.0, 2.0],                        # 2
            "activities.slack_season.events_per_year": [0.0, 1.0, 2.0, 3.0, 4.0],           # 5
            "township.vice_president.post_allowance": list(np.arange(150.0, 376.0, 25.0))}  # 10


def m_plan_city(runs: int) -> dict:
    """``qzfp.model.plan.plan``: the best plan under a ceiling (100 % of the baseline's 2015 budget)
    over 100,000 plans (20 allowances x 50 thresholds x 2 township posts x 5 slack-season
    events x 10 township allowances) on the city, with the frontier."""
    from qzfp.model.plan import plan

    s = _scenario()
    grid = _plan_grid()

    def one():
        return plan(s, grid, 2015, "100%")

    t0 = time.perf_counter()
    p = one()
    first = time.perf_counter() - t0
    assert len(p.grid.table) == 100_000
    c0 = time.process_time()
    times = _times(one, runs)
    # CPU time of one run (all threads of the process): the work itself, whatever the load of
    # the machine does to the wall time
    return {"times_s": times, "first_call_s": first, "units": 100_000,
            "cpu_s": (time.process_time() - c0) / max(1, len(times))}


def _mc(register_size: str | None, n_paths: int, chunk: int | None, runs: int) -> dict:
    from qzfp.model.montecarlo import monte_carlo
    from qzfp.model.projection import percentiles
    from qzfp.model.run import prepare_register

    s = _scenario()
    reg = prepare_register(s) if register_size is None else _synthetic(register_size)
    pa = s.arrays()
    if chunk is None:
        def one() -> None:
            r = monte_carlo(reg, pa, n_paths, seed=2006)
            percentiles(r).county_indicators()
    else:
        from qzfp.distributed import monte_carlo_percentiles

        def one() -> None:
            monte_carlo_percentiles(reg, pa, n_paths, 2006, chunk=chunk, indicators=("pop", "aged_60plus"))
    t0 = time.perf_counter()
    one()
    first = time.perf_counter() - t0
    return {"times_s": _times(one, runs), "first_call_s": first, "units": n_paths}


def m_mc_city(runs: int) -> dict:
    """1,000 Monte Carlo paths on the city in one pass, and their county percentiles."""
    return _mc(None, 1000, None, runs)


def m_mc_country(runs: int) -> dict:
    """60 Monte Carlo paths on the synthetic country in chunks of 5 (percentiles of population
    and 60+ per county kept), with :func:`qzfp.distributed.monte_carlo_percentiles`."""
    return _mc("country", 60, 5, runs)


def _report_notebooks() -> tuple[list[Path], str]:
    from qzfp.reporting.run import report_notebooks

    try:
        return [p.resolve() for p in report_notebooks()], "report notebooks"
    except Exception:
        nb = ROOT / "tests" / "data" / "notebooks" / "ok.ipynb"
        return [nb], "test notebook (report notebooks missing)"


def _wall(cmd: list[str], cwd: Path, cpu: list[float] | None = None) -> float:
    """Wall-clock time of ``cmd`` [s]; its CPU time (user + system, of it and of every process
    it waited for: kernels, data-files processes, Chromium) is appended to ``cpu``."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    if cpu is not None:
        cpu.append(r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime)
    return dt


def _run_cmd(scenarios: list[str], out: Path, jobs: int, notebooks: list[Path]) -> list[str]:
    """The command of a report run: ``qzfp run`` itself (``python -m qzfp``, what a planner
    types, so that what the command does before the report machinery counts too) when the
    notebooks are the report's, else ``run_reports`` with the notebooks given."""
    if _report_notebooks()[1] == "report notebooks":
        return [PY, "-m", "qzfp", "run", *scenarios, "--out", str(out), "--jobs", str(jobs), "--quiet"]
    code = (
        "import sys; from pathlib import Path; from qzfp.reporting.run import run_reports; "
        f"sys.exit(run_reports({scenarios!r}, out={str(out)!r}, jobs={jobs}, progress=False, "
        f"notebooks=[Path(p) for p in {[str(p) for p in notebooks]!r}]))"
    )
    return [PY, "-c", code]


def m_qzfp_run(runs: int) -> dict:
    """``qzfp run`` on the baseline (fresh process each time) against the floor: a fresh process
    executing and converting the same number of empty notebooks with papermill and nbconvert.
    Also a second reference, not the goal's: the floor and its pages printed to a PDF as a run
    prints ``report.pdf`` (``floor_benchmark(pdf=True)``)."""
    nbs, which = _report_notebooks()
    floor_code = ("import sys; from pathlib import Path; from qzfp.reporting.kernels import floor_benchmark; "
                  "floor_benchmark({n}, Path(sys.argv[1]){pdf})")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        floor_cmd = [PY, "-c", floor_code.format(n=len(nbs), pdf=""), str(tmp / "floor")]
        pdf_cmd = [PY, "-c", floor_code.format(n=len(nbs), pdf=", pdf=True"), str(tmp / "floor_pdf")]
        run_times, floor_times, pdf_times = [], [], []
        run_cpu: list[float] = []
        floor_cpu: list[float] = []
        for i in range(runs):  # interleaved, so all see the same machine load
            floor_times.append(_wall(floor_cmd, tmp, floor_cpu))
            run_times.append(_wall(_run_cmd(["baseline"], tmp / f"out{i}", 1, nbs), tmp, run_cpu))
            with contextlib.suppress(RuntimeError):  # no Chromium (or a revision without pdf=): no reference
                pdf_times.append(_wall(pdf_cmd, tmp))
    out = {"times_s": run_times, "floor_times_s": floor_times, "notebooks": len(nbs), "notebook_set": which,
           "run_cpu_times_s": run_cpu, "floor_cpu_times_s": floor_cpu}
    if pdf_times:
        out["floor_pdf_times_s"] = pdf_times
    return out


def m_qzfp_rerun(runs: int) -> dict:
    """``qzfp run`` of the baseline again into the folder that holds its last report (a planner
    re-running a scenario: ``report.pdf`` tries that report's page numbers first), against a run
    into a fresh folder; runs interleaved."""
    nbs, which = _report_notebooks()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        _wall(_run_cmd(["baseline"], tmp / "kept", 1, nbs), tmp)  # the last report
        again, fresh = [], []
        for i in range(runs):
            fresh.append(_wall(_run_cmd(["baseline"], tmp / f"fresh{i}", 1, nbs), tmp))
            again.append(_wall(_run_cmd(["baseline"], tmp / "kept", 1, nbs), tmp))
    return {"times_s": again, "fresh_times_s": fresh, "notebooks": len(nbs), "notebook_set": which}


def _jobs2(runs: int, override: str) -> dict:
    nbs, which = _report_notebooks()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "second.yaml").write_text("scenario_name: second\nextends: baseline\n"
                                         f"overrides:\n  {override}\n", encoding="utf-8")
        one, two = [], []
        for i in range(runs):
            one.append(_wall(_run_cmd(["baseline"], tmp / f"one{i}", 1, nbs), tmp))
            two.append(_wall(_run_cmd(["baseline", str(tmp / "second.yaml")], tmp / f"two{i}", 2, nbs), tmp))
    return {"times_s": two, "one_scenario_times_s": one, "notebooks": len(nbs), "notebook_set": which,
            "second_scenario_override": override}


def m_jobs2(runs: int) -> dict:
    """``qzfp run --jobs 2`` with two scenarios (the baseline and the baseline with an 80 yuan
    allowance) against the baseline alone (fresh process each time)."""
    return _jobs2(runs, "village.vice_president.allowance: 80")


def m_jobs2_demography(runs: int) -> dict:
    """As ``jobs2``, but the second scenario changes the demography (TFR 1.5): its
    population, charts and uncertainty band share nothing with the baseline's."""
    return _jobs2(runs, "demography.fertility.tfr: 1.5")


def m_explorer(runs: int) -> dict:
    """The interactive explorer (``benchmarks/bench_explorer.py``): slowest median over the kinds
    of control of the time from ``widget.value = x`` to every output updated."""
    sys.path.insert(0, str(HERE))
    import bench_explorer

    buf = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(buf):
        bench_explorer.main([])
    total = time.perf_counter() - t0
    text = buf.getvalue()
    m = re.search(r"slowest median:\s*([\d.]+)\s*ms", text)
    if m is None:
        raise RuntimeError(f"bench_explorer printed no 'slowest median':\n{text[-1500:]}")
    return {"times_s": [float(m.group(1)) / 1e3], "whole_benchmark_s": total, "output": text.splitlines()}


def m_validate_register(runs: int) -> dict:
    """``qzfp validate`` of a synthetic national register of MAX_VILLAGES (700,000) villages in a
    fresh process: its wall time and peak memory (``bench_inputs.py``)."""
    sys.path.insert(0, str(HERE))
    import bench_inputs

    return bench_inputs.m_validate_register(runs)


def m_validate_census(runs: int) -> dict:
    """``qzfp validate`` of a census table of MAX_CENSUS_ROWS (10,000) rows, and of the shipped
    national table, in fresh processes (``bench_inputs.py``)."""
    sys.path.insert(0, str(HERE))
    import bench_inputs

    return bench_inputs.m_validate_census(runs)


#: name -> (function, default runs, quick runs, target description, target check on the summary)
MEASUREMENTS: dict[str, tuple] = {
    "city_scenario": (m_city_scenario, 20, 10, "<= 3 ms", lambda r: r["median_s"] <= 0.003),
    "city_scenario_demography": (m_city_scenario_demography, 20, 10, "reported", lambda r: None),
    "province_scenario": (m_province_scenario, 7, 3, "<= 30 ms", lambda r: r["median_s"] <= 0.030),
    "country_scenario": (m_country_scenario, 3, 0, "<= 0.3 s, 500 MB",
                         lambda r: r["median_s"] <= 0.3 and r["peak_mb"] <= 500),
    "country_scenario_demography": (m_country_scenario_demography, 3, 0, "reported", lambda r: None),
    "sweep_city": (m_sweep_city, 5, 2, "<= 250 ms", lambda r: r["median_s"] <= 0.250),
    "plan_city": (m_plan_city, 3, 1, "<= 2 s", lambda r: r["median_s"] <= 2.0),
    "mc_city": (m_mc_city, 5, 2, "<= 300 ms, 250 MB",
                lambda r: r["median_s"] <= 0.300 and r["peak_mb"] <= 250),
    "mc_country": (m_mc_country, 2, 0, "bounded memory", lambda r: r["peak_mb"] < 2048),
    "qzfp_run": (m_qzfp_run, 3, 1, "<= 1.15x floor", lambda r: r["ratio"] <= 1.15),
    "qzfp_rerun": (m_qzfp_rerun, 3, 1, "reported", lambda r: None),
    "jobs2": (m_jobs2, 3, 1, "< 1.3x one", lambda r: r["ratio"] < 1.3),
    "jobs2_demography": (m_jobs2_demography, 3, 1, "reported", lambda r: None),
    "explorer": (m_explorer, 1, 1, "< 100 ms", lambda r: r["median_s"] < 0.100),
    "validate_register": (m_validate_register, 1, 0, "< 2 GB", lambda r: r["validate_peak_mb"] < 2048),
    "validate_census": (m_validate_census, 3, 1, "< 2 GB", lambda r: r["validate_peak_mb"] < 2048),
}


def child(name: str, runs: int) -> None:
    """Run one measurement in this process and print its JSON on the last line."""
    fn = MEASUREMENTS[name][0]
    res = fn(runs)
    res["peak_mb"] = _peak_mb()
    if _CPU:
        res["cpu_times_s"] = list(_CPU)
    import qzfp

    res["package"] = str(Path(qzfp.__file__).resolve().parent)
    print(json.dumps(res))


# --------------------------------------------------------------------------- parent side


def _summarise(name: str, raw: dict) -> dict:
    med = statistics.median(raw["times_s"])
    out = {"name": name, "doc": " ".join((MEASUREMENTS[name][0].__doc__ or "").split()),
           "median_s": med, "runs": len(raw["times_s"]), "peak_mb": round(raw["peak_mb"], 1),
           "target": MEASUREMENTS[name][3], **raw}
    if "units" in raw:
        out["per_s"] = raw["units"] / med
    if "floor_times_s" in raw:
        out["floor_median_s"] = statistics.median(raw["floor_times_s"])
        out["ratio"] = med / out["floor_median_s"]
    if raw.get("floor_pdf_times_s"):
        out["floor_pdf_median_s"] = statistics.median(raw["floor_pdf_times_s"])
        out["ratio_to_floor_pdf"] = med / out["floor_pdf_median_s"]
    for key in ("run_cpu_times_s", "floor_cpu_times_s"):
        if raw.get(key):
            out[key.replace("_times_s", "_median_s")] = statistics.median(raw[key])
    if "cpu_times_s" in raw:
        out["cpu_median_s"] = statistics.median(raw["cpu_times_s"])
    if "one_scenario_times_s" in raw:
        out["one_scenario_median_s"] = statistics.median(raw["one_scenario_times_s"])
        out["ratio"] = med / out["one_scenario_median_s"]
    if "fresh_times_s" in raw:
        out["fresh_median_s"] = statistics.median(raw["fresh_times_s"])
        out["ratio"] = med / out["fresh_median_s"]
    try:
        met = MEASUREMENTS[name][4](out)
        out["meets_target"] = None if met is None else bool(met)
    except KeyError:
        out["meets_target"] = None
    return out


def _machine() -> dict:
    cpu = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gb = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem_gb = round(int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024, 1)
    import numpy

    versions = {"python": platform.python_version(), "numpy": numpy.__version__}
    with contextlib.suppress(Exception):
        import pandas
        versions["pandas"] = pandas.__version__
    return {"platform": platform.platform(), "cpu": cpu, "cpus": os.cpu_count(), "memory_gb": mem_gb,
            "load_average_at_start": list(os.getloadavg()), "versions": versions}


def _fmt(r: dict, label: str | None = None) -> str:
    t = _ms(r["median_s"])
    extra = ""
    if "per_s" in r:
        extra = f"{r['per_s']:,.0f} /s"
    if "floor_median_s" in r:
        extra = f"floor {r['floor_median_s']:.2f} s, {r['ratio']:.2f}x"
        if "run_cpu_median_s" in r:
            extra += f" (cpu {r['run_cpu_median_s']:.1f} / {r['floor_cpu_median_s']:.1f} s)"
        if "floor_pdf_median_s" in r:
            extra += f"; floor+pdf {r['floor_pdf_median_s']:.2f} s, {r['ratio_to_floor_pdf']:.2f}x"
    if "one_scenario_median_s" in r:
        extra = f"one {r['one_scenario_median_s']:.2f} s, {r['ratio']:.2f}x"
    if "fresh_median_s" in r:
        extra = f"fresh folder {r['fresh_median_s']:.2f} s, {r['ratio']:.2f}x"
    if "cpu_median_s" in r:
        extra += f"{', ' if extra else ''}cpu {_ms(r['cpu_median_s']).strip()}"
    first = f"{r['first_call_s']:.2f} s" if "first_call_s" in r else ""
    ok = {True: "ok", False: "MISSED", None: ""}[r["meets_target"]]
    return (f"{label or r['name']:18s} {t} {extra:32s} {first:>9s} {r['peak_mb']:8.0f} MB  "
            f"{r['target']:17s} {ok:6s} load {r['load_average'][0]:.2f}")


def _ms(s: float) -> str:
    return f"{s * 1e3:9.1f} ms" if s < 1 else f"{s:9.2f} s "


def _revision_tree(rev: str) -> tuple[str, Path]:
    """The package tree of git revision ``rev``: (full sha, folder), extracted once with
    ``git archive`` into ``benchmarks/results/rev/<sha>`` (git-ignored; kept, so the compiled
    kernel's cache of that tree is reused by later sessions)."""
    sha = subprocess.run(["git", "rev-parse", "--verify", f"{rev}^{{commit}}"], cwd=ROOT, capture_output=True,
                         text=True)
    if sha.returncode != 0:
        raise SystemExit(f"--compare: {rev!r} is not a git revision of {ROOT}: {sha.stderr.strip()}")
    full = sha.stdout.strip()
    tree = HERE / "results" / "rev" / full
    if not (tree / "qzfp" / "__init__.py").is_file():
        tree.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", full], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return full, tree


def _measure(name: str, runs: int, package: Path | None) -> tuple[dict | None, str]:
    """One row in a fresh process, on this tree or (``package``) another revision's."""
    env = dict(os.environ)
    if package is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(package), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    load = list(os.getloadavg())
    proc = subprocess.run([PY, str(Path(__file__).resolve()), "--child", name, "--runs", str(runs)],
                          cwd=ROOT if package is None else package, capture_output=True, text=True, env=env)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        return None, (proc.stderr or proc.stdout)[-3000:]
    r = _summarise(name, json.loads(lines[-1]))
    want = (package or ROOT) / "qzfp"
    if Path(r["package"]) != want.resolve():
        return None, f"the measurement imported qzfp from {r['package']}, not from {want}"
    r["load_average"] = load
    return r, ""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats; skip the country-size runs")
    ap.add_argument("--only", default="", help="comma-separated measurements: " + ", ".join(MEASUREMENTS))
    ap.add_argument("--runs", type=int, default=None, help="repeats of each measurement (default per measurement)")
    ap.add_argument("--out", default=str(RESULTS), help="JSON file written")
    ap.add_argument("--compare", default=None, metavar="REV",
                    help="also run every row on git revision REV, right after this tree's, and print the ratio")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child, args.runs or 1)
        return 0
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(MEASUREMENTS)
    unknown = [n for n in names if n not in MEASUREMENTS]
    if unknown:
        ap.error(f"unknown measurement(s) {unknown}; expected some of {', '.join(MEASUREMENTS)}")
    if "explorer" in names and not (HERE / "bench_explorer.py").is_file():
        names.remove("explorer")
    rev = None if args.compare is None else _revision_tree(args.compare)
    machine = _machine()
    print(f"{machine['cpu']}, {machine['cpus']} CPUs, {machine['memory_gb']} GB; {machine['platform']}; "
          f"load {machine['load_average_at_start'][0]:.2f}")
    if rev is not None:
        print(f"each row on this tree, then on {args.compare} ({rev[0][:10]}, {rev[1]})")
    print(f"{'measurement':18s} {'median':>12s} {'':32s} {'1st call':>9s} {'peak':>11s}  {'target':17s}")
    results, failed, other = [], {}, []
    for name in names:
        runs = args.runs or MEASUREMENTS[name][2 if args.quick else 1]
        if runs == 0:
            continue
        r, err = _measure(name, runs, None)
        if r is None:
            failed[name] = err
            print(f"{name:18s} FAILED (see 'failed' in the JSON)")
            continue
        results.append(r)
        print(_fmt(r), flush=True)
        if rev is None:
            continue
        o, err = _measure(name, runs, rev[1])
        if o is None:
            failed[f"{name}@{args.compare}"] = err
            print(f"{'  @ ' + args.compare:18s} FAILED (see 'failed' in the JSON)")
            continue
        o["name"] = name
        o["ratio_to_rev"] = r["median_s"] / o["median_s"]
        other.append(o)
        print(f"{_fmt(o, f'  @ {args.compare}'[:18])}\n{'':18s} this tree / {args.compare}: {o['ratio_to_rev']:.2f}x time, "
              f"{r['peak_mb'] / o['peak_mb']:.2f}x peak memory", flush=True)
    doc = {"generated": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine,
           "results": {r["name"]: r for r in results}, "failed": failed}
    if rev is not None:
        doc["compare"] = {"rev": args.compare, "sha": rev[0], "results": {o["name"]: o for o in other}}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
