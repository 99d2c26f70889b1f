"""The data-files hook of a scenario run, beside the kernels, its outcome as plain data.

The ``extra_files`` hook writes a scenario's data files (CSV tables, ``budget.xlsx``)
while the kernels run its notebooks.  It runs in a separate process when this process may
have children (a CPU-heavy hook in a thread would hold the GIL and starve the threads
talking to the kernels), else (a daemonic worker, e.g. of Dask) in a thread.  Whatever
happens, the hook's outcome crosses the process boundary as plain data
(:func:`call_hook`): key figures as text, or the problems of a :class:`QzfpError` as
``(location, message)`` pairs with the error's class name, or one line of text for any
other failure.  No exception object is pickled.

A hook may answer in two parts (:class:`LaterFiles`): what the rest of the report needs
(its key figures, for ``run.json``, the contents of ``report.pdf`` and ``index.html``)
first, then, once the run tells it to go on (:meth:`DataFilesJob.release`: when the
kernels run out of notebooks), the files nothing else waits for (the CSV tables and the
workbook), on the core the kernels leave idle while ``report.pdf`` is printed.  The run
waits for the whole outcome (:meth:`DataFilesJob.wait`) before the report folder moves
into place.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from qzfp import errors
from qzfp.errors import Problem, QzfpError, RunError

__all__ = [
    "DataFilesJob",
    "ExtraFilesHook",
    "HookRunner",
    "LaterFiles",
    "call_hook",
    "can_fork",
    "hook_error",
    "hook_pool",
    "pool_outcome",
]


class LaterFiles(NamedTuple):
    """What a hook returns to answer in two parts: ``figures`` (label -> formatted value, or
    None) at once, then ``write()`` writes the files nothing else of the report waits for,
    when the run says so (see :func:`call_hook`)."""

    figures: Mapping[str, Any] | None
    write: Callable[[], None]


#: ``hook(parameters, folder) -> key figures, None or LaterFiles``: writes data files (CSV
#: tables, ``budget.xlsx``) into ``folder`` and may return key figures (label -> formatted
#: value) to show on ``index.html``, or :class:`LaterFiles` (the key figures, and the files
#: written later).  It must be a module-level function (it is pickled) only where scenarios
#: run in processes that are not forked (spawn, Dask workers).
ExtraFilesHook = Callable[[dict, Path], "Mapping[str, str] | LaterFiles | None"]

#: What a data-files process is told at its hook's second part (:func:`call_hook`'s ``go_on``).
WAIT, GO, SKIP = 0, 1, 2

#: How often a hook waiting to write its later files looks whether it may [s].
GATE_POLL_S = 0.01


def call_hook(hook: ExtraFilesHook, parameters: dict, folder: Path, *,
              first: Callable[[dict[str, Any]], None] | None = None,
              go_on: Callable[[], bool] | None = None,
              later: Callable[[Callable[[], None]], None] | None = None) -> dict[str, Any]:
    """Run ``hook``; its outcome as plain data.

    A hook answering in two parts (:class:`LaterFiles`) hands its first answer (the key
    figures, as below) to ``first``, then waits for ``go_on()``: True writes the later
    files, False (the scenario failed meanwhile) skips them.

    Returns
    -------
    dict
        ``{"value": {label: text}}`` on success; ``{"problems": [[location, id, fields]],
        "kind": class name}`` (:meth:`Problem.to_data <qzfp.errors.Problem.to_data>`) when it raised a :class:`QzfpError`; ``{"failure": text}``
        ("ClassName: message") for any other exception, in either part.
    """
    try:
        value = hook(parameters, folder)
        if isinstance(value, LaterFiles):
            outcome = _figures(value.figures)
            if first is not None:
                first(outcome)
            if go_on is None or go_on():
                (later or _call)(value.write)
            return outcome
    except QzfpError as exc:  # keep its problems (file, row/key) across the pipe
        return {"problems": [p.to_data() for p in exc.problems], "kind": type(exc).__name__}
    except BaseException as exc:  # reported by the run after the notebooks
        return {"failure": f"{type(exc).__name__}: {exc}"}
    return _figures(value)


def _call(work: Callable[[], None]) -> None:
    work()


#: Niceness of the thread writing a data-files process's later files [-]: they take the CPU
#: the kernels and Chromium leave.
LATER_NICENESS = 10


def in_lower_priority(work: Callable[[], None]) -> None:
    """Run ``work`` in a thread of this process at :data:`LATER_NICENESS` (Linux: a thread's
    own niceness), its exception re-raised here; the calling thread keeps its priority."""
    import os

    failure: list[BaseException] = []

    def run() -> None:
        try:
            if hasattr(os, "setpriority"):
                me = threading.get_native_id()
                with contextlib.suppress(OSError):  # never raised above the run's own niceness
                    if os.getpriority(os.PRIO_PROCESS, me) < LATER_NICENESS:
                        os.setpriority(os.PRIO_PROCESS, me, LATER_NICENESS)
            work()
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run, name="qzfp-later-files")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


def _figures(value: Mapping[str, Any] | None) -> dict[str, Any]:
    return {"value": {str(k): str(v) for k, v in (value or {}).items()}}


def hook_error(outcome: Mapping[str, Any], hook: ExtraFilesHook, scenario: str) -> QzfpError | None:
    """The error to raise for an outcome of :func:`call_hook`, or None when it succeeded.

    A :class:`QzfpError` is rebuilt with its class (by name, from :mod:`qzfp.errors`) and
    problems; any other failure becomes a :class:`RunError` naming the hook.
    """
    if "problems" in outcome:
        cls = getattr(errors, str(outcome.get("kind")), QzfpError)
        if not (isinstance(cls, type) and issubclass(cls, QzfpError)):
            cls = QzfpError
        return cls([Problem.from_data(d) for d in outcome["problems"]])
    if "failure" in outcome:
        name = getattr(hook, "__qualname__", repr(hook))
        return RunError(Problem(f"scenario {scenario!r}", "run.datafiles_failed", hook=name,
                                reason=outcome["failure"]))
    return None


def can_fork() -> bool:
    """Data-files processes can be forked here (Linux; not inside a daemonic worker
    process, which may not have children)."""
    import multiprocessing as mp

    return "fork" in mp.get_all_start_methods() and not mp.current_process().daemon


def _wait_for(state: Any, index: int = 0) -> bool:
    """Wait until ``state[index]`` (a shared byte) says :data:`GO` (True) or :data:`SKIP`."""
    while state[index] == WAIT:
        time.sleep(GATE_POLL_S)
    return state[index] == GO


class DataFilesJob(Protocol):
    """The data-files hook of one scenario, under way: its first answer, the word to go on
    with its later files, its whole outcome (each a :func:`call_hook` outcome)."""

    def first(self) -> dict[str, Any]:
        """The first answer (the whole outcome of a hook answering once, or of a failure)."""
        ...

    def release(self) -> None:
        """Let the hook write its later files (at once if it has not got there yet)."""
        ...

    def cancel(self) -> None:
        """The scenario failed: the hook skips its later files, unless released already."""
        ...

    def wait(self) -> dict[str, Any]:
        """Release the hook and wait for its whole outcome."""
        ...


def _hook_child(hook: ExtraFilesHook, parameters: dict, folder: Path, conn: Any, state: Any) -> None:
    """Body of a data-files process: run the hook, send back its first answer, if any, and
    its outcome."""
    try:
        final = call_hook(hook, parameters, folder, first=lambda o: conn.send(("first", o)),
                          go_on=lambda: _wait_for(state), later=in_lower_priority)
        conn.send(("final", final))
    finally:
        conn.close()


class HookRunner:
    """Runs the ``extra_files`` hook of one scenario while its notebooks run
    (a :class:`DataFilesJob`).

    In a forked process (the hook is inherited, not pickled) where this process may have
    children, else in a thread.
    """

    def __init__(self, hook: ExtraFilesHook, parameters: dict, folder: Path, name: str):
        import multiprocessing as mp

        self._first: dict[str, Any] | None = None
        self.outcome: dict[str, Any] | None = None
        self.proc = self.conn = self.thread = None
        if not mp.current_process().daemon:
            methods = mp.get_all_start_methods()
            ctx = mp.get_context("fork" if "fork" in methods else None)
            self.state = ctx.Array("b", 1, lock=False)
            self.conn, child = ctx.Pipe(duplex=False)
            self.proc = ctx.Process(target=_hook_child, args=(hook, parameters, folder, child, self.state),
                                    name=f"qzfp-data-{name}")
            self.proc.start()
            child.close()
        else:
            self.state = [WAIT]
            self._answered = threading.Event()
            self.thread = threading.Thread(target=self._in_thread, args=(hook, parameters, folder),
                                           name=f"qzfp-data-{name}", daemon=True)
            self.thread.start()

    def _in_thread(self, hook: ExtraFilesHook, parameters: dict, folder: Path) -> None:
        def first(outcome: dict[str, Any]) -> None:
            self._first = outcome
            self._answered.set()

        try:
            self.outcome = call_hook(hook, parameters, folder, first=first, go_on=lambda: _wait_for(self.state))
        finally:
            self._answered.set()

    def _receive(self) -> None:
        """The next message of the data-files process (its end is a failure)."""
        try:
            kind, outcome = self.conn.recv()
        except EOFError:
            self.proc.join()
            kind, outcome = "final", {"failure": f"the data-files process died (exit code {self.proc.exitcode})"}
        if self._first is None:
            self._first = outcome
        if kind == "final":
            self.outcome = outcome
            self.proc.join()
            self.conn.close()

    def first(self) -> dict[str, Any]:
        if self.thread is not None:
            self._answered.wait()
            return self._first if self._first is not None else self.outcome or {}
        if self._first is None:
            self._receive()
        assert self._first is not None
        return self._first

    def release(self) -> None:
        if self.state[0] == WAIT:
            self.state[0] = GO

    def cancel(self) -> None:
        if self.state[0] == WAIT:
            self.state[0] = SKIP

    def wait(self) -> dict[str, Any]:
        """The outcome of :func:`call_hook`, once the hook is done."""
        self.release()
        if self.thread is not None:
            self.thread.join()
        else:
            while self.outcome is None:
                self._receive()
        assert self.outcome is not None
        return self.outcome


#: What a data-files process of :func:`hook_pool` got from the pool's initializer, in that
#: process only (never in the process that starts the pool): the hook, the queue of first
#: answers, the gates of the later files.
_pool_hook: ExtraFilesHook | None = None
_pool_answers: Any = None
_pool_state: Any = None


#: How often a data-files process of :func:`hook_pool` checks that its parent lives [s].
PARENT_CHECK_S = 0.5


def _install_hook(hook: ExtraFilesHook, answers: Any = None, state: Any = None) -> None:
    """Initializer of a data-files process: keep the hook (and the pool's queue of first
    answers and gates); exit when the parent is gone.

    A pool's worker waits for tasks on a queue whose writing end it holds itself, so it
    would outlive a killed run (and keep the run's output pipes open); it exits as soon as
    it is orphaned instead, even in the middle of a hook.
    """
    import os

    global _pool_hook, _pool_answers, _pool_state
    _pool_hook, _pool_answers, _pool_state = hook, answers, state
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_S)
        os._exit(1)

    threading.Thread(target=watch, name="qzfp-parent-watch", daemon=True).start()


def _run_pool_hook(parameters: dict, folder: Path, index: int | None = None) -> dict[str, Any]:
    assert _pool_hook is not None, "called outside a data-files process of hook_pool"
    if index is None:
        return call_hook(_pool_hook, parameters, folder)
    return call_hook(_pool_hook, parameters, folder, first=lambda o: _pool_answers.put((index, o)),
                     go_on=lambda: _wait_for(_pool_state, index), later=in_lower_priority)


class PoolJob:
    """One scenario's hook in a :class:`HookPool` (a :class:`DataFilesJob`)."""

    def __init__(self, pool: HookPool, index: int, future: Future):
        self.pool, self.index, self.future = pool, index, future

    def first(self) -> dict[str, Any]:
        return self.pool.first_answer(self.index, self.future)

    def release(self) -> None:
        self.pool.decide(self.index, GO)

    def cancel(self) -> None:
        self.pool.decide(self.index, SKIP)

    def wait(self) -> dict[str, Any]:
        self.release()
        return pool_outcome(self.future)


class HookPool:
    """``workers`` forked data-files processes running one hook for ``jobs`` scenarios
    (:meth:`start` returns a :class:`PoolJob` each; :meth:`submit` a bare future)."""

    def __init__(self, hook: ExtraFilesHook, workers: int, jobs: int = 0):
        import multiprocessing as mp

        ctx = mp.get_context("fork")
        # The hook, the queue of first answers and the gates of the later files reach the
        # workers as arguments of their initializer, inherited by fork (not pickled: a
        # closure works); the workers are forked at the first submit.
        self._answers = ctx.Queue() if jobs else None
        self._state = ctx.Array("b", jobs, lock=False) if jobs else None
        self._firsts: dict[int, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._next = 0
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                                         initializer=_install_hook, initargs=(hook, self._answers, self._state))

    def submit(self, parameters: dict, folder: Path) -> Future:
        """Queue the hook for one scenario; the future's result is :func:`call_hook`'s
        (a hook answering in two parts writes its later files at once)."""
        return self._pool.submit(_run_pool_hook, parameters, folder)

    def start(self, parameters: dict, folder: Path) -> PoolJob:
        """Queue the hook for one of the pool's ``jobs`` scenarios (at most that many)."""
        if self._state is None or self._next >= len(self._state):
            raise ValueError(f"a pool made for {0 if self._state is None else len(self._state)} jobs")
        index, self._next = self._next, self._next + 1
        return PoolJob(self, index, self._pool.submit(_run_pool_hook, parameters, folder, index))

    def decide(self, index: int, word: int) -> None:
        """Tell job ``index`` to go on with its later files (:data:`GO`) or skip them."""
        assert self._state is not None
        if self._state[index] == WAIT:
            self._state[index] = word

    def first_answer(self, index: int, future: Future) -> dict[str, Any]:
        """The first answer of job ``index`` (its whole outcome when it answers once or
        failed, or its process died)."""
        with self._lock:
            while index not in self._firsts:
                try:
                    i, outcome = self._answers.get(timeout=0.05)
                    self._firsts[i] = outcome
                except queue.Empty:
                    if future.done():  # no first answer is coming: its outcome says it all
                        return pool_outcome(future)
            return self._firsts[index]

    def shutdown(self) -> None:
        if self._state is not None:
            for i in range(len(self._state)):
                self.decide(i, SKIP)  # a job nobody waits for skips its later files
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self._answers is not None:
            self._answers.close()
            self._answers.join_thread()


def hook_pool(hook: ExtraFilesHook, workers: int, jobs: int = 0) -> HookPool:
    """Start a :class:`HookPool` for ``jobs`` scenarios answering in two parts (call
    :meth:`HookPool.start` or :meth:`HookPool.submit` before starting threads)."""
    return HookPool(hook, workers, jobs)


def pool_outcome(future: Future) -> dict[str, Any]:
    """The outcome of a :meth:`HookPool.submit` future; a dead process is a failure."""
    try:
        return future.result()
    except Exception as exc:  # the data-files process died (BrokenProcessPool) ...
        return {"failure": f"the data-files process failed: {type(exc).__name__}: {exc}"}
