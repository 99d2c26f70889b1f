"""The warm-kernel pool's kernels: one kernel manager, kernels reused across notebooks.

A scenario's notebooks run in a few *warm* kernels (default one per CPU, at least 2):
each kernel is started once and executes notebooks in turn, its namespace cleared, its
execution count restarted and its working directory set between two, so imports and
caches are paid once per kernel.  papermill executes a notebook in such a kernel through
the engine :data:`WARM_ENGINE`, registered with papermill's public engine registry.
Every kernel talks over per-kernel Unix sockets, encrypted where pyzmq can
(:class:`EncryptedKernelManager`).
"""

from __future__ import annotations

import contextlib
import functools
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from qzfp.errors import Problem, ScenarioError

__all__ = [
    "KERNEL_MANAGER",
    "WARM_ENGINE",
    "EncryptedKernelManager",
    "WarmKernel",
    "default_kernel_budget",
    "floor_benchmark",
    "kernel_slots",
    "kernels_per_scenario",
    "warm_engine",
]

#: Kernel manager used for every notebook run (see :class:`EncryptedKernelManager`).
KERNEL_MANAGER = "qzfp.reporting.kernels.EncryptedKernelManager"


def _kernel_manager_base() -> type:
    from jupyter_client.manager import AsyncKernelManager

    return AsyncKernelManager


class EncryptedKernelManager(_kernel_manager_base()):  # type: ignore[misc]
    """Kernel manager that encrypts the kernel's ZMQ traffic when it can.

    Recent ipykernel warns on every start when a kernel talks plain TCP; with
    ``transport_encryption = "auto"`` jupyter_client provisions CurveZMQ keys when
    pyzmq supports them (and falls back to plain TCP otherwise), so report runs
    neither print that warning nor send code and outputs unencrypted.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if "transport_encryption" in self.trait_names():
            self.transport_encryption = "auto"
        if os.name == "posix":
            # Unix sockets under a name of this kernel alone: TCP ports are found free and
            # then bound by the kernel, so concurrent runs could pick the same port
            # ("ZMQError: Address already in use"); these names cannot collide.
            import uuid

            self.transport = "ipc"
            self.ip = os.path.join(tempfile.gettempdir(), f"qzfp-kernel-{uuid.uuid4().hex}")

    async def _async_launch_kernel(self, kernel_cmd, **kw):  # type: ignore[override]
        # this Python's ipykernel, while a run's zygote is up: forked from it, with the
        # kernels' imports already done (qzfp.reporting.zygote); otherwise started as usual
        from qzfp.reporting import zygote

        z = zygote.current_zygote()
        connection_file = zygote.forkable_kernel_command(kernel_cmd) if z is not None else None
        if z is None or connection_file is None:
            return await super()._async_launch_kernel(kernel_cmd, **kw)
        try:
            process = z.launch(connection_file, str(kw.get("cwd") or os.getcwd()), dict(kw.get("env") or os.environ))
        except OSError:
            return await super()._async_launch_kernel(kernel_cmd, **kw)
        provisioner = self.provisioner
        provisioner.process = process
        provisioner.pid = provisioner.pgid = process.pid  # its own session (as jupyter_client starts one)
        self._reconcile_connection_info(provisioner.connection_info)

    async def _async_pre_start_kernel(self, **kw):  # type: ignore[override]
        # The kernel's own log lines (a full disk, a closing socket) are not for the user:
        # errors of a notebook reach the run through the kernel's messages.
        kw.setdefault("stdout", subprocess.DEVNULL)
        kw.setdefault("stderr", subprocess.DEVNULL)
        return await super()._async_pre_start_kernel(**kw)


def default_kernel_budget() -> int:
    """Kernels running at once on this machine: ``max(2, CPUs usable by this process)``
    (a kernel runs one cell at a time; the parallel scenarios of a batch share them)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    return max(2, cpus)


def kernels_per_scenario(jobs: int, n_scenarios: int) -> int:
    """Kernels each scenario may use when ``min(jobs, n_scenarios)`` run at once: the
    :func:`default_kernel_budget` shared out (at least one each), so parallel scenarios
    do not oversubscribe the CPUs."""
    return max(1, default_kernel_budget() // max(1, min(jobs, n_scenarios)))


def kernel_slots(notebook_jobs: int | None, n_notebooks: int) -> int:
    jobs = default_kernel_budget() if notebook_jobs is None else int(notebook_jobs)
    if jobs < 1:
        raise ScenarioError(Problem("notebook_jobs", "batch.kernels", value=jobs))
    return max(1, min(jobs, n_notebooks))


#: Run in a reused kernel before each notebook but its first: a fresh namespace and
#: ``In [1]`` again, as in a new kernel, while imported modules (and their caches) stay.
RESET_CODE = "get_ipython().reset(new_session=True)"


class WarmKernel:
    """One kernel (and its client) executing several notebooks in turn.

    Starting a kernel and importing qzfp, pandas and matplotlib in it is most of the
    cost of a small notebook; a report runs its notebooks in a few such kernels.  Between
    two notebooks the user namespace is cleared and the execution count restarts at 1
    (``InteractiveShell.reset(new_session=True)``), so a notebook cannot see another's
    variables and ``In [n]`` numbers are those of a fresh kernel.  All calls of one
    instance must come from the thread that created it (the client's event loop).
    """

    def __init__(self, kernel_name: str, cwd: Path, startup_timeout: float = 60.0):
        self.kernel_name = kernel_name
        self.cwd = cwd
        self.startup_timeout = startup_timeout
        self.km: Any = None
        self.kc: Any = None
        self.used = False
        self.ready = True

    def prepare(self, cwd: Path | None = None) -> None:
        """Start the kernel on first use (see :meth:`wait_until_ready`), else reset it for
        the next notebook.  ``cwd``: the notebook's working directory (a reused kernel
        changes to it when it differs from the previous notebook's)."""
        from jupyter_core.utils import run_sync

        if self.km is None:
            if cwd is not None:
                self.cwd = Path(cwd)
            km = EncryptedKernelManager(kernel_name=self.kernel_name)
            self.km = km
            run_sync(km.start_kernel)(cwd=str(self.cwd))
            kc = km.client()
            kc.start_channels()
            self.kc = kc
            kc.allow_stdin = False
            self.ready = False
        elif self.used:
            code = RESET_CODE
            if cwd is not None and Path(cwd) != self.cwd:
                code = f"__import__('os').chdir({str(cwd)!r})\n{RESET_CODE}"
                self.cwd = Path(cwd)
            reply = run_sync(self.kc.execute_interactive)(
                code, silent=True, store_history=False, timeout=self.startup_timeout,
                output_hook=lambda _msg: None,
            )
            if reply.get("content", {}).get("status") != "ok":
                raise RuntimeError(f"resetting the kernel between notebooks failed: {reply.get('content')}")
        self.used = True

    def wait_until_ready(self) -> None:
        """Block until a just started kernel answers (the caller may work meanwhile)."""
        from jupyter_core.utils import run_sync

        if not self.ready:
            run_sync(self.kc.wait_for_ready)(timeout=self.startup_timeout)
            self.ready = True

    def shutdown(self) -> None:
        from jupyter_core.utils import run_sync

        with contextlib.suppress(Exception):
            if self.kc is not None:
                self.kc.stop_channels()
        with contextlib.suppress(Exception):
            if self.km is not None and run_sync(self.km.is_alive)():
                run_sync(self.km.shutdown_kernel)(now=False)
        with contextlib.suppress(Exception):
            if self.km is not None:
                run_sync(self.km.cleanup_resources)()


#: Name under which :class:`WarmKernelEngine` is registered with papermill.
WARM_ENGINE = "qzfp-warm"


@functools.cache
def warm_engine() -> str:
    """Register (once per process) and name the papermill engine that runs in a
    :class:`WarmKernel`, through papermill's public ``papermill_engines.register``."""
    from papermill.engines import NBClientEngine, papermill_engines

    class WarmKernelEngine(NBClientEngine):
        """papermill's nbclient engine, executing in an already started kernel."""

        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,
                                     stderr_file=None, start_timeout=60, execution_timeout=None,
                                     **kwargs):
            from papermill.clientwrap import PapermillNotebookClient
            from papermill.utils import merge_kwargs, remove_args

            warm = kwargs.pop("warm_kernel")
            kwargs = remove_args(["input_path", "timeout", "startup_timeout", "kernel_manager_class"],
                                 **kwargs)
            final = merge_kwargs(kwargs, timeout=execution_timeout, startup_timeout=start_timeout,
                                 kernel_name=kernel_name, log_output=log_output,
                                 stdout_file=stdout_file, stderr_file=stderr_file)
            client = PapermillNotebookClient(nb_man, km=warm.km, **final)
            client.kc = warm.kc  # not owned: neither the client nor the kernel is shut down
            return client.execute()

    papermill_engines.register(WARM_ENGINE, WarmKernelEngine)
    return WARM_ENGINE


# --------------------------------------------------------------------------- benchmark floor


def floor_benchmark(n_notebooks: int, work_dir: Path, *, kernel_name: str = "python3", pdf: bool = False) -> float:
    """Time the floor of a report run: papermill + nbconvert on empty notebooks.

    Executes ``n_notebooks`` notebooks holding one empty code cell with papermill (one
    kernel each, as a real run) and converts each to HTML with one reused nbconvert
    ``HTMLExporter`` (default ``lab`` template), all in this process.

    Parameters
    ----------
    n_notebooks : int
        Number of notebooks [-].
    work_dir : Path
        Scratch folder (created; the files are left there).
    pdf : bool
        Also print the pages, joined, to a PDF as a run prints ``report.pdf``
        (:func:`qzfp.reporting.pdf.print_numbered`: a Chromium started, the document loaded,
        printed to measure and printed again): a reference that counts the printing a run
        must do, not the floor of the goal.

    Returns
    -------
    float
        Wall-clock time [s] (exporter construction included).
    """
    import nbformat
    import papermill as pm
    from nbconvert import HTMLExporter

    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    empty = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("")],
        metadata={"kernelspec": {"name": kernel_name, "display_name": kernel_name, "language": "python"}},
    )
    src = work_dir / "empty.ipynb"
    nbformat.write(empty, str(src))
    t0 = time.perf_counter()
    exporter = HTMLExporter()
    for i in range(n_notebooks):
        nb = pm.execute_notebook(
            str(src), str(work_dir / f"empty_{i}.ipynb"), kernel_name=kernel_name,
            progress_bar=False, cwd=str(work_dir), kernel_manager_class=KERNEL_MANAGER,
        )
        body, _ = exporter.from_notebook_node(nb)
        (work_dir / f"empty_{i}.html").write_text(body, encoding="utf-8")
    if pdf:
        from qzfp.reporting.pdf import join_pages, print_numbered

        pages = [f"empty_{i}.html" for i in range(n_notebooks)]
        joined = work_dir / "joined.html"
        joined.write_text(join_pages(work_dir, pages, contents="", lang="en", title="floor"), encoding="utf-8")
        print_numbered(joined, work_dir / "floor.pdf")
    return time.perf_counter() - t0


if __name__ == "__main__":  # pragma: no cover - manual benchmark
    print(f"{floor_benchmark(int(sys.argv[1]) if len(sys.argv) > 1 else 4, Path(tempfile.mkdtemp())):.2f} s")

