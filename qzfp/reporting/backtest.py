"""What ``qzfp backtest``, ``qzfp calibrate-migration`` and ``qzfp project`` do: read census
tables, call the model, write the tables and print a summary (the command line only parses).

Every file is written whole or not at all (:func:`qzfp.reporting.publish.atomic_path`), so a
failed run leaves the previous output as it was.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from qzfp.errors import Label, Problem, QzfpError
from qzfp.i18n import format_number, t
from qzfp.model.diagnostics import Diagnostics
from qzfp.register.census import CENSUS_2010, CENSUS_2010_DATE, Census, load_census
from qzfp.reporting.folders import write_csv
from qzfp.reporting.publish import atomic_path, write_text

__all__ = ["backtest_report", "calibrate_report", "parse_codes", "parse_date", "print_warnings", "project_report"]


def parse_date(raw: str, option: str) -> dt.date:
    """A ``YYYY-MM-DD`` option as a date (``QzfpError`` naming the option otherwise)."""
    try:
        return dt.date.fromisoformat(str(raw).strip())
    except ValueError:
        raise QzfpError(Problem(option, "expected", what=Label("expect.date"), got=repr(raw))) from None


def parse_codes(raw: str | None) -> list[str] | None:
    """``--codes PREFIX[,PREFIX…]``: digit prefixes of division codes (None = all)."""
    if raw is None:
        return None
    codes = [c.strip() for c in str(raw).split(",") if c.strip()]
    bad = [c for c in codes if not (c.isdigit() and 1 <= len(c) <= 6)]
    if bad or not codes:
        raise QzfpError(Problem("--codes", "backtest.bad_codes", got=", ".join(bad) or repr(raw)))
    return codes


#: Most Monte Carlo paths of a back-test [path]: their draws for every county of China take
#: 3 × paths × 2,857 × 8 bytes (690 MB at this limit) besides the chunks being projected.
MAX_PATHS = 10_000


def _paths(n: int) -> int:
    if n < 0 or n > MAX_PATHS:
        raise QzfpError(Problem("--paths", "backtest.bad_paths", n=n))
    return n


def _seed(seed: int) -> int:
    if not 0 <= seed < 2**32:
        raise QzfpError(Problem("--seed", "backtest.bad_seed", got=seed))
    return seed


def _base(path: str | None, date: str | None) -> Census:
    p = Path(path) if path else CENSUS_2010
    census = load_census(p, parse_date(date, "--base-date") if date else CENSUS_2010_DATE)
    census.require_full(str(p))
    return census


def print_warnings(diag: Diagnostics, lang: str, names: dict[str, str] | None = None) -> None:
    """One ``warning:`` line per kind of event the engine counted (stderr)."""
    for p in diag.warnings(names):
        print(t("diag.warning", lang, text=p.line(lang)), file=sys.stderr)


def _out_dir(out: str | Path) -> Path:
    d = Path(out)
    d.mkdir(parents=True, exist_ok=True)
    return d


def _write(df: pd.DataFrame, target: Path) -> Path:
    with atomic_path(target) as part:
        write_csv(df, part)
    return target


def _summary_lines(summary: pd.DataFrame, lang: str) -> list[str]:
    rows = []
    for r in summary.itertuples():
        unit = "%" if r.indicator in ("resident_total", "prefecture_total") else t("backtest.points", lang)
        rows.append(t("backtest.summary_row", lang, indicator=t(f"backtest.indicator.{r.indicator}", lang),
                      error=f"{r.error:.2f} {unit}", naive=f"{r.naive_error:.2f} {unit}", ratio=f"{r.ratio:.2f}",
                      inside="—" if not np.isfinite(r.coverage_pct) else f"{r.coverage_pct:.1f} %"))
    return [t("backtest.summary_head", lang)] + rows


def backtest_report(base: str | None, check: str, *, codes: str | None = None, check_date: str | None = None,
                    base_date: str | None = None, n_paths: int = 500, seed: int = 0, out: str = "backtest",
                    lang: str = "en") -> int:
    """``qzfp backtest``: project BASE's counties to CHECK's date and compare (see the README).

    Writes ``OUT/backtest.csv`` (``code, name_zh, indicator, observed, central, p10, p90``)
    and ``OUT/summary.csv``; prints the summary and the engine's warnings.
    """
    from qzfp.model.backtest import PREFECTURE_TOTAL, backtest

    prefixes = parse_codes(codes)
    date = parse_date(check_date or "2020-11-01", "--check-date")
    base_census = _base(base, base_date)
    check_census = load_census(Path(check), date)
    table, summary, diag = backtest(base_census, check_census, prefixes=prefixes, check_date=date,
                                    n_paths=_paths(n_paths), seed=_seed(seed))
    d = _out_dir(out)
    counties = table[table["indicator"] != PREFECTURE_TOTAL]
    _write(counties[["code", "name_zh", "indicator", "observed", "central", "p10", "p90"]], d / "backtest.csv")
    _write(summary, d / "summary.csv")
    units = int(summary["units"].iloc[0])
    print(t("backtest.done", lang, units=format_number(units, lang), base=base_census.path,
            date=date.isoformat(), paths=format_number(n_paths, lang), seed=seed))
    for line in _summary_lines(summary, lang):
        print(line)
    print(t("backtest.written", lang, path=str(d / "backtest.csv")))
    print_warnings(diag, lang)
    return 0


def calibrate_report(base: str | None, check: str, *, codes: str | None = None, check_date: str | None = None,
                     base_date: str | None = None, n_paths: int = 200, seed: int = 0, out: str = "calibration",
                     lang: str = "en") -> int:
    """``qzfp calibrate-migration``: fit the migration model and the band widths on CHECK.

    Writes ``OUT/calibration.yaml`` (the rulebook values), ``OUT/errors.csv`` (in-sample and
    leave-one-province-out errors), ``OUT/coverage.csv`` and ``OUT/units.csv``.
    """
    from qzfp.model.migration_fit import fit_migration

    prefixes = parse_codes(codes)
    date = parse_date(check_date or "2020-11-01", "--check-date")
    fit = fit_migration(_base(base, base_date), load_census(Path(check), date), check_date=date, prefixes=prefixes,
                        n_paths=_paths(n_paths), seed=_seed(seed), progress=lambda line: print(line, file=sys.stderr))
    d = _out_dir(out)
    write_text(d / "calibration.yaml", fit.yaml())
    _write(fit.errors, d / "errors.csv")
    _write(fit.coverage, d / "coverage.csv")
    _write(fit.units, d / "units.csv")
    print(fit.yaml(), end="")
    for line in _summary_lines(fit.coverage, lang):
        print(line)
    print(t("backtest.written", lang, path=str(d / "calibration.yaml")))
    return 0


def project_report(census: str | None, *, codes: str | None = None, until: str, base_date: str | None = None,
                   out: str = "projection", lang: str = "en") -> int:
    """``qzfp project``: project counties of a census table to 1 January after ``until``.

    Writes ``OUT/projection.csv`` (``year, code, name_zh, basis, population, aged_60plus,
    aged_65plus``) and prints the first and last year's resident totals.
    """
    from qzfp.model.county import county_codes, project_census

    prefixes = parse_codes(codes)
    table_census = _base(census, base_date)
    chosen = county_codes(table_census, prefixes)
    if not len(chosen):
        raise QzfpError(Problem("--codes", "backtest.no_units", prefixes=",".join(prefixes or []),
                                path=table_census.path))
    proj = project_census(table_census, chosen, until=parse_date(until, "--until"))
    table = proj.table()
    d = _out_dir(out)
    _write(table, d / "projection.csv")
    res = table[table["basis"] == "resident"]
    for year in (int(proj.years[0]), int(proj.years[-1])):
        print(t("project.total", lang, year=year, units=format_number(len(chosen), lang),
                persons=format_number(float(res.loc[res["year"] == year, "population"].sum()), lang)))
    print(t("backtest.written", lang, path=str(d / "projection.csv")))
    print_warnings(proj.diagnostics, lang, dict(zip(proj.codes, proj.names, strict=True)))
    return 0
