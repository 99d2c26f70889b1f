"""The budget proposal as a .docx (python-docx): the numbers as offices write them, the
page and fonts (GB/T 9704-2012 in Chinese, a plain A4 report in English) and the sections."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ... import i18n
from ...i18n import format_number, t
from .content import Proposal, value_text

# Page set-up [mm] and fonts.  GB/T 9704-2012, 5.2.1 and 7.
_ZH_MARGINS_MM = {"top": 37.0, "bottom": 35.0, "left": 28.0, "right": 26.0}
_EN_MARGINS_MM = {"top": 25.0, "bottom": 25.0, "left": 25.0, "right": 25.0}
_A4_MM = (210.0, 297.0)
_ZH_BODY_FONT = "仿宋"  # FangSong: Windows (simfang.ttf) and WPS
_ZH_HEADING_FONT = "黑体"  # SimHei: Windows (simhei.ttf) and WPS
_ZH_BODY_PT, _ZH_TITLE_PT, _ZH_TABLE_PT = 16.0, 22.0, 10.5  # 三号, 二号, 五号
_ZH_NUMBER_TABLE_PT = 9.0  # 小五: tables of amounts to the fen (1,400,000.00) in the 156 mm line
_ZH_LINE_PT = 28.95  # 22 lines in the 225 mm text height: 225 / 22 mm = 28.95 pt (exact spacing)
_EN_BODY_FONT, _EN_HEADING_FONT, _EN_CJK_FONT = "Times New Roman", "Arial", "宋体"
_EN_BODY_PT, _EN_TITLE_PT, _EN_HEADING_PT, _EN_TABLE_PT = 11.0, 18.0, 13.0, 9.0
_EN_NUMBER_TABLE_PT = 8.5
#: Names the document may ask for that LibreOffice must draw with the shipped CJK font.
FONT_NAMES = (_ZH_BODY_FONT, _ZH_HEADING_FONT, _EN_CJK_FONT, "FangSong", "仿宋_GB2312", "SimHei",
              "SimSun")


# =========================================================================== numbers as offices write them


def yuan(x: float, lang: str) -> str:
    """An amount in a table [yuan]: ``1,234,567.00`` (both languages; the unit is in the header)."""
    return format_number(x, lang, 2)


def yuan_text(x: float, lang: str) -> str:
    """An amount in running text: zh ``1,234,567.00元``, en ``1,234,567.00 yuan``."""
    return f"{yuan(x, lang)}元" if lang == "zh" else f"{yuan(x, lang)} yuan"


def wan_yuan(x: float, lang: str) -> str:
    """An amount in 万元 (zh) or million yuan (en), two decimals: ``1,972.44万元``."""
    if lang == "zh":
        return f"{x / 1e4:,.2f}万元"
    return f"{x / 1e6:,.2f} million yuan"


def quantity_text(q: float, lang: str) -> str:
    """A quantity: whole numbers without decimals, others with two."""
    return format_number(q, lang, 0 if abs(q - round(q)) < 1e-9 else 2)


def request_paragraph(p: Proposal) -> str:
    """Section 1 in one paragraph."""
    lg = p.lang
    parts = [t("prop.request", lg, year=p.year, total_short=wan_yuan(p.total_yuan, lg),
               total=yuan_text(p.total_yuan, lg))]
    prev = p.year - 1
    if p.previous_yuan is None:
        parts.append(t("prop.prev_none", lg, prev_year=prev))
    else:
        parts.append(_change("prop.prev", p.total_yuan, p.previous_yuan, lg, prev_year=prev))
    if p.is_baseline:
        parts.append(t("prop.is_baseline", lg))
    elif p.baseline_yuan is not None:
        parts.append(_change("prop.base", p.total_yuan, p.baseline_yuan, lg))
    parts.append(t("prop.per_capita", lg, year=p.year, population=i18n.format_persons(p.population, lg),
                   per_capita=yuan_text(p.per_capita_yuan, lg)))
    parts.append(t("prop.funders", lg, **{f: wan_yuan(v, lg) for f, v in p.funders_yuan.items()}))
    return ("" if lg == "zh" else " ").join(parts)


def _change(prefix: str, now: float, then: float, lang: str, **fields: Any) -> str:
    diff = now - then
    if round(diff, 2) == 0:
        return t(f"{prefix}_same", lang, **fields)
    pct = i18n.format_pct(abs(diff) / then, lang) if then else "—"
    return t(f"{prefix}_{'up' if diff > 0 else 'down'}", lang, diff=wan_yuan(abs(diff), lang), pct=pct, **fields)


# =========================================================================== the .docx


def _set_fonts(target: Any, latin: str, east_asia: str) -> None:
    """Name the Latin and East Asian fonts of a style or run (``w:rFonts``), theme fonts removed."""
    from docx.oxml.ns import qn

    element = target._r if hasattr(target, "_r") else target.element  # a run, or a style
    rpr = element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, fonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    for attr, name in (("w:ascii", latin), ("w:hAnsi", latin), ("w:eastAsia", east_asia), ("w:cs", latin)):
        fonts.set(qn(attr), name)


def _style_font(style: Any, latin: str, east_asia: str, size_pt: float, bold: bool = False) -> None:
    from docx.shared import Pt, RGBColor

    style.font.name = latin
    style.font.size = Pt(size_pt)
    style.font.bold = bold
    style.font.italic = False
    style.font.color.rgb = RGBColor(0, 0, 0)
    _set_fonts(style, latin, east_asia)


def _page_number_footer(section: Any, lang: str, font: str, size_pt: float) -> None:
    """Footer with the page number: zh ``— 1 —`` centred (GB/T 9704 7.5), en ``1`` centred."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt

    para = section.footer.paragraphs[0]
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER

    def run(text: str = "") -> Any:
        r = para.add_run(text)
        r.font.size = Pt(size_pt)
        _set_fonts(r, font, font)
        return r

    if lang == "zh":
        run("— ")
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        r = run()
        if kind:
            el = r._r.makeelement(qn("w:fldChar"), {qn("w:fldCharType"): kind})
            r._r.append(el)
        elif text == " PAGE ":
            el = r._r.makeelement(qn("w:instrText"), {qn("xml:space"): "preserve"})
            el.text = text
            r._r.append(el)
        else:
            r.text = text
    if lang == "zh":
        run(" —")


class _Writer:
    """Builds the .docx in the conventions of ``lang``."""

    def __init__(self, lang: str):
        from docx import Document
        from docx.shared import Mm, Pt

        self.lang = lang
        self.doc = Document()
        zh = lang == "zh"
        sec = self.doc.sections[0]
        sec.page_width, sec.page_height = Mm(_A4_MM[0]), Mm(_A4_MM[1])
        margins = _ZH_MARGINS_MM if zh else _EN_MARGINS_MM
        sec.top_margin, sec.bottom_margin = Mm(margins["top"]), Mm(margins["bottom"])
        sec.left_margin, sec.right_margin = Mm(margins["left"]), Mm(margins["right"])
        styles = self.doc.styles
        if zh:
            self.body_font, self.heading_font = _ZH_BODY_FONT, _ZH_HEADING_FONT
            _style_font(styles["Normal"], _ZH_BODY_FONT, _ZH_BODY_FONT, _ZH_BODY_PT)
            pf = styles["Normal"].paragraph_format
            pf.line_spacing, pf.space_before, pf.space_after = Pt(_ZH_LINE_PT), Pt(0), Pt(0)
            for name in ("Heading 1", "Heading 2"):
                _style_font(styles[name], _ZH_HEADING_FONT, _ZH_HEADING_FONT, _ZH_BODY_PT)
                hf = styles[name].paragraph_format
                hf.line_spacing, hf.space_before, hf.space_after = Pt(_ZH_LINE_PT), Pt(0), Pt(0)
            _style_font(styles["Title"], _ZH_HEADING_FONT, _ZH_HEADING_FONT, _ZH_TITLE_PT)
            self.table_pt, self.number_table_pt = _ZH_TABLE_PT, _ZH_NUMBER_TABLE_PT
        else:
            self.body_font, self.heading_font = _EN_BODY_FONT, _EN_HEADING_FONT
            _style_font(styles["Normal"], _EN_BODY_FONT, _EN_CJK_FONT, _EN_BODY_PT)
            for name in ("Heading 1", "Heading 2"):
                _style_font(styles[name], _EN_HEADING_FONT, _EN_CJK_FONT, _EN_HEADING_PT, bold=True)
            _style_font(styles["Title"], _EN_HEADING_FONT, _EN_CJK_FONT, _EN_TITLE_PT, bold=True)
            self.table_pt, self.number_table_pt = _EN_TABLE_PT, _EN_NUMBER_TABLE_PT
        title_style = styles["Title"]
        title_style.paragraph_format.space_after = Pt(12)
        # python-docx's template draws a rule under the title: an official document has none
        ppr = title_style.element.pPr
        if ppr is not None:
            from docx.oxml.ns import qn

            for border in ppr.findall(qn("w:pBdr")):
                ppr.remove(border)
        _page_number_footer(sec, lang, self.body_font if zh else _EN_BODY_FONT, 14.0 if zh else 9.0)

    def title(self, text: str) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        para = self.doc.add_paragraph(text, style="Title")
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER

    def heading(self, text: str) -> None:
        self.doc.add_paragraph(text, style="Heading 1")

    def paragraph(self, text: str, *, indent: bool = True) -> None:
        from docx.shared import Pt

        para = self.doc.add_paragraph(text)
        if self.lang == "zh" and indent:
            para.paragraph_format.first_line_indent = Pt(2 * _ZH_BODY_PT)  # two characters
        elif self.lang == "en":
            para.paragraph_format.space_after = Pt(6)

    def table(self, header: list[str], rows: list[list[str]], numeric: set[int] | None = None,
              widths_mm: list[float] | None = None, amounts: bool = False) -> None:
        """A table with a header row; columns in ``numeric`` right-aligned; ``amounts``: a
        table of amounts to the fen, in the smaller size that fits them on one line."""
        from docx.enum.table import WD_TABLE_ALIGNMENT
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn
        from docx.shared import Mm, Pt

        numeric = numeric or set()
        table = self.doc.add_table(rows=1 + len(rows), cols=len(header))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        if widths_mm:  # the grid (LibreOffice, WPS) and every cell (Word) carry the widths
            table.autofit = False
            for col, width in zip(table.columns, widths_mm, strict=True):
                col.width = Mm(width)
        for r, values in enumerate([header, *rows]):
            cells = table.rows[r].cells
            for c, value in enumerate(values):
                para = cells[c].paragraphs[0]
                para.paragraph_format.line_spacing = 1.0
                para.paragraph_format.first_line_indent = Pt(0)
                if c in numeric and r > 0:
                    para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                elif r == 0:
                    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
                run = para.add_run(str(value))
                run.font.size = Pt(self.number_table_pt if amounts else self.table_pt)
                if r == 0:
                    run.bold = self.lang == "en"
                    if self.lang == "zh":
                        _set_fonts(run, self.heading_font, self.heading_font)
                if widths_mm:
                    cells[c].width = Mm(widths_mm[c])
        header_pr = table.rows[0]._tr.get_or_add_trPr()  # the header repeats on every page
        repeat = OxmlElement("w:tblHeader")
        repeat.set(qn("w:val"), "true")
        header_pr.append(repeat)
        self.doc.add_paragraph()

    def save(self, path: Path) -> None:
        props = self.doc.core_properties
        props.author, props.comments = "qzfp", ""
        self.doc.save(str(path))


def write_docx(p: Proposal, path: Path) -> Path:
    """Write the proposal as a .docx file at ``path``."""
    lg = p.lang
    zh = lg == "zh"
    w = _Writer(lg)
    w.title(t("prop.title", lg, year=p.year, place=t("app.city", lg)))
    scenario = p.scenario_name
    if p.title and (not zh or not re.search(r"[A-Za-z]", p.title)):  # a title in the reader's language
        scenario = f"{p.scenario_name}（{p.title}）" if zh else f"{p.scenario_name} ({p.title})"
    w.paragraph(t("prop.scenario", lg, name=scenario), indent=False)

    w.heading(t("prop.h_request", lg))
    w.paragraph(request_paragraph(p))

    _basis_section(w, p)
    _lines_section(w, p)
    _counties_section(w, p)
    _uncertainty_section(w, p)
    _appendix_section(w, p)
    path = Path(path)
    w.save(path)
    return path


def _basis_section(w: _Writer, p: Proposal) -> None:
    """Section 2: the documents cited and every documented rule in force with its value."""
    lg = p.lang
    zh = lg == "zh"
    w.heading(t("prop.h_basis", lg))
    if p.documents:
        sep = "、" if zh else ", "
        w.paragraph(t("prop.basis_documents", lg, year=p.year, documents=sep.join(p.documents)))
    else:
        w.paragraph(t("prop.basis_no_documents", lg, year=p.year))
    w.table([t("prop.col.no", lg), t("prop.col.description", lg), t("prop.col.value", lg),
             t("prop.col.unit", lg), t("prop.col.reference", lg)],
            [[str(i + 1), r.description, r.value, r.unit, r.reference]
             for i, r in enumerate(p.rules.itertuples())], numeric={0, 2},
            widths_mm=[10, 58, 18, 18, 52])


def _lines_section(w: _Writer, p: Proposal) -> None:
    """Section 3: the line items, quantity × unit cost = amount, with the rule and its reference."""
    lg = p.lang
    zh = lg == "zh"
    w.heading(t("prop.h_lines", lg))
    w.paragraph(t("prop.lines_note", lg, n_zero=p.n_zero_lines, year=p.year))
    rows = [[str(i + 1), r.label, quantity_text(r.quantity, lg), r.quantity_unit, yuan(r.unit_cost_yuan, lg),
             yuan(r.amount_yuan, lg), f"{r.rule}{'：' if zh else ': '}{r.reference}"]
            for i, r in enumerate(p.lines.itertuples())]
    rows.append(["", t("total", lg), "", "", "", yuan(p.lines["amount_yuan"].sum(), lg), ""])
    w.table([t("prop.col.no", lg), t("prop.col.item", lg), t("prop.col.quantity", lg), t("prop.col.unit", lg),
             t("prop.col.unit_cost", lg), t("prop.col.amount", lg), t("prop.col.reference", lg)],
            rows, numeric={0, 2, 4, 5}, widths_mm=[9, 24, 17, 12, 18, 24, 52], amounts=True)


def _counties_section(w: _Writer, p: Proposal) -> None:
    """Section 4: per county and by funder, with the city's total."""
    lg = p.lang
    w.heading(t("prop.h_counties", lg))
    w.paragraph(t("prop.counties_note", lg))
    c = p.counties
    rows = [[r.county, format_number(r.population, lg), yuan(r.amount_yuan, lg), yuan(r.city_yuan, lg),
             yuan(r.county_yuan, lg), yuan(r.township_yuan, lg), yuan(r.per_capita_yuan, lg)]
            for r in c.itertuples()]
    rows.append([t("total", lg), format_number(p.population, lg), yuan(p.total_yuan, lg),
                 *(yuan(p.funders_yuan[f], lg) for f in ("city", "county", "township")),
                 yuan(p.per_capita_yuan, lg)])
    w.table([t("prop.col.county", lg), t("prop.col.population", lg), t("prop.col.amount", lg),
             t("prop.col.city_share", lg), t("prop.col.county_share", lg), t("prop.col.township_share", lg),
             t("prop.col.per_capita", lg)], rows, numeric={1, 2, 3, 4, 5, 6},
            widths_mm=[18, 20, 26, 23, 23, 23, 17], amounts=True)


def _uncertainty_section(w: _Writer, p: Proposal) -> None:
    """Section 5: the sensitivity ranking and the Monte Carlo band."""
    lg = p.lang
    w.heading(t("prop.h_uncertainty", lg))
    pct = format_number(p.sensitivity_pct, lg, 0 if float(p.sensitivity_pct).is_integer() else 1)
    if p.sensitivity.empty:
        w.paragraph(t("prop.no_sensitivity", lg, pct=pct, year=p.year))
    else:
        w.paragraph(t("prop.sensitivity", lg, pct=pct, n=len(p.sensitivity), year=p.year))
        w.table([t("prop.col.no", lg), t("prop.col.assumption", lg), t("prop.col.base_value", lg),
                 t("prop.col.effect_low", lg, pct=pct), t("prop.col.effect_high", lg, pct=pct)],
                [[str(i + 1), r.label, f"{value_text(r.base_value, lg)} {r.unit}".strip(),
                  _signed(r.budget_effect_low_yuan, lg), _signed(r.budget_effect_high_yuan, lg)]
                 for i, r in enumerate(p.sensitivity.itertuples())], numeric={0, 3, 4},
                widths_mm=[9, 63, 28, 28, 28], amounts=True)
    if p.band is None:
        w.paragraph(t("prop.no_band", lg))
    else:
        b = p.band
        w.paragraph(t("prop.band", lg, n_paths=format_number(b["n_paths"], lg), year=p.year,
                      pop_low=i18n.format_persons(b["pop_q10"], lg), pop_high=i18n.format_persons(b["pop_q90"], lg),
                      low=wan_yuan(b["q10"], lg), high=wan_yuan(b["q90"], lg)))


def _appendix_section(w: _Writer, p: Proposal) -> None:
    """Section 6: every assumption in force with its reason."""
    lg = p.lang
    w.heading(t("prop.h_appendix", lg))
    w.paragraph(t("prop.appendix_note", lg, year=p.year))
    w.table([t("prop.col.no", lg), t("prop.col.rule", lg), t("prop.col.description", lg), t("prop.col.value", lg),
             t("prop.col.unit", lg), t("prop.col.reference", lg)],
            [[str(i + 1), r.path, r.description, r.value, r.unit, r.reference]
             for i, r in enumerate(p.assumptions.itertuples())], numeric={0, 3},
            widths_mm=[9, 30, 40, 15, 16, 46])


def _signed(x: float, lang: str) -> str:
    text = yuan(abs(x), lang)
    return text if round(x, 2) == 0 else ("+" if x > 0 else "−") + text
