"""Error and warning classes raised by sksteel."""

from sklearn.exceptions import NotFittedError

__all__ = [
    "DataFormatError",
    "ImageReadError",
    "MissingImagesWarning",
    "NotFittedError",
    "RLEError",
    "SksteelWarning",
]


class DataFormatError(ValueError):
    """A table, file or directory does not have the layout sksteel expects.

    Examples
    --------
    >>> from sksteel.exceptions import DataFormatError
    >>> issubclass(DataFormatError, ValueError)
    True
    """


class RLEError(DataFormatError):
    """A run-length encoding is malformed.

    Examples
    --------
    >>> from sksteel.exceptions import RLEError
    >>> issubclass(RLEError, ValueError)
    True
    """


class ImageReadError(DataFormatError, OSError):
    """One or more image files are missing, unreadable or of the wrong size.

    Examples
    --------
    >>> from sksteel.exceptions import ImageReadError
    >>> issubclass(ImageReadError, OSError)
    True
    """


class SksteelWarning(UserWarning):
    """Base class of the warnings sksteel emits.

    Examples
    --------
    >>> from sksteel.exceptions import SksteelWarning
    >>> issubclass(SksteelWarning, UserWarning)
    True
    """


class MissingImagesWarning(SksteelWarning):
    """Image files listed in an annotation table are not on disk.

    Examples
    --------
    >>> from sksteel.exceptions import MissingImagesWarning
    >>> issubclass(MissingImagesWarning, UserWarning)
    True
    """
