"""The budget proposal: the request (请示) that goes to the finance bureau, for one budget year.

``qzfp proposal SCENARIO.yaml --year Y`` writes ``proposal.docx`` (python-docx) and
``proposal.pdf`` (LibreOffice headless converts the ``.docx``) in the form of GB/T 9704-2012
(党政机关公文格式), in Chinese or in its English translation, same form:

- the letterhead: the issuer's red mark (发文机关标志), the document number (发文字号,
  ``衢计生协〔2013〕12号``) and the signer (签发人), the red rule; from ``--issuer``,
  ``--number``, ``--signer`` (the number and signer are ×× placeholders until given);
- the title, the addressee (主送机关, ``--addressee``, default 市财政局) and an opening;
- 一、the request: the year's total, its change against the previous year and against the
  baseline scenario, per registered inhabitant, and who pays it;
- 二、the basis: （一）the documents cited by the rules in force on 1 January of the year,
  （二）the method (1. population, 2. posts, with （1）villages （2）townships （3）counties, 3.
  funds), （三）the assumptions;
- 三、the line items: quantity × unit cost = amount, each with its documents and its item in
  the annexes;
- 四、by county and by funder (city / county / township, ``qzfp/rules/policy/funding.yaml``);
- 五、the main uncertainties: the assumptions whose ±X % move changes the year's budget most
  (:func:`qzfp.compare.sensitivity`, each at its value in force in the year) and the Monte
  Carlo band of the population and of the budget it carries;
- the closing 妥否，请批示, the list of annexes, the issuer and the date (``--date``);
- 附件1 every documented rule in force with its value and reference, 附件2 every assumption in
  force with its reason (each on new pages).

Every figure is taken from :class:`qzfp.model.run.Results` (the tests read the ``.docx``
back and compare).  References and descriptions are shown through
:func:`qzfp.i18n.localise_parameters` (the Chinese text when the rulebook has one, no
developer files).  Page, fonts and layout: :mod:`.document`.  The PDF embeds the CJK font
shipped in ``qzfp/fonts`` (LibreOffice is given a private fontconfig file that maps the
document's font names to it).

The package by job: :mod:`.content` computes what the proposal shows (and the letterhead
from the options), :mod:`.form` is the GB/T 9704 form of a .docx (page, fonts, letterhead,
headings, tables, sign-off), :mod:`.document` writes the proposal in it, :mod:`.libreoffice`
converts it to PDF; this module is the command (:func:`write_proposal`) and names them all.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ... import typed
from ...errors import Problem, QzfpError, RunError
from .content import (
    BAND_CHUNK_PATHS,
    DEFAULT_ISSUER_CODE,
    DOCUMENT_NUMBER,
    PLACEHOLDER_NUMBER,
    PLACEHOLDER_SIGNER,
    TOP_SENSITIVITIES,
    Letterhead,
    Proposal,
    bracketed,
    budget_band,
    build_proposal,
    check_year,
    county_table,
    documents_cited,
    in_force,
    letterhead,
    line_items,
    proposal_for,
)
from .document import (
    basis_text,
    date_text,
    quantity_text,
    request_paragraph,
    wan_yuan,
    write_docx,
    yuan,
    yuan_text,
)
from .form import FONT_NAMES, OfficialDocument
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
                   out: str | Path | None = None, head: Mapping[str, Any] | None = None) -> dict[str, Any]:
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
    head : mapping, optional
        The letterhead's options, keywords of :func:`letterhead` (``issuer``, ``code``,
        ``number``, ``signer``, ``addressee``, ``date``); checked before the model runs.

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
    letter = letterhead(lg, **dict(head or {}))
    results = simulate(sc)
    folder = Path(out) if out is not None else default_out(results, year)
    office = soffice_path()
    content = proposal_for(results, year, lg, letter)
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
    written: dict[str, Any] = {"docx": folder / DOCX_NAME, "pdf": folder / PDF_NAME if office else None,
                               "placeholders": letter.placeholders}
    if office is None:
        with contextlib.suppress(FileNotFoundError):
            (folder / PDF_NAME).unlink()
        raise RunError(Problem(str(folder), "proposal.no_office", pdf=PDF_NAME, docx=str(written["docx"])))
    return written


__all__ = [
    "BAND_CHUNK_PATHS",
    "DEFAULT_ISSUER_CODE",
    "DOCUMENT_NUMBER",
    "DOCX_NAME",
    "FONT_NAMES",
    "PDF_NAME",
    "PLACEHOLDER_NUMBER",
    "PLACEHOLDER_SIGNER",
    "SOFFICE_TIMEOUT_S",
    "TOP_SENSITIVITIES",
    "Letterhead",
    "OfficialDocument",
    "Proposal",
    "basis_text",
    "bracketed",
    "budget_band",
    "build_proposal",
    "check_year",
    "county_table",
    "date_text",
    "default_out",
    "docx_to_pdf",
    "documents_cited",
    "fontconfig_file",
    "in_force",
    "letterhead",
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
