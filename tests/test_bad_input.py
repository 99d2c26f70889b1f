"""Bad census tables, scenarios, plans and proposals are refused as cleanly as bad registers.

The corpus is in ``tests/data/bad/`` (``census/`` tables of Quzhou's rows with one fault each,
``scenarios/`` files with one fault each; ``README.md`` lists them); the command-line cases
give a good scenario a bad option.  Every case runs the ``qzfp`` command as a user would, in
English and in Chinese, and asserts what the user sees: exit status 1, the located message
(file, row or key, and the column or field), no traceback, no warning (numpy's divide-by-zero
included) and nothing written.
"""

from __future__ import annotations

import io
import warnings
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from qzfp.cli import main

REPO = Path(__file__).resolve().parents[1]
BAD = REPO / "tests" / "data" / "bad"
C, S, B = BAD / "census", BAD / "scenarios", REPO / "params" / "baseline.yaml"
LEVER = ["--vary", "village.vice_president.allowance=40:60:20"]
COUNTIES = ("330802", "330803", "330822", "330824", "330825", "330881")

#: name -> (command line, the lines of stderr in English, in Chinese).
CASES: dict[str, tuple[list[str], list[str], list[str]]] = {
    "census_unquoted_thousands": (
        ["validate", f"{C}/unquoted_thousands.csv"],
        [f"{C}/unquoted_thousands.csv:4: 48 fields, but the header has 47 (a number written with a thousands "
         "separator and no quotes, such as 464,527, is two fields: remove the separator or quote the number)"],
        [f"{C}/unquoted_thousands.csv:4: 有48个字段，但表头只有47列（不带引号且有千分位逗号的数字，如464,527，"
         "会被拆成两个字段：请去掉千分位逗号或给数字加引号）"]),
    "census_implausible_age_group": (
        ["validate", f"{C}/implausible_age_group.csv"],
        [f"{C}/implausible_age_group.csv:4: m_20-24 1000000000000 is implausible for one row of a census table "
         "(a row is at most a province; the most populous, Guangdong, had 126 million residents in 2020): "
         "at most 200,000,000"],
        [f"{C}/implausible_age_group.csv:4: m_20-24为1000000000000，不合理（普查表的一行至多是一个省；人口最多的"
         "广东省2020年常住人口为1.26亿）：至多200,000,000"]),
    "census_birth_rate_per_mille": (
        ["validate", f"{C}/birth_rate_per_mille.csv"],
        [f"{C}/birth_rate_per_mille.csv:5: birth_rate_permille 1000000 is implausible for a crude rate per "
         "1,000 people (the highest crude birth and death rates of any country are about 50 per mille): "
         "at most 100"],
        [f"{C}/birth_rate_per_mille.csv:5: birth_rate_permille为1000000，不合理（每千人的粗率：世界各国最高的"
         "粗出生率和粗死亡率约为50‰）：至多100"]),
    "census_nul_in_name": (
        ["validate", f"{C}/nul_in_name.csv"],
        [f"{C}/nul_in_name.csv:4: name_zh '柯城\\x00区' contains the control character U+0000 (names and "
         "codes must be plain text)"],
        [f"{C}/nul_in_name.csv:4: name_zh'柯城\\x00区'含有控制字符U+0000（名称和代码须为纯文本）"]),
    "census_negative_count": (
        ["validate", f"{C}/negative_count.csv"],
        [f"{C}/negative_count.csv:6: f_0 -5 is negative (expected a number ≥ 0)"],
        [f"{C}/negative_count.csv:6: f_0为负数-5（应为不小于0的数）"]),
    "census_not_a_number": (
        ["validate", f"{C}/not_a_number.csv"],
        [f'{C}/not_a_number.csv:7: f_85+ "x" is not a number'],
        [f"{C}/not_a_number.csv:7: f_85+“x”不是数字"]),
    "census_bad_code": (
        ["validate", f"{C}/bad_code.csv"],
        [f'{C}/bad_code.csv:4: code "33080A" is not a 6-digit division code'],
        [f"{C}/bad_code.csv:4: code“33080A”不是6位行政区划代码"]),
    "census_repeated_code": (
        ["validate", f"{C}/repeated_code.csv"],
        [f"{C}/repeated_code.csv:10: code 330802 repeats line 4"],
        [f"{C}/repeated_code.csv:10: 代码330802与第4行重复"]),
    "census_urban_above_resident": (
        ["validate", f"{C}/urban_above_resident.csv"],
        [f"{C}/urban_above_resident.csv:9: urban 467,863 is more than resident 467,862"],
        [f"{C}/urban_above_resident.csv:9: 城镇人口467,863多于常住人口467,862"]),
    "census_short_row": (
        ["validate", f"{C}/short_row.csv"],
        [f"{C}/short_row.csv:8: 40 fields, but the header has 47"],
        [f"{C}/short_row.csv:8: 有40个字段，但表头只有47列"]),
    "census_unknown_level": (
        ["validate", f"{C}/unknown_level.csv"],
        [f'{C}/unknown_level.csv:3: level "city" is not one of province, prefecture, county'],
        [f"{C}/unknown_level.csv:3: level“city”不是province, prefecture, county之一"]),
    "scenario_two_misspellings": (
        ["validate", f"{S}/two_misspellings.yaml"],
        [f"{S}/two_misspellings.yaml:horizn: unknown key 'horizn' (did you mean 'horizon'?)",
         f"{S}/two_misspellings.yaml:overrides.village.vice_president.alowance: unknown rulebook path (did you "
         "mean 'village.vice_president.allowance'?)"],
        [f"{S}/two_misspellings.yaml:horizn: 未知的键“horizn”（是否应为“horizon”？）",
         f"{S}/two_misspellings.yaml:overrides.village.vice_president.alowance: 未知的规则参数路径（是否应为"
         "“village.vice_president.allowance”？）"]),
    "plan_of_a_name_with_a_newline": (
        ["plan", f"{S}/name_with_newline.yaml", "--year", "2008", "--ceiling", "95%", *LEVER, "--out", "out"],
        [f"{S}/name_with_newline.yaml:scenario_name: must be one line (it holds a line break; in YAML write it "
         "on the key's line, not as a | or > block)"],
        [f"{S}/name_with_newline.yaml:scenario_name: 须为一行（含有换行符；在YAML中请写在键的同一行，不要用|或>块）"]),
    "compare_of_a_name_with_a_newline": (
        ["compare", f"{S}/name_with_newline.yaml", str(B), "--out", "out"],
        [f"{S}/name_with_newline.yaml:scenario_name: must be one line (it holds a line break; in YAML write it "
         "on the key's line, not as a | or > block)"],
        [f"{S}/name_with_newline.yaml:scenario_name: 须为一行（含有换行符；在YAML中请写在键的同一行，不要用|或>块）"]),
    "proposal_of_a_title_with_a_non_character": (
        ["proposal", f"{S}/title_non_character.yaml", "--year", "2008", "--out", "out"],
        [f"{S}/title_non_character.yaml:title: contains U+FFFE, a non-character no document can hold: texts "
         "must be plain"],
        [f"{S}/title_non_character.yaml:title: 含有文档无法容纳的非字符U+FFFE：文字须为纯文本"]),
    "run_of_a_horizon_beyond_the_sensitivity_ranking": (
        ["run", f"{S}/horizon_beyond_sensitivity.yaml", "--out", "out", "--quiet"],
        [f"{S}/horizon_beyond_sensitivity.yaml:horizon: the projection runs to 2106, but in the sensitivity "
         "ranking's +10 % move of demography.mortality.e0_female life expectancy demography.mortality.e0_female "
         "passes 100 years in 2069: end the projection by 2068 (start_year + horizon) or lower sensitivity_pct "
         "(0: no sensitivity ranking)"],
        [f"{S}/horizon_beyond_sensitivity.yaml:horizon: 预测至2106年，但在敏感性排序中demography.mortality.e0_female"
         "变动+10%的情形中预期寿命demography.mortality.e0_female于2069年超出100岁：请将预测截止于2068年（start_year + "
         "horizon），或调低sensitivity_pct（0表示不做敏感性排序）"]),
    "scenario_with_an_empty_census_check_date": (
        ["validate", f"{S}/census_check_date_empty.yaml"],
        [f"{S}/census_check_date_empty.yaml:census_check_date: expected a date YYYY-MM-DD, got ''"],
        [f"{S}/census_check_date_empty.yaml:census_check_date: 应为日期（YYYY-MM-DD），实际为''"]),
    "run_on_a_census_with_an_unquoted_thousands_separator": (
        ["run", f"{S}/census_unquoted_thousands.yaml", "--out", "out", "--quiet"],
        [f"{S}/census_unquoted_thousands.yaml:census: {C}/unquoted_thousands.csv:4: 48 fields, but the header "
         "has 47 (a number written with a thousands separator and no quotes, such as 464,527, is two fields: "
         "remove the separator or quote the number)"],
        [f"{S}/census_unquoted_thousands.yaml:census: {C}/unquoted_thousands.csv:4: 有48个字段，但表头只有47列"
         "（不带引号且有千分位逗号的数字，如464,527，会被拆成两个字段：请去掉千分位逗号或给数字加引号）"]),
    "proposal_on_a_census_without_the_registers_counties": (
        ["proposal", f"{S}/census_without_the_counties.yaml", "--year", "2008", "--out", "out"],
        [f"{S}/census_without_the_counties.yaml:census: {C}/no_row_for_the_counties.csv: no row for county {c}, "
         "its prefecture 330800 or its province 330000, and no province rows to sum into a national one: add "
         "the county's row or the province rows" for c in COUNTIES],
        [f"{S}/census_without_the_counties.yaml:census: {C}/no_row_for_the_counties.csv: 没有县{c}、其所属地区"
         "330800或省330000的行，也没有可汇总为全国数字的省级行：请补上该县的行或各省的行" for c in COUNTIES]),
    "sweep_of_an_implausible_override": (
        ["sweep", f"{S}/implausible_override.yaml", "--set", "village.vice_president.allowance=60", "--out", "out"],
        [f"{S}/implausible_override.yaml:overrides.village.vice_president.population_threshold: too large: "
         "1e+300 is above the maximum 1,411,778,724 [person]"],
        [f"{S}/implausible_override.yaml:overrides.village.vice_president.population_threshold: 过大：1e+300"
         "大于最大值1,411,778,724［人］"]),
    "compare_of_a_billion_laughs": (
        ["compare", f"{S}/billion_laughs.yaml", str(B), "--out", "out"],
        [f"{S}/billion_laughs.yaml: the file expands to more than 100,000 values (anchors and aliases repeating "
         "a list?)"],
        [f"{S}/billion_laughs.yaml: 文件展开后超过100,000个值（锚点和别名重复引用了列表？）"]),
    "plan_of_a_year_that_is_not_one": (
        ["plan", str(B), "--year", "2015x", "--ceiling", "95%", *LEVER, "--out", "out"],
        ["--year: '2015x' is not a year (e.g. 2015 or 2015年)"],
        ["--year: “2015x”不是年份（例如2015或2015年）"]),
    "plan_of_a_mistyped_lever": (
        ["plan", str(B), "--year", "2015", "--ceiling", "95%", "--vary", "village.vice_president.alowance=40:60:20",
         "--out", "out"],
        ["--vary village.vice_president.alowance: unknown parameter (did you mean 'village.vice_president.allowance'?)"],
        ["--vary village.vice_president.alowance: 未知的参数（是否应为“village.vice_president.allowance”？）"]),
    "plan_of_a_ceiling_in_words": (
        ["plan", str(B), "--year", "2015", "--ceiling", "95 percent", *LEVER, "--out", "out"],
        ["--ceiling: '95 percent': expected an amount in yuan (1200000, 1,200,000, 120万) or a share of the "
         "baseline (80%)"],
        ["--ceiling: “95 percent”：应为以元计的金额（1200000、1,200,000、120万）或基准的百分比（80%）"]),
    "plan_into_a_folder_name_outside_the_output": (
        ["plan", str(B), "--year", "2015", "--ceiling", "95%", *LEVER, "--out", "out", "--name", "../up"],
        ["--name: '../up' cannot be a folder name (no / \\ : * ? \" < > |, not empty)"],
        ["--name: “../up”不能作为文件夹名称（不得含有/ \\ : * ? \" < > |，不得为空）"]),
    "sweep_of_a_threshold_of_1e300": (
        ["sweep", str(B), "--set", "village.vice_president.population_threshold=1e300", "--out", "out"],
        ["--set village.vice_president.population_threshold: too large: 1e+300 is above the maximum "
         "1,411,778,724 [person]"],
        ["--set village.vice_president.population_threshold: 过大：1e+300大于最大值1,411,778,724［人］"]),
    "proposal_of_a_year_not_modelled": (
        ["proposal", str(B), "--year", "2099年", "--out", "out"],
        ["--year: 2099 is not a modelled year of scenario baseline (expected 2006–2021; change start_year or "
         "horizon)"],
        ["--year: 2099年不在方案baseline的模型年份之内（应为2006–2021；请修改start_year或horizon）"]),
}


@pytest.fixture
def cwd(tmp_path, monkeypatch) -> Path:
    """The command's working folder, empty: nothing may be written into it."""
    folder = tmp_path / "cwd"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def _qzfp(args: list[str], lang: str) -> tuple[int, str, list[warnings.WarningMessage]]:
    """``qzfp --lang LANG ARGS`` in this process: exit status, stderr and the warnings raised."""
    err = io.StringIO()
    with redirect_stderr(err), redirect_stdout(io.StringIO()), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = main(["--lang", lang, *args])
    return code, err.getvalue(), caught


def _refused(args: list[str], lang: str, folder: Path) -> list[str]:
    """The stderr lines of a refused command run in ``folder``, after the checks every case shares."""
    code, err, caught = _qzfp(args, lang)
    assert code == 1, err
    assert "Traceback" not in err
    assert [str(w.message) for w in caught] == []  # numpy's divide-by-zero and invalid-value included
    assert list(folder.iterdir()) == []  # nothing written (no out/, no temporary folder)
    return err.splitlines()


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_exits_1_with_located_messages_in_the_language_asked_and_writes_nothing(case, lang, cwd):
    args, en, zh = CASES[case]
    lines = _refused(args, lang, cwd)
    assert lines == (en if lang == "en" else zh)


def test_all_problems_of_a_census_table_are_collected_and_twenty_shown_with_a_count_of_the_rest(cwd):
    # every age group of the six counties negative: 6 x 38 problems
    for lang, more in (("en", "… and 208 more problems"), ("zh", "……另有208个问题")):
        lines = _refused(["validate", f"{C}/many_problems.csv"], lang, cwd)
        assert len(lines) == 21 and all(ln.startswith(f"{C}/many_problems.csv:4: ") for ln in lines[:19])
        assert lines[0].endswith(("m_0 -1635 is negative (expected a number ≥ 0)", "m_0为负数-1635（应为不小于0的数）"))
        assert lines[-1] == f"{C}/many_problems.csv: {more}"


def test_the_good_table_of_the_corpus_is_valid_so_each_bad_one_differs_by_its_fault_only(capsys):
    assert main(["validate", f"{C}/good.csv"]) == 0
    good = (C / "good.csv").read_text(encoding="utf-8").splitlines()
    for bad in sorted(C.glob("*.csv")):
        if bad.name in ("good.csv", "no_row_for_the_counties.csv", "many_problems.csv"):
            continue
        lines = bad.read_text(encoding="utf-8").splitlines()
        changed = [i for i, (a, b) in enumerate(zip(good, lines, strict=False)) if a != b]
        assert len(changed) + abs(len(lines) - len(good)) == 1, bad.name


# ------------------------------------------------------------------ sizes bounded before parsing


def test_a_census_table_over_its_byte_bound_is_refused_before_it_is_read(tmp_path, cwd):
    from qzfp.register.census import MAX_CENSUS_BYTES

    big = tmp_path / "big.csv"
    with open(big, "wb") as f:
        f.write((C / "good.csv").read_bytes())
        f.truncate(MAX_CENSUS_BYTES + 1)  # a sparse tail of NUL bytes: refused by its size alone
    assert _refused(["validate", str(big)], "en", cwd) == [
        f"{big}: {MAX_CENSUS_BYTES + 1:,} bytes: a census table is limited to {MAX_CENSUS_BYTES:,} bytes "
        "(MAX_CENSUS_ROWS); split it"]


def test_a_census_table_of_more_rows_than_a_national_one_can_have_is_refused_by_its_row_count(tmp_path, cwd):
    from qzfp.register.census import MAX_CENSUS_ROWS

    rows = (C / "good.csv").read_text(encoding="utf-8").splitlines()
    many = tmp_path / "rows.csv"
    many.write_text("\n".join([rows[0], *[rows[3]] * (MAX_CENSUS_ROWS + 21)]) + "\n", encoding="utf-8")
    assert _refused(["validate", str(many)], "zh", cwd) == [
        f"{many}: 超过{MAX_CENSUS_ROWS:,}行：普查表至多{MAX_CENSUS_ROWS:,}行（MAX_CENSUS_ROWS）"]


def test_a_line_longer_than_any_row_of_a_table_is_refused_at_its_line(tmp_path, cwd):
    from qzfp.register.files import MAX_LINE_CHARS

    rows = (C / "good.csv").read_text(encoding="utf-8").splitlines()
    long = tmp_path / "long.csv"
    long.write_text("\n".join([*rows[:3], "9" * (MAX_LINE_CHARS + 1), *rows[3:]]) + "\n", encoding="utf-8")
    assert _refused(["validate", str(long)], "en", cwd) == [
        f"{long}:4: the line has more than {MAX_LINE_CHARS:,} characters: not a row of a table"]


def test_a_scenario_file_with_a_title_of_a_megabyte_is_refused_before_it_is_parsed(tmp_path, cwd):
    big = tmp_path / "title.yaml"
    big.write_text("extends: baseline\ntitle: " + "x" * 1_000_000 + "\n", encoding="utf-8")
    assert _refused(["run", str(big), "--out", "out", "--quiet"], "en", cwd) == [
        f"{big}: 1,000,026 bytes: a scenario file is limited to 1,000,000 bytes"]


def test_a_title_longer_than_a_line_of_a_page_is_refused_at_its_key(tmp_path, cwd):
    from qzfp.rules.scenario_keys import MAX_TITLE_CHARS

    long = tmp_path / "long.yaml"
    long.write_text(f"extends: baseline\ntitle: {'题' * (MAX_TITLE_CHARS + 1)}\n", encoding="utf-8")
    assert _refused(["validate", str(long)], "zh", cwd) == [
        f"{long}:title: 共{MAX_TITLE_CHARS + 1}个字符：至多{MAX_TITLE_CHARS}个"]


# ------------------------------------------------------------------ planner-typed numbers


def test_a_plan_typed_with_full_width_digits_and_units_is_the_plan_typed_in_ascii(tmp_path, capsys):
    short = tmp_path / "short.yaml"
    short.write_text(f"extends: {B}\nscenario_name: short\nhorizon: 3\nmc_paths: 0\n", encoding="utf-8")
    typed = ["--year", "２００８年", "--ceiling", "９９％", "--vary", "village.vice_president.allowance=４０：１２０：２０"]
    ascii_ = ["--year", "2008", "--ceiling", "99%", "--vary", "village.vice_president.allowance=40:120:20"]
    for name, args in (("plan-fullwidth", typed), ("plan-ascii", ascii_)):
        assert main(["plan", str(short), *args, "--out", str(tmp_path), "--name", name, "--quiet"]) == 0, \
            capsys.readouterr().err
    assert (tmp_path / "plan-fullwidth" / "plan.yaml").read_text(encoding="utf-8").replace("fullwidth", "ascii") == \
        (tmp_path / "plan-ascii" / "plan.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize(("text", "value"), [("60", 60.0), ("６０", 60.0), ("60元", 60.0), ("６０元", 60.0),
                                             ("－５", -5.0), ("1，200", 1200.0), ("1.5e3", 1500.0)])
def test_a_number_typed_with_full_width_forms_or_a_yuan_unit_is_read_as_its_ascii_form(text, value):
    from qzfp.typed import number

    assert number(text, "--set x") == value


@pytest.mark.parametrize(("text", "year"), [("2015", 2015), ("２０１５", 2015), ("2015年", 2015), (" ２０１５年 ", 2015)])
def test_a_year_typed_with_full_width_digits_or_nian_is_the_year(text, year):
    from qzfp.typed import year as typed_year

    assert typed_year(text, "--year") == year


@pytest.mark.parametrize(("text", "yuan"), [("９５％", 95.0), ("95%", 95.0), ("１２０万", 1_200_000.0),
                                            ("１，２００，０００元", 1_200_000.0)])
def test_a_ceiling_typed_with_full_width_forms_is_the_ceiling_typed_in_ascii(text, yuan):
    from qzfp.model.plan.parse import parse_ceiling

    assert parse_ceiling(text, 100.0) == yuan


def test_a_sweep_value_typed_in_full_width_digits_is_accepted(monkeypatch):
    from qzfp import cli

    assert cli._parse_set(["village.vice_president.allowance=６０，８０元"]) == {
        "village.vice_president.allowance": [60.0, 80.0]}


# ------------------------------------------------------------------ the real census tables


def test_both_real_census_tables_load_with_their_located_notes():
    from qzfp.register.census import CENSUS_2010, CENSUS_2020_OUTSIDE_ZHEJIANG, load_census

    full = load_census()
    assert full.layout == "full" and len(full.codes) == 3221 and len(full.notes) == 2
    assert full.path == str(CENSUS_2010)
    counts = load_census(CENSUS_2020_OUTSIDE_ZHEJIANG, "2020-11-01")
    assert counts.layout == "counts" and len(counts.codes) > 3000
    # 东营港经济开发区 has an empty f_0: left out, said at its line
    assert [n.location for n in counts.notes if n.id == "census.blank_cells"] == [f"{CENSUS_2020_OUTSIDE_ZHEJIANG}:1343"]
