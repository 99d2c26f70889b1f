"""Vectorised aggregation shared by the engines.

:func:`group_sum` adds the last axis of an array by group (villages → townships →
counties) as ``np.add.reduceat`` does, in one compiled pass (:func:`_segment_sums`: the same
additions in the same order); the population engine, staffing, workload, budget and the
explorer all aggregate through it, so every level's totals are summed the same way.

Sums of arrays that cannot change (read-only, and so is every array they view: the village
arrays of a population result, which :func:`qzfp.model.projection.project` keeps and reuses
while the demography is unchanged) are kept (:func:`kept_key`): a second run of a scenario,
or of one that changes only posts, workload or costs, adds the same villages once.

A village array too large to keep (a country's) may be given as :class:`Blocks`: computed
block by block where it is read and never held whole.  :func:`group_sum` and
:func:`unit_sums` add its blocks to the same numbers, to the last bit, as they add the whole
array.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from typing import Any

import numpy as np
from numba import njit


class Blocks:
    """An (N, T, M) array of floats computed block by block where it is read, never held whole.

    A subclass sets ``shape`` and ``owner`` and computes ``block(lo, hi)``, the (N, T, hi − lo)
    values of members lo..hi−1: the same values, element by element, as the whole array has
    there.  ``owner`` is a read-only array that lives as long as the values hold; kept sums of
    the blocks (:func:`kept_key`) are keyed by it and go with it.  ``np.asarray(blocks)`` forms
    the whole array (for code that needs it; the engines sum the blocks instead).
    """

    shape: tuple[int, int, int]
    owner: np.ndarray
    ndim = 3
    dtype = np.dtype(np.float64)

    def block(self, lo: int, hi: int) -> np.ndarray:
        """Values of members ``lo`` to ``hi - 1``, shape (N, T, hi - lo)."""
        raise NotImplementedError

    def whole(self) -> np.ndarray:
        """The whole (N, T, M) array."""
        return self.block(0, self.shape[-1])

    def exact_group_sum(self, index: np.ndarray, k: int, factor: np.ndarray | None) -> np.ndarray | None:
        """:func:`group_sum` of these values by a shorter way that gives the same numbers to the
        last bit, or None (then the blocks are summed)."""
        return None

    def exact_unit_sums(self) -> np.ndarray | None:
        """:func:`unit_sums` of these values by a shorter way that gives the same numbers, or None."""
        return None

    def keep_with(self, key: Any, make: Any) -> Any:
        """``make()``, or what was made for ``key`` before and kept as long as these values are
        (one entry; by default nothing is kept)."""
        return make()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        a = self.whole()
        return a if dtype is None else a.astype(dtype, copy=False)


#: Members a block of :class:`Blocks` holds at least when it is summed [member] (a block ends
#: where a group ends): 8,192 villages × 16 years are 1 MiB.
BLOCK_MEMBERS = 8192


def whole(values: np.ndarray | Blocks) -> np.ndarray:
    """``values`` as an array (:class:`Blocks` formed whole)."""
    return values.whole() if isinstance(values, Blocks) else values


def group_sum(values: np.ndarray | Blocks, index: np.ndarray, k: int,
              factor: np.ndarray | None = None) -> np.ndarray:
    """Sum the last axis of ``values`` (times ``factor``) by group.

    Parameters
    ----------
    values : numpy.ndarray or Blocks, shape (..., M)
        Values per member (village or township); bool arrays are counted.  :class:`Blocks`
        are summed block by block, each block ending where a group ends (the same numbers).
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
    Each group's sum is the one ``np.add.reduceat(values * factor, starts, axis=-1)`` gives,
    to the last bit: its first member plus numpy's pairwise sum of the others
    (:func:`_pairwise`), in one compiled pass with no temporary array.  When the members are
    not the fastest-varying axis in memory (the village arrays of the population engine are
    laid out village-major) the groups are taken one by one for every row, so that a group's
    members are read from memory once.
    """
    factor = None if factor is None else np.asarray(factor)
    if isinstance(values, Blocks):
        exact = values.exact_group_sum(index, k, factor)
        if exact is not None:
            return exact
        return kept_sum(lambda: _blocks_group_sum(values, index, k, factor), "group_sum", values, index, factor,
                        k=k)
    values = np.asarray(values)
    if (values.ndim >= 2 and values.shape[0] > 1 and values.strides[0] == 0
            and (factor is None or factor.ndim < values.ndim or factor.shape[0] == 1)):
        return np.broadcast_to(group_sum(values[:1], index, k, factor), (values.shape[0], *values.shape[1:-1], k))
    return kept_sum(lambda: _group_sum(values, index, k, factor), "group_sum", values, index, factor, k=k)


def _group_sum(values: np.ndarray, index: np.ndarray, k: int, factor: np.ndarray | None) -> np.ndarray:
    """:func:`group_sum` computed (one row set, not broadcast)."""
    shape = np.broadcast_shapes(values.shape, () if factor is None else factor.shape)
    out = np.zeros(shape[:-1] + (k,))
    order, starts, nonempty, _ = _groups(index, k)
    if starts.size == 0:
        return out
    if order is not None:
        values = values[..., order]
        factor = None if factor is None else factor[..., order]
    m = shape[-1]
    if values.dtype.kind not in "fb" or (factor is not None and factor.dtype.kind not in "fb"):
        whole = values if factor is None else values * factor
        out[..., nonempty] = np.add.reduceat(whole, starts, axis=-1, dtype=float)
        return out
    # three axes (rows, rows, members) as views: no copy of a broadcast or village-major array
    lead = (1,) * (3 - len(shape)) + tuple(shape[:-1]) if len(shape) <= 3 else (1, int(np.prod(shape[:-1])))
    vals = _numeric(np.broadcast_to(values, shape).reshape(*lead, m))
    fac = np.ones((1, 1, 1)) if factor is None else _numeric(np.broadcast_to(factor, shape).reshape(*lead, m))
    sums = np.empty((*lead, len(starts)))
    # members far apart in memory (the village-major arrays of the population engine): each
    # group's block of members is summed for every row while it is in the cache
    by_group = abs(vals.strides[-1]) > vals.itemsize and lead[0] * lead[1] > 1
    starts = np.ascontiguousarray(starts, dtype=np.int64)
    if by_group and vals.strides[1] == vals.itemsize and (factor is None or fac.strides[1] in (0, fac.itemsize)):
        # the rows next to each other in memory (a village-major (V, T) year axis): the
        # pairwise sums of all rows advance together, member by member
        _segment_sums_rows(vals, fac, factor is not None, starts, sums)
    else:
        _segment_sums(vals, fac, factor is not None, starts, by_group, sums)
    out[..., nonempty] = sums.reshape(shape[:-1] + (len(starts),))
    return out


def _blocks_group_sum(values: Blocks, index: np.ndarray, k: int, factor: np.ndarray | None) -> np.ndarray:
    """:func:`group_sum` of :class:`Blocks`: blocks of whole groups of at least
    :data:`BLOCK_MEMBERS` members, each summed by :func:`_group_sum` (a group's sum is a function
    of its members' values alone, so it is the one the whole array gives)."""
    order, starts, _, _ = _groups(index, k)
    if order is not None:  # members of a group apart: no block holds a whole group
        return _group_sum(values.whole(), index, k, factor)
    m = values.shape[-1]
    shape = np.broadcast_shapes(values.shape, () if factor is None else factor.shape)
    out = np.zeros(shape[:-1] + (k,))
    idx = np.asarray(index, dtype=np.intp)
    j = 0
    while j < len(starts):
        lo = int(starts[j])
        j = max(j + 1, int(np.searchsorted(starts, lo + BLOCK_MEMBERS, side="left")))
        hi = int(starts[j]) if j < len(starts) else m
        fac = None if factor is None else (factor[..., lo:hi] if factor.shape[-1] == m else factor)
        g0, g1 = int(idx[lo]), int(idx[hi - 1]) + 1
        out[..., g0:g1] = _group_sum(values.block(lo, hi), idx[lo:hi] - g0, g1 - g0, fac)
    return out


def pairwise_rows(values: np.ndarray) -> np.ndarray:
    """Each row's ``values.sum(axis=-1)`` of an (N, T, M) float array as numpy adds a C-ordered
    row: the pairwise sum of all its members (:func:`_pairwise`), for any layout; (N·T,)."""
    vals = np.asarray(values, dtype=np.float64)
    n, t, m = vals.shape
    out = np.empty(n * t)
    _pairwise_all(vals, out)
    return out


@njit(cache=True)
def _pairwise_all(vals: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover - compiled
    n, t, m = vals.shape
    for a in range(n):
        for b in range(t):
            out[a * t + b] = _pairwise_loop(vals, a, b, m)


@njit(cache=True)
def _pairwise_loop(vals: np.ndarray, a: int, b: int, n: int) -> float:  # pragma: no cover - compiled
    """:func:`_pairwise` of row (a, b)'s first ``n`` members without recursion (a cached compiled
    function must not call a recursive one): the same halves, added left + right."""
    los = np.empty(64, np.int64)
    ns = np.empty(64, np.int64)
    stage = np.zeros(64, np.int64)
    left = np.empty(64)
    top = 0
    los[0], ns[0], stage[0] = 0, n, 0
    ret = 0.0
    while True:
        lo, size = los[top], ns[top]
        if size <= 128:
            ret = _pairwise_short(vals, vals, False, a, b, lo, size)
            top -= 1
            if top < 0:
                return ret
            continue
        half = size // 2
        half -= half % 8
        if stage[top] == 0:  # the left half first
            stage[top] = 1
            top += 1
            los[top], ns[top], stage[top] = lo, half, 0
        elif stage[top] == 1:  # the left half's sum is in: the right half
            left[top] = ret
            stage[top] = 2
            top += 1
            los[top], ns[top], stage[top] = lo + half, size - half, 0
        else:  # both halves in
            ret = left[top] + ret
            top -= 1
            if top < 0:
                return ret


def _numeric(a: np.ndarray) -> np.ndarray:
    """A bool array as 0/1 bytes (the same memory), for the compiled sum."""
    return a.view(np.uint8) if a.dtype == bool else a


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


@njit(cache=True, inline="always")
def _value(vals: np.ndarray, fac: np.ndarray, with_factor: bool, a: int, b: int, i: int) -> float:
    if with_factor:
        return float(vals[a, b, i]) * float(fac[a, b, i])
    return float(vals[a, b, i])


@njit(cache=True, inline="always")
def _pairwise_short(vals: np.ndarray, fac: np.ndarray, with_factor: bool, a: int, b: int, lo: int,
                    n: int) -> float:  # pragma: no cover - compiled
    """:func:`_pairwise` of at most 128 members (inlined: groups are mostly this short)."""
    if n < 8:
        res = 0.0
        for i in range(n):
            res += _value(vals, fac, with_factor, a, b, lo + i)
        return res
    r0 = _value(vals, fac, with_factor, a, b, lo)
    r1 = _value(vals, fac, with_factor, a, b, lo + 1)
    r2 = _value(vals, fac, with_factor, a, b, lo + 2)
    r3 = _value(vals, fac, with_factor, a, b, lo + 3)
    r4 = _value(vals, fac, with_factor, a, b, lo + 4)
    r5 = _value(vals, fac, with_factor, a, b, lo + 5)
    r6 = _value(vals, fac, with_factor, a, b, lo + 6)
    r7 = _value(vals, fac, with_factor, a, b, lo + 7)
    i = 8
    whole = n - n % 8
    while i < whole:
        r0 += _value(vals, fac, with_factor, a, b, lo + i)
        r1 += _value(vals, fac, with_factor, a, b, lo + i + 1)
        r2 += _value(vals, fac, with_factor, a, b, lo + i + 2)
        r3 += _value(vals, fac, with_factor, a, b, lo + i + 3)
        r4 += _value(vals, fac, with_factor, a, b, lo + i + 4)
        r5 += _value(vals, fac, with_factor, a, b, lo + i + 5)
        r6 += _value(vals, fac, with_factor, a, b, lo + i + 6)
        r7 += _value(vals, fac, with_factor, a, b, lo + i + 7)
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += _value(vals, fac, with_factor, a, b, lo + i)
        i += 1
    return res


@njit(cache=True)
def _pairwise(vals: np.ndarray, fac: np.ndarray, with_factor: bool, a: int, b: int, lo: int,
              n: int) -> float:  # pragma: no cover - compiled
    """Sum of ``n`` members of row (a, b) from ``lo`` in numpy's pairwise order
    (``DOUBLE_pairwise_sum``: below 8 one by one from 0; up to 128 eight running sums
    combined as ((0+1)+(2+3))+((4+5)+(6+7)), then the rest; above, two halves cut at a
    multiple of 8)."""
    if n <= 128:
        return _pairwise_short(vals, fac, with_factor, a, b, lo, n)
    n2 = n // 2
    n2 -= n2 % 8
    return (_pairwise(vals, fac, with_factor, a, b, lo, n2)
            + _pairwise(vals, fac, with_factor, a, b, lo + n2, n - n2))


@njit(cache=True)
def pairwise_sum(buf: np.ndarray, n: int) -> float:  # pragma: no cover - compiled
    """``buf[0, 0, :n]`` (n ≤ 256) summed in numpy's pairwise order (:func:`_pairwise`), for
    compiled callers: one cut at a multiple of 8 above 128 members (not recursive: a cached
    compiled function must not call a recursive one)."""
    if n <= 128:
        return _pairwise_short(buf, buf, False, 0, 0, 0, n)
    n2 = n // 2
    n2 -= n2 % 8
    return _pairwise_short(buf, buf, False, 0, 0, 0, n2) + _pairwise_short(buf, buf, False, 0, 0, n2, n - n2)


@njit(cache=True, inline="always")
def _group(vals: np.ndarray, fac: np.ndarray, with_factor: bool, a: int, b: int, lo: int,
           hi: int) -> float:  # pragma: no cover - compiled
    """One group's sum as ``np.add.reduceat``: its first member plus the pairwise sum of the rest."""
    first = _value(vals, fac, with_factor, a, b, lo)
    if hi - lo - 1 <= 128:
        return first + _pairwise_short(vals, fac, with_factor, a, b, lo + 1, hi - lo - 1)
    return first + _pairwise(vals, fac, with_factor, a, b, lo + 1, hi - lo - 1)


@njit(cache=True)
def _segment_sums(vals: np.ndarray, fac: np.ndarray, with_factor: bool, starts: np.ndarray, by_group: bool,
                  out: np.ndarray) -> None:  # pragma: no cover - compiled
    """``out[a, b, g]`` = the sum of row (a, b)'s members ``starts[g]`` up to the next start, as
    ``np.add.reduceat`` adds them: the first member, plus the pairwise sum of the others."""
    m = vals.shape[2]
    n_a, n_b, k = out.shape
    if by_group:
        for g in range(k):
            lo = starts[g]
            hi = starts[g + 1] if g + 1 < k else m
            for a in range(n_a):
                for b in range(n_b):
                    out[a, b, g] = _group(vals, fac, with_factor, a, b, lo, hi)
    else:
        for a in range(n_a):
            for b in range(n_b):
                for g in range(k):
                    lo = starts[g]
                    hi = starts[g + 1] if g + 1 < k else m
                    out[a, b, g] = _group(vals, fac, with_factor, a, b, lo, hi)


@njit(cache=True)
def _segment_sums_rows(vals: np.ndarray, fac: np.ndarray, with_factor: bool, starts: np.ndarray,
                       out: np.ndarray) -> None:  # pragma: no cover - compiled
    """:func:`_segment_sums` for members far apart and rows (axis 1) adjacent in memory: for each
    group the eight running sums of numpy's pairwise order are kept for every row at once, so
    each member's row values are read together; every row's additions are those of
    :func:`_pairwise`, in the same order (groups above 128 members go through it)."""
    m = vals.shape[2]
    n_a, n_b, k = out.shape
    acc = np.empty((8, n_b))
    res = np.empty(n_b)
    for a in range(n_a):
        for g in range(k):
            lo = starts[g]
            hi = starts[g + 1] if g + 1 < k else m
            n = hi - lo - 1
            first = lo + 1
            if n > 128:
                for b in range(n_b):
                    out[a, b, g] = _group(vals, fac, with_factor, a, b, lo, hi)
                continue
            if n < 8:
                for b in range(n_b):
                    res[b] = 0.0
                for i in range(n):
                    for b in range(n_b):
                        res[b] += _value(vals, fac, with_factor, a, b, first + i)
            else:
                for j in range(8):
                    for b in range(n_b):
                        acc[j, b] = _value(vals, fac, with_factor, a, b, first + j)
                i = 8
                whole = n - n % 8
                while i < whole:
                    for j in range(8):
                        for b in range(n_b):
                            acc[j, b] += _value(vals, fac, with_factor, a, b, first + i + j)
                    i += 8
                for b in range(n_b):
                    res[b] = ((acc[0, b] + acc[1, b]) + (acc[2, b] + acc[3, b])) + (
                        (acc[4, b] + acc[5, b]) + (acc[6, b] + acc[7, b]))
                while i < n:
                    for b in range(n_b):
                        res[b] += _value(vals, fac, with_factor, a, b, first + i)
                    i += 1
            for b in range(n_b):
                out[a, b, g] = _value(vals, fac, with_factor, a, b, lo) + res[b]


GROUP_BLOCK_BYTES = 1 << 18
"""Bytes of units taken per block when units are not contiguous in memory (256 KiB: about a
core's L2 cache; :func:`qzfp.model.workload._blocked_weighted_sum`)."""


def unit_sum(values: np.ndarray) -> np.ndarray:
    """``values.sum(axis=-1)`` of a (rows, units) array, the same numbers, in one compiled pass.

    numpy sums a village-major array (units far apart in memory, the rows of a unit next to
    each other: the layout of the population engine's village arrays) unit by unit into every
    row's total, from the first unit on, a loop call per unit (500,000 for the country).  The
    compiled pass adds in the same order; a bool array is counted (int64, as numpy does).  Any
    other layout or dtype is left to numpy (whose pairwise order it would not reproduce).

    Parameters
    ----------
    values : numpy.ndarray, shape (R, M)

    Returns
    -------
    numpy.ndarray, shape (R,)
    """
    values = np.asarray(values)
    return kept_sum(lambda: _unit_sum_of(values), "unit_sum", values)


def _unit_sum_of(values: np.ndarray) -> np.ndarray:
    """:func:`unit_sum` computed."""
    if (values.ndim != 2 or values.shape[1] < 2 or values.dtype.kind not in "fb"
            or values.dtype.kind == "f" and values.dtype != np.float64
            or not abs(values.strides[0]) < abs(values.strides[1])):
        return values.sum(axis=-1)
    if values.dtype == bool:
        out = np.zeros(values.shape[0], dtype=np.int64)
        _unit_count(values.view(np.uint8), out)
        return out
    out = np.empty(values.shape[0])
    _unit_sum_from(values, out, True)
    return out


def unit_sums(values: np.ndarray | Blocks) -> np.ndarray:
    """Totals over the units of an (N, T, M) array or :class:`Blocks`, shape (N, T): each row
    of parameter set i the numbers ``unit_sum(values[i])`` gives.

    :class:`Blocks` laid out unit-major (the population engine's) are added block by block,
    unit after unit from the first on, as :func:`unit_sum` adds the whole array; the totals are
    kept while the blocks' owner lives.
    """
    if not isinstance(values, Blocks):
        return np.stack([unit_sum(v) for v in values]) if len(values) else np.zeros((0, values.shape[1]))
    exact = values.exact_unit_sums()
    if exact is not None:
        return exact
    return kept_sum(lambda: _blocks_unit_sums(values), "unit_sums", values)


def _blocks_unit_sums(values: Blocks) -> np.ndarray:
    """:func:`unit_sums` of :class:`Blocks` computed."""
    n, t, m = values.shape
    out = np.zeros((n, t))
    for lo in range(0, m, BLOCK_MEMBERS):
        block = values.block(lo, min(m, lo + BLOCK_MEMBERS))
        if block.shape[0] != n or not abs(block.strides[1]) < abs(block.strides[2]):  # not unit-major
            return np.stack([unit_sum(v) for v in values.whole()])
        for i in range(n):
            _unit_sum_from(block[i], out[i], lo == 0)
    return out


@njit(cache=True)
def _unit_sum_from(values: np.ndarray, out: np.ndarray, first: bool) -> None:  # pragma: no cover - compiled
    """Row totals of (rows, units) ``values``, unit after unit from the first on (numpy's order
    for a unit-major array); ``out`` goes on from a previous block's totals unless ``first``."""
    r, m = values.shape
    u0 = 0
    if first:
        for i in range(r):
            out[i] = values[i, 0]
        u0 = 1
    for u in range(u0, m):
        for i in range(r):
            out[i] += values[i, u]


@njit(cache=True)
def _unit_count(values: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover - compiled
    r, m = values.shape
    for u in range(m):
        for i in range(r):
            out[i] += values[i, u]



# --------------------------------------------------------------------------- kept sums

#: Sums kept at most [entries] and [bytes]: township, county or city totals, kept with weak
#: references to the arrays they were summed from (a kept sum never keeps a village array
#: alive, and goes when one of them goes).
KEPT_SUMS = 64
KEPT_SUM_BYTES = 64 << 20

_KEPT: OrderedDict[tuple, tuple[tuple, np.ndarray]] = OrderedDict()
_KEPT_LOCK = threading.RLock()


def unchangeable_owner(a: Any) -> np.ndarray | None:
    """The array owning ``a``'s memory when ``a`` and every array it is a view of are
    read-only (its values can then not change), else None."""
    x = a
    while isinstance(x, np.ndarray):
        if x.flags.writeable:
            return None
        if x.base is None:
            return x
        x = x.base
    return None


def kept_key(kind: str, *arrays: Any, k: int | None = None) -> tuple | None:
    """Key of a sum of ``arrays`` (None entries allowed) when all of them are unchangeable:
    each array's owner, memory address, shape, strides and dtype.  None otherwise."""
    parts: list[Any] = [kind, k]
    for a in arrays:
        if a is None:
            parts.append(None)
            continue
        if isinstance(a, Blocks):
            parts.append(("blocks", id(a.owner), a.shape))
            continue
        owner = unchangeable_owner(a)
        if owner is None:
            return None
        parts.append((id(owner), a.__array_interface__["data"][0], a.shape, a.strides, a.dtype.str))
    return tuple(parts)


def kept_last(slot: list, key: Any, owners: Any, compute: Any) -> Any:
    """``compute()``, or the value ``slot`` keeps for the same ``key`` while every one of
    ``owners`` (what the value was computed from) lives: one entry, dropped when an owner goes
    or another key is computed (so it never adds to a peak).

    Parameters
    ----------
    slot : list
        The cache: a module's list, empty or holding the last (key, weak references, value).
    key : hashable
    owners : iterable
        Objects the value was computed from (weakly referenced).
    compute : callable
        Gives the value.
    """
    last = slot[:1]  # a copy: another thread may clear the list
    if last:
        last_key, refs, value = last[0]
        if last_key == key and all(r() is not None for r in refs):
            return value
        slot.clear()
    value = compute()
    slot.append((key, tuple(weakref.ref(o, lambda _ref: slot.clear()) for o in owners), value))
    return value


def kept_sum(compute: Any, kind: str, *arrays: Any, k: int | None = None) -> np.ndarray:
    """``compute()``, a sum of ``arrays`` (None entries allowed), kept under :func:`kept_key`
    while they live when none of them can change; the caller's own copy.

    Parameters
    ----------
    compute : callable
        Gives the sum (an array).
    kind : str
        What the sum is (part of the key: two kinds of sums of the same arrays differ).
    """
    key = kept_key(kind, *arrays, k=k)
    if key is None:
        return compute()
    hit = _kept_get(key)
    if hit is None:
        hit = _kept_put(key, compute(), *arrays)
    return hit.copy()


def _kept_get(key: tuple) -> np.ndarray | None:
    with _KEPT_LOCK:  # the engines may run in threads (a Dask worker's)
        hit = _KEPT.get(key)
        if hit is None:
            return None
        refs, result = hit
        if any(ref is not None and ref() is None for ref in refs):  # an owner is gone: its id may be reused
            del _KEPT[key]
            return None
        _KEPT.move_to_end(key)
        return result


def _kept_put(key: tuple, result: np.ndarray, *arrays: Any) -> np.ndarray:
    def forget(_ref: Any, key: tuple = key) -> None:
        _KEPT.pop(key, None)

    refs = tuple(None if a is None else weakref.ref(a.owner if isinstance(a, Blocks) else unchangeable_owner(a), forget)
                 for a in arrays)
    result.setflags(write=False)
    if result.nbytes > KEPT_SUM_BYTES:
        return result
    with _KEPT_LOCK:
        _KEPT[key] = (refs, result)
        while len(_KEPT) > KEPT_SUMS or sum(r.nbytes for _, r in list(_KEPT.values())) > KEPT_SUM_BYTES:
            _KEPT.popitem(last=False)
    return result
