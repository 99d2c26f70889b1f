"""The compiled cohort-component step: registered (户籍) and resident (常住) populations together.

One county and one path at a time, year after year, with a few kilobytes of state (the two
populations by sex and single age), compiled by Numba.  It runs on one thread: the callers
(notebook kernels, the data-files processes, Dask workers) are already processes and threads
of their own, and a kernel started from several threads or after a fork must not depend on a
thread pool.  The method is in ``docs/population.md``; :mod:`qzfp.model.cohort` prepares
the inputs and is the Python interface.

Every array input has a leading axis of 1 (shared by all paths) or B (one row per path).
Survival ratios come from a table over the log of the Siler level (:func:`survival_table`),
interpolated linearly: the level of a county in a year of a path is any positive number (the
standard level × the county's multiplier × a path's deviation), and the table replaces 132
exponentials per county, sex and year by a lookup (relative error below 3e-8).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .arrays import pairwise_sum
from .mortality import AGES, MortalityModel

__all__ = ["FLOW_TOTALS", "STOCK_TOTALS", "SurvivalTable", "run_kernel", "survival_table"]

#: The county totals of a stock the kernel sums when asked for totals (last axis of ``stock``):
#: persons, persons aged 60+ and women aged 15-49 (:data:`qzfp.model.projection.INDICATORS`).
STOCK_TOTALS = ("pop", "aged_60plus", "women_15_49")

#: The county totals of a year's flows (last axis of ``flow``) [person/year].
FLOW_TOTALS = ("births", "deaths", "net_migration")

#: Ages summed for the stock totals: 60+ of both sexes, and the women of 15-49.
_OLD_AGE = 60
_FERTILE = (15, 50)

#: Spacing of the survival table in log Siler level (linear interpolation error ~ h²/8 × S'').
_TABLE_STEP = 1.0 / 1024


@dataclass(frozen=True)
class SurvivalTable:
    """Survival ratios S_a (G, A) at log Siler levels ``lo + i × step`` (see :func:`survival_table`)."""

    lo: float
    step: float
    table: np.ndarray


def survival_table(model: MortalityModel, logk_min: float, logk_max: float) -> SurvivalTable:
    """Survival ratios by age at the end of the year on a grid of log levels covering the range.

    Parameters
    ----------
    model : MortalityModel
    logk_min, logk_max : float
        Range of the log Siler levels that will be looked up (a margin is added).
    """
    lo = np.floor((logk_min - 0.01) / _TABLE_STEP) * _TABLE_STEP
    hi = np.ceil((logk_max + 0.01) / _TABLE_STEP) * _TABLE_STEP
    key = (id(model), float(lo), float(hi))
    hit = _TABLES.get(key)
    if hit is not None and hit[0] is model:
        return hit[1]
    grid = lo + _TABLE_STEP * np.arange(int(round((hi - lo) / _TABLE_STEP)) + 2)
    table = np.ascontiguousarray(model.survival(np.exp(grid)))
    table.setflags(write=False)
    found = SurvivalTable(float(lo), _TABLE_STEP, table)
    if len(_TABLES) >= _TABLES_KEPT:
        _TABLES.pop(next(iter(_TABLES)))  # the oldest (the chunks of a Monte Carlo each have their own range)
    _TABLES[key] = (model, found)
    return found


#: Survival tables kept (about 2 MB each): a Monte Carlo's chunks each need their own range, and
#: a 10,000-path band must stay within 1.5 GB of address space.
_TABLES_KEPT = 2

#: Survival tables already computed, by (mortality model, grid range): every run of a scenario
#: (a slider moved, a sweep's chunk) looks up the same levels.
_TABLES: dict[tuple[int, float, float], tuple[MortalityModel, SurvivalTable]] = {}


@njit(cache=True, inline="always")
def _row(a: np.ndarray, b: int) -> int:
    return b if a.shape[0] > 1 else 0


@njit(cache=True)
def _sum_all(x, q, buf):  # pragma: no cover - compiled
    """``x[q].sum()`` of a (2, 2, A) array as numpy adds it: 0 + the pairwise sum of its 2 × A
    values in order (sex, then age)."""
    n = 0
    for s in range(2):
        for a in range(AGES):
            buf[0, 0, n] = x[q, s, a]
            n += 1
    return 0.0 + pairwise_sum(buf, n)


@njit(cache=True)
def _stock_totals(p, q, buf, out, b, k, c):  # pragma: no cover - compiled
    """The stock totals of population ``q`` into ``out[b, k, q, c]``, each as numpy sums the
    by-age array (``pop[..., 60:].sum(axis=(-2, -1))`` copies the 2 × 41 values into a buffer,
    ``pop[..., 1, 15:50].sum(axis=-1)`` is a contiguous row)."""
    out[b, k, q, c, 0] = _sum_all(p, q, buf)
    n = 0
    for s in range(2):
        for a in range(_OLD_AGE, AGES):
            buf[0, 0, n] = p[q, s, a]
            n += 1
    out[b, k, q, c, 1] = 0.0 + pairwise_sum(buf, n)
    n = 0
    for a in range(_FERTILE[0], _FERTILE[1]):
        buf[0, 0, n] = p[q, 1, a]
        n += 1
    out[b, k, q, c, 2] = 0.0 + pairwise_sum(buf, n)


@njit(cache=True)
def _kernel(pop0, inm0, tfr, pattern, srb, logk, tab, tab_lo, tab_step, mig, male_share, profile,
            inflow, outflow, left_behind, year_index, keep, flows, by_age, totals,
            out_pop, out_births, out_deaths, out_mig, out_inm, out_stock, out_flow,
            capped):  # pragma: no cover - compiled
    n_paths = out_inm.shape[0]
    c_all = pop0.shape[2]
    steps = year_index.shape[0]
    g_max = tab.shape[0] - 2
    for bc in range(n_paths * c_all):
        b = bc // c_all
        c = bc % c_all
        p = np.empty((2, 2, AGES))
        new = np.empty((2, 2, AGES))
        m = np.empty((2, 2, AGES))
        d = np.empty((2, 2, AGES))
        surv = np.empty((2, AGES))
        buf = np.empty((1, 1, 2 * AGES))
        share = np.empty(2)
        exposure = np.empty(2)
        b0 = _row(pop0, b)
        for q in range(2):
            for s in range(2):
                for a in range(AGES):
                    p[q, s, a] = pop0[b0, q, c, s, a]
        inm = inm0[_row(inm0, b), c]
        if keep[0] >= 0:
            for q in range(2):
                if by_age:
                    for s in range(2):
                        for a in range(AGES):
                            out_pop[b, keep[0], q, c, s, a] = p[q, s, a]
                if totals:
                    _stock_totals(p, q, buf, out_stock, b, keep[0], c)
            out_inm[b, keep[0], c] = inm
        n_capped = 0
        for t in range(steps):
            y = year_index[t]
            # survival ratios of the year (the same for both populations)
            bk = _row(logk, b)
            for s in range(2):
                x = (logk[bk, y, c, s] - tab_lo) / tab_step
                i = int(np.floor(x))
                if i < 0:
                    i = 0
                    f = 0.0
                elif i > g_max:
                    i = g_max
                    f = 1.0
                else:
                    f = x - i
                for a in range(AGES):
                    surv[s, a] = tab[i, a] * (1.0 - f) + tab[i + 1, a] * f
            ms = male_share[_row(male_share, b), y]
            share[0] = ms
            share[1] = 1.0 - ms
            bq = _row(profile, b)
            for q in range(2):
                total = 0.0
                for s in range(2):
                    for a in range(AGES):
                        total += p[q, s, a]
                net = mig[_row(mig, b), t, q, c] * 1e-3 * total
                # net migrants join or leave each cohort at an age-specific rate proportional to
                # the profile (so no cohort gains more people than it is large, nor loses more;
                # the newborns of the year weigh as last year's infants)
                wsum = 0.0
                for s in range(2):
                    wsum += share[s] * profile[bq, y, 0] * p[q, s, 0]
                    for a in range(1, AGES):
                        coh = p[q, s, a - 1]
                        if a == AGES - 1:
                            coh += p[q, s, AGES - 1]
                        wsum += share[s] * profile[bq, y, a] * coh
                for s in range(2):
                    for a in range(AGES):
                        prof = share[s] * profile[bq, y, a]
                        if a == 0:
                            coh = p[q, s, 0]
                        else:
                            coh = p[q, s, a - 1]
                            if a == AGES - 1:
                                coh += p[q, s, AGES - 1]
                        if wsum > 0.0:
                            m[q, s, a] = net * prof * coh / wsum
                        else:
                            m[q, s, a] = net * prof
                        if a > 0:
                            lim = -coh * surv[s, a]
                            if m[q, s, a] < lim:
                                m[q, s, a] = lim
                                n_capped += 1
                            d[q, s, a] = (coh + 0.5 * m[q, s, a]) * (1.0 - surv[s, a])
                            new[q, s, a] = coh + m[q, s, a] - d[q, s, a]
            # births: the county's own TFR on the women of each population, averaged over the
            # year; a resident population's mothers include the absent (registered but away)
            # women whose children live at home (left-behind share)
            rate = tfr[_row(tfr, b), y, c]
            bp = _row(pattern, b)
            lam = left_behind[_row(left_behind, b), y]
            exposure[0] = 0.0
            exposure[1] = 0.0
            for x in range(35):
                a = 15 + x
                reg0 = p[0, 1, a]
                reg1 = new[0, 1, a]
                res0 = p[1, 1, a]
                res1 = new[1, 1, a]
                abs0 = reg0 - res0 if reg0 > res0 else 0.0
                abs1 = reg1 - res1 if reg1 > res1 else 0.0
                exposure[0] += pattern[bp, y, x] * 0.5 * (reg0 + reg1)
                exposure[1] += pattern[bp, y, x] * 0.5 * (res0 + lam * abs0 + res1 + lam * abs1)
            sr = srb[_row(srb, b), y]
            for q in range(2):
                btot = rate * exposure[q]
                bsex0 = btot * sr / (100.0 + sr)
                bsex1 = btot * 100.0 / (100.0 + sr)
                for s in range(2):
                    bs = bsex0 if s == 0 else bsex1
                    lim = -bs * surv[s, 0]
                    if m[q, s, 0] < lim:
                        m[q, s, 0] = lim
                        if bs > 0.0:  # no births (a backward step): nothing to leave, nothing capped
                            n_capped += 1
                    d[q, s, 0] = (bs + 0.5 * m[q, s, 0]) * (1.0 - surv[s, 0])
                    new[q, s, 0] = bs + m[q, s, 0] - d[q, s, 0]
                    if flows and by_age:
                        out_births[b, t, q, c, s] = bs
                if flows and totals:
                    out_flow[b, t, q, c, 0] = (0.0 + bsex0) + bsex1
            # the in-migrant (floating) stock, driven by the registered population
            total_reg = 0.0
            for s in range(2):
                for a in range(AGES):
                    total_reg += p[0, s, a]
            inm = inm * (1.0 - outflow[_row(outflow, b), y]) + inflow[_row(inflow, b), y] * total_reg
            if flows and by_age:
                for q in range(2):
                    for s in range(2):
                        for a in range(AGES):
                            out_deaths[b, t, q, c, s, a] = d[q, s, a]
                            out_mig[b, t, q, c, s, a] = m[q, s, a]
            if flows and totals:
                for q in range(2):
                    out_flow[b, t, q, c, 1] = _sum_all(d, q, buf)
                    out_flow[b, t, q, c, 2] = _sum_all(m, q, buf)
            for q in range(2):
                for s in range(2):
                    for a in range(AGES):
                        p[q, s, a] = new[q, s, a]
            k = keep[t + 1]
            if k >= 0:
                for q in range(2):
                    if by_age:
                        for s in range(2):
                            for a in range(AGES):
                                out_pop[b, k, q, c, s, a] = p[q, s, a]
                    if totals:
                        _stock_totals(p, q, buf, out_stock, b, k, c)
                out_inm[b, k, c] = inm
        capped[b, c] = n_capped


def run_kernel(pop0: np.ndarray, inm0: np.ndarray, tfr: np.ndarray, pattern: np.ndarray, srb: np.ndarray,
               logk: np.ndarray, table: SurvivalTable, mig: np.ndarray, male_share: np.ndarray,
               profile: np.ndarray, inflow: np.ndarray, outflow: np.ndarray, left_behind: np.ndarray,
               year_index: np.ndarray, n_paths: int, keep: np.ndarray | None = None,
               flows: bool = True, by_age: bool = True, totals: bool = False) -> dict[str, np.ndarray]:
    """Project the registered and resident populations of C counties for ``len(year_index)`` years.

    Parameters
    ----------
    pop0 : (1|B, 2, C, 2, A) persons at the start, registered (0) and resident (1) [person].
    inm0 : (1|B, C) in-migrant stock [person].
    tfr : (1|B, Y, C) each county's TFR in each year of the assumptions [child/woman].
    pattern : (1|B, Y, 35) share of the TFR at ages 15..49.
    srb : (1|B, Y) sex ratio at birth [boys/100 girls].
    logk : (1|B, Y, C, 2) log Siler level by county and sex.
    table : SurvivalTable covering every level of ``logk``.
    mig : (1|B, steps, 2, C) net migration rate of each population in each step [per mille/year].
    male_share, inflow, outflow, left_behind : (1|B, Y) [share, 1/year, 1/year, share].
    profile : (1|B, Y, A) migration age profile (sums to 1).
    year_index : (steps,) index into the Y assumption years of each step.
    n_paths : int
        B, the paths (or parameter sets) projected.
    keep : (steps + 1,) int, optional
        Slot of ``pop`` where the stock after each step is kept (-1: not kept); default every stock.
    flows : bool
        Keep births, deaths and net migration of every step.
    by_age : bool
        Keep the stocks and flows by sex and age (``pop``, ``births``, ``deaths``,
        ``net_migration``).
    totals : bool
        Keep each county's totals instead (or as well): ``stock (B, K, 2, C, 3)``, the
        :data:`STOCK_TOTALS` of each kept stock, and with ``flows`` ``flow (B, steps, 2, C, 3)``,
        the :data:`FLOW_TOTALS` of each step, every one added in the order numpy adds the
        by-age arrays (``pop.sum(axis=(-2, -1))``, ``pop[..., 60:].sum(axis=(-2, -1))``, …),
        so that they equal those sums to the last bit.  A Monte Carlo of 1,000 paths then
        writes 1,000 × 17 × 2 × 6 × 6 numbers instead of 950 MB by age.

    Returns
    -------
    dict
        ``in_migrants (B, K, C)``, ``capped (B, C)`` (cells whose out-migration was capped at
        the survivors); with ``by_age`` ``pop (B, K, 2, C, 2, A)`` and with ``flows`` ``births
        (B, steps, 2, C, 2)``, ``deaths`` and ``net_migration (B, steps, 2, C, 2, A)`` by age at
        the end of the year; with ``totals`` ``stock`` and with ``flows`` ``flow``.
    """
    steps = len(year_index)
    c = pop0.shape[2]
    if keep is None:
        keep = np.arange(steps + 1)
    keep = np.ascontiguousarray(keep, dtype=np.int64)
    k = int(keep.max()) + 1
    out_pop = np.empty((n_paths, k, 2, c, 2, AGES) if by_age else (1,) * 6)
    out_inm = np.empty((n_paths, k, c))
    shape_f = (n_paths, steps, 2, c) if flows and by_age else (1, 1, 1, 1)
    out_births = np.empty(shape_f + (2,))
    out_deaths = np.empty(shape_f + ((2, AGES) if flows and by_age else (1, 1)))
    out_mig = np.empty_like(out_deaths)
    out_stock = np.empty((n_paths, k, 2, c, len(STOCK_TOTALS)) if totals else (1,) * 5)
    out_flow = np.empty((n_paths, steps, 2, c, len(FLOW_TOTALS)) if totals and flows else (1,) * 5)
    capped = np.zeros((n_paths, c), dtype=np.int64)

    def f(a: np.ndarray, ndim: int) -> np.ndarray:
        if np.ndim(a) != ndim:
            raise ValueError(f"kernel input of {np.ndim(a)} dimensions, expected {ndim}")
        return np.ascontiguousarray(a, dtype=np.float64)

    _kernel(f(pop0, 5), f(inm0, 2), f(tfr, 3), f(pattern, 3), f(srb, 2), f(logk, 4), table.table, table.lo,
            table.step, f(mig, 4), f(male_share, 2), f(profile, 3), f(inflow, 2), f(outflow, 2), f(left_behind, 2),
            np.ascontiguousarray(year_index, dtype=np.int64), keep, flows, by_age, totals,
            out_pop, out_births, out_deaths, out_mig, out_inm, out_stock, out_flow, capped)
    out = {"in_migrants": out_inm, "capped": capped}
    if by_age:
        out["pop"] = out_pop
        if flows:
            out.update(births=out_births, deaths=out_deaths, net_migration=out_mig)
    if totals:
        out["stock"] = out_stock
        if flows:
            out["flow"] = out_flow
    return out
