"""Migration of the population engine: age profile, the resident migration model, the absent.

* net migrants are spread over ages by a Rogers–Castro profile (:func:`rogers_castro`);
* the resident (常住) population's net migration rate of a county comes from the national
  migration model: a linear function of what its census row says (:func:`migration_features`,
  :func:`model_rate`, coefficients ``demography.migration.resident.*``) at the census moment,
  halving every ``half_life`` years (:func:`resident_rates`), with a persistent Monte Carlo
  deviation whose width depends on the same census indicators (:func:`migration_sd`); the
  model and its width are calibrated on the 2010 → 2020 change of every county outside
  Zhejiang (``docs/population.md``);
* the 2000–2010 intercensal residual of Quzhou's counties (:func:`intercensal_residual`) is
  shown beside the model's rate, not used;
* the net absent (registered − resident) persons of a county take the age–sex profile of
  its deficit against the national structure (:func:`absent_profile`).
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..register.census import CountyRows

__all__ = [
    "MIGRATION_FEATURES",
    "WIDTH_FEATURES",
    "absent_profile",
    "intercensal_residual",
    "migration_features",
    "migration_sd",
    "model_rate",
    "resident_rates",
    "rogers_castro",
]

#: The census indicators of a county the resident migration model reads (each has a
#: coefficient ``demography.migration.resident.<name>``):
#:
#: * ``inflow_share``: max(0, 1 − registered / resident), the share of its residents a county
#:   had drawn in from elsewhere (net);
#: * ``district``: 1 for a city district (its name ends in 区), else 0;
#: * ``province_birth_rate``: the census-year birth rate of its province [per mille/year];
#: * ``urban_outflow``: urban share × ln(resident / registered).
MIGRATION_FEATURES = ("inflow_share", "district", "province_birth_rate", "urban_outflow")


_REFERENCE_CSV = Path(__file__).resolve().parents[1] / "data" / "reference" / "quzhou_counties.csv"


# Kecheng and Qujiang exchanged territory between the 2000 and 2010 censuses
# (qzfp/data/reference/SOURCES.md): their 2000 totals are only comparable together, so the
# residual migration rate of the pair is computed once and given to both.
_BOUNDARY_GROUPS = (("330802", "330803"),)


#: Years between the 5th and the 6th census (2000-11-01 and 2010-11-01).
_INTERCENSAL_YEARS = 10.0



@lru_cache(maxsize=1)
def _intercensal() -> dict[str, tuple[float, float]]:
    """County code -> (resident 2000, resident 2010) [person], boundary groups summed."""
    out: dict[str, tuple[float, float]] = {}
    with open(_REFERENCE_CSV, encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            out[row["county_code"]] = (float(row["resident_2000"]), float(row["resident_2010"]))
    for group in _BOUNDARY_GROUPS:
        if all(c in out for c in group):
            both = tuple(sum(out[c][i] for c in group) for i in range(2))
            for c in group:
                out[c] = both  # type: ignore[assignment]
    return out



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



def absent_profile(resident: np.ndarray, national: np.ndarray, registered_total: np.ndarray, gap: np.ndarray,
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



def migration_features(rows: CountyRows) -> dict[str, np.ndarray]:
    """The census indicators (C,) of :data:`MIGRATION_FEATURES` for the rows of some counties.

    Also ``outflow_share`` = max(0, 1 − resident / registered), the share of its registered
    people a county had sent away (net), which the width of the migration deviation reads
    (:func:`migration_sd`).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.log(np.where((rows.resident > 0) & (rows.registered > 0), rows.resident / rows.registered, 1.0))
        urban = np.where(rows.resident > 0, rows.urban / rows.resident, 0.0)
    district = np.array([str(n).endswith("区") for n in rows.name], dtype=float)
    return {
        "inflow_share": np.maximum(1.0 - np.exp(-ratio), 0.0),
        "district": district,
        "province_birth_rate": np.asarray(rows.province_birth_rate, dtype=float),
        "urban_outflow": np.clip(urban, 0.0, 1.0) * ratio,
        "outflow_share": np.maximum(1.0 - np.exp(ratio), 0.0),
    }


def model_rate(features: dict[str, np.ndarray], coef: dict[str, np.ndarray]) -> np.ndarray:
    """Resident net migration rate at the census moment, (N, C) [per mille/year].

    ``intercept + Σ coef_f × feature_f`` over :data:`MIGRATION_FEATURES`, with the
    coefficients (N, 1) of ``demography.migration.resident.*`` at the census year.
    """
    rate = np.asarray(coef["intercept"], dtype=float).reshape(-1, 1) + 0.0
    for f in MIGRATION_FEATURES:
        rate = rate + np.asarray(coef[f], dtype=float).reshape(-1, 1) * features[f][None, :]
    return rate


def resident_rates(m0: np.ndarray, years: np.ndarray, moment: float, half_life: np.ndarray,
                   adjustment: np.ndarray, before: np.ndarray | None = None) -> np.ndarray:
    """Resident net migration rate of each county in each year, (N, T, C) [per mille/year].

    The model's rate at the census moment ``m0`` (N|1, C) halves every ``half_life`` years
    (N|1, T) after it, ``m0 × 0.5 ** ((y + ½ − moment) / half_life)`` at mid-year.  In the
    years before the census moment (a base moved backwards, a projection that starts before
    the census) a county runs at what it did then: ``before`` (C,), its 2000–2010 residual
    where known (:func:`intercensal_residual`), else ``m0``.  ``adjustment`` (N|1, T), the
    scenario lever ``migration.resident_adjustment``, is added.
    """
    mid = np.asarray(years, dtype=float) + 0.5 - moment
    decay = np.power(0.5, np.maximum(mid, 0.0)[None, :] / np.asarray(half_life, dtype=float))  # (N, T)
    rate = np.asarray(m0)[:, None, :] * decay[:, :, None]
    if before is not None:
        past = np.where(np.isfinite(before), before, np.nan)[None, None, :]
        rate = np.where((mid < 0)[None, :, None] & np.isfinite(past), past, rate)
    return rate + np.asarray(adjustment)[:, :, None]


#: The census indicators the width of a county's migration deviation reads
#: (``demography.uncertainty.migration_sd_<name>``, coefficients of its logarithm).
WIDTH_FEATURES = ("district", "inflow_share", "outflow_share")


def migration_sd(features: dict[str, np.ndarray], base: Any, coef: dict[str, Any]) -> np.ndarray:
    """Standard deviation (N, C) of a county's persistent resident migration deviation [per mille/year].

    ``base × exp(Σ coef_f × feature_f)`` over :data:`WIDTH_FEATURES`, with ``base`` and the
    coefficients (scalars or (N,)) of ``uncertainty.migration_sd`` and
    ``uncertainty.migration_sd_<feature>``.
    """
    log_factor = np.zeros((1, len(features["district"])))
    for f in WIDTH_FEATURES:
        log_factor = log_factor + np.asarray(coef[f], dtype=float).reshape(-1, 1) * features[f][None, :]
    return np.asarray(base, dtype=float).reshape(-1, 1) * np.exp(log_factor)


def intercensal_residual(codes: np.ndarray, rows: CountyRows, natural_increase: np.ndarray,
                         census_year: int) -> np.ndarray:
    """The 2000–2010 residual net migration rate of Quzhou's counties [per mille/year] (NaN elsewhere).

    ``ln(P2010 / P2000) / 10 − natural increase``, with the resident totals of the 2000 and 2010
    censuses (``qzfp/data/reference/quzhou_counties.csv``) and the county's fitted natural
    increase (births by reverse survival minus deaths of the fitted life table, per 1,000
    residents), taken as the decade's mean.  A boundary pair (Kecheng and Qujiang) gets the rate
    of the pair.  Shown beside the migration model's rate as what the previous decade did; the
    projection does not carry it forward.
    """
    table = _intercensal() if census_year == 2010 else {}
    rate = np.full(len(codes), np.nan)
    idx = {str(c): i for i, c in enumerate(codes)}
    for i, c in enumerate(str(x) for x in codes):
        if c not in table:
            continue
        group = next((g for g in _BOUNDARY_GROUPS if c in g and all(x in idx for x in g)), (c,))
        members = [idx[x] for x in group]
        w = rows.resident[members] / rows.resident[members].sum()
        p0, p1 = table[c]
        rate[i] = np.log(p1 / p0) / _INTERCENSAL_YEARS * 1e3 - float(w @ natural_increase[members])
    return rate
