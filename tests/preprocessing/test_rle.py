"""Tests of the run-length codec: rle_decode and rle_encode."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sksteel._schema import IMAGE_SHAPE
from sksteel.exceptions import RLEError
from sksteel.preprocessing import rle_decode, rle_encode
from sksteel.preprocessing._rle import _parse_rle

N_PIXELS = IMAGE_SHAPE[0] * IMAGE_SHAPE[1]


@pytest.fixture(scope="module")
def real_encodings(severstal_dir):
    """Every encoding of the real subset's defect rows."""
    table = pd.read_csv(severstal_dir / "train_partial_defects.csv")
    return table["EncodedPixels"].tolist()


def _decode_by_hand(rle, shape):
    """Independent oracle: set each run's pixels one by one, row = p % height."""
    height, _ = shape
    mask = np.zeros(shape, dtype=bool)
    values = [int(v) for v in rle.split()]
    for start, length in zip(values[0::2], values[1::2]):
        for pixel in range(start - 1, start - 1 + length):
            mask[pixel % height, pixel // height] = True
    return mask


def test_rle_round_trip_all_real_encodings(real_encodings):
    """Check that encode(decode(s)) == s for every real Severstal encoding and
    that each mask has as many pixels as its run lengths add up to."""
    assert len(real_encodings) == 3689
    for rle in real_encodings:
        mask = rle_decode(rle)
        assert mask.shape == IMAGE_SHAPE
        assert np.count_nonzero(mask) == sum(map(int, rle.split()[1::2]))
        assert rle_encode(mask) == rle


def test_rle_decode_matches_pixel_by_pixel_oracle(real_encodings):
    """Check that decoding agrees, pixel for pixel, with a slow decoder that
    places each pixel by hand in column-major order."""
    for rle in real_encodings[::100]:
        np.testing.assert_array_equal(
            rle_decode(rle), _decode_by_hand(rle, IMAGE_SHAPE)
        )


@pytest.mark.parametrize(
    "rle, shape, pixels",
    [
        ("1 2", (3, 2), [(0, 0), (1, 0)]),
        ("3 2", (3, 2), [(2, 0), (0, 1)]),  # a run wraps into the next column
        ("4 3", (3, 2), [(0, 1), (1, 1), (2, 1)]),
        ("1 1 6 1", (3, 2), [(0, 0), (2, 1)]),
        ("2 1 5 1", (2, 3), [(1, 0), (0, 2)]),
        ("1 6", (3, 2), [(r, c) for r in range(3) for c in range(2)]),
        ("257 256", IMAGE_SHAPE, [(r, 1) for r in range(256)]),
    ],
)
def test_rle_decode_column_major_by_hand(rle, shape, pixels):
    """Check that pixels are counted top to bottom then left to right, from 1."""
    expected = np.zeros(shape, dtype=bool)
    expected[tuple(np.array(pixels).T)] = True
    np.testing.assert_array_equal(rle_decode(rle, shape=shape), expected)
    assert rle_encode(expected) == rle


@pytest.mark.parametrize(
    "missing", [None, np.nan, float("nan"), np.float32("nan"), pd.NA, "", "  ", "\n"]
)
def test_rle_decode_missing_is_empty_mask(missing):
    """Check that empty, blank and missing encodings give an empty mask."""
    mask = rle_decode(missing, shape=(4, 5))
    assert mask.shape == (4, 5) and mask.dtype == bool and not mask.any()


@pytest.mark.parametrize(
    "rle",
    ["  1 2  5 1 ", "1\t2\n5 1", "+1 2 5 +1", "0001 002 5 1"],
)
def test_rle_decode_accepts_loose_spelling(rle):
    """Check that extra blanks, tabs, signs and leading zeros decode like the
    canonical spelling."""
    np.testing.assert_array_equal(
        rle_decode(rle, shape=(3, 2)), rle_decode("1 2 5 1", shape=(3, 2))
    )


def test_rle_encode_empty_and_full_masks():
    """Check that an empty mask encodes to "" and a full mask to one run."""
    assert rle_encode(np.zeros(IMAGE_SHAPE, dtype=bool)) == ""
    assert rle_encode(np.ones(IMAGE_SHAPE, dtype=bool)) == f"1 {N_PIXELS}"


@pytest.mark.parametrize("dtype", [np.uint8, np.int64, np.float32])
def test_rle_encode_accepts_zero_one_numbers(dtype):
    """Check that 0/1 masks of any numeric dtype encode like boolean masks."""
    mask = np.array([[1, 0], [1, 1], [0, 0]], dtype=dtype)
    assert rle_encode(mask) == "1 2 5 1"


def test_rle_encode_c_and_fortran_order_agree():
    """Check that the memory layout of the mask does not change the encoding."""
    mask = rle_decode("3 7 20 4 33 2", shape=(5, 8))
    assert rle_encode(np.ascontiguousarray(mask)) == rle_encode(np.asfortranarray(mask))


@pytest.mark.parametrize(
    "mask, match",
    [
        (np.zeros((2, 3, 4), dtype=bool), r"two-dimensional.*\(2, 3, 4\)"),
        (np.zeros(5, dtype=bool), r"two-dimensional.*\(5,\)"),
        (np.array([[0, 2], [1, 0]]), r"only 0 and 1; got the value np.int64\(2\)"),
        (np.array([[0.5, 1.0]]), r"only 0 and 1.*Threshold"),
    ],
)
def test_rle_encode_rejects_bad_masks(mask, match):
    """Check that rle_encode rejects masks that are not 2-D and binary."""
    with pytest.raises(ValueError, match=match):
        rle_encode(mask)


@pytest.mark.parametrize(
    "rle, match",
    [
        ("1 2 3", r"odd number of values \(3\).*last start \(3\) has no length"),
        ("1 1.5", r"token at index 1 is '1\.5', not an integer"),
        ("1 2 abc 4", r"token at index 2 is 'abc', not an integer"),
        ("1 2 3e2 4", r"token at index 2 is '3e2'"),
        ("0 4", r"pair at index 0 \(`0 4`\) starts at 0; .* 1-indexed"),
        ("1 2 -3 4", r"pair at index 1 \(`-3 4`\) starts at -3"),
        ("5 0", r"pair at index 0 \(`5 0`\) has length 0; lengths must be >= 1"),
        ("1 1 5 -2", r"pair at index 1 \(`5 -2`\) has length -2"),
        ("10 5 12 3", r"pair at index 1 \(`12 3`\) overlaps .*`10 5`.* pixel 14"),
        ("10 5 3 3", r"pair at index 1 \(`3 3`\) does not start after .*sorted"),
        ("10 5 10 5", r"pair at index 1 \(`10 5`\) does not start after"),
        ("409600 2", r"ends at pixel 409601, past the last pixel 409600 of a 256 x"),
        ("1 409601", r"pair at index 0 \(`1 409601`\) ends at pixel 409601"),
        ("99999999999999999999999 1", r"ends at pixel 99999999999999999999999,"),
    ],
)
def test_rle_decode_rejects_bad_encodings(rle, match):
    """Check that each malformed encoding raises RLEError saying what is
    wrong and where."""
    with pytest.raises(RLEError, match=match):
        rle_decode(rle)


@pytest.mark.parametrize(
    "rle, kind", [(3.0, "float"), (5, "int"), (b"1 2", "bytes"), ([1, 2], "list")]
)
def test_rle_decode_rejects_non_strings(rle, kind):
    """Check that a value that is neither a string nor missing is rejected,
    with its type in the message."""
    with pytest.raises(RLEError, match=rf"expected a str .* got {kind}"):
        rle_decode(rle)


def test_rle_error_is_value_error():
    """Check that RLEError can be caught as a ValueError."""
    with pytest.raises(ValueError, match="odd number"):
        rle_decode("1")


@pytest.mark.parametrize("shape", [(256,), (0, 4), (2.0, 3), "256x1600", (True, 2)])
def test_rle_decode_rejects_bad_shape(shape):
    """Check that `shape` must be two positive integers."""
    with pytest.raises(ValueError, match=r"`shape` must be a pair of positive"):
        rle_decode("1 2", shape=shape)


def test_rle_decode_names_shape_when_run_too_long():
    """Check that a run past a small mask's end names that mask's size."""
    with pytest.raises(RLEError, match=r"past the last pixel 6 of a 3 x 2 mask"):
        rle_decode("5 3", shape=(3, 2))


@settings(max_examples=60, deadline=None)
@given(mask=arrays(bool, st.tuples(st.integers(1, 8), st.integers(1, 13))))
def test_rle_round_trip_random_small_masks(mask):
    """Check that decode(encode(mask)) == mask for random small masks."""
    np.testing.assert_array_equal(rle_decode(rle_encode(mask), shape=mask.shape), mask)


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), density=st.floats(0.0, 1.0))
def test_rle_round_trip_random_full_size_masks(seed, density):
    """Check the round trip on full-size random masks of any density."""
    mask = np.random.default_rng(seed).random(IMAGE_SHAPE) < density
    np.testing.assert_array_equal(rle_decode(rle_encode(mask)), mask)


@st.composite
def _run_lists(draw, n_pixels=8 * 13):
    """Sorted runs separated by at least one background pixel, as an encoding."""
    cuts = draw(st.lists(st.integers(1, n_pixels + 1), unique=True, max_size=30))
    cuts = sorted(cuts)[: len(cuts) - len(cuts) % 2]
    # Consecutive cuts are a run's start and the pixel after it; the cuts are
    # distinct, so a background pixel separates each run from the next.
    return " ".join(f"{a} {b - a}" for a, b in zip(cuts[0::2], cuts[1::2]))


@settings(max_examples=100, deadline=None)
@given(rle=_run_lists())
def test_rle_round_trip_random_run_lists(rle):
    """Check that encode(decode(s)) == s for random valid encodings, and that
    the mask agrees with the pixel-by-pixel oracle."""
    mask = rle_decode(rle, shape=(8, 13))
    np.testing.assert_array_equal(mask, _decode_by_hand(rle, (8, 13)))
    assert rle_encode(mask) == rle


@settings(max_examples=30, deadline=None)
@given(
    rle=_run_lists(),
    blanks=st.lists(st.sampled_from([" ", "  ", "\t", "\n", " \r\n"]), min_size=62),
)
def test_rle_parse_fast_and_careful_paths_agree(rle, blanks):
    """Check that the numpy parser (digits and blanks only) and the token
    parser (taken when a '+' sign appears) read the same runs."""
    tokens = rle.split()
    spaced = blanks[0] + "".join(t + b for t, b in zip(tokens, blanks[1:]))
    signed = " ".join("+" + t for t in tokens)
    expected = _parse_rle(rle, (8, 13))
    np.testing.assert_array_equal(_parse_rle(spaced, (8, 13)), expected)
    np.testing.assert_array_equal(_parse_rle(signed, (8, 13)), expected)
    assert expected.sum() == 8 * 13


@pytest.mark.parametrize("n_runs", [1, 2047, 2048, 5000])
def test_rle_decode_any_number_of_runs(n_runs):
    """Check that decoding is exact below, at and above the number of runs the
    decoder keeps a precomputed run pattern for."""
    starts = 1 + 3 * np.arange(n_runs)  # runs of 2 pixels, 1 pixel apart
    rle = " ".join(f"{start} 2" for start in starts)
    flat = rle_decode(rle).ravel(order="F")
    assert flat.sum() == 2 * n_runs
    np.testing.assert_array_equal(np.flatnonzero(flat[: 3 * n_runs] == 0), starts + 1)
    assert rle_encode(rle_decode(rle)) == rle
