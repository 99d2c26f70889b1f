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

Modules, one job each: :mod:`~qzfp.distributed.session` (connect, the session's client, task
submission and progress, Dask's log lines), :mod:`~qzfp.distributed.batch` (report batches:
:class:`DaskExecutor`, :func:`run_many_dask`), :mod:`~qzfp.distributed.sweep`
(:func:`sweep_dask`) and :mod:`~qzfp.distributed.montecarlo` (:func:`monte_carlo_percentiles`,
:func:`monte_carlo_dask`).  Every public name is importable from ``qzfp.distributed``.

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

from .batch import DaskExecutor, run_many_dask
from .montecarlo import (
    MC_CHUNK_BYTES,
    MCPercentiles,
    default_mc_chunk,
    monte_carlo_dask,
    monte_carlo_percentiles,
)
from .session import DEFAULT_RETRIES, connect
from .sweep import sweep_dask

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
