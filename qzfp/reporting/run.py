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
import functools
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from qzfp.errors import Problem, QzfpError, RunError, ScenarioError
from qzfp.i18n import budget_line_label, format_number, format_persons, format_yuan, param_label, t
from qzfp.rules.scenario import Scenario, load_scenario, packaged_params_dir

#: Report notebooks in the order of the report (the explorer is interactive only).
REPORT_NOTEBOOKS = ("01_population", "02_staffing_workload", "03_budget", "04_compare")

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
            s = Scenario.from_parameters(**{**s.to_papermill(), "lang": lang})
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


def workbook_labels(lang: str, lines: Sequence[str]) -> dict[str, str]:
    """Display labels for the budget workbook: sheet names, headers, line ids."""
    from qzfp import i18n

    labels: dict[str, str] = {}
    for prefix in ("sheet.", "col."):
        for key in i18n.keys(prefix):
            if not i18n.template_fields(i18n.CATALOGUE[lang][key]):
                labels[key.split(".", 1)[1]] = t(key, lang)
    for key in i18n.keys("unit."):  # units keep their prefix: "post" is also a column
        labels[key] = t(key, lang)
    for line in lines:
        labels[line] = budget_line_label(line, lang)
    return labels


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    """Write ``df`` (no index) as CSV in UTF-8 with a BOM, so Excel shows Chinese; floats
    in their shortest exact form (they read back to the same bits)."""
    df.to_csv(path, index=False, encoding="utf-8-sig")
    return Path(path)


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
    """Write the result tables (CSV, UTF-8 with BOM so Excel shows Chinese) and
    ``budget.xlsx`` of a scenario into ``folder`` (``csv_cache``: see :func:`write_tables`)."""
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


def data_files_hook(parameters: dict, folder: Path, *, csv_cache: str | None = None) -> dict[str, str]:
    """``extra_files`` hook of :func:`qzfp.reporting.batch.run_scenario` (runs in the worker).

    Rebuilds the scenario from its flattened parameters, simulates it once, writes
    the data files (``csv_cache``: the batch's shared table folder, see
    :func:`write_tables`) and returns the key figures.
    """
    from qzfp.model.run import simulate

    scenario = Scenario.from_parameters(**parameters)
    results = simulate(scenario)
    write_data_files(results, folder, scenario.lang, csv_cache=Path(csv_cache) if csv_cache else None)
    return key_figures(results, scenario.lang)


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
            else:
                for p in rep.problems:
                    print(p.line(group[0][0].lang), file=sys.stderr)
        status = max(status, exit_code(reports))
    return status


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
    return summ


def compare_reports(files: Sequence[str | Path], *, out: str | Path = "reports", lang: str | None = None,
                    name: str | None = None) -> int:
    """``qzfp compare``: comparison tables, workbook and index for several scenarios."""
    from qzfp.model.comparison import compare, compare_budget
    from qzfp.model.run import simulate

    scenarios = load_scenarios(files, lang=lang)
    if len(scenarios) < 2:
        raise ScenarioError(Problem("compare", "report.compare_needs_two"))
    lg = lang or scenarios[0].lang
    results = [simulate(s) for s in scenarios]
    table = compare(*results, base=0)
    lines = compare_budget(*results, base=0)
    folder_name = name or "compare-" + "-".join(s.name for s in scenarios)
    headline = compare_headline(table, lg)
    lines_labels = {str(x): budget_line_label(str(x), lg) for x in lines["line"].unique()}
    from qzfp.i18n import column_label

    shown_table = table.assign(metric=[column_label(str(m), lg) for m in table["metric"]])
    shown_lines = lines.assign(line=[lines_labels[str(x)] for x in lines["line"]])
    folder = _write_folder(Path(out), folder_name, {
        "comparison.csv": table,
        "budget_lines.csv": lines,
    }, lg, title=t("nb.compare.title", lg), sheets={"comparison": shown_table, "budget_lines": shown_lines},
        figures=_compare_figures(results, table, lines, lg), headline=headline,
        labels={**lines_labels, "budget_lines": t("sheet.budget_by_line", lg)},
        scenarios=[(sc.name, sc.title) for sc in scenarios])
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
    folder = _write_folder(Path(out), folder_name, {"sweep.csv": table}, lg,
                           title=f"{_sweep_title(paths, lg)}: {scenario.title}", sheets={"sweep": table},
                           figures=_sweep_figures(table, paths, lg), headline=headline,
                           labels={p: param_label(p, lg) for p in paths})
    print_headline(headline)
    print(t("cli.report_written", lg, path=str(folder)))
    return 0


def _sweep_title(paths: Sequence[str], lang: str) -> str:
    """"Sweep of one lever" / "of two levers" / "of N levers", in ``lang``."""
    from qzfp.i18n import param_label

    names = "、".join(param_label(p, lang) for p in paths) if lang == "zh" else \
        ", ".join(param_label(p, lang) for p in paths)
    return t("nb.compare.h_sweep_n", lang, n=len(paths), names=names)


# --------------------------------------------------------------------------- small report folders


def _compare_figures(results: Sequence[Any], table: pd.DataFrame, lines: pd.DataFrame, lang: str) -> dict:
    """Waterfall charts from the base's horizon total to each other scenario's."""
    from qzfp.reporting import charts as plots

    figs = {}
    base = results[0].name
    first, last = int(results[0].years[0]), int(results[0].years[-1])
    for r in results[1:]:
        sub = lines[lines["scenario"] == r.name]
        wf = sub.rename(columns={"base_amount_yuan": "baseline_yuan", "amount_yuan": "scenario_yuan"})
        figs[f"waterfall_{r.name}.png"] = plots.budget_waterfall(
            wf[["line", "baseline_yuan", "scenario_yuan"]], lang,
            year=f"{first}–{last}", baseline_name=base, scenario_name=r.name)
    return figs


def _sweep_figures(table: pd.DataFrame, paths: list[str], lang: str) -> dict:
    from qzfp.reporting import charts as plots

    figs = {}
    if len(paths) == 1:
        for value in ("budget_horizon_yuan", "wisn_required_staff_last"):
            figs[f"line_{value}.png"] = plots.sweep_line(table, lang, x=paths[0], value=value)
    elif len(paths) == 2:
        for value in ("budget_horizon_yuan", "wisn_required_staff_last"):
            figs[f"heatmap_{value}.png"] = plots.sweep_heatmap(table, lang, x=paths[0], y=paths[1], value=value)
    return figs


#: Decimals of a metric shown on the compare/sweep pages (whole people, posts and yuan
#: unless listed).
_METRIC_DECIMALS = {"posts_per_10000": 2, "budget_per_capita_yuan": 2}


def format_metric(metric: str, value: Any, lang: str, *, signed: bool = False) -> str:
    """A value of a compared or swept metric formatted by its unit.

    Yuan metrics (``*_yuan``) as amounts, every other metric as a whole number (people,
    posts, townships) unless :data:`_METRIC_DECIMALS` says otherwise.
    """
    decimals = _METRIC_DECIMALS.get(metric, 0)
    text = format_number(value, lang, decimals)
    if signed and not text.startswith(("-", "—")) and text.strip("0.,") != "":
        text = "+" + text
    return text


def compare_headline(table: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The last year of :func:`qzfp.model.comparison.compare`: one row per metric, one column per
    scenario (values formatted by unit) and, for every other scenario, its difference."""
    from qzfp.i18n import column_label

    last = int(table["year"].max())
    sub = table[table["year"] == last]
    scenarios = list(dict.fromkeys(sub["scenario"]))
    base = table.attrs.get("base", scenarios[0])
    rows = []
    for metric in dict.fromkeys(sub["metric"]):
        m = sub[sub["metric"] == metric].set_index("scenario")
        row: dict[str, str] = {t("col.metric", lang): f"{column_label(metric, lang)} ({last})"}
        for sc in scenarios:
            row[sc] = format_metric(metric, m.at[sc, "value"], lang)
        for sc in scenarios:
            if sc != base:
                row[t("cli.difference_to", lang, name=sc, base=base)] = format_metric(
                    metric, m.at[sc, "difference"], lang, signed=True)
        rows.append(row)
    return pd.DataFrame(rows)


def sweep_headline(table: pd.DataFrame, paths: Sequence[str], lang: str) -> pd.DataFrame:
    """The sweep table with labelled columns and values formatted by unit."""
    from qzfp.i18n import column_label, param_label

    out = pd.DataFrame()
    for col in table.columns:
        if col in paths:
            out[param_label(col, lang)] = [format_number(v, lang, 2).rstrip("0").rstrip(".")
                                           for v in table[col]]
        else:
            out[column_label(col, lang)] = [format_metric(col, v, lang) for v in table[col]]
    return out


def print_headline(df: pd.DataFrame, stream: Any = None) -> None:
    """Print a headline table as aligned text."""
    stream = stream or sys.stdout
    with pd.option_context("display.width", 200, "display.max_columns", 50,
                           "display.max_colwidth", 60):
        print(df.to_string(index=False), file=stream)


def _write_folder(out: Path, name: str, csvs: Mapping[str, pd.DataFrame], lang: str, *, title: str,
                  sheets: Mapping[str, pd.DataFrame], figures: Mapping[str, Any],
                  headline: pd.DataFrame | None = None, labels: Mapping[str, str] | None = None,
                  scenarios: Sequence[tuple[str, str]] = (), texts: Mapping[str, str] | None = None) -> Path:
    """Write a small report folder (CSV, XLSX, PNG, index.html) atomically.

    The folder gets the usual permissions (``0o777`` less the umask), the shipped CJK
    font in ``assets/`` and a page with the headline table, the charts and the files.
    ``texts`` are further text files by name (UTF-8), listed first on the page.
    """
    import shutil

    from qzfp.reporting.charts import save
    from qzfp.reporting.pages import copy_font, folder_page
    from qzfp.reporting.publish import (
        locked_tempdir,
        remove_stale_temporaries,
        replace_dir,
        unlock_dir,
    )
    from qzfp.reporting.workbook import write_table_workbook

    out.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out)
    tmp, lock = locked_tempdir(f".{name}.tmp-", out)
    try:
        for fname, text in (texts or {}).items():
            (tmp / fname).write_text(text, encoding="utf-8")
        for fname, df in csvs.items():
            write_csv(df, tmp / fname)
        xlsx = f"{name}.xlsx"
        write_table_workbook(tmp / xlsx, sheets, labels={**workbook_labels(lang, []), **(labels or {})})
        shown = []
        for fname, fig in figures.items():
            alt = ""
            with contextlib.suppress(Exception):
                alt = fig.axes[0].get_title() or (fig._suptitle.get_text() if fig._suptitle else "")
            save(fig, tmp / fname)
            shown.append((fname, alt or fname))
        copy_font(tmp)
        (tmp / "index.html").write_text(
            folder_page(name, title, lang, headline=headline, figures=shown, files=[*(texts or {}), *csvs, xlsx],
                        has_top_index=(out / "index.html").is_file(), scenarios=scenarios),
            encoding="utf-8")
        replace_dir(tmp, out / name)
    except Exception as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, QzfpError):
            raise
        raise RunError(Problem(str(out / name), "report.write_failed", reason=f"{type(exc).__name__}: {exc}")) from exc
    finally:
        unlock_dir(lock)
    return out / name


# --------------------------------------------------------------------------- qzfp plan


def plan_tables(p: Any, lang: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The changes and frontier tables of a :class:`qzfp.model.plan.Plan` as shown to a reader of
    ``lang``: levers and measures by their labels, units in ``lang``, values formatted by
    unit (the CSV files keep the raw ids and numbers)."""
    from qzfp.i18n import column_label

    ch = p.changes()
    rows = []
    for r in ch.itertuples(index=False):
        label = param_label(r.item, lang) if r.kind == "lever" else column_label(r.item, lang)
        decimals = 2 if r.unit in ("yuan", "%") or r.kind == "lever" else 0
        fmt = [format_number(v, lang, decimals) for v in (r.baseline, r.plan, r.difference)]
        if r.kind == "lever":
            fmt = [f.rstrip("0").rstrip(".") if "." in f else f for f in fmt]
        if fmt[2] and not fmt[2].startswith(("-", "−")) and fmt[2].strip("0.,") != "":
            fmt[2] = "+" + fmt[2]
        rows.append({t("plan.item", lang): label, t("plan.baseline", lang): fmt[0],
                     t("plan.plan", lang): fmt[1], t("plan.difference", lang): fmt[2]})
    changes = pd.DataFrame(rows)
    fr = p.frontier.copy()
    fr["plan"] = fr["plan"] + 1
    fr["within_ceiling"] = [t("yesno.yes" if v else "yesno.no", lang) for v in fr["within_ceiling"]]
    names = {"plan": t("plan.grid_index", lang), "within_ceiling": t("plan.within_ceiling", lang)}
    names.update({c: param_label(c, lang) for c in p.grid.paths})
    names.update({c: column_label(c, lang) for c in ("budget_yuan", "people_covered", "townships_staffed",
                                                      "posts_filled_pct")})
    return changes, fr.rename(columns=names)


def plan_headline(p: Any, lang: str) -> str:
    """One line: the best plan's year, ceiling, objective and budget, and the grid's size."""
    return t("plan.headline", lang, year=p.grid.year, ceiling=format_yuan(p.ceiling, lang),
             objective=t(f"plan.objective.{p.objective}", lang), budget=format_yuan(p.figures["budget_yuan"], lang),
             plans=format_number(len(p.grid.table), lang), frontier=format_number(len(p.frontier), lang))


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
    scenario = load_scenarios([base], lang=lang)[0]
    lg = scenario.lang
    p = plan(scenario, grid, year, ceiling, objective=objective, progress=progress)
    column = objective_column(objective)
    changes, frontier = plan_tables(p, lg)
    from qzfp.i18n import column_label, unit_label

    raw = p.changes()  # the workbook keeps numbers: labelled items and units, values as computed
    sheet = pd.DataFrame({
        t("plan.item", lg): [param_label(i, lg) if k == "lever" else column_label(i, lg)
                             for i, k in zip(raw["item"], raw["kind"], strict=True)],
        column_label("unit", lg): [unit_label(u, lg) for u in raw["unit"]],
        t("plan.baseline", lg): raw["baseline"], t("plan.plan", lg): raw["plan"],
        t("plan.difference", lg): raw["difference"],
    })
    fig = plots.plan_frontier(p.grid.table, p.frontier, lg, value=column,
                              objective=t(f"plan.objective.{objective}", lg), year=p.grid.year,
                              ceiling=p.ceiling, baseline=(p.grid.baseline["budget_yuan"], p.grid.baseline[column]),
                              chosen=(p.figures["budget_yuan"], p.figures[column]))
    folder_name = name or f"plan-{scenario.name}-{p.grid.year}"
    folder = _write_folder(Path(out), folder_name, {"changes.csv": p.changes(), "frontier.csv": p.frontier}, lg,
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
]

