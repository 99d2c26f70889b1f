"""The package ships what a planner without a checkout needs (notebooks, params, rulebook, data, font)."""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory) -> set[str]:
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(REPO)],
        capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot build a wheel here: {proc.stderr.strip()[-300:]}")
    (whl,) = out.glob("qzfp-*.whl")
    return set(zipfile.ZipFile(whl).namelist())


def test_the_wheel_ships_every_notebook_and_scenario_file(wheel_names):
    for nb in (REPO / "notebooks").glob("*.ipynb"):
        assert f"qzfp/notebooks/{nb.name}" in wheel_names
    for params in (REPO / "params").glob("*.yaml"):
        assert f"qzfp/params/{params.name}" in wheel_names


def test_the_wheel_ships_the_rulebook_the_example_register_and_the_font(wheel_names):
    for f in (REPO / "qzfp" / "rules" / "policy").glob("*.yaml"):
        assert f"qzfp/rules/policy/{f.name}" in wheel_names
    for f in (REPO / "qzfp" / "data").glob("*.csv"):
        assert f"qzfp/data/{f.name}" in wheel_names
    assert "qzfp/data/README.md" in wheel_names
    assert any(n.startswith("qzfp/fonts/") and n.endswith(".ttf") for n in wheel_names)
    assert "qzfp/fonts/LICENSE-OFL.txt" in wheel_names


def test_the_wheel_declares_the_qzfp_console_script(wheel_names):
    assert any(n.endswith("entry_points.txt") for n in wheel_names)


def test_the_wheel_ships_every_module_of_the_model_and_register_packages(wheel_names):
    for sub in ("model", "register"):
        for f in (REPO / "qzfp" / sub).glob("*.py"):
            assert f"qzfp/{sub}/{f.name}" in wheel_names


def test_the_wheel_ships_the_voila_template_of_the_explorer_page(wheel_names):
    template = REPO / "qzfp" / "explore" / "jupyter" / "voila" / "templates" / "qzfp"
    files = sorted(f.name for f in template.iterdir())
    assert files == ["conf.json", "index.html.j2"]
    for name in files:
        assert f"qzfp/explore/jupyter/voila/templates/qzfp/{name}" in wheel_names


def _requirement_name(spec: str) -> str:
    import re

    return re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0].strip().lower().replace("_", "-")


def test_every_third_party_package_the_code_imports_is_a_declared_dependency():
    """An import of a package the set-up does not install would work only by accident (as a
    dependency of a dependency) and break when that one changes."""
    import ast
    import importlib.metadata as md
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {_requirement_name(s) for s in project["dependencies"]}
    optional = {_requirement_name(s) for specs in project["optional-dependencies"].values() for s in specs}
    optional |= {"distributed"}  # dask[distributed]
    dists = md.packages_distributions()
    stdlib = set(sys.stdlib_module_names) | {"qzfp", "__future__"}
    missing = {}
    for path in (REPO / "qzfp").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                tops = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                tops = [node.module.split(".")[0]]
            else:
                continue
            for top in tops:
                if top in stdlib:
                    continue
                names = {d.lower().replace("_", "-") for d in dists.get(top, [top])}
                if not names & (declared | optional):
                    missing.setdefault(top, str(path.relative_to(REPO)))
    assert missing == {}, f"imported but not declared in pyproject.toml: {missing}"


def test_the_upper_bounds_of_the_report_machinery_are_declared():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    deps = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    bounded = {_requirement_name(s) for s in deps if "<" in s}
    assert {"papermill", "nbclient", "nbconvert"} <= bounded


def test_the_constraints_pin_every_declared_dependency_and_make_installs_with_them():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = {}
    for line in (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not pinned with =="
            pins[name.strip().lower().replace("_", "-")] = version
    for spec in project["dependencies"] + project["optional-dependencies"]["test"]:
        assert _requirement_name(spec) in pins, spec
    assert "-c constraints.txt" in (REPO / "Makefile").read_text(encoding="utf-8")


#: What each part of the package may import (besides itself): a scenario goes down the tree
#: rules → register → model → reporting/explore, never back.  errors, i18n and typed (what planners
#: type: numbers and texts) are shared by all.
_MAY_IMPORT = {
    "errors": {"i18n"},
    "i18n": {"errors"},
    "typed": {"errors", "i18n"},
    "rules": {"errors", "i18n", "typed"},
    "register": {"errors", "i18n", "typed"},
    "model": {"errors", "i18n", "typed", "rules", "register"},
    "reporting": {"errors", "i18n", "typed", "rules", "register", "model", "distributed"},
    "explore": {"errors", "i18n", "typed", "rules", "register", "model", "reporting"},
    "distributed": {"errors", "i18n", "typed", "rules", "register", "model", "reporting"},
    "cli": {"errors", "i18n", "typed", "rules", "register", "model", "reporting", "explore", "distributed"},
}


def _qzfp_imports(path: Path) -> list[tuple[int, str]]:
    """``(line, qzfp.<part>)`` of every import in a module, lazy ones included."""
    module = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                names = [".".join([*base, node.module])] if node.module else [".".join([*base, a.name]) for a in node.names]
            else:
                names = [node.module or ""]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        out += [(node.lineno, n) for n in names if n.startswith("qzfp.")]
    return out


def test_no_module_imports_a_later_stage_of_the_pipeline():
    wrong = []
    for path in sorted((REPO / "qzfp").rglob("*.py")):
        part = path.relative_to(REPO / "qzfp").parts[0].removesuffix(".py")
        if part not in _MAY_IMPORT:
            continue
        for line, name in _qzfp_imports(path):
            target = name.split(".")[1]
            if target != part and target in _MAY_IMPORT and target not in _MAY_IMPORT[part]:
                wrong.append(f"{path.relative_to(REPO)}:{line} imports {name}")
    assert wrong == []


def test_no_module_imports_another_modules_underscore_names():
    # A name with a leading underscore is private to its module: a module that needs it
    # from elsewhere is reaching into code it should call through a public name.
    wrong = []
    for path in sorted((REPO / "qzfp").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("qzfp")):
                wrong += [f"{path.relative_to(REPO)}:{node.lineno} {a.name}" for a in node.names
                          if a.name.startswith("_") and not a.name.startswith("__")]
    assert wrong == []
