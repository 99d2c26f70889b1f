"""``qzfp explore`` before the page: what it refuses (exit 1, one located line per problem,
in Chinese under ``--lang zh``), which scenario it opens and what it serves.

The page itself, served by the command and opened in Chromium, is tested in
``test_explore_page.py``.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sys
from pathlib import Path

import pytest
from browser import CJK, free_port
from chinese import english_words
from explorer_page import ExploreCommand

from qzfp import i18n
from qzfp.cli import main
from qzfp.explore.serve import (
    KERNEL_NAME,
    _jupyter_path,
    check_port,
    explore_scenario,
    page_notebook,
    write_kernel_spec,
)
from qzfp.rules.scenario import load_scenario, packaged_params_dir

REPO = Path(__file__).resolve().parents[1]
ALLOWANCE = "village.vice_president.allowance"


@pytest.fixture
def busy_port():
    """A port another program listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def errors(capsys) -> list[str]:
    return capsys.readouterr().err.strip().splitlines()


def test_an_unknown_scenario_file_is_refused_at_its_name_with_exit_1(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["explore", "nosuch.yaml", "--no-browser", "--port", str(free_port())]) == 1
    (line,) = errors(capsys)
    assert line.startswith("nosuch.yaml: ") and "nosuch" in line.split(": ", 1)[1]


def test_an_invalid_scenario_file_is_refused_at_its_key(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: baseline\nhorizn: 5\n", encoding="utf-8")
    assert main(["explore", str(bad), "--no-browser", "--port", str(free_port())]) == 1
    (line,) = errors(capsys)
    assert line.startswith(f"{bad}:horizn") and "did you mean 'horizon'" in line


def test_a_port_in_use_is_refused_at_the_port_option(busy_port, capsys):
    assert main(["explore", "--no-browser", "--port", str(busy_port)]) == 1
    assert errors(capsys) == [f"--port {busy_port}: " + i18n.t("problem.explore.port_in_use", "en", port=busy_port)]


@pytest.mark.parametrize("port", ["abc", "0", "65536", "-1", "8866.5"])
def test_a_port_that_is_not_a_whole_number_from_1_to_65535_is_refused(port, capsys):
    assert main(["explore", "--no-browser", f"--port={port}"]) == 1
    (line,) = errors(capsys)
    assert line.startswith("--port: ") and repr(port) in line


def test_a_port_number_that_is_free_is_taken_as_given():
    port = free_port()
    assert check_port(f" {port} ") == port


def test_an_unknown_language_is_refused_where_it_was_given(monkeypatch, capsys):
    args = ["explore", "--no-browser", "--port", str(free_port())]
    assert main([*args, "--lang", "fr"]) == 1
    (line,) = errors(capsys)
    assert line.startswith("--lang: unknown language 'fr'")
    monkeypatch.setenv("QZFP_LANG", "de")
    assert main(args) == 1
    (line,) = errors(capsys)
    assert line.startswith("QZFP_LANG: unknown language 'de'")
    assert main([*args, "--lang", "zh", "--port", "abc"]) == 1  # --lang wins over QZFP_LANG
    assert [line.split(":")[0] for line in errors(capsys)] == ["--port"]


def chinese(line: str) -> bool:
    """A message line in Chinese: Chinese characters, no English word in the message but
    codes (paths and folder names, option names, language codes)."""
    message = re.sub(r"\S*/\S*|--[a-z-]+", " ", line.split(": ", 1)[1])
    return bool(CJK.search(message)) and english_words(message, {"en", "zh", "fr", "params", "nosuch"}) == []


@pytest.mark.parametrize("how", ["global", "environment"])
def test_every_problem_of_the_command_line_is_said_at_once_in_chinese_under_lang_zh(how, busy_port, tmp_path,
                                                                                    monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = ["explore", "nosuch.yaml", "--lang", "fr", "--no-browser", "--port", str(busy_port)]
    if how == "global":
        argv = ["--lang", "zh", *args]
    else:
        monkeypatch.setenv("QZFP_LANG", "zh")
        argv = args
    assert main(argv) == 1
    lines = errors(capsys)
    assert [line.split(": ")[0] for line in lines] == ["--lang", "nosuch.yaml", f"--port {busy_port}"]
    assert all(chinese(line) for line in lines), lines


# --------------------------------------------------------------------------- what it serves


def test_without_a_scenario_it_opens_params_baseline_yaml_of_the_folder_else_the_packaged_baseline(tmp_path,
                                                                                                   monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert explore_scenario(None).path == (Path(packaged_params_dir()) / "baseline.yaml").resolve()
    (tmp_path / "params").mkdir()
    own = tmp_path / "params" / "baseline.yaml"
    own.write_text(f"extends: {REPO / 'params' / 'baseline.yaml'}\nscenario_name: baseline\nhorizon: 2\n",
                   encoding="utf-8")
    assert explore_scenario(None).path == own.resolve()
    assert explore_scenario("baseline").path == own.resolve()


def test_the_page_is_one_cell_that_shows_the_explorer_of_the_scenario_file_working_in_the_commands_folder(
        tmp_path, monkeypatch):
    plans = tmp_path / "plans"
    plans.mkdir()
    scenario = plans / "mine.yaml"
    scenario.write_text(f"extends: {REPO / 'params' / 'baseline.yaml'}\nscenario_name: mine\nhorizon: 2\n"
                        f"overrides:\n  {ALLOWANCE}: 85\n", encoding="utf-8")
    workdir = tmp_path / "office"
    workdir.mkdir()
    nb = page_notebook(scenario, "zh", workdir)
    assert nb.metadata.kernelspec.name == KERNEL_NAME and len(nb.cells) == 1
    monkeypatch.chdir(tmp_path)  # the kernel starts elsewhere (Voila: the page's own folder)
    namespace: dict = {}
    exec(compile(nb.cells[0].source, "page", "exec"), namespace)  # what the page's kernel runs
    explorer = namespace["explorer"]
    assert Path.cwd() == workdir.resolve()
    assert explorer.model.scenario.path == scenario.resolve() and explorer.lang == "zh"
    assert explorer.controls["village_allowance"].value == 85
    assert "@font-face" not in explorer.style_html.value  # the page serves the font itself
    assert nb.cells[0].source.rstrip().endswith("explorer.widget")  # the cell's output: the page
    saved = explorer.save_scenario("planner")
    assert saved == plans / "planner.yaml"  # beside the scenario file it started from
    assert load_scenario(saved).value(ALLOWANCE, 2006) == 85


def test_without_lang_the_page_is_in_the_scenarios_language(tmp_path):
    nb = page_notebook(REPO / "params" / "baseline_zh.yaml", None, tmp_path)
    assert "lang=None" in nb.cells[0].source
    assert load_scenario(REPO / "params" / "baseline_zh.yaml").lang == "zh"


def test_the_pages_kernel_runs_the_python_of_the_command(tmp_path):
    from jupyter_client.kernelspec import KernelSpecManager

    spec = write_kernel_spec(tmp_path)
    assert json.loads((spec / "kernel.json").read_text(encoding="utf-8"))["argv"][0] == sys.executable
    before = os.environ.get("JUPYTER_PATH")
    with _jupyter_path(tmp_path):
        found = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    assert found.argv[0] == sys.executable and found.resource_dir == str(spec)
    assert os.environ.get("JUPYTER_PATH") == before


def test_the_explore_command_is_listed_in_the_help(capsys):
    with pytest.raises(SystemExit):
        main(["explore", "--help"])
    out = capsys.readouterr().out
    for option in ("--lang", "--port", "--no-browser"):
        assert re.search(rf"{option}\b", out), option


def _children(pid: int) -> set[int]:
    """Process ids of the children of ``pid`` (Linux ``/proc``)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return {int(x) for x in path.read_text().split()} if path.exists() else set()


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_stopping_the_command_stops_the_pages_kernels_and_removes_its_folders(tmp_path):
    import urllib.request

    temp = tmp_path / "tmp"
    temp.mkdir()
    with ExploreCommand(tmp_path, env={"TMPDIR": str(temp)}) as server:
        assert server.first_line == i18n.t("explore.serving", "en", url=server.url)
        with urllib.request.urlopen(server.url, timeout=120) as answer:  # a visit runs the page's kernel
            assert answer.status == 200 and b"jupyter-config-data" in answer.read()
        kernels = _children(server.proc.pid)
        assert kernels  # the page's kernel
        assert any(p.name.startswith("qzfp-explore-") for p in temp.iterdir())
        server.close()  # SIGTERM, as a service manager stops it (Ctrl+C alike)
        assert server.proc.returncode == 0
    for pid in kernels:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
    assert sorted(p.name for p in temp.iterdir()) == []  # its folder and Voila's connection files
