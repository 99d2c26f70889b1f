"""Executing the notebooks of one or more scenarios in the pool of warm kernels.

Every (scenario, notebook) pair is queued, costliest first, and taken by whichever kernel
is free (:class:`NotebookPool`), so several scenarios share the kernel start and the
imports.  Each scenario keeps its own temporary report folder (:class:`ScenarioRun`),
pages and failure: a failing notebook stops further notebooks of that scenario only.
Pages keep the notebook order whatever the execution order.
"""

from __future__ import annotations

import datetime as _dt
import queue
import re
import shutil
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qzfp.errors import Label, Problem, RunError
from qzfp.reporting.convert import (
    CONVERT_LOCK,
    exporter,
    import_papermill,
    notebook_title,
    notebook_to_html,
)
from qzfp.reporting.kernels import WarmKernel, warm_engine
from qzfp.reporting.outcome import keep_failed, notebook_failed
from qzfp.reporting.pages import WORK_DIR
from qzfp.reporting.publish import locked_tempdir, unlock_dir

__all__ = ["NotebookPool", "Outcome", "ScenarioRun", "convert_page", "execute_notebook", "now", "progress_bar"]


def now() -> str:
    """The local time with its zone, to the second (ISO 8601)."""
    return _dt.datetime.now(_dt.timezone.utc).astimezone().isoformat(timespec="seconds")


@dataclass
class Outcome:
    notebook: Path
    page: str = ""
    title: str = ""
    duration: float = 0.0
    error: BaseException | None = None
    started: float = 0.0  # time.perf_counter() when its execution started


class ScenarioRun:
    """One scenario being run: its temporary report folder, its notebooks' outcomes, its
    bar and its failure state (a failing notebook stops further notebooks of this
    scenario only).  Fields other than ``outcomes``/``failed``/``left`` are set once."""

    def __init__(self, name: str, parameters: dict, notebooks: list[Path], out_dir: Path,
                 cwd: Path | None, index: int = 0):
        self.name = name
        self.index = index
        self.parameters = parameters
        self.notebooks = notebooks
        self.out_dir = out_dir
        self.t_start = time.perf_counter()
        self.started = now()
        self.bar: Any = None
        self.outcomes: list[Outcome | None] = [None] * len(notebooks)
        self.failed = False
        self.left = len(notebooks)  # notebooks not yet finished or skipped
        self._kept: list[Path] = []
        self._keep_lock = threading.Lock()
        tmp, self._lock = locked_tempdir(f".{name}.tmp-", out_dir)
        self.tmp: Path | None = tmp
        try:
            self.work = Path(cwd) if cwd is not None else self.tmp / WORK_DIR
            self.executed_dir = self.tmp / WORK_DIR / "executed"
            self.executed_dir.mkdir(parents=True)
            self.work.mkdir(parents=True, exist_ok=True)
        except BaseException:
            self.close()
            raise

    def keep(self, executed: Path) -> Path | None:
        """Keep a failed notebook; the first of this run clears the older ones."""
        with self._keep_lock:
            kept = keep_failed(self.out_dir, self.name, executed, clear=not self._kept)
            if kept is not None:
                self._kept.append(kept)
            return kept

    def close(self) -> None:
        """Close the bar; delete the temporary folder unless it was moved into place."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None
        unlock_dir(self._lock)
        self._lock = None


def execute_notebook(kernel: WarmKernel, sc: ScenarioRun, i: int, *, kernel_name: str,
                     timeout: float | None) -> tuple[Outcome, Any]:
    """Execute notebook ``i`` of ``sc`` in ``kernel``: its outcome (``error`` set on failure)
    and the executed notebook (None on failure), to be written by :func:`convert_page`."""
    nb_path = sc.notebooks[i]
    name = sc.name
    out = Outcome(nb_path, started=time.perf_counter())
    executed = sc.executed_dir / nb_path.name
    try:
        kernel.prepare(sc.work)  # the first time: start the kernel, then import papermill meanwhile
        pm = import_papermill()
        kernel.wait_until_ready()
        nb = pm.execute_notebook(
            str(nb_path), str(executed), parameters=dict(sc.parameters),
            kernel_name=kernel_name, progress_bar=False, request_save_on_cell_execute=False,
            execution_timeout=timeout, warm_kernel=kernel, engine_name=warm_engine(),
        )
    except Exception as exc:  # kernel missing/dead, timeout, unreadable notebook
        if isinstance(exc, import_papermill().PapermillExecutionError):
            kept = sc.keep(executed)
            out.error = notebook_failed(name, nb_path, exc, kept)
            return out, None
        kept = sc.keep(executed) if executed.exists() else None
        text = re.sub(r"\s*\n[-\s]*", " ", str(exc)).strip()  # one line per problem
        out.error = RunError(Problem(str(nb_path), "run.failed", name=name,
                                     error=f"{type(exc).__name__}: {text}".rstrip(": "),
                                     kept="" if kept is None else Label("run.kept", path=str(kept))))
        out.error.__cause__ = exc
        return out, None
    return out, nb


def convert_page(sc: ScenarioRun, out: Outcome, nb: Any) -> Outcome:
    """Write the page of an executed notebook (:func:`execute_notebook`) into ``sc.tmp``;
    ``out`` gets its title, page and duration (execution and conversion) [s], or the error."""
    nb_path = out.notebook
    out.title = notebook_title(nb, nb_path.stem)
    out.page = f"{nb_path.stem}.html"
    try:
        with CONVERT_LOCK:  # one exporter per process; its preprocessors keep state
            page = notebook_to_html(nb, out.title)
        (sc.tmp / out.page).write_text(page, encoding="utf-8")
    except Exception as exc:  # an output nbconvert cannot render, disk full ...
        kept = sc.keep(sc.executed_dir / nb_path.name)
        out.error = RunError(
            Problem(str(nb_path), "run.convert_failed", name=sc.name, page=out.page,
                    error=f"{type(exc).__name__}: {exc}", kept=str(kept))
        )
        out.error.__cause__ = exc
    out.duration = round(time.perf_counter() - out.started, 3)
    return out


class NotebookPool:
    """Warm kernels (one thread each) executing the notebooks of one or more scenarios.

    Every (scenario, notebook) pair is queued, costliest notebook first (``cost`` by stem,
    unknown stems 1; ties in scenario then notebook order), and taken by whichever kernel
    is free, so several scenarios share the kernel start and the imports.  With several
    scenarios the kernels keep to notebooks (see :meth:`_pick`): a kernel that ran
    notebook ``01`` of one scenario runs ``01`` of the next, while the other kernels take
    other notebooks, so what scenarios have in common (a population projection, a chart
    of the same data: :mod:`qzfp.reporting.sections` keeps them per process) is computed once per
    batch instead of twice at the same time.  An executed notebook is written as its page
    by one more thread (``qzfp-pages``), while its kernel goes on with the next notebook.
    A failing notebook stops the start of further notebooks of *its* scenario; its kernel
    is replaced by a fresh one (it may be dead or stuck).  ``on_done(sc)`` is called (from
    a kernel or the pages thread) once every notebook of ``sc`` has finished or been skipped;
    ``on_drained()`` once, from the first kernel thread that finds no notebook left to run.
    """

    def __init__(self, runs: Sequence[ScenarioRun], slots: int, *, kernel_name: str,
                 timeout: float | None, cost: Mapping[str, float] | None = None,
                 on_done: Callable[[ScenarioRun], None] | None = None,
                 on_drained: Callable[[], None] | None = None):
        self.kernel_name = kernel_name
        self.timeout = timeout
        self.on_done = on_done
        self.on_drained = on_drained
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._todo = sorted((-float((cost or {}).get(nb.stem, 1.0)), s, i)
                            for s, sc in enumerate(runs) for i, nb in enumerate(sc.notebooks))
        self._running: dict[str, str] = {}  # kernel thread name -> stem it is running
        self._runs = list(runs)
        self._threads = [threading.Thread(target=self._worker, name=f"qzfp-kernel-{k}", daemon=True)
                         for k in range(max(1, min(slots, len(self._todo))))]
        self._kernels_left = len(self._threads)
        self._pages: queue.SimpleQueue[tuple[ScenarioRun, int, Outcome, Any] | None] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write_pages, name="qzfp-pages", daemon=True)

    def start(self) -> None:
        self._writer.start()
        for th in self._threads:
            th.start()
        with CONVERT_LOCK:  # build the exporter (~0.3 s) while the kernels start
            exporter()

    def join(self, timeout: float | None = None) -> None:
        for th in [*self._threads, self._writer]:
            th.join(timeout)

    def alive(self) -> bool:
        return any(th.is_alive() for th in [*self._threads, self._writer])

    def _pick(self, last: str | None) -> int:
        """Index in the queue of the next notebook for a kernel whose previous notebook
        was ``last``: the first queued notebook of the same stem (another scenario's),
        else the first whose stem no other kernel is running, else the first."""
        stems = [self._runs[s].notebooks[i].stem for _, s, i in self._todo]
        if last is not None and last in stems:
            return stems.index(last)
        busy = set(self._running.values())
        return next((k for k, stem in enumerate(stems) if stem not in busy), 0)

    def _next(self, last: str | None = None) -> tuple[ScenarioRun, int] | None:
        """The next notebook to run (see :meth:`_pick`); notebooks of failed scenarios are
        skipped."""
        me = threading.current_thread().name
        while True:
            with self._lock:
                self._running.pop(me, None)
                if self.stop.is_set() or not self._todo:
                    return None
                _, s, i = self._todo.pop(self._pick(last))
                sc = self._runs[s]
                if not sc.failed:
                    self._running[me] = sc.notebooks[i].stem
                    return sc, i
            self._finished(sc)

    def _finished(self, sc: ScenarioRun) -> None:
        with self._lock:
            sc.left -= 1
            done = sc.left == 0
        if done and self.on_done is not None:
            self.on_done(sc)

    def _record(self, sc: ScenarioRun, i: int, out: Outcome) -> None:
        """Notebook ``i`` of ``sc`` is finished (its page written, or failed)."""
        sc.outcomes[i] = out
        if out.error is not None:
            sc.failed = True
        elif sc.bar is not None:
            sc.bar.update(1)
        self._finished(sc)

    def _write_pages(self) -> None:
        """The pages thread: write each executed notebook's page (:func:`convert_page`)."""
        while (job := self._pages.get()) is not None:
            sc, i, out, nb = job
            try:
                convert_page(sc, out, nb)
            except BaseException as exc:  # a bug here must not leave the scenario unfinished
                out.error = RunError(Problem(str(sc.notebooks[i]), "run.failed", name=sc.name,
                                             error=f"{type(exc).__name__}: {exc}", kept=""))
            self._record(sc, i, out)

    def _worker(self) -> None:
        kernel: WarmKernel | None = None
        last: str | None = None
        try:
            while (job := self._next(last)) is not None:
                sc, i = job
                last = sc.notebooks[i].stem
                if sc.bar is not None:
                    sc.bar.set_postfix_str(sc.notebooks[i].stem)
                if kernel is None:
                    kernel = WarmKernel(self.kernel_name, sc.work)
                try:
                    out, nb = execute_notebook(kernel, sc, i, kernel_name=self.kernel_name, timeout=self.timeout)
                except BaseException as exc:  # a bug here must not leave the scenario unfinished
                    out, nb = Outcome(sc.notebooks[i], error=RunError(Problem(
                        str(sc.notebooks[i]), "run.failed", name=sc.name,
                        error=f"{type(exc).__name__}: {exc}", kept=""))), None
                if nb is not None:
                    self._pages.put((sc, i, out, nb))  # written by the pages thread
                    continue
                sc.failed = True
                kernel.shutdown()
                kernel, last = None, None  # a fresh kernel has nothing in common with any
                self._record(sc, i, out)
        finally:
            drained, self.on_drained = self.on_drained, None
            if drained is not None:
                drained()
            if kernel is not None:
                kernel.shutdown()
            with self._lock:
                self._kernels_left -= 1
                last_kernel = self._kernels_left == 0
            if last_kernel:
                self._pages.put(None)  # the pages thread ends once the queue is written


def progress_bar(name: str, n_notebooks: int, position: int, lang: str = "en") -> Any:
    """A bar counting the notebooks of scenario ``name``, its unit in ``lang`` (nb, 个笔记本)."""
    from tqdm.auto import tqdm

    from ..i18n import t

    return tqdm(total=n_notebooks + 1, desc=name, position=position, leave=True, unit=t("progress.notebooks", lang))


