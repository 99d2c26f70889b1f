"""The content of the budget proposal, computed from :class:`qzfp.model.run.Results`: the
totals, line items, counties and funders, the rules and assumptions in force, the
sensitivity ranking and the Monte Carlo band (no formatting yet)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ... import i18n
from ...errors import Problem, QzfpError
from ...i18n import t

#: Sensitivities shown in section 5 [assumptions].
TOP_SENSITIVITIES = 5

#: Monte Carlo paths whose village-level budget is computed at once [path]: bounds the memory
#: of the budget band (measured on the example register over 16 years: 200 paths at once
#: peak at 1.1 GB, 50 at about a quarter of it, like the sensitivity ranking).
BAND_CHUNK_PATHS = 50

#: Document numbers (文号) as the rulebook cites them: 衢委办[2006]101号, 市委办[2001]9号,
#: 浙政办发〔2005〕12号, 国发[2004]1号 ...
DOCUMENT_NUMBER = re.compile(r"(?:[\u4e00-\u9fff][委政]办?[发函]?|[中国]办?发)[\[〔［]\d{4}[\]〕］]\d+号")



#: What a field of the letterhead holds when the user gave none: GB/T 9704 drafts mark what
#: is still to be filled in with ×.
PLACEHOLDER_NUMBER = "××"
PLACEHOLDER_SIGNER = "×××"
#: 机关代字 of the default issuer, the Quzhou FPA (衢州市计划生育协会): 衢计生协.
DEFAULT_ISSUER_CODE = "衢计生协"
_FULL_NUMBER = re.compile(r"^\s*(?P<code>[^\[〔［]*)[\[〔［](?P<year>\d{4})[\]〕］](?P<n>[^号]+)号\s*$")


@dataclass(frozen=True)
class Letterhead:
    """The letterhead (版头) and sign-off of the proposal, GB/T 9704-2012.

    ``number`` is the whole 发文字号 (``衢计生协〔2013〕12号``), ``placeholders`` the options
    left to their placeholder (``number``, ``signer``).
    """

    issuer: str
    code: str
    number: str
    signer: str
    addressee: str
    date: dt.date
    placeholders: tuple[str, ...] = ()


def letterhead(lang: str, *, issuer: str | None = None, code: str | None = None, number: str | None = None,
               signer: str | None = None, addressee: str | None = None, date: str | dt.date | None = None,
               today: dt.date | None = None) -> Letterhead:
    """The letterhead from ``qzfp proposal``'s options, with defaults: the issuer is the Quzhou
    association, the addressee the city's finance bureau (市财政局), the date today; the
    document's serial number and the signer are placeholders (``××``, ``×××``) until given.

    Parameters
    ----------
    number : str, optional
        The serial number (``12``: ``<code>〔<year of date>〕12号``) or the whole number
        (``衢计生协〔2013〕12号``, ``[2013]`` brackets written as 〔〕).
    date : str or date, optional
        成文日期, ``YYYY-MM-DD``.

    Raises
    ------
    QzfpError
        A date that is not ``YYYY-MM-DD``, a number that is neither a serial nor a whole number,
        an empty issuer or addressee.
    """
    problems = []
    when = today or dt.date.today()
    if isinstance(date, dt.date):
        when = date
    elif date is not None:
        try:
            when = dt.date.fromisoformat(str(date).strip())
        except ValueError:
            problems.append(Problem("--date", "proposal.bad_date", value=date))
    placeholders = []
    code = (code if code is not None else DEFAULT_ISSUER_CODE).strip()
    if number is None:
        placeholders.append("number")
        text = f"{code}〔{when.year}〕{PLACEHOLDER_NUMBER}号"
    elif str(number).strip().isdigit():
        text = f"{code}〔{when.year}〕{int(str(number).strip())}号"
    else:
        m = _FULL_NUMBER.match(str(number))
        if m and m["code"].strip():
            text = f"{m['code'].strip()}〔{m['year']}〕{m['n'].strip()}号"
        else:
            problems.append(Problem("--number", "proposal.bad_number", value=number))
            text = ""
    if signer is None:
        placeholders.append("signer")
    for option, value in (("--issuer", issuer), ("--addressee", addressee), ("--signer", signer)):
        if value is not None and not str(value).strip():
            problems.append(Problem(option, "proposal.empty_option"))
    if problems:
        raise QzfpError(problems)
    return Letterhead(
        issuer=str(issuer).strip() if issuer else t("prop.default_issuer", lang),
        code=code, number=text,
        signer=str(signer).strip() if signer else PLACEHOLDER_SIGNER,
        addressee=str(addressee).strip() if addressee else t("prop.default_addressee", lang),
        date=when, placeholders=tuple(placeholders))


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
    #: the letterhead (版头) and sign-off
    head: Letterhead | None = None
    #: what the rules require in the year: ``population`` [person], ``villages``,
    #: ``villages_staffed``, ``threshold`` [person], ``village_posts``, ``township_posts``,
    #: ``county_posts``, ``total_posts``, ``variant`` (label)
    posts: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def check_year(results: Any, year: int, where: str = "--year") -> int:
    """``year`` as an int if the scenario models it, else a :class:`QzfpError` naming the range
    (``results``: anything with ``years`` and ``name``, a Results or a Scenario)."""
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


def value_text(value: Any, lang: str, unit: str = "") -> str:
    """A rule's value as the proposal shows it (:func:`qzfp.i18n.value_text`: yes/no, a number
    to at most four decimals, a year without a separator, or the text)."""
    return i18n.value_text(value, lang, unit)


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


def bracketed(text: str) -> str:
    """``text`` with the year of every document number it cites in 六角括号 〔〕, as GB/T
    9704-2012 (7.2.5) writes a 发文字号: ``衢委办[2006]101号`` → ``衢委办〔2006〕101号``."""
    return DOCUMENT_NUMBER.sub(lambda m: re.sub(r"[\[［](\d{4})[\]］]", r"〔\1〕", m.group(0)), str(text))


def documents_cited(references: pd.Series) -> list[str]:
    """Document numbers (文号) cited by ``references``, in order of first citation, their years
    in 〔〕 (:func:`bracketed`)."""
    seen: dict[str, None] = {}
    for ref in references.astype(str):
        for doc in DOCUMENT_NUMBER.findall(ref):
            seen.setdefault(bracketed(doc), None)
    return list(seen)


def _with_basis(lines: pd.DataFrame, rules: pd.DataFrame, assumptions: pd.DataFrame) -> pd.DataFrame:
    """The line items with where their rule is in the annexes: ``annex`` (1: the documented
    rules, 2: the assumptions; 0 if in neither), ``item`` (its number there, from 1) and
    ``documents`` (the document numbers its reference cites)."""
    where = {p: (1, i + 1) for i, p in enumerate(rules["path"])}
    where.update({p: (2, i + 1) for i, p in enumerate(assumptions["path"])})
    out = lines.copy()
    out["annex"] = [where.get(p, (0, 0))[0] for p in lines["rule_path"]]
    out["item"] = [where.get(p, (0, 0))[1] for p in lines["rule_path"]]
    out["documents"] = [documents_cited(pd.Series([r])) for r in lines["reference"]]
    return out


def _parameter_rows(rows: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The rules or assumptions as the annexes show them (document numbers in 〔〕)."""
    return pd.DataFrame({
        "path": rows["path"].to_numpy(),
        "description": [bracketed(d) for d in rows["description"].astype(str)],
        "value": [value_text(v, lang, u) for v, u in zip(rows["value"], rows["unit"], strict=True)],
        "unit": rows["unit"].astype(str).to_numpy(),
        "since": rows["since"].astype(str).to_numpy(),
        "reference": [bracketed(r) for r in rows["reference"].astype(str)],
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
    from ...model.montecarlo import monte_carlo
    from ...model.run import run_arrays
    from ..sections import mc_chunk_paths

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
    from ...model.run import simulate
    from ...rules.scenario import Scenario, load_scenario

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
                   band: dict[str, float] | None = None, head: Letterhead | None = None) -> Proposal:
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
    head : Letterhead, optional
        The letterhead (default: :func:`letterhead` with every default).
    """
    i18n.check_lang(lang)
    head = head or letterhead(lang)
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
    title = bracketed(s.title_in(lang))
    rules, assumptions = _parameter_rows(documented, lang), _parameter_rows(assumed, lang)
    lines = _with_basis(lines, rules, assumptions)
    if not sens.empty:  # the value in force in the year, from the rows the line items read
        now = force.set_index("path")
        sens["base_value"] = [now["value"].get(p, v) for p, v in zip(sens["path"], sens["base_value"], strict=True)]
        sens["unit"] = [now["unit"].get(p, u) for p, u in zip(sens["path"], sens["unit"], strict=True)]
    summ = results.summary().set_index("year").loc[year]
    posts = {
        "population": float(summ["population"]), "villages": int(summ["villages"]),
        "villages_staffed": int(summ["villages_at_or_above_threshold"]),
        "threshold": float(s.value("village.vice_president.population_threshold", year)),
        "village_posts": float(summ["village_vice_presidents"]),
        "township_posts": float(summ["township_vice_presidents"]),
        "county_posts": float(summ["county_posts"]), "total_posts": float(summ["total_posts"]),
        "variant": t(f"variant.{s.params.get('variant', 'medium')}", lang),
    }
    return Proposal(
        lang=lang, year=year, scenario_name=s.name, title=title,
        total_yuan=float(row["amount_yuan"]), population=float(row["population"]),
        per_capita_yuan=float(row["per_capita_yuan"]),
        funders_yuan={f: float(row[f"{f}_yuan"]) for f in ("city", "county", "township")},
        previous_yuan=float(city.loc[year - 1, "amount_yuan"]) if year - 1 in city.index else None,
        baseline_yuan=baseline_yuan, is_baseline=is_baseline,
        lines=lines, n_zero_lines=n_zero, counties=county_table(results, year, lang),
        documents=documents_cited(documented["reference"]),
        rules=rules, assumptions=assumptions, posts=posts, head=head,
        sensitivity_pct=float(sensitivity.attrs.get("pct", s.params.get("sensitivity_pct", 10.0)))
        if sensitivity is not None else float(s.params.get("sensitivity_pct", 10.0)),
        sensitivity=sens, band=band,
    )


def proposal_for(results: Any, year: int, lang: str, head: Letterhead | None = None) -> Proposal:
    """:func:`build_proposal` with the baseline, the sensitivity ranking for ``year`` and the
    Monte Carlo band computed here (what ``qzfp proposal`` shows)."""
    from ...model.comparison import sensitivity

    year = check_year(results, year)
    base, is_base = _baseline_total(results, year)
    pct = float(results.scenario.params.get("sensitivity_pct", 10.0))
    sens = sensitivity(results.scenario, pct, register=None, year=year) if 0 < pct < 100 else None
    return build_proposal(results, year, lang, baseline_yuan=base, is_baseline=is_base,
                          sensitivity=sens, band=budget_band(results, year), head=head)
