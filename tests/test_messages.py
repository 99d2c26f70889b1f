"""Messages by id: every problem a user can meet is a catalogue id with its fields,
shown in the reader's language when it is displayed."""

from __future__ import annotations

import ast
import json
import pickle
import shutil
from pathlib import Path

import pytest

import qzfp
from qzfp.cli import main
from qzfp.errors import (
    Label,
    Problem,
    QzfpError,
    RegisterError,
    RunError,
    ScenarioError,
    did_you_mean,
)
from qzfp.i18n.catalogue import CATALOGUE, template_fields

PACKAGE = Path(qzfp.__file__).parent
REPO = PACKAGE.parent
SMALL_REGISTER = REPO / "tests" / "data" / "registers" / "small"
ERRORS = {"QzfpError", "ParameterError", "ScenarioError", "RegisterError", "RunError", "CensusError",
          "FitError"}
#: errors.py rebuilds a Problem from its own id (Problem.at, unpickling): not a message site.
MACHINERY = {PACKAGE / "errors.py"}


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _calls(name: set[str]) -> list[tuple[str, ast.Call]]:
    out = []
    for f in sorted(PACKAGE.rglob("*.py")):
        if f in MACHINERY:
            continue
        tree = ast.parse(f.read_text(encoding="utf-8"), filename=str(f))
        out += [(f"{f.relative_to(REPO)}:{n.lineno}", n) for n in ast.walk(tree)
                if isinstance(n, ast.Call) and _name(n.func) in name]
    return out


def _literal_ids(node: ast.expr) -> list[str] | None:
    """The ids a Problem call can name: a string literal, or either branch of ``a if c else b``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        a, b = _literal_ids(node.body), _literal_ids(node.orelse)
        return a + b if a is not None and b is not None else None
    return None


def _problem_sites() -> list[tuple[str, list[str] | None, set[str] | None]]:
    """(where, ids or None when not literal, keyword fields or None when ``**fields``)."""
    sites = []
    for where, call in _calls({"Problem"}):
        ids = _literal_ids(call.args[1]) if len(call.args) > 1 else None
        fields = None if any(k.arg is None for k in call.keywords) else {k.arg for k in call.keywords}
        sites.append((where, ids, fields))
    return sites


def test_every_problem_names_a_catalogue_id_literally_with_exactly_the_fields_of_its_texts():
    # Catches a free-text message (Problem(loc, f"...")), an id computed at run time (which no
    # scan could check), a typo'd id (no such key), and a field missing from the call (a KeyError
    # when the problem is shown) or given but not in the text (a value the reader never sees),
    # in English or in Chinese.
    sites = _problem_sites()
    assert len(sites) > 150  # the scan sees the package (a wrong PACKAGE would pass vacuously)
    bad = []
    for where, ids, fields in sites:
        if ids is None:
            bad.append(f"{where}: the message id is not a string literal")
            continue
        if fields is None:
            bad.append(f"{where}: fields given as **mapping cannot be checked")
            continue
        for id_ in ids:
            key = f"problem.{id_}"
            if key not in CATALOGUE["en"]:
                bad.append(f"{where}: no catalogue key {key!r}")
                continue
            for lang in ("en", "zh"):
                want = template_fields(CATALOGUE[lang][key])
                if want != fields:
                    bad.append(f"{where}: {key} [{lang}] has fields {sorted(want)}, the call gives "
                               f"{sorted(fields)}")
    assert not bad, "\n".join(bad)


def test_no_error_of_qzfp_is_raised_with_a_plain_text():
    # An error made from a text has no id: it could only be shown in the language it was written in.
    bad = [where for where, call in _calls(ERRORS)
           if call.args and isinstance(call.args[0], (ast.Constant, ast.JoinedStr, ast.BinOp))]
    assert not bad, "\n".join(bad)
    with pytest.raises(TypeError):
        QzfpError("file not found")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        RegisterError(["villages.csv:3: population is empty"])  # type: ignore[list-item]


def test_every_problem_id_of_the_catalogue_is_used_by_the_code():
    # Catches a dead entry left behind when a message is folded into another or removed: a text
    # that translators keep up to date for nothing.
    used: set[str] = set()
    for _, ids, _ in _problem_sites():
        used.update(ids or [])
    for f in PACKAGE.rglob("*.py"):
        for n in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value.startswith("problem."):
                used.add(n.value.removeprefix("problem."))
    ids = {k.removeprefix("problem.") for k in CATALOGUE["en"] if k.startswith("problem.")}
    assert sorted(ids - used) == []


def test_a_problem_is_shown_in_the_language_asked_for_with_its_fields_in_that_language_too():
    p = Problem("x.csv:3", "expected", what=Label("expect.number"), got="'abc'")
    assert p.line("en") == "x.csv:3: expected a number, got 'abc'"
    assert p.line("zh") == "x.csv:3: 应为数字，实际为'abc'"
    assert p.at("y.csv:4").line("zh") == "y.csv:4: 应为数字，实际为'abc'"


def test_errors_cross_a_process_boundary_with_their_ids_and_fields():
    # Dask workers and batch processes send errors back pickled: the problem must arrive as an id
    # with fields (shown in Chinese at the other end), not as the English text it printed as.
    err = RegisterError([
        Problem("villages.csv:5", "table.not_whole", column="population", value="abc"),
        Problem("census_date", "expected", what=Label("expect.date"), got="'2010-13-01'"),
    ])
    for copy in (pickle.loads(pickle.dumps(err)), pickle.loads(pickle.dumps(RunError(err.problems)))):
        assert copy.problems == err.problems
        assert copy.lines("zh") == ["villages.csv:5: population“abc”不是整数",
                                    "census_date: 应为日期（YYYY-MM-DD），实际为'2010-13-01'"]
    nested = Problem("s.yaml:start_year", "scenario.in_parameter", path="p.q",
                     problem=Problem("", "rulebook.missing_key", key="unit"))
    assert pickle.loads(pickle.dumps(ScenarioError(nested))).lines("zh") == ["s.yaml:start_year: p.q：缺少unit"]
    # as plain data too (the data-files hook's pipe): JSON and back, nested problem and hint included
    hinted = Problem("x.yaml:horizn", "scenario.unknown_key", key="horizn", hint=did_you_mean("horizn", ["horizon"]))
    for p in (nested, hinted, Problem("a", "engine.bad_shape", years=3, units=2, shape=(1, 2, 2))):
        back = Problem.from_data(json.loads(json.dumps(p.to_data())))
        assert back == p and back.line("zh") == p.line("zh")


def test_a_bad_register_row_is_reported_in_chinese_through_the_command_line(tmp_path, capsys):
    shutil.copytree(SMALL_REGISTER, tmp_path / "reg")
    villages = tmp_path / "reg" / "villages.csv"
    villages.write_text(villages.read_text(encoding="utf-8").replace("东山村,450", "东山村,abc")
                        .replace("新新村,800", "新新村,-3"), encoding="utf-8")
    assert main(["--lang", "zh", "validate", str(tmp_path / "reg")]) == 1
    err = capsys.readouterr().err.splitlines()
    assert f"{villages}:3: population为负数-3（应为不小于0的数）" in err
    assert f"{villages}:5: population“abc”不是整数" in err
    assert main(["--lang", "en", "validate", str(tmp_path / "reg")]) == 1
    assert f'{villages}:5: population "abc" is not a whole number' in capsys.readouterr().err


def test_a_bad_scenario_is_reported_in_chinese_through_the_command_line(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: baseline\nhorizon: -1\nlang: english\n", encoding="utf-8")
    assert main(["--lang", "zh", "validate", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:horizon: 不得为负数，实际为-1" in err
    assert "“english”不在可选值en, zh之中" in err
    assert "must not" not in err and "is not one of" not in err
