"""The small report folders of ``qzfp compare``, ``sweep`` and ``plan``: their headlines,
charts and the atomic writer of a folder (CSV, workbook, charts, ``index.html``).

The commands themselves, which run the model, are in :mod:`qzfp.reporting.run`; this module
formats and writes what they computed.  :func:`write_csv` and :func:`workbook_labels` are
shared with the data files of a report run.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from qzfp.errors import Problem, QzfpError, RunError
from qzfp.i18n import budget_line_label, format_number, format_yuan, param_label, t

__all__ = [
    "METRIC_DECIMALS",
    "compare_figures",
    "compare_headline",
    "format_metric",
    "plan_headline",
    "plan_tables",
    "print_headline",
    "sweep_figures",
    "sweep_headline",
    "sweep_title",
    "workbook_labels",
    "write_csv",
    "write_folder",
]


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
    labels["yes"], labels["no"] = t("yesno.yes", lang), t("yesno.no", lang)
    for line in lines:
        labels[line] = budget_line_label(line, lang)
    return labels


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    """Write ``df`` (no index) as CSV in UTF-8 with a BOM, so Excel shows Chinese; floats
    in their shortest exact form (they read back to the same bits).

    The bytes of ``df.to_csv(path, index=False, encoding="utf-8-sig")``, written about twice
    as fast: pandas formats a float column with numpy's ``astype(str)`` (the shortest exact
    form) and encodes every row as it writes it; here the float64 columns are formatted by
    Python's ``float.__repr__`` (the same texts, half the time) and the text is encoded once.
    """
    out = df
    floats = [i for i, dtype in enumerate(df.dtypes) if dtype == np.float64]
    if floats:
        out = df.copy(deep=False)
        for i in floats:
            out.isetitem(i, _float_texts(df.iloc[:, i].to_numpy()))
    buf = io.StringIO()
    out.to_csv(buf, index=False)
    Path(path).write_bytes(codecs.BOM_UTF8 + buf.getvalue().encode("utf-8"))
    return Path(path)


def _float_texts(values: np.ndarray) -> np.ndarray:
    """Floats as pandas writes them to CSV: numpy's shortest exact text (which is Python's
    ``repr``), NaN as the empty text (pandas' ``na_rep``)."""
    texts = np.array(list(map(float.__repr__, values.tolist())), dtype=object)
    texts[np.isnan(values)] = ""
    return texts


def sweep_title(paths: Sequence[str], lang: str) -> str:
    """"Sweep of one lever" / "of two levers" / "of N levers", in ``lang``."""
    from qzfp.i18n import listing, param_label

    names = listing([param_label(p, lang) for p in paths], lang, conjunction=False)
    return t("nb.compare.h_sweep_n", lang, n=len(paths), names=names)


def compare_figures(results: Sequence[Any], table: pd.DataFrame, lines: pd.DataFrame, lang: str) -> dict:
    """Waterfall charts from the base's horizon total to each other scenario's, titled with the
    scenarios' numbers and titles (as the page lists them)."""
    from qzfp.reporting import charts as plots

    figs = {}
    base = results[0].scenario
    first, last = int(results[0].years[0]), int(results[0].years[-1])
    for i, r in enumerate(results[1:], start=2):
        sub = lines[lines["scenario"] == r.name]
        wf = sub.rename(columns={"base_amount_yuan": "baseline_yuan", "amount_yuan": "scenario_yuan"})
        figs[f"waterfall_{r.name}.png"] = plots.budget_waterfall(
            wf[["line", "baseline_yuan", "scenario_yuan"]], lang,
            year=f"{first}–{last}" if lang == "en" else f"{first}—{last}",
            baseline_name=f"{t('compare.number', lang, n=1)} {base.title_in(lang)}",
            scenario_name=f"{t('compare.number', lang, n=i)} {r.scenario.title_in(lang)}",
            baseline_tick=t("compare.number", lang, n=1), scenario_tick=t("compare.number", lang, n=i))
    return figs


def sweep_figures(table: pd.DataFrame, paths: list[str], lang: str) -> dict:
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
METRIC_DECIMALS = {"posts_per_10000": 2, "budget_per_capita_yuan": 2}


def format_metric(metric: str, value: Any, lang: str, *, signed: bool = False) -> str:
    """A value of a compared or swept metric formatted by its unit.

    Yuan metrics (``*_yuan``) as amounts, every other metric as a whole number (people,
    posts, townships) unless :data:`METRIC_DECIMALS` says otherwise.
    """
    decimals = METRIC_DECIMALS.get(metric, 0)
    text = format_number(value, lang, decimals)
    if signed and not text.startswith(("-", "—")) and text.strip("0.,") != "":
        text = "+" + text
    return text


def compare_headline(table: pd.DataFrame, lang: str, titles: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The last year of :func:`qzfp.model.comparison.compare`: one row per metric, one column per
    scenario (values formatted by unit) and, for every other scenario, its difference.

    Columns are named by the scenarios' names (codes, for the terminal) or, with ``titles``
    (name → title, in the order of the comparison), by the scenario's number and title
    (``(2) Village vice-presidents' allowance …``) and the differences by the numbers
    (``(2) − (1)``): the page lists the numbered scenarios above the table."""
    from qzfp.i18n import column_label

    last = int(table["year"].max())
    sub = table[table["year"] == last]
    scenarios = list(dict.fromkeys(sub["scenario"]))
    base = table.attrs.get("base", scenarios[0])
    if titles:
        number = {sc: t("compare.number", lang, n=i + 1) for i, sc in enumerate(titles)}
        head = {sc: f"{number[sc]} {titles[sc]}" for sc in scenarios}
        diff_head = {sc: t("cli.difference_to", lang, name=number[sc], base=number[base]) for sc in scenarios}
    else:
        head = {sc: sc for sc in scenarios}
        diff_head = {sc: t("cli.difference_to", lang, name=sc, base=base) for sc in scenarios}
    rows = []
    for metric in dict.fromkeys(sub["metric"]):
        m = sub[sub["metric"] == metric].set_index("scenario")
        row: dict[str, str] = {t("col.metric", lang): f"{column_label(metric, lang)} ({last})"}
        for sc in scenarios:
            row[head[sc]] = format_metric(metric, m.at[sc, "value"], lang)
        d = METRIC_DECIMALS.get(metric, 0)
        for sc in scenarios:
            if sc != base:  # the difference of the figures shown, so that the row reconciles
                diff = round(float(m.at[sc, "value"]), d) - round(float(m.at[base, "value"]), d)
                row[diff_head[sc]] = format_metric(metric, diff, lang, signed=True)
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


def write_folder(out: Path, name: str, csvs: Mapping[str, pd.DataFrame], lang: str, *, title: str,
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


def plan_tables(p: Any, lang: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The changes and frontier tables of a :class:`qzfp.model.plan.Plan` as shown to a reader of
    ``lang``: levers and measures by their labels, units in ``lang``, values formatted by
    unit (the CSV files keep the raw ids and numbers)."""
    from qzfp.i18n import column_label, is_count_column

    ch = p.changes()
    rows = []
    for r in ch.itertuples(index=False):
        label = param_label(r.item, lang) if r.kind == "lever" else column_label(r.item, lang)
        decimals = 2 if r.unit in ("yuan", "%") or r.kind == "lever" else 0
        # whole persons, townships ...: the difference of the whole numbers shown
        diff = round(r.plan) - round(r.baseline) if decimals == 0 else r.difference
        fmt = [format_number(v, lang, decimals) for v in (r.baseline, r.plan, diff)]
        if r.kind == "lever":
            fmt = [f.rstrip("0").rstrip(".") if "." in f else f for f in fmt]
        if fmt[2] and not fmt[2].startswith(("-", "−")) and fmt[2].strip("0.,") != "":
            fmt[2] = "+" + fmt[2]
        rows.append({t("plan.item", lang): label, t("plan.baseline", lang): fmt[0],
                     t("plan.plan", lang): fmt[1], t("plan.difference", lang): fmt[2]})
    changes = pd.DataFrame(rows)
    fr = p.frontier.copy()
    fr["plan"] = fr["plan"] + 1
    for c in fr.columns:  # whole persons and townships, as the page shows them
        if is_count_column(c):
            fr[c] = fr[c].round()
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
