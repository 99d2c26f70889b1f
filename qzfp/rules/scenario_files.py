"""Finding scenario files and resolving them: the search path, ``extends`` chains, overrides
merged from parent to child, file keys resolved beside the file that sets them.

:mod:`qzfp.rules.scenario` builds a :class:`~qzfp.rules.scenario.Scenario` from the
:class:`Resolved` mapping made here.
"""

from __future__ import annotations

import copy
import datetime as dt
import importlib.resources
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import (
    Label,
    Problem,
    ScenarioError,
    describe_value,
    did_you_mean,
)
from .parameter import value_kind
from .scenario_keys import (  # noqa: F401 - KeySpec, parameters_cell_source: public here too
    DATE_KEYS,
    PATH_KEYS,
    SCENARIO_KEYS,
    KeySpec,
    baseline_defaults,
    check_key,
    parameters_cell_source,
)
from .yamlfile import display_path, parse_date, read_yaml

#: Largest scenario file [byte]: a scenario of every key with the longest texts allowed
#: (:data:`~qzfp.rules.scenario_keys.SCENARIO_KEYS`) and overrides of every rulebook path
#: is some tens of kilobytes.
MAX_SCENARIO_BYTES = 1_000_000


def repo_params_dirs(start: Path) -> list[Path]:
    out = []
    d = start.resolve()
    while True:
        out.append(d / "params")
        if (d / ".git").exists() or (d / "pyproject.toml").exists() or d.parent == d:
            break
        d = d.parent
    return out


def packaged_params_dir() -> Path | None:
    try:
        res = importlib.resources.files("qzfp").joinpath("params")
    except (ModuleNotFoundError, TypeError):  # pragma: no cover - package always importable
        return None
    p = Path(str(res))
    return p if p.is_dir() else None


def scenario_search_path(folder: Path | None = None) -> list[Path]:
    """Folders searched for a scenario name, in order.

    Parameters
    ----------
    folder : Path, optional
        Folder of the extending file (searched first).
    """
    dirs: list[Path] = []
    if folder is not None:
        dirs.append(Path(folder).resolve())
    dirs.extend(repo_params_dirs(Path.cwd()))
    pk = packaged_params_dir()
    if pk is not None:
        dirs.append(pk.resolve())
    seen, out = set(), []
    for d in dirs:
        if d not in seen:
            seen.add(d)
            out.append(d)
    return out


def looks_like_path(ref: str) -> bool:
    return "/" in ref or "\\" in ref or ref.endswith((".yaml", ".yml"))


def find_scenario(ref: str, folder: Path | None, location: str) -> Path:
    """Resolve a scenario name or path to a file."""
    if looks_like_path(ref):
        p = Path(ref).expanduser()
        if not p.is_absolute():
            p = (folder or Path.cwd()) / p
        if p.is_file():
            return p.resolve()
        if "/" in ref or "\\" in ref:
            raise ScenarioError(
                Problem(location, "scenario.file_not_found", ref=ref, path=display_path(p))
            )
        ref = Path(ref).stem
    dirs = scenario_search_path(folder)
    for d in dirs:
        for suffix in (".yaml", ".yml"):
            p = d / f"{ref}{suffix}"
            if p.is_file():
                return p.resolve()
    names = sorted({f.stem for d in dirs if d.is_dir() for f in d.glob("*.y*ml")})
    searched = ", ".join(display_path(d) for d in dirs)
    raise ScenarioError(
        Problem(location, "scenario.no_such_name", ref=ref, hint=did_you_mean(ref, names), searched=searched)
    )


# --------------------------------------------------------------------------- validation


def normalise_override(value: Any) -> Any:
    """Canonical form of an override: dates as ISO strings, mappings as dicts."""
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            d = parse_date(k)
            key = d.isoformat() if d is not None else k
            out[key] = dict(v) if isinstance(v, Mapping) else v
        return out
    return value


def check_override_shape(path: str, value: Any, loc: str) -> list[Problem]:
    if value_kind(value) is not None:
        return []
    if isinstance(value, Mapping) and value:
        return []  # {value, reference} or {date: value}: checked against the parameter later
    if isinstance(value, Mapping):
        return [Problem(loc, "scenario.empty_override")]
    return [Problem(loc, "expected", what=Label("expect.override"), got=describe_value(value, show_containers=True))]


@dataclass
class Resolved:
    explicit: dict[str, Any]
    origin: dict[str, str]  # override path -> file where it was set
    chain: list[str]
    key_files: dict[str, str] = field(default_factory=dict)  # top-level key -> file where it was set
    problems: list[Problem] = field(default_factory=list)  # of the keys (the rulebook checks follow)


#: Keys with a Chinese version ``<key>_zh``: a scenario that sets the key without its
#: ``_zh`` does not inherit its parent's translation (its Chinese reports show the key).
TRANSLATED_KEYS = ("title", "description")

#: Keys naming a file, resolved against the folder of the scenario file that sets them.


def resolve_references(explicit: dict[str, Any], where: str, folder: Path) -> list[Problem]:
    """Make the file references of a scenario file absolute (in place).

    ``register``, ``township_plan``, ``census`` and ``census_check`` given as relative paths are taken relative to
    ``folder`` (the scenario file's folder, as ``extends``), so a run finds them whatever
    the working directory of the kernels; each ``compare_with`` name becomes the path of
    the scenario file it names (looked up as ``extends`` is), and a name that matches no
    file is a problem at ``file:compare_with[i]``.
    """
    problems: list[Problem] = []
    for key in PATH_KEYS:
        value = explicit.get(key)
        if value and not Path(value).expanduser().is_absolute():
            explicit[key] = os.path.normpath(folder / Path(value).expanduser())
    refs = explicit.get("compare_with")
    if refs:
        out = []
        for i, ref in enumerate(refs):
            try:
                out.append(str(find_scenario(ref, folder, f"{where}:compare_with[{i}]")))
            except ScenarioError as exc:
                problems.extend(exc.problems)
        explicit["compare_with"] = out
    return problems


def resolve_file(path: Path, chain: list[Path]) -> Resolved:
    where = display_path(path)
    if path in chain:
        names = " -> ".join(display_path(p) for p in [*chain, path])
        raise ScenarioError(
            Problem(f"{display_path(chain[-1])}:extends", "scenario.extends_cycle", names=names)
        )
    raw = read_yaml(path, ScenarioError, max_bytes=MAX_SCENARIO_BYTES)
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ScenarioError(
            Problem(where, "expected", what=Label("expect.scenario_mapping"), got=Label("value.type", type=type(raw).__name__))
        )
    return resolve_mapping(dict(raw), where, path.parent, [*chain, path], stem=path.stem)


def resolve_mapping(
    raw: dict[str, Any],
    where: str,
    folder: Path | None,
    chain: list[Path],
    *,
    stem: str | None,
    skip_defaults: bool = False,
) -> Resolved:
    problems: list[Problem] = []
    explicit: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in SCENARIO_KEYS:
            problems.append(
                Problem(f"{where}:{key}", "scenario.unknown_key", key=key,
                        hint=did_you_mean(str(key), SCENARIO_KEYS))
            )
            continue
        if key in DATE_KEYS and isinstance(value, dt.date):
            value = value.isoformat()  # YAML reads an unquoted date as a date
        p = check_key(key, value, where)
        if p:
            problems.extend(p)
            continue
        if key == "overrides":
            ovr = {}
            for path, v in value.items():
                p2 = check_override_shape(path, v, f"{where}:overrides.{path}")
                problems.extend(p2)
                if not p2:
                    ovr[path] = normalise_override(v)
            value = ovr
        explicit[key] = copy.deepcopy(value)
    if folder is not None and stem is not None:  # a scenario file, not notebook parameters
        problems += resolve_references(explicit, where, folder)
    # the keys that are fine go on, so the checks against the rulebook (overrides) and the
    # parent's problems are found too: every problem of a file is reported at once

    parent = explicit.get("extends", "")
    if skip_defaults:
        defaults = baseline_defaults()
        explicit = {
            k: v
            for k, v in explicit.items()
            if k in ("scenario_name", "overrides") or v != defaults[k]
        }
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    key_files: dict[str, str] = {}
    names = [where]
    if parent:
        try:
            ppath = find_scenario(parent, folder, f"{where}:extends")
            if ppath in chain:
                names_ = " -> ".join(display_path(p) for p in [*chain, ppath])
                raise ScenarioError(Problem(f"{where}:extends", "scenario.extends_cycle", names=names_))
            res = resolve_file(ppath, chain)
        except ScenarioError as exc:
            raise ScenarioError([*problems, *exc.problems]) from None
        problems = [*res.problems, *problems]
        merged = {k: v for k, v in res.explicit.items() if k != "scenario_name"}
        origin = dict(res.origin)
        key_files = dict(res.key_files)
        names = [where, *res.chain]
    child_over = explicit.pop("overrides", {})
    merged.update(explicit)
    for key in TRANSLATED_KEYS:  # an inherited translation belongs to the inherited text
        if key in explicit and f"{key}_zh" not in explicit:
            merged[f"{key}_zh"] = ""
    key_files.update({k: where for k in explicit})
    merged["overrides"] = {**merged.get("overrides", {}), **child_over}
    for path in child_over:
        origin[path] = where
    if "scenario_name" not in explicit:
        merged.pop("scenario_name", None)
        if stem is not None:
            merged["scenario_name"] = stem
    return Resolved(merged, origin, names, key_files, problems)


# --------------------------------------------------------------------------- scenario
