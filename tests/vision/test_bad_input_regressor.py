"""Property-based tests of DefectFractionRegressor on unusual tables of image
paths and unusual targets (bad image files are tested in test_regressor.py).

Every input either works, with fractions in [0, 1] for the right rows, or
raises a DataFormatError (a ValueError) that names the problem.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sksteel._schema import FRACTION_COLUMNS
from sksteel.datasets import load_severstal, make_steel_surfaces
from sksteel.exceptions import DataFormatError
from sksteel.preprocessing import RLEDecoder
from sksteel.vision import DefectFractionRegressor

#: One epoch of the smallest backbone on small images, without a validation
#: split: a fit takes about a second.
TINY = dict(
    backbone="resnet18",
    image_size=(32, 200),
    max_epochs=1,
    batch_size=4,
    early_stopping=False,
    random_state=0,
    verbose=0,
)
N_IMAGES = 6


#: Reproducible runs, no example database, no deadline (a fit varies in time).
FUZZ = settings(deadline=None, derandomize=True, database=None)

@pytest.fixture(scope="module")
def frame(tmp_path_factory):
    """Six generated surfaces, some of them defective."""
    root = make_steel_surfaces(
        n_images=N_IMAGES, random_state=0, data_home=tmp_path_factory.mktemp("data")
    )
    return load_severstal(root).frame


@pytest.fixture(scope="module")
def fractions(frame):
    """The true fractions of the surfaces, as a DataFrame."""
    return pd.DataFrame(
        RLEDecoder().fit_transform(frame), columns=list(FRACTION_COLUMNS)
    )


@pytest.fixture(scope="module")
def model(frame):
    return DefectFractionRegressor(**TINY).fit(frame)


@pytest.fixture(scope="module")
def expected(model, frame):
    """The model's fractions of every surface, in the table's order."""
    return model.predict(frame).to_numpy()


#: Ways to hand over image paths; each takes (paths, the table's rows).
CONTAINERS = {
    "list": lambda paths, rows: list(paths),
    "tuple": lambda paths, rows: tuple(paths),
    "object array": lambda paths, rows: np.array(paths, dtype=object),
    "str array": lambda paths, rows: np.array(paths, dtype=str),
    "Path list": lambda paths, rows: [Path(path) for path in paths],
    "Series": lambda paths, rows: pd.Series(paths, index=[f"r{i}" for i in rows]),
    "table": lambda paths, rows: None,  # the table's rows, see below
}


@settings(FUZZ, max_examples=20)
@given(
    rows=st.lists(st.integers(0, N_IMAGES - 1), min_size=1, max_size=4),
    container=st.sampled_from(list(CONTAINERS)),
    data=st.data(),
)
def test_bad_input_regressor_predict_any_container(
    model, frame, expected, rows, container, data
):
    """Check that one or several images, repeated or not, as a list, tuple,
    array, Series or table with its columns in any order, predict the
    fractions of those images with the container's index."""
    if container == "table":
        column_order = data.draw(st.permutations(range(len(frame.columns))))
        X = frame.iloc[rows, list(column_order)]
        index = X.index
    else:
        X = CONTAINERS[container](frame["image_path"].iloc[rows].tolist(), rows)
        index = X.index if container == "Series" else pd.RangeIndex(len(rows))
    predicted = model.predict(X)
    assert predicted.index.equals(index)
    np.testing.assert_allclose(predicted.to_numpy(), expected[rows], atol=1e-6)
    assert model.transform(X).shape == (len(rows), 512)


@settings(FUZZ, max_examples=25)
@given(
    bad=st.sampled_from([np.nan, None, pd.NA, 3, 2.5, True, b"surface.jpg"]),
    position=st.integers(0, N_IMAGES - 1),
    container=st.sampled_from(["list", "object array", "Series", "table"]),
    method=st.sampled_from(["fit", "predict", "transform"]),
)
def test_bad_input_regressor_non_path_entries_are_refused(
    model, frame, bad, position, container, method
):
    """Check that NaN, None, numbers or bytes among the paths are refused,
    naming the value, before anything is read or trained."""
    paths = frame["image_path"].tolist()
    paths[position] = bad
    if container == "table":
        X = frame.astype({"image_path": object}).assign(image_path=paths)
    else:
        X = CONTAINERS[container](paths, range(N_IMAGES))
    estimator = DefectFractionRegressor(**TINY) if method == "fit" else model
    with pytest.raises(DataFormatError, match="str or path-like; got 1 other"):
        getattr(estimator, method)(X)


@pytest.mark.parametrize(
    "make_X, match",
    [
        (lambda frame: [], "Found no images"),
        (lambda frame: np.array([], dtype=object), "Found no images"),
        (lambda frame: pd.Series([], dtype=object), "Found no images"),
        (lambda frame: frame.iloc[:0], "Found no images"),
        (lambda frame: frame["image_path"].iloc[0], "got str"),
        (lambda frame: {"image_path": list(frame["image_path"])}, "got dict"),
        (lambda frame: frame[["image_path"]].to_numpy(), "got an array of shape"),
        (lambda frame: frame.drop(columns="image_path"), "'image_path' column"),
        (
            lambda frame: pd.concat([frame, frame[["image_path"]]], axis=1),
            "got 2 columns of that name",
        ),
    ],
    ids=[
        "empty list", "empty array", "empty Series", "empty table", "one str",
        "dict", "2-d array", "no image_path", "two image_path",
    ],
)
@pytest.mark.parametrize("method", ["fit", "predict"])
def test_bad_input_regressor_unusable_tables(model, frame, make_X, match, method):
    """Check that empty input and things that are not tables of paths are
    refused with a DataFormatError saying what was expected."""
    estimator = DefectFractionRegressor(**TINY) if method == "fit" else model
    with pytest.raises(DataFormatError, match=match):
        getattr(estimator, method)(make_X(frame))


@st.composite
def bad_targets(draw, fractions):
    """True fractions with one problem, and the error it must raise."""
    y = fractions.to_numpy().copy()
    cell = (draw(st.integers(0, N_IMAGES - 1)), draw(st.integers(0, 3)))
    problem = draw(st.sampled_from(["nan", "outside", "shape", "text"]))
    if problem == "nan":
        y[cell] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
        return y, "NaN or inf value"
    if problem == "outside":
        y[cell] = draw(
            st.one_of(
                st.floats(1.001, 1e308), st.floats(-1e308, -1e-6),
                st.sampled_from([1e300, -1e-300, 2]),
            )
        )
        return y, "fractions in \\[0, 1\\]; got values from"
    if problem == "text":
        y = y.astype(object)
        y[cell] = draw(st.sampled_from(["0.1%", "high", ""]))
        return y, "cannot be read as numbers"
    shape = draw(st.sampled_from([(N_IMAGES,), (N_IMAGES - 1, 4), (N_IMAGES, 3),
                                  (N_IMAGES, 5), (N_IMAGES, 4, 1), (1, 4)]))
    return np.zeros(shape), "Expected `y` of shape \\(6, 4\\)"


@settings(FUZZ, max_examples=30)
@given(data=st.data())
def test_bad_input_regressor_bad_targets_are_refused(frame, fractions, data):
    """Check that NaN, infinite, out-of-range, non-numeric or wrongly shaped
    targets are refused before training, in fit and score."""
    y, match = data.draw(bad_targets(fractions))
    with pytest.raises(DataFormatError, match=match):
        DefectFractionRegressor(**TINY).fit(frame, y)


def test_bad_input_regressor_score_refuses_bad_targets(model, frame, fractions):
    """Check that score checks its targets like fit."""
    with pytest.raises(DataFormatError, match="NaN or inf"):
        model.score(frame, fractions.mask(fractions > 0))


@pytest.mark.parametrize(
    "convert",
    [
        lambda y: (y > 0).astype(np.int64).to_numpy(),
        lambda y: y.astype(np.float16).to_numpy().tolist(),
    ],
    ids=["int array", "float16 list of lists"],
)
def test_bad_input_regressor_target_types_work(frame, fractions, convert):
    """Check that integer and float16 targets, as arrays or lists, train."""
    model = DefectFractionRegressor(**TINY).fit(frame["image_path"], convert(fractions))
    predicted = model.predict(frame).to_numpy()
    assert np.isfinite(predicted).all()
    assert 0 <= predicted.min() <= predicted.max() <= 1


def test_bad_input_regressor_target_columns_matched_by_name(frame, fractions, expected):
    """Check that a DataFrame of fractions with its columns in another order
    trains the model the table's encodings train (same seed)."""
    y = fractions[list(FRACTION_COLUMNS[::-1])]
    model = DefectFractionRegressor(**TINY).fit(frame["image_path"], y)
    np.testing.assert_array_equal(model.predict(frame).to_numpy(), expected)


def test_bad_input_regressor_one_image(frame, expected):
    """Check that one image trains without early stopping and is refused,
    saying why, with it."""
    model = DefectFractionRegressor(**TINY).fit(frame.iloc[:1])
    predicted = model.predict(frame).to_numpy()
    assert np.isfinite(predicted).all() and 0 <= predicted.min() <= predicted.max() <= 1
    with pytest.raises(ValueError, match="holds out 1 of 1 image\\(s\\), leaving none"):
        DefectFractionRegressor(**{**TINY, "early_stopping": True}).fit(frame.iloc[:1])
