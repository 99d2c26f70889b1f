"""Mortality of the population engine: a Siler hazard of fixed shape whose level is solved from e0.

``l(x) = exp(-k H(x))`` with the Siler cumulative hazard ``H`` (shape in
``demography.mortality.siler.*``); the level ``k`` for a life expectancy e0 comes from a
precomputed lookup table (``np.interp``); single-year survival ratios use the infant
separation factor for the newborns of the year (``docs/population.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..register.census import GROUP_STARTS
from ..rules.paramarrays import ParamArrays

__all__ = [
    "AGES",
    "LT_AGES",
    "MortalityModel",
    "e0_both",
    "group_death_rates",
    "life_table",
    "mortality_from",
    "mortality_model",
    "person_years",
    "siler_cumulative_hazard",
]

_P = "demography."


#: Single ages 0..100 (100 = the open interval 100+).
AGES = 101

#: Highest exact age of the internal life table (the open interval 100+ is summed up to it).
LT_AGES = 132



def siler_cumulative_hazard(
    ages: np.ndarray, a1: float, b1: float, a2: float, a3: float, b3: float
) -> np.ndarray:
    """Cumulative Siler hazard ``H(x) = a1/b1 (1-e^{-b1 x}) + a2 x + a3/b3 (e^{b3 x} - 1)``.

    Parameters
    ----------
    ages : numpy.ndarray
        Exact ages x [year].
    a1, b1 : float
        Infant component level [1/year] and decline rate [1/year].
    a2 : float
        Background hazard [1/year].
    a3, b3 : float
        Senescent (Gompertz) level [1/year] and slope [1/year].

    Returns
    -------
    numpy.ndarray
        H(x) [dimensionless]; survival is ``l(x) = exp(-k H(x))`` for a level k.
    """
    x = np.asarray(ages, dtype=float)
    return a1 / b1 * (1.0 - np.exp(-b1 * x)) + a2 * x + a3 / b3 * np.expm1(b3 * x)



def person_years(lx: np.ndarray, a0: float) -> np.ndarray:
    """Single-year person-years L_x (x = 0..130) from l_x (x = 0..131), l_0 = 1."""
    big_l = 0.5 * (lx[..., :-1] + lx[..., 1:])
    big_l[..., 0] = lx[..., 1] + a0 * (lx[..., 0] - lx[..., 1])
    return big_l



@dataclass(frozen=True)
class MortalityModel:
    """Siler shape + lookup table e0 -> level k (monotone, solved by ``np.interp``)."""

    hazard: np.ndarray  # (132,) cumulative hazard at exact ages 0..131
    a0: float
    e0_grid: np.ndarray  # increasing e0
    logk_grid: np.ndarray  # matching log k (decreasing)

    def level(self, e0: np.ndarray) -> np.ndarray:
        """Siler level k that gives life expectancy e0 [year] (vectorised)."""
        return np.exp(np.interp(e0, self.e0_grid, self.logk_grid))

    def survival(self, k: np.ndarray) -> np.ndarray:
        """Survival ratios S_a (..., A) by age at the end of the year, for levels k (...).

        ``S_0 = L_0 / l_0`` (newborns of the year alive at its end), ``S_a = L_a / L_{a-1}``
        for a = 1..99 and ``S_100 = T_100 / T_99`` for the open interval.
        """
        lx = np.exp(-k[..., None] * self.hazard)
        big_l = person_years(lx, self.a0)
        s = np.empty(big_l.shape[:-1] + (AGES,))
        s[..., 0] = big_l[..., 0]
        s[..., 1:100] = big_l[..., 1:100] / big_l[..., 0:99]
        t100 = big_l[..., 100:].sum(axis=-1)
        s[..., 100] = t100 / (t100 + big_l[..., 99])
        return s

    def e0(self, k: np.ndarray) -> np.ndarray:
        """Life expectancy at birth [year] for levels k."""
        lx = np.exp(-np.asarray(k, dtype=float)[..., None] * self.hazard)
        return person_years(lx, self.a0).sum(axis=-1)



@lru_cache(maxsize=16)
def mortality_model(a1: float, b1: float, a2: float, a3: float, b3: float, a0: float) -> MortalityModel:
    hazard = siler_cumulative_hazard(np.arange(LT_AGES), a1, b1, a2, a3, b3)
    logk = np.linspace(12.0, -14.0, 5201)
    lx = np.exp(-np.exp(logk)[:, None] * hazard)
    e0 = person_years(lx, a0).sum(axis=-1)
    return MortalityModel(hazard, a0, e0, logk)



def mortality_from(pa: ParamArrays) -> MortalityModel:
    """Mortality model from the shape parameters at the start year of the first parameter set."""
    def v(p: str) -> float:
        return float(pa[_P + p][0, 0])

    return mortality_model(
        v("mortality.siler.infant_level"),
        v("mortality.siler.infant_decline"),
        v("mortality.siler.background"),
        v("mortality.siler.senescent_level"),
        v("mortality.siler.senescent_slope"),
        v("mortality.infant_separation_factor"),
    )



def life_table(e0: float | np.ndarray, pa: ParamArrays) -> dict[str, np.ndarray]:
    """Model life table of the engine for a life expectancy.

    Parameters
    ----------
    e0 : float or numpy.ndarray
        Life expectancy at birth [year].
    pa : ParamArrays
        Source of the Siler shape and the infant separation factor (start year, first set).

    Returns
    -------
    dict
        ``k`` Siler level, ``l`` survivors at exact ages 0..131 (radix 1), ``L`` person-years
        at ages 0..130 [year], ``S`` survival ratios by age at the end of the year (A,),
        ``e0`` the life expectancy of the table [year].
    """
    m = mortality_from(pa)
    k = m.level(np.asarray(e0, dtype=float))
    lx = np.exp(-k[..., None] * m.hazard)
    big_l = person_years(lx, m.a0)
    return {"k": k, "l": lx, "L": big_l, "S": m.survival(k), "e0": big_l.sum(axis=-1)}



def group_death_rates(model: MortalityModel, k: np.ndarray) -> np.ndarray:
    """Central death rates of the 19 census age groups for Siler levels k (...) -> (..., 19)."""
    lx = np.exp(-k[..., None] * model.hazard)
    big_l = person_years(lx, model.a0)
    starts = np.asarray(GROUP_STARTS)
    ends = np.append(starts[1:], LT_AGES - 1)
    cum_l = np.concatenate([np.zeros(big_l.shape[:-1] + (1,)), np.cumsum(big_l, axis=-1)], axis=-1)
    exposure = cum_l[..., ends] - cum_l[..., starts]  # person-years of each group
    deaths = lx[..., starts] - np.where(ends < LT_AGES - 1, lx[..., np.minimum(ends, LT_AGES - 1)], 0.0)
    return deaths / exposure



def e0_both(model: MortalityModel, k: np.ndarray, srb: float) -> np.ndarray:
    """Life expectancy of both sexes (weighted by the sex ratio at birth) for levels k (..., 2)."""
    e = model.e0(k)
    return (srb * e[..., 0] + 100.0 * e[..., 1]) / (100.0 + srb)
