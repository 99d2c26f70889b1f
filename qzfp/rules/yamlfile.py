"""YAML files and dates as the rulebook and scenario files write them.

:class:`StrictLoader` refuses duplicate keys (:class:`FastStrictLoader`, the same on libyaml's
parser, reads the files that parse); :func:`read_yaml` turns every read or parse failure into
a problem naming the file and line; :func:`parse_date` and
:func:`dated_items` read the ``YYYY-MM-DD`` keys of dated mappings.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from ..errors import ParameterError, Problem

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class StrictLoader(yaml.SafeLoader):
    """A ``yaml.SafeLoader`` that rejects duplicate keys in a mapping.

    PyYAML silently keeps the last of two equal keys; in a rulebook or a scenario
    file that hides a mistake, so it is an error here.
    """


class _KeyProblem(yaml.constructor.ConstructorError):
    """A key the strict loader refuses (unhashable, or given twice), as a problem to place."""

    def __init__(self, problem: Problem, mark: yaml.Mark) -> None:
        super().__init__(None, None, problem.message, mark)
        self.problem = problem


def _construct_mapping(loader: StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    seen: dict = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            raise _KeyProblem(Problem("", "yaml.unhashable_key", key=key), key_node.start_mark) from None
        if key in seen:
            raise _KeyProblem(Problem("", "yaml.duplicate_key", key=key, line=seen[key] + 1),
                              key_node.start_mark)
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

#: :class:`StrictLoader`'s constructors on libyaml's parser (``yaml.CSafeLoader``) when PyYAML
#: was built with it: the same values, about 8 times faster (the rulebook's 15 files: 0.32 s
#: → 0.04 s, paid by every process that loads it: the CLI, each report kernel).  libyaml's
#: error texts are terser (no offending character or alias name), so a file it refuses is
#: parsed again by :class:`StrictLoader` for the message.
FastStrictLoader: type = StrictLoader
if getattr(yaml, "__with_libyaml__", False):
    class FastStrictLoader(yaml.CSafeLoader):  # type: ignore[no-redef]
        """:class:`StrictLoader` on libyaml's parser."""

    FastStrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    FastStrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def display_path(path: Path | str) -> str:
    """Path as shown in messages: relative to the working directory when inside it."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(p)


#: Most values a YAML file may expand to [value]: anchors and aliases let a small file name
#: the same list many times over (a "billion laughs" file), which every later step would
#: walk (deep copies, hashes, messages).  A scenario file has a few dozen values.
MAX_YAML_VALUES = 100_000


def read_yaml(path: Path, error: type[Exception] = ParameterError, *, max_bytes: int | None = None) -> Any:
    """Read a YAML file strictly (duplicate keys are errors).

    Parameters
    ----------
    path : Path
    error : type
        The :class:`~qzfp.errors.QzfpError` subclass raised.
    max_bytes : int, optional
        Largest file accepted [byte] (checked before reading).

    Raises
    ------
    QzfpError subclass given by ``error``
        When the file cannot be read or parsed, is larger than ``max_bytes`` or expands to
        more than :data:`MAX_YAML_VALUES` values; the problem names the file and line.
    """
    where = display_path(path)
    try:
        size = Path(path).stat().st_size
        if max_bytes is not None and size > max_bytes:
            raise error(Problem(where, "yaml_too_large", size=size, max=max_bytes))
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise error(Problem(where, "file_not_found")) from None
    except UnicodeDecodeError as exc:
        raise error(
            Problem(where, "file_not_utf8", reason=exc.reason)
        ) from None
    except OSError as exc:
        raise error(Problem(where, "file_unreadable", reason=exc.strerror or exc)) from None
    try:
        try:
            data = yaml.load(text, Loader=FastStrictLoader)  # noqa: S506 - a SafeLoader
        except yaml.YAMLError:
            if FastStrictLoader is StrictLoader:
                raise
            data = yaml.load(text, Loader=StrictLoader)  # noqa: S506 - the fuller message
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        if isinstance(exc, _KeyProblem):
            raise error(exc.problem.at(f"{where}{line}")) from None
        msg = " ".join(str(s) for s in (exc.context, exc.problem) if s)
        raise error(Problem(f"{where}{line}", "yaml_invalid", detail=msg)) from None
    except yaml.YAMLError as exc:
        raise error(Problem(where, "yaml_invalid", detail=exc)) from None
    if _values_over(data, MAX_YAML_VALUES):
        raise error(Problem(where, "yaml_too_many_values", max=MAX_YAML_VALUES))
    return data


def _values_over(data: Any, limit: int) -> bool:
    """True when ``data`` holds more than ``limit`` values, each shared one counted every time
    it is reached (as a walk over it would see it); stops at the limit."""
    stack, seen = [data], 0
    while stack:
        item = stack.pop()
        seen += 1
        if seen > limit:
            return True
        if isinstance(item, Mapping):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


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
            problems.append(Problem(where, "date_unparseable", value=raw_date))
            continue
        yield date, where, entry
