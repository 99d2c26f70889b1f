"""Running scenarios' report notebooks into report folders: the one batch runner.

A scenario's report is the folder ``out_dir/<scenario_name>/``::

    index.html          key figures, links to every page and file
    <notebook>.html     one page per notebook: outputs and markdown, no code, no parameters
    run.json            versions, hashes, parameters, times
    ...                 whatever the caller's ``extra_files`` hook writes (CSV, budget.xlsx)

and ``out_dir/index.html`` lists every scenario found in ``out_dir``.

One path
--------
A :class:`Batch` (scenarios, notebooks, folder, options; validated before any kernel
starts) is run by an executor: :class:`LocalExecutor` here, ``DaskExecutor`` in
:mod:`qzfp.distributed`; :func:`run_batch` wraps both (stale temporaries removed first,
the top index written last).  Locally every scenario's notebooks go through one pool of
warm kernels (:mod:`qzfp.reporting.execute`, :mod:`qzfp.reporting.kernels`), costliest
first, while the data-files hook of each scenario runs in a data-files process
(:mod:`qzfp.reporting.datafiles`); each scenario keeps its own temporary folder, pages,
run.json, index, move into place (:mod:`qzfp.reporting.assemble`,
:mod:`qzfp.reporting.publish`) and failure.  :func:`run_scenario` is a batch of one.

How a run is made safe
----------------------
Everything is written into a temporary folder beside the destination
(``out_dir/.<name>.tmp-XXXX``).  Only when every notebook ran, every page was
converted and the hook returned, the old report is renamed aside, the new one is
renamed into place and the old one deleted.  Any failure before that leaves the
previous report byte-identical.  The temporary folder is locked (``flock``) while its
run lives; the next run into ``out_dir`` removes those of dead runs (SIGKILL, power
loss) and only those.  When a notebook fails, the executed notebook (with papermill's
error banner) is kept in ``out_dir/.failed/<name>/`` and a :class:`NotebookFailed` names
the notebook, the cell and the error.

This module knows nothing of the model: the caller passes the notebook
parameters, the notebooks, the key figures and a hook writing the data files.
"""

from __future__ import annotations

import contextlib
import json
import queue
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from qzfp.errors import Label, Problem, QzfpError, RunError, ScenarioError
from qzfp.reporting.assemble import finish_scenario, parameters_sha256
from qzfp.reporting.convert import notebook_to_html
from qzfp.reporting.datafiles import DataFilesJob, ExtraFilesHook, HookRunner, can_fork, hook_pool
from qzfp.reporting.execute import NotebookPool, ScenarioRun, progress_bar
from qzfp.reporting.kernels import (
    default_kernel_budget,
    floor_benchmark,
    kernel_slots,
    kernels_per_scenario,
)
from qzfp.reporting.outcome import (
    NotebookFailed,
    ScenarioReport,
    exit_code,
    failed_report,
)
from qzfp.reporting.pages import pdf_printer, write_top_index
from qzfp.reporting.publish import remove_stale_temporaries
from qzfp.reporting.zygote import zygote
from qzfp.rules.scenario_keys import RESERVED_NAMES

__all__ = [
    "Batch",
    "BatchExecutor",
    "ExtraFilesHook",
    "LocalExecutor",
    "NotebookFailed",
    "RESERVED_NAMES",
    "ScenarioReport",
    "ScenarioTask",
    "check_inputs",
    "default_kernel_budget",
    "exit_code",
    "floor_benchmark",
    "kernels_per_scenario",
    "notebook_to_html",
    "parameters_sha256",
    "run_batch",
    "run_many",
    "run_one",
    "run_scenario",
    "write_top_index",
]

_NAME_RE = re.compile(r"^[^./\\:*?\"<>|\s][^/\\:*?\"<>|]*$")




def _scenario_name(parameters: Mapping[str, Any], where: str) -> str:
    name = parameters.get("scenario_name")
    if isinstance(name, str) and name.lower() in RESERVED_NAMES:
        raise ScenarioError(Problem(f"{where}:scenario_name", "scenario.reserved_name", value=name,
                                    names=", ".join(sorted(RESERVED_NAMES))))
    if not isinstance(name, str) or not _NAME_RE.match(name) or name.strip() != name:
        raise ScenarioError(
            Problem(f"{where}:scenario_name", "expected", what=Label("expect.folder_name"),
                    got=repr(name))
        )
    return name


def check_inputs(
    parameters_list: Sequence[Mapping[str, Any]],
    notebooks: Sequence[Path],
    sources: Sequence[Any] | None = None,
) -> list[str]:
    """Validate every scenario and notebook; collect all problems; return the names."""
    problems: list[Problem] = []
    names: list[str] = []
    for i, params in enumerate(parameters_list):
        source = sources[i] if sources is not None and i < len(sources) else None
        where = str(source) if source else f"scenario #{i + 1}"
        if not isinstance(params, Mapping):
            problems.append(Problem(where, "expected", what=Label("expect.parameters_mapping"),
                                    got=type(params).__name__))
            continue
        try:
            name = _scenario_name(params, where)
        except ScenarioError as exc:
            problems.extend(exc.problems)
            continue
        try:
            json.dumps(dict(params), default=None)
        except (TypeError, ValueError) as exc:
            problems.append(Problem(where, "batch.not_json", reason=str(exc)))
        if name in names:
            problems.append(
                Problem(f"{where}:scenario_name", "batch.name_twice", name=name)
            )
        names.append(name)
    if not notebooks:
        problems.append(Problem("notebooks", "batch.no_notebooks"))
    stems: set[str] = set()
    for nb in notebooks:
        nb = Path(nb)
        if not nb.is_file():
            problems.append(Problem(str(nb), "batch.notebook_not_found"))
        elif nb.suffix != ".ipynb":
            problems.append(Problem(str(nb), "batch.not_a_notebook"))
        if nb.stem in stems:
            problems.append(Problem(str(nb), "batch.same_page", page=f"{nb.stem}.html"))
        if nb.stem == "index":
            problems.append(Problem(str(nb), "batch.notebook_named_index"))
        stems.add(nb.stem)
    if problems:
        raise ScenarioError(problems)
    return names


# --------------------------------------------------------------------------- a batch


class ScenarioTask(NamedTuple):
    """One scenario of a :class:`Batch` as :func:`run_one` takes it (picklable when the
    hook is): ``run_scenario(parameters, notebooks, out_dir, **options)``."""

    parameters: dict
    notebooks: list[Path]
    out_dir: Path
    options: dict


@dataclass
class Batch:
    """Scenarios run with the same notebooks into one folder; validated when made.

    Parameters
    ----------
    parameters : sequence of mapping
        One parameter dict per scenario; the ``scenario_name`` values must differ.
    notebooks : sequence of Path
        Notebooks run for every scenario.
    out_dir : Path
        Parent folder of the reports (made absolute: papermill changes directory).
    key_figures, metadata : sequence, optional
        Per scenario, aligned with ``parameters``.
    kernel_name, extra_files, timeout, keep_notebooks, cost
        As :func:`run_scenario`.
    lang : str
        Language of ``out_dir/index.html``.

    Raises
    ------
    ScenarioError
        Bad input (duplicate or invalid names, missing notebooks, misaligned lists).
    """

    parameters: Sequence[Mapping[str, Any]]
    notebooks: Sequence[Path]
    out_dir: Path
    kernel_name: str = "python3"
    extra_files: ExtraFilesHook | None = None
    key_figures: Sequence[Mapping[str, str] | None] | None = None
    metadata: Sequence[Mapping[str, Any] | None] | None = None
    timeout: float | None = None
    keep_notebooks: bool = False
    cost: Mapping[str, float] | None = None
    lang: str = "en"
    names: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.notebooks = [Path(nb) for nb in self.notebooks]
        self.parameters = list(self.parameters)
        sources = [(m or {}).get("scenario_path") for m in self.metadata] if self.metadata is not None else None
        self.names = check_inputs(self.parameters, self.notebooks, sources)
        n = len(self.parameters)
        for what, seq in (("key_figures", self.key_figures), ("metadata", self.metadata)):
            if seq is not None and len(seq) != n:
                raise ScenarioError(Problem(what, "batch.entries", n=n, got=len(seq)))
        self.out_dir = Path(self.out_dir).absolute()

    def key_figures_of(self, i: int) -> Mapping[str, str] | None:
        """The key figures given for scenario ``i`` (None when none were)."""
        return self.key_figures[i] if self.key_figures is not None else None

    def metadata_of(self, i: int) -> dict[str, Any]:
        """The metadata given for scenario ``i`` (empty when none were)."""
        return dict((self.metadata[i] if self.metadata is not None else None) or {})

    def task(self, i: int, **options: Any) -> ScenarioTask:
        """Scenario ``i`` as a :class:`ScenarioTask`; ``options`` add to or override the
        batch's (e.g. ``progress``, ``position``, ``notebook_jobs``)."""
        opts = {
            "kernel_name": self.kernel_name,
            "extra_files": self.extra_files,
            "key_figures": self.key_figures_of(i),
            "metadata": self.metadata_of(i) or None,
            "timeout": self.timeout,
            "keep_notebooks": self.keep_notebooks,
            "cost": dict(self.cost) if self.cost else None,
            **options,
        }
        return ScenarioTask(dict(self.parameters[i]), list(self.notebooks), self.out_dir, opts)


class BatchExecutor(Protocol):
    """Where a :class:`Batch` runs: :class:`LocalExecutor` or
    :class:`qzfp.distributed.DaskExecutor`."""

    def run(self, batch: Batch) -> list[ScenarioReport]:
        """One report per scenario, in input order; a failure is ``ok=False``."""
        ...


def run_batch(batch: Batch, executor: BatchExecutor) -> list[ScenarioReport]:
    """Run ``batch`` on ``executor``, then list every report in ``out_dir/index.html``.

    Temporaries of dead runs into the folder are removed first.  A top index that cannot
    be written (a full disk) is one more failed entry; the reports that landed stay.

    Returns
    -------
    list of ScenarioReport
        In input order (then the index's failure, if any); pass it to :func:`exit_code`.
    """
    out_dir = batch.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out_dir)
    reports = executor.run(batch)
    try:
        write_top_index(out_dir, lang=batch.lang)
    except OSError as exc:  # a full disk: the reports that landed stay, the run failed
        where = exc.filename if exc.filename is not None else out_dir / "index.html"
        reports.append(failed_report("index.html", out_dir, 0.0, RunError(Problem(
            str(where), "batch.index_not_updated", reason=str(exc.strerror or exc)))))
    return reports


@dataclass
class LocalExecutor:
    """Runs a batch on this machine: every scenario's notebooks through one pool of
    :func:`default_kernel_budget` warm kernels, ``jobs`` data-files processes at once.

    Parameters
    ----------
    jobs : int
        Data-files processes (the ``extra_files`` hook) running at once [-].
    progress : bool
        One tqdm bar per scenario.
    """

    jobs: int = 1
    progress: bool = True

    def __post_init__(self) -> None:
        if self.jobs < 1:
            raise ScenarioError(Problem("jobs", "batch.jobs", value=self.jobs))

    def run(self, batch: Batch) -> list[ScenarioReport]:
        outcomes = _run_local(batch, jobs=self.jobs, progress=self.progress, slots=default_kernel_budget())
        return [o if isinstance(o, ScenarioReport)
                else failed_report(name, batch.out_dir, duration, o)
                for name, (o, duration) in zip(batch.names, outcomes, strict=True)]


def _start_hooks(hook: ExtraFilesHook | None, runs: Sequence[ScenarioRun],
                 jobs: int) -> tuple[Any, list[DataFilesJob]]:
    """Start the data-files hook of every scenario (before any kernel thread starts: the
    processes are forked).  Returns what to shut down and one job per scenario.

    A hook answering in two parts (:class:`qzfp.reporting.datafiles.LaterFiles`) writes its
    later files when its job is released (see :func:`_run_local`); in a pool the jobs with
    more of the pool's work queued behind them are released at once, so that the scenarios
    after them are not held up.
    """
    if hook is None:
        return None, []
    if can_fork():
        workers = max(1, min(jobs, len(runs)))
        pool = hook_pool(hook, workers, len(runs))
        started = [pool.start(dict(sc.parameters), sc.tmp) for sc in runs]
        for job in started[:len(runs) - workers]:
            job.release()
        return pool, started
    return None, [HookRunner(hook, dict(sc.parameters), sc.tmp, sc.name) for sc in runs]


def _run_local(batch: Batch, *, jobs: int, progress: bool, slots: int, cwd: Path | None = None,
               position: int = 0) -> list[tuple[ScenarioReport | QzfpError, float]]:
    """The one local path: every scenario of ``batch`` through one pool of ``slots`` warm
    kernels, each scenario finished (run.json, index, move into place) in this thread as
    soon as its notebooks and its data files are done.

    Returns
    -------
    list of (ScenarioReport or QzfpError, float)
        Per scenario in input order, its report or its failure, and its duration [s].
    """
    n = len(batch.parameters)
    runs: list[ScenarioRun] = []
    results: list[tuple[ScenarioReport | QzfpError, float] | None] = [None] * n
    hooks: Any = None
    pool: NotebookPool | None = None
    printer: Any = None
    # kernels forked from a process holding their imports and the first scenario's
    # simulation (qzfp.reporting.zygote); started first and ended last
    forking = contextlib.ExitStack()
    forking.enter_context(zygote(batch.kernel_name, warm=dict(batch.parameters[0]) if batch.parameters else None))
    try:
        for i, params in enumerate(batch.parameters):
            runs.append(ScenarioRun(batch.names[i], dict(params), batch.notebooks, batch.out_dir, cwd, i))
        hooks, data_jobs = _start_hooks(batch.extra_files, runs, jobs)
        printer = pdf_printer()  # after the fork: Chromium starts while the kernels run
        if progress:
            for sc in runs:
                sc.bar = progress_bar(sc.name, len(batch.notebooks), position + sc.index, batch.lang)
        done: queue.SimpleQueue[ScenarioRun] = queue.SimpleQueue()

        def notebooks_done(sc: ScenarioRun) -> None:
            if data_jobs:  # its later data files: now, or never if it failed
                (data_jobs[sc.index].cancel if sc.failed else data_jobs[sc.index].release)()
            done.put(sc)

        def kernels_drained() -> None:  # a kernel is idle: a core for the later data files
            for job in data_jobs:
                job.release()

        pool = NotebookPool(runs, slots, kernel_name=batch.kernel_name, timeout=batch.timeout,
                            cost=batch.cost, on_done=notebooks_done, on_drained=kernels_drained)
        pool.start()
        for _ in range(n):
            sc = _next_done(done, pool)
            try:
                report: ScenarioReport | QzfpError = finish_scenario(
                    sc, data_jobs[sc.index] if data_jobs else None, extra_files=batch.extra_files,
                    key_figures=batch.key_figures_of(sc.index),
                    metadata=batch.metadata_of(sc.index), keep_notebooks=batch.keep_notebooks,
                    kernel_name=batch.kernel_name, printer=printer,
                )
            except QzfpError as exc:
                report = exc
            finally:
                if data_jobs:
                    data_jobs[sc.index].cancel()  # a failed scenario's later files are not written
                sc.close()
            results[sc.index] = (report, time.perf_counter() - sc.t_start)
    finally:
        try:
            if pool is not None:
                pool.stop.set()
                pool.join()
            if hooks is not None:
                hooks.shutdown()
            if printer is not None:
                printer.close()
            for sc in runs:
                sc.close()
        finally:
            forking.close()  # the kernels' zygote, whatever the cleanup above raised
    return [r for r in results if r is not None]


def _next_done(done: queue.SimpleQueue, pool: NotebookPool) -> ScenarioRun:
    """The next scenario whose notebooks all finished (or were skipped)."""
    while True:
        try:
            return done.get(timeout=0.5)
        except queue.Empty:
            if not pool.alive() and done.empty():
                raise RuntimeError("the kernel threads stopped before every notebook ran") from None


# --------------------------------------------------------------------------- entry points


def run_scenario(
    parameters: Mapping[str, Any],
    notebooks: Sequence[Path],
    out_dir: Path,
    *,
    kernel_name: str = "python3",
    progress: bool = True,
    extra_files: ExtraFilesHook | None = None,
    key_figures: Mapping[str, str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    cwd: Path | None = None,
    timeout: float | None = None,
    position: int = 0,
    keep_notebooks: bool = False,
    notebook_jobs: int | None = None,
    cost: Mapping[str, float] | None = None,
) -> ScenarioReport:
    """Execute every notebook for one scenario and write ``out_dir/<scenario_name>/``.

    Parameters
    ----------
    parameters : mapping
        Notebook parameters (a scenario's ``to_papermill()``); ``scenario_name`` names the
        report folder.  JSON values only.
    notebooks : sequence of Path
        Notebooks to execute, in order; ``X.ipynb`` becomes ``X.html``.
    out_dir : Path
        Parent folder of the report folders (created if missing).
    kernel_name : str
        Jupyter kernel to execute with.
    progress : bool
        Show a tqdm bar counting notebooks.
    extra_files : callable, optional
        ``hook(parameters, folder)`` writing data files into the new report folder; may
        return key figures (label -> formatted value), shown after ``key_figures``.
    key_figures : mapping, optional
        Label -> already formatted value (e.g. ``{"Total budget 2006": "1,234,000 yuan"}``).
    metadata : mapping, optional
        Recorded in run.json; ``scenario_sha256``, ``register_sha256``, ``scenario_path``,
        ``title``, ``description`` and ``lang`` are recognised.  Without
        ``scenario_sha256`` the hash of the parameters is used.
    cwd : Path, optional
        Working directory of the kernels; default a scratch folder inside the temporary
        report folder (deleted at the end), so notebooks cannot litter the report.
    timeout : float, optional
        Per-cell execution timeout [s]; None = no limit.
    position : int
        tqdm bar line (one per parallel job).
    keep_notebooks : bool
        Keep the executed ``.ipynb`` files in ``notebooks/`` of the report.
    notebook_jobs : int, optional
        Kernels executing this scenario's notebooks at once (default
        :func:`default_kernel_budget`).  Each kernel is started once and runs notebooks
        in turn, its namespace reset between two (see :class:`qzfp.reporting.kernels.WarmKernel`); pages keep
        the notebook order.  The ``extra_files`` hook runs meanwhile (in a process).
    cost : mapping, optional
        Expected relative execution time per notebook stem (e.g. ``{"01_population": 3}``,
        unknown stems 1): the kernels take the costliest notebooks first, so the last
        kernel to finish is not left with the longest one.  Default: the given order.

    Returns
    -------
    ScenarioReport

    Raises
    ------
    ScenarioError
        Bad input (name, notebooks), before any kernel starts.
    NotebookFailed
        A notebook raised; the executed notebook is kept in ``out_dir/.failed/<name>/``.
    RunError
        A kernel could not start or died, a page could not be written, or the hook failed.
        In every failure case the previous report is left untouched.
    """
    batch = Batch([parameters], notebooks, out_dir, kernel_name=kernel_name, extra_files=extra_files,
                  key_figures=[key_figures], metadata=[metadata], timeout=timeout,
                  keep_notebooks=keep_notebooks, cost=cost)
    slots = kernel_slots(notebook_jobs, len(batch.notebooks))
    batch.out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(batch.out_dir)
    ((outcome, _),) = _run_local(batch, jobs=1, progress=progress, slots=slots, cwd=cwd, position=position)
    if isinstance(outcome, QzfpError):
        raise outcome
    return outcome


def run_one(task: ScenarioTask | tuple) -> ScenarioReport:
    """Run one :class:`ScenarioTask`; a failure is a report with ``ok=False``, not an error."""
    parameters, notebooks, out_dir, options = task
    name = str(parameters.get("scenario_name"))
    t0 = time.perf_counter()
    try:
        return run_scenario(parameters, notebooks, out_dir, **options)
    except QzfpError as exc:
        return failed_report(name, out_dir, time.perf_counter() - t0, exc)


def run_many(
    parameters_list: Sequence[Mapping[str, Any]],
    notebooks: Sequence[Path],
    out_dir: Path,
    *,
    jobs: int = 1,
    kernel_name: str = "python3",
    progress: bool = True,
    extra_files: ExtraFilesHook | None = None,
    key_figures: Sequence[Mapping[str, str] | None] | None = None,
    metadata: Sequence[Mapping[str, Any] | None] | None = None,
    timeout: float | None = None,
    keep_notebooks: bool = False,
    lang: str = "en",
    cost: Mapping[str, float] | None = None,
) -> list[ScenarioReport]:
    """Run several scenarios sharing one pool of warm kernels, then index them.

    ``run_batch(Batch(...), LocalExecutor(jobs, progress))``: see :class:`Batch` for the
    parameters and :class:`LocalExecutor` for ``jobs`` (data-files processes at once).
    The notebooks of every scenario run through one pool of :func:`default_kernel_budget`
    warm kernels, costliest first, so kernel start and imports are paid once per kernel,
    not per scenario; each scenario still gets its own temporary folder, pages, run.json,
    index and move into place, and a failing notebook stops only its own scenario.
    ``extra_files`` is inherited by forked data-files processes; it must be picklable
    only where they cannot be forked.

    Returns
    -------
    list of ScenarioReport
        In input order; a failed scenario has ``ok=False`` and its problems.  A failure
        does not stop the other scenarios.  Pass the list to :func:`exit_code`.

    Raises
    ------
    ScenarioError
        Bad input (duplicate or invalid names, missing notebooks), before any kernel starts.
    """
    batch = Batch(parameters_list, notebooks, out_dir, kernel_name=kernel_name, extra_files=extra_files,
                  key_figures=key_figures, metadata=metadata, timeout=timeout,
                  keep_notebooks=keep_notebooks, cost=cost, lang=lang)
    return run_batch(batch, LocalExecutor(jobs=jobs, progress=progress))
