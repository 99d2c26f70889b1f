"""Report batches on a Dask cluster: :class:`DaskExecutor` and :func:`run_many_dask`."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import Label, Problem, ScenarioError
from ..reporting.batch import (
    Batch,
    ExtraFilesHook,
    ScenarioReport,
    ScenarioTask,
    run_batch,
    run_one,
)
from ..reporting.publish import remove_stale_temporaries
from .session import DEFAULT_RETRIES, Session, follow, submit, task_stamp

__all__ = ["DaskExecutor", "run_many_dask"]

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
        stamp = task_stamp()
        with Session(self.scheduler, self.client, Label("dask.what.batch")) as cl:
            futures = [submit(cl, _run_in, cwd, task, key=f"qzfp-run-{name}-{stamp}", retries=self.retries)
                       for name, task in zip(batch.names, tasks, strict=True)]
            follow(cl, futures, progress=self.progress, desc="scenarios (dask)", unit="scenario")
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

