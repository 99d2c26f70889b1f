"""Monte Carlo projection: random paths of TFR, e0 and net migration around a variant."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ParameterError, Problem
from ..register.census import Census
from ..rules.paramarrays import ParamArrays
from .assumptions import Assumptions, yearly_assumptions
from .projection import PopulationResult, project_from_assumptions

__all__ = ["monte_carlo"]

_P = "demography."


def monte_carlo(
    register: Any,
    pa: ParamArrays,
    n_paths: int,
    seed: int,
    *,
    variant: str = "medium",
    calibrate: bool = True,
    census: Census | None = None,
) -> PopulationResult:
    """Monte Carlo projection: random paths of TFR, e0 and net migration around a variant.

    Distributions (per path, one draw per year, ``numpy.random.default_rng(seed)``):

    * TFR: AR(1) deviation ``d_t = rho d_{t-1} + sd_tfr e_t``, ``d_0 = 0`` (the start year is
      known), added to the variant's TFR and floored at 0;
    * e0: deviations of the annual gain ``sd_e0 e_t`` accumulate (random walk, zero in the
      start year), the same deviation for both sexes, kept within 20..100;
    * net migration rate: independent normal deviations ``sd_mig e_t`` each year.

    Parameters
    ----------
    register : Register
    pa : ParamArrays
        Demographic assumptions with N = 1 (the central path).
    n_paths : int
        Number of paths N.
    seed : int
        Seed of the random generator (same seed → same paths).
    variant : str
        Central variant of the paths.
    calibrate : bool
        As in :func:`project`.

    Returns
    -------
    PopulationResult
        Arrays with a leading axis N = ``n_paths``.
    """
    if pa.n != 1:
        raise ParameterError(Problem("monte_carlo", "montecarlo.one_set", n=pa.n))
    if n_paths < 1:
        raise ParameterError(Problem("mc_paths", "montecarlo.too_few_paths", n=n_paths))
    asm = yearly_assumptions(pa, variant)
    t = len(pa.years)
    rng = np.random.default_rng(seed)
    eps = rng.standard_normal((3, n_paths, t))
    rho = pa[_P + "uncertainty.tfr_ar1"][0]
    sd_tfr = pa[_P + "uncertainty.tfr_sd"][0]
    dev = np.zeros((n_paths, t))
    for y in range(1, t):
        dev[:, y] = rho[y] * dev[:, y - 1] + sd_tfr[y] * eps[0, :, y]
    steps = pa[_P + "uncertainty.e0_gain_sd"][0] * eps[1]
    steps[:, 0] = 0.0  # the start year is known: year t holds t draws (variance t sd^2)
    e0_dev = np.cumsum(steps, axis=1)
    mig_dev = pa[_P + "uncertainty.migration_rate_sd"][0] * eps[2]
    asm_mc = Assumptions(
        tfr=np.maximum(asm.tfr + dev, 0.0),
        tfr_add=asm.tfr_add,
        pattern=asm.pattern,
        srb=asm.srb,
        e0=np.clip(asm.e0 + e0_dev[..., None], 20.0, 100.0),
        mig_rate=asm.mig_rate + mig_dev,
        res_adj=asm.res_adj + mig_dev,
        male_share=asm.male_share,
        profile=asm.profile,
        inflow=asm.inflow,
        outflow=asm.outflow,
    )
    return project_from_assumptions(register, pa, asm_mc, variant, calibrate, census)
