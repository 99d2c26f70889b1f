"""The budget proposal: the document that goes to the finance bureau, for one budget year.

``qzfp proposal SCENARIO.yaml --year Y`` writes ``proposal.docx`` (python-docx) and
``proposal.pdf`` (LibreOffice headless converts the ``.docx``).  Its sections:

1. the request in one paragraph: the year's total, its change against the previous year and
   against the baseline scenario, per registered inhabitant, and who pays it;
2. the basis: the documents cited by the rules in force on 1 January of the year, and every
   documented rule with its value;
3. the line items: quantity × unit cost = amount, with the rule and its reference;
4. by county and by funder (city / county / township, ``qzfp/rules/policy/funding.yaml``);
5. the main uncertainties: the assumptions whose ±X % move changes the year's budget most
   (:func:`qzfp.compare.sensitivity`) and the Monte Carlo band of the population and of the
   budget it carries;
6. an appendix of every assumption in force with its reason.

Every figure is taken from :class:`qzfp.model.run.Results` (the tests read the ``.docx``
back and compare).  References are shown through :func:`qzfp.i18n.localise_parameters`, so a
Chinese rulebook reference reaches the Chinese proposal when the rulebook has one.

In Chinese the document follows GB/T 9704-2012 (党政机关公文格式): A4, margins 37 mm top,
35 mm bottom, 28 mm left, 26 mm right; body 仿宋 三号 (16 pt), headings 黑体 三号, the title
黑体 二号 (22 pt), 22 lines a page; page numbers "— n —" in the footer; amounts in 元 in the
tables and in 万元 in the text.  The fonts are named as Windows and WPS name them (仿宋,
黑体, ``w:eastAsia``); the PDF embeds the CJK font shipped in ``qzfp/fonts`` (LibreOffice
is given a private fontconfig file that maps those names to it).  In English: a plain A4
report.

The package by job: :mod:`.content` computes what the proposal shows, :mod:`.document`
writes the ``.docx``, :mod:`.libreoffice` converts it to PDF; this module is the command
(:func:`write_proposal`) and names them all.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import Any

from ... import typed
from ...errors import Problem, QzfpError, RunError
from .content import (
    BAND_CHUNK_PATHS,
    DOCUMENT_NUMBER,
    TOP_SENSITIVITIES,
    Proposal,
    budget_band,
    build_proposal,
    check_year,
    county_table,
    documents_cited,
    in_force,
    line_items,
    proposal_for,
)
from .document import (
    FONT_NAMES,
    quantity_text,
    request_paragraph,
    wan_yuan,
    write_docx,
    yuan,
    yuan_text,
)
from .libreoffice import (
    SOFFICE_TIMEOUT_S,
    docx_to_pdf,
    fontconfig_file,
    soffice_path,
    writer_missing,
)

#: File names written into the output folder.
DOCX_NAME = "proposal.docx"
PDF_NAME = "proposal.pdf"


def default_out(results: Any, year: int) -> Path:
    """``<output_dir>/proposal-<scenario>-<year>``."""
    return Path(str(results.scenario.params.get("output_dir") or "reports")) / f"proposal-{results.name}-{year}"


def write_proposal(scenario: Any, year: int, *, lang: str | None = None,
                   out: str | Path | None = None) -> dict[str, Path | None]:
    """``qzfp proposal``: simulate the scenario, write ``proposal.docx`` and ``proposal.pdf``.

    Both files are made in a hidden temporary folder inside ``out`` and moved into place
    only when made, so a failed run leaves an earlier proposal as it was.  Without
    LibreOffice the ``.docx`` is published, an older ``proposal.pdf`` of ``out`` (which would
    no longer match it) is removed and a :class:`RunError` says how to install LibreOffice.

    Parameters
    ----------
    scenario : Scenario or str or Path
    year : int or str
        Budget year (a modelled year; ``2015年`` and full-width digits accepted).
    lang : str, optional
        ``en`` or ``zh`` (default: the scenario's ``lang``).
    out : str or Path, optional
        Output folder (default :func:`default_out`).

    Returns
    -------
    dict
        ``docx`` and ``pdf`` paths.
    """
    from ...model.run import simulate
    from ..publish import locked_tempdir, remove_stale_temporaries, unlock_dir
    from ..run import load_scenarios

    sc = load_scenarios([scenario], lang=lang)[0]
    lg = lang or sc.lang
    year = check_year(sc, typed.year(year, "--year"))  # 2015, ２０１５ or 2015年; before the model runs
    results = simulate(sc)
    folder = Path(out) if out is not None else default_out(results, year)
    office = soffice_path()
    content = proposal_for(results, year, lg)
    folder.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(folder)
    tmp, lock = locked_tempdir(".proposal.tmp-", folder)
    try:
        docx = write_docx(content, tmp / DOCX_NAME)
        pdf = docx_to_pdf(docx, tmp / PDF_NAME, office) if office else None
        os.replace(docx, folder / DOCX_NAME)
        if pdf is not None:
            os.replace(pdf, folder / PDF_NAME)
    except QzfpError:
        raise
    except Exception as exc:
        raise RunError(Problem(str(folder), "proposal.write_failed", reason=f"{type(exc).__name__}: {exc}")) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        unlock_dir(lock)
    written = {"docx": folder / DOCX_NAME, "pdf": folder / PDF_NAME if office else None}
    if office is None:
        with contextlib.suppress(FileNotFoundError):
            (folder / PDF_NAME).unlink()
        raise RunError(Problem(str(folder), "proposal.no_office", pdf=PDF_NAME, docx=str(written["docx"])))
    return written


__all__ = [
    "BAND_CHUNK_PATHS",
    "DOCUMENT_NUMBER",
    "DOCX_NAME",
    "FONT_NAMES",
    "PDF_NAME",
    "SOFFICE_TIMEOUT_S",
    "TOP_SENSITIVITIES",
    "Proposal",
    "budget_band",
    "build_proposal",
    "check_year",
    "county_table",
    "default_out",
    "docx_to_pdf",
    "documents_cited",
    "fontconfig_file",
    "in_force",
    "line_items",
    "proposal_for",
    "quantity_text",
    "request_paragraph",
    "soffice_path",
    "wan_yuan",
    "write_docx",
    "write_proposal",
    "writer_missing",
    "yuan",
    "yuan_text",
]
