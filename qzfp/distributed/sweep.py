"""Sweeps on a Dask cluster: :func:`sweep_dask`, the chunks of a local sweep on workers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import Label, ParameterError, Problem
from ..rules.paramarrays import ParamArrays
from .session import DEFAULT_RETRIES, Session, follow, share, submit, task_stamp

__all__ = ["sweep_dask"]



def _sweep_chunk(register: Any, base_pa: ParamArrays, updates: dict[str, np.ndarray], variant: str,
                 chunk: int) -> dict[str, np.ndarray]:
    """Outcomes of a slice of grid points (runs on a worker; the code of a local sweep)."""
    from ..model.comparison import evaluate_points

    return evaluate_points(register, base_pa, updates, variant, chunk)


def _grid(scenario: Any, grid: Mapping[str, Sequence[float]], pa: ParamArrays) -> tuple[list[str], np.ndarray]:
    """Validated paths and the (K, P) array of grid points (the checks of a local sweep)."""
    from ..model.comparison import sweep_points

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
    from ..model.comparison import DEFAULT_CHUNK
    from ..model.run import prepare_register
    from ..rules.scenario import Scenario, load_scenario

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
    stamp = task_stamp()
    with Session(scheduler, client, Label("dask.what.sweep", name=scenario.name)) as cl:
        reg_f, pa_f = share(cl, reg, pa)
        futures = [
            submit(cl, _sweep_chunk, reg_f, pa_f, {p: points[lo:lo + step, i] for i, p in enumerate(paths)},
                    variant, chunk, key=f"qzfp-sweep-{lo // step}-{stamp}", retries=retries)
            for lo in range(0, n, step)
        ]
        follow(cl, futures, progress=progress, desc="sweep (dask)", unit="task")
        parts = cl.gather(futures)
    df = pd.DataFrame({p: points[:, i] for i, p in enumerate(paths)})
    for k in parts[0]:
        df[k] = np.concatenate([part[k] for part in parts])
    df.attrs["scenario"] = scenario.name
    return df
