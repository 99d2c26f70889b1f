"""Scenarios: the rulebook plus a planner's choices and overrides.

A scenario file (``params/*.yaml``) is a papermill parameter file: each top-level
key is a notebook parameter (see :data:`SCENARIO_KEYS` for the keys, their types,
baseline defaults and help texts), so ``papermill nb.ipynb out.ipynb -f
params/x.yaml`` works with plain papermill.

``extends``
    Names (or the path of) the scenario this one builds on.  The parent's keys are
    defaults, the child's keys win, and ``overrides`` are merged path by path
    (child wins).  ``scenario_name`` is never inherited: it defaults to the file
    stem.  A name is looked up as ``<name>.yaml`` in the extending file's folder,
    then in ``./params`` of the working directory and of its parents up to the
    repository root (a folder holding ``.git`` or ``pyproject.toml``), then in the
    packaged copy ``qzfp/params``.

File references
    ``register`` and ``township_plan`` given as relative paths are relative to the folder
    of the scenario file that sets them (as ``extends``), whatever the working directory;
    each ``compare_with`` entry is a scenario name or path looked up as ``extends`` is.
    Loading a file makes them absolute (so a kernel running elsewhere finds them) and a
    ``compare_with`` entry that names no file is an error at ``file:compare_with[i]``.

``overrides``
    Dotted rulebook path → a scalar (in force from 1 January of ``start_year``;
    earlier history kept), ``{value: v, reference: "why"}``, or a dated mapping
    ``{"2008-01-01": v, ...}`` (rulebook values dated before the earliest override
    date are kept, later ones are superseded; see :mod:`qzfp.rules.rulebook`).  Values
    are type- and range-checked against the parameter.

Notebooks
---------
A notebook's parameters cell declares every key with its baseline default; papermill
injects the keys present in the file in a cell of its own right after it.  The
notebook's set-up (:func:`qzfp.reporting.sections.scenario_from_namespace`) reads which keys
that injected cell assigns and passes them as ``explicit`` to
:meth:`Scenario.from_parameters`, so ``extends`` is resolved exactly as
:func:`load_scenario` resolves it: a key the file sets wins over the parent even when
it equals its baseline default, a key the file leaves out comes from the parent.
``qzfp run`` injects :meth:`Scenario.to_papermill` (the flattened parameters, no
``extends``).  Without an injected cell (a parameters cell edited by hand in
JupyterLab) the notebook cannot tell a key set to its baseline default from an unset
one, and with ``extends`` such a key takes the parent's value.  Give
``scenario_name`` explicitly in files meant for plain papermill, since the notebook
cannot know the file stem.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import (
    ParameterError,
    Problem,
    QzfpError,
    ScenarioError,
)
from .paramarrays import ParamArrays
from .parameter import Parameter
from .rulebook import Rulebook, load_rulebook
from .scenario_files import (  # noqa: F401 - packaged_params_dir, scenario_search_path: public here too
    Resolved,
    find_scenario,
    packaged_params_dir,
    resolve_file,
    resolve_mapping,
    scenario_search_path,
)
from .scenario_keys import (  # noqa: F401 - KeySpec, parameters_cell_source: public here too
    DATE_KEYS,
    PATH_KEYS,
    SCENARIO_KEYS,
    KeySpec,
    baseline_defaults,
    check_key,
    parameters_cell_source,
)
from .uncertainty import life_expectancy_problems
from .yamlfile import display_path

__all__ = [
    "KeySpec",
    "SCENARIO_KEYS",
    "Scenario",
    "baseline_defaults",
    "load_scenario",
    "parameters_cell_source",
    "scenario_search_path",
    "validate_scenario_file",
]

def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: resolved parameters and the rulebook with overrides.

    Attributes
    ----------
    name : str
        ``scenario_name`` (report folder name).
    path : Path or None
        File it was loaded from (None for :meth:`from_parameters`).
    params : dict
        Fully resolved top-level keys (``extends`` chain flattened, so
        ``params["extends"] == ""``; overrides merged, dates as ISO strings).
    rulebook : Rulebook
        Rulebook with the overrides applied.
    start_year, horizon : int
        First year and number of years projected after it.
    years : numpy.ndarray of int, shape (horizon + 1,)
        Modelled years.
    sha256 : str
        Hash of the canonical JSON of :attr:`params`.
    chain : tuple of str
        The files of the ``extends`` chain, this scenario first.
    key_files : dict of str to str
        Top-level key -> the file of the chain that sets it (for messages about what
        the key points to, e.g. a bad register found through ``register``).
    """

    name: str
    path: Path | None
    params: dict[str, Any]
    rulebook: Rulebook
    start_year: int
    horizon: int
    years: np.ndarray
    sha256: str
    chain: tuple[str, ...] = ()
    key_files: dict[str, str] = field(default_factory=dict, compare=False)
    _arrays: ParamArrays | None = field(default=None, repr=False, compare=False)

    # ---- construction
    @classmethod
    def _build(
        cls,
        resolved: Resolved,
        path: Path | None,
        where: str,
        rulebook: Rulebook | str | Path | None,
    ) -> Scenario:
        rb = rulebook if isinstance(rulebook, Rulebook) else load_rulebook(rulebook)
        params = baseline_defaults()
        params.update(resolved.explicit)
        params["extends"] = ""
        start_year = int(params["start_year"])
        horizon = int(params["horizon"])
        problems: list[Problem] = list(resolved.problems)
        start = dt.date(start_year, 1, 1)
        for opath, value in params["overrides"].items():
            loc_file = resolved.origin.get(opath, where)
            if opath not in rb:
                try:
                    rb.get(opath)
                except ParameterError as exc:
                    q = exc.problems[0]
                    if q.id == "rulebook.unknown_parameter":
                        q = Problem("", "rulebook.unknown_path", hint=q.fields["hint"])
                    problems.append(q.at(f"{loc_file}:overrides.{opath}"))
                continue
            ref = f"scenario {params['scenario_name']} ({loc_file}): overrides.{opath}"
            ref_zh = f"方案{params['scenario_name']}（{loc_file}）：overrides.{opath}"
            try:
                rb = rb.with_override(opath, value, ref, start=start, reference_zh=ref_zh)
            except ParameterError as exc:
                for p in exc.problems:
                    problems.append(p.at(f"{loc_file}:overrides.{p.location}"))
        if problems:
            raise ScenarioError(problems)
        years = np.arange(start_year, start_year + horizon + 1, dtype=int)
        arrays = None
        try:
            arrays = rb.to_param_arrays(years)
            for p in rb.paths():
                if not rb.get(p).is_numeric:
                    rb.get(p).value_in_year(start_year)
        except ParameterError as exc:
            for p in exc.problems:
                problems.append(Problem(f"{where}:start_year", "scenario.in_parameter", path=p.location, problem=p))
        if problems:
            raise ScenarioError(problems)
        problems += life_expectancy_problems(rb, start_year, horizon, resolved.key_files, where,
                                             sensitivity_pct=float(params["sensitivity_pct"]),
                                             mc_paths=int(params["mc_paths"]))
        if problems:
            raise ScenarioError(problems)
        sha = hashlib.sha256(_canonical(params).encode("utf-8")).hexdigest()
        return cls(
            name=params["scenario_name"],
            path=path,
            params=params,
            rulebook=rb,
            start_year=start_year,
            horizon=horizon,
            years=years,
            sha256=sha,
            chain=tuple(resolved.chain),
            key_files=dict(resolved.key_files),
            _arrays=arrays,
        )

    @classmethod
    def from_parameters(
        cls,
        *,
        rulebook: Rulebook | str | Path | None = None,
        explicit: Iterable[str] | None = None,
        **params: Any,
    ) -> Scenario:
        """Scenario from notebook parameter values (what a parameters cell calls).

        Parameters
        ----------
        rulebook : Rulebook or path, optional
            Rulebook to apply overrides to (the packaged one by default).
        explicit : iterable of str, optional
            The keys that were set explicitly (the keys papermill injected from a
            parameter file, see :func:`qzfp.reporting.sections.scenario_from_namespace`): only
            these are the scenario's own, every other key of ``params`` is treated as
            absent, exactly as :func:`load_scenario` treats a key missing from the file.
        **params
            Scenario keys (see :data:`SCENARIO_KEYS`); absent keys take their
            baseline default.  With ``extends`` and no ``explicit``, a key equal to its
            baseline default does not override the parent's value (see the module
            docstring).

        Raises
        ------
        ScenarioError
            Unknown key, wrong type, bad override, missing parent ...
        """
        if explicit is not None:
            keep = set(explicit)
            params = {k: v for k, v in params.items() if k in keep}
        resolved = resolve_mapping(
            dict(params),
            "parameters",
            None,
            [],
            stem=None,
            skip_defaults=explicit is None and bool(params.get("extends")),
        )
        return cls._build(resolved, None, "parameters", rulebook)

    # ---- queries
    def key_location(self, key: str) -> str:
        """``file:key`` of the scenario file that sets ``key`` (for messages).

        Parameters
        ----------
        key : str
            A top-level scenario key, e.g. ``"register"``.
        """
        where = self.key_files.get(key) or (display_path(self.path) if self.path else "parameters")
        return f"{where}:{key}"

    @property
    def lang(self) -> str:
        """Report language (``en`` or ``zh``)."""
        return self.params["lang"]

    @property
    def title(self) -> str:
        """One-line title in the report language (:meth:`title_in`)."""
        return self.title_in(self.lang)

    @property
    def description(self) -> str:
        """What the scenario changes and why, in the report language (:meth:`description_in`)."""
        return self.description_in(self.lang)

    def title_in(self, lang: str) -> str:
        """The title for a reader of ``lang``: ``title_zh`` in Chinese when given, else ``title``
        (a planner's own title, in whatever language it was written)."""
        zh = str(self.params.get("title_zh", "")).strip()
        return zh if lang == "zh" and zh else str(self.params["title"])

    def description_in(self, lang: str) -> str:
        """The description for a reader of ``lang``: ``description_zh`` in Chinese when given,
        else ``description``."""
        zh = str(self.params.get("description_zh", "")).strip()
        return zh if lang == "zh" and zh else str(self.params.get("description", ""))

    def parameter(self, path: str) -> Parameter:
        """The (possibly overridden) parameter at ``path``."""
        return self.rulebook.get(path)

    def value(self, path: str, year: int) -> Any:
        """Value of ``path`` in force on 1 January of ``year`` (in its own unit)."""
        return self.rulebook.get(path).value_in_year(year)

    def series(self, path: str) -> np.ndarray:
        """Values of ``path`` over :attr:`years`, shape (T,)."""
        return self.rulebook.get(path).series(self.years)

    def arrays(self, paths: Iterable[str] | None = None) -> ParamArrays:
        """Numeric/bool parameters over :attr:`years` as a ``ParamArrays`` (N = 1)."""
        if paths is None and self._arrays is not None:
            return self._arrays
        return self.rulebook.to_param_arrays(self.years, paths)

    def used_parameters(self) -> pd.DataFrame:
        """Every dated value in force in some modelled year.

        Returns
        -------
        pandas.DataFrame
            Columns ``path, description, unit, since`` (ISO date), ``value``,
            ``reference``, ``assumption`` (bool: reference starts with
            "assumption"), ``description_zh`` (the Chinese description, "" if none),
            ``reference_zh`` (the Chinese reference, "" if none: the reference is Chinese
            already), one row per value, sorted by path and date.
        """
        rows = []
        jan1 = np.array([dt.date(int(y), 1, 1).toordinal() for y in self.years])
        for path in self.rulebook.paths():
            p = self.rulebook.get(path)
            starts = np.array([dv.start.toordinal() for dv in p.values])
            idx = np.unique(np.searchsorted(starts, jan1, side="right") - 1)
            for i in idx[idx >= 0]:
                dv = p.values[int(i)]
                rows.append(
                    {
                        "path": path,
                        "description": p.description,
                        "description_zh": p.description_zh,
                        "unit": p.unit,
                        "since": dv.start.isoformat(),
                        "value": dv.value,
                        "reference": dv.reference,
                        "assumption": dv.reference.lower().startswith("assumption"),
                        "reference_zh": dv.reference_zh,
                    }
                )
        cols = ["path", "description", "unit", "since", "value", "reference", "assumption", "description_zh",
                "reference_zh"]
        return pd.DataFrame(rows, columns=cols)

    def to_papermill(self) -> dict[str, Any]:
        """Flattened parameters for papermill (``extends`` removed, plain types)."""
        out = json.loads(_canonical(self.params))
        out.pop("extends", None)
        return out


def load_scenario(
    path_or_name: str | os.PathLike, *, rulebook: Rulebook | str | Path | None = None
) -> Scenario:
    """Load and validate a scenario file.

    Parameters
    ----------
    path_or_name : str or path-like
        A file path, or a scenario name looked up as ``<name>.yaml`` in ``./params``
        (and its parents up to the repository root), then the packaged params.
    rulebook : Rulebook or path, optional
        Rulebook to use (the packaged ``qzfp/rules/policy`` by default).

    Raises
    ------
    ScenarioError
        Every problem found (``file:key: message``); ``ParameterError`` when the
        rulebook itself is broken.
    """
    ref = os.fspath(path_or_name)
    p = Path(ref).expanduser()
    path = p.resolve() if p.is_file() else find_scenario(ref, None, ref)
    resolved = resolve_file(path, [])
    return Scenario._build(resolved, path, display_path(path), rulebook)


def validate_scenario_file(
    path: str | os.PathLike, *, rulebook: Rulebook | str | Path | None = None
) -> list[Problem]:
    """Problems of a scenario file (empty list when valid); never raises for bad input.

    The rules only: the data files the scenario names (register, census tables) are checked
    by :func:`qzfp.model.run.validate_scenario`, which ``qzfp validate`` and the explorer use.
    """
    try:
        p = Path(os.fspath(path))
        if not p.is_file():
            return [Problem(display_path(p), "file_not_found")]
        load_scenario(p, rulebook=rulebook)
    except QzfpError as exc:
        return list(exc.problems)
    except (OSError, ValueError, TypeError, RecursionError) as exc:
        return [Problem(display_path(path), "scenario.cannot_load", reason=exc)]
    return []
