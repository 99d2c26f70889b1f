"""Migration of the population engine: age profile, resident residual migration, the absent.

* net migrants are spread over ages by a Rogers–Castro profile (:func:`rogers_castro`);
* the resident (常住) population's net migration rate per county is the 2000–2010
  intercensal residual (:func:`resident_migration`);
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

__all__ = ["absent_profile", "resident_migration", "rogers_castro"]


_REFERENCE_CSV = Path(__file__).resolve().parents[1] / "data" / "reference" / "quzhou_counties.csv"


# Kecheng and Qujiang exchanged territory between the 2000 and 2010 censuses
# (qzfp/data/reference/SOURCES.md): their 2000 totals are only comparable together, so the
# residual migration rate of the pair is computed once and given to both.
_BOUNDARY_GROUPS = (("330802", "330803"),)


_INTERCENSAL_CSV = _REFERENCE_CSV


#: Years between the 5th and the 6th census (2000-11-01 and 2010-11-01).
_INTERCENSAL_YEARS = 10.0



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



def resident_migration(codes: np.ndarray, rows: CountyRows, natural_increase: np.ndarray,
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
