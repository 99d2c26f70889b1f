"""One dated parameter of the rulebook: its values over time, unit, bounds and checks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import Label, ParameterError, Problem, describe_value

Scalar = int | float | bool | str

#: Largest count of people any rule may name [person]: the population of China at the 2020
#: census, 1,411,778,724 (国家统计局《第七次全国人口普查公报（第二号）》); a threshold or a
#: count above it can never be reached.
MAX_PERSONS = 1_411_778_724
#: Largest value of any other number without a maximum of its own, in its unit:
#: assumption: no quantity of the association's rules reaches 10^12 (China's GDP in 2020 was
#: 1.0 × 10^14 yuan, the association's yearly budget some 10^8 yuan); beyond it a value is a
#: typing error that would print numbers of hundreds of digits.
MAX_MAGNITUDE = 1e12


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
        Allowed range of numeric values (``min`` defaults to 0 for numbers; without ``max``,
        at most :data:`MAX_PERSONS` for a count of people and :data:`MAX_MAGNITUDE` for
        anything else).
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

    def check(self, value: Any) -> list[Problem]:
        """Why ``value`` is not acceptable here (empty if it is), as problems without a place
        (the caller gives it with :meth:`Problem.at`)."""
        kind = value_kind(value)
        if kind is None:
            return [Problem("", "value.wrong_kind", kind=Label(f"kind.{self.kind}"), got=describe_value(value))]
        if kind != self.kind:
            return [Problem("", "value.unlike_others", kind=Label(f"kind.{self.kind}"), path=self.path,
                            got=describe_value(value))]
        bad = []
        if kind == "number":
            if self.min is not None and value < self.min:
                bad.append(Problem("", "value.negative" if self.min == 0 else "value.too_small",
                                   value=value, min=self.min, unit=self._unit()))
            top = self.max if self.max is not None else MAX_PERSONS if self.unit == "person" else MAX_MAGNITUDE
            if value > top:
                bad.append(Problem("", "value.too_large", value=value, max=top, unit=self._unit()))
            elif self.min is None and value < -MAX_MAGNITUDE:
                bad.append(Problem("", "value.too_small", value=value, min=-MAX_MAGNITUDE, unit=self._unit()))
        if kind == "str" and self.choices is not None and value not in self.choices:
            bad.append(Problem("", "value.not_a_choice", value=value, choices=list(self.choices)))
        return bad

    def _unit(self) -> Label | str:
        """The unit in the reader's language (its catalogue label ``unit.<unit>``, else as given)."""
        from ..i18n import has

        return Label(f"unit.{self.unit}") if has(f"unit.{self.unit}") else self.unit

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
                Problem(self.path, "rulebook.no_value_on", date=date.isoformat(),
                        first=self.values[0].start.isoformat())
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
