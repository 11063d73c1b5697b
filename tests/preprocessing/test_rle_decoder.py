"""Tests of RLEDecoder, the per-class defect fraction transformer."""

import inspect
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from sksteel._schema import ENCODED_COLUMNS, FRACTION_COLUMNS, IMAGE_SHAPE
from sksteel.exceptions import DataFormatError, RLEError
from sksteel.preprocessing import RLEDecoder, rle_decode


@pytest.fixture(scope="module")
def real_table(severstal_dir):
    """The real defect rows as one row per image (NaN = class absent)."""
    long = pd.read_csv(severstal_dir / "train_partial_defects.csv")
    wide = long.pivot(index="ImageId", columns="ClassId", values="EncodedPixels")
    wide.columns = [ENCODED_COLUMNS[c - 1] for c in wide.columns]
    wide = wide.reindex(columns=list(ENCODED_COLUMNS)).reset_index()
    wide["has_defect"] = True  # an extra column, to be ignored
    return wide


@pytest.fixture(scope="module")
def real_fractions(real_table):
    """The fractions the decoder returns on the real table."""
    return RLEDecoder().fit_transform(real_table)


def _toy_table():
    """Three images of 3 x 4 pixels; row 1 has no defect."""
    return pd.DataFrame(
        {
            "ImageId": ["a.jpg", "b.jpg", "c.jpg"],
            "EncodedPixels_1": ["1 3", np.nan, "2 2 9 4"],
            "EncodedPixels_2": [None, "", np.nan],
            "EncodedPixels_3": ["5 2", pd.NA, "1 12"],
            "EncodedPixels_4": [np.nan, np.nan, "12 1"],
        }
    )


_TOY_FRACTIONS = np.array(
    [[3 / 12, 0, 2 / 12, 0], [0, 0, 0, 0], [6 / 12, 0, 1, 1 / 12]], dtype=float
)


def test_rle_decoder_toy_fractions():
    """Check the fractions of a hand-made table, worked out by hand."""
    fractions = RLEDecoder(shape=(3, 4)).fit_transform(_toy_table())
    assert fractions.dtype == np.float64
    np.testing.assert_allclose(fractions, _TOY_FRACTIONS)


def test_rle_decoder_fractions_are_run_length_sums(real_table, real_fractions):
    """Check every real fraction against the sum of its run lengths."""
    for j, column in enumerate(ENCODED_COLUMNS):
        expected = [
            0.0 if pd.isna(rle) else sum(map(int, rle.split()[1::2])) / 409600
            for rle in real_table[column]
        ]
        np.testing.assert_allclose(real_fractions[:, j], expected, rtol=1e-12)
    assert ((real_fractions >= 0) & (real_fractions <= 1)).all()
    assert (real_fractions.sum(axis=1) > 0).all()  # defect rows only


def test_rle_decoder_fractions_equal_mask_means(real_table, real_fractions):
    """Check that the fractions equal the means of the decoded masks."""
    rows = real_table.iloc[::20]
    means = [
        [mask.mean() for mask in image_masks]
        for image_masks in RLEDecoder().iter_masks(rows)
    ]
    np.testing.assert_allclose(means, real_fractions[::20], rtol=1e-12)


def test_rle_decoder_iter_masks_match_rle_decode(real_table):
    """Check that iter_masks yields each class's rle_decode mask, lazily."""
    rows = real_table.iloc[:20]
    masks = RLEDecoder().iter_masks(rows)
    assert inspect.isgenerator(masks)
    for (_, row), image_masks in zip(rows.iterrows(), masks):
        assert image_masks.shape == (len(ENCODED_COLUMNS), *IMAGE_SHAPE)
        assert image_masks.dtype == bool
        for mask, column in zip(image_masks, ENCODED_COLUMNS):
            np.testing.assert_array_equal(mask, rle_decode(row[column]))


def test_rle_decoder_pandas_output(real_table):
    """Check set_output(transform="pandas"): names, index and dtype."""
    table = real_table.iloc[:50].set_index("ImageId")
    out = RLEDecoder().set_output(transform="pandas").fit_transform(table)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(FRACTION_COLUMNS)
    assert out.index.equals(table.index)
    assert (out.dtypes == np.float64).all()


def test_rle_decoder_feature_names():
    """Check the names recorded in fit and returned by get_feature_names_out."""
    decoder = RLEDecoder(shape=(3, 4)).fit(_toy_table())
    assert decoder.n_features_in_ == len(ENCODED_COLUMNS)
    assert list(decoder.feature_names_in_) == list(ENCODED_COLUMNS)
    assert list(decoder.get_feature_names_out()) == list(FRACTION_COLUMNS)
    assert list(decoder.get_feature_names_out(ENCODED_COLUMNS)) == list(
        FRACTION_COLUMNS
    )
    with pytest.raises(ValueError, match="input_features is not equal"):
        decoder.get_feature_names_out(["a", "b", "c", "d"])


def test_rle_decoder_ignores_extra_columns_and_their_order():
    """Check that extra columns and column order do not change the output."""
    table = _toy_table()
    shuffled = table[list(table.columns[::-1])].assign(notes="x", score=1.0)
    decoder = RLEDecoder(shape=(3, 4)).fit(table)
    np.testing.assert_array_equal(decoder.transform(shuffled), decoder.transform(table))


@pytest.mark.parametrize("as_list", [False, True])
def test_rle_decoder_accepts_four_column_arrays(as_list):
    """Check that a 4-column array (or list of rows) is read in class order."""
    cells = _toy_table()[list(ENCODED_COLUMNS)].to_numpy(dtype=object)
    X = cells.tolist() if as_list else cells
    fractions = RLEDecoder(shape=(3, 4)).fit_transform(X)
    np.testing.assert_allclose(fractions, _TOY_FRACTIONS)


def test_rle_decoder_is_stateless():
    """Check that transform works without fit, fit returns self and refitting
    changes nothing."""
    table = _toy_table()
    unfitted = RLEDecoder(shape=(3, 4))
    np.testing.assert_allclose(unfitted.transform(table), _TOY_FRACTIONS)
    assert not hasattr(unfitted, "n_features_in_")
    decoder = RLEDecoder(shape=(3, 4))
    assert decoder.fit(table) is decoder
    first = decoder.transform(table)
    np.testing.assert_array_equal(decoder.fit(table).transform(table), first)
    np.testing.assert_array_equal(decoder.fit_transform(table, y=[0, 1, 2]), first)


def test_rle_decoder_fit_leaves_dict():
    """Check that fit only adds trailing-underscore attributes and transform
    adds none."""
    decoder = RLEDecoder(shape=(3, 4))
    before = dict(decoder.__dict__)
    decoder.fit(_toy_table())
    added = set(decoder.__dict__) - set(before)
    assert added == {"n_features_in_", "feature_names_in_"}
    assert decoder.shape == before["shape"]
    fitted = dict(decoder.__dict__)
    decoder.transform(_toy_table())
    assert decoder.__dict__.keys() == fitted.keys()


def test_rle_decoder_pickle_and_clone():
    """Check that a pickled or cloned decoder gives the same output."""
    decoder = RLEDecoder(shape=(3, 4)).fit(_toy_table())
    restored = pickle.loads(pickle.dumps(decoder))
    np.testing.assert_array_equal(
        restored.transform(_toy_table()), decoder.transform(_toy_table())
    )
    assert clone(decoder).get_params() == {"shape": (3, 4)}


def test_rle_decoder_row_order_and_subsets(real_table, real_fractions):
    """Check that each row's output depends on that row only."""
    order = np.random.default_rng(0).permutation(len(real_table))[:300]
    np.testing.assert_array_equal(
        RLEDecoder().transform(real_table.iloc[order]), real_fractions[order]
    )


def test_rle_decoder_single_image():
    """Check that a one-row table works."""
    fractions = RLEDecoder(shape=(3, 4)).fit_transform(_toy_table().iloc[[2]])
    np.testing.assert_allclose(fractions, _TOY_FRACTIONS[[2]])


def test_rle_decoder_in_pipeline(real_table):
    """Check the decoder as a pipeline step, with pandas output throughout."""
    pipe = make_pipeline(RLEDecoder(), StandardScaler()).set_output(transform="pandas")
    out = pipe.fit_transform(real_table.iloc[:100])
    assert list(out.columns) == list(FRACTION_COLUMNS)
    np.testing.assert_allclose(out.mean(), 0.0, atol=1e-12)


def test_rle_decoder_missing_columns_error():
    """Check that missing encoding columns are named, with the expected layout."""
    table = _toy_table().drop(columns=["EncodedPixels_2", "EncodedPixels_4"])
    with pytest.raises(
        DataFormatError,
        match=r"lacks \['EncodedPixels_2', 'EncodedPixels_4'\] .*one row per image",
    ):
        RLEDecoder().fit(table)


@pytest.mark.parametrize("n_columns", [3, 5])
def test_rle_decoder_wrong_number_of_array_columns(n_columns):
    """Check that an array must have exactly one column per class."""
    X = np.full((2, n_columns), "", dtype=object)
    with pytest.raises(DataFormatError, match=rf"needs 4 columns.*got {n_columns}"):
        RLEDecoder().transform(X)


def test_rle_decoder_rejects_1d_input():
    """Check that a single row passed as a 1-D array is rejected."""
    with pytest.raises(ValueError, match="Expected 2D array"):
        RLEDecoder().fit_transform(np.array(["1 2", "", "", ""], dtype=object))


def test_rle_decoder_error_names_image_and_class(real_table):
    """Check that a bad encoding in a real table names its image and class."""
    table = real_table.copy()
    image = table.loc[7, "ImageId"]
    table.loc[7, "EncodedPixels_3"] = "37607 3 37858 8 4"
    with pytest.raises(
        RLEError,
        match=(
            rf"for image '{image}', class 3 \(column 'EncodedPixels_3'\): odd "
            r"number of values \(5\)"
        ),
    ):
        RLEDecoder().transform(table)


def test_rle_decoder_error_names_row_without_ids():
    """Check that without an ImageId column the row number is named."""
    X = _toy_table()[list(ENCODED_COLUMNS)].to_numpy(dtype=object)
    X[1, 1] = 1.5
    with pytest.raises(RLEError, match=r"for row 1, class 2 .*got float 1\.5"):
        RLEDecoder(shape=(3, 4)).transform(X)


def test_rle_decoder_iter_masks_fails_at_the_bad_image():
    """Check that iter_masks yields the good images before a bad one and then
    raises for it."""
    table = _toy_table()
    table.loc[2, "EncodedPixels_4"] = "12 5"
    masks = RLEDecoder(shape=(3, 4)).iter_masks(table)
    assert next(masks)[0].sum() == 3 and not next(masks).any()
    with pytest.raises(RLEError, match=r"image 'c.jpg', class 4.*past the last"):
        next(masks)


def test_rle_decoder_iter_masks_checks_columns_at_once():
    """Check that a table without the encoding columns fails on the call, not
    on the first iteration."""
    with pytest.raises(DataFormatError, match="lacks"):
        RLEDecoder().iter_masks(pd.DataFrame({"ImageId": ["a.jpg"]}))


@pytest.mark.parametrize(
    "shape, error, match",
    [
        ("256x1600", InvalidParameterError, "'shape' parameter of RLEDecoder"),
        ((256, 0), ValueError, "`shape` must be a pair of positive integers"),
        ((256,), ValueError, "`shape` must be a pair of positive integers"),
    ],
)
def test_rle_decoder_bad_shape(shape, error, match):
    """Check that an invalid `shape` is reported by fit."""
    with pytest.raises(error, match=match):
        RLEDecoder(shape=shape).fit(_toy_table())


def test_rle_decoder_bad_shape_without_fit():
    """Check that the stateless transform validates `shape` too."""
    with pytest.raises(ValueError, match="`shape` must be a pair"):
        RLEDecoder(shape=(0, 3)).transform(_toy_table())
