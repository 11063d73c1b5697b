"""Where sksteel keeps the data sets it generates."""

import os
from pathlib import Path

from ..exceptions import DataCacheError

__all__ = ["get_data_home"]


def get_data_home(data_home=None):
    """Return the directory where sksteel caches generated data sets.

    The first of these that is set wins: the ``data_home`` argument, the
    ``SKSTEEL_DATA`` environment variable, ``~/sksteel_data``. The directory is
    created if it does not exist.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The directory to use. ``None`` falls back to ``SKSTEEL_DATA``, then
        ``~/sksteel_data``.

    Returns
    -------
    data_home : pathlib.Path
        The cache directory, which exists.

    Raises
    ------
    DataCacheError
        When the directory cannot be created (for example under a read-only
        folder), with a hint about ``data_home`` and ``SKSTEEL_DATA``.

    Examples
    --------
    >>> import tempfile
    >>> from sksteel.datasets import get_data_home
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     get_data_home(tmp).is_dir()
    True
    """
    if data_home is None:
        data_home = os.environ.get("SKSTEEL_DATA", Path("~") / "sksteel_data")
    path = Path(data_home).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DataCacheError(
            f"Cannot create the data home {str(path)!r}: {error.strerror}. Pass a "
            "writable folder as `data_home=` or set the SKSTEEL_DATA environment "
            "variable to one."
        ) from error
    return path
