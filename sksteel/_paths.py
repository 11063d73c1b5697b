"""Where image ids lead on disk: ids that resolve outside their data root,
after symbolic links, and links that loop."""

import errno
import os

from .exceptions import DataFormatError, ImageReadError

__all__ = ["N_NAMED", "check_under_root", "describe_ids", "fspaths", "resolve_dir"]

#: How many offending ids, paths or values an error message names.
N_NAMED = 5


def describe_ids(ids):
    """The first few `ids` and their count, for an error message."""
    ids = list(ids)
    shown = ", ".join(repr(i) for i in ids[:N_NAMED])
    more = f", ... ({len(ids)} in all)" if len(ids) > N_NAMED else ""
    return f"[{shown}{more}]"


def fspaths(values, expected):
    """``os.fspath`` of every value, or a :class:`DataFormatError` that
    starts with `expected` and names the first values that are not a str or
    path-like."""
    bad = [value for value in values if not isinstance(value, (str, os.PathLike))]
    if bad:
        raise DataFormatError(
            f"{expected}; got {len(bad)} other value(s), first {bad[:N_NAMED]!r}."
        )
    return [os.fspath(value) for value in values]


def _real(path):
    """`path` with every symbolic link resolved; None for a link loop.

    A path that does not exist is resolved as far as it goes, so that a
    missing file still has a place (inside the root or not).
    """
    try:
        return os.path.realpath(path, strict=True)
    except FileNotFoundError:
        return os.path.realpath(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None
        return os.path.realpath(path)


def resolve_dir(folder, what):
    """The real path of `folder`; a clear error for a link loop."""
    real = _real(os.fspath(folder))
    if real is None:
        raise DataFormatError(
            f"The {what} {os.fspath(folder)!r} is a symbolic link loop: following "
            "its links leads back to itself. Fix or remove the link, or point "
            f"the {what} at the real folder."
        )
    return real


def check_under_root(ids, paths, root):
    """Refuse image ids whose files resolve outside `root` or loop.

    Parameters
    ----------
    ids : sequence of str
        The image ids, as named in the table (for the message).
    paths : sequence of str
        Where each id's file is: ``root/<id>``.
    root : str or path-like
        The data root (the image folder); resolved here.

    Raises
    ------
    DataFormatError
        Naming the ids that resolve outside `root` (``..`` in the id, or a
        symbolic link leading out).
    ImageReadError
        Naming the ids whose links loop.
    """
    real_root = resolve_dir(root, "image folder")
    outside, loops = [], []
    for image_id, path in zip(ids, paths):
        real = _real(os.fspath(path))
        if real is None:
            loops.append(image_id)
        elif os.path.commonpath([real_root, real]) != real_root:
            outside.append(image_id)
    if outside:
        raise DataFormatError(
            f"{len(outside)} image id(s) lead outside the image folder "
            f"{real_root!r}: {describe_ids(outside)}. Image ids are file names in "
            "that folder; ids with '..' or symbolic links out of the folder are "
            "refused. Fix those ids or links."
        )
    if loops:
        raise ImageReadError(
            f"{len(loops)} image file(s) in {real_root!r} are symbolic link loops "
            f"(their links lead back to themselves): {describe_ids(loops)}. Fix or "
            "remove those links."
        )
