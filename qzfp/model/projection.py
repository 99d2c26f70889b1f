"""Population engine: cohort-component projection by county, allocation to townships and villages.

The county projection works in single years of age 0..100+ by sex with annual steps
(``docs/population.md`` explains the method):

* fertility: TFR x a shifted-gamma age pattern (mean age and spread as parameters), births
  split by the sex ratio at birth; the fertility policies of 2014, 2016 and 2021 add their
  assumed effects to the TFR from the year they are in force;
* mortality: a Siler hazard with fixed shape whose level ``k`` is solved from e0 through a
  precomputed lookup table (``np.interp``), single-year survival ratios from the life table
  with the infant separation factor for the newborns of the year;
* migration: net migrants = rate x population x a Rogers-Castro age profile; the in-migrant
  (floating) population is a separate stock with its own inflow and outflow rates.

The base population of every county is observed, not modelled: the county's row of the census
age-sex table (:mod:`qzfp.register.census`, the 2010 census by default) split to single years of age,
with fertility (TFR), mortality (level of the standard life table) and resident net migration
(the 2000-2010 intercensal residual) fitted to that row, and moved from the census moment to
the start of the projection by the engine's own step (backwards with its inverse).  Two
populations are projected side by side: the *registered* (户籍) population, which the register
and the association's rules count (scaled to the register's county totals at the start), and
the *resident* (常住) population, which the census counts.  Below the county, village shares of
the county's registered population drift with class-specific growth differentials (urban,
rural, remote) and are renormalised per county every year; indicators are allocated with
urban/rural factors and renormalised so that all county totals stay exact, and village net
migration is the balance residual so that ``P(t+1) = P(t) + births - deaths + net migration``
holds at every level; a village's resident population is its registered population times its
county's resident/registered ratio.

Every array has a leading axis N (parameter sets or Monte Carlo paths).  Stocks are at
1 January of each year, flows happen during the year.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ParameterError, Problem
from ..paramarrays import ParamArrays
from ..register.census import GROUP_STARTS, Census, CountyRows, default_census, split_single_years
from .arrays import group_sum

__all__ = [
    "AGES",
    "DEMOGRAPHY_PATHS",
    "INDICATORS",
    "PopulationResult",
    "VARIANTS",
    "demography_param_arrays",
    "fertility_pattern",
    "life_table",
    "monte_carlo",
    "percentiles",
    "project",
    "rogers_castro",
    "siler_cumulative_hazard",
]

#: Single ages 0..100 (100 = the open interval 100+).
AGES = 101
#: Highest exact age of the internal life table (the open interval 100+ is summed up to it).
_LT_AGES = 132
_FERT_AGES = np.arange(15, 50)
VARIANTS = ("medium", "low", "high", "constant")
INDICATORS = (
    "pop",
    "aged_60plus",
    "women_15_49",
    "births",
    "deaths",
    "net_migration",
    "in_migrants",
    "resident_pop",
    "resident_aged_60plus",
)
#: Indicators of the registered population computed together (the resident ones on demand).
_BASE_INDICATORS = INDICATORS[:7]
_RESIDENT_INDICATORS = INDICATORS[7:]
#: Population bases of :meth:`PopulationResult.population_age` (户籍 and 常住).
BASES = ("registered", "resident")
_TABLE_COLUMNS = {
    "pop": "population",
    "aged_60plus": "aged_60plus",
    "women_15_49": "women_15_49",
    "births": "births",
    "deaths": "deaths",
    "net_migration": "net_migration",
    "in_migrants": "in_migrants",
    "resident_pop": "resident_population",
    "resident_aged_60plus": "resident_aged_60plus",
}
_REFERENCE_CSV = Path(__file__).resolve().parents[1] / "data" / "reference" / "quzhou_counties.csv"
_P = "demography."

DEMOGRAPHY_PATHS = tuple(
    _P + p
    for p in (
        "fertility.tfr",
        "fertility.mean_age",
        "fertility.sd_age",
        "fertility.srb",
        "fertility.variant_offset",
        "mortality.e0_male",
        "mortality.e0_female",
        "mortality.reference_year",
        "mortality.e0_gain",
        "mortality.infant_separation_factor",
        "mortality.siler.infant_level",
        "mortality.siler.infant_decline",
        "mortality.siler.background",
        "mortality.siler.senescent_level",
        "mortality.siler.senescent_slope",
        "migration.net_rate",
        "migration.male_share",
        "migration.profile.child_level",
        "migration.profile.child_decline",
        "migration.profile.labour_level",
        "migration.profile.labour_peak_age",
        "migration.profile.labour_decline",
        "migration.profile.labour_ascent",
        "migration.profile.constant",
        "in_migrants.inflow_rate",
        "in_migrants.outflow_rate",
        "allocation.urban_differential",
        "allocation.rural_differential",
        "allocation.remote_differential",
        "allocation.rural_factor_60plus",
        "allocation.rural_factor_women_15_49",
        "allocation.rural_factor_births",
        "allocation.rural_factor_deaths",
        "fertility.policy.selective_two_child",
        "fertility.policy.selective_two_child_effect",
        "fertility.policy.universal_two_child",
        "fertility.policy.universal_two_child_effect",
        "fertility.policy.three_child",
        "fertility.policy.three_child_effect",
        "fertility.policy.response",
        "mortality.county_e0_min",
        "mortality.county_e0_max",
        "migration.resident_adjustment",
        "migration.absent_min_age",
        "migration.absent_max_age",
        "uncertainty.tfr_sd",
        "uncertainty.tfr_ar1",
        "uncertainty.e0_gain_sd",
        "uncertainty.migration_rate_sd",
    )
)

# Hard validity limits of the engine (the YAML min/max say the same for rulebook values).
_LIMITS = {
    "fertility.tfr": (0.0, None),
    "mortality.e0_male": (20.0, 100.0),
    "mortality.e0_female": (20.0, 100.0),
    "fertility.srb": (90.0, 130.0),
    "fertility.mean_age": (16.0, 45.0),
    "fertility.sd_age": (0.5, 15.0),
    "mortality.infant_separation_factor": (0.0, 1.0),
    "migration.male_share": (0.0, 1.0),
    "in_migrants.inflow_rate": (0.0, None),
    "in_migrants.outflow_rate": (0.0, 1.0),
}


# --------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------


def demography_param_arrays(
    years: Sequence[int] | np.ndarray, rulebook_values: dict[str, float] | None = None
) -> ParamArrays:
    """Demographic assumptions of the packaged rulebook as a one-set :class:`ParamArrays`.

    Parameters
    ----------
    years : sequence of int
        Calendar years modelled [year].
    rulebook_values : dict of str to float, optional
        Values replacing the rulebook's in every year, by dotted path (with or without the
        ``demography.`` prefix), in the parameter's unit.

    Returns
    -------
    ParamArrays
        N = 1, one ``(1, T)`` array per path of :data:`DEMOGRAPHY_PATHS`.
    """
    from ..parameters import load_rulebook

    years = np.asarray(list(years), dtype=int)
    pa = load_rulebook().to_param_arrays(years, DEMOGRAPHY_PATHS)
    if not rulebook_values:
        return pa
    data = dict(pa.data)
    problems = []
    for path, value in rulebook_values.items():
        full = path if path.startswith(_P) else _P + path
        if full not in data:
            problems.append(Problem(full, "not a demographic assumption of demography.yaml"))
            continue
        data[full] = np.full((1, len(years)), float(value))
    if problems:
        raise ParameterError(problems)
    return ParamArrays(years, data)


def _require(pa: ParamArrays) -> None:
    missing = [p for p in DEMOGRAPHY_PATHS if p not in pa]
    if missing:
        raise ParameterError(
            [Problem(p, "missing from the parameter arrays (needed by the population engine)") for p in missing]
        )


def _check_range(path: str, arr: np.ndarray, years: np.ndarray, problems: list[Problem]) -> None:
    lo, hi = _LIMITS[path]
    bad = ~np.isfinite(arr)
    if lo is not None:
        bad |= arr < lo
    if hi is not None:
        bad |= arr > hi
    if bad.any():
        n, t = np.argwhere(bad)[0]
        rng = f"{lo:g}..{hi:g}" if hi is not None else f">= {lo:g}"
        extra = f" in parameter set {n}" if arr.shape[0] > 1 else ""
        problems.append(
            Problem(
                _P + path,
                f"value {arr[n, t]:g} in {int(years[t])}{extra} is out of range; expected {rng}"
                f" ({int(bad.sum())} value(s) out of range)",
            )
        )


@dataclass(frozen=True)
class _Assumptions:
    """Derived yearly assumption arrays (leading axis = parameter sets or paths)."""

    tfr: np.ndarray  # (N, T) child/woman (city level; counties x their multiplier)
    tfr_add: np.ndarray  # (N, T) child/woman added by the fertility policies in force
    pattern: np.ndarray  # (N, T, 35) share of TFR by age 15..49
    srb: np.ndarray  # (N, T) boys per 100 girls
    e0: np.ndarray  # (N, T, 2) years
    mig_rate: np.ndarray  # (N, T) per mille/year, registered population
    res_adj: np.ndarray  # (N, T) per mille/year added to the resident population's residual rate
    male_share: np.ndarray  # (N, T)
    profile: np.ndarray  # (N, T, A) Rogers-Castro shares, sum 1
    inflow: np.ndarray  # (N, T) 1/year
    outflow: np.ndarray  # (N, T) 1/year

    @property
    def n(self) -> int:
        return max(a.shape[0] for a in (self.tfr, self.e0, self.mig_rate))


def _assumptions(pa: ParamArrays, variant: str) -> _Assumptions:
    """Validate the demographic parameters and derive the yearly arrays of one variant."""
    if variant not in VARIANTS:
        raise ParameterError(
            Problem("variant", f"unknown projection variant {variant!r}; expected one of {', '.join(VARIANTS)}")
        )
    _require(pa)
    years = np.asarray(pa.years)
    g = {p[len(_P):]: np.asarray(pa[p], dtype=float) for p in DEMOGRAPHY_PATHS}
    ref = g["mortality.reference_year"]
    e0m = g["mortality.e0_male"] + g["mortality.e0_gain"] * (years[None, :] - ref)
    e0f = g["mortality.e0_female"] + g["mortality.e0_gain"] * (years[None, :] - ref)
    problems: list[Problem] = []
    for path in _LIMITS:
        arr = {"mortality.e0_male": e0m, "mortality.e0_female": e0f}.get(path, g[path])
        _check_range(path, arr, years, problems)
    if problems:
        raise ParameterError(problems)
    tfr = g["fertility.tfr"]
    off = g["fertility.variant_offset"]
    if variant == "low":
        tfr = np.maximum(tfr - off, 0.0)
    elif variant == "high":
        tfr = tfr + off
    elif variant == "constant":
        tfr = np.broadcast_to(tfr[:, :1], tfr.shape)
    tfr_add = _policy_add(g)
    if variant == "constant":
        tfr_add = np.broadcast_to(tfr_add[:, :1], tfr_add.shape)
    pattern = fertility_pattern(g["fertility.mean_age"], g["fertility.sd_age"])
    profile = rogers_castro(
        np.arange(AGES),
        g["migration.profile.child_level"][..., None],
        g["migration.profile.child_decline"][..., None],
        g["migration.profile.labour_level"][..., None],
        g["migration.profile.labour_peak_age"][..., None],
        g["migration.profile.labour_decline"][..., None],
        g["migration.profile.labour_ascent"][..., None],
        g["migration.profile.constant"][..., None],
    )
    return _Assumptions(
        tfr=np.ascontiguousarray(tfr),
        tfr_add=np.ascontiguousarray(tfr_add),
        pattern=pattern,
        srb=g["fertility.srb"],
        e0=np.stack([e0m, e0f], axis=-1),
        mig_rate=g["migration.net_rate"],
        res_adj=g["migration.resident_adjustment"],
        male_share=g["migration.male_share"],
        profile=profile,
        inflow=g["in_migrants.inflow_rate"],
        outflow=g["in_migrants.outflow_rate"],
    )


# --------------------------------------------------------------------------------------
# Model schedules
# --------------------------------------------------------------------------------------


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


def _person_years(lx: np.ndarray, a0: float) -> np.ndarray:
    """Single-year person-years L_x (x = 0..130) from l_x (x = 0..131), l_0 = 1."""
    big_l = 0.5 * (lx[..., :-1] + lx[..., 1:])
    big_l[..., 0] = lx[..., 1] + a0 * (lx[..., 0] - lx[..., 1])
    return big_l


@dataclass(frozen=True)
class _MortalityModel:
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
        big_l = _person_years(lx, self.a0)
        s = np.empty(big_l.shape[:-1] + (AGES,))
        s[..., 0] = big_l[..., 0]
        s[..., 1:100] = big_l[..., 1:100] / big_l[..., 0:99]
        t100 = big_l[..., 100:].sum(axis=-1)
        s[..., 100] = t100 / (t100 + big_l[..., 99])
        return s

    def e0(self, k: np.ndarray) -> np.ndarray:
        """Life expectancy at birth [year] for levels k."""
        lx = np.exp(-np.asarray(k, dtype=float)[..., None] * self.hazard)
        return _person_years(lx, self.a0).sum(axis=-1)


@lru_cache(maxsize=16)
def _mortality_model(a1: float, b1: float, a2: float, a3: float, b3: float, a0: float) -> _MortalityModel:
    hazard = siler_cumulative_hazard(np.arange(_LT_AGES), a1, b1, a2, a3, b3)
    logk = np.linspace(12.0, -14.0, 5201)
    lx = np.exp(-np.exp(logk)[:, None] * hazard)
    e0 = _person_years(lx, a0).sum(axis=-1)
    return _MortalityModel(hazard, a0, e0, logk)


def _mortality_from(pa: ParamArrays) -> _MortalityModel:
    """Mortality model from the shape parameters at the start year of the first parameter set."""
    def v(p: str) -> float:
        return float(pa[_P + p][0, 0])

    return _mortality_model(
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
    m = _mortality_from(pa)
    k = m.level(np.asarray(e0, dtype=float))
    lx = np.exp(-k[..., None] * m.hazard)
    big_l = _person_years(lx, m.a0)
    return {"k": k, "l": lx, "L": big_l, "S": m.survival(k), "e0": big_l.sum(axis=-1)}


def fertility_pattern(mean_age: np.ndarray, sd_age: np.ndarray) -> np.ndarray:
    """Age pattern of fertility: shifted gamma from age 15, single ages 15..49, summing to 1.

    Parameters
    ----------
    mean_age : numpy.ndarray
        Mean age at childbearing [year].
    sd_age : numpy.ndarray
        Standard deviation of the age at childbearing [year].

    Returns
    -------
    numpy.ndarray
        Shape ``mean_age.shape + (35,)``: share of the TFR at each age 15..49.
    """
    m = np.asarray(mean_age, dtype=float)[..., None] - 15.0
    s = np.asarray(sd_age, dtype=float)[..., None]
    shape = (m / s) ** 2
    scale = s * s / m
    x = _FERT_AGES + 0.5 - 15.0
    logw = (shape - 1.0) * np.log(x) - x / scale
    w = np.exp(logw - logw.max(axis=-1, keepdims=True))
    return w / w.sum(axis=-1, keepdims=True)


def rogers_castro(
    ages: np.ndarray,
    a1: Any,
    alpha1: Any,
    a2: Any,
    mu2: Any,
    alpha2: Any,
    lambda2: Any,
    c: Any,
) -> np.ndarray:
    """Rogers-Castro model migration schedule (7 parameters), normalised to sum 1 over ages.

    ``m(x) = a1 e^{-alpha1 x} + a2 exp(-alpha2 (x - mu2) - e^{-lambda2 (x - mu2)}) + c``

    Parameters
    ----------
    ages : numpy.ndarray
        Ages [year].
    a1, alpha1 : array_like
        Child component level [share] and decline [1/year].
    a2, mu2, alpha2, lambda2 : array_like
        Labour component level [share], peak location [year], descent and ascent [1/year].
    c : array_like
        Constant [share].

    Returns
    -------
    numpy.ndarray
        Age profile (broadcast shape of the parameters and ages), summing to 1 over ages.
    """
    x = np.asarray(ages, dtype=float)
    d = x - mu2
    m = a1 * np.exp(-alpha1 * x) + a2 * np.exp(-alpha2 * d - np.exp(-lambda2 * d)) + c
    return m / m.sum(axis=-1, keepdims=True)


# --------------------------------------------------------------------------------------
# County kernel
# --------------------------------------------------------------------------------------


def _kernel(
    pop0: np.ndarray,
    inm0: np.ndarray,
    asm: _Assumptions,
    fert_mult: np.ndarray,
    mort_mult: np.ndarray,
    model: _MortalityModel,
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


# --------------------------------------------------------------------------------------
# Register preparation and calibration
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Prepared:
    key: str
    county_codes: np.ndarray
    township_codes: np.ndarray
    village_codes: np.ndarray
    v_county: np.ndarray
    v_township: np.ndarray
    t_county: np.ndarray
    v_class: np.ndarray  # 0 urban, 1 rural, 2 remote
    v_pop0: np.ndarray
    v_inm_share: np.ndarray  # share of the county in-migrant stock
    county_pop0: np.ndarray
    county_inm0: np.ndarray
    class_pop0: np.ndarray  # (C, 3)
    county_villages: tuple  # per county: village indices
    county_townships: tuple  # per county: township indices


_PREP_CACHE: dict[int, tuple[Any, _Prepared]] = {}


def _members(group: np.ndarray, k: int) -> tuple:
    """Per group 0..k-1, the ascending indices of its members (one stable sort, not k scans)."""
    order = np.argsort(group, kind="stable")
    bounds = np.searchsorted(group[order], np.arange(k + 1))
    return tuple(order[bounds[i]:bounds[i + 1]] for i in range(k))


def _prepare(register: Any) -> _Prepared:
    """Index arrays of the register (cached per register object)."""
    hit = _PREP_CACHE.get(id(register))
    if hit is not None and hit[0] is register:
        return hit[1]
    vil = register.villages
    tws = register.townships
    cty = register.counties
    v_county = np.asarray(register.village_county, dtype=np.intp)
    v_township = np.asarray(register.village_township, dtype=np.intp)
    t_county = np.asarray(register.township_county, dtype=np.intp)
    c = len(cty)
    pop0 = vil["population"].to_numpy(dtype=float)
    inm = vil["in_migrants"].to_numpy(dtype=float) if "in_migrants" in vil else np.zeros(len(vil))
    urban = vil["urban"].to_numpy(dtype=bool)
    kind = tws["kind"].astype(str).to_numpy() if "kind" in tws else np.full(len(tws), "town")
    remote = ~urban & (kind[v_township] == "xiang")
    v_class = np.where(urban, 0, np.where(remote, 2, 1))
    county_pop0 = np.bincount(v_county, pop0, minlength=c)
    county_inm0 = np.bincount(v_county, inm, minlength=c)
    with np.errstate(invalid="ignore", divide="ignore"):
        share_inm = np.where(county_inm0[v_county] > 0, inm / county_inm0[v_county], 0.0)
        share_pop = np.where(county_pop0[v_county] > 0, pop0 / county_pop0[v_county], 0.0)
    v_inm_share = np.where(county_inm0[v_county] > 0, share_inm, share_pop)
    class_pop0 = np.zeros((c, 3))
    np.add.at(class_pop0, (v_county, v_class), pop0)
    key_src = getattr(register, "sha256", "") or ""
    h = hashlib.sha256(key_src.encode())
    for a in (pop0, inm, v_county, v_township, v_class):
        h.update(np.ascontiguousarray(a).tobytes())
    prep = _Prepared(
        key=h.hexdigest(),
        county_codes=cty["county_code"].astype(str).to_numpy(),
        township_codes=tws["township_code"].astype(str).to_numpy(),
        village_codes=vil["village_code"].astype(str).to_numpy(),
        v_county=v_county,
        v_township=v_township,
        t_county=t_county,
        v_class=v_class,
        v_pop0=pop0,
        v_inm_share=v_inm_share,
        county_pop0=county_pop0,
        county_inm0=county_inm0,
        class_pop0=class_pop0,
        county_villages=_members(v_county, c),
        county_townships=_members(t_county, c),
    )
    if len(_PREP_CACHE) > 32:
        _PREP_CACHE.clear()
    _PREP_CACHE[id(register)] = (register, prep)
    return prep


# Kecheng and Qujiang exchanged territory between the 2000 and 2010 censuses
# (qzfp/data/reference/SOURCES.md): their 2000 totals are only comparable together, so the
# residual migration rate of the pair is computed once and given to both.
_BOUNDARY_GROUPS = (("330802", "330803"),)
_INTERCENSAL_CSV = _REFERENCE_CSV
#: Years between the 5th and the 6th census (2000-11-01 and 2010-11-01).
_INTERCENSAL_YEARS = 10.0
#: Bisection steps of the mortality level fit (log multiplier in [-8, 4]: width 12 / 2**60).
_FIT_STEPS = 60
#: Relative tolerance of every fitted rate (a fit that misses it raises FitError).
FIT_TOLERANCE = 1e-6
#: Years before the census in which the children aged 1-4 at the census were born (the
#: exposure of the fertility fit is the mean of the women at 1 January of those years).
_FERT_WINDOW = 4
#: Fixed-point iterations of the backward (inverse) projection step (at most), and the residual
#: relative to the largest count at which it stops.
_BACK_ITER = 8
_BACK_TOL = 1e-10


#: Calibration notes (ids; the population page says them in the report's language).
NOTE_NO_PROVINCE_ROWS = "no_province_rows"
NOTE_NO_EARLIER_CENSUS = "no_earlier_census"
NOTE_FAR_FROM_CENSUS = "far_from_census"
#: Years between the census and the start beyond which the base is mostly modelled (said).
FAR_FROM_CENSUS_YEARS = 10


class FitError(ParameterError):
    """A census fit missed its tolerance (the problem names the county and the target)."""


@dataclass(frozen=True)
class Calibration:
    """The observed base population and the rates fitted to the census, per county.

    See ``docs/population.md``.  All (C, ...) arrays follow the register's county order.

    Attributes
    ----------
    base_pop : numpy.ndarray
        (C, 2, A) registered (户籍) persons at 1 January of the start year, scaled to the
        register's county totals (the population the register and the rules count).
    base_resident : numpy.ndarray
        (C, 2, A) resident (常住) persons at 1 January of the start year (the census
        population moved to the start by the engine's own components).
    fert_mult : numpy.ndarray
        (2, C) multipliers of the city TFR (``demography.fertility.tfr``) of the registered
        (row 0) and resident (row 1) populations of each county.
    mort_mult : numpy.ndarray
        (C,) county multiplier of the standard mortality level.
    tfr : numpy.ndarray
        (C, 2) total fertility rate of the registered and resident populations fitted to
        the births of the four years before the census (reverse survival of the children
        aged 1-4) [child/woman].
    e0 : numpy.ndarray
        (C, 2) life expectancy at birth by sex fitted to the census deaths [year].
    e0_bounded : numpy.ndarray
        (C,) True where the death-rate fit put e0 outside the plausible band
        (``demography.mortality.county_e0_min``/``max``) and e0 was set to the band's edge.
    resident_migration : numpy.ndarray
        (C,) net migration rate of the resident population, 2000–2010 residual [per mille/year].
    migration_source : numpy.ndarray
        (C,) where each resident migration rate comes from.
    notes : tuple of str
        What the fit had to assume: :data:`NOTE_NO_PROVINCE_ROWS` (the national age structure
        of the absent registered people taken from the shipped 2010 census),
        :data:`NOTE_NO_EARLIER_CENSUS` (no earlier census for the residual migration, which
        is 0 plus ``migration.resident_adjustment``), :data:`NOTE_FAR_FROM_CENSUS` (the start
        is more than :data:`FAR_FROM_CENSUS_YEARS` years from the census: the base is mostly
        the packaged assumptions' projection of it).
    register_factor : numpy.ndarray
        (C,) register total / census-derived registered total at the start year.
    census_registered, census_resident : numpy.ndarray
        (C,) registered and resident totals of the census rows used [person].
    census_groups : numpy.ndarray
        (C, 2, 19) the census age groups used [person].
    census_base : numpy.ndarray
        (2, C, 2, A) registered (row 0) and resident (row 1) persons by sex and single age at
        the census moment, before the shift to the start [person].
    ceb : numpy.ndarray
        (C,) children ever born per woman aged 15-64 in the census row [child/woman] (shown
        beside the fitted TFRs as a check; a cohort measure, not used in the fit).
    target, achieved : numpy.ndarray
        (C, 2) crude birth and death rates [per mille/year]: as the census reports them, and
        as fitted (births by reverse survival of the children aged 1-4, which corrects the
        census under-count of infants; deaths of the fitted life table on the census
        population, equal to the census rate unless ``e0_bounded``).
    source : numpy.ndarray
        (C,) census row used (``county``, ``prefecture``, ``province``, ``national``).
    census : Census or None
        The census table (None for the stationary start of ``calibrate=False``).
    year : int
        Census year.
    """

    base_pop: np.ndarray
    base_resident: np.ndarray
    fert_mult: np.ndarray
    mort_mult: np.ndarray
    tfr: np.ndarray
    e0: np.ndarray
    e0_bounded: np.ndarray
    resident_migration: np.ndarray
    migration_source: np.ndarray
    notes: tuple
    register_factor: np.ndarray
    census_registered: np.ndarray
    census_resident: np.ndarray
    census_groups: np.ndarray
    census_base: np.ndarray
    ceb: np.ndarray
    target: np.ndarray
    achieved: np.ndarray
    source: np.ndarray
    census: Census | None
    year: int

    def table(self, county_codes: Sequence[str]) -> pd.DataFrame:
        """One row per county: census source, fitted TFR and e0, rates target/achieved, factors."""
        return pd.DataFrame({
            "county_code": list(county_codes),
            "census_row": self.source,
            "tfr_registered": self.tfr[:, 0],
            "tfr_resident": self.tfr[:, 1],
            "ceb_census": self.ceb,
            "e0_male": self.e0[:, 0],
            "e0_female": self.e0[:, 1],
            "e0_bounded": self.e0_bounded,
            "cbr_census_permille": self.target[:, 0],
            "cbr_fitted_permille": self.achieved[:, 0],
            "cdr_census_permille": self.target[:, 1],
            "cdr_fitted_permille": self.achieved[:, 1],
            "resident_migration_permille": self.resident_migration,
            "migration_source": self.migration_source,
            "census_resident": self.census_resident,
            "census_registered": self.census_registered,
            "register_factor": self.register_factor,
        })


_CAL_CACHE: dict[str, Calibration] = {}


@lru_cache(maxsize=1)
def _intercensal() -> dict[str, tuple[float, float]]:
    """County code -> (resident 2000, resident 2010) [person], boundary groups summed."""
    out: dict[str, tuple[float, float]] = {}
    with open(_INTERCENSAL_CSV, encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            out[row["county_code"]] = (float(row["resident_2000"]), float(row["resident_2010"]))
    for group in _BOUNDARY_GROUPS:
        if all(c in out for c in group):
            both = tuple(sum(out[c][i] for c in group) for i in range(2))
            for c in group:
                out[c] = both  # type: ignore[assignment]
    return out


def _group_death_rates(model: _MortalityModel, k: np.ndarray) -> np.ndarray:
    """Central death rates of the 19 census age groups for Siler levels k (...) -> (..., 19)."""
    lx = np.exp(-k[..., None] * model.hazard)
    big_l = _person_years(lx, model.a0)
    starts = np.asarray(GROUP_STARTS)
    ends = np.append(starts[1:], _LT_AGES - 1)
    cum_l = np.concatenate([np.zeros(big_l.shape[:-1] + (1,)), np.cumsum(big_l, axis=-1)], axis=-1)
    person_years = cum_l[..., ends] - cum_l[..., starts]
    deaths = lx[..., starts] - np.where(ends < _LT_AGES - 1, lx[..., np.minimum(ends, _LT_AGES - 1)], 0.0)
    return deaths / person_years


def _e0_both(model: _MortalityModel, k: np.ndarray, srb: float) -> np.ndarray:
    """Life expectancy of both sexes (weighted by the sex ratio at birth) for levels k (..., 2)."""
    e = model.e0(k)
    return (srb * e[..., 0] + 100.0 * e[..., 1]) / (100.0 + srb)


def _bisect(fn: Any, target: np.ndarray, lo: float, hi: float, increasing: bool) -> np.ndarray:
    """Vectorised bisection of a monotone function of x on [lo, hi] for fn(x) = target."""
    a = np.full(target.shape, lo)
    b = np.full(target.shape, hi)
    for _ in range(_FIT_STEPS):
        mid = 0.5 * (a + b)
        above = fn(mid) > target
        go_left = above if increasing else ~above
        b = np.where(go_left, mid, b)
        a = np.where(go_left, a, mid)
    return 0.5 * (a + b)


def _fit_mortality(
    model: _MortalityModel, k_std: np.ndarray, groups: np.ndarray, cdr: np.ndarray, srb: float,
    band: tuple[float, float], codes: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """County mortality multipliers m (C,) so that the census population dies at its census rate.

    Deaths = Σ_sex,group census persons × central death rate of the group in the life table of
    level ``k_std[sex] × m``; ``m`` is found by bisection on log m.  Where the fit's e0
    (both sexes) falls outside ``band`` it is set to the band's edge (flagged).  Raises
    :class:`FitError` naming the county when a fit inside the band misses its tolerance.
    """
    pop = groups.sum(axis=(-2, -1))
    target = cdr * 1e-3 * pop

    def deaths(logm: np.ndarray) -> np.ndarray:
        k = k_std[None, :] * np.exp(logm)[:, None]
        return (groups * _group_death_rates(model, k)).sum(axis=(-2, -1))

    logm = _bisect(deaths, target, -8.0, 4.0, increasing=True)
    e_lo, e_hi = band

    def e0_of(logm: np.ndarray) -> np.ndarray:
        return _e0_both(model, k_std[None, :] * np.exp(logm)[:, None], srb)

    # the band's levels are the same for every county (one standard table)
    logm_max = _bisect(e0_of, np.array([e_lo]), -8.0, 4.0, increasing=False)  # highest mortality
    logm_min = _bisect(e0_of, np.array([e_hi]), -8.0, 4.0, increasing=False)  # lowest mortality
    bounded = (logm < logm_min) | (logm > logm_max) | (target <= 0)
    logm = np.where(target <= 0, logm_min, np.clip(logm, logm_min, logm_max))
    achieved = deaths(logm)
    with np.errstate(invalid="ignore", divide="ignore"):
        miss = ~bounded & (np.abs(achieved / target - 1.0) > FIT_TOLERANCE)
    if miss.any():
        raise FitError([Problem(f"census:{codes[i]}", f"the mortality fit reaches a death rate of "
                                f"{achieved[i] / pop[i] * 1e3:.4f}‰ against the census {cdr[i]:.4f}‰ "
                                f"(tolerance {FIT_TOLERANCE:g} relative)") for i in np.flatnonzero(miss)])
    return np.exp(logm), bounded


def _absent_profile(resident: np.ndarray, national: np.ndarray, registered_total: np.ndarray, gap: np.ndarray,
                    lo: int, hi: int) -> np.ndarray:
    """Age-sex profile (C, 2, A), summing to 1, of the net absent (registered − resident) persons.

    A county whose registered population exceeds its residents (people away) lacks residents
    where those people would be: its deficit at each age and sex against the national age
    structure (the nation has no net internal migration) scaled to the registered total,
    ``max(0, national share × registered total − resident)``, over ages ``lo``..``hi`` (people
    away for work and study; children stay with their grandparents, the old at home).  A
    county with more residents than registered people (people present from elsewhere) uses
    its surplus ``max(0, resident − national share × registered total)`` instead.  Where there
    is no such deficit (or surplus) the profile is flat over ``lo``..``hi``.
    """
    share = national / max(national.sum(), 1e-300)  # (2, A)
    expected = share[None] * registered_total[:, None, None]
    diff = np.where(gap[:, None, None] >= 0, expected - resident, resident - expected)
    ages = np.arange(resident.shape[-1])
    window = (ages >= lo) & (ages <= hi)
    d = np.where(window, np.maximum(diff, 0.0), 0.0)
    total = d.sum(axis=(1, 2), keepdims=True)
    flat = np.broadcast_to(window / (2.0 * window.sum()), d.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, d / np.where(total > 0, total, 1.0), flat)


def _policy_add(g: dict[str, np.ndarray]) -> np.ndarray:
    """TFR added by the fertility policies in force on 1 January of each year (N, T) [child/woman]."""
    total = np.zeros_like(g["fertility.policy.response"])
    for name in ("selective_two_child", "universal_two_child", "three_child"):
        total = total + g["fertility.policy." + name] * g["fertility.policy." + name + "_effect"]
    return g["fertility.policy.response"] * total


def _shift(
    pop: np.ndarray, frac: float, asm: _Assumptions, fm: np.ndarray, mm: np.ndarray, model: _MortalityModel,
    year: int, mig: np.ndarray, backwards: bool,
) -> np.ndarray:
    """Move a population (B, C, 2, A) by a fraction of a year with the engine's own step.

    Linear in time between the population and its image one whole step later (forward) or
    earlier (backward, the inverse step): ``P(t ± f) = (1 − f) P(t) + f P(t ± 1)``.
    """
    if frac <= 0:
        return pop
    other = _step_back(pop, asm, fm, mm, model, year, mig) if backwards else \
        _kernel(pop, np.zeros(pop.shape[:2]), asm, fm, mm, model, 1, np.array([year]), mig[:, [year]])["pop"][:, 1]
    return (1.0 - frac) * pop + frac * other


def _step_back(
    p_next: np.ndarray, asm: _Assumptions, fm: np.ndarray, mm: np.ndarray, model: _MortalityModel, year: int,
    mig: np.ndarray,
) -> np.ndarray:
    """Inverse of one step of :func:`_kernel`: the population a year earlier that steps to ``p_next``.

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
        fwd = _kernel(x, np.zeros(x.shape[:2]), asm, fm, mm, model, 1, np.array([year]), mig[:, [year]])["pop"][:, 1]
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


def _resident_migration(codes: np.ndarray, rows: CountyRows, natural_increase: np.ndarray,
                        census_year: int) -> tuple[np.ndarray, np.ndarray]:
    """Net migration rate of the resident population per county, 2000–2010 residual [per mille/year].

    ``ln(P2010 / P2000) / 10 − natural increase``, with the resident totals of the 2000 and 2010
    censuses (``qzfp/data/reference/quzhou_counties.csv``) and the county's fitted natural
    increase (births by reverse survival minus deaths of the fitted life table, per 1,000
    residents), taken as the decade's mean.  A boundary pair (Kecheng and Qujiang) gets the rate
    of the pair.  Counties without 2000 figures, and every county of a census other than
    2010's, get 0; the second array says which source each rate has.
    """
    table = _intercensal() if census_year == 2010 else {}
    rate = np.zeros(len(codes))
    source = np.full(len(codes), "none (assumed 0)", dtype=object)
    idx = {str(c): i for i, c in enumerate(codes)}
    for i, c in enumerate(str(x) for x in codes):
        if c not in table:
            continue
        group = next((g for g in _BOUNDARY_GROUPS if c in g and all(x in idx for x in g)), (c,))
        members = [idx[x] for x in group]
        w = rows.resident[members] / rows.resident[members].sum()
        p0, p1 = table[c]
        rate[i] = np.log(p1 / p0) / _INTERCENSAL_YEARS * 1e3 - float(w @ natural_increase[members])
        source[i] = "residual 2000-2010" + (" (" + "+".join(group) + ")" if len(group) > 1 else "")
    return rate, source


@lru_cache(maxsize=8)
def _default_first_rows(years: tuple[int, ...]) -> dict[str, np.ndarray]:
    """First rows (1, T) of :func:`demography_param_arrays` (read-only), cached per years:
    building them from the rulebook takes longer than a whole city projection."""
    default = demography_param_arrays(np.asarray(years, dtype=int))
    rows = {}
    for p in DEMOGRAPHY_PATHS:
        row = np.array(default[p][:1], dtype=float)
        row.flags.writeable = False
        rows[p] = row
    return rows


#: Parameters read only by the fit of the base (from the scenario's first parameter set and
#: start year); every other assumption of the base is the packaged rulebook's.
BASE_PATHS = tuple(_P + p for p in (
    "mortality.county_e0_min",
    "mortality.county_e0_max",
    "migration.absent_min_age",
    "migration.absent_max_age",
))


def _census_assumptions(years: np.ndarray, base: dict[str, float]) -> tuple[dict[str, np.ndarray], _Assumptions]:
    rows = dict(_default_first_rows(tuple(int(y) for y in years)))
    for path, value in base.items():
        rows[path] = np.full((1, len(years)), float(value))
    return rows, _assumptions(ParamArrays(years, rows), "medium")


def _base_values(pa: ParamArrays | None) -> dict[str, float]:
    """The base-fit parameters of the first parameter set at the start year (rulebook when None)."""
    if pa is None:
        return {}
    return {p: float(pa[p][0, 0]) for p in BASE_PATHS if p in pa}


def _calibrate(prep: _Prepared, census: Census, start: int, base: dict[str, float] | None = None) -> Calibration:
    """The observed base population of every county at 1 January of ``start``.

    With the demographic assumptions of the packaged rulebook (the base is an observation,
    not a what-if; a scenario's overrides act from the start year on), except the fit's own
    parameters :data:`BASE_PATHS` (``base``, from the scenario):

    1. the census row of each county (or its prefecture, province, nation);
    2. mortality: the standard life table (rulebook e0 of the census year) times a county
       multiplier fitted to the census death rate on the census population;
    3. single years of age by :func:`qzfp.register.census.split_single_years`, the 85+ group by the
       fitted life table;
    4. fertility: the TFR at which the rulebook age pattern applied to the census women gives
       the census births;
    5. registered = resident + (registered − resident) by a migrant-stock age profile;
    6. both moved from the census moment to the start by the engine's own step (backwards
       with its inverse), resident with the 2000–2010 residual migration, registered with
       ``migration.net_rate``; registered scaled to the register's county totals.
    """
    base = base or {}
    key = hashlib.sha256(f"{prep.key}|{census.sha256}|{census.date}|{start}|{sorted(base.items())}".encode()).hexdigest()
    if key in _CAL_CACHE:
        return _CAL_CACHE[key]
    cy = census.date.year
    years = np.arange(min(start, cy - _FERT_WINDOW), max(start, cy) + 2)
    row0, asm = _census_assumptions(years, base)
    model = _mortality_from(ParamArrays(years, row0))
    yi = int(cy - years[0])
    codes = prep.county_codes
    c = len(codes)
    rows = census.lookup(codes)
    srb = float(asm.srb[0, yi])
    k_std = model.level(asm.e0[0, yi])  # (2,)
    band = (float(row0[_P + "mortality.county_e0_min"][0, yi]), float(row0[_P + "mortality.county_e0_max"][0, yi]))
    mort, bounded = _fit_mortality(model, k_std, rows.groups, rows.death_rate, srb, band, codes)
    k = k_std[None, :] * mort[:, None]  # (C, 2)
    lx = np.exp(-k[..., None] * model.hazard)
    tail = _person_years(lx, model.a0)[..., 85:]  # (C, 2, 46)
    resident = split_single_years(rows.groups, tail)  # (C, 2, A) at the census moment
    # births: reverse survival of the children aged 1-4 at the census (the births of the four
    # years before it); the census counts of age 0 and the census-year births are under-reported
    big_l = _person_years(lx, model.a0)  # (C, 2, 131)
    sexw = np.array([srb, 100.0]) / (100.0 + srb)
    births = rows.groups[:, :, 1].sum(axis=1) / (big_l[:, :, 1:5].sum(axis=-1) @ sexw)
    problems = [Problem(f"census:{codes[i]}", "no children aged 1-4 in the census row: births cannot be estimated "
                        "(reverse survival)") for i in np.flatnonzero(~(births > 0))]
    problems += [Problem(f"census:{codes[i]}", f"registered total {rows.registered[i]:,.0f} is not positive")
                 for i in np.flatnonzero(~(rows.registered > 0))]
    if problems:
        raise FitError(problems)
    # registered: the resident population plus the net absent (registered − resident) with the
    # age-sex profile of the county's own deficit (or surplus) of working-age residents against
    # the national age structure (see _absent_profile)
    lo_age = int(round(float(row0[_P + "migration.absent_min_age"][0, yi])))
    hi_age = int(round(float(row0[_P + "migration.absent_max_age"][0, yi])))
    if not 0 <= lo_age <= hi_age <= AGES - 1:
        raise ParameterError(Problem(_P + "migration.absent_min_age",
                                     f"ages {lo_age}..{hi_age}: expected 0 <= absent_min_age <= absent_max_age <= 100"))
    notes: list[str] = []
    source_table = census
    if not (census.levels == "province").any():
        source_table = default_census()
        notes.append(NOTE_NO_PROVINCE_ROWS)
    national = split_single_years(source_table.lookup(np.array(["000000"])).groups, tail[:1].mean(axis=0))[0]
    gap = rows.registered - rows.resident
    registered = np.maximum(resident + gap[:, None, None] * _absent_profile(resident, national, rows.registered, gap,
                                                                            lo_age, hi_age), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        registered *= np.where(registered.sum(axis=(1, 2)) > 0,
                               rows.registered / registered.sum(axis=(1, 2)), 0.0)[:, None, None]
    # both populations as one stack of 2C "counties": registered first, then resident
    fitted_cdr = (rows.groups * _group_death_rates(model, k)).sum(axis=(1, 2)) / rows.resident * 1e3
    res_mig, mig_source = _resident_migration(codes, rows, births / rows.resident * 1e3 - fitted_cdr, cy)
    if cy != 2010:
        notes.append(NOTE_NO_EARLIER_CENSUS)
    if abs(start - census.year_fraction) > FAR_FROM_CENSUS_YEARS:
        notes.append(NOTE_FAR_FROM_CENSUS)
    t = len(years)
    mig = np.concatenate([np.broadcast_to(asm.mig_rate[:, :, None], (1, t, c)),
                          asm.res_adj[:, :, None] + res_mig[None, None, :]], axis=2)
    mm2 = np.concatenate([mort, mort])
    census_pop = np.concatenate([registered, resident])[None]  # (1, 2C, 2, A)
    tau = census.year_fraction
    # backwards from the census to 1 January of each earlier year (fertility plays no part:
    # everyone alive then is aged 1+ at the census)
    no_fert = np.zeros(2 * c)
    back = {cy: _shift(census_pop, tau - cy, asm, no_fert, mm2, model, yi, mig, backwards=True)}
    for y in range(cy - 1, min(start, cy - _FERT_WINDOW) - 1, -1):
        back[y] = _step_back(back[y + 1], asm, no_fert, mm2, model, y - int(years[0]), mig)
    # fertility: the TFR at which the rulebook age pattern applied to each population's women,
    # averaged over the years the children aged 1-4 at the census were born, gives their births
    # (reverse survival of each population's own children aged 1-4)
    exposure = np.mean([back[y][0, :, 1, 15:50] for y in range(cy - _FERT_WINDOW, cy)], axis=0)  # (2C, 35)
    births_reg = registered[:, :, 1:5].sum(axis=(1, 2)) / (big_l[:, :, 1:5].sum(axis=-1) @ sexw)
    tfr = np.empty((2, c))
    for b, (women, nb) in enumerate(((exposure[:c], births_reg), (exposure[c:], births))):
        wpat = women @ asm.pattern[0, yi]
        bad = (wpat <= 0) | ~np.isfinite(nb)
        if bad.any():
            raise FitError([Problem(f"census:{codes[i]}", "no women aged 15-49 in the census row: the TFR cannot "
                                    "be fitted to its births") for i in np.flatnonzero(bad)])
        tfr[b] = nb / wpat
    # the fitted TFR includes the policies in force in the census year; the multiplier is of the
    # city TFR without them (the kernel adds the policy effects of each year)
    fert = np.maximum(tfr - asm.tfr_add[0, yi], 0.0) / float(asm.tfr[0, yi])
    fm2 = fert.reshape(-1)
    if start > tau:
        pop = _shift(census_pop, cy + 1 - tau, asm, fm2, mm2, model, yi, mig, backwards=False)
        for y in range(cy + 1, start):
            pop = _kernel(pop, np.zeros(pop.shape[:2]), asm, fm2, mm2, model, 1, np.array([y - years[0]]),
                          mig[:, [y - years[0]]])["pop"][:, 1]
    else:
        pop = back[start]
    reg_start, res_start = pop[0, :c], pop[0, c:]
    tot = reg_start.sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(tot > 0, prep.county_pop0 / np.where(tot > 0, tot, 1.0), 0.0)
    achieved = np.stack([births / rows.resident * 1e3, fitted_cdr], axis=1)
    cal = Calibration(
        base_pop=reg_start * factor[:, None, None],
        # a county without its own census row has its area's row: scale its residents by the
        # same factor as its registered people (the area's resident/registered ratio is kept)
        base_resident=res_start * np.where(rows.source == "county", 1.0, factor)[:, None, None],
        fert_mult=fert,
        mort_mult=mort,
        tfr=tfr.T,
        e0=model.e0(k),
        e0_bounded=bounded,
        resident_migration=res_mig,
        migration_source=mig_source,
        notes=tuple(notes),
        register_factor=factor,
        census_registered=rows.registered,
        census_resident=rows.resident,
        census_groups=rows.groups,
        census_base=np.stack([registered, resident]),
        ceb=rows.ceb,
        target=np.stack([rows.birth_rate, rows.death_rate], axis=1),
        achieved=achieved,
        source=rows.source,
        census=census,
        year=cy,
    )
    if len(_CAL_CACHE) > 64:
        _CAL_CACHE.clear()
    _CAL_CACHE[key] = cal
    return cal


def calibrate(register: Any, pa: ParamArrays | None = None, census: Census | None = None) -> Calibration:
    """Observed base population and fitted county rates for a register (cached).

    Parameters
    ----------
    register : Register
        Register whose village populations give the registered county totals at the start.
    pa : ParamArrays, optional
        Only its first year is read (the start year); the register's year when omitted.
    census : Census, optional
        Census table; the shipped 2010 table when omitted.

    Returns
    -------
    Calibration
    """
    start = int(pa.years[0]) if pa is not None else int(register.year)
    census = census or getattr(register, "census", None) or default_census()
    return _calibrate(_prepare(register), census, start, _base_values(pa))


# --------------------------------------------------------------------------------------
# Results and allocation below the county
# --------------------------------------------------------------------------------------


@dataclass
class PopulationResult:
    """Projected population of counties, townships and villages.

    Attributes
    ----------
    years : numpy.ndarray
        (T,) calendar years; stocks at 1 January, flows during the year.
    register : Register
        The register projected.
    county_pop : numpy.ndarray
        (N, T, C, 2, A) persons by sex (0 male, 1 female) and single age 0..100+.
    county_births : numpy.ndarray
        (N, T, C, 2) births by sex [person/year].
    county_deaths, county_net_migration : numpy.ndarray
        (N, T, C, 2, A) deaths and net migrants during the year by sex and age at the end
        of the year (age 0 = born in the year) [person/year].
    county_in_migrants : numpy.ndarray
        (N, T, C) in-migrant (floating population) stock, not included in ``county_pop``
        [person].
    variant : str
        Projection variant.
    calibration : Calibration
        Base population and county multipliers used.
    quantiles : tuple of float
        For results of :func:`percentiles`: the percentile of each of the N rows.

    Notes
    -----
    Township and village arrays (``township_pop``, ``village_births`` …, shape (N, T, S) and
    (N, T, V), floats: village values are fractional persons) are computed on first access
    and cached; for large Monte Carlo runs use :func:`percentiles`, which computes them one
    county at a time.
    """

    years: np.ndarray
    register: Any
    variant: str = "medium"
    calibration: Calibration | None = None
    census: Census | None = None
    quantiles: tuple = ()
    _arrays: dict = field(default_factory=dict, repr=False)
    _prep: Any = field(default=None, repr=False)
    _alloc: dict = field(default_factory=dict, repr=False)
    _end_pop: np.ndarray | None = field(default=None, repr=False)
    _county_ind: dict = field(default_factory=dict, repr=False)
    _city_ind: dict = field(default_factory=dict, repr=False)
    _below: dict = field(default_factory=dict, repr=False)
    _source: Any = field(default=None, repr=False)
    _resident: Any = field(default=None, repr=False)

    # -- county arrays (computed lazily for percentile results) ---------------------------
    def _county_array(self, name: str) -> np.ndarray:
        if name not in self._arrays:
            if self._source is not None:
                self._arrays[name] = np.percentile(getattr(self._source, name), self.quantiles, axis=0)
            elif name.endswith("_resident") and self._resident is not None:
                asm, model = self._resident
                self._arrays.update(_project_resident(self.calibration, asm, model, len(self.years)))
        return self._arrays[name]

    @property
    def county_pop(self) -> np.ndarray:
        """(N, T, C, 2, A) persons at 1 January by sex (0 male, 1 female) and age 0..100+."""
        return self._county_array("county_pop")

    @property
    def county_births(self) -> np.ndarray:
        """(N, T, C, 2) births during the year by sex [person/year]."""
        return self._county_array("county_births")

    @property
    def county_deaths(self) -> np.ndarray:
        """(N, T, C, 2, A) deaths during the year by sex and age at the end of the year [person/year]."""
        return self._county_array("county_deaths")

    @property
    def county_net_migration(self) -> np.ndarray:
        """(N, T, C, 2, A) net migrants during the year by sex and age at the end of the year [person/year]."""
        return self._county_array("county_net_migration")

    @property
    def county_in_migrants(self) -> np.ndarray:
        """(N, T, C) in-migrant stock at 1 January, not part of ``county_pop`` [person]."""
        return self._county_array("county_in_migrants")

    @property
    def county_pop_resident(self) -> np.ndarray:
        """(N, T, C, 2, A) resident (常住) persons at 1 January by sex and age."""
        return self._county_array("county_pop_resident")

    @property
    def county_births_resident(self) -> np.ndarray:
        """(N, T, C, 2) births to the resident population during the year [person/year]."""
        return self._county_array("county_births_resident")

    @property
    def county_deaths_resident(self) -> np.ndarray:
        """(N, T, C, 2, A) deaths of the resident population [person/year]."""
        return self._county_array("county_deaths_resident")

    @property
    def county_net_migration_resident(self) -> np.ndarray:
        """(N, T, C, 2, A) net migrants of the resident population [person/year]."""
        return self._county_array("county_net_migration_resident")

    @property
    def county_codes(self) -> np.ndarray:
        """(C,) county codes in the order of the county axis."""
        return self._prep.county_codes

    @property
    def e0_assumed(self) -> np.ndarray:
        """(N, T, 2) life expectancy at birth of the standard table by path, year and sex [year]
        (county levels are these times their fitted multiplier)."""
        return self._county_array("e0_assumed")

    def population_age(self, draw: int | None = None, *, percentile: float | None = None) -> pd.DataFrame:
        """Tidy age table: ``year, county_code, basis, sex, age, persons``.

        ``basis`` is ``registered`` (户籍, what the register and the rules count) or
        ``resident`` (常住, what the census counts); ``sex`` is ``male``/``female``; ``age``
        the single year of age at 1 January, 100 standing for 100+.
        """
        i = self._draw(draw, percentile)
        years = np.asarray(self.years)
        codes = self._prep.county_codes
        arrs = [self.county_pop[i], self.county_pop_resident[i]]  # (T, C, 2, A) each
        stacked = np.stack(arrs, axis=2)  # (T, C, basis, sex, A)
        t, c, b, sx, a = stacked.shape
        idx = np.indices((t, c, b, sx, a)).reshape(5, -1)
        return pd.DataFrame({
            "year": years[idx[0]],
            "county_code": codes[idx[1]],
            "basis": np.asarray(BASES, dtype=object)[idx[2]],
            "sex": np.asarray(("male", "female"), dtype=object)[idx[3]],
            "age": idx[4],
            "persons": stacked.reshape(-1),
        })

    @property
    def n(self) -> int:
        """Number of parameter sets / paths N."""
        return len(self.quantiles) if self._source is not None else int(self._arrays["county_pop"].shape[0])

    # -- county and city indicators -------------------------------------------------
    def county_indicators(self, *, resident: bool = False) -> dict[str, np.ndarray]:
        """Indicators (N, T, C) per county: ``pop``, ``aged_60plus``, ``women_15_49``, …

        With ``resident=True`` also ``resident_pop`` and ``resident_aged_60plus`` (computed on
        first request: they run the resident projection).
        """
        if "pop" not in self._county_ind and self._source is None:
            p = self.county_pop
            self._county_ind.update(
                pop=p.sum(axis=(-2, -1)),
                aged_60plus=p[..., 60:].sum(axis=(-2, -1)),
                women_15_49=p[..., 1, 15:50].sum(axis=-1),
                births=self.county_births.sum(axis=-1),
                deaths=self.county_deaths.sum(axis=(-2, -1)),
                net_migration=self.county_net_migration.sum(axis=(-2, -1)),
                in_migrants=self.county_in_migrants,
            )
        if resident and "resident_pop" not in self._county_ind:
            if self._source is not None:
                src = self._source.county_indicators(resident=True)
                for k in _RESIDENT_INDICATORS:
                    self._county_ind[k] = np.percentile(src[k], self.quantiles, axis=0)
            else:
                self._county_ind["resident_pop"] = self.county_pop_resident.sum(axis=(-2, -1))
                self._county_ind["resident_aged_60plus"] = self.county_pop_resident[..., 60:].sum(axis=(-2, -1))
        return self._county_ind

    def city_indicators(self, *, resident: bool = False) -> dict[str, np.ndarray]:
        """Indicators (N, T) of the whole city (sum of the counties of each path); the
        resident ones with ``resident=True``."""
        if "pop" not in self._city_ind:
            cind = self.county_indicators()
            self._city_ind.update({k: cind[k].sum(axis=-1) for k in _BASE_INDICATORS})
        if resident and "resident_pop" not in self._city_ind:
            if self._source is not None:
                src = self._source.city_indicators(resident=True)
                for k in _RESIDENT_INDICATORS:
                    self._city_ind[k] = np.percentile(src[k], self.quantiles, axis=0)
            else:
                cind = self.county_indicators(resident=True)
                for k in _RESIDENT_INDICATORS:
                    self._city_ind[k] = cind[k].sum(axis=-1)
        return self._city_ind

    @property
    def city_pop(self) -> np.ndarray:
        """(N, T, 2, A) city population by sex and age [person]."""
        return self.county_pop.sum(axis=2)

    # -- below the county --------------------------------------------------------------
    def _compute_below(self, indicator: str) -> None:
        if ("village", indicator) in self._below:
            return
        if self._source is None:
            inds = _BASE_INDICATORS if indicator in ("pop", "births", "deaths", "net_migration") else (indicator,)
            if indicator == "resident_pop":
                inds = ("pop", "resident_pop")
            elif indicator == "resident_aged_60plus":
                inds = ("aged_60plus", "resident_aged_60plus")
            cind = self.county_indicators(resident=indicator in _RESIDENT_INDICATORS)
            v, s = _allocate(self._prep, self._alloc, cind, self._end_pop, inds)
        else:
            cind = self.county_indicators(resident=indicator in _RESIDENT_INDICATORS)
            v, s = _percentile_below(self._source, self.quantiles, cind, indicator)
        for k in v:
            self._below[("village", k)] = v[k]
            self._below[("township", k)] = s[k]

    def village(self, indicator: str) -> np.ndarray:
        """Village array (N, T, V) of an indicator of :data:`INDICATORS` [person or person/year].

        Computed on first access and cached.  Values are fractional persons (floats).
        """
        if indicator not in INDICATORS:
            raise KeyError(f"unknown indicator {indicator!r}; expected one of {INDICATORS}")
        self._compute_below(indicator)
        return self._below[("village", indicator)]

    def township(self, indicator: str) -> np.ndarray:
        """Township array (N, T, S) of an indicator (sum of its villages)."""
        if indicator not in INDICATORS:
            raise KeyError(f"unknown indicator {indicator!r}; expected one of {INDICATORS}")
        self._compute_below(indicator)
        return self._below[("township", indicator)]

    def __getattr__(self, name: str) -> Any:
        for level in ("village_", "township_"):
            if name.startswith(level) and name[len(level):] in INDICATORS:
                return getattr(self, level[:-1])(name[len(level):])
        if name.startswith("city_") and name[5:] in INDICATORS:
            return self.city_indicators(resident=name[5:] in _RESIDENT_INDICATORS)[name[5:]]
        raise AttributeError(name)

    # -- tidy tables ---------------------------------------------------------------------
    def _draw(self, draw: int | None, percentile: float | None) -> int:
        if percentile is not None:
            if percentile not in self.quantiles:
                raise KeyError(f"percentile {percentile} not held; have {self.quantiles} (use percentiles())")
            return self.quantiles.index(percentile)
        if draw is None:
            if self.n != 1:
                raise ValueError(f"{self.n} parameter sets: pass draw= (or use percentiles())")
            return 0
        return int(draw)

    def _table(self, get: Any, codes: dict[str, np.ndarray], i: int) -> pd.DataFrame:
        t = len(self.years)
        m = len(next(iter(codes.values())))
        out = {"year": np.repeat(np.asarray(self.years), m)}
        for col, vals in codes.items():
            out[col] = np.tile(vals, t)
        for ind in INDICATORS:
            out[_TABLE_COLUMNS[ind]] = get(ind)[i].reshape(-1)
        return pd.DataFrame(out)

    def villages(self, draw: int | None = None, *, percentile: float | None = None) -> pd.DataFrame:
        """Tidy village table: ``year, village_code, township_code, county_code`` + indicators."""
        i = self._draw(draw, percentile)
        p = self._prep
        return self._table(
            self.village,
            {
                "village_code": p.village_codes,
                "township_code": p.township_codes[p.v_township],
                "county_code": p.county_codes[p.v_county],
            },
            i,
        )

    def townships(self, draw: int | None = None, *, percentile: float | None = None) -> pd.DataFrame:
        """Tidy township table: ``year, township_code, county_code`` + indicators."""
        i = self._draw(draw, percentile)
        p = self._prep
        return self._table(
            self.township,
            {"township_code": p.township_codes, "county_code": p.county_codes[p.t_county]},
            i,
        )

    def counties(self, draw: int | None = None, *, percentile: float | None = None) -> pd.DataFrame:
        """Tidy county table: ``year, county_code`` + indicators."""
        i = self._draw(draw, percentile)
        return self._table(self.county_indicators(resident=True).__getitem__, {"county_code": self._prep.county_codes},
                           i)

    def city(self, draw: int | None = None, *, percentile: float | None = None) -> pd.DataFrame:
        """Tidy city table: ``year`` + indicators (sum of the counties)."""
        i = self._draw(draw, percentile)
        ind = self.city_indicators(resident=True)
        out = {"year": np.asarray(self.years)}
        for k in INDICATORS:
            out[_TABLE_COLUMNS[k]] = ind[k][i]
        return pd.DataFrame(out)


def _allocation_params(pa: ParamArrays, t: int) -> dict[str, np.ndarray]:
    """Class growth factors G (Na, T+1, 3) and class indicator factors (Na, T, 3)."""
    g = np.stack(
        [pa[_P + "allocation.urban_differential"], pa[_P + "allocation.rural_differential"],
         pa[_P + "allocation.remote_differential"]],
        axis=-1,
    )
    growth = np.ones((g.shape[0], t + 1, 3))
    growth[:, 1:] = np.cumprod(1.0 + g, axis=1)
    out = {"growth": growth}
    for ind, path in (("aged_60plus", "rural_factor_60plus"), ("women_15_49", "rural_factor_women_15_49"),
                      ("births", "rural_factor_births"), ("deaths", "rural_factor_deaths")):
        f = np.asarray(pa[_P + "allocation." + path], dtype=float)
        out[ind] = np.stack([np.ones_like(f), f, f], axis=-1)
    return out


def _allocate(
    prep: _Prepared,
    alloc: dict[str, np.ndarray],
    cind: dict[str, np.ndarray],
    end_pop: np.ndarray | None,
    indicators: Sequence[str] = INDICATORS,
    counties: Sequence[int] | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Village and township indicators for the villages of some counties (all by default).

    Village stocks are ``P_v(t) = P_c(t) pop0_v G_k(t) / sum_{u in c} pop0_u G_k(u)(t)``
    (shares drifting with the class growth factor G and renormalised per county); indicator
    X of the county goes to villages in proportion to ``P_v(t) phi_k`` (phi = 1 for urban,
    the rural factor otherwise); village net migration is the balance residual
    ``P_v(t+1) - P_v(t) - B_v + D_v``; the in-migrant stock is shared by the register's
    in-migrants.  Townships are sums of their villages.

    Parameters
    ----------
    cind : dict
        County indicators (N, T, C).
    end_pop : (N, C) county population at 1 January after the last year, or None (then the
        last year's stock is used, which only affects the last year's net migration).
    indicators : which indicators to return (``net_migration`` also needs pop/births/deaths).
    counties : county indices whose villages and townships are computed (all when None).
    """
    if counties is None:
        vsel = np.arange(len(prep.v_pop0))
        tsel = np.arange(len(prep.township_codes))
    else:
        vsel = np.concatenate([prep.county_villages[i] for i in counties] + [np.zeros(0, np.intp)])
        tsel = np.concatenate([prep.county_townships[i] for i in counties] + [np.zeros(0, np.intp)])
    want = set(indicators)
    if "net_migration" in want:
        want |= {"pop", "births", "deaths"}
    if "resident_pop" in want:
        want.add("pop")
    if "resident_aged_60plus" in want:
        want.add("aged_60plus")
    vc = prep.v_county[vsel]
    vk = prep.v_class[vsel]
    pop0 = prep.v_pop0[vsel]
    growth = alloc["growth"]  # (Na, T+1, 3)
    t = growth.shape[1] - 1
    weight = pop0 * growth[..., vk]  # (Na, T+1, Vs)
    village: dict[str, np.ndarray] = {}
    if "pop" in want:
        denom = growth @ prep.class_pop0.T  # (Na, T+1, C)
        pc = cind["pop"]
        pend = end_pop if end_pop is not None else pc[:, -1]
        pc_all = np.concatenate([pc, pend[:, None]], axis=1)  # (N, T+1, C)
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = np.where(denom > 0, pc_all / np.where(denom > 0, denom, 1.0), 0.0)
        # start year: the county base sums to the register total up to rounding; snap so that
        # every village starts with exactly its register population (thresholds like 500)
        scale[:, 0] = np.where(np.abs(scale[:, 0] - 1.0) <= 1e-9, 1.0, scale[:, 0])
        pv_all = scale[..., vc] * weight  # (N, T+1, Vs)
        village["pop"] = pv_all[:, :t]
    for ind in ("aged_60plus", "women_15_49", "births", "deaths"):
        if ind not in want:
            continue
        phi = alloc[ind]  # (Na, T, 3)
        e = np.einsum("ntk,ck->ntc", growth[:, :t] * phi, prep.class_pop0)  # (Na, T, C)
        with np.errstate(invalid="ignore", divide="ignore"):
            sc = np.where(e > 0, cind[ind] / np.where(e > 0, e, 1.0), 0.0)
        village[ind] = sc[..., vc] * (weight[:, :t] * phi[..., vk])
    if "net_migration" in want:
        village["net_migration"] = pv_all[:, 1:] - pv_all[:, :-1] - village["births"] + village["deaths"]
    if "in_migrants" in want:
        village["in_migrants"] = cind["in_migrants"][..., vc] * prep.v_inm_share[vsel]
    # resident indicators: each village gets its county's resident/registered ratio
    for res, reg in (("resident_pop", "pop"), ("resident_aged_60plus", "aged_60plus")):
        if res in want:
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = np.where(cind[reg] > 0, cind[res] / np.where(cind[reg] > 0, cind[reg], 1.0), 0.0)
            village[res] = village[reg] * ratio[..., vc]
    local_t = prep.v_township if counties is None else np.searchsorted(tsel, prep.v_township[vsel])
    township = {k: group_sum(v, local_t, len(tsel)) for k, v in village.items()}
    return village, township


def _percentile_below(
    source: PopulationResult, q: tuple, cind_q: dict[str, np.ndarray], indicator: str
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Village and township percentiles of one indicator over the paths of ``source``.

    When the allocation parameters are the same for all paths (always so for Monte Carlo),
    every indicator except net migration is the county value times a path-independent
    coefficient, so its percentiles are the county percentiles allocated (exact).  Net
    migration (a balance residual) and sweeps with varying allocation parameters are
    computed path by path one county at a time, which bounds memory by the largest county.
    """
    prep = source._prep
    if source._alloc["growth"].shape[0] == 1 and indicator not in ("net_migration", "resident_pop",
                                                                       "resident_aged_60plus"):
        return _allocate(prep, source._alloc, cind_q, None, (indicator,))
    t = len(source.years)
    cind = source.county_indicators(resident=indicator in _RESIDENT_INDICATORS)
    v_out = np.zeros((len(q), t, len(prep.v_pop0)))
    s_out = np.zeros((len(q), t, len(prep.township_codes)))
    for i in range(len(prep.county_codes)):  # a handful of counties, each vectorised
        vsel = prep.county_villages[i]
        if len(vsel) == 0:
            continue
        v, s = _allocate(prep, source._alloc, cind, source._end_pop, (indicator,), (i,))
        v_out[..., vsel] = np.percentile(v[indicator], q, axis=0)
        s_out[..., prep.county_townships[i]] = np.percentile(s[indicator], q, axis=0)
    return {indicator: v_out}, {indicator: s_out}


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


def _stationary(prep: _Prepared, pa: ParamArrays, asm: _Assumptions, model: _MortalityModel) -> Calibration:
    """The stationary start of ``calibrate=False``: the start-year life table scaled to the
    register's county totals, multipliers 1, the same population as resident and registered."""
    c = len(prep.county_codes)
    k0 = model.level(asm.e0[0, 0])
    lx = np.exp(-k0[:, None] * model.hazard)
    big_l = _person_years(lx, model.a0)  # (2, 131)
    srb = float(asm.srb[0, 0])
    w = big_l * np.array([srb / (100.0 + srb), 100.0 / (100.0 + srb)])[:, None]
    w = np.concatenate([w[:, :100], w[:, 100:].sum(axis=-1, keepdims=True)], axis=-1)
    base = prep.county_pop0[:, None, None] * (w / w.sum())[None]
    nan2 = np.full((c, 2), np.nan)
    return Calibration(base, base.copy(), np.ones((2, c)), np.ones(c), np.full((c, 2), np.nan), np.broadcast_to(
        model.e0(k0), (c, 2)).copy(), np.zeros(c, bool), np.zeros(c), np.full(c, "none", dtype=object), (),
        np.ones(c), prep.county_pop0.copy(),
        prep.county_pop0.copy(), np.zeros((c, 2, 19)), np.stack([base, base]), np.full(c, np.nan), nan2,
        nan2.copy(), np.full(c, "stationary", dtype=object),
        None, int(pa.years[0]))


def _run(register: Any, pa: ParamArrays, asm: _Assumptions, variant: str, calibrate: bool,
         census: Census | None = None) -> PopulationResult:
    prep = _prepare(register)
    model = _mortality_from(pa)
    c = len(prep.county_codes)
    start = int(pa.years[0])
    census = census or getattr(register, "census", None) or default_census()
    cal = (_calibrate(prep, census, start, _base_values(pa)) if calibrate
           else _stationary(prep, pa, asm, model))
    n = asm.n
    t = len(pa.years)
    mig = np.broadcast_to(asm.mig_rate[:, :, None], asm.mig_rate.shape + (c,))
    out = _kernel(np.broadcast_to(cal.base_pop, (n,) + cal.base_pop.shape), np.broadcast_to(prep.county_inm0, (n, c)),
                  asm, np.asarray(cal.fert_mult)[0], cal.mort_mult, model, t, None, mig)
    return PopulationResult(
        years=np.asarray(pa.years),
        register=register,
        _arrays={
            "county_pop": out["pop"][:, :t],
            "county_births": out["births"],
            "county_deaths": out["deaths"],
            "county_net_migration": out["net_migration"],
            "county_in_migrants": out["in_migrants"][:, :t],
            "e0_assumed": np.broadcast_to(asm.e0, (n, t, 2)),
        },
        variant=variant,
        calibration=cal,
        census=cal.census,
        _prep=prep,
        _alloc=_allocation_params(pa, t),
        _end_pop=out["pop"][:, t].sum(axis=(-2, -1)),
        _resident=(asm, model),
    )


def _project_resident(cal: Calibration, asm: _Assumptions, model: _MortalityModel, t: int) -> dict[str, np.ndarray]:
    """The resident (常住) projection of a result: the same step from the resident base with the
    county's resident migration and fertility (run on first access of a resident array)."""
    n, c = asm.n, len(cal.mort_mult)
    mig = asm.res_adj[:, :, None] + cal.resident_migration[None, None, :]
    out = _kernel(np.broadcast_to(cal.base_resident, (n,) + cal.base_resident.shape), np.zeros((n, c)), asm,
                  np.asarray(cal.fert_mult)[1], cal.mort_mult, model, t, None, mig)
    return {"county_pop_resident": out["pop"][:, :t], "county_births_resident": out["births"],
            "county_deaths_resident": out["deaths"], "county_net_migration_resident": out["net_migration"]}


def project(register: Any, pa: ParamArrays, *, variant: str = "medium", calibrate: bool = True,
            census: Census | None = None) -> PopulationResult:
    """Cohort-component projection of every county, allocated to townships and villages.

    Parameters
    ----------
    register : Register
        Counties, townships and villages (``qzfp.register.Register`` or any object with the
        same tables and index arrays); village populations are persons at the start year.
    pa : ParamArrays
        Demographic assumptions (paths :data:`DEMOGRAPHY_PATHS`), N parameter sets.
    variant : {"medium", "low", "high", "constant"}
        UN-style fertility variant: low/high = TFR −/+ ``demography.fertility.variant_offset``;
        constant = TFR held at its start-year value.
    calibrate : bool
        Start from the observed census base with county fertility, mortality and migration
        fitted to the census (default).  ``False`` starts from the stationary population of
        the start-year life table with county multipliers 1 (for analytical checks).
    census : Census, optional
        Census table of the base (:func:`qzfp.register.census.load_census`); when omitted the
        register's ``census`` (set from a scenario's ``census`` key), else the shipped 2010 table.

    Returns
    -------
    PopulationResult
        Arrays with a leading axis N = ``pa.n``.

    Raises
    ------
    ParameterError
        A demographic assumption is missing or out of range (TFR < 0, e0 outside 20..100,
        SRB outside 90..130, …), or the variant is unknown; the problem names the parameter
        and the year.
    """
    asm = _assumptions(pa, variant)
    return _run(register, pa, asm, variant, calibrate, census)


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
        raise ParameterError(Problem("monte_carlo", f"expects one parameter set, got {pa.n}"))
    if n_paths < 1:
        raise ParameterError(Problem("mc_paths", f"expected at least 1 path, got {n_paths}"))
    asm = _assumptions(pa, variant)
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
    asm_mc = _Assumptions(
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
    return _run(register, pa, asm_mc, variant, calibrate, census)


def percentiles(result: PopulationResult | np.ndarray, q: Sequence[float] = (10, 50, 90)) -> Any:
    """Percentiles over the leading (path) axis.

    Parameters
    ----------
    result : PopulationResult or numpy.ndarray
        A Monte Carlo result, or any array with paths on axis 0.
    q : sequence of float
        Percentiles in 0..100.

    Returns
    -------
    numpy.ndarray or PopulationResult
        For an array: ``np.percentile(x, q, axis=0)`` (leading axis len(q)).  For a result: a
        :class:`PopulationResult` whose N rows are the percentiles (``quantiles`` = q).  Each
        indicator is taken separately at every level (so balance identities do not hold
        between percentiles).  Arrays are computed lazily on first access: county indicators
        at once (small), age-detailed county arrays, township and village arrays only when
        asked for (see :func:`_percentile_below`).
    """
    qt = tuple(float(x) for x in q)
    bad = [x for x in qt if not 0.0 <= x <= 100.0]
    if bad or not qt:
        raise ParameterError(Problem("percentiles", f"expected percentiles in 0..100, got {q}"))
    if not isinstance(result, PopulationResult):
        return np.percentile(np.asarray(result), qt, axis=0)
    r = result._source if result._source is not None else result
    if result._source is not None:
        raise ParameterError(Problem("percentiles", "the result already holds percentiles"))
    out = PopulationResult(
        years=r.years,
        register=r.register,
        variant=r.variant,
        calibration=r.calibration,
        census=r.census,
        quantiles=qt,
        _prep=r._prep,
        _alloc=r._alloc,
        _source=r,
    )
    out._county_ind.update({k: np.percentile(v, qt, axis=0) for k, v in r.county_indicators().items()})
    out._city_ind.update({k: np.percentile(v, qt, axis=0) for k, v in r.city_indicators().items()})
    return out
