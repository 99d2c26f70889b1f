"""Dated policy parameters: the rulebook.

The rulebook is a folder of YAML files (``qzfp/policy/*.yaml`` by default).  Each
file is a namespace named after the file (``village.yaml`` → ``village.*``).  A
node is a *parameter* when it has a ``values`` key; otherwise it is a namespace of
child nodes::

    vice_president:
      allowance:
        description: Monthly post allowance of a village FPA vice-president
        unit: yuan/month
        values:
          2004-01-01: {value: 60, reference: "衢委办[2004]38号"}

A rule change adds a date; it never overwrites history.  The value *in a year* is
the value in force on 1 January of that year, so a change dated 2008-07-01
applies from 2009.

A value may carry ``reference_zh``, its reference in Chinese (``假设：<理由>`` for an
``assumption: <reason>``); Chinese reports show it (:func:`qzfp.i18n.reference_text`).

Loading is strict: unknown keys, missing description/unit/values/reference,
values of the wrong type, numbers below ``min`` (default 0) or above ``max``,
strings outside ``choices`` and unparseable dates are all reported together, each
as a :class:`~qzfp.errors.Problem` naming ``file:key.path``.

Overrides
---------
:meth:`Rulebook.with_override` replaces part of a parameter's history:

* a scalar with a start date ``S`` keeps the rulebook values dated before ``S``
  and uses the scalar from ``S`` on (without a start date it replaces the whole
  history);
* a dated mapping ``{D1: v1, D2: v2, ...}`` keeps the rulebook values dated
  before the earliest override date ``D1``; from ``D1`` on only the override
  values apply (rulebook values dated after ``D1`` are superseded, so an
  override is never silently undone by a later rulebook change).

A scalar with start ``S`` is therefore the same as the mapping ``{S: value}``.
Override values are type- and range-checked like rulebook values.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import yaml

from .errors import ParameterError, Problem
from .paramarrays import ParamArrays

__all__ = [
    "DatedValue",
    "Parameter",
    "Rulebook",
    "load_rulebook",
    "parse_date",
    "did_you_mean",
    "StrictLoader",
    "display_path",
]

PARAMETER_KEYS = ("description", "description_zh", "unit", "values", "min", "max", "choices", "note")
VALUE_KEYS = ("value", "reference", "reference_zh", "note")
_ASSUMPTION_EN = re.compile(r"^\s*assumption\s*:", re.IGNORECASE)
_ASSUMPTION_ZH = "假设："
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Scalar = int | float | bool | str


# --------------------------------------------------------------------------- YAML


class StrictLoader(yaml.SafeLoader):
    """A ``yaml.SafeLoader`` that rejects duplicate keys in a mapping.

    PyYAML silently keeps the last of two equal keys; in a rulebook or a scenario
    file that hides a mistake, so it is an error here.
    """


def _construct_mapping(loader: StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    seen: dict = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, f"unhashable key {key!r}", key_node.start_mark
            ) from None
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                f"duplicate key {key!r} (first on line {seen[key] + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


def _construct_timestamp(loader: StrictLoader, node: yaml.ScalarNode) -> Any:
    """A YAML date, or the raw text when it is not a valid date (e.g. 2004-02-30)."""
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def display_path(path: Path | str) -> str:
    """Path as shown in messages: relative to the working directory when inside it."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(p)


def read_yaml(path: Path, error: type[Exception] = ParameterError) -> Any:
    """Read a YAML file strictly (duplicate keys are errors).

    Raises
    ------
    QzfpError subclass given by ``error``
        When the file cannot be read or parsed; the problem names the file and line.
    """
    where = display_path(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise error(Problem(where, "file not found")) from None
    except UnicodeDecodeError as exc:
        raise error(
            Problem(where, f"not UTF-8 text ({exc.reason}); save the file as UTF-8")
        ) from None
    except OSError as exc:
        raise error(Problem(where, f"cannot read file: {exc.strerror or exc}")) from None
    try:
        return yaml.load(text, Loader=StrictLoader)  # noqa: S506 - StrictLoader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        msg = " ".join(str(s) for s in (exc.context, exc.problem) if s)
        raise error(Problem(f"{where}{line}", f"invalid YAML: {msg}")) from None
    except yaml.YAMLError as exc:
        raise error(Problem(where, f"invalid YAML: {exc}")) from None


# --------------------------------------------------------------------------- helpers


def parse_date(raw: Any) -> dt.date | None:
    """Parse a YAML date or a ``'YYYY-MM-DD'`` string; ``None`` when it is neither."""
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, str) and _DATE_RE.match(raw.strip()):
        try:
            return dt.date.fromisoformat(raw.strip())
        except ValueError:
            return None
    return None


def dated_items(mapping: Mapping, prefix: str, problems: list[Problem]) -> Iterator[tuple[dt.date, str, Any]]:
    """``(date, key path, entry)`` for each ``date: entry`` of a dated mapping.

    A key that is not a date (YAML date or ``YYYY-MM-DD``) becomes a problem at
    ``prefix.<key>`` and is skipped.
    """
    for raw_date, entry in mapping.items():
        date = parse_date(raw_date)
        dkey = raw_date.isoformat() if isinstance(raw_date, dt.date) else str(raw_date)
        where = f"{prefix}.{dkey}"
        if date is None:
            problems.append(Problem(where, f"unparseable date {raw_date!r}; expected YYYY-MM-DD"))
            continue
        yield date, where, entry


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the closest candidates, or ``""``.

    Matches the whole dotted path and, failing that, its last component against
    the last component of each candidate.
    """
    cands = list(candidates)
    hits = difflib.get_close_matches(name, cands, n=3, cutoff=0.6)
    if len(hits) > 1:
        # keep only the matches (almost) as close as the best one
        ratios = [difflib.SequenceMatcher(None, name, h).ratio() for h in hits]
        hits = [h for h, r in zip(hits, ratios, strict=True) if r >= max(ratios) - 0.02]
    if not hits:
        last = name.rsplit(".", 1)[-1]
        tails: dict[str, list[str]] = {}
        for c in cands:
            tails.setdefault(c.rsplit(".", 1)[-1], []).append(c)
        for t in difflib.get_close_matches(last, list(tails), n=3, cutoff=0.75):
            hits.extend(tails[t])
        hits = hits[:3]
    if not hits:
        return ""
    return " (did you mean " + " or ".join(repr(h) for h in hits) + "?)"


def value_kind(value: Any) -> str | None:
    """``'bool'``, ``'number'`` or ``'str'`` for an allowed value; ``None`` otherwise."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, float) and not np.isfinite(value):
            return None
        return "number"
    if isinstance(value, str):
        return "str"
    return None


def _describe(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return f"{type(value).__name__} {value!r}"


# --------------------------------------------------------------------------- data types


@dataclass(frozen=True)
class DatedValue:
    """One value of a parameter and the date from which it is in force.

    Parameters
    ----------
    start : datetime.date
        First day on which the value applies.
    value : int, float, bool or str
        The value, in the parameter's unit.
    reference : str
        Document, table or ``"assumption: <reason>"`` the value comes from.
    note : str, optional
        Further explanation (e.g. why this effective date was chosen).
    reference_zh : str, optional
        The reference in Chinese (``"假设：<理由>"`` for an assumption); ``""`` when the
        rulebook gives none because ``reference`` is Chinese already (a document number
        such as 衢委办[2006]101号 with Chinese quotes).  :func:`qzfp.i18n.reference_text`
        picks the text for a language.
    """

    start: dt.date
    value: Scalar
    reference: str
    note: str = ""
    reference_zh: str = ""


@dataclass(frozen=True)
class Parameter:
    """A dated policy parameter or assumption.

    Parameters
    ----------
    path : str
        Dotted path, e.g. ``"village.vice_president.allowance"``.
    description : str
        What the parameter means.
    unit : str
        Unit of its values (``person``, ``yuan/month``, ``share`` ...).
    values : tuple of DatedValue
        History sorted by start date (oldest first).
    min, max : float or None
        Allowed range of numeric values (``min`` defaults to 0 for numbers).
    choices : tuple of str or None
        Allowed values of a string parameter.
    note : str
        Further explanation.
    description_zh : str
        The description in Chinese ("" when the rulebook gives none).
    """

    path: str
    description: str
    unit: str
    values: tuple[DatedValue, ...]
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] | None = None
    note: str = ""
    description_zh: str = ""

    @property
    def kind(self) -> str:
        """``'number'``, ``'bool'`` or ``'str'``."""
        return value_kind(self.values[0].value) or "str"

    @property
    def is_numeric(self) -> bool:
        """True for numbers and bools (the types a :class:`ParamArrays` holds)."""
        return self.kind in ("number", "bool")

    def check(self, value: Any) -> list[str]:
        """Messages describing why ``value`` is not acceptable here (empty if it is)."""
        kind = value_kind(value)
        if kind is None:
            return [f"expected a {self.kind} value, got {_describe(value)}"]
        if kind != self.kind:
            return [
                f"expected a {self.kind} (like the other values of {self.path}), got {_describe(value)}"
            ]
        msgs = []
        if kind == "number":
            if self.min is not None and value < self.min:
                what = "negative amount" if self.min == 0 else "too small"
                msgs.append(f"{what}: {value!r} is below the minimum {self.min:g} [{self.unit}]")
            if self.max is not None and value > self.max:
                msgs.append(f"too large: {value!r} is above the maximum {self.max:g} [{self.unit}]")
        if kind == "str" and self.choices is not None and value not in self.choices:
            msgs.append(f"{value!r} is not one of {list(self.choices)}")
        return msgs

    def dated_value_at(self, date: dt.date) -> DatedValue:
        """The :class:`DatedValue` in force on ``date``.

        Raises
        ------
        ParameterError
            If ``date`` is before the first value.
        """
        current = None
        for dv in self.values:
            if dv.start <= date:
                current = dv
            else:
                break
        if current is None:
            raise ParameterError(
                Problem(
                    self.path,
                    f"no value in force on {date.isoformat()}; the first value applies from "
                    f"{self.values[0].start.isoformat()}",
                )
            )
        return current

    def value_at(self, date: dt.date) -> Scalar:
        """Value in force on ``date`` (``ParameterError`` before the first value)."""
        return self.dated_value_at(date).value

    def value_in_year(self, year: int) -> Scalar:
        """Value in force on 1 January of ``year``.

        A change dated 2008-01-01 applies from 2008; one dated 2008-07-01 applies
        from 2009.
        """
        return self.value_at(dt.date(int(year), 1, 1))

    def series(self, years: Iterable[int]) -> np.ndarray:
        """Values in force on 1 January of each year.

        Parameters
        ----------
        years : iterable of int
            Calendar years.

        Returns
        -------
        numpy.ndarray, shape (T,)
            float for numbers, bool for bools, object for strings.
        """
        years = np.asarray(list(years), dtype=int)
        starts = np.array([dv.start.toordinal() for dv in self.values])
        jan1 = np.array([dt.date(int(y), 1, 1).toordinal() for y in years], dtype=int)
        idx = np.searchsorted(starts, jan1, side="right") - 1
        if len(idx) and idx.min() < 0:
            bad = int(years[idx < 0][0])
            self.value_in_year(bad)  # raises with the standard message
        vals = [dv.value for dv in self.values]
        if self.kind == "number":
            return np.asarray(vals, dtype=float)[idx]
        if self.kind == "bool":
            return np.asarray(vals, dtype=bool)[idx]
        return np.asarray(vals, dtype=object)[idx]

    @property
    def latest(self) -> DatedValue:
        """The most recent dated value."""
        return self.values[-1]


# --------------------------------------------------------------------------- parsing


def _parse_bound(raw: Any, where: str, key: str, problems: list[Problem]) -> float | None:
    if raw is None:
        return None
    if value_kind(raw) != "number":
        problems.append(Problem(f"{where}.{key}", f"expected a number, got {_describe(raw)}"))
        return None
    return float(raw)


def _reference_zh(entry: Mapping, reference: str, where: str) -> str | Problem:
    """The checked ``reference_zh`` of a value entry (``""`` when absent), or the problem.

    It must be a non-empty text, and it is an assumption (``假设：...``) exactly when
    ``reference`` is one (``assumption: ...``), so the two languages never disagree on
    whether a value comes from a document.
    """
    if "reference_zh" not in entry:
        return ""
    raw = entry["reference_zh"]
    if not isinstance(raw, str) or not raw.strip():
        return Problem(f"{where}.reference_zh", f"expected a non-empty text, got {_describe(raw)}")
    text = raw.strip()
    en_assumed = bool(_ASSUMPTION_EN.match(reference))
    zh_assumed = text.startswith(_ASSUMPTION_ZH)
    if en_assumed and not zh_assumed:
        return Problem(f"{where}.reference_zh",
                       f"the reference is an assumption, so the Chinese one starts with "
                       f"'{_ASSUMPTION_ZH}' (got {text[:20]!r})")
    if zh_assumed and not en_assumed:
        return Problem(f"{where}.reference_zh",
                       f"starts with '{_ASSUMPTION_ZH}' but the reference is not an assumption "
                       f"(it does not start with 'assumption:')")
    return text


def _parse_parameter(
    node: Mapping, path: str, keypath: str, file: str, problems: list[Problem]
) -> Parameter | None:
    """Parse one parameter node, appending problems; ``None`` when unusable."""
    where = f"{file}:{keypath}"
    n0 = len(problems)
    for key in node:
        if key not in PARAMETER_KEYS:
            problems.append(
                Problem(
                    f"{where}.{key}",
                    f"unknown key {key!r}{did_you_mean(str(key), PARAMETER_KEYS)}; "
                    f"allowed: {', '.join(PARAMETER_KEYS)}",
                )
            )
    texts = {}
    for key in ("description", "unit"):
        raw = node.get(key)
        if raw is None:
            problems.append(Problem(f"{where}.{key}", f"missing {key}"))
        elif not isinstance(raw, str) or not raw.strip():
            problems.append(
                Problem(f"{where}.{key}", f"expected a non-empty text, got {_describe(raw)}")
            )
        else:
            texts[key] = raw.strip()
    description_zh = node.get("description_zh", "")
    if not isinstance(description_zh, str):
        problems.append(Problem(f"{where}.description_zh", f"expected a text, got {_describe(description_zh)}"))
        description_zh = ""
    note = node.get("note", "")
    if not isinstance(note, str):
        problems.append(Problem(f"{where}.note", f"expected a text, got {_describe(note)}"))
        note = ""
    vmin = _parse_bound(node.get("min"), where, "min", problems)
    vmax = _parse_bound(node.get("max"), where, "max", problems)
    if vmin is not None and vmax is not None and vmin > vmax:
        problems.append(Problem(f"{where}.max", f"max {vmax:g} is below min {vmin:g}"))
    choices = node.get("choices")
    if choices is not None:
        if (
            not isinstance(choices, list)
            or not choices
            or not all(isinstance(c, str) for c in choices)
        ):
            problems.append(
                Problem(
                    f"{where}.choices",
                    f"expected a non-empty list of texts, got {_describe(choices)}",
                )
            )
            choices = None
        else:
            choices = tuple(choices)

    raw_values = node.get("values")
    dated: list[DatedValue] = []
    if raw_values is None:
        problems.append(
            Problem(f"{where}.values", "missing values (a mapping of date → {value, reference})")
        )
    elif not isinstance(raw_values, Mapping):
        problems.append(
            Problem(
                f"{where}.values",
                f"expected a mapping of date → {{value, reference}}, got {_describe(raw_values)}",
            )
        )
    elif not raw_values:
        problems.append(
            Problem(f"{where}.values", "empty values: at least one dated value is required")
        )
    else:
        for date, vwhere, entry in dated_items(raw_values, f"{where}.values", problems):
            if not isinstance(entry, Mapping):
                problems.append(
                    Problem(
                        vwhere, f"expected {{value: ..., reference: ...}}, got {_describe(entry)}"
                    )
                )
                continue
            for key in entry:
                if key not in VALUE_KEYS:
                    problems.append(
                        Problem(
                            f"{vwhere}.{key}",
                            f"unknown key {key!r}{did_you_mean(str(key), VALUE_KEYS)}; "
                            f"allowed: {', '.join(VALUE_KEYS)}",
                        )
                    )
            if "value" not in entry:
                problems.append(Problem(f"{vwhere}.value", "missing value"))
                continue
            value = entry["value"]
            if value_kind(value) is None:
                problems.append(
                    Problem(
                        f"{vwhere}.value",
                        f"expected a number, bool or text, got {_describe(value)}",
                    )
                )
                continue
            ref = entry.get("reference")
            if ref is None:
                problems.append(
                    Problem(
                        f"{vwhere}.reference",
                        "missing reference (a document, table or 'assumption: <reason>')",
                    )
                )
                continue
            if not isinstance(ref, str) or not ref.strip():
                problems.append(
                    Problem(
                        f"{vwhere}.reference", f"expected a non-empty text, got {_describe(ref)}"
                    )
                )
                continue
            vnote = entry.get("note", "")
            if not isinstance(vnote, str):
                problems.append(
                    Problem(f"{vwhere}.note", f"expected a text, got {_describe(vnote)}")
                )
                vnote = ""
            ref_zh = _reference_zh(entry, ref, vwhere)
            if isinstance(ref_zh, Problem):
                problems.append(ref_zh)
                continue
            dated.append(DatedValue(date, value, ref.strip(), vnote.strip(), ref_zh))
    if not dated or len(problems) > n0:
        return None
    dated.sort(key=lambda d: d.start)
    for a, b in zip(dated, dated[1:], strict=False):
        if a.start == b.start:
            problems.append(
                Problem(f"{where}.values.{b.start.isoformat()}", "two values with the same date")
            )
    kinds = {value_kind(d.value) for d in dated}
    if len(kinds) > 1:
        problems.append(
            Problem(
                f"{where}.values",
                f"mixed value types {sorted(kinds)}; all values of a parameter must share one type",
            )
        )
        return None
    kind = kinds.pop()
    if kind != "number":
        if vmin is not None or vmax is not None:
            problems.append(
                Problem(
                    f"{where}.min",
                    f"min/max only apply to numbers, this parameter holds {kind} values",
                )
            )
        vmin = vmax = None
    else:
        if vmin is None:
            vmin = 0.0
        if vmax is None and texts.get("unit") == "share":
            vmax = 1.0
    if choices is not None and kind != "str":
        problems.append(
            Problem(
                f"{where}.choices",
                f"choices only apply to texts, this parameter holds {kind} values",
            )
        )
        choices = None
    param = Parameter(
        path,
        texts.get("description", ""),
        texts.get("unit", ""),
        tuple(dated),
        vmin,
        vmax,
        choices,
        note.strip(),
        description_zh.strip(),
    )
    for d in dated:
        for msg in param.check(d.value):
            problems.append(Problem(f"{where}.values.{d.start.isoformat()}.value", msg))
    return param if len(problems) == n0 else None


def _walk(
    node: Any, prefix: list[str], file: str, out: dict[str, Parameter], problems: list[Problem]
) -> None:
    keypath = ".".join(prefix[1:])
    where = f"{file}:{keypath}" if keypath else file
    if not isinstance(node, Mapping):
        problems.append(
            Problem(
                where,
                f"expected a parameter (with description, unit, values) or a namespace of parameters, got {_describe(node)}",
            )
        )
        return
    if not node:
        problems.append(
            Problem(
                where,
                "empty namespace: expected parameters (with description, unit, values) or namespaces",
            )
        )
        return
    looks_like_param = "values" in node or any(k in node for k in ("description", "unit"))
    if looks_like_param and prefix[1:]:
        param = _parse_parameter(node, ".".join(prefix), keypath, file, problems)
        if param is not None:
            out[param.path] = param
        return
    for key, child in node.items():
        if not isinstance(key, str) or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", key):
            problems.append(
                Problem(
                    f"{where}.{key}" if keypath else f"{file}:{key}",
                    f"invalid name {key!r}: use letters, digits and _",
                )
            )
            continue
        _walk(child, [*prefix, key], file, out, problems)


def _load_directory(directory: Path) -> dict[str, Parameter]:
    problems: list[Problem] = []
    params: dict[str, Parameter] = {}
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise ParameterError(
            Problem(display_path(directory), "no *.yaml rulebook files in this folder")
        )
    for f in files:
        where = display_path(f)
        ns = f.stem
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", ns):
            problems.append(
                Problem(
                    where, f"invalid namespace name {ns!r}: file names use letters, digits and _"
                )
            )
            continue
        try:
            data = read_yaml(f)
        except ParameterError as exc:
            problems.extend(exc.problems)
            continue
        if data is None:
            problems.append(Problem(where, "empty file: expected a mapping of parameters"))
            continue
        _walk(data, [ns], where, params, problems)
    if problems:
        raise ParameterError(problems)
    return params


@functools.lru_cache(maxsize=16)
def _load_cached(directory: str, stamp: tuple) -> dict[str, Parameter]:
    return _load_directory(Path(directory))


def default_policy_dir() -> Path:
    """Folder of the packaged rulebook (``qzfp/policy``)."""
    return Path(__file__).resolve().parent / "policy"


def load_rulebook(directory: str | Path | None = None) -> Rulebook:
    """Load every ``*.yaml`` file of a rulebook folder.

    Parameters
    ----------
    directory : str or Path, optional
        Folder of YAML files; the packaged ``qzfp/policy`` when omitted.

    Returns
    -------
    Rulebook

    Raises
    ------
    ParameterError
        Listing every problem found in every file (``file:key.path: message``).
    """
    d = Path(directory) if directory is not None else default_policy_dir()
    if not d.is_dir():
        raise ParameterError(Problem(display_path(d), "rulebook folder not found"))
    d = d.resolve()
    stamp = tuple(
        (f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in sorted(d.glob("*.yaml"))
    )
    return Rulebook(_load_cached(str(d), stamp), d)


# --------------------------------------------------------------------------- rulebook


def _jan1_ordinals(years: np.ndarray) -> np.ndarray:
    """Proleptic ordinals of 1 January of each year (``datetime.date.toordinal``)."""
    return np.array([dt.date(int(y), 1, 1).toordinal() for y in years], dtype=int)


@dataclass(frozen=True)
class Rulebook:
    """All parameters of a rulebook, by dotted path (immutable).

    Parameters
    ----------
    parameters : mapping of str to Parameter
        The parameters by path.
    directory : Path or None
        Folder the rulebook was loaded from.
    """

    parameters: Mapping[str, Parameter]
    directory: Path | None = None
    overridden: frozenset = field(default=frozenset())

    def __post_init__(self) -> None:
        object.__setattr__(self, "parameters", MappingProxyType(dict(self.parameters)))

    def __contains__(self, path: object) -> bool:
        return path in self.parameters

    def __len__(self) -> int:
        return len(self.parameters)

    def paths(self) -> list[str]:
        """All parameter paths, sorted."""
        return sorted(self.parameters)

    def get(self, path: str) -> Parameter:
        """The parameter at ``path``.

        Raises
        ------
        ParameterError
            For an unknown path, suggesting the closest ones ("did you mean ...?").
        """
        try:
            return self.parameters[path]
        except (KeyError, TypeError):
            children = [p for p in self.parameters if p.startswith(f"{path}.")]
            if children:
                hint = f"; {path!r} is a namespace, its parameters are: " + ", ".join(
                    sorted(children)[:8]
                )
            else:
                hint = did_you_mean(str(path), self.parameters)
            raise ParameterError(Problem(str(path), f"unknown parameter{hint}")) from None

    def value_in_year(self, path: str, year: int) -> Scalar:
        """Value of ``path`` in force on 1 January of ``year``."""
        return self.get(path).value_in_year(year)

    def with_override(
        self,
        path: str,
        value: Any,
        reference: str = "override",
        *,
        start: dt.date | str | None = None,
        reference_zh: str = "",
    ) -> Rulebook:
        """A new rulebook with one parameter's history partly replaced.

        Parameters
        ----------
        path : str
            Dotted parameter path.
        value : scalar or mapping
            A scalar (applies from ``start``; from the first rulebook date when
            ``start`` is None), ``{"value": v, "reference": r}``, or a dated
            mapping ``{date: value or {"value": v, "reference": r}}``.  Rulebook
            values dated before the earliest override date are kept; later ones
            are superseded.
        reference : str
            Reference recorded for override values that do not carry their own.
        start : datetime.date or str, optional
            Start of a scalar override.
        reference_zh : str
            Chinese text of ``reference`` (for override values that do not carry their own
            reference); an entry may also give its own ``reference_zh``.

        Raises
        ------
        ParameterError
            Unknown path, bad date, or a value of the wrong type or out of range.
        """
        param = self.get(path)
        dated = _override_values(param, value, reference, start, reference_zh)
        first = dated[0].start
        history = tuple(dv for dv in param.values if dv.start < first) + tuple(dated)
        new = dict(self.parameters)
        new[path] = replace(param, values=history)
        return Rulebook(new, self.directory, self.overridden | {path})

    def explain(self, path: str) -> str:
        """Human-readable description and dated history of one parameter."""
        p = self.get(path)
        lines = [p.path, f"  {p.description}", f"  unit: {p.unit}"]
        bounds = []
        if p.kind == "number":
            if p.min is not None:
                bounds.append(f"min {p.min:g}")
            if p.max is not None:
                bounds.append(f"max {p.max:g}")
        if p.choices:
            bounds.append("one of " + ", ".join(p.choices))
        if bounds:
            lines.append("  allowed: " + ", ".join(bounds))
        if p.note:
            lines.append(f"  note: {p.note}")
        if path in self.overridden:
            lines.append("  (history changed by a scenario override)")
        lines.append(
            "  history (value in force from the date; a year uses the value on 1 January):"
        )
        for dv in p.values:
            lines.append(f"    {dv.start.isoformat()}  {_fmt(dv.value)} {p.unit}")
            lines.append(f"        reference: {dv.reference}")
            if dv.reference_zh:
                lines.append(f"        reference (zh): {dv.reference_zh}")
            if dv.note:
                lines.append(f"        note: {dv.note}")
        return "\n".join(lines)

    def tree(self) -> str:
        """All parameter paths with unit and latest value, grouped by namespace."""
        lines: list[str] = []
        by_ns: dict[str, list[Parameter]] = {}
        for path in self.paths():
            by_ns.setdefault(path.split(".", 1)[0], []).append(self.parameters[path])
        for ns, params in by_ns.items():
            lines.append(f"{ns}  ({len(params)} parameters)")
            width = max(len(p.path) for p in params) - len(ns) - 1
            for p in params:
                rest = p.path[len(ns) + 1 :]
                assumed = (
                    "  [assumption]" if p.latest.reference.lower().startswith("assumption") else ""
                )
                lines.append(
                    f"  {rest:<{width}}  {_fmt(p.latest.value)} {p.unit} (since {p.latest.start.isoformat()}){assumed}"
                )
        return "\n".join(lines)

    def to_param_arrays(
        self, years: Iterable[int], paths: Iterable[str] | None = None
    ) -> ParamArrays:
        """Numeric and bool parameters as ``(1, T)`` float arrays.

        Parameters
        ----------
        years : iterable of int
            Calendar years (values in force on 1 January).
        paths : iterable of str, optional
            Restrict to these paths (all numeric/bool parameters when omitted).

        Raises
        ------
        ParameterError
            A requested path is unknown or a text parameter, or some parameter has
            no value in force in one of the years (all such problems listed).
        """
        years = np.asarray(list(years), dtype=int)
        if paths is None:
            selected = [p for p in self.paths() if self.parameters[p].is_numeric]
        else:
            selected = list(paths)
        jan1 = _jan1_ordinals(years)
        data: dict[str, np.ndarray] = {}
        units: dict[str, str] = {}
        since: dict[str, np.ndarray] = {}
        history: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        problems: list[Problem] = []
        for path in selected:
            try:
                p = self.get(path)
                if not p.is_numeric:
                    raise ParameterError(
                        Problem(path, f"is a text parameter ({p.latest.value!r}), not a number")
                    )
                starts = np.array([dv.start.toordinal() for dv in p.values])
                idx = np.searchsorted(starts, jan1, side="right") - 1
                if len(idx) and idx.min() < 0:
                    p.value_in_year(int(years[idx < 0][0]))  # raises with the standard message
                values = np.array([float(dv.value) for dv in p.values])
                # effective year: the first year on whose 1 January the value is in force
                effective = np.array([dv.start.year + (dv.start.timetuple().tm_yday > 1)
                                      for dv in p.values], dtype=float)
                data[path] = values[idx][None, :]
                units[path] = p.unit
                since[path] = effective[idx][None, :]
                history[path] = (starts, values)
            except ParameterError as exc:
                problems.extend(exc.problems)
        if problems:
            raise ParameterError(problems)
        # values of the years before the first one, back to the earliest effective year
        prior: dict[str, np.ndarray] = {}
        if since and len(years):
            first = int(min(float(a[0, 0]) for a in since.values()))
            before = _jan1_ordinals(np.arange(first, int(years[0])))
            for path, (starts, values) in history.items():
                idx = np.searchsorted(starts, before, side="right") - 1
                prior[path] = np.where(idx >= 0, values[np.maximum(idx, 0)], np.nan)[None, :]
        return ParamArrays(years, data, units=units, since=since, prior=prior)

    @property
    def sha256(self) -> str:
        """Hash of the canonical JSON of every parameter's history."""
        payload = {
            p.path: [[dv.start.isoformat(), dv.value, dv.reference, *([dv.reference_zh] if dv.reference_zh else [])]
                     for dv in p.values]
            for p in self.parameters.values()
        }
        text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _fmt(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return f"{value:.1f}"
    return str(value)


def _one_override(
    param: Parameter, raw: Any, reference: str, where: str, reference_zh: str = ""
) -> tuple[Scalar, str, str, str]:
    """Check one override entry (scalar or {value, reference, reference_zh, note}).

    An entry with its own ``reference`` and no ``reference_zh`` has no Chinese reference
    (the default ``reference_zh`` belongs to the default ``reference``)."""
    note = ""
    if isinstance(raw, Mapping):
        unknown = [k for k in raw if k not in VALUE_KEYS]
        if unknown or "value" not in raw:
            raise ParameterError(
                Problem(
                    where,
                    f"expected a value or {{value, reference}}, got keys {sorted(map(str, raw))}",
                )
            )
        ref = raw.get("reference", reference)
        if not isinstance(ref, str) or not ref.strip():
            raise ParameterError(
                Problem(f"{where}.reference", f"expected a non-empty text, got {_describe(ref)}")
            )
        note = raw.get("note", "")
        if not isinstance(note, str):
            raise ParameterError(
                Problem(f"{where}.note", f"expected a text, got {_describe(note)}")
            )
        if "reference" in raw or "reference_zh" in raw:
            zh = _reference_zh(raw, ref, where)
            if isinstance(zh, Problem):
                raise ParameterError(zh)
            reference_zh = zh
        reference, raw = ref, raw["value"]
    msgs = param.check(raw)
    if msgs:
        raise ParameterError([Problem(where, m) for m in msgs])
    return raw, reference, note, reference_zh


def _override_values(
    param: Parameter, value: Any, reference: str, start: dt.date | str | None,
    reference_zh: str = "",
) -> list[DatedValue]:
    is_dated = isinstance(value, Mapping) and "value" not in value
    out: list[DatedValue] = []
    if is_dated:
        if not value:
            raise ParameterError(
                Problem(param.path, "empty dated override: give at least one {date: value}")
            )
        problems: list[Problem] = []
        for date, where, raw in dated_items(value, param.path, problems):
            try:
                v, ref, note, ref_zh = _one_override(param, raw, reference, where, reference_zh)
            except ParameterError as exc:
                problems.extend(exc.problems)
                continue
            out.append(DatedValue(date, v, ref, note, ref_zh))
        if problems:
            raise ParameterError(problems)
        out.sort(key=lambda d: d.start)
        return out
    if start is None:
        sdate = param.values[0].start
    else:
        sdate = parse_date(start)
        if sdate is None:
            raise ParameterError(
                Problem(param.path, f"unparseable start date {start!r}; expected YYYY-MM-DD")
            )
    v, ref, note, ref_zh = _one_override(param, value, reference, param.path, reference_zh)
    return [DatedValue(sdate, v, ref, note, ref_zh)]
