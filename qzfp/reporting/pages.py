"""The generated HTML pages of a report: each scenario's index, the top index, the
contents page of ``report.pdf`` and the notebook pages' navigation.

Also the layout of a report folder (``run.json``, ``assets/`` with the shipped CJK font,
the kernels' scratch folder).
"""

from __future__ import annotations

import html
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from qzfp.reporting import pagestyle
from qzfp.reporting.convert import FONT_CSS
from qzfp.reporting.publish import copy_file, write_text
from qzfp.reporting.safehtml import sanitize_html

__all__ = [
    "ASSETS_DIR",
    "RUN_JSON",
    "WORK_DIR",
    "contents_html",
    "copy_font",
    "decorate_pages",
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
    "pdf": "index.pdf",
}


_CSS = FONT_CSS + """
body{max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:1.8rem;
border-bottom:1px solid #ddd}table{border-collapse:collapse;margin:.5rem 0}
th,td{padding:.3rem .7rem;border-bottom:1px solid #e4e4e4;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}th{background:#f4f4f4}
.muted{color:#666;font-size:.9rem}code{font-size:.85rem}
"""


def _words(lang: Any) -> dict[str, str]:
    from qzfp.i18n import LANGS, t

    lang = str(lang) if str(lang) in LANGS else "en"
    return {word: t(key, lang) for word, key in _WORD_KEYS.items()}


def _page(title: str, body: str, lang: str, *, footer: str | None = None, nav: str = "") -> str:
    """A generated index page (texts escaped by the callers) with the pages' font, print style
    and navigation, through :func:`sanitize_html`."""
    page = (
        f'<!DOCTYPE html>\n<html lang="{html.escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"{body}\n</body>\n</html>\n"
    )
    return sanitize_html(pagestyle.decorate_page(page, lang=lang, footer=footer or title, nav=nav))


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


def write_pdf(run: Mapping[str, Any], folder: Path) -> None:
    """Write ``report.pdf`` (contents page, then every page) when Chromium is installed.

    A missing or failing Chromium prints one line and leaves the rest of the report as is;
    ``QZFP_PDF=0`` in the environment skips the PDF.
    """
    from qzfp.reporting import pdf as printpdf

    if os.environ.get("QZFP_PDF", "1").strip() == "0":
        return
    lang = str(run.get("lang", "en"))
    contents = contents_html(run)
    message = printpdf.write_report_pdf(
        folder, [str(p["file"]) for p in run["pages"]], contents=contents, lang=lang,
        title=str(run.get("title", "")), footer=_footer(run),
    )
    if message:
        print(message, file=sys.stderr)


def contents_html(run: Mapping[str, Any]) -> str:
    """The contents page of ``report.pdf``: title, scenario, key figures, pages."""
    w = _words(run.get("lang"))
    e = html.escape
    parts = [f"<h1>{e(str(run['title']))}</h1>"]
    if run.get("description"):
        parts.append(f"<p>{e(str(run['description']))}</p>")
    parts.append(f'<p>{e(w["scenario"])}: <code>{e(str(run["scenario_name"]))}</code> · '
                 f'{e(w["generated"])}: {e(pagestyle.local_time(run.get("finished")))}</p>')
    if run["key_figures"]:
        rows = "".join(
            f'<tr><th scope="row">{e(k)}</th><td class="num">{e(v)}</td></tr>'
            for k, v in run["key_figures"]
        )
        parts.append(f"<h2>{e(w['key_figures'])}</h2><table>{rows}</table>")
    parts.append(f"<h2>{e(w['contents'])}</h2><ol>")
    parts += [f'<li><a href="#page-{e(str(p["file"]))}">{e(str(p["title"]))}</a></li>' for p in run["pages"]]
    parts.append("</ol>")
    return "".join(parts)


def _human_size(n: int) -> str:
    for unit in ("B", "kB", "MB"):
        if n < 1024 or unit == "MB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def scenario_index(run: Mapping[str, Any], folder: Path) -> str:
    w = _words(run.get("lang"))
    e = html.escape
    parts = [f"<h1>{e(str(run['title']))}</h1>"]
    if run.get("description"):
        parts.append(f"<p>{e(str(run['description']))}</p>")
    parts.append(f'<p class="muted">{e(w["scenario"])}: <code>{e(run["scenario_name"])}</code></p>')
    parts.append(f"<h2>{e(w['key_figures'])}</h2>")
    if run["key_figures"]:
        rows = "".join(
            f'<tr><th scope="row">{e(k)}</th><td class="num">{e(v)}</td></tr>'
            for k, v in run["key_figures"]
        )
        parts.append(f'<table class="key-figures">{rows}</table>')
    else:
        parts.append(f"<p>{e(w['none'])}</p>")
    parts.append(f"<h2>{e(w['pages'])}</h2><ul>")
    parts += [f'<li><a href="{e(p["file"])}">{e(p["title"])}</a></li>' for p in run["pages"]]
    if (folder / "report.pdf").is_file():
        parts.append(f'<li><a href="report.pdf">{e(w["pdf"])}</a></li>')
    parts.append("</ul>")
    pages = {p["file"] for p in run["pages"]} | {"report.pdf"}
    data = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.name not in pages and p.name != "index.html" and WORK_DIR not in p.parts
        and ASSETS_DIR not in p.relative_to(folder).parts
    )
    parts.append(f"<h2>{e(w['files'])}</h2><ul>")
    for p in data:
        rel = p.relative_to(folder).as_posix()
        parts.append(
            f'<li><a href="{e(rel)}">{e(rel)}</a> <span class="muted">'
            f"({_human_size(p.stat().st_size)})</span></li>"
        )
    parts.append("</ul>")
    parts.append(f"<h2>{e(w['run'])}</h2><table>")
    for label, value in (
        (w["generated"], pagestyle.local_time(run["finished"])),
        (w["version"], run["versions"].get("qzfp")),
        (w["scenario_sha256"], run["scenario_sha256"]),
        (w["register_sha256"], run["register_sha256"]),
        (w["duration"], f"{run['duration_s']:.1f} s"),
    ):
        shown = w["none"] if value is None else str(value)
        parts.append(f"<tr><th>{e(label)}</th><td><code>{e(shown)}</code></td></tr>")
    parts.append("</table>")
    return _page(str(run["title"]), "\n".join(parts), str(run.get("lang", "en")),
                 footer=_footer(run), nav=_scenario_nav(run, "index.html"))


def write_top_index(out_dir: Path, *, lang: str = "en", title: str | None = None) -> Path:
    """Write ``out_dir/index.html`` listing every scenario report found in ``out_dir``.

    Every sub-folder holding a ``run.json`` is listed (not only those of the last run),
    with its title, its key figures as columns (labels in first-seen order) and links.

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
    e = html.escape
    labels: list[str] = []
    for run in runs:
        for k, _ in run.get("key_figures", []):
            if k not in labels:
                labels.append(k)
    head = "".join(f"<th>{e(k)}</th>" for k in labels)
    rows = []
    for run in runs:
        name = run.get("scenario_name", "")
        figs = dict((k, v) for k, v in run.get("key_figures", []))
        cells = "".join(f'<td class="num">{e(str(figs.get(k, "")))}</td>' for k in labels)
        rows.append(
            f'<tr><td><a href="{e(name)}/index.html">{e(str(run.get("title", name)))}</a>'
            f'<br><code class="muted">{e(name)}</code></td>{cells}'
            f'<td class="muted">{e(pagestyle.local_time(run.get("finished", "")))}</td></tr>'
        )
    body = (
        f"<h1>{e(title or w['scenarios'])}</h1>\n"
        f'<table class="scenarios"><tr><th>{e(w["scenario"])}</th>{head}<th>{e(w["generated"])}</th></tr>'
        + "".join(rows)
        + "</table>"
    )
    target = out_dir / "index.html"
    copy_font(out_dir)
    write_text(target, _page(title or w["scenarios"], body, lang))
    return target


