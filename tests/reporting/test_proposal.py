"""``qzfp proposal``: the budget proposal of one year as .docx and .pdf, a request (请示) in the
form of GB/T 9704-2012 in Chinese, its translation in the same form in English.

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
from chinese import english_words, nested_quotes

from qzfp.cli import main
from qzfp.i18n import localise_parameters, t
from qzfp.model.run import simulate
from qzfp.reporting.proposal import writer_missing
from qzfp.rules.scenario import load_scenario

REPO = Path(__file__).resolve().parents[2]
BASELINE = REPO / "params" / "baseline.yaml"
#: A year after the reward-and-assistance amount rose from 600 to 960 yuan (2012).
YEAR = 2014
DATE = "2013-11-20"
OFFICE = shutil.which("soffice") or shutil.which("libreoffice")
HAS_OFFICE = bool(OFFICE) and not writer_missing(OFFICE)
needs_office = pytest.mark.skipif(not HAS_OFFICE, reason="LibreOffice Writer not installed")
needs_poppler = pytest.mark.skipif(not (shutil.which("pdftotext") and shutil.which("pdffonts")),
                                   reason="poppler-utils (pdftotext, pdffonts) not installed")
#: What a developer, not a finance bureau, can follow.
DEVELOPER_TEXT = re.compile(r"SOURCES\.md|docs/|tests/|qzfp/|qzfp\.[a-z]|\.py\b|天津|Tianjin")


def _number(text: str) -> float:
    return float(text.replace(",", "").replace("−", "-").strip())


def _write(tmp_path_factory, lang: str, scenario: Path = BASELINE, year: int = YEAR, *, pdf: bool = True,
           options: tuple[str, ...] = ("--date", DATE)):
    out = tmp_path_factory.mktemp(f"proposal-{lang}")
    office = HAS_OFFICE and pdf
    env = {} if office else {"QZFP_SOFFICE": "/nonexistent/soffice"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        code = main(["proposal", str(scenario), "--year", str(year), "--lang", lang, "--out", str(out), *options])
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
    return _tables(doc, first_header, second_header)[0]


def _tables(doc, first_header: str, second_header: str):
    found = [[[c.text for c in row.cells] for row in table.rows[1:]] for table in doc.tables
             if [c.text for c in table.rows[0].cells][:2] == [first_header, second_header]]
    assert found, f"no table headed {first_header}, {second_header}"
    return found


def _text(doc) -> str:
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts += [c.text for c in row.cells]
    return "\n".join(parts)


def _paragraph(doc, pattern: str):
    """The first paragraph whose text matches ``pattern`` (a regular expression)."""
    found = [p for p in doc.paragraphs if re.search(pattern, p.text)]
    assert found, pattern
    return found[0]


def _city_lines(results, year):
    b = results.budget[results.budget["year"] == year]
    return b.groupby("line", sort=False).agg(quantity=("quantity", "sum"), unit_cost=("unit_cost_yuan", "first"),
                                             amount=("amount_yuan", "sum"), reference=("reference", "first"),
                                             rule=("rule_path", "first"))


def _in_force(results, lang: str, year: int = YEAR):
    used = localise_parameters(results.scenario.used_parameters(), lang)
    jan1 = dt.date(year, 1, 1).isoformat()
    return used[used["since"] <= jan1].sort_values(["path", "since"]).groupby("path").tail(1)


def _six_corner(text: str) -> str:
    """Document numbers as GB/T 9704 writes them: the year in 〔〕 (衢委办〔2006〕101号)."""
    return re.sub(r"(\w办?[发函]?)[\[［](\d{4})[\]］](\d+号)", r"\1〔\2〕\3", str(text))


def _annexes(results, lang: str):
    """The rows of annex 1 (documented rules) and annex 2 (assumptions) in force, by path order,
    their document numbers in 〔〕."""
    force = _in_force(results, lang).sort_values("path")
    force["description"] = force["description"].map(_six_corner)
    force["reference"] = force["reference"].map(_six_corner)
    assumed = force["assumption"].astype(bool)
    return force[~assumed].reset_index(drop=True), force[assumed].reset_index(drop=True)


# --------------------------------------------------------------------------- the figures are the model's


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_line_item_shows_quantity_times_unit_cost_equal_to_the_models_amount_and_its_basis(
        request, results, lang):
    folder = request.getfixturevalue("english" if lang == "en" else "chinese")
    rows = _table(_docx(folder), t("prop.col.no", lang), t("prop.col.item", lang))
    lines = _city_lines(results, YEAR)
    paid = lines[lines["amount"] != 0]
    items, total = rows[:-1], rows[-1]
    assert len(items) == len(paid)
    rules, assumptions = _annexes(results, lang)
    for row, (line, exp) in zip(items, paid.iterrows(), strict=True):
        quantity, unit_cost, amount = _number(row[2]), _number(row[4]), _number(row[5])
        assert quantity == pytest.approx(exp["quantity"], abs=0.005), line
        assert unit_cost == pytest.approx(exp["unit_cost"], abs=0.005), line
        assert amount == pytest.approx(exp["amount"], abs=0.005), line
        assert amount == pytest.approx(quantity * unit_cost, rel=1e-9, abs=0.005), line  # the reader's check
        # the basis names the rule's item in the annexes, where its reference in force is
        annex, table = (1, rules) if exp["rule"] in set(rules["path"]) else (2, assumptions)
        item = int(np.flatnonzero(table["path"].to_numpy() == exp["rule"])[0]) + 1
        assert t("prop.basis_item", lang, annex=annex, item=item) in row[6], line
    assert _number(total[5]) == pytest.approx(lines["amount"].sum(), abs=0.005)


def test_persons_and_households_in_the_line_items_are_whole(chinese, results):
    rows = _table(_docx(chinese), "序号", "项目")[:-1]
    for row in rows:
        if row[3] in ("人", "户", "岗位"):
            assert re.fullmatch(r"[\d,]+", row[2]), row  # "9,903", not "9,903.17"


def test_the_annexes_list_every_rule_and_assumption_in_force_with_its_reference(english, chinese, results):
    for folder, lang in ((english, "en"), (chinese, "zh")):
        doc = _docx(folder)
        rules, assumptions = _annexes(results, lang)
        first, second = _tables(doc, t("prop.col.no", lang), t("prop.col.description", lang))
        assert [(r[1], r[4]) for r in first] == list(zip(rules["description"], rules["reference"], strict=True))
        assert [(r[1], r[4]) for r in second] == list(zip(assumptions["description"], assumptions["reference"],
                                                          strict=True))
    basis = _paragraph(_docx(english), r"^The estimate applies the documents in force on 1 January").text
    for document in ("衢委办〔2006〕101号", "衢委办〔2004〕38号", "市委办〔2001〕9号"):
        assert document in basis  # cited as GB/T 9704 writes a document number
    assert not re.search(r"\[\d{4}\]", _text(_docx(chinese)))  # nowhere with [] brackets


def test_the_request_paragraph_states_the_total_the_change_and_the_amount_per_registered_inhabitant(
        english, results):
    doc = _docx(english)
    s = results.summary().set_index("year")
    total, previous = s.loc[YEAR, "budget_yuan"], s.loc[YEAR - 1, "budget_yuan"]
    totals = results.budget_totals
    pop = totals[(totals["county_code"] == "all") & (totals["year"] == YEAR)]["population"].iloc[0]
    request = _paragraph(doc, f"^For {YEAR} the association requests").text
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
    request = _paragraph(_docx(chinese), f"^{YEAR}年度申请工作经费").text
    assert f"{total / 1e4:,.2f}万元（{total:,.2f}元）" in request


def test_the_method_states_the_population_and_the_posts_the_rules_require(chinese, results):
    s = results.summary().set_index("year").loc[YEAR]
    text = _text(_docx(chinese))
    assert f"{YEAR}年户籍人口{s['population']:,.0f}人" in text
    assert f"专职岗位{s['total_posts']:,.0f}个" in text
    assert f"有{s['villages_at_or_above_threshold']:,.0f}个达到标准，共{s['village_vice_presidents']:,.0f}名" in text
    assert f"专职副会长或会长{s['township_vice_presidents']:,.0f}名" in text
    assert s["village_vice_presidents"] + s["township_vice_presidents"] + s["county_posts"] == s["total_posts"]


def test_a_variant_scenario_states_its_difference_to_the_baseline(tmp_path_factory, results):
    folder = _write(tmp_path_factory, "en", REPO / "params" / "allowance_100.yaml", pdf=False)
    other = simulate(load_scenario(REPO / "params" / "allowance_100.yaml")).summary().set_index("year")
    base = results.summary().set_index("year")
    diff = other.loc[YEAR, "budget_yuan"] - base.loc[YEAR, "budget_yuan"]
    assert diff > 0  # the allowance is raised from 2008
    request = _paragraph(_docx(folder), "requests").text
    assert (f"It is {diff / 1e6:,.2f} million yuan ({diff / base.loc[YEAR, 'budget_yuan'] * 100:.1f}%) more than "
            "the baseline scenario.") in request


def test_each_county_row_splits_its_amount_between_the_three_funders_and_the_rows_add_up(english, results):
    rows = _table(_docx(english), "County", "Registered population (persons)")
    b = results.budget[results.budget["year"] == YEAR]
    by_county = b.groupby("county_code")[["amount_yuan", "city_yuan", "county_yuan", "township_yuan"]].sum()
    names = dict(zip(results.register.counties["name_en"], results.register.counties["county_code"], strict=True))
    totals = results.budget_totals
    population = totals[totals["year"] == YEAR].set_index("county_code")["population"]
    for row in rows[:-1]:
        exp = by_county.loc[names[row[0]]]
        amount, city, county, township = (_number(x) for x in row[2:6])
        assert amount == pytest.approx(exp["amount_yuan"], abs=0.005)
        persons = population.loc[names[row[0]]]
        assert _number(row[1]) in (np.floor(persons), np.ceil(persons))  # whole persons
        assert (city, county, township) == pytest.approx(
            (exp["city_yuan"], exp["county_yuan"], exp["township_yuan"]), abs=0.005)
        assert city + county + township == pytest.approx(amount, abs=0.02)
    assert len(rows) - 1 == len(by_county)
    assert _number(rows[-1][2]) == pytest.approx(b["amount_yuan"].sum(), abs=0.005)
    # the whole persons of the counties add up to the city's, as printed
    assert sum(_number(r[1]) for r in rows[:-1]) == _number(rows[-1][1]) == round(population.loc["all"])


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


def test_the_uncertainty_table_gives_each_assumption_its_value_in_force_in_the_year_as_the_line_items_do(
        chinese, results):
    # the reward's amount rose from 600 to 960 yuan in 2012: in 2014 both tables say 960
    doc = _docx(chinese)
    sens = {r[1]: r[2] for r in _table(doc, "序号", "假设")}
    lines = {r[1]: r for r in _table(doc, "序号", "项目")}
    force = _in_force(results, "zh").set_index("path")
    from qzfp.i18n import budget_line_label, param_label

    reward = param_label("reward_assistance.amount", "zh")
    assert reward in sens  # among the five that move the 2014 budget most
    value = force.loc["reward_assistance.amount", "value"]
    assert value == results.scenario.value("reward_assistance.amount", YEAR) == 960
    assert sens[reward].startswith(f"{value:,}")
    assert _number(lines[budget_line_label("reward_assistance", "zh")][4]) == value
    for label, shown in sens.items():  # every row: the value in force in the year
        path = next(p for p in force.index if param_label(p, "zh") == label)
        v = force.loc[path, "value"]
        assert shown.split()[0] == (f"{v:,}" if isinstance(v, int) else f"{v:g}"), label


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


# --------------------------------------------------------------------------- the form: GB/T 9704-2012


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
    assert east_asia(doc.styles["Heading 2"]) == "楷体"
    title = next(p for p in doc.paragraphs if p.style.name == "Title")
    assert title.text == f"关于申请{YEAR}年度衢州市计划生育协会工作经费的请示"


def _red(run) -> bool:
    return run.font.color is not None and str(run.font.color.rgb) == "FF0000"


def test_the_chinese_letterhead_has_the_red_mark_the_number_in_brackets_the_signer_and_the_red_rule(chinese):
    from docx.oxml.ns import qn

    doc = _docx(chinese)
    paragraphs = doc.paragraphs
    assert paragraphs[0].text == "衢州市计划生育协会文件"
    assert all(_red(r) for r in paragraphs[0].runs)  # 发文机关标志 in red
    assert round(paragraphs[0].paragraph_format.space_before.mm) == 35  # 35 mm below the text area's top
    number, signer = paragraphs[1].text.split("\t")
    assert number.strip("\u3000") == "衢计生协〔2013〕××号"  # the year of the date, the serial a placeholder
    assert signer == "签发人：×××"
    rule = paragraphs[1]._p.pPr.find(qn("w:pBdr")).find(qn("w:bottom"))
    assert rule.get(qn("w:color")) == "FF0000" and round(int(rule.get(qn("w:space"))) * 25.4 / 72) == 4
    title_at = next(i for i, p in enumerate(paragraphs) if p.style.name == "Title")
    assert title_at == 2 and paragraphs[3].text == "市财政局："  # the addressee below the title


def test_the_chinese_body_numbers_its_headings_on_four_levels_and_closes_with_the_request(chinese):
    doc = _docx(chinese)
    texts = [p.text for p in doc.paragraphs]
    level1 = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    level2 = [p.text for p in doc.paragraphs if p.style.name == "Heading 2"]
    assert [h[:2] for h in level1] == ["一、", "二、", "三、", "四、", "五、"]
    assert [h[:3] for h in level2[:3]] == ["（一）", "（二）", "（三）"]
    assert any(re.match(r"^1\.\S", x) for x in texts) and any(re.match(r"^（1）\S", x) for x in texts)
    closing = texts.index("妥否，请批示。")
    assert texts[closing + 1] == "附件：1.测算依据的规定" and texts[closing + 2] == "2.测算假设及其依据"
    assert texts[closing + 3] == "衢州市计划生育协会" and texts[closing + 4] == "2013年11月20日"
    annexes = [p for p in doc.paragraphs if re.fullmatch(r"附件\d", p.text)]
    assert [p.text for p in annexes] == ["附件1", "附件2"]
    assert all(p.paragraph_format.page_break_before for p in annexes)  # each annex on a new page


def test_the_english_proposal_is_a_translation_in_the_same_form(english, chinese):
    en, zh = _docx(english), _docx(chinese)
    assert [p.text for p in en.paragraphs[:2]] == ["Quzhou Family Planning Association", "Document"]
    assert _red(en.paragraphs[0].runs[0]) and _red(en.paragraphs[1].runs[0])
    assert "衢计生协〔2013〕××号" in en.paragraphs[2].text and "Signed by: ×××" in en.paragraphs[2].text
    for style in ("Heading 1", "Heading 2", "Title"):
        assert len([p for p in en.paragraphs if p.style.name == style]) == \
            len([p for p in zh.paragraphs if p.style.name == style]), style
    assert [len(tb.rows) for tb in en.tables] == [len(tb.rows) for tb in zh.tables]
    for te, tz in zip(en.tables, zh.tables, strict=True):  # the same figures in the same cells
        for re_, rz in zip(te.rows[1:], tz.rows[1:], strict=True):
            numbers = [(a.text, b.text) for a, b in zip(re_.cells, rz.cells, strict=True)
                       if re.fullmatch(r"[+−-]?[\d,]+(\.\d+)?", b.text)]
            assert all(a == b for a, b in numbers), numbers
    texts = [p.text for p in en.paragraphs]
    closing = texts.index("Please review and give your instructions.")
    assert texts[closing + 3] == "Quzhou Family Planning Association" and texts[closing + 4] == "20 November 2013"


def test_the_letterhead_options_fill_the_number_the_signer_the_addressee_the_issuer_and_the_date(
        tmp_path_factory, capsys):
    folder = _write(tmp_path_factory, "zh", pdf=False, options=(
        "--number", "17", "--signer", "王立", "--addressee", "衢州市财政局", "--date", "2013-12-02",
        "--issuer", "衢州市计划生育协会", "--code", "衢计协"))
    out = capsys.readouterr().out
    doc = _docx(folder)
    assert doc.paragraphs[1].text.replace("\u3000", "") == "衢计协〔2013〕17号\t签发人：王立"
    assert doc.paragraphs[3].text == "衢州市财政局："
    assert "2013年12月2日" in [p.text for p in doc.paragraphs]
    assert "占位符" not in out  # nothing left to fill in
    whole = _write(tmp_path_factory, "en", pdf=False, options=("--number", "衢计生协[2013]8号", "--date", DATE))
    assert "衢计生协〔2013〕8号" in _docx(whole).paragraphs[2].text  # [] brackets written 〔〕


@needs_office
def test_the_default_number_and_signer_are_placeholders_and_the_command_says_so(tmp_path_factory, capsys):
    _write(tmp_path_factory, "zh")
    out = capsys.readouterr().out
    assert "发文字号、签发人为占位符（××）" in out and "--number、--signer" in out


@pytest.mark.parametrize(("option", "value"), [("--date", "2013-13-01"), ("--number", "十二"),
                                               ("--signer", " ")])
def test_a_bad_letterhead_option_is_bad_input_named_before_anything_runs(tmp_path, capsys, option, value):
    code = main(["--lang", "zh", "proposal", str(BASELINE), "--year", str(YEAR), "--out", str(tmp_path / "p"),
                 option, value])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith(f"{option}: ") and "Traceback" not in err
    assert not (tmp_path / "p").exists()


def test_the_english_document_is_a4(english):
    sec = _docx(english).sections[0]
    assert (round(sec.page_width.mm), round(sec.page_height.mm)) == (210, 297)


def test_number_cells_never_wrap_and_rows_never_split(chinese):
    from docx.oxml.ns import qn

    doc = _docx(chinese)
    for table in doc.tables:
        for row in table.rows:
            assert row._tr.trPr.find(qn("w:cantSplit")) is not None
        for row in table.rows[1:]:
            for cell in row.cells:
                if re.fullmatch(r"[+−-]?[\d,]+(\.\d+)?", cell.text):
                    assert cell._tc.tcPr.find(qn("w:noWrap")) is not None, cell.text


def _shipped_font_names() -> set[str]:
    from fontTools.ttLib import TTFont

    from qzfp.i18n import shipped_font_path

    return {TTFont(shipped_font_path())["name"].getDebugName(6)}  # its PostScript name


def _pdftotext(pdf: Path, *args: str) -> str:
    return subprocess.run(["pdftotext", *args, str(pdf), "-"], capture_output=True, text=True, check=True).stdout


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
        assert names <= shipped, fonts  # 仿宋/黑体/楷体/小标宋 and the digits all map to it: no other font
    flat = re.sub(r"\s", "", _pdftotext(pdf))
    total = results.summary().set_index("year").loc[YEAR, "budget_yuan"]
    assert f"{total:,.2f}" in flat
    docx_chars = {c for c in _text(_docx(folder)) if "\u4e00" <= c <= "\u9fff"}
    assert docx_chars - set(flat) == set()  # every Chinese character reached the PDF as text: no tofu


@needs_office
@needs_poppler
def test_the_chinese_pdf_carries_the_letterhead_the_addressee_the_closing_and_the_date(chinese):
    first = re.sub(r"[ \t]", "", _pdftotext(chinese / "proposal.pdf", "-f", "1", "-l", "1"))
    for part in ("衢州市计划生育协会文件", "衢计生协〔2013〕××号", "签发人：×××", "市财政局：",
                 f"关于申请{YEAR}年度衢州市计划生育协会工作"):
        assert part in first, part
    flat = re.sub(r"\s", "", _pdftotext(chinese / "proposal.pdf"))
    assert "妥否，请批示。附件：1.测算依据的规定2.测算假设及其依据衢州市计划生育协会2013年11月20日" in flat
    assert "—1—" in flat


@needs_office
@needs_poppler
def test_the_body_of_the_baseline_proposal_takes_at_most_eight_pages_the_rules_are_in_the_annexes(chinese):
    pdf = chinese / "proposal.pdf"
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(pdf)], capture_output=True,
                                                              text=True).stdout).group(1))
    starts = {}
    for page in range(1, pages + 1):
        lines = [x.strip() for x in _pdftotext(pdf, "-f", str(page), "-l", str(page)).splitlines() if x.strip()]
        if lines and re.fullmatch(r"附件\s?[12]", lines[0]):
            starts[lines[0].replace(" ", "")] = page
    assert set(starts) == {"附件1", "附件2"}
    assert starts["附件1"] - 1 <= 8, starts  # the request itself: at most 8 pages


@needs_office
@needs_poppler
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_amount_no_quantity_and_no_row_number_breaks_across_lines_in_the_pdf(request, results, lang):
    folder = request.getfixturevalue("english" if lang == "en" else "chinese")
    lines = _pdftotext(folder / "proposal.pdf", "-layout").splitlines()
    words = {w for line in lines for w in line.split()}
    b = _city_lines(results, YEAR)
    b = b[b["amount"] != 0]
    for _, r in b.iterrows():
        for shown in (f"{r['amount']:,.2f}", f"{r['unit_cost']:,.2f}", f"{r['quantity']:,.0f}"):
            assert any(shown in w for w in words), shown  # whole, on one line
    numbers = {c.text for table in _docx(folder).tables for row in table.rows[1:] for c in row.cells
               if re.fullmatch(r"[+−-]?[\d,]+\.\d\d", c.text)}  # every amount of every table
    assert len(numbers) > 50
    assert [n for n in numbers if not any(n in w for w in words)] == []
    header = t("prop.col.no", lang)
    assert any(header in line for line in lines)  # "序号" not split over two lines
    for n in range(10, len(b) + 1):  # two-digit row numbers whole
        assert str(n) in words, n


# --------------------------------------------------------------------------- Chinese in Chinese, no developer text


def _codes(results) -> set[str]:
    return set()  # no code names: neither the scenario's name nor rule paths


def test_every_word_of_the_chinese_proposal_is_chinese_or_allowed(chinese, results):
    text = _text(_docx(chinese))
    words = english_words(text, _codes(results))
    assert words == [], sorted(set(words))[:20]
    assert nested_quotes(text) == []


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_proposal_names_no_code_and_cites_no_developer_file(request, results, lang):
    text = _text(_docx(request.getfixturevalue("english" if lang == "en" else "chinese")))
    assert not DEVELOPER_TEXT.search(text), DEVELOPER_TEXT.search(text)
    # "测算方案：baseline" no more: the scenario by its title ("baseline" is also an English word)
    assert (results.name not in text) if lang == "zh" else (f"scenario {results.name}" not in text)
    assert _six_corner(results.scenario.title_in(lang)) in text
    paths = set(results.scenario.used_parameters()["path"])
    assert not [p for p in paths if p in text]


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
