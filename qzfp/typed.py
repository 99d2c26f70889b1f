"""Numbers as planners type them: full-width digits and signs, a unit after the number.

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
"""

from __future__ import annotations

import math
import re
import unicodedata

from .errors import ParameterError, Problem

__all__ = ["MONEY_UNITS", "YEAR_UNITS", "normalise", "number", "strip_unit", "year"]

#: Units a calendar year may carry (``2015年``).
YEAR_UNITS = ("年",)
#: Units an amount of money may carry (``60元``, ``60 yuan``); ``万``/``万元`` are read by
#: :func:`qzfp.model.plan.parse.parse_ceiling`, which multiplies.
MONEY_UNITS = ("元", "yuan")

_SPACES = re.compile(r"\s+")
_PLAIN_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_GROUPED = re.compile(r"[-+]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")


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
