"""``qzfp explore``: the explorer as a web page, served by Voilà (no code shown).

:func:`serve` checks what the command line gives (the scenario file, the language, the
port) before anything starts, so a mistake is one located line and exit status 1.  Then it
writes, in a temporary folder,

- the page: a notebook of one cell (:func:`page_notebook`) that works in the folder the
  command was started in (a scenario saved from the page goes to its ``params/``, as from
  the notebook) and shows :class:`qzfp.explore.Explorer` of the scenario file;
- a kernel specification that runs this Python (``sys.executable``), so the page's kernel
  imports the same qzfp as the command whatever kernels Jupyter knows;
- the shipped CJK font, which the page's style (``font_css``, as in the reports) draws
  every Chinese character with, from the first text shown while the page loads,

and runs Voilà's own application on it in this process (``voila.app.Voila``: Voilà's
server, sources stripped, execute requests from the page refused) on ``127.0.0.1`` and
exactly the port asked for.  The page uses Voilà's ``lab`` template less its two
stylesheets from a CDN (:data:`TEMPLATE`), so it needs no network.  It prints the address once the server
listens and serves until Ctrl+C (or SIGTERM), which also stops the page's kernels; the
folder is removed then.

Each visit of the page starts a kernel of its own that runs the cell (a few seconds: the
population projection of the scenario) and then answers the widgets.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nbformat
from traitlets.config import Config

from .. import i18n
from ..errors import Problem, QzfpError
from ..i18n.fonts import shipped_font_path
from ..reporting.pagestyle import FONT_FILE, font_css
from ..rules.scenario import Scenario, load_scenario

HOST = "127.0.0.1"
"""The page is served on this machine only."""

DEFAULT_PORT = 8866
"""Voilà's own default port."""

KERNEL_NAME = "qzfp-explore"
"""Name of the kernel specification :func:`serve` writes (this Python)."""

PAGE_CELL = """\
# The page of `qzfp explore` (Voila shows no code): the explorer of one scenario file,
# working in the folder the command was started in (scenarios are saved to its params/).
import os

from qzfp.explore import Explorer

os.chdir({workdir!r})
explorer = Explorer({scenario!r}, lang={lang!r}, shipped_font=False)  # the page has the font
explorer.widget"""


def check_port(value: int | str, location: str = "--port") -> int:
    """The port as a number, once it is known to be free on :data:`HOST`.

    Raises
    ------
    QzfpError
        Not a whole number from 1 to 65535 (``explore.bad_port``), another program
        listens on it (``explore.port_in_use``), or this user may not listen on it
        (``explore.port_denied``, ``explore.port_refused``); at ``location``.
    """
    try:
        port = int(str(value).strip())
    except ValueError:
        port = -1
    if not 0 < port < 65536:
        raise QzfpError(Problem(location, "explore.bad_port", value=str(value)))
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((HOST, port))
        except OSError as exc:
            where = f"{location} {port}"
            if exc.errno == errno.EADDRINUSE:
                raise QzfpError(Problem(where, "explore.port_in_use", port=port)) from None
            if exc.errno == errno.EACCES:
                raise QzfpError(Problem(where, "explore.port_denied", port=port)) from None
            raise QzfpError(Problem(where, "explore.port_refused", port=port,
                                    reason=exc.strerror or str(exc))) from None
    return port


def page_notebook(scenario: str | os.PathLike, lang: str | None, workdir: str | os.PathLike) -> nbformat.NotebookNode:
    """The notebook Voilà serves: the explorer of ``scenario`` (a file path) in ``lang``
    (None: the scenario's own), its kernel working in ``workdir``."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": "Python 3 (qzfp explore)",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [nbformat.v4.new_code_cell(PAGE_CELL.format(
        workdir=str(Path(workdir).resolve()), scenario=str(Path(scenario).resolve()), lang=lang))]
    nb.cells[0]["id"] = "explore-page"
    nbformat.validate(nb)
    return nb


def write_kernel_spec(folder: Path) -> Path:
    """A kernel specification :data:`KERNEL_NAME` running this Python, in
    ``folder/kernels/`` (a folder for ``JUPYTER_PATH``); its path."""
    spec = folder / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (qzfp explore)",
        "language": "python",
    }), encoding="utf-8")
    return spec


def explore_scenario(ref: str | os.PathLike | None) -> Scenario:
    """The scenario the page opens on: ``ref`` (a file or a name), else
    ``params/baseline.yaml`` of the current folder, else the packaged baseline.

    Raises
    ------
    ScenarioError
        ``ref`` names no scenario or the scenario is invalid (every problem located).
    """
    if ref is None:
        from ..reporting.run import default_scenario_files

        ref = default_scenario_files()[0]
    return load_scenario(ref)


TEMPLATE = "qzfp"
"""The Voilà template of the page (``qzfp/explore/jupyter/voila/templates/qzfp``): Voilà's
``lab`` template without its requests to a CDN."""

JUPYTER_DATA = Path(__file__).resolve().parent / "jupyter"
"""The Jupyter data folder shipped with the explorer (it holds :data:`TEMPLATE`)."""


@contextmanager
def _jupyter_path(*folders: Path) -> Iterator[None]:
    """``folders`` first in ``JUPYTER_PATH`` (where Jupyter looks for kernels and Voilà for
    templates) meanwhile."""
    old = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = os.pathsep.join([str(f) for f in folders] + ([old] if old else []))
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = old


def voila_config(port: int, open_browser: bool, lang: str) -> Config:
    """Voilà's configuration for the page: on :data:`HOST` and exactly ``port``, sources
    stripped, no tracebacks, template :data:`TEMPLATE` with its texts in ``lang`` and the
    shipped CJK font (the file :data:`~qzfp.reporting.pagestyle.FONT_FILE` beside the page,
    the only file Voilà serves from its folder) for the whole page."""
    c = Config()
    c.Voila.ip = HOST
    c.Voila.port = port
    c.Voila.port_retries = 0  # the port asked for or none (it was checked free)
    c.Voila.open_browser = open_browser
    c.Voila.log_level = "WARN"
    c.VoilaConfiguration.template = TEMPLATE
    c.VoilaConfiguration.theme = "light"
    c.VoilaConfiguration.strip_sources = True
    c.VoilaConfiguration.show_tracebacks = False
    c.VoilaConfiguration.file_allowlist = [re.escape(FONT_FILE)]  # the one file served from the folder
    c.VoilaConfiguration.resources = {"qzfp": {
        "loading": i18n.t("explore.loading", lang),
        "font_css": font_css(src=f"voila/files/{FONT_FILE}"),  # the page's own font, as in the reports
    }}
    c.VoilaExporter.language_code = lang  # <html lang>: an ISO 639-1 code
    return c


def serve(scenario: str | os.PathLike | None = None, *, lang: str | None = None,
          lang_location: str = "--lang", port: int | str = DEFAULT_PORT,
          open_browser: bool = True, message_lang: str = "en") -> int:
    """Serve the explorer of ``scenario`` at ``http://127.0.0.1:<port>/`` until stopped.

    Parameters
    ----------
    scenario : str or path-like, optional
        Scenario file or name (see :func:`explore_scenario`).
    lang : str, optional
        ``en`` or ``zh`` (the page has a list to change it); the scenario's ``lang`` by default.
    lang_location : str
        Where ``lang`` came from, for the message when it is not a language
        (``--lang``, ``QZFP_LANG``).
    port : int or str
        Port on 127.0.0.1 (checked free first; Voilà does not try another one).
    open_browser : bool
        Open the page in the default web browser (Voilà's ``open_browser``).
    message_lang : str
        Language of the line that gives the address.

    Returns
    -------
    int
        0 once the server was stopped (Ctrl+C, SIGTERM).

    Raises
    ------
    QzfpError
        A bad scenario, language or port (nothing was started); all problems together.
    """
    problems: list[Problem] = []
    try:
        lang = None if lang is None else i18n.check_lang(lang, lang_location)
    except QzfpError as exc:
        problems += exc.problems
    try:
        chosen = explore_scenario(scenario)
    except QzfpError as exc:
        problems += exc.problems
    try:
        port = check_port(port)
    except QzfpError as exc:
        problems += exc.problems
    if problems:
        raise QzfpError(problems)
    assert chosen.path is not None  # loaded from a file
    from voila.app import Voila

    with tempfile.TemporaryDirectory(prefix="qzfp-explore-") as tmp:
        folder = Path(tmp)
        write_kernel_spec(folder)
        shutil.copyfile(shipped_font_path(), folder / FONT_FILE)
        page_lang = lang or chosen.lang
        page = folder / f"{i18n.t('nb.explore.title', page_lang)}.ipynb"  # the page's title
        nbformat.write(page_notebook(chosen.path, lang, Path.cwd()), page)
        url = f"http://{HOST}:{port}/"
        with _jupyter_path(folder, JUPYTER_DATA):
            app = Voila(config=voila_config(port, open_browser, page_lang))
            app.initialize([str(page)])
            import tornado.ioloop

            tornado.ioloop.IOLoop.current().add_callback(   # runs once the server listens
                lambda: print(i18n.t("explore.serving", message_lang, url=url), flush=True))
            app.start()
    return 0
