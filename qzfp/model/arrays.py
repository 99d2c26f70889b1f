"""Vectorised aggregation shared by the engines.

:func:`group_sum` adds the last axis of an array by group (villages → townships →
counties) with ``np.add.reduceat``; the population engine, staffing, workload, budget and
the explorer all aggregate through it, so every level's totals are summed the same way.
"""

from __future__ import annotations

import numpy as np


def group_sum(values: np.ndarray, index: np.ndarray, k: int, factor: np.ndarray | None = None) -> np.ndarray:
    """Sum the last axis of ``values`` (times ``factor``) by group.

    Parameters
    ----------
    values : numpy.ndarray, shape (..., M)
        Values per member (village or township); bool arrays are counted.
    index : numpy.ndarray of int, shape (M,)
        Group (0..k-1) of each member.
    k : int
        Number of groups.
    factor : numpy.ndarray, optional
        Multiplies ``values`` before summing, broadcast against it: shape (M,) (e.g. a
        rural-village mask) or that of ``values``.  The result is exactly
        ``group_sum(values * factor, index, k)``, but when ``values`` is summed in blocks
        (see Notes) the product is formed block by block and never as a whole array.

    Returns
    -------
    numpy.ndarray, shape (..., k)
        Group sums (0 for empty groups). Vectorised (``np.add.reduceat``; members are
        reordered only when the index is not sorted). A leading axis broadcast with
        stride 0 (``np.broadcast_to``) is summed once and broadcast back.

    Notes
    -----
    When the members are not the fastest-varying axis in memory (the village arrays of
    the population engine are laid out village-major), ``reduceat`` walks every year
    through the whole array; the groups are then summed in blocks of whole groups that
    fit in the processor cache (:data:`GROUP_BLOCK_BYTES`).  Each group is still one
    ``reduceat`` segment, so the sums are the same to the last bit.
    """
    values = np.asarray(values)
    factor = None if factor is None else np.asarray(factor)
    if (values.ndim >= 2 and values.shape[0] > 1 and values.strides[0] == 0
            and (factor is None or factor.ndim < values.ndim or factor.shape[0] == 1)):
        return np.broadcast_to(group_sum(values[:1], index, k, factor), (values.shape[0], *values.shape[1:-1], k))
    out = np.zeros(np.broadcast_shapes(values.shape, () if factor is None else factor.shape)[:-1] + (k,))
    order, starts, nonempty, groups = _groups(index, k)
    if starts.size == 0:
        return out
    if order is not None:
        values = values[..., order]
        factor = None if factor is None else factor[..., order]
    m = values.shape[-1]
    rows = out.size // k if k else 0
    block = max(1, GROUP_BLOCK_BYTES // max(1, rows * 8))  # members per block of float64 sums
    if values.ndim < 2 or abs(values.strides[-1]) <= values.itemsize or m <= block:
        whole = values if factor is None else values * factor
        out[..., nonempty] = np.add.reduceat(whole, starts, axis=-1, dtype=float)
        return out
    cuts = np.unique(np.r_[np.searchsorted(starts, np.arange(0, m, block)), len(starts)])
    for a, e in zip(cuts[:-1], cuts[1:], strict=True):
        lo, hi = starts[a], (starts[e] if e < len(starts) else m)
        part = values[..., lo:hi] if factor is None else values[..., lo:hi] * factor[..., lo:hi]
        out[..., groups[a:e]] = np.add.reduceat(part, starts[a:e] - lo, axis=-1, dtype=float)
    return out


def _groups(index: np.ndarray, k: int) -> tuple[np.ndarray | None, np.ndarray, np.ndarray, np.ndarray]:
    """The segments of a group index: (order that sorts it or None, start of each non-empty
    group in sorted order, mask of the non-empty groups, their numbers).  Kept per index array
    (the register's arrays are read-only and live as long as the register), so that the
    aggregations of a run do not sort and search the same index again."""
    key = (id(index), k)
    hit = _GROUPS.get(key)
    if hit is not None and hit[0] is index:
        return hit[1]
    idx = np.asarray(index, dtype=np.intp)
    order = None
    if idx.size and not np.all(idx[1:] >= idx[:-1]):
        order = np.argsort(idx, kind="stable")
        idx = idx[order]
    bounds = np.searchsorted(idx, np.arange(k + 1), side="left")
    nonempty = np.diff(bounds) > 0
    found = (order, bounds[:-1][nonempty], nonempty, np.flatnonzero(nonempty))
    if isinstance(index, np.ndarray) and not index.flags.writeable:
        if len(_GROUPS) > 64:
            _GROUPS.clear()
        _GROUPS[key] = (index, found)
    return found


_GROUPS: dict[tuple[int, int], tuple[np.ndarray, tuple]] = {}

GROUP_BLOCK_BYTES = 1 << 18
"""Bytes of members summed per block by :func:`group_sum` when members are not
contiguous in memory (256 KiB: about a core's L2 cache)."""
