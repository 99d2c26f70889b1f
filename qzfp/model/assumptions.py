"""The demographic assumptions of a projection: rulebook paths, validation, yearly arrays.

:data:`DEMOGRAPHY_PATHS` are the rulebook paths the population engine reads;
:func:`yearly_assumptions` checks them and derives the yearly arrays of one variant
(:class:`Assumptions`, leading axis N = parameter sets or Monte Carlo paths) that the
cohort-component step consumes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import Label, ParameterError, Problem
from ..rules.paramarrays import ParamArrays
from .fertility import POLICIES, fertility_pattern, policy_factor
from .migration import rogers_castro
from .mortality import AGES

__all__ = [
    "DEMOGRAPHY_PATHS",
    "VARIANTS",
    "Assumptions",
    "demography_param_arrays",
    "yearly_assumptions",
]

_P = "demography."


VARIANTS = ("medium", "low", "high", "constant")


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
        "fertility.policy.birth_lag",
        "fertility.policy.catch_up_factor",
        "fertility.policy.catch_up_years",
        "fertility.policy.fade_years",
        "fertility.left_behind_share",
        "mortality.census_death_coverage",
        "mortality.standard_province",
        "mortality.county_e0_min",
        "mortality.county_e0_max",
        "migration.resident_adjustment",
        "migration.resident.intercept",
        "migration.resident.inflow_share",
        "migration.resident.district",
        "migration.resident.province_birth_rate",
        "migration.resident.urban_outflow",
        "migration.resident.half_life",
        "migration.absent_min_age",
        "migration.absent_max_age",
        "uncertainty.tfr_sd",
        "uncertainty.tfr_ar1",
        "uncertainty.e0_gain_sd",
        "uncertainty.migration_sd",
        "uncertainty.migration_sd_district",
        "uncertainty.migration_sd_inflow_share",
        "uncertainty.migration_sd_outflow_share",
        "uncertainty.migration_regional_share",
        "uncertainty.migration_prefecture_share",
        "uncertainty.registered_migration_sd",
        "uncertainty.mortality_level_sd",
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
    "fertility.left_behind_share": (0.0, 1.0),
    "migration.resident.half_life": (0.5, None),
}



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
    from ..rules.rulebook import load_rulebook

    years = np.asarray(list(years), dtype=int)
    pa = load_rulebook().to_param_arrays(years, DEMOGRAPHY_PATHS)
    if not rulebook_values:
        return pa
    updates = {}
    problems = []
    for path, value in rulebook_values.items():
        full = path if path.startswith(_P) else _P + path
        if full not in pa.data:
            problems.append(Problem(full, "population.not_an_assumption"))
            continue
        updates[full] = np.full((1, len(years)), float(value))
    if problems:
        raise ParameterError(problems)
    return pa.with_values(updates)  # the other paths keep their dated history (policy dates)



def _require(pa: ParamArrays) -> None:
    missing = [p for p in DEMOGRAPHY_PATHS if p not in pa]
    if missing:
        raise ParameterError(
            [Problem(p, "population.missing_parameter") for p in missing]
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
        extra = Label("where.in_set", set=n) if arr.shape[0] > 1 else ""
        problems.append(
            Problem(_P + path, "population.out_of_range", value=arr[n, t], year=int(years[t]),
                    extra=extra, range=rng, count=int(bad.sum()))
        )



@dataclass(frozen=True)
class Assumptions:
    """Derived yearly assumption arrays (leading axis = parameter sets or paths)."""

    tfr: np.ndarray  # (N, T) child/woman (city level; counties x their multiplier)
    tfr_factor: np.ndarray  # (N, T) TFR multiplier of the fertility policies (1 = none in force)
    pattern: np.ndarray  # (N, T, 35) share of TFR by age 15..49
    srb: np.ndarray  # (N, T) boys per 100 girls
    e0: np.ndarray  # (N, T, 2) years
    mig_rate: np.ndarray  # (N, T) per mille/year, registered population
    res_adj: np.ndarray  # (N, T) per mille/year added to the resident population's residual rate
    male_share: np.ndarray  # (N, T)
    profile: np.ndarray  # (N, T, A) Rogers-Castro shares, sum 1
    inflow: np.ndarray  # (N, T) 1/year
    outflow: np.ndarray  # (N, T) 1/year
    left_behind: np.ndarray  # (N, T) share of the absent mothers' children living at home
    half_life: np.ndarray  # (N, T) years in which a county's modelled resident migration halves

    @property
    def n(self) -> int:
        return max(a.shape[0] for a in (self.tfr, self.e0, self.mig_rate))



def yearly_assumptions(pa: ParamArrays, variant: str) -> Assumptions:
    """Validate the demographic parameters and derive the yearly arrays of one variant."""
    if variant not in VARIANTS:
        raise ParameterError(
            Problem("variant", "population.unknown_variant", variant=variant, choices=", ".join(VARIANTS))
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
    timelines = {name: pa.timeline(_P + "fertility.policy." + name) for name in POLICIES}
    tfr_factor = policy_factor(g, years, timelines)
    if variant == "constant":
        tfr_factor = np.broadcast_to(tfr_factor[:, :1], tfr_factor.shape)
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
    return Assumptions(
        tfr=np.ascontiguousarray(tfr),
        tfr_factor=np.ascontiguousarray(tfr_factor),
        pattern=pattern,
        srb=g["fertility.srb"],
        e0=np.stack([e0m, e0f], axis=-1),
        mig_rate=g["migration.net_rate"],
        res_adj=g["migration.resident_adjustment"],
        male_share=g["migration.male_share"],
        profile=profile,
        inflow=g["in_migrants.inflow_rate"],
        outflow=g["in_migrants.outflow_rate"],
        left_behind=g["fertility.left_behind_share"],
        half_life=g["migration.resident.half_life"],
    )
