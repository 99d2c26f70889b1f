"""What every qzfp HTML page shares: the shipped CJK font, the print style, navigation, time.

Every page qzfp writes (the report pages made from notebooks, the scenario and top index
pages, the ``compare`` and ``sweep`` pages) takes its furniture from here, so that

- Chinese text is drawn with the font shipped in ``qzfp/fonts/`` whatever the system has:
  the ``@font-face`` covers only the CJK code points (``unicode-range``), is first in every
  font stack and is set with ``!important`` on every element, so no later theme rule
  (nbconvert's JupyterLab theme sets its own ``font-family``) can replace it, while Latin
  text keeps the system's sans-serif;
- a page prints on A4 with a footer naming the scenario and the page number, table
  headers repeated on every printed page, nothing cut at the right edge (wide year tables
  are printed in blocks of years, see :func:`qzfp.reporting.sections.table_html`);
- every page links to its siblings and to the index;
- times are the local time with its zone.
"""

from __future__ import annotations

import datetime as _dt
import html
import re
from collections.abc import Sequence

__all__ = [
    "ASSETS_DIR",
    "FONT_FAMILY",
    "FONT_FILE",
    "css_string",
    "decorate_page",
    "font_css",
    "html_lang",
    "local_time",
    "nav_html",
    "page_css",
    "print_css",
]

#: Folder (inside each report folder) holding the shipped CJK font.
ASSETS_DIR = "assets"
#: Name of the font file inside :data:`ASSETS_DIR`.
FONT_FILE = "qzfp-cjk.ttf"
#: CSS family name of the shipped font on the pages.
FONT_FAMILY = "qzfp CJK"

# CJK radicals, symbols and punctuation, kana/bopomofo, enclosed letters, CJK unified
# ideographs (with extension A), compatibility ideographs, vertical and full-width forms.
_CJK_RANGES = (
    "U+2E80-2FDF,U+3000-303F,U+3100-312F,U+31A0-31BF,U+3200-33FF,U+3400-4DBF,"
    "U+4E00-9FFF,U+F900-FAFF,U+FE10-FE1F,U+FE30-FE4F,U+FF00-FFEF"
)
_SANS = f'"{FONT_FAMILY}",-apple-system,"Segoe UI","Helvetica Neue",Arial,"Liberation Sans","DejaVu Sans",sans-serif'
_MONO = f'"{FONT_FAMILY}",ui-monospace,"SFMono-Regular",Menlo,Consolas,"DejaVu Sans Mono",monospace'


def font_css(assets: str = ASSETS_DIR, *, src: str | None = None, scope: str | None = None) -> str:
    """CSS that makes the shipped font draw every CJK character of a page (or of a part of one).

    Parameters
    ----------
    assets : str
        URL of the folder holding :data:`FONT_FILE`, relative to the page.
    src : str, optional
        URL of the font itself instead (e.g. a ``data:`` URL, for a page that has no
        folder of its own such as the explorer served by Voila).
    scope : str, optional
        CSS selector of the element whose content the font applies to (e.g.
        ``.qzfp-explorer``); by default the whole page, JupyterLab's font variables included.
    """
    url = src if src is not None else f"{assets}/{FONT_FILE}"
    root = scope or "html body"
    face = (f'@font-face{{font-family:"{FONT_FAMILY}";src:url("{url}") format("truetype");'
            f"unicode-range:{_CJK_RANGES};font-display:block}}")
    variables = ("" if scope else f":root{{--jp-content-font-family:{_SANS};--jp-ui-font-family:{_SANS};"
                 f"--jp-code-font-family:{_MONO}}}")
    return (
        face + variables
        + f"{root},{root} *{{font-family:{_SANS}!important}}"
        f"{root} pre,{root} pre *,{root} code,{root} code *,{root} kbd,"
        f"{root} samp{{font-family:{_MONO}!important}}"
    )


def css_string(text: str) -> str:
    """``text`` as a quoted CSS string (for ``content:``), safe inside a ``<style>``."""
    out = []
    for ch in str(text):
        if ch in '"\\' or ch in "<>&" or ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def print_css(footer: str, lang: str = "en") -> str:
    """A4 print style with a footer ``footer · page n / N``.

    Tables keep their header on every printed page, rows are not split, nothing scrolls or
    is cut at the right edge, label columns keep a readable width, and the navigation bar
    is not printed.  A heading stays with what follows it (never alone at the foot of a
    page): the output holding a heading, and a cell whose last output is one, avoid a break
    after them.  No synthetic bold or italic: Chromium would print it as Type 3 outlines
    instead of the embedded font (bold Chinese prints in the regular weight).
    """
    page_word = "第 " if lang == "zh" else "page "
    page_end = " 页" if lang == "zh" else ""
    counter = f'{css_string(page_word)} counter(page) " / " counter(pages) {css_string(page_end)}'
    return (
        "@page{size:A4 portrait;margin:14mm 12mm 16mm 12mm;"
        f"@bottom-left{{content:{css_string(footer)};font-size:8pt;color:#555;font-family:{_SANS}}}"
        f"@bottom-right{{content:{counter};font-size:8pt;color:#555;font-family:{_SANS}}}}}"
        "@media print{"
        "html,body{width:auto!important;max-width:none!important;margin:0!important;"
        "padding:0!important;font-size:9pt;background:#fff}"
        "*{overflow:visible!important}"
        "::-webkit-scrollbar{display:none}"
        ".qzfp-nav,.qzfp-screen-only{display:none!important}"
        ".qzfp-print-only{display:block!important}"
        "table{max-width:100%!important;font-size:8pt!important;page-break-inside:auto}"
        "thead{display:table-header-group}tfoot{display:table-footer-group}"
        "tr,img,figure{break-inside:avoid;page-break-inside:avoid}"
        "td,th{padding:1px 4px!important}"
        "td,th{overflow-wrap:break-word}"
        "td:first-child,th:first-child{min-width:9em;max-width:18em;overflow-wrap:anywhere}"
        "td[style*='text-align:right'],td.num{white-space:nowrap}"
        "img{max-width:100%!important;height:auto!important}"
        "h1,h2,h3,h4,caption{break-after:avoid;page-break-after:avoid}"
        # a heading is never cut by a page break: Chromium names a bookmark by the text of
        # every piece of its heading, so a heading cut in two was bookmarked twice over
        "h1,h2,h3,h4{display:inline-block;width:100%}"
        "*{font-synthesis:none}"
        ".jp-OutputArea-child:has(h1,h2,h3,h4),.jp-Cell:has(.jp-OutputArea-child:last-child :is(h1,h2,h3,h4))"
        "{break-after:avoid;page-break-after:avoid}"
        ".qzfp-toc{padding-right:3em}.qzfp-toc li{margin:.1em 0}"
        ".qzfp-toc-page{float:right;width:3em;margin-right:-3em;text-align:right}"
        ".jp-Cell,.jp-Cell-outputWrapper,.jp-OutputArea,.jp-OutputArea-child,.jp-OutputArea-output"
        "{display:block!important;"
        "width:auto!important;max-width:100%!important;padding:0!important}"
        ".jp-OutputPrompt,.jp-InputPrompt,.jp-Collapser{display:none!important}"
        "}"
        "@media screen{.qzfp-print-only{display:none}}"
        ".qzfp-nav{font-size:.9rem;padding:.4rem 0;margin-bottom:.6rem;border-bottom:1px solid #ddd}"
        ".qzfp-nav a{margin-right:1rem}.qzfp-nav .current{font-weight:bold;margin-right:1rem}"
    )


def page_css(footer: str, lang: str = "en", assets: str = ASSETS_DIR) -> str:
    """:func:`font_css` and :func:`print_css` together."""
    return font_css(assets) + print_css(footer, lang)


def html_lang(lang: str) -> str:
    """The ``lang`` attribute of a page in ``lang`` (``zh`` -> ``zh-CN``)."""
    return "zh-CN" if str(lang).startswith("zh") else "en"


def nav_html(links: Sequence[tuple[str, str]], current: str | None = None) -> str:
    """A navigation bar: ``links`` are ``(href, label)``; the ``current`` href is not a link."""
    e = html.escape
    parts = []
    for href, label in links:
        if href == current:
            parts.append(f'<span class="current">{e(label)}</span>')
        else:
            parts.append(f'<a href="{e(href)}">{e(label)}</a>')
    return f'<nav class="qzfp-nav">{"".join(parts)}</nav>'


def local_time(when: str | _dt.datetime | None = None) -> str:
    """``when`` (ISO text or datetime; now if None) in local time, with its zone.

    Examples
    --------
    >>> local_time("2026-01-02T03:04:05+00:00")[-9:]  # doctest: +SKIP
    '(UTC+00:00)'
    """
    if when is None:
        moment = _dt.datetime.now(_dt.timezone.utc)
    elif isinstance(when, _dt.datetime):
        moment = when
    else:
        try:
            moment = _dt.datetime.fromisoformat(str(when))
        except ValueError:
            return str(when)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.timezone.utc)
    local = moment.astimezone()
    offset = local.strftime("%z")
    zone = f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
    name = local.tzname() or ""
    label = f"{local:%Y-%m-%d %H:%M} {name}".rstrip()
    return f"{label} ({zone})" if name != zone else label


_BODY_RE = re.compile(r"<body\b[^>]*>", re.IGNORECASE)
_HTML_RE = re.compile(r"<html\b[^>]*>", re.IGNORECASE)


def decorate_page(page: str, *, lang: str, footer: str, nav: str = "", assets: str = ASSETS_DIR) -> str:
    """Give a finished HTML page its language, font and print style, and a navigation bar.

    The style goes last in ``<head>`` (after any theme), the navigation first in ``<body>``.
    """
    page = _HTML_RE.sub(f'<html lang="{html_lang(lang)}">', page, count=1)
    style = f"<style>{page_css(footer, lang, assets)}</style>"
    head_end = page.lower().find("</head>")
    if head_end >= 0:
        page = page[:head_end] + style + page[head_end:]
    m = _BODY_RE.search(page)
    if nav and m:
        page = page[: m.end()] + nav + page[m.end():]
    return page
