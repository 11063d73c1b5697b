"""Per-class defect fractions (and masks) of a Severstal annotation table."""

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_array, validate_data

from .._schema import DEFECT_CLASSES, ENCODED_COLUMNS, FRACTION_COLUMNS, IMAGE_SHAPE
from .._sklearn_compat import _check_feature_names_in, _fit_context
from .._validation import _refuse_repeated_columns
from ..exceptions import DataFormatError
from ._rle import _check_shape, _decode_compiled, _flat_mask, _parse_rle

__all__ = ["RLEDecoder"]

#: The image id column of a Severstal table, quoted in error messages.
_ID_COLUMN = "ImageId"


class RLEDecoder(TransformerMixin, BaseEstimator):
    """Decode a Severstal table's run-length encodings into defect fractions.

    Each row of ``X`` is one image with one run-length encoding per defect
    class (``EncodedPixels_1`` .. ``EncodedPixels_4``, NaN or ``""`` when the
    class is absent), as in the table of
    :func:`sksteel.datasets.load_severstal`. :meth:`transform` returns the
    fraction of the image's pixels covered by each class, computed from the
    run lengths without building any mask. :meth:`iter_masks` yields the
    masks themselves, one image at a time.

    The transformer is stateless: :meth:`fit` only records the input columns,
    and :meth:`transform` works without it.

    Parameters
    ----------
    shape : tuple of int, default=(256, 1600)
        ``(height, width)`` of every mask; the Severstal image shape by
        default.

    Attributes
    ----------
    n_features_in_ : int
        Number of encoding columns read from ``X`` in :meth:`fit` (always 4).
    feature_names_in_ : ndarray of str of shape (4,)
        The encoding columns, ``EncodedPixels_1`` .. ``EncodedPixels_4``.
        Defined only when ``X`` is a DataFrame.

    See Also
    --------
    rle_decode : Decode one encoding into a mask.
    rle_encode : Encode one mask.

    Notes
    -----
    ``X`` is either a DataFrame holding the four ``EncodedPixels_<c>``
    columns (other columns are ignored; ``ImageId``, when present, names the
    image in error messages), or a two-dimensional array-like of exactly four
    columns, taken as classes 1 to 4 in that order.

    A malformed encoding raises :class:`~sksteel.exceptions.RLEError` naming
    the image (or row), the class and the offending pair or token.

    Examples
    --------
    >>> import pandas as pd
    >>> from sksteel.preprocessing import RLEDecoder
    >>> table = pd.DataFrame({
    ...     "ImageId": ["a.jpg", "b.jpg"],
    ...     "EncodedPixels_1": ["1 3", None],
    ...     "EncodedPixels_2": [None, None],
    ...     "EncodedPixels_3": ["5 2", "1 12"],
    ...     "EncodedPixels_4": [None, ""],
    ... })
    >>> decoder = RLEDecoder(shape=(3, 4)).set_output(transform="pandas")
    >>> decoder.fit_transform(table)
       defect_fraction_1  defect_fraction_2  defect_fraction_3  defect_fraction_4
    0               0.25                0.0           0.166667                0.0
    1               0.00                0.0           1.000000                0.0
    >>> masks = next(decoder.iter_masks(table))
    >>> masks.shape
    (4, 3, 4)
    >>> masks[0].astype(int)
    array([[1, 0, 0, 0],
           [1, 0, 0, 0],
           [1, 0, 0, 0]])
    """

    _parameter_constraints = {"shape": [tuple, list]}

    def __init__(self, shape=IMAGE_SHAPE):
        self.shape = shape

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the table's columns and record them.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_images, n_columns)
            Table with the ``EncodedPixels_1`` .. ``EncodedPixels_4`` columns,
            or an array of exactly four encoding columns.
        y : None
            Ignored.

        Returns
        -------
        self : RLEDecoder
            The transformer.
        """
        _check_shape(self.shape)
        self._validate_table(X, reset=True)
        return self

    def transform(self, X):
        """Per-class defect pixel fractions of every image.

        Only the run lengths are summed; no mask is built.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_images, n_columns)
            The table, as in :meth:`fit`.

        Returns
        -------
        fractions : ndarray of float64 of shape (n_images, 4)
            Fraction of each image's pixels covered by each defect class, in
            ``[0, 1]``; columns ``defect_fraction_1`` .. ``defect_fraction_4``.

        Raises
        ------
        RLEError
            If an encoding is malformed; the message names the image (or
            row), the class and the offending token or pair.
        """
        shape = _check_shape(self.shape)
        encodings, ids = self._validate_table(X, reset=False)
        fractions = np.zeros(encodings.shape, dtype=np.float64)
        for row, column, rle in _present_cells(encodings):
            counts = _parse_rle(rle, shape, where=_where(ids, row, column))
            fractions[row, column] = counts[1::2].sum()
        return fractions / (shape[0] * shape[1])

    def iter_masks(self, X):
        """Decode the masks of each image, lazily, one image at a time.

        Only one image's masks are in memory at a time, so tables of any size
        can be streamed. The columns of ``X`` are checked at once; each
        encoding is checked when its image is reached.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_images, n_columns)
            The table, as in :meth:`fit`.

        Returns
        -------
        masks : iterator of ndarray of bool of shape (4, height, width)
            For each row of ``X``, in order, the masks of classes 1 to 4
            (``masks[c - 1]`` is class ``c``). Each array is new; it may be
            a transposed view rather than C-contiguous.

        Raises
        ------
        RLEError
            While iterating, when an encoding is malformed; the message names
            the image (or row), the class and the offending token or pair.
        """
        shape = _check_shape(self.shape)
        encodings, ids = self._validate_table(X, reset=False)
        return _iter_masks(encodings, ids, shape)

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input column names; checked against ``feature_names_in_`` when it
            is defined.

        Returns
        -------
        feature_names_out : ndarray of str of shape (4,)
            ``defect_fraction_1`` .. ``defect_fraction_4``.
        """
        _check_feature_names_in(self, input_features, generate_names=False)
        return np.asarray(FRACTION_COLUMNS, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.allow_nan = True  # a missing encoding is an empty mask
        tags.requires_fit = False
        tags.transformer_tags.preserves_dtype = []  # always float64 fractions
        return tags

    def _validate_table(self, X, *, reset):
        """The encodings as an object array, and the image ids (or None)."""
        ids = None
        if isinstance(X, pd.DataFrame):
            missing = [c for c in ENCODED_COLUMNS if c not in X.columns]
            if missing:
                raise DataFormatError(
                    f"{type(self).__name__} needs the columns "
                    f"{list(ENCODED_COLUMNS)}, but X lacks {missing} (it has "
                    f"{_short_list(X.columns)}). Pass a Severstal table with one "
                    "row per image and one run-length encoding column per class "
                    "(NaN or '' when the class is absent), such as the `frame` "
                    "of sksteel.datasets.load_severstal."
                )
            _refuse_repeated_columns(self, X, ENCODED_COLUMNS, DataFormatError)
            if list(X.columns).count(_ID_COLUMN) == 1:
                ids = X[_ID_COLUMN].to_numpy()
            X = X[list(ENCODED_COLUMNS)]
        check_params = {"dtype": object, "ensure_all_finite": False}
        if reset or hasattr(self, "n_features_in_"):
            encodings = validate_data(self, X, reset=reset, **check_params)
        else:
            # Stateless use without fit: no recorded columns to compare with
            # (validate_data would warn that fit saw no feature names).
            encodings = check_array(X, input_name="X", estimator=self, **check_params)
        if encodings.shape[1] != len(ENCODED_COLUMNS):
            raise DataFormatError(
                f"{type(self).__name__} needs {len(ENCODED_COLUMNS)} columns of "
                "run-length encodings (classes "
                f"{', '.join(map(str, DEFECT_CLASSES))} in that order); got "
                f"{encodings.shape[1]} column(s). Pass a DataFrame with the "
                f"columns {list(ENCODED_COLUMNS)} (other columns are ignored)."
            )
        return encodings, ids


def _short_list(values, n_shown=10):
    """``values`` as a list for an error message, cut after ``n_shown``."""
    values = list(values)
    more = f" and {len(values) - n_shown} more" if len(values) > n_shown else ""
    return f"{values[:n_shown]!r}{more}"


def _present_cells(encodings):
    """``(row, column, encoding)`` of every cell that is not missing."""
    rows, columns = np.nonzero(~pd.isna(encodings))
    return zip(rows.tolist(), columns.tolist(), encodings[rows, columns])


def _where(ids, row, column):
    """Where a cell is, for error messages."""
    image = f"row {row}" if ids is None else f"image {str(ids[row])!r}"
    return (
        f" for {image}, class {DEFECT_CLASSES[column]} "
        f"(column {ENCODED_COLUMNS[column]!r})"
    )


def _iter_masks(encodings, ids, shape):
    """Yield the ``(n_classes, height, width)`` masks of each row."""
    height, width = shape
    for row, cells in enumerate(encodings):
        # Column-major pixels: fill (class, width, height), then transpose.
        masks = np.zeros((len(cells), width, height), dtype=bool)
        flat_masks = masks.reshape(len(cells), width * height)  # a view
        for column, rle in enumerate(cells):
            if _decode_compiled(rle, flat_masks[column]):
                continue
            counts = _parse_rle(rle, shape, where=_where(ids, row, column))
            if counts.size > 1:
                flat_masks[column] = _flat_mask(counts)
        yield masks.transpose(0, 2, 1)
