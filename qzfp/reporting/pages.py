"""The generated HTML pages of a report: each scenario's index, the top index, the
contents page of ``report.pdf`` and the notebook pages' navigation.

Also the layout of a report folder (``run.json``, ``assets/`` with the shipped CJK font,
the kernels' scratch folder).
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from qzfp.reporting import pagestyle
from qzfp.reporting.convert import FONT_CSS, TEMPLATES_DIR
from qzfp.reporting.publish import copy_file, write_text
from qzfp.reporting.safehtml import sanitize_html

__all__ = [
    "ASSETS_DIR",
    "RUN_JSON",
    "WORK_DIR",
    "contents_html",
    "copy_font",
    "decorate_pages",
    "folder_page",
    "page",
    "pdf_enabled",
    "pdf_printer",
    "render",
    "scenario_index",
    "write_pdf",
    "write_top_index",
]

#: The run record of a scenario's report folder.
RUN_JSON = "run.json"
#: Scratch folder of a run inside its temporary report folder (never published).
WORK_DIR = ".work"

#: Folder (inside each report) holding the shipped CJK font, so Chinese text shows on a
#: machine without a Chinese font, offline (SIL Open Font License, see qzfp/fonts/).
ASSETS_DIR = pagestyle.ASSETS_DIR
_FONT_FILE = pagestyle.FONT_FILE


def copy_font(folder: Path) -> None:
    """Put the shipped CJK font into ``folder/assets/`` (the pages' @font-face points there)."""
    from qzfp.i18n import shipped_font_path

    src = Path(shipped_font_path())
    if src.is_file():
        (folder / ASSETS_DIR).mkdir(exist_ok=True)
        # copied beside and renamed: a concurrent run never sees (or serves) half a font
        copy_file(src, folder / ASSETS_DIR / _FONT_FILE)



# Words of the generated index pages (labels live in qzfp.i18n, keys ``index.*``).
_WORD_KEYS = {
    "key_figures": "index.key_figures",
    "pages": "index.pages",
    "files": "index.files",
    "run": "index.run",
    "scenarios": "index.scenarios",
    "scenario": "index.scenario",
    "generated": "index.generated_at",
    "version": "index.version",
    "scenario_sha256": "index.scenario_sha256",
    "register_sha256": "index.register_sha256",
    "duration": "index.duration",
    "report": "index.report",
    "none": "index.none",
    "back": "index.back",
    "scenario_home": "index.scenario_home",
    "contents": "index.contents",
    "colon": "index.colon",
    "pdf": "index.pdf",
}


#: What the generated pages share: a wide table scrolls inside its box (``.qzfp-wide``), never
#: the page, with its first column (``.frozen``: the scenario, the indicator) kept in view;
#: numbers never wrap, headers do.
_WIDE_TABLE_CSS = """
.qzfp-wide{overflow-x:auto;max-width:100%}
.qzfp-wide th.frozen,.qzfp-wide td.frozen{position:sticky;left:0;z-index:1;background:#fff;
box-shadow:inset -1px 0 0 #ccc;min-width:10em;max-width:16em}
.qzfp-wide th.frozen{background:#f4f4f4}
td.num{white-space:nowrap}th{min-width:6em}
table.scenarios th.scenario{max-width:16em;font-weight:normal;text-align:left}
"""

_CSS = FONT_CSS + """
body{max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:1.8rem;
border-bottom:1px solid #ddd}table{border-collapse:collapse;margin:.5rem 0}
th,td{padding:.3rem .7rem;border-bottom:1px solid #e4e4e4;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}th{background:#f4f4f4}
.muted{color:#666;font-size:.9rem}code{font-size:.85rem}
""" + _WIDE_TABLE_CSS


def _words(lang: Any) -> dict[str, str]:
    from qzfp.i18n import LANGS, t

    lang = str(lang) if str(lang) in LANGS else "en"
    return {word: t(key, lang) for word, key in _WORD_KEYS.items()}


@functools.cache
def _templates() -> Any:
    """The jinja2 environment of the generated pages (``templates/``, HTML autoescaped)."""
    from jinja2 import Environment, FileSystemLoader

    # An optional key (``run.description``) missing from the context is false and empty,
    # as ``run.get(...)`` was.
    return Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=True,
                       keep_trailing_newline=True)


def render(template: str, **context: Any) -> str:
    """``templates/<template>`` rendered with ``context`` (every value escaped unless marked)."""
    return _templates().get_template(template).render(**context)


def page(template: str, title: str, lang: str, *, css: str = "", footer: str | None = None,
         nav: str = "", **context: Any) -> str:
    """A generated page (``templates/<template>``, extending ``page.html.j2``) with the pages'
    font, print style and navigation, through :func:`sanitize_html`."""
    text = render(template, title=title, lang=lang, css=css or _CSS, **context)
    return sanitize_html(pagestyle.decorate_page(text, lang=lang, footer=footer or title, nav=nav))


def _scenario_nav(run: Mapping[str, Any], current: str) -> str:
    """Links of a scenario's pages: all scenarios, the scenario's index, each page."""
    w = _words(run.get("lang"))
    links = [("../index.html", w["back"]), ("index.html", w["scenario_home"])]
    links += [(str(p["file"]), str(p["title"])) for p in run["pages"]]
    return pagestyle.nav_html(links, current)


def _footer(run: Mapping[str, Any]) -> str:
    return f"{run.get('title', '')} · {run.get('scenario_name', '')}"


def decorate_pages(run: Mapping[str, Any], folder: Path) -> None:
    """Give each notebook page of a scenario its language, print style and navigation."""
    lang = str(run.get("lang", "en"))
    for p in run["pages"]:
        path = folder / str(p["file"])
        page = path.read_text(encoding="utf-8")
        page = pagestyle.decorate_page(page, lang=lang, footer=_footer(run),
                                       nav=_scenario_nav(run, str(p["file"])))
        path.write_text(page, encoding="utf-8")


def pdf_enabled() -> bool:
    """``report.pdf`` is wanted: ``QZFP_PDF=0`` in the environment turns it off."""
    return os.environ.get("QZFP_PDF", "1").strip() != "0"


def pdf_printer() -> Any:
    """A started :class:`qzfp.reporting.pdf.PdfPrinter` for the PDFs of a run, or None when
    no PDF is wanted (``QZFP_PDF=0``) or no Chromium is installed (:func:`write_pdf` then
    says so)."""
    from qzfp.reporting import pdf as printpdf

    if not pdf_enabled():
        return None
    program = printpdf.chromium_path()
    return None if program is None else printpdf.PdfPrinter(program).start()


def write_pdf(run: Mapping[str, Any], folder: Path, printer: Any = None, previous: Path | None = None) -> None:
    """Write ``report.pdf`` (contents page, then every page) when Chromium is installed.

    A missing or failing Chromium prints one line and leaves the rest of the report as is;
    ``QZFP_PDF=0`` in the environment skips the PDF.  ``printer``: the run's
    :class:`qzfp.reporting.pdf.PdfPrinter` (:func:`pdf_printer`), else a Chromium is started
    for this PDF alone.  ``previous``: the folder of the scenario's earlier report, whose
    ``report.pdf``'s page numbers are tried first (checked by the print; see
    :func:`qzfp.reporting.pdf.print_numbered`).
    """
    from qzfp.reporting import pdf as printpdf

    if not pdf_enabled():
        return
    lang = str(run.get("lang", "en"))
    names = [str(p["file"]) for p in run["pages"]]
    contents = contents_html(run, printpdf.page_sections(folder, names))
    message = printpdf.write_report_pdf(
        folder, [str(p["file"]) for p in run["pages"]], contents=contents, lang=lang,
        title=str(run.get("title", "")), footer=_footer(run), printer=printer, previous=previous,
    )
    if message:
        print(message, file=sys.stderr)


def contents_html(run: Mapping[str, Any], sections: Mapping[str, Sequence[tuple[str, str]]] | None = None) -> str:
    """The contents page of ``report.pdf``: title, scenario, key figures, pages and, below
    each page, its ``sections`` (``(anchor, title)`` by page file,
    :func:`qzfp.reporting.pdf.page_sections`)."""
    from qzfp.reporting.pdf import ANCHOR_PREFIX

    return render("contents.html.j2", run=run, w=_words(run.get("lang")), sections=dict(sections or {}),
                  prefix=ANCHOR_PREFIX, finished=pagestyle.local_time(run.get("finished"))).rstrip("\n")


def _human_size(n: int) -> str:
    for unit in ("B", "kB", "MB"):
        if n < 1024 or unit == "MB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def scenario_index(run: Mapping[str, Any], folder: Path) -> str:
    """The ``index.html`` of a scenario's report folder: key figures, pages, data files
    (with their sizes) and the run's facts."""
    w = _words(run.get("lang"))
    pages = {p["file"] for p in run["pages"]} | {"report.pdf"}
    data = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.name not in pages and p.name != "index.html" and WORK_DIR not in p.parts
        and ASSETS_DIR not in p.relative_to(folder).parts
    )
    files = [(p.relative_to(folder).as_posix(), _human_size(p.stat().st_size)) for p in data]
    facts = [
        (label, w["none"] if value is None else str(value))
        for label, value in (
            (w["generated"], pagestyle.local_time(run["finished"])),
            (w["version"], run["versions"].get("qzfp")),
            (w["scenario_sha256"], run["scenario_sha256"]),
            (w["register_sha256"], run["register_sha256"]),
            (w["duration"], f"{run['duration_s']:.1f} s"),
        )
    ]
    return page("scenario_index.html.j2", str(run["title"]), str(run.get("lang", "en")),
                footer=_footer(run), nav=_scenario_nav(run, "index.html"), run=run, w=w,
                has_pdf=(folder / "report.pdf").is_file(), files=files, facts=facts)


def write_top_index(out_dir: Path, *, lang: str = "en", title: str | None = None) -> Path:
    """Write ``out_dir/index.html`` listing every scenario report found in ``out_dir``.

    Every sub-folder holding a ``run.json`` is listed (not only those of the last run):
    a column per scenario (its title, linked, and name) and a row per key figure (labels in
    first-seen order), so that the page keeps to the width of a screen however many key
    figures there are (more scenarios than fit scroll inside the table, the labels in view).

    Returns
    -------
    Path
        The index file (replaced atomically).
    """
    out_dir = Path(out_dir)
    runs = []
    for sub in sorted(out_dir.iterdir()):
        rj = sub / RUN_JSON
        if sub.name.startswith(".") or not rj.is_file():
            continue
        try:
            runs.append(json.loads(rj.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue  # a report from an incompatible version: not listed
    w = _words(lang)
    labels: list[str] = []
    for run in runs:
        for k, _ in run.get("key_figures", []):
            if k not in labels:
                labels.append(k)
    rows = []
    for run in runs:
        name = run.get("scenario_name", "")
        figs = dict((k, v) for k, v in run.get("key_figures", []))
        rows.append({"name": name, "title": str(run.get("title", name)),
                     "figures": [str(figs.get(k, "")) for k in labels],
                     "finished": pagestyle.local_time(run.get("finished", ""))})
    target = out_dir / "index.html"
    copy_font(out_dir)
    write_text(target, page("top_index.html.j2", title or w["scenarios"], lang, w=w, labels=labels, rows=rows))
    return target


#: Style of a compare or sweep folder's page (wider: its headline table has a column per
#: compared scenario or grid point).
FOLDER_CSS = """
body{max-width:72rem;margin:2rem auto;padding:0 1rem;color:#222;line-height:1.45}
h1{font-size:1.5rem}table{border-collapse:collapse;margin:.5rem 0 1.2rem 0}
th,td{padding:.25rem .6rem;border-bottom:1px solid #e4e4e4;vertical-align:top}
th{background:#f4f4f4;text-align:center;max-width:14em}td.num{text-align:right;font-variant-numeric:tabular-nums}
td.label{text-align:left;min-width:12em}.muted{color:#666;font-size:.9rem}
ul.scenarios{list-style:none;padding-left:0}
""" + _WIDE_TABLE_CSS


def folder_page(name: str, title: str, lang: str, *, headline: Any, figures: Sequence[tuple[str, str]],
                files: Sequence[str], has_top_index: bool, scenarios: Sequence[tuple[str, str]] = ()) -> str:
    """The ``index.html`` of a compare or sweep folder.

    Parameters
    ----------
    headline : pandas.DataFrame or None
        The headline table (first column a label, the others numbers as text).
    figures : sequence of (str, str)
        Chart file and its alternative text.
    files : sequence of str
        The folder's data files.
    has_top_index : bool
        The parent folder has an ``index.html`` to link back to.
    """
    from qzfp.i18n import t

    links = []
    if has_top_index:
        links.append(("../index.html", t("index.back", lang)))
    links.append(("index.html", title))
    table = None
    if headline is not None and len(headline):
        table = {"columns": [str(c) for c in headline.columns],
                 "rows": [[str(v) for v in row] for row in headline.itertuples(index=False)]}
    return page("folder_index.html.j2", title, lang, css=FOLDER_CSS,
                footer=f"{title} · {name}", nav=pagestyle.nav_html(links, "index.html"),
                scenarios=list(scenarios), headline=table, figures=list(figures), files=list(files),
                files_label=t("index.files", lang), colon=t("index.colon", lang),
                generated_label=t("index.generated_at", lang),
                generated=pagestyle.local_time())
