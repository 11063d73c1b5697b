"""The rules every output file of the ``sksteel`` command follows.

- It is checked before the long work starts: not one of the command's
  inputs, not a folder, not an existing file without ``force``, in a
  folder that exists and is writable.
- It is written atomically (:mod:`sksteel._atomic`): without ``force``,
  of concurrent writers exactly one succeeds; the temporary files killed
  runs left in its folder are removed.
- Text cells and headers a spreadsheet would evaluate as a formula get a
  leading ``'`` (as OWASP recommends).
"""

import errno
import os
import re
import time
from pathlib import Path

from pandas.api.types import is_numeric_dtype

from ._atomic import remove_stale_temporaries, temporary_path, write_atomically

__all__ = ["check_output", "spreadsheet_safe", "spreadsheet_safe_text", "write_output"]


def check_output(out, force, inputs):
    """Check ``out`` before the long work starts, and return it as a Path.

    It must not be one of the ``inputs`` (``{what: path}``), a folder, or an
    existing file without ``force``; its folder must exist and be writable.
    The temporary files that killed runs left in that folder are removed.
    """
    started = time.time()
    out = Path(out)
    refuse_inputs(out, inputs)
    if out.is_dir():
        raise IsADirectoryError(
            f"`--out` {str(out)!r} is a folder; give the path of a file in it."
        )
    if out.exists() and not force:
        raise FileExistsError(
            f"{str(out)!r} already exists; pass `--force` to replace it, or choose "
            "another `--out`."
        )
    if not out.parent.is_dir():
        raise FileNotFoundError(
            f"The folder {str(out.parent)!r} of `--out` does not exist; create it "
            "first."
        )
    remove_stale_temporaries(out.parent, started)
    _check_writable(out.parent)
    return out


def refuse_inputs(out, inputs):
    """Refuse an output that is one of the ``inputs``, ``--force`` or not."""
    for what, path in inputs.items():
        if _same_file(out, Path(path)):
            raise FileExistsError(
                f"The output {str(out)!r} is the {what} {str(path)!r}; sksteel "
                "never writes over its inputs, even with `--force`. Choose "
                "another `--out`."
            )


def _same_file(a, b):
    """Whether ``a`` and ``b`` are one file (through links too)."""
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _check_writable(folder):
    """Create and remove a file in ``folder``, or say that it is not writable."""
    probe = temporary_path(folder / "probe")
    try:
        os.close(os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except OSError as error:
        if error.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise
        raise PermissionError(
            f"Cannot write into {str(folder)!r}, the folder of `--out` "
            f"({error.strerror}); choose a folder you can write to, or change "
            "its permissions."
        ) from error
    probe.unlink()


def write_output(write, out, force, inputs):
    """Publish an output that ``write(path)`` writes to a temporary file.

    With ``force`` it replaces ``out``; without, it fails if ``out`` exists
    by then, whatever ran meanwhile. The inputs are checked again just
    before publishing, in case a link appeared meanwhile.
    """
    write_atomically(
        out, write, overwrite=force, before_publish=lambda: refuse_inputs(out, inputs)
    )


#: First characters that make a spreadsheet read a cell as a formula (OWASP).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

#: A plain decimal number, which a spreadsheet reads as that number.
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def spreadsheet_safe_text(text):
    """``text`` with a leading ``'`` when a spreadsheet would evaluate it."""
    if _NUMBER.fullmatch(text):
        return text
    # some spreadsheets skip leading spaces and quotes before a formula
    after_blanks = text.lstrip(" \t\r\n'\"")
    if text.startswith(_FORMULA_STARTS) or after_blanks.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def spreadsheet_safe(frame):
    """``frame`` with its text cells and headers made spreadsheet-safe;
    numeric columns are kept as they are."""
    safe = frame.copy()
    for column in frame.columns:
        if not is_numeric_dtype(frame[column]):
            safe[column] = frame[column].map(
                lambda value: spreadsheet_safe_text(value)
                if isinstance(value, str) else value
            )
    safe.columns = [spreadsheet_safe_text(str(column)) for column in frame.columns]
    return safe
