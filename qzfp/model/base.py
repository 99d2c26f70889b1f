"""The observed base population: the census moved to the start year, with rates fitted to it.

Each county's census row (or its area's) is split to single years of age; its mortality
level, fertility (TFR) and resident migration are fitted to the census; registered (户籍) and
resident (常住) populations are moved from the census moment to 1 January of the start year
by the engine's own step (backwards with its inverse).  ``docs/population.md`` gives the
method; :func:`calibrate` is the entry point.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ..errors import ParameterError, Problem
from ..register.census import Census, CountyRows, default_census, split_single_years
from ..rules.paramarrays import ParamArrays
from .allocation import Prepared, prepare
from .assumptions import Assumptions, demography_param_arrays, yearly_assumptions
from .cohort import (
    BackStep,
    county_logk,
    county_tfr,
    project_counties,
    shift_by_fraction,
    step_back,
)
from .diagnostics import Diagnostics
from .migration import (
    MIGRATION_FEATURES,
    absent_profile,
    intercensal_residual,
    migration_features,
    model_rate,
    resident_rates,
)
from .mortality import (
    AGES,
    MortalityModel,
    e0_both,
    group_death_rates,
    mortality_from,
    person_years,
)

__all__ = [
    "BASE_PATHS",
    "FAR_FROM_CENSUS_YEARS",
    "FIT_TOLERANCE",
    "NOTE_FAR_FROM_CENSUS",
    "NOTE_NO_EARLIER_CENSUS",
    "NOTE_NO_PROVINCE_ROWS",
    "Calibration",
    "FitError",
    "base_values",
    "calibrate",
    "calibrate_counties",
    "calibrate_prepared",
    "migration_coefficients",
    "stationary_base",
]

_P = "demography."


#: Bisection steps of the mortality level fit (log multiplier in [-8, 4]: width 12 / 2**60).
_FIT_STEPS = 60

#: Relative tolerance of every fitted rate (a fit that misses it raises FitError).
FIT_TOLERANCE = 1e-6


#: Years before the census in which the children aged 1-4 at the census were born (the
#: exposure of the fertility fit is the mean of the women at 1 January of those years).
_FERT_WINDOW = 4


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

    See ``docs/population.md``.  All (C, ...) arrays follow the order of the counties asked for.

    Attributes
    ----------
    codes : numpy.ndarray
        (C,) county codes.
    base_pop : numpy.ndarray
        (C, 2, A) registered (户籍) persons at 1 January of the start year (scaled to the
        register's county totals at the register's year, when there is a register).
    base_resident : numpy.ndarray
        (C, 2, A) resident (常住) persons at 1 January of the start year (the census
        population moved to the start by the engine's own components).
    fert_mult : numpy.ndarray
        (C,) multiplier of the city TFR (``demography.fertility.tfr``) of each county.
    mort_mult : numpy.ndarray
        (C,) county multiplier of the standard mortality level.
    tfr : numpy.ndarray
        (C,) the county's own total fertility rate: the births of the four years before the
        census (reverse survival of the resident children aged 1-4) over the women who are
        their mothers — the resident women and, of the absent (registered but living
        elsewhere) women, the left-behind share whose children live at home [child/woman].
    tfr_effective : numpy.ndarray
        (C,) the same births over the resident women only [child/woman]: the "effective"
        rate a census gives where children stay while their mothers work away (shown, not
        used).
    e0 : numpy.ndarray
        (C, 2) life expectancy at birth by sex fitted to the census deaths [year].
    e0_bounded : numpy.ndarray
        (C,) True where the death-rate fit put e0 outside the plausible band
        (``demography.mortality.county_e0_min``/``max``) and e0 was set to the band's edge.
    death_coverage : numpy.ndarray
        (C,) share of the census year's deaths the census recorded (the census death rate
        is divided by it before the fit).
    features : dict of str to numpy.ndarray
        (C,) the census indicators the resident migration model reads
        (:func:`qzfp.model.migration.migration_features`).
    resident_migration : numpy.ndarray
        (C,) the migration model's resident net migration rate at the census moment with the
        packaged coefficients (the rate that moved the base) [per mille/year].
    intercensal_residual : numpy.ndarray
        (C,) the 2000–2010 residual net migration rate where the 2000 census is known
        (Quzhou's counties; NaN elsewhere) [per mille/year], shown beside the model's rate.
    region : numpy.ndarray
        (C,) province code (first two digits) of each county: the counties of one province
        share a part of the Monte Carlo migration deviation.
    moment : float
        The census moment as a fractional year (1 November 2010 → 2010.833).
    notes : tuple of str
        What the fit had to assume: :data:`NOTE_NO_PROVINCE_ROWS`,
        :data:`NOTE_NO_EARLIER_CENSUS`, :data:`NOTE_FAR_FROM_CENSUS`.
    diagnostics : Diagnostics
        Fallback rows, bounded fits, backward steps that did not converge, caps.
    register_factor : numpy.ndarray
        (C,) register total / census-derived registered total at the register's year.
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
    names : numpy.ndarray
        (C,) Chinese names of the census rows used.
    census : Census or None
        The census table (None for the stationary start of ``calibrate=False``).
    year : int
        Census year.
    """

    codes: np.ndarray
    base_pop: np.ndarray
    base_resident: np.ndarray
    fert_mult: np.ndarray
    mort_mult: np.ndarray
    tfr: np.ndarray
    tfr_effective: np.ndarray
    e0: np.ndarray
    e0_bounded: np.ndarray
    death_coverage: np.ndarray
    features: dict
    resident_migration: np.ndarray
    intercensal_residual: np.ndarray
    region: np.ndarray
    moment: float
    notes: tuple
    diagnostics: Diagnostics
    register_factor: np.ndarray
    census_registered: np.ndarray
    census_resident: np.ndarray
    census_groups: np.ndarray
    census_base: np.ndarray
    ceb: np.ndarray
    target: np.ndarray
    achieved: np.ndarray
    source: np.ndarray
    names: np.ndarray
    census: Census | None
    year: int

    def table(self, county_codes: Sequence[str] | None = None) -> pd.DataFrame:
        """One row per county: census source, fitted TFR and e0, rates target/achieved, factors."""
        return pd.DataFrame({
            "county_code": list(self.codes if county_codes is None else county_codes),
            "census_row": self.source,
            "tfr": self.tfr,
            "tfr_effective": self.tfr_effective,
            "ceb_census": self.ceb,
            "e0_male": self.e0[:, 0],
            "e0_female": self.e0[:, 1],
            "e0_bounded": self.e0_bounded,
            "death_coverage": self.death_coverage,
            "cbr_census_permille": self.target[:, 0],
            "cbr_fitted_permille": self.achieved[:, 0],
            "cdr_census_permille": self.target[:, 1],
            "cdr_fitted_permille": self.achieved[:, 1],
            "resident_migration_permille": self.resident_migration,
            "migration_2000_2010_permille": self.intercensal_residual,
            "census_resident": self.census_resident,
            "census_registered": self.census_registered,
            "register_factor": self.register_factor,
        })


_CAL_CACHE: dict[str, Calibration] = {}



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
    model: MortalityModel, k_std: np.ndarray, groups: np.ndarray, cdr: np.ndarray, srb: float,
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
        return (groups * group_death_rates(model, k)).sum(axis=(-2, -1))

    logm = _bisect(deaths, target, -8.0, 4.0, increasing=True)
    e_lo, e_hi = band

    def e0_of(logm: np.ndarray) -> np.ndarray:
        return e0_both(model, k_std[None, :] * np.exp(logm)[:, None], srb)

    # the band's levels are the same for every county (one standard table)
    logm_max = _bisect(e0_of, np.array([e_lo]), -8.0, 4.0, increasing=False)  # highest mortality
    logm_min = _bisect(e0_of, np.array([e_hi]), -8.0, 4.0, increasing=False)  # lowest mortality
    bounded = (logm < logm_min) | (logm > logm_max) | (target <= 0)
    logm = np.where(target <= 0, logm_min, np.clip(logm, logm_min, logm_max))
    achieved = deaths(logm)
    with np.errstate(invalid="ignore", divide="ignore"):
        miss = ~bounded & (np.abs(achieved / target - 1.0) > FIT_TOLERANCE)
    if miss.any():
        raise FitError([Problem(f"census:{codes[i]}", "base.mortality_fit", rate=achieved[i] / pop[i] * 1e3,
                                census=cdr[i], tolerance=FIT_TOLERANCE) for i in np.flatnonzero(miss)])
    return np.exp(logm), bounded



@lru_cache(maxsize=8)
def _default_arrays(years: tuple[int, ...]) -> ParamArrays:
    """:func:`demography_param_arrays` of the packaged rulebook, cached per years: building
    them from the rulebook takes longer than a whole city projection."""
    return demography_param_arrays(np.asarray(years, dtype=int))


#: Parameters read only by the fit of the base (from the scenario's first parameter set and
#: start year); every other assumption of the base is the packaged rulebook's.
BASE_PATHS = tuple(_P + p for p in (
    "mortality.census_death_coverage",
    "mortality.standard_province",
    "mortality.county_e0_min",
    "mortality.county_e0_max",
    "migration.absent_min_age",
    "migration.absent_max_age",
    # the migration assumptions move the census to the start year as they move the projection on
    "migration.net_rate",
    "migration.resident.intercept",
    *(f"migration.resident.{f}" for f in MIGRATION_FEATURES),
    "migration.resident.half_life",
))


def _census_assumptions(years: np.ndarray, base: dict[str, float]) -> tuple[ParamArrays, Assumptions]:
    pa = _default_arrays(tuple(int(y) for y in years))
    if base:
        pa = pa.with_values({path: np.full((1, len(years)), float(v)) for path, v in base.items()})
    return pa, yearly_assumptions(pa, "medium")


def base_values(pa: ParamArrays | None) -> dict[str, float]:
    """The base-fit parameters of the first parameter set at the start year (rulebook when None)."""
    if pa is None:
        return {}
    return {p: float(pa[p][0, 0]) for p in BASE_PATHS if p in pa}


def migration_coefficients(pa: ParamArrays, year_index: int = 0) -> dict[str, np.ndarray]:
    """The resident migration model's coefficients (N, 1) of ``pa`` in one of its years."""
    return {k: np.asarray(pa[f"{_P}migration.resident.{k}"], dtype=float)[:, year_index:year_index + 1]
            for k in ("intercept",) + MIGRATION_FEATURES}


def calibrate_prepared(prep: Prepared, census: Census, start: int, base: dict[str, float] | None = None,
                       register_year: int | None = None) -> Calibration:
    """The observed base of the counties of a register at 1 January of ``start`` (cached).

    :func:`calibrate_counties` with the register's county totals at ``register_year`` (the
    start year when omitted).
    """
    return calibrate_counties(census, prep.county_codes, start, base, prep.county_pop0,
                              start if register_year is None else int(register_year), key=prep.key)


def calibrate_counties(census: Census, codes: np.ndarray, start: int, base: dict[str, float] | None = None,
                       register_totals: np.ndarray | None = None, register_year: int | None = None, *,
                       key: str = "") -> Calibration:
    """The observed base population of some counties at 1 January of ``start``.

    With the demographic assumptions of the packaged rulebook (the base is an observation,
    not a what-if; a scenario's overrides act from the start year on), except the fit's own
    parameters :data:`BASE_PATHS` (``base``, from the scenario):

    1. the census row of each county (or its prefecture, province, nation: counted);
    2. mortality: the standard life table (rulebook e0 of the census year) times a county
       multiplier fitted to the census death rate on the census population;
    3. single years of age by :func:`qzfp.register.census.split_single_years`, the 85+ group by the
       fitted life table;
    4. registered = resident + (registered − resident) by the county's own absent profile;
    5. both moved to 1 January of each year needed by the engine's own step (backwards with
       its inverse), the resident population with the migration model's rate;
    6. fertility: the county's own TFR, the births of the four years before the census over
       the women who are their mothers (resident, and the left-behind share of the absent);
    7. with ``register_totals`` (C,) [person], the registered base is scaled to them at
       1 January of ``register_year`` and moved from there to the start with the engine's
       growth (a county without its own census row scales its residents by the same factor).

    Raises
    ------
    CensusError
        The table has resident counts only (it cannot be a base).
    FitError
        A county cannot be fitted (no children, no women, registered total not positive, a
        mortality fit that misses its tolerance).
    """
    census.require_full("census")
    base = base or {}
    codes = np.asarray([str(c) for c in codes], dtype=object)
    reg_year = start if register_year is None else int(register_year)
    totals = None if register_totals is None else np.asarray(register_totals, dtype=float)
    ident = key or hashlib.sha256("|".join(codes).encode() + (b"" if totals is None else totals.tobytes())).hexdigest()
    cache_key = hashlib.sha256(f"{ident}|{census.sha256}|{census.date}|{start}|{reg_year}|{sorted(base.items())}"
                               .encode()).hexdigest()
    if cache_key in _CAL_CACHE:
        return _CAL_CACHE[cache_key]
    cy = census.date.year
    years = np.arange(min(start, reg_year, cy - _FERT_WINDOW), max(start, reg_year, cy) + 2)
    pa0, asm = _census_assumptions(years, base)
    f = _CensusFit(years=years, yi=int(cy - years[0]), pa=pa0, asm=asm, model=mortality_from(pa0), codes=codes,
                   rows=census.lookup(codes), moment=census.year_fraction, census=census)
    rows, model, c = f.rows, f.model, len(codes)
    m = _resident_at_census(f)
    registered, notes = _registered_at_census(f, census, m)
    fitted_cdr = (rows.groups * group_death_rates(model, m.k)).sum(axis=(1, 2)) / rows.resident * 1e3
    natural = m.births / rows.resident * 1e3 - fitted_cdr
    features = migration_features(rows)
    m0 = model_rate(features, migration_coefficients(pa0, f.yi))  # (1, C)
    if cy != 2010:
        notes.append(NOTE_NO_EARLIER_CENSUS)
    if abs(start - census.year_fraction) > FAR_FROM_CENSUS_YEARS:
        notes.append(NOTE_FAR_FROM_CENSUS)
    residual = intercensal_residual(codes, rows, natural, cy)
    res_rates = resident_rates(m0, years, f.moment, asm.half_life, np.zeros_like(asm.res_adj), residual)  # (1, Y, C)
    mig = np.stack([np.broadcast_to(asm.mig_rate[:, :, None], res_rates.shape), res_rates], axis=2)  # (1, Y, 2, C)
    logk, _ = county_logk(asm, model, m.mort)
    census_pop = np.stack([registered, m.resident])[None]  # (1, 2, C, 2, A)
    moves = _Moves()
    back = _census_backwards(f, census_pop, logk, mig, min(start, reg_year), moves)
    tfr, tfr_eff = _fit_tfr(f, back, m, cy)
    # the multiplier is of the city TFR without the policies in force in the census year
    # (the projection multiplies each year's policy factor back in)
    fert = tfr / float(asm.tfr_factor[0, f.yi]) / float(asm.tfr[0, f.yi])
    stocks = _census_forward(f, census_pop, back, county_tfr(asm, fert)[0], logk, mig, max(start, reg_year), moves)
    at_reg = stocks[reg_year][0, 0].sum(axis=(1, 2))
    if totals is None:
        factor = np.ones(c)
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            factor = np.where(at_reg > 0, totals / np.where(at_reg > 0, at_reg, 1.0), 0.0)
    pop = stocks[start][0]
    diag = Diagnostics(
        fallback=tuple((str(codes[i]), str(rows.source[i]), str(rows.source_code[i]))
                       for i in np.flatnonzero(rows.source != "county")),
        e0_bounded=tuple((str(codes[i]), float(e0_both(model, m.k[i], float(asm.srb[0, f.yi]))))
                         for i in np.flatnonzero(m.bounded)),
        back_steps=moves.steps, back_not_converged=moves.not_converged, back_residual=moves.residual,
        capped_base=moves.capped,
    )
    cal = Calibration(
        codes=codes,
        base_pop=pop[0] * factor[:, None, None],
        base_resident=pop[1] * np.where(rows.source == "county", 1.0, factor)[:, None, None],
        fert_mult=fert,
        mort_mult=m.mort,
        tfr=tfr,
        tfr_effective=tfr_eff,
        e0=model.e0(m.k),
        e0_bounded=m.bounded,
        death_coverage=m.coverage,
        features=features,
        resident_migration=m0[0],
        intercensal_residual=residual,
        region=np.array([str(x)[:2] for x in codes], dtype=object),
        moment=f.moment,
        notes=tuple(notes),
        diagnostics=diag,
        register_factor=factor,
        census_registered=rows.registered,
        census_resident=rows.resident,
        census_groups=rows.groups,
        census_base=np.stack([registered, m.resident]),
        ceb=rows.ceb,
        target=np.stack([rows.birth_rate, rows.death_rate], axis=1),
        achieved=np.stack([m.births / rows.resident * 1e3, fitted_cdr], axis=1),
        source=rows.source,
        names=rows.name,
        census=census,
        year=cy,
    )
    if len(_CAL_CACHE) > 64:
        _CAL_CACHE.clear()
    _CAL_CACHE[cache_key] = cal
    return cal


@dataclass(frozen=True)
class _CensusFit:
    """What the steps of :func:`calibrate_counties` share: the census year's assumptions and rows."""

    years: np.ndarray  # (Y,) calendar years from the earliest needed to the census/start + 1
    yi: int  # index of the census year in ``years``
    pa: ParamArrays  # the packaged rulebook over ``years`` with the scenario's BASE_PATHS
    asm: Assumptions
    model: MortalityModel
    codes: np.ndarray  # (C,) county codes
    rows: CountyRows  # the census rows of the counties
    moment: float  # the census moment as a fractional year
    census: Census  # the table


@dataclass
class _Moves:
    """What moving the census populations cost: steps back, their convergence, caps."""

    steps: int = 0
    not_converged: int = 0
    residual: float = 0.0
    capped: int = 0

    def add_back(self, step: BackStep | None) -> None:
        if step is None:
            return
        self.steps += 1
        self.not_converged += int(not step.converged)
        if not step.converged:
            self.residual = max(self.residual, step.residual)
        self.capped += step.capped


class _Moment(NamedTuple):
    """The resident population at the census moment and what its fit found."""

    mort: np.ndarray  # (C,) county mortality multipliers
    bounded: np.ndarray  # (C,) e0 set to the plausible band's edge
    k: np.ndarray  # (C, 2) Siler levels
    tail: np.ndarray  # (C, 2, 46) person-years at ages 85..130 of the fitted life tables
    big_l: np.ndarray  # (C, 2, 131) person-years of the fitted life tables
    sexw: np.ndarray  # (2,) shares of boys and girls at birth
    resident: np.ndarray  # (C, 2, A) resident persons by single age at the census moment
    births: np.ndarray  # (C,) births per year by reverse survival of the children aged 1-4
    coverage: np.ndarray  # (C,) share of the census year's deaths the census recorded


def _first(pa: ParamArrays, path: str, yi: int) -> float:
    return float(pa[_P + path][0, yi])


def _resident_at_census(f: _CensusFit) -> _Moment:
    """Steps 2-3 of :func:`calibrate_counties`: county mortality fitted to the census deaths, the
    census groups split to single ages, and the births by reverse survival."""
    rows, model, codes, yi = f.rows, f.model, f.codes, f.yi
    srb = float(f.asm.srb[0, yi])
    k_std = model.level(f.asm.e0[0, yi])  # (2,)
    band = (_first(f.pa, "mortality.county_e0_min", yi), _first(f.pa, "mortality.county_e0_max", yi))
    coverage = _death_coverage(f, k_std)
    mort, bounded = _fit_mortality(model, k_std, rows.groups, rows.death_rate / coverage, srb, band, codes)
    k = k_std[None, :] * mort[:, None]  # (C, 2)
    lx = np.exp(-k[..., None] * model.hazard)
    tail = person_years(lx, model.a0)[..., 85:]  # (C, 2, 46)
    resident = split_single_years(rows.groups, tail)  # (C, 2, A) at the census moment
    # births: reverse survival of the children aged 1-4 at the census (the births of the four
    # years before it); the census counts of age 0 and the census-year births are under-reported
    big_l = person_years(lx, model.a0)  # (C, 2, 131)
    sexw = np.array([srb, 100.0]) / (100.0 + srb)
    births = rows.groups[:, :, 1].sum(axis=1) / (big_l[:, :, 1:5].sum(axis=-1) @ sexw)
    problems = [Problem(f"census:{codes[i]}", "base.no_children") for i in np.flatnonzero(~(births > 0))]
    problems += [Problem(f"census:{codes[i]}", "base.registered_not_positive", total=rows.registered[i])
                 for i in np.flatnonzero(~(rows.registered > 0))]
    if problems:
        raise FitError(problems)
    return _Moment(mort, bounded, k, tail, big_l, sexw, resident, births, coverage)


def _death_coverage(f: _CensusFit, k_std: np.ndarray) -> np.ndarray:
    """Share of the census year's deaths the census recorded, per county (C,).

    The national share (``mortality.census_death_coverage``), except for the counties of the
    standard province (``mortality.standard_province``), whose share is the one at which the
    province's census row dies exactly at the standard life table: its census deaths over the
    deaths of the standard table on its population.  (The national share when the table has
    no row for that province.)
    """
    national = _first(f.pa, "mortality.census_death_coverage", f.yi)
    prov = f"{int(round(_first(f.pa, 'mortality.standard_province', f.yi))):02d}"
    cov = np.full(len(f.codes), national)
    own = np.array([str(c).startswith(prov) for c in f.codes])
    if own.any():
        row = f.census.lookup(np.array([prov + "0000"]))
        if row.source[0] == "province":
            standard_deaths = float((row.groups[0] * group_death_rates(f.model, k_std)).sum())
            cov[own] = float(row.death_rate[0] * row.resident[0] * 1e-3) / standard_deaths
    return cov


def _registered_at_census(f: _CensusFit, census: Census, m: _Moment) -> tuple[np.ndarray, list[str]]:
    """Step 4 of :func:`calibrate_counties`: registered (C, 2, A) at the census moment, and notes.

    The resident population plus the net absent (registered − resident) with the age-sex
    profile of the county's own deficit (or surplus) of working-age residents against the
    national age structure (see :func:`~qzfp.model.migration.absent_profile`).
    """
    rows, yi = f.rows, f.yi
    lo_age = int(round(_first(f.pa, "migration.absent_min_age", yi)))
    hi_age = int(round(_first(f.pa, "migration.absent_max_age", yi)))
    if not 0 <= lo_age <= hi_age <= AGES - 1:
        raise ParameterError(Problem(_P + "migration.absent_min_age", "base.absent_ages", lo=lo_age, hi=hi_age))
    notes: list[str] = []
    source_table = census
    if not (census.levels == "province").any():
        source_table = default_census()
        notes.append(NOTE_NO_PROVINCE_ROWS)
    national = split_single_years(source_table.lookup(np.array(["000000"])).groups, m.tail[:1].mean(axis=0))[0]
    gap = rows.registered - rows.resident
    registered = np.maximum(m.resident + gap[:, None, None] * absent_profile(m.resident, national, rows.registered,
                                                                              gap, lo_age, hi_age), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        registered *= np.where(registered.sum(axis=(1, 2)) > 0,
                               rows.registered / registered.sum(axis=(1, 2)), 0.0)[:, None, None]
    return registered, notes


def _census_backwards(f: _CensusFit, census_pop: np.ndarray, logk: np.ndarray, mig: np.ndarray, earliest: int,
                      moves: _Moves) -> dict[int, np.ndarray]:
    """The census populations (1, 2, C, 2, A) at 1 January of the census year and each earlier
    year needed (fertility plays no part: everyone alive then is aged 1+ at the census)."""
    cy = int(f.years[f.yi])
    no_births = np.zeros((1, len(f.years), len(f.codes)))
    pop, capped, step = shift_by_fraction(census_pop, f.moment - cy, f.asm, no_births, logk, f.model, f.yi,
                                          mig[:, f.yi:f.yi + 1], backwards=True)
    moves.capped += capped
    moves.add_back(step)
    back = {cy: pop}
    for y in range(cy - 1, min(earliest, cy - _FERT_WINDOW) - 1, -1):
        i = y - int(f.years[0])
        step = step_back(back[y + 1], f.asm, no_births, logk, f.model, i, mig[:, i:i + 1])
        moves.add_back(step)
        back[y] = step.pop
    return back


def _fit_tfr(f: _CensusFit, back: dict[int, np.ndarray], m: _Moment, cy: int) -> tuple[np.ndarray, np.ndarray]:
    """Step 6 of :func:`calibrate_counties`: each county's own TFR (C,) and the effective one (C,).

    The births of the four years before the census (reverse survival of the resident children
    aged 1-4) over the exposure of their mothers: the resident women plus the left-behind
    share of the absent women (registered minus resident, where positive) at each age,
    weighted by the rulebook age pattern and averaged over 1 January of those four years.
    The effective rate divides by the resident women alone.
    """
    lam = float(f.asm.left_behind[0, f.yi])
    stocks = np.stack([back[y][0] for y in range(cy - _FERT_WINDOW, cy)])  # (4, 2, C, 2, A)
    reg, res = stocks[:, 0, :, 1, 15:50], stocks[:, 1, :, 1, 15:50]  # (4, C, 35)
    mothers = (res + lam * np.maximum(reg - res, 0.0)).mean(axis=0)
    pattern = f.asm.pattern[0, f.yi]
    wpat, wres = mothers @ pattern, res.mean(axis=0) @ pattern
    bad = (wpat <= 0) | ~np.isfinite(m.births)
    if bad.any():
        raise FitError([Problem(f"census:{f.codes[i]}", "base.no_women") for i in np.flatnonzero(bad)])
    with np.errstate(invalid="ignore", divide="ignore"):
        effective = np.where(wres > 0, m.births / np.where(wres > 0, wres, 1.0), np.nan)
    return m.births / wpat, effective


def _census_forward(f: _CensusFit, census_pop: np.ndarray, back: dict[int, np.ndarray], tfr: np.ndarray,
                    logk: np.ndarray, mig: np.ndarray, latest: int, moves: _Moves) -> dict[int, np.ndarray]:
    """The populations (1, 2, C, 2, A) at 1 January of every year from the earliest held back to
    ``latest``: the backward stocks, then forward from the census moment by the engine's step."""
    cy, years = int(f.years[f.yi]), f.years
    stocks = dict(back)
    if latest <= cy:
        return stocks
    pop, capped, _ = shift_by_fraction(census_pop, cy + 1 - f.moment, f.asm, tfr, logk, f.model, f.yi,
                                       mig[:, f.yi:f.yi + 1], backwards=False)
    moves.capped += capped
    stocks[cy + 1] = pop
    if latest > cy + 1:
        i0 = cy + 1 - int(years[0])
        steps = latest - cy - 1
        out = project_counties(pop, np.zeros((1, len(f.codes))), f.asm, tfr, logk, f.model,
                               mig[:, i0:i0 + steps], np.arange(i0, i0 + steps), flows=False)
        moves.capped += int(out["capped"].sum())
        for j in range(1, steps + 1):
            stocks[cy + 1 + j] = out["pop"][:, j]
    return stocks


def calibrate(register: Any, pa: ParamArrays | None = None, census: Census | None = None) -> Calibration:
    """Observed base population and fitted county rates for a register (cached).

    Parameters
    ----------
    register : Register
        Register whose village populations give the registered county totals at its year.
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
    return calibrate_prepared(prepare(register), census, start, base_values(pa), int(register.year))


def stationary_base(prep: Prepared, pa: ParamArrays, asm: Assumptions, model: MortalityModel) -> Calibration:
    """The stationary start of ``calibrate=False``: the start-year life table scaled to the
    register's county totals, multipliers 1, the same population as resident and registered,
    no migration of its own (the migration model's features are all 0)."""
    c = len(prep.county_codes)
    k0 = model.level(asm.e0[0, 0])
    lx = np.exp(-k0[:, None] * model.hazard)
    big_l = person_years(lx, model.a0)  # (2, 131)
    srb = float(asm.srb[0, 0])
    w = big_l * np.array([srb / (100.0 + srb), 100.0 / (100.0 + srb)])[:, None]
    w = np.concatenate([w[:, :100], w[:, 100:].sum(axis=-1, keepdims=True)], axis=-1)
    base = prep.county_pop0[:, None, None] * (w / w.sum())[None]
    nan = np.full(c, np.nan)
    nan2 = np.full((c, 2), np.nan)
    zero = np.zeros(c)
    return Calibration(
        codes=np.asarray(prep.county_codes, dtype=object), base_pop=base, base_resident=base.copy(),
        fert_mult=np.ones(c), mort_mult=np.ones(c), tfr=nan.copy(), tfr_effective=nan.copy(),
        e0=np.broadcast_to(model.e0(k0), (c, 2)).copy(), e0_bounded=np.zeros(c, bool), death_coverage=nan.copy(),
        features={f: zero.copy() for f in (*MIGRATION_FEATURES, "outflow_share")},
        resident_migration=zero.copy(), intercensal_residual=nan.copy(),
        region=np.array([str(x)[:2] for x in prep.county_codes], dtype=object), moment=float(pa.years[0]),
        notes=(), diagnostics=Diagnostics(), register_factor=np.ones(c), census_registered=prep.county_pop0.copy(),
        census_resident=prep.county_pop0.copy(), census_groups=np.zeros((c, 2, 19)),
        census_base=np.stack([base, base]), ceb=nan.copy(), target=nan2, achieved=nan2.copy(),
        source=np.full(c, "stationary", dtype=object), names=np.asarray(prep.county_codes, dtype=object),
        census=None, year=int(pa.years[0]))
