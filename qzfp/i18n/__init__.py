"""Chinese and English labels, number formatting and CJK font set-up.

Every human-facing text of qzfp (notebook headings and commentary, chart titles, axes and
legends, table headers, workbook sheet names, index pages, command-line messages) is a
*key* of the catalogue, with one data file per language: ``qzfp/i18n/en.yaml`` and
``qzfp/i18n/zh.yaml`` (flat ``key: "template"`` mappings, the same keys in both).  Templates use named
``str.format`` fields (``"{year}"``); both languages of a key have the same fields.
Chinese terms follow the source document 衢委办[2006]101号 (计生协, 专职副会长,
岗位津贴, 奖励扶助 ...).

Key families
------------
``col.<column>``
    Table column headers of the tidy tables (see :func:`label_columns`).
``post.<post_id>``, ``budget.<line_id>``, ``funder.<level>``, ``wisn.<term>``
    Association posts, budget line items, funders and WISN terms (see :func:`post_label`,
    :func:`budget_line_label`).
``param.<rulebook path>``
    Short names of the planner's levers (see :func:`param_label`).
``chart.<chart>.<part>``
    Chart titles, axes and legends used by :mod:`qzfp.reporting.charts`.
``nb.<notebook>.<part>``
    Notebook headings and commentary templates.
``sheet.<name>``, ``index.<part>``, ``cli.<message>``
    Workbook sheet names (at most 31 characters), index pages, command-line messages.
``sex.*``, ``variant.*``, ``kind.*``, ``level.*``, ``yesno.*``
    Small vocabularies.

Examples
--------
>>> t("budget.village_vp_allowance", "zh")
'村专职副会长岗位津贴'
>>> t("cli.file_not_found", "en", path="params/x.yaml")
'params/x.yaml: file not found'


Modules
-------
:mod:`~qzfp.i18n.catalogue` (the data files, :func:`t`), :mod:`~qzfp.i18n.labels` (labels of
ids, place names), :mod:`~qzfp.i18n.formats` (numbers and money), :mod:`~qzfp.i18n.fonts`
(CJK fonts for charts).  Everything public is importable from ``qzfp.i18n``.
"""

from __future__ import annotations

from typing import Any

from .catalogue import (  # noqa: F401
    BUDGET_LINES,
    CATALOGUE,
    LANGS,
    POSTS,
    UnknownLabelError,
    check_lang,
    has,
    keys,
    t,
    template_fields,
)
from .fonts import (  # noqa: F401
    CJK_FONT_CANDIDATES,
    SHIPPED_FONT_FAMILY,
    cjk_font,
    missing_glyphs,
    register_shipped_font,
    setup_fonts,
    shipped_font_path,
)
from .formats import (  # noqa: F401
    format_number,
    format_pct,
    format_persons,
    format_yuan,
)


def __getattr__(name: str) -> Any:
    """A name of :mod:`~qzfp.i18n.labels` (or the module itself), imported on first use and
    kept here, as an import at the top would have: later uses do not come back here."""
    if name in _LABELS or name == "labels":
        import importlib

        labels = importlib.import_module(f"{__name__}.labels")  # not `from . import`: it asks for the attribute
        for label in _LABELS:
            globals()[label] = getattr(labels, label)
        return labels if name == "labels" else globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _LABELS)

__all__ = ['LANGS', 'CATALOGUE', 'BUDGET_LINES', 'POSTS', 'UnknownLabelError', 'check_lang', 'template_fields', 'has', 'keys', 't', 'humanise', 'is_count_column', 'budget_line_label', 'post_label', 'param_label', 'unit_label', 'reference_label', 'public_text', 'localise_parameters', 'value_text', 'census_source_label', 'localise_budget', 'reference_texts', 'reference_text', 'column_label', 'label_columns', 'listing', 'place_name', 'place_names', 'format_number', 'format_yuan', 'format_persons', 'format_pct', 'CJK_FONT_CANDIDATES', 'SHIPPED_FONT_FAMILY', 'shipped_font_path', 'cjk_font', 'register_shipped_font', 'setup_fonts', 'missing_glyphs']

#: The names of :mod:`~qzfp.i18n.labels` (those of ``__all__`` not imported above), imported on
#: first use: it needs pandas, which the command line's parser (every ``qzfp`` command, before
#: it knows what it will do) does not.
_LABELS = frozenset(name for name in __all__ if name not in globals())
