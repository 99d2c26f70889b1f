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
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import i18n
from ..errors import Label, Problem, QzfpError, RunError
from ..i18n import format_number, t

#: File names written into the output folder.
DOCX_NAME = "proposal.docx"
PDF_NAME = "proposal.pdf"

#: Sensitivities shown in section 5 [assumptions].
TOP_SENSITIVITIES = 5

#: Monte Carlo paths whose village-level budget is computed at once [path]: bounds the memory
#: of the budget band (measured on the example register over 16 years: 200 paths at once
#: peak at 1.1 GB, 50 at about a quarter of it, like the sensitivity ranking).
BAND_CHUNK_PATHS = 50

#: Seconds LibreOffice may take to convert the document [s].
SOFFICE_TIMEOUT_S = 240.0

#: Document numbers (文号) as the rulebook cites them: 衢委办[2006]101号, 市委办[2001]9号,
#: 浙政办发〔2005〕12号, 国发[2004]1号 ...
DOCUMENT_NUMBER = re.compile(r"(?:[\u4e00-\u9fff][委政]办?[发函]?|[中国]办?发)[\[〔［]\d{4}[\]〕］]\d+号")

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


# =========================================================================== the content


@dataclass
class Proposal:
    """Everything the proposal shows, computed from the model (no formatting yet).

    Amounts in yuan, populations in persons; tables with the columns listed.
    """

    lang: str
    year: int
    scenario_name: str
    title: str
    total_yuan: float
    population: float
    per_capita_yuan: float
    funders_yuan: dict[str, float]
    previous_yuan: float | None
    baseline_yuan: float | None
    is_baseline: bool
    #: ``line, label, quantity, quantity_unit, unit_cost_yuan, amount_yuan, rule_path, rule, reference``
    lines: pd.DataFrame
    n_zero_lines: int
    #: ``county_code, county, population, amount_yuan, city_yuan, county_yuan, township_yuan, per_capita_yuan``
    counties: pd.DataFrame
    documents: list[str]
    #: ``path, description, value, unit, since, reference`` of the documented rules in force
    rules: pd.DataFrame
    #: same columns, the assumptions in force
    assumptions: pd.DataFrame
    sensitivity_pct: float
    #: ``path, label, unit, base_value, budget_effect_low_yuan, budget_effect_high_yuan``
    sensitivity: pd.DataFrame
    band: dict[str, float] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def check_year(results: Any, year: int, where: str = "--year") -> int:
    """``year`` as an int if the scenario models it, else a :class:`QzfpError` naming the range."""
    years = [int(y) for y in results.years]
    if int(year) not in years:
        raise QzfpError(Problem(where, "proposal.year_not_modelled", year=year, scenario=results.name,
                                first=years[0], last=years[-1]))
    return int(year)


def in_force(used: pd.DataFrame, year: int) -> pd.DataFrame:
    """The row of every parameter whose value is in force on 1 January ``year``.

    Parameters
    ----------
    used : DataFrame
        :meth:`qzfp.rules.scenario.Scenario.used_parameters` (localised or not): ``path, since, ...``.
    """
    jan1 = dt.date(int(year), 1, 1).isoformat()
    rows = used[used["since"].astype(str) <= jan1]
    return rows.sort_values(["path", "since"]).groupby("path", sort=True).tail(1).reset_index(drop=True)


def _value_text(value: Any, lang: str) -> str:
    if isinstance(value, bool):
        return t("yesno.yes" if value else "yesno.no", lang)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return format_number(value, lang, 4).rstrip("0").rstrip(".")
    return str(value)


def line_items(results: Any, year: int, lang: str, used: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """City line items of ``year``: the sums over counties of :attr:`Results.budget`.

    The unit cost of a line is the same in every county (the rulebook is the city's), so the
    city line is ``Σ quantity × unit cost = Σ amount``.  Lines with no amount are left out;
    their number is returned.  The reference is that of the rule's value in force in
    ``year`` in ``used`` (:func:`qzfp.i18n.localise_parameters` for the reader's language).
    """
    b = results.budget[results.budget["year"] == year]
    g = b.groupby("line", sort=False).agg(
        quantity=("quantity", "sum"), quantity_unit=("quantity_unit", "first"),
        unit_cost_yuan=("unit_cost_yuan", "first"), amount_yuan=("amount_yuan", "sum"),
        rule_path=("rule_path", "first"), reference=("reference", "first")).reset_index()
    refs = in_force(used, year).set_index("path")["reference"]
    shown = g[g["amount_yuan"] != 0].reset_index(drop=True)
    out = pd.DataFrame({
        "line": shown["line"],
        "label": [i18n.budget_line_label(x, lang) for x in shown["line"]],
        "quantity": shown["quantity"].astype(float),
        "quantity_unit": [i18n.unit_label(u, lang) for u in shown["quantity_unit"]],
        "unit_cost_yuan": shown["unit_cost_yuan"].astype(float),
        "amount_yuan": shown["amount_yuan"].astype(float),
        "rule_path": shown["rule_path"],
        "rule": [i18n.param_label(p, lang) for p in shown["rule_path"]],
        "reference": [str(refs.get(p, i18n.reference_label(r, lang)))
                      for p, r in zip(shown["rule_path"], shown["reference"], strict=True)],
    })
    return out, int(len(g) - len(shown))


def county_table(results: Any, year: int, lang: str) -> pd.DataFrame:
    """Per county of ``year``: registered population, amount, the three funders' parts, per capita."""
    tt = results.budget_totals
    tt = tt[(tt["year"] == year) & (tt["county_code"] != "all")]
    names = i18n.place_names(tt["county_code"], lang, results.register)
    return pd.DataFrame({
        "county_code": tt["county_code"].astype(str).to_numpy(),
        "county": names,
        "population": tt["population"].to_numpy(dtype=float),
        "amount_yuan": tt["amount_yuan"].to_numpy(dtype=float),
        "city_yuan": tt["city_yuan"].to_numpy(dtype=float),
        "county_yuan": tt["county_yuan"].to_numpy(dtype=float),
        "township_yuan": tt["township_yuan"].to_numpy(dtype=float),
        "per_capita_yuan": tt["per_capita_yuan"].to_numpy(dtype=float),
    })


def documents_cited(references: pd.Series) -> list[str]:
    """Document numbers (文号) cited by ``references``, in order of first citation."""
    seen: dict[str, None] = {}
    for ref in references.astype(str):
        for doc in DOCUMENT_NUMBER.findall(ref):
            seen.setdefault(doc, None)
    return list(seen)


def _parameter_rows(rows: pd.DataFrame, lang: str) -> pd.DataFrame:
    return pd.DataFrame({
        "path": rows["path"].to_numpy(),
        "description": rows["description"].astype(str).to_numpy(),
        "value": [_value_text(v, lang) for v in rows["value"]],
        "unit": rows["unit"].astype(str).to_numpy(),
        "since": rows["since"].astype(str).to_numpy(),
        "reference": rows["reference"].astype(str).to_numpy(),
    })


def budget_band(results: Any, year: int) -> dict[str, float] | None:
    """10th, 50th and 90th percentiles of the registered population and of the budget of
    ``year`` over the scenario's ``mc_paths`` Monte Carlo paths (None with 0 paths).

    The population band is the one of the population page (``01_population``): the same
    paths (:func:`qzfp.population.monte_carlo` with the scenario's seed, in the chunks of
    :func:`qzfp.reporting.sections.mc_chunk_paths`).  The budget band carries as many paths of the same
    distribution through staffing and budget with the scenario's rules
    (:func:`qzfp.model.run.run_arrays`), drawn in chunks of :data:`BAND_CHUNK_PATHS` from
    the children of ``SeedSequence(seed)`` so that memory stays bounded.

    Returns
    -------
    dict or None
        ``n_paths``, ``pop_q10``, ``pop_q50``, ``pop_q90`` [person], ``q10``, ``q50``, ``q90``
        [yuan/year].
    """
    from ..model.montecarlo import monte_carlo
    from ..model.run import run_arrays
    from .sections import mc_chunk_paths

    s = results.scenario
    n_paths = int(s.params.get("mc_paths", 0) or 0)
    if n_paths <= 0:
        return None
    seed = int(s.params.get("seed", 0) or 0)
    variant = str(s.params.get("variant", "medium"))
    reg, pa = results.register, s.arrays()
    yi = int(np.flatnonzero(np.asarray(results.years) == year)[0])

    def plan(chunk: int) -> list[tuple[int, Any]]:
        if n_paths <= chunk:
            return [(n_paths, seed)]
        children = np.random.SeedSequence(seed).spawn(-(-n_paths // chunk))
        return [(min(chunk, n_paths - i * chunk), ss) for i, ss in enumerate(children)]

    pop = np.concatenate([monte_carlo(reg, pa, n, sd, variant=variant).city_indicators()["pop"][:, yi]
                          for n, sd in plan(mc_chunk_paths(reg, len(results.years), n_paths))])
    budgets = []
    for n, sd in plan(BAND_CHUNK_PATHS):
        ar = run_arrays(reg, pa, variant=variant, population=monte_carlo(reg, pa, n, sd, variant=variant))
        budgets.append(ar.budget.year_total[:, yi])
    pq, bq = np.quantile(pop, [0.1, 0.5, 0.9]), np.quantile(np.concatenate(budgets), [0.1, 0.5, 0.9])
    return {"n_paths": float(n_paths), "pop_q10": pq[0], "pop_q50": pq[1], "pop_q90": pq[2],
            "q10": bq[0], "q50": bq[1], "q90": bq[2]}


#: Keys of the scenario the baseline is computed with: its rules on the scenario's years and data.
_BASELINE_ALIGNED = ("start_year", "horizon", "lang", "register", "census", "census_date")


def _baseline_total(results: Any, year: int) -> tuple[float | None, bool]:
    """The budget of ``year`` in the baseline scenario (the packaged one, or ``params/baseline.yaml``
    of the working folder) with the scenario's years, register and census, and whether the
    scenario is the baseline itself (its name is ``baseline``; None then)."""
    from ..model.run import simulate
    from ..rules.scenario import Scenario, load_scenario

    s = results.scenario
    if s.name == "baseline":
        return None, True
    try:
        base = load_scenario("baseline")
    except QzfpError:  # no baseline to compare with (a folder without params/baseline.yaml)
        return None, False
    params = {**base.to_papermill(), **{k: s.params[k] for k in _BASELINE_ALIGNED if k in s.params}}
    b = simulate(Scenario.from_parameters(**params)).budget_totals
    return float(b[(b["county_code"] == "all") & (b["year"] == year)]["amount_yuan"].iloc[0]), False


def build_proposal(results: Any, year: int, lang: str, *, baseline_yuan: float | None = None,
                   is_baseline: bool = False, sensitivity: pd.DataFrame | None = None,
                   band: dict[str, float] | None = None) -> Proposal:
    """The content of the proposal for ``year`` from a scenario's results.

    Parameters
    ----------
    results : Results
    year : int
        Budget year (a modelled year).
    lang : str
        ``en`` or ``zh``.
    baseline_yuan : float, optional
        The baseline scenario's budget of ``year`` [yuan/year].
    is_baseline : bool
        The scenario is the baseline.
    sensitivity : DataFrame, optional
        :func:`qzfp.compare.sensitivity` with ``year=year`` (budget columns of that year).
    band : dict, optional
        :func:`budget_band`.
    """
    i18n.check_lang(lang)
    year = check_year(results, year)
    s = results.scenario
    tt = results.budget_totals
    city = tt[tt["county_code"] == "all"].set_index("year")
    row = city.loc[year]
    used = i18n.localise_parameters(s.used_parameters(), lang)
    lines, n_zero = line_items(results, year, lang, used)
    force = in_force(used, year)
    documented = force[~force["assumption"].astype(bool)]
    assumed = force[force["assumption"].astype(bool)]
    sens = pd.DataFrame(columns=["path", "label", "unit", "base_value", "budget_effect_low_yuan",
                                 "budget_effect_high_yuan"])
    if sensitivity is not None and not sensitivity.empty:
        top = sensitivity.head(TOP_SENSITIVITIES)
        sens = pd.DataFrame({
            "path": top["path"].to_numpy(),
            "label": [i18n.param_label(p, lang) for p in top["path"]],
            "unit": [i18n.unit_label(u, lang) for u in top["unit"]],
            "base_value": top["base_value"].to_numpy(dtype=float),
            "budget_effect_low_yuan": top["budget_effect_low_yuan"].to_numpy(dtype=float),
            "budget_effect_high_yuan": top["budget_effect_high_yuan"].to_numpy(dtype=float),
        })
    title = str(s.params.get("title") or "")
    return Proposal(
        lang=lang, year=year, scenario_name=s.name, title=title,
        total_yuan=float(row["amount_yuan"]), population=float(row["population"]),
        per_capita_yuan=float(row["per_capita_yuan"]),
        funders_yuan={f: float(row[f"{f}_yuan"]) for f in ("city", "county", "township")},
        previous_yuan=float(city.loc[year - 1, "amount_yuan"]) if year - 1 in city.index else None,
        baseline_yuan=baseline_yuan, is_baseline=is_baseline,
        lines=lines, n_zero_lines=n_zero, counties=county_table(results, year, lang),
        documents=documents_cited(documented["reference"]),
        rules=_parameter_rows(documented, lang), assumptions=_parameter_rows(assumed, lang),
        sensitivity_pct=float(sensitivity.attrs.get("pct", s.params.get("sensitivity_pct", 10.0)))
        if sensitivity is not None else float(s.params.get("sensitivity_pct", 10.0)),
        sensitivity=sens, band=band,
    )


def proposal_for(results: Any, year: int, lang: str) -> Proposal:
    """:func:`build_proposal` with the baseline, the sensitivity ranking for ``year`` and the
    Monte Carlo band computed here (what ``qzfp proposal`` shows)."""
    from ..model.comparison import sensitivity

    year = check_year(results, year)
    base, is_base = _baseline_total(results, year)
    pct = float(results.scenario.params.get("sensitivity_pct", 10.0))
    sens = sensitivity(results.scenario, pct, register=None, year=year) if 0 < pct < 100 else None
    return build_proposal(results, year, lang, baseline_yuan=base, is_baseline=is_base,
                          sensitivity=sens, band=budget_band(results, year))


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

    w.heading(t("prop.h_lines", lg))
    w.paragraph(t("prop.lines_note", lg, n_zero=p.n_zero_lines, year=p.year))
    rows = [[str(i + 1), r.label, quantity_text(r.quantity, lg), r.quantity_unit, yuan(r.unit_cost_yuan, lg),
             yuan(r.amount_yuan, lg), f"{r.rule}{'：' if zh else ': '}{r.reference}"]
            for i, r in enumerate(p.lines.itertuples())]
    rows.append(["", t("total", lg), "", "", "", yuan(p.lines["amount_yuan"].sum(), lg), ""])
    w.table([t("prop.col.no", lg), t("prop.col.item", lg), t("prop.col.quantity", lg), t("prop.col.unit", lg),
             t("prop.col.unit_cost", lg), t("prop.col.amount", lg), t("prop.col.reference", lg)],
            rows, numeric={0, 2, 4, 5}, widths_mm=[9, 24, 17, 12, 18, 24, 52], amounts=True)

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

    w.heading(t("prop.h_uncertainty", lg))
    pct = format_number(p.sensitivity_pct, lg, 0 if float(p.sensitivity_pct).is_integer() else 1)
    if p.sensitivity.empty:
        w.paragraph(t("prop.no_sensitivity", lg, pct=pct, year=p.year))
    else:
        w.paragraph(t("prop.sensitivity", lg, pct=pct, n=len(p.sensitivity), year=p.year))
        w.table([t("prop.col.no", lg), t("prop.col.assumption", lg), t("prop.col.base_value", lg),
                 t("prop.col.effect_low", lg, pct=pct), t("prop.col.effect_high", lg, pct=pct)],
                [[str(i + 1), r.label, f"{_value_text(r.base_value, lg)} {r.unit}".strip(),
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

    w.heading(t("prop.h_appendix", lg))
    w.paragraph(t("prop.appendix_note", lg, year=p.year))
    w.table([t("prop.col.no", lg), t("prop.col.rule", lg), t("prop.col.description", lg), t("prop.col.value", lg),
             t("prop.col.unit", lg), t("prop.col.reference", lg)],
            [[str(i + 1), r.path, r.description, r.value, r.unit, r.reference]
             for i, r in enumerate(p.assumptions.itertuples())], numeric={0, 3},
            widths_mm=[9, 30, 40, 15, 16, 46])
    path = Path(path)
    w.save(path)
    return path


def _signed(x: float, lang: str) -> str:
    text = yuan(abs(x), lang)
    return text if round(x, 2) == 0 else ("+" if x > 0 else "−") + text


# =========================================================================== the PDF


def soffice_path() -> str | None:
    """LibreOffice's program: ``QZFP_SOFFICE``, else ``soffice`` or ``libreoffice`` on the PATH."""
    env = os.environ.get("QZFP_SOFFICE")
    if env:
        return env if Path(env).is_file() or shutil.which(env) else None
    return shutil.which("soffice") or shutil.which("libreoffice")


def writer_missing(office: str) -> bool:
    """True when the LibreOffice at ``office`` visibly lacks Writer (Debian splits it into
    ``libreoffice-writer-nogui``; ``libreoffice-calc-nogui`` alone cannot read a .docx).
    An installation whose layout is not LibreOffice's usual one is given the benefit of the doubt."""
    program = Path(shutil.which(office) or office).resolve().parent
    return (program / "libmergedlo.so").exists() is False and (program / "libsclo.so").exists() \
        and not (program / "libswlo.so").exists()


def fontconfig_file(folder: Path) -> Path:
    """A fontconfig file in ``folder`` that adds ``qzfp/fonts`` to the system's fonts and maps
    every CJK font name the document uses (:data:`FONT_NAMES`) to the shipped font, so that
    LibreOffice draws and embeds it whatever fonts the machine has."""
    from xml.sax.saxutils import escape

    font_dir = Path(i18n.shipped_font_path()).parent
    aliases = "\n".join(
        f'  <alias binding="same"><family>{escape(n)}</family>'
        f"<prefer><family>{escape(i18n.SHIPPED_FONT_FAMILY)}</family></prefer></alias>"
        for n in FONT_NAMES)
    system = "/etc/fonts/fonts.conf"
    include = f'  <include ignore_missing="yes">{system}</include>\n' if Path(system).is_file() else ""
    conf = folder / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        f"{include}  <dir>{escape(str(font_dir))}</dir>\n"
        f"  <cachedir>{escape(str(folder / 'cache'))}</cachedir>\n{aliases}\n</fontconfig>\n",
        encoding="utf-8")
    return conf


def docx_to_pdf(docx: Path, pdf: Path, office: str | None = None) -> Path:
    """Convert ``docx`` to ``pdf`` with LibreOffice headless.

    LibreOffice runs with a profile of its own (``-env:UserInstallation``, so parallel runs
    do not collide) and :func:`fontconfig_file` (the shipped CJK font embedded).

    Raises
    ------
    RunError
        LibreOffice failed or wrote no PDF (its last message is given).
    """
    office = office or soffice_path()
    if office is None:
        raise RunError(Problem(str(pdf), "proposal.no_libreoffice"))
    with tempfile.TemporaryDirectory(prefix="qzfp-soffice-") as tmp_name:
        tmp = Path(tmp_name)
        env = {**os.environ, "FONTCONFIG_FILE": str(fontconfig_file(tmp)), "HOME": str(tmp)}
        cmd = [office, f"-env:UserInstallation={(tmp / 'profile').as_uri()}", "--headless", "--norestore",
               "--convert-to", "pdf:writer_pdf_Export", "--outdir", str(tmp / "out"), str(docx)]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=SOFFICE_TIMEOUT_S, env=env,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise RunError(Problem(str(pdf), "proposal.timeout", name=docx.name,
                                   seconds=SOFFICE_TIMEOUT_S)) from None
        made = tmp / "out" / (Path(docx).stem + ".pdf")
        if done.returncode != 0 or not made.is_file() or made.stat().st_size == 0:
            said = (done.stderr or done.stdout or "").strip().splitlines()
            hint = Label("hint.install_writer") if writer_missing(office) else ""
            raise RunError(Problem(str(pdf), "proposal.convert_failed", name=docx.name,
                                   code=done.returncode, said=": " + said[-1] if said else "",
                                   hint=hint))
        shutil.move(str(made), str(pdf))
    return pdf


# =========================================================================== the command


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
    year : int
        Budget year (a modelled year).
    lang : str, optional
        ``en`` or ``zh`` (default: the scenario's ``lang``).
    out : str or Path, optional
        Output folder (default :func:`default_out`).

    Returns
    -------
    dict
        ``docx`` and ``pdf`` paths.
    """
    from ..model.run import simulate
    from .publish import locked_tempdir, remove_stale_temporaries, unlock_dir
    from .run import load_scenarios

    sc = load_scenarios([scenario], lang=lang)[0]
    lg = lang or sc.lang
    results = simulate(sc)
    year = check_year(results, year)
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
    "DOCX_NAME",
    "PDF_NAME",
    "Proposal",
    "budget_band",
    "build_proposal",
    "docx_to_pdf",
    "fontconfig_file",
    "in_force",
    "line_items",
    "proposal_for",
    "write_docx",
    "write_proposal",
]
