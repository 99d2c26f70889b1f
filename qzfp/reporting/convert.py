"""An executed notebook as a self-contained HTML page with no code.

Pages are self-contained: nbconvert's ``lab`` template (extended by
``templates/notebook_page.html.j2``) inlines its CSS, images are base64 in the notebook,
and the require.js, MathJax, mermaid and widget ``<script>`` tags (which point at a CDN)
are left out, so a page displays the same with no network.  Every page goes through
:func:`qzfp.reporting.safehtml.sanitize_html`.
"""

from __future__ import annotations

import contextlib
import functools
import re
import sys
import threading
from pathlib import Path
from typing import Any

from qzfp.reporting import pagestyle
from qzfp.reporting.safehtml import sanitize_html

__all__ = [
    "CONVERT_LOCK",
    "REMOVED_CELL_TAGS",
    "exporter",
    "import_papermill",
    "notebook_title",
    "notebook_to_html",
    "without_iri_format_checker",
]

#: Cells with one of these tags are dropped from the HTML pages (with their outputs).
REMOVED_CELL_TAGS = frozenset({"parameters", "injected-parameters", "remove-cell"})

#: Folder of the jinja2 templates of every generated page.
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
#: nbconvert template of a notebook page (extends nbconvert's ``lab/index.html.j2``).
NOTEBOOK_TEMPLATE = "notebook_page.html.j2"

#: The pages' CJK font face (``@font-face`` of the shipped font, see :mod:`pagestyle`).
FONT_CSS = pagestyle.font_css()

#: Held while converting: the one exporter of a process keeps state in its preprocessors.
CONVERT_LOCK = threading.Lock()

_EXTERNAL_TAG_RE = re.compile(
    r"<script\b[^>]*\bsrc\s*=\s*[\"']?(?:https?:)?//[^>]*>\s*</script>"
    r"|<link\b[^>]*\bhref\s*=\s*[\"']?(?:https?:)?//[^>]*>",
    re.IGNORECASE,
)

@contextlib.contextmanager
def without_iri_format_checker():
    """Import nbformat (through papermill or nbconvert) without ``rfc3987_syntax``.

    jsonschema registers an "iri" format checker when ``rfc3987_syntax`` is installed, and
    importing that package builds a parser: 3-4 s, more than a kernel start.  nbformat's
    schemas use no "iri" format, so the first import of jsonschema is made with the
    package hidden; it is unhidden afterwards (an explicit import still works).
    """
    hide = "jsonschema" not in sys.modules and "rfc3987_syntax" not in sys.modules
    if hide:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # -> ImportError
    try:
        yield
    finally:
        if hide and "rfc3987_syntax" in sys.modules and sys.modules["rfc3987_syntax"] is None:
            del sys.modules["rfc3987_syntax"]


def import_papermill() -> Any:
    """The papermill module, imported with :func:`without_iri_format_checker`."""
    with without_iri_format_checker():
        import nbformat  # noqa: F401
        import papermill

    return papermill


@functools.cache
def exporter() -> Any:
    """The one HTMLExporter of this process (building it parses the templates: ~0.2 s).

    Its preprocessors keep state: callers converting from several threads hold
    :data:`CONVERT_LOCK`.
    """
    from jinja2 import FileSystemLoader

    with without_iri_format_checker():
        from nbconvert import HTMLExporter
    from traitlets.config import Config

    c = Config()
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_cell_tags = set(REMOVED_CELL_TAGS)
    c.HTMLExporter.exclude_input = True
    c.HTMLExporter.exclude_input_prompt = True
    c.HTMLExporter.exclude_output_prompt = True
    c.HTMLExporter.embed_images = True
    return HTMLExporter(
        config=c,
        extra_loaders=[FileSystemLoader(str(TEMPLATES_DIR))],
        template_file=NOTEBOOK_TEMPLATE,
    )


def notebook_to_html(nb: Any, title: str) -> str:
    """Convert an executed notebook to a self-contained HTML page with no code.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The executed notebook (not modified).
    title : str
        The page title.

    Returns
    -------
    str
        The HTML: markdown and outputs only; cells tagged ``parameters``,
        ``injected-parameters`` or ``remove-cell`` dropped; CSS inlined; no script or
        stylesheet fetched from the network; links restricted to http, https and relative
        URLs, no script, no event handler and no control character
        (:func:`qzfp.reporting.safehtml.sanitize_html`), whatever Markdown or HTML the scenario's
        texts carried.
    """
    import copy

    nb = copy.deepcopy(nb)
    nb.metadata["title"] = title
    body, _ = exporter().from_notebook_node(nb)
    body = body.replace("/*qzfp-font-css*/", FONT_CSS, 1)
    # Safety net: a template change must never make the page depend on a CDN.
    return sanitize_html(_EXTERNAL_TAG_RE.sub("", body))


def notebook_title(nb: Any, fallback: str) -> str:
    """The page title: the first level-1 heading the notebook *displays* (it is in the
    scenario's language), else the first one of its markdown cells, else ``fallback``."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get("text/markdown", "")
            text = "".join(text) if isinstance(text, list) else str(text)
            if text.startswith("# "):
                return text[2:].splitlines()[0].strip()
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


