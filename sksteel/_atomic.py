"""Atomic file writes shared by every sksteel writer.

A file is written under a temporary name beside its target, flushed to
disk, then published under the target name in one step: ``os.replace``
when the target may be replaced, ``os.link`` when it must not exist, so
that of concurrent writers to one new target exactly one succeeds. A
reader never sees a partial file under the target name.

The temporary names start with :data:`~sksteel._schema.TEMP_PREFIX`,
followed by the process id, the thread id and a random part: they are
unique per process and thread, and a later run can tell the leftovers of
killed writers (:func:`remove_stale_temporaries`) from those of running
ones.
"""

import errno
import os
import shutil
import threading
import uuid
from pathlib import Path

from ._schema import TEMP_PREFIX

__all__ = [
    "refuse_existing",
    "remove_stale_temporaries",
    "temporary_path",
    "write_atomically",
]


def temporary_path(target):
    """A new name beside ``target``: prefix, process, thread, random part."""
    target = Path(target)
    # the process id comes first: it tells a later run whether the writer runs
    name = (
        f"{TEMP_PREFIX}{os.getpid()}-{threading.get_ident()}-"
        f"{uuid.uuid4().hex[:12]}-{target.name[-100:]}"
    )
    return target.with_name(name)


def refuse_existing(target):
    """Raise a ``FileExistsError`` naming ``target`` and the fix when it
    exists: the early check of a Python writer called without
    ``overwrite`` (the publication refuses a file created meanwhile)."""
    if Path(target).exists():
        raise FileExistsError(
            f"{str(target)!r} already exists; pass `overwrite=True` to replace it, "
            "or choose another path."
        )


def write_atomically(target, write, *, overwrite=False, before_publish=None):
    """Write ``target`` through ``write(path)`` on a temporary file.

    Parameters
    ----------
    target : path-like
        The file to create (or replace, with ``overwrite``).
    write : callable
        ``write(path)`` writes the whole content to ``path``, a new empty
        file beside ``target``.
    overwrite : bool, default=False
        Replace an existing ``target`` (``os.replace``). Without it the
        temporary file is hard-linked to ``target``, which fails if
        ``target`` exists by then, whatever ran meanwhile.
    before_publish : callable, default=None
        Called without argument just before publishing, to re-check a
        condition that may have changed during the write.

    Returns
    -------
    target : Path
        The published file.

    Raises
    ------
    FileExistsError
        Without ``overwrite``, when ``target`` exists at publication; the
        existing file is left as it is.
    """
    target = Path(target)
    temporary = temporary_path(target)
    os.close(os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    try:
        write(temporary)
        _fsync(temporary)
        if before_publish is not None:
            before_publish()
        if overwrite:
            os.replace(temporary, target)
        else:
            _publish_new(temporary, target)
        _fsync_folder(target.parent)
    finally:
        temporary.unlink(missing_ok=True)
    return target


def _fsync(path):
    """Flush the content of ``path`` to disk."""
    with open(path, "rb") as file:
        os.fsync(file.fileno())


def _fsync_folder(folder):
    """Flush ``folder``'s entries, so a published name survives a crash."""
    if os.name != "posix":
        return  # folders cannot be opened on Windows
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # some file systems refuse fsync on folders
    finally:
        os.close(descriptor)


def _publish_new(temporary, target):
    """Give ``temporary`` the name ``target``, which must not exist."""
    try:
        try:
            os.link(temporary, target)
        except OSError as error:
            no_links = (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK)
            if isinstance(error, FileExistsError) or error.errno not in no_links:
                raise
            # a file system without hard links: create ``target`` exclusively
            with open(temporary, "rb") as source, open(target, "xb") as copy:
                shutil.copyfileobj(source, copy)
    except FileExistsError:
        raise FileExistsError(
            f"{str(target)!r} was created by another program while this command "
            "ran, and is kept as it is; pass `--force` (`overwrite=True` in "
            "Python) to replace it, or choose another path."
        ) from None


def remove_stale_temporaries(folder, started):
    """Remove the temporary files that killed writers left in ``folder``.

    Only files older than ``started`` (a :func:`time.time`) whose writer
    process no longer runs are removed; a file is recognised by
    :data:`~sksteel._schema.TEMP_PREFIX`, also behind one leading dot
    (the name a writer gives a temporary file of its own beside ours).

    Parameters
    ----------
    folder : path-like
        The folder to clean.
    started : float
        The start of the current run, in seconds since the epoch.
    """
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if not entry.name.startswith((TEMP_PREFIX, "." + TEMP_PREFIX)):
            continue
        start = entry.name.index(TEMP_PREFIX) + len(TEMP_PREFIX)
        pid = entry.name[start:].split("-")[0]
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            if entry.stat(follow_symlinks=False).st_mtime >= started:
                continue
            if pid.isdigit() and _is_running(int(pid)):
                continue
            os.unlink(entry.path)
        except OSError:
            pass  # gone meanwhile, or not ours to remove


def _is_running(pid):
    """Whether a process ``pid`` runs on this machine (unknown: False)."""
    if os.name != "posix":
        return False  # os.kill would end the process on Windows
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
