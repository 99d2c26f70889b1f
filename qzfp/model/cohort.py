"""The cohort-component step of the population engine, forwards and backwards.

:func:`project_counties` projects C counties (single ages 0..100+ by sex) year by year with
births, deaths and net migration; :func:`step_back` is its inverse (one year earlier) and
:func:`shift_by_fraction` moves a population by a fraction of a year (the census moment to
1 January).  ``docs/population.md`` gives the method.
"""

from __future__ import annotations

import numpy as np

from .assumptions import Assumptions
from .mortality import AGES, MortalityModel

__all__ = ["project_counties", "shift_by_fraction", "step_back"]


#: Fixed-point iterations of the backward (inverse) projection step (at most), and the residual
#: relative to the largest count at which it stops.
_BACK_ITER = 8

_BACK_TOL = 1e-10



def project_counties(
    pop0: np.ndarray,
    inm0: np.ndarray,
    asm: Assumptions,
    fert_mult: np.ndarray,
    mort_mult: np.ndarray,
    model: MortalityModel,
    steps: int,
    year_index: np.ndarray | None = None,
    mig: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Cohort-component projection of C counties for ``steps`` years.

    Parameters
    ----------
    pop0 : (B, C, 2, A) persons at 1 January of the first year.
    inm0 : (B, C) in-migrant stock [person].
    asm : yearly assumptions with leading axis 1 or B.
    fert_mult, mort_mult : (C,) or (B, C) county multipliers of the TFR and of the Siler level.
    steps : number of annual steps.
    year_index : (steps,) index into the assumption years of each step (default 0..steps-1).
    mig : (1|B, steps, C) net migration rate of each county in each step [per mille/year]
        (default ``asm.mig_rate`` of the step's year for every county).

    Returns
    -------
    dict with ``pop (B, steps+1, C, 2, A)``, ``births (B, steps, C, 2)``, ``deaths`` and
    ``net_migration (B, steps, C, 2, A)`` by age at the end of the year, ``in_migrants
    (B, steps+1, C)``.
    """
    b, c = pop0.shape[:2]
    if year_index is None:
        year_index = np.arange(steps)
    pop = np.empty((b, steps + 1, c, 2, AGES))
    births = np.empty((b, steps, c, 2))
    deaths = np.empty((b, steps, c, 2, AGES))
    netmig = np.empty((b, steps, c, 2, AGES))
    inm = np.empty((b, steps + 1, c))
    pop[:, 0] = pop0
    inm[:, 0] = inm0
    k_all = model.level(asm.e0)  # (N, T, 2)
    if mig is None:
        mig = np.broadcast_to(asm.mig_rate[:, year_index, None], (asm.mig_rate.shape[0], steps, c))
    fm = np.atleast_2d(fert_mult)  # (1|B, C)
    mm = np.atleast_2d(mort_mult)
    for t in range(steps):
        y = int(year_index[t])
        p = pop[:, t]
        total = p.sum(axis=(-2, -1))  # (B, C)
        k = k_all[:, y, None, :] * mm[..., None]  # (B|1, C, 2)
        surv = model.survival(k)  # (B|1, C, 2, A)
        share = asm.male_share[:, y]
        sexshare = np.stack([share, 1.0 - share], axis=-1)[:, None, :, None]  # (B|1,1,2,1)
        base = np.empty((b, c, 2, AGES))
        base[..., 1:] = p[..., :-1]
        base[..., 100] += p[..., 100]
        # net migrants: a net inflow arrives with the age profile; a net outflow leaves each
        # cohort at an age-specific rate proportional to the profile (so a cohort that has
        # shrunk loses fewer people; the newborns of the year weigh as last year's infants)
        prof = sexshare * asm.profile[:, y, None, None, :]  # (B|1, 1, 2, A)
        net = (mig[:, t] * 1e-3 * total)[..., None, None]  # (B, C, 1, 1)
        cohort = np.concatenate([p[..., :1], base[..., 1:]], axis=-1)
        weight = prof * cohort
        wsum = weight.sum(axis=(-2, -1), keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            out_share = np.where(wsum > 0, weight / np.where(wsum > 0, wsum, 1.0), prof)
        m = np.where(net < 0, net * out_share, net * prof)
        # newborns: computed after the women 15-49 at the end of the year are known
        m[..., 1:] = np.maximum(m[..., 1:], -base[..., 1:] * surv[..., 1:])
        d = (base[..., 1:] + 0.5 * m[..., 1:]) * (1.0 - surv[..., 1:])
        new = pop[:, t + 1]
        new[..., 1:] = base[..., 1:] + m[..., 1:] - d
        w = 0.5 * (p[:, :, 1, 15:50] + new[:, :, 1, 15:50])  # women 15-49 exposure
        tfr = np.maximum(asm.tfr[:, y, None] * fm + asm.tfr_add[:, y, None], 0.0)  # (B|1, C)
        b_tot = tfr * np.einsum("ncx,nx->nc", w, np.broadcast_to(asm.pattern[:, y], (b, 35)))
        srb = asm.srb[:, y, None]
        bsex = np.stack([b_tot * srb / (100.0 + srb), b_tot * 100.0 / (100.0 + srb)], axis=-1)
        births[:, t] = bsex
        base[..., 0] = bsex
        m[..., 0] = np.maximum(m[..., 0], -bsex * surv[..., 0])
        d0 = (bsex + 0.5 * m[..., 0]) * (1.0 - surv[..., 0])
        new[..., 0] = bsex + m[..., 0] - d0
        deaths[:, t, ..., 1:] = d
        deaths[:, t, ..., 0] = d0
        netmig[:, t] = m
        inm[:, t + 1] = inm[:, t] * (1.0 - asm.outflow[:, y, None]) + asm.inflow[:, y, None] * total
    return {"pop": pop, "births": births, "deaths": deaths, "net_migration": netmig, "in_migrants": inm}



def shift_by_fraction(
    pop: np.ndarray, frac: float, asm: Assumptions, fm: np.ndarray, mm: np.ndarray, model: MortalityModel,
    year: int, mig: np.ndarray, backwards: bool,
) -> np.ndarray:
    """Move a population (B, C, 2, A) by a fraction of a year with the engine's own step.

    Linear in time between the population and its image one whole step later (forward) or
    earlier (backward, the inverse step): ``P(t ± f) = (1 − f) P(t) + f P(t ± 1)``.
    """
    if frac <= 0:
        return pop
    other = step_back(pop, asm, fm, mm, model, year, mig) if backwards else \
        project_counties(pop, np.zeros(pop.shape[:2]), asm, fm, mm, model, 1, np.array([year]), mig[:, [year]])["pop"][:, 1]
    return (1.0 - frac) * pop + frac * other



def step_back(
    p_next: np.ndarray, asm: Assumptions, fm: np.ndarray, mm: np.ndarray, model: MortalityModel, year: int,
    mig: np.ndarray,
) -> np.ndarray:
    """Inverse of one step of :func:`project_counties`: the population a year earlier that steps to ``p_next``.

    Start from the survivors reversed (``P(t, a) = P(t+1, a+1) / S_{a+1}``), then correct
    by fixed-point iteration on the forward step (migration depends on the total); the open
    interval 100+ at t+1 comes from ages 99 and 100+ at t, shared in their current proportion.
    """
    k = model.level(asm.e0[:1, year])[0][None, :] * np.atleast_1d(mm)[:, None]  # (C, 2)
    surv = model.survival(k)[None]  # (1, C, 2, A)
    x = np.empty_like(p_next)
    x[..., :99] = p_next[..., 1:100] / surv[..., 1:100]
    x[..., 99] = p_next[..., 100] / surv[..., 100] * 0.5
    x[..., 100] = p_next[..., 100] / surv[..., 100] * 0.5
    for _ in range(_BACK_ITER):
        fwd = project_counties(x, np.zeros(x.shape[:2]), asm, fm, mm, model, 1, np.array([year]), mig[:, [year]])["pop"][:, 1]
        r = p_next - fwd
        r[..., 0] = 0.0  # the newborns of the year are not someone a year earlier
        if np.abs(r).max(initial=0.0) <= _BACK_TOL * max(1.0, float(np.abs(p_next).max(initial=0.0))):
            break
        x[..., :99] += r[..., 1:100] / surv[..., 1:100]
        top = x[..., 99] + x[..., 100]
        with np.errstate(invalid="ignore", divide="ignore"):
            w99 = np.where(top > 0, x[..., 99] / np.where(top > 0, top, 1.0), 0.5)
        corr = r[..., 100] / surv[..., 100]
        x[..., 99] += w99 * corr
        x[..., 100] += (1.0 - w99) * corr
        np.maximum(x, 0.0, out=x)
    return x
