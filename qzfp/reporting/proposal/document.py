"""The budget proposal as a .docx: a request (请示) to the finance bureau in the form of GB/T
9704-2012 (:mod:`.form`), the English version its translation in the same form: the
letterhead, the title and addressee, 一、the request, 二、its basis, 三、the line items, 四、by
county and funder, 五、the uncertainties, the closing, the annexes listed, the sign-off,
and 附件1 (the documented rules) and 附件2 (the assumptions); and the numbers as offices
write them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ... import i18n
from ...i18n import format_number, t
from .content import Proposal, value_text
from .form import OfficialDocument

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


# =========================================================================== the proposal


def date_text(day: Any, lang: str) -> str:
    """成文日期: ``2013年11月20日`` (Arabic numerals, the year in full, no padding) or
    ``20 November 2013``."""
    import calendar

    if lang == "zh":
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {calendar.month_name[day.month]} {day.year}"


def _documents(docs: list[str], lang: str, limit: int | None = None) -> str:
    shown = docs[:limit] if limit else docs
    return ("、" if lang == "zh" else ", ").join(shown)


def write_docx(p: Proposal, path: Path) -> Path:
    """Write the proposal as a .docx file at ``path``."""
    lg = p.lang
    head = p.head
    assert head is not None
    w = OfficialDocument(lg)
    w.letterhead(head.issuer, t("prop.org_mark_word", lg), t("prop.number_label", lg), head.number,
                 t("prop.signer", lg), head.signer)
    w.title(t("prop.title", lg, year=p.year, place=t("app.city", lg)))
    w.addressee(t("prop.addressee", lg, addressee=head.addressee))
    if p.documents:
        w.paragraph(t("prop.opening", lg, year=p.year, documents=_documents(p.documents, lg, 2)))
    else:
        w.paragraph(t("prop.opening_no_documents", lg, year=p.year))

    w.heading(t("prop.h_request", lg), 1)
    w.paragraph(request_paragraph(p))
    _basis_section(w, p)
    _lines_section(w, p)
    _counties_section(w, p)
    _uncertainty_section(w, p)
    w.paragraph(t("prop.closing", lg))
    w.annexes(t("prop.annexes", lg), [t("prop.annex_rules", lg), t("prop.annex_assumptions", lg)])
    w.signature(head.issuer, date_text(head.date, lg))
    _annex_rules(w, p)
    _annex_assumptions(w, p)
    path = Path(path)
    w.save(path)
    return path


def _basis_section(w: OfficialDocument, p: Proposal) -> None:
    """二、测算依据: the documents, the method (population, posts, funds) and the assumptions."""
    lg = p.lang
    w.heading(t("prop.h_basis", lg), 1)
    w.heading(t("prop.h_policy", lg), 2)
    if p.documents:
        w.paragraph(t("prop.basis_documents", lg, year=p.year, documents=_documents(p.documents, lg)))
    else:
        w.paragraph(t("prop.basis_no_documents", lg, year=p.year))
    w.heading(t("prop.h_method", lg), 2)
    w.paragraph(t("prop.scenario", lg, title=p.title))
    q = p.posts
    w.run_in(t("prop.m_population", lg), t("prop.m_population_text", lg, year=p.year, variant=q["variant"],
                                           population=i18n.format_persons(q["population"], lg)))
    w.run_in(t("prop.m_posts", lg), t("prop.m_posts_text", lg, total=format_number(q["total_posts"], lg)))
    w.run_in(t("prop.m_posts_village", lg), t(
        "prop.m_posts_village_text", lg, threshold=format_number(q["threshold"], lg), year=p.year,
        villages=format_number(q["villages"], lg), staffed=format_number(q["villages_staffed"], lg),
        posts=format_number(q["village_posts"], lg)))
    w.run_in(t("prop.m_posts_township", lg), t("prop.m_posts_township_text", lg,
                                               posts=format_number(q["township_posts"], lg)))
    w.run_in(t("prop.m_posts_county", lg), t("prop.m_posts_county_text", lg,
                                             posts=format_number(q["county_posts"], lg)))
    w.run_in(t("prop.m_costs", lg), t("prop.m_costs_text", lg, year=p.year))
    w.heading(t("prop.h_assumptions", lg), 2)
    w.paragraph(t("prop.assumptions_note", lg, n=len(p.assumptions)))


def basis_text(line: Any, lang: str) -> str:
    """The 依据 of a line item: the documents its rule cites and the rule's item in the annexes."""
    where = t("prop.basis_item", lang, annex=line.annex, item=line.item) if line.annex else ""
    docs = _documents(list(line.documents), lang)
    if docs and where:
        return f"{docs}（{where}）" if lang == "zh" else f"{docs} ({where})"
    return docs or where


def _lines_section(w: OfficialDocument, p: Proposal) -> None:
    """三、经费明细: quantity × unit cost = amount, with the basis of every line."""
    lg = p.lang
    w.heading(t("prop.h_lines", lg), 1)
    w.paragraph(t("prop.lines_note", lg, n=len(p.lines), n_zero=p.n_zero_lines, year=p.year))
    rows = [[str(i + 1), r.label, quantity_text(r.quantity, lg), r.quantity_unit, yuan(r.unit_cost_yuan, lg),
             yuan(r.amount_yuan, lg), basis_text(r, lg)]
            for i, r in enumerate(p.lines.itertuples())]
    rows.append(["", t("total", lg), "", "", "", yuan(p.lines["amount_yuan"].sum(), lg), ""])
    w.table([t("prop.col.no", lg), t("prop.col.item", lg), t("prop.col.quantity", lg), t("prop.col.unit", lg),
             t("prop.col.unit_cost", lg), t("prop.col.amount", lg), t("prop.col.basis", lg)],
            rows, numeric={0, 2, 4, 5}, weights=[0, 3.0, 0, 1.0, 0, 0, 3.2], size_pt=9.0)


def _counties_section(w: OfficialDocument, p: Proposal) -> None:
    """四、by county (whole persons adding up to the city's) and by funder."""
    from ..sections.display import whole_parts

    lg = p.lang
    w.heading(t("prop.h_counties", lg), 1)
    w.heading(t("prop.h_by_county", lg), 2)
    w.paragraph(t("prop.counties_note", lg))
    c = p.counties
    persons = whole_parts(c["population"].to_numpy(dtype=float))
    rows = [[r.county, format_number(n, lg), yuan(r.amount_yuan, lg), yuan(r.city_yuan, lg),
             yuan(r.county_yuan, lg), yuan(r.township_yuan, lg), yuan(r.per_capita_yuan, lg)]
            for r, n in zip(c.itertuples(), persons, strict=True)]
    rows.append([t("total", lg), format_number(persons.sum(), lg), yuan(p.total_yuan, lg),
                 *(yuan(p.funders_yuan[f], lg) for f in ("city", "county", "township")),
                 yuan(p.per_capita_yuan, lg)])
    w.table([t("prop.col.county", lg), t("prop.col.population", lg), t("prop.col.amount", lg),
             t("prop.col.city_share", lg), t("prop.col.county_share", lg), t("prop.col.township_share", lg),
             t("prop.col.per_capita", lg)], rows, numeric={1, 2, 3, 4, 5, 6},
            weights=[1.0, 0, 0, 0, 0, 0, 0], size_pt=9.0)
    w.heading(t("prop.h_by_funder", lg), 2)
    w.paragraph(t("prop.by_funder", lg, year=p.year, **{f: wan_yuan(v, lg) for f, v in p.funders_yuan.items()}))


def _uncertainty_section(w: OfficialDocument, p: Proposal) -> None:
    """五、the sensitivity ranking (values in force in the year) and the Monte Carlo band."""
    lg = p.lang
    w.heading(t("prop.h_uncertainty", lg), 1)
    w.heading(t("prop.h_sensitivity", lg), 2)
    pct = format_number(p.sensitivity_pct, lg, 0 if float(p.sensitivity_pct).is_integer() else 1)
    if p.sensitivity.empty:
        w.paragraph(t("prop.no_sensitivity", lg, pct=pct, year=p.year))
    else:
        w.paragraph(t("prop.sensitivity", lg, pct=pct, n=len(p.sensitivity), year=p.year))
        w.table([t("prop.col.no", lg), t("prop.col.assumption", lg), t("prop.col.base_value", lg),
                 t("prop.col.effect_low", lg, pct=pct), t("prop.col.effect_high", lg, pct=pct)],
                [[str(i + 1), r.label, f"{value_text(r.base_value, lg, r.unit)} {r.unit}".strip(),
                  _signed(r.budget_effect_low_yuan, lg), _signed(r.budget_effect_high_yuan, lg)]
                 for i, r in enumerate(p.sensitivity.itertuples())], numeric={0, 2, 3, 4},
                weights=[0, 1.0, 0, 0, 0], size_pt=9.0)
    w.heading(t("prop.h_band", lg), 2)
    if p.band is None:
        w.paragraph(t("prop.no_band", lg))
    else:
        b = p.band
        w.paragraph(t("prop.band", lg, n_paths=format_number(b["n_paths"], lg), year=p.year,
                      pop_low=i18n.format_persons(b["pop_q10"], lg), pop_high=i18n.format_persons(b["pop_q90"], lg),
                      low=wan_yuan(b["q10"], lg), high=wan_yuan(b["q90"], lg)))


def _annex_rules(w: OfficialDocument, p: Proposal) -> None:
    """附件1: every documented rule in force with its value, unit and reference."""
    lg = p.lang
    w.annex_heading(t("prop.annex_label", lg, n=1), t("prop.annex_rules", lg))
    w.paragraph(t("prop.annex_rules_note", lg, year=p.year))
    w.table([t("prop.col.no", lg), t("prop.col.description", lg), t("prop.col.value", lg),
             t("prop.col.unit", lg), t("prop.col.reference", lg)],
            [[str(i + 1), r.description, r.value, r.unit, r.reference] for i, r in enumerate(p.rules.itertuples())],
            numeric={0, 2}, weights=[0, 3.0, 0, 1.1, 3.0])


def _annex_assumptions(w: OfficialDocument, p: Proposal) -> None:
    """附件2: every assumption in force with its reason."""
    lg = p.lang
    w.annex_heading(t("prop.annex_label", lg, n=2), t("prop.annex_assumptions", lg))
    w.paragraph(t("prop.appendix_note", lg, year=p.year))
    w.table([t("prop.col.no", lg), t("prop.col.description", lg), t("prop.col.value", lg),
             t("prop.col.unit", lg), t("prop.col.reference", lg)],
            [[str(i + 1), r.description, r.value, r.unit, r.reference]
             for i, r in enumerate(p.assumptions.itertuples())],
            numeric={0, 2}, weights=[0, 3.0, 0, 1.1, 3.4])


def _signed(x: float, lang: str) -> str:
    text = yuan(abs(x), lang)
    return text if round(x, 2) == 0 else ("+" if x > 0 else "−") + text
