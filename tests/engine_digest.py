"""The engines' numbers as digests: what ``tests/model/test_numbers_unchanged.py`` compares.

Issue 24 made the engines faster without changing a number: every output of the baseline
scenario, of the synthetic province and country (``benchmarks/synthetic.py``), of a sweep,
a plan, the Monte Carlo, the sensitivity ranking and the census projection was hashed on the
settled engine as it stood before (commit 3bc09df, merged as d37d93a) into ``tests/data/numbers_digest.json``, and the
test hashes them again.

Floats are rounded before they are hashed, so that a digest is stable against the last bits
a different order of summation may change, yet stricter than the promise "to the yuan and to
the person": each value is rounded to 2 decimals in columns of yuan (``*_yuan``), to 6
decimals elsewhere (persons, posts, hours, ratios), or to 12 significant digits where that
is coarser (a country's population of 10⁹ to the thousandth of a person).  Integers, text,
bools, the names of the columns and the order of the rows are hashed as they are.

Usage (from the repository)::

    .venv/bin/python tests/engine_digest.py --check            # the test, with a line per output
    .venv/bin/python tests/engine_digest.py --write            # store the digests (a deliberate change)
    .venv/bin/python tests/engine_digest.py --dump DIR         # the raw outputs, to compare two revisions
    .venv/bin/python tests/engine_digest.py --diff DIR1 DIR2   # largest differences between two dumps

``--write`` is for a change that alters a number on purpose; the commit says why.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
DIGESTS = ROOT / "tests" / "data" / "numbers_digest.json"

#: Decimals of a float by the unit of its column: yuan to the fen, everything else to 1e-6.
YUAN_DECIMALS = 2
OTHER_DECIMALS = 6
#: Significant digits kept at most (values above 10⁶ are rounded to these).
SIGNIFICANT = 12


# --------------------------------------------------------------------------- canonical values


def canonical_floats(x: np.ndarray, decimals: int) -> np.ndarray:
    """Floats as (mantissa, exponent) int64 pairs: ``round(x / 10**e)`` with
    ``e = max(-decimals, floor(log10|x|) - SIGNIFICANT + 1)``; NaN and ±inf as codes."""
    x = np.asarray(x, dtype=np.float64).ravel()
    finite = np.isfinite(x)
    ax = np.where(finite & (x != 0), np.abs(x), 1.0)
    e = np.maximum(-decimals, np.floor(np.log10(ax)).astype(np.int64) - SIGNIFICANT + 1)
    e = np.where(finite, e, 0)
    m = np.where(finite, np.round(np.where(finite, x, 0.0) / 10.0 ** e), 0.0).astype(np.int64)
    m = np.where(m == 0, 0, m)  # -0 and 0 alike
    code = np.where(np.isnan(x), 1, np.where(np.isposinf(x), 2, np.where(np.isneginf(x), 3, 0)))
    return np.stack([m, e, code], axis=-1)


def _column_bytes(name: str, values: Any) -> bytes:
    a = np.asarray(values)
    if a.dtype.kind == "f":
        decimals = YUAN_DECIMALS if name.endswith("_yuan") else OTHER_DECIMALS
        return canonical_floats(a, decimals).tobytes()
    if a.dtype.kind in "iub":
        return a.astype(np.int64).tobytes()
    return "\x1f".join(map(str, a.ravel().tolist())).encode()


def frame_digest(df: pd.DataFrame) -> str:
    """SHA-256 of a table: column names, shape and canonical values, in row order."""
    h = hashlib.sha256(repr((list(map(str, df.columns)), df.shape)).encode())
    for col in df.columns:
        h.update(str(col).encode() + b"\x1e")
        h.update(_column_bytes(str(col), df[col].to_numpy()))
    return h.hexdigest()


def array_digest(a: Any, name: str = "") -> str:
    """SHA-256 of an array's shape and canonical values (``name`` ending ``_yuan``: yuan)."""
    a = np.asarray(a)
    h = hashlib.sha256(repr(a.shape).encode())
    h.update(_column_bytes(name, a))
    return h.hexdigest()


def digest(value: Any, name: str) -> str:
    if isinstance(value, pd.DataFrame):
        return frame_digest(value)
    if isinstance(value, dict):  # floats rounded as in a table, anything else as JSON
        h = hashlib.sha256()
        for k in sorted(value):
            v = value[k]
            h.update(f"{k}\x1e".encode())
            h.update(_column_bytes(k, np.array([v], dtype=float)) if isinstance(v, (float, np.floating))
                     else json.dumps(v, sort_keys=True, default=str).encode())
        return h.hexdigest()
    return array_digest(value, name)


# --------------------------------------------------------------------------- the outputs


def _synthetic(size: str) -> Any:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from synthetic import country_register, province_register

    return province_register() if size == "province" else country_register()


def _baseline() -> Iterator[tuple[str, Any]]:
    from qzfp.model.run import simulate

    r = simulate("baseline")
    yield from r.tables().items()
    yield "workload_components", r.workload_components
    yield "budget_totals", r.budget_totals
    yield "staffing_villages", r.staffing_villages
    yield "key_figures", r.key_figures()
    yield "diagnostics", r.diagnostics.to_dict()
    for k, v in r.ratios().items():
        yield f"ratios.{k}", v


def _large(size: str) -> Iterator[tuple[str, Any]]:
    """Key outputs of a province or country run (no table of villages × years)."""
    from qzfp.model.run import simulate
    from qzfp.rules.scenario import Scenario

    r = simulate(Scenario.from_parameters(), _synthetic(size))
    a = r.arrays
    yield "summary", r.summary()
    yield "population_counties", r.population_counties
    yield "budget_totals", r.budget_totals
    yield "diagnostics", r.diagnostics.to_dict()
    yield "village_pop", a.staffing.village_pop
    yield "village_vice_presidents", a.staffing.village_vice_presidents
    yield "township_total_posts", a.staffing.township_total_posts
    yield "county_all_posts", a.staffing.county_all_posts
    for cadre, c in a.workload.cadres.items():
        yield f"wisn.{cadre}.required", c.required if c.level != "village" else a.staffing.village_to_county(c.required)
    yield "budget.amount_yuan", a.budget.amount
    yield "population.township_births", a.population.township_births
    yield "population.township_net_migration", a.population.township_net_migration


def _sweep() -> Iterator[tuple[str, Any]]:
    from qzfp.model.comparison import sensitivity, sweep

    grid = {"village.vice_president.allowance": list(np.linspace(20.0, 215.0, 40)),
            "village.vice_president.population_threshold": list(np.linspace(200.0, 1400.0, 25))}
    yield "sweep", sweep("baseline", grid)
    yield "sweep.demography", sweep("baseline", {"demography.fertility.tfr": [0.9, 1.2, 1.5],
                                                 "village.vice_president.allowance": [60.0, 90.0]}, chunk=4)
    yield "sensitivity", sensitivity("baseline")
    yield "sensitivity.2015", sensitivity("baseline", year=2015)


def _plan() -> Iterator[tuple[str, Any]]:
    from qzfp.model.plan import plan

    grid = {"village.vice_president.allowance": list(np.arange(40.0, 136.0, 10.0)),
            "village.vice_president.population_threshold": list(np.arange(200.0, 1181.0, 98.0)),
            "township.vice_president.posts_per_township": [1.0, 2.0],
            "activities.slack_season.events_per_year": [0.0, 2.0, 4.0]}
    p = plan("baseline", grid, 2015, "100%", chunk=97)
    yield "plan.table", p.grid.table
    yield "plan.baseline", p.grid.baseline
    yield "plan.frontier", p.frontier
    yield "plan.chosen", {"chosen": int(p.chosen), "ceiling": float(p.ceiling), **p.levers, **p.figures}
    yield "plan.changes", p.changes()


def _montecarlo() -> Iterator[tuple[str, Any]]:
    from qzfp.distributed import monte_carlo_percentiles
    from qzfp.model.montecarlo import monte_carlo
    from qzfp.model.projection import percentiles
    from qzfp.model.run import prepare_register, run_arrays
    from qzfp.rules.scenario import load_scenario

    s = load_scenario("baseline")
    reg, pa = prepare_register(s), s.arrays()
    r = monte_carlo(reg, pa, 200, seed=2006)
    yield "diagnostics", r.diagnostics.to_dict()
    q = percentiles(r)
    for k, v in q.county_indicators(resident=True).items():
        yield f"county.{k}", v
    for k, v in q.city_indicators(resident=True).items():
        yield f"city.{k}", v
    yield "villages.p50", q.villages(percentile=50)
    yield "townships.p10", q.townships(percentile=10)
    yield "population_age.p90", q.population_age(percentile=90)
    mp = monte_carlo_percentiles(reg, pa, 150, 7, chunk=64, indicators=("pop", "aged_60plus", "births"))
    for k in mp.county:
        yield f"chunked.county.{k}", mp.county[k]
        yield f"chunked.city.{k}", mp.city[k]
    yield "chunked.village.pop", mp.village("pop")
    ar = run_arrays(reg, pa, population=monte_carlo(reg, pa, 40, seed=11))
    yield "paths.budget.amount_yuan", ar.budget.amount
    yield "paths.wisn.township.required", ar.workload["township_vice_president"].required


def _census() -> Iterator[tuple[str, Any]]:
    import datetime as dt

    from qzfp.model.county import census_indicators_at, project_census
    from qzfp.register.census import default_census

    census = default_census()
    proj = project_census(census, ["3308", "11"], until=dt.date(2021, 1, 1))
    yield "project.pop", proj.pop
    yield "project.table", proj.table()
    yield "project.diagnostics", proj.diagnostics.to_dict()
    ind = census_indicators_at(census, ["33", "4201"], dt.date(2020, 11, 1), n_paths=60, seed=3)
    yield "indicators.central", ind["central"]
    yield "indicators.quantiles", ind["quantiles"]
    yield "indicators.diagnostics", ind["diagnostics"].to_dict()


#: Each part of the digest: name → generator of (output name, value).
PARTS: dict[str, Callable[[], Iterator[tuple[str, Any]]]] = {
    "baseline": _baseline,
    "province": lambda: _large("province"),
    "country": lambda: _large("country"),
    "sweep": _sweep,
    "plan": _plan,
    "montecarlo": _montecarlo,
    "census": _census,
}


def outputs(part: str) -> Iterator[tuple[str, Any]]:
    """The outputs of one part (name, value), computed now."""
    yield from PARTS[part]()


def digests(part: str) -> dict[str, str]:
    """``{part/output: sha256}`` of one part, computed now."""
    return {f"{part}/{name}": digest(value, name) for name, value in outputs(part)}


def stored(part: str | None = None) -> dict[str, str]:
    """The stored digests (of one part)."""
    d = json.loads(DIGESTS.read_text(encoding="utf-8"))["digests"]
    return d if part is None else {k: v for k, v in d.items() if k.split("/", 1)[0] == part}


# --------------------------------------------------------------------------- command line


def _diff(a: Path, b: Path) -> None:
    for fa in sorted(a.glob("*.pkl")):
        fb = b / fa.name
        if not fb.exists():
            print(f"{fa.stem}: missing in {b}")
            continue
        va, vb = pickle.loads(fa.read_bytes()), pickle.loads(fb.read_bytes())
        for name in va:
            x, y = va[name], vb.get(name)
            if isinstance(x, pd.DataFrame) and isinstance(y, pd.DataFrame):
                cols = [c for c in x.columns if x[c].dtype.kind == "f"]
                if list(x.columns) != list(y.columns) or x.shape != y.shape:
                    print(f"{fa.stem}/{name}: columns or shape differ")
                    continue
                other = [c for c in x.columns if c not in cols and not x[c].equals(y[c])]
                pairs = [(c, x[c].to_numpy(), y[c].to_numpy()) for c in cols] + [(c, None, None) for c in other]
            elif isinstance(x, dict):
                pairs = [] if x == y else [("(dict)", None, None)]
            else:
                pairs = [("", np.asarray(x, dtype=float), np.asarray(y, dtype=float))]
            for c, u, v in pairs:
                if u is None:
                    print(f"{fa.stem}/{name} {c}: differs")
                    continue
                same = (u == v) | (np.isnan(u) & np.isnan(v))
                if same.all():
                    continue
                with np.errstate(invalid="ignore", divide="ignore"):
                    d = np.abs(u - v)
                    rel = np.nanmax(np.where(same, 0.0, d / np.maximum(np.abs(u), 1e-300)))
                print(f"{fa.stem}/{name} {c}: {int((~same).sum())} values differ, largest {np.nanmax(d[~same]):.3g} "
                      f"(relative {rel:.3g})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parts", default=",".join(PARTS), help="comma-separated: " + ", ".join(PARTS))
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--check", action="store_true")
    g.add_argument("--write", action="store_true")
    g.add_argument("--dump", metavar="DIR")
    g.add_argument("--diff", nargs=2, metavar="DIR")
    args = ap.parse_args(argv)
    if args.diff:
        _diff(Path(args.diff[0]), Path(args.diff[1]))
        return 0
    parts = [p for p in args.parts.split(",") if p]
    if args.dump:
        out = Path(args.dump)
        out.mkdir(parents=True, exist_ok=True)
        for part in parts:
            (out / f"{part}.pkl").write_bytes(pickle.dumps(dict(outputs(part))))
            print(f"dumped {part}")
        return 0
    now = {k: v for part in parts for k, v in digests(part).items()}
    if args.write:
        old = json.loads(DIGESTS.read_text(encoding="utf-8"))["digests"] if DIGESTS.exists() else {}
        old = {k: v for k, v in old.items() if k.split("/", 1)[0] not in parts}
        doc = {"about": "tests/engine_digest.py: SHA-256 of the engines' outputs (issue 24)",
               "digests": dict(sorted({**old, **now}.items()))}
        DIGESTS.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {len(now)} digests of {', '.join(parts)} to {DIGESTS}")
        return 0
    want = {k: v for part in parts for k, v in stored(part).items()}
    bad = sorted(k for k in want.keys() | now.keys() if want.get(k) != now.get(k))
    for k in bad:
        print(f"changed: {k}")
    print(f"{len(now) - len(bad)} of {len(want)} outputs unchanged")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
