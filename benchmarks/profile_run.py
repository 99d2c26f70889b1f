"""Where the seconds of one ``qzfp run`` go: a timeline of its phases.

Runs the packaged baseline (the 4 report notebooks, ``report.pdf``) once in this process, with
timers wrapped around the phases of a run, and prints one line per phase: start and end
(seconds since this script started), duration, the thread (or process) it ran in.  Also the
CPU time of each kernel (read from ``/proc`` before it is shut down), of the data-files
process, of this process and of the processes it waited for (kernels, Chromium)::

    .venv/bin/python benchmarks/profile_run.py [OUT]     # OUT: a scratch folder (default: a temporary one)

The figures of ``benchmarks/README.md`` ("The report run") come from it.  The wrappers cost
microseconds; nothing of the run is changed.
"""

from __future__ import annotations

import functools
import json
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

T0 = time.perf_counter()
EVENTS: list[tuple[str, str, float, float]] = []


def _record(name: str, t0: float, t1: float, who: str | None = None) -> None:
    EVENTS.append((who or threading.current_thread().name, name, t0 - T0, t1 - T0))


def _timed(owner: Any, attr: str, label: Any = None) -> None:
    """Replace ``owner.attr`` by a wrapper recording each call (``label``: text or a function of
    the call's arguments)."""
    original = getattr(owner, attr)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            text = label(*args, **kwargs) if callable(label) else (label or attr)
            _record(text, t0, time.perf_counter())

    setattr(owner, attr, wrapper)


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main(argv: list[str]) -> int:
    import contextlib

    from qzfp.reporting import zygote

    with contextlib.ExitStack() as stack:
        # the zygote started before the imports, as `qzfp run` does (QZFP_PRESTART=0, read by
        # this script only: started with the run, as a library call of run_reports does)
        if os.environ.get("QZFP_PRESTART", "1") != "0":
            t = time.perf_counter()
            stack.enter_context(zygote.prestarted())
            _record("zygote started (before the imports)", t, time.perf_counter(), "main")
        return _main(argv)


def _main(argv: list[str]) -> int:
    t = time.perf_counter()
    from qzfp.model import run as model_run
    from qzfp.reporting import assemble, chromium, convert, execute, kernels, pdf
    from qzfp.reporting import batch as batch_mod
    from qzfp.reporting import run as report_run
    from qzfp.reporting.datafiles import LaterFiles

    _record("imports (qzfp.reporting, qzfp.model)", t, time.perf_counter(), "main")
    out = Path(argv[0]) if argv else Path(tempfile.mkdtemp(prefix="qzfp-profile-"))

    _timed(report_run, "load_scenarios")
    _timed(model_run, "prepare_register")
    _timed(execute.NotebookPool, "start", "exporter built (main thread, kernels starting)")
    _timed(kernels.WarmKernel, "prepare", "kernel start / reset")
    _timed(kernels.WarmKernel, "wait_until_ready", "kernel ready")
    _timed(execute, "notebook_to_html", lambda nb, title: f"page written: {title[:28]}")
    pm = convert.import_papermill()
    executed = pm.execute_notebook

    def execute_notebook(path: str, *args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return executed(path, *args, **kwargs)
        finally:
            _record(f"notebook executed: {Path(path).name}", t0, time.perf_counter())

    pm.execute_notebook = execute_notebook
    for name in ("copy_font", "decorate_pages", "scenario_index", "replace_dir"):
        _timed(assemble, name)
    write_pdf = assemble.write_pdf

    def timed_pdf(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return write_pdf(*args, **kwargs)
        finally:
            _record("report.pdf (all of it)", t0, time.perf_counter())

    assemble.write_pdf = timed_pdf
    _timed(batch_mod, "write_top_index")
    _timed(pdf, "join_pages")
    _timed(pdf, "contents_pages", "pypdf: pages of the anchors")
    _timed(chromium.DevTools, "__init__", "Chromium started")
    _timed(chromium.DevTools, "open", "Chromium: document loaded")
    _timed(chromium.DevTools, "print_pdf",
           lambda *a, **k: "Chromium: measuring print" if k.get("tagged") is False else "Chromium: PDF print")
    close = chromium.DevTools.close

    def timed_close(self: Any) -> None:
        c0, t0 = _children_cpu(), time.perf_counter()
        close(self)
        _record(f"Chromium closed (its CPU, waited for: {_children_cpu() - c0:.2f} s)", t0, time.perf_counter())

    chromium.DevTools.close = timed_close
    shutdown = kernels.WarmKernel.shutdown

    def timed_shutdown(self: Any) -> None:
        try:  # the kernel's CPU time before it goes
            pid = self.km.provisioner.process.pid
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            _record(f"kernel {pid} shut down (its CPU: {cpu:.2f} s)", time.perf_counter(), time.perf_counter())
        except (OSError, AttributeError, IndexError, ValueError):
            pass
        shutdown(self)

    kernels.WarmKernel.shutdown = timed_shutdown
    log = out.parent / f".{out.name}-datafiles.json"
    hook = report_run.data_files_hook

    def timed_hook(parameters: dict, folder: Path, **kwargs: Any) -> Any:
        c0, t0 = time.process_time(), time.perf_counter()
        value = hook(parameters, folder, **kwargs)
        events = [[f"data files: simulate, key figures (its CPU: {time.process_time() - c0:.2f} s)",
                   t0 - T0, time.perf_counter() - T0]]
        log.write_text(json.dumps(events))
        if not isinstance(value, LaterFiles):
            return value

        def write() -> None:
            c1, t1 = time.process_time(), time.perf_counter()
            value.write()
            events.append([f"data files: CSV, budget.xlsx (its CPU: {time.process_time() - c1:.2f} s)",
                           t1 - T0, time.perf_counter() - T0])
            log.write_text(json.dumps(events))

        return LaterFiles(value.figures, write)

    report_run.data_files_hook = functools.update_wrapper(timed_hook, hook)

    t = time.perf_counter()
    status = report_run.run_reports(["baseline"], out=out, progress=False)
    _record("run_reports (all of it)", t, time.perf_counter(), "main")
    if log.is_file():
        for name, a, b in json.loads(log.read_text()):
            EVENTS.append(("data-files process", name, a, b))
        log.unlink()
    print(f"{'start':>7s} {'end':>7s} {'secs':>6s}  {'where':22s} phase")
    for who, name, a, b in sorted(EVENTS, key=lambda e: e[2]):
        print(f"{a:7.2f} {b:7.2f} {b - a:6.2f}  {who:22s} {name}")
    own = resource.getrusage(resource.RUSAGE_SELF)
    print(f"process: {time.perf_counter() - T0:.2f} s wall; CPU {own.ru_utime + own.ru_stime:.2f} s here, "
          f"{_children_cpu():.2f} s in the processes it waited for; load average {os.getloadavg()[0]:.2f}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
