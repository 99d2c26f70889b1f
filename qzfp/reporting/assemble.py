"""Assembling a scenario's report folder once its notebooks ran.

``run.json`` (versions, hashes, parameters, times), the pages' navigation and print style,
``report.pdf``, the scenario's ``index.html``, then the one atomic move into place
(:func:`qzfp.reporting.publish.replace_dir`).  This module knows nothing of the model: the
caller passes the key figures and the outcome of the hook writing the data files.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import platform
import shutil
import time
from collections.abc import Mapping
from importlib import metadata as _metadata
from pathlib import Path
from typing import Any

from qzfp.reporting.datafiles import DataFilesJob, ExtraFilesHook, hook_error
from qzfp.reporting.execute import ScenarioRun, now
from qzfp.reporting.outcome import FAILED_DIR, ScenarioReport
from qzfp.reporting.pages import (
    RUN_JSON,
    WORK_DIR,
    copy_font,
    decorate_pages,
    scenario_index,
    write_pdf,
)
from qzfp.reporting.publish import replace_dir

__all__ = ["RUN_SCHEMA", "finish_scenario", "parameters_sha256", "run_record", "versions"]

#: Version of the layout of ``run.json``.
RUN_SCHEMA = 1

#: Metadata keys recorded at the top level of ``run.json`` (the others under ``metadata``).
_RUN_KEYS = {"title", "description", "lang", "scenario_path", "scenario_sha256", "register_sha256"}


def _version(dist: str) -> str | None:
    try:
        return _metadata.version(dist)
    except _metadata.PackageNotFoundError:
        return None


def versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for dist in ("qzfp", "numpy", "pandas", "papermill", "nbconvert", "nbformat", "openpyxl"):
        versions[dist] = _version(dist)
    return versions


def _canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def parameters_sha256(parameters: Mapping[str, Any]) -> str:
    """SHA-256 of the parameters as canonical JSON (sorted keys, UTF-8)."""
    return hashlib.sha256(_canonical_json(dict(parameters)).encode("utf-8")).hexdigest()


def run_record(sc: ScenarioRun, metadata: Mapping[str, Any], *, figures: Mapping[str, str],
               pages: list[tuple[str, str]], durations: Mapping[str, float], duration: float,
               kernel_name: str) -> dict[str, Any]:
    """The content of a scenario's ``run.json`` (``duration`` and ``durations`` in s)."""
    name, parameters = sc.name, sc.parameters
    return {
        "schema": RUN_SCHEMA,
        "scenario_name": name,
        "title": metadata.get("title", parameters.get("title", name)),
        "description": metadata.get("description", parameters.get("description", "")),
        "lang": metadata.get("lang", parameters.get("lang", "en")),
        "scenario_path": metadata.get("scenario_path"),
        "scenario_sha256": metadata.get("scenario_sha256") or parameters_sha256(parameters),
        "parameters_sha256": parameters_sha256(parameters),
        "register_sha256": metadata.get("register_sha256"),
        "versions": versions(),
        "platform": platform.platform(),
        "kernel_name": kernel_name,
        "started": sc.started,
        "finished": now(),
        "duration_s": duration,
        "notebook_duration_s": durations,
        "pages": [{"file": f, "title": t} for f, t in pages],
        "key_figures": [[k, v] for k, v in figures.items()],
        "parameters": parameters,
        "metadata": {k: v for k, v in metadata.items() if k not in _RUN_KEYS},
        "population_diagnostics": _diagnostics(sc.tmp),
    }


def _diagnostics(folder: Any) -> dict[str, Any] | None:
    """What the population engine counted, as the data files wrote it (None without them)."""
    try:
        return json.loads((Path(folder) / "data" / "diagnostics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        return None


def _data_files_outcome(sc: ScenarioRun, answer: Any, hook: ExtraFilesHook) -> Mapping[str, Any]:
    """``answer()`` (an outcome of the data-files hook, waited for), or its error raised."""
    if sc.bar is not None:
        sc.bar.set_postfix_str("data files")
    outcome = answer()
    error = hook_error(outcome, hook, sc.name)
    if error is not None:
        raise error
    return outcome


def finish_scenario(
    sc: ScenarioRun,
    data_files: DataFilesJob | None,
    *,
    extra_files: ExtraFilesHook | None,
    key_figures: Mapping[str, str] | None,
    metadata: Mapping[str, Any],
    keep_notebooks: bool,
    kernel_name: str,
    printer: Any = None,
) -> ScenarioReport:
    """Write run.json and index.html of a scenario whose notebooks all ran, and move its
    temporary folder into place; raise the first failure (in notebook order) instead.

    ``data_files`` is the data-files hook under way (:class:`qzfp.reporting.datafiles.DataFilesJob`):
    its first answer gives the key figures of ``run.json``, the contents of ``report.pdf`` and
    ``index.html``; its whole outcome (the later files written, or its failure) is waited for
    after ``report.pdf``, before ``index.html`` (which lists the files) and the move.
    ``printer`` is the run's :class:`qzfp.reporting.pdf.PdfPrinter` (None: a Chromium of its own
    prints the PDF, see :func:`qzfp.reporting.pages.write_pdf`).
    """
    name, tmp = sc.name, sc.tmp
    assert tmp is not None
    failed = [o for o in sc.outcomes if o is not None and o.error is not None]
    if failed:  # the first failing notebook in notebook order
        raise failed[0].error
    outcomes = [o for o in sc.outcomes if o is not None]
    pages = [(o.page, o.title) for o in outcomes]
    durations = {o.notebook.name: o.duration for o in outcomes}

    figures: dict[str, str] = {str(k): str(v) for k, v in (key_figures or {}).items()}
    if extra_files is not None and data_files is not None:
        figures.update(_data_files_outcome(sc, data_files.first, extra_files).get("value") or {})

    if keep_notebooks:
        shutil.move(str(sc.executed_dir), str(tmp / "notebooks"))
    shutil.rmtree(tmp / WORK_DIR, ignore_errors=True)  # scratch cwd, executed notebooks

    duration = round(time.perf_counter() - sc.t_start, 3)
    run = run_record(sc, metadata, figures=figures, pages=pages, durations=durations,
                     duration=duration, kernel_name=kernel_name)
    (tmp / RUN_JSON).write_text(
        json.dumps(run, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )
    copy_font(tmp)
    decorate_pages(run, tmp)
    # the page numbers of this scenario's last report are tried first (a planner re-running
    # a scenario after changing an amount often gets the same pages: no measuring print)
    write_pdf(run, tmp, printer, previous=sc.out_dir / name)
    if extra_files is not None and data_files is not None:
        _data_files_outcome(sc, data_files.wait, extra_files)  # the later files written
    (tmp / "index.html").write_text(scenario_index(run, tmp), encoding="utf-8")
    files = sorted(p.relative_to(tmp) for p in tmp.rglob("*") if p.is_file())
    dest = sc.out_dir / name
    replace_dir(tmp, dest)
    sc.tmp = None  # moved
    shutil.rmtree(sc.out_dir / FAILED_DIR / name, ignore_errors=True)
    with contextlib.suppress(OSError):
        (sc.out_dir / FAILED_DIR).rmdir()  # only if empty
    if sc.bar is not None:
        sc.bar.set_postfix_str("done")
        sc.bar.update(1)
    return ScenarioReport(
        name=name,
        ok=True,
        folder=dest,
        pages=[dest / f for f, _ in pages],
        files=files,
        key_figures=figures,
        durations_s=durations,
        duration_s=duration,
    )
