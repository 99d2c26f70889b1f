"""Make an HTML page safe to open, whatever text a user put into its Markdown or HTML.

Report pages show texts a planner wrote (a scenario's title and description, rulebook
references given in overrides, names from a register).  Markdown and HTML in them are
rendered, so a link ``[x](javascript:...)`` or a ``<script>`` in a description would act
in every reader's browser.  :func:`sanitize_html` is applied by the writers of the pages
(:func:`qzfp.reporting.convert.notebook_to_html` and the index pages), to the finished page, so no
caller can forget it.  Its rules:

- links and other URL attributes (``href``, ``src``, ``action``, ``xlink:href``, ...) may
  only be ``http``/``https`` or relative (a path, ``?query`` or ``#fragment``); any other
  scheme (``javascript:``, ``data:``, ``vbscript:``, ``file:``, ...) drops the attribute,
  leaving the link's text.  The one exception: an ``<img src>`` holding a PNG, JPEG, GIF or
  WebP image as ``data:`` (how the pages embed their charts, so they display offline);
- event handler attributes (``on...``) are dropped, and ``style`` attributes that call
  script (``javascript:``, ``expression(``);
- ``script``, ``iframe``, ``frame``, ``frameset``, ``object``, ``embed``, ``applet``,
  ``base`` and ``noscript`` elements are removed with their content, and ``<meta
  http-equiv>`` (a redirect) is removed;
- control characters (C0 other than tab, line feed and carriage return; DEL; C1) are
  removed from the whole page.

Everything else is kept byte for byte: the page's own tags are never rewritten.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

__all__ = ["ALLOWED_SCHEMES", "is_safe_url", "sanitize_html", "strip_control_chars"]

#: URL schemes a link in a report page may have (besides relative URLs).
ALLOWED_SCHEMES = frozenset({"http", "https"})
#: Elements removed with their content.
_DROPPED = frozenset({"script", "iframe", "frame", "frameset", "object", "embed", "applet",
                      "base", "noscript"})
#: Attributes holding a URL (or a list of them).
_URL_ATTRS = frozenset({"href", "src", "action", "formaction", "xlink:href", "background",
                        "poster", "cite", "longdesc", "data", "srcset", "lowsrc", "dynsrc",
                        "ping", "manifest", "codebase", "archive", "profile", "usemap"})
#: SVG animation attributes that can set a URL attribute.
_ANIMATION_ATTRS = frozenset({"to", "from", "values", "by"})
_IMAGE_DATA = re.compile(r"data:image/(?:png|jpeg|gif|webp);base64,[a-z0-9+/=\s]*", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Browsers ignore these inside a scheme ("java\tscript:"), so the check must too.
_IGNORED_IN_URL = re.compile(r"[\x00-\x20\x7f-\x9f]")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")
_SCRIPT_STYLE = re.compile(r"javascript:|vbscript:|expression\(|-moz-binding", re.IGNORECASE)


def strip_control_chars(text: str) -> str:
    """``text`` without C0 controls (other than tab, line feed, carriage return), DEL and C1."""
    return _CONTROL.sub("", text)


def is_safe_url(url: str, *, image: bool = False) -> bool:
    """Whether a report page may hold ``url``.

    Parameters
    ----------
    url : str
        The attribute value (entities already decoded).
    image : bool
        True for an ``<img src>``: embedded PNG/JPEG/GIF/WebP ``data:`` images are allowed.

    Returns
    -------
    bool
        True for ``http``/``https`` and relative URLs (and embedded images when ``image``).
    """
    squeezed = _IGNORED_IN_URL.sub("", html.unescape(url)).lower()
    m = _SCHEME.match(squeezed)
    if m is None:
        return True  # relative: a path, ?query or #fragment
    if m.group(1) in ALLOWED_SCHEMES:
        return True
    return image and _IMAGE_DATA.fullmatch(url.strip()) is not None


class _Sanitizer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.out: list[str] = []
        self.skip: list[str] = []  # open dropped elements

    def _tag(self, tag: str, attrs: list[tuple[str, str | None]], closed: bool) -> str | None:
        if tag in _DROPPED or (tag == "meta" and any(k == "http-equiv" for k, _ in attrs)):
            return None
        kept, changed = [], False
        for name, value in attrs:
            v = value or ""
            unsafe = (
                name.startswith("on")
                or (name in _URL_ATTRS and not all(
                    is_safe_url(u, image=(tag == "img" and name == "src"))
                    for u in ([v] if name != "srcset" else [p.split()[0] for p in v.split(",") if p.split()])))
                or (name in _ANIMATION_ATTRS and tag in ("animate", "set") and not is_safe_url(v))
                or (name == "attributename" and "href" in v.lower())
                or (name == "style" and _SCRIPT_STYLE.search(_IGNORED_IN_URL.sub("", html.unescape(v))))
            )
            if unsafe:
                changed = True
            else:
                kept.append((name, value))
        if not changed:
            return self.get_starttag_text()
        parts = "".join(f" {k}" if v is None else f' {k}="{html.escape(v, quote=True)}"' for k, v in kept)
        return f"<{tag}{parts}{' /' if closed else ''}>"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skip:
            if tag in _DROPPED:
                self.skip.append(tag)
            return
        text = self._tag(tag, attrs, closed=False)
        if text is None:
            if tag in _DROPPED and tag != "base":
                self.skip.append(tag)
            return
        self.out.append(text)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skip:
            return
        text = self._tag(tag, attrs, closed=True)
        if text is not None:
            self.out.append(text)

    def handle_endtag(self, tag: str) -> None:
        if self.skip:
            if tag == self.skip[-1]:
                self.skip.pop()
            return
        if tag in _DROPPED:
            return
        self.out.append(f"</{tag}>")

    def _text(self, text: str) -> None:
        if not self.skip:
            self.out.append(text)

    def handle_data(self, data: str) -> None:
        self._text(data)

    def handle_entityref(self, name: str) -> None:
        self._text(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self._text(f"&#{name};")

    def handle_comment(self, data: str) -> None:
        self._text(f"<!--{data}-->")

    def handle_decl(self, decl: str) -> None:
        self._text(f"<!{decl}>")

    def unknown_decl(self, data: str) -> None:
        self._text(f"<![{data}]>")

    def handle_pi(self, data: str) -> None:
        self._text(f"<?{data}>")


def sanitize_html(page: str) -> str:
    """``page`` with unsafe links, scripts, event handlers and control characters removed.

    Parameters
    ----------
    page : str
        A whole HTML page or a fragment.

    Returns
    -------
    str
        The page by the rules of this module; safe tags are kept byte for byte.
    """
    parser = _Sanitizer()
    parser.feed(strip_control_chars(page))
    parser.close()
    return "".join(parser.out)
