"""Levers that only price what the engines count, evaluated once per distinct count.

A lever that is the unit cost of a budget line (an allowance, the cost of an event) moves
no post, workload, coverage or budget quantity: only ``amount = quantity × unit cost``.  A
grid over such levers and others (a sweep of allowance × threshold, a plan search) runs the
engines once per distinct value of the other levers (25 thresholds, not 1,000 points) and
prices every point's quantities with its own unit costs (:func:`repriced`): the same
elementwise products and sums as a run of that point, so every figure is identical.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from ..rules.paramarrays import ParamArrays
from .budget import BUDGET_PATHS, LINES, BudgetResult, unit_costs
from .run import DEMOGRAPHY_PREFIX
from .staffing import STAFFING_PATHS
from .workload import workload_paths


def cost_only_paths(paths: Sequence[str]) -> list[str]:
    """The paths among ``paths`` that the engines read only as a budget line's unit cost."""
    cost = {ln.rule_path for ln in LINES}
    other = set(STAFFING_PATHS) | set(workload_paths()) | (set(BUDGET_PATHS) - cost)
    return [p for p in paths if p in cost and p not in other and not p.startswith(DEMOGRAPHY_PREFIX)
            and not p.startswith("workload.")]


def grouped(keys: np.ndarray, chunk: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Points grouped by their row of ``keys`` (K, P) (P may be 0: one group), in chunks of groups.

    Yields
    ------
    reps : numpy.ndarray of int, (k,)
        One point of each group of the chunk (its first), ``k ≤ chunk``.
    members : numpy.ndarray of int, (m,)
        Every point of those groups, in increasing order within a group.
    which : numpy.ndarray of int, (m,)
        The position in ``reps`` of each member's group.
    """
    n = keys.shape[0]
    if keys.shape[1] == 0:
        first, inv = np.zeros(1, dtype=np.intp), np.zeros(n, dtype=np.intp)
    else:
        _, first, inv = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        inv = np.asarray(inv, dtype=np.intp).reshape(-1)
    order = np.argsort(inv, kind="stable")
    bounds = np.searchsorted(inv[order], np.arange(len(first) + 1))
    for r0 in range(0, len(first), chunk):
        r1 = min(len(first), r0 + chunk)
        members = order[bounds[r0]:bounds[r1]]
        yield first[r0:r1], members, inv[members] - r0


def _rows(a: np.ndarray, rows: np.ndarray) -> np.ndarray:
    return a if a.shape[0] == 1 else a[rows]


def repriced(br: BudgetResult, rows: np.ndarray, pa: ParamArrays) -> BudgetResult:
    """The budget of the parameter sets ``pa`` (N = ``len(rows)``) whose quantities are those of
    rows ``rows`` of ``br`` (they differ from those sets in unit costs only, see
    :func:`cost_only_paths`; ``pa`` holds every lever, the indexation rate of the
    unit costs may be one): unit costs and amounts computed as :func:`qzfp.model.budget.budget` does."""
    n, t = len(rows), len(br.years)
    unit_cost, index = unit_costs(pa, n, t)
    qty = br.quantity[rows]
    return BudgetResult(
        years=br.years, county_codes=br.county_codes, lines=br.lines, quantity=qty, unit_cost=unit_cost,
        amount=qty * unit_cost[:, :, None, :], shares=_rows(br.shares, rows),
        population=_rows(br.population, rows), indexation=index,
    )
