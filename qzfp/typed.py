"""What planners type: numbers with full-width digits and a unit, and texts.

Numbers
-------

A planner working with a Chinese input method types ``９５％``, ``２０１５``, ``－５`` or
``１，２００，０００`` (full-width forms, U+FF01..U+FF5E) as often as ``95%``, and writes the
unit after a number as in a document (``2015年``, ``60元``).  :func:`normalise` turns the
full-width forms into their ASCII equivalents (Unicode NFKC compatibility decomposition,
which maps exactly these forms and the ideographic space) and drops spaces;
:func:`number` and :func:`year` read a number or a calendar year from such a text, with
the units each accepts, and refuse anything else as a problem at the option that gave it
(shown in the run's language, exit status 1).

The command line (``--year``, ``--ceiling``, ``--set``, ``--vary``) and the explorer's
ceiling field read what planners type through these functions.

Texts
-----
:func:`text_problems` says what keeps a text from going into a file name, a page, a
workbook or a ``.docx`` (XML): a control character (C0 and C1; tab, line feed and
carriage return only where a text may have several lines), an unpaired surrogate or the
non-characters U+FFFE/U+FFFF, more characters than its bound, a line break in a one-line
text.  :data:`BAD_CHARACTER` is the same class of characters for the tables' schema
(:mod:`qzfp.register.schema`).
"""

from __future__ import annotations

import math
import re
import unicodedata

from .errors import ParameterError, Problem

__all__ = ["BAD_CHARACTER", "BAD_CHARACTERS", "MONEY_UNITS", "YEAR_UNITS", "normalise", "number",
           "strip_unit", "text_problems", "year"]

#: The characters no plain text may hold (the ranges of a regular-expression class): C0/C1 control
#: characters, unpaired surrogates and the non-characters U+FFFE and U+FFFF, which XML (the
#: ``.docx`` and ``.xlsx`` files) cannot carry.
BAD_CHARACTERS = r"\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff"
BAD_CHARACTER = re.compile(f"[{BAD_CHARACTERS}]")
#: The same, except tab, line feed and carriage return (a text of several lines).
_BAD_IN_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")

#: Units a calendar year may carry (``2015年``).
YEAR_UNITS = ("年",)
#: Units an amount of money may carry (``60元``, ``60 yuan``); ``万``/``万元`` are read by
#: :func:`qzfp.model.plan.parse.parse_ceiling`, which multiplies.
MONEY_UNITS = ("元", "yuan")

_SPACES = re.compile(r"\s+")
_PLAIN_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_GROUPED = re.compile(r"[-+]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")


def text_problems(text: str, where: str, *, max_chars: int, one_line: bool = True) -> list[Problem]:
    """Why ``text`` cannot be a planner's text at ``where`` (empty when it can).

    Parameters
    ----------
    text : str
    where : str
        Location of the problems (``file:key``).
    max_chars : int
        Most characters allowed.
    one_line : bool
        The text is one line (a name, a title, a path): no tab or line break either.
    """
    bad = (BAD_CHARACTER if one_line else _BAD_IN_LINES).search(text)
    if bad is not None:
        ch = bad.group()
        code = f"U+{ord(ch):04X}"
        if ch in "\n\r":
            return [Problem(where, "text.not_one_line")]
        if ord(ch) > 0x9F:
            return [Problem(where, "text.non_character", code=code)]
        return [Problem(where, "text.control_character", code=code)]
    if len(text) > max_chars:
        return [Problem(where, "text.too_long", length=len(text), max=max_chars)]
    return []


def normalise(text: str) -> str:
    """The ASCII form of what a planner typed: full-width digits, signs, ``％``, ``，`` and
    ``．`` as ASCII (NFKC), spaces (ideographic ones too) removed, ``−`` (U+2212) as ``-``.

    >>> normalise(" ９５ ％ ")
    '95%'
    >>> normalise("１，２００，０００")
    '1,200,000'
    """
    out = unicodedata.normalize("NFKC", str(text)) if not str(text).isascii() else str(text)
    return _SPACES.sub("", out.replace("\u2212", "-"))


def strip_unit(text: str, units: tuple[str, ...]) -> str:
    """``text`` without one trailing unit of ``units`` (after :func:`normalise`)."""
    for unit in sorted(units, key=len, reverse=True):
        if text.endswith(unit) and len(text) > len(unit):
            return text[: -len(unit)]
    return text


def _value(text: str) -> float | None:
    """The number of a normalised text (thousands separators only in groups of three), or None."""
    if _PLAIN_NUMBER.fullmatch(text) or _GROUPED.fullmatch(text):
        value = float(text.replace(",", ""))
        return value if math.isfinite(value) else None
    return None


def number(text: str | float, where: str, *, units: tuple[str, ...] = MONEY_UNITS) -> float:
    """A finite number typed by a planner: ``60``, ``６０``, ``1,200``, ``60元``.

    Parameters
    ----------
    text : str or float
        What was typed (a number is returned as it is when finite).
    where : str
        The option or field named in the problem (``--set village.vice_president.allowance``).
    units : tuple of str
        Units allowed after the number (default: yuan).

    Raises
    ------
    ParameterError
        Not a finite number, at ``where``, naming what was typed and the units allowed.
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value: float | None = float(text) if math.isfinite(text) else None
    else:
        value = _value(strip_unit(normalise(text), units))
    if value is None:
        raise ParameterError(Problem(where, "typed.not_a_number", text=str(text), units=" ".join(units)))
    return value


def year(text: str | int, where: str) -> int:
    """A calendar year typed by a planner: ``2015``, ``２０１５``, ``2015年``.

    Raises
    ------
    ParameterError
        Not a whole year between 1 and 9999, at ``where``.
    """
    if isinstance(text, int) and not isinstance(text, bool):
        value: float | None = float(text)
    else:
        raw = strip_unit(normalise(str(text)), YEAR_UNITS)
        value = float(raw) if re.fullmatch(r"\d{1,4}", raw) else None
    if value is None or not 1 <= value <= 9999:
        raise ParameterError(Problem(where, "typed.not_a_year", text=str(text)))
    return int(value)
