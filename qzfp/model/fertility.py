"""Fertility of the population engine: the age pattern of the TFR and the policies' effects.

The TFR is spread over single ages 15..49 by a shifted gamma pattern (mean age and spread
from ``demography.fertility.*``).  The fertility policies of 2014, 2016 and 2021 multiply
every county's TFR by ``1 + response × Σ effect × R(t)`` from the day they take effect: the
effects are proportional (a county at 1.03 gains in proportion, not the same absolute amount
as one at 2.0) and ``R`` is the documented timing profile of :func:`policy_timing`
(``docs/population.md``).
"""

from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["FERT_AGES", "POLICIES", "fertility_pattern", "policy_factor", "policy_timing"]


FERT_AGES = np.arange(15, 50)

#: The fertility policy rules (``demography.fertility.policy.<name>`` bool, ``<name>_effect``).
POLICIES = ("selective_two_child", "universal_two_child", "three_child")

#: Points per year at which the timing profile is averaged (four a day: the mean is exact to
#: about a tenth of a day for a rule that starts within a year).
_SUBSTEPS = 1460


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
    x = FERT_AGES + 0.5 - 15.0
    logw = (shape - 1.0) * np.log(x) - x / scale
    w = np.exp(logw - logw.max(axis=-1, keepdims=True))
    return w / w.sum(axis=-1, keepdims=True)


def policy_timing(starts: np.ndarray, in_force: np.ndarray, years: np.ndarray, lag: np.ndarray,
                  catch_up: np.ndarray, catch_up_years: np.ndarray, fade_years: np.ndarray) -> np.ndarray:
    """Mean over each calendar year of a policy's timing profile R (N, T) [share of its lasting effect].

    A rule in force from ``on`` (to ``off``, the next start at which it is false) changes the
    births from ``on + lag`` (the months to conceive and the pregnancy) to ``off + lag``.  With
    ``s`` the time since ``on + lag``, ``R(s)`` is ``catch_up`` during the first
    ``catch_up_years`` (the births couples had postponed), then falls linearly to 1 over
    ``fade_years``, and stays at 1 (the lasting effect).  A year's value is the mean of R over
    the year, so a rule of 17 January 2014 changes the births of 2014 by the part of the year
    after 17 January + lag, not from the next 1 January.

    Parameters
    ----------
    starts : (K,) fractional calendar years at which each dated value starts [year].
    in_force : (N|1, K) the rule's value (true/1) from each start to the next.
    years : (T,) calendar years.
    lag, catch_up, catch_up_years, fade_years : (N|1, T) profile parameters [year, ratio,
        year, year], the values of the year of the births.

    Returns
    -------
    numpy.ndarray
        (N, T) mean of R over each year, 0 before the births respond.
    """
    starts = np.asarray(starts, dtype=float)
    on = np.asarray(in_force, dtype=float) > 0.5  # (N|1, K)
    # start of the run of "in force" each dated value belongs to (a value in force since the
    # first start counts from that start: long enough ago to be at its lasting level)
    run_start = np.empty(on.shape)
    run_start[:, 0] = starts[0]
    for k in range(1, len(starts)):
        run_start[:, k] = np.where(on[:, k - 1], run_start[:, k - 1], starts[k])
    years = np.asarray(years, dtype=float)
    t = years[:, None] + (np.arange(_SUBSTEPS) + 0.5) / _SUBSTEPS  # (T, S) points of each year
    lg, cf, cy, fy = (np.asarray(x, dtype=float)[:, :, None] for x in (lag, catch_up, catch_up_years, fade_years))
    tau = t[None] - lg  # (N|1, T, S) the moment of the decisions whose births fall at t
    idx = np.clip(np.searchsorted(starts, tau, side="right") - 1, 0, len(starts) - 1)
    n = max(on.shape[0], tau.shape[0])
    sets = np.arange(n)[:, None, None] % on.shape[0]
    active = on[sets, idx] & (tau >= starts[0])
    s = tau - run_start[sets, idx]  # time since the births began to respond [year]
    fade = np.where(fy > 0, np.clip((s - cy) / np.where(fy > 0, fy, 1.0), 0.0, 1.0), 1.0)
    r = np.where(s < cy, cf, cf + (1.0 - cf) * fade)
    return np.where(active, r, 0.0).mean(axis=-1)


def policy_factor(g: dict[str, np.ndarray], years: np.ndarray,
                  timelines: dict[str, tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """TFR multiplier of the fertility policies (N, T): ``1 + response × Σ effect × R``.

    Parameters
    ----------
    g : dict
        The ``demography.`` parameters without the prefix, (N|1, T) each.
    years : (T,) calendar years.
    timelines : dict
        Per policy name, (starts, values) as :meth:`qzfp.rules.paramarrays.ParamArrays.timeline`
        returns them.
    """
    p = "fertility.policy."
    inputs = [np.asarray(years, dtype=float)] + [np.asarray(g[p + k], dtype=float) for k in _POLICY_KEYS]
    inputs += [np.asarray(a, dtype=float) for name in POLICIES for a in timelines[name]]
    key = hashlib.sha256(b"".join(repr(a.shape).encode() + a.tobytes() for a in inputs)).hexdigest()
    hit = _FACTORS.get(key)
    if hit is not None:
        return hit
    total = np.zeros_like(np.asarray(g[p + "response"], dtype=float))
    for name in POLICIES:
        starts, values = timelines[name]
        r = policy_timing(starts, values, years, g[p + "birth_lag"], g[p + "catch_up_factor"],
                          g[p + "catch_up_years"], g[p + "fade_years"])
        total = total + g[p + name + "_effect"] * r
    out = 1.0 + g[p + "response"] * total
    out.setflags(write=False)
    if len(_FACTORS) > 64:
        _FACTORS.clear()
    _FACTORS[key] = out
    return out


#: Parameters :func:`policy_factor` reads besides the timelines (without ``fertility.policy.``).
_POLICY_KEYS = ("response", "birth_lag", "catch_up_factor", "catch_up_years", "fade_years",
                *(name + "_effect" for name in POLICIES))

#: :func:`policy_factor` results by the SHA-256 of its inputs (a scenario's runs and a sweep's
#: chunks that leave the fertility policies alone compute them once).
_FACTORS: dict[str, np.ndarray] = {}
