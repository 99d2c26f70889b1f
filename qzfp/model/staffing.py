"""Association posts required by the rules in force, year by year.

Pure functions of a population projection (a ``PopulationResult`` or any object
with the same attributes, see ``docs/contracts.md``) and a :class:`ParamArrays`.
Every array returned has a leading parameter-set axis ``N`` so that a sweep over
a threshold or a staffing rule is one vectorised pass.

Rules (from 衢委办[2006]101号; values in ``qzfp/rules/policy/*.yaml``):

- **Village** (行政村/社区): ``posts_per_village`` vice-presidents where the
  village population is *at or above* ``village.vice_president.population_threshold``
  (500人口以上: 以上 includes the number itself, so a village of exactly 500 qualifies).
  The projected population is a fractional number of people; it is first rounded to
  whole persons (``village.vice_president.population_rounding``, halves to the even
  neighbour as in GB/T 8170 and as the reports print numbers), so 499.5 counts as
  500 and gets a post while 498.5 counts as 498.
- **Township**: ``posts_per_township`` vice-presidents, plus, when
  ``extra_post_population_step`` > 0, one more for each *full* step of people above
  ``extra_post_above_population``::

      extra = floor(max(0, pop - above) / step)

  ``floor`` (not ``ceil``) is used so that an extra post is earned when a township
  *reaches* ``above + step`` people, the same at-or-above convention as the village
  rule; a township one person above ``above`` gets no extra post.
- **County**: president, vice-president, secretary-general and secretariat staff, as
  fixed numbers per county.
- **Migrant associations** per township: none below ``min_in_migrants`` in-migrants;
  from there ``max(1, floor(in_migrants / in_migrants_per_association))`` (one
  association as soon as the minimum is reached, one more per full
  ``in_migrants_per_association``).
- **Members** ``= population × per_1000_population / 1000`` and **volunteers**
  ``= volunteers_per_village`` per village; expected numbers, not rounded.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numba import njit

from ..errors import Label, ParameterError, Problem
from ..rules.paramarrays import ParamArrays
from .arrays import (
    BLOCK_MEMBERS,
    Blocks,
    group_sum,
    kept_key,
    kept_last,
    unchangeable_owner,
    unit_sum,
    whole,
)
from .engine import (
    check_paths,
    check_years,
    common_n,
    param,
    population_array,
    population_for_rule,
    tidy_index,
    village_values,
)

STAFFING_PATHS: tuple[str, ...] = (
    "village.vice_president.population_threshold",
    "village.vice_president.posts_per_village",
    "village.vice_president.population_rounding",
    "township.vice_president.posts_per_township",
    "township.vice_president.extra_post_population_step",
    "township.vice_president.extra_post_above_population",
    "county.president.posts",
    "county.vice_president.posts",
    "county.secretary_general.posts",
    "county.secretariat.staff",
    "migrants.association.in_migrants_per_association",
    "migrants.association.min_in_migrants",
    "migrants.out_association.per_county",
    "members.per_1000_population",
    "members.volunteers_per_village",
    "village.vice_president.reads_resident_population",
    "township.vice_president.reads_resident_population",
    "members.reads_resident_population",
)
"""Rulebook paths read by :func:`staffing`."""

COUNTY_POSTS: tuple[tuple[str, str], ...] = (
    ("president", "county.president.posts"),
    ("vice_president", "county.vice_president.posts"),
    ("secretary_general", "county.secretary_general.posts"),
    ("secretariat_staff", "county.secretariat.staff"),
)
"""County posts: (post id, rulebook path)."""


# --------------------------------------------------------------------------- helpers


def _frozen(a: np.ndarray) -> np.ndarray:
    """``a`` made read-only (an aggregate kept on a result must not be changed in place)."""
    a.flags.writeable = False
    return a


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class StaffingResult:
    """Posts and organisations required by the rules, per parameter set and year.

    Attributes
    ----------
    years : numpy.ndarray, shape (T,)
    register : Register-like
        The register the population was projected on.
    village_pop_values : numpy.ndarray or Blocks, (N or 1, T, V)
        Registered (户籍) village population [person] as the population engine gives it (a
        country's as :class:`~qzfp.model.arrays.Blocks`, summed where read);
        ``village_pop`` (N, T, V) is the array.
    township_pop, county_pop : numpy.ndarray, (N, T, S) / (N, T, C)
        Registered population [person] (county = sum of its townships); each rule
        reads the population its ``reads_resident_population`` parameter names.
    at_or_above_threshold : numpy.ndarray of bool, shape (N, T, V)
        Village population counted by the rule ≥ threshold (read-only).
    posts_per_village : numpy.ndarray, shape (N or 1, T)
        ``village.vice_president.posts_per_village`` in force [post]; ``village_vice_presidents``
        (N, T, V) [post], these posts where the village is at or above the threshold and 0
        elsewhere, is computed from the two on access and summed by blocks
        (:attr:`village_posts`): a country run holds 8 MB of flags, not 64 MB of posts.
    village_rule_values : numpy.ndarray or Blocks, shape (N or 1, T, V)
        Village population the threshold rule reads (registered or resident) [person];
        ``village_rule_pop`` is the array.
    population_rounding : numpy.ndarray, shape (N or 1, T, 1)
        ``village.vice_president.population_rounding`` in force [person];
        ``village_pop_counted`` (N, T, V), the village population as the threshold rule
        counts it (rounded to that many persons) [person], is computed from these two on
        access (not held: a country run has 500,000 villages).
    township_base_posts, township_extra_posts : numpy.ndarray, shape (N, T, S)
        Township vice-president posts [post]: the fixed number and the extra-post rule.
    county_posts : dict of str to numpy.ndarray, each (N, T, C)
        County posts by post id (see :data:`COUNTY_POSTS`) [post].
    migrant_associations : numpy.ndarray, shape (N, T, S)
        In-migrant associations per township [association].
    out_migrant_associations : numpy.ndarray, shape (N, T, C)
        Associations of the county's out-migrants (外出人口计生协) [association].
    members_per_1000, volunteers_per_village : numpy.ndarray, shape (N, T)
        The member and volunteer ratios in force; ``village_members`` and
        ``village_volunteers`` (N, T, V) [person] are computed from them on access.
    member_base_values : numpy.ndarray or Blocks, (N or 1, T, V), optional
        The village population members are counted in (``members.reads_resident_population``;
        the registered population when None); ``member_base_pop`` is the array.
    """

    years: np.ndarray
    register: Any
    village_pop_values: np.ndarray | Blocks
    township_pop: np.ndarray
    county_pop: np.ndarray
    at_or_above_threshold: np.ndarray
    posts_per_village: np.ndarray
    township_base_posts: np.ndarray
    township_extra_posts: np.ndarray
    county_posts: dict
    migrant_associations: np.ndarray
    out_migrant_associations: np.ndarray
    members_per_1000: np.ndarray
    volunteers_per_village: np.ndarray
    village_rule_values: np.ndarray | Blocks
    population_rounding: np.ndarray
    member_base_values: np.ndarray | Blocks | None = None

    @property
    def village_pop(self) -> np.ndarray:
        """Registered village population [person], (N, T, V) (formed on access when the
        population engine gives it as blocks)."""
        return np.broadcast_to(whole(self.village_pop_values), self.at_or_above_threshold.shape)

    @property
    def village_rule_pop(self) -> np.ndarray:
        """Village population the threshold rule reads [person], (N or 1, T, V)."""
        return whole(self.village_rule_values)

    @property
    def member_base_pop(self) -> np.ndarray | None:
        """The village population members are counted in [person], (N, T, V), or None."""
        if self.member_base_values is None:
            return None
        return np.broadcast_to(whole(self.member_base_values), self.at_or_above_threshold.shape)

    @property
    def village_pop_counted(self) -> np.ndarray:
        """Village population as the threshold rule counts it [person], (N, T, V): rounded to
        ``village.vice_president.population_rounding`` persons (:func:`rounded_population`)."""
        counted = rounded_population(self.village_rule_pop, self.population_rounding)
        return np.broadcast_to(counted, self.at_or_above_threshold.shape)

    @functools.cached_property
    def village_posts(self) -> VillagePosts:
        """Village vice-president posts [post] as :class:`~qzfp.model.arrays.Blocks`, (N, T, V):
        what the engines sum (per township, per county, the city), block by block."""
        return VillagePosts(self.at_or_above_threshold, self.posts_per_village)

    @property
    def village_vice_presidents(self) -> np.ndarray:
        """Village vice-president posts [post], (N, T, V) (formed on access)."""
        return self.village_posts.whole()

    @functools.cached_property
    def villages_without_vp(self) -> np.ndarray:
        """Villages without a vice-president post, (N, T, V) bool, read-only:
        ``village_vice_presidents <= 0``."""
        return without_post(self.at_or_above_threshold, self.posts_per_village)

    # ---- shapes
    @property
    def _members_values(self) -> np.ndarray | Blocks:
        """The population members are counted in (``members.reads_resident_population``)."""
        return self.village_pop_values if self.member_base_values is None else self.member_base_values

    @property
    def _members_pop(self) -> np.ndarray:
        return self.village_pop if self.member_base_values is None else self.member_base_pop

    @property
    def n(self) -> int:
        """Number of parameter sets N."""
        return int(self.at_or_above_threshold.shape[0])

    @property
    def n_villages(self) -> int:
        return int(self.at_or_above_threshold.shape[2])

    @property
    def n_townships(self) -> int:
        return int(self.township_base_posts.shape[2])

    @property
    def n_counties(self) -> int:
        return int(self.county_pop.shape[2])

    # ---- members and volunteers
    @property
    def village_members(self) -> np.ndarray:
        """Association members per village [person], (N, T, V)."""
        return self._members_pop * (self.members_per_1000 / 1000.0)[:, :, None]

    @property
    def village_volunteers(self) -> np.ndarray:
        """Volunteers per village [person], (N, T, V)."""
        return np.broadcast_to(self.volunteers_per_village[:, :, None], self.at_or_above_threshold.shape)

    @property
    def township_members(self) -> np.ndarray:
        """Association members per township [person], (N, T, S)."""
        return self.to_township(self._members_values) * (self.members_per_1000 / 1000.0)[:, :, None]

    @property
    def township_volunteers(self) -> np.ndarray:
        """Volunteers per township [person], (N, T, S)."""
        counts = np.bincount(np.asarray(self.register.village_township, dtype=np.intp), minlength=self.n_townships)
        return self.volunteers_per_village[:, :, None] * counts

    # ---- aggregates (computed once per result and kept read-only: the result is
    # immutable, and the summary, the ratios, WISN, the budget and the tables all use them)
    @functools.cached_property
    def township_vice_presidents(self) -> np.ndarray:
        """Township vice-president posts incl. extra posts [post], (N, T, S)."""
        return _frozen(self.township_base_posts + self.township_extra_posts)

    @functools.cached_property
    def county_total_posts(self) -> np.ndarray:
        """All county-level association posts [post], (N, T, C)."""
        return _frozen(sum(self.county_posts.values()))

    def to_township(self, village_values: np.ndarray, factor: np.ndarray | None = None) -> np.ndarray:
        """Sum a (N, T, V) village array (times ``factor``, see :func:`group_sum`) per township, (N, T, S)."""
        return group_sum(village_values, self.register.village_township, self.n_townships, factor)

    def to_county(self, township_values: np.ndarray) -> np.ndarray:
        """Sum a (N, T, S) township array per county, (N, T, C)."""
        return group_sum(township_values, self.register.township_county, self.n_counties)

    def village_to_county(self, village_values: np.ndarray, factor: np.ndarray | None = None) -> np.ndarray:
        """Sum a (N, T, V) village array (times ``factor``, see :func:`group_sum`) per county, (N, T, C)."""
        return group_sum(village_values, self.register.village_county, self.n_counties, factor)

    @functools.cached_property
    def township_village_vice_presidents(self) -> np.ndarray:
        """Village vice-presidents per township [post], (N, T, S)."""
        return _frozen(self.to_township(self.village_posts))

    @functools.cached_property
    def township_total_posts(self) -> np.ndarray:
        """Township plus village vice-president posts per township [post], (N, T, S)."""
        return _frozen(self.township_vice_presidents + self.township_village_vice_presidents)

    @functools.cached_property
    def county_all_posts(self) -> np.ndarray:
        """County, township and village posts in each county [post], (N, T, C)."""
        return _frozen(self.county_total_posts + self.to_county(self.township_total_posts))


# --------------------------------------------------------------------------- engine


def staffing(pop: Any, pa: ParamArrays) -> StaffingResult:
    """Posts required by the rules in force each year.

    Parameters
    ----------
    pop : PopulationResult-like
        ``years`` (T,), ``register`` (with ``villages``, ``townships``, ``counties``
        tables and index arrays ``village_township``, ``village_county``,
        ``township_county``), ``village_pop`` (N, T, V) [person], ``township_pop``
        (N, T, S) [person], ``township_in_migrants`` (N, T, S) [person]; N may be 1.
    pa : ParamArrays
        Values of :data:`STAFFING_PATHS` (N, T); N may be 1.

    Returns
    -------
    StaffingResult
        Arrays with leading N = max(population N, parameter N).

    Raises
    ------
    ParameterError
        Missing parameters, mismatched years or parameter-set counts, or a migrant
        association size ≤ 0.
    RegisterError
        Population arrays of the wrong shape.
    """
    check_paths(pa, STAFFING_PATHS, "staffing")
    years = check_years(pop, pa)
    reg = pop.register
    t = len(years)
    v, s, c = len(reg.villages), len(reg.townships), len(reg.counties)
    vpop = village_values(pop, "village_pop", t, v)  # a country's as blocks: summed where read, never held
    tpop = population_array(pop, "township_pop", t, s)
    tmig = population_array(pop, "township_in_migrants", t, s)
    n = common_n(pa, vpop, tpop, tmig)
    tpop = np.broadcast_to(tpop, (n, t, s))
    tmig = np.broadcast_to(tmig, (n, t, s))

    def p(path: str) -> np.ndarray:
        return param(pa, path, n)[:, :, None]

    per_assoc = param(pa, "migrants.association.in_migrants_per_association", n)
    if np.any(per_assoc <= 0):
        i, j = np.argwhere(per_assoc <= 0)[0]
        raise ParameterError(
            Problem("migrants.yaml:association.in_migrants_per_association", "schedule.bad_value",
                    rule=Label("rule.positive"), at=Label("where.set_year", set=i, year=years[j]),
                    value=per_assoc[i, j])
        )

    v_rule = population_for_rule(pop, pa, "village.vice_president.reads_resident_population", "village", "pop",
                                 t, v, n, blocks=True)
    rounding = p("village.vice_president.population_rounding")
    if v_rule.shape[0] == 1 and rounding.shape[0] > 1 and np.all(rounding == rounding[:1]):
        rounding = rounding[:1]  # one population, one rounding: round once for every parameter set
    posts = param(pa, "village.vice_president.posts_per_village", n)
    if posts.shape[0] > 1 and np.all(posts == posts[:1]):
        posts = posts[:1]
    at_or_above = kept_flags(v_rule, rounding[:, :, 0], param(pa, "village.vice_president.population_threshold", n), n)

    step = p("township.vice_president.extra_post_population_step")
    above = p("township.vice_president.extra_post_above_population")
    t_rule = population_for_rule(pop, pa, "township.vice_president.reads_resident_population", "township", "pop",
                                 t, s, n)
    excess = np.maximum(t_rule - above, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        extra = np.where(step > 0, np.floor(excess / np.where(step > 0, step, 1.0)), 0.0)
    base = np.broadcast_to(p("township.vice_president.posts_per_township"), (n, t, s)).copy()

    county_posts = {
        post: np.broadcast_to(p(path), (n, t, c)).copy() for post, path in COUNTY_POSTS
    }

    min_mig = p("migrants.association.min_in_migrants")
    assoc = np.where(
        (tmig >= min_mig) & (tmig > 0),
        np.maximum(1.0, np.floor(tmig / per_assoc[:, :, None])),
        0.0,
    )

    county_pop = group_sum(tpop, reg.township_county, c)

    return StaffingResult(
        years=years,
        register=reg,
        village_pop_values=vpop,
        township_pop=tpop,
        county_pop=county_pop,
        at_or_above_threshold=at_or_above,
        posts_per_village=np.array(posts, dtype=float),
        township_base_posts=base,
        township_extra_posts=extra,
        county_posts=county_posts,
        migrant_associations=assoc,
        out_migrant_associations=np.broadcast_to(p("migrants.out_association.per_county"), (n, t, c)).copy(),
        members_per_1000=param(pa, "members.per_1000_population", n).copy(),
        member_base_values=population_for_rule(pop, pa, "members.reads_resident_population", "village", "pop",
                                               t, v, n, blocks=True),
        volunteers_per_village=param(pa, "members.volunteers_per_village", n).copy(),
        village_rule_values=v_rule,
        population_rounding=rounding,
    )


class VillagePosts(Blocks):
    """Village vice-president posts (N, T, V) [post]: ``posts[n, t]`` where the village is at or
    above the threshold, 0 elsewhere, formed block by block from the flags (of the layout of
    the flags: village-major for the population engine's).

    Whole posts (the rule's are) are summed as the count of villages at or above the threshold
    times the posts: sums of whole numbers below 2**53 are exact in any order, so these are the
    numbers the posts' own sums give, from the 1-byte flags (whose sums are kept while the flags
    are, :func:`kept_flags`).
    """

    def __init__(self, at_or_above: np.ndarray, posts: np.ndarray):
        self.at_or_above = at_or_above
        self.posts = np.array(posts, dtype=float)[:, :, None]  # its own: the kept sums cannot go stale
        self.posts.setflags(write=False)
        self.shape = at_or_above.shape
        self.owner = np.zeros(0)
        self.owner.setflags(write=False)
        whole_posts = np.all(np.isfinite(posts)) and np.all(posts == np.round(posts))
        self._counted = bool(whole_posts and np.abs(posts).max(initial=0.0) * max(self.shape[-1], 1) < 2.0**52)

    def block(self, lo: int, hi: int) -> np.ndarray:
        return np.where(self.at_or_above[..., lo:hi], self.posts, 0.0)

    def exact_group_sum(self, index: np.ndarray, k: int, factor: np.ndarray | None) -> np.ndarray | None:
        if not self._counted or factor is not None:
            return None
        return group_sum(self.at_or_above, index, k) * self.posts

    def exact_unit_sums(self) -> np.ndarray | None:
        if not self._counted:
            return None
        counts = np.stack([unit_sum(f) for f in self.at_or_above])  # (N, T) int64, exact
        return counts * self.posts[:, :, 0]


#: The last flags of the threshold rule (:func:`qzfp.model.arrays.kept_last`: key, weak
#: reference to what they were computed from, (flags, villages without a post by posts)): a run
#: whose rule population (the kept projection's), rounding and threshold are the last run's
#: reads the same read-only flags, and so the sums kept of them, instead of computing a
#: country's 500,000 villages again.  One entry.
_LAST_FLAGS: list = []


def kept_flags(pop: np.ndarray | Blocks, interval: np.ndarray, threshold: np.ndarray, n: int) -> np.ndarray:
    """:func:`_village_flags`, the same read-only flags again for the same population (one that
    cannot change: read-only arrays or :class:`~qzfp.model.arrays.Blocks`), rounding, threshold
    and N (see :data:`_LAST_FLAGS`)."""
    interval = np.asarray(interval, dtype=float)
    threshold = np.asarray(threshold, dtype=float)
    pkey = kept_key("flags", pop)
    if pkey is None:
        return _village_flags(pop, interval, threshold, n)
    key = (pkey, n, interval.shape, interval.tobytes(), threshold.shape, threshold.tobytes())
    owner = pop.owner if isinstance(pop, Blocks) else unchangeable_owner(pop)
    flags, _ = kept_last(_LAST_FLAGS, key, (owner,), lambda: (_village_flags(pop, interval, threshold, n), {}))
    return flags


def without_post(flags: np.ndarray, posts: np.ndarray) -> np.ndarray:
    """Villages without a vice-president post, (N, T, V) bool, read-only: not at or above the
    threshold, or no post per village (``posts`` (N or 1, T)); the same array again for the kept
    flags and the same posts (so that sums over it are kept too)."""
    last = _LAST_FLAGS[:1]
    memo = last[0][2][1] if last and last[0][2][0] is flags else None
    pkey = (posts.shape, np.asarray(posts, dtype=float).tobytes())
    hit = None if memo is None else memo.get(pkey)
    if hit is not None:
        return hit
    out = ~flags | (posts <= 0)[:, :, None]
    out.setflags(write=False)
    if memo is not None:
        memo.clear()
        memo[pkey] = out
    return out


def _village_flags(pop: np.ndarray, interval: np.ndarray, threshold: np.ndarray, n: int) -> np.ndarray:
    """The village rule in one compiled pass: whether each village's counted population is at
    or above the threshold.

    The same values as ``counted = rounded_population(pop, interval)`` and ``counted >=
    threshold``, without their villages × years temporaries.

    Parameters
    ----------
    pop : (N or 1, T, V) population the rule reads [person], any layout, or Blocks (taken
        block by block).
    interval : (N or 1, T) rounding interval [person] (0: not rounded).
    threshold : (N or 1, T) population threshold [person].
    n : int
        Parameter sets N.

    Returns
    -------
    numpy.ndarray of bool, (N, T, V), read-only
        Laid out village-major when ``pop`` is (as numpy's array expressions lay them out).
    """
    _, t, v = pop.shape
    first = pop.block(0, min(v, 2)) if isinstance(pop, Blocks) else pop
    village_major = v > 1 and t > 1 and abs(first.strides[2]) > abs(first.strides[1])
    memory = np.empty((v, n, t) if village_major else (n, t, v), dtype=bool)
    at_or_above = memory.transpose(1, 2, 0) if village_major else memory
    f = np.ascontiguousarray
    interval, threshold = f(interval, dtype=np.float64), f(threshold, dtype=np.float64)
    step = BLOCK_MEMBERS if isinstance(pop, Blocks) else max(v, 1)
    for lo in range(0, v, step):
        hi = min(v, lo + step)
        part = pop.block(lo, hi) if isinstance(pop, Blocks) else pop
        _village_flags_kernel(np.asarray(part, dtype=np.float64), interval, threshold, village_major,
                              at_or_above[..., lo:hi])
    memory.setflags(write=False)  # never changed: sums of the flags can be kept
    at_or_above.setflags(write=False)
    return at_or_above


@njit(cache=True)
def _village_flags_kernel(pop, interval, threshold, village_major, at_or_above):  # pragma: no cover - compiled
    n, t, v = at_or_above.shape
    if village_major:  # villages outermost: each village's years are next to each other
        for m in range(v):
            for i in range(n):
                for j in range(t):
                    at_or_above[i, j, m] = _at_or_above(pop, interval, threshold, i, j, m)
    else:
        for i in range(n):
            for j in range(t):
                for m in range(v):
                    at_or_above[i, j, m] = _at_or_above(pop, interval, threshold, i, j, m)


@njit(cache=True, inline="always")
def _at_or_above(pop, interval, threshold, i, j, m):  # pragma: no cover - compiled
    x = pop[i if pop.shape[0] > 1 else 0, j, m]
    step = interval[i if interval.shape[0] > 1 else 0, j]
    if step > 0:  # rounded_population: np.round (to even) of x / step, times step
        x = np.rint(x / step) * step
    return x >= threshold[i if threshold.shape[0] > 1 else 0, j]


def rounded_population(pop: np.ndarray, interval: np.ndarray) -> np.ndarray:
    """Population rounded to a whole multiple of ``interval`` persons, halves to even.

    Parameters
    ----------
    pop : numpy.ndarray
        Projected population [person].
    interval : numpy.ndarray
        Rounding interval [person], broadcast against ``pop``; 0 leaves ``pop`` as it is.

    Returns
    -------
    numpy.ndarray
        ``round(pop / interval) × interval`` (``numpy.round``: a half goes to the even
        multiple, as Python's number formatting and GB/T 8170 do).
    """
    interval = np.asarray(interval, dtype=float)
    safe = np.where(interval > 0, interval, 1.0)
    return np.where(interval > 0, np.round(pop / safe) * safe, pop)



# --------------------------------------------------------------------------- ratios


def staffing_ratios(st: StaffingResult) -> dict[str, np.ndarray]:
    """Ratios planners quote, per township (N, T, S) and per county (N, T, C).

    Returns
    -------
    dict of str to numpy.ndarray
        ``township_posts_per_10000`` and ``county_posts_per_10000`` [post per 10,000
        people] (township: township + village posts; county: also the county posts);
        ``township_people_per_vice_president`` and ``county_people_per_township_vice_president``
        [person/post] (``inf`` where there is no post);
        ``township_villages_without_vp`` / ``county_villages_without_vp`` [village] and
        ``township_people_without_vp`` / ``county_people_without_vp`` [person] living in
        villages without a vice-president; city-wide (N, T): ``posts_per_10000``,
        ``villages_without_village_vp``, ``people_without_village_vp``.
    """
    without = st.villages_without_vp
    t_posts = st.township_total_posts
    c_posts = st.county_all_posts
    t_vp = st.township_vice_presidents
    c_tvp = st.to_county(t_vp)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = {
            "township_posts_per_10000": np.where(st.township_pop > 0, t_posts / st.township_pop * 1e4, np.nan),
            "county_posts_per_10000": np.where(st.county_pop > 0, c_posts / st.county_pop * 1e4, np.nan),
            "township_people_per_vice_president": np.where(t_vp > 0, st.township_pop / t_vp, np.inf),
            "county_people_per_township_vice_president": np.where(c_tvp > 0, st.county_pop / c_tvp, np.inf),
        }
    out["township_villages_without_vp"] = st.to_township(without)
    out["county_villages_without_vp"] = st.village_to_county(without)
    out["township_people_without_vp"] = st.to_township(st.village_pop_values, without)
    out["county_people_without_vp"] = st.village_to_county(st.village_pop_values, without)
    out.update(city_staffing_ratios(st, out["county_villages_without_vp"], out["county_people_without_vp"]))
    return out


def city_staffing_ratios(
    st: StaffingResult,
    county_villages_without_vp: np.ndarray | None = None,
    county_people_without_vp: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """The city-wide ratios of :func:`staffing_ratios` alone, (N, T) each.

    ``posts_per_10000`` [post per 10,000 people], ``villages_without_village_vp``
    [village] and ``people_without_village_vp`` [person]: the same values as
    :func:`staffing_ratios` gives (the same sums in the same order), without the
    township and county arrays a key-figure summary does not show.

    Parameters
    ----------
    st : StaffingResult
    county_villages_without_vp, county_people_without_vp : numpy.ndarray, optional
        The county sums (N, T, C) when already computed.
    """
    without = st.villages_without_vp
    if county_villages_without_vp is None:  # a count: exact in any order
        villages = np.array([unit_sum(w) for w in without], dtype=float).reshape(without.shape[:-1])
    else:
        villages = county_villages_without_vp.sum(axis=-1)
    if county_people_without_vp is None:
        county_people_without_vp = st.village_to_county(st.village_pop_values, without)
    city_pop = st.county_pop.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        posts = np.where(city_pop > 0, st.county_all_posts.sum(axis=-1) / city_pop * 1e4, np.nan)
    return {
        "posts_per_10000": posts,
        "villages_without_village_vp": villages,
        "people_without_village_vp": county_people_without_vp.sum(axis=-1),
    }


# --------------------------------------------------------------------------- tables


def posts_table(st: StaffingResult, i: int = 0) -> pd.DataFrame:
    """Tidy posts of parameter set ``i``.

    Columns: ``year``, ``county_code``, ``township_code`` ("" for county posts),
    ``village_code`` ("" above village level), ``level`` (county|township|village),
    ``post``, ``posts`` [post]. Village rows cover every village (0 where below the
    threshold).
    """
    reg = st.register
    ccodes = reg.counties["county_code"].to_numpy(dtype=object)
    tcodes = reg.townships["township_code"].to_numpy(dtype=object)
    vcodes = reg.villages["village_code"].to_numpy(dtype=object)
    frames = []
    for post, arr in st.county_posts.items():
        yr, k = tidy_index(st.years, st.n_counties)
        frames.append(pd.DataFrame({
            "year": yr, "county_code": ccodes[k], "township_code": "", "village_code": "",
            "level": "county", "post": post, "posts": arr[i].ravel(),
        }))
    yr, k = tidy_index(st.years, st.n_townships)
    frames.append(pd.DataFrame({
        "year": yr, "county_code": ccodes[reg.township_county][k], "township_code": tcodes[k],
        "village_code": "", "level": "township", "post": "vice_president",
        "posts": st.township_vice_presidents[i].ravel(),
    }))
    yr, k = tidy_index(st.years, st.n_villages)
    frames.append(pd.DataFrame({
        "year": yr, "county_code": ccodes[reg.village_county][k],
        "township_code": tcodes[reg.village_township][k], "village_code": vcodes[k],
        "level": "village", "post": "vice_president",
        "posts": st.village_vice_presidents[i].ravel(),
    }))
    return pd.concat(frames, ignore_index=True)


def village_table(st: StaffingResult, i: int = 0) -> pd.DataFrame:
    """Per year × village: ``population`` (projected), ``population_counted`` (as the
    threshold rule counts it: whole persons), ``at_or_above_threshold``,
    ``vice_presidents``, ``members``, ``volunteers`` (parameter set ``i``)."""
    reg = st.register
    yr, k = tidy_index(st.years, st.n_villages)
    return pd.DataFrame({
        "year": yr,
        "county_code": reg.counties["county_code"].to_numpy(dtype=object)[reg.village_county][k],
        "township_code": reg.townships["township_code"].to_numpy(dtype=object)[reg.village_township][k],
        "village_code": reg.villages["village_code"].to_numpy(dtype=object)[k],
        "population": st.village_pop[i].ravel(),
        "population_counted": st.village_pop_counted[i].ravel(),
        "at_or_above_threshold": st.at_or_above_threshold[i].ravel(),
        "vice_presidents": st.village_vice_presidents[i].ravel(),
        "members": (st._members_pop[i] * st.members_per_1000[i][:, None] / 1000.0).ravel(),
        "volunteers": st.village_volunteers[i].ravel(),
    })


def township_table(st: StaffingResult, i: int = 0) -> pd.DataFrame:
    """Per year × township: population, posts, organisations and ratios (parameter set ``i``).

    Columns: ``year``, ``county_code``, ``township_code``, ``population``,
    ``vice_presidents``, ``extra_posts``, ``village_vice_presidents``,
    ``migrant_associations``, ``members``, ``volunteers``, ``posts_per_10000``,
    ``people_per_vice_president``, ``villages_without_vp``, ``people_without_vp``.
    """
    reg = st.register
    r = staffing_ratios(st)
    yr, k = tidy_index(st.years, st.n_townships)
    return pd.DataFrame({
        "year": yr,
        "county_code": reg.counties["county_code"].to_numpy(dtype=object)[reg.township_county][k],
        "township_code": reg.townships["township_code"].to_numpy(dtype=object)[k],
        "population": st.township_pop[i].ravel(),
        "vice_presidents": st.township_vice_presidents[i].ravel(),
        "extra_posts": st.township_extra_posts[i].ravel(),
        "village_vice_presidents": st.township_village_vice_presidents[i].ravel(),
        "migrant_associations": st.migrant_associations[i].ravel(),
        "members": st.township_members[i].ravel(),
        "volunteers": st.township_volunteers[i].ravel(),
        "posts_per_10000": r["township_posts_per_10000"][i].ravel(),
        "people_per_vice_president": r["township_people_per_vice_president"][i].ravel(),
        "villages_without_vp": r["township_villages_without_vp"][i].ravel(),
        "people_without_vp": r["township_people_without_vp"][i].ravel(),
    })


def county_table(st: StaffingResult, i: int = 0) -> pd.DataFrame:
    """Per year × county: population, posts by level and the ratios (parameter set ``i``).

    Columns: ``year``, ``county_code``, ``population``, ``county_posts``,
    ``township_vice_presidents``, ``village_vice_presidents``, ``total_posts``,
    ``migrant_associations``, ``out_migrant_associations``, ``members``, ``volunteers``,
    ``posts_per_10000``, ``people_per_township_vice_president``, ``villages_without_vp``,
    ``people_without_vp``.
    """
    r = staffing_ratios(st)
    yr, k = tidy_index(st.years, st.n_counties)
    return pd.DataFrame({
        "year": yr,
        "county_code": st.register.counties["county_code"].to_numpy(dtype=object)[k],
        "population": st.county_pop[i].ravel(),
        "county_posts": st.county_total_posts[i].ravel(),
        "township_vice_presidents": st.to_county(st.township_vice_presidents)[i].ravel(),
        "village_vice_presidents": st.to_county(st.township_village_vice_presidents)[i].ravel(),
        "total_posts": st.county_all_posts[i].ravel(),
        "migrant_associations": st.to_county(st.migrant_associations)[i].ravel(),
        "out_migrant_associations": st.out_migrant_associations[i].ravel(),
        "members": st.to_county(st.township_members)[i].ravel(),
        "volunteers": st.to_county(st.township_volunteers)[i].ravel(),
        "posts_per_10000": r["county_posts_per_10000"][i].ravel(),
        "people_per_township_vice_president": r["county_people_per_township_vice_president"][i].ravel(),
        "villages_without_vp": r["county_villages_without_vp"][i].ravel(),
        "people_without_vp": r["county_people_without_vp"][i].ravel(),
    })
