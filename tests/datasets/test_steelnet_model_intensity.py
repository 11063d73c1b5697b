"""Tests of make_steelnet_dataset(intensity="model"): the defect fractions
behind the intensity predicted by an image model, cross-fitted or prefitted."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils._param_validation import InvalidParameterError

from sksteel._schema import FRACTION_COLUMNS, SENSOR_NAMES
from sksteel.datasets import load_severstal, make_steel_surfaces, make_steelnet_dataset
from sksteel.exceptions import DataFormatError, MissingImagesWarning
from sksteel.utils import single_threaded
from sksteel.vision import DefectFractionRegressor

#: A tiny image model: one epoch at 32 x 200 pixels, fast enough to fit twice.
TINY = dict(
    backbone="resnet18",
    image_size=(32, 200),
    max_epochs=1,
    early_stopping=False,
    batch_size=8,
    random_state=0,
    verbose=0,
)

#: 16 samples from the built-in surfaces (35 rendered images).
SIZES = dict(n_normal=8, n_per_class=2)

#: What the recording model predicts for an image it was not trained on.
UNSEEN = 0.5


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny models train fastest on one thread on the shared cores."""
    with single_threaded():
        yield


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A data home shared by the module, so the surfaces render once."""
    return tmp_path_factory.mktemp("model_intensity_home")


@pytest.fixture(scope="module")
def cross_fitted(home):
    """The built-in surfaces with intensities from a cross-fitted tiny model."""
    model = DefectFractionRegressor(**TINY)
    data = make_steelnet_dataset(
        **SIZES, intensity="model", fraction_model=model, data_home=home
    )
    return data, model


class RecordingRegressor(RegressorMixin, BaseEstimator):
    """Predicts, for an image it was trained on, its training target; for any
    other image ``[UNSEEN, share of defective training images, -0.2, 1.5]``.

    The builder clips the last two to 0 and 1. ``output`` = "wrong shape" or
    "nan" makes ``predict`` misbehave.
    """

    def __init__(self, output="fractions"):
        self.output = output

    def fit(self, X, y):
        y = np.asarray(y, dtype=float)
        self.targets_ = dict(zip(X["image_path"], y))
        self.defective_share_ = float((y.sum(axis=1) > 0).mean())
        return self

    def predict(self, X):
        unseen = [UNSEEN, self.defective_share_, -0.2, 1.5]
        rows = [self.targets_.get(path, unseen) for path in X["image_path"]]
        if self.output == "wrong shape":
            return np.asarray(rows)[:, :3]
        if self.output == "nan":
            return np.full((len(rows), len(FRACTION_COLUMNS)), np.nan)
        return pd.DataFrame(rows, columns=list(FRACTION_COLUMNS), index=X.index)


@pytest.fixture
def table(tmp_path):
    """A Severstal table of 16 defect-free images and 3 per defect class, with
    empty image files (the recording model never reads them)."""
    encodings = [None] * 16 + [f"{1 + 40 * i} {10 + i}" for i in range(12)]
    classes = [0] * 16 + [1, 2, 3, 4] * 3
    rows = []
    for i, (encoding, label) in enumerate(zip(encodings, classes)):
        path = tmp_path / f"{i:09x}.jpg"
        path.touch()
        row = {"ImageId": path.name, "image_path": str(path)}
        for c in range(1, 5):
            row[f"EncodedPixels_{c}"] = encoding if c == label else None
        rows.append(row)
    return pd.DataFrame(rows)


def test_model_intensity_frame(cross_fitted):
    """Check the columns, the composition, fractions in [0, 1], and that
    defect-free samples keep fractions and intensity 0 while defective ones
    get a positive intensity."""
    data, _ = cross_fitted
    frame = data.frame
    assert list(frame.columns) == [
        "image_id", "defect_class", *FRACTION_COLUMNS, "intensity", *SENSOR_NAMES
    ]
    assert data.target.value_counts().sort_index().tolist() == [8, 2, 2, 2, 2]
    fractions = frame[list(FRACTION_COLUMNS)].to_numpy()
    assert ((fractions >= 0) & (fractions <= 1)).all()
    clean = frame["defect_class"].to_numpy() == 0
    assert (fractions[clean] == 0).all()
    assert (frame["intensity"][clean] == 0).all()
    assert frame["intensity"][~clean].between(0, 1, inclusive="right").all()
    assert data.intensity_source.startswith("predicted by DefectFractionRegressor")
    assert "cross-fitted" in data.intensity_source
    assert data.intensity_source in " ".join(data.DESCR.split())


def test_model_intensity_leaves_the_given_model_unfitted(cross_fitted):
    """Check that cross-fitting trains clones, not the estimator passed in."""
    _, model = cross_fitted
    assert not hasattr(model, "net_")


def test_model_intensity_same_samples_as_masks(cross_fitted, home):
    """Check that the image model changes only the fractions (and what
    follows from them): same images and classes as with the masks, other
    fractions for the defective samples."""
    data, _ = cross_fitted
    masks = make_steelnet_dataset(**SIZES, data_home=home).frame
    pd.testing.assert_series_equal(data.frame["image_id"], masks["image_id"])
    pd.testing.assert_series_equal(data.frame["defect_class"], masks["defect_class"])
    defective = masks["defect_class"] > 0
    predicted = data.frame.loc[defective, list(FRACTION_COLUMNS)].to_numpy()
    true = masks.loc[defective, list(FRACTION_COLUMNS)].to_numpy()
    assert not np.allclose(predicted, true)


def test_model_intensity_deterministic(cross_fitted, home):
    """Check that the same random_state gives an identical data set."""
    data, model = cross_fitted
    again = make_steelnet_dataset(
        **SIZES, intensity="model", fraction_model=model, data_home=home
    )
    pd.testing.assert_frame_equal(again.frame, data.frame)


def test_model_intensity_default_model(home):
    """Check that without `fraction_model` a small DefectSegmenter is trained,
    seeded from random_state (an int, so the data set is reproducible), and
    that the data set card names it."""
    data = make_steelnet_dataset(**SIZES, intensity="model", data_home=home)
    source = data.intensity_source
    assert source.startswith("predicted by DefectSegmenter(encoder_name='resnet18'")
    assert re.search(r"max_epochs=3, random_state=\d+, verbose=0\)", source)
    assert "DefectSegmenter" in data.DESCR
    fractions = data.frame[list(FRACTION_COLUMNS)].to_numpy()
    assert ((fractions >= 0) & (fractions <= 1)).all()


def test_model_intensity_regressor_by_name(home):
    """Check that fraction_model='regressor' trains the paper's regression
    head instead, and that the card says so."""
    data = make_steelnet_dataset(
        **SIZES, intensity="model", fraction_model="regressor", data_home=home
    )
    source = data.intensity_source
    assert source.startswith(
        "predicted by DefectFractionRegressor(backbone='resnet18'"
    )
    assert "DefectFractionRegressor" in data.DESCR


def test_model_intensity_prefitted_model_predicts_the_fractions(home):
    """Check that a fitted model is used as it is: the fractions of the
    defective samples are its predictions for their images."""
    root = make_steel_surfaces(n_images=40, data_home=home, random_state=3)
    source = load_severstal(root).frame
    model = DefectFractionRegressor(**TINY).fit(source.iloc[:16])
    data = make_steelnet_dataset(
        source, n_normal=6, n_per_class=2, intensity="model", fraction_model=model
    )
    frame = data.frame
    defective = frame["defect_class"].to_numpy() > 0
    paths = source.set_index("ImageId").loc[frame["image_id"], ["image_path"]]
    expected = model.predict(paths[defective]).clip(0, 1).to_numpy()
    np.testing.assert_allclose(frame.loc[defective, list(FRACTION_COLUMNS)], expected)
    assert data.intensity_source.startswith("predicted by the given fitted")


@pytest.mark.parametrize("fraction_cv", [2, 3])
def test_model_intensity_is_out_of_fold(table, fraction_cv):
    """Check that no image is predicted by a model trained on it, that each
    model trains on as many defect-free as defective images, and that the
    predictions are clipped to [0, 1]."""
    data = make_steelnet_dataset(
        table, n_normal=15, n_per_class=3, intensity="model",
        fraction_model=RecordingRegressor(), fraction_cv=fraction_cv,
    )
    frame = data.frame
    defective = frame["defect_class"].to_numpy() > 0
    fractions = frame[list(FRACTION_COLUMNS)].to_numpy()
    np.testing.assert_array_equal(
        fractions[defective], np.tile([UNSEEN, 0.5, 0.0, 1.0], (12, 1))
    )
    assert (fractions[~defective] == 0).all()
    assert f"into {fraction_cv} folds" in data.intensity_source


def test_model_intensity_prefitted_model_is_not_refitted(table):
    """Check that a fitted model is not trained again on the samples: every
    image is new to it."""
    model = RecordingRegressor().fit(table.iloc[:4], np.ones((4, 4)) * 0.1)
    data = make_steelnet_dataset(
        table, n_normal=4, n_per_class=1, intensity="model", fraction_model=model
    )
    defective = data.frame["defect_class"] > 0
    assert (data.frame.loc[defective, "defect_fraction_1"] == UNSEEN).all()
    assert (data.frame.loc[defective, "defect_fraction_2"] == 1.0).all()


def test_model_intensity_leaves_out_missing_images(table):
    """Check that rows whose image is not on disk are left out with a
    warning, before the sampling."""
    for path in table["image_path"][:3]:
        Path(path).unlink()
    with pytest.warns(MissingImagesWarning, match="3 of 28 images"):
        data = make_steelnet_dataset(
            table, n_normal=13, n_per_class=3, intensity="model",
            fraction_model=RecordingRegressor(),
        )
    assert not set(table["ImageId"][:3]) & set(data.frame["image_id"])
    with pytest.warns(MissingImagesWarning), pytest.raises(
        ValueError, match=r"class 0 \(none\): 14 wanted, 13 available"
    ):
        make_steelnet_dataset(
            table, n_normal=14, n_per_class=3, intensity="model",
            fraction_model=RecordingRegressor(),
        )


@pytest.mark.parametrize(
    "params, error, match",
    [
        (
            {"fraction_model": RecordingRegressor()},
            ValueError,
            "only used with intensity='model'.*got intensity='masks'",
        ),
        (
            {"intensity": "model", "fraction_model": "resnet18"},
            InvalidParameterError,
            "'fraction_model' parameter.*'fit' and 'predict'",
        ),
        ({"intensity": "pixels"}, InvalidParameterError, "'intensity' parameter"),
        (
            {"intensity": "model", "fraction_cv": 1},
            InvalidParameterError,
            "'fraction_cv' parameter",
        ),
        (
            {"intensity": "model", "n_per_class": 2, "fraction_cv": 3},
            ValueError,
            "fraction_cv=3 folds needs at least 3 samples.*n_per_class=2",
        ),
        (
            {"intensity": "model", "fraction_model": RecordingRegressor("nan")},
            DataFormatError,
            "NaN or infinite fractions for 4 image",
        ),
        (
            {"intensity": "model", "fraction_model": RecordingRegressor("wrong shape")},
            DataFormatError,
            r"shape \(4, 4\); got shape \(4, 3\)",
        ),
    ],
)
def test_model_intensity_bad_parameters(table, params, error, match):
    """Check that unusable settings and image models are clear errors."""
    with pytest.raises(error, match=match):
        make_steelnet_dataset(table, **{"n_normal": 8, "n_per_class": 2, **params})


def test_model_intensity_needs_image_paths(table):
    """Check that a source table without image paths is a clear error."""
    with pytest.raises(DataFormatError, match="no 'image_path' column"):
        make_steelnet_dataset(
            table.drop(columns="image_path"), n_normal=8, n_per_class=2,
            intensity="model", fraction_model=RecordingRegressor(),
        )
