"""Errors raised for bad input, as messages by id.

Every error that a user can cause (a bad scenario file, a bad register, a bad
parameter value) is a :class:`QzfpError` carrying one or more :class:`Problem`
records.  Each problem names *where* (``file:row`` or ``file:key.path``) and *what*
is wrong, as a message id of the catalogue (``problem.<id>`` in ``qzfp/i18n/en.yaml``
and ``zh.yaml``) with its fields.  The text is made only when it is shown, in the
reader's language (:meth:`Problem.text`), so the command line prints one line per
problem (``file:row-or-key: message``) in English or Chinese and exits with status 1,
never with a traceback.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any


class Label:
    """A catalogue text used as a field of another text (e.g. *what* was expected).

    Parameters
    ----------
    key : str
        Catalogue key, e.g. ``"kind.number"``.
    **fields
        Its own fields (plain values, :class:`Label` or :class:`Problem`).
    """

    __slots__ = ("key", "fields")

    def __init__(self, key: str, /, **fields: Any) -> None:
        self.key = key
        self.fields = fields

    def text(self, lang: str = "en") -> str:
        """The text in ``lang`` (``"en"`` or ``"zh"``)."""
        from .i18n import t

        return t(self.key, lang, **render_fields(self.fields, lang))

    def __str__(self) -> str:
        return self.text("en")

    def __repr__(self) -> str:
        return f"Label({self.key!r}, **{self.fields!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Label) and (self.key, self.fields) == (other.key, other.fields)

    def __hash__(self) -> int:
        return hash(self.key)

    def __reduce__(self) -> tuple:
        return (_label, (self.key, self.fields))


def _label(key: str, fields: Mapping[str, Any]) -> Label:
    return Label(key, **fields)


def render_fields(fields: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """Fields of a message with every :class:`Label`, :class:`Problem` (anything with a
    ``text(lang)`` method) shown in ``lang``; a list of them is joined with the language's
    list separator."""
    from .i18n import t

    def shown(v: Any) -> bool:
        return callable(getattr(v, "text", None))

    def one(v: Any) -> Any:
        if shown(v):
            return v.text(lang)
        if isinstance(v, (list, tuple)) and any(shown(x) for x in v):
            return t("problem.list_separator", lang).join(str(one(x)) for x in v)
        return v

    return {k: one(v) for k, v in fields.items()}


class Problem:
    """One problem found in an input.

    Parameters
    ----------
    location : str
        Where the problem is: ``"params/x.yaml:overrides.village.allowance"``,
        ``"villages.csv:17"`` (a 1-based line/row number as the user sees it in
        a spreadsheet), or just a file name; ``""`` when there is no place.
    id : str
        Message id: the catalogue key ``problem.<id>`` (e.g. ``"rulebook.missing_key"``).
    **fields
        The fields of the message template (plain values, or :class:`Label` /
        :class:`Problem` shown in the reader's language).

    Examples
    --------
    >>> p = Problem("x.yaml:p", "rulebook.missing_key", key="unit")
    >>> str(p)
    'x.yaml:p: missing unit'
    >>> p.text("zh")
    '缺少unit'
    """

    __slots__ = ("location", "id", "fields")

    def __init__(self, location: str, id: str, /, **fields: Any) -> None:  # noqa: A002
        self.location = location
        self.id = id
        self.fields = fields

    def text(self, lang: str = "en") -> str:
        """What is wrong, in ``lang`` (``"en"`` or ``"zh"``), without the location."""
        from .i18n import t

        return t(f"problem.{self.id}", lang, **render_fields(self.fields, lang))

    @property
    def message(self) -> str:
        """What is wrong, in English."""
        return self.text("en")

    def line(self, lang: str = "en") -> str:
        """``location: message`` in ``lang`` (just the message when there is no location)."""
        msg = self.text(lang)
        return f"{self.location}: {msg}" if self.location else msg

    def at(self, location: str) -> Problem:
        """The same problem at another location (e.g. prefixed by the file that named it)."""
        return Problem(location, self.id, **self.fields)

    def __str__(self) -> str:
        return self.line("en")

    def __repr__(self) -> str:
        return f"Problem({self.location!r}, {self.id!r}, **{self.fields!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Problem) and (self.location, self.id, self.fields) == (
            other.location, other.id, other.fields)

    def __hash__(self) -> int:
        return hash((self.location, self.id))

    def __reduce__(self) -> tuple:
        return (_problem, (self.location, self.id, self.fields))

    def to_data(self) -> list:
        """``[location, id, fields]`` as plain data (texts, numbers, lists and dicts; a field
        that is a :class:`Label` or a :class:`Problem` as a one-key dict), e.g. to cross a
        process pipe; :meth:`from_data` rebuilds the problem."""
        return [self.location, self.id, {k: _to_data(v) for k, v in self.fields.items()}]

    @classmethod
    def from_data(cls, data: list) -> Problem:
        """The problem of :meth:`to_data`'s ``[location, id, fields]``."""
        location, id_, fields = data
        return cls(str(location), str(id_), **{str(k): _from_data(v) for k, v in fields.items()})


def _problem(location: str, id: str, fields: Mapping[str, Any]) -> Problem:  # noqa: A002
    return Problem(location, id, **fields)


def _to_data(value: Any) -> Any:
    if isinstance(value, Problem):
        return {"problem": value.to_data()}
    if isinstance(value, Label):
        return {"label": [value.key, {k: _to_data(v) for k, v in value.fields.items()}]}
    if isinstance(value, _Alternatives):
        return {"alternatives": list(value)}
    if isinstance(value, tuple):
        return {"tuple": [_to_data(v) for v in value]}
    if isinstance(value, list):
        return [_to_data(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # a NumPy scalar: its Python value
        return value.item()
    return value


def _from_data(data: Any) -> Any:
    if isinstance(data, list):
        return [_from_data(v) for v in data]
    if isinstance(data, dict) and len(data) == 1:
        ((kind, body),) = data.items()
        if kind == "problem":
            return Problem.from_data(body)
        if kind == "label":
            return Label(body[0], **{k: _from_data(v) for k, v in body[1].items()})
        if kind == "alternatives":
            return _Alternatives(body)
        if kind == "tuple":
            return tuple(_from_data(v) for v in body)
    return data


#: Problems shown of one file [lines]; the rest are counted in one line.
MAX_PROBLEMS_SHOWN = 20

_LOCATED = re.compile(r"^(.*?\S):(\d+|[A-Za-z_][^:\s/\\]*)(?::.*)?$")


def file_of(location: str) -> str:
    """The file part of a location: ``villages.csv`` of ``villages.csv:17`` and ``c.csv`` of
    ``s.yaml:census: c.csv:3`` (the file named last: the one the problem is in), the
    location itself otherwise."""
    last = location.rsplit(": ", 1)[-1]
    m = _LOCATED.match(last)
    return m.group(1) if m else last


def shown(problems: Iterable[Problem], limit: int = MAX_PROBLEMS_SHOWN) -> list[Problem]:
    """The problems to show: at most ``limit`` of each file, in their order, and for each
    file with more one ``more_problems`` line counting the rest (the ``more_problems`` lines
    a loader added for problems it did not keep are counted in)."""
    out: list[Problem] = []
    counts: dict[str, int] = {}
    rest: dict[str, int] = {}
    for p in problems:
        where = file_of(p.location)
        if p.id == "more_problems":
            rest[where] = rest.get(where, 0) + int(p.fields.get("count", 0))
            continue
        counts[where] = counts.get(where, 0) + 1
        if counts[where] <= limit:
            out.append(p)
        else:
            rest[where] = rest.get(where, 0) + 1
    return out + [Problem(where, "more_problems", count=n) for where, n in rest.items() if n]


class QzfpError(Exception):
    """Base class of all errors caused by bad input.

    Parameters
    ----------
    problems : Problem or iterable of Problem
        The problems found.
    """

    def __init__(self, problems: Problem | Iterable[Problem]):
        if isinstance(problems, Problem):
            problems = [problems]
        if isinstance(problems, str):
            raise TypeError("a QzfpError holds Problems (a message id with fields), not a text")
        self.problems: list[Problem] = list(problems)
        bad = [p for p in self.problems if not isinstance(p, Problem)]
        if bad:
            raise TypeError(f"a QzfpError holds Problems, not {type(bad[0]).__name__}")
        super().__init__("\n".join(str(p) for p in self.problems))

    def lines(self, lang: str = "en") -> list[str]:
        """One ``location: message`` line per problem, in ``lang``."""
        return [p.line(lang) for p in self.problems]

    def __reduce__(self) -> tuple:
        """Pickled with its problems (ids and fields), not its English text: an error raised
        in another process (a Dask worker, a batch run) is shown in the reader's language."""
        return (type(self), (self.problems,))


class ParameterError(QzfpError):
    """A rulebook parameter or an override is malformed or out of range."""


class ScenarioError(QzfpError):
    """A scenario file is malformed (unknown key, bad override, extends cycle ...)."""


class RegisterError(QzfpError):
    """A township/village register is malformed."""


class RunError(QzfpError):
    """A notebook or report run failed (exit status 2 on the command line)."""


# ----------------------------------------------------------------- pieces of messages


class _Alternatives(tuple):
    """Names joined by "or" in the reader's language (a field of ``problem.did_you_mean``)."""

    def text(self, lang: str) -> str:
        from .i18n import t

        return t("problem.did_you_mean_or", lang).join(t("problem.quoted", lang, name=h) for h in self)


def did_you_mean(name: str, candidates: Iterable[str]) -> Label | str:
    """A hint ``" (did you mean 'x'?)"`` (a :class:`Label`, shown in the reader's language)
    for the closest candidates, or ``""``.

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
    return Label("problem.did_you_mean", names=_Alternatives(hits))


def describe_value(value: Any, *, show_containers: bool = False) -> Label:
    """What a wrong value is, for "expected ..., got <this>" messages: ``int 5``,
    ``a list`` (or ``list ['a', 'b']`` with ``show_containers``), ``nothing (null)``."""
    if not show_containers and isinstance(value, Mapping):
        return Label("value.mapping")
    if not show_containers and isinstance(value, list):
        return Label("value.list")
    if value is None:
        return Label("value.null")
    name = type(value).__name__
    if name in ("int", "float", "str", "bool"):
        return Label(f"value.{name}", value=repr(value))
    return Label("value.other", type=name, value=repr(value))
