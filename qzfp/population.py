"""Population engine: cohort-component projection by county, allocation to townships and villages.

The county projection works in single years of age 0..100+ by sex with annual steps
(``docs/population.md`` explains the method):

* fertility: TFR x a shifted-gamma age pattern (mean age and spread as parameters), births
  split by the sex ratio at birth;
* mortality: a Siler hazard with fixed shape whose level ``k`` is solved from e0 through a
  precomputed lookup table (``np.interp``), single-year survival ratios from the life table
  with the infant separation factor for the newborns of the year;
* migration: net migrants = rate x population x a Rogers-Castro age profile; the in-migrant
  (floating) population is a separate stock with its own inflow and outflow rates.

The base population of every county is built from birth cohorts whose size grows at r_old
per year of birth before a fertility transition year and at r_young from it on (with a
relative-size profile for the 1959-61 famine and the 1962-75 baby boom), times survival
from the life table.  Per county r_old, r_young and a fertility multiplier are solved
(vectorised Newton iteration) so that the projection reproduces the county's 2010 share aged
60+ and crude birth rate and the youngest base cohort continues into the first projected
births; mortality multipliers follow the 2010 crude death rates
(``qzfp/data/reference/quzhou_counties.csv``).  Below the county, village shares of the
county population drift with class-specific growth differentials (urban, rural, remote) and
are renormalised per county every year; indicators are allocated with urban/rural factors
and renormalised so that all county totals stay exact, and village net migration is the
balance residual so that ``P(t+1) = P(t) + births - deaths + net migration`` holds at every
level.

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

from .arrays import group_sum
from .errors import ParameterError, Problem
from .paramarrays import ParamArrays

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
)
_TABLE_COLUMNS = {
    "pop": "population",
    "aged_60plus": "aged_60plus",
    "women_15_49": "women_15_49",
    "births": "births",
    "deaths": "deaths",
    "net_migration": "net_migration",
    "in_migrants": "in_migrants",
}
_REFERENCE_CSV = Path(__file__).parent / "data" / "reference" / "quzhou_counties.csv"
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
        "calibration.reference_year",
        "calibration.city_share_60plus",
        "calibration.city_birth_rate",
        "calibration.city_death_rate",
        "calibration.cohorts.transition_year",
        "calibration.cohorts.famine_first_year",
        "calibration.cohorts.famine_last_year",
        "calibration.cohorts.famine_factor",
        "calibration.cohorts.boom_first_year",
        "calibration.cohorts.boom_last_year",
        "calibration.cohorts.boom_factor",
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
    from .parameters import load_rulebook

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

    tfr: np.ndarray  # (N, T) child/woman
    pattern: np.ndarray  # (N, T, 35) share of TFR by age 15..49
    srb: np.ndarray  # (N, T) boys per 100 girls
    e0: np.ndarray  # (N, T, 2) years
    mig_rate: np.ndarray  # (N, T) per mille/year
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
        pattern=pattern,
        srb=g["fertility.srb"],
        e0=np.stack([e0m, e0f], axis=-1),
        mig_rate=g["migration.net_rate"],
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
    mig = np.empty((b, steps, c, 2, AGES))
    inm = np.empty((b, steps + 1, c))
    pop[:, 0] = pop0
    inm[:, 0] = inm0
    k_all = model.level(asm.e0)  # (N, T, 2)
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
        m = (asm.mig_rate[:, y, None] * 1e-3 * total)[..., None, None] * sexshare * asm.profile[:, y, None, None, :]
        base = np.empty((b, c, 2, AGES))
        base[..., 1:] = p[..., :-1]
        base[..., 100] += p[..., 100]
        # newborns: computed after the women 15-49 at the end of the year are known
        m[..., 1:] = np.maximum(m[..., 1:], -base[..., 1:] * surv[..., 1:])
        d = (base[..., 1:] + 0.5 * m[..., 1:]) * (1.0 - surv[..., 1:])
        new = pop[:, t + 1]
        new[..., 1:] = base[..., 1:] + m[..., 1:] - d
        w = 0.5 * (p[:, :, 1, 15:50] + new[:, :, 1, 15:50])  # women 15-49 exposure
        tfr = asm.tfr[:, y, None] * fm  # (B|1, C)
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
        mig[:, t] = m
        inm[:, t + 1] = inm[:, t] * (1.0 - asm.outflow[:, y, None]) + asm.inflow[:, y, None] * total
    return {"pop": pop, "births": births, "deaths": deaths, "net_migration": mig, "in_migrants": inm}


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


@lru_cache(maxsize=1)
def _reference_table() -> dict[str, tuple[float, float, float]]:
    """County code -> (share aged 60+ [share], CBR [per mille], CDR [per mille]) in 2010."""
    out = {}
    with open(_REFERENCE_CSV, encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            out[row["county_code"]] = (
                float(row["share_60plus_2010_pct"]) / 100.0,
                float(row["birth_rate_2010_permille"]),
                float(row["death_rate_2010_permille"]),
            )
    return out


@dataclass(frozen=True)
class Calibration:
    """Base population and county multipliers (see ``docs/population.md``).

    Attributes
    ----------
    base_pop : numpy.ndarray
        (C, 2, A) persons at 1 January of the start year.
    r_old, r_young : numpy.ndarray
        (C,) growth rates of the size of successive birth cohorts born before and from the
        fertility transition year on [1/year] (two-regime base; 0 and 0 without calibration).
    transition_year : int
        First birth year of the post-transition regime [year].
    fert_mult, mort_mult : numpy.ndarray
        (C,) county multipliers of the city TFR and of the Siler mortality level.  The
        fertility multipliers reproduce each county's crude birth rate exactly (with the
        packaged rulebook their births-weighted mean is 1: the rulebook TFR is the
        census-consistent city level); the mortality multipliers are in the ratio of the
        counties' crude death rates and scaled so that their deaths-weighted mean is 1 (the
        rulebook e0 stays the city's level).
    target, achieved : numpy.ndarray
        (C, 3) share aged 60+ [share], CBR and CDR [per mille/year] aimed at and reproduced
        in the calibration year (the 60+ share and the CBR exactly, the CDR up to one
        city-wide factor, the gap between the rulebook's city e0 and the reference).
    year : int
        Calendar year of the targets as matched (the reference year, or the start year when
        the reference year is before it).
    """

    base_pop: np.ndarray
    r_old: np.ndarray
    r_young: np.ndarray
    transition_year: int
    fert_mult: np.ndarray
    mort_mult: np.ndarray
    target: np.ndarray
    achieved: np.ndarray
    year: int


_CAL_CACHE: dict[str, Calibration] = {}
#: Counties per block of the calibration projections (memory ~ 3 x 6 x block x 202 x 8 bytes
#: per array; 512 keeps each under 20 MB for country-size registers).
_CAL_BLOCK = 512
#: Bounds of the unknowns (r_old, r_young [1/year], log fertility and mortality multipliers).
_BOUNDS = (np.array([[-0.15], [-0.15], [-2.0], [-3.0]]), np.array([[0.15], [0.15], [2.0], [3.0]]))
#: Finite-difference step of the Newton solver, largest step per iteration, tolerance.
_CAL_H = 1e-5
_CAL_MAX_STEP = np.array([[0.03], [0.03], [0.5], [0.5]])
_CAL_TOL = 1e-10
_CAL_MAX_ITER = 40
_COHORT_KEYS = (
    "transition_year",
    "famine_first_year",
    "famine_last_year",
    "famine_factor",
    "boom_first_year",
    "boom_last_year",
    "boom_factor",
)


def _cohort_settings(row0: dict[str, np.ndarray], start: int) -> dict[str, float]:
    """Read and check ``calibration.cohorts.*`` (first set, start year)."""
    v = {k: float(row0[_P + "calibration.cohorts." + k][0, 0]) for k in _COHORT_KEYS}
    problems = []
    for k in _COHORT_KEYS:
        if not np.isfinite(v[k]):
            problems.append(Problem(_P + "calibration.cohorts." + k, f"expected a finite number, got {v[k]}"))
    if not start - 100 <= v["transition_year"] <= start:
        problems.append(Problem(_P + "calibration.cohorts.transition_year",
                                f"value {v['transition_year']:g} is out of range; expected a birth year in "
                                f"{start - 100}..{start} (start year {start})"))
    for name in ("famine", "boom"):
        first, last, factor = v[name + "_first_year"], v[name + "_last_year"], v[name + "_factor"]
        if first > last:
            problems.append(Problem(_P + f"calibration.cohorts.{name}_first_year",
                                    f"value {first:g} is after {name}_last_year {last:g}; expected first <= last"))
        if not factor > 0:
            problems.append(Problem(_P + f"calibration.cohorts.{name}_factor",
                                    f"value {factor:g} is out of range; expected > 0"))
    if problems:
        raise ParameterError(problems)
    return v


def _cohort_log_profile(birth_year: np.ndarray, v: dict[str, float]) -> np.ndarray:
    """Log relative size of the birth cohorts (famine dip, baby boom) on top of the two regimes."""
    out = np.zeros(birth_year.shape)
    for name in ("famine", "boom"):
        inside = (birth_year >= v[name + "_first_year"]) & (birth_year <= v[name + "_last_year"])
        out[inside] += np.log(v[name + "_factor"])
    return out


def _cohort_base(
    model: _MortalityModel,
    k: np.ndarray,
    r_old: np.ndarray,
    r_young: np.ndarray,
    rel_year: np.ndarray,
    log_profile: np.ndarray,
    srb: float,
    total: np.ndarray,
) -> np.ndarray:
    """Two-regime base age structures scaled to the county totals.

    ``P_s(x) ∝ share_s L_s(x) B(b)``, birth cohort ``b = start - 1 - x`` of relative size
    ``log B = r_old u`` for ``u = b - transition < 0``, ``r_young u`` for ``u >= 0``, plus
    ``log_profile``.  k (C, 2) or (G, C, 2) Siler levels, r_old/r_young (G, C), rel_year and log_profile
    (131,) by age 0..130, total (C,) -> (G, C, 2, A).  With r = 0 and no profile it is the
    stationary population of the life table.
    """
    lx = np.exp(-k[..., None] * model.hazard)  # ((G,) C, 2, 132)
    big_l = _person_years(lx, model.a0)  # ((G,) C, 2, 131)
    logb = np.where(rel_year < 0, r_old[..., None] * rel_year, r_young[..., None] * rel_year) + log_profile
    w = big_l * np.exp(logb)[:, :, None, :]  # (G,C,2,131)
    sex = np.array([srb / (100.0 + srb), 100.0 / (100.0 + srb)])
    w = w * sex[:, None]
    base = np.concatenate([w[..., :100], w[..., 100:].sum(axis=-1, keepdims=True)], axis=-1)
    return base * (total / base.sum(axis=(-2, -1)))[..., None, None]


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


def _measure(
    pop0: np.ndarray,
    model: _MortalityModel,
    asm: _Assumptions,
    k0: np.ndarray,
    r_old: np.ndarray,
    r_young: np.ndarray,
    fert: np.ndarray,
    mort: np.ndarray,
    cohorts: tuple[np.ndarray, np.ndarray, float],
    steps_to_ref: int,
    year_index: np.ndarray,
) -> np.ndarray:
    """Calibration measures of G variants of the base (r_old, r_young, fert, mort: (G, C)).

    Returns (4, G, C): share aged 60+, CBR and CDR [per mille/year] in the calibration year,
    and the log ratio of the age-0 stock after the first year to the base's age-0 stock
    (0 when the model's first-year births continue the base's youngest cohort).  Counties
    are projected in blocks (memory), not one by one.
    """
    g, c = r_old.shape
    rel, logprof, srb = cohorts
    steps = steps_to_ref + 1
    res = np.full((4, g, c), np.nan)
    for lo in range(0, c, _CAL_BLOCK):  # blocks of counties bound memory; not a per-county loop
        blk = slice(lo, min(c, lo + _CAL_BLOCK))
        base = _cohort_base(model, k0 * mort[:, blk, None], r_old[:, blk], r_young[:, blk], rel, logprof, srb,
                            pop0[blk])
        out = _kernel(base, np.zeros(base.shape[:2]), asm, fert[:, blk], mort[:, blk], model, steps, year_index)
        p_ref = out["pop"][:, steps_to_ref]
        tot = p_ref.sum(axis=(-2, -1))
        mid = 0.5 * (tot + out["pop"][:, steps_to_ref + 1].sum(axis=(-2, -1)))
        with np.errstate(invalid="ignore", divide="ignore"):
            res[0, :, blk] = p_ref[..., 60:].sum(axis=(-2, -1)) / tot
            res[1, :, blk] = out["births"][:, steps_to_ref].sum(axis=-1) / mid * 1e3
            res[2, :, blk] = out["deaths"][:, steps_to_ref].sum(axis=(-2, -1)) / mid * 1e3
            res[3, :, blk] = np.log(out["pop"][:, 1, ..., 0].sum(axis=-1) / base[..., 0].sum(axis=-1))
    return res


def _calibrate(prep: _Prepared, pa: ParamArrays, model: _MortalityModel) -> Calibration:
    """Solve the two-regime base age structure and county multipliers against the 2010 data.

    The base population is an observation, not a what-if: it is calibrated with the
    demographic assumptions of the packaged rulebook (only the ``calibration.*``
    values are taken from ``pa``), so that every scenario, sweep point and Monte
    Carlo path of a register starts from the same people.  Scenario overrides of
    fertility, mortality or migration change the projection from the start year on.

    Per county three unknowns (r_old, r_young, log fertility multiplier) are solved by a
    damped Newton iteration with a finite-difference Jacobian, vectorised over all counties
    (each iteration projects four variants of every county from the start to the reference
    year, in blocks of counties), for three conditions: the 2010 share aged 60+, the 2010
    crude birth rate, and continuity of the youngest cohort (the base's age-0 stock equals
    the newborns of the first projected year alive at its end, i.e. births in the year
    before the start equal births in the start year).  In the same iteration the mortality
    multipliers move to the ratio of the crude death rates and are renormalised to a
    deaths-weighted mean of 1.  Unknowns are kept within ``_BOUNDS``.
    """
    default = _default_first_rows(tuple(int(y) for y in pa.years))
    row0 = {p: (pa[p][:1] if p.startswith(_P + "calibration.") else default[p]) for p in DEMOGRAPHY_PATHS}
    model = _mortality_from(ParamArrays(pa.years, row0))
    h = hashlib.sha256(prep.key.encode())
    h.update(np.asarray(pa.years).tobytes())
    for p in DEMOGRAPHY_PATHS:
        h.update(np.ascontiguousarray(row0[p]).tobytes())
    key = h.hexdigest()
    if key in _CAL_CACHE:
        return _CAL_CACHE[key]
    pa1 = ParamArrays(pa.years, row0)
    asm = _assumptions(pa1, "medium")
    years = np.asarray(pa.years)
    start = int(years[0])
    v = _cohort_settings(row0, start)
    ref_year = int(round(float(row0[_P + "calibration.reference_year"][0, 0])))
    steps_to_ref = max(ref_year - start, 0)
    year_index = np.clip(np.arange(steps_to_ref + 1), 0, len(years) - 1)
    c = len(prep.county_codes)
    ref = _reference_table()
    fallback = (
        float(row0[_P + "calibration.city_share_60plus"][0, 0]),
        float(row0[_P + "calibration.city_birth_rate"][0, 0]),
        float(row0[_P + "calibration.city_death_rate"][0, 0]),
    )
    target = np.array([ref.get(code, fallback) for code in prep.county_codes]).reshape(c, 3)
    transition = int(round(v["transition_year"]))
    birth = start - 1 - np.arange(_LT_AGES - 1)
    cohorts = ((birth - transition).astype(float), _cohort_log_profile(birth, v), float(asm.srb[0, 0]))
    k0 = model.level(asm.e0[0, 0])  # (2,)
    pop0 = prep.county_pop0
    live = (pop0 > 0) & (target[:, 1] > 0) & (target[:, 2] > 0) & (target[:, 0] > 0) & (target[:, 0] < 1)
    # unknowns per county: r_old, r_young [1/year], log fertility and log mortality multipliers
    w_pop = np.where(live, pop0, 0.0)
    x = np.zeros((4, c))
    x[0], x[1] = 0.01, -0.03
    if w_pop.sum() > 0:
        for i, col in ((2, 1), (3, 2)):  # start from the ratio of the county rate to the city's
            rate = np.where(live, target[:, col], 1.0)
            x[i] = np.where(live, np.log(rate * w_pop.sum() / (w_pop * rate).sum()), 0.0)
    tgt = np.stack([target[:, 0], np.log(np.where(live, target[:, 1], 1.0)), np.zeros(c),
                    np.log(np.where(live, target[:, 2], 1.0))])
    variants = np.concatenate([np.zeros((1, 4)), _CAL_H * np.eye(4)])[:, :, None]  # (5, 4, 1)
    lam = None
    for _ in range(_CAL_MAX_ITER):
        xv = x[None] + variants  # (5, 4, C): the point and one perturbed unknown each
        m = _measure(pop0, model, asm, k0, xv[:, 0], xv[:, 1], np.exp(xv[:, 2]), np.exp(xv[:, 3]), cohorts,
                     steps_to_ref, year_index)
        with np.errstate(invalid="ignore", divide="ignore"):
            f = np.stack([m[0], np.log(m[1]), m[3], np.log(m[2])], axis=1) - tgt[None]  # (5, 4, C)
        # death rates: in the census ratio up to one city-wide factor exp(lam), a global unknown
        # tied to the condition that the deaths-weighted mean mortality multiplier is 1
        if lam is None:
            lam = np.where(live, f[0, 3], 0.0) @ w_pop / max(w_pop.sum(), 1e-300)
        f[:, 3] -= lam
        jac = np.moveaxis((f[1:] - f[:1]) / _CAL_H, (0, 1, 2), (2, 1, 0))  # (C, residual, unknown)
        ok = live & np.isfinite(jac).all(axis=(1, 2)) & np.isfinite(f[0]).all(axis=0)
        ok &= np.abs(np.linalg.det(np.where(ok[:, None, None], jac, np.eye(4)))) > 1e-14
        # Newton step by the Schur complement: dx_i = a_i + b_i dlam, then dlam from the mean
        ab = np.zeros((c, 4, 2))
        if ok.any():
            rhs = np.stack([-f[0][:, ok].T, np.broadcast_to([0.0, 0.0, 0.0, 1.0], (int(ok.sum()), 4))], axis=-1)
            ab[ok] = np.linalg.solve(jac[ok], rhs)
        deaths = np.where(ok, m[2, 0] * pop0, 0.0)
        d1 = deaths / np.exp(x[3])  # deaths at multiplier 1
        dlam, g = 0.0, 0.0
        if deaths.sum() > 0:
            wt = deaths / deaths.sum()
            g = float(np.log(deaths.sum() / d1.sum()))
            denom = wt @ ab[:, 3, 1]
            dlam = (-g - wt @ ab[:, 3, 0]) / denom if abs(denom) > 1e-14 else 0.0
        dx = (ab[..., 0] + ab[..., 1] * dlam).T  # (4, C)
        dx *= np.minimum(1.0, (_CAL_MAX_STEP / np.maximum(np.abs(dx), 1e-300)).min(axis=0))
        x = np.clip(x + dx, *_BOUNDS)
        lam += dlam
        resid = np.abs(np.where(ok, f[0], 0.0)).max(initial=0.0)
        if max(resid, np.abs(dx).max(initial=0.0), abs(g)) < _CAL_TOL:
            break
    r_old, r_young, logf, logm = x
    mort = np.exp(logm)
    fert = np.exp(logf)
    one = (1, c)
    achieved = _measure(pop0, model, asm, k0, r_old.reshape(one), r_young.reshape(one), fert.reshape(one),
                        mort.reshape(one), cohorts, steps_to_ref, year_index)[:3, 0].T
    base = _cohort_base(model, k0[None, :] * mort[:, None], r_old[None], r_young[None], cohorts[0], cohorts[1],
                        cohorts[2], pop0)[0]
    cal = Calibration(base, r_old, r_young, transition, fert, mort, target, achieved, start + steps_to_ref)
    if len(_CAL_CACHE) > 64:
        _CAL_CACHE.clear()
    _CAL_CACHE[key] = cal
    return cal


def calibrate(register: Any, pa: ParamArrays) -> Calibration:
    """Base population and county multipliers for a register (cached per register and parameters).

    Parameters
    ----------
    register : Register
        Register whose village populations give the county totals at the start year.
    pa : ParamArrays
        Demographic assumptions; the first parameter set is used.

    Returns
    -------
    Calibration
    """
    _require(pa)
    return _calibrate(_prepare(register), pa, _mortality_from(pa))


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
    quantiles: tuple = ()
    _arrays: dict = field(default_factory=dict, repr=False)
    _prep: Any = field(default=None, repr=False)
    _alloc: dict = field(default_factory=dict, repr=False)
    _end_pop: np.ndarray | None = field(default=None, repr=False)
    _county_ind: dict = field(default_factory=dict, repr=False)
    _city_ind: dict = field(default_factory=dict, repr=False)
    _below: dict = field(default_factory=dict, repr=False)
    _source: Any = field(default=None, repr=False)

    # -- county arrays (computed lazily for percentile results) ---------------------------
    def _county_array(self, name: str) -> np.ndarray:
        if name not in self._arrays:
            self._arrays[name] = np.percentile(getattr(self._source, name), self.quantiles, axis=0)
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
    def n(self) -> int:
        """Number of parameter sets / paths N."""
        return len(self.quantiles) if self._source is not None else int(self._arrays["county_pop"].shape[0])

    # -- county and city indicators -------------------------------------------------
    def county_indicators(self) -> dict[str, np.ndarray]:
        """Indicators (N, T, C) per county: ``pop``, ``aged_60plus``, ``women_15_49``, …"""
        if not self._county_ind:
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
        return self._county_ind

    def city_indicators(self) -> dict[str, np.ndarray]:
        """Indicators (N, T) of the whole city (sum of the counties of each path)."""
        if not self._city_ind:
            self._city_ind.update({k: v.sum(axis=-1) for k, v in self.county_indicators().items()})
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
            inds = INDICATORS if indicator in ("pop", "births", "deaths", "net_migration") else (indicator,)
            v, s = _allocate(self._prep, self._alloc, self.county_indicators(), self._end_pop, inds)
        else:
            v, s = _percentile_below(self._source, self.quantiles, self.county_indicators(), indicator)
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
            return self.city_indicators()[name[5:]]
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
        return self._table(self.county_indicators().__getitem__, {"county_code": self._prep.county_codes}, i)

    def city(self, draw: int | None = None, *, percentile: float | None = None) -> pd.DataFrame:
        """Tidy city table: ``year`` + indicators (sum of the counties)."""
        i = self._draw(draw, percentile)
        ind = self.city_indicators()
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
    if source._alloc["growth"].shape[0] == 1 and indicator != "net_migration":
        return _allocate(prep, source._alloc, cind_q, None, (indicator,))
    t = len(source.years)
    cind = source.county_indicators()
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


def _run(register: Any, pa: ParamArrays, asm: _Assumptions, variant: str, calibrate: bool) -> PopulationResult:
    prep = _prepare(register)
    model = _mortality_from(pa)
    c = len(prep.county_codes)
    if calibrate:
        cal = _calibrate(prep, pa, model)
    else:
        k0 = model.level(asm.e0[0, 0])
        zero = np.zeros(_LT_AGES - 1)
        base = _cohort_base(model, np.broadcast_to(k0, (c, 2)), np.zeros((1, c)), np.zeros((1, c)), zero, zero,
                            float(asm.srb[0, 0]), prep.county_pop0)[0]
        cal = Calibration(base, np.zeros(c), np.zeros(c), int(pa.years[0]), np.ones(c), np.ones(c),
                          np.full((c, 3), np.nan), np.full((c, 3), np.nan), int(pa.years[0]))
    n = asm.n
    t = len(pa.years)
    out = _kernel(
        np.broadcast_to(cal.base_pop, (n,) + cal.base_pop.shape),
        np.broadcast_to(prep.county_inm0, (n, c)),
        asm, cal.fert_mult, cal.mort_mult, model, t,
    )
    return PopulationResult(
        years=np.asarray(pa.years),
        register=register,
        _arrays={
            "county_pop": out["pop"][:, :t],
            "county_births": out["births"],
            "county_deaths": out["deaths"],
            "county_net_migration": out["net_migration"],
            "county_in_migrants": out["in_migrants"][:, :t],
        },
        variant=variant,
        calibration=cal,
        _prep=prep,
        _alloc=_allocation_params(pa, t),
        _end_pop=out["pop"][:, t].sum(axis=(-2, -1)),
    )


def project(register: Any, pa: ParamArrays, *, variant: str = "medium", calibrate: bool = True) -> PopulationResult:
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
        Calibrate the base age structure and county fertility/mortality levels to the 2010
        reference data (default).  ``False`` starts from the stationary population of the
        start-year life table with county multipliers 1 (for analytical checks).

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
    return _run(register, pa, asm, variant, calibrate)


def monte_carlo(
    register: Any,
    pa: ParamArrays,
    n_paths: int,
    seed: int,
    *,
    variant: str = "medium",
    calibrate: bool = True,
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
    e0_dev = np.cumsum(pa[_P + "uncertainty.e0_gain_sd"][0] * eps[1], axis=1)
    e0_dev[:, 0] = 0.0
    e0_dev -= e0_dev[:, :1]
    mig_dev = pa[_P + "uncertainty.migration_rate_sd"][0] * eps[2]
    asm_mc = _Assumptions(
        tfr=np.maximum(asm.tfr + dev, 0.0),
        pattern=asm.pattern,
        srb=asm.srb,
        e0=np.clip(asm.e0 + e0_dev[..., None], 20.0, 100.0),
        mig_rate=asm.mig_rate + mig_dev,
        male_share=asm.male_share,
        profile=asm.profile,
        inflow=asm.inflow,
        outflow=asm.outflow,
    )
    return _run(register, pa, asm_mc, variant, calibrate)


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
        quantiles=qt,
        _prep=r._prep,
        _alloc=r._alloc,
        _source=r,
    )
    out._county_ind.update({k: np.percentile(v, qt, axis=0) for k, v in r.county_indicators().items()})
    out._city_ind.update({k: np.percentile(v, qt, axis=0) for k, v in r.city_indicators().items()})
    return out
