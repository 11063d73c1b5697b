"""Fuzzing of the run-length decoders: rle_decode and RLEDecoder.

Every input is decoded by sksteel and by a slow reference decoder written
here from the format's definition. Either both accept it and agree pixel for
pixel, or the reference rejects it and sksteel raises an RLEError (a
ValueError) whose message starts with "Invalid run-length encoding". No
other exception is allowed.

The accepted syntax, as the reference states it: tokens separated by any
whitespace Python's ``str.split`` knows; each token an ASCII integer with an
optional sign (so ``+5`` is 5; unicode digits such as ``'١٢'``, decimals
and exponents are rejected); an even number of them, read as ``start
length`` pairs with starts >= 1, lengths >= 1, each run starting after the
previous one ends and ending at the last pixel at most.
"""

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sksteel._schema import ENCODED_COLUMNS, IMAGE_SHAPE
from sksteel.exceptions import RLEError
from sksteel.preprocessing import RLEDecoder, rle_decode

#: Deterministic hypothesis runs, sized for the test budget.
FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

SHAPE = (4, 5)

_ASCII_INTEGER = re.compile(r"[+-]?[0-9]+", flags=re.ASCII)


def _reference_decode(text, shape):
    """The mask of ``text``, or None when it is not a valid encoding."""
    tokens = text.split()
    if len(tokens) % 2 or not all(_ASCII_INTEGER.fullmatch(t) for t in tokens):
        return None
    height, width = shape
    flat = np.zeros(height * width, dtype=bool)
    last_end = 0
    for start, length in zip(map(int, tokens[0::2]), map(int, tokens[1::2])):
        end = start + length - 1
        if start < 1 or length < 1 or start <= last_end or end > flat.size:
            return None
        flat[start - 1 : end] = True
        last_end = end
    return flat.reshape(width, height).T


def _check_decode(text, shape=SHAPE):
    """Assert that rle_decode agrees with the reference on ``text``."""
    expected = _reference_decode(text, shape)
    if expected is None:
        with pytest.raises(RLEError, match="^Invalid run-length encoding"):
            rle_decode(text, shape)
    else:
        np.testing.assert_array_equal(rle_decode(text, shape), expected)


#: Pieces that stress the tokenizer: blanks of every kind, signs, decimals,
#: exponents, unicode digits, huge and negative numbers.
PIECES = [
    *"0123456789",
    " ",
    "  ",
    "\t",
    "\n",
    "\r\n",
    "\x0b",
    "\x0c",
    "\x1c",
    "\u00a0",
    "\u2028",
    "+",
    "-",
    ".",
    "e",
    "1.0",
    "1e3",
    "١٢",
    "\uff11",
    "0x1",
    "99999999999999999999999",
    str(2**63),
    "-1",
    "+0",
]


@settings(FUZZ, max_examples=400)
@given(text=st.lists(st.sampled_from(PIECES), max_size=14).map("".join))
def test_rle_decode_fuzz_tokenizer_pieces(text):
    """Check rle_decode against the reference on strings built from digits,
    blanks, signs, decimals, unicode digits and huge numbers."""
    _check_decode(text)


@settings(FUZZ, max_examples=150)
@given(text=st.text(max_size=40))
def test_rle_decode_fuzz_any_text(text):
    """Check rle_decode against the reference on arbitrary unicode text."""
    _check_decode(text)


@settings(FUZZ, max_examples=150)
@given(raw=st.binary(max_size=40), codec=st.sampled_from(["latin-1", "utf-8"]))
def test_rle_decode_fuzz_decoded_bytes(raw, codec):
    """Check rle_decode against the reference on random bytes read as text."""
    _check_decode(raw.decode(codec, errors="replace"))


@settings(FUZZ, max_examples=200)
@given(
    values=st.lists(st.integers(-3, 25) | st.integers(-(2**70), 2**70), max_size=8),
    separator=st.sampled_from([" ", "  ", "\t", "\n", " \r\n "]),
)
def test_rle_decode_fuzz_integer_lists(values, separator):
    """Check rle_decode against the reference on integer sequences of any
    sign, size and parity, joined by various blanks."""
    _check_decode(separator.join(map(str, values)))


@settings(FUZZ, max_examples=100)
@given(starts=st.sets(st.integers(1, 20), max_size=6), data=st.data())
def test_rle_decode_fuzz_valid_encodings(starts, data):
    """Check that valid encodings (sorted, disjoint runs) decode exactly,
    with leading and trailing blanks."""
    pairs = []
    ordered = sorted(starts)
    for start, following in zip(ordered, ordered[1:] + [21]):
        pairs += [start, data.draw(st.integers(1, following - start))]
    pad = data.draw(st.sampled_from(["", " ", "\n", "\t "]))
    text = pad + " ".join(map(str, pairs)) + pad
    assert _reference_decode(text, SHAPE) is not None
    _check_decode(text)


@pytest.mark.parametrize(
    "value",
    [b"1 2", 12, 1.5, np.int64(3), True, [1, 2], ("1", "2"), np.array([1, 2]), {}],
)
def test_rle_decode_non_strings(value):
    """Check that values that are neither strings nor missing are an RLEError
    naming their type."""
    with pytest.raises(RLEError, match=f"got {type(value).__name__}"):
        rle_decode(value, SHAPE)


@pytest.mark.parametrize("value", [None, np.nan, pd.NA, float("nan"), "", " \n\t "])
def test_rle_decode_missing_values_are_empty(value):
    """Check that missing values and blank strings decode to an empty mask."""
    assert not rle_decode(value, SHAPE).any()


@pytest.fixture(scope="module")
def real_encodings(severstal_dir):
    """A few short real encodings, and the longest one."""
    table = pd.read_csv(severstal_dir / "train_partial_defects.csv")
    encodings = table["EncodedPixels"]
    lengths = encodings.str.len()
    short = encodings[lengths.between(40, 90)].iloc[:4].tolist()
    return short + [encodings[lengths.idxmax()]]


def test_rle_decode_every_truncation_of_real_encodings(real_encodings):
    """Check every prefix of real encodings: each decodes like the reference
    (a cut that leaves whole pairs is a valid, smaller mask) or raises an
    RLEError."""
    *short, longest = real_encodings
    for rle in short:
        for cut in range(len(rle) + 1):
            _check_decode(rle[:cut], IMAGE_SHAPE)
    for cut in range(0, len(longest), 997):  # every length class, not every cut
        _check_decode(longest[:cut], IMAGE_SHAPE)


@settings(FUZZ, max_examples=60)
@given(data=st.data())
def test_rle_decoder_fuzz_tables(real_encodings, data):
    """Check that RLEDecoder, on tables of real encodings cut anywhere and of
    fuzzed text, returns the reference fractions or an RLEError naming the
    first bad cell's image and class; never another exception or NaN."""
    cells = st.one_of(
        st.sampled_from(real_encodings).flatmap(
            lambda rle: st.integers(0, len(rle)).map(lambda cut: rle[:cut])
        ),
        st.lists(st.sampled_from(PIECES), max_size=6).map("".join),
        st.sampled_from([None, np.nan, ""]),
    )
    n_rows = data.draw(st.integers(1, 3))
    table = np.empty(4 * n_rows, dtype=object)  # np.array would turn NaN into 'nan'
    table[:] = data.draw(st.lists(cells, min_size=4 * n_rows, max_size=4 * n_rows))
    table = table.reshape(n_rows, 4)
    ids = [f"cut{k}.jpg" for k in range(n_rows)]
    frame = pd.DataFrame(table, columns=ENCODED_COLUMNS).assign(ImageId=ids)
    masks = [
        _reference_decode("" if pd.isna(cell) else cell, IMAGE_SHAPE)
        for cell in table.flat
    ]
    bad = [k for k, mask in enumerate(masks) if mask is None]
    if bad:
        row, column = divmod(bad[0], 4)
        where = f"for image {ids[row]!r}, class {column + 1}"
        with pytest.raises(RLEError, match=re.escape(where)):
            RLEDecoder().fit_transform(frame)
    else:
        expected = np.reshape([mask.mean() for mask in masks], (n_rows, 4))
        np.testing.assert_allclose(RLEDecoder().fit_transform(frame), expected)
