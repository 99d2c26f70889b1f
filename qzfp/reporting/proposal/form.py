"""The form of a Chinese government document (GB/T 9704-2012 党政机关公文格式) as a .docx
(python-docx): page, fonts, letterhead, headings, tables and sign-off.  The English version
of a document keeps the form with English fonts.

The page: A4, margins 37/35/28/26 mm (the 156 × 225 mm text area), 22 lines of 3号 (16 pt)
仿宋 a page.  The letterhead (版头): the issuing body's mark (发文机关标志, 小标宋, red, its top
35 mm below the text area's), two lines below it the document number (发文字号, 〔〕
brackets) on the left and the signer (签发人, the name in 楷体) on the right, as an upward
document has them, and 4 mm below them a red rule the width of the text area.  Then the
title (2号小标宋, two lines below the rule), the addressee (主送机关, one line below, full
width colon), the body with headings 一、(黑体) （一）(楷体) 1. and （1）(仿宋), the list of
annexes (附件说明), the issuer and the date (发文机关署名, 成文日期, unsealed: the name two
characters from the right, the date two characters right of it), and each annex on a new
page (附件1 in 黑体 on the first line, its title on the third).  Page numbers "— 1 —" in
4号, odd pages on the right, even pages on the left, one character in.  Table cells of
numbers never wrap (``w:noWrap``, columns as wide as their longest number) and rows are not
split across pages.  Fonts are named as Windows and WPS name them (仿宋, 黑体, 楷体,
方正小标宋简体, ``w:eastAsia``); the PDF draws them all with the shipped font.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Page set-up [mm] and fonts.  GB/T 9704-2012, 5.2.1 and 7 (the English version keeps the page).
_MARGINS_MM = {"top": 37.0, "bottom": 35.0, "left": 28.0, "right": 26.0}
_A4_MM = (210.0, 297.0)
_TEXT_WIDTH_MM = _A4_MM[0] - _MARGINS_MM["left"] - _MARGINS_MM["right"]  # 156 mm
_ZH_BODY_FONT = "仿宋"  # FangSong: Windows (simfang.ttf) and WPS
_ZH_HEADING_FONT = "黑体"  # SimHei: Windows (simhei.ttf) and WPS
_ZH_KAI_FONT = "楷体"  # KaiTi: the second heading level and the signer's name
_ZH_MARK_FONT = "方正小标宋简体"  # the letterhead's mark and the title (小标宋)
_ZH_PAGE_FONT = "宋体"  # page numbers
_ZH_BODY_PT, _ZH_TITLE_PT, _ZH_TABLE_PT, _PAGE_NUMBER_PT = 16.0, 22.0, 10.5, 14.0  # 三号, 二号, 五号, 四号
_ZH_LINE_PT = 28.95  # 22 lines in the 225 mm text height: 225 / 22 mm = 28.95 pt (exact spacing)
_MARK_MAX_PT = 42.0  # the mark's largest size; smaller when the issuer's name is long
_RED = "FF0000"
_EN_BODY_FONT, _EN_HEADING_FONT, _EN_CJK_FONT = "Times New Roman", "Arial", "宋体"
_EN_BODY_PT, _EN_TITLE_PT, _EN_MARK_PT, _EN_TABLE_PT = 12.0, 16.0, 22.0, 9.0
_EN_LINE_PT = 18.0
_MIN_TABLE_PT = 7.5  # the smallest size a table of amounts is set in to fit the text width
_CELL_MARGIN_MM = 1.0  # left and right padding of a table cell
#: Names the document may ask for that LibreOffice must draw with the shipped CJK font.
FONT_NAMES = (_ZH_BODY_FONT, _ZH_HEADING_FONT, _ZH_KAI_FONT, _ZH_MARK_FONT, _ZH_PAGE_FONT, _EN_CJK_FONT,
              "FangSong", "仿宋_GB2312", "SimHei", "KaiTi", "楷体_GB2312", "SimSun", "方正小标宋_GBK")


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


def _field(paragraph: Any, instruction: str, shown: str, style: Any) -> None:
    """A field (``PAGE``) in ``paragraph``, each run made by ``style(run)``."""
    from docx.oxml.ns import qn

    for kind, text in (("begin", None), (None, f" {instruction} "), ("separate", None), (None, shown),
                       ("end", None)):
        r = style(paragraph.add_run())
        if kind:
            r._r.append(r._r.makeelement(qn("w:fldChar"), {qn("w:fldCharType"): kind}))
        elif text == f" {instruction} ":
            el = r._r.makeelement(qn("w:instrText"), {qn("xml:space"): "preserve"})
            el.text = text
            r._r.append(el)
        else:
            r.text = text


def _page_number_footers(doc: Any, font: str) -> None:
    """Page numbers "— 1 —" in 4号 (GB/T 9704 7.5): odd pages on the right, even pages on the
    left, one character in from the edge of the text area."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    doc.settings.odd_and_even_pages_header_footer = True
    section = doc.sections[0]
    for footer, align in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT), (section.even_page_footer,
                                                                      WD_ALIGN_PARAGRAPH.LEFT)):
        para = footer.paragraphs[0]
        para.alignment = align
        fmt = para.paragraph_format
        if align == WD_ALIGN_PARAGRAPH.RIGHT:
            fmt.right_indent = Pt(_PAGE_NUMBER_PT)
        else:
            fmt.left_indent = Pt(_PAGE_NUMBER_PT)

        def styled(r: Any) -> Any:
            r.font.size = Pt(_PAGE_NUMBER_PT)
            _set_fonts(r, font, font)
            return r

        styled(para.add_run("— "))
        _field(para, "PAGE", "1", styled)
        styled(para.add_run(" —"))


def _text_mm(text: str, size_pt: float) -> float:
    """Width of ``text`` set in ``size_pt`` [mm]: CJK and full-width characters one em, others
    0.6 em (the digits and Latin letters of the shipped font and of Times/Arial are narrower)."""
    import unicodedata

    ems = sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.6 for c in str(text))
    return ems * size_pt * 25.4 / 72


def _column_widths(header: list[str], rows: list[list[str]], numeric: set[int], weights: list[float],
                   size_pt: float) -> list[float] | None:
    """Column widths [mm] filling the text width: a column of numbers (and the header of a
    narrow one) as wide as its widest entry on one line, the text columns sharing the rest by
    ``weights``; None when the numbers alone do not fit at ``size_pt``."""
    pad = 2 * _CELL_MARGIN_MM + 0.8
    fixed = {c: max(_text_mm(r[c], size_pt) for r in ([header] if c == 0 else []) + rows) + pad
             for c in numeric}
    rest = _TEXT_WIDTH_MM - sum(fixed.values())
    text_cols = [c for c in range(len(header)) if c not in fixed]
    least = sum(_text_mm("字" * 3, size_pt) + pad for _ in text_cols)
    if rest < least:
        return None
    total = sum(weights[c] for c in text_cols) or 1.0
    return [fixed[c] if c in fixed else rest * weights[c] / total for c in range(len(header))]


class OfficialDocument:
    """A .docx in the form of GB/T 9704 in ``lang`` (English fonts in English), built top to
    bottom: :meth:`letterhead`, :meth:`title`, :meth:`addressee`, paragraphs, headings and
    tables, :meth:`annexes`, :meth:`signature`, :meth:`annex_heading` ..., :meth:`save`."""

    def __init__(self, lang: str):
        from docx import Document
        from docx.shared import Mm, Pt

        self.lang = lang
        self.zh = zh = lang == "zh"
        self.doc = Document()
        sec = self.doc.sections[0]
        sec.page_width, sec.page_height = Mm(_A4_MM[0]), Mm(_A4_MM[1])
        sec.top_margin, sec.bottom_margin = Mm(_MARGINS_MM["top"]), Mm(_MARGINS_MM["bottom"])
        sec.left_margin, sec.right_margin = Mm(_MARGINS_MM["left"]), Mm(_MARGINS_MM["right"])
        sec.footer_distance = Mm(_MARGINS_MM["bottom"] - 7 - 5)  # the dash 7 mm below the text area
        styles = self.doc.styles
        if zh:
            self.body_font, self.heading_font, self.kai_font, self.mark_font = (
                _ZH_BODY_FONT, _ZH_HEADING_FONT, _ZH_KAI_FONT, _ZH_MARK_FONT)
            self.body_pt, self.line_pt, self.title_pt, self.mark_pt = _ZH_BODY_PT, _ZH_LINE_PT, _ZH_TITLE_PT, 0.0
            self.cjk = None
        else:
            self.body_font, self.heading_font, self.kai_font, self.mark_font = (
                _EN_BODY_FONT, _EN_HEADING_FONT, _EN_BODY_FONT, _EN_HEADING_FONT)
            self.body_pt, self.line_pt, self.title_pt, self.mark_pt = _EN_BODY_PT, _EN_LINE_PT, _EN_TITLE_PT, _EN_MARK_PT
            self.cjk = _EN_CJK_FONT
        self.table_pt = _ZH_TABLE_PT if zh else _EN_TABLE_PT
        _style_font(styles["Normal"], self.body_font, self.cjk or self.body_font, self.body_pt)
        pf = styles["Normal"].paragraph_format
        pf.line_spacing, pf.space_before, pf.space_after = Pt(self.line_pt), Pt(0), Pt(0)
        for name, font in (("Heading 1", self.heading_font), ("Heading 2", self.kai_font)):
            _style_font(styles[name], font, self.cjk or font, self.body_pt, bold=not zh)
            hf = styles[name].paragraph_format
            hf.line_spacing, hf.space_before, hf.space_after = Pt(self.line_pt), Pt(0), Pt(0)
            hf.keep_with_next = True
            if zh:
                hf.first_line_indent = Pt(2 * self.body_pt)  # headings are indented like paragraphs
        _style_font(styles["Title"], self.mark_font, self.cjk or self.mark_font, self.title_pt, bold=not zh)
        ppr = styles["Title"].element.pPr  # python-docx's template draws a rule under the title
        if ppr is not None:
            from docx.oxml.ns import qn

            for border in ppr.findall(qn("w:pBdr")):
                ppr.remove(border)
        _page_number_footers(self.doc, _ZH_PAGE_FONT if zh else _EN_BODY_FONT)

    # ------------------------------------------------------------------ runs and paragraphs
    def _run(self, para: Any, text: str, font: str | None = None, *, size: float | None = None,
             color: str | None = None, bold: bool | None = None) -> Any:
        from docx.shared import Pt, RGBColor

        run = para.add_run(text)
        if font:
            _set_fonts(run, font, self.cjk or font)
        if size:
            run.font.size = Pt(size)
        if color:
            run.font.color.rgb = RGBColor.from_string(color)
        if bold is not None:
            run.bold = bold
        return run

    def _para(self, *, indent_chars: float = 0.0, align: Any = None, before_lines: float = 0.0,
              line_pt: float | None = None, keep: bool = False) -> Any:
        from docx.shared import Pt

        para = self.doc.add_paragraph()
        fmt = para.paragraph_format
        if indent_chars:
            fmt.first_line_indent = Pt(indent_chars * self.body_pt)
        if align is not None:
            para.alignment = align
        if before_lines:
            fmt.space_before = Pt(before_lines * self.line_pt)
        if line_pt:
            fmt.line_spacing = Pt(line_pt)
        if keep:
            fmt.keep_with_next = True
        return para

    def paragraph(self, text: str, *, indent: bool = True) -> Any:
        para = self._para(indent_chars=2 if indent else 0)
        self._run(para, text)
        return para

    def heading(self, text: str, level: int) -> None:
        """一、(黑体, Heading 1) or （一）(楷体, Heading 2)."""
        self.doc.add_paragraph(text, style=f"Heading {level}")

    def run_in(self, label: str, text: str) -> None:
        """A paragraph that starts with a heading of the third or fourth level (``1.人口。``,
        ``（1）行政村：``) and goes on with its text."""
        para = self._para(indent_chars=2)
        self._run(para, label, bold=None if self.zh else True)
        self._run(para, text)

    def page_break(self) -> None:
        from docx.enum.text import WD_BREAK

        self.doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    # ------------------------------------------------------------------ the letterhead
    def letterhead(self, mark: str, mark_word: str, number_label: str, number: str, signer_label: str,
                   signer: str) -> None:
        """发文机关标志 (red, 小标宋, 35 mm below the top of the text area), 发文字号 and 签发人 two
        lines below it, and the red rule 4 mm below them.  The number goes without its label
        in Chinese (GB/T 9704), after it in English (``Document No. 衢计生协〔2013〕12号``)."""
        from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn
        from docx.shared import Mm, Pt

        text = f"{mark}{mark_word}" if self.zh else mark
        size = self.mark_pt or min(_MARK_MAX_PT, _TEXT_WIDTH_MM / max(_text_mm(text, 1.0), 1e-9) * 0.96)
        para = self._para(align=WD_ALIGN_PARAGRAPH.CENTER, line_pt=size * 1.15)
        para.paragraph_format.space_before = Mm(35)
        self._run(para, text, self.mark_font, size=size, color=_RED, bold=not self.zh)
        if not self.zh:
            word = self._para(align=WD_ALIGN_PARAGRAPH.CENTER, line_pt=self.title_pt * 1.3)
            self._run(word, mark_word, self.mark_font, size=self.title_pt, color=_RED, bold=True)
        line = self._para(before_lines=2)
        fmt = line.paragraph_format
        # one character in from the left (a full-width space: the red rule below spans the whole
        # text width, which an indent would shorten), the signer one character from the right
        fmt.tab_stops.add_tab_stop(Mm(_TEXT_WIDTH_MM) - Pt(self.body_pt), WD_TAB_ALIGNMENT.RIGHT)
        self._run(line, f"\u3000{number}" if self.zh else f"{number_label} {number}")
        self._run(line, "\t" + signer_label)
        self._run(line, signer, self.kai_font)
        borders = OxmlElement("w:pBdr")
        bottom = OxmlElement("w:bottom")
        for attr, value in (("w:val", "single"), ("w:sz", "12"), ("w:space", "11"), ("w:color", _RED)):
            bottom.set(qn(attr), value)  # 1.5 pt, 11 pt (4 mm) below the line
        borders.append(bottom)
        line._p.get_or_add_pPr().insert_element_before(borders, "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku",
                                  "w:wordWrap", "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE",
                                  "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid", "w:spacing",
                                  "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
                                  "w:textDirection", "w:textAlignment", "w:textboxTightWrap",
                                  "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")

    def title(self, text: str) -> None:
        """The title, two lines below the red rule, centred (2号小标宋)."""
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Pt

        para = self.doc.add_paragraph(style="Title")
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        fmt = para.paragraph_format
        fmt.space_before, fmt.space_after = Pt(2 * self.line_pt), Pt(0)
        fmt.line_spacing = Pt(self.title_pt * 1.45)
        self._run(para, text)

    def addressee(self, text: str) -> None:
        """主送机关, one line below the title, from the left margin."""
        para = self._para(before_lines=1)
        self._run(para, text)

    def annexes(self, label: str, titles: list[str]) -> None:
        """附件说明: one line below the text, two characters in, the annexes numbered (``1.``);
        the second annex under the first."""
        from docx.shared import Pt

        items = [f"{n}.{title}" if self.zh else f"{n}. {title}" for n, title in enumerate(titles, start=1)]
        first = self._para(indent_chars=2, before_lines=1)
        self._run(first, label + items[0])
        shift = (2 + (_text_mm(label, self.body_pt) * 72 / 25.4) / self.body_pt)  # in characters
        for item in items[1:]:
            para = self._para()
            para.paragraph_format.left_indent = Pt(shift * self.body_pt)
            self._run(para, item)

    def signature(self, issuer: str, date: str) -> None:
        """发文机关署名 and 成文日期 (GB/T 9704 7.3.5.2, no seal): one line below, the issuer two
        characters from the right, the date below it starting two characters further right
        (the issuer moving left when the date is the longer)."""
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Pt

        em = self.body_pt * 25.4 / 72
        wi, wd = _text_mm(issuer, self.body_pt) / em, _text_mm(date, self.body_pt) / em  # in characters
        right_i, right_d = 2.0, 2.0 + wi - 2.0 - wd
        if right_d < 2.0:
            right_d, right_i = 2.0, 2.0 + wd + 2.0 - wi
        for text, right, before in ((issuer, right_i, 1), (date, right_d, 0)):
            para = self._para(align=WD_ALIGN_PARAGRAPH.RIGHT, before_lines=before)
            para.paragraph_format.right_indent = Pt(right * self.body_pt)
            para.paragraph_format.keep_with_next = before == 1
            self._run(para, text)

    def annex_heading(self, label: str, title: str) -> None:
        """A new page: 附件N in 黑体 on the first line, the title centred on the third."""
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        para = self._para()
        para.paragraph_format.page_break_before = True
        self._run(para, label, self.heading_font, bold=None if self.zh else True)
        head = self.doc.add_paragraph(style="Title")
        head.alignment = WD_ALIGN_PARAGRAPH.CENTER
        from docx.shared import Pt

        head.paragraph_format.space_before = Pt(self.line_pt)
        head.paragraph_format.space_after = Pt(self.line_pt / 2)
        head.paragraph_format.line_spacing = Pt(self.title_pt * 1.45)
        self._run(head, title)

    # ------------------------------------------------------------------ tables
    def table(self, header: list[str], rows: list[list[str]], numeric: set[int], weights: list[float],
              *, size_pt: float | None = None) -> None:
        """A table with a header row repeated on every page: columns in ``numeric`` right-aligned
        and never wrapped, as wide as their widest entry, at the largest size from ``size_pt``
        down to 7.5 pt at which they fit; rows never split across pages."""
        from docx.enum.table import WD_TABLE_ALIGNMENT
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn
        from docx.shared import Mm, Pt

        size = size_pt or self.table_pt
        widths = _column_widths(header, rows, numeric, weights, size)
        while widths is None and size > _MIN_TABLE_PT:
            size -= 0.5
            widths = _column_widths(header, rows, numeric, weights, size)
        if widths is None:
            widths = [_TEXT_WIDTH_MM / len(header)] * len(header)
        table = self.doc.add_table(rows=1 + len(rows), cols=len(header))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        margins = OxmlElement("w:tblCellMar")
        for side in ("left", "right"):
            m = OxmlElement(f"w:{side}")
            m.set(qn("w:w"), str(round(_CELL_MARGIN_MM / 25.4 * 1440)))
            m.set(qn("w:type"), "dxa")
            margins.append(m)
        table._tbl.tblPr.insert_element_before(margins, "w:tblLook", "w:tblCaption", "w:tblDescription")
        for col, width in zip(table.columns, widths, strict=True):
            col.width = Mm(width)  # the grid (LibreOffice, WPS); every cell below (Word)
        for r, values in enumerate([header, *rows]):
            row = table.rows[r]
            tr = row._tr.get_or_add_trPr()
            tr.append(OxmlElement("w:cantSplit"))
            if r == 0:
                repeat = OxmlElement("w:tblHeader")
                repeat.set(qn("w:val"), "true")
                tr.append(repeat)
            for c, value in enumerate(values):
                cell = row.cells[c]
                cell.width = Mm(widths[c])
                para = cell.paragraphs[0]
                para.paragraph_format.line_spacing = 1.0
                para.paragraph_format.first_line_indent = Pt(0)
                if r == 0:
                    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
                elif c in numeric:
                    para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                if c in numeric and (r > 0 or c == 0):
                    cell._tc.get_or_add_tcPr().append(OxmlElement("w:noWrap"))
                run = self._run(para, str(value), self.heading_font if (r == 0 and self.zh) else None,
                                size=size, bold=True if (r == 0 and not self.zh) else None)
                del run
        self.doc.add_paragraph()

    def save(self, path: Path) -> None:
        props = self.doc.core_properties
        props.author, props.comments = "qzfp", ""
        self.doc.save(str(path))
