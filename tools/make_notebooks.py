"""Generate the report notebooks ``notebooks/0*.ipynb`` from the Python source below.

The notebooks are committed as this script's output (no outputs, no execution counts,
fixed cell ids), so a change to a notebook is a reviewable change to this file, and
``tests/test_notebooks.py`` fails when a committed notebook differs from what this
script generates.

Usage::

    python tools/make_notebooks.py           # write notebooks/*.ipynb
    python tools/make_notebooks.py --check   # exit 1 if a committed notebook is stale

Each notebook is: a markdown title (dropped from the HTML report, which shows the
title in the scenario's language instead), the ``parameters`` cell declaring every
scenario key (:func:`qzfp.rules.scenario.parameters_cell_source`), a set-up cell, then one
short cell per section calling :mod:`qzfp.reporting.sections`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qzfp.rules.scenario import parameters_cell_source  # noqa: E402

NOTEBOOK_DIR = ROOT / "notebooks"

_USAGE = (
    "Report notebook of qzfp, run by `qzfp run` or by plain papermill:\n\n"
    "    papermill notebooks/{stem}.ipynb out.ipynb -f params/baseline.yaml\n\n"
    "`papermill --help-notebook notebooks/{stem}.ipynb` lists the parameters. "
    "Every text below is produced in the scenario's language (`lang: en` or `zh`)."
)

_SETUP = """\
import qzfp.reporting.sections as qn

results = qn.setup(globals())"""

#: stem -> (English title, Chinese title, [section cells])
NOTEBOOKS: dict[str, tuple[str, str, list[str]]] = {
    "01_population": (
        "Population projection",
        "人口预测",
        [
            'qn.header(results, "nb.population.title", "nb.population.intro");',
            "qn.population_city(results);",
            "qn.population_counties(results);",
            "qn.population_pyramids(results);",
            "qn.population_band(results);",
            "qn.population_townships(results);",
            "qn.population_threshold(results);",
            "qn.population_adjustment_2006(results);",
            "qn.population_quality(results);",
        ],
    ),
    "02_staffing_workload": (
        "Posts, staffing ratios and workload",
        "岗位配置、配备比例与工作量",
        [
            'qn.header(results, "nb.staffing.title", "nb.staffing.intro");',
            "qn.staffing_posts(results);",
            "qn.staffing_ratios(results);",
            "qn.workload_cadres(results);",
            "qn.workload_townships(results);",
            "qn.workload_shortages(results);",
            "qn.workload_components(results);",
        ],
    ),
    "03_budget": (
        "Budget",
        "经费预算",
        [
            'qn.header(results, "nb.budget.title", "nb.budget.intro");',
            "qn.budget_by_line(results);",
            "qn.budget_by_county(results);",
            "qn.budget_per_capita(results);",
            "qn.budget_funders(results);",
            "qn.budget_basis(results);",
            "qn.budget_parameters(results);",
        ],
    ),
    "04_compare": (
        "Comparison of scenarios",
        "方案比较",
        [
            "compared, default_list = qn.compare_scenarios(results.scenario)\n"
            'qn.header(results, "nb.compare.title", "nb.compare.intro",\n'
            '          baseline=f"`{compared[0].name}`");',
            "qn.compare_side_by_side(compared, default_list);",
            "qn.compare_budget_lines(compared);",
            "qn.compare_waterfalls(compared);",
            "qn.compare_sensitivity(results);",
            "qn.compare_sweep(results);",
        ],
    ),
}


def build(stem: str) -> nbformat.NotebookNode:
    """The notebook ``stem`` (e.g. ``"01_population"``), outputs empty, ids fixed."""
    title_en, title_zh, sections = NOTEBOOKS[stem]
    cells = [
        new_markdown_cell(
            f"# {title_en} · {title_zh}\n\n" + _USAGE.format(stem=stem),
            metadata={"tags": ["remove-cell"]},
        ),
        new_code_cell(parameters_cell_source(), metadata={"tags": ["parameters"]}),
        new_code_cell(_SETUP),
    ]
    cells += [new_code_cell(src) for src in sections]
    for i, cell in enumerate(cells):
        cell["id"] = f"{stem[:2]}-{i:02d}"
    nb = new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
    )
    nbformat.validate(nb)
    return nb


def render(stem: str) -> str:
    """The JSON text of the notebook ``stem`` as written to disk."""
    return nbformat.writes(build(stem)) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only check the committed notebooks")
    ap.add_argument("--out", type=Path, default=NOTEBOOK_DIR, help="folder of the notebooks")
    args = ap.parse_args(argv)
    stale = []
    for stem in NOTEBOOKS:
        path = args.out / f"{stem}.ipynb"
        text = render(stem)
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            continue
        if args.check:
            stale.append(str(path))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print("stale notebooks (run python tools/make_notebooks.py): " + ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
