"""Tests of DefectFractionRegressor: fitting on generated surfaces, outputs,
determinism, bad files and the sklearn API."""

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torchvision
from PIL import Image
from sklearn.base import clone
from sklearn.metrics import r2_score
from sklearn.model_selection import cross_val_score
from sklearn.utils._param_validation import InvalidParameterError

from sksteel._schema import FRACTION_COLUMNS
from sksteel.datasets import load_severstal, make_steel_surfaces
from sksteel.exceptions import DataFormatError, ImageReadError, ImageReadWarning
from sksteel.preprocessing import RLEDecoder
from sksteel.vision import DefectFractionRegressor, predict_fractions

#: Cheap settings: the whole file must stay within the test budget.
CHEAP = dict(
    backbone="resnet18",
    image_size=(32, 200),
    max_epochs=2,
    batch_size=8,
    random_state=0,
    verbose=0,
)

#: Cheaper still, for tests that fit several times.
SMALL = {**CHEAP, "max_epochs": 1}


def with_params(model, **params):
    """A copy of fitted `model` with inference-only `params` changed, no refit."""
    copy = clone(model).set_params(**params)
    for name, value in vars(model).items():
        if name.endswith("_") and not name.startswith("_"):
            setattr(copy, name, value)
    return copy


@pytest.fixture(scope="module")
def frame():
    """24 generated surfaces, half of them defective."""
    return load_severstal(make_steel_surfaces(n_images=24, random_state=0)).frame


@pytest.fixture(scope="module")
def model(frame):
    return DefectFractionRegressor(**CHEAP).fit(frame)


@pytest.fixture(scope="module")
def small_model(frame):
    return DefectFractionRegressor(**SMALL).fit(frame.iloc[:12])


@pytest.fixture(scope="module")
def grey_image(tmp_path_factory, frame):
    """A grayscale copy of the first surface."""
    path = tmp_path_factory.mktemp("grey") / "grey.png"
    Image.open(frame["image_path"].iloc[0]).convert("L").save(path)
    return str(path)


def test_regressor_predict_frame(model, frame):
    """Check that predictions are a DataFrame of fractions aligned with X."""
    predicted = model.predict(frame)
    assert list(predicted.columns) == list(FRACTION_COLUMNS)
    assert predicted.index.equals(frame.index)
    values = predicted.to_numpy()
    assert values.dtype == np.float64
    assert np.isfinite(values).all() and values.min() >= 0 and values.max() <= 1


def test_regressor_fitted_attributes(model, frame):
    """Check the fitted state: net, colour, epochs and best validation loss."""
    assert model.image_colour_ == "RGB" and model.net_.device == "cpu"
    assert model.image_size_ == CHEAP["image_size"]
    assert 1 <= model.n_iter_ <= CHEAP["max_epochs"]
    valid_losses = model.net_.history[:, "valid_loss"]
    assert model.validation_loss_ == pytest.approx(min(valid_losses))
    # 10 % of 24 images are held out: 3 validation, 21 training images
    batches = model.net_.history[-1, "batches"]
    assert sum(b.get("train_batch_size", 0) for b in batches) == 21
    assert sum(b.get("valid_batch_size", 0) for b in batches) == 3


def test_regressor_paths_give_same_predictions(model, frame):
    """Check that a list or Series of paths predicts as the table does."""
    expected = model.predict(frame).to_numpy()
    from_list = model.predict(frame["image_path"].tolist())
    np.testing.assert_array_equal(from_list.to_numpy(), expected)
    assert from_list.index.equals(pd.RangeIndex(len(frame)))
    series = frame["image_path"].set_axis(frame["ImageId"])
    assert model.predict(series).index.equals(pd.Index(frame["ImageId"]))


def test_regressor_transform_features(model, frame):
    """Check the pooled features: shape, names and pandas output."""
    features = model.transform(frame)
    assert features.shape == (len(frame), 512) and features.dtype == np.float32
    names = model.get_feature_names_out()
    assert names[0] == "embedding_0" and len(names) == 512
    table = with_params(model).set_output(transform="pandas").transform(frame)
    assert list(table.columns) == list(names) and table.index.equals(frame.index)
    np.testing.assert_array_equal(table.to_numpy(), features)


def test_regressor_score_is_r2(model, frame):
    """Check that score is the R^2 of the predictions against the mask fractions."""
    expected = r2_score(RLEDecoder().fit_transform(frame), model.predict(frame))
    assert model.score(frame) == pytest.approx(expected)


def test_regressor_deterministic(small_model, frame, capsys):
    """Check that the same random_state gives identical predictions, another
    not, and that only ``verbose`` prints."""
    small = frame.iloc[:12]
    again = DefectFractionRegressor(**{**SMALL, "verbose": 1}).fit(small)
    assert "valid_loss" in capsys.readouterr().out
    np.testing.assert_array_equal(again.predict(small), small_model.predict(small))
    other = DefectFractionRegressor(**{**SMALL, "random_state": 1}).fit(small)
    assert not np.allclose(other.predict(small), small_model.predict(small))
    assert capsys.readouterr() == ("", "")


def test_regressor_fit_skips_bad_images_with_warning(frame):
    """Check that ``on_error='warn'`` trains on the usable images only."""
    broken = frame.iloc[:12].copy()
    broken.loc[broken.index[0], "image_path"] = "/nowhere/lost.jpg"
    model = DefectFractionRegressor(**{**SMALL, "on_error": "warn"})
    with pytest.warns(ImageReadWarning, match="1 of 12 .*lost.jpg"):
        model.fit(broken)
    batches = model.net_.history[-1, "batches"]
    seen = sum(
        b.get("train_batch_size", 0) + b.get("valid_batch_size", 0) for b in batches
    )
    assert seen == 11


def test_regressor_workers_predict_the_same(small_model, frame):
    """Check that reading images in worker processes changes no prediction."""
    small = frame.iloc[:12]
    workers = with_params(small_model, num_workers=2)
    np.testing.assert_array_equal(workers.predict(small), small_model.predict(small))


def test_regressor_leaves_global_torch_rng_alone(frame):
    """Check that fitting neither reads nor advances torch's global generator."""
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    DefectFractionRegressor(**{**CHEAP, "max_epochs": 1}).fit(frame.iloc[:10])
    torch.testing.assert_close(torch.rand(3), expected)


def test_regressor_explicit_targets(frame):
    """Check that `y` can be given, which a list of paths needs."""
    y = RLEDecoder().fit_transform(frame)
    model = DefectFractionRegressor(**{**CHEAP, "early_stopping": False})
    model.fit(frame["image_path"].tolist(), y)
    assert model.validation_loss_ is None and model.n_iter_ == CHEAP["max_epochs"]


@pytest.mark.parametrize(
    "y, match",
    [
        (np.zeros((24, 3)), r"shape \(24, 4\).*got shape \(24, 3\)"),
        (np.full((24, 4), 1.5), r"fractions in \[0, 1\]"),
        (np.full((24, 4), np.nan), "NaN or inf"),
    ],
)
def test_regressor_rejects_bad_targets(frame, y, match):
    """Check that targets of the wrong shape or out of [0, 1] are refused."""
    with pytest.raises(DataFormatError, match=match):
        DefectFractionRegressor(**CHEAP).fit(frame, y)


def test_regressor_needs_targets_for_paths(frame):
    """Check that paths alone, without encodings or `y`, are refused."""
    with pytest.raises(DataFormatError, match="No targets"):
        DefectFractionRegressor(**CHEAP).fit(frame["image_path"].tolist())


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"image_size": (16, 100)}, ValueError, "two integers >= 32"),
        ({"image_size": (32, 200, 3)}, ValueError, "two integers >= 32"),
        ({"backbone": "vgg16"}, InvalidParameterError, "backbone"),
        ({"on_error": "ignore"}, InvalidParameterError, "on_error"),
        ({"validation_fraction": 0.99}, ValueError, "leaving none to train"),
    ],
)
def test_regressor_rejects_bad_params(frame, params, error, match):
    """Check that invalid parameters fail in fit with a clear message."""
    with pytest.raises(error, match=match):
        DefectFractionRegressor(**{**CHEAP, **params}).fit(frame.iloc[:4])


def test_regressor_missing_image_raises_with_name(model, frame):
    """Check that a missing file in X is an error naming it, by default."""
    broken = frame.copy()
    broken.loc[broken.index[3], "image_path"] = "/nowhere/lost.jpg"
    with pytest.raises(ImageReadError, match=r"1 of 24 .*lost.jpg.*file not found"):
        model.predict(broken)
    with pytest.raises(ImageReadError, match="lost.jpg"):
        clone(model).fit(broken)


def test_regressor_warn_skips_bad_images(model, frame, grey_image):
    """Check that ``on_error='warn'`` gives bad images NaN rows, with a warning."""
    broken = frame.copy()
    broken.loc[broken.index[3], "image_path"] = "/nowhere/lost.jpg"
    broken.loc[broken.index[5], "image_path"] = grey_image
    lenient = with_params(model, on_error="warn")
    with pytest.warns(ImageReadWarning, match="2 of 24 .*lost.jpg.*grey.png"):
        predicted = lenient.predict(broken)
    nan_rows = predicted.isna().all(axis=1)
    assert nan_rows.tolist() == [i in (3, 5) for i in range(24)]
    # other batch compositions: equal up to float rounding
    np.testing.assert_allclose(
        predicted[~nan_rows], model.predict(frame)[~nan_rows.to_numpy()], rtol=1e-4
    )
    with pytest.warns(ImageReadWarning, match="2 of 24"):
        score = lenient.score(broken)
    assert np.isfinite(score)


def test_regressor_refuses_other_colour(model, grey_image):
    """Check that a grayscale image is refused by a model fitted on RGB images."""
    with pytest.raises(ImageReadError, match="grayscale, while the other images are"):
        model.predict([grey_image])


@pytest.mark.parametrize("on_error", ["raise", "warn"])
def test_regressor_undecodable_image(model, frame, tmp_path, on_error):
    """Check that a file failing only when decoded raises, or gets a NaN row."""
    data = Path(frame["image_path"].iloc[0]).read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    paths = [str(tmp_path / "cut.jpg"), *frame["image_path"].iloc[1:4]]
    lenient = with_params(model, on_error=on_error)
    if on_error == "raise":
        with pytest.raises(ImageReadError, match="cut.jpg"):
            lenient.predict(paths)
        return
    with pytest.warns(ImageReadWarning, match="1 of 4 .*decoded.*cut.jpg"):
        predicted = lenient.predict(paths)
    assert predicted.isna().all(axis=1).tolist() == [True, False, False, False]


def test_regressor_image_size_is_fixed_at_fit(model, frame):
    """Check that changing `image_size` after fit does not change how it reads."""
    resized = with_params(model, image_size=(64, 400))
    np.testing.assert_array_equal(
        resized.predict(frame.iloc[:4]), model.predict(frame.iloc[:4])
    )


def test_regressor_local_weights(frame, tmp_path):
    """Check that a local torchvision state dict is loaded before training."""
    torch.manual_seed(0)
    reference = torchvision.models.resnet18(weights=None)
    torch.save(reference.state_dict(), tmp_path / "resnet18.pth")
    params = {**CHEAP, "max_epochs": 1, "lr": 1e-12, "early_stopping": False}
    model = DefectFractionRegressor(weights=tmp_path / "resnet18.pth", **params)
    model.fit(frame.iloc[:8])
    conv1 = model.net_.module_.backbone.conv1.weight.detach()
    expected = reference.conv1.weight.sum(dim=1, keepdim=True)
    torch.testing.assert_close(conv1, expected, atol=1e-6, rtol=0)


def test_regressor_pickle_round_trip(model, frame):
    """Check that a pickled fitted model predicts the same."""
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(frame), model.predict(frame))


def test_regressor_cross_val_score(frame):
    """Check that sklearn's model selection clones, fits and scores it from X alone."""
    params = {**CHEAP, "max_epochs": 1, "early_stopping": False}
    scores = cross_val_score(DefectFractionRegressor(**params), frame, cv=2)
    assert scores.shape == (2,) and np.isfinite(scores).all()


def test_predict_fractions_fitted_and_unfitted(small_model, frame):
    """Check that a fitted model is used as is and an unfitted one fits a clone."""
    small = frame.iloc[:12]
    expected = small_model.predict(small)
    np.testing.assert_array_equal(predict_fractions(small_model, small), expected)
    unfitted = DefectFractionRegressor(**SMALL)
    fractions = predict_fractions(unfitted, small)
    np.testing.assert_array_equal(fractions, expected)
    assert fractions.index.equals(small.index)
    assert not hasattr(unfitted, "net_")


def test_regressor_real_images(model, severstal_dir):
    """Check that the model reads the real Severstal images."""
    paths = sorted(str(p) for p in (severstal_dir / "train_images").glob("*.jpg"))
    predicted = model.predict(paths)
    assert predicted.shape == (len(paths), 4) and predicted.notna().all().all()
