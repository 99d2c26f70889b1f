"""CJK fonts for charts: a system font when there is one, else the shipped one."""

from __future__ import annotations

import functools
from typing import Any

from .catalogue import check_lang

# ---------------------------------------------------------------------- CJK fonts
CJK_FONT_CANDIDATES: tuple[str, ...] = (
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Source Han Sans",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
)
"""System CJK fonts tried in order by :func:`setup_fonts`."""

SHIPPED_FONT_FAMILY = "Noto Sans CJK SC qzfp"
"""Family name of the subset of Noto Sans CJK SC (SIL OFL 1.1) shipped in ``qzfp/fonts/``."""


def shipped_font_path() -> str:
    """Path of the font file shipped with qzfp (see ``qzfp/fonts/README.md``)."""
    from importlib import resources

    return str(resources.files("qzfp") / "fonts" / "NotoSansCJKsc-qzfp-subset.ttf")


@functools.lru_cache(maxsize=1)
def shipped_font_data_url() -> str:
    """The shipped font as a ``data:font/ttf;base64,...`` URL (about 5.3 MB of text; made
    once per process), for a page with no folder to put the font file in."""
    import base64

    with open(shipped_font_path(), "rb") as fh:
        return "data:font/ttf;base64," + base64.b64encode(fh.read()).decode("ascii")


_FONT_STATE: dict[str, Any] = {}


def register_shipped_font() -> str:
    """Add the shipped CJK font to matplotlib's font list (in memory); its family name."""
    from matplotlib import font_manager

    path = shipped_font_path()
    if not any(f.fname == path for f in font_manager.fontManager.ttflist):
        font_manager.fontManager.addfont(path)  # in-memory only: the cache is not rebuilt
    return SHIPPED_FONT_FAMILY


def cjk_font(*, prefer_system: bool = True) -> str:
    """Family name of the CJK font qzfp uses here (first system candidate, else the shipped one)."""
    from matplotlib import font_manager

    if prefer_system:
        available = {f.name for f in font_manager.fontManager.ttflist}
        for name in CJK_FONT_CANDIDATES:
            if name in available:
                return name
    return register_shipped_font()


def setup_fonts(lang: str, *, prefer_system: bool = True) -> str:
    """Configure matplotlib so that labels in ``lang`` render with no missing glyphs.

    Picks the first available of :data:`CJK_FONT_CANDIDATES`, else registers the font shipped
    in ``qzfp/fonts`` (``font_manager.addfont``, no cache rebuild), and sets
    ``font.sans-serif`` to put it first for ``zh`` (DejaVu Sans next, as glyph fallback) and
    second for ``en`` (so Chinese names in English output still render).  Also sets
    ``axes.unicode_minus = False``.  Idempotent and cheap after the first call.

    Parameters
    ----------
    lang : str
        ``"en"`` or ``"zh"``.
    prefer_system : bool
        False forces the shipped font (used by the tests).

    Returns
    -------
    str
        Family name of the CJK font in use.
    """
    import matplotlib as mpl

    check_lang(lang)
    cache_key = f"cjk:{prefer_system}"
    if cache_key not in _FONT_STATE:
        _FONT_STATE[cache_key] = cjk_font(prefer_system=prefer_system)
    cjk = _FONT_STATE[cache_key]
    first = [cjk, "DejaVu Sans"] if lang == "zh" else ["DejaVu Sans", cjk]
    rest = [f for f in mpl.rcParams["font.sans-serif"] if f not in first]
    # The two fonts by name, not the generic "sans-serif": matplotlib falls back glyph by
    # glyph only along a list of named families (a generic family resolves to one font).
    mpl.rcParams["font.family"] = [*first, "sans-serif"]
    mpl.rcParams["font.sans-serif"] = first + rest
    mpl.rcParams["axes.unicode_minus"] = False
    return cjk


def missing_glyphs(text: str, lang: str = "zh") -> set[str]:
    """Characters of ``text`` that no font of the configured chain can draw.

    Useful to warn about rare characters in a user's register before charting it.
    """
    import matplotlib as mpl
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    setup_fonts(lang)
    chars = {c for c in text if not c.isspace()}
    for family in mpl.rcParams["font.sans-serif"][:2]:
        path = font_manager.findfont(
            font_manager.FontProperties(family=family), fallback_to_default=False
        )
        cmap = FT2Font(path).get_charmap()
        chars = {c for c in chars if ord(c) not in cmap}
    return chars

