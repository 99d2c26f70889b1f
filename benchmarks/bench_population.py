"""Speed of the population engine on the whole packaged city (not part of the test run).

Run: ``.venv/bin/python benchmarks/bench_population.py``.  Prints the median of several
runs of

* one scenario, 15 years: county projection + allocation of all indicators to every
  township and village (target < 10 ms after the first call);
* 1,000 Monte Carlo paths, 15 years, county projection (target < 2 s), and the 10/50/90
  percentiles of the county and village indicators;
* the first call (base-population calibration) on the country-size synthetic register of
  ``benchmarks/synthetic.py`` (2,800 counties; target a few seconds), with ``--country``.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

from qzfp.model.assumptions import demography_param_arrays
from qzfp.model.base import calibrate
from qzfp.model.montecarlo import monte_carlo
from qzfp.model.projection import percentiles, project
from qzfp.register import load_register


def _median_time(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    reg = load_register()
    years = np.arange(reg.year, reg.year + 16)
    pa = demography_param_arrays(years)
    print(f"register: {len(reg.counties)} counties, {len(reg.townships)} townships, "
          f"{len(reg.villages)} villages; years {years[0]}..{years[-1]}")

    t0 = time.perf_counter()
    project(reg, pa).village("pop")
    print(f"first call (calibration + lookup tables): {1e3 * (time.perf_counter() - t0):.1f} ms")

    def one() -> None:
        r = project(reg, pa)
        for ind in ("pop", "aged_60plus", "women_15_49", "births", "deaths", "net_migration", "in_migrants"):
            r.village(ind)
            r.township(ind)

    print(f"one scenario, projection + allocation (median of 20): {1e3 * _median_time(one, 20):.2f} ms")
    print(f"county projection only (median of 20): {1e3 * _median_time(lambda: project(reg, pa), 20):.2f} ms")

    t_mc = _median_time(lambda: monte_carlo(reg, pa, 1000, seed=1), 5)
    print(f"1,000 Monte Carlo paths, county projection (median of 5): {t_mc:.2f} s")

    mc = monte_carlo(reg, pa, 1000, seed=1)

    def pct() -> None:
        p = percentiles(mc)
        p.villages(percentile=50)

    print(f"percentiles 10/50/90 + village table incl. net migration (median of 3): "
          f"{_median_time(pct, 3):.2f} s")

    def pct_pop() -> None:
        p = percentiles(mc)
        p.village("pop")
        p.village("aged_60plus")

    print(f"percentiles of village population and 60+ only (median of 5): "
          f"{1e3 * _median_time(pct_pop, 5):.1f} ms")


def country_calibration() -> None:
    """Time the calibration of the base population of the country-size synthetic register."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from benchmarks.synthetic import country_register

    reg = country_register()
    years = np.arange(reg.year, reg.year + 16)
    pa = demography_param_arrays(years)
    project(load_register(), pa)  # rulebook rows and lookup tables cached, as in a real first call
    t0 = time.perf_counter()
    cal = calibrate(reg, pa)
    print(f"country register ({len(reg.counties)} counties): calibration {time.perf_counter() - t0:.2f} s; "
          f"largest |60+ share - target| {abs(cal.achieved[:, 0] - cal.target[:, 0]).max():.1e}")


if __name__ == "__main__":
    main()
    if "--country" in sys.argv[1:]:
        country_calibration()
