"""The explorer's vocabulary: its levers, key figures, plans and the outcome of one setting."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import i18n
from ..errors import Problem, ScenarioError
from ..model.budget import LINES
from ..rules.scenario import (
    SCENARIO_KEYS,
)


def file_mode() -> int:
    """Mode of a new file under the current umask (mkstemp would leave it 0o600)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


# --------------------------------------------------------------------------- labels

def label(key: str, lang: str, /, **fields: Any) -> str:
    """Label ``key`` in ``lang`` from the :mod:`qzfp.i18n` catalogue."""
    return i18n.t(key, lang, **fields)


# --------------------------------------------------------------------------- levers


@dataclass(frozen=True)
class Lever:
    """A control of the explorer.

    Attributes
    ----------
    key : str
        Settings key (``village_allowance``).
    path : str or None
        Rulebook path the lever sets, or None for a scenario key.
    scenario_key : str or None
        Scenario key the lever sets (``variant``, ``merge_target``), or None.
    label_key : str
        Label key (see :func:`label`).
    """

    key: str
    path: str | None
    scenario_key: str | None
    label_key: str


LEVERS: tuple[Lever, ...] = (
    Lever("village_allowance", "village.vice_president.allowance", None,
          "param.village.vice_president.allowance"),
    Lever("village_threshold", "village.vice_president.population_threshold", None,
          "param.village.vice_president.population_threshold"),
    Lever("township_allowance", "township.vice_president.post_allowance", None,
          "param.township.vice_president.post_allowance"),
    Lever("township_extra_step", "township.vice_president.extra_post_population_step", None,
          "nb.explore.township_extra_step"),
    Lever("township_extra_above", "township.vice_president.extra_post_above_population", None,
          "nb.explore.township_extra_above"),
    Lever("reward_amount", "reward_assistance.amount", None, "param.reward_assistance.amount"),
    Lever("variant", None, "variant", "param.variant"),
    Lever("merge_target", None, "merge_target", "param.merge_target"),
)
"""The levers, in the order of the controls."""

RULE_LEVERS: dict[str, Lever] = {lv.key: lv for lv in LEVERS if lv.path is not None}
VARIANTS: tuple[str, ...] = SCENARIO_KEYS["variant"].choices or ("medium",)
FIGURE_KEYS: tuple[str, ...] = (
    "population",
    "births",
    "townships",
    "village_vice_presidents",
    "township_vice_presidents",
    "total_posts",
    "wisn_required_staff",
    "townships_short_of_staff",
    "budget_yuan",
    "budget_horizon_yuan",
    "budget_per_capita_yuan",
)
"""Keys of :meth:`Outcome.figures` besides ``year`` and ``county``."""

ADDITIVE_FIGURES: tuple[str, ...] = tuple(k for k in FIGURE_KEYS if k != "budget_per_capita_yuan")
"""Figures whose county values sum to the city's."""

SCENARIO_NAME_RE = re.compile(r"^\w[\w\-]{0,63}$")
LINE_IDS = tuple(ln.id for ln in LINES)


def plain_value(value: Any) -> Any:
    """A number as int when integral (for YAML and comparisons), else float."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return int(v) if v.is_integer() else v
    return value


#: Levers the ceiling field moves and how many values of each it tries over its control's
#: range [value]: the staffing rules that buy coverage (the threshold puts vice-presidents in
#: villages, the township rule adds township posts); the amounts (allowances, reward) are the
#: planner's to set, since a lower amount always costs less and covers as many.  101 × 11 × 11
#: = 13,321 plans, about a second (the ``qzfp plan`` rate, benchmarks/README.md).
PLAN_LEVER_VALUES: dict[str, int] = {
    "village_threshold": 101,
    "township_extra_step": 11,
    "township_extra_above": 11,
}


@dataclass(frozen=True)
class ExplorerPlan:
    """The best plan under a ceiling of :meth:`ExplorerModel.best_plan`.

    Attributes
    ----------
    settings : dict
        The levers of the chosen plan (the others as they were).
    table : pandas.DataFrame
        Every plan of the grid: lever keys, ``budget_yuan`` [yuan] and the coverage measures.
    frontier : pandas.DataFrame
        :func:`qzfp.model.plan.frontier` of the table.
    chosen : int
        Row of the chosen plan.
    ceiling : float
        [yuan].
    year : int
    objective, column : str
        Objective and its table column.
    current : dict
        Budget and coverage of the settings the plan started from.
    """

    settings: dict
    table: pd.DataFrame
    frontier: pd.DataFrame
    chosen: int
    ceiling: float
    year: int
    objective: str
    column: str
    current: dict


# --------------------------------------------------------------------------- outcome


@dataclass(frozen=True)
class Outcome:
    """County × year results of one setting of the levers (parameter set N = 1).

    Attributes
    ----------
    years : numpy.ndarray of int, (T,)
    county_codes : numpy.ndarray of str, (C,)
    townships : numpy.ndarray, (C,)
        Townships per county after the merger [township].
    population, births : numpy.ndarray, (T, C)
        Population on 1 January and births during the year [person].
    village_vice_presidents, township_vice_presidents, total_posts : numpy.ndarray, (T, C)
        Posts required [post] (total: county, township and village posts).
    wisn_required_staff : numpy.ndarray, (T, C)
        WISN required staff of all cadres [post].
    townships_short_of_staff : numpy.ndarray, (T, C)
        Townships whose township vice-presidents' WISN ratio is below 1 [township].
    amount, quantity : numpy.ndarray, (T, C, L)
        Budget per line [yuan/year] and its quantity (in the line's quantity unit).
    unit_cost : numpy.ndarray, (T, L)
        Unit cost per line [yuan per quantity unit].
    shares : numpy.ndarray, (T, L, 3)
        Funding shares of city, county, township [share].
    """

    years: np.ndarray
    county_codes: np.ndarray
    townships: np.ndarray
    population: np.ndarray
    births: np.ndarray
    village_vice_presidents: np.ndarray
    township_vice_presidents: np.ndarray
    total_posts: np.ndarray
    wisn_required_staff: np.ndarray
    townships_short_of_staff: np.ndarray
    amount: np.ndarray
    quantity: np.ndarray
    unit_cost: np.ndarray
    shares: np.ndarray

    def year_index(self, year: int) -> int:
        """Position of ``year`` (``ScenarioError`` if not modelled)."""
        hits = np.flatnonzero(self.years == int(year))
        if len(hits) == 0:
            raise ScenarioError(Problem("explorer:year", "explorer.year", year=year, first=self.years[0],
                    last=self.years[-1]))
        return int(hits[0])

    def county_mask(self, county: str | None) -> np.ndarray:
        """Boolean (C,) selecting one county (by code) or all (``None`` or ``""``)."""
        if not county:
            return np.ones(len(self.county_codes), dtype=bool)
        mask = self.county_codes == str(county)
        if not mask.any():
            raise ScenarioError(Problem("explorer:county", "explorer.county", county=county,
                    codes=", ".join(map(str, self.county_codes))))
        return mask

    def series(self, county: str | None = None) -> dict[str, np.ndarray]:
        """Every figure over the years for one county or the city, arrays (T,).

        ``budget_by_line`` is (T, L) [yuan/year].
        """
        m = self.county_mask(county)
        out = {
            k: getattr(self, k)[:, m].sum(axis=1)
            for k in (
                "population", "births", "village_vice_presidents", "township_vice_presidents",
                "total_posts", "wisn_required_staff", "townships_short_of_staff",
            )
        }
        out["budget_by_line"] = self.amount[:, m, :].sum(axis=1)
        out["budget_yuan"] = out["budget_by_line"].sum(axis=1)
        return out

    def figures(self, year: int, county: str | None = None) -> dict[str, Any]:
        """Key figures of one year for one county or the whole city.

        Returns
        -------
        dict
            ``year``, ``county`` (code, ``""`` = city) and :data:`FIGURE_KEYS`:
            population and births [person], townships, posts [post], WISN required
            staff [post], townships short of staff, budget of the year [yuan], budget
            over all modelled years [yuan], budget per person in the year [yuan/person].
        """
        i = self.year_index(year)
        m = self.county_mask(county)
        pop = float(self.population[i, m].sum())
        budget_year = float(self.amount[i, m, :].sum())
        return {
            "year": int(self.years[i]),
            "county": str(county or ""),
            "population": pop,
            "births": float(self.births[i, m].sum()),
            "townships": int(self.townships[m].sum()),
            "village_vice_presidents": float(self.village_vice_presidents[i, m].sum()),
            "township_vice_presidents": float(self.township_vice_presidents[i, m].sum()),
            "total_posts": float(self.total_posts[i, m].sum()),
            "wisn_required_staff": float(self.wisn_required_staff[i, m].sum()),
            "townships_short_of_staff": int(self.townships_short_of_staff[i, m].sum()),
            "budget_yuan": budget_year,
            "budget_horizon_yuan": float(self.amount[:, m, :].sum()),
            "budget_per_capita_yuan": budget_year / pop if pop > 0 else float("nan"),
        }

    def budget_table(self, year: int, county: str | None = None) -> pd.DataFrame:
        """Budget of one year for one county or the city, one row per line.

        Columns: ``line``, ``rule_path``, ``quantity``, ``quantity_unit``,
        ``unit_cost_yuan``, ``amount_yuan``, ``city_yuan``, ``county_yuan``,
        ``township_yuan`` (the funding split of the amount).
        """
        i = self.year_index(year)
        m = self.county_mask(county)
        amount = self.amount[i, m, :].sum(axis=0)
        funded = amount[:, None] * self.shares[i]
        return pd.DataFrame({
            "line": list(LINE_IDS),
            "rule_path": [ln.rule_path for ln in LINES],
            "quantity": self.quantity[i, m, :].sum(axis=0),
            "quantity_unit": [ln.quantity_unit for ln in LINES],
            "unit_cost_yuan": self.unit_cost[i],
            "amount_yuan": amount,
            "city_yuan": funded[:, 0],
            "county_yuan": funded[:, 1],
            "township_yuan": funded[:, 2],
        })


def nice_step(span: float, n: int = 5) -> float:
    """A 1-2-5 step giving about ``n`` intervals over ``span``."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / n
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def nice_ceil(x: float) -> float:
    """Smallest 1-2-5 × 10^k at or above ``x`` (1 for x ≤ 0)."""
    if x <= 0:
        return 1.0
    mag = 10 ** math.floor(math.log10(x))
    for m in (1, 2, 5, 10):
        if x <= m * mag * (1 + 1e-12):
            return m * mag
    return 10 * mag


def slider_bounds(value: float, natural_max: float, param_max: float | None) -> tuple[float, float]:
    """(max, step) of a slider: the larger of a natural scale and 4 × the start value,
    rounded up to 1-2-5 × 10^k, with about 200 steps; never below the start value."""
    top = nice_ceil(max(natural_max, 4 * float(value), 1.0))
    if param_max is not None:
        top = min(top, float(param_max))
    top = max(top, float(value))
    step = nice_step(top, 200)
    return top, step
