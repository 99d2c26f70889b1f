"""Peak memory and time of checking the largest legal inputs: a national register and census table.

The bounds of qzfp's input tables (``MAX_VILLAGES`` = 700,000 villages of a register,
``MAX_CENSUS_ROWS`` = 10,000 rows of a census table, with their byte bounds) are meant to fit
the largest real input; this measures what checking an input at those bounds costs, each in
a fresh process (``ru_maxrss`` of ``qzfp validate``, which includes the interpreter and
its libraries):

* ``validate_register``: ``qzfp validate`` of a synthetic national register of
  :data:`~qzfp.register.validate.MAX_VILLAGES` villages (2,850 counties, 40,000 townships;
  ``benchmarks/synthetic.py``), written as a folder of three CSV files;
* ``validate_census``: ``qzfp validate`` of the shipped 2010 table (3,221 rows: the whole
  country) and of a table of :data:`~qzfp.register.census.MAX_CENSUS_ROWS` rows (the
  national rows repeated under new codes).

Usage::

    .venv/bin/python benchmarks/bench_inputs.py            # both (~1 min)
    .venv/bin/python benchmarks/bench_inputs.py register   # one

``benchmarks/run.py`` runs the same measurements as ``validate_register`` and
``validate_census`` (targets: under 2 GB).
"""

from __future__ import annotations

import csv
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


_WRAPPER = ("import resource, subprocess, sys\n"
            "done = subprocess.run([sys.executable, '-m', 'qzfp', 'validate', sys.argv[1]], capture_output=True,"
            " text=True)\n"
            "sys.stderr.write(done.stderr[-2000:])\n"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
            "sys.exit(done.returncode)\n")


def _qzfp_validate(path: Path) -> dict:
    """``qzfp validate PATH`` in a fresh process: wall time [s], peak memory [MB] (``ru_maxrss``
    of that process alone: a fresh wrapper process waits for it), size of the input [byte]."""
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _WRAPPER, str(path)], cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"qzfp validate {path} exited {done.returncode}: {done.stderr[-2000:]}")
    return {"wall_s": wall, "peak_mb": int(done.stdout.split()[-1]) / 1024, "bytes": _size(path)}


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.iterdir()) if path.is_dir() else path.stat().st_size


def national_register(folder: Path) -> Path:
    """A synthetic register of ``MAX_VILLAGES`` villages written to ``folder`` (3 CSV files)."""
    from benchmarks.synthetic import Size, synthetic_register, write_register
    from qzfp.register import MAX_VILLAGES

    return write_register(synthetic_register(Size(counties=2850, townships=40000, villages=MAX_VILLAGES)), folder)


def census_at_the_bound(path: Path) -> Path:
    """A census table of ``MAX_CENSUS_ROWS`` rows: the shipped national rows repeated under new
    6-digit codes (a valid table of the full layout)."""
    from qzfp.register.census import CENSUS_2010, MAX_CENSUS_ROWS

    with open(CENSUS_2010, encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for i in range(MAX_CENSUS_ROWS):
            row = list(body[i % len(body)])
            row[0] = f"{100000 + i:06d}"
            row[2] = "county" if not row[0].endswith("00") else ("province" if row[0].endswith("0000") else "prefecture")
            w.writerow(row)
    return path


def m_validate_register(runs: int = 1) -> dict:
    """``qzfp validate`` of a national register of MAX_VILLAGES villages (fresh process)."""
    from qzfp.register import MAX_VILLAGES

    with tempfile.TemporaryDirectory() as tmp:
        folder = national_register(Path(tmp) / "country")
        results = [_qzfp_validate(folder) for _ in range(runs)]
    return {"times_s": [r["wall_s"] for r in results], "validate_peak_mb": max(r["peak_mb"] for r in results),
            "villages": MAX_VILLAGES, "bytes": results[0]["bytes"]}


def m_validate_census(runs: int = 1) -> dict:
    """``qzfp validate`` of the national 2010 table and of a table of MAX_CENSUS_ROWS rows."""
    from qzfp.register.census import CENSUS_2010, MAX_CENSUS_ROWS

    with tempfile.TemporaryDirectory() as tmp:
        national = [_qzfp_validate(CENSUS_2010) for _ in range(runs)]
        bound = [_qzfp_validate(census_at_the_bound(Path(tmp) / "bound.csv")) for _ in range(runs)]
    return {"times_s": [r["wall_s"] for r in bound], "validate_peak_mb": max(r["peak_mb"] for r in bound),
            "rows": MAX_CENSUS_ROWS, "bytes": bound[0]["bytes"],
            "national_times_s": [r["wall_s"] for r in national],
            "national_peak_mb": max(r["peak_mb"] for r in national), "national_bytes": national[0]["bytes"]}


def main(argv: list[str]) -> int:
    which = argv or ["register", "census"]
    for name in which:
        fn = {"register": m_validate_register, "census": m_validate_census}[name]
        r = fn(1)
        extra = {k: v for k, v in r.items() if k not in ("times_s",)}
        print(f"{name:9s} {r['times_s'][0]:7.1f} s  peak {r['validate_peak_mb']:7.0f} MB  {extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
