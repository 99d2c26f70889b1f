"""Population engine: cohort-component projection by county, allocation to townships and villages.

The county projection works in single years of age 0..100+ by sex with annual steps
(``docs/population.md`` explains the method):

* fertility: the county's own TFR (its mothers': resident women and the absent women whose
  children are left behind at home) x a shifted-gamma age pattern, births split by the sex
  ratio at birth; the fertility policies of 2014, 2016 and 2021 multiply the TFR from their
  date, with a catch-up that fades;
* mortality: a Siler hazard with fixed shape whose level is solved from e0 and fitted per
  county to the census deaths corrected for the deaths the census did not record;
* migration: net migrants = rate x population, spread over the cohorts by a Rogers-Castro age
  profile; the resident rate comes from the national migration model of the county's census
  indicators and halves every 20 years; the in-migrant (floating) population is a separate
  stock.

The base population of every county is observed, not modelled: the county's row of the census
age-sex table (:mod:`qzfp.register.census`, the 2010 census by default) split to single years
of age, moved from the census moment to the start of the projection by the engine's own step
(backwards with its inverse).  Two populations are projected in one pass of the compiled step
(:mod:`qzfp.model.kernel`): the *registered* (户籍) population, which the register and the
association's rules count (scaled to the register's county totals at the register's year),
and the *resident* (常住) population, which the census counts.  Below the county, village
shares of the county's registered population drift with class-specific growth differentials
(urban, rural, remote) and are renormalised per county every year; indicators are allocated
with urban/rural factors and renormalised so that all county totals stay exact, and village
net migration is the balance residual so that ``P(t+1) = P(t) + births - deaths + net
migration`` holds at every level; a village's resident population is its registered
population times its county's resident/registered ratio.

Every array has a leading axis N (parameter sets or Monte Carlo paths).  Stocks are at
1 January of each year, flows happen during the year.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ParameterError, Problem
from ..register.census import Census, default_census
from ..rules.paramarrays import ParamArrays
from .allocation import (
    INDICATORS,
    AllocatedVillages,
    Allocation,
    allocate,
    allocation_params,
    prepare,
)
from .arrays import Blocks, group_sum
from .assumptions import Assumptions, yearly_assumptions
from .base import (
    Calibration,
    base_values,
    calibrate_prepared,
    migration_coefficients,
    stationary_base,
)
from .cohort import county_logk, county_tfr, project_counties
from .diagnostics import Diagnostics
from .kernel import FLOW_TOTALS, STOCK_TOTALS
from .migration import model_rate, resident_rates
from .mortality import AGES, MortalityModel, mortality_from

__all__ = [
    "AGES",
    "BASES",
    "INDICATORS",
    "Draws",
    "KEPT_VILLAGE_BYTES",
    "PROJECTIONS_KEPT",
    "demography_digest",
    "PopulationResult",
    "percentiles",
    "project",
    "project_calibrated",
    "project_from_assumptions",
    "register_calibration",
]

#: Prefix of the rulebook paths a projection reads (and only those).
_P = "demography."

#: Projections :func:`project` keeps, by the content of what they depend on [projection]: a
#: scenario re-run with other rules but the same demography (a slider on an allowance or a
#: threshold in the explorer) reuses its projection and village arrays.  One: a country's
#: result holds a few hundred MB, and the cache lets it go before the next is projected.
PROJECTIONS_KEPT = 1

#: Largest village array a projection holds when a run only sums it [byte] (the city's and a
#: province's are kept, 0.4 and 3.2 MB an indicator); a larger one (a country's: 64 MB) is
#: computed block by block where it is summed (:meth:`PopulationResult.village_blocks`), and
#: held only once :meth:`PopulationResult.village` is asked for it (a village table).
KEPT_VILLAGE_BYTES = 32 << 20

_PROJECTIONS: OrderedDict[tuple, tuple[Any, Any, Any, PopulationResult]] = OrderedDict()


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
    _by_age: Any = field(default=None, repr=False)
    _resident_ind: dict = field(default_factory=dict, repr=False)
    _blocks: dict = field(default_factory=dict, repr=False)
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    resident_migration0: np.ndarray | None = None

    # -- county arrays (computed lazily for percentile results) ---------------------------
    def _county_array(self, name: str) -> np.ndarray:
        if name not in self._arrays:
            if self._source is not None:
                self._arrays[name] = np.percentile(getattr(self._source, name), self.quantiles, axis=0)
            elif self._by_age is not None:  # the engine kept totals: project again, keeping the ages
                self._arrays.update(self._by_age())
                self._by_age = None
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
        return len(self.quantiles) if self._source is not None else int(self._arrays["e0_assumed"].shape[0])

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
            elif self._resident_ind:
                self._county_ind.update(self._resident_ind)
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
            # only the indicator asked for (and what it is made of: allocate adds pop, births and
            # deaths to net migration, the registered to a resident indicator), so that a run
            # reading village populations holds one village array, not seven
            inds = (indicator,)
            cind = self.county_indicators(resident=indicator in _RESIDENT_INDICATORS)
            v, s = allocate(self._prep, self._alloc, cind, self._end_pop, inds)
        else:
            cind = self.county_indicators(resident=indicator in _RESIDENT_INDICATORS)
            v, s = _percentile_below(self._source, self.quantiles, cind, indicator)
        for k in v:  # read-only: a result may be shared (:data:`PROJECTIONS_KEPT`)
            self._below[("village", k)] = _read_only(v[k])
            self._below[("township", k)] = _read_only(s[k])

    def village_blocks(self, indicator: str) -> np.ndarray | Blocks:
        """The village values of an indicator where a run only sums them: the village array
        when it is kept or small (at most :data:`KEPT_VILLAGE_BYTES`), else
        :class:`~qzfp.model.allocation.AllocatedVillages`, computed block by block where it is
        summed and never held (the same values, and the same sums, as :meth:`village`)."""
        if indicator not in INDICATORS:
            raise KeyError(f"unknown indicator {indicator!r}; expected one of {INDICATORS}")
        if ("village", indicator) in self._below or self._source is not None:
            return self.village(indicator)
        if self.n * len(self.years) * len(self._prep.v_pop0) * 8 <= KEPT_VILLAGE_BYTES:
            return self.village(indicator)
        if indicator not in self._blocks:
            resident = indicator in _RESIDENT_INDICATORS
            shares = self._blocks.get(("allocation", resident))
            if shares is None:
                cind = self.county_indicators(resident=resident)
                shares = self._blocks[("allocation", resident)] = Allocation(self._prep, self._alloc, cind,
                                                                             self._end_pop)
            self._blocks[indicator] = AllocatedVillages(shares, indicator)
        return self._blocks[indicator]

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
        if ("township", indicator) not in self._below:
            values = self.village_blocks(indicator)  # computes both when the village array is kept
            if isinstance(values, Blocks):  # summed block by block: the sums of the whole array
                p = self._prep
                self._below[("township", indicator)] = _read_only(group_sum(values, p.v_township,
                                                                            len(p.township_codes)))
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



def _read_only(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


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
        return allocate(prep, source._alloc, cind_q, None, (indicator,))
    t = len(source.years)
    cind = source.county_indicators(resident=indicator in _RESIDENT_INDICATORS)
    v_out = np.zeros((len(q), t, len(prep.v_pop0)))
    s_out = np.zeros((len(q), t, len(prep.township_codes)))
    for i in range(len(prep.county_codes)):  # a handful of counties, each vectorised
        vsel = prep.county_villages[i]
        if len(vsel) == 0:
            continue
        v, s = allocate(prep, source._alloc, cind, source._end_pop, (indicator,), (i,))
        v_out[..., vsel] = np.percentile(v[indicator], q, axis=0)
        s_out[..., prep.county_townships[i]] = np.percentile(s[indicator], q, axis=0)
    return {indicator: v_out}, {indicator: s_out}



@dataclass(frozen=True)
class Draws:
    """Monte Carlo deviations of B paths from the central assumptions (:mod:`qzfp.model.montecarlo`).

    Attributes
    ----------
    tfr_dev : (B, T) deviation of the city TFR [child/woman] (counties × their multiplier).
    e0_dev : (B, T) deviation of the standard life expectancy, both sexes [year].
    mig_dev : (B, C) persistent deviation of each county's resident net migration rate
        [per mille/year].
    reg_dev : (B, C) persistent deviation of each county's registered net migration rate
        [per mille/year].
    mort_dev : (B, C) persistent deviation of each county's log mortality level.
    """

    tfr_dev: np.ndarray
    e0_dev: np.ndarray
    mig_dev: np.ndarray
    reg_dev: np.ndarray
    mort_dev: np.ndarray

    @property
    def n(self) -> int:
        return int(self.tfr_dev.shape[0])

    def counties(self, sel: Any) -> Draws:
        """The deviations of some counties (every path and year)."""
        return Draws(self.tfr_dev, self.e0_dev, self.mig_dev[:, sel], self.reg_dev[:, sel], self.mort_dev[:, sel])


def project_calibrated(cal: Calibration, pa: ParamArrays, asm: Assumptions, model: MortalityModel,
                       inm0: np.ndarray | None = None, draws: Draws | None = None, *,
                       keep: np.ndarray | None = None, flows: bool = True, by_age: bool = True,
                       totals: bool = False) -> dict[str, Any]:
    """Project the registered and resident populations of calibrated counties (the one engine).

    Both :func:`project` (the counties of a register) and
    :func:`qzfp.model.county.project_census` (any county of a census table) run this.

    Parameters
    ----------
    cal : Calibration
        The counties' base at 1 January of ``pa.years[0]`` and their fitted rates.
    pa : ParamArrays
        Assumptions (N sets); the resident migration model's coefficients are read in the
        first year.
    asm : Assumptions
        ``yearly_assumptions(pa, variant)``.
    model : MortalityModel
    inm0 : (C,) in-migrant stock at the start [person] (0 when omitted).
    draws : Draws, optional
        Monte Carlo deviations (then B = ``draws.n`` paths, and ``pa`` has N = 1).
    keep, flows, by_age, totals : as :func:`qzfp.model.kernel.run_kernel` (stocks kept, flows
        kept, by age and/or as county totals).

    Returns
    -------
    dict
        The kernel's arrays (``pop (B, K, 2, C, 2, A)`` or ``stock``, …), ``m0`` (N|B, C) the resident
        migration rate at the census moment [per mille/year] and ``diagnostics``.
    """
    c = len(cal.mort_mult)
    t = len(pa.years)
    tfr, floored = county_tfr(asm, cal.fert_mult, None if draws is None else draws.tfr_dev)
    logk, clipped = county_logk(asm, model, cal.mort_mult, None if draws is None else draws.e0_dev,
                                None if draws is None else draws.mort_dev,
                                np.asarray(pa.years, dtype=float) + 0.5 > cal.moment)
    m0 = model_rate(cal.features, migration_coefficients(pa))  # (N, C)
    res = resident_rates(m0, pa.years, cal.moment, asm.half_life, asm.res_adj, cal.intercensal_residual)
    reg = np.broadcast_to(asm.mig_rate[:, :, None], res.shape)
    if draws is not None:  # the paths part after the census: before it the census is known
        after = (np.asarray(pa.years, dtype=float) + 0.5 > cal.moment)[None, :, None]
        res = res + draws.mig_dev[:, None, :] * after
        reg = reg + draws.reg_dev[:, None, :] * after
        m0 = m0 + draws.mig_dev
    mig = np.stack(np.broadcast_arrays(reg, res), axis=2)  # (B, T, 2, C)
    pop0 = np.stack([cal.base_pop, cal.base_resident])[None]
    inm = np.zeros((1, c)) if inm0 is None else np.asarray(inm0, dtype=float)[None]
    out = project_counties(pop0, inm, asm, tfr, logk, model, mig, np.arange(t), keep=keep, flows=flows,
                           by_age=by_age, totals=totals)
    out["m0"] = m0
    out["diagnostics"] = cal.diagnostics.replace(
        capped=int(out["capped"].sum()), paths=0 if draws is None else draws.n, tfr_floored=floored,
        e0_clipped=clipped)
    return out


def register_calibration(register: Any, pa: ParamArrays, asm: Assumptions, calibrate: bool = True,
                         census: Census | None = None) -> Calibration:
    """The base of a register's counties at ``pa``'s start year (cached; see :func:`project`)."""
    prep = prepare(register)
    start = int(pa.years[0])
    if not calibrate:
        return stationary_base(prep, pa, asm, mortality_from(pa))
    census = census or getattr(register, "census", None) or default_census()
    return calibrate_prepared(prep, census, start, base_values(pa), int(getattr(register, "year", start)))


def project_from_assumptions(register: Any, pa: ParamArrays, asm: Assumptions, variant: str, calibrate: bool,
                             census: Census | None = None, draws: Draws | None = None) -> PopulationResult:
    """:func:`project` with the yearly assumptions given (and Monte Carlo ``draws``, if any).

    The engine keeps each county's totals (:data:`INDICATORS`, summed in the kernel as numpy
    sums the ages); the arrays by sex and age (``county_pop`` …) are projected again, the same
    way, when first read (an age pyramid, the eligibility age): a country, a sweep or a Monte
    Carlo that reads totals holds no county × year × age array.
    """
    prep = prepare(register)
    model = mortality_from(pa)
    cal = register_calibration(register, pa, asm, calibrate, census)
    t = len(pa.years)
    out = project_calibrated(cal, pa, asm, model, prep.county_inm0, draws, by_age=False, totals=True)
    stock, flow = out["stock"], out["flow"]
    n = stock.shape[0]

    def by_age() -> dict[str, np.ndarray]:
        again = project_calibrated(cal, pa, asm, model, prep.county_inm0, draws)
        pop = again["pop"]
        return {
            "county_pop": pop[:, :t, 0],
            "county_births": again["births"][:, :, 0],
            "county_deaths": again["deaths"][:, :, 0],
            "county_net_migration": again["net_migration"][:, :, 0],
            "county_pop_resident": pop[:, :t, 1],
            "county_births_resident": again["births"][:, :, 1],
            "county_deaths_resident": again["deaths"][:, :, 1],
            "county_net_migration_resident": again["net_migration"][:, :, 1],
        }

    def total(basis: int, name: str) -> np.ndarray:  # (N, T, C), C-ordered as numpy's sums were
        a, names = (stock, STOCK_TOTALS) if name in STOCK_TOTALS else (flow, FLOW_TOTALS)
        return _read_only(np.ascontiguousarray(a[:, :t, basis, :, names.index(name)]))

    result = PopulationResult(
        years=np.asarray(pa.years),
        register=register,
        _arrays={
            "county_in_migrants": out["in_migrants"][:, :t],
            "e0_assumed": np.broadcast_to(np.clip(asm.e0 if draws is None else asm.e0 + draws.e0_dev[..., None],
                                                  20.0, 100.0), (n, t, 2)),
        },
        variant=variant,
        calibration=cal,
        census=cal.census,
        _prep=prep,
        _alloc=allocation_params(pa, t),
        _end_pop=np.ascontiguousarray(stock[:, t, 0, :, 0]),
        _by_age=by_age,
        _resident_ind={"resident_pop": total(1, "pop"), "resident_aged_60plus": total(1, "aged_60plus")},
        diagnostics=out["diagnostics"],
        resident_migration0=out["m0"],
    )
    result._county_ind.update(
        pop=total(0, "pop"),
        aged_60plus=total(0, "aged_60plus"),
        women_15_49=total(0, "women_15_49"),
        births=total(0, "births"),
        deaths=total(0, "deaths"),
        net_migration=total(0, "net_migration"),
        in_migrants=result.county_in_migrants,
    )
    return result


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
    own_census = getattr(register, "census", None)
    key = (id(register), getattr(register, "sha256", None), getattr(register, "year", None), id(census),
           id(own_census), str(variant), bool(calibrate), demography_digest(pa))
    hit = _PROJECTIONS.get(key)
    if hit is not None and hit[0] is register and hit[1] is census and hit[2] is own_census:
        _PROJECTIONS.move_to_end(key)
        return hit[3]
    while len(_PROJECTIONS) >= PROJECTIONS_KEPT:  # before projecting, so that the cache never holds two
        _PROJECTIONS.popitem(last=False)
    asm = yearly_assumptions(pa, variant)
    result = project_from_assumptions(register, pa, asm, variant, calibrate, census)
    _PROJECTIONS[key] = (register, census, own_census, result)
    return result


def demography_digest(pa: ParamArrays) -> str:
    """SHA-256 of everything of ``pa`` a projection reads: the years, and of every
    ``demography.*`` path its values (all N sets), dated values, earlier values and years in
    force (kept per ``pa`` object: a scenario's arrays are not changed in place)."""
    hit = _DIGESTS.get(id(pa))
    if hit is not None and hit[0] is pa:
        return hit[1]
    paths = [p for p in pa.paths() if p.startswith(_P)]
    parts: list[np.ndarray] = [np.asarray(pa.years, dtype=float)]
    sizes: list[int] = [pa.n]
    none = np.zeros(0)
    for path in paths:
        for a in (pa.data[path], *pa.dated.get(path, (none, none)), pa.prior.get(path, none),
                  pa.since.get(path, none)):
            a = np.ravel(a)
            sizes.append(a.size)
            parts.append(a.astype(float, copy=False))
    h = hashlib.sha256(";".join(paths).encode())
    h.update(np.asarray(sizes, dtype=np.int64).tobytes())
    h.update(np.concatenate(parts).tobytes())
    if len(_DIGESTS) >= 8:
        _DIGESTS.clear()
    _DIGESTS[id(pa)] = (pa, h.hexdigest())
    return _DIGESTS[id(pa)][1]


_DIGESTS: dict[int, tuple[ParamArrays, str]] = {}



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
        raise ParameterError(Problem("percentiles", "percentiles.out_of_range", got=q))
    if not isinstance(result, PopulationResult):
        return np.percentile(np.asarray(result), qt, axis=0)
    r = result._source if result._source is not None else result
    if result._source is not None:
        raise ParameterError(Problem("percentiles", "percentiles.already"))
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
        diagnostics=r.diagnostics,
    )
    out._county_ind.update({k: np.percentile(v, qt, axis=0) for k, v in r.county_indicators().items()})
    out._city_ind.update({k: np.percentile(v, qt, axis=0) for k, v in r.city_indicators().items()})
    return out
