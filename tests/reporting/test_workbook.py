"""The budget workbook: layout, totals, formats, labels and errors."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from qzfp.errors import RunError
from qzfp.reporting.workbook import (
    is_qzfp_formula,
    read_budget_totals,
    sheet_title,
    write_budget_workbook,
)

YEARS = (2006, 2007, 2008)
COUNTIES = {"330802": "柯城区", "330803": "衢江区"}
VP_ALLOWANCE = 60.0  # [yuan/month]
OFFICE_COST = 1234.56  # [yuan/person/year], has cents on purpose


def vp_posts(year: int, county: str) -> int:
    """Posts grow by 3 a year from 40 (county 330802) or 25 (330803)."""
    return (40 if county == "330802" else 25) + 3 * (year - YEARS[0])


def budget_table(office_cost: float = OFFICE_COST) -> pd.DataFrame:
    rows = []
    for year in YEARS:
        for county in COUNTIES:
            q = vp_posts(year, county)
            amount = q * VP_ALLOWANCE * 12
            rows.append(
                dict(year=year, county_code=county, line="village_vp_allowance",
                     rule_path="village.vice_president.allowance", reference="衢委办[2004]38号",
                     quantity=q, quantity_unit="post", unit_cost_yuan=VP_ALLOWANCE * 12,
                     amount_yuan=amount, funded_city_yuan=amount / 2,
                     funded_county_yuan=amount / 2, funded_township_yuan=0.0)
            )
            people = 3
            amount = people * office_cost
            rows.append(
                dict(year=year, county_code=county, line="secretariat_office",
                     rule_path="county.secretariat.office_cost",
                     reference="assumption: office cost per staff" if year < 2008 else "衢委办[2006]101号",
                     quantity=people, quantity_unit="person", unit_cost_yuan=office_cost,
                     amount_yuan=amount, funded_city_yuan=0.0, funded_county_yuan=amount,
                     funded_township_yuan=0.0)
            )
    return pd.DataFrame(rows)


def assumptions_table() -> pd.DataFrame:
    return pd.DataFrame(
        [
            dict(path="village.vice_president.allowance", description="Monthly post allowance of a village FPA vice-president",
                 unit="yuan/month", since=pd.Timestamp("2004-01-01"), value=VP_ALLOWANCE, reference="衢委办[2004]38号"),
            dict(path="village.vice_president.population_threshold", description="Villages with at least this many people get one",
                 unit="person", since=pd.Timestamp("2004-01-01"), value=500, reference="衢委办[2006]101号"),
        ]
    )


def summary_table(budget: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {"indicator": ["Total budget", "Posts in 2006"],
         "amount_yuan": [budget["amount_yuan"].sum(), None]}
    )


@pytest.fixture()
def workbook(tmp_path):
    budget = budget_table()
    path = write_budget_workbook(
        tmp_path / "budget.xlsx", budget, assumptions_table(), summary_table(budget), county_names=COUNTIES
    )
    return path, budget


def test_workbook_reads_back_with_the_same_totals_as_the_budget_table(workbook):
    path, _ = workbook
    totals = read_budget_totals(path)
    vp = {y: sum(vp_posts(y, c) * VP_ALLOWANCE * 12 for c in COUNTIES) for y in YEARS}
    office = len(COUNTIES) * 3 * OFFICE_COST
    assert totals["by_year"] == pytest.approx({y: vp[y] + office for y in YEARS})
    assert totals["total"] == pytest.approx(sum(vp.values()) + office * len(YEARS))
    assert totals["by_line"] == pytest.approx(
        {"village_vp_allowance": sum(vp.values()), "secretariat_office": office * len(YEARS)}
    )
    for code, name in COUNTIES.items():
        expected = sum(vp_posts(y, code) * VP_ALLOWANCE * 12 + 3 * OFFICE_COST for y in YEARS)
        assert totals["by_county"][name] == pytest.approx(expected)
    assert totals["sheets"] == ["Summary", "Line items", "柯城区", "衢江区", "Assumptions"]


def _line_rows(ws) -> list[tuple]:
    return list(ws.iter_rows(min_row=2, values_only=True))


def test_line_items_have_years_as_rows_with_quantity_unit_unit_cost_months_rule_and_reference(workbook):
    path, _ = workbook
    ws = load_workbook(path)["Line items"]
    header = [c.value for c in ws[1]]
    assert header == ["Year", "Line item", "Quantity", "Unit", "Unit cost [yuan]", "Months",
                      "Amount [yuan]", "Rule", "Reference"]
    rows = _line_rows(ws)
    # 2006: the allowance is priced per month (yuan/month in the assumptions): both
    # counties' posts, 60 yuan, 12 months; the office is priced per year: no months.
    vp = rows[0]
    assert vp[:6] == (2006, "village_vp_allowance", vp_posts(2006, "330802") + vp_posts(2006, "330803"),
                      "post", VP_ALLOWANCE, 12)
    assert vp[7:] == ("village.vice_president.allowance", "衢委办[2004]38号")
    office = rows[1]
    assert office[:6] == (2006, "secretariat_office", 2 * 3, "person", OFFICE_COST, None)
    assert office[8] == "assumption: office cost per staff"
    assert rows[2][:2] == (2006, "Total of the year")
    assert rows[-1][:2] == (None, "Total")
    assert ws.cell(row=ws.max_row, column=7).font.bold


def test_every_amount_is_a_formula_of_its_row_and_every_total_a_sum(workbook):
    path, _ = workbook
    ws = load_workbook(path)["Line items"]
    rows = _line_rows(ws)
    assert rows[0][6] == "=C2*E2*F2"  # quantity x monthly allowance x 12
    assert rows[1][6] == "=C3*E3"  # quantity x yearly cost
    assert rows[2][6] == "=SUM(G2:G3)"  # the year's total
    assert rows[-1][6] == "=SUM(G4,G7,G10)"  # the three years' totals
    county = load_workbook(path)["柯城区"]
    assert _line_rows(county)[0][2] == vp_posts(2006, "330802")
    assert _line_rows(county)[0][6] == "=C2*E2*F2"


def test_the_formulas_carry_the_values_qzfp_computed_for_readers_that_do_not_calculate(workbook):
    path, _ = workbook
    rows = _line_rows(load_workbook(path, data_only=True)["Line items"])
    assert rows[0][6] == pytest.approx((vp_posts(2006, "330802") + vp_posts(2006, "330803")) * VP_ALLOWANCE * 12)
    assert rows[1][6] == pytest.approx(6 * OFFICE_COST)
    assert rows[2][6] == pytest.approx(rows[0][6] + rows[1][6])


def test_whole_counts_show_no_decimals_and_long_references_wrap_in_tall_enough_rows(tmp_path):
    budget = budget_table()
    long_ref = "assumption: " + "a reason that takes several lines of the reference column " * 5
    budget.loc[budget["line"] == "secretariat_office", "reference"] = long_ref
    path = write_budget_workbook(tmp_path / "b.xlsx", budget, assumptions_table(), summary_table(budget))
    ws = load_workbook(path)["Line items"]
    assert ws.cell(row=2, column=3).number_format == "#,##0"
    cell = ws.cell(row=3, column=9)
    assert cell.value == long_ref and cell.alignment.wrap_text
    width = ws.column_dimensions["I"].width
    lines = -(-len(long_ref) // int(width - 1))  # at least ceil(characters / width) lines
    assert ws.row_dimensions[3].height >= 15 * lines
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
    assert int(ws.page_setup.paperSize) == 9  # A4 in the OOXML paper-size codes


def test_headers_are_frozen_bold_and_amounts_formatted(workbook):
    path, _ = workbook
    wb = load_workbook(path)
    assert wb["Summary"].freeze_panes == "A2"
    for name in ("Line items", "柯城区"):
        assert wb[name].freeze_panes == "C2"
    assert wb["Assumptions"].freeze_panes == "B2"
    for name in ("Line items", "柯城区", "Assumptions"):
        assert all(c.font.bold for c in wb[name][1] if c.value is not None)
    ws = wb["Line items"]
    # office cost has cents, so the whole sheet shows cents
    assert ws.cell(row=2, column=7).number_format == "#,##0.00"
    assert wb["Summary"].cell(row=2, column=2).number_format == "#,##0.00"


def test_whole_yuan_amounts_are_formatted_without_cents(tmp_path):
    budget = budget_table(office_cost=1200.0)
    path = write_budget_workbook(tmp_path / "b.xlsx", budget, assumptions_table(), summary_table(budget))
    ws = load_workbook(path)["Line items"]
    assert {ws.cell(row=r, column=7).number_format for r in range(2, ws.max_row + 1)} == {"#,##0"}


def test_column_widths_follow_content_and_count_cjk_characters_double(tmp_path):
    budget = budget_table()
    budget["line"] = budget["line"].map({"village_vp_allowance": "ab" * 5, "secretariat_office": "x"})
    labels = {"ab" * 5: "村计生协专职副会长津贴"}  # 11 CJK characters = width 22
    path = write_budget_workbook(tmp_path / "b.xlsx", budget, assumptions_table(), summary_table(budget),
                                 labels=labels)
    ws = load_workbook(path)["Line items"]
    assert ws.column_dimensions["B"].width == 2 * len(labels["ab" * 5]) + 2
    assert ws.cell(row=2, column=2).value == labels["ab" * 5]


def test_labels_translate_sheet_names_headers_and_line_ids(tmp_path):
    budget = budget_table()
    labels = {"summary": "汇总", "line_items": "预算明细", "assumptions": "参数与依据", "total": "合计",
              "line": "项目", "village_vp_allowance": "村副会长津贴"}
    path = write_budget_workbook(tmp_path / "b.xlsx", budget, assumptions_table(), summary_table(budget),
                                 labels=labels, county_names=COUNTIES)
    wb = load_workbook(path)
    assert wb.sheetnames == ["汇总", "预算明细", "柯城区", "衢江区", "参数与依据"]
    assert wb["预算明细"]["B1"].value == "项目"
    totals = read_budget_totals(path)
    assert "村副会长津贴" in totals["by_line"]
    assert totals["total"] == pytest.approx(budget["amount_yuan"].sum())


def test_assumptions_sheet_lists_every_parameter_with_unit_and_reference(workbook):
    path, _ = workbook
    ws = load_workbook(path)["Assumptions"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("Parameter", "Description", "Unit", "Since", "Value", "Reference")
    assert [r[0] for r in rows[1:]] == list(assumptions_table()["path"])
    assert rows[1][2] == "yuan/month" and rows[1][4] == VP_ALLOWANCE and rows[1][5] == "衢委办[2004]38号"
    assert rows[1][3].year == 2004 and ws["D2"].number_format == "yyyy-mm-dd"


def test_sheet_titles_respect_excel_length_characters_and_uniqueness():
    taken: set[str] = set()
    long = "A county name that is far longer than thirty-one characters"
    first = sheet_title(long, taken)
    second = sheet_title(long, taken)
    assert len(first) <= 31 and len(second) <= 31 and first != second and second.endswith(" (2)")
    assert sheet_title("a/b[c]:d*e?f\\g", taken) == "a b c  d e f g"
    assert sheet_title("SUMMARY", {"Summary"}) == "SUMMARY (2)"
    assert sheet_title("''", set()) == "Sheet"


def test_missing_budget_columns_are_named_in_the_error(tmp_path):
    budget = budget_table().drop(columns=["reference", "amount_yuan"])
    with pytest.raises(RunError, match=r"budget table: missing column\(s\) reference, amount_yuan"):
        write_budget_workbook(tmp_path / "b.xlsx", budget, assumptions_table(), pd.DataFrame())
    assert not (tmp_path / "b.xlsx").exists()


def test_non_numeric_amount_is_an_error_naming_the_row(tmp_path):
    budget = budget_table()
    budget["amount_yuan"] = budget["amount_yuan"].astype(object)
    budget.loc[4, "amount_yuan"] = "about 5000"
    with pytest.raises(RunError, match=r"budget table:row 5: amount_yuan must be a number, got 'about 5000'"):
        write_budget_workbook(tmp_path / "b.xlsx", budget, assumptions_table(), pd.DataFrame())


def test_missing_assumption_columns_are_named_in_the_error(tmp_path):
    with pytest.raises(RunError, match=r"assumptions table: missing column\(s\) unit, reference"):
        write_budget_workbook(tmp_path / "b.xlsx", budget_table(),
                              assumptions_table().drop(columns=["unit", "reference"]), pd.DataFrame())


@pytest.mark.skipif(
    not (shutil.which("libreoffice") or shutil.which("soffice")), reason="LibreOffice not installed"
)
def test_libreoffice_opens_the_workbook(workbook, tmp_path):
    path, _ = workbook
    office = shutil.which("libreoffice") or shutil.which("soffice")
    out = tmp_path / "csv"
    subprocess.run(
        [office, "--headless", "--convert-to", "csv", "--outdir", str(out), str(path)],
        check=True, capture_output=True, timeout=120,
    )
    assert (out / "budget.csv").read_text(encoding="utf-8").startswith("indicator")


def _without_cached_values(src: Path, dst: Path) -> int:
    """Copy a workbook with every formula's stored value removed (a program opening it
    must calculate); return the number of formulas."""
    n = 0
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data, k = re.subn(rb"(<f>[^<]*</f>)<v>[^<]*</v>", rb"\1<v></v>", data)
                n += k
            zout.writestr(item, data)
    return n


@pytest.mark.skipif(
    not (shutil.which("libreoffice") or shutil.which("soffice")), reason="LibreOffice not installed"
)
def test_libreoffice_recalculates_the_baseline_workbook_to_the_models_budget_to_the_yuan(tmp_path):
    from qzfp.model.run import simulate
    from qzfp.reporting.run import write_data_files
    from qzfp.reporting.workbook import LINE_COLUMNS
    from qzfp.rules.scenario import load_scenario

    results = simulate(load_scenario(Path(__file__).resolve().parents[2] / "params" / "baseline.yaml"))
    write_data_files(results, tmp_path / "report", "en")
    blank = tmp_path / "blank" / "budget.xlsx"
    blank.parent.mkdir()
    n_formulas = _without_cached_values(tmp_path / "report" / "budget.xlsx", blank)
    office = shutil.which("libreoffice") or shutil.which("soffice")
    out = tmp_path / "calc"
    subprocess.run([office, "--headless", "--calc", "--convert-to", "xlsx", "--outdir", str(out), str(blank)],
                   check=True, capture_output=True, timeout=180,
                   env={**os.environ, "HOME": str(tmp_path)})  # a throw-away LibreOffice profile
    totals = read_budget_totals(out / "budget.xlsx")  # the values LibreOffice calculated
    budget = results.budget
    assert round(totals["total"]) == round(budget["amount_yuan"].sum())
    by_year = budget.groupby("year")["amount_yuan"].sum()
    assert {y: round(v) for y, v in totals["by_year"].items()} == {int(y): round(v) for y, v in by_year.items()}
    assert len(totals["by_county"]) == budget["county_code"].nunique()
    by_county = budget.groupby("county_code")["amount_yuan"].sum()
    assert sorted(round(v) for v in totals["by_county"].values()) == sorted(round(v) for v in by_county)
    # Every amount of the line items is a formula (one per year x line, one per year total, the total).
    ws = load_workbook(blank)["Line items"]
    amount = LINE_COLUMNS.index("amount_yuan") + 1
    cells = [ws.cell(row=r, column=amount).value for r in range(2, ws.max_row + 1)]
    n_lines = budget["line"].nunique() * budget["year"].nunique()
    assert len(cells) == n_lines + budget["year"].nunique() + 1
    assert all(isinstance(c, str) and c.startswith("=") for c in cells)
    assert n_formulas > len(cells)


def test_summary_sheet_splits_each_year_by_funder_under_either_column_spelling(tmp_path):
    budget = budget_table().rename(
        columns={"funded_city_yuan": "city_yuan", "funded_county_yuan": "county_yuan",
                 "funded_township_yuan": "township_yuan"}
    )
    path = write_budget_workbook(tmp_path / "b.xlsx", budget, assumptions_table(), summary_table(budget))
    rows = list(load_workbook(path, data_only=True)["Summary"].iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if r[0] == "Budget by year")
    assert rows[start + 1] == ("Year", "Amount [yuan]", "City [yuan]", "County [yuan]", "Township [yuan]")
    by_year = {r[0]: r[1:5] for r in rows[start + 2:start + 2 + len(YEARS)]}
    for y in YEARS:
        vp = sum(vp_posts(y, c) * VP_ALLOWANCE * 12 for c in COUNTIES)
        office = len(COUNTIES) * 3 * OFFICE_COST
        assert by_year[y] == pytest.approx((vp + office, vp / 2, vp / 2 + office, 0.0))
    assert rows[start + 2 + len(YEARS)][0] == "Total"


# --------------------------------------------------------------------------- hostile texts
#: Texts a scenario override, a register or a label might carry, and what a reader must see.
FORMULA_TEXTS = ["=1+1", "=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1:A2)",
                 "=cmd|' /C calc'!A0", "#N/A"]
CONTROL_TEXTS = {"a\x00b": "ab", "c\x01d\x1fe": "cde", "f\x7fg\x85h": "fgh", "tab\tok": "tab\tok",
                 "line\nbreak": "line\nbreak"}


def _hostile_workbook(tmp_path, texts):
    budget = budget_table()
    budget["reference"] = [texts[i % len(texts)] for i in range(len(budget))]
    assumptions = assumptions_table()
    assumptions["description"] = texts[0]
    summary = pd.DataFrame({"indicator": list(texts), "amount_yuan": range(len(texts))})
    names = {"330802": texts[0], "330803": texts[-1]}
    return write_budget_workbook(tmp_path / "budget.xlsx", budget, assumptions, summary,
                                 labels={"village_vp_allowance": texts[1]}, county_names=names)


def _sheet_xml(path) -> str:
    import zipfile

    with zipfile.ZipFile(path) as z:
        return "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("xl/worksheets/"))


def test_texts_beginning_with_formula_characters_are_written_as_text_cells_not_formulas(tmp_path):
    path = _hostile_workbook(tmp_path, FORMULA_TEXTS)
    # The workbook's own formulas (amounts, totals) are there; no text became one.
    formulas = re.findall(r"<f>([^<]*)</f>", _sheet_xml(path))
    assert formulas and all(is_qzfp_formula(f) for f in formulas)
    assert "<f " not in _sheet_xml(path)
    wb = load_workbook(path)
    seen = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f":
                    assert is_qzfp_formula(c.value), (ws.title, c.coordinate, c.value)
                    assert c.value not in FORMULA_TEXTS
                elif isinstance(c.value, str):
                    seen.add(c.value)
    summary = wb.worksheets[0]
    assert [summary.cell(row=i + 2, column=1).value for i in range(len(FORMULA_TEXTS))] == FORMULA_TEXTS
    assert set(FORMULA_TEXTS) <= seen


def test_control_characters_are_removed_from_cells_and_sheet_titles_and_the_file_opens(tmp_path):
    texts = list(CONTROL_TEXTS)
    path = _hostile_workbook(tmp_path, texts)
    wb = load_workbook(path)
    summary = wb.worksheets[0]
    assert [summary.cell(row=i + 2, column=1).value for i in range(len(texts))] == list(CONTROL_TEXTS.values())
    assert "ab" in wb.sheetnames  # county 330802's sheet, named "a\x00b"
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            for v in row:
                if isinstance(v, str):
                    assert not any(ord(ch) < 32 and ch not in "\t\n\r" for ch in v)


def test_only_the_workbooks_own_formulas_are_recognised_as_such():
    for own in ("=C2*E2*F2", "=C12*E12", "=SUM(G2:G27)", "=SUM(G4,G7,G10)", "='Line items'!G28",
                "='It''s'!G3", "=0"):
        assert is_qzfp_formula(own), own
    for text in ("=1+1", "=HYPERLINK(\"http://x\")", "=C2*E3", "=SUM(A1:A2)+1", "=cmd|' /C calc'!A0",
                 "+1", "-1", "@SUM(A1)"):
        assert not is_qzfp_formula(text), text


@pytest.mark.skipif(
    not (shutil.which("libreoffice") or shutil.which("soffice")), reason="LibreOffice not installed"
)
def test_libreoffice_shows_whole_persons_and_posts_yes_or_no_and_years_without_separators_in_chinese(tmp_path):
    """What a reader sees in LibreOffice Calc (its CSV export "as shown", every sheet): persons
    and posts as whole numbers ("2,170", not "2,170.00"), the assumption flag as 是/否 (not
    TRUE/FALSE) and a year as 2007 (not 2,007)."""
    import csv

    from qzfp.i18n import is_count_column, t
    from qzfp.model.run import simulate
    from qzfp.reporting.run import write_data_files
    from qzfp.rules.scenario import load_scenario

    results = simulate(load_scenario(Path(__file__).resolve().parents[2] / "params" / "baseline.yaml"))
    write_data_files(results, tmp_path / "report", "zh")
    office = shutil.which("libreoffice") or shutil.which("soffice")
    subprocess.run([office, "--headless", "--convert-to",
                    "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1",
                    "--outdir", str(tmp_path / "csv"), str(tmp_path / "report" / "budget.xlsx")],
                   check=True, capture_output=True, timeout=180, env={**os.environ, "HOME": str(tmp_path)})

    def sheet(name: str) -> list[list[str]]:
        with open(tmp_path / "csv" / f"budget-{name}.csv", encoding="utf-8") as f:
            return list(csv.reader(f))

    summary = sheet(t("sheet.summary", "zh"))
    counts = [i for i, c in enumerate(results.summary().columns) if is_count_column(c)]
    assert len(counts) >= 8  # persons, posts, villages, townships
    for row in summary[1:len(results.years) + 1]:
        assert all(re.fullmatch(r"[\d,]+", row[i]) for i in counts), row
    lines = sheet(t("sheet.line_items", "zh"))
    unit = lines[0].index(t("col.quantity_unit", "zh"))
    quantity = lines[0].index(t("col.quantity", "zh"))
    whole_units = {t(f"unit.{u}", "zh") for u in ("person", "post", "household")}
    shown = [r[quantity] for r in lines[1:] if len(r) > unit and r[unit] in whole_units]
    assert shown and all(re.fullmatch(r"[\d,]+", q) for q in shown)
    rules = sheet(t("sheet.assumptions", "zh"))
    flag = rules[0].index(t("col.assumption", "zh"))
    assert {r[flag] for r in rules[1:]} == {"是", "否"}
    first = next(r for r in rules if r[0] == "elections.first_year")
    assert first[rules[0].index(t("col.value", "zh"))] == "2007"
