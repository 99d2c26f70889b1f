"""Monte Carlo projection: random paths of fertility, mortality and migration around a variant.

The deviations (:func:`draw_paths`) are of four kinds, each with its width in the rulebook
(``demography.uncertainty.*``, calibrated on the 2010 → 2020 errors of every county outside
Zhejiang where the 2020 census can tell, see ``docs/population.md``):

* national fertility: an AR(1) deviation of the TFR, the same for every county;
* national mortality: a random walk of the life expectancy's annual gain;
* county migration: a persistent deviation of each county's resident net migration rate,
  drawn once per path and held over the projection, part of it shared by the counties of a
  province and part by those of a prefecture (so that a city's counties do not average their
  errors away), with a width that depends on the county's census indicators; the registered
  population's rate has a persistent deviation of its own;
* county mortality: a persistent deviation of each county's mortality level (census deaths
  are under-reported, so a county's fitted level is uncertain).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ParameterError, Problem
from ..register.census import Census, prefecture_key
from ..rules.paramarrays import ParamArrays
from .assumptions import yearly_assumptions
from .base import Calibration
from .migration import WIDTH_FEATURES, migration_sd
from .projection import Draws, PopulationResult, project_from_assumptions, register_calibration

__all__ = ["draw_paths", "monte_carlo"]

_P = "demography."


def _first(pa: ParamArrays, path: str) -> float:
    return float(pa[_P + path][0, 0])


def draw_paths(pa: ParamArrays, cal: Calibration, n_paths: int, seed: Any) -> Draws:
    """The deviations of ``n_paths`` paths for the counties of ``cal`` (same seed, same paths).

    One ``numpy.random.default_rng(seed)`` draws, in this order, standard normals for the
    TFR (paths × years), e0 (paths × years), the provinces (paths × provinces of ``cal``,
    sorted by code), the prefectures (paths × prefectures, sorted), the counties' resident
    migration, registered migration and mortality level (paths × counties each):

    * TFR: ``d_t = ρ d_{t−1} + σ_TFR ε_t``, ``d = 0`` up to the start year or the census year,
      whichever is later (what is known is not drawn);
    * e0: cumulative sum of ``σ_e0 ε_t``, the steps of those known years 0 (year t after them
      holds t draws);
    * resident migration of county c in prefecture f of province r:
      ``σ_c (√s_r z_r + √s_f z_f + √(1 − s_r − s_f) z_c)``, with ``σ_c`` from
      :func:`qzfp.model.migration.migration_sd` and s_r, s_f the provincial and prefectural
      shares of its variance (so the counties of one city share part of their deviations);
    * registered migration ``σ_reg z'_c``; mortality level ``σ_m z''_c`` (log level).

    The migration and mortality deviations act from the first year after the census moment
    (:func:`qzfp.model.projection.project_calibrated`).

    Parameters
    ----------
    pa : ParamArrays
        The central assumptions (N = 1); the widths are read in its first year.
    cal : Calibration
        The counties (their census indicators, provinces and prefectures).
    n_paths : int
    seed : int or numpy.random.SeedSequence
    """
    t = len(pa.years)
    c = len(cal.mort_mult)
    rng = np.random.default_rng(seed)
    eps_tfr = rng.standard_normal((n_paths, t))
    eps_e0 = rng.standard_normal((n_paths, t))
    provinces, prov_idx = np.unique(np.asarray(cal.region, dtype=str), return_inverse=True)
    z_prov = rng.standard_normal((n_paths, len(provinces)))
    prefectures, pref_idx = np.unique(prefecture_key(cal.codes).astype(str), return_inverse=True)
    z_pref = rng.standard_normal((n_paths, len(prefectures)))
    z_mig = rng.standard_normal((n_paths, c))
    z_reg = rng.standard_normal((n_paths, c))
    z_mort = rng.standard_normal((n_paths, c))
    known = np.asarray(pa.years) <= max(int(pa.years[0]), int(np.floor(cal.moment)))
    rho = pa[_P + "uncertainty.tfr_ar1"][0]
    sd_tfr = pa[_P + "uncertainty.tfr_sd"][0]
    tfr_dev = np.zeros((n_paths, t))
    for y in range(1, t):
        if not known[y]:
            tfr_dev[:, y] = rho[y] * tfr_dev[:, y - 1] + sd_tfr[y] * eps_tfr[:, y]
    steps = pa[_P + "uncertainty.e0_gain_sd"][0] * eps_e0
    steps[:, known] = 0.0  # the known years: year t after them holds t draws (variance t sd^2)
    s_r = _first(pa, "uncertainty.migration_regional_share")
    s_f = _first(pa, "uncertainty.migration_prefecture_share")
    if s_r + s_f > 1.0 + 1e-12:
        raise ParameterError(Problem(_P + "uncertainty.migration_prefecture_share", "montecarlo.shares",
                                     province=s_r, prefecture=s_f))
    sd = migration_sd(cal.features, _first(pa, "uncertainty.migration_sd"),
                      {f: _first(pa, "uncertainty.migration_sd_" + f) for f in WIDTH_FEATURES})[0]  # (C,)
    mig_dev = sd * (np.sqrt(s_r) * z_prov[:, prov_idx] + np.sqrt(s_f) * z_pref[:, pref_idx]
                    + np.sqrt(max(0.0, 1.0 - s_r - s_f)) * z_mig)
    return Draws(
        tfr_dev=tfr_dev,
        e0_dev=np.cumsum(steps, axis=1),
        mig_dev=mig_dev,
        reg_dev=_first(pa, "uncertainty.registered_migration_sd") * z_reg,
        mort_dev=_first(pa, "uncertainty.mortality_level_sd") * z_mort,
    )


def monte_carlo(
    register: Any,
    pa: ParamArrays,
    n_paths: int,
    seed: Any,
    *,
    variant: str = "medium",
    calibrate: bool = True,
    census: Census | None = None,
) -> PopulationResult:
    """Monte Carlo projection of a register's counties: ``n_paths`` paths of :func:`draw_paths`.

    Parameters
    ----------
    register : Register
    pa : ParamArrays
        Demographic assumptions with N = 1 (the central path).
    n_paths : int
        Number of paths N.
    seed : int or numpy.random.SeedSequence
        Seed of the random generator (same seed → same paths).
    variant : str
        Central variant of the paths.
    calibrate : bool
        As in :func:`qzfp.model.projection.project`.

    Returns
    -------
    PopulationResult
        Arrays with a leading axis N = ``n_paths``; ``diagnostics`` counts the path-years
        whose TFR was floored at 0 or whose e0 was clipped into 20..100.
    """
    if pa.n != 1:
        raise ParameterError(Problem("monte_carlo", "montecarlo.one_set", n=pa.n))
    if n_paths < 1:
        raise ParameterError(Problem("mc_paths", "montecarlo.too_few_paths", n=n_paths))
    asm = yearly_assumptions(pa, variant)
    draws = draw_paths(pa, register_calibration(register, pa, asm, calibrate, census), n_paths, seed)
    return project_from_assumptions(register, pa, asm, variant, calibrate, census, draws)
