"""The text of a plan's options: ``--vary PATH=RANGE`` levers and the ``--ceiling`` amount."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from ...errors import ParameterError, Problem
from ...typed import MONEY_UNITS, normalise, strip_unit

#: Largest number of values one ``--vary`` range may expand to [value].
MAX_RANGE_VALUES = 10_000


_NUMBER = r"[-+]?(?:\d[\d_,]*(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
"""An amount, with optional thousands separators (``1,200,000``)."""
_VALUE = r"[-+]?(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
"""A lever value (commas separate values in a range)."""


def _number(text: str) -> float:
    return float(text.replace(",", "").replace("_", ""))


def parse_range(text: str, where: str) -> list[float]:
    """Values of a ``--vary`` range: ``START:STOP:STEP`` (both ends included) or ``v1,v2,...``.

    Parameters
    ----------
    text : str
        ``60:120:10`` → 60, 70, ..., 120; ``60,80,100``; a single number; full-width digits
        and a 元 after a value are accepted (``６０元,８０元``).
    where : str
        Location named in problems (``--vary PATH``).

    Raises
    ------
    ParameterError
        Not numbers, a step ≤ 0, STOP below START, or more than :data:`MAX_RANGE_VALUES` values.
    """
    text = normalise(text)  # full-width digits and signs (６０：１２０：１０)
    if ":" in text:
        parts = [strip_unit(p, MONEY_UNITS) for p in text.split(":")]
        if len(parts) != 3 or not all(re.fullmatch(_VALUE, p) for p in parts):
            raise ParameterError(Problem(where, "plan.range_not_numbers", text=text))
        start, stop, step = (float(p) for p in parts)
        if step <= 0:
            raise ParameterError(Problem(where, "plan.step_not_positive", text=text))
        if stop < start:
            raise ParameterError(Problem(where, "plan.stop_below_start", text=text))
        count = math.floor((stop - start) / step + 1e-9) + 1
        if count > MAX_RANGE_VALUES:
            raise ParameterError(Problem(where, "plan.too_many_values", text=text, count=count,
                                         max=MAX_RANGE_VALUES))
        values = [round(start + i * step, 10) for i in range(count)]
        return values
    toks = [strip_unit(p, MONEY_UNITS) for p in text.split(",")]
    bad = [tok for tok in toks if not re.fullmatch(_VALUE, tok)]
    if bad or not toks:
        raise ParameterError(Problem(where, "plan.bad_range", text=text))
    values = [_number(tok) for tok in toks]
    if len(set(values)) != len(values):
        raise ParameterError(Problem(where, "plan.value_twice", text=text))
    return values


def parse_vary(items: Sequence[str]) -> dict[str, list[float]]:
    """``--vary PATH=RANGE`` options → ``{path: values}`` (see :func:`parse_range`).

    Raises
    ------
    ParameterError
        An item without ``=``, a bad range, or a path given twice (every problem at once).
    """
    grid: dict[str, list[float]] = {}
    problems: list[Problem] = []
    for item in items:
        path, sep, raw = item.partition("=")
        path = path.strip()
        if not sep or not path or not raw.strip():
            problems.append(Problem(f"--vary {item}", "plan.vary_syntax"))
            continue
        if path in grid:
            problems.append(Problem(f"--vary {path}", "cli.given_twice"))
            continue
        try:
            grid[path] = parse_range(raw, f"--vary {path}")
        except ParameterError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ParameterError(problems)
    if not grid:
        raise ParameterError(Problem("--vary", "plan.no_levers"))
    return grid


def parse_ceiling(text: str | float, baseline_yuan: float | None = None) -> float:
    """A budget ceiling [yuan]: ``1200000``, ``1,200,000``, ``120万`` or ``80%`` (of the baseline);
    full-width digits and signs as a Chinese input method types them (``９５％``) too.

    Parameters
    ----------
    text : str or float
    baseline_yuan : float, optional
        The baseline's budget of the plan year [yuan], needed for a percentage.

    Raises
    ------
    ParameterError
        Not an amount, negative, or a percentage without a baseline.
    """
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        raw = normalise(str(text))  # ９５％, １２０万
        m = re.fullmatch(rf"({_NUMBER})(%|万元|万|元|yuan)?", raw)
        if not m:
            raise ParameterError(Problem("--ceiling", "plan.ceiling_syntax", text=str(text)))
        value = _number(m.group(1))
        unit = m.group(2) or ""
        if unit == "%":
            if baseline_yuan is None:
                raise ParameterError(Problem("--ceiling", "plan.ceiling_needs_baseline", text=str(text)))
            value = baseline_yuan * value / 100.0
        elif unit.startswith("万"):
            value *= 10_000.0
    if not math.isfinite(value) or value < 0:
        raise ParameterError(Problem("--ceiling", "plan.ceiling_negative", text=text))
    return value
