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
from .assumptions import DEMOGRAPHY_PATHS, Assumptions, demography_param_arrays, yearly_assumptions
from .cohort import project_counties, shift_by_fraction, step_back
from .migration import absent_profile, resident_migration
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
    "calibrate_prepared",
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



def _census_assumptions(years: np.ndarray, base: dict[str, float]) -> tuple[dict[str, np.ndarray], Assumptions]:
    rows = dict(_default_first_rows(tuple(int(y) for y in years)))
    for path, value in base.items():
        rows[path] = np.full((1, len(years)), float(value))
    return rows, yearly_assumptions(ParamArrays(years, rows), "medium")



def base_values(pa: ParamArrays | None) -> dict[str, float]:
    """The base-fit parameters of the first parameter set at the start year (rulebook when None)."""
    if pa is None:
        return {}
    return {p: float(pa[p][0, 0]) for p in BASE_PATHS if p in pa}



def calibrate_prepared(prep: Prepared, census: Census, start: int, base: dict[str, float] | None = None) -> Calibration:
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
    f = _CensusFit(years=years, yi=int(cy - years[0]), row0=row0, asm=asm,
                   model=mortality_from(ParamArrays(years, row0)), codes=prep.county_codes,
                   rows=census.lookup(prep.county_codes))
    rows, model, c = f.rows, f.model, len(f.codes)
    m = _resident_at_census(f)
    registered, notes = _registered_at_census(f, census, m)
    # both populations as one stack of 2C "counties": registered first, then resident
    fitted_cdr = (rows.groups * group_death_rates(model, m.k)).sum(axis=(1, 2)) / rows.resident * 1e3
    res_mig, mig_source = resident_migration(f.codes, rows, m.births / rows.resident * 1e3 - fitted_cdr, cy)
    if cy != 2010:
        notes.append(NOTE_NO_EARLIER_CENSUS)
    if abs(start - census.year_fraction) > FAR_FROM_CENSUS_YEARS:
        notes.append(NOTE_FAR_FROM_CENSUS)
    t = len(years)
    mig = np.concatenate([np.broadcast_to(asm.mig_rate[:, :, None], (1, t, c)),
                          asm.res_adj[:, :, None] + res_mig[None, None, :]], axis=2)
    mm2 = np.concatenate([m.mort, m.mort])
    census_pop = np.concatenate([registered, m.resident])[None]  # (1, 2C, 2, A)
    back = _census_backwards(f, census, census_pop, mm2, mig, start)
    tfr = _fit_tfr(f, back, registered, m, cy)
    # the fitted TFR includes the policies in force in the census year; the multiplier is of the
    # city TFR without them (the kernel adds the policy effects of each year)
    fert = np.maximum(tfr - asm.tfr_add[0, f.yi], 0.0) / float(asm.tfr[0, f.yi])
    pop = _census_to_start(f, census, census_pop, back, fert.reshape(-1), mm2, mig, start)
    reg_start, res_start = pop[0, :c], pop[0, c:]
    tot = reg_start.sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(tot > 0, prep.county_pop0 / np.where(tot > 0, tot, 1.0), 0.0)
    achieved = np.stack([m.births / rows.resident * 1e3, fitted_cdr], axis=1)
    cal = Calibration(
        base_pop=reg_start * factor[:, None, None],
        # a county without its own census row has its area's row: scale its residents by the
        # same factor as its registered people (the area's resident/registered ratio is kept)
        base_resident=res_start * np.where(rows.source == "county", 1.0, factor)[:, None, None],
        fert_mult=fert,
        mort_mult=m.mort,
        tfr=tfr.T,
        e0=model.e0(m.k),
        e0_bounded=m.bounded,
        resident_migration=res_mig,
        migration_source=mig_source,
        notes=tuple(notes),
        register_factor=factor,
        census_registered=rows.registered,
        census_resident=rows.resident,
        census_groups=rows.groups,
        census_base=np.stack([registered, m.resident]),
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


@dataclass(frozen=True)
class _CensusFit:
    """What the steps of :func:`calibrate_prepared` share: the census year's assumptions and rows."""

    years: np.ndarray  # (Y,) calendar years from the earliest needed to the census/start + 1
    yi: int  # index of the census year in ``years``
    row0: dict[str, np.ndarray]  # rulebook first rows (1, Y) with the scenario's BASE_PATHS
    asm: Assumptions
    model: MortalityModel
    codes: np.ndarray  # (C,) county codes
    rows: CountyRows  # the census rows of the counties


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


def _resident_at_census(f: _CensusFit) -> _Moment:
    """Steps 2-3 of :func:`calibrate_prepared`: county mortality fitted to the census deaths, the
    census groups split to single ages, and the births by reverse survival."""
    rows, model, codes, yi, row0 = f.rows, f.model, f.codes, f.yi, f.row0
    srb = float(f.asm.srb[0, yi])
    k_std = model.level(f.asm.e0[0, yi])  # (2,)
    band = (float(row0[_P + "mortality.county_e0_min"][0, yi]), float(row0[_P + "mortality.county_e0_max"][0, yi]))
    mort, bounded = _fit_mortality(model, k_std, rows.groups, rows.death_rate, srb, band, codes)
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
    return _Moment(mort, bounded, k, tail, big_l, sexw, resident, births)


def _registered_at_census(f: _CensusFit, census: Census, m: _Moment) -> tuple[np.ndarray, list[str]]:
    """Step 5 of :func:`calibrate_prepared`: registered (C, 2, A) at the census moment, and notes.

    The resident population plus the net absent (registered − resident) with the age-sex
    profile of the county's own deficit (or surplus) of working-age residents against the
    national age structure (see :func:`~qzfp.model.migration.absent_profile`).
    """
    rows, yi, row0 = f.rows, f.yi, f.row0
    lo_age = int(round(float(row0[_P + "migration.absent_min_age"][0, yi])))
    hi_age = int(round(float(row0[_P + "migration.absent_max_age"][0, yi])))
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


def _census_backwards(f: _CensusFit, census: Census, census_pop: np.ndarray, mm2: np.ndarray, mig: np.ndarray,
                      start: int) -> dict[int, np.ndarray]:
    """The census populations (1, 2C, 2, A) at 1 January of the census year and each earlier
    year needed (fertility plays no part: everyone alive then is aged 1+ at the census)."""
    cy = census.date.year
    no_fert = np.zeros(census_pop.shape[1])
    back = {cy: shift_by_fraction(census_pop, census.year_fraction - cy, f.asm, no_fert, mm2, f.model, f.yi, mig,
                                  backwards=True)}
    for y in range(cy - 1, min(start, cy - _FERT_WINDOW) - 1, -1):
        back[y] = step_back(back[y + 1], f.asm, no_fert, mm2, f.model, y - int(f.years[0]), mig)
    return back


def _fit_tfr(f: _CensusFit, back: dict[int, np.ndarray], registered: np.ndarray, m: _Moment, cy: int) -> np.ndarray:
    """Step 4 of :func:`calibrate_prepared`: the TFR (2, C) of the registered and resident populations.

    The TFR at which the rulebook age pattern applied to each population's women, averaged
    over the years the children aged 1-4 at the census were born, gives their births (reverse
    survival of each population's own children aged 1-4).
    """
    c = len(f.codes)
    exposure = np.mean([back[y][0, :, 1, 15:50] for y in range(cy - _FERT_WINDOW, cy)], axis=0)  # (2C, 35)
    births_reg = registered[:, :, 1:5].sum(axis=(1, 2)) / (m.big_l[:, :, 1:5].sum(axis=-1) @ m.sexw)
    tfr = np.empty((2, c))
    for b, (women, nb) in enumerate(((exposure[:c], births_reg), (exposure[c:], m.births))):
        wpat = women @ f.asm.pattern[0, f.yi]
        bad = (wpat <= 0) | ~np.isfinite(nb)
        if bad.any():
            raise FitError([Problem(f"census:{f.codes[i]}", "base.no_women") for i in np.flatnonzero(bad)])
        tfr[b] = nb / wpat
    return tfr


def _census_to_start(f: _CensusFit, census: Census, census_pop: np.ndarray, back: dict[int, np.ndarray],
                     fm2: np.ndarray, mm2: np.ndarray, mig: np.ndarray, start: int) -> np.ndarray:
    """Step 6 of :func:`calibrate_prepared`: the populations (1, 2C, 2, A) at 1 January of ``start``."""
    cy, tau, years = census.date.year, census.year_fraction, f.years
    if start <= tau:
        return back[start]
    pop = shift_by_fraction(census_pop, cy + 1 - tau, f.asm, fm2, mm2, f.model, f.yi, mig, backwards=False)
    for y in range(cy + 1, start):
        pop = project_counties(pop, np.zeros(pop.shape[:2]), f.asm, fm2, mm2, f.model, 1, np.array([y - years[0]]),
                               mig[:, [y - years[0]]])["pop"][:, 1]
    return pop


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
    return calibrate_prepared(prepare(register), census, start, base_values(pa))



def stationary_base(prep: Prepared, pa: ParamArrays, asm: Assumptions, model: MortalityModel) -> Calibration:
    """The stationary start of ``calibrate=False``: the start-year life table scaled to the
    register's county totals, multipliers 1, the same population as resident and registered."""
    c = len(prep.county_codes)
    k0 = model.level(asm.e0[0, 0])
    lx = np.exp(-k0[:, None] * model.hazard)
    big_l = person_years(lx, model.a0)  # (2, 131)
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
