"""The package ships what a planner without a checkout needs (notebooks, params, rulebook, data, font)."""

from __future__ import annotations

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
    for f in (REPO / "qzfp" / "policy").glob("*.yaml"):
        assert f"qzfp/policy/{f.name}" in wheel_names
    for f in (REPO / "qzfp" / "data").glob("*.csv"):
        assert f"qzfp/data/{f.name}" in wheel_names
    assert "qzfp/data/README.md" in wheel_names
    assert any(n.startswith("qzfp/fonts/") and n.endswith(".otf") for n in wheel_names)
    assert "qzfp/fonts/LICENSE-OFL.txt" in wheel_names


def test_the_wheel_declares_the_qzfp_console_script(wheel_names):
    assert any(n.endswith("entry_points.txt") for n in wheel_names)
