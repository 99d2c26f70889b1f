"""The data-files hook of a scenario run, beside the kernels, its outcome as plain data.

The ``extra_files`` hook writes a scenario's data files (CSV tables, ``budget.xlsx``)
while the kernels run its notebooks.  It runs in a separate process when this process may
have children (a CPU-heavy hook in a thread would hold the GIL and starve the threads
talking to the kernels), else (a daemonic worker, e.g. of Dask) in a thread.  Whatever
happens, the hook's outcome crosses the process boundary as plain data
(:func:`call_hook`): key figures as text, or the problems of a :class:`QzfpError` as
``(location, message)`` pairs with the error's class name, or one line of text for any
other failure.  No exception object is pickled.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from qzfp import errors
from qzfp.errors import Problem, QzfpError, RunError

__all__ = [
    "ExtraFilesHook",
    "HookRunner",
    "call_hook",
    "can_fork",
    "hook_error",
    "hook_pool",
    "pool_outcome",
]

#: ``hook(parameters, folder) -> key figures or None``: writes data files (CSV tables,
#: ``budget.xlsx``) into ``folder`` and may return key figures (label -> formatted value)
#: to show on ``index.html``.  It must be a module-level function (it is pickled) only
#: where scenarios run in processes that are not forked (spawn, Dask workers).
ExtraFilesHook = Callable[[dict, Path], "Mapping[str, str] | None"]


def call_hook(hook: ExtraFilesHook, parameters: dict, folder: Path) -> dict[str, Any]:
    """Run ``hook``; its outcome as plain data.

    Returns
    -------
    dict
        ``{"value": {label: text}}`` on success; ``{"problems": [[location, id, fields]],
        "kind": class name}`` (:meth:`Problem.to_data <qzfp.errors.Problem.to_data>`) when it raised a :class:`QzfpError`; ``{"failure": text}``
        ("ClassName: message") for any other exception.
    """
    try:
        value = hook(parameters, folder)
    except QzfpError as exc:  # keep its problems (file, row/key) across the pipe
        return {"problems": [p.to_data() for p in exc.problems], "kind": type(exc).__name__}
    except BaseException as exc:  # reported by the run after the notebooks
        return {"failure": f"{type(exc).__name__}: {exc}"}
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


def _hook_child(hook: ExtraFilesHook, parameters: dict, folder: Path, conn: Any) -> None:
    """Body of a data-files process: run the hook, send back its outcome."""
    try:
        conn.send(call_hook(hook, parameters, folder))
    finally:
        conn.close()


class HookRunner:
    """Runs the ``extra_files`` hook of one scenario while its notebooks run.

    In a forked process (the hook is inherited, not pickled) where this process may have
    children, else in a thread.
    """

    def __init__(self, hook: ExtraFilesHook, parameters: dict, folder: Path, name: str):
        import multiprocessing as mp

        self.outcome: dict[str, Any] = {}
        self.proc = self.conn = self.thread = None
        if not mp.current_process().daemon:
            methods = mp.get_all_start_methods()
            ctx = mp.get_context("fork" if "fork" in methods else None)
            self.conn, child = ctx.Pipe(duplex=False)
            self.proc = ctx.Process(target=_hook_child, args=(hook, parameters, folder, child),
                                    name=f"qzfp-data-{name}")
            self.proc.start()
            child.close()
        else:
            self.thread = threading.Thread(target=self._in_thread, args=(hook, parameters, folder),
                                           name=f"qzfp-data-{name}", daemon=True)
            self.thread.start()

    def _in_thread(self, hook: ExtraFilesHook, parameters: dict, folder: Path) -> None:
        self.outcome = call_hook(hook, parameters, folder)

    def wait(self) -> dict[str, Any]:
        """The outcome of :func:`call_hook`, once the hook is done."""
        if self.thread is not None:
            self.thread.join()
            return self.outcome
        try:
            self.outcome = self.conn.recv()
        except EOFError:
            self.proc.join()
            self.outcome = {"failure": f"the data-files process died (exit code {self.proc.exitcode})"}
        self.proc.join()
        self.conn.close()
        return self.outcome


#: The hook of a data-files process of :func:`hook_pool`, set in that process only by the
#: pool's initializer (never in the process that starts the pool).
_pool_hook: ExtraFilesHook | None = None


#: How often a data-files process of :func:`hook_pool` checks that its parent lives [s].
PARENT_CHECK_S = 0.5


def _install_hook(hook: ExtraFilesHook) -> None:
    """Initializer of a data-files process: keep the hook; exit when the parent is gone.

    A pool's worker waits for tasks on a queue whose writing end it holds itself, so it
    would outlive a killed run (and keep the run's output pipes open); it exits as soon as
    it is orphaned instead, even in the middle of a hook.
    """
    import os

    global _pool_hook
    _pool_hook = hook
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_S)
        os._exit(1)

    threading.Thread(target=watch, name="qzfp-parent-watch", daemon=True).start()


def _run_pool_hook(parameters: dict, folder: Path) -> dict[str, Any]:
    assert _pool_hook is not None, "called outside a data-files process of hook_pool"
    return call_hook(_pool_hook, parameters, folder)


class HookPool:
    """``workers`` forked data-files processes running one hook for many scenarios."""

    def __init__(self, hook: ExtraFilesHook, workers: int):
        import multiprocessing as mp

        # The hook reaches the workers as an argument of their initializer, inherited by
        # fork (not pickled: a closure works); the workers are forked at the first submit.
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork"),
                                         initializer=_install_hook, initargs=(hook,))

    def submit(self, parameters: dict, folder: Path) -> Future:
        """Queue the hook for one scenario; the future's result is :func:`call_hook`'s."""
        return self._pool.submit(_run_pool_hook, parameters, folder)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def hook_pool(hook: ExtraFilesHook, workers: int) -> HookPool:
    """Start a :class:`HookPool` (call :meth:`HookPool.submit` before starting threads)."""
    return HookPool(hook, workers)


def pool_outcome(future: Future) -> dict[str, Any]:
    """The outcome of a :meth:`HookPool.submit` future; a dead process is a failure."""
    try:
        return future.result()
    except Exception as exc:  # the data-files process died (BrokenProcessPool) ...
        return {"failure": f"the data-files process failed: {type(exc).__name__}: {exc}"}
