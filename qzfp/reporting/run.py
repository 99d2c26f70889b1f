"""From scenario files to report folders: what ``qzfp run/summary/compare/sweep`` do.

This module joins the model (:mod:`qzfp.model.run`, :mod:`qzfp.model.comparison`) to the
report machinery (:mod:`qzfp.reporting.batch`, :mod:`qzfp.reporting.workbook`), so that the command
line stays a thin argument parser.

Order of a run
--------------
1. Every scenario file is loaded and validated; any problem → ``ScenarioError``
   (exit 1) before a kernel starts.
2. Each scenario runs its notebooks (papermill) into a temporary folder; a hook in
   the worker process simulates the scenario once and writes the result tables
   (CSV), the budget workbook and the key figures.
3. The folder is moved into place; ``<out>/index.html`` lists every scenario.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from qzfp.errors import Problem, QzfpError, ScenarioError, shown
from qzfp.i18n import budget_line_label, format_number, format_persons, format_yuan, param_label, t
from qzfp.reporting.datafiles import LaterFiles
from qzfp.reporting.folders import (
    compare_figures,
    compare_headline,
    plan_headline,
    plan_tables,
    print_headline,
    sweep_figures,
    sweep_headline,
    sweep_title,
    workbook_labels,
    write_csv,
    write_folder,
)
from qzfp.rules.scenario import Scenario, load_scenario, packaged_params_dir
from qzfp.rules.scenario_keys import folder_name_problems

#: Report notebooks in the order of the report (the explorer is interactive only).
REPORT_NOTEBOOKS = ("01_population", "02_staffing_workload", "03_budget", "04_compare")

#: What the population engine counted (``Diagnostics.to_dict``), beside the data files; ``run.json``
#: takes it as ``population_diagnostics``.
DIAGNOSTICS_JSON = "diagnostics.json"

#: Relative execution time of the report notebooks (measured on the baseline: 01 projects
#: the variants and Monte Carlo paths and draws the most charts, 04 simulates every compared
#: scenario and the sensitivity set): the kernels of a run take the costliest first.
NOTEBOOK_COST = {"01_population": 3.0, "04_compare": 2.5, "02_staffing_workload": 1.0, "03_budget": 1.0}


# --------------------------------------------------------------------------- locating files


def default_scenario_files() -> list[Path]:
    """``params/baseline.yaml`` of the current folder, else the packaged baseline."""
    local = Path("params") / "baseline.yaml"
    if local.is_file():
        return [local]
    packaged = packaged_params_dir()
    if packaged is not None and (Path(packaged) / "baseline.yaml").is_file():
        return [Path(packaged) / "baseline.yaml"]
    raise ScenarioError(Problem("params/baseline.yaml", "report.no_baseline"))


def notebooks_dir() -> Path:
    """``./notebooks`` when it holds the report notebooks (a checkout or a folder made by
    ``qzfp init``), else the notebooks shipped inside the package."""
    local = Path("notebooks")
    if all((local / f"{n}.ipynb").is_file() for n in REPORT_NOTEBOOKS):
        return local
    return Path(__file__).resolve().parents[1] / "notebooks"


def report_notebooks(folder: Path | None = None) -> list[Path]:
    """Paths of the report notebooks, in report order."""
    folder = notebooks_dir() if folder is None else Path(folder)
    paths = [folder / f"{n}.ipynb" for n in REPORT_NOTEBOOKS]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise ScenarioError([Problem(m, "report.notebook_not_found") for m in missing])
    return paths


def _compared_problems(scenario: Scenario) -> list[Problem]:
    """Problems of the scenarios named in ``compare_with`` (the comparison notebook loads
    them), each also naming the ``compare_with`` entry that leads to it."""
    problems: list[Problem] = []
    for i, ref in enumerate(scenario.params.get("compare_with") or []):
        try:
            load_scenario(ref)
        except QzfpError as e:
            where = f"{scenario.key_location('compare_with')}[{i}]"
            problems += [p.at(f"{where}: {p.location}" if p.location else where)
                         for p in e.problems]
    return problems


def load_scenarios(files: Sequence[str | Path], *, lang: str | None = None) -> list[Scenario]:
    """Load and validate every scenario; all problems of all files in one error.

    Parameters
    ----------
    files : sequence of str or Path
        Scenario files or names (empty: :func:`default_scenario_files`).
    lang : str, optional
        ``en`` or ``zh``: overrides each scenario's ``lang``.
    """
    files = list(files) or default_scenario_files()
    problems: list[Problem] = []
    scenarios: list[Scenario] = []
    for f in files:
        try:
            s = load_scenario(f)
        except QzfpError as e:
            problems += e.problems
            continue
        problems += _compared_problems(s)
        if lang is not None and s.params.get("lang") != lang:
            # the same file in another language: problems found later still name the file
            s = dataclasses.replace(Scenario.from_parameters(**{**s.to_papermill(), "lang": lang}), path=s.path)
        scenarios.append(s)
    names = [s.name for s in scenarios]
    for n in sorted({n for n in names if names.count(n) > 1}):
        problems.append(Problem(n, "report.same_name"))
    if problems:
        raise ScenarioError(problems)
    return scenarios


# --------------------------------------------------------------------------- key figures


def key_figures(results: Any, lang: str) -> dict[str, str]:
    """Headline figures of a scenario, labelled and formatted in ``lang``."""
    k = results.key_figures()
    first, last = k["first_year"], k["last_year"]
    return {
        t("kf.population", lang, year=first): format_persons(k["population_first"], lang),
        t("kf.population", lang, year=last): format_persons(k["population_last"], lang),
        t("kf.village_vice_presidents", lang, year=first): format_number(k["village_vice_presidents_first"], lang),
        t("kf.village_vice_presidents", lang, year=last): format_number(k["village_vice_presidents_last"], lang),
        t("kf.total_posts", lang, year=last): format_number(k["total_posts_last"], lang),
        t("kf.townships_short", lang, year=last): format_number(k["townships_short_of_staff_last"], lang),
        t("kf.budget_year", lang, year=first): format_yuan(k["budget_first_yuan"], lang),
        t("kf.budget_year", lang, year=last): format_yuan(k["budget_last_yuan"], lang),
        t("kf.budget_horizon", lang, first=first, last=last): format_yuan(k["budget_horizon_yuan"], lang),
    }


# --------------------------------------------------------------------------- data files


def _table_key(df: pd.DataFrame) -> str:
    """SHA-256 of a table's columns, types and values (its CSV is a function of them)."""
    import hashlib

    h = hashlib.sha256(repr([(str(c), str(t)) for c, t in df.dtypes.items()]).encode())
    h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return h.hexdigest()


#: How long a data-files process waits for another one of its batch to finish a table both
#: need before writing it itself [s].
SHARED_TABLE_WAIT_S = 30.0


def write_tables(tables: Mapping[str, pd.DataFrame], data: Path, cache: Path | None = None) -> None:
    """Write each table as ``data/<stem>.csv`` (:func:`write_csv`).

    ``cache``: a folder shared by the data-files processes of one batch (see
    :func:`run_reports`).  A table with the same content as one another process wrote
    (the village tables of two scenarios that differ only in allowances, say) is copied
    from there instead of formatted again: the first process to need a table claims it
    (an exclusive ``<hash>.claim`` file), writes it and publishes it as ``<hash>.csv``;
    another process needing it writes its other tables first, then waits for it (at most
    :data:`SHARED_TABLE_WAIT_S`, after which it writes the table itself).
    """
    import os
    import shutil
    import time

    from qzfp.reporting.publish import copy_file

    data = Path(data)
    if cache is None or not Path(cache).is_dir():
        for stem, df in tables.items():
            write_csv(df, data / f"{stem}.csv")
        return
    cache = Path(cache)
    waiting = []
    for stem, df in tables.items():
        key = _table_key(df)
        done, claim = cache / f"{key}.csv", cache / f"{key}.claim"
        try:
            os.close(os.open(claim, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            waiting.append((stem, df, done, claim))
            continue
        try:
            dest = write_csv(df, data / f"{stem}.csv")
            copy_file(dest, done)  # published only once complete
        except BaseException:
            claim.unlink(missing_ok=True)  # the others stop waiting for it and write it themselves
            raise
    for stem, df, done, claim in waiting:
        deadline = time.monotonic() + SHARED_TABLE_WAIT_S
        while not done.exists() and claim.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        if done.exists():
            shutil.copyfile(done, data / f"{stem}.csv")  # a copy, not a link: reports stay independent
        else:
            write_csv(df, data / f"{stem}.csv")


def write_data_files(results: Any, folder: Path, lang: str, *, csv_cache: Path | None = None) -> None:
    """Write the result tables (CSV, UTF-8 with BOM so Excel shows Chinese), the engine's
    diagnostics and ``budget.xlsx`` of a scenario into ``folder`` (``csv_cache``: see
    :func:`write_tables`)."""
    write_diagnostics(results, folder)
    write_tables_and_workbook(results, folder, lang, csv_cache=csv_cache)


def write_diagnostics(results: Any, folder: Path) -> None:
    """``data/diagnostics.json``: what the population engine counted (``run.json`` takes it)."""
    data = Path(folder) / "data"
    data.mkdir(parents=True, exist_ok=True)
    (data / DIAGNOSTICS_JSON).write_text(json.dumps(results.diagnostics.to_dict(), ensure_ascii=False, indent=1),
                                         encoding="utf-8")


def write_tables_and_workbook(results: Any, folder: Path, lang: str, *, csv_cache: Path | None = None) -> None:
    """The result tables (``data/*.csv``, see :func:`write_tables`) and ``budget.xlsx``."""
    from qzfp import i18n
    from qzfp.reporting.workbook import write_budget_workbook

    folder = Path(folder)
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    write_tables(results.tables(), data, csv_cache)
    reg = results.register
    name_col = "name_zh" if lang == "zh" else "name_en"
    county_names = dict(zip(reg.counties["county_code"], reg.counties[name_col], strict=True))
    used = results.scenario.used_parameters()
    write_budget_workbook(
        folder / "budget.xlsx",
        i18n.localise_budget(results.budget, lang),
        i18n.localise_parameters(used, lang),
        results.summary(),
        labels=workbook_labels(lang, list(results.budget["line"].unique())),
        county_names=county_names,
        monthly_rules={str(p) for p, u in zip(used["path"], used["unit"], strict=True)
                       if str(u).strip().endswith("/month")},
    )


def data_files_hook(parameters: dict, folder: Path, *, csv_cache: str | None = None) -> LaterFiles:
    """``extra_files`` hook of :func:`qzfp.reporting.batch.run_scenario` (runs in the worker).

    Rebuilds the scenario from its flattened parameters, simulates it once, writes the
    engine's diagnostics and answers with the key figures at once; the result tables and
    the workbook are written later (``LaterFiles.write``, when the run says so; ``csv_cache``:
    the batch's shared table folder, see :func:`write_tables`).  ``data_files_hook(...).write()``
    writes them at once.
    """
    from qzfp.model.run import simulate

    scenario = Scenario.from_parameters(**parameters)
    results = simulate(scenario)
    write_diagnostics(results, folder)
    return LaterFiles(key_figures(results, scenario.lang),
                      functools.partial(write_tables_and_workbook, results, folder, scenario.lang,
                                        csv_cache=Path(csv_cache) if csv_cache else None))


# --------------------------------------------------------------------------- commands


@contextlib.contextmanager
def _table_cache(out_dir: Path, n_scenarios: int) -> Iterator[str | None]:
    """A hidden folder of ``out_dir`` where the data-files processes of a batch share the
    tables several scenarios have in common (:func:`write_tables`); removed afterwards.
    None for a single scenario."""
    import shutil

    from qzfp.reporting.publish import locked_tempdir, unlock_dir

    if n_scenarios < 2:
        yield None
        return
    folder, lock = locked_tempdir(".qzfp-tables-", Path(out_dir).absolute())
    try:
        yield str(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        unlock_dir(lock)


def _executor(name: str, *, jobs: int, scheduler: str | None, progress: bool) -> Any:
    """The batch executor ``qzfp run --executor`` names: local processes or a Dask cluster
    (both behind :class:`qzfp.reporting.batch.BatchExecutor`)."""
    if name == "dask":
        from qzfp.distributed import DaskExecutor

        return DaskExecutor(scheduler=scheduler, progress=progress)
    from qzfp.reporting.batch import LocalExecutor

    return LocalExecutor(jobs=jobs, progress=progress)


def run_reports(files: Sequence[str | Path], *, out: str | Path | None = None, lang: str | None = None,
                jobs: int = 1, executor: str = "local", scheduler: str | None = None,
                progress: bool = True, notebooks: Sequence[Path] | None = None,
                timeout: float | None = None) -> int:
    """``qzfp run``: reports for each scenario; returns the exit status (0 or 2).

    Raises
    ------
    ScenarioError
        Bad scenario files (before any kernel starts).
    """
    from qzfp.model.run import prepare_register
    from qzfp.reporting.batch import Batch, exit_code, run_batch

    if jobs < 1:
        raise ScenarioError(Problem("--jobs", "batch.jobs", value=jobs))
    scenarios = load_scenarios(files, lang=lang)
    nbs = list(notebooks) if notebooks is not None else report_notebooks()
    # Registers are validated here too, before any kernel starts.
    registers = [prepare_register(s) for s in scenarios]
    # --out wins over each scenario's output_dir; scenarios are grouped by folder
    dirs = [Path(out) if out is not None else Path(s.params.get("output_dir") or "reports") for s in scenarios]
    status = 0
    for out_dir in sorted(set(dirs)):
        group = [(s, r) for s, r, d in zip(scenarios, registers, dirs, strict=True) if d == out_dir]
        out_dir.mkdir(parents=True, exist_ok=True)
        params = [s.to_papermill() for s, _ in group]
        meta = [{"scenario_sha256": s.sha256, "register_sha256": r.sha256,
                 "title": s.title, "description": s.description, "lang": s.lang}
                for s, r in group]
        with _table_cache(out_dir, len(group) if executor != "dask" else 1) as cache:
            hook = data_files_hook
            if cache:  # named like the hook in messages ("writing the data files (data_files_hook)")
                hook = functools.update_wrapper(functools.partial(data_files_hook, csv_cache=cache),
                                                data_files_hook)
            batch = Batch(params, nbs, out_dir, extra_files=hook, metadata=meta, timeout=timeout,
                          lang=group[0][0].lang, cost=NOTEBOOK_COST)
            reports = run_batch(batch, _executor(executor, jobs=jobs, scheduler=scheduler, progress=progress))
        for rep in reports:
            if rep.ok:
                print(t("cli.report_written", group[0][0].lang, path=str(rep.folder)))
                _print_run_warnings(rep.folder, group[0][0].lang)
            else:
                for p in shown(rep.problems):
                    print(p.line(group[0][0].lang), file=sys.stderr)
        status = max(status, exit_code(reports))
    return status


def _print_run_warnings(folder: Path, lang: str) -> None:
    """The population engine's warning lines of a written report (from its ``run.json``)."""
    from qzfp.model.diagnostics import Diagnostics
    from qzfp.reporting.backtest import print_warnings

    try:
        run = json.loads((Path(folder) / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if run.get("population_diagnostics"):
        print_warnings(Diagnostics.from_dict(run["population_diagnostics"]), lang)


def print_summary(file: str | Path | None, *, lang: str | None = None, stream: Any = None) -> pd.DataFrame:
    """``qzfp summary``: validate a scenario, simulate it and print its key figures."""
    from qzfp.model.run import simulate

    stream = stream or sys.stdout
    s = load_scenarios([file] if file else [], lang=lang)[0]
    res = simulate(s)
    lg = s.lang
    print(f"{s.title} ({s.name})", file=stream)
    for k, v in key_figures(res, lg).items():
        print(f"  {k}: {v}", file=stream)
    summ = res.summary()
    cols = ["year", "population", "village_vice_presidents", "township_vice_presidents", "total_posts",
            "wisn_required_staff", "townships_short_of_staff", "budget_yuan"]
    table = summ[cols].copy()
    from qzfp.i18n import label_columns

    with pd.option_context("display.width", 200, "display.max_columns", 20,
                           "display.float_format", "{:,.0f}".format):
        print(label_columns(table, lg).to_string(index=False), file=stream)
    from qzfp.reporting.backtest import print_warnings

    print_warnings(res.diagnostics, lg, res.county_name_map(lg))
    return summ


def _check_name(name: str | None) -> None:
    """Refuse a ``--name`` that cannot name a folder beside the reports, before any work."""
    if name is not None and (bad := folder_name_problems(name, "--name")):
        raise ScenarioError(bad)


def compare_reports(files: Sequence[str | Path], *, out: str | Path = "reports", lang: str | None = None,
                    name: str | None = None) -> int:
    """``qzfp compare``: comparison tables, workbook and index for several scenarios."""
    from qzfp.model.comparison import compare, compare_budget
    from qzfp.model.run import simulate

    _check_name(name)
    scenarios = load_scenarios(files, lang=lang)
    if len(scenarios) < 2:
        raise ScenarioError(Problem("compare", "report.compare_needs_two"))
    lg = lang or scenarios[0].lang
    results = [simulate(s) for s in scenarios]
    table = compare(*results, base=0)
    lines = compare_budget(*results, base=0)
    folder_name = name or "compare-" + "-".join(s.name for s in scenarios)
    headline = compare_headline(table, lg)  # the terminal's: scenarios by name
    titled = compare_headline(table, lg, {s.name: s.title_in(lg) for s in scenarios})  # the page's
    lines_labels = {str(x): budget_line_label(str(x), lg) for x in lines["line"].unique()}
    from qzfp.i18n import column_label

    shown_table = table.assign(metric=[column_label(str(m), lg) for m in table["metric"]])
    shown_lines = lines.assign(line=[lines_labels[str(x)] for x in lines["line"]])
    folder = write_folder(Path(out), folder_name, {
        "comparison.csv": table,
        "budget_lines.csv": lines,
    }, lg, title=t("nb.compare.title", lg), sheets={"comparison": shown_table, "budget_lines": shown_lines},
        figures=compare_figures(results, table, lines, lg), headline=titled,
        labels={**lines_labels, "budget_lines": t("sheet.budget_by_line", lg)},
        scenarios=[(sc.name, f"{t('compare.number', lg, n=i)} {sc.title_in(lg)}")
                   for i, sc in enumerate(scenarios, start=1)])
    print_headline(headline)
    print(t("cli.report_written", lg, path=str(folder)))
    return 0


def sweep_report(base: str | Path, grid: Mapping[str, Sequence[float]], *, out: str | Path = "reports",
                 lang: str | None = None, name: str | None = None, executor: str = "local",
                 scheduler: str | None = None, progress: bool = True) -> int:
    """``qzfp sweep``: table and heatmaps of total budget and required staff over a grid.

    ``progress``: a bar counting the finished tasks of a Dask sweep (``executor="dask"``).
    """
    from qzfp.model.comparison import sweep

    _check_name(name)
    scenario = load_scenarios([base], lang=lang)[0]
    lg = scenario.lang
    if executor == "dask":
        from qzfp.distributed import sweep_dask

        table = sweep_dask(scenario, grid, scheduler=scheduler, progress=progress)
    else:
        table = sweep(scenario, grid)
    folder_name = name or f"sweep-{scenario.name}"
    paths = list(grid)
    headline = sweep_headline(table, paths, lg)
    folder = write_folder(Path(out), folder_name, {"sweep.csv": table}, lg,
                          title=f"{sweep_title(paths, lg)}: {scenario.title}", sheets={"sweep": table},
                          figures=sweep_figures(table, paths, lg), headline=headline,
                          labels={p: param_label(p, lg) for p in paths})
    print_headline(headline)
    print(t("cli.report_written", lg, path=str(folder)))
    return 0


# --------------------------------------------------------------------------- qzfp plan


def plan_report(base: str | Path, grid: Mapping[str, Sequence[float]], *, year: int, ceiling: str | float,
                objective: str | None = None, out: str | Path = "reports", lang: str | None = None,
                name: str | None = None, progress: bool = True) -> int:
    """``qzfp plan``: the best plan under a ceiling, written as a scenario file with the
    frontier (CSV, chart) and the changes against the scenario (CSV, printed) into
    ``<out>/<name>/`` (default ``plan-<scenario>-<year>``), atomically."""
    from qzfp.model.plan import DEFAULT_OBJECTIVE, objective_column, plan, plan_scenario_text
    from qzfp.reporting import charts as plots

    objective = objective or DEFAULT_OBJECTIVE
    objective_column(objective)  # a bad objective before anything is computed
    _check_name(name)
    scenario = load_scenarios([base], lang=lang)[0]
    lg = scenario.lang
    p = plan(scenario, grid, year, ceiling, objective=objective, progress=progress)
    column = objective_column(objective)
    changes, frontier = plan_tables(p, lg)
    from qzfp.i18n import column_label, is_count_column, unit_label

    raw = p.changes()  # the workbook keeps numbers: labelled items and units, values as computed
    whole = [k != "lever" and is_count_column(i) for i, k in zip(raw["item"], raw["kind"], strict=True)]

    def shown(col: str) -> list[float]:  # whole persons, posts ... as whole numbers
        return [round(v) if w else v for v, w in zip(raw[col], whole, strict=True)]

    sheet = pd.DataFrame({
        t("plan.item", lg): [param_label(i, lg) if k == "lever" else column_label(i, lg)
                             for i, k in zip(raw["item"], raw["kind"], strict=True)],
        column_label("unit", lg): [unit_label(u, lg) for u in raw["unit"]],
        t("plan.baseline", lg): shown("baseline"), t("plan.plan", lg): shown("plan"),
        t("plan.difference", lg): [round(b) - round(q) if w else d for b, q, d, w in
                                   zip(raw["plan"], raw["baseline"], raw["difference"], whole, strict=True)],
    })
    fig = plots.plan_frontier(p.grid.table, p.frontier, lg, value=column,
                              objective=t(f"plan.objective.{objective}", lg), year=p.grid.year,
                              ceiling=p.ceiling, baseline=(p.grid.baseline["budget_yuan"], p.grid.baseline[column]),
                              chosen=(p.figures["budget_yuan"], p.figures[column]))
    folder_name = name or f"plan-{scenario.name}-{p.grid.year}"
    folder = write_folder(Path(out), folder_name, {"changes.csv": p.changes(), "frontier.csv": p.frontier}, lg,
                          title=f"{t('plan.title', lg, year=p.grid.year)}: {scenario.title}",
                          sheets={"plan_changes": sheet, "plan_frontier": frontier},
                          figures={"frontier.png": fig}, headline=changes,
                          labels={"plan_changes": t("sheet.plan_changes", lg),
                                  "plan_frontier": t("sheet.plan_frontier", lg)},
                          texts={"plan.yaml": plan_scenario_text(p)})
    print(plan_headline(p, lg))
    print_headline(changes)
    print(t("plan.written", lg, path=str(folder / "plan.yaml")))
    print(t("cli.report_written", lg, path=str(folder)))
    return 0


__all__ = [
    "NOTEBOOK_COST",
    "REPORT_NOTEBOOKS",
    "compare_reports",
    "data_files_hook",
    "default_scenario_files",
    "key_figures",
    "load_scenarios",
    "notebooks_dir",
    "plan_report",
    "print_summary",
    "report_notebooks",
    "run_reports",
    "sweep_report",
    "write_data_files",
    "write_diagnostics",
    "write_tables_and_workbook",
]

