"""The parameter sets a scenario's sensitivity ranking and Monte Carlo compute, and the
horizon they allow.

A scenario is run three ways: its central projection, the sensitivity ranking (each key
assumption moved by ±``sensitivity_pct`` %, one at a time: :func:`key_assumption_paths`,
:func:`sensitivity_moves`) and the Monte Carlo bands (``mc_paths`` random paths).  Life
expectancy at birth is extrapolated linearly,

    e0(year) = e0 + e0_gain × (year − reference_year)        (docs/population.md)

and must stay within its parameter's range (20..100 years) in every modelled year of every
one of these runs.  :func:`life_expectancy_problems` checks it before anything runs, so a
scenario whose longest run leaves the range is bad input (exit status 1, located at
``file:horizon``, naming the run, the year it leaves the range and the last year that works)
instead of a failed notebook after the central run is done.  The runs checked:

* the central projection;
* the sensitivity ranking, when 0 < ``sensitivity_pct`` < 100: ``e0_male``, ``e0_female`` and
  ``e0_gain`` each moved by ±``sensitivity_pct`` % (clipped to their range, as the ranking
  does) when they are key assumptions;
* the Monte Carlo, when ``mc_paths`` > 0: its e0 deviation is a random walk of yearly steps
  with standard deviation ``demography.uncertainty.e0_gain_sd`` (zero in the start year), so
  in year k after the start its standard deviation is ``√(Σ sd²)`` over those k years; the
  paths' plausible range is taken as the central e0 ± :data:`MC_E0_SD` of these standard
  deviations (99.7 % of the paths of a year).  The Monte Carlo keeps the rarer paths
  beyond it within 20..100 years (:mod:`qzfp.model.montecarlo` clips them).

The check follows the engine: if the engine saturates e0 instead of refusing it, it goes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

import numpy as np

from ..errors import Label, Problem
from .parameter import Parameter
from .rulebook import Rulebook

__all__ = [
    "E0_PATHS",
    "KEY_POLICY_PATHS",
    "MC_E0_SD",
    "NOT_SCALED",
    "key_assumption_paths",
    "life_expectancy_problems",
    "life_expectancy_runs",
    "sensitivity_moves",
]

#: Always part of the sensitivity ranking besides the parameters marked as assumptions.
KEY_POLICY_PATHS = (
    "village.vice_president.allowance",
    "village.vice_president.population_threshold",
    "township.vice_president.post_allowance",
    "reward_assistance.amount",
)

#: Left out of sensitivity rankings and refused by sweeps: funding shares (the shares of a
#: line must sum to 1, so one cannot move alone), and the demographic parameters the
#: population engine reads from the first parameter set only (mortality shape, migration age
#: profile, the parameters of the census fit of the base) or that only act on Monte Carlo paths.
NOT_SCALED = (
    "funding.",
    "demography.mortality.siler.",
    "demography.mortality.infant_separation_factor",
    "demography.mortality.county_e0_",
    "demography.migration.absent_",
    "demography.uncertainty.",
    "demography.migration.profile.",
)

_M = "demography.mortality."
#: The rulebook paths of the life expectancy extrapolation: e0 of males and females, the
#: yearly gain and the year the e0 values are of.
E0_PATHS = {"male": _M + "e0_male", "female": _M + "e0_female", "gain": _M + "e0_gain",
            "reference_year": _M + "reference_year"}
#: Width of the Monte Carlo's plausible e0 range [standard deviations of the e0 deviation of
#: a year]: 3 holds 99.7 % of a year's paths (normal steps).
MC_E0_SD = 3.0
_E0_SD = "demography.uncertainty.e0_gain_sd"


def key_assumption_paths(rulebook: Rulebook, start_year: int, paths: Iterable[str] | None = None) -> list[str]:
    """Paths the sensitivity ranking moves by default.

    Every numeric parameter (of ``paths``; default: every numeric or yes/no parameter of the
    rulebook) whose value in force on 1 January of ``start_year`` is an assumption
    (reference starting with ``assumption``) and non-zero, plus the headline policy amounts
    of :data:`KEY_POLICY_PATHS`.  Counts of years (election dates, cycles) and switches are
    left out: a ±X % move of a calendar year means nothing.
    """
    paths = [p for p in rulebook.paths() if rulebook.get(p).is_numeric] if paths is None else list(paths)
    out = []
    for path in paths:
        param = rulebook.get(path)
        if param.kind != "number" or param.unit in ("year",) and not path.startswith("demography."):
            continue
        if path.startswith(NOT_SCALED) or path.endswith("reference_year"):
            continue
        dv = param.dated_value_at(dt.date(start_year, 1, 1))
        if float(dv.value) == 0:
            continue
        if path in KEY_POLICY_PATHS or str(dv.reference).lower().startswith("assumption"):
            out.append(path)
    return out


def sensitivity_moves(param: Parameter, base: np.ndarray, pct: float) -> tuple[np.ndarray, np.ndarray]:
    """The low and high values of a ±``pct`` % move of ``base`` (a parameter's values over
    the years), clipped to the parameter's range; counts of people or posts stay whole."""
    lo_b = -np.inf if param.min is None else param.min
    hi_b = np.inf if param.max is None else param.max
    low = np.clip(base * (1 - pct / 100), lo_b, hi_b)
    high = np.clip(base * (1 + pct / 100), lo_b, hi_b)
    if param.unit in ("person", "post"):
        low, high = np.round(low), np.round(high)
    return low, high


def life_expectancy_runs(rulebook: Rulebook, years: np.ndarray, sensitivity_pct: float = 0.0,
                         mc_paths: int = 0) -> list[tuple[Label | None, dict[str, np.ndarray]]]:
    """Life expectancy at birth of each run a scenario computes, by year.

    Parameters
    ----------
    rulebook : Rulebook
        With the scenario's overrides.
    years : numpy.ndarray
        The modelled years (start year first).
    sensitivity_pct : float
        The scenario's ``sensitivity_pct`` [%] (0: no sensitivity ranking).
    mc_paths : int
        The scenario's ``mc_paths`` (0: no Monte Carlo).

    Returns
    -------
    list of (Label or None, dict)
        For each run (None: the central projection; else a label naming it): ``e0_male`` and
        ``e0_female`` path → e0 over ``years`` [year] (for the Monte Carlo, the low and the
        high edge of its plausible range as two runs).  Empty when the rulebook has no e0
        extrapolation.
    """
    if any(p not in rulebook for p in E0_PATHS.values()):
        return []
    years = np.asarray(years)
    series = {k: rulebook.get(p).series(years) for k, p in E0_PATHS.items()}
    since = years - series["reference_year"]

    def e0(male: np.ndarray, female: np.ndarray, gain: np.ndarray) -> dict[str, np.ndarray]:
        return {E0_PATHS["male"]: male + gain * since, E0_PATHS["female"]: female + gain * since}

    runs: list[tuple[Label | None, dict[str, np.ndarray]]] = [(None, e0(series["male"], series["female"],
                                                                       series["gain"]))]
    if 0 < sensitivity_pct < 100:  # as the ranking: other values mean none
        start = int(years[0])
        moved = set(key_assumption_paths(rulebook, start, [E0_PATHS[k] for k in ("male", "female", "gain")]))
        for key in ("male", "female", "gain"):
            path = E0_PATHS[key]
            if path not in moved:
                continue
            for sign, value in zip(("-", "+"), sensitivity_moves(rulebook.get(path), series[key], sensitivity_pct),
                                   strict=True):
                args = {**{k: series[k] for k in ("male", "female", "gain")}, key: value}
                runs.append((Label("e0run.sensitivity", path=path, sign=sign, pct=sensitivity_pct),
                             e0(args["male"], args["female"], args["gain"])))
    if mc_paths > 0 and _E0_SD in rulebook:
        sd = rulebook.get(_E0_SD).series(years)
        sd[0] = 0.0  # the start year is known
        band = MC_E0_SD * np.sqrt(np.cumsum(sd**2))
        central = runs[0][1]
        for sign, s in (("-", -1.0), ("+", 1.0)):
            runs.append((Label("e0run.monte_carlo", sign=sign, sd=MC_E0_SD, path=_E0_SD),
                         {p: v + s * band for p, v in central.items()}))
    return runs


def life_expectancy_problems(rulebook: Rulebook, start_year: int, horizon: int, key_files: Mapping[str, str],
                             where: str, *, sensitivity_pct: float = 0.0, mc_paths: int = 0) -> list[Problem]:
    """The problem of a scenario whose life expectancy leaves its range in some run (or none).

    Every run of :func:`life_expectancy_runs` over the modelled years ``start_year`` ..
    ``start_year + horizon``: the run that leaves the range first is named, with the year it
    does and the last year that works (``end``).  Located at ``file:horizon`` (the file of
    ``key_files`` that sets it, else ``where``), or at ``start_year`` when only the start
    year is set or the range is left in the start year itself.
    """
    last = start_year + horizon
    years = np.arange(start_year, last + 1)
    found: list[tuple[int, Problem]] = []
    for run, e0 in life_expectancy_runs(rulebook, years, sensitivity_pct, mc_paths):
        for path, values in e0.items():
            param = rulebook.get(path)
            lo = param.min if param.min is not None else -np.inf
            hi = param.max if param.max is not None else np.inf
            bad = (values < lo) | (values > hi)
            if not bad.any():
                continue
            first = int(years[np.argmax(bad)])
            key = "start_year" if "start_year" in key_files and "horizon" not in key_files else "horizon"
            if first == start_year:
                key = "start_year"
            loc = f"{key_files.get(key, where)}:{key}"
            limit = hi if (values > hi).any() else lo
            if run is None:
                problem = Problem(loc, "scenario.life_expectancy_range", last=last, path=path,
                                  gain=E0_PATHS["gain"], limit=limit, first=first, end=first - 1)
            else:
                remedy = Label("remedy.monte_carlo" if run.key == "e0run.monte_carlo" else "remedy.sensitivity")
                problem = Problem(loc, "scenario.life_expectancy_run", last=last, run=run, path=path,
                                  limit=limit, first=first, end=first - 1, remedy=remedy)
            found.append((first, problem))
    return [min(found, key=lambda fp: fp[0])[1]] if found else []
