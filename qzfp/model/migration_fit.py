"""Fitting the resident migration model and the widths of the Monte Carlo bands on a later census.

The method (``docs/population.md``, "Bands calibrated on real errors"):

1. **The model's rate.**  Every county of the base table is projected to the later census's
   date; the extra annual rate each county would have needed to land on the later census,
   ``ln(observed / projected) / years``, is regressed on the county's census indicators
   (:data:`qzfp.model.migration.MIGRATION_FEATURES`) by least absolute deviations (the
   median, robust to the units whose boundaries changed), converted to the rate at the census
   moment with the assumed half-life, added to the coefficients, and the projection run
   again; three rounds settle it (the rates change the age structure, hence the births).
2. **Out of sample.**  The same regression leaving out each province in turn, its rate applied
   to that province (to first order: the central projection times ``exp(Δrate × years)``),
   gives the leave-one-province-out errors beside the in-sample ones.
3. **The widths.**  The remaining log errors ``e`` give the width model: ``ln|e|`` regressed on
   :data:`qzfp.model.migration.WIDTH_FEATURES`, scaled so that ±1.2816 σ holds 80 % of the
   errors; the share of the variance that the counties of a province share is the one-way
   random-effects estimate on ``e / σ``.  The Monte Carlo then sets the scale of the migration
   deviation so that the paths' 10–90 % band holds 80 % of the resident totals, and the
   county mortality deviation so that it holds 80 % of the shares aged 60+ (bisection).

Only the later census's county totals and age groups are read, and only here: the projection
of :func:`qzfp.model.backtest.backtest` never sees them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ParameterError, Problem
from ..register.census import Census, fractional_year
from ..rules.paramarrays import ParamArrays
from .assumptions import demography_param_arrays
from .backtest import (
    BACKTEST_INDICATORS,
    PREFECTURE_TOTAL,
    backtest_errors,
    observed_indicators,
    prefecture_groups,
)
from .county import census_indicators_at, county_codes
from .migration import MIGRATION_FEATURES, WIDTH_FEATURES

__all__ = ["MigrationFit", "fit_migration", "least_absolute_deviations"]

_R = "migration.resident."
_U = "uncertainty."

#: The least a calibration is fitted on: units compared (five coefficients, a width model, a
#: random-effects share), provinces (between and within them) and Monte Carlo paths.
MIN_UNITS = 30

MIN_PROVINCES = 3

MIN_PATHS = 20

#: z of the 90th percentile of a standard normal: ±Z80 σ holds 80 % of a normal distribution.
Z80 = 1.2815515655446004


def least_absolute_deviations(x: np.ndarray, y: np.ndarray, iterations: int = 100) -> np.ndarray:
    """Coefficients b minimising Σ|y − X b| (iteratively reweighted least squares).

    Parameters
    ----------
    x : (n, k) design matrix.
    y : (n,) observations.
    """
    b = np.linalg.lstsq(x, y, rcond=None)[0]
    for _ in range(iterations):
        w = 1.0 / np.sqrt(np.maximum(np.abs(y - x @ b), 1e-6))
        nb = np.linalg.lstsq(x * w[:, None], y * w, rcond=None)[0]
        if np.allclose(nb, b, rtol=1e-10, atol=1e-12):
            return nb
        b = nb
    return b


@dataclass(frozen=True)
class MigrationFit:
    """The fitted rulebook values and what they achieve.

    Attributes
    ----------
    values : dict of str to float
        ``demography.``-less rulebook paths -> fitted value (the coefficients of
        ``migration.resident.*`` and the widths ``uncertainty.*``).
    units : DataFrame
        Per county compared: ``code, name_zh``, the census indicators, ``observed`` and
        ``central`` resident totals [person], ``log_error`` and ``sd_log`` (the width model's
        standard deviation of the log error).
    errors : DataFrame
        ``sample`` (``in-sample``, ``leave one province out``), ``indicator``, ``units``,
        ``error``, ``naive_error``, ``ratio`` (as :func:`qzfp.model.backtest.backtest_errors`).
    coverage : DataFrame
        The back-test summary with the fitted values and ``paths`` Monte Carlo paths.
    """

    values: dict
    units: pd.DataFrame
    errors: pd.DataFrame
    coverage: pd.DataFrame

    def yaml(self) -> str:
        """The fitted values as lines ``path: value`` for the rulebook (demography.yaml)."""
        return "\n".join(f"{k}: {v:.6g}" for k, v in self.values.items()) + "\n"


def _arrays(years: np.ndarray, values: dict[str, float]) -> ParamArrays:
    return demography_param_arrays(years, values)


def fit_migration(base: Census, check: Census, *, check_date: dt.date | None = None,
                  prefixes: list[str] | None = None, rounds: int = 3, n_paths: int = 200, seed: int = 0,
                  progress: Callable[[str], None] | None = None) -> MigrationFit:
    """Fit the resident migration model and the band widths on ``check`` (see the module).

    Parameters
    ----------
    base, check : Census
        The base census (full layout) and the later one (either layout).
    check_date : datetime.date, optional
        The later census's date (``check.date``).
    prefixes : list of str, optional
        Code prefixes of the counties used (all when omitted).
    rounds : int
        Rounds of regression and projection for the rate.
    n_paths, seed : int
        Monte Carlo paths (and seed) of the width calibration.
    progress : callable, optional
        Called with a line of text after each step.
    """
    say = progress or (lambda _line: None)
    date = check_date or check.date
    codes = county_codes(base, prefixes)
    names = base.lookup(codes).name
    same, observed = observed_indicators(check, codes, names)
    if not same.any():
        raise ParameterError(Problem(check.path, "backtest.none_in_check", n=len(codes), path=base.path))
    provinces = len({str(c)[:2] for c in codes[same]})
    problems = []
    if same.sum() < MIN_UNITS or provinces < MIN_PROVINCES:
        problems.append(Problem("--codes", "calibrate.too_few_units", n=int(same.sum()), provinces=provinces,
                                min_units=MIN_UNITS, min_provinces=MIN_PROVINCES))
    if n_paths < MIN_PATHS:
        problems.append(Problem("--paths", "calibrate.too_few_paths", n=n_paths, min=MIN_PATHS))
    if problems:
        raise ParameterError(problems)
    years = np.arange(base.date.year + 1, int(np.floor(fractional_year(date))) + 2)
    f = _Fit(base=base, codes=codes[same], names=names[same], obs=observed[:, same], date=date, years=years,
             span=fractional_year(date) - base.year_fraction, n_paths=n_paths, seed=seed, say=say)
    values = _fit_rate(f, rounds)
    cen, cal = f.central(values)
    naive = np.stack([cal.census_resident,
                      *(cal.census_groups[:, :, g:].sum(axis=(1, 2)) / cal.census_resident * 100 for g in (13, 14))])
    in_sample = _errors(f.obs, cen, naive)
    errors = pd.concat([in_sample.assign(sample="in-sample"), _out_of_sample(f, cen, cal, naive)],
                       ignore_index=True)
    say("rate fitted: " + "; ".join(f"{r.sample} {r.indicator} {r.error:.2f} (naive {r.naive_error:.2f})"
                                     for r in errors.itertuples() if np.isfinite(r.error)))
    sd_log = _fit_widths(f, values, cen, cal)
    final = _set_scales(f, values)
    cov_table = in_sample.assign(coverage_pct=[final[i] for i in BACKTEST_INDICATORS], paths=n_paths)
    units = pd.DataFrame({"code": f.codes, "name_zh": f.names,
                          **{k: cal.features[k] for k in (*MIGRATION_FEATURES, "outflow_share")},
                          "observed": f.obs[0], "central": cen[0], "log_error": np.log(f.obs[0] / cen[0]),
                          "sd_log": sd_log})
    return MigrationFit(values=values, units=units, errors=errors, coverage=cov_table)


@dataclass(frozen=True)
class _Fit:
    """What the steps of :func:`fit_migration` share: the units compared and the run's settings."""

    base: Census
    codes: np.ndarray  # (C,) the units compared
    names: np.ndarray
    obs: np.ndarray  # (3, C) observed resident total and shares aged 60+, 65+
    date: dt.date
    years: np.ndarray  # projected years
    span: float  # years between the censuses
    n_paths: int
    seed: int
    say: Callable[[str], None]

    def central(self, values: dict[str, float]) -> tuple[np.ndarray, object]:
        r = census_indicators_at(self.base, self.codes, self.date, pa=_arrays(self.years, values))
        return r["central"], r["calibration"]

    @property
    def groups(self) -> np.ndarray:
        """Each unit's prefecture when the prefecture has at least two units compared, else ""."""
        return prefecture_groups(self.codes)

    def coverage(self, values: dict[str, float]) -> pd.Series:
        """The share [%] of units (and of prefectures' totals) inside the paths' 10-90 % band."""
        groups = self.groups
        r = census_indicators_at(self.base, self.codes, self.date, pa=_arrays(self.years, values),
                                 n_paths=self.n_paths, seed=self.seed, groups=groups)
        q = r["quantiles"]
        inside = list(((self.obs >= q[0]) & (self.obs <= q[-1])).mean(axis=1) * 100)
        obs_g = np.array([self.obs[0, groups == g].sum() for g in r["group_labels"]])
        gq = r["group_quantiles"]
        inside.append(((obs_g >= gq[0]) & (obs_g <= gq[-1])).mean() * 100 if len(obs_g) else np.nan)
        return pd.Series(inside, index=[*BACKTEST_INDICATORS, PREFECTURE_TOTAL])

    def design(self, cal: object) -> np.ndarray:
        return np.column_stack([np.ones(len(self.codes))] + [cal.features[k] for k in MIGRATION_FEATURES])


def _fit_rate(f: _Fit, rounds: int) -> dict[str, float]:
    """Step 1: the coefficients of the rate, by rounds of regression and projection."""
    half_life = float(demography_param_arrays(f.years)["demography." + _R + "half_life"][0, 0])
    values = {_R + k: 0.0 for k in ("intercept",) + MIGRATION_FEATURES}
    values[_R + "half_life"] = half_life
    t = np.linspace(0.0, f.span, 2001)
    mean_decay = float(np.mean(np.power(0.5, t / half_life)))  # the rate's mean over the span / at the moment
    for i in range(rounds):
        cen, cal = f.central(values)
        y = np.log(f.obs[0] / cen[0]) / f.span * 1e3
        step = least_absolute_deviations(f.design(cal), y) / mean_decay
        for k, name in enumerate(("intercept",) + MIGRATION_FEATURES):
            values[_R + name] += float(step[k])
        f.say(f"round {i + 1}: mean absolute percentage error before it "
              f"{np.mean(np.abs(cen[0] / f.obs[0] - 1)) * 100:.2f} %")
    return values


def _out_of_sample(f: _Fit, cen: np.ndarray, cal: object, naive: np.ndarray) -> pd.DataFrame:
    """Step 2: the errors of the totals leaving each province out, to first order around the fit
    (the shares are not re-estimated out of sample: NaN)."""
    prov = np.array([str(c)[:2] for c in f.codes])
    x = f.design(cal)
    y = np.log(f.obs[0] / cen[0]) / f.span * 1e3
    loo = cen.copy()
    for p in np.unique(prov):
        out = prov == p
        loo[0, out] = cen[0, out] * np.exp(x[out] @ least_absolute_deviations(x[~out], y[~out]) * f.span * 1e-3)
    errors = _errors(f.obs, loo, naive).assign(sample="leave one province out")
    errors.loc[errors["indicator"] != "resident_total", ["error", "ratio"]] = np.nan
    return errors


def _fit_widths(f: _Fit, values: dict[str, float], cen: np.ndarray, cal: object) -> np.ndarray:
    """Step 3: ln|e| on the width features, scaled so that ±Z80 σ holds 80 % of the errors, and
    the regional share; returns σ of each unit's log error."""
    log_err = np.log(f.obs[0] / cen[0])
    e = log_err - np.median(log_err)
    xw = np.column_stack([np.ones(len(e))] + [cal.features[k] for k in WIDTH_FEATURES])
    gamma = np.linalg.lstsq(xw, np.log(np.abs(e) + 1e-4), rcond=None)[0]
    shape = np.exp(xw @ gamma)
    scale = np.percentile(np.abs(e) / shape, 80) / Z80
    sd_log = shape * scale
    values[_U + "migration_sd"] = float(np.exp(gamma[0]) * scale / f.span * 1e3)
    for k, name in enumerate(WIDTH_FEATURES):
        values[_U + "migration_sd_" + name] = float(gamma[k + 1])
    values[_U + "migration_regional_share"] = _regional_share(e / sd_log, np.array([str(c)[:2] for c in f.codes]))
    values[_U + "migration_prefecture_share"] = 0.0
    values[_U + "mortality_level_sd"] = 0.0
    f.say(f"widths: base {values[_U + 'migration_sd']:.2f} per mille/year, regional share "
          f"{values[_U + 'migration_regional_share']:.2f}")
    return sd_log


def _bisect_coverage(f: _Fit, values: dict[str, float], path: str, scale: Callable[[float], float], lo: float,
                     hi: float, indicator: str) -> None:
    """Set ``values[path] = scale(x)`` for the x in [lo, hi] at which the paths' 10-90 % band
    holds 80 % of ``indicator`` (six bisection steps)."""
    bottom, top = lo, hi
    for _ in range(6):
        mid = 0.5 * (lo + hi)
        cov = f.coverage(values | {path: scale(mid)})
        lo, hi = (mid, hi) if cov[indicator] < 80.0 else (lo, mid)
        f.say(f"{path} {scale(mid):.3f}: {indicator} inside the band {cov[indicator]:.1f} %")
    values[path] = scale(0.5 * (lo + hi))
    if hi - top > -1e-9 * (top - bottom) or lo - bottom < 1e-9 * (top - bottom):
        f.say(f"warning: {path} ended at the edge of its range [{scale(bottom):.3g}, {scale(top):.3g}]: "
              f"80 % of {indicator} inside the band was not reached")


def _set_scales(f: _Fit, values: dict[str, float]) -> pd.Series:
    """Step 4: the scale of the migration deviation (80 % of the totals inside), the share of it
    the counties of a prefecture share (80 % of the prefectures' totals inside: a county's own
    band does not change with it), then the county mortality deviation (80 % of the shares
    aged 60+ inside); returns the final coverage."""
    base_sd = values[_U + "migration_sd"]
    _bisect_coverage(f, values, _U + "migration_sd", lambda x: base_sd * x, 0.5, 2.0, "resident_total")
    room = 1.0 - values[_U + "migration_regional_share"]
    _bisect_coverage(f, values, _U + "migration_prefecture_share", lambda x: x, 0.0, room, PREFECTURE_TOTAL)
    _bisect_coverage(f, values, _U + "mortality_level_sd", lambda x: x, 0.0, 1.0, "share_60plus")
    return f.coverage(values)


def _errors(obs: np.ndarray, central: np.ndarray, naive: np.ndarray) -> pd.DataFrame:
    frames = [pd.DataFrame({"indicator": ind, "observed": obs[k], "central": central[k], "naive": naive[k],
                            "p10": np.nan, "p90": np.nan}) for k, ind in enumerate(BACKTEST_INDICATORS)]
    return backtest_errors(pd.concat(frames, ignore_index=True)).drop(columns="coverage_pct")


def _regional_share(z: np.ndarray, group: np.ndarray) -> float:
    """Share of the variance of ``z`` between groups (one-way random effects, moments), in 0..1."""
    labels, idx = np.unique(group, return_inverse=True)
    k, n = len(labels), len(z)
    if k < 2 or n <= k:  # one province: nothing to tell between and within apart
        return 0.0
    sizes = np.bincount(idx)
    means = np.bincount(idx, z) / sizes
    grand = z.mean()
    msb = float((sizes * (means - grand) ** 2).sum() / (k - 1))
    msw = float(((z - means[idx]) ** 2).sum() / (n - k))
    n0 = (n - (sizes ** 2).sum() / n) / (k - 1)
    between = max(0.0, (msb - msw) / n0)
    return float(between / (between + msw)) if between + msw > 0 else 0.0
