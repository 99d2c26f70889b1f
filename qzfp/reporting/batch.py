"""Run the report notebooks of a scenario and assemble its report folder.

A scenario's report is the folder ``out_dir/<scenario_name>/``::

    index.html          key figures, links to every page and file
    <notebook>.html     one page per notebook: outputs and markdown, no code, no parameters
    run.json            versions, hashes, parameters, times
    ...                 whatever the caller's ``extra_files`` hook writes (CSV, budget.xlsx)

and ``out_dir/index.html`` lists every scenario found in ``out_dir``.

How a run is made safe
----------------------
Everything is written into a temporary folder beside the destination
(``out_dir/.<name>.tmp-XXXX``).  Only when every notebook ran, every page was
converted and the hook returned, the old report is renamed aside, the new one is
renamed into place and the old one deleted.  Any failure before that leaves the
previous report byte-identical.  The temporary folder is locked (``flock``) while its
run lives; the next run into ``out_dir`` removes those of dead runs (SIGKILL, power
loss) and only those (:func:`remove_stale_temporaries`).  When a notebook fails, the executed notebook
(with papermill's error banner) is kept in ``out_dir/.failed/<name>/`` and a
:class:`NotebookFailed` names the notebook, the cell and the error.

Kernels
-------
A scenario's notebooks run in a few *warm* kernels (``notebook_jobs``, default one per
CPU, at least 2): each kernel is started once and executes notebooks in turn, its
namespace cleared, its execution count restarted and its working directory set between
two, so imports and caches are paid once per kernel.  When :func:`run_many` runs several
scenarios, *all* their notebooks go through one such pool (costliest first), so a batch
pays the kernel start and the imports once per kernel, not once per scenario; each
scenario keeps its own temporary folder, data-files process, pages, run.json, index,
move into place and failure.  Pages keep the notebook order whatever the execution
order; the data-files hook runs in a separate process meanwhile.  A failure stops the
start of further notebooks of that scenario and names its first failing notebook in
notebook order.

Pages are self-contained: nbconvert's ``lab`` template inlines its CSS, images
are base64 in the notebook, and the require.js, MathJax, mermaid and widget
``<script>`` tags (which point at a CDN) are left out, so a page displays the
same with no network.

This module knows nothing of the model: the caller passes the notebook
parameters, the notebooks, the key figures and a hook writing the data files.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import html
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata as _metadata
from pathlib import Path
from typing import Any

from qzfp.errors import Problem, QzfpError, RunError, ScenarioError
from qzfp.reporting import pagestyle
from qzfp.reporting.publish import (
    copy_file,
    locked_tempdir,
    remove_stale_temporaries,
    replace_dir,
    unlock_dir,
    write_text,
)
from qzfp.reporting.safehtml import sanitize_html

__all__ = [
    "ExtraFilesHook",
    "NotebookFailed",
    "ScenarioReport",
    "default_kernel_budget",
    "exit_code",
    "floor_benchmark",
    "kernels_per_scenario",
    "copy_font",
    "notebook_to_html",
    "parameters_sha256",
    "run_many",
    "run_scenario",
    "write_top_index",
]

#: ``hook(parameters, folder) -> key figures or None``: writes data files (CSV tables,
#: ``budget.xlsx``) into ``folder`` and may return key figures (label -> formatted value)
#: to show on ``index.html``.  It must be a module-level function (it is pickled) only
#: when ``run_many`` runs scenarios in parallel processes on a system without ``fork``.
ExtraFilesHook = Callable[[dict, Path], "Mapping[str, str] | None"]

#: Cells with one of these tags are dropped from the HTML pages (with their outputs).
REMOVED_CELL_TAGS = frozenset({"parameters", "injected-parameters", "remove-cell"})

#: Kernel manager used for every notebook run (see :class:`EncryptedKernelManager`).
KERNEL_MANAGER = "qzfp.reporting.batch.EncryptedKernelManager"


def _kernel_manager_base() -> type:
    from jupyter_client.manager import AsyncKernelManager

    return AsyncKernelManager


class EncryptedKernelManager(_kernel_manager_base()):  # type: ignore[misc]
    """Kernel manager that encrypts the kernel's ZMQ traffic when it can.

    Recent ipykernel warns on every start when a kernel talks plain TCP; with
    ``transport_encryption = "auto"`` jupyter_client provisions CurveZMQ keys when
    pyzmq supports them (and falls back to plain TCP otherwise), so report runs
    neither print that warning nor send code and outputs unencrypted.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if "transport_encryption" in self.trait_names():
            self.transport_encryption = "auto"
        if os.name == "posix":
            # Unix sockets under a name of this kernel alone: TCP ports are found free and
            # then bound by the kernel, so concurrent runs could pick the same port
            # ("ZMQError: Address already in use"); these names cannot collide.
            import uuid

            self.transport = "ipc"
            self.ip = os.path.join(tempfile.gettempdir(), f"qzfp-kernel-{uuid.uuid4().hex}")

    async def _async_pre_start_kernel(self, **kw):  # type: ignore[override]
        # The kernel's own log lines (a full disk, a closing socket) are not for the user:
        # errors of a notebook reach the run through the kernel's messages.
        kw.setdefault("stdout", subprocess.DEVNULL)
        kw.setdefault("stderr", subprocess.DEVNULL)
        return await super()._async_pre_start_kernel(**kw)


RUN_JSON = "run.json"
FAILED_DIR = ".failed"
_WORK_DIR = ".work"
_SCHEMA = 1

# Words of the generated index pages (labels live in qzfp.i18n, keys ``index.*``).
_WORD_KEYS = {
    "key_figures": "index.key_figures",
    "pages": "index.pages",
    "files": "index.files",
    "run": "index.run",
    "scenarios": "index.scenarios",
    "scenario": "index.scenario",
    "generated": "index.generated_at",
    "version": "index.version",
    "scenario_sha256": "index.scenario_sha256",
    "register_sha256": "index.register_sha256",
    "duration": "index.duration",
    "report": "index.report",
    "none": "index.none",
    "back": "index.back",
    "scenario_home": "index.scenario_home",
    "contents": "index.contents",
    "pdf": "index.pdf",
}

_NAME_RE = re.compile(r"^[^./\\:*?\"<>|\s][^/\\:*?\"<>|]*$")


# --------------------------------------------------------------------------- results


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
        where = "an unknown cell" if cell_index is None else f"cell {cell_index}"
        if exec_count is not None:
            where += f" (In [{exec_count}])"
        if source_line:
            where += f" `{source_line}`"
        message = f"scenario {scenario!r}: {where} raised {ename}: {evalue}".rstrip(": ")
        if kept_at is not None:
            message += f"; executed notebook kept in {kept_at}"
        message += "; the previous report is unchanged"
        super().__init__(Problem(str(notebook), message))

    def __reduce__(self):  # picklable across processes
        return (
            NotebookFailed,
            (
                self.scenario,
                self.notebook,
                self.cell_index,
                self.exec_count,
                self.ename,
                self.evalue,
                self.kept_at,
            ),
        )


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
    problems : list of str
        One line per problem when ``ok`` is False.
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
    problems: list[str] = field(default_factory=list)
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


# --------------------------------------------------------------------------- HTML

_OFFLINE_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{% block extra_css %}<style>/*qzfp-font-css*/</style>{% endblock extra_css %}
{%- block data_png scoped -%}
{%- set alt = output | get_metadata('alt', 'image/png') -%}
{%- if alt -%}
<div class="jp-RenderedImage jp-OutputArea-output {{ extra_class }}">
<img alt="{{ alt | escape_html }}" src="data:image/png;base64,{{ output.data['image/png'] | escape_html }}">
</div>
{%- else -%}
{{ super() }}
{%- endif -%}
{%- endblock data_png -%}
"""

#: Folder (inside each report) holding the shipped CJK font, so Chinese text shows on a
#: machine without a Chinese font, offline (SIL Open Font License, see qzfp/fonts/).
ASSETS_DIR = pagestyle.ASSETS_DIR
_FONT_FILE = pagestyle.FONT_FILE
_FONT_CSS = pagestyle.font_css()


def copy_font(folder: Path) -> None:
    """Put the shipped CJK font into ``folder/assets/`` (the pages' @font-face points there)."""
    from qzfp.i18n import shipped_font_path

    src = Path(shipped_font_path())
    if src.is_file():
        (folder / ASSETS_DIR).mkdir(exist_ok=True)
        # copied beside and renamed: a concurrent run never sees (or serves) half a font
        copy_file(src, folder / ASSETS_DIR / _FONT_FILE)


_EXTERNAL_TAG_RE = re.compile(
    r"<script\b[^>]*\bsrc\s*=\s*[\"']?(?:https?:)?//[^>]*>\s*</script>"
    r"|<link\b[^>]*\bhref\s*=\s*[\"']?(?:https?:)?//[^>]*>",
    re.IGNORECASE,
)

_exporter_cache: Any = None


@contextlib.contextmanager
def _without_iri_format_checker():
    """Import nbformat (through papermill or nbconvert) without ``rfc3987_syntax``.

    jsonschema registers an "iri" format checker when ``rfc3987_syntax`` is installed, and
    importing that package builds a parser: 3-4 s, more than a kernel start.  nbformat's
    schemas use no "iri" format, so the first import of jsonschema is made with the
    package hidden; it is unhidden afterwards (an explicit import still works).
    """
    hide = "jsonschema" not in sys.modules and "rfc3987_syntax" not in sys.modules
    if hide:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # -> ImportError
    try:
        yield
    finally:
        if hide and "rfc3987_syntax" in sys.modules and sys.modules["rfc3987_syntax"] is None:
            del sys.modules["rfc3987_syntax"]


def _papermill() -> Any:
    """The papermill module, imported with :func:`_without_iri_format_checker`."""
    with _without_iri_format_checker():
        import nbformat  # noqa: F401
        import papermill

    return papermill


def _exporter():
    """The one HTMLExporter of this process (building it parses the templates: ~0.2 s)."""
    global _exporter_cache
    if _exporter_cache is None:
        from jinja2 import DictLoader

        with _without_iri_format_checker():
            from nbconvert import HTMLExporter
        from traitlets.config import Config

        c = Config()
        c.TagRemovePreprocessor.enabled = True
        c.TagRemovePreprocessor.remove_cell_tags = set(REMOVED_CELL_TAGS)
        c.HTMLExporter.exclude_input = True
        c.HTMLExporter.exclude_input_prompt = True
        c.HTMLExporter.exclude_output_prompt = True
        c.HTMLExporter.embed_images = True
        exporter = HTMLExporter(
            config=c,
            extra_loaders=[DictLoader({"qzfp_offline.html.j2": _OFFLINE_TEMPLATE})],
            template_file="qzfp_offline.html.j2",
        )
        _exporter_cache = exporter
    return _exporter_cache


def notebook_to_html(nb: Any, title: str) -> str:
    """Convert an executed notebook to a self-contained HTML page with no code.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The executed notebook (not modified).
    title : str
        The page title.

    Returns
    -------
    str
        The HTML: markdown and outputs only; cells tagged ``parameters``,
        ``injected-parameters`` or ``remove-cell`` dropped; CSS inlined; no script or
        stylesheet fetched from the network; links restricted to http, https and relative
        URLs, no script, no event handler and no control character
        (:func:`qzfp.reporting.safehtml.sanitize_html`), whatever Markdown or HTML the scenario's
        texts carried.
    """
    import copy

    nb = copy.deepcopy(nb)
    nb.metadata["title"] = title
    body, _ = _exporter().from_notebook_node(nb)
    body = body.replace("/*qzfp-font-css*/", _FONT_CSS, 1)
    # Safety net: a template change must never make the page depend on a CDN.
    return sanitize_html(_EXTERNAL_TAG_RE.sub("", body))


def _notebook_title(nb: Any, fallback: str) -> str:
    """The page title: the first level-1 heading the notebook *displays* (it is in the
    scenario's language), else the first one of its markdown cells, else ``fallback``."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get("text/markdown", "")
            text = "".join(text) if isinstance(text, list) else str(text)
            if text.startswith("# "):
                return text[2:].splitlines()[0].strip()
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


# --------------------------------------------------------------------------- run.json


def _version(dist: str) -> str | None:
    try:
        return _metadata.version(dist)
    except _metadata.PackageNotFoundError:
        return None


def _versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for dist in ("qzfp", "numpy", "pandas", "papermill", "nbconvert", "nbformat", "openpyxl"):
        versions[dist] = _version(dist)
    return versions


def _canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def parameters_sha256(parameters: Mapping[str, Any]) -> str:
    """SHA-256 of the parameters as canonical JSON (sorted keys, UTF-8)."""
    return hashlib.sha256(_canonical_json(dict(parameters)).encode("utf-8")).hexdigest()


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).astimezone().isoformat(timespec="seconds")


# --------------------------------------------------------------------------- validation


#: Names a scenario cannot have: the report folder also holds the top index and the font
#: folder of every page (compared case-insensitively, as on Windows and macOS).
RESERVED_NAMES = frozenset({ASSETS_DIR, "index.html", FAILED_DIR, _WORK_DIR})


def _scenario_name(parameters: Mapping[str, Any], where: str) -> str:
    name = parameters.get("scenario_name")
    if isinstance(name, str) and name.lower() in RESERVED_NAMES:
        raise ScenarioError(Problem(f"{where}:scenario_name", f"{name!r} is reserved (the report folder "
                                    f"holds {', '.join(sorted(RESERVED_NAMES))}); choose another name"))
    if not isinstance(name, str) or not _NAME_RE.match(name) or name.strip() != name:
        raise ScenarioError(
            Problem(
                f"{where}:scenario_name",
                f"expected a folder name (no '/', '\\', ':', '*', '?', '\"', '<', '>', '|', "
                f"not starting with '.' or a space), got {name!r}",
            )
        )
    return name


def _check_inputs(
    parameters_list: Sequence[Mapping[str, Any]],
    notebooks: Sequence[Path],
    sources: Sequence[Any] | None = None,
) -> list[str]:
    """Validate every scenario and notebook; collect all problems; return the names."""
    problems: list[Problem] = []
    names: list[str] = []
    for i, params in enumerate(parameters_list):
        source = sources[i] if sources is not None and i < len(sources) else None
        where = str(source) if source else f"scenario #{i + 1}"
        if not isinstance(params, Mapping):
            problems.append(Problem(where, f"expected a mapping of parameters, got {type(params).__name__}"))
            continue
        try:
            name = _scenario_name(params, where)
        except ScenarioError as exc:
            problems.extend(exc.problems)
            continue
        try:
            json.dumps(dict(params), default=None)
        except (TypeError, ValueError) as exc:
            problems.append(Problem(where, f"parameters must be JSON values (papermill): {exc}"))
        if name in names:
            problems.append(
                Problem(f"{where}:scenario_name", f"{name!r} is used by two scenarios of this run")
            )
        names.append(name)
    if not notebooks:
        problems.append(Problem("notebooks", "expected at least one notebook"))
    stems: set[str] = set()
    for nb in notebooks:
        nb = Path(nb)
        if not nb.is_file():
            problems.append(Problem(str(nb), "notebook not found"))
        elif nb.suffix != ".ipynb":
            problems.append(Problem(str(nb), "expected a .ipynb notebook"))
        if nb.stem in stems:
            problems.append(Problem(str(nb), f"two notebooks would both write {nb.stem}.html"))
        if nb.stem == "index":
            problems.append(Problem(str(nb), "a notebook may not be named index (index.html is the report's front page)"))
        stems.add(nb.stem)
    if problems:
        raise ScenarioError(problems)
    return names


# --------------------------------------------------------------------------- kernels

def default_kernel_budget() -> int:
    """Kernels running at once on this machine: ``max(2, CPUs usable by this process)``
    (a kernel runs one cell at a time; the parallel scenarios of a batch share them)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    return max(2, cpus)


def kernels_per_scenario(jobs: int, n_scenarios: int) -> int:
    """Kernels each scenario may use when ``min(jobs, n_scenarios)`` run at once: the
    :func:`default_kernel_budget` shared out (at least one each), so parallel scenarios
    do not oversubscribe the CPUs."""
    return max(1, default_kernel_budget() // max(1, min(jobs, n_scenarios)))


def _slots(notebook_jobs: int | None, n_notebooks: int) -> int:
    jobs = default_kernel_budget() if notebook_jobs is None else int(notebook_jobs)
    if jobs < 1:
        raise ScenarioError(Problem("notebook_jobs", f"expected a positive number of kernels, got {jobs}"))
    return max(1, min(jobs, n_notebooks))


#: Run in a reused kernel before each notebook but its first: a fresh namespace and
#: ``In [1]`` again, as in a new kernel, while imported modules (and their caches) stay.
_RESET_CODE = "get_ipython().reset(new_session=True)"


class _WarmKernel:
    """One kernel (and its client) executing several notebooks in turn.

    Starting a kernel and importing qzfp, pandas and matplotlib in it is most of the
    cost of a small notebook; a report runs its notebooks in a few such kernels.  Between
    two notebooks the user namespace is cleared and the execution count restarts at 1
    (``InteractiveShell.reset(new_session=True)``), so a notebook cannot see another's
    variables and ``In [n]`` numbers are those of a fresh kernel.  All calls of one
    instance must come from the thread that created it (the client's event loop).
    """

    def __init__(self, kernel_name: str, cwd: Path, startup_timeout: float = 60.0):
        self.kernel_name = kernel_name
        self.cwd = cwd
        self.startup_timeout = startup_timeout
        self.km: Any = None
        self.kc: Any = None
        self.used = False
        self.ready = True

    def prepare(self, cwd: Path | None = None) -> None:
        """Start the kernel on first use (see :meth:`wait_until_ready`), else reset it for
        the next notebook.  ``cwd``: the notebook's working directory (a reused kernel
        changes to it when it differs from the previous notebook's)."""
        from jupyter_core.utils import run_sync

        if self.km is None:
            if cwd is not None:
                self.cwd = Path(cwd)
            km = EncryptedKernelManager(kernel_name=self.kernel_name)
            self.km = km
            run_sync(km.start_kernel)(cwd=str(self.cwd))
            kc = km.client()
            kc.start_channels()
            self.kc = kc
            kc.allow_stdin = False
            self.ready = False
        elif self.used:
            code = _RESET_CODE
            if cwd is not None and Path(cwd) != self.cwd:
                code = f"__import__('os').chdir({str(cwd)!r})\n{_RESET_CODE}"
                self.cwd = Path(cwd)
            reply = run_sync(self.kc.execute_interactive)(
                code, silent=True, store_history=False, timeout=self.startup_timeout,
                output_hook=lambda _msg: None,
            )
            if reply.get("content", {}).get("status") != "ok":
                raise RuntimeError(f"resetting the kernel between notebooks failed: {reply.get('content')}")
        self.used = True

    def wait_until_ready(self) -> None:
        """Block until a just started kernel answers (the caller may work meanwhile)."""
        from jupyter_core.utils import run_sync

        if not self.ready:
            run_sync(self.kc.wait_for_ready)(timeout=self.startup_timeout)
            self.ready = True

    def shutdown(self) -> None:
        from jupyter_core.utils import run_sync

        with contextlib.suppress(Exception):
            if self.kc is not None:
                self.kc.stop_channels()
        with contextlib.suppress(Exception):
            if self.km is not None and run_sync(self.km.is_alive)():
                run_sync(self.km.shutdown_kernel)(now=False)
        with contextlib.suppress(Exception):
            if self.km is not None:
                run_sync(self.km.cleanup_resources)()


def _warm_engine() -> str:
    """Register (once) and name the papermill engine that runs in a :class:`_WarmKernel`."""
    from papermill.engines import NBClientEngine, papermill_engines

    if "qzfp-warm" not in papermill_engines._engines:

        class WarmKernelEngine(NBClientEngine):
            """papermill's nbclient engine, executing in an already started kernel."""

            @classmethod
            def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,
                                         stderr_file=None, start_timeout=60, execution_timeout=None,
                                         **kwargs):
                from papermill.clientwrap import PapermillNotebookClient
                from papermill.utils import merge_kwargs, remove_args

                warm = kwargs.pop("warm_kernel")
                kwargs = remove_args(["input_path", "timeout", "startup_timeout", "kernel_manager_class"],
                                     **kwargs)
                final = merge_kwargs(kwargs, timeout=execution_timeout, startup_timeout=start_timeout,
                                     kernel_name=kernel_name, log_output=log_output,
                                     stdout_file=stdout_file, stderr_file=stderr_file)
                client = PapermillNotebookClient(nb_man, km=warm.km, **final)
                client.kc = warm.kc  # not owned: neither the client nor the kernel is shut down
                return client.execute()

        papermill_engines.register("qzfp-warm", WarmKernelEngine)
    return "qzfp-warm"


@dataclass
class _Outcome:
    notebook: Path
    page: str = ""
    title: str = ""
    duration: float = 0.0
    error: BaseException | None = None


def _call_hook(hook: ExtraFilesHook, parameters: dict, folder: Path, result: dict) -> None:
    try:
        result["value"] = hook(parameters, folder)
    except BaseException as exc:  # reported by run_scenario after the notebooks
        result["error"] = exc


def _hook_result(hook: ExtraFilesHook, parameters: dict, folder: Path) -> dict[str, Any]:
    """Run the hook in a data-files process; a result that can cross a pipe (see
    :func:`_rebuild_hook_result`)."""
    import pickle

    result: dict[str, Any] = {}
    _call_hook(hook, parameters, folder, result)
    err = result.get("error")
    if isinstance(err, QzfpError):  # keep its problems (file, row/key) across the pipe
        result = {"qzfp_error": (type(err), err.problems)}
    try:
        pickle.dumps(result)
    except Exception as exc:  # an unpicklable result or error: send its text
        text = f"{type(err).__name__}: {err}" if err is not None else f"unpicklable result: {exc}"
        result = {"error": RuntimeError(text)}
    return result


def _rebuild_hook_result(result: dict[str, Any]) -> dict[str, Any]:
    """``{"value": key figures}`` or ``{"error": exception}`` from :func:`_hook_result`."""
    if "qzfp_error" in result:
        cls, problems = result.pop("qzfp_error")
        try:
            result["error"] = cls(problems)
        except Exception:  # a subclass with another signature
            result["error"] = QzfpError(problems)
    return result


def _hook_child(hook: ExtraFilesHook, parameters: dict, folder: Path, conn: Any) -> None:
    """Body of the data-files process: run the hook, send back its result or error."""
    try:
        conn.send(_hook_result(hook, parameters, folder))
    finally:
        conn.close()


class _HookRunner:
    """Runs the ``extra_files`` hook while the kernels run.

    In a separate process when this process may have children (a CPU-heavy hook in a
    thread would hold the GIL and starve the threads talking to the kernels), else (a
    daemonic worker, e.g. of Dask) in a thread.
    """

    def __init__(self, hook: ExtraFilesHook, parameters: dict, folder: Path, name: str):
        import multiprocessing as mp

        self.result: dict[str, Any] = {}
        self.proc = self.conn = self.thread = None
        if not mp.current_process().daemon:
            methods = mp.get_all_start_methods()
            ctx = mp.get_context("fork" if "fork" in methods else None)
            self.conn, child = ctx.Pipe(duplex=False)
            self.proc = ctx.Process(target=_hook_child, args=(hook, parameters, folder, child),
                                    name=f"qzfp-data-{name}")
            self.proc.start()
            child.close()
        else:
            self.thread = threading.Thread(target=_call_hook, args=(hook, parameters, folder, self.result),
                                           name=f"qzfp-data-{name}", daemon=True)
            self.thread.start()

    def wait(self) -> dict[str, Any]:
        """``{"value": key figures}`` or ``{"error": exception}``, once the hook is done."""
        if self.thread is not None:
            self.thread.join()
            return self.result
        try:
            self.result = self.conn.recv()
        except EOFError:
            self.proc.join()
            self.result = {"error": RuntimeError(f"the data-files process died (exit code {self.proc.exitcode})")}
        except Exception as exc:  # an error that cannot be rebuilt here
            self.result = {"error": RuntimeError(f"{type(exc).__name__}: {exc}")}
        self.result = _rebuild_hook_result(self.result)
        self.proc.join()
        self.conn.close()
        return self.result


_convert_lock = threading.Lock()


class _ScenarioRun:
    """One scenario being run: its temporary report folder, its notebooks' outcomes, its
    bar and its failure state (a failing notebook stops further notebooks of this
    scenario only).  Fields other than ``outcomes``/``failed``/``left`` are set once."""

    def __init__(self, name: str, parameters: dict, notebooks: list[Path], out_dir: Path,
                 cwd: Path | None, index: int = 0):
        self.name = name
        self.index = index
        self.parameters = parameters
        self.notebooks = notebooks
        self.out_dir = out_dir
        self.t_start = time.perf_counter()
        self.started = _now()
        self.bar: Any = None
        self.outcomes: list[_Outcome | None] = [None] * len(notebooks)
        self.failed = False
        self.left = len(notebooks)  # notebooks not yet finished or skipped
        self._kept: list[Path] = []
        self._keep_lock = threading.Lock()
        tmp, self._lock = locked_tempdir(f".{name}.tmp-", out_dir)
        self.tmp: Path | None = tmp
        try:
            self.work = Path(cwd) if cwd is not None else self.tmp / _WORK_DIR
            self.executed_dir = self.tmp / _WORK_DIR / "executed"
            self.executed_dir.mkdir(parents=True)
            self.work.mkdir(parents=True, exist_ok=True)
        except BaseException:
            self.close()
            raise

    def keep(self, executed: Path) -> Path | None:
        """Keep a failed notebook; the first of this run clears the older ones."""
        with self._keep_lock:
            kept = _keep_failed(self.out_dir, self.name, executed, clear=not self._kept)
            if kept is not None:
                self._kept.append(kept)
            return kept

    def close(self) -> None:
        """Close the bar; delete the temporary folder unless it was moved into place."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None
        unlock_dir(self._lock)
        self._lock = None


def _run_notebook(kernel: _WarmKernel, sc: _ScenarioRun, i: int, *, kernel_name: str,
                  timeout: float | None) -> _Outcome:
    """Execute notebook ``i`` of ``sc`` in ``kernel`` and write its page into ``sc.tmp``."""
    nb_path = sc.notebooks[i]
    name = sc.name
    out = _Outcome(nb_path)
    t0 = time.perf_counter()
    executed = sc.executed_dir / nb_path.name
    try:
        kernel.prepare(sc.work)  # the first time: start the kernel, then import papermill meanwhile
        pm = _papermill()
        kernel.wait_until_ready()
        nb = pm.execute_notebook(
            str(nb_path), str(executed), parameters=dict(sc.parameters),
            kernel_name=kernel_name, progress_bar=False, request_save_on_cell_execute=False,
            execution_timeout=timeout, warm_kernel=kernel, engine_name=_warm_engine(),
        )
    except Exception as exc:  # kernel missing/dead, timeout, unreadable notebook
        if isinstance(exc, _papermill().PapermillExecutionError):
            kept = sc.keep(executed)
            out.error = _notebook_failed(name, nb_path, exc, kept)
            return out
        kept = sc.keep(executed) if executed.exists() else None
        text = re.sub(r"\s*\n[-\s]*", " ", str(exc)).strip()  # one line per problem
        problem = f"scenario {name!r}: {type(exc).__name__}: {text}".rstrip(": ")
        if kept is not None:
            problem += f"; executed notebook kept in {kept}"
        problem += "; the previous report is unchanged"
        out.error = RunError(Problem(str(nb_path), problem))
        out.error.__cause__ = exc
        return out
    out.title = _notebook_title(nb, nb_path.stem)
    out.page = f"{nb_path.stem}.html"
    try:
        with _convert_lock:  # one exporter per process; its preprocessors keep state
            page = notebook_to_html(nb, out.title)
        (sc.tmp / out.page).write_text(page, encoding="utf-8")
    except Exception as exc:  # an output nbconvert cannot render, disk full ...
        kept = sc.keep(executed)
        out.error = RunError(
            Problem(
                str(nb_path),
                f"scenario {name!r}: converting to {out.page} failed: {type(exc).__name__}: "
                f"{exc}; executed notebook kept in {kept}; the previous report is unchanged",
            )
        )
        out.error.__cause__ = exc
    out.duration = round(time.perf_counter() - t0, 3)
    return out


class _NotebookPool:
    """Warm kernels (one thread each) executing the notebooks of one or more scenarios.

    Every (scenario, notebook) pair is queued, costliest notebook first (``cost`` by stem,
    unknown stems 1; ties in scenario then notebook order), and taken by whichever kernel
    is free, so several scenarios share the kernel start and the imports.  With several
    scenarios the kernels keep to notebooks (see :meth:`_pick`): a kernel that ran
    notebook ``01`` of one scenario runs ``01`` of the next, while the other kernels take
    other notebooks, so what scenarios have in common (a population projection, a chart
    of the same data: :mod:`qzfp.reporting.sections` keeps them per process) is computed once per
    batch instead of twice at the same time.  A failing notebook stops the start of
    further notebooks of *its* scenario; its kernel is replaced by a fresh one (it may be
    dead or stuck).  ``on_done(sc)`` is called (from a kernel thread) once every notebook
    of ``sc`` has finished or been skipped.
    """

    def __init__(self, runs: Sequence[_ScenarioRun], slots: int, *, kernel_name: str,
                 timeout: float | None, cost: Mapping[str, float] | None = None,
                 on_done: Callable[[_ScenarioRun], None] | None = None):
        self.kernel_name = kernel_name
        self.timeout = timeout
        self.on_done = on_done
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._todo = sorted((-float((cost or {}).get(nb.stem, 1.0)), s, i)
                            for s, sc in enumerate(runs) for i, nb in enumerate(sc.notebooks))
        self._running: dict[str, str] = {}  # kernel thread name -> stem it is running
        self._runs = list(runs)
        self._threads = [threading.Thread(target=self._worker, name=f"qzfp-kernel-{k}", daemon=True)
                         for k in range(max(1, min(slots, len(self._todo))))]

    def start(self) -> None:
        for th in self._threads:
            th.start()
        with _convert_lock:  # build the exporter (~0.3 s) while the kernels start
            _exporter()

    def join(self, timeout: float | None = None) -> None:
        for th in self._threads:
            th.join(timeout)

    def alive(self) -> bool:
        return any(th.is_alive() for th in self._threads)

    def _pick(self, last: str | None) -> int:
        """Index in the queue of the next notebook for a kernel whose previous notebook
        was ``last``: the first queued notebook of the same stem (another scenario's),
        else the first whose stem no other kernel is running, else the first."""
        stems = [self._runs[s].notebooks[i].stem for _, s, i in self._todo]
        if last is not None and last in stems:
            return stems.index(last)
        busy = set(self._running.values())
        return next((k for k, stem in enumerate(stems) if stem not in busy), 0)

    def _next(self, last: str | None = None) -> tuple[_ScenarioRun, int] | None:
        """The next notebook to run (see :meth:`_pick`); notebooks of failed scenarios are
        skipped."""
        me = threading.current_thread().name
        while True:
            with self._lock:
                self._running.pop(me, None)
                if self.stop.is_set() or not self._todo:
                    return None
                _, s, i = self._todo.pop(self._pick(last))
                sc = self._runs[s]
                if not sc.failed:
                    self._running[me] = sc.notebooks[i].stem
                    return sc, i
            self._finished(sc)

    def _finished(self, sc: _ScenarioRun) -> None:
        with self._lock:
            sc.left -= 1
            done = sc.left == 0
        if done and self.on_done is not None:
            self.on_done(sc)

    def _worker(self) -> None:
        kernel: _WarmKernel | None = None
        last: str | None = None
        try:
            while (job := self._next(last)) is not None:
                sc, i = job
                last = sc.notebooks[i].stem
                if sc.bar is not None:
                    sc.bar.set_postfix_str(sc.notebooks[i].stem)
                if kernel is None:
                    kernel = _WarmKernel(self.kernel_name, sc.work)
                try:
                    out = _run_notebook(kernel, sc, i, kernel_name=self.kernel_name, timeout=self.timeout)
                except BaseException as exc:  # a bug here must not leave the scenario unfinished
                    out = _Outcome(sc.notebooks[i], error=RunError(Problem(
                        str(sc.notebooks[i]), f"scenario {sc.name!r}: {type(exc).__name__}: {exc}; "
                        "the previous report is unchanged")))
                sc.outcomes[i] = out
                if out.error is not None:
                    sc.failed = True
                    kernel.shutdown()
                    kernel, last = None, None  # a fresh kernel has nothing in common with any
                elif sc.bar is not None:
                    sc.bar.update(1)
                self._finished(sc)
        finally:
            if kernel is not None:
                kernel.shutdown()


def _finish_scenario(
    sc: _ScenarioRun,
    hook_result: Mapping[str, Any],
    *,
    extra_files: ExtraFilesHook | None,
    key_figures: Mapping[str, str] | None,
    metadata: Mapping[str, Any],
    keep_notebooks: bool,
    kernel_name: str,
) -> ScenarioReport:
    """Write run.json and index.html of a scenario whose notebooks all ran, and move its
    temporary folder into place; raise the first failure (in notebook order) instead."""
    name, tmp, parameters = sc.name, sc.tmp, sc.parameters
    assert tmp is not None
    failed = [o for o in sc.outcomes if o is not None and o.error is not None]
    if failed:  # the first failing notebook in notebook order
        raise failed[0].error
    outcomes = [o for o in sc.outcomes if o is not None]
    pages = [(o.page, o.title) for o in outcomes]
    durations = {o.notebook.name: o.duration for o in outcomes}

    figures: dict[str, str] = {str(k): str(v) for k, v in (key_figures or {}).items()}
    if extra_files is not None:
        if "error" in hook_result:
            exc = hook_result["error"]
            if isinstance(exc, QzfpError):
                raise exc
            hook = getattr(extra_files, "__qualname__", repr(extra_files))
            raise RunError(
                Problem(
                    f"scenario {name!r}",
                    f"writing the data files ({hook}) failed: {type(exc).__name__}: {exc}; "
                    "the previous report is unchanged",
                )
            ) from exc
        figures.update({str(k): str(v) for k, v in (hook_result.get("value") or {}).items()})

    if keep_notebooks:
        shutil.move(str(sc.executed_dir), str(tmp / "notebooks"))
    shutil.rmtree(tmp / _WORK_DIR, ignore_errors=True)  # scratch cwd, executed notebooks

    duration = round(time.perf_counter() - sc.t_start, 3)
    run = {
        "schema": _SCHEMA,
        "scenario_name": name,
        "title": metadata.get("title", parameters.get("title", name)),
        "description": metadata.get("description", parameters.get("description", "")),
        "lang": metadata.get("lang", parameters.get("lang", "en")),
        "scenario_path": metadata.get("scenario_path"),
        "scenario_sha256": metadata.get("scenario_sha256") or parameters_sha256(parameters),
        "parameters_sha256": parameters_sha256(parameters),
        "register_sha256": metadata.get("register_sha256"),
        "versions": _versions(),
        "platform": platform.platform(),
        "kernel_name": kernel_name,
        "started": sc.started,
        "finished": _now(),
        "duration_s": duration,
        "notebook_duration_s": durations,
        "pages": [{"file": f, "title": t} for f, t in pages],
        "key_figures": [[k, v] for k, v in figures.items()],
        "parameters": parameters,
        "metadata": {k: v for k, v in metadata.items() if k not in _RUN_KEYS},
    }
    (tmp / RUN_JSON).write_text(
        json.dumps(run, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )
    copy_font(tmp)
    _decorate_pages(run, tmp)
    _write_pdf(run, tmp)
    (tmp / "index.html").write_text(_scenario_index(run, tmp), encoding="utf-8")
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


def _bar(name: str, n_notebooks: int, position: int) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=n_notebooks + 1, desc=name, position=position, leave=True, unit="nb")


# --------------------------------------------------------------------------- one scenario


def run_scenario(
    parameters: Mapping[str, Any],
    notebooks: Sequence[Path],
    out_dir: Path,
    *,
    kernel_name: str = "python3",
    progress: bool = True,
    extra_files: ExtraFilesHook | None = None,
    key_figures: Mapping[str, str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    cwd: Path | None = None,
    timeout: float | None = None,
    position: int = 0,
    keep_notebooks: bool = False,
    notebook_jobs: int | None = None,
    cost: Mapping[str, float] | None = None,
) -> ScenarioReport:
    """Execute every notebook for one scenario and write ``out_dir/<scenario_name>/``.

    Parameters
    ----------
    parameters : mapping
        Notebook parameters (a scenario's ``to_papermill()``); ``scenario_name`` names the
        report folder.  JSON values only.
    notebooks : sequence of Path
        Notebooks to execute, in order; ``X.ipynb`` becomes ``X.html``.
    out_dir : Path
        Parent folder of the report folders (created if missing).
    kernel_name : str
        Jupyter kernel to execute with.
    progress : bool
        Show a tqdm bar counting notebooks.
    extra_files : callable, optional
        ``hook(parameters, folder)`` writing data files into the new report folder; may
        return key figures (label -> formatted value), shown after ``key_figures``.
    key_figures : mapping, optional
        Label -> already formatted value (e.g. ``{"Total budget 2006": "1,234,000 yuan"}``).
    metadata : mapping, optional
        Recorded in run.json; ``scenario_sha256``, ``register_sha256``, ``scenario_path``,
        ``title``, ``description`` and ``lang`` are recognised.  Without
        ``scenario_sha256`` the hash of the parameters is used.
    cwd : Path, optional
        Working directory of the kernels; default a scratch folder inside the temporary
        report folder (deleted at the end), so notebooks cannot litter the report.
    timeout : float, optional
        Per-cell execution timeout [s]; None = no limit.
    position : int
        tqdm bar line (one per parallel job).
    keep_notebooks : bool
        Keep the executed ``.ipynb`` files in ``notebooks/`` of the report.
    notebook_jobs : int, optional
        Kernels executing this scenario's notebooks at once (default
        :func:`default_kernel_budget`).  Each kernel is started once and runs notebooks
        in turn, its namespace reset between two (see :class:`_WarmKernel`); pages keep
        the notebook order.  The ``extra_files`` hook runs meanwhile (in a process).
    cost : mapping, optional
        Expected relative execution time per notebook stem (e.g. ``{"01_population": 3}``,
        unknown stems 1): the kernels take the costliest notebooks first, so the last
        kernel to finish is not left with the longest one.  Default: the given order.

    Returns
    -------
    ScenarioReport

    Raises
    ------
    ScenarioError
        Bad input (name, notebooks), before any kernel starts.
    NotebookFailed
        A notebook raised; the executed notebook is kept in ``out_dir/.failed/<name>/``.
    RunError
        A kernel could not start or died, a page could not be written, or the hook failed.
        In every failure case the previous report is left untouched.
    """
    notebooks = [Path(nb) for nb in notebooks]
    metadata = dict(metadata or {})
    (name,) = _check_inputs([parameters], notebooks, [metadata.get("scenario_path")])
    parameters = dict(parameters)
    out_dir = Path(out_dir).absolute()  # papermill changes directory while executing
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out_dir)
    slots = _slots(notebook_jobs, len(notebooks))

    sc = _ScenarioRun(name, parameters, notebooks, out_dir, cwd)
    try:
        # The data files are written while the kernels run.
        hook_runner = _HookRunner(extra_files, dict(parameters), sc.tmp, name) if extra_files else None
        if progress:
            sc.bar = _bar(name, len(notebooks), position)
        pool = _NotebookPool([sc], slots, kernel_name=kernel_name, timeout=timeout, cost=cost)
        try:
            pool.start()
        finally:
            pool.join()
        hook_result: dict[str, Any] = {}
        if hook_runner is not None:
            if sc.bar is not None:
                sc.bar.set_postfix_str("data files")
            hook_result = hook_runner.wait()
        return _finish_scenario(sc, hook_result, extra_files=extra_files, key_figures=key_figures,
                                metadata=metadata, keep_notebooks=keep_notebooks, kernel_name=kernel_name)
    finally:
        sc.close()


_RUN_KEYS = {"title", "description", "lang", "scenario_path", "scenario_sha256", "register_sha256"}


def _keep_failed(out_dir: Path, name: str, executed: Path, *, clear: bool = True) -> Path | None:
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


def _failing_source_cell(nb_path: Path, exc: Any, kept: Path | None) -> int | None:
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


def _notebook_failed(name: str, nb_path: Path, exc: Any, kept: Path | None) -> NotebookFailed:
    """Translate papermill's error into the *source* notebook's cell index
    (:func:`_failing_source_cell`; "an unknown cell" rather than a wrong number)."""
    cell_index = _failing_source_cell(nb_path, exc, kept)
    first = next((ln.strip() for ln in (exc.source or "").splitlines() if ln.strip()), "")
    if len(first) > 80:
        first = first[:77] + "..."
    return NotebookFailed(
        name, nb_path, cell_index, exc.exec_count, exc.ename, exc.evalue, kept, source_line=first
    )


# --------------------------------------------------------------------------- index pages

_CSS = _FONT_CSS + """
body{max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:1.8rem;
border-bottom:1px solid #ddd}table{border-collapse:collapse;margin:.5rem 0}
th,td{padding:.3rem .7rem;border-bottom:1px solid #e4e4e4;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}th{background:#f4f4f4}
.muted{color:#666;font-size:.9rem}code{font-size:.85rem}
"""


def _words(lang: Any) -> dict[str, str]:
    from qzfp.i18n import LANGS, t

    lang = str(lang) if str(lang) in LANGS else "en"
    return {word: t(key, lang) for word, key in _WORD_KEYS.items()}


def _page(title: str, body: str, lang: str, *, footer: str | None = None, nav: str = "") -> str:
    """A generated index page (texts escaped by the callers) with the pages' font, print style
    and navigation, through :func:`sanitize_html`."""
    page = (
        f'<!DOCTYPE html>\n<html lang="{html.escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"{body}\n</body>\n</html>\n"
    )
    return sanitize_html(pagestyle.decorate_page(page, lang=lang, footer=footer or title, nav=nav))


def _scenario_nav(run: Mapping[str, Any], current: str) -> str:
    """Links of a scenario's pages: all scenarios, the scenario's index, each page."""
    w = _words(run.get("lang"))
    links = [("../index.html", w["back"]), ("index.html", w["scenario_home"])]
    links += [(str(p["file"]), str(p["title"])) for p in run["pages"]]
    return pagestyle.nav_html(links, current)


def _footer(run: Mapping[str, Any]) -> str:
    return f"{run.get('title', '')} · {run.get('scenario_name', '')}"


def _decorate_pages(run: Mapping[str, Any], folder: Path) -> None:
    """Give each notebook page of a scenario its language, print style and navigation."""
    lang = str(run.get("lang", "en"))
    for p in run["pages"]:
        path = folder / str(p["file"])
        page = path.read_text(encoding="utf-8")
        page = pagestyle.decorate_page(page, lang=lang, footer=_footer(run),
                                       nav=_scenario_nav(run, str(p["file"])))
        path.write_text(page, encoding="utf-8")


def _write_pdf(run: Mapping[str, Any], folder: Path) -> None:
    """Write ``report.pdf`` (contents page, then every page) when Chromium is installed.

    A missing or failing Chromium prints one line and leaves the rest of the report as is;
    ``QZFP_PDF=0`` in the environment skips the PDF.
    """
    from qzfp.reporting import pdf as printpdf

    if os.environ.get("QZFP_PDF", "1").strip() == "0":
        return
    lang = str(run.get("lang", "en"))
    contents = _contents_html(run)
    message = printpdf.write_report_pdf(
        folder, [str(p["file"]) for p in run["pages"]], contents=contents, lang=lang,
        title=str(run.get("title", "")), footer=_footer(run),
    )
    if message:
        print(message, file=sys.stderr)


def _contents_html(run: Mapping[str, Any]) -> str:
    """The contents page of ``report.pdf``: title, scenario, key figures, pages."""
    w = _words(run.get("lang"))
    e = html.escape
    parts = [f"<h1>{e(str(run['title']))}</h1>"]
    if run.get("description"):
        parts.append(f"<p>{e(str(run['description']))}</p>")
    parts.append(f'<p>{e(w["scenario"])}: <code>{e(str(run["scenario_name"]))}</code> · '
                 f'{e(w["generated"])}: {e(pagestyle.local_time(run.get("finished")))}</p>')
    if run["key_figures"]:
        rows = "".join(
            f'<tr><th scope="row">{e(k)}</th><td class="num">{e(v)}</td></tr>'
            for k, v in run["key_figures"]
        )
        parts.append(f"<h2>{e(w['key_figures'])}</h2><table>{rows}</table>")
    parts.append(f"<h2>{e(w['contents'])}</h2><ol>")
    parts += [f'<li><a href="#page-{e(str(p["file"]))}">{e(str(p["title"]))}</a></li>' for p in run["pages"]]
    parts.append("</ol>")
    return "".join(parts)


def _human_size(n: int) -> str:
    for unit in ("B", "kB", "MB"):
        if n < 1024 or unit == "MB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def _scenario_index(run: Mapping[str, Any], folder: Path) -> str:
    w = _words(run.get("lang"))
    e = html.escape
    parts = [f"<h1>{e(str(run['title']))}</h1>"]
    if run.get("description"):
        parts.append(f"<p>{e(str(run['description']))}</p>")
    parts.append(f'<p class="muted">{e(w["scenario"])}: <code>{e(run["scenario_name"])}</code></p>')
    parts.append(f"<h2>{e(w['key_figures'])}</h2>")
    if run["key_figures"]:
        rows = "".join(
            f'<tr><th scope="row">{e(k)}</th><td class="num">{e(v)}</td></tr>'
            for k, v in run["key_figures"]
        )
        parts.append(f'<table class="key-figures">{rows}</table>')
    else:
        parts.append(f"<p>{e(w['none'])}</p>")
    parts.append(f"<h2>{e(w['pages'])}</h2><ul>")
    parts += [f'<li><a href="{e(p["file"])}">{e(p["title"])}</a></li>' for p in run["pages"]]
    if (folder / "report.pdf").is_file():
        parts.append(f'<li><a href="report.pdf">{e(w["pdf"])}</a></li>')
    parts.append("</ul>")
    pages = {p["file"] for p in run["pages"]} | {"report.pdf"}
    data = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.name not in pages and p.name != "index.html" and _WORK_DIR not in p.parts
        and ASSETS_DIR not in p.relative_to(folder).parts
    )
    parts.append(f"<h2>{e(w['files'])}</h2><ul>")
    for p in data:
        rel = p.relative_to(folder).as_posix()
        parts.append(
            f'<li><a href="{e(rel)}">{e(rel)}</a> <span class="muted">'
            f"({_human_size(p.stat().st_size)})</span></li>"
        )
    parts.append("</ul>")
    parts.append(f"<h2>{e(w['run'])}</h2><table>")
    for label, value in (
        (w["generated"], pagestyle.local_time(run["finished"])),
        (w["version"], run["versions"].get("qzfp")),
        (w["scenario_sha256"], run["scenario_sha256"]),
        (w["register_sha256"], run["register_sha256"]),
        (w["duration"], f"{run['duration_s']:.1f} s"),
    ):
        shown = w["none"] if value is None else str(value)
        parts.append(f"<tr><th>{e(label)}</th><td><code>{e(shown)}</code></td></tr>")
    parts.append("</table>")
    return _page(str(run["title"]), "\n".join(parts), str(run.get("lang", "en")),
                 footer=_footer(run), nav=_scenario_nav(run, "index.html"))


def write_top_index(out_dir: Path, *, lang: str = "en", title: str | None = None) -> Path:
    """Write ``out_dir/index.html`` listing every scenario report found in ``out_dir``.

    Every sub-folder holding a ``run.json`` is listed (not only those of the last run),
    with its title, its key figures as columns (labels in first-seen order) and links.

    Returns
    -------
    Path
        The index file (replaced atomically).
    """
    out_dir = Path(out_dir)
    runs = []
    for sub in sorted(out_dir.iterdir()):
        rj = sub / RUN_JSON
        if sub.name.startswith(".") or not rj.is_file():
            continue
        try:
            runs.append(json.loads(rj.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue  # a report from an incompatible version: not listed
    w = _words(lang)
    e = html.escape
    labels: list[str] = []
    for run in runs:
        for k, _ in run.get("key_figures", []):
            if k not in labels:
                labels.append(k)
    head = "".join(f"<th>{e(k)}</th>" for k in labels)
    rows = []
    for run in runs:
        name = run.get("scenario_name", "")
        figs = dict((k, v) for k, v in run.get("key_figures", []))
        cells = "".join(f'<td class="num">{e(str(figs.get(k, "")))}</td>' for k in labels)
        rows.append(
            f'<tr><td><a href="{e(name)}/index.html">{e(str(run.get("title", name)))}</a>'
            f'<br><code class="muted">{e(name)}</code></td>{cells}'
            f'<td class="muted">{e(pagestyle.local_time(run.get("finished", "")))}</td></tr>'
        )
    body = (
        f"<h1>{e(title or w['scenarios'])}</h1>\n"
        f'<table class="scenarios"><tr><th>{e(w["scenario"])}</th>{head}<th>{e(w["generated"])}</th></tr>'
        + "".join(rows)
        + "</table>"
    )
    target = out_dir / "index.html"
    copy_font(out_dir)
    write_text(target, _page(title or w["scenarios"], body, lang))
    return target


# --------------------------------------------------------------------------- many scenarios


def _failed_report(name: str, out_dir: Path, duration: float, exc: QzfpError) -> ScenarioReport:
    return ScenarioReport(
        name=name,
        ok=False,
        folder=Path(out_dir) / name,
        duration_s=round(duration, 3),
        problems=[str(p) for p in exc.problems],
        kept_at=getattr(exc, "kept_at", None),
    )


def _run_one(args: tuple) -> ScenarioReport:
    parameters, notebooks, out_dir, kwargs = args
    name = str(parameters.get("scenario_name"))
    t0 = time.perf_counter()
    try:
        return run_scenario(parameters, notebooks, out_dir, **kwargs)
    except QzfpError as exc:
        return _failed_report(name, out_dir, time.perf_counter() - t0, exc)


def _can_share_kernels() -> bool:
    """Scenarios share one kernel pool when their data-files processes can be forked
    (Linux; not inside a daemonic worker process, which may not have children)."""
    import multiprocessing as mp

    return "fork" in mp.get_all_start_methods() and not mp.current_process().daemon


#: The hook of the data-files processes of :func:`_run_shared`: set just before they are
#: forked, so they inherit it (a hook need not be picklable, e.g. a closure).
_shared_hook: ExtraFilesHook | None = None
_shared_hook_lock = threading.Lock()


def _shared_hook_result(parameters: dict, folder: Path) -> dict[str, Any]:
    """Task of a data-files process of :func:`_run_shared`."""
    assert _shared_hook is not None
    return _hook_result(_shared_hook, parameters, folder)


def _hook_outcome(future: Any) -> dict[str, Any]:
    try:
        return _rebuild_hook_result(future.result())
    except Exception as exc:  # the data-files process died (BrokenProcessPool) ...
        return {"error": RuntimeError(f"the data-files process failed: {type(exc).__name__}: {exc}")}


def _run_shared(
    parameters_list: Sequence[Mapping[str, Any]],
    notebooks: list[Path],
    out_dir: Path,
    *,
    jobs: int,
    kernel_name: str,
    progress: bool,
    extra_files: ExtraFilesHook | None,
    key_figures: Sequence[Mapping[str, str] | None] | None,
    metadata: Sequence[Mapping[str, Any] | None] | None,
    timeout: float | None,
    keep_notebooks: bool,
    cost: Mapping[str, float] | None,
) -> list[ScenarioReport]:
    """Run several scenarios' notebooks through one pool of warm kernels.

    The pool has :func:`default_kernel_budget` kernels, so kernel start and imports are
    paid once per kernel, not once per scenario.  Each scenario keeps its own temporary
    folder, data-files process (``jobs`` of them at once, forked before any thread
    starts), pages, run.json, index and move into place, and its own failure: a failing
    notebook stops that scenario only.  Finalisation happens in this thread.
    """
    import multiprocessing as mp
    import queue

    out_dir = Path(out_dir).absolute()  # papermill changes directory while executing
    n = len(parameters_list)
    runs: list[_ScenarioRun] = []
    reports: list[ScenarioReport | None] = [None] * n
    hooks: ProcessPoolExecutor | None = None
    pool: _NotebookPool | None = None
    try:
        for i, params in enumerate(parameters_list):
            runs.append(_ScenarioRun(str(params["scenario_name"]), dict(params), notebooks, out_dir, None, i))
        futures: list[Any] = []
        if extra_files is not None:  # forked at the first submit, before our threads start
            global _shared_hook
            hooks = ProcessPoolExecutor(max_workers=min(jobs, n), mp_context=mp.get_context("fork"))
            with _shared_hook_lock:
                _shared_hook = extra_files
                try:
                    futures = [hooks.submit(_shared_hook_result, dict(sc.parameters), sc.tmp) for sc in runs]
                finally:
                    _shared_hook = None
        if progress:
            for sc in runs:
                sc.bar = _bar(sc.name, len(notebooks), sc.index)
        done: queue.SimpleQueue[_ScenarioRun] = queue.SimpleQueue()
        pool = _NotebookPool(runs, default_kernel_budget(), kernel_name=kernel_name, timeout=timeout,
                             cost=cost, on_done=done.put)
        pool.start()
        for _ in range(n):
            while True:
                try:
                    sc = done.get(timeout=0.5)
                    break
                except queue.Empty:
                    if not pool.alive() and done.empty():
                        raise RuntimeError("the kernel threads stopped before every notebook ran") from None
            meta = dict((metadata[sc.index] if metadata is not None else None) or {})
            try:
                if futures:
                    if sc.bar is not None:
                        sc.bar.set_postfix_str("data files")
                    hook_result = _hook_outcome(futures[sc.index])
                else:
                    hook_result = {}
                reports[sc.index] = _finish_scenario(
                    sc, hook_result, extra_files=extra_files,
                    key_figures=key_figures[sc.index] if key_figures is not None else None,
                    metadata=meta, keep_notebooks=keep_notebooks, kernel_name=kernel_name,
                )
            except QzfpError as exc:
                reports[sc.index] = _failed_report(sc.name, out_dir, time.perf_counter() - sc.t_start, exc)
            finally:
                sc.close()
    finally:
        if pool is not None:
            pool.stop.set()
            pool.join()
        if hooks is not None:
            hooks.shutdown(wait=True, cancel_futures=True)
        for sc in runs:
            sc.close()
    return [r for r in reports if r is not None]


def run_many(
    parameters_list: Sequence[Mapping[str, Any]],
    notebooks: Sequence[Path],
    out_dir: Path,
    *,
    jobs: int = 1,
    kernel_name: str = "python3",
    progress: bool = True,
    extra_files: ExtraFilesHook | None = None,
    key_figures: Sequence[Mapping[str, str] | None] | None = None,
    metadata: Sequence[Mapping[str, Any] | None] | None = None,
    timeout: float | None = None,
    keep_notebooks: bool = False,
    lang: str = "en",
    cost: Mapping[str, float] | None = None,
) -> list[ScenarioReport]:
    """Run several scenarios sharing one pool of warm kernels, then index them.

    Parameters
    ----------
    parameters_list : sequence of mapping
        One parameter dict per scenario; the ``scenario_name`` values must differ.
    notebooks : sequence of Path
        Notebooks run for every scenario.
    out_dir : Path
        Parent folder of the reports.
    jobs : int
        Data-files processes (the ``extra_files`` hook) running at once.  The notebooks
        of every scenario run through one pool of :func:`default_kernel_budget` warm
        kernels, costliest first, so kernel start and imports are paid once per kernel,
        not per scenario; each scenario still gets its own temporary folder, pages,
        run.json, index and move into place, and a failing notebook stops only its own
        scenario.  Where data-files processes cannot be forked (no ``fork``, or inside a
        daemonic worker) the scenarios run as before: one after the other with ``jobs=1``,
        else in ``jobs`` processes with their own kernels (:func:`kernels_per_scenario`).
    key_figures, metadata : sequence, optional
        Per scenario, aligned with ``parameters_list``.
    kernel_name, progress, extra_files, timeout, keep_notebooks, cost
        As :func:`run_scenario` (``extra_files`` is inherited by forked data-files
        processes; it must be picklable only where they cannot be forked and ``jobs > 1``).
    lang : str
        Language of ``out_dir/index.html``.

    Returns
    -------
    list of ScenarioReport
        In input order; a failed scenario has ``ok=False`` and its problems.  A failure
        does not stop the other scenarios.  Pass the list to :func:`exit_code`.

    Raises
    ------
    ScenarioError
        Bad input (duplicate or invalid names, missing notebooks), before any kernel starts.
    """
    notebooks = [Path(nb) for nb in notebooks]
    sources = [(m or {}).get("scenario_path") for m in metadata] if metadata is not None else None
    _check_inputs(parameters_list, notebooks, sources)
    n = len(parameters_list)
    for what, seq in (("key_figures", key_figures), ("metadata", metadata)):
        if seq is not None and len(seq) != n:
            raise ScenarioError(Problem(what, f"expected {n} entries (one per scenario), got {len(seq)}"))
    if jobs < 1:
        raise ScenarioError(Problem("jobs", f"expected a positive number of jobs, got {jobs}"))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out_dir)
    kernels_each = kernels_per_scenario(jobs, n)
    tasks = [
        (
            dict(params),
            notebooks,
            out_dir,
            {
                "kernel_name": kernel_name,
                "progress": progress,
                "extra_files": extra_files,
                "key_figures": key_figures[i] if key_figures is not None else None,
                "metadata": metadata[i] if metadata is not None else None,
                "timeout": timeout,
                "position": i % jobs,
                "keep_notebooks": keep_notebooks,
                "notebook_jobs": kernels_each,
                "cost": dict(cost) if cost else None,
            },
        )
        for i, params in enumerate(parameters_list)
    ]
    if n > 1 and _can_share_kernels():
        reports = _run_shared(
            parameters_list, notebooks, out_dir, jobs=jobs, kernel_name=kernel_name, progress=progress,
            extra_files=extra_files, key_figures=key_figures, metadata=metadata, timeout=timeout,
            keep_notebooks=keep_notebooks, cost=cost,
        )
    elif jobs == 1 or n == 1:
        reports = [_run_one(t) for t in tasks]
    else:
        # Import papermill and build the exporter once here: forked workers inherit them.
        _papermill()
        _exporter()
        with ProcessPoolExecutor(max_workers=min(jobs, n)) as pool:
            reports = list(pool.map(_run_one, tasks))
    try:
        write_top_index(out_dir, lang=lang)
    except OSError as exc:  # a full disk: the reports that landed stay, the run failed
        where = exc.filename if exc.filename is not None else out_dir / "index.html"
        reports.append(_failed_report("index.html", out_dir, 0.0, RunError(Problem(
            str(where), f"{exc.strerror or exc}: the list of reports (index.html) was not updated"))))
    return reports


# --------------------------------------------------------------------------- benchmark floor


def floor_benchmark(n_notebooks: int, work_dir: Path, *, kernel_name: str = "python3") -> float:
    """Time the floor of a report run: papermill + nbconvert on empty notebooks.

    Executes ``n_notebooks`` notebooks holding one empty code cell with papermill (one
    kernel each, as a real run) and converts each to HTML with one reused nbconvert
    ``HTMLExporter`` (default ``lab`` template), all in this process.

    Parameters
    ----------
    n_notebooks : int
        Number of notebooks [-].
    work_dir : Path
        Scratch folder (created; the files are left there).

    Returns
    -------
    float
        Wall-clock time [s] (exporter construction included).
    """
    import nbformat
    import papermill as pm
    from nbconvert import HTMLExporter

    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    empty = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("")],
        metadata={"kernelspec": {"name": kernel_name, "display_name": kernel_name, "language": "python"}},
    )
    src = work_dir / "empty.ipynb"
    nbformat.write(empty, str(src))
    t0 = time.perf_counter()
    exporter = HTMLExporter()
    for i in range(n_notebooks):
        nb = pm.execute_notebook(
            str(src), str(work_dir / f"empty_{i}.ipynb"), kernel_name=kernel_name,
            progress_bar=False, cwd=str(work_dir), kernel_manager_class=KERNEL_MANAGER,
        )
        body, _ = exporter.from_notebook_node(nb)
        (work_dir / f"empty_{i}.html").write_text(body, encoding="utf-8")
    return time.perf_counter() - t0


if __name__ == "__main__":  # pragma: no cover - manual benchmark
    print(f"{floor_benchmark(int(sys.argv[1]) if len(sys.argv) > 1 else 4, Path(tempfile.mkdtemp())):.2f} s")
