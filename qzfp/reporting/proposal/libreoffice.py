"""The budget proposal as a PDF: LibreOffice headless converts the .docx, with a profile of
its own and a fontconfig file that maps the document's CJK font names to the shipped font."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ... import i18n
from ...errors import Label, Problem, RunError
from .form import FONT_NAMES

#: Seconds LibreOffice may take to convert the document [s].
SOFFICE_TIMEOUT_S = 240.0


def soffice_path() -> str | None:
    """LibreOffice's program: ``QZFP_SOFFICE``, else ``soffice`` or ``libreoffice`` on the PATH."""
    env = os.environ.get("QZFP_SOFFICE")
    if env:
        return env if Path(env).is_file() or shutil.which(env) else None
    return shutil.which("soffice") or shutil.which("libreoffice")


def writer_missing(office: str) -> bool:
    """True when the LibreOffice at ``office`` visibly lacks Writer (Debian splits it into
    ``libreoffice-writer-nogui``; ``libreoffice-calc-nogui`` alone cannot read a .docx).
    An installation whose layout is not LibreOffice's usual one is given the benefit of the doubt."""
    program = Path(shutil.which(office) or office).resolve().parent
    return (program / "libmergedlo.so").exists() is False and (program / "libsclo.so").exists() \
        and not (program / "libswlo.so").exists()


def fontconfig_file(folder: Path) -> Path:
    """A fontconfig file in ``folder`` that adds ``qzfp/fonts`` to the system's fonts and maps
    every CJK font name the document uses (:data:`FONT_NAMES`) to the shipped font, so that
    LibreOffice draws and embeds it whatever fonts the machine has."""
    from xml.sax.saxutils import escape

    font_dir = Path(i18n.shipped_font_path()).parent
    aliases = "\n".join(
        f'  <alias binding="same"><family>{escape(n)}</family>'
        f"<prefer><family>{escape(i18n.SHIPPED_FONT_FAMILY)}</family></prefer></alias>"
        for n in FONT_NAMES)
    system = "/etc/fonts/fonts.conf"
    include = f'  <include ignore_missing="yes">{system}</include>\n' if Path(system).is_file() else ""
    conf = folder / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        f"{include}  <dir>{escape(str(font_dir))}</dir>\n"
        f"  <cachedir>{escape(str(folder / 'cache'))}</cachedir>\n{aliases}\n</fontconfig>\n",
        encoding="utf-8")
    return conf


def docx_to_pdf(docx: Path, pdf: Path, office: str | None = None) -> Path:
    """Convert ``docx`` to ``pdf`` with LibreOffice headless.

    LibreOffice runs with a profile of its own (``-env:UserInstallation``, so parallel runs
    do not collide) and :func:`fontconfig_file` (the shipped CJK font embedded).

    Raises
    ------
    RunError
        LibreOffice failed or wrote no PDF (its last message is given).
    """
    office = office or soffice_path()
    if office is None:
        raise RunError(Problem(str(pdf), "proposal.no_libreoffice"))
    with tempfile.TemporaryDirectory(prefix="qzfp-soffice-") as tmp_name:
        tmp = Path(tmp_name)
        env = {**os.environ, "FONTCONFIG_FILE": str(fontconfig_file(tmp)), "HOME": str(tmp)}
        cmd = [office, f"-env:UserInstallation={(tmp / 'profile').as_uri()}", "--headless", "--norestore",
               "--convert-to", "pdf:writer_pdf_Export", "--outdir", str(tmp / "out"), str(docx)]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=SOFFICE_TIMEOUT_S, env=env,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise RunError(Problem(str(pdf), "proposal.timeout", name=docx.name,
                                   seconds=SOFFICE_TIMEOUT_S)) from None
        made = tmp / "out" / (Path(docx).stem + ".pdf")
        if done.returncode != 0 or not made.is_file() or made.stat().st_size == 0:
            said = (done.stderr or done.stdout or "").strip().splitlines()
            hint = Label("hint.install_writer") if writer_missing(office) else ""
            raise RunError(Problem(str(pdf), "proposal.convert_failed", name=docx.name,
                                   code=done.returncode, said=": " + said[-1] if said else "",
                                   hint=hint))
        shutil.move(str(made), str(pdf))
    return pdf
