"""The national back-test: every county of the 2010 census projected to the 2020 census with
500 Monte Carlo paths, as ``qzfp backtest`` runs it (issue 21's goal: under 2 minutes on 2 cores).

Usage::

    .venv/bin/python benchmarks/bench_backtest.py            # 500 paths, all 2,857 counties
    .venv/bin/python benchmarks/bench_backtest.py --paths 100

Prints the wall time of a cold call (a fresh process: imports, the census tables, the Numba
kernel loaded from its cache or compiled, the calibration of 2,857 counties) and of a warm
one (the same process again), the peak resident memory, and the summary of the back-test.
Nothing is asserted: the figures go to ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import resource
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paths", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    t0 = time.perf_counter()
    from qzfp.model.backtest import backtest
    from qzfp.register.census import CENSUS_2020_OUTSIDE_ZHEJIANG, default_census, load_census

    base = default_census()
    check = load_census(CENSUS_2020_OUTSIDE_ZHEJIANG, "2020-11-01")
    _, summary, _ = backtest(base, check, n_paths=args.paths, seed=args.seed)
    cold = time.perf_counter() - t0
    t1 = time.perf_counter()
    backtest(base, check, n_paths=args.paths, seed=args.seed)
    warm = time.perf_counter() - t1
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"national back-test, {int(summary['units'].iloc[0]):,} counties compared, {args.paths} paths: "
          f"cold {cold:.1f} s (imports, tables, kernel, calibration), warm {warm:.1f} s, peak {peak:,.0f} MB")
    print(summary.to_string(index=False, float_format=lambda x: f"{x:.2f}"))


if __name__ == "__main__":
    main()
