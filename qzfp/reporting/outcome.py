"""What a scenario run ends with: its :class:`ScenarioReport`, or why it failed.

When a notebook fails, the executed notebook (with papermill's error banner) is kept in
``out_dir/.failed/<name>/`` and a :class:`NotebookFailed` names the notebook, the cell of
the *source* notebook (as JupyterLab shows it) and the error.  Failures cross process
boundaries only as a :class:`ScenarioReport` (plain data: its problems as message ids with
fields, shown in the reader's language).
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qzfp.errors import Label, Problem, QzfpError, RunError

__all__ = [
    "FAILED_DIR",
    "NotebookFailed",
    "ScenarioReport",
    "exit_code",
    "failed_report",
    "failing_source_cell",
    "keep_failed",
    "notebook_failed",
]

#: Folder of ``out_dir`` where the executed notebooks of failed runs are kept.
FAILED_DIR = ".failed"


class NotebookFailed(RunError):
    """A notebook raised while being executed for a scenario.

    Parameters
    ----------
    scenario : str
        Scenario name.
    notebook : Path
        The source notebook that failed.
    cell_index : int or None
        0-based index of the failing cell in the *source* notebook (as JupyterLab shows
        it, before papermill injects its parameters cell); ``None`` if unknown.
    exec_count : int or None
        The ``In [n]`` execution count of that cell in the kept executed notebook.
    ename, evalue : str
        Exception class name and message raised in the cell.
    kept_at : Path or None
        Where the executed notebook was kept for debugging.
    """

    def __init__(
        self,
        scenario: str,
        notebook: Path,
        cell_index: int | None,
        exec_count: int | None,
        ename: str,
        evalue: str,
        kept_at: Path | None,
        source_line: str = "",
    ):
        self.scenario = scenario
        self.notebook = Path(notebook)
        self.cell_index = cell_index
        self.exec_count = exec_count
        self.ename = ename
        self.evalue = evalue
        self.kept_at = kept_at
        detail = "" if exec_count is None else f" (In [{exec_count}])"
        if source_line:
            detail += f" `{source_line}`"
        where = (Label("where.unknown_cell", detail=detail) if cell_index is None
                 else Label("where.cell", index=cell_index, detail=detail))
        super().__init__(Problem(str(notebook), "run.notebook_raised", name=scenario, where=where,
                                 error=f"{ename}: {evalue}".rstrip(": "),
                                 kept="" if kept_at is None else Label("run.kept", path=str(kept_at))))


@dataclass
class ScenarioReport:
    """Outcome of one scenario run.

    Attributes
    ----------
    name : str
        Scenario name (the report folder's name).
    ok : bool
        True when the report was written and moved into place.
    folder : Path
        ``out_dir/<name>`` (holds the previous report, if any, when ``ok`` is False).
    pages : list of Path
        The HTML pages, one per notebook, in notebook order (empty on failure).
    files : list of Path
        Every file of the report folder, relative to ``folder`` (empty on failure).
    key_figures : dict
        Label -> formatted value shown on ``index.html``.
    durations_s : dict
        Notebook file name -> execution + conversion time [s].
    duration_s : float
        Wall-clock time of the whole scenario [s].
    problems : list of Problem
        The problems when ``ok`` is False (shown with ``Problem.line(lang)``).
    kept_at : Path or None
        Where a failing executed notebook was kept.
    """

    name: str
    ok: bool
    folder: Path
    pages: list[Path] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    key_figures: dict[str, str] = field(default_factory=dict)
    durations_s: dict[str, float] = field(default_factory=dict)
    duration_s: float = 0.0
    problems: list[Problem] = field(default_factory=list)
    kept_at: Path | None = None


def exit_code(reports: Iterable[ScenarioReport]) -> int:
    """Command-line exit status of a batch of runs.

    Returns
    -------
    int
        0 when every scenario succeeded, 2 when any run failed.  (Status 1, bad input,
        is the caller's: scenario files are validated before any kernel starts.)
    """
    return 0 if all(r.ok for r in reports) else 2


def keep_failed(out_dir: Path, name: str, executed: Path, *, clear: bool = True) -> Path | None:
    """Copy an executed notebook to ``out_dir/.failed/<name>/`` (emptied first if ``clear``)."""
    if not executed.exists():
        return None
    folder = out_dir / FAILED_DIR / name
    if clear:
        shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / executed.name
    shutil.copy2(executed, target)
    return target


def failing_source_cell(nb_path: Path, exc: Any, kept: Path | None) -> int | None:
    """0-based index of the failing cell in the *source* notebook, or None if unknown.

    Papermill's ``exc.cell_index`` counts the injected-parameters cell, so it is one too
    high for every cell after the parameters cell; it is never used as it is.  Tried in
    turn: the failing cell of the kept executed notebook mapped by its cell id, then by
    its position among the cells that are not papermill's injected cell; then the
    failing cell's source text, if exactly one cell of the source notebook has it.
    """
    import nbformat

    def code(cell: Any) -> str:
        return "".join(cell.get("source", "")).strip()

    try:
        source = nbformat.read(str(nb_path), as_version=4)
    except Exception:  # noqa: BLE001  (an unreadable notebook: the cell stays unknown)
        return None
    if kept is not None:
        with contextlib.suppress(Exception):
            executed = nbformat.read(str(kept), as_version=4)
            own = [c for c in executed.cells
                   if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
            failing = [
                i for i, c in enumerate(own)
                if c.get("metadata", {}).get("papermill", {}).get("exception")
                or any(o.get("output_type") == "error" for o in c.get("outputs", []))
            ]
            if failing:
                cell = own[failing[0]]
                ids = [c.get("id") for c in source.cells]
                if cell.get("id") and cell.get("id") in ids:
                    return ids.index(cell.get("id"))
                if len(own) == len(source.cells) and code(source.cells[failing[0]]) == code(cell):
                    return failing[0]
    text = (getattr(exc, "source", "") or "").strip()
    matches = [i for i, c in enumerate(source.cells) if text and code(c) == text]
    return matches[0] if len(matches) == 1 else None


def notebook_failed(name: str, nb_path: Path, exc: Any, kept: Path | None) -> NotebookFailed:
    """Translate papermill's error into the *source* notebook's cell index
    (:func:`failing_source_cell`; "an unknown cell" rather than a wrong number)."""
    cell_index = failing_source_cell(nb_path, exc, kept)
    first = next((ln.strip() for ln in (exc.source or "").splitlines() if ln.strip()), "")
    if len(first) > 80:
        first = first[:77] + "..."
    return NotebookFailed(
        name, nb_path, cell_index, exc.exec_count, exc.ename, exc.evalue, kept, source_line=first
    )


def failed_report(name: str, out_dir: Path, duration: float, exc: QzfpError) -> ScenarioReport:
    """The :class:`ScenarioReport` of a scenario that failed with ``exc`` after ``duration`` [s]."""
    return ScenarioReport(
        name=name,
        ok=False,
        folder=Path(out_dir) / name,
        duration_s=round(duration, 3),
        problems=list(exc.problems),
        kept_at=getattr(exc, "kept_at", None),
    )
