"""Budget line items per year and county, each traceable to the rule behind it.

Every line is ``amount = quantity × unit cost`` per year × county, where the
quantity comes from the population projection and the staffing result and the unit
cost from the rulebook (``qzfp/rules/policy/costs.yaml`` and the policy files). Each
line is split between the city, the county and the township by the shares in
``qzfp/rules/policy/funding.yaml`` (``funding.<line>.city|county|township``, summing to 1).

A rule's amount becomes a yearly unit cost by its rulebook unit: an amount in
``yuan/month`` is paid 12 times a year, one in ``yuan/year`` or per event once
(:func:`annual_factor`; the unit each line expects is checked against the
rulebook's).  Allowance lines (village, township and county vice-presidents) are
also indexed, counted from the year each amount took effect::

    unit cost_t = allowance_t [yuan/month] × 12 × I_t,
    I_t = Π_{e_t ≤ k < t} (1 + r_k),   r = costs.allowance_indexation_rate [1/year]

where e_t is the effective year of the allowance in force in year t (the first year
on whose 1 January it applied).  A decreed amount is paid as decreed in its first
year and grows from there, whatever year the projection starts in; years before the
rate's own first value count as r = 0.  With r = 0 (the baseline) I = 1.

All arrays carry a leading parameter-set axis N so that a sweep is one pass; the
tidy builders take one parameter set ``i``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import Label, ParameterError, Problem
from ..rules.paramarrays import ParamArrays
from .arrays import Blocks
from .engine import (
    check_paths,
    eligibility_age_factor,
    param,
    population_for_rule,
    rural_villages,
    tidy_index,
    village_values,
)
from .schedules import election_years, training_plan
from .staffing import StaffingResult
from .workload import ACTIVITY_DAYS

FUNDERS: tuple[str, ...] = ("city", "county", "township")
"""Who pays: shares ``funding.<line>.<funder>``."""


@dataclass(frozen=True)
class Line:
    """One budget line.

    Attributes
    ----------
    id : str
        Stable identifier (``village_vp_allowance``).
    rule_path : str
        Main rulebook path: the one that sets the unit cost.
    quantity_unit : str
        Unit of the quantity (``post``, ``event``, ``person`` ...).
    unit_cost_unit : str
        Unit of the unit cost, in yuan per quantity unit per year.
    description : str
        What the line pays for.
    indexed : bool
        Whether the allowance indexation applies.
    rule_unit : str
        Unit of the rule's value as the rulebook states it (``yuan/month`` ...); it
        sets the factor to a yearly cost (:func:`annual_factor`). Defaults to
        ``unit_cost_unit``.
    """

    id: str
    rule_path: str
    quantity_unit: str
    unit_cost_unit: str
    description: str
    indexed: bool = False
    rule_unit: str = ""

    def __post_init__(self) -> None:
        if not self.rule_unit:
            object.__setattr__(self, "rule_unit", self.unit_cost_unit)


def _activity_lines() -> list[Line]:
    out = []
    for a in ACTIVITY_DAYS:
        out.append(Line(f"{a}_village_events", f"costs.activities.{a}.village_event", "event", "yuan/event",
                        f"{a.replace('_', ' ')} events held by village associations"))
        out.append(Line(f"{a}_township_events", f"costs.activities.{a}.township_event", "event", "yuan/event",
                        f"{a.replace('_', ' ')} events held by township associations"))
    return out


#: Quantity units counted in whole numbers: a county pays whole persons, households, posts,
#: homes ... (not trainee-days, a product of trainees and course days).
WHOLE_UNITS = frozenset({"person", "household", "post", "home", "school", "association", "event",
                         "re-election", "batch"})

LINES: tuple[Line, ...] = (
    Line("village_vp_allowance", "village.vice_president.allowance", "post", "yuan/post/year",
         "post allowances of village vice-presidents (posts × monthly allowance × 12)", True, "yuan/month"),
    Line("township_vp_allowance", "township.vice_president.post_allowance", "post", "yuan/post/year",
         "family-planning post allowances of township vice-presidents", True, "yuan/month"),
    Line("county_vp_allowance", "county.vice_president.allowance", "post", "yuan/post/year",
         "allowances of county full-time vice-presidents", True, "yuan/month"),
    Line("county_secretariat", "costs.county.secretariat_cost_per_staff", "post", "yuan/post/year",
         "secretary-general and secretariat staff of the county association"),
    Line("training_trainee_days", "costs.training.per_trainee_day", "trainee-day", "yuan/trainee-day",
         "board, lodging and materials of trainees (trainees × course days)"),
    Line("training_batches", "costs.training.per_batch", "batch", "yuan/batch",
         "venue and teachers per training batch (batches = ceil(trainees / batch size))"),
    *_activity_lines(),
    Line("members_homes", "costs.activities.members_home.running_cost", "home", "yuan/home/year",
         "running costs of members' homes (会员之家)", rule_unit="yuan/year"),
    Line("population_schools", "costs.activities.population_school.running_cost", "school", "yuan/school/year",
         "running costs of population schools (人口学校)", rule_unit="yuan/year"),
    Line("harmonious_family_awards", "costs.activities.harmonious_family.award_per_household", "household",
         "yuan/household", "awards to harmonious-family model households"),
    Line("reelection_county", "costs.reelection.county", "re-election", "yuan/re-election",
         "re-election of the county association (election years only)"),
    Line("reelection_township", "costs.reelection.township", "re-election", "yuan/re-election",
         "re-elections of township associations (election years only)"),
    Line("reelection_village", "costs.reelection.village", "re-election", "yuan/re-election",
         "re-elections of village associations (election years only)"),
    Line("reward_assistance", "reward_assistance.amount", "person", "yuan/person/year",
         "reward-and-assistance payments to eligible rural people aged 60+"),
    Line("shaoshengkuaifu", "shaoshengkuaifu.support_per_household", "household", "yuan/household",
         "少生快富 support to poor family-planning households"),
    Line("fp_insurance", "insurance.premium", "person", "yuan/person/year",
         "family-planning insurance premiums of insured women aged 15-49"),
    Line("migrant_associations", "costs.operating.migrant_association", "association", "yuan/association/year",
         "operating costs of in-migrant associations", rule_unit="yuan/year"),
    Line("county_association_operating", "costs.operating.county_association", "association",
         "yuan/association/year", "operating costs of the county association", rule_unit="yuan/year"),
    Line("township_association_operating", "costs.operating.township_association", "association",
         "yuan/association/year", "operating costs of township associations", rule_unit="yuan/year"),
)
"""All budget lines, in report order."""

LINE_IDS: tuple[str, ...] = tuple(line.id for line in LINES)

BUDGET_PATHS: tuple[str, ...] = (
    *(line.rule_path for line in LINES),
    "costs.allowance_indexation_rate",
    "reward_assistance.eligible_share",
    "reward_assistance.reads_resident_population",
    "reward_assistance.eligibility_age",
    "migrants.out_association.per_county",
    "insurance.insured_share_women_15_49",
    "shaoshengkuaifu.households_per_10000_rural",
    "activities.members_home.share_of_villages",
    "activities.population_school.share_of_villages",
    "activities.harmonious_family.households_per_village",
    *(f"activities.{a}.events_per_year" for a in ACTIVITY_DAYS),
    "elections.first_year",
    "elections.interval_years",
    "training.cycle_years",
    "training.batch_size",
    "training.course_days",
    "training.village_cadres_included",
    *(f"funding.{line.id}.{f}" for line in LINES for f in FUNDERS),
)
"""Rulebook paths read by :func:`budget` (besides those of :mod:`qzfp.model.staffing`)."""

References = Mapping[str, str] | Callable[[str, int], str]
"""Reference text of a rule: a mapping path → text, or a callable (path, year) → text."""


@dataclass(frozen=True)
class BudgetResult:
    """Budget per parameter set, year, county and line.

    Attributes
    ----------
    years : numpy.ndarray, (T,)
    county_codes : numpy.ndarray of str, (C,)
    lines : tuple of Line, (L,)
    quantity : numpy.ndarray, (N, T, C, L)
        Quantity in the line's ``quantity_unit`` per year.
    unit_cost : numpy.ndarray, (N, T, L)
        Unit cost [yuan per quantity unit], indexation included.
    amount : numpy.ndarray, (N, T, C, L)
        quantity × unit cost [yuan/year].
    shares : numpy.ndarray, (N, T, L, 3)
        Funding shares of city, county, township [share].
    population : numpy.ndarray, (N, T, C)
        County population [person] (for per-capita figures).
    indexation : numpy.ndarray, (N, T, L)
        Allowance indexation factor I_t of each line [1] (1 for lines not indexed).
    """

    years: np.ndarray
    county_codes: np.ndarray
    lines: tuple
    quantity: np.ndarray
    unit_cost: np.ndarray
    amount: np.ndarray
    shares: np.ndarray
    population: np.ndarray
    indexation: np.ndarray

    @property
    def n(self) -> int:
        return int(self.amount.shape[0])

    def line_index(self, line_id: str) -> int:
        """Position of a line id (``ParameterError`` with the valid ids if unknown)."""
        ids = [ln.id for ln in self.lines]
        if line_id not in ids:
            raise ParameterError(Problem("", "budget.unknown_line", line=line_id,
                                         choices=", ".join(ids)))
        return ids.index(line_id)

    def line(self, line_id: str) -> np.ndarray:
        """Amount of one line [yuan/year], (N, T, C)."""
        return self.amount[..., self.line_index(line_id)]

    @property
    def funded(self) -> np.ndarray:
        """Amount paid by city, county, township [yuan/year], (N, T, C, L, 3)."""
        return self.amount[..., None] * self.shares[:, :, None, :, :]

    @property
    def county_total(self) -> np.ndarray:
        """Total per year and county [yuan/year], (N, T, C)."""
        return self.amount.sum(axis=-1)

    @property
    def year_total(self) -> np.ndarray:
        """City total per year [yuan/year], (N, T)."""
        return self.amount.sum(axis=(-1, -2))

    @property
    def horizon_total(self) -> np.ndarray:
        """City total over all modelled years [yuan], (N,)."""
        return self.year_total.sum(axis=-1)

    @property
    def per_capita(self) -> np.ndarray:
        """City total per resident per year [yuan/person/year], (N, T)."""
        pop = self.population.sum(axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(pop > 0, self.year_total / pop, np.nan)

    @property
    def county_per_capita(self) -> np.ndarray:
        """County total per resident [yuan/person/year], (N, T, C)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.population > 0, self.county_total / self.population, np.nan)


#: Times a year an amount in a rulebook unit is paid, by the unit's time part.
PAYMENTS_PER_YEAR: dict[str, int] = {"month": 12, "year": 1}


def annual_factor(line: Line, rule_unit: str | None = None) -> float:
    """Factor from the rule's amount to the line's yearly unit cost [1].

    ``yuan/month`` → 12 and ``yuan/year`` → 1 (unit cost per quantity unit per year);
    an amount per event, batch, household ... is paid per quantity unit as it is (1).

    Parameters
    ----------
    line : Line
    rule_unit : str, optional
        The rule's unit as the rulebook states it (default: ``line.rule_unit``).

    Raises
    ------
    ParameterError
        The rule's unit differs from the unit the line expects (named as ``file:key``).
    """
    unit = line.rule_unit if rule_unit is None else rule_unit
    if unit != line.rule_unit:
        file, _, key = line.rule_path.partition(".")
        raise ParameterError(Problem(f"{file}.yaml:{key}", "budget.unit_mismatch", unit=unit, line=line.id,
                expected=line.rule_unit, cost_unit=line.unit_cost_unit))
    _, _, per = unit.rpartition("/")
    return float(PAYMENTS_PER_YEAR.get(per, 1)) if unit.count("/") == 1 else 1.0


def indexation_factor(rate: np.ndarray, effective: np.ndarray | None = None,
                      years: np.ndarray | None = None) -> np.ndarray:
    """Allowance indexation I_t = Π_{e_t ≤ k < t} (1 + r_k) [1], shape (N, T).

    Parameters
    ----------
    rate : numpy.ndarray, shape (N, T) or (N, P + T)
        Indexation rate per year [1/year]; NaN (no rate rule yet) counts as 0.
    effective : numpy.ndarray, shape (N or 1, T), optional
        Effective year e_t of the amount in force in each of the last T years
        [year]; by default the first year of ``years`` (I_0 = 1).
    years : numpy.ndarray of int, shape (P + T,), optional
        Calendar years of the columns of ``rate`` (default 0, 1, ...).
    """
    rate = np.nan_to_num(np.asarray(rate, dtype=float), nan=0.0)
    n, m = rate.shape
    years = np.arange(m) if years is None else np.asarray(years)
    t = m if effective is None else np.asarray(effective).shape[1]
    growth = np.concatenate([np.ones((n, 1)), np.cumprod(1.0 + rate, axis=1)], axis=1)  # Π_{k<j}
    now = np.arange(m - t, m)
    if effective is None:
        start = np.zeros((1, t), dtype=np.intp)
    else:
        start = np.clip(np.asarray(effective, dtype=float) - years[0], 0, m).astype(np.intp)
    start = np.minimum(np.broadcast_to(start, (n, t)), now[None, :])
    rows = np.arange(n)[:, None]
    return growth[rows, now[None, :]] / growth[rows, start]


def check_funding(pa: ParamArrays, n: int, tol: float = 1e-9) -> np.ndarray:
    """Funding shares (n, T, L, 3) of every line, checked to sum to 1.

    Raises
    ------
    ParameterError
        One problem per line whose city + county + township shares differ from 1,
        or a share outside 0..1.
    """
    stacked = np.asarray([param(pa, f"funding.{ln.id}.{f}", n) for ln in LINES for f in FUNDERS])  # (L × 3, n, T)
    shares = np.ascontiguousarray(stacked.reshape(len(LINES), len(FUNDERS), n, -1).transpose(2, 3, 0, 1))
    problems = []
    total = shares.sum(axis=-1)
    wrong = (np.abs(total - 1.0) > tol) | np.any((shares < 0) | (shares > 1), axis=-1)  # (n, T, L)
    if not wrong.any():
        return shares
    for li, ln in enumerate(LINES):
        bad = np.abs(total[:, :, li] - 1.0) > tol
        out_of_range = np.any((shares[:, :, li] < 0) | (shares[:, :, li] > 1), axis=-1)
        if np.any(bad | out_of_range):
            i, j = np.argwhere(bad | out_of_range)[0]
            s = shares[i, j, li]
            problems.append(Problem(f"funding.yaml:{ln.id}", "budget.shares", city=s[0], county=s[1], township=s[2],
                    total=s.sum(), at=Label("where.set_year", set=i, year=pa.years[j])))
    if problems:
        raise ParameterError(problems)
    return shares


def _quantities(pop: Any, st: StaffingResult, pa: ParamArrays) -> dict[str, np.ndarray]:
    """Quantity of every line per parameter set, year and county, in the line's
    ``quantity_unit`` per year: line id → array broadcastable to (N, T, C).

    Posts from the staffing result, trainees and batches from the training plan,
    organisations and events from the village and township counts, eligible people from
    the population (see :func:`budget` for what ``pop`` provides).
    """
    n, t = st.n, len(st.years)
    reg = st.register
    v, c = st.n_villages, st.n_counties

    def p(path: str) -> np.ndarray:
        return param(pa, path, n)

    def village(name: str) -> np.ndarray | Blocks:  # (N_pop, T, V): summed before any (N, T) factor
        return village_values(pop, name, t, v)

    rural = rural_villages(reg)  # the same read-only array every run: its masked sums are kept
    villages_c = np.bincount(np.asarray(reg.village_county, dtype=np.intp), minlength=c).astype(float)
    townships_c = np.bincount(np.asarray(reg.township_county, dtype=np.intp), minlength=c).astype(float)
    ones_c = np.ones(c)
    elect = election_years(pa, n)[:, :, None]
    plan = training_plan(st, pa)
    col = lambda a: a[:, :, None]  # noqa: E731  (N, T) -> (N, T, 1)

    # Σ over the rural villages of each county: the mask is applied block by block in the sum
    aged = population_for_rule(pop, pa, "reward_assistance.reads_resident_population", "village", "aged_60plus",
                               t, v, pa.n, blocks=True)
    eligible = st.village_to_county(aged, rural) * col(p("reward_assistance.eligible_share"))
    age_factor = eligibility_age_factor(pop, pa, n)
    if age_factor is not None:  # eligibility age other than 60: persons of eligible age
        eligible = eligible * age_factor
    rural_pop = st.village_to_county(village("village_pop"), rural)
    insured = st.village_to_county(village("village_women_15_49")) * col(p("insurance.insured_share_women_15_49"))
    trainees = plan.county_trainees + st.to_county(plan.township_trainees)

    quantity: dict[str, np.ndarray] = {
        "village_vp_allowance": st.village_to_county(st.village_posts),
        "township_vp_allowance": st.to_county(st.township_vice_presidents),
        "county_vp_allowance": st.county_posts["vice_president"],
        "county_secretariat": st.county_posts["secretary_general"] + st.county_posts["secretariat_staff"],
        "training_trainee_days": trainees * col(plan.course_days),
        "training_batches": plan.county_batches + st.to_county(plan.township_batches),
        "members_homes": villages_c * col(p("activities.members_home.share_of_villages")),
        "population_schools": villages_c * col(p("activities.population_school.share_of_villages")),
        "harmonious_family_awards": villages_c * col(p("activities.harmonious_family.households_per_village")),
        "reelection_county": ones_c * elect,
        "reelection_township": townships_c * elect,
        "reelection_village": villages_c * elect,
        "reward_assistance": eligible,
        "shaoshengkuaifu": rural_pop / 1e4 * col(p("shaoshengkuaifu.households_per_10000_rural")),
        "fp_insurance": insured,
        "migrant_associations": st.to_county(st.migrant_associations) + st.out_migrant_associations,
        "county_association_operating": ones_c * np.ones((n, t, 1)),
        "township_association_operating": townships_c * np.ones((n, t, 1)),
    }
    for a in ACTIVITY_DAYS:
        events = col(p(f"activities.{a}.events_per_year"))
        quantity[f"{a}_village_events"] = villages_c * events
        quantity[f"{a}_township_events"] = townships_c * events
    return quantity


def unit_costs(pa: ParamArrays, n: int, t: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit cost of every line [yuan per quantity unit], indexation included, and the
    indexation factor I_t [1] (1 for lines not indexed); both (N, T, L)."""
    rate_years, rate = pa.history("costs.allowance_indexation_rate")
    rate = np.broadcast_to(rate, (n, rate.shape[1]))
    unit_cost = np.empty((n, t, len(LINES)))
    index = np.ones((n, t, len(LINES)))
    for li, ln in enumerate(LINES):
        if ln.indexed:
            index[:, :, li] = indexation_factor(rate, pa.effective_year(ln.rule_path), rate_years)
        unit_cost[:, :, li] = param(pa, ln.rule_path, n) * annual_factor(ln, pa.units.get(ln.rule_path)) \
            * index[:, :, li]
    return unit_cost, index


def budget(pop: Any, st: StaffingResult, pa: ParamArrays) -> BudgetResult:
    """Budget line items per parameter set, year and county.

    Parameters
    ----------
    pop : PopulationResult-like
        Uses ``village_aged_60plus`` and ``village_women_15_49`` (N, T, V) [person]
        and ``register.villages["urban"]`` (reward-and-assistance and 少生快富 count
        rural villages only).
    st : StaffingResult
        Posts and organisations from :func:`qzfp.model.staffing.staffing`.
    pa : ParamArrays
        Values of :data:`BUDGET_PATHS` (N, T).

    Returns
    -------
    BudgetResult
        Quantities in a unit of :data:`WHOLE_UNITS` (persons, households, posts, homes ...)
        are whole numbers per county and year (rounded half to even).

    Raises
    ------
    ParameterError
        Missing parameters, funding shares not summing to 1, invalid election or
        training parameters.
    """
    check_paths(pa, BUDGET_PATHS, "budget")
    n, t = st.n, len(st.years)
    reg = st.register
    c = st.n_counties
    shares = check_funding(pa, n)
    quantity = _quantities(pop, st, pa)
    unit_cost, index = unit_costs(pa, n, t)
    # Whole persons, households, posts ... per county and year, rounded half to even (GB/T
    # 8170), so that a line pays whole persons and quantity × unit cost = amount as printed.
    qty = np.stack([np.round(np.broadcast_to(quantity[ln.id], (n, t, c))) if ln.quantity_unit in WHOLE_UNITS
                    else np.broadcast_to(quantity[ln.id], (n, t, c)) for ln in LINES], axis=-1)
    amount = qty * unit_cost[:, :, None, :]
    return BudgetResult(
        years=st.years,
        county_codes=reg.counties["county_code"].to_numpy(dtype=object),
        lines=LINES,
        quantity=qty,
        unit_cost=unit_cost,
        amount=amount,
        shares=shares,
        population=st.county_pop,
        indexation=index,
    )


# --------------------------------------------------------------------------- tables


def _reference(references: References | None, path: str, year: int) -> str:
    if references is None:
        return ""
    if callable(references):
        return str(references(path, int(year)))
    if path not in references:
        raise ParameterError(Problem(path, "budget.no_reference"))
    return str(references[path])


def budget_table(br: BudgetResult, references: References | None = None, i: int = 0,
                 references_zh: References | None = None) -> pd.DataFrame:
    """Tidy budget of parameter set ``i``: one row per year × county × line.

    Columns: ``year``, ``county_code``, ``line``, ``rule_path``, ``reference`` (text of
    the rule's value in force that year, from ``references``), ``reference_zh`` (its
    Chinese text from ``references_zh``, ``""`` where there is none), ``quantity``,
    ``quantity_unit``, ``unit_cost_yuan``, ``amount_yuan``, ``city_yuan``,
    ``county_yuan``, ``township_yuan``.

    Parameters
    ----------
    references : mapping or callable, optional
        ``{rule_path: text}`` or ``f(rule_path, year) -> text`` (e.g. built from the
        Scenario's rulebook); ``""`` when omitted.
    references_zh : mapping or callable, optional
        The same for the Chinese references (the rulebook's ``reference_zh``); ``""`` when
        omitted.  :func:`qzfp.i18n.reference_text` picks a row's reference for a language.
    """
    t, c, nl = len(br.years), len(br.county_codes), len(br.lines)
    years = np.repeat(br.years, c * nl)
    county = np.tile(np.repeat(br.county_codes, nl), t)
    li = np.tile(np.arange(nl), t * c)
    ti = np.repeat(np.arange(t), c * nl)
    rule = np.array([ln.rule_path for ln in br.lines], dtype=object)
    refs = {(ln.rule_path, int(y)): _reference(references, ln.rule_path, int(y)) for ln in br.lines for y in br.years}
    refs_zh = {(ln.rule_path, int(y)): _reference(references_zh, ln.rule_path, int(y))
               for ln in br.lines for y in br.years} if references_zh is not None else None
    funded = br.funded[i].reshape(-1, 3)
    return pd.DataFrame({
        "year": years,
        "county_code": county,
        "line": np.array([ln.id for ln in br.lines], dtype=object)[li],
        "rule_path": rule[li],
        "reference": [refs[(r, int(y))] for r, y in zip(rule[li], years, strict=True)],
        "reference_zh": ([refs_zh[(r, int(y))] for r, y in zip(rule[li], years, strict=True)]
                         if refs_zh is not None else ""),
        "quantity": br.quantity[i].ravel(),
        "quantity_unit": np.array([ln.quantity_unit for ln in br.lines], dtype=object)[li],
        "unit_cost_yuan": br.unit_cost[i][ti, li],
        "amount_yuan": br.amount[i].ravel(),
        "city_yuan": funded[:, 0],
        "county_yuan": funded[:, 1],
        "township_yuan": funded[:, 2],
    })


def totals_table(br: BudgetResult, i: int = 0) -> pd.DataFrame:
    """Per year × county totals of parameter set ``i``, plus a ``county_code == "all"`` row per year.

    Columns: ``year``, ``county_code``, ``amount_yuan``, ``population``,
    ``per_capita_yuan``, ``city_yuan``, ``county_yuan``, ``township_yuan``.
    """
    c = len(br.county_codes)
    yr, k = tidy_index(br.years, c)
    funded = br.funded[i].sum(axis=-2)  # (T, C, 3)
    by_county = pd.DataFrame({
        "year": yr, "county_code": br.county_codes[k],
        "amount_yuan": br.county_total[i].ravel(), "population": br.population[i].ravel(),
        "per_capita_yuan": br.county_per_capita[i].ravel(),
        "city_yuan": funded[..., 0].ravel(), "county_yuan": funded[..., 1].ravel(),
        "township_yuan": funded[..., 2].ravel(),
    })
    city = pd.DataFrame({
        "year": br.years, "county_code": "all", "amount_yuan": br.year_total[i],
        "population": br.population[i].sum(axis=-1), "per_capita_yuan": br.per_capita[i],
        "city_yuan": funded[..., 0].sum(axis=-1), "county_yuan": funded[..., 1].sum(axis=-1),
        "township_yuan": funded[..., 2].sum(axis=-1),
    })
    return pd.concat([by_county, city], ignore_index=True)
