"""The cohort-component step of the population engine, forwards and backwards.

:func:`project_counties` projects the registered (户籍) and resident (常住) populations of C
counties (single ages 0..100+ by sex) year by year with births, deaths and net migration, in
one pass (the compiled step of :mod:`qzfp.model.kernel`); :func:`county_tfr` and
:func:`county_logk` lay out its fertility and mortality inputs; :func:`step_back` is its
inverse (one year earlier) and :func:`shift_by_fraction` moves the populations by a fraction
of a year (the census moment to 1 January).  ``docs/population.md`` gives the method.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .assumptions import Assumptions
from .kernel import run_kernel, survival_table
from .mortality import MortalityModel

__all__ = ["BackStep", "county_logk", "county_tfr", "project_counties", "shift_by_fraction", "step_back"]


#: Fixed-point iterations of the backward (inverse) projection step (at most), and the residual
#: relative to the largest count at which it stops (a step that stops at the limit is counted).
BACK_ITER = 12

BACK_TOL = 1e-10


def county_tfr(asm: Assumptions, fert_mult: np.ndarray, tfr_dev: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Each county's TFR in each assumption year, (B, Y, C) [child/woman], and the floors applied.

    ``max(city TFR + deviation, 0) × county multiplier × policy factor``: the city TFR of the
    variant (``asm.tfr``) with a Monte Carlo path's deviation ``tfr_dev`` (B, Y), floored at 0
    (each path-year floored is counted), times the county's fitted multiplier ``fert_mult``
    (C,) and the fertility policies' factor (``asm.tfr_factor``).
    """
    city = asm.tfr if tfr_dev is None else asm.tfr + tfr_dev
    floored = int((city < 0).sum())
    city = np.maximum(city, 0.0) * asm.tfr_factor
    return city[:, :, None] * np.asarray(fert_mult, dtype=float)[None, None, :], floored


def county_logk(asm: Assumptions, model: MortalityModel, mort_mult: np.ndarray, e0_dev: np.ndarray | None = None,
                mort_dev: np.ndarray | None = None, after: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Log Siler level of each county by year and sex, (B, Y, C, 2), and the e0 clips applied.

    The standard table's level at the variant's e0 (``asm.e0``, plus a path's deviation
    ``e0_dev`` (B, Y) clipped into 20..100 years, each path-year clipped counted), times the
    county's fitted multiplier ``mort_mult`` (C,) and a path's persistent county deviation of
    the log level ``mort_dev`` (B, C) in the years where ``after`` (Y,) is true (all when None).
    """
    e0 = asm.e0 if e0_dev is None else asm.e0 + e0_dev[..., None]
    clipped = int(((e0 < 20.0) | (e0 > 100.0)).any(axis=-1).sum()) if e0_dev is not None else 0
    logk = np.log(model.level(np.clip(e0, 20.0, 100.0)))[:, :, None, :] + np.log(np.asarray(mort_mult))[None, None, :, None]
    if mort_dev is not None:
        mask = np.ones(logk.shape[1]) if after is None else np.asarray(after, dtype=float)
        logk = logk + mort_dev[:, None, :, None] * mask[None, :, None, None]
    return logk, clipped


def project_counties(pop0: np.ndarray, inm0: np.ndarray, asm: Assumptions, tfr: np.ndarray, logk: np.ndarray,
                     model: MortalityModel, mig: np.ndarray, year_index: np.ndarray,
                     n_paths: int | None = None, keep: np.ndarray | None = None,
                     flows: bool = True, by_age: bool = True, totals: bool = False) -> dict[str, np.ndarray]:
    """Cohort-component projection of the registered and resident populations of C counties.

    Parameters
    ----------
    pop0 : (1|B, 2, C, 2, A) persons at 1 January of the first year, registered (0) and
        resident (1) [person].
    inm0 : (1|B, C) in-migrant stock [person].
    asm : yearly assumptions (leading axis 1 or B).
    tfr : (1|B, Y, C) county TFR by assumption year (:func:`county_tfr`) [child/woman].
    logk : (1|B, Y, C, 2) log Siler levels (:func:`county_logk`).
    mig : (1|B, steps, 2, C) net migration rate of each population in each step [per mille/year].
    year_index : (steps,) index into the Y assumption years of each step.
    n_paths : int, optional
        B (default: the largest leading axis of the inputs).
    keep, flows, by_age, totals : as :func:`qzfp.model.kernel.run_kernel`.

    Returns
    -------
    dict
        ``in_migrants (B, K, C)``, ``capped`` (B, C); with ``by_age`` ``pop (B, K, 2, C, 2, A)``
        and, with ``flows``, ``births (B, steps, 2, C, 2)``, ``deaths`` and ``net_migration``
        ``(B, steps, 2, C, 2, A)`` by age at the end of the year; with ``totals`` the county
        totals ``stock`` and ``flow`` (:func:`qzfp.model.kernel.run_kernel`).
    """
    if n_paths is None:
        n_paths = max(a.shape[0] for a in (pop0, inm0, tfr, logk, mig, asm.tfr, asm.e0, asm.profile))
    table = survival_table(model, float(logk.min()), float(logk.max()))
    return run_kernel(pop0, inm0, tfr, asm.pattern, asm.srb, logk, table, mig, asm.male_share, asm.profile,
                      asm.inflow, asm.outflow, asm.left_behind, np.asarray(year_index), n_paths, keep, flows,
                      by_age, totals)


def _one_step(pop: np.ndarray, asm: Assumptions, tfr: np.ndarray, logk: np.ndarray, model: MortalityModel,
              year: int, mig: np.ndarray) -> tuple[np.ndarray, int]:
    """The populations one step after ``pop`` (B, 2, C, 2, A) and the out-migration caps applied."""
    out = project_counties(pop, np.zeros(pop.shape[:1] + pop.shape[2:3]), asm, tfr, logk, model, mig,
                           np.array([year]), keep=np.array([-1, 0]), flows=False)
    return out["pop"][:, 0], int(out["capped"].sum())


def shift_by_fraction(pop: np.ndarray, frac: float, asm: Assumptions, tfr: np.ndarray, logk: np.ndarray,
                      model: MortalityModel, year: int, mig: np.ndarray,
                      backwards: bool) -> tuple[np.ndarray, int, BackStep | None]:
    """Move populations (B, 2, C, 2, A) by a fraction of a year with the engine's own step.

    Linear in time between the population and its image one whole step later (forward) or
    earlier (backward, the inverse step): ``P(t ± f) = (1 − f) P(t) + f P(t ± 1)``.
    ``mig`` is the (1, 1, 2, C) rate of that step.  Returns the moved populations, the
    out-migration caps applied and, backwards, the :class:`BackStep` report.
    """
    if frac <= 0:
        return pop, 0, None
    if backwards:
        back = step_back(pop, asm, tfr, logk, model, year, mig)
        return (1.0 - frac) * pop + frac * back.pop, back.capped, back
    other, capped = _one_step(pop, asm, tfr, logk, model, year, mig)
    return (1.0 - frac) * pop + frac * other, capped, None


class BackStep(NamedTuple):
    """A backward step: the populations a year earlier and how well the inverse converged."""

    pop: np.ndarray
    converged: bool
    residual: float  # largest residual relative to the largest count
    capped: int


def step_back(p_next: np.ndarray, asm: Assumptions, tfr: np.ndarray, logk: np.ndarray, model: MortalityModel,
              year: int, mig: np.ndarray) -> BackStep:
    """Inverse of one step of :func:`project_counties`: the populations a year earlier that step to ``p_next``.

    Start from the survivors reversed (``P(t, a) = P(t+1, a+1) / S_{a+1}``), then correct
    by fixed-point iteration on the forward step (migration depends on the total); the open
    interval 100+ at t+1 comes from ages 99 and 100+ at t, shared in their current proportion.
    The newborns of the year are nobody a year earlier (their residual is ignored), so
    ``tfr`` plays no part.  Stops when the residual falls below :data:`BACK_TOL` of the
    largest count, or after :data:`BACK_ITER` iterations (reported as not converged).
    """
    surv = model.survival(np.exp(logk[0, year]))[None, None]  # (1, 1, C, 2, A)
    x = np.empty_like(p_next)
    x[..., :99] = p_next[..., 1:100] / surv[..., 1:100]
    x[..., 99] = p_next[..., 100] / surv[..., 100] * 0.5
    x[..., 100] = p_next[..., 100] / surv[..., 100] * 0.5
    scale = max(1.0, float(np.abs(p_next).max(initial=0.0)))
    residual, capped = np.inf, 0
    for _ in range(BACK_ITER):
        fwd, capped = _one_step(x, asm, tfr, logk, model, year, mig)
        r = p_next - fwd
        r[..., 0] = 0.0
        residual = float(np.abs(r).max(initial=0.0)) / scale
        if residual <= BACK_TOL:
            break
        x[..., :99] += r[..., 1:100] / surv[..., 1:100]
        top = x[..., 99] + x[..., 100]
        with np.errstate(invalid="ignore", divide="ignore"):
            w99 = np.where(top > 0, x[..., 99] / np.where(top > 0, top, 1.0), 0.5)
        corr = r[..., 100] / surv[..., 100]
        x[..., 99] += w99 * corr
        x[..., 100] += (1.0 - w99) * corr
        np.maximum(x, 0.0, out=x)
    return BackStep(x, residual <= BACK_TOL, residual, capped)
