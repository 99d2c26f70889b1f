"""Workload and staffing need of association cadres by the WHO WISN method.

WISN (Workload Indicators of Staffing Need, WHO user's manual, 2010) is applied
to three cadres:

===========================  ===========  =========================================
cadre                        computed per provided posts (from :mod:`qzfp.model.staffing`)
===========================  ===========  =========================================
``village_vice_president``   village      village vice-presidents (part-time)
``township_vice_president``  township     township vice-presidents incl. extra posts
``county_secretariat``       county       secretary-general + secretariat staff
===========================  ===========  =========================================

The steps of the manual, with units (all per parameter set N and year T)::

    AWT = (A - (B + C + D + E)) * F                                      [hour/year]
        A working days, B public holidays, C annual leave, D sick leave,
        E other leave [day/year]; F working hours per day [hour/day]
        (a part-time cadre has F = the hours per working day given to the post)
    standard workload_k = AWT / activity standard_k                    [unit/year]
        activity standard_k = unit time of workload component k        [hour/unit]
    CAS% = sum of category allowance standards                          [% of AWT]
    CAF  = 1 / (1 - CAS% / 100)                                         [1]
    IAF  = total IAS / AWT                                              [post]
        total IAS = sum of individual allowance standards              [hour/year]
    required = sum_k(annual workload_k / standard workload_k) * CAF + IAF    [post]
    WISN difference = provided - required                               [post]
    WISN ratio      = provided / required                               [1]

Individual allowances are the activities one designated cadre of each unit does
(e.g. the township vice-president attends township leadership meetings), so the
total IAS of a unit is the sum of the per-activity hours.

Annual workloads (volumes) come from the population projection, the staffing
result and the rulebook (see :data:`COMPONENTS` and ``docs/workload_and_budget.md``); the
re-election years and the training plan come from :mod:`qzfp.model.schedules`, the tidy
tables of a result from :mod:`qzfp.model.workload_tables`.
Category and individual allowances are read from every rulebook path under
``workload.<cadre>.category_allowance.`` / ``.individual_allowance.``, so a planner can
add one in ``workload.yaml`` without code changes.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import Label, ParameterError, Problem
from ..rules.paramarrays import ParamArrays
from .arrays import (
    BLOCK_MEMBERS,
    GROUP_BLOCK_BYTES,
    Blocks,
    kept_key,
    kept_last,
    kept_sum,
    pairwise_rows,
    unchangeable_owner,
    whole,
)
from .engine import (
    check_paths,
    eligibility_age_factor,
    param,
    population_array,
    population_for_rule,
    rural_villages,
    village_values,
)
from .schedules import election_years, training_plan
from .staffing import StaffingResult

CADRES: tuple[str, ...] = ("village_vice_president", "township_vice_president", "county_secretariat")
"""Cadres assessed, in order."""

LEVEL_OF_CADRE: dict[str, str] = {
    "village_vice_president": "village",
    "township_vice_president": "township",
    "county_secretariat": "county",
}

WORKING_TIME: tuple[tuple[str, str], ...] = (
    ("A", "working_days"),
    ("B", "public_holidays"),
    ("C", "annual_leave"),
    ("D", "sick_leave"),
    ("E", "other_leave"),
    ("F", "hours_per_day"),
)
"""WISN working-time inputs: (manual's letter, rulebook leaf under ``workload.<cadre>.working_time``)."""

ACTIVITY_DAYS: tuple[str, ...] = ("members_day", "world_population_day", "spring_festival", "slack_season")
"""The four activity occasions of the source document (5.29, 7.11, Spring Festival, slack season)."""

# (component, volume unit) per cadre; the standard is workload.<cadre>.standards.<component>.
COMPONENTS: dict[str, tuple[tuple[str, str], ...]] = {
    "village_vice_president": (
        *((f"{a}_event", "event") for a in ACTIVITY_DAYS),
        ("members_home", "home"),
        ("population_school", "school"),
        ("harmonious_family_nomination", "household"),
        ("home_visit", "visit"),
        ("reward_assistance_review", "eligible person"),
        ("migrant_service", "in-migrant"),
        ("self_governance_meeting", "meeting"),
        ("reelection", "re-election"),
        ("training_attendance", "course day"),
    ),
    "township_vice_president": (
        *((f"{a}_event", "event") for a in ACTIVITY_DAYS),
        ("village_supervision", "village"),
        ("members_home_and_school_supervision", "home or school"),
        ("harmonious_family_selection", "household"),
        ("reward_assistance_review", "eligible person"),
        ("migrant_association_support", "association"),
        ("migrant_service", "in-migrant"),
        ("shaoshengkuaifu_household", "household"),
        ("reelection", "re-election"),
        ("village_reelection_supervision", "village re-election"),
        ("training_attendance", "course day"),
        ("training_delivery", "course day"),
    ),
    "county_secretariat": (
        *((f"{a}_event", "event") for a in ACTIVITY_DAYS),
        ("township_supervision", "township"),
        ("reward_assistance_audit", "eligible person"),
        ("migrant_association_support", "association"),
        ("shaoshengkuaifu_household", "household"),
        ("reelection", "re-election"),
        ("township_reelection_supervision", "township re-election"),
        ("training_delivery", "course day"),
        ("health_education_session", "session"),
    ),
}
"""Workload components (health-service activities in WISN terms) per cadre."""

DRIVER_PATHS: tuple[str, ...] = (
    *(f"activities.{a}.events_per_year" for a in ACTIVITY_DAYS),
    "activities.members_home.share_of_villages",
    "activities.population_school.share_of_villages",
    "activities.harmonious_family.households_per_village",
    "reward_assistance.eligible_share",
    "reward_assistance.reads_resident_population",
    "reward_assistance.eligibility_age",
    "migrants.out_association.per_county",
    "shaoshengkuaifu.households_per_10000_rural",
    "elections.first_year",
    "elections.interval_years",
    "training.cycle_years",
    "training.batch_size",
    "training.course_days",
    "training.village_cadres_included",
    "workload.volumes.home_visits_per_woman_15_49",
    "workload.volumes.home_visits_per_birth",
    "workload.volumes.self_governance_meetings_per_village",
    "workload.volumes.health_education_sessions_per_10000",
)
"""Rulebook paths of the workload volumes (besides those of :mod:`qzfp.model.staffing`)."""


def workload_paths(pa: ParamArrays | None = None) -> list[str]:
    """Rulebook paths read by :func:`wisn`.

    Parameters
    ----------
    pa : ParamArrays, optional
        When given, the allowance paths present in it are included too.
    """
    paths = list(DRIVER_PATHS)
    for cadre in CADRES:
        paths += [f"workload.{cadre}.working_time.{leaf}" for _, leaf in WORKING_TIME]
        paths += [f"workload.{cadre}.standards.{comp}" for comp, _ in COMPONENTS[cadre]]
        if pa is not None:
            paths += allowance_paths(pa, cadre, "category_allowance")
            paths += allowance_paths(pa, cadre, "individual_allowance")
    return paths


def allowance_paths(pa: ParamArrays, cadre: str, kind: str) -> list[str]:
    """Paths of the category or individual allowance standards of a cadre held in ``pa``
    (looked up once per set of paths: every run of a scenario asks six times)."""
    return list(_allowance_paths(tuple(pa.data), f"workload.{cadre}.{kind}."))


@functools.lru_cache(maxsize=64)
def _allowance_paths(paths: tuple[str, ...], prefix: str) -> tuple[str, ...]:
    return tuple(sorted(p for p in paths if p.startswith(prefix)))


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class CadreWisn:
    """WISN of one cadre, per parameter set, year and unit (village/township/county).

    Attributes
    ----------
    cadre : str
    level : str
        ``village``, ``township`` or ``county``.
    awt : numpy.ndarray, (N, T)
        Available working time [hour/year].
    cas_percent : numpy.ndarray, (N, T)
        Total category allowance standard [% of AWT].
    caf : numpy.ndarray, (N, T)
        Category allowance factor [1].
    ias_hours : numpy.ndarray, (N, T)
        Total individual allowance standard [hour/year].
    iaf : numpy.ndarray, (N, T)
        Individual allowance factor [post].
    required_staff : numpy.ndarray or Blocks, (N, T, M)
        Required staff [post] as computed: a country's village cadre as
        :class:`WeightedBlocks` (summed block by block, never held); ``required`` is the array.
    provided_posts : numpy.ndarray or Blocks, (N, T, M)
        Provided posts [post] as staffing gives them (the village posts as
        :class:`~qzfp.model.arrays.Blocks`, which a country run sums without forming);
        ``provided`` is the array, and ``service_staff`` [post], ``workload_hours``
        [hour/year], ``difference`` [post] and ``ratio`` [1] are computed on access.
    components : Mapping
        For N == 1 (or when asked): component → (volume (N, T, M) [unit/year],
        volume unit, standard (N, T) [hour/unit]); each volume is computed on first
        access (see :class:`Components`), empty when not kept.
    """

    cadre: str
    level: str
    awt: np.ndarray
    cas_percent: np.ndarray
    caf: np.ndarray
    ias_hours: np.ndarray
    iaf: np.ndarray
    required_staff: np.ndarray | Blocks
    provided_posts: np.ndarray | Blocks
    components: Mapping = field(default_factory=dict)

    @property
    def required(self) -> np.ndarray:
        """Required staff [post], (N, T, M)."""
        return whole(self.required_staff)

    @property
    def provided(self) -> np.ndarray:
        """Provided posts [post], (N, T, M)."""
        return whole(self.provided_posts)

    @property
    def service_staff(self) -> np.ndarray:
        """Σ annual workload / standard workload [post], (N, T, M): (required − IAF) / CAF."""
        return (self.required - self.iaf[:, :, None]) / self.caf[:, :, None]

    @property
    def workload_hours(self) -> np.ndarray:
        """Σ annual workload × activity standard [hour/year], (N, T, M)."""
        return self.service_staff * self.awt[:, :, None]

    @property
    def difference(self) -> np.ndarray:
        """WISN difference = provided − required [post], (N, T, M)."""
        return self.provided - self.required

    @property
    def ratio(self) -> np.ndarray:
        """WISN ratio = provided / required [1], (N, T, M); ``inf`` where nothing is required."""
        req = self.required
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(req > 0, self.provided / np.where(req > 0, req, 1.0), np.inf)


@dataclass(frozen=True)
class WisnResult:
    """WISN of every cadre (see :class:`CadreWisn`), plus the staffing it is based on."""

    years: np.ndarray
    staffing: StaffingResult
    cadres: dict

    def __getitem__(self, cadre: str) -> CadreWisn:
        try:
            return self.cadres[cadre]
        except KeyError:
            raise ParameterError(Problem("", "workload.unknown_cadre", cadre=cadre,
                                                 choices=", ".join(CADRES))) from None


# --------------------------------------------------------------------------- engine


def available_working_time(pa: ParamArrays, cadre: str, n: int) -> np.ndarray:
    """AWT = (A − (B + C + D + E)) × F [hour/year], shape (n, T).

    Raises
    ------
    ParameterError
        AWT ≤ 0 (leave exceeds the working days or no hours per day).
    """
    v = {letter: param(pa, f"workload.{cadre}.working_time.{leaf}", n) for letter, leaf in WORKING_TIME}
    awt = (v["A"] - (v["B"] + v["C"] + v["D"] + v["E"])) * v["F"]
    if np.any(awt <= 0):
        i, j = np.argwhere(awt <= 0)[0]
        raise ParameterError(
            Problem(f"workload.yaml:{cadre}.working_time", "workload.no_working_time",
                    hours=awt[i, j], at=Label("where.set_year", set=i, year=pa.years[j]))
        )
    return awt


def _allowances(pa: ParamArrays, cadre: str, n: int, awt: np.ndarray) -> tuple[np.ndarray, ...]:
    cas = sum((param(pa, p, n) for p in allowance_paths(pa, cadre, "category_allowance")), np.zeros_like(awt))
    if np.any(cas >= 100):
        i, j = np.argwhere(cas >= 100)[0]
        raise ParameterError(
            Problem(f"workload.yaml:{cadre}.category_allowance", "workload.allowances_too_large",
                    pct=cas[i, j], at=Label("where.set_year", set=i, year=pa.years[j]))
        )
    ias = sum((param(pa, p, n) for p in allowance_paths(pa, cadre, "individual_allowance")), np.zeros_like(awt))
    return cas, 1.0 / (1.0 - cas / 100.0), ias, ias / awt


Terms = list  # list of (base array (N or 1, T, M or 1) or Masked, coefficient (N, T, 1) or None)


@dataclass(frozen=True)
class Masked:
    """A unit array times a 0/1 mask of the units (e.g. the rural villages' persons aged 60+).

    The product ``base * mask`` is formed only where it is used: block by block in a
    weighted sum (:func:`_blocked_weighted_sum`), whole for a component's volume on access.
    The values are those of ``base * mask``, element by element.
    """

    base: np.ndarray | Blocks
    mask: np.ndarray

    @property
    def shape(self) -> tuple[int, ...]:
        return self.base.shape

    def whole(self) -> np.ndarray:
        """``base * mask`` as one array."""
        return whole(self.base) * self.mask

    def block(self, lo: int, hi: int) -> np.ndarray:
        """``(base * mask)[..., lo:hi]``."""
        return _block(self.base, lo, hi) * self.mask[lo:hi]


def _block(b: np.ndarray | Blocks, lo: int, hi: int) -> np.ndarray:
    """Units ``lo`` to ``hi - 1`` of a unit array (of :class:`Blocks`: computed)."""
    return b.block(lo, hi) if isinstance(b, Blocks) else b[..., lo:hi]


def _whole(b: np.ndarray | Blocks | Masked) -> np.ndarray:
    return b.whole() if isinstance(b, (Masked, Blocks)) else b


def _volumes(pop: Any, st: StaffingResult, pa: ParamArrays) -> dict[str, dict[str, Terms]]:
    """Annual workload (volume) per component and cadre, as sums of terms.

    Each component's volume is ``Σ base × coefficient`` where ``base`` comes from the
    population or staffing (leading axis N or 1) and ``coefficient`` from the rulebook
    (N, T, 1). Keeping the terms apart lets :func:`wisn` multiply each large village
    array once, whatever the number of parameter sets.
    """
    reg = st.register
    n, t = st.n, len(st.years)
    v, s = st.n_villages, st.n_townships

    def p(path: str) -> np.ndarray:
        return param(pa, path, n)[:, :, None]

    def village(name: str) -> np.ndarray | Blocks:  # summed or weighed by blocks: never held whole
        return village_values(pop, name, t, v)

    one = np.ones((1, 1, 1))
    rural = rural_villages(reg)  # the same read-only array every run: its masked sums are kept
    aged = population_for_rule(pop, pa, "reward_assistance.reads_resident_population", "village",
                               "aged_60plus", t, v, pa.n, blocks=True)
    age_factor = eligibility_age_factor(pop, pa, n)
    share = p("reward_assistance.eligible_share")
    aged_rural: np.ndarray | Masked
    if age_factor is None:  # the rural villages' persons aged 60+, masked where summed
        aged_rural = Masked(aged, rural)
        eligible_t = st.to_township(aged, rural) * share
    else:  # eligibility age other than 60: persons of eligible age
        aged_rural = whole(aged) * rural * age_factor[:, :, np.asarray(reg.village_county, dtype=np.intp)]
        eligible_t = st.to_township(aged_rural) * share
    rural_pop_t = st.to_township(village("village_pop"), rural)  # mask applied in the sum
    ssk_t = rural_pop_t / 1e4 * p("shaoshengkuaifu.households_per_10000_rural")
    elect = election_years(pa, n)[:, :, None]
    plan = training_plan(st, pa)
    villages_t = np.bincount(np.asarray(reg.village_township, dtype=np.intp), minlength=s).astype(float)
    townships_c = np.bincount(np.asarray(reg.township_county, dtype=np.intp), minlength=st.n_counties).astype(float)
    events = {f"{a}_event": [(one, p(f"activities.{a}.events_per_year"))] for a in ACTIVITY_DAYS}
    homes_schools = p("activities.members_home.share_of_villages") + p("activities.population_school.share_of_villages")
    households = p("activities.harmonious_family.households_per_village")

    vol_v: dict[str, Terms] = dict(events)
    vol_v.update({
        "members_home": [(one, p("activities.members_home.share_of_villages"))],
        "population_school": [(one, p("activities.population_school.share_of_villages"))],
        "harmonious_family_nomination": [(one, households)],
        "home_visit": [(village("village_women_15_49"), p("workload.volumes.home_visits_per_woman_15_49")),
                       (village("village_births"), p("workload.volumes.home_visits_per_birth"))],
        "reward_assistance_review": [(aged_rural, share)],
        "migrant_service": [(village("village_in_migrants"), None)],
        "self_governance_meeting": [(one, p("workload.volumes.self_governance_meetings_per_village"))],
        "reelection": [(one, elect)],
        "training_attendance": [(one, (plan.attendance_days * plan.village_included)[:, :, None])],
    })
    vol_t: dict[str, Terms] = dict(events)
    vol_t.update({
        "village_supervision": [(villages_t[None, None, :], None)],
        "members_home_and_school_supervision": [(villages_t[None, None, :], homes_schools)],
        "harmonious_family_selection": [(villages_t[None, None, :], households)],
        "reward_assistance_review": [(eligible_t, None)],
        "migrant_association_support": [(st.migrant_associations, None)],
        "migrant_service": [(population_array(pop, "township_in_migrants", t, s), None)],
        "shaoshengkuaifu_household": [(ssk_t, None)],
        "reelection": [(one, elect)],
        "village_reelection_supervision": [(villages_t[None, None, :], elect)],
        "training_attendance": [(one, plan.attendance_days[:, :, None])],
        "training_delivery": [(plan.township_batches, plan.course_days[:, :, None])],
    })
    vol_c: dict[str, Terms] = dict(events)
    vol_c.update({
        "township_supervision": [(townships_c[None, None, :], None)],
        "reward_assistance_audit": [(st.to_county(eligible_t), None)],
        "migrant_association_support": [(st.to_county(st.migrant_associations) + st.out_migrant_associations, None)],
        "shaoshengkuaifu_household": [(st.to_county(ssk_t), None)],
        "reelection": [(one, elect)],
        "township_reelection_supervision": [(townships_c[None, None, :], elect)],
        "training_delivery": [(plan.county_batches, plan.course_days[:, :, None])],
        "health_education_session": [(st.county_pop / 1e4, p("workload.volumes.health_education_sessions_per_10000"))],
    })
    return {"village_vice_president": vol_v, "township_vice_president": vol_t, "county_secretariat": vol_c}


def _volume(terms: Terms) -> np.ndarray:
    """Σ base × coefficient of one component."""
    return sum(_whole(b) if c is None else _whole(b) * c for b, c in terms)


class Components(Mapping):
    """WISN components of one cadre: component → (volume, volume unit, standard).

    A read-only mapping in :data:`COMPONENTS` order.  The volume (N, T, M) [unit/year]
    of a component is computed from its terms (see :func:`_volumes`) on first access and
    kept, so a scenario that never shows the components table does not pay for the
    village-sized volume arrays.  The standard (N, T) [hour/unit] is held as given.
    """

    def __init__(self, specs: dict[str, tuple[Terms, str, np.ndarray]], shape: tuple[int, int, int]):
        self._specs = specs
        self._shape = shape
        self._done: dict[str, tuple[np.ndarray, str, np.ndarray]] = {}

    def __getitem__(self, comp: str) -> tuple[np.ndarray, str, np.ndarray]:
        if comp not in self._done:
            terms, unit, std = self._specs[comp]
            self._done[comp] = (np.broadcast_to(_volume(terms), self._shape), unit, std)
        return self._done[comp]

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)


def _weighted_sum(entries: list, shape: tuple) -> np.ndarray:
    """Σ base × weight for bases (1 or N, T, M or 1) and weights (N, T, 1), shape ``shape``."""
    n, t, m = shape
    if n == 1:  # one parameter set: accumulate, no (T, B, M) stack of the large arrays
        layouts = [b.base if isinstance(b, Masked) else b for b, _ in entries]
        strided = [b for b in layouts if isinstance(b, np.ndarray) and b.shape == shape and m > 1
                   and not b.flags.c_contiguous]
        if any(isinstance(b, Blocks) for b in layouts):  # a country's: summed where read
            return _kept_weighted_blocks(entries, shape)
        if strided or any(isinstance(b, Masked) for b, _ in entries):
            # accumulated in the layout of the village arrays
            return _kept_weighted_sum(entries, shape, bool(strided))
        out = np.zeros(shape)
        for b, w in entries:
            out += b * w
        return out
    entries = [(_whole(b), w) for b, w in entries]
    if all(b.shape[0] == 1 for b, _ in entries):
        bases = np.stack([np.broadcast_to(b[0], (t, m)) for b, _ in entries], axis=1)  # (T, B, M)
        weights = np.stack([w[:, :, 0] for _, w in entries], axis=-1)  # (N, T, B)
        # einsum's own loops, not BLAS: these are many small products, for which a
        # multi-threaded BLAS spends more time starting and spinning threads than computing
        # (10-60x slower on a busy 2-core machine); the result is C-contiguous (N, T, M).
        return np.einsum("ntb,tbm->ntm", weights, bases)
    return np.broadcast_to(sum(b * w for b, w in entries), shape)


#: The last village weighted sum (key, weak references to the arrays it read, result): a run
#: whose village arrays (the kept projection's) and weights are those of the previous run
#: reads the same read-only result instead of writing 64 MB again (the country's village
#: cadre).  One entry, dropped before another is computed, so it never adds to a peak.
_LAST_WEIGHTED: list = []

#: Bases of at most this many values are keyed by their content [value] (the ones of the
#: per-village constants), larger ones by their unchangeable memory (arrays.kept_key).
_SMALL_BASE = 4096


def _weighted_key(entries: list, shape: tuple) -> tuple | None:
    """Key of a weighted sum whose large bases cannot change, or None."""
    parts: list = [shape]
    owners: list = []
    for b, w in entries:
        arrays = (b.base, b.mask) if isinstance(b, Masked) else (b,)
        for a in arrays:
            if isinstance(a, Blocks):  # its values live as long as its owner
                parts.append(("blocks", id(a.owner), a.shape))
                owners.append(a.owner)
                continue
            a = np.asarray(a)
            if a.size <= _SMALL_BASE:
                parts.append((a.shape, a.dtype.str, a.tobytes()))
                continue
            key = kept_key("base", a)
            if key is None:
                return None
            parts.append(key)
            owners.append(unchangeable_owner(a))
        w = np.asarray(w)
        parts.append((w.shape, w.dtype.str, np.ascontiguousarray(w).tobytes()))
    return (tuple(parts), tuple(owners))


def _kept_weighted_sum(entries: list, shape: tuple, village_major: bool) -> np.ndarray:
    """:func:`_blocked_weighted_sum`, the same result read-only and kept while the arrays it
    read live, for the next run with the same bases and weights (see :data:`_LAST_WEIGHTED`)."""
    found = _weighted_key(entries, shape)
    if found is None:
        return _blocked_weighted_sum(entries, shape, village_major)
    key, owners = found

    def compute() -> np.ndarray:
        result = _blocked_weighted_sum(entries, shape, village_major)
        result.setflags(write=False)
        return result

    return kept_last(_LAST_WEIGHTED, key, owners, compute)


class WeightedBlocks(Blocks):
    """Σ base × weight of village bases, some of them :class:`Blocks` (a country's), computed
    block by block where it is read (:func:`_weighted_block`: each value the sum
    :func:`_blocked_weighted_sum` forms); its totals over the villages are numpy's pairwise sums
    of the C-ordered array, taken block by block (:meth:`exact_unit_sums`)."""

    def __init__(self, entries: list, shape: tuple):
        self.entries = entries
        self.shape = shape
        self.owner = np.zeros(0)
        self.owner.setflags(write=False)

    def block(self, lo: int, hi: int) -> np.ndarray:
        return np.ascontiguousarray(_weighted_block(self.entries, self.shape, lo, hi, True))

    def whole(self) -> np.ndarray:
        return _blocked_weighted_sum(self.entries, self.shape, True)

    def exact_unit_sums(self) -> np.ndarray | None:
        n, t, m = self.shape
        return kept_sum(lambda: _pairwise_rows(self, 0, m).reshape(n, t), "pairwise_unit_sums", self)


def _pairwise_rows(values: Blocks, lo: int, count: int) -> np.ndarray:
    """Each row's sum of members ``lo`` .. ``lo + count - 1`` in numpy's pairwise order
    (:func:`qzfp.model.arrays.pairwise_rows`: the halves cut as numpy cuts them), the spans of
    at most :data:`qzfp.model.arrays.BLOCK_MEMBERS` members formed one block at a time."""
    if count <= max(BLOCK_MEMBERS, 128):
        return pairwise_rows(values.block(lo, lo + count))
    half = count // 2
    half -= half % 8
    return _pairwise_rows(values, lo, half) + _pairwise_rows(values, lo + half, count - half)


def _kept_weighted_blocks(entries: list, shape: tuple) -> WeightedBlocks:
    """A :class:`WeightedBlocks`, the same one again for the same bases and weights, kept with
    the first of its :class:`Blocks` bases (``Blocks.keep_with``: a country's allocation, so
    with the kept projection, which no global then holds): its kept totals are read again by
    the next run."""
    found = _weighted_key(entries, shape)
    if found is None:
        return WeightedBlocks(entries, shape)
    first = next(b.base if isinstance(b, Masked) else b for b, _ in entries
                 if isinstance(b.base if isinstance(b, Masked) else b, Blocks))
    return first.keep_with(("weighted", found[0]), lambda: WeightedBlocks(entries, shape))


def _weighted_block(entries: list, shape: tuple, lo: int, hi: int, village_major: bool) -> np.ndarray:
    """Σ base × weight of units ``lo`` .. ``hi - 1``, (N, T, hi − lo), accumulated in the order of
    the entries (laid out village-major or C-ordered)."""
    n, t, m = shape
    acc = np.zeros((hi - lo, n, t)).transpose(1, 2, 0) if village_major else np.zeros((n, t, hi - lo))
    for b, w in entries:
        if isinstance(b, Masked):
            acc += b.block(lo, hi) * w
        else:
            acc += (_block(b, lo, hi) if b.shape[-1] == m else b) * w
    return acc


def _blocked_weighted_sum(entries: list, shape: tuple, village_major: bool) -> np.ndarray:
    """:func:`_weighted_sum` for one parameter set whose unit arrays are not C-ordered, or are
    :class:`Blocks` or :class:`Masked`.

    The village arrays of the population engine are laid out village-major; mixing
    that layout with a C-ordered result in every ``+=`` costs a pass through memory
    each.  The units are taken in blocks that fit in the processor cache
    (:data:`qzfp.model.arrays.GROUP_BLOCK_BYTES`): each block is accumulated in the layout of
    the bases (``village_major``), in the same order of terms (so every element is the same
    sum), and copied into the C-ordered result.  A :class:`Blocks` base is computed block by
    block here, so it is never held whole.
    """
    m = shape[-1]
    out = np.empty(shape)
    block = max(1, GROUP_BLOCK_BYTES // max(1, (out.size // m) * out.itemsize))
    for lo in range(0, m, block):
        hi = min(m, lo + block)
        out[..., lo:hi] = _weighted_block(entries, shape, lo, hi, village_major)
    return out


def _provided(st: StaffingResult, cadre: str) -> np.ndarray:
    if cadre == "village_vice_president":
        return st.village_posts
    if cadre == "township_vice_president":
        return st.township_vice_presidents
    return st.county_posts["secretary_general"] + st.county_posts["secretariat_staff"]


def wisn(
    pop: Any,
    st: StaffingResult,
    pa: ParamArrays,
    *,
    keep_components: bool | None = None,
    cadres: tuple[str, ...] = CADRES,
) -> WisnResult:
    """WISN per cadre, year and unit (formulas in the module docstring).

    Parameters
    ----------
    pop : PopulationResult-like
        Uses ``village_aged_60plus``, ``village_women_15_49``, ``village_births``,
        ``village_in_migrants`` (N, T, V) and ``township_in_migrants`` (N, T, S)
        [person], and ``register.villages["urban"]`` (rural = not urban).
    st : StaffingResult
        Posts from :func:`qzfp.model.staffing.staffing` (the provided staff).
    pa : ParamArrays
        Values of :func:`workload_paths` (N, T).
    keep_components : bool, optional
        Keep the per-component volumes (for :func:`components_table`; each is computed on
        first access, see :class:`Components`); default: when N == 1.
    cadres : tuple of str, optional
        Cadres to assess (all by default); a sweep that only needs township figures can
        skip the (N, T, V) village arrays.

    Returns
    -------
    WisnResult

    Raises
    ------
    ParameterError
        Missing parameters; AWT ≤ 0; category allowances ≥ 100 %; election interval
        < 1; training cycle or batch size ≤ 0.
    """
    check_paths(pa, workload_paths(), "workload")
    unknown = [c for c in cadres if c not in CADRES]
    if unknown:
        raise ParameterError(Problem("", "workload.unknown_cadres", cadres=unknown,
                                             choices=", ".join(CADRES)))
    if keep_components is None:
        keep_components = st.n == 1
    volumes = _volumes(pop, st, pa)
    n = st.n
    out = {}
    for cadre in cadres:
        awt = available_working_time(pa, cadre, n)
        cas, caf, ias, iaf = _allowances(pa, cadre, n, awt)
        provided = _provided(st, cadre)
        shape = provided.shape
        # hours = Σ_k volume_k × standard_k, grouping the terms by their base array so
        # that each large (village) array is multiplied once: Σ_base base × Σ coef × std
        weights: dict[int, list] = {}
        specs: dict[str, tuple[Terms, str, np.ndarray]] = {}
        for comp, unit in COMPONENTS[cadre]:
            std = param(pa, f"workload.{cadre}.standards.{comp}", n)[:, :, None]
            terms = volumes[cadre][comp]
            for base, coef in terms:
                w = std if coef is None else coef * std
                entry = weights.setdefault(id(base), [base, 0.0])
                entry[1] = entry[1] + w
            if keep_components:
                specs[comp] = (terms, unit, std[:, :, 0])
        # required = Σ_base base × (Σ coef × std) × CAF / AWT + IAF, as one batched matrix
        # product over years when the bases have no parameter-set axis (the usual case)
        scale = (caf / awt)[:, :, None]
        entries = [(b, np.broadcast_to(w * scale, (n, len(st.years), 1))) for b, w in weights.values()]
        entries.append((np.ones((1, 1, 1)), iaf[:, :, None]))
        required = _weighted_sum(entries, shape)
        out[cadre] = CadreWisn(
            cadre=cadre, level=LEVEL_OF_CADRE[cadre], awt=awt, cas_percent=cas, caf=caf,
            ias_hours=ias, iaf=iaf, required_staff=required, provided_posts=provided,
            components=Components(specs, shape) if keep_components else {},
        )
    return WisnResult(years=st.years, staffing=st, cadres=out)


__all__ = [
    "ACTIVITY_DAYS", "CADRES", "COMPONENTS", "DRIVER_PATHS", "CadreWisn", "Components", "WisnResult",
    "available_working_time", "wisn", "workload_paths",
]
