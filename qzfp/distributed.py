"""Batch reports, sweeps and Monte Carlo on a Dask cluster (``--executor dask``).

The default executor stays local processes (:func:`qzfp.reporting.batch.run_many`,
:func:`qzfp.model.comparison.sweep`).  When a batch outgrows one machine, the same work is sent to
an *existing* ``dask.distributed`` cluster::

    dask scheduler --host 127.0.0.1                 # prints the address, tcp://127.0.0.1:8786
    dask worker tcp://127.0.0.1:8786 --nworkers 2   # on each machine, in the project folder
    qzfp run params/*.yaml --executor dask --scheduler tcp://127.0.0.1:8786
    qzfp sweep baseline --set village.vice_president.allowance=40,60,80 --executor dask ...

Every Dask call goes through the session's own client (made with ``set_as_default=False``
by :func:`connect`, or given as ``client=``): ``client.submit``, ``client.scatter``,
``client.gather`` and, for the progress bars, ``as_completed(..., loop=client.loop)``.
Nothing relies on a process-wide default client, which a ``qzfp`` command never has.

Assumptions
-----------
* **Shared filesystem.**  Workers read the notebooks and write the reports at the same
  absolute paths as the client (one machine, NFS, or a cluster file system).  Paths are made
  absolute on the client; relative paths inside scenario files (``register``,
  ``township_plan``) are resolved against the *client's* working directory, which each task
  enters on its worker when that folder exists there.
* **Same environment.**  Workers run the same qzfp (and the same Jupyter kernel) as the
  client; hooks such as :func:`qzfp.reporting.run.data_files_hook` are sent by reference.
* **One report run at a time per worker process**: a run enters the client's working
  directory, a process-wide setting, so the threads of a worker take turns (start report
  workers with ``--nthreads 1`` and as many ``--nworkers`` as cores).
* **Sweeps and Monte Carlo** send the register and parameter arrays once to every worker
  (``scatter(..., broadcast=True)``): a copy on one worker only could not be recomputed
  if that worker died.

Failures
--------
A worker that dies mid-run (killed, out of memory) loses its tasks; the scheduler moves
them to another worker (up to its ``distributed.scheduler.allowed-failures``) and the
nanny of ``dask worker`` starts a new worker in its place; a task that raises an
unexpected exception is retried ``retries`` times.  Whatever still fails reaches the
caller as a one-line :class:`~qzfp.errors.RunError` naming the scheduler.  A scenario whose
notebook fails is *not* retried: like a local run it comes back as a
:class:`~qzfp.reporting.batch.ScenarioReport` with ``ok=False`` naming the scenario, the notebook,
the cell and the error, and the other scenarios go on.  Temporary folders left behind by a
dead worker are removed at the end of the batch.

Reproducibility
---------------
* A Dask sweep equals :func:`qzfp.model.comparison.sweep` exactly: the grid is cut into the same
  chunks of ``chunk`` points and each chunk is one vectorised pass of the same code.
* :func:`monte_carlo_dask` with seed ``s`` and chunk size ``k`` equals
  :func:`monte_carlo_percentiles` (the local, chunked Monte Carlo) with the same ``s`` and
  ``k``, whatever the number of workers: chunk ``i`` draws from the ``i``-th child of
  ``numpy.random.SeedSequence(s).spawn(n_chunks)``.  (It differs from the one-pass
  :func:`qzfp.model.montecarlo.monte_carlo` with the same seed, which draws all paths from one
  stream.)
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import Label, ParameterError, Problem, QzfpError, RunError, ScenarioError
from .reporting.batch import Batch, ExtraFilesHook, ScenarioReport, ScenarioTask, run_batch, run_one
from .reporting.publish import remove_stale_temporaries
from .rules.paramarrays import ParamArrays

__all__ = [
    "DaskExecutor",
    "MC_CHUNK_BYTES",
    "default_mc_chunk",
    "DEFAULT_RETRIES",
    "MCPercentiles",
    "connect",
    "monte_carlo_dask",
    "monte_carlo_percentiles",
    "run_many_dask",
    "sweep_dask",
]

#: Times a task that raised an unexpected exception is resubmitted [-].
DEFAULT_RETRIES = 2
#: Memory budget of one Monte Carlo chunk's age-detailed county arrays [byte]: the default
#: chunk is the number of paths that fits (all paths for a city; ~2 for a country of 2,800
#: counties over 16 years, where a path holds ~0.2 GB).
MC_CHUNK_BYTES = 512 * 2**20


# --------------------------------------------------------------------------- client


def connect(scheduler: str | None = None, client: Any = None, *, timeout: float = 10.0) -> Any:
    """A ``dask.distributed.Client`` connected to a running scheduler.

    Parameters
    ----------
    scheduler : str, optional
        Scheduler address (``tcp://host:8786``); default the Dask configuration's
        ``scheduler-address`` (environment variable ``DASK_SCHEDULER_ADDRESS``).
    client : distributed.Client, optional
        Returned as it is when given.
    timeout : float
        Seconds to wait for the scheduler [s].

    Raises
    ------
    QzfpError
        No address, an address that is not ``[scheme://]host:port``, or dask.distributed is
        not installed (exit status 1).
    RunError
        The scheduler cannot be reached.
    """
    if client is not None:
        return client
    try:
        import dask
        from distributed import Client
    except ImportError:
        raise QzfpError(Problem("--executor dask", "dask.not_installed")) from None
    address = scheduler or dask.config.get("scheduler-address", None)
    if not address:
        raise QzfpError(Problem("--scheduler", "dask.no_scheduler"))
    _check_address(str(address))
    try:
        return Client(address, timeout=f"{timeout}s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise RunError(Problem(f"--scheduler {address}", "dask.cannot_connect",
                               reason=f"{type(exc).__name__}: {exc}")) from exc


def _check_address(address: str) -> None:
    """A scheduler address Dask can dial: a known scheme and, for network schemes, a port.

    Checked before a ``Client`` is made: a client given a malformed address raises a
    ``ValueError`` and then blocks its process's exit for 20 s while it closes.
    """
    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.comm.registry import get_backend

    try:
        scheme, loc = parse_address(address, strict=False)
        get_backend(scheme)
        if scheme in ("tcp", "tls", "ws", "wss"):
            parse_host_port(loc)
    except ValueError as exc:
        raise QzfpError(Problem(f"--scheduler {address}", "dask.bad_address", reason=str(exc))) from None


class _OneLine(logging.Filter):
    """Log records of Dask without their tracebacks (and none without a message)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return bool(record.getMessage().strip())


#: Loggers whose handlers Dask sets up itself (``distributed`` and ``distributed.client`` do
#: not propagate), plus the last-resort handler that prints for loggers without one.
_DASK_LOGGERS = ("distributed", "distributed.client", "distributed.worker", "distributed.scheduler",
                 "distributed.nanny", "tornado", "tornado.application", "asyncio")


@contextlib.contextmanager
def _no_tracebacks() -> Any:
    """While a qzfp session owns its client: Dask's own log lines stay, their tracebacks go.

    When the scheduler goes away mid-batch the client logs the failed reconnection with a
    traceback on stderr; what happened reaches the user as qzfp's one-line message instead.
    """
    with contextlib.suppress(ImportError):
        import distributed  # noqa: F401  (sets up its loggers' handlers on first import)
    flt = _OneLine()
    handlers = {h for name in _DASK_LOGGERS for h in logging.getLogger(name).handlers}
    if logging.lastResort is not None:
        handlers.add(logging.lastResort)
    for h in handlers:
        h.addFilter(flt)
    try:
        yield
    finally:
        for h in handlers:
            h.removeFilter(flt)


class _Session:
    """Context manager: a client from :func:`connect`, closed on exit when made here.

    Every Dask call of this module goes through this client (``client.submit``,
    ``client.scatter``, ``client.gather``, ``as_completed(..., loop=client.loop)``): the
    client is not made the process's default (``set_as_default=False``), so nothing may rely
    on ``distributed.default_client()``.  An unexpected exception from the cluster inside
    the ``with`` block (lost connection, a task that failed on every allowed attempt)
    leaves it as a :class:`~qzfp.errors.RunError` naming the scheduler and the work.  While
    it owns its client, Dask's log lines are printed without tracebacks (:func:`_no_tracebacks`).
    """

    def __init__(self, scheduler: str | None, client: Any, what: Label | None = None):
        self._own = client is None
        self._quiet = contextlib.ExitStack()
        if self._own:  # a qzfp command, or an API call that named a scheduler
            self._quiet.enter_context(_no_tracebacks())
        try:
            self.client = connect(scheduler, client)
        except BaseException:
            self._quiet.close()
            raise
        self.what = what if what is not None else Label("dask.what.work")

    def __enter__(self) -> Any:
        return self.client

    def __exit__(self, kind: type | None, exc: BaseException | None, tb: Any) -> bool:
        address = _address(self.client)  # before closing: a closed client forgets it
        try:
            if self._own:
                self.client.close()
        finally:
            self._quiet.close()
        if exc is None or isinstance(exc, QzfpError) or not isinstance(exc, Exception):
            return False  # no error, already a qzfp error, or KeyboardInterrupt and the like
        raise RunError(Problem(f"--scheduler {address}", "dask.failed", what=self.what,
                               reason=_describe(exc))) from exc


def _address(client: Any) -> str:
    """The scheduler address of a client (for messages)."""
    try:
        return str(client.scheduler.address)
    except Exception:  # a stand-in client, or one that lost its scheduler
        return "?"


def _describe(exc: BaseException) -> str:
    """``Type: message`` of an exception, on one line."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _submit(client: Any, fn: Any, *args: Any, key: str, retries: int) -> Any:
    """``client.submit`` of one qzfp task (never merged with another: ``pure=False``)."""
    return client.submit(fn, *args, key=key, retries=retries, pure=False)


def _follow(client: Any, futures: Sequence[Any], *, progress: bool, desc: str, unit: str) -> None:
    """Count finished tasks on a progress bar (on the client) until all are done.

    ``distributed.as_completed`` is given the session client's event loop: without it, it
    looks for a *default* client, which a session client is not (``ValueError: No clients
    found`` against a scheduler started with ``dask scheduler``).  Finished includes failed
    and cancelled tasks; their errors are read from each future afterwards.
    """
    if not progress or not futures:
        return
    from distributed import as_completed
    from tqdm.auto import tqdm

    with tqdm(total=len(futures), desc=desc, unit=unit) as bar:
        for _ in as_completed(futures, loop=client.loop):
            bar.update(1)


def _stamp() -> str:
    """A suffix that makes this batch's task keys unique on a shared scheduler."""
    return f"{time.time_ns():x}-{os.getpid():x}"


# --------------------------------------------------------------------------- report batches


#: One report run at a time in a worker process: a run enters the client's working directory
#: (a process-wide setting), so the threads of a worker started without ``--nthreads 1``
#: take their turns instead of changing each other's directory.
_CWD_LOCK = threading.Lock()


def _run_in(cwd: str, task: ScenarioTask) -> ScenarioReport:
    """Run one scenario on a worker, in the client's working directory when it exists."""
    with _CWD_LOCK:
        old = os.getcwd()
        moved = False
        if os.path.isdir(cwd):
            os.chdir(cwd)
            moved = True
        try:
            return run_one(task)
        finally:
            if moved:
                os.chdir(old)


def _failed(name: str, out_dir: Path, notebooks: Sequence[Path], exc: BaseException) -> ScenarioReport:
    text = " ".join(str(exc).split()) or type(exc).__name__
    where = str(notebooks[0]) if len(notebooks) == 1 else "notebooks"
    return ScenarioReport(
        name=name,
        ok=False,
        folder=out_dir / name,
        problems=[Problem(where, "dask.task_failed", name=name, reason=f"{type(exc).__name__}: {text}")],
    )


def run_many_dask(
    parameters_list: Sequence[Mapping[str, Any]],
    notebooks: Sequence[Path],
    out_dir: Path,
    *,
    scheduler: str | None = None,
    client: Any = None,
    kernel_name: str = "python3",
    progress: bool = True,
    extra_files: ExtraFilesHook | None = None,
    key_figures: Sequence[Mapping[str, str] | None] | None = None,
    metadata: Sequence[Mapping[str, Any] | None] | None = None,
    timeout: float | None = None,
    keep_notebooks: bool = False,
    lang: str = "en",
    retries: int = DEFAULT_RETRIES,
) -> list[ScenarioReport]:
    """Run several scenarios on a Dask cluster, one task per scenario, then index them.

    Each task is :func:`qzfp.reporting.batch.run_scenario` with the arguments of a local
    :func:`qzfp.reporting.batch.run_many`, so the report folders are the same as a local run's.

    Parameters
    ----------
    parameters_list, notebooks, out_dir
        As :func:`qzfp.reporting.batch.run_many`.
    scheduler : str, optional
        Address of the running scheduler (see :func:`connect`).
    client : distributed.Client, optional
        An existing client to use instead (not closed here).
    kernel_name, extra_files, key_figures, metadata, timeout, keep_notebooks, lang
        As :func:`qzfp.reporting.batch.run_many`; ``extra_files`` must be importable on the workers.
    progress : bool
        Show a bar counting finished scenarios (on the client).
    retries : int
        Resubmissions of a task that raised an unexpected exception [-].

    Returns
    -------
    list of ScenarioReport
        In input order; a scenario that failed (notebook error, hook error, task lost) has
        ``ok=False`` and its problems.  Pass the list to :func:`qzfp.reporting.batch.exit_code`.

    Raises
    ------
    ScenarioError
        Bad input (names, notebooks), before anything is sent to the cluster.
    QzfpError, RunError
        No scheduler address / the scheduler cannot be reached.
    """
    batch = Batch(parameters_list, [Path(nb).absolute() for nb in notebooks], out_dir,
                  kernel_name=kernel_name, extra_files=extra_files, key_figures=key_figures,
                  metadata=metadata, timeout=timeout, keep_notebooks=keep_notebooks, lang=lang)
    return run_batch(batch, DaskExecutor(scheduler=scheduler, client=client, progress=progress,
                                         retries=retries))


@dataclass
class DaskExecutor:
    """Runs a :class:`qzfp.reporting.batch.Batch` on a Dask cluster, one task per scenario
    (the :class:`~qzfp.reporting.batch.LocalExecutor`'s counterpart).

    Each task is :func:`qzfp.reporting.batch.run_one` of the batch's
    :class:`~qzfp.reporting.batch.ScenarioTask`, in the client's working directory, so the
    report folders are the same as a local run's.  Parameters as :func:`run_many_dask`.
    """

    scheduler: str | None = None
    client: Any = None
    progress: bool = True
    retries: int = DEFAULT_RETRIES

    def __post_init__(self) -> None:
        if self.retries < 0:
            raise ScenarioError(Problem("retries", "batch.retries", value=self.retries))

    def run(self, batch: Batch) -> list[ScenarioReport]:
        cwd = os.getcwd()
        tasks = [batch.task(i, progress=False, position=0) for i in range(len(batch.names))]
        stamp = _stamp()
        with _Session(self.scheduler, self.client, Label("dask.what.batch")) as cl:
            futures = [_submit(cl, _run_in, cwd, task, key=f"qzfp-run-{name}-{stamp}", retries=self.retries)
                       for name, task in zip(batch.names, tasks, strict=True)]
            _follow(cl, futures, progress=self.progress, desc="scenarios (dask)", unit="scenario")
            reports = []
            for name, fut in zip(batch.names, futures, strict=True):
                try:
                    reports.append(fut.result())
                except Exception as exc:  # lost worker beyond allowed failures, retries exhausted
                    reports.append(_failed(name, batch.out_dir, batch.notebooks, exc))
        # Temporary folders left by a worker that died (not those of a concurrent live run:
        # their lock is held).
        remove_stale_temporaries(batch.out_dir, min_age_s=0)
        return reports


def _share(client: Any, *data: Any) -> list[Any]:
    """Send inputs every task reads (register, parameter arrays) once, to every worker.

    Scattered data cannot be recomputed: a copy on one worker only would be lost with that
    worker, and with it every task still to run.  A copy on each worker (``broadcast``)
    survives a worker that dies mid-batch; its tasks run again on another.
    """
    return [client.scatter(d, broadcast=True, hash=False) for d in data]


# --------------------------------------------------------------------------- sweeps


def _sweep_chunk(register: Any, base_pa: ParamArrays, updates: dict[str, np.ndarray], variant: str,
                 chunk: int) -> dict[str, np.ndarray]:
    """Outcomes of a slice of grid points (runs on a worker; the code of a local sweep)."""
    from .model.comparison import evaluate_points

    return evaluate_points(register, base_pa, updates, variant, chunk)


def _grid(scenario: Any, grid: Mapping[str, Sequence[float]], pa: ParamArrays) -> tuple[list[str], np.ndarray]:
    """Validated paths and the (K, P) array of grid points (the checks of a local sweep)."""
    from .model.comparison import sweep_points

    return sweep_points(scenario, grid, pa)


def sweep_dask(
    scenario: Any,
    grid: Mapping[str, Sequence[float]],
    *,
    scheduler: str | None = None,
    client: Any = None,
    register: Any = None,
    chunk: int | None = None,
    chunks_per_task: int = 1,
    retries: int = DEFAULT_RETRIES,
    progress: bool = False,
) -> pd.DataFrame:
    """:func:`qzfp.model.comparison.sweep` with the chunks of grid points computed on Dask workers.

    Parameters
    ----------
    scenario : Scenario or str
    grid : mapping of str to sequence of float
        Rulebook path → values, as :func:`qzfp.model.comparison.sweep`.
    scheduler, client
        See :func:`connect`.
    register : Register, optional
        Register to use instead of the scenario's (before its redistricting).
    chunk : int, optional
        Grid points per vectorised pass [point]; default
        :data:`qzfp.model.comparison.DEFAULT_CHUNK`.
    chunks_per_task : int
        Vectorised passes per task (fewer, larger tasks for big grids).
    retries : int
        Resubmissions of a task that raised [-].
    progress : bool
        Show a bar counting finished tasks (on the client).

    Returns
    -------
    pandas.DataFrame
        The same table as :func:`qzfp.model.comparison.sweep` (equal values, same order).

    Raises
    ------
    ParameterError
        Bad grid or chunk sizes, before anything is sent to the cluster.
    QzfpError, RunError
        No scheduler address, the scheduler cannot be reached, or a task failed on every
        allowed attempt (the message names the scheduler and the error).
    """
    from .model.comparison import DEFAULT_CHUNK
    from .model.run import prepare_register
    from .rules.scenario import Scenario, load_scenario

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    chunk = DEFAULT_CHUNK if chunk is None else int(chunk)
    if chunk < 1 or chunks_per_task < 1:
        raise ParameterError(Problem("chunk", "sweep.chunk_sizes", chunk=chunk, per_task=chunks_per_task))
    reg = prepare_register(scenario, register)
    pa = scenario.arrays()
    paths, points = _grid(scenario, grid, pa)
    variant = scenario.params.get("variant", "medium")
    step = chunk * chunks_per_task  # task boundaries on chunk boundaries: the same passes as locally
    n = len(points)
    stamp = _stamp()
    with _Session(scheduler, client, Label("dask.what.sweep", name=scenario.name)) as cl:
        reg_f, pa_f = _share(cl, reg, pa)
        futures = [
            _submit(cl, _sweep_chunk, reg_f, pa_f, {p: points[lo:lo + step, i] for i, p in enumerate(paths)},
                    variant, chunk, key=f"qzfp-sweep-{lo // step}-{stamp}", retries=retries)
            for lo in range(0, n, step)
        ]
        _follow(cl, futures, progress=progress, desc="sweep (dask)", unit="task")
        parts = cl.gather(futures)
    df = pd.DataFrame({p: points[:, i] for i, p in enumerate(paths)})
    for k in parts[0]:
        df[k] = np.concatenate([part[k] for part in parts])
    df.attrs["scenario"] = scenario.name
    return df


# --------------------------------------------------------------------------- Monte Carlo


@dataclass
class MCPercentiles:
    """Percentiles over Monte Carlo paths computed chunk by chunk.

    Attributes
    ----------
    years : numpy.ndarray
        (T,) calendar years.
    quantiles : tuple of float
        Percentiles held (rows Q of the arrays) [%].
    n_paths, seed, chunk : int
        Paths drawn, seed and paths per chunk (same seed and chunk → same result).
    county : dict of str to numpy.ndarray
        Indicator → (Q, T, C) county percentiles [person or person/year].
    city : dict of str to numpy.ndarray
        Indicator → (Q, T) percentiles of the city (or province, country) total of each path.
    county_codes : numpy.ndarray
        (C,) county codes.
    """

    years: np.ndarray
    quantiles: tuple
    n_paths: int
    seed: int
    chunk: int
    county: dict
    city: dict
    county_codes: np.ndarray
    _register: Any = field(default=None, repr=False)
    _pa: Any = field(default=None, repr=False)
    _below: dict = field(default_factory=dict, repr=False)

    def _check(self, indicator: str) -> None:
        if indicator not in self.county:
            raise KeyError(f"indicator {indicator!r} not kept; have {sorted(self.county)}")

    def village(self, indicator: str) -> np.ndarray:
        """(Q, T, V) village percentiles of an indicator (not ``net_migration``).

        Village values are the county value times a coefficient that does not depend on
        the path (the allocation of :func:`qzfp.model.projection.project`), so the village
        percentiles are the county percentiles allocated — exact, without village arrays
        per path.  Net migration is a balance residual per path and is not available here.
        """
        return self._allocated(indicator)[0]

    def township(self, indicator: str) -> np.ndarray:
        """(Q, T, S) township percentiles (sums of the allocated villages)."""
        return self._allocated(indicator)[1]

    def _allocated(self, indicator: str) -> tuple[np.ndarray, np.ndarray]:
        from .model.allocation import allocate, allocation_params, prepare

        if indicator == "net_migration":
            raise KeyError("village and township net migration percentiles need every path's villages; "
                           "use qzfp.model.projection.percentiles on an in-memory Monte Carlo")
        self._check(indicator)
        if indicator not in self._below:
            prep = prepare(self._register)
            alloc = allocation_params(self._pa, len(self.years))
            v, s = allocate(prep, alloc, self.county, None, (indicator,))
            self._below[indicator] = (v[indicator], s[indicator])
        return self._below[indicator]

    def _row(self, percentile: float) -> int:
        if float(percentile) not in self.quantiles:
            raise KeyError(f"percentile {percentile} not held; have {self.quantiles}")
        return self.quantiles.index(float(percentile))

    def counties(self, percentile: float = 50) -> pd.DataFrame:
        """Tidy table ``year, county_code`` + kept indicators at one percentile."""
        i = self._row(percentile)
        c = len(self.county_codes)
        out: dict[str, Any] = {"year": np.repeat(self.years, c), "county_code": np.tile(self.county_codes, len(self.years))}
        for k, v in self.county.items():
            out[k] = v[i].reshape(-1)
        return pd.DataFrame(out)

    def city_table(self) -> pd.DataFrame:
        """Tidy table ``year, percentile`` + kept indicators of the whole register."""
        q = len(self.quantiles)
        out: dict[str, Any] = {"year": np.tile(self.years, q),
                               "percentile": np.repeat(np.asarray(self.quantiles), len(self.years))}
        for k, v in self.city.items():
            out[k] = v.reshape(-1)
        return pd.DataFrame(out)


def _mc_chunk(register: Any, pa: ParamArrays, n_paths: int, seed: np.random.SeedSequence, variant: str,
              calibrate: bool, indicators: tuple[str, ...]) -> dict[str, np.ndarray]:
    """County indicators (n, T, C) of one chunk of Monte Carlo paths (runs on a worker)."""
    from .model.montecarlo import monte_carlo

    r = monte_carlo(register, pa, n_paths, seed, variant=variant, calibrate=calibrate)
    ci = r.county_indicators()
    return {k: np.ascontiguousarray(ci[k]) for k in indicators}


def default_mc_chunk(register: Any, n_years: int, n_paths: int) -> int:
    """Paths per chunk whose county arrays (pop, deaths, net migration by sex and age) fit in
    :data:`MC_CHUNK_BYTES` [path] (at least 1, at most ``n_paths``)."""
    from .model.projection import AGES

    per_path = 3 * (n_years + 1) * max(1, register.n_counties) * 2 * AGES * 8
    return int(max(1, min(max(1, n_paths), MC_CHUNK_BYTES // per_path)))


def _mc_plan(n_paths: int, seed: int, chunk: int) -> list[tuple[int, np.random.SeedSequence]]:
    if n_paths < 1:
        raise ParameterError(Problem("mc_paths", "montecarlo.too_few_paths", n=n_paths))
    if chunk < 1:
        raise ParameterError(Problem("chunk", "montecarlo.chunk", n=chunk))
    k = math.ceil(n_paths / chunk)
    seeds = np.random.SeedSequence(int(seed)).spawn(k)
    return [(min(chunk, n_paths - i * chunk), seeds[i]) for i in range(k)]


def _check_mc(indicators: Sequence[str], q: Sequence[float]) -> tuple[tuple[str, ...], tuple[float, ...]]:
    from .model.projection import INDICATORS

    ind = tuple(indicators)
    bad = [i for i in ind if i not in INDICATORS]
    if bad or not ind:
        raise ParameterError(Problem("indicators", "montecarlo.indicators", choices=", ".join(INDICATORS),
                                     got=list(ind)))
    qt = tuple(float(x) for x in q)
    if not qt or any(not 0.0 <= x <= 100.0 for x in qt):
        raise ParameterError(Problem("percentiles", "percentiles.out_of_range", got=list(q)))
    return ind, qt


def _assemble(register: Any, pa: ParamArrays, parts: list[dict], n_paths: int, seed: int, chunk: int,
              indicators: tuple[str, ...], qt: tuple[float, ...]) -> MCPercentiles:
    county: dict[str, np.ndarray] = {}
    city: dict[str, np.ndarray] = {}
    for k in indicators:
        allp = np.concatenate([p[k] for p in parts], axis=0)  # (N, T, C)
        county[k] = np.percentile(allp, qt, axis=0)
        city[k] = np.percentile(allp.sum(axis=-1), qt, axis=0)
        del allp
    return MCPercentiles(
        years=np.asarray(pa.years), quantiles=qt, n_paths=n_paths, seed=int(seed), chunk=chunk,
        county=county, city=city, county_codes=register.counties["county_code"].to_numpy().astype(str),
        _register=register, _pa=pa,
    )


def monte_carlo_percentiles(
    register: Any,
    pa: ParamArrays,
    n_paths: int,
    seed: int,
    *,
    chunk: int | None = None,
    q: Sequence[float] = (10, 50, 90),
    indicators: Sequence[str] = ("pop", "aged_60plus", "women_15_49", "births", "deaths"),
    variant: str = "medium",
    calibrate: bool = True,
) -> MCPercentiles:
    """Monte Carlo percentiles computed ``chunk`` paths at a time (bounded memory).

    The paths of :func:`qzfp.model.montecarlo.monte_carlo` are drawn in chunks with
    independent streams (chunk ``i`` uses child ``i`` of ``SeedSequence(seed)``); of each
    chunk only the county indicators asked for are kept, and the percentiles are taken over
    all paths at the end (exact, not an approximation).

    Memory: one chunk's age-detailed county arrays, about ``chunk × 3 × T × C × 2 × 101 × 8``
    bytes (≈ 0.2 GB per path for a country of 2,800 counties over 16 years; the default chunk
    keeps this under :data:`MC_CHUNK_BYTES`), plus the kept indicators, ``n_paths × T × C × 8``
    bytes each.

    Parameters
    ----------
    register : Register
    pa : ParamArrays
        Demographic assumptions, N = 1 (the central path).
    n_paths : int
        Paths [path].
    seed : int
        Seed (same seed and chunk → same result).
    chunk : int, optional
        Paths per chunk [path]; default :func:`default_mc_chunk` (memory-bounded).
    q : sequence of float
        Percentiles [%].
    indicators : sequence of str
        County indicators kept (of :data:`qzfp.model.projection.INDICATORS`).
    variant, calibrate
        As :func:`qzfp.model.montecarlo.monte_carlo`.

    Returns
    -------
    MCPercentiles
    """
    ind, qt = _check_mc(indicators, q)
    if chunk is None:
        chunk = default_mc_chunk(register, len(pa.years), n_paths)
    plan = _mc_plan(n_paths, seed, chunk)
    parts = [_mc_chunk(register, pa, n, s, variant, calibrate, ind) for n, s in plan]
    return _assemble(register, pa, parts, n_paths, seed, chunk, ind, qt)


def monte_carlo_dask(
    register: Any,
    pa: ParamArrays,
    n_paths: int,
    seed: int,
    *,
    scheduler: str | None = None,
    client: Any = None,
    chunk: int | None = None,
    q: Sequence[float] = (10, 50, 90),
    indicators: Sequence[str] = ("pop", "aged_60plus", "women_15_49", "births", "deaths"),
    variant: str = "medium",
    calibrate: bool = True,
    retries: int = DEFAULT_RETRIES,
    progress: bool = False,
) -> MCPercentiles:
    """:func:`monte_carlo_percentiles` with the chunks computed on Dask workers.

    Equal to the local chunked result with the same ``seed`` and ``chunk``, whatever the
    number of workers (see the module notes).

    Parameters
    ----------
    register, pa, n_paths, seed, chunk, q, indicators, variant, calibrate
        As :func:`monte_carlo_percentiles`.
    scheduler, client
        See :func:`connect`.
    retries : int
        Resubmissions of a task that raised [-].
    progress : bool
        Show a bar counting finished chunks (on the client).

    Returns
    -------
    MCPercentiles

    Raises
    ------
    ParameterError
        Bad settings, before anything is sent to the cluster.
    QzfpError, RunError
        No scheduler address, the scheduler cannot be reached, or a chunk failed on every
        allowed attempt.
    """
    ind, qt = _check_mc(indicators, q)
    if chunk is None:
        chunk = default_mc_chunk(register, len(pa.years), n_paths)
    plan = _mc_plan(n_paths, seed, chunk)
    stamp = _stamp()
    with _Session(scheduler, client, Label("dask.what.monte_carlo")) as cl:
        reg_f, pa_f = _share(cl, register, pa)
        futures = [_submit(cl, _mc_chunk, reg_f, pa_f, n, s, variant, calibrate, ind,
                           key=f"qzfp-mc-{i}-{stamp}", retries=retries)
                   for i, (n, s) in enumerate(plan)]
        _follow(cl, futures, progress=progress, desc="Monte Carlo (dask)", unit="chunk")
        parts = cl.gather(futures)
    return _assemble(register, pa, parts, n_paths, seed, chunk, ind, qt)
