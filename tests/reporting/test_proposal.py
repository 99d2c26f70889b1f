"""``qzfp proposal``: the budget proposal of one year as .docx and .pdf.

The documents are read back as a person's program opens them: the .docx with python-docx,
the PDF made by the real LibreOffice (``soffice --headless``) and read with ``pdftotext`` and
``pdffonts``.  Every figure is compared with the model's own tables (``Results``), derived
here from ``Results.budget`` by sums and products, never from the proposal module.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from chinese import english_words

from qzfp.cli import main
from qzfp.i18n import localise_parameters, t
from qzfp.model.run import simulate
from qzfp.reporting.proposal import writer_missing
from qzfp.rules.scenario import load_scenario

REPO = Path(__file__).resolve().parents[2]
BASELINE = REPO / "params" / "baseline.yaml"
YEAR = 2010
OFFICE = shutil.which("soffice") or shutil.which("libreoffice")
HAS_OFFICE = bool(OFFICE) and not writer_missing(OFFICE)
needs_office = pytest.mark.skipif(not HAS_OFFICE, reason="LibreOffice Writer not installed")
needs_poppler = pytest.mark.skipif(not (shutil.which("pdftotext") and shutil.which("pdffonts")),
                                   reason="poppler-utils (pdftotext, pdffonts) not installed")


def _number(text: str) -> float:
    return float(text.replace(",", "").replace("−", "-").strip())


def _write(tmp_path_factory, lang: str, scenario: Path = BASELINE, year: int = YEAR, *, pdf: bool = True):
    out = tmp_path_factory.mktemp(f"proposal-{lang}")
    office = HAS_OFFICE and pdf
    env = {} if office else {"QZFP_SOFFICE": "/nonexistent/soffice"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        code = main(["proposal", str(scenario), "--year", str(year), "--lang", lang, "--out", str(out)])
    finally:
        for k, v in old.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    assert code == (0 if office else 2)
    return out


@pytest.fixture(scope="module")
def results():
    return simulate(load_scenario(BASELINE))


@pytest.fixture(scope="module")
def english(tmp_path_factory):
    return _write(tmp_path_factory, "en")


@pytest.fixture(scope="module")
def chinese(tmp_path_factory):
    return _write(tmp_path_factory, "zh")


def _docx(folder: Path):
    from docx import Document

    return Document(str(folder / "proposal.docx"))


def _table(doc, first_header: str, second_header: str):
    """The rows (cell texts) of the table whose first two headers are given."""
    for table in doc.tables:
        head = [c.text for c in table.rows[0].cells]
        if head[:2] == [first_header, second_header]:
            return [[c.text for c in row.cells] for row in table.rows[1:]]
    raise AssertionError(f"no table headed {first_header}, {second_header}")


def _text(doc) -> str:
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts += [c.text for c in row.cells]
    return "\n".join(parts)


def _city_lines(results, year):
    b = results.budget[results.budget["year"] == year]
    return b.groupby("line", sort=False).agg(quantity=("quantity", "sum"), unit_cost=("unit_cost_yuan", "first"),
                                             amount=("amount_yuan", "sum"), reference=("reference", "first"))


# --------------------------------------------------------------------------- the figures are the model's


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_line_item_shows_quantity_times_unit_cost_equal_to_the_models_amount_and_its_reference(
        request, results, lang):
    folder = request.getfixturevalue("english" if lang == "en" else "chinese")
    rows = _table(_docx(folder), t("prop.col.no", lang), t("prop.col.item", lang))
    lines = _city_lines(results, YEAR)
    paid = lines[lines["amount"] != 0]
    items, total = rows[:-1], rows[-1]
    assert len(items) == len(paid)
    used = localise_parameters(results.scenario.used_parameters(), lang)
    jan1 = dt.date(YEAR, 1, 1).isoformat()
    for row, (line, exp) in zip(items, paid.iterrows(), strict=True):
        quantity, unit_cost, amount = _number(row[2]), _number(row[4]), _number(row[5])
        assert quantity == pytest.approx(exp["quantity"], abs=0.005), line
        assert unit_cost == pytest.approx(exp["unit_cost"], abs=0.005), line
        assert amount == pytest.approx(exp["amount"], abs=0.005), line
        assert amount == pytest.approx(quantity * unit_cost, rel=1e-4), line  # the formula the reader checks
        rule = results.budget.loc[results.budget["line"] == line, "rule_path"].iloc[0]
        in_force = used[(used["path"] == rule) & (used["since"] <= jan1)].iloc[-1]["reference"]
        if lang == "en":
            assert in_force == exp["reference"]  # the rulebook's reference is the budget row's
        assert row[6].endswith(in_force), line
    assert _number(total[5]) == pytest.approx(lines["amount"].sum(), abs=0.005)


def test_the_request_paragraph_states_the_total_the_change_and_the_amount_per_registered_inhabitant(
        english, results):
    doc = _docx(english)
    s = results.summary().set_index("year")
    total, previous = s.loc[YEAR, "budget_yuan"], s.loc[YEAR - 1, "budget_yuan"]
    totals = results.budget_totals
    pop = totals[(totals["county_code"] == "all") & (totals["year"] == YEAR)]["population"].iloc[0]
    request = next(p.text for p in doc.paragraphs if p.text.startswith(f"For {YEAR} the association requests"))
    assert f"{total:,.2f} yuan" in request
    assert f"{total / 1e6:,.2f} million yuan" in request
    word = "more" if total > previous else "less"
    assert f"{abs(total - previous) / 1e6:,.2f} million yuan ({abs(total - previous) / previous * 100:.1f}%) {word} " \
           f"than in {YEAR - 1}" in request
    assert "This scenario is the baseline." in request
    assert f"{pop:,.0f} persons" in request and f"{total / pop:,.2f} yuan per registered inhabitant" in request
    b = results.budget[results.budget["year"] == YEAR]
    for funder in ("city", "county", "township"):
        assert f"{b[f'{funder}_yuan'].sum() / 1e6:,.2f} million yuan" in request


def test_the_chinese_request_writes_the_total_in_wan_yuan_and_yuan(chinese, results):
    total = results.summary().set_index("year").loc[YEAR, "budget_yuan"]
    request = next(p.text for p in _docx(chinese).paragraphs if p.text.startswith(f"{YEAR}年度申请工作经费"))
    assert f"{total / 1e4:,.2f}万元（{total:,.2f}元）" in request


def test_a_variant_scenario_states_its_difference_to_the_baseline(tmp_path_factory, results):
    folder = _write(tmp_path_factory, "en", REPO / "params" / "allowance_100.yaml", pdf=False)
    other = simulate(load_scenario(REPO / "params" / "allowance_100.yaml")).summary().set_index("year")
    base = results.summary().set_index("year")
    diff = other.loc[YEAR, "budget_yuan"] - base.loc[YEAR, "budget_yuan"]
    assert diff > 0  # the allowance is raised from 2008
    request = next(p.text for p in _docx(folder).paragraphs if "requests" in p.text)
    assert (f"It is {diff / 1e6:,.2f} million yuan ({diff / base.loc[YEAR, 'budget_yuan'] * 100:.1f}%) more than "
            "the baseline scenario.") in request


def test_each_county_row_splits_its_amount_between_the_three_funders_and_the_rows_add_up(english, results):
    rows = _table(_docx(english), "County", "Registered population")
    b = results.budget[results.budget["year"] == YEAR]
    by_county = b.groupby("county_code")[["amount_yuan", "city_yuan", "county_yuan", "township_yuan"]].sum()
    names = dict(zip(results.register.counties["name_en"], results.register.counties["county_code"], strict=True))
    totals = results.budget_totals
    population = totals[totals["year"] == YEAR].set_index("county_code")["population"]
    for row in rows[:-1]:
        exp = by_county.loc[names[row[0]]]
        amount, city, county, township = (_number(x) for x in row[2:6])
        assert amount == pytest.approx(exp["amount_yuan"], abs=0.005)
        assert _number(row[1]) == round(population.loc[names[row[0]]])  # whole persons
        assert (city, county, township) == pytest.approx(
            (exp["city_yuan"], exp["county_yuan"], exp["township_yuan"]), abs=0.005)
        assert city + county + township == pytest.approx(amount, abs=0.02)
    assert len(rows) - 1 == len(by_county)
    assert _number(rows[-1][2]) == pytest.approx(b["amount_yuan"].sum(), abs=0.005)


def test_the_appendix_lists_every_assumption_in_force_with_its_reference_and_the_basis_every_document(
        english, results):
    doc = _docx(english)
    used = results.scenario.used_parameters()
    jan1 = dt.date(YEAR, 1, 1).isoformat()
    force = used[used["since"] <= jan1].groupby("path").tail(1)
    assumed = force[force["assumption"]]
    rows = _table(doc, "No.", "Rule")
    assert {r[1]: r[5] for r in rows} == dict(zip(assumed["path"], assumed["reference"], strict=True))
    basis = next(p.text for p in doc.paragraphs if p.text.startswith(f"The rules in force on 1 January {YEAR}"))
    for document in ("衢委办[2006]101号", "衢委办[2004]38号", "市委办[2001]9号"):
        assert document in basis
    documented = _table(doc, "No.", "Description")
    assert len(documented) == int((~force["assumption"]).sum())


def test_the_top_sensitivities_are_the_effects_on_the_budget_of_the_proposal_year(english, results):
    from qzfp.model.comparison import sensitivity

    rows = _table(_docx(english), "No.", "Assumption")
    sens = sensitivity(results.scenario, year=YEAR)
    year_total = results.summary().set_index("year").loc[YEAR, "budget_yuan"]
    assert sens["budget_base_yuan"].iloc[0] == pytest.approx(year_total)  # the year's budget, not the horizon's
    assert len(rows) == min(5, len(sens))
    for row, (_, s) in zip(rows, sens.head(5).iterrows(), strict=True):
        assert _number(row[3]) == pytest.approx(s["budget_effect_low_yuan"], abs=0.005)
        assert _number(row[4]) == pytest.approx(s["budget_effect_high_yuan"], abs=0.005)


def test_the_projection_band_is_drawn_from_the_scenarios_monte_carlo_paths(results):
    from qzfp.model.montecarlo import monte_carlo
    from qzfp.reporting.proposal import budget_band

    band = budget_band(results, YEAR)
    s = results.scenario.params
    yi = list(results.years).index(YEAR)
    pop = monte_carlo(results.register, results.scenario.arrays(), s["mc_paths"], s["seed"]).city_indicators()["pop"]
    assert band["n_paths"] == s["mc_paths"]
    assert band["pop_q10"] == pytest.approx(np.quantile(pop[:, yi], 0.1))
    assert band["pop_q90"] == pytest.approx(np.quantile(pop[:, yi], 0.9))
    assert band["q10"] <= band["q50"] <= band["q90"] and band["q10"] < band["q90"]


# --------------------------------------------------------------------------- the form of the documents


def test_the_chinese_document_has_the_page_and_fonts_of_gbt_9704(chinese):
    from docx.oxml.ns import qn
    from docx.shared import Pt

    doc = _docx(chinese)
    sec = doc.sections[0]
    assert (round(sec.page_width.mm), round(sec.page_height.mm)) == (210, 297)
    assert [round(x.mm) for x in (sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin)] == \
        [37, 35, 28, 26]

    def east_asia(style):
        return style.element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia"))

    assert east_asia(doc.styles["Normal"]) == "仿宋" and doc.styles["Normal"].font.size == Pt(16)
    assert east_asia(doc.styles["Heading 1"]) == "黑体" and doc.styles["Heading 1"].font.size == Pt(16)
    assert doc.paragraphs[0].text == f"关于申请{YEAR}年度衢州市计划生育协会工作经费的请示"


def test_the_english_document_is_a4(english):
    sec = _docx(english).sections[0]
    assert (round(sec.page_width.mm), round(sec.page_height.mm)) == (210, 297)


def _shipped_font_names() -> set[str]:
    from fontTools.ttLib import TTFont

    from qzfp.i18n import shipped_font_path

    return {TTFont(shipped_font_path())["name"].getDebugName(6)}  # its PostScript name


@needs_office
@needs_poppler
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_libreoffice_makes_a_pdf_that_embeds_the_shipped_font_and_shows_the_total(request, results, lang):
    folder = request.getfixturevalue("english" if lang == "en" else "chinese")
    pdf = folder / "proposal.pdf"
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    rows = [ln.split() for ln in fonts.splitlines()[2:] if ln.strip()]
    names = {r[0].split("+", 1)[-1] for r in rows}
    shipped = _shipped_font_names()
    assert names & shipped, fonts  # the CJK text is drawn with the shipped font ...
    assert all("yes" in r[-5:-3] for r in rows), fonts  # ... and every font is embedded
    if lang == "zh":
        assert names <= shipped, fonts  # 仿宋/黑体 and the digits all map to it: no other font
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = re.sub(r"\s+", "", text)
    total = results.summary().set_index("year").loc[YEAR, "budget_yuan"]
    assert f"{total:,.2f}" in flat
    docx_chars = {c for c in _text(_docx(folder)) if "\u4e00" <= c <= "\u9fff"}
    assert docx_chars - set(flat) == set()  # every Chinese character reached the PDF as text: no tofu


# --------------------------------------------------------------------------- Chinese in Chinese


def _codes(results) -> set[str]:
    return {results.name, "mc_paths"} | set(results.scenario.used_parameters()["path"])


def test_the_chinese_proposal_outside_the_rulebooks_texts_has_no_english_word(chinese, results):
    """Everything but the rulebook's own texts (its references and descriptions, the columns
    出处 and 说明, whose Chinese comes with branch zhref): what qzfp itself writes."""
    doc = _docx(chinese)
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        head = [c.text for c in table.rows[0].cells]
        for row in table.rows[1:]:
            for h, cell in zip(head, row.cells, strict=True):
                if h == "出处" and head[1] == "项目":  # a line item's basis: "rule：reference"
                    parts.append(cell.text.split("：", 1)[0])
                elif h not in ("出处", "说明"):
                    parts.append(cell.text)
    words = english_words("\n".join(parts), _codes(results))
    assert words == [], sorted(set(words))[:20]


def test_every_word_of_the_chinese_proposal_is_chinese_or_a_code(chinese, results):
    words = english_words(_text(_docx(chinese)), _codes(results))
    assert words == [], sorted(set(words))[:20]


# --------------------------------------------------------------------------- errors


def test_a_year_outside_the_scenario_is_bad_input_naming_the_years(tmp_path, capsys):
    code = main(["proposal", str(BASELINE), "--year", "1990", "--out", str(tmp_path / "p")])
    err = capsys.readouterr().err
    assert code == 1
    assert "--year: 1990 is not a modelled year" in err and "2006–2021" in err and "Traceback" not in err
    assert not (tmp_path / "p").exists()


def test_an_unknown_scenario_is_bad_input(tmp_path, capsys):
    code = main(["proposal", str(tmp_path / "nope.yaml"), "--year", str(YEAR), "--out", str(tmp_path / "p")])
    assert code == 1 and "Traceback" not in capsys.readouterr().err


def test_without_libreoffice_the_docx_is_written_and_the_user_told_how_to_install_it(tmp_path, monkeypatch, capsys):
    out = tmp_path / "p"
    out.mkdir()
    (out / "proposal.pdf").write_bytes(b"%PDF of an earlier proposal")
    monkeypatch.setenv("QZFP_SOFFICE", str(tmp_path / "no-such-soffice"))
    code = main(["proposal", str(BASELINE), "--year", str(YEAR), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert "apt-get install libreoffice-writer-nogui" in err and "Traceback" not in err
    assert (out / "proposal.docx").stat().st_size > 0
    assert not (out / "proposal.pdf").exists()  # a PDF of another .docx is not left beside it
    assert sorted(p.name for p in out.iterdir()) == ["proposal.docx"]


def test_a_failed_conversion_keeps_the_previous_proposal_untouched(tmp_path, monkeypatch, capsys):
    out = tmp_path / "p"
    out.mkdir()
    (out / "proposal.docx").write_bytes(b"earlier docx")
    (out / "proposal.pdf").write_bytes(b"earlier pdf")
    failing = tmp_path / "soffice"
    failing.write_text("#!/bin/sh\necho 'Error: source file could not be loaded' >&2\nexit 1\n")
    failing.chmod(0o755)
    monkeypatch.setenv("QZFP_SOFFICE", str(failing))
    code = main(["proposal", str(BASELINE), "--year", str(YEAR), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert "LibreOffice could not convert proposal.docx to PDF (exit 1): Error: source file could not be loaded" in err
    assert (out / "proposal.docx").read_bytes() == b"earlier docx"
    assert (out / "proposal.pdf").read_bytes() == b"earlier pdf"
    assert sorted(p.name for p in out.iterdir()) == ["proposal.docx", "proposal.pdf"]  # no temporary left
