"""The one atomic publish: a report (folder or file) appears complete or not at all.

Every writer of a report output goes through this module:

* a **folder** (a scenario's report, a compare or sweep folder) is built in a hidden
  temporary folder beside its destination (:func:`locked_tempdir`), locked while its run
  lives, and put in place by :func:`replace_dir` (old aside, new in, old deleted);
* a **file** (the top ``index.html``, the shipped font, ``report.pdf``, a workbook
  rewritten in place, a shared CSV table) is written under a hidden name beside it and
  renamed over it (:func:`atomic_path`, :func:`write_text`, :func:`copy_file`);
* the temporaries of a run that died (SIGKILL, power loss) are removed by the next run
  into the same folder, and only those (:func:`remove_stale_temporaries`).

Modes are the ones the system gives a new file or folder (``0o666``/``0o777`` less the
umask): everything is created with :func:`os.mkdir`/:func:`os.open` and their default
modes, never with ``mkdtemp``/``mkstemp`` (``0o700``/``0o600``, which a web server could
not serve), so the umask is never read or changed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "STALE_TEMP_AGE_S",
    "atomic_path",
    "copy_file",
    "locked_tempdir",
    "remove_stale_temporaries",
    "replace_dir",
    "unlock_dir",
    "write_text",
]

#: A hidden temporary of a report folder (``.<name>.tmp-*``, ``.<name>.old-*``, the batch's
#: ``.qzfp-tables-*``, ``.index.*.html``) whose owner is gone is removed by the next run
#: into the folder once it is this old [s].  Each run holds an exclusive ``flock`` on its
#: temporary folders while it lives (the kernel releases it when the process dies, even
#: by SIGKILL), so a folder of a live concurrent run is never removed; the age only
#: covers the instant between creating a folder and locking it.
STALE_TEMP_AGE_S = 10.0
_TEMP_PATTERNS = (".*.tmp-*", ".*.old-*", ".*.old", ".qzfp-tables-*", ".index.*.html")


def _token() -> str:
    return uuid.uuid4().hex[:10]


def _new_dir(prefix: str, parent: Path) -> Path:
    """A new folder ``parent/<prefix><random>`` with the default mode."""
    while True:
        path = Path(parent) / f"{prefix}{_token()}"
        try:
            os.mkdir(path)
        except FileExistsError:  # pragma: no cover - 40 random bits
            continue
        return path


def locked_tempdir(prefix: str, parent: Path) -> tuple[Path, int | None]:
    """Create a hidden temporary folder in ``parent`` and lock it for this process.

    The folder has the mode of any new folder (``0o777`` less the umask).

    Returns
    -------
    (Path, int or None)
        The folder and the descriptor holding the lock (None where ``flock`` does not
        exist); close the descriptor with :func:`unlock_dir` once the folder is moved
        into place or deleted.
    """
    path = _new_dir(prefix, parent)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock, no stale cleanup
        return path, None
    fd = os.open(path, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return path, fd


def unlock_dir(fd: int | None) -> None:
    """Release a lock taken by :func:`locked_tempdir` (no-op for None)."""
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)


@contextlib.contextmanager
def _parent_lock(folder: Path) -> Iterator[None]:
    """Hold the exclusive lock of ``folder`` (the one :func:`replace_dir` and
    :func:`remove_stale_temporaries` take on the parent of the reports)."""
    lock = None
    with contextlib.suppress(ImportError, OSError):
        import fcntl

        lock = os.open(folder, os.O_RDONLY)
        fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        yield
    finally:
        unlock_dir(lock)


def remove_stale_temporaries(out_dir: Path, *, min_age_s: float = STALE_TEMP_AGE_S) -> list[Path]:
    """Remove the hidden temporaries of runs into ``out_dir`` that died (SIGKILL, power).

    A folder is stale when it is older than ``min_age_s`` (default
    :data:`STALE_TEMP_AGE_S`) and no process holds its lock; a file (a half-written top
    index) when it is older than :data:`STALE_TEMP_AGE_S`.  Folders of a live run, in this
    or another process, are left alone.  A caller that knows its own runs are over (the
    Dask batch, whose workers may have died) passes ``min_age_s=0``.

    Returns
    -------
    list of Path
        What was removed.
    """
    try:
        import fcntl  # noqa: F401
    except ImportError:  # pragma: no cover - Windows
        return []
    removed: list[Path] = []
    if not Path(out_dir).is_dir():
        return removed
    with _parent_lock(Path(out_dir)):  # no ``.old-`` folder of a live replace meanwhile
        for pattern in _TEMP_PATTERNS:
            for path in Path(out_dir).glob(pattern):
                if _remove_if_stale(path, min_age_s):
                    removed.append(path)
    return removed


def _remove_if_stale(path: Path, min_age_s: float) -> bool:
    """Remove one temporary if its owner is gone (see :func:`remove_stale_temporaries`)."""
    import fcntl

    try:
        is_dir = path.is_dir() and not path.is_symlink()
        if time.time() - path.lstat().st_mtime < (min_age_s if is_dir else STALE_TEMP_AGE_S):
            return False
        if not is_dir:
            path.unlink()
            return True
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)  # a live run holds it
        return False
    try:
        report = _set_aside_report(path)
        if report is not None and not report.exists():
            # killed between "old report aside" and "new report in place": the old
            # one is the report (the new one never finished), so it goes back
            os.replace(path, report)
        else:
            shutil.rmtree(path, ignore_errors=True)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def _set_aside_report(path: Path) -> Path | None:
    """The report folder ``path`` was renamed aside from (``.<name>.old-*``/``.<name>.old``)."""
    name = path.name
    if ".old-" in name:
        return path.with_name(name[1:name.rindex(".old-")])
    if name.endswith(".old"):
        return path.with_name(name[1:-4])
    return None


def replace_dir(new: Path, dest: Path) -> None:
    """Put ``new`` at ``dest``: rename the old aside, rename new in place, delete the old.

    Runs holding the lock of ``dest``'s parent folder, so two runs publishing the same
    scenario at once take turns instead of failing on each other's renames, and
    :func:`remove_stale_temporaries` never sees a folder set aside by a live replace (one
    left by a killed replace is put back when the new report is not in place).
    """
    with _parent_lock(dest.parent):
        old: Path | None = None
        if dest.exists():
            old = dest.parent / f".{dest.name}.old-{_token()}"
            os.replace(dest, old)
        try:
            os.replace(new, dest)
        except BaseException:
            if old is not None:
                os.replace(old, dest)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """A hidden path beside ``target`` to write; renamed over ``target`` on success.

    The yielded path (``.<stem>.<random><suffix>`` in ``target``'s folder) does not exist
    yet; the caller (or a program it starts) creates it with the default mode.  When the
    block raises, or leaves nothing there, ``target`` is untouched and the partial file
    is removed.

    Raises
    ------
    FileNotFoundError
        The block finished without writing the file.
    """
    target = Path(target)
    part = target.with_name(f".{target.stem}.{_token()}{target.suffix}")
    try:
        yield part
        os.replace(part, target)
    finally:
        with contextlib.suppress(OSError):
            part.unlink()


def write_text(target: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``target`` atomically; returns ``target``."""
    with atomic_path(target) as part:
        part.write_text(text, encoding="utf-8")
    return Path(target)


def copy_file(src: Path, target: Path) -> Path:
    """Copy ``src`` to ``target`` atomically (a concurrent reader never sees half a file).

    An error names ``target`` (the file written), not ``src``.
    """
    try:
        with atomic_path(target) as part:
            shutil.copyfile(src, part)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(target)) from exc
    return Path(target)
