"""Write notebooks/00_explore.ipynb, the interactive explorer (issue 6).

The notebook is thin: a parameters cell (tagged ``parameters``, exactly
:func:`qzfp.rules.scenario.parameters_cell_source`, so papermill and ``qzfp run`` can inject a
scenario) and one cell that builds the explorer from those parameters and displays it.
All logic lives in :mod:`qzfp.explore`.  The notebook is written without outputs or
execution counts, so it can be committed as is.

Run: ``.venv/bin/python tools/make_explore_notebook.py [output path]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

from qzfp.rules.scenario import parameters_cell_source

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PATH = ROOT / "notebooks" / "00_explore.ipynb"

EXPLORER_CELL = """\
from qzfp.explore import Explorer
from qzfp.rules.scenario import SCENARIO_KEYS, Scenario

scenario = Scenario.from_parameters(**{key: globals()[key] for key in SCENARIO_KEYS})
explorer = Explorer(scenario)
explorer.widget
"""


def build() -> nbformat.NotebookNode:
    """The explorer notebook (no outputs, no execution counts)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    params = nbformat.v4.new_code_cell(parameters_cell_source())
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(EXPLORER_CELL.rstrip("\n"))]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"explore-{i}"  # stable ids: regenerating gives the same file
    nbformat.validate(nb)
    return nb


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else DEFAULT_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(build(), path)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
