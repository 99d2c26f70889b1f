"""The Dask session of a qzfp command: connect to a scheduler, submit, follow, share.

Every Dask call of :mod:`qzfp.distributed` goes through a :class:`Session`'s own client
(``set_as_default=False``); while a session owns its client, Dask's log lines are printed
without tracebacks and a failure leaves as a one-line :class:`~qzfp.errors.RunError`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Sequence
from typing import Any

from ..errors import Label, Problem, QzfpError, RunError

__all__ = ["DEFAULT_RETRIES", "Session", "connect", "follow", "share", "submit", "task_stamp"]

#: Times a task that raised an unexpected exception is resubmitted [-].
DEFAULT_RETRIES = 2


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


class Session:
    """Context manager: a client from :func:`connect`, closed on exit when made here.

    Every Dask call of :mod:`qzfp.distributed` goes through this client (``client.submit``,
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


def submit(client: Any, fn: Any, *args: Any, key: str, retries: int) -> Any:
    """``client.submit`` of one qzfp task (never merged with another: ``pure=False``)."""
    return client.submit(fn, *args, key=key, retries=retries, pure=False)


def follow(client: Any, futures: Sequence[Any], *, progress: bool, desc: str, unit: str) -> None:
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


def task_stamp() -> str:
    """A suffix that makes this batch's task keys unique on a shared scheduler."""
    return f"{time.time_ns():x}-{os.getpid():x}"


def share(client: Any, *data: Any) -> list[Any]:
    """Send inputs every task reads (register, parameter arrays) once, as tasks of their own.

    Scattered data cannot be recomputed, and the scheduler's active memory manager may drop
    the extra copies of a broadcast: with its last copy gone (a worker killed mid-batch) every
    task still to run would be cancelled ("already forgotten").  An input sent as the argument
    of a task is part of the task's definition, which the scheduler keeps: if the worker
    holding the result dies, the input is made again where it is needed.
    """
    stamp = task_stamp()
    return [client.submit(_identity, d, key=f"input-{i}-{stamp}", pure=False) for i, d in enumerate(data)]


def _identity(x: Any) -> Any:
    """The task that holds a shared input (:func:`share`)."""
    return x
