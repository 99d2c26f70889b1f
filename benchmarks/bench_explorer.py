"""Speed of the interactive explorer on the whole packaged city (not part of the test run).

Run: ``.venv/bin/python benchmarks/bench_explorer.py [scenario]`` (default ``baseline``:
2,800 villages, 106 townships, 16 years).

For each kind of control, prints the median (and the slowest) of several changes of the
time from setting ``widget.value`` to every output updated (key figures, chart, budget
table; ipywidgets calls the observers synchronously, so the time around the assignment
is the whole update).  Before each change of a lever the explorer's result cache is emptied, so every
change runs the model; the projection *is* cached per (merger target, variant), which
is the design: a policy lever never reprojects.  Year and county only redraw.  Target: < 100 ms.

Also prints the split between the model (staffing + workload + budget) and the
rendering of the outputs, and the first (uncached) change of variant and merger target.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Iterable

from qzfp.explorer import Explorer

TARGET_MS = 100.0


def _timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return 1e3 * (time.perf_counter() - t0)


def _changes(ex: Explorer, key: str, values: Iterable, *, fresh: bool = True) -> list[float]:
    """Times of setting ``controls[key].value`` to each value; with ``fresh`` the result
    cache is emptied first (untimed), so every change runs the model."""
    ctl = ex.controls[key]
    out = []
    for v in values:
        if fresh:
            ex.model._outcomes.clear()

        def assign(v=v):
            ctl.value = v
        out.append(_timed(assign))
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    name = args[0] if args else "baseline"
    t0 = time.perf_counter()
    ex = Explorer(name)
    t_build = 1e3 * (time.perf_counter() - t0)
    m = ex.model
    reg = m.register(m.initial["merge_target"])
    print(f"scenario {m.scenario.name}: {len(reg.counties)} counties, {len(reg.townships)} townships, "
          f"{len(reg.villages)} villages, years {m.years[0]}..{m.years[-1]}")
    print(f"build (load, first projection, widgets, first draw): {t_build:.0f} ms")

    # first (uncached) projection of a variant and of a merger target
    t_variant_cold = _timed(lambda: setattr(ex.controls["variant"], "value", "high"))
    t_merge_cold = _timed(lambda: setattr(ex.controls["merge_target"], "value", 30000))
    ex.controls["merge_target"].value = m.initial["merge_target"]
    ex.controls["variant"].value = m.initial["variant"]
    for v in ("low", "constant"):  # warm the other projections
        ex.controls["variant"].value = v
    ex.controls["merge_target"].value = 40000
    ex.controls["variant"].value = m.initial["variant"]
    ex.controls["merge_target"].value = m.initial["merge_target"]

    a0 = m.initial["village_allowance"]
    th0 = m.initial["village_threshold"]
    ta0 = m.initial["township_allowance"]
    r0 = m.initial["reward_amount"]
    years = [int(y) for y in m.years]
    counties = [code for _, code in ex.controls["county"].options]
    kinds: dict[str, list[float]] = {
        "village allowance": _changes(ex, "village_allowance", [a0 + 5 * k for k in range(1, 12)]),
        "village threshold": _changes(ex, "village_threshold", [th0 - 50 * k for k in range(1, 9)]),
        "township allowance": _changes(ex, "township_allowance", [ta0 + 10 * k for k in range(1, 12)]),
        "township staffing rule": _changes(
            ex, "township_extra_step", [10000 + 1000 * k for k in range(11)]
        ),
        "reward amount": _changes(ex, "reward_amount", [r0 + 20 * k for k in range(1, 12)]),
        "variant (projection cached)": _changes(
            ex, "variant", ["low", "high", "constant", "medium"] * 2
        ),
        "merger target (register and projection cached)": _changes(
            ex, "merge_target", [30000, 40000] * 4
        ),
        "year (no model run)": _changes(
            ex, "year", [years[(k * 5) % len(years)] for k in range(1, 12)], fresh=False
        ),
        "county (no model run)": _changes(
            ex, "county", (counties[1:] + counties[:1]) * 2, fresh=False
        ),
    }
    print(f"\ntime from setting widget.value to all outputs updated [ms] (target < {TARGET_MS:.0f}):")
    print(f"  {'control':48s} {'median':>7s} {'max':>7s}  n")
    worst = 0.0
    for kind, times in kinds.items():
        med = statistics.median(times)
        worst = max(worst, med)
        print(f"  {kind:48s} {med:7.1f} {max(times):7.1f}  {len(times)}")
    print(f"  {'first change of variant (projection computed)':48s} {t_variant_cold:7.1f}")
    print(f"  {'first merger target (merge + projection)':48s} {t_merge_cold:7.1f}")

    # split: model run vs drawing the outputs
    settings = ex.settings()
    model_ms = []
    for k in range(1, 12):
        s = {**settings, "village_allowance": a0 + 1000 + k}
        model_ms.append(_timed(lambda s=s: m.compute(s)))
    draw_ms = [_timed(ex.refresh) for _ in range(11)]  # cached result: drawing only
    print("\nsplit of a policy change [ms]:")
    print(f"  model (staffing + workload + budget, projection reused): {statistics.median(model_ms):6.1f}")
    print(f"  drawing key figures, SVG chart and budget table:         {statistics.median(draw_ms):6.1f}")
    print(f"\nslowest median: {worst:.1f} ms -> {'OK' if worst < TARGET_MS else 'ABOVE TARGET'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
