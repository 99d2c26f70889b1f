"""Interactive explorer: move the levers a planner argues about, see posts, workload and budget.

Two layers:

:class:`ExplorerModel`
    Pure computation, no widgets.  Holds the scenario the explorer started from and
    computes, for a dict of *settings* (the levers, see :data:`LEVERS`), the county ×
    year arrays behind the key figures, the chart and the budget table
    (:class:`Outcome`).  It is built for speed: the register is cached per township
    merger target and the population projection per (merger target, variant); the
    policy levers (allowances, threshold, township staffing rule, reward amount) do
    not change the population, so a change of one of them reruns only staffing,
    workload and budget (:func:`qzfp.simulate.run_arrays` with ``population=``),
    on a :class:`~qzfp.paramarrays.ParamArrays` changed with ``with_values``.  No
    tidy table is built except the one budget table shown.

:class:`Explorer`
    The ipywidgets layer: one control per lever plus year and county filter, key
    figures, a chart (one inline SVG redrawn by replacing its markup: a matplotlib
    redraw costs more than the whole model run) and the budget table of the selected
    year and county, all updated on every change; and "Save as scenario".

Meaning of a control
--------------------
A control starts at the scenario's value *in force in the start year*.  A moved control
applies its value from 1 January of the start year over the whole horizon (later dated
changes of that rule are replaced, exactly as a scalar ``overrides`` entry of a scenario
file does).  A control left at (or moved back to) its starting value keeps the
scenario's dated values.

Saving
------
:meth:`ExplorerModel.save_scenario` writes ``params/<name>.yaml``: a scenario file that
``extends`` the scenario the explorer started from, with ``overrides`` (scalars from the
start year) for the changed rules and ``variant`` / ``merge_target`` as top-level keys.
The file is written to a temporary file beside the target, validated with
:func:`qzfp.scenario.validate_scenario_file`, then moved into place, so an invalid file is
never left behind.  ``qzfp run`` and :func:`qzfp.load_scenario` accept it, and
:func:`qzfp.simulate` of it reproduces the explorer's figures.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import math
import os
import re
import tempfile
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from . import i18n
from .budget import LINES
from .errors import Problem, QzfpError, ScenarioError
from .paramarrays import ParamArrays
from .population import PopulationResult, project
from .register import Register
from .scenario import (
    SCENARIO_KEYS,
    Scenario,
    _packaged_params_dir,
    load_scenario,
    scenario_search_path,
    validate_scenario_file,
)
from .simulate import prepare_register, register_content_hash, run_arrays
from .staffing import group_sum

__all__ = [
    "Explorer",
    "ExplorerModel",
    "LEVERS",
    "Lever",
    "Outcome",
    "figures_chart_svg",
]


def _file_mode() -> int:
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

_NAME_RE = re.compile(r"^\w[\w\-]{0,63}$")
_LINE_IDS = tuple(ln.id for ln in LINES)


def _plain(value: Any) -> Any:
    """A number as int when integral (for YAML and comparisons), else float."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return int(v) if v.is_integer() else v
    return value


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
            raise ScenarioError(Problem(
                "explorer:year",
                f"year {year} is not modelled; expected {self.years[0]}..{self.years[-1]}",
            ))
        return int(hits[0])

    def county_mask(self, county: str | None) -> np.ndarray:
        """Boolean (C,) selecting one county (by code) or all (``None`` or ``""``)."""
        if not county:
            return np.ones(len(self.county_codes), dtype=bool)
        mask = self.county_codes == str(county)
        if not mask.any():
            raise ScenarioError(Problem(
                "explorer:county",
                f"unknown county code {county!r}; expected one of "
                f"{', '.join(map(str, self.county_codes))} or '' for the whole city",
            ))
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
            "line": list(_LINE_IDS),
            "rule_path": [ln.rule_path for ln in LINES],
            "quantity": self.quantity[i, m, :].sum(axis=0),
            "quantity_unit": [ln.quantity_unit for ln in LINES],
            "unit_cost_yuan": self.unit_cost[i],
            "amount_yuan": amount,
            "city_yuan": funded[:, 0],
            "county_yuan": funded[:, 1],
            "township_yuan": funded[:, 2],
        })


# --------------------------------------------------------------------------- model


class ExplorerModel:
    """The computation behind the explorer (no widgets).

    Parameters
    ----------
    scenario : Scenario or str or Path
        Scenario the explorer starts from (a :class:`~qzfp.scenario.Scenario`, or a name
        or file for :func:`qzfp.load_scenario`).
    register : Register, optional
        Register to use instead of the scenario's (before its redistricting), as in
        :func:`qzfp.simulate`.  A saved scenario cannot refer to an in-memory register,
        so its figures are reproduced only with the same register.

    Attributes
    ----------
    initial : dict
        Starting value of every lever: the rule's value in force in the start year, the
        scenario's ``variant`` and ``merge_target``.
    """

    _CACHE_SIZE = 16

    def __init__(self, scenario: Scenario | str | os.PathLike, register: Register | None = None):
        if not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario)
        self.scenario = scenario
        self.years = np.asarray(scenario.years, dtype=int)
        self.start_year = int(scenario.start_year)
        self._given_register = register
        self.base_arrays: ParamArrays = scenario.arrays()
        self.initial: dict[str, Any] = {
            lv.key: _plain(scenario.value(lv.path, self.start_year)) for lv in RULE_LEVERS.values()
        }
        self.initial["variant"] = scenario.params["variant"]
        self.initial["merge_target"] = int(scenario.params["merge_target"])
        self._registers: OrderedDict[int, Register] = OrderedDict()
        self._populations: OrderedDict[tuple[int, str], PopulationResult] = OrderedDict()
        self._outcomes: OrderedDict[tuple, Outcome] = OrderedDict()
        self._register_hash = self._register_content()
        base = self.register(self.initial["merge_target"])
        self.counties = base.counties[["county_code", "name_zh", "name_en"]].copy()

    # ---- caches
    def _register_content(self) -> str:
        """Content hash of the scenario's register files ("" for a register given in memory)."""
        if self._given_register is not None:
            return ""
        return register_content_hash(self.scenario.params.get("register") or "", self.scenario.path)

    def _drop_stale(self) -> None:
        """Forget registers, projections and outcomes when the register files changed."""
        current = self._register_content()
        if current != self._register_hash:
            self._registers.clear()
            self._populations.clear()
            self._outcomes.clear()
            self._register_hash = current

    @staticmethod
    def _bounded(cache: OrderedDict, key: Any, make: Any, size: int) -> Any:
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
        cache[key] = value = make()
        while len(cache) > size:
            cache.popitem(last=False)
        return value

    def register(self, merge_target: int) -> Register:
        """Register after the scenario's redistricting with this merger target (cached)."""
        key = int(merge_target)

        def make() -> Register:
            sc = dataclasses.replace(
                self.scenario, params={**self.scenario.params, "merge_target": key}
            )
            return prepare_register(sc, self._given_register)

        return self._bounded(self._registers, key, make, self._CACHE_SIZE)

    def population(self, merge_target: int, variant: str) -> PopulationResult:
        """Population projection per (merger target, variant) (cached)."""
        key = (int(merge_target), str(variant))
        return self._bounded(
            self._populations, key,
            lambda: project(self.register(key[0]), self.base_arrays, variant=key[1]),
            self._CACHE_SIZE,
        )

    # ---- settings
    def check(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        """Complete ``settings`` with the starting values and validate them.

        Raises
        ------
        ScenarioError
            One problem per unknown key or invalid value (``explorer:<key>``).
        """
        problems: list[Problem] = []
        out = dict(self.initial)
        for key, value in settings.items():
            loc = f"explorer:{key}"
            if key not in self.initial:
                problems.append(Problem(loc, f"unknown lever; expected one of {', '.join(self.initial)}"))
                continue
            if key == "variant":
                if value not in VARIANTS:
                    problems.append(Problem(loc, f"{value!r} is not one of {', '.join(VARIANTS)}"))
                    continue
                out[key] = value
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                problems.append(Problem(loc, f"expected a number, got {value!r}"))
                continue
            v = _plain(value)
            if not math.isfinite(float(v)) or v < 0:
                problems.append(Problem(loc, f"expected a number of at least 0, got {value!r}"))
                continue
            if key == "merge_target" and not isinstance(v, int):
                problems.append(Problem(loc, f"expected a whole number of persons, got {value!r}"))
                continue
            lever = RULE_LEVERS.get(key)
            if lever is not None:
                p = self.scenario.parameter(lever.path)
                if p.max is not None and v > p.max:
                    problems.append(Problem(loc, f"must be at most {p.max:g} ({p.unit}), got {v!r}"))
                    continue
                if p.min is not None and v < p.min:
                    problems.append(Problem(loc, f"must be at least {p.min:g} ({p.unit}), got {v!r}"))
                    continue
            out[key] = v
        if problems:
            raise ScenarioError(problems)
        return out

    def changed_rules(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        """Rulebook path → value of the rule levers moved away from their starting value."""
        s = self.check(settings)
        return {
            lv.path: s[lv.key] for lv in RULE_LEVERS.values() if s[lv.key] != self.initial[lv.key]
        }

    def param_arrays(self, settings: Mapping[str, Any]) -> ParamArrays:
        """The scenario's arrays with the moved rules set from the start year on (N = 1)."""
        changed = self.changed_rules(settings)
        if not changed:
            return self.base_arrays
        return self.base_arrays.with_values(
            {path: np.array([[float(v)]]) for path, v in changed.items()}
        )

    # ---- computation
    def compute(self, settings: Mapping[str, Any] | None = None) -> Outcome:
        """County × year results of a setting of the levers (the last few are cached)."""
        s = self.check(settings or {})
        self._drop_stale()  # a register file rewritten in place is read again
        key = tuple(sorted(s.items()))
        hit = self._outcomes.get(key)
        if hit is not None:
            self._outcomes.move_to_end(key)
            return hit
        reg = self.register(s["merge_target"])
        pop = self.population(s["merge_target"], s["variant"])
        ar = run_arrays(reg, self.param_arrays(s), variant=s["variant"], population=pop)
        st, wr, br = ar.staffing, ar.workload, ar.budget
        c = reg.n_counties
        required = np.zeros((len(self.years), c))
        for w in wr.cadres.values():
            r = w.required[0]
            if w.level == "village":
                required += group_sum(r, reg.village_county, c)
            elif w.level == "township":
                required += group_sum(r, reg.township_county, c)
            else:
                required += r
        short = wr["township_vice_president"].ratio[0] < 1
        outcome = Outcome(
            years=self.years,
            county_codes=reg.counties["county_code"].to_numpy(dtype=str),
            townships=np.bincount(np.asarray(reg.township_county, dtype=np.intp), minlength=c),
            population=st.county_pop[0],
            births=np.asarray(pop.county_births[0]).sum(axis=-1),
            village_vice_presidents=st.village_to_county(st.village_vice_presidents)[0],
            township_vice_presidents=st.to_county(st.township_vice_presidents)[0],
            total_posts=st.county_all_posts[0],
            wisn_required_staff=required,
            townships_short_of_staff=group_sum(short, reg.township_county, c),
            amount=br.amount[0],
            quantity=br.quantity[0],
            unit_cost=br.unit_cost[0],
            shares=br.shares[0],
        )
        self._outcomes[key] = outcome
        if len(self._outcomes) > self._CACHE_SIZE:
            self._outcomes.popitem(last=False)
        return outcome

    def figures(self, settings: Mapping[str, Any] | None = None, year: int | None = None,
                county: str | None = None) -> dict[str, Any]:
        """Key figures (see :meth:`Outcome.figures`); ``year`` defaults to the start year."""
        return self.compute(settings).figures(self.start_year if year is None else year, county)

    # ---- saving
    def default_params_dir(self) -> Path:
        """Folder a named scenario is saved to.

        The folder of the scenario file the explorer started from, unless that is the
        packaged ``qzfp/params``; otherwise the first existing ``params`` folder from the
        working directory up to the repository root, else ``./params``.
        """
        packaged = _packaged_params_dir()
        packaged = packaged.resolve() if packaged is not None else None
        if self.scenario.path is not None:
            folder = Path(self.scenario.path).resolve().parent
            if folder != packaged:
                return folder
        for d in scenario_search_path(None):
            if d.resolve() != packaged and d.is_dir():
                return d
        return Path.cwd() / "params"

    def _parent(self, folder: Path) -> tuple[str, dict[str, Any]]:
        """``extends`` value for a file in ``folder`` and the keys it must set itself.

        The scenario's own file when it has one (by name when the name resolves to it
        from ``folder``, else by path); for a scenario built from parameters, the
        scenario file of the same name if it has exactly these parameters; otherwise
        no parent and every key that differs from the baseline default.
        """
        path = self.scenario.path
        if path is None:
            try:
                candidate = load_scenario(self.scenario.name)
            except QzfpError:
                candidate = None
            if candidate is not None and candidate.sha256 == self.scenario.sha256:
                path = candidate.path
        if path is None:
            defaults = {k: s.default for k, s in SCENARIO_KEYS.items()}
            own = {
                k: v for k, v in self.scenario.to_papermill().items()
                if k not in ("scenario_name", "title", "description") and v != defaults[k]
            }
            return "", own
        path = Path(path).resolve()
        for d in scenario_search_path(folder):
            for suffix in (".yaml", ".yml"):
                hit = d / f"{path.stem}{suffix}"
                if hit.is_file():
                    return (path.stem if hit.resolve() == path else str(path)), {}
        return str(path), {}

    def scenario_text(self, name: str, settings: Mapping[str, Any], folder: Path,
                      lang: str | None = None) -> str:
        """YAML text of a scenario file named ``name`` for ``settings`` saved in ``folder``."""
        lang = lang or self.scenario.lang
        s = self.check(settings)
        changed = self.changed_rules(s)
        extends, own = self._parent(folder)
        changes = []
        for lv in RULE_LEVERS.values():
            if lv.path in changed:
                changes.append(f"{lv.path} {self.initial[lv.key]} -> {changed[lv.path]}")
        for k in ("variant", "merge_target"):
            if s[k] != self.initial[k]:
                changes.append(f"{k} {self.initial[k]} -> {s[k]}")
        base = self.scenario.name
        title = f"{base}, changed in the explorer"
        description = (
            f"Saved from the qzfp explorer on {dt.date.today().isoformat()}, starting from "
            f"scenario {base}. Changes: {'; '.join(changes) if changes else 'none'}. Changed "
            f"rules apply from {self.start_year} over the whole horizon."
        )
        doc: dict[str, Any] = {
            "scenario_name": name,
            "title": title,
            "description": description,
            "extends": extends,
        }
        own_overrides = dict(own.pop("overrides", {}) or {})
        doc.update(own)
        doc["variant"] = s["variant"]
        doc["merge_target"] = int(s["merge_target"])
        lines = [
            f"# Scenario saved from the qzfp explorer ({dt.datetime.now().isoformat(timespec='seconds')}).",
            f"# Starts from scenario {base!r}; each override applies from 1 January {self.start_year}.",
            yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100).rstrip("\n"),
        ]
        overrides = {**own_overrides, **changed}
        if not overrides:
            lines.append("overrides: {}")
        else:
            lines.append("overrides:")
            for path, value in overrides.items():
                if path in changed:
                    lv = next(x for x in RULE_LEVERS.values() if x.path == path)
                    unit = self.scenario.parameter(path).unit
                    lines.append(f"  # {path} [{unit}]: {self.initial[lv.key]} in force in "
                                 f"{self.start_year}, {changed[path]} from {self.start_year} on")
                body = yaml.safe_dump({path: value}, allow_unicode=True, sort_keys=False, width=100)
                lines.extend("  " + ln for ln in body.rstrip("\n").split("\n"))
        return "\n".join(lines) + "\n"

    def target_path(self, path_or_name: str | os.PathLike) -> Path:
        """File a scenario is saved to: ``<params>/<name>.yaml`` for a name, else the path.

        Raises
        ------
        ScenarioError
            The name (file stem) is not a valid scenario name.
        """
        raw = os.fspath(path_or_name).strip()
        is_path = "/" in raw or "\\" in raw or raw.endswith((".yaml", ".yml"))
        p = Path(raw).expanduser()
        stem = p.stem if is_path else raw
        if not _NAME_RE.match(stem or ""):
            raise ScenarioError(Problem(
                f"explorer:save:{raw or '(empty)'}",
                "a scenario name is 1 to 64 letters, digits, '_' or '-', starting with a "
                "letter or digit (it becomes the file name params/<name>.yaml)",
            ))
        if is_path:
            if p.suffix not in (".yaml", ".yml"):
                p = p.with_name(p.name + ".yaml")
            return p if p.is_absolute() else Path.cwd() / p
        return self.default_params_dir() / f"{stem}.yaml"

    def save_scenario(self, path_or_name: str | os.PathLike, settings: Mapping[str, Any],
                      *, overwrite: bool = False) -> Path:
        """Write ``settings`` as a scenario file and return its path.

        Parameters
        ----------
        path_or_name : str or path-like
            A scenario name (saved as ``<params>/<name>.yaml``, see
            :meth:`default_params_dir`) or a file path ending in ``.yaml``.
        settings : mapping
            Lever values (see :data:`LEVERS`); missing levers keep their starting value.
        overwrite : bool
            Replace an existing file.

        Raises
        ------
        ScenarioError
            Invalid name, the file exists and ``overwrite`` is False, invalid settings,
            or the written file does not validate (nothing is left behind then).
        """
        target = self.target_path(path_or_name)
        if target.exists() and not overwrite:
            raise ScenarioError(Problem(
                str(target), "exists; choose another name or confirm overwriting it"
            ))
        folder = target.parent
        folder.mkdir(parents=True, exist_ok=True)
        text = self.scenario_text(target.stem, settings, folder)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".yaml", dir=folder)
        os.chmod(tmp, _file_mode())
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            problems = validate_scenario_file(tmp)
            if problems:
                raise ScenarioError([
                    Problem(f"{target}:{p.location.split(':', 1)[-1]}", p.message) for p in problems
                ])
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return target


# --------------------------------------------------------------------------- SVG chart


def _hex(rgba: tuple[float, ...]) -> str:
    return "#" + "".join(f"{int(round(255 * c)):02x}" for c in rgba[:3])


def _nice_step(span: float, n: int = 5) -> float:
    """A 1-2-5 step giving about ``n`` intervals over ``span``."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / n
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def _nice_ceil(x: float) -> float:
    """Smallest 1-2-5 × 10^k at or above ``x`` (1 for x ≤ 0)."""
    if x <= 0:
        return 1.0
    mag = 10 ** math.floor(math.log10(x))
    for m in (1, 2, 5, 10):
        if x <= m * mag * (1 + 1e-12):
            return m * mag
    return 10 * mag


_PATTERNS = (
    "",
    '<path d="M0,6 L6,0" stroke="#1a1a1a" stroke-width="0.7"/>',
    '<circle cx="3" cy="3" r="0.9" fill="#1a1a1a"/>',
    '<path d="M0,6 L6,0 M0,0 L6,6" stroke="#1a1a1a" stroke-width="0.6"/>',
    '<path d="M0,0 L6,6" stroke="#1a1a1a" stroke-width="0.7"/>',
    '<path d="M0,3 L6,3" stroke="#1a1a1a" stroke-width="0.7"/>',
    '<path d="M3,0 L3,6 M0,3 L6,3" stroke="#1a1a1a" stroke-width="0.6"/>',
    '<circle cx="3" cy="3" r="1.8" fill="none" stroke="#1a1a1a" stroke-width="0.6"/>',
    '<path d="M3,0 L3,6" stroke="#1a1a1a" stroke-width="0.7"/>',
)
"""Hatches of the series (same idea as :data:`qzfp.reporting.charts.HATCHES`: grey level *and* hatch)."""


def figures_chart_svg(
    years: np.ndarray,
    budget_by_line: np.ndarray,
    series_labels: list[str],
    posts: dict[str, np.ndarray],
    *,
    selected_year: int,
    lang: str,
    budget_title: str,
    posts_title: str,
    uid: str = "qzfp",
) -> str:
    """Two-panel SVG: stacked budget by line over the years, and posts over the years.

    Parameters
    ----------
    years : numpy.ndarray of int, (T,)
    budget_by_line : numpy.ndarray, (K, T)
        Amount of each shown series [yuan/year] (stacked in this order, first at the bottom).
    series_labels : list of str, (K,)
        Legend text of each budget series.
    posts : dict of str to numpy.ndarray (T,)
        Legend text → posts per year [post], drawn as lines with markers.
    selected_year : int
        Year highlighted by a band.
    lang : str
        Amounts in thousand yuan (en) or 万元 (zh), as :func:`qzfp.reporting.charts.money_scale`.
    budget_title, posts_title : str
    uid : str
        Prefix of the SVG pattern ids (unique per explorer on a page).

    Returns
    -------
    str
        ``<svg>`` markup (about 20 kB); the browser draws it, the kernel only formats it.
    """
    from .reporting.charts import INK, LINESTYLES, MARKERS, money_scale, shades

    esc = html.escape
    years = np.asarray(years, dtype=int)
    t = len(years)
    k = len(series_labels)
    scale = money_scale(lang)
    values = np.clip(np.asarray(budget_by_line, dtype=float) / scale, 0.0, None)
    width, height = 900, 560
    left, plot_w, legend_x = 72, 500, 600
    top1, h1 = 34, 250
    top2, h2 = 340, 170
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Noto Sans CJK SC, '
        f'Microsoft YaHei, PingFang SC, SimHei, WenQuanYi Zen Hei, sans-serif" '
        f'font-size="11" fill="{INK}">',
        "<defs>",
    ]
    colours = [_hex(c) for c in shades(k)]
    for i, col in enumerate(colours):
        pat = _PATTERNS[i % len(_PATTERNS)]
        out.append(
            f'<pattern id="{uid}-p{i}" width="6" height="6" patternUnits="userSpaceOnUse">'
            f'<rect width="6" height="6" fill="{col}"/>{pat}</pattern>'
        )
    out.append("</defs>")

    def x_of(j: float) -> float:
        return left + (j + 0.5) * plot_w / t

    def axes(top: float, h: float, ymax: float, title: str, ylabel: str, decimals: int) -> float:
        step = _nice_step(ymax)
        ymax = max(step, math.ceil(ymax / step - 1e-9) * step)
        out.append(f'<text x="{left}" y="{top - 12}" font-size="13">{esc(title)}</text>')
        yv = 0.0
        while yv <= ymax + 1e-9 * ymax:
            y = top + h - yv / ymax * h
            out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
                       f'stroke="#d4d4d4" stroke-width="0.6"/>')
            out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
                       f'{esc(i18n.format_number(yv, lang, decimals))}</text>')
            yv += step
        out.append(f'<text transform="translate(14,{top + h / 2:.0f}) rotate(-90)" '
                   f'text-anchor="middle">{esc(ylabel)}</text>')
        every = max(1, math.ceil(t / 16))
        for j, yr in enumerate(years):
            if j % every == 0:
                out.append(f'<text x="{x_of(j):.1f}" y="{top + h + 15}" text-anchor="middle" '
                           f'font-size="10">{yr}</text>')
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{top + h}" y2="{top + h}" '
                   f'stroke="{INK}" stroke-width="0.8"/>')
        return ymax

    sel = np.flatnonzero(years == int(selected_year))
    band_w = plot_w / t

    # -- panel 1: stacked budget
    cum = np.vstack([np.zeros(t), np.cumsum(values, axis=0)]) if k else np.zeros((1, t))
    ymax1 = axes(top1, h1, float(cum[-1].max()) if k else 1.0, budget_title,
                 i18n.t("chart.budget.y", lang), 0)
    if len(sel):
        out.append(f'<rect x="{left + sel[0] * band_w:.1f}" y="{top1}" width="{band_w:.1f}" '
                   f'height="{h1}" fill="#e8e8e8"/>')
    bar_w = 0.75 * band_w
    for i in range(k):
        for j in range(t):
            y0, y1 = cum[i, j], cum[i + 1, j]
            if y1 <= y0:
                continue
            py = top1 + h1 - y1 / ymax1 * h1
            ph = (y1 - y0) / ymax1 * h1
            out.append(f'<rect x="{x_of(j) - bar_w / 2:.1f}" y="{py:.2f}" width="{bar_w:.1f}" '
                       f'height="{ph:.2f}" fill="url(#{uid}-p{i})" stroke="{INK}" '
                       f'stroke-width="0.3"/>')
    for i in reversed(range(k)):
        ly = top1 + 4 + (k - 1 - i) * 17
        out.append(f'<rect x="{legend_x}" y="{ly}" width="14" height="11" '
                   f'fill="url(#{uid}-p{i})" stroke="{INK}" stroke-width="0.4"/>')
        out.append(f'<text x="{legend_x + 20}" y="{ly + 10}">{esc(series_labels[i])}</text>')

    # -- panel 2: posts
    post_vals = {name: np.asarray(v, dtype=float) for name, v in posts.items()}
    ymax2 = max([float(np.nanmax(v)) for v in post_vals.values() if v.size] + [1.0])
    ymax2 = axes(top2, h2, ymax2, posts_title, label("nb.explore.chart_posts_y", lang), 0)
    if len(sel):
        xs = x_of(sel[0])
        out.append(f'<line x1="{xs:.1f}" x2="{xs:.1f}" y1="{top2}" y2="{top2 + h2}" '
                   f'stroke="#9a9a9a" stroke-dasharray="3,3"/>')
    dashes = {"-": "", "--": "6,3", "-.": "6,3,1,3", ":": "1.5,2.5"}
    for n, (name, v) in enumerate(post_vals.items()):
        pts = " ".join(f"{x_of(j):.1f},{top2 + h2 - v[j] / ymax2 * h2:.1f}" for j in range(t))
        ls = LINESTYLES[n % len(LINESTYLES)]
        da = dashes.get(ls, "") if isinstance(ls, str) else "5,1,1,1"
        dash = f' stroke-dasharray="{da}"' if da else ""
        out.append(f'<polyline points="{pts}" fill="none" stroke="{INK}" stroke-width="1.4"{dash}/>')
        marker = MARKERS[n % len(MARKERS)]
        for j in range(t):
            cx, cy = x_of(j), top2 + h2 - v[j] / ymax2 * h2
            if marker == "s":
                out.append(f'<rect x="{cx - 2.5:.1f}" y="{cy - 2.5:.1f}" width="5" height="5" '
                           f'fill="{INK}"/>')
            elif marker == "^":
                out.append(f'<path d="M{cx:.1f},{cy - 3:.1f} l3,5.5 l-6,0 z" fill="white" '
                           f'stroke="{INK}"/>')
            else:
                out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="2.5" fill="{INK}"/>')
        ly = top2 + 4 + n * 17
        out.append(f'<line x1="{legend_x}" x2="{legend_x + 22}" y1="{ly + 6}" y2="{ly + 6}" '
                   f'stroke="{INK}" stroke-width="1.4"{dash}/>')
        out.append(f'<text x="{legend_x + 28}" y="{ly + 10}">{esc(name)}</text>')
    out.append("</svg>")
    return "".join(out)


# --------------------------------------------------------------------------- widget layer


def _slider_bounds(value: float, natural_max: float, param_max: float | None) -> tuple[float, float]:
    """(max, step) of a slider: the larger of a natural scale and 4 × the start value,
    rounded up to 1-2-5 × 10^k, with about 200 steps; never below the start value."""
    top = _nice_ceil(max(natural_max, 4 * float(value), 1.0))
    if param_max is not None:
        top = min(top, float(param_max))
    top = max(top, float(value))
    step = _nice_step(top, 200)
    return top, step


class Explorer:
    """Interactive explorer of a scenario (ipywidgets).

    Parameters
    ----------
    scenario : Scenario or str or Path
        Scenario the explorer starts from.
    register : Register, optional
        Register to use instead of the scenario's (see :class:`ExplorerModel`).
    lang : str, optional
        ``en`` or ``zh``; the scenario's ``lang`` by default.

    Attributes
    ----------
    widget : ipywidgets.VBox
        What to display in a notebook.
    controls : dict of str to ipywidgets.Widget
        One control per lever (:data:`LEVERS`) plus ``year`` and ``county``; setting
        ``controls[key].value`` updates every output at once (synchronously).
    model : ExplorerModel
    last_update_ms : float
        Duration of the last update [ms].

    Examples
    --------
    >>> ex = Explorer("baseline")                       # doctest: +SKIP
    >>> ex.controls["village_allowance"].value = 100     # doctest: +SKIP
    >>> ex.figures()["budget_yuan"]                      # doctest: +SKIP
    """

    CHART_SERIES = 7
    """Budget lines shown separately in the chart (the rest is summed as "Other")."""

    def __init__(self, scenario: Scenario | str | os.PathLike, register: Register | None = None,
                 *, lang: str | None = None):
        import ipywidgets as w

        self.model = ExplorerModel(scenario, register)
        self.lang = i18n.check_lang(lang or self.model.scenario.lang)
        self._uid = f"qzfp{id(self):x}"
        self.last_update_ms = float("nan")
        m, lang = self.model, self.lang
        sc = m.scenario
        base_reg = m.register(m.initial["merge_target"])
        village_max = float(base_reg.villages["population"].max())
        township_max = float(base_reg.township_population().max())
        natural = {
            "village_threshold": village_max,
            "township_extra_step": 2 * township_max,
            "township_extra_above": 2 * township_max,
        }
        # Each control spans its column; its full label is written above it (a description
        # beside a slider is cut with "..." when long), so two columns fit 1280 px.
        style = {"description_width": "0px"}
        layout = w.Layout(width="98%")
        controls: dict[str, Any] = {}
        for lv in RULE_LEVERS.values():
            v0 = m.initial[lv.key]
            p = sc.parameter(lv.path)
            top, step = _slider_bounds(v0, natural.get(lv.key, 0.0), p.max)
            lo = float(p.min) if p.min is not None else 0.0
            is_int = isinstance(v0, int) and float(step).is_integer()
            cls = w.IntSlider if is_int else w.FloatSlider
            conv = int if is_int else float
            controls[lv.key] = cls(
                value=conv(v0), min=conv(lo), max=conv(top), step=conv(step),
                description=label(lv.label_key, lang), style=style, layout=layout,
                continuous_update=False,
            )
        controls["variant"] = w.Dropdown(
            options=[(i18n.t(f"variant.{v}", lang), v) for v in VARIANTS],
            value=m.initial["variant"], description=label("param.variant", lang),
            style=style, layout=layout,
        )
        mt0 = m.initial["merge_target"]
        top, step = _slider_bounds(mt0, 2 * township_max, None)
        controls["merge_target"] = w.IntSlider(
            value=int(mt0), min=0, max=int(top), step=int(max(1, step)),
            description=f"{label('param.merge_target', lang)} ({label('nb.explore.merge_note', lang)})",
            style=style, layout=layout, continuous_update=False,
        )
        controls["year"] = w.IntSlider(
            value=int(m.start_year), min=int(m.years[0]), max=int(m.years[-1]), step=1,
            description=label("nb.explore.year", lang), style=style, layout=layout,
            continuous_update=False,  # one update when the drag ends: no queue of stale years
        )
        name_col = "name_zh" if lang == "zh" else "name_en"
        controls["county"] = w.Dropdown(
            options=[(label("nb.explore.all_counties", lang), "")]
            + [(str(r[name_col]), str(r["county_code"])) for _, r in m.counties.iterrows()],
            value="", description=label("nb.explore.county_filter", lang),
            style=style, layout=layout,
        )
        self.controls = controls

        self.key_figures_html = w.HTML()
        self.chart_html = w.HTML()
        self.table_html = w.HTML()
        self.status_html = w.HTML()
        self.save_name = w.Text(value="", placeholder="my_scenario",
                                description=label("nb.explore.save_name", lang))
        self.save_overwrite = w.Checkbox(value=False, description=label("nb.explore.overwrite", lang),
                                         indent=False)
        self.save_button = w.Button(description=label("nb.explore.save", lang), icon="save")
        self.save_message = w.HTML()
        self.save_button.on_click(lambda _b: self._on_save())

        note = w.HTML(f"<p style='font-size:90%;color:#444'>"
                      f"{html.escape(label('nb.explore.controls_note', lang, start_year=m.start_year))}</p>")
        head = w.HTML(f"<h3>{html.escape(label('nb.explore.title', lang))}</h3>"
                      f"<p>{html.escape(label('nb.explore.intro', lang))}</p>")
        def labelled(key: str) -> Any:
            text = html.escape(controls[key].description)
            return w.VBox([w.HTML(f"<div style='font-size:90%;line-height:1.25;margin-top:4px'>{text}</div>"),
                           controls[key]], layout=w.Layout(width="100%"))

        column = {"flex": "1 1 0", "min_width": "0", "padding": "0 8px 0 0"}
        levers = w.VBox([labelled(lv.key) for lv in LEVERS] + [note], layout=w.Layout(**column))
        view = w.VBox([labelled("year"), labelled("county"), self.key_figures_html], layout=w.Layout(**column))
        save = w.HBox([self.save_name, self.save_overwrite, self.save_button])
        self.widget = w.VBox([
            head,
            w.HBox([levers, view], layout=w.Layout(width="100%")),
            self.chart_html,
            self.table_html,
            w.VBox([save, self.save_message]),
            self.status_html,
        ])
        self._chart_lines = self._chart_series_lines()
        for ctl in controls.values():
            ctl.observe(self._on_change, names="value")
        self.refresh()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """Display the widget when the explorer itself is the value of a cell."""
        return self.widget._repr_mimebundle_(**kwargs)

    # ---- state
    def settings(self) -> dict[str, Any]:
        """Lever values of the controls (the model's settings)."""
        return {lv.key: self.controls[lv.key].value for lv in LEVERS}

    def state(self) -> dict[str, Any]:
        """Every control's value: the levers plus ``year`` and ``county`` (``""`` = city)."""
        return {**self.settings(), "year": int(self.controls["year"].value),
                "county": self.controls["county"].value}

    def outcome(self) -> Outcome:
        """Results of the current settings (cached by the model)."""
        return self.model.compute(self.settings())

    def figures(self) -> dict[str, Any]:
        """Key figures of the selected year and county (see :meth:`Outcome.figures`)."""
        s = self.state()
        return self.outcome().figures(s["year"], s["county"])

    def budget_table(self) -> pd.DataFrame:
        """Budget table of the selected year and county (see :meth:`Outcome.budget_table`)."""
        s = self.state()
        return self.outcome().budget_table(s["year"], s["county"])

    def save_scenario(self, path_or_name: str | os.PathLike, overwrite: bool = False) -> Path:
        """Save the current lever settings as a scenario file (see
        :meth:`ExplorerModel.save_scenario`) and return its path."""
        return self.model.save_scenario(path_or_name, self.settings(), overwrite=overwrite)

    # ---- events
    def _on_change(self, _change: Any) -> None:
        self.refresh()

    def _on_save(self) -> None:
        esc = html.escape
        try:
            path = self.save_scenario(self.save_name.value, overwrite=self.save_overwrite.value)
        except QzfpError as exc:
            reason = "; ".join(f"{p.location}: {p.message}" for p in exc.problems) or str(exc)
            self.save_message.value = (
                f"<span style='color:#a00000'>{esc(label('nb.explore.not_saved', self.lang, reason=reason))}</span>"
            )
            return
        except OSError as exc:
            self.save_message.value = (
                f"<span style='color:#a00000'>{esc(label('nb.explore.not_saved', self.lang, reason=str(exc)))}</span>"
            )
            return
        self.save_overwrite.value = False
        self.save_message.value = (
            f"<span style='color:#1a6b1a'>{esc(label('nb.explore.saved', self.lang, path=str(path)))}</span>"
        )

    def _place(self, county: str) -> str:
        if not county:
            return label("nb.explore.all_counties", self.lang)
        row = self.model.counties[self.model.counties["county_code"] == county].iloc[0]
        return i18n.place_name(row, self.lang)

    def _chart_series_lines(self) -> list[str]:
        """Budget lines shown separately in the chart: the lines the levers move plus the
        largest others of the starting settings (city, whole horizon); the rest is "Other"."""
        lever_lines = ("village_vp_allowance", "township_vp_allowance", "reward_assistance")
        totals = self.model.compute({}).amount.sum(axis=(0, 1))
        others = [_LINE_IDS[i] for i in np.argsort(-totals, kind="stable")
                  if _LINE_IDS[i] not in lever_lines and totals[i] > 0]
        keep = set(lever_lines) | set(others[: self.CHART_SERIES - len(lever_lines)])
        return [x for x in _LINE_IDS if x in keep]

    # ---- output
    def refresh(self) -> None:
        """Recompute (if the levers changed) and redraw key figures, chart and table."""
        t0 = time.perf_counter()
        s = self.state()
        try:
            out = self.model.compute(self.settings())
        except QzfpError as exc:
            self.status_html.value = "<span style='color:#a00000'>" + html.escape(
                "; ".join(f"{p.location}: {p.message}" for p in exc.problems)) + "</span>"
            return
        fig = out.figures(s["year"], s["county"])
        self.key_figures_html.value = self._figures_html(fig)
        self.chart_html.value = self._chart_svg(out, s["year"], s["county"])
        self.table_html.value = self._table_html(out.budget_table(s["year"], s["county"]),
                                                 s["year"], s["county"])
        self.last_update_ms = 1e3 * (time.perf_counter() - t0)
        self.status_html.value = (
            f"<span style='font-size:80%;color:#777'>"
            f"{html.escape(label('nb.explore.updated_in', self.lang, ms=f'{self.last_update_ms:.0f}'))}</span>"
        )

    def _figures_html(self, f: Mapping[str, Any]) -> str:
        lang, esc = self.lang, html.escape
        y0, y1 = int(self.model.years[0]), int(self.model.years[-1])
        rows = [
            (label("col.population", lang), i18n.format_number(f["population"], lang)),
            (label("col.townships", lang), i18n.format_number(f["townships"], lang)),
            (label("col.village_vice_presidents", lang), i18n.format_number(f["village_vice_presidents"], lang)),
            (label("col.township_vice_presidents", lang), i18n.format_number(f["township_vice_presidents"], lang)),
            (label("col.total_posts", lang), i18n.format_number(f["total_posts"], lang)),
            (label("col.wisn_required_staff", lang), i18n.format_number(f["wisn_required_staff"], lang)),
            (label("col.townships_short_of_staff", lang), i18n.format_number(f["townships_short_of_staff"], lang)),
            (label("col.budget_yuan", lang), i18n.format_number(f["budget_yuan"], lang)),
            (label("nb.explore.budget_horizon", lang, start_year=y0, end_year=y1),
             i18n.format_number(f["budget_horizon_yuan"], lang)),
            (label("col.budget_per_capita_yuan", lang), i18n.format_number(f["budget_per_capita_yuan"], lang, 2)),
        ]
        body = "".join(
            f"<tr><td style='padding:1px 10px 1px 0'>{esc(k)}</td>"
            f"<td style='text-align:right;font-variant-numeric:tabular-nums'><b>{esc(v)}</b></td></tr>"
            for k, v in rows
        )
        head = label("nb.explore.figures_title", lang, place=self._place(f["county"]), year=f["year"])
        return f"<div><b>{esc(head)}</b><table style='font-size:95%'>{body}</table></div>"

    def _chart_svg(self, out: Outcome, year: int, county: str) -> str:
        lang = self.lang
        ser = out.series(county)
        by_line = ser["budget_by_line"]  # (T, L)
        idx = [_LINE_IDS.index(x) for x in self._chart_lines]
        shown = by_line[:, idx].T
        other = by_line.sum(axis=1) - shown.sum(axis=0)
        labels_ = [i18n.budget_line_label(x, lang) for x in self._chart_lines]
        if np.any(np.abs(other) > 0):
            shown = np.vstack([shown, other])
            labels_.append(i18n.t("other", lang))
        place = self._place(county)
        posts = {
            label("col.total_posts", lang): ser["total_posts"],
            label("col.wisn_required_staff", lang): ser["wisn_required_staff"],
            label("col.village_vice_presidents", lang): ser["village_vice_presidents"],
        }
        return figures_chart_svg(
            out.years, shown, labels_, posts, selected_year=year, lang=lang,
            budget_title=label("nb.explore.chart_budget", lang, place=place,
                               start_year=int(out.years[0]), end_year=int(out.years[-1])),
            posts_title=label("nb.explore.chart_posts", lang, place=place),
            uid=self._uid,
        )

    def _table_html(self, df: pd.DataFrame, year: int, county: str) -> str:
        lang, esc = self.lang, html.escape
        fmt = i18n.format_number

        def qty(x: float) -> str:
            return fmt(x, lang, 0 if abs(x - round(x)) < 1e-9 or abs(x) >= 100 else 1)

        cols = ["line", "quantity", "quantity_unit", "unit_cost_yuan", "amount_yuan",
                "city_yuan", "county_yuan", "township_yuan"]
        th = "".join(f"<th style='text-align:{'left' if c in ('line', 'quantity_unit') else 'right'};"
                     f"padding:2px 8px'>{esc(i18n.column_label(c, lang))}</th>" for c in cols)
        rows = []
        for r in df.itertuples(index=False):
            cells = [
                (i18n.budget_line_label(r.line, lang), "left"),
                (qty(r.quantity), "right"),
                (r.quantity_unit, "left"),
                (fmt(r.unit_cost_yuan, lang, 2 if r.unit_cost_yuan < 100 else 0), "right"),
                (fmt(r.amount_yuan, lang), "right"),
                (fmt(r.city_yuan, lang), "right"),
                (fmt(r.county_yuan, lang), "right"),
                (fmt(r.township_yuan, lang), "right"),
            ]
            rows.append("<tr>" + "".join(
                f"<td style='text-align:{a};padding:1px 8px'>{esc(str(v))}</td>" for v, a in cells
            ) + "</tr>")
        total = df[["amount_yuan", "city_yuan", "county_yuan", "township_yuan"]].sum()
        rows.append(
            "<tr style='border-top:1px solid #1a1a1a;font-weight:bold'>"
            f"<td style='padding:1px 8px'>{esc(label('nb.explore.total', lang))}</td><td></td><td></td><td></td>"
            + "".join(f"<td style='text-align:right;padding:1px 8px'>{esc(fmt(total[c], lang))}</td>"
                      for c in ("amount_yuan", "city_yuan", "county_yuan", "township_yuan"))
            + "</tr>"
        )
        title = label("nb.explore.table_title", lang, place=self._place(county), year=year)
        return (f"<div><b>{esc(title)}</b><div style='max-height:28em;overflow:auto'>"
                f"<table style='border-collapse:collapse;font-size:90%'><thead><tr>{th}</tr></thead>"
                f"<tbody>{''.join(rows)}</tbody></table></div></div>")
