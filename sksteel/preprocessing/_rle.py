"""Run-length encoding of defect masks, in Kaggle Severstal's format.

An encoding is a string of space-separated ``start length`` pairs. Starts are
1-indexed and pixels are counted top to bottom, then left to right
(column-major, Fortran order) over the ``(height, width)`` mask. Runs are
sorted and do not overlap; an empty string, ``None`` or NaN is an empty mask.

Everything here is vectorised: parsing, validation and mask building work on
whole arrays, never run by run. With numba installed, ``rle_decode`` and
``RLEDecoder.iter_masks`` first try the compiled decoder of ``_rle_kernel``
(``_decode_compiled``: same masks, fewer passes over memory) and fall back to
numpy for anything it does not accept, so errors always come from the numpy
path.
"""

import numbers
import re

import numpy as np
import pandas as pd
from pandas.api.types import is_scalar

from .._schema import IMAGE_SHAPE
from ..exceptions import RLEError
from ._rle_kernel import OK, get_kernel

__all__ = ["rle_decode", "rle_encode"]

#: The only bytes an encoding may hold on the fast parsing path.
_DIGITS_AND_SPACES = b"0123456789 \t\n\r\x0b\x0c"

#: An integer token, as the careful parsing path accepts it.
_INTEGER = re.compile(r"[+-]?[0-9]+")

#: How many characters of a bad value an error message quotes.
_N_QUOTED = 60


def _check_shape(shape):
    """Validate ``shape`` and return it as a tuple of two Python ints."""
    if (
        isinstance(shape, tuple | list)
        and len(shape) == 2
        and all(
            isinstance(n, numbers.Integral) and not isinstance(n, bool) and n > 0
            for n in shape
        )
    ):
        return int(shape[0]), int(shape[1])
    raise ValueError(
        "`shape` must be a pair of positive integers (height, width), e.g. "
        f"{IMAGE_SHAPE!r} for a Severstal image; got {shape!r}."
    )


def _is_missing(value):
    """True for None, float NaN, ``pd.NA`` and the other missing scalars."""
    return is_scalar(value) and bool(pd.isna(value))


def _quote(text):
    """``text`` shortened for an error message."""
    text = str(text)
    return text if len(text) <= _N_QUOTED else text[: _N_QUOTED - 3] + "..."


def _values_from_tokens(tokens, where):
    """Exact integers of ``tokens``, clipped to int64, or an error naming the
    first token that is not an integer."""
    for index, token in enumerate(tokens):
        if not _INTEGER.fullmatch(token):
            raise RLEError(
                f"Invalid run-length encoding{where}: the token at index {index} "
                f"is {_quote(token)!r}, not an integer. An encoding holds only "
                "whole numbers: space-separated `start length` pairs."
            )
    values = np.array([int(token) for token in tokens], dtype=object)
    bound = np.iinfo(np.int64).max // 4  # keeps later sums from overflowing
    return np.clip(values, -bound, bound).astype(np.int64)


def _diagnose(tokens, values, n_pixels, shape, where):
    """Raise an RLEError for the first invalid pair of ``values``."""
    starts, lengths = values[0::2], values[1::2]
    ends = starts + lengths - 1  # last pixel of each run, 1-indexed
    previous_ends = np.concatenate(([0], ends[:-1]))
    previous_starts = np.concatenate(([0], starts[:-1]))
    problems = np.stack(
        [starts < 1, lengths < 1, starts <= previous_ends, ends > n_pixels]
    )
    pair = int(np.flatnonzero(problems.any(axis=0))[0])
    kind = int(np.argmax(problems[:, pair]))
    start, length = tokens[2 * pair], tokens[2 * pair + 1]
    where_pair = f"the pair at index {pair} (`{_quote(start)} {_quote(length)}`)"
    if kind == 0:
        problem = (
            f"{where_pair} starts at {_quote(start)}; starts are 1-indexed, so "
            "they must be >= 1"
        )
    elif kind == 1:
        problem = f"{where_pair} has length {_quote(length)}; lengths must be >= 1"
    elif kind == 2:
        before = f"`{tokens[2 * pair - 2]} {tokens[2 * pair - 1]}`"
        if starts[pair] <= previous_starts[pair]:
            problem = (
                f"{where_pair} does not start after the pair before it "
                f"({before}); runs must be sorted by start"
            )
        else:
            problem = (
                f"{where_pair} overlaps the pair before it ({before}), which "
                f"ends at pixel {previous_ends[pair]}; runs must not overlap"
            )
    else:
        problem = (
            f"{where_pair} ends at pixel {int(start) + int(length) - 1}, past the "
            f"last pixel {n_pixels} of a {shape[0]} x {shape[1]} mask; check `shape`"
        )
    raise RLEError(f"Invalid run-length encoding{where}: {problem}.")


def _parse_rle(rle, shape=IMAGE_SHAPE, where=""):
    """Parse and validate one encoding into alternating run lengths.

    This is the single validation path of every decoder in sksteel.

    Parameters
    ----------
    rle : str, None or NaN
        The encoding; None, NaN and blank strings are an empty mask.
    shape : tuple of int, default=IMAGE_SHAPE
        ``(height, width)`` of the mask, already checked by ``_check_shape``.
    where : str, default=""
        Inserted after "Invalid run-length encoding" in error messages, e.g.
        ``" for image 'a.jpg', class 3"``.

    Returns
    -------
    counts : ndarray of int64 of shape (2 * n_runs + 1,)
        Background and defect run lengths, alternating and starting with
        background, in column-major pixel order: ``counts[1::2]`` are the run
        lengths and ``counts.sum() == height * width``.

    Raises
    ------
    RLEError
        If ``rle`` is not a string or a missing value, or is malformed.
    """
    n_pixels = shape[0] * shape[1]
    if not isinstance(rle, str):
        if _is_missing(rle):
            return np.array([n_pixels], dtype=np.int64)
        raise RLEError(
            f"Invalid run-length encoding{where}: expected a str of "
            "space-separated `start length` pairs (or None / NaN / '' for an "
            f"empty mask); got {type(rle).__name__} {_quote(repr(rle))}."
        )
    if not rle.strip():
        return np.array([n_pixels], dtype=np.int64)
    if rle.isascii() and not rle.encode("ascii").translate(None, _DIGITS_AND_SPACES):
        # Only digits and blanks: numpy parses it in C. Values saturate at the
        # int64 maximum instead of overflowing; the bound check rejects them.
        tokens = None
        values = np.fromstring(rle, dtype=np.int64, sep=" ")
    else:
        tokens = rle.split()
        values = _values_from_tokens(tokens, where)
    if values.size % 2:
        tokens = rle.split() if tokens is None else tokens
        raise RLEError(
            f"Invalid run-length encoding{where}: odd number of values "
            f"({values.size}); an encoding is a sequence of `start length` "
            f"pairs, and the last start ({_quote(tokens[-1])}) has no length."
        )
    if values.max() <= n_pixels:
        starts, lengths = values[0::2], values[1::2]
        counts = np.empty(values.size + 1, dtype=np.int64)
        counts[1::2] = lengths
        counts[0] = starts[0] - 1
        counts[2:-1:2] = starts[1:] - (starts[:-1] + lengths[:-1])
        counts[-1] = n_pixels + 1 - (starts[-1] + lengths[-1])
        # Valid iff no gap (before, between or after the runs) is negative
        # and no length is below 1.
        if counts[0::2].min() >= 0 and lengths.min() >= 1:
            return counts
    tokens = rle.split() if tokens is None else tokens
    _diagnose(tokens, _values_from_tokens(tokens, where), n_pixels, shape, where)


#: False, True, False, ...: the value of each run of ``_parse_rle``'s counts.
_ALTERNATING = np.resize(np.array([False, True]), 4096)


def _flat_mask(counts):
    """The column-major flat mask of the run lengths of ``_parse_rle``."""
    if counts.size > _ALTERNATING.size:  # over 2,047 runs: build it for this one
        return np.repeat(np.arange(counts.size) % 2 == 1, counts)
    return np.repeat(_ALTERNATING[: counts.size], counts)


def _decode_compiled(rle, flat):
    """Set the runs of ``rle`` in the zeroed flat mask ``flat`` with the
    compiled decoder.

    Returns False when numba is missing or the encoding is not plain,
    well-formed digits and blanks; ``flat`` may then be partly written, and
    the caller decodes with the numpy path, which rejects what the compiled
    decoder refused.
    """
    kernel = get_kernel()
    if kernel is None or not isinstance(rle, str) or not rle.isascii():
        return False
    text = rle.encode("ascii")
    if text.translate(None, _DIGITS_AND_SPACES):
        return False
    return kernel(np.frombuffer(text, dtype=np.uint8), flat) == OK


def rle_decode(rle, shape=IMAGE_SHAPE):
    """Decode a run-length encoding into a boolean mask.

    Parameters
    ----------
    rle : str, None or NaN
        Space-separated ``start length`` pairs: 1-indexed starts, pixels
        counted top to bottom then left to right (column-major), runs sorted
        and not overlapping. ``""``, blanks, ``None``, ``float("nan")`` and
        ``pd.NA`` decode to an empty mask.
    shape : tuple of int, default=(256, 1600)
        ``(height, width)`` of the mask; the Severstal image shape by default.

    Returns
    -------
    mask : ndarray of bool of shape ``shape``
        True on defect pixels. The array is Fortran-ordered (column-major,
        like the encoding).

    Raises
    ------
    RLEError
        If ``rle`` is malformed: a token that is not an integer, an odd
        number of values, a start below 1, a length below 1, unsorted or
        overlapping runs, a run past the last pixel, or a value that is
        neither a string nor missing. The message names the offending token
        or pair.

    See Also
    --------
    rle_encode : The inverse operation.
    RLEDecoder : Defect fractions and masks of a whole Severstal table.

    Notes
    -----
    With numba installed (``pip install "sksteel[fast]"``) a compiled
    decoder reads the text once and writes only the defect runs; otherwise
    numpy parses the text and builds the mask from the run lengths. Both
    give the same masks and the same errors.

    Examples
    --------
    >>> from sksteel.preprocessing import rle_decode
    >>> rle_decode("1 2 5 1", shape=(3, 2)).astype(int)
    array([[1, 0],
           [1, 1],
           [0, 0]])
    >>> int(rle_decode("37607 3 37858 8").sum())
    11
    >>> rle_decode(None, shape=(2, 2)).any()
    np.False_
    """
    height, width = _check_shape(shape)
    flat = np.zeros(height * width, dtype=bool)
    if not _decode_compiled(rle, flat):
        flat = _flat_mask(_parse_rle(rle, (height, width)))
    # Column-major pixels: a C-ordered (width, height) array, transposed.
    return flat.reshape(width, height).T


def rle_encode(mask):
    """Encode a binary mask as a run-length encoding.

    Parameters
    ----------
    mask : array-like of shape (height, width)
        Boolean mask, or numbers that are all 0 or 1.

    Returns
    -------
    rle : str
        Space-separated ``start length`` pairs (1-indexed starts, column-major
        pixel order, maximal runs); ``""`` for an empty mask.

    Raises
    ------
    ValueError
        If ``mask`` is not two-dimensional or holds values other than 0 and 1.

    See Also
    --------
    rle_decode : The inverse operation.

    Examples
    --------
    >>> import numpy as np
    >>> from sksteel.preprocessing import rle_encode
    >>> rle_encode(np.array([[1, 0], [1, 1], [0, 0]]))
    '1 2 5 1'
    >>> rle_encode(np.zeros((256, 1600), dtype=bool))
    ''
    """
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(
            "`mask` must be a two-dimensional (height, width) array; got an "
            f"array of shape {mask.shape}. Encode one mask (one class of one "
            "image) at a time."
        )
    if mask.dtype != bool:
        is_binary = (mask == 0) | (mask == 1)
        if not is_binary.all():
            bad = mask[~is_binary][0]
            raise ValueError(
                "`mask` must be boolean or hold only 0 and 1; got the value "
                f"{bad!r} (dtype {mask.dtype}). Threshold it first, e.g. "
                "`rle_encode(probabilities > 0.5)`."
            )
        mask = mask != 0
    padded = np.zeros(mask.size + 2, dtype=bool)
    padded[1:-1] = mask.ravel(order="F")
    # 1-indexed positions where a run starts or the pixel after it is.
    edges = np.flatnonzero(padded[1:] != padded[:-1]) + 1
    edges[1::2] -= edges[0::2]
    return " ".join(map(str, edges.tolist()))
