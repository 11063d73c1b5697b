"""Tests of the compiled run-length decoder against the numpy path."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sksteel.exceptions import RLEError
from sksteel.preprocessing import RLEDecoder, _rle, rle_decode
from sksteel.preprocessing._rle_kernel import get_kernel

pytest.importorskip("numba")

SHAPE = (8, 13)


def _numpy_decode(rle, shape):
    """The numpy path of ``rle_decode``, without the compiled decoder."""
    return _rle._flat_mask(_rle._parse_rle(rle, shape)).reshape(shape[1], shape[0]).T


def _compiled(rle, n_pixels):
    """The flat mask from the compiled decoder, or None where it refuses."""
    flat = np.zeros(n_pixels, dtype=bool)
    return flat if _rle._decode_compiled(rle, flat) else None


def test_rle_kernel_is_used_when_numba_is_installed():
    """Check that the compiled decoder is found and that rle_decode goes
    through it for a plain encoding."""
    assert get_kernel() is not None
    flat = _compiled("2 3 9 1", 12)
    assert flat is not None
    np.testing.assert_array_equal(np.flatnonzero(flat), [1, 2, 3, 8])


@pytest.mark.parametrize("rle", ["1 2 5 1", "  3\t4\n10 2 ", "", "   "])
def test_rle_kernel_matches_numpy_path_by_hand(rle):
    """Check a few encodings, blanks of every kind included."""
    np.testing.assert_array_equal(
        _compiled(rle, 104).reshape(13, 8).T,
        _numpy_decode(rle, SHAPE),
    )


@pytest.mark.parametrize(
    "rle",
    ["1", "0 2", "1 0", "5 2 3 1", "5 2 6 1", "100 10", "99999999999999999999 1"],
)
def test_rle_kernel_refuses_what_numpy_path_rejects(rle):
    """Check that every malformed encoding is refused by the kernel and then
    rejected with the numpy path's message."""
    assert _compiled(rle, 104) is None
    with pytest.raises(RLEError, match="Invalid run-length encoding"):
        rle_decode(rle, shape=SHAPE)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    values=st.lists(st.integers(0, 120), max_size=12),
    blanks=st.lists(st.sampled_from([" ", "  ", "\t", "\n", " \r\n"]), min_size=13),
)
def test_rle_kernel_agrees_with_numpy_path_on_random_pairs(values, blanks):
    """Check that on random digit-and-blank encodings, valid or not, the
    kernel returns the numpy path's mask or refuses what it rejects."""
    rle = blanks[0] + "".join(
        f"{value}{blank}" for value, blank in zip(values, blanks[1:])
    )
    flat = _compiled(rle, 104)
    try:
        expected = _numpy_decode(rle, SHAPE)
    except RLEError:
        assert flat is None
    else:
        np.testing.assert_array_equal(flat.reshape(13, 8).T, expected)


def test_rle_kernel_agrees_on_all_real_encodings(severstal_dir):
    """Check both paths on every real encoding of the annotations."""
    table = pd.read_csv(severstal_dir / "train_partial_defects.csv", dtype=str)
    mismatches = [
        rle
        for rle in table["EncodedPixels"].dropna()
        if not np.array_equal(rle_decode(rle), _numpy_decode(rle, (256, 1600)))
    ]
    assert not mismatches, f"{len(mismatches)} encodings differ: {mismatches[:2]}"


def test_rle_decode_without_numba(monkeypatch):
    """Check that rle_decode falls back to numpy when numba is missing."""
    monkeypatch.setattr(_rle, "get_kernel", lambda: None)
    assert _compiled("1 2", 104) is None
    expected = [[True, False], [True, True], [False, False]]
    np.testing.assert_array_equal(rle_decode("1 2 5 1", shape=(3, 2)), expected)


def test_rle_decoder_iter_masks_same_with_and_without_numba(monkeypatch):
    """Check that RLEDecoder.iter_masks, which also goes through the compiled
    decoder, gives the numpy path's masks, and that a malformed cell still
    gets the numpy path's message naming the image and class."""
    table = pd.DataFrame(
        {"ImageId": ["a.jpg", "b.jpg"], "EncodedPixels_1": ["1 2 5 1", np.nan],
         "EncodedPixels_2": ["", "3 4"], "EncodedPixels_3": [np.nan, "9 2"],
         "EncodedPixels_4": ["2 1", np.nan]}
    )
    decoder = RLEDecoder(shape=(4, 3))
    compiled = list(decoder.iter_masks(table))
    monkeypatch.setattr(_rle, "get_kernel", lambda: None)
    np.testing.assert_array_equal(compiled, list(decoder.iter_masks(table)))
    monkeypatch.undo()
    table.loc[1, "EncodedPixels_2"] = "3 4 5 1"
    with pytest.raises(RLEError, match="image 'b.jpg', class 2.*overlaps"):
        list(decoder.iter_masks(table))
