"""Numbers, money and shares as a reader of each language writes them."""

from __future__ import annotations

import math
from typing import Any

from .catalogue import check_lang

# ---------------------------------------------------------------------- numbers
_DASH = "—"


def _finite(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def format_number(x: Any, lang: str, decimals: int = 0) -> str:
    """``12345.6`` → ``"12,346"`` (both languages); missing or non-finite → ``"—"``."""
    check_lang(lang)
    v = _finite(x)
    if v is None:
        return _DASH
    if round(v, decimals) == 0:
        v = 0.0  # never print "-0"
    return f"{v:,.{decimals}f}"


def _compact(v: float, lang: str, unit_en: str, unit_zh: str) -> str:
    a = abs(v)
    if lang == "zh":
        if a >= 1e8:
            return f"{v / 1e8:,.2f}亿{unit_zh}"
        if a >= 1e4:
            return f"{v / 1e4:,.2f}万{unit_zh}"
        return f"{v:,.0f}{unit_zh}"
    if a >= 1e6:
        return f"{v / 1e6:,.2f} million {unit_en}"
    return f"{v:,.0f} {unit_en}"


def format_yuan(x: Any, lang: str, *, decimals: int = 0, compact: bool = False) -> str:
    """Format an amount of money.

    Parameters
    ----------
    x : float
        Amount [yuan].
    lang : str
        ``"en"`` → ``"1,234,567 yuan"``; ``"zh"`` → ``"1,234,567元"``.
    decimals : int
        Decimals of the exact form.
    compact : bool
        Large amounts rounded to 2 decimals: zh ``"123.46万元"`` (≥ 10 000) or ``"1.23亿元"``
        (≥ 10⁸); en ``"1.23 million yuan"`` (≥ 10⁶).  Smaller amounts stay exact.
    """
    check_lang(lang)
    v = _finite(x)
    if v is None:
        return _DASH
    if compact:
        return _compact(v, lang, "yuan", "元")
    num = format_number(v, lang, decimals)
    return f"{num}元" if lang == "zh" else f"{num} yuan"


def format_persons(x: Any, lang: str, *, compact: bool = False) -> str:
    """Format a number of people: en ``"12,345 persons"`` (``"1 person"``), zh ``"12,345人"``.

    With ``compact=True`` large numbers are rounded: zh ``"2.32万人"`` (≥ 10 000),
    en ``"2.46 million persons"`` (≥ 10⁶).
    """
    check_lang(lang)
    v = _finite(x)
    if v is None:
        return _DASH
    if compact:
        return _compact(v, lang, "persons", "人")
    num = format_number(v, lang, 0)
    if lang == "zh":
        return f"{num}人"
    return f"{num} person" if num in ("1", "-1") else f"{num} persons"


def format_pct(share: Any, lang: str, decimals: int = 1, *, signed: bool = False) -> str:
    """Format a share (0..1) as a percentage: ``0.1234`` → ``"12.3%"`` (``"+12.3%"`` if signed)."""
    check_lang(lang)
    v = _finite(share)
    if v is None:
        return _DASH
    return f"{v * 100:{'+' if signed else ''},.{decimals}f}%"


