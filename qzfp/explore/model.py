"""ExplorerModel: the explorer's pure computation (no widgets), fast enough for every slider move."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
import tempfile
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from ..errors import Label, Problem, QzfpError, ScenarioError
from ..model.arrays import group_sum
from ..model.projection import PopulationResult, project
from ..model.run import prepare_register, register_content_hash, run_arrays, validate_scenario
from ..register import Register
from ..rules.paramarrays import ParamArrays
from ..rules.scenario import (
    SCENARIO_KEYS,
    Scenario,
    load_scenario,
    packaged_params_dir,
    scenario_search_path,
)

# --------------------------------------------------------------------------- model
from .levers import (
    PLAN_LEVER_VALUES,
    RULE_LEVERS,
    SCENARIO_NAME_RE,
    VARIANTS,
    ExplorerPlan,
    Outcome,
    file_mode,
    plain_value,
    slider_bounds,
)


class ExplorerModel:
    """The computation behind the explorer (no widgets).

    Parameters
    ----------
    scenario : Scenario or str or Path
        Scenario the explorer starts from (a :class:`~qzfp.rules.scenario.Scenario`, or a name
        or file for :func:`qzfp.load_scenario`).
    register : Register, optional
        Register to use instead of the scenario's (before its redistricting), as in
        :func:`qzfp.model.run`.  A saved scenario cannot refer to an in-memory register,
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
            lv.key: plain_value(scenario.value(lv.path, self.start_year)) for lv in RULE_LEVERS.values()
        }
        self.initial["variant"] = scenario.params["variant"]
        self.initial["merge_target"] = int(scenario.params["merge_target"])
        self._registers: OrderedDict[int, Register] = OrderedDict()
        self._populations: OrderedDict[tuple[int, str], PopulationResult] = OrderedDict()
        self._outcomes: OrderedDict[tuple, Outcome] = OrderedDict()
        self._plan_cache: tuple | None = None
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
                problems.append(Problem(loc, "explorer.unknown_lever", choices=", ".join(self.initial)))
                continue
            if key == "variant":
                if value not in VARIANTS:
                    problems.append(Problem(loc, "value.not_a_choice", value=value, choices=", ".join(VARIANTS)))
                    continue
                out[key] = value
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                problems.append(Problem(loc, "expected", what=Label("expect.number"), got=repr(value)))
                continue
            v = plain_value(value)
            if not math.isfinite(float(v)) or v < 0:
                problems.append(Problem(loc, "expected", what=Label("expect.nonnegative_number"), got=repr(value)))
                continue
            if key == "merge_target" and not isinstance(v, int):
                problems.append(Problem(loc, "expected", what=Label("expect.whole_persons"), got=repr(value)))
                continue
            lever = RULE_LEVERS.get(key)
            if lever is not None:
                p = self.scenario.parameter(lever.path)
                if p.max is not None and v > p.max:
                    problems.append(Problem(loc, "explorer.above_max", max=p.max, unit=p.unit, value=v))
                    continue
                if p.min is not None and v < p.min:
                    problems.append(Problem(loc, "explorer.below_min", min=p.min, unit=p.unit, value=v))
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
            village_vice_presidents=st.village_to_county(st.village_posts)[0],
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

    # ---- planning to a ceiling
    def lever_range(self, key: str) -> tuple[float, float, float]:
        """(min, max, step) of a rule lever's control: the rule's minimum (or 0) and
        :func:`slider_bounds` of its starting value and natural scale (the largest village
        for the threshold, twice the largest township for the township rule) [lever unit]."""
        lever = RULE_LEVERS[key]
        reg = self.register(self.initial["merge_target"])
        natural = {
            "village_threshold": float(reg.villages["population"].max()),
            "township_extra_step": 2 * float(reg.township_population().max()),
            "township_extra_above": 2 * float(reg.township_population().max()),
        }.get(key, 0.0)
        p = self.scenario.parameter(lever.path)
        top, step = slider_bounds(self.initial[key], natural, p.max)
        return (float(p.min) if p.min is not None else 0.0), float(top), float(step)

    def plan_grid(self, settings: Mapping[str, Any]) -> tuple[list[str], np.ndarray]:
        """The plans the ceiling field chooses from: every combination of
        :data:`PLAN_LEVER_VALUES` values of each staffing-rule lever over its control's
        range (on the control's steps, plus its current value); the amounts (allowances,
        reward) stay as set.

        Returns
        -------
        keys : list of str
            Lever keys, in the order of the columns.
        points : numpy.ndarray, shape (K, len(keys))
        """
        s = self.check(settings)
        keys = list(PLAN_LEVER_VALUES)
        axes = []
        for key in keys:
            lo, top, step = self.lever_range(key)
            values = np.round(np.linspace(lo, top, PLAN_LEVER_VALUES[key]) / step) * step
            axes.append(np.unique(np.append(np.clip(values, lo, top), float(s[key]))))
        mesh = np.meshgrid(*axes, indexing="ij")
        return keys, np.stack([m.ravel() for m in mesh], axis=1)

    def best_plan(self, settings: Mapping[str, Any], ceiling: float, year: int,
                  objective: str | None = None) -> ExplorerPlan:
        """The settings of :meth:`plan_grid` with the best coverage whose budget of ``year`` is
        within ``ceiling`` [yuan] (ties to the lower cost; see :mod:`qzfp.model.plan`).

        Raises
        ------
        ParameterError
            The ceiling is below the cheapest plan of the grid, or an unknown objective.
        """
        from ..model.plan import DEFAULT_OBJECTIVE, best_plan, frontier, objective_column

        objective = objective or DEFAULT_OBJECTIVE
        column = objective_column(objective)
        s = self.check(settings)
        table, base = self.plans(s, year)
        fr = frontier(table, objective)
        chosen = best_plan(table, float(ceiling), objective)
        new = dict(s)
        new.update({k: plain_value(table.at[chosen, k]) for k in PLAN_LEVER_VALUES})
        return ExplorerPlan(settings=new, table=table, frontier=fr, chosen=chosen, ceiling=float(ceiling),
                            year=int(year), objective=objective, column=column, current=base)

    def plans(self, settings: Mapping[str, Any], year: int) -> tuple[pd.DataFrame, dict[str, float]]:
        """Budget of ``year`` [yuan] and coverage of every plan of :meth:`plan_grid`, and of
        ``settings`` themselves (the last grid is kept: a second ceiling costs nothing).

        Raises
        ------
        ScenarioError
            ``year`` is not modelled.
        """
        from ..model.plan import evaluate_grid

        s = self.check(settings)
        if int(year) not in set(self.years.tolist()):
            raise ScenarioError(Problem("explorer:year", "arrays.year_not_modelled", year=year,
                                        first=self.years[0], last=self.years[-1]))
        key = (tuple(sorted(s.items())), int(year), self._register_content())
        if self._plan_cache is not None and self._plan_cache[0] == key:
            return self._plan_cache[1]
        keys, points = self.plan_grid(s)
        paths = [RULE_LEVERS[k].path for k in keys]  # each set from the start year, as a moved control is
        plans, base = evaluate_grid(self.register(s["merge_target"]), self.param_arrays(s),
                                    self.population(s["merge_target"], s["variant"]),
                                    int(np.flatnonzero(self.years == int(year))[0]), paths, points,
                                    variant=s["variant"])
        table = pd.DataFrame({k: points[:, j] for j, k in enumerate(keys)})
        for name, v in plans.items():
            table[name] = v
        self._plan_cache = (key, (table, base))
        return table, base

    # ---- saving
    def default_params_dir(self) -> Path:
        """Folder a named scenario is saved to.

        The folder of the scenario file the explorer started from, unless that is the
        packaged ``qzfp/params``; otherwise the first existing ``params`` folder from the
        working directory up to the repository root, else ``./params``.
        """
        packaged = packaged_params_dir()
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
        if not SCENARIO_NAME_RE.match(stem or ""):
            raise ScenarioError(Problem(f"explorer:save:{raw or '(empty)'}", "explorer.bad_name"))
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
            raise ScenarioError(Problem(str(target), "explorer.exists"))
        folder = target.parent
        folder.mkdir(parents=True, exist_ok=True)
        text = self.scenario_text(target.stem, settings, folder)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".yaml", dir=folder)
        os.chmod(tmp, file_mode())
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            problems = validate_scenario(tmp)
            if problems:
                raise ScenarioError([
                    p.at(f"{target}:{p.location.split(':', 1)[-1]}") for p in problems
                ])
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return target
