"""Error and warning classes raised by sksteel."""

from sklearn.exceptions import NotFittedError

__all__ = [
    "DataCacheError",
    "DataCacheWarning",
    "DataFormatError",
    "DeviceUnavailableError",
    "ImageReadError",
    "ImageReadWarning",
    "MissingColumnsWarning",
    "MissingImagesWarning",
    "ModelFileError",
    "ModelVersionWarning",
    "NaNUnsupportedError",
    "NoDefectClassWarning",
    "NotFittedError",
    "RLEError",
    "SksteelWarning",
    "UntrustedModelError",
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


class NaNUnsupportedError(ValueError):
    """An estimator cannot take missing readings (NaN) where sksteel needs it to.

    Raised by :func:`sksteel.inspection.shapley_values`, whose coalitions are
    rows with readings missing.

    Examples
    --------
    >>> from sksteel.exceptions import NaNUnsupportedError
    >>> issubclass(NaNUnsupportedError, ValueError)
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


class MissingColumnsWarning(SksteelWarning):
    """Columns seen in ``fit`` are absent at prediction and read as failed
    sensors (NaN on every row).

    Examples
    --------
    >>> from sksteel.exceptions import MissingColumnsWarning
    >>> issubclass(MissingColumnsWarning, UserWarning)
    True
    """


class NoDefectClassWarning(SksteelWarning):
    """No class label reads as "no defect" (0, "0" or "none"), so every row's
    intensity enters the intensity loss.

    Examples
    --------
    >>> from sksteel.exceptions import NoDefectClassWarning
    >>> issubclass(NoDefectClassWarning, UserWarning)
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


class ImageReadWarning(SksteelWarning):
    """Image files that cannot be used are skipped (``on_error="warn"``).

    Examples
    --------
    >>> from sksteel.exceptions import ImageReadWarning
    >>> issubclass(ImageReadWarning, UserWarning)
    True
    """


class UntrustedModelError(DataFormatError):
    """A model file holds content sksteel does not trust to load.

    Raised by :func:`sksteel.io.load_model` for a skops file containing
    types outside :data:`sksteel.io.SKSTEEL_TRUSTED_TYPES` and the
    ``trusted`` argument, and for a pickle-based (joblib) file loaded
    without ``allow_pickle=True``.

    Examples
    --------
    >>> from sksteel.exceptions import DataFormatError, UntrustedModelError
    >>> issubclass(UntrustedModelError, DataFormatError)
    True
    """


class ModelFileError(DataFormatError):
    """A model file is damaged, truncated or inconsistent.

    Raised by :func:`sksteel.io.load_model`, naming the file and what is
    wrong: it is not a zip archive (nor a pickle), it is truncated, an
    archive member is missing or unreadable, its metadata is malformed, it
    was written in an earlier format version, it holds no model of a kind
    sksteel knows, or the stored weights disagree with the stored
    hyperparameters. Nothing in such a file is trusted: the weights are
    checked against the hyperparameters before any tensor is allocated.

    Examples
    --------
    >>> from sksteel.exceptions import DataFormatError, ModelFileError
    >>> issubclass(ModelFileError, DataFormatError)
    True
    """


class DeviceUnavailableError(ValueError):
    """The torch device an estimator was asked to use is not available.

    Raised by the torch estimators' ``fit`` for, say, ``device="cuda"`` on a
    machine without a CUDA GPU; ``device="auto"`` picks what is available.

    Examples
    --------
    >>> from sksteel.exceptions import DeviceUnavailableError
    >>> issubclass(DeviceUnavailableError, ValueError)
    True
    """


class ModelVersionWarning(SksteelWarning):
    """A model file was written by other versions of the libraries.

    Emitted by :func:`sksteel.io.load_model` when the major or minor version
    of sksteel, scikit-learn, skorch or torch recorded in the file differs
    from the running one.

    Examples
    --------
    >>> from sksteel.exceptions import ModelVersionWarning
    >>> issubclass(ModelVersionWarning, UserWarning)
    True
    """


class DataCacheError(OSError):
    """A cached data set is damaged or cannot be written.

    Raised when a cache entry fails its manifest check (a file missing,
    truncated or changed) and the cache folder is read-only, so it cannot be
    rebuilt, and when the data home cannot be created. The message names
    the files and how to choose another data home (``data_home=`` or the
    ``SKSTEEL_DATA`` environment variable).

    Examples
    --------
    >>> from sksteel.exceptions import DataCacheError
    >>> issubclass(DataCacheError, OSError)
    True
    """


class DataCacheWarning(SksteelWarning):
    """A cached data set failed its check and is rebuilt.

    Examples
    --------
    >>> from sksteel.exceptions import DataCacheWarning
    >>> issubclass(DataCacheWarning, UserWarning)
    True
    """
