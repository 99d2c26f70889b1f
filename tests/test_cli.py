"""Tests of the ``qzfp`` command (qzfp.cli): exit codes, messages, files written."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from qzfp.cli import main
from qzfp.model.run import simulate
from qzfp.rules.scenario import Scenario, load_scenario

REPO = Path(__file__).resolve().parents[1]
PARAMS = REPO / "params"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def short_params(tmp_path) -> Path:
    """A scenario file extending the baseline with a 2-year horizon."""
    return write(tmp_path / "short.yaml", f"extends: {PARAMS / 'baseline.yaml'}\nscenario_name: short\nhorizon: 2\nmc_paths: 5\n")


def test_validate_accepts_every_shipped_scenario_file(capsys):
    files = [str(p) for p in sorted(PARAMS.glob("*.yaml"))]
    assert main(["validate", *files]) == 0
    assert f"{len(files)} file(s) valid" in capsys.readouterr().out


def test_validate_reports_one_line_per_problem_and_exits_1(tmp_path, capsys):
    bad = write(tmp_path / "bad.yaml", "extends: baseline\nhorizn: 5\n")
    bad2 = write(tmp_path / "bad2.yaml", "extends: baseline\noverrides:\n  village.vice_president.alowance: 100\n")
    assert main(["validate", str(bad), str(bad2)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2
    assert err[0].startswith(f"{bad}:horizn") and "did you mean 'horizon'" in err[0]
    assert err[1].startswith(f"{bad2}:overrides.village.vice_president.alowance")
    assert "village.vice_president.allowance" in err[1]


def test_validate_checks_a_register_file_row_by_row(tmp_path, capsys):
    reg = write(tmp_path / "villages.csv",
                "village_code,village_name,township_code,township_name,county_code,county_name,population\n"
                "330802001001,甲村,330802001,甲镇,330802,柯城区,abc\n")
    assert main(["validate", str(reg)]) == 1
    err = capsys.readouterr().err
    assert "villages.csv:2" in err and "population" in err


def test_validate_of_a_missing_file_is_bad_input_not_a_traceback(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nope.csv")]) == 1
    err = capsys.readouterr().err
    assert "nope.csv" in err and "Traceback" not in err


def test_explain_prints_the_dated_history_with_references(capsys):
    assert main(["explain", "reward_assistance.amount"]) == 0
    out = capsys.readouterr().out
    assert "600" in out and "960" in out and "2012-01-01" in out and "yuan/person/year" in out


def test_explain_without_a_path_lists_the_tree(capsys):
    assert main(["explain"]) == 0
    out = capsys.readouterr().out
    assert "village" in out and "vice_president.allowance" in out and "demography" in out


def test_explain_an_unknown_path_suggests_the_closest_one(capsys):
    assert main(["explain", "village.vice_president.alowance"]) == 1
    assert "did you mean 'village.vice_president.allowance'" in capsys.readouterr().err


def test_summary_prints_the_model_key_figures(short_params, capsys):
    assert main(["summary", str(short_params)]) == 0
    out = capsys.readouterr().out
    res = simulate(load_scenario(short_params))
    total = res.summary()["budget_yuan"].sum()
    assert f"{total:,.0f}" in out


def test_run_rejects_a_bad_scenario_before_any_kernel_starts(tmp_path, capsys):
    bad = write(tmp_path / "bad.yaml", "extends: baseline\nscenario_name: bad\nvariant: medium-high\n")
    out = tmp_path / "reports"
    assert main(["run", str(bad), "--out", str(out), "--quiet"]) == 1
    assert "variant" in capsys.readouterr().err
    assert not (out / "bad").exists()


def test_run_rejects_a_non_positive_jobs_count(short_params, tmp_path, capsys):
    assert main(["run", str(short_params), "--out", str(tmp_path), "--jobs", "0", "--quiet"]) == 1
    assert "--jobs" in capsys.readouterr().err


def test_sweep_writes_a_table_workbook_and_heatmaps(short_params, tmp_path):
    out = tmp_path / "out"
    rc = main(["sweep", str(short_params), "--set", "village.vice_president.allowance=40,100",
               "--set", "village.vice_president.population_threshold=300,500", "--out", str(out)])
    assert rc == 0
    folder = out / "sweep-short"
    table = pd.read_csv(folder / "sweep.csv")
    assert len(table) == 4
    assert (folder / "sweep-short.xlsx").is_file()
    assert (folder / "heatmap_budget_horizon_yuan.png").is_file()
    assert (folder / "index.html").is_file()


def test_sweep_with_a_malformed_set_option_is_bad_input(short_params, tmp_path, capsys):
    assert main(["sweep", str(short_params), "--set", "village.vice_president.allowance", "--out", str(tmp_path)]) == 1
    assert "PATH=v1,v2" in capsys.readouterr().err
    assert main(["sweep", str(short_params), "--set", "village.vice_president.allowance=40,x", "--out", str(tmp_path)]) == 1
    assert "'x' is not a number" in capsys.readouterr().err


def test_compare_writes_the_comparison_table_with_differences(short_params, tmp_path):
    other = write(tmp_path / "other.yaml", f"extends: {short_params}\nscenario_name: other\noverrides:\n  village.vice_president.allowance: 100\n")
    out = tmp_path / "out"
    assert main(["compare", str(short_params), str(other), "--out", str(out)]) == 0
    folder = out / "compare-short-other"
    table = pd.read_csv(folder / "comparison.csv")
    budget = table[(table["metric"] == "budget_yuan") & (table["scenario"] == "other")]
    vps = table[(table["metric"] == "village_vice_presidents") & (table["scenario"] == "other")]
    # +40 yuan/month for every village vice-president, 12 months a year
    assert (budget["difference"].to_numpy() == pytest.approx(vps["value"].to_numpy() * 40 * 12))
    assert (folder / "waterfall_other.png").is_file()


def test_compare_needs_two_scenarios(short_params, tmp_path, capsys):
    assert main(["compare", str(short_params), "--out", str(tmp_path)]) == 1
    assert "at least two" in capsys.readouterr().err


def test_init_copies_params_and_notebooks_and_refuses_to_overwrite(tmp_path, capsys):
    target = tmp_path / "work"
    assert main(["init", str(target)]) == 0
    assert {p.name for p in (target / "params").glob("*.yaml")} == {p.name for p in PARAMS.glob("*.yaml")}
    assert (target / "notebooks").is_dir()
    assert main(["init", str(target)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert main(["init", str(target), "--force"]) == 0


def test_the_console_script_runs_as_a_module():
    proc = subprocess.run([sys.executable, "-m", "qzfp", "--version"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and "qzfp" in proc.stdout


def test_qzfp_script_is_installed():
    assert shutil.which("qzfp") or Path(sys.executable).with_name("qzfp").exists()


def test_common_errors_are_reported_in_chinese_with_lang_zh(tmp_path, capsys):
    bad = write(tmp_path / "bad.yaml", "extends: baseline\nhorizn: 5\n")
    assert main(["--lang", "zh", "validate", str(bad)]) == 1
    assert "未知的键“horizn”（是否应为“horizon”？）" in capsys.readouterr().err


def test_the_language_of_messages_can_come_from_the_environment(monkeypatch, capsys):
    monkeypatch.setenv("QZFP_LANG", "zh")
    assert main(["explain", "village.vice_president.alowance"]) == 1
    assert "是否应为“village.vice_president.allowance”" in capsys.readouterr().err


def test_the_common_messages_are_in_chinese_through_the_command_line(tmp_path, capsys):
    # Once matched from the English text by patterns; now every message is an id with a
    # Chinese text, so these come out in Chinese whatever their wording in English.
    missing = tmp_path / "nope.yaml"
    assert main(["--lang", "zh", "validate", str(missing)]) == 1
    assert capsys.readouterr().err.strip() == f"{missing}: 文件不存在"
    reg = tmp_path / "reg"
    shutil.copytree(SMALL_REGISTER, reg)
    (reg / "villages.csv").write_text("village_code,township_code,name_zh\n1,2,x\n", encoding="utf-8")
    assert main(["--lang", "zh", "validate", str(reg)]) == 1
    assert f"{reg / 'villages.csv'}:1: 缺少列：population" in capsys.readouterr().err


def test_an_unwritable_output_folder_is_reported_without_a_traceback(short_params, tmp_path, capsys):
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x", encoding="utf-8")
    rc = main(["sweep", str(short_params), "--set", "village.vice_president.allowance=40,60",
               "--out", str(blocker / "out")])
    err = capsys.readouterr().err
    assert rc in (1, 2) and "Traceback" not in err and "file-not-folder" in err


def test_a_bad_command_line_is_bad_input_exit_1_not_the_run_failed_status(capsys):
    with pytest.raises(SystemExit) as info:
        main(["run", "--jobs", "many"])
    assert info.value.code == 1
    assert "--jobs" in capsys.readouterr().err


# --------------------------------------------------------------------------- what a run reads, checked up front
SMALL_REGISTER = REPO / "tests" / "data" / "registers" / "small"


def _no_kernel(monkeypatch):
    """Any attempt to run notebooks fails the test: the input must be refused before."""
    from qzfp.reporting import batch as report

    def boom(*a, **k):
        raise AssertionError("a kernel was started")

    monkeypatch.setattr(report, "run_batch", boom)


def test_run_with_a_compare_with_name_that_matches_no_scenario_exits_1_before_any_kernel(
        tmp_path, capsys, monkeypatch):
    _no_kernel(monkeypatch)
    f = write(tmp_path / "cmp.yaml", "horizon: 1\ncompare_with: [baseline, no_such_scenario]\n")
    assert main(["run", str(f), "--out", str(tmp_path / "out"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "cmp.yaml:compare_with[1]: no scenario named 'no_such_scenario'" in err
    assert "Traceback" not in err


def test_run_with_a_compared_scenario_that_is_itself_invalid_names_both_files(tmp_path, capsys, monkeypatch):
    _no_kernel(monkeypatch)
    write(tmp_path / "broken.yaml", "horizon: -1\n")
    f = write(tmp_path / "cmp.yaml", "horizon: 1\ncompare_with: [broken]\n")
    assert main(["run", str(f), "--out", str(tmp_path / "out"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "cmp.yaml:compare_with[0]: " in err and "broken.yaml:horizon: must not be negative" in err


def test_a_relative_register_is_read_from_the_scenario_files_folder_whatever_the_working_folder(
        tmp_path, monkeypatch):
    from qzfp.model.run import prepare_register

    folder = tmp_path / "project" / "params"
    folder.mkdir(parents=True)
    shutil.copytree(SMALL_REGISTER, folder / "reg")
    f = write(folder / "own.yaml", "horizon: 1\nregister: reg\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    s = load_scenario(f)
    assert Path(s.params["register"]) == folder / "reg"
    # what a notebook kernel does: rebuild the scenario from its flattened parameters
    from qzfp.rules.scenario import Scenario

    rebuilt = Scenario.from_parameters(**s.to_papermill())
    assert prepare_register(rebuilt).n_villages == len(pd.read_csv(SMALL_REGISTER / "villages.csv"))


def test_a_register_error_found_through_a_scenario_names_the_scenario_key_and_the_register_row(
        tmp_path, capsys, monkeypatch):
    _no_kernel(monkeypatch)
    shutil.copytree(SMALL_REGISTER, tmp_path / "reg")
    villages = tmp_path / "reg" / "villages.csv"
    villages.write_text(villages.read_text(encoding="utf-8").replace("东山村,450", "东山村,1000000000000"),
                        encoding="utf-8")
    f = write(tmp_path / "own.yaml", "horizon: 1\nregister: reg\n")
    assert main(["run", str(f), "--out", str(tmp_path / "out"), "--quiet"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert f"own.yaml:register: {villages}:5: population 1000000000000 is implausible for one village" in err[0]


def test_a_nul_in_a_county_name_of_a_scenarios_register_exits_1_and_writes_nothing(tmp_path, capsys, monkeypatch):
    _no_kernel(monkeypatch)
    shutil.copytree(SMALL_REGISTER, tmp_path / "reg")
    counties = tmp_path / "reg" / "counties.csv"
    counties.write_text(counties.read_text(encoding="utf-8").replace("柯城区", "柯城\x00区"), encoding="utf-8")
    f = write(tmp_path / "own.yaml", "horizon: 1\nregister: reg\n")
    out = tmp_path / "out"
    assert main(["run", str(f), "--out", str(out), "--quiet"]) == 1
    assert "contains the control character U+0000" in capsys.readouterr().err
    assert not (out / "own").exists()


@pytest.mark.parametrize("name", ["assets", "Assets", "index.html", ".failed", ".hidden"])
def test_a_scenario_named_like_a_shared_folder_or_hidden_is_refused_before_any_kernel(
        name, tmp_path, capsys, monkeypatch):
    _no_kernel(monkeypatch)
    f = write(tmp_path / "clash.yaml", f"horizon: 1\nscenario_name: '{name}'\n")
    assert main(["run", str(f), "--out", str(tmp_path / "out"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert f"clash.yaml:scenario_name: {name!r} " in err
    assert "reserved" in err or "starts with a dot" in err
    assert not (tmp_path / "out" / name).exists()


# --------------------------------------------------------------------------- every command in the reader's language


def _chinese_words(text: str) -> list[str]:
    from chinese import english_words

    return english_words(text, set())


@pytest.mark.parametrize("how", ["--lang zh before the command", "QZFP_LANG=zh"])
def test_compare_writes_its_page_and_workbook_in_chinese_when_chinese_is_chosen_before_the_command_or_in_the_environment(
        short_params, tmp_path, monkeypatch, capsys, how):
    from openpyxl import load_workbook

    other = write(tmp_path / "other.yaml", f"extends: {short_params}\nscenario_name: other\n"
                                           "overrides:\n  village.vice_president.allowance: 100\n")
    args = ["compare", str(short_params), str(other), "--out", str(tmp_path / "out")]
    if how.startswith("--lang"):
        args = ["--lang", "zh", *args]
    else:
        monkeypatch.setenv("QZFP_LANG", "zh")
    assert main(args) == 0
    assert "报告已生成" in capsys.readouterr().out
    folder = tmp_path / "out" / "compare-short-other"
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page and "方案比较" in page
    wb = load_workbook(next(folder.glob("*.xlsx")))
    assert all(_chinese_words(ws.title) == [] for ws in wb.worksheets), wb.sheetnames


def test_the_commands_own_lang_wins_over_the_environment(short_params, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("QZFP_LANG", "zh")
    assert main(["summary", str(short_params), "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "Population" in out and "人口" not in out
    assert main(["--lang", "zh", "summary", str(short_params)]) == 0
    assert "人口" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "expected"), [
    (["--lang", "zh", "run", "--jobs", "many"], "参数--jobs：无效的整数值：'many'"),
    (["--lang", "zh", "proposal", "params/baseline.yaml"], "缺少必需的参数：--year"),
    (["--lang", "zh", "summary", "--bogus"], "无法识别的参数：--bogus"),
    (["--lang=zh", "run", "--lang", "fr"], "参数--lang：无效的选项'fr'（应为'en', 'zh'之一）"),
])
def test_argparse_errors_are_in_chinese_when_chinese_is_chosen(capsys, argv, expected):
    with pytest.raises(SystemExit) as info:
        main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 1
    assert err.startswith("用法：") and expected in err
    prog, message = err.strip().splitlines()[-1].split("：错误：")
    assert prog.startswith("qzfp") and _chinese_words(re.sub(r"--[a-z]+|'[a-z]+'", " ", message)) == []


def test_argparse_errors_stay_in_english_by_default(capsys, monkeypatch):
    monkeypatch.delenv("QZFP_LANG", raising=False)
    with pytest.raises(SystemExit):
        main(["run", "--jobs", "many"])
    assert "error: argument --jobs: invalid int value: 'many'" in capsys.readouterr().err


def test_explain_validate_and_init_speak_chinese_under_qzfp_lang_zh(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("QZFP_LANG", "zh")
    assert main(["explain", "reward_assistance.amount"]) == 0
    out = capsys.readouterr().out
    assert "每名符合条件者每年的奖励扶助金" in out and "单位：元/人/年" in out and "出处：" in out
    assert _chinese_words(out.replace("reward_assistance.amount", "")) == []
    assert main(["explain"]) == 0
    assert "（自2006-01-01起）" in capsys.readouterr().out
    assert main(["validate", str(PARAMS / "baseline.yaml")]) == 0
    assert capsys.readouterr().out.strip() == "1个文件均有效"
    assert main(["init", str(tmp_path / "w")]) == 0
    assert capsys.readouterr().out.startswith(f"已初始化{tmp_path / 'w'}")


def test_the_plan_scenario_file_has_a_title_and_description_of_its_own_in_both_languages(tmp_path, capsys):
    import yaml

    base = write(tmp_path / "b.yaml", f"extends: {PARAMS / 'baseline.yaml'}\nscenario_name: b\nhorizon: 3\n"
                                      "mc_paths: 0\n")
    assert main(["--lang", "zh", "plan", str(base), "--year", "2008", "--ceiling", "100%", "--quiet",
                 "--vary", "village.vice_president.allowance=40,60", "--out", str(tmp_path / "out")]) == 0
    plan = yaml.safe_load((tmp_path / "out" / "plan-b-2008" / "plan.yaml").read_text(encoding="utf-8"))
    parent = load_scenario(PARAMS / "baseline.yaml").params
    assert plan["title_zh"] != parent["title_zh"] and plan["description_zh"] != parent["description_zh"]
    assert plan["title_zh"].startswith(parent["title_zh"]) and "2008年预算上限" in plan["title_zh"]
    assert plan["title"].startswith(parent["title"]) and "plan for 2008" in plan["title"]
    assert _chinese_words(plan["title_zh"] + plan["description_zh"]) == ["plan"]  # "qzfp plan": the command
    for override in plan["overrides"].values():
        assert override["reference"].startswith("qzfp plan:") and override["reference_zh"].startswith("qzfp plan：")
    zh = load_scenario(tmp_path / "out" / "plan-b-2008" / "plan.yaml")
    assert Scenario.from_parameters(**{**zh.to_papermill(), "lang": "zh"}).title == plan["title_zh"]


def _codes_of(parser) -> set[str]:
    """What a Chinese help may show in Latin letters: what the user types (commands, options,
    their choices and default values) and the rule paths it gives as examples."""
    import argparse

    from qzfp.rules import load_rulebook

    codes = {"qzfp", "QZFP_LANG", *load_rulebook().paths()}
    for action in parser._actions:
        codes.update(o.lstrip("-") for o in action.option_strings)  # "--out" reads as the word "out"
        codes.update(str(c) for c in (action.choices or ()) if isinstance(c, str))
        if isinstance(action.default, str):
            codes.add(action.default)
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                codes.add(name)
                codes |= _codes_of(sub)
    return codes


def _commands() -> list[str]:
    import argparse

    from qzfp.cli import build_parser

    sub = next(a for a in build_parser("en")._actions if isinstance(a, argparse._SubParsersAction))
    return list(sub.choices)


@pytest.mark.parametrize("command", [None, *_commands()])
def test_the_help_of_every_command_is_chinese_when_chinese_is_chosen(capsys, command):
    from chinese import english_words

    from qzfp.cli import build_parser

    with pytest.raises(SystemExit) as exit_:
        main(["--lang", "zh", *([command] if command else []), "-h"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("用法：") and "选项" in out
    codes = _codes_of(build_parser("en"))
    assert english_words(out, codes) == [], out
    build_parser("en")  # the next test's parser in English again


def test_the_help_stays_in_english_by_default(capsys, monkeypatch):
    monkeypatch.delenv("QZFP_LANG", raising=False)
    with pytest.raises(SystemExit):
        main(["proposal", "-h"])
    out = re.sub(r"\s+", " ", capsys.readouterr().out)
    assert out.startswith("usage: ") and "positional arguments" in out and "show this help message and exit" in out
    assert "--date YYYY-MM-DD" in out and "year before the budget year" in out


def test_a_warning_of_the_population_engine_is_all_chinese_when_chinese_is_chosen(capsys):
    from chinese import english_words

    from qzfp.model.diagnostics import Diagnostics
    from qzfp.reporting.backtest import print_warnings

    diag = Diagnostics(fallback=(("330881", "330800", "330800"),), e0_bounded=(("330822", 84.7),))
    print_warnings(diag, "zh", {"330822": "常山县"})
    err = capsys.readouterr().err.splitlines()
    assert len(err) == len(diag.warnings()) == 2
    assert all(line.startswith("警告：人口：") for line in err), err
    assert english_words("\n".join(err), {"e0"}) == []
    print_warnings(diag, "en")
    assert all(line.startswith("warning: population: ") for line in capsys.readouterr().err.splitlines())


@pytest.mark.parametrize("command", [["validate", "params/baseline.yaml"], ["explain", "village.vice_president.allowance"]])
def test_a_qzfp_lang_no_command_can_speak_is_refused_unless_a_lang_option_wins(monkeypatch, capsys, command):
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("QZFP_LANG", "fr")
    assert main(command) == 1
    assert capsys.readouterr().err.strip().startswith("QZFP_LANG: unknown language 'fr'; expected one of en, zh")
    assert main(["--lang", "en", *command]) == 0


def test_the_command_line_reads_its_arguments_without_importing_pandas_numpy_or_the_model():
    # every qzfp command builds its (translated) parser first; qzfp run starts its kernels'
    # zygote right after, so whatever the parser imports delays the report (pandas: 0.2 s)
    code = ("import sys; from qzfp.cli import build_parser; "
            "build_parser('zh').parse_args(['run', 'baseline']); "
            "print(sorted(m for m in ('pandas', 'numpy', 'qzfp.model', 'qzfp.i18n.labels') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_the_labels_of_qzfp_i18n_are_there_when_asked_for_by_name():
    # in a fresh process, so that nothing imported qzfp.i18n.labels before the first use
    code = ("import qzfp.i18n as i; "
            "assert all(n in dir(i) for n in i.__all__), 'dir'; "
            "assert i.labels.listing is i.listing, 'module'; "
            "assert all(getattr(i, n) is getattr(i.labels, n) for n in i._LABELS), 'names'; "
            "assert all(getattr(i, n) is not None for n in i.__all__), 'all'; "
            "print(len(i._LABELS))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout) >= 19  # the labels module's public names (19 when this was written)
    import qzfp.i18n as i18n

    with pytest.raises(AttributeError):
        i18n.no_such_label  # noqa: B018
