"""Report kernels forked from a process that has already imported what they import.

A report kernel is an ordinary ipykernel process: it spends its first second and a half
starting Python, importing ipykernel, then qzfp, pandas, Numba and matplotlib in its first
cells.  Every kernel of a run imports the same modules.  :class:`KernelZygote` is a process
forked from the run's own process before any thread starts (as the data-files processes
are), which imports those modules once and then, on request, forks each kernel: the child
starts ``IPKernelApp`` on the connection file jupyter_client wrote, exactly as
``python -m ipykernel_launcher -f FILE`` does, with the modules already in memory.

The kernel manager (:class:`qzfp.reporting.kernels.EncryptedKernelManager`) asks the zygote
in place of starting ``ipykernel_launcher`` only when the kernel it would start is this
Python's ipykernel (the ``python3`` kernel of this environment); any other kernel is started
as before.  The kernel talks to the run over the same sockets and protocol, executes the same
notebooks through papermill and nbclient, and its outputs are the same.  jupyter_client
watches and signals it by its process id (:class:`ForkedKernel`).

Lifetimes: the zygote ends when the run tells it to, closes its request pipe, or dies (it
looks every second); a kernel's parent is the zygote, which ipykernel's parent poller is
told to watch, so a kernel whose zygote ended ends too.  The zygote reaps its kernels, so
their CPU time is counted as the run's children's, as a started kernel's is.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import pickle
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["PRELOAD", "ForkedKernel", "KernelZygote", "can_fork_kernels", "current_zygote", "forkable_kernel_command",
           "zygote"]

#: Modules the zygote imports before forking kernels: what a report kernel imports in its
#: first cells (ipykernel itself, qzfp's notebook sections with pandas and Numba, matplotlib's
#: figure and Agg canvas).  Not ``pyplot`` nor ``matplotlib_inline.backend_inline``: the inline
#: backend binds itself to the kernel's shell when it is first imported, which needs the shell.
PRELOAD: tuple[str, ...] = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "IPython.core.interactiveshell",
    "qzfp.reporting.sections",
    "qzfp.reporting.charts",
    "matplotlib.figure",
    "matplotlib.backends.backend_agg",
)

_INLINE_BACKEND = "module://matplotlib_inline.backend_inline"

#: The zygote of the run in progress in this process (set by :func:`zygote`), or None.
_CURRENT: KernelZygote | None = None
_CURRENT_LOCK = threading.Lock()


def current_zygote() -> KernelZygote | None:
    """The zygote the kernels of this process's run are forked from, or None."""
    return _CURRENT


def forkable_kernel_command(cmd: Sequence[str]) -> str | None:
    """The connection file of ``cmd`` when it starts this Python's ipykernel
    (``<this python> [-Xfrozen_modules=off] -m ipykernel_launcher -f FILE``, the kernelspec
    ipykernel installs), else None: only such a kernel can be forked from this process's
    zygote, which runs this interpreter with these modules.  (``-Xfrozen_modules=off`` is
    there for the debugger's breakpoints in the standard library; a report run does not
    debug.)"""
    cmd = list(cmd)
    if not cmd:
        return None
    try:
        if not os.path.samefile(cmd[0], sys.executable):
            return None
    except OSError:
        return None
    rest = [a for a in cmd[1:] if a != "-Xfrozen_modules=off"]
    if len(rest) != 4 or rest[:3] != ["-m", "ipykernel_launcher", "-f"]:
        return None  # other options would have to be passed on: start it the usual way
    return rest[3]


class ForkedKernel:
    """A kernel forked by the zygote, with the part of :class:`subprocess.Popen` that
    jupyter_client's local provisioner uses (``poll``, ``wait``, ``send_signal``, ``kill``,
    ``terminate``).  It is the zygote's child, not this process's: it is watched by its
    process id (alive while ``kill(pid, 0)`` finds it and it is not a zombie)."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and not _alive(self.pid):
            self.returncode = -1  # its exit status is its parent's (the zygote's) to read
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        end = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if end is not None and time.monotonic() > end:
                raise subprocess.TimeoutExpired(["ipykernel (forked)", str(self.pid)], timeout or 0)
            time.sleep(0.01)
        return self.returncode if self.returncode is not None else -1

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - a pid taken by another user's process
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


class KernelZygote:
    """The forking process (see the module's description).

    Parameters
    ----------
    preload : sequence of str
        Modules it imports before it answers (:data:`PRELOAD`); one that fails to import is
        left to the kernel, which then reports the failure as it would.
    timeout : float
        Longest wait for a kernel's fork [s] (the first waits for the imports); past it the
        zygote is given up and kernels are started the usual way.
    warm : callable, optional
        Called after the imports (its failure ignored: a kernel meets it again and reports
        it): what every kernel computes first, done once (``qzfp run``: the scenario's
        simulation, :func:`qzfp.reporting.sections.display.warm_up`).
    """

    def __init__(self, preload: Sequence[str] = PRELOAD, timeout: float = 60.0,
                 warm: Callable[[], object] | None = None) -> None:
        self.timeout = timeout
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the zygote (coverage does not follow forks)
            try:
                os.close(req_w)
                os.close(rep_r)
                _zygote_main(req_r, rep_w, tuple(preload), warm)
            finally:
                os._exit(0)
        os.close(req_r)
        os.close(rep_w)
        self.pid = pid
        self._requests = os.fdopen(req_w, "wb")
        self._replies = os.fdopen(rep_r, "rb")
        self._lock = threading.Lock()
        self.failed = False

    def launch(self, connection_file: str, cwd: str, env: dict[str, str]) -> ForkedKernel:
        """Fork a kernel on ``connection_file`` in ``cwd`` with ``env``.

        Raises
        ------
        OSError
            The zygote is gone or could not fork (the caller starts the kernel the usual way).
        """
        with self._lock:
            if self.failed:
                raise OSError("the kernel zygote failed before")
            try:
                pickle.dump((connection_file, cwd, dict(env)), self._requests)
                self._requests.flush()
                if not select.select([self._replies], [], [], self.timeout)[0]:
                    raise OSError(f"no answer in {self.timeout:.0f} s")
                answer = pickle.load(self._replies)
            except (OSError, EOFError, pickle.PickleError) as exc:
                self.failed = True
                raise OSError(f"the kernel zygote did not answer: {exc}") from None
        if isinstance(answer, str):
            raise OSError(answer)
        return ForkedKernel(int(answer))

    def close(self, timeout: float = 10.0) -> None:
        """End the zygote (its kernels were shut down by their managers) and reap it
        (killed if it has not ended after ``timeout`` seconds)."""
        with self._lock:
            if not self.failed:
                with contextlib.suppress(OSError, pickle.PickleError):
                    pickle.dump(None, self._requests)  # "end": processes forked since hold the pipe too
                    self._requests.flush()
            self.failed = True
            for f in (self._requests, self._replies):
                with contextlib.suppress(OSError):
                    f.close()
        end = time.monotonic() + timeout
        with contextlib.suppress(ChildProcessError, OSError):
            while os.waitpid(self.pid, os.WNOHANG) == (0, 0):
                if time.monotonic() > end:
                    os.kill(self.pid, signal.SIGKILL)
                    os.waitpid(self.pid, 0)
                    break
                time.sleep(0.01)


def _close_inherited_fds(keep: tuple[int, ...] = ()) -> None:  # pragma: no cover - forked
    """Close every descriptor but 0-2 and ``keep``: the run's locks, pipes and sockets are
    not the zygote's or a kernel's to hold."""
    try:
        fds = [int(x) for x in os.listdir("/proc/self/fd")]
    except OSError:
        return
    for fd in fds:
        if fd > 2 and fd not in keep:
            with contextlib.suppress(OSError):
                os.close(fd)


def _zygote_main(req_fd: int, rep_fd: int, preload: tuple[str, ...],
                 warm: Callable[[], object] | None) -> None:  # pragma: no cover - forked
    """The zygote: import, warm up, then fork a kernel per request until told to end."""
    import gc

    gc.collect()  # the run's garbage closes its own files before their numbers are freed
    _close_inherited_fds(keep=(req_fd, rep_fd))
    devnull = os.open(os.devnull, os.O_RDWR)  # its warnings are the kernels' to give
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C of the run is for the run
    # as ipykernel sets it before a kernel imports matplotlib (figures made with pyplot in a
    # notebook are shown by the inline backend)
    os.environ.setdefault("MPLBACKEND", _INLINE_BACKEND)
    for name in preload:
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    if warm is not None:
        with contextlib.suppress(BaseException):
            warm()
    gc.collect()
    gc.freeze()  # what every kernel inherits stays shared: the kernels' collector leaves it alone
    run = os.getppid()
    requests = os.fdopen(req_fd, "rb")
    replies = os.fdopen(rep_fd, "wb")
    try:
        _serve(requests, replies, run)
    finally:
        # the kernels were shut down by the run: reap them, so that their CPU time is this
        # process's children's, and the run's once it reaps this one (a kernel still running
        # after 5 s is left to its parent poller)
        end = time.monotonic() + 5.0
        while _reap() and time.monotonic() < end:
            time.sleep(0.02)


def _reap() -> bool:  # pragma: no cover - forked
    """Reap the kernels that ended; True while some still run."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return False
        if pid == 0:
            return True


def _serve(requests: Any, replies: Any, run: int) -> None:  # pragma: no cover - forked
    while True:
        # a request, the end, or every second a look whether the run is still there (the
        # pipe's end is also held by processes the run forked after this one)
        ready = select.select([requests], [], [], 1.0)[0]
        _reap()
        if not ready:
            if os.getppid() != run:
                return
            continue
        try:
            request = pickle.load(requests)
        except (EOFError, OSError, pickle.PickleError):
            return
        if request is None:
            return
        connection_file, cwd, env = request
        try:
            pid = os.fork()
        except OSError as exc:
            answer: int | str = f"fork failed: {exc}"
        else:
            if pid == 0:
                try:
                    _close_inherited_fds()
                    _kernel_main(connection_file, cwd, env)
                finally:
                    os._exit(1)
            answer = pid
        try:
            pickle.dump(answer, replies)
            replies.flush()
        except OSError:
            return


def _kernel_main(connection_file: str, cwd: str, env: dict[str, str]) -> None:  # pragma: no cover - forked
    """A kernel: what ``python -m ipykernel_launcher -f connection_file`` does, in the
    environment and folder jupyter_client would have started it in."""
    import atexit

    os.setsid()  # its own session, as jupyter_client starts kernels (interrupts go to the group)
    for signum in signal.valid_signals():  # the handlers a new Python starts with
        with contextlib.suppress(OSError, ValueError):
            if callable(signal.getsignal(signum)) or signum == signal.SIGCHLD:
                signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    atexit._clear()  # the run's exit handlers are the run's
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    os.chdir(cwd)
    # the path `python -m ipykernel_launcher` runs with: without the run's own first entry (its
    # script's folder), which the launcher removes too; IPython then puts the working folder
    # ("") on it, so a notebook imports a module beside it.  The launcher is the program.
    if not getattr(sys.flags, "safe_path", False) and sys.path:
        del sys.path[0]
    env = dict(env)
    env["JPY_PARENT_PID"] = str(os.getppid())  # the zygote: the kernel ends when it ends
    env.setdefault("MPLBACKEND", os.environ.get("MPLBACKEND", _INLINE_BACKEND))
    os.environ.clear()
    os.environ.update(env)
    launcher = importlib.util.find_spec("ipykernel_launcher")
    sys.argv = [launcher.origin if launcher and launcher.origin else "ipykernel_launcher", "-f", connection_file]
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    # the parent to watch, given as an option: ipykernel read JPY_PARENT_PID into its default
    # when the zygote imported it, before this kernel's environment was set
    app.initialize(["-f", connection_file, f"--IPKernelApp.parent_handle={os.getppid()}"])
    app.start()
    os._exit(0)


def can_fork_kernels() -> bool:
    """Kernels can be forked from a zygote here: Linux, ``QZFP_FORK_KERNELS`` is not ``0``,
    this is not a daemonic process (a Dask worker's, which may not have children) and no
    other thread runs now (forking a process with threads could copy a lock another thread
    holds: a Dask worker, a server embedding qzfp).  Otherwise kernels start as usual."""
    import multiprocessing as mp

    return (os.environ.get("QZFP_FORK_KERNELS", "1") != "0" and sys.platform.startswith("linux")
            and hasattr(os, "fork") and not mp.current_process().daemon and threading.active_count() == 1)


@contextlib.contextmanager
def zygote(enabled: bool = True, preload: Sequence[str] = PRELOAD, warm: Callable[[], object] | None = None):
    """Within the block, report kernels of this process are forked from a zygote (when
    ``enabled`` and :func:`can_fork_kernels`).  Enter it before any thread starts."""
    global _CURRENT
    z: KernelZygote | None = None
    if enabled and can_fork_kernels():
        with contextlib.suppress(OSError):
            z = KernelZygote(preload, warm=warm)
    with _CURRENT_LOCK:
        previous, _CURRENT = _CURRENT, z
    try:
        yield z
    finally:
        with _CURRENT_LOCK:
            _CURRENT = previous
        if z is not None:
            z.close()
