"""Report kernels forked from a process that has already imported what they import.

A report kernel is an ordinary ipykernel process: it spends its first second and a half
starting Python, importing ipykernel, then qzfp, pandas, Numba and matplotlib in its first
cells, and its first simulation loads the compiled engine, the census table and the
calibration.  Every kernel of a run does the same.  :class:`KernelZygote` is a fresh Python
(``python -m qzfp.reporting.zygote``, started with the kernelspec's own interpreter options,
so it carries nothing of the run's process: no logging handlers, warning filters, flags,
path entries, signal handlers or exit handlers), which imports those modules once, does what
the first notebook cell computes (``warm``), and then, on request, forks each kernel: the
child starts ``IPKernelApp`` on the connection file jupyter_client wrote, exactly as
``python -m ipykernel_launcher -f FILE`` does, with the modules already in memory.

The kernel manager (:class:`qzfp.reporting.kernels.EncryptedKernelManager`) asks the zygote
in place of starting ``ipykernel_launcher`` only when the kernel it would start is this
Python's ipykernel (the ``python3`` kernel of this environment); any other kernel is started
as before.  The kernel talks to the run over the same sockets and protocol, executes the same
notebooks through papermill and nbclient, and its outputs are the same.  jupyter_client
watches and signals it by its process id (:class:`ForkedKernel`).

Lifetimes: the zygote ends when the run tells it to (it then reaps its kernels, so that their
CPU time is counted as the run's children's, as a started kernel's is), or when the run is
gone (it looks every second; it then ends its kernels at once); a kernel's parent is the
zygote, which ipykernel's parent poller is told to watch.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

__all__ = ["PRELOAD", "ForkedKernel", "KernelZygote", "alive", "can_fork_kernels", "current_zygote", "forkable_kernel_command",
           "kernel_options", "prestarted", "zygote"]

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
#: Zygotes started ahead of their run (:func:`prestarted`), by kernel name: (zygote, options).
_PRESTARTED: dict[str, tuple[KernelZygote, tuple[str, ...]]] = {}


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
        if self.returncode is None and not alive(self.pid):
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


def alive(pid: int) -> bool:
    """Process ``pid`` runs (exists and is not a zombie)."""
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
    options : sequence of str
        Interpreter options of the kernelspec (``-Xfrozen_modules=off``), given to the
        zygote's Python as a started kernel's Python gets them.
    warm : dict, optional
        Notebook parameters of the first scenario: the zygote runs
        :func:`qzfp.reporting.sections.display.warm_up` on them after its imports (a failure
        is ignored: a kernel meets it again and reports it).
    timeout : float
        Longest wait for a kernel's fork [s] (the first waits for the imports and the
        warm-up); past it the zygote is ended and kernels are started the usual way.
    """

    def __init__(self, options: Sequence[str] = (), warm: dict | None = None, timeout: float = 60.0) -> None:
        self.timeout = timeout
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        try:
            self._process = subprocess.Popen(
                [sys.executable, *options, "-m", "qzfp.reporting.zygote", str(req_r), str(rep_w)],
                pass_fds=(req_r, rep_w), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, env={**os.environ, "MPLBACKEND": os.environ.get("MPLBACKEND", _INLINE_BACKEND)})
        except OSError:
            os.close(req_w)
            os.close(rep_r)
            raise
        finally:  # the zygote's ends
            os.close(req_r)
            os.close(rep_w)
        self.pid = self._process.pid
        self._requests = req_w
        self._replies = rep_r
        self._lock = threading.Lock()
        self.failed = False
        self.taken = False  # a prestarted zygote a run took (prestarted() then leaves it to the run)
        if warm is not None:
            self.warm(warm)

    def warm(self, parameters: dict) -> None:
        """Ask the zygote to run :func:`qzfp.reporting.sections.display.warm_up` on the
        notebook parameters ``parameters`` (after its imports, before the next fork).
        Parameters that do not pickle are not sent (pickled whole before a byte is written):
        the kernels then warm themselves."""
        with self._lock:
            if self.failed:
                return
            with contextlib.suppress(pickle.PickleError, TypeError, AttributeError, OSError):
                self._send(("warm", dict(parameters)))

    def running(self) -> bool:
        """The zygote can still fork: it has not failed, been closed or ended."""
        return not self.failed and self._process.poll() is None

    def _send(self, message: Any) -> None:
        _write_message(self._requests, message)

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
                self._send(("fork", connection_file, cwd, dict(env)))
                if not select.select([self._replies], [], [], self.timeout)[0]:
                    raise OSError(f"no answer in {self.timeout:.0f} s")
                answer = _read_message(self._replies)
            except (OSError, EOFError, pickle.PickleError) as exc:
                # ended, so that the request it may still answer cannot fork a second kernel
                # on the connection file of the kernel started instead
                self.failed = True
                self._process.kill()
                self._process.wait()
                raise OSError(f"the kernel zygote did not answer: {exc}") from None
        if isinstance(answer, str):
            raise OSError(answer)
        return ForkedKernel(int(answer))

    def close(self, timeout: float = 10.0, *, at_once: bool = False) -> None:
        """End the zygote (its kernels were shut down by their managers) and reap it
        (killed if it has not ended after ``timeout`` seconds, or at once with ``at_once``:
        a zygote that never forked, which need not finish its imports first)."""
        if at_once:
            with contextlib.suppress(OSError):
                self._process.kill()
        with self._lock:
            if not self.failed:
                with contextlib.suppress(OSError, pickle.PickleError):
                    self._send(None)  # "end": processes forked since hold the pipe too
            self.failed = True
            for fd in (self._requests, self._replies):
                with contextlib.suppress(OSError):
                    os.close(fd)
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def _write_message(fd: int, message: Any) -> None:
    """One message on a pipe: its length (8 bytes), then its pickle (written whole)."""
    data = pickle.dumps(message)
    view = memoryview(struct.pack("!Q", len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def _read_message(fd: int) -> Any:
    """The next message of :func:`_write_message` (nothing read beyond it, so ``select`` on
    the pipe tells whether another waits)."""
    (size,) = struct.unpack("!Q", _read_exact(fd, 8))
    return pickle.loads(_read_exact(fd, size))  # noqa: S301 - our own process's messages


def _read_exact(fd: int, size: int) -> bytes:
    buf = bytearray()
    while len(buf) < size:
        chunk = os.read(fd, size - len(buf))
        if not chunk:
            raise EOFError("the pipe was closed")
        buf += chunk
    return bytes(buf)


def _close_inherited_fds() -> None:  # pragma: no cover - forked
    """Close every descriptor but 0-2 in a kernel just forked: the zygote's pipes to the run
    are not the kernel's to hold."""
    try:
        fds = [int(x) for x in os.listdir("/proc/self/fd")]
    except OSError:
        return
    for fd in fds:
        if fd > 2:
            with contextlib.suppress(OSError):
                os.close(fd)


def _zygote_main(req_fd: int, rep_fd: int) -> None:  # pragma: no cover - its own process
    """The zygote: import, warm up on request, fork a kernel per request until told to end."""
    import gc

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C of the run is for the run
    # as ipykernel_launcher does before it loads anything: the folder `python -m` put first on
    # the path goes (IPython puts "", the kernel's working folder, back)
    if sys.path and (sys.path[0] == "" or Path(sys.path[0]) == Path.cwd()):
        del sys.path[0]
    for name in PRELOAD:
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    gc.collect()
    run = os.getppid()
    kernels: list[int] = []
    orderly = _serve(req_fd, rep_fd, run, kernels)
    if orderly:
        # the kernels were shut down by the run: reap them, so that their CPU time is this
        # process's children's, and the run's once it reaps this one (a kernel still running
        # after 5 s is left to its parent poller)
        end = time.monotonic() + 5.0
        while _reap() and time.monotonic() < end:
            time.sleep(0.02)
    else:  # the run is gone: so are its kernels
        for pid in kernels:
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)


def _reap() -> bool:  # pragma: no cover - forked
    """Reap the kernels that ended; True while some still run."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return False
        if pid == 0:
            return True


def _serve(requests: int, replies: int, run: int, kernels: list[int]) -> bool:  # pragma: no cover
    """Answer the run's requests; True when told to end, False when the run is gone."""
    import gc

    while True:
        # a request, the end, or every second a look whether the run is still there (the
        # pipe's end is also held by processes the run forked after this one)
        ready = select.select([requests], [], [], 1.0)[0]
        _reap()
        if not ready:
            if os.getppid() != run:
                return False
            continue
        try:
            request = _read_message(requests)
        except (EOFError, OSError, pickle.PickleError):
            return os.getppid() == run
        if request is None:
            return True
        if request[0] == "warm":
            with contextlib.suppress(BaseException):
                from qzfp.reporting.sections.display import warm_up

                warm_up(request[1])
            gc.collect()
            gc.freeze()  # what every kernel inherits stays shared: their collectors leave it
            continue
        _, connection_file, cwd, env = request
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
            kernels.append(pid)
        try:
            _write_message(replies, answer)
        except OSError:
            return False


def _kernel_main(connection_file: str, cwd: str, env: dict[str, str]) -> None:  # pragma: no cover - forked
    """A kernel: what ``python -m ipykernel_launcher -f connection_file`` does, in the
    environment and folder jupyter_client would have started it in."""
    import atexit
    import gc

    os.setsid()  # its own session, as jupyter_client starts kernels (interrupts go to the group)
    for signum in signal.valid_signals():  # the handlers a new Python starts with
        with contextlib.suppress(OSError, ValueError):
            if callable(signal.getsignal(signum)) or signum == signal.SIGCHLD:
                signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    os.chdir(cwd)
    if "numpy" in sys.modules:  # a fresh numpy's global generator, not the zygote's (as random does)
        sys.modules["numpy"].random.seed()
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
    # the end of a Python that ran the launcher: exit handlers, then the notebook's objects
    # (its files flushed and closed), then the streams
    atexit._run_exitfuncs()
    shell = getattr(app, "shell", None)
    if shell is not None:
        shell.user_ns.clear()
    gc.collect()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(0)


def can_fork_kernels() -> bool:
    """Kernels can be forked from a zygote here: Linux, ``QZFP_FORK_KERNELS`` is not ``0``,
    this is not a daemonic process (a Dask worker's) and no other thread runs now (kept
    conservative: a run inside a server or a notebook starts its kernels as before).
    Otherwise kernels start as usual."""
    import multiprocessing as mp

    return (os.environ.get("QZFP_FORK_KERNELS", "1") != "0" and sys.platform.startswith("linux")
            and hasattr(os, "fork") and not mp.current_process().daemon and threading.active_count() == 1)


def kernel_options(kernel_name: str) -> list[str] | None:
    """The interpreter options of kernelspec ``kernel_name`` when its kernels can be forked
    from a zygote (:func:`forkable_kernel_command`), else None."""
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        argv = list(KernelSpecManager().get_kernel_spec(kernel_name).argv)
    except Exception:  # no such kernel: it fails where it is started, with its own message
        return None
    cmd = [a.replace("{connection_file}", "kernel.json") for a in argv]
    if forkable_kernel_command(cmd) is None:
        return None
    return [a for a in cmd[1:] if a == "-Xfrozen_modules=off"]


@contextlib.contextmanager
def prestarted(kernel_name: str = "python3") -> Iterator[KernelZygote | None]:
    """Start the zygote of the next run's kernels of ``kernel_name`` now, before the run's own
    imports, so that both import at the same time (``qzfp run`` enters this before it imports
    the report machinery; 1 s of the run's start).  The next :func:`zygote` of this kernel
    name in the block takes it and warms it; one that is not taken (the scenario files were
    refused, a Dask executor) is ended at the end of the block, at once: it forked nothing."""
    z: KernelZygote | None = None
    options = kernel_options(kernel_name) if can_fork_kernels() else None
    if options is not None:
        with contextlib.suppress(OSError):
            z = KernelZygote(options)
            _PRESTARTED[kernel_name] = (z, tuple(options))
    try:
        yield z
    finally:
        if z is not None:
            if _PRESTARTED.get(kernel_name, (None,))[0] is z:
                del _PRESTARTED[kernel_name]
            if not z.taken:
                z.close(at_once=True)


def _take_prestarted(kernel_name: str, options: Sequence[str] | None) -> KernelZygote | None:
    """The zygote :func:`prestarted` started for ``kernel_name`` when it is still running and
    runs the interpreter ``options`` (else it is ended, and None)."""
    early = _PRESTARTED.pop(kernel_name, None)
    if early is None:
        return None
    z, started_with = early
    if options is not None and tuple(options) == started_with and z.running():
        z.taken = True
        return z
    z.close(at_once=True)
    return None


@contextlib.contextmanager
def zygote(kernel_name: str = "python3", warm: dict | None = None) -> Iterator[KernelZygote | None]:
    """Within the block, this process's report kernels of ``kernel_name`` are forked from a
    zygote (when :func:`can_fork_kernels` and the kernelspec is this Python's ipykernel),
    warmed with the notebook parameters ``warm``: the one :func:`prestarted` started, or a
    new one."""
    global _CURRENT
    options = kernel_options(kernel_name) if can_fork_kernels() else None
    z = _take_prestarted(kernel_name, options)
    if z is not None:
        if warm is not None:
            try:
                z.warm(warm)
            except BaseException:  # an interrupt here: the zygote is this block's to end
                z.close(at_once=True)
                raise
    elif options is not None:
        with contextlib.suppress(OSError):
            z = KernelZygote(options, warm=warm)
    with _CURRENT_LOCK:
        previous, _CURRENT = _CURRENT, z
    try:
        yield z
    finally:
        with _CURRENT_LOCK:
            _CURRENT = previous
        if z is not None:
            z.close()


if __name__ == "__main__":  # pragma: no cover - the zygote's own process
    _zygote_main(int(sys.argv[1]), int(sys.argv[2]))
