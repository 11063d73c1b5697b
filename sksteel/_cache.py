"""Cached artefacts that are verified before they are reused.

A cache entry is a folder (or one file) plus a manifest, written last and
atomically, listing the size and SHA-256 of every file of the entry. On
reuse the files are checked against it: an entry whose manifest is missing
or disagrees is rebuilt, with a warning naming what was wrong, or refused
with :class:`~sksteel.exceptions.DataCacheError` when the cache cannot be
written. Builds take a lock (a file lock across processes, a thread lock
inside one), so two builders of the same entry never interleave.
"""

import hashlib
import json
import os
import threading
import uuid
import warnings
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from .exceptions import DataCacheError, DataCacheWarning

try:  # POSIX; elsewhere only threads of one process are serialised
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

_MANIFEST_VERSION = 1

#: How the data home is chosen, for messages about it.
DATA_HOME_HINT = (
    "Pass a writable folder as `data_home=` or set the SKSTEEL_DATA "
    "environment variable to one."
)


def package_fingerprint():
    """A hash of the source of every module of the installed sksteel, so a
    change to any of them (the sensor table in ``_schema.py`` included)
    gives new cache keys."""
    return source_fingerprint(Path(__file__).resolve().parent)


@lru_cache(maxsize=4)
def source_fingerprint(package):
    """A hash of the relative path and content of every ``.py`` file under
    the folder ``package``."""
    package = Path(package)
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def file_digest(path):
    """SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def temporary_name(path):
    """A temporary path beside ``path``, unique across processes and threads."""
    path = Path(path)
    return path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:12]}.tmp")


def _replace_atomically(path, text):
    temporary = temporary_name(path)
    try:
        temporary.write_text(text)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_manifest(manifest, root, names, **extra):
    """Record the size and hash of ``root / name`` for every name; the
    manifest is written last, atomically."""
    root = Path(root)
    files = {}
    for name in sorted(names):
        path = root / name
        files[name] = {"size": path.stat().st_size, "sha256": file_digest(path)}
    content = {"version": _MANIFEST_VERSION, **extra, "files": files}
    _replace_atomically(Path(manifest), json.dumps(content, indent=1) + "\n")


def read_manifest(manifest):
    """The manifest's content, or None when it is missing or unreadable."""
    try:
        content = json.loads(Path(manifest).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(content, dict) or content.get("version") != _MANIFEST_VERSION:
        return None
    if not isinstance(content.get("files"), dict):
        return None
    return content


def manifest_problems(manifest, root):
    """What is wrong with the files listed by ``manifest`` under ``root``:
    a list of ``(name, problem)``, empty when every file matches. A missing
    or unreadable manifest is one problem."""
    content = read_manifest(manifest)
    if content is None:
        return [(Path(manifest).name, "missing or unreadable manifest")]
    problems = []
    for name, expected in content["files"].items():
        path = Path(root) / name
        try:
            size = path.stat().st_size
        except OSError:
            problems.append((name, "missing"))
            continue
        if size != expected.get("size"):
            problems.append((name, f"{size} bytes instead of {expected.get('size')}"))
        elif file_digest(path) != expected.get("sha256"):
            problems.append((name, "content differs (hash mismatch)"))
    return problems


def describe(problems, limit=5):
    """The first ``limit`` problems, in words."""
    text = "; ".join(f"{name}: {problem}" for name, problem in problems[:limit])
    more = len(problems) - limit
    return text + (f"; and {more} more" if more > 0 else "")


def is_writable(folder):
    """Whether files can be created in ``folder`` (or in its first existing
    parent, when it does not exist yet)."""
    folder = Path(folder)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return os.access(folder, os.W_OK | os.X_OK)


def refuse_or_warn(what, problems, folder):
    """Warn that ``what`` is rebuilt because of ``problems``, or raise
    :class:`DataCacheError` when ``folder`` cannot be written."""
    if not is_writable(folder):
        raise DataCacheError(
            f"The cache of the {what} in {str(folder)!r} is damaged "
            f"({describe(problems)}) and cannot be rebuilt: the folder is "
            f"read-only. Make it writable or use another cache: {DATA_HOME_HINT}"
        )
    warnings.warn(
        f"The cache of the {what} in {str(folder)!r} is damaged "
        f"({describe(problems)}); rebuilding it.",
        DataCacheWarning,
        stacklevel=3,
    )


def ensure_folder(folder, what):
    """Create ``folder``; an unwritable data home gets a clear error."""
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DataCacheError(
            f"Cannot create {str(folder)!r} to cache the {what}: {error.strerror}. "
            f"{DATA_HOME_HINT}"
        ) from error


_THREAD_LOCKS = {}
_THREAD_LOCKS_GUARD = threading.Lock()


@contextmanager
def build_lock(path):
    """Hold the build lock of the cache entry ``path``.

    A lock file ``<path>.lock`` locked with ``flock`` serialises processes;
    a per-path thread lock serialises threads of this process (``flock`` on
    two descriptors of one process would too, but not on every platform).
    """
    path = Path(path)
    key = str(path.resolve())
    with _THREAD_LOCKS_GUARD:
        thread_lock = _THREAD_LOCKS.setdefault(key, threading.Lock())
    with thread_lock:
        if fcntl is None:  # pragma: no cover
            yield
            return
        lock_file = path.with_name(path.name + ".lock")
        with open(lock_file, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
