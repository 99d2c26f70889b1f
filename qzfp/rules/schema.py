"""Reading a rulebook folder: the schema of a parameter node and the checks across its fields.

The shape of a node (its keys, their types, required and optional keys) is a pydantic
model (``extra="forbid"``, strict); the rules that relate several fields (one value type per
parameter, min/max and choices only where they apply, each value within them) follow in
:func:`parse_parameter`, with one problem per offending value, each at ``file:key.path``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import Label, ParameterError, Problem, describe_value, did_you_mean
from .parameter import DatedValue, Parameter, value_kind
from .yamlfile import dated_items, display_path, read_yaml

#
# The shape of a parameter node (its keys, their types, required and optional keys) is a
# pydantic schema; the rules that relate several fields (one value type per parameter,
# min/max and choices only where they apply, each value within them) follow in
# :func:`_parse_parameter` with one problem per offending value.


class _Invalid(ValueError):
    """A field validator's refusal, carrying its problem (placed by :func:`_schema_problems`)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _non_empty(text: str) -> str:
    if not text.strip():
        raise _Invalid(Problem("", "expected", what=Label("expect.nonempty_text"), got=describe_value(text)))
    return text.strip()


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _ValueNode(_Node):
    """``{value, reference, reference_zh?, note?}`` of one date."""

    value: Any
    reference: str
    reference_zh: str = ""
    note: str = ""

    _not_blank = field_validator("reference", "reference_zh")(classmethod(lambda cls, v: _non_empty(v)))

    @field_validator("value")
    @classmethod
    def _scalar(cls, v: Any) -> Any:
        if value_kind(v) is None:
            raise _Invalid(Problem("", "expected", what=Label("expect.scalar"), got=describe_value(v)))
        return v


class _ParameterNode(_Node):
    """A parameter of a rulebook file."""

    description: str
    description_zh: str = ""
    unit: str
    values: dict[str, _ValueNode] = Field(min_length=1)
    min: float | None = None
    max: float | None = None
    choices: list[str] | None = Field(default=None, min_length=1)
    note: str = ""

    _not_blank = field_validator("description", "unit")(classmethod(lambda cls, v: _non_empty(v)))


PARAMETER_KEYS = tuple(_ParameterNode.model_fields)
VALUE_KEYS = tuple(_ValueNode.model_fields)

#: What a key holds, for "expected <what>, got ..." messages.
_EXPECTED = {
    "description": "expect.nonempty_text",
    "unit": "expect.nonempty_text",
    "reference": "expect.nonempty_text",
    "reference_zh": "expect.nonempty_text",
    "description_zh": "expect.text",
    "note": "expect.text",
    "min": "expect.number",
    "max": "expect.number",
    "choices": "expect.texts",
    "values": "expect.dated_values",
}


def _date_key(key: Any) -> str:
    """A date key of ``values`` as text: ``2004-01-01`` for a YAML date, else ``str(key)``."""
    if isinstance(key, dt.datetime):
        key = key.date()
    return key.isoformat() if isinstance(key, dt.date) else str(key)


def _schema_problems(exc: ValidationError, where: str) -> list[Problem]:
    """The errors of a pydantic validation as problems at ``where.<key path>``."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = [str(k) for k in err["loc"]]
        key = loc[-1] if loc else ""
        in_value = len(loc) >= 2 and loc[0] == "values"
        at = f"{where}.{'.'.join(loc)}"
        kind = err["type"]
        if kind == "missing":
            if key == "values":
                problem = Problem(at, "rulebook.missing_values")
            elif key == "reference":
                problem = Problem(at, "rulebook.missing_reference")
            else:
                problem = Problem(at, "rulebook.missing_key", key=key)
        elif kind == "extra_forbidden":
            allowed = VALUE_KEYS if in_value else PARAMETER_KEYS
            problem = Problem(at, "rulebook.unknown_key", key=key, hint=did_you_mean(key, allowed),
                              allowed=", ".join(allowed))
        elif kind == "model_type":
            problem = Problem(at, "rulebook.entry_not_mapping", got=describe_value(err["input"]))
        elif kind == "too_short" and key == "values":
            problem = Problem(at, "rulebook.empty_values")
        elif kind == "value_error":
            problem = err["ctx"]["error"].problem.at(at)
        else:
            field = loc[2] if in_value and len(loc) > 2 else loc[0]
            what = "expect.text" if field == "choices" and len(loc) > 1 else _EXPECTED.get(field, "expect.valid")
            problem = Problem(at, "expected", what=Label(what), got=describe_value(err["input"]))
        problems.append(problem)
    return problems


_ASSUMPTION_EN = re.compile(r"^\s*assumption\s*:", re.IGNORECASE)
_ASSUMPTION_ZH = "假设："


def reference_zh_problem(reference: str, reference_zh: str) -> Problem | None:
    """Why ``reference_zh`` cannot go with ``reference`` (``None`` when it can, or is ``""``).

    It is an assumption (``假设：...``) exactly when ``reference`` is one (``assumption: ...``),
    so the two languages never disagree on whether a value comes from a document.
    """
    if not reference_zh:
        return None
    en_assumed = bool(_ASSUMPTION_EN.match(reference))
    zh_assumed = reference_zh.startswith(_ASSUMPTION_ZH)
    if en_assumed and not zh_assumed:
        return Problem("", "rulebook.reference_zh_not_assumption", start=reference_zh[:20])
    if zh_assumed and not en_assumed:
        return Problem("", "rulebook.reference_zh_assumption")
    return None


def _dated_values(node: _ParameterNode, where: str, problems: list[Problem]) -> list[DatedValue]:
    """The node's values sorted by date; unparseable and repeated dates are problems."""
    dated = []
    for date, vwhere, entry in dated_items(node.values, f"{where}.values", problems):
        bad = reference_zh_problem(entry.reference, entry.reference_zh)
        if bad is not None:
            problems.append(bad.at(f"{vwhere}.reference_zh"))
            continue
        dated.append(DatedValue(date, entry.value, entry.reference, entry.note.strip(), entry.reference_zh))
    dated.sort(key=lambda d: d.start)
    for a, b in zip(dated, dated[1:], strict=False):
        if a.start == b.start:
            problems.append(
                Problem(f"{where}.values.{b.start.isoformat()}", "rulebook.same_date")
            )
    return dated


def _parse_parameter(
    node: Mapping, path: str, keypath: str, file: str, problems: list[Problem]
) -> Parameter | None:
    """Parse one parameter node, appending problems; ``None`` when unusable."""
    where = f"{file}:{keypath}"
    if isinstance(node.get("values"), Mapping):  # date keys as the texts messages show
        values: dict[str, Any] = {}
        for k, v in node["values"].items():
            if _date_key(k) in values:  # 2004-01-01 and '2004-01-01'
                problems.append(Problem(f"{where}.values.{_date_key(k)}", "rulebook.same_date"))
            values[_date_key(k)] = v
        node = {**node, "values": values}
    try:
        spec = _ParameterNode.model_validate(node)
    except ValidationError as exc:
        problems.extend(_schema_problems(exc, where))
        return None
    n0 = len(problems)
    if spec.min is not None and spec.max is not None and spec.min > spec.max:
        problems.append(Problem(f"{where}.max", "rulebook.max_below_min", max=spec.max, min=spec.min))
    dated = _dated_values(spec, where, problems)
    kinds = {value_kind(d.value) for d in dated}
    if len(problems) > n0 or not dated:
        return None
    if len(kinds) > 1:
        problems.append(
            Problem(f"{where}.values", "rulebook.mixed_types", kinds=[Label(f"kind.{k}") for k in sorted(kinds)])
        )
        return None
    kind = kinds.pop()
    vmin, vmax = spec.min, spec.max
    if kind != "number" and (vmin is not None or vmax is not None):
        problems.append(
            Problem(f"{where}.min", "rulebook.bounds_not_number", kind=Label(f"kind.{kind}"))
        )
    if spec.choices is not None and kind != "str":
        problems.append(
            Problem(f"{where}.choices", "rulebook.choices_not_text", kind=Label(f"kind.{kind}"))
        )
    if kind == "number":
        vmin = 0.0 if vmin is None else vmin
        vmax = 1.0 if vmax is None and spec.unit == "share" else vmax
    else:
        vmin = vmax = None
    param = Parameter(
        path,
        spec.description,
        spec.unit,
        tuple(dated),
        vmin,
        vmax,
        tuple(spec.choices) if spec.choices is not None and kind == "str" else None,
        spec.note.strip(),
        spec.description_zh.strip(),
    )
    for d in dated:
        problems += [q.at(f"{where}.values.{d.start.isoformat()}.value") for q in param.check(d.value)]
    return param if len(problems) == n0 else None


def _walk(
    node: Any, prefix: list[str], file: str, out: dict[str, Parameter], problems: list[Problem]
) -> None:
    keypath = ".".join(prefix[1:])
    where = f"{file}:{keypath}" if keypath else file
    if not isinstance(node, Mapping):
        problems.append(
            Problem(where, "rulebook.not_a_node", got=describe_value(node))
        )
        return
    if not node:
        problems.append(
            Problem(where, "rulebook.empty_namespace")
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
                Problem(f"{where}.{key}" if keypath else f"{file}:{key}", "rulebook.invalid_name", name=key)
            )
            continue
        _walk(child, [*prefix, key], file, out, problems)


def load_directory(directory: Path) -> dict[str, Parameter]:
    problems: list[Problem] = []
    params: dict[str, Parameter] = {}
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise ParameterError(
            Problem(display_path(directory), "rulebook.no_files")
        )
    for f in files:
        where = display_path(f)
        ns = f.stem
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", ns):
            problems.append(
                Problem(where, "rulebook.invalid_namespace", name=ns)
            )
            continue
        try:
            data = read_yaml(f)
        except ParameterError as exc:
            problems.extend(exc.problems)
            continue
        if data is None:
            problems.append(Problem(where, "rulebook.empty_file"))
            continue
        _walk(data, [ns], where, params, problems)
    if problems:
        raise ParameterError(problems)
    return params
