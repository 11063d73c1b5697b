"""Tests of SteelNetClassifier with the surface image as a second modality."""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from sklearn.base import clone
from sklearn.datasets import make_classification

import sksteel._images as image_files
import sksteel.models._image_cache as image_cache
from sksteel.datasets import make_steelnet_dataset
from sksteel.exceptions import (
    DataFormatError,
    ImageReadError,
    ImageReadWarning,
    SksteelWarning,
)
from sksteel.io import load_model, save_model
from sksteel.models import SteelNetClassifier
from sksteel.models._images import network_inputs, split_images, take_rows
from sksteel.nn import ImageBranch, info_nce

DATA = Path(__file__).parent / "data"

#: Small, fast settings: a tiny network and 32 x 200 images.
CHEAP = dict(
    hidden_layer_sizes=(16, 8),
    d_token=4,
    n_heads=2,
    max_epochs=2,
    lr=1e-2,
    batch_size=16,
    image_size=(32, 200),
    random_state=0,
    verbose=0,
)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """40 samples with their rendered images; every fourth image missing."""
    home = tmp_path_factory.mktemp("home")
    dataset = make_steelnet_dataset(
        n_normal=20, n_per_class=5, images=True, data_home=home
    )
    X = dataset.data.copy()
    X.loc[::4, "image_path"] = np.nan
    return X, dataset.target.to_numpy()


@pytest.fixture(autouse=True)
def feature_cache(tmp_path, monkeypatch):
    """A fresh data home (and so a fresh feature cache) per test."""
    monkeypatch.setenv("SKSTEEL_DATA", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def fitted(data, tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SKSTEEL_DATA", str(tmp_path_factory.mktemp("fitted")))
        return SteelNetClassifier(**CHEAP).fit(*data)


def _image(path, size=(1600, 256), value=0, mode="RGB"):
    """An image file of one grey level (the rendered surfaces are RGB)."""
    Image.new(mode, size, (value,) * len(mode)).save(path)
    return str(path)


def _missing_token(clf):
    return clf.net_.module_.image_branch.missing_token.detach().numpy()


def test_image_column_is_inferred(fitted, data):
    X, _ = data
    assert fitted.image_column_ == "image_path"
    assert list(fitted.feature_names_in_) == [c for c in X if c != "image_path"]
    assert fitted.image_shape_ == (1, 32, 200)
    assert fitted.predict_proba(X).shape == (len(X), 5)


def test_missing_image_is_the_learned_token_not_a_black_image(fitted, data, tmp_path):
    """Check that a row without an image gets the learned missing token, and
    that it differs from what a black image gives."""
    X, _ = data
    rows = X.iloc[[0, 0]].copy()
    rows["image_path"] = [np.nan, _image(tmp_path / "black.jpg")]
    image_part = fitted.embed(rows, "joint") - fitted.embed(rows, "sensors")
    token = _missing_token(fitted)
    np.testing.assert_allclose(image_part[0], token, rtol=1e-5, atol=1e-6)
    assert np.abs(image_part[1] - token).max() > 1e-3
    assert np.isnan(fitted.embed(rows, "image")[0]).all()
    assert np.isfinite(fitted.embed(rows, "image")[1]).all()


def test_explain_with_images(fitted, data):
    X, _ = data
    head = fitted.explain(X.iloc[:3], method="head")
    assert list(head.columns) == list(fitted.feature_names_in_)
    np.testing.assert_allclose(head.sum(axis=1), 1.0, rtol=1e-5)
    with pytest.raises(ValueError, match="not available yet"):
        fitted.explain(X.iloc[:3])


def test_a_frame_without_the_image_column_has_no_images(fitted, data):
    X, _ = data
    rows = X.iloc[:3]
    dropped = fitted.predict_proba(rows.drop(columns="image_path"))
    none = fitted.predict_proba(rows.assign(image_path=None))
    np.testing.assert_allclose(dropped, none)


def test_image_branch_missing_token_and_dropout_are_deterministic():
    branch = ImageBranch(d_out=4, d_features=3, image_dropout=0.5)
    features, present = torch.randn(200, 3), torch.ones(200, dtype=torch.bool)
    masks = []
    for _ in range(2):
        torch.manual_seed(0)
        masks.append(branch.train()(features, present)[1])
    assert torch.equal(masks[0], masks[1])
    assert 0.35 < float((~masks[0]).float().mean()) < 0.65
    embedding, _ = branch.eval()(torch.zeros(2, 3), torch.tensor([False, True]))
    assert torch.equal(embedding[0], branch.missing_token)
    assert not torch.equal(embedding[1], branch.missing_token)


def test_image_dropout_is_deterministic_and_has_an_effect(data):
    X, y = data
    first = SteelNetClassifier(**CHEAP).fit(X, y).predict_proba(X)
    again = SteelNetClassifier(**CHEAP).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, again)
    without = SteelNetClassifier(**{**CHEAP, "image_dropout": 0.0}).fit(X, y)
    assert np.abs(without.predict_proba(X) - first).max() > 1e-6


def test_sensors_only_predictions_are_those_before_images():
    """Check that, at a fixed seed, the sensors-only model predicts what it
    predicted before the image branch existed: the reference was saved by
    the same code at the commit before it (9e2a116)."""
    X, y = make_classification(
        n_samples=300, n_features=10, n_informative=6, n_classes=3, random_state=0
    )
    X[::5, 3] = np.nan
    clf = SteelNetClassifier(
        hidden_layer_sizes=(16, 8),
        d_token=4,
        n_heads=2,
        max_epochs=3,
        random_state=0,
        verbose=0,
    ).fit(X, y)
    np.testing.assert_allclose(
        clf.predict_proba(X[:50]),
        np.load(DATA / "sensors_only_proba.npy"),
        # Other CPUs and thread counts change the last float32 digits, which
        # 3 epochs carry to about 1e-5; a changed network or draw order moves
        # the probabilities by far more than 1e-3.
        rtol=0,
        atol=1e-3,
    )


def test_image_parameters_do_not_touch_the_sensors_only_path(data):
    """Check that without an image column, the image parameters change
    nothing: same network, same predictions."""
    X, y = data
    sensors = X.drop(columns="image_path")
    base = SteelNetClassifier(**CHEAP).fit(sensors, y)
    other = SteelNetClassifier(
        **CHEAP, epsilon=3.0, image_dropout=0.9, image_column=None
    ).fit(X.drop(columns="image_path"), y)
    assert base.image_column_ is None and base.surfaces_ is None
    assert type(base.net_.module_).__name__ == "SteelNet"
    np.testing.assert_array_equal(
        base.predict_proba(sensors), other.predict_proba(sensors)
    )


def test_second_fit_reads_no_image(data, monkeypatch):
    X, y = data
    calls = {"read": 0, "check": 0}
    read, check = image_cache._read_image, image_files.check_images

    def counting_read(*args):
        calls["read"] += 1
        return read(*args)

    def counting_check(*args, **kwargs):
        calls["check"] += 1
        return check(*args, **kwargs)

    monkeypatch.setattr(image_cache, "_read_image", counting_read)
    monkeypatch.setattr(image_files, "check_images", counting_check)
    first = SteelNetClassifier(**CHEAP).fit(X, y)
    n_images = int(X["image_path"].notna().sum())
    assert calls == {"read": n_images, "check": 1}
    second = SteelNetClassifier(**CHEAP).fit(X, y)
    assert calls == {"read": n_images, "check": 1}
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))


def test_an_edited_image_is_read_again(data, tmp_path, monkeypatch):
    path = _image(tmp_path / "surface.jpg", value=10)
    reader = image_cache.PixelReader((32, 200))
    before = image_cache.cached_inputs(reader, [path])[0][:].numpy()
    _image(path, value=200)
    after = image_cache.cached_inputs(reader, [path])[0][:].numpy()
    assert np.abs(after - before).max() > 1


def test_the_cache_is_filled_a_batch_at_a_time(data, monkeypatch):
    X, _ = data
    paths = list(X["image_path"].dropna())
    monkeypatch.setattr(image_cache, "_BATCH_SIZE", 4)
    reader = image_cache.PixelReader((32, 200))
    sizes = []
    read = reader.__call__

    class Counting:
        shape, dtype, key = reader.shape, reader.dtype, reader.key

        def __call__(self, batch):
            sizes.append(len(batch))
            return read(batch)

    images, usable, _ = image_cache.cached_inputs(Counting(), paths)
    assert usable.all() and sum(sizes) == len(paths) and max(sizes) == 4


def test_fit_holds_image_file_names_not_pixels(data, monkeypatch):
    """Check, by construction, that memory stays flat in the number of
    images: the net's input holds one cache file name per row, and an index
    loads the rows asked for and no others."""
    X, y = data
    clf = SteelNetClassifier(**CHEAP)
    X_sensors, images = split_images(clf, X, fit=True)
    clf.fit(X, y)
    readings = clf._to_tensor(X_sensors.to_numpy())
    inputs = network_inputs(clf, readings, images)
    lazy = inputs["image"]
    assert isinstance(lazy, image_cache.CachedImages)
    numeric = [v for v in vars(lazy).values() if isinstance(v, np.ndarray)]
    assert all(v.dtype == object for v in numeric)  # file names only
    assert lazy.entries.dtype == object and len(lazy) == len(X)
    loads = []
    load = np.load

    def counting_load(*args, **kwargs):
        loads.append(args[0])
        return load(*args, **kwargs)

    monkeypatch.setattr(image_cache.np, "load", counting_load)
    subset = take_rows(inputs, np.arange(1, 9))
    assert loads == [] and len(subset["image"]) == 8
    batch = subset["image"][torch.tensor([0, 2, 4])]  # rows 1, 3, 5 (with images)
    assert batch.shape == (3, 1, 32, 200) and len(loads) == 3
    np.testing.assert_array_equal(batch[0].numpy(), lazy[1:2][0].numpy())
    # a row without an image reads nothing and is zeros (the net ignores it)
    loads.clear()
    assert not lazy[0:1].any() and loads == []


@pytest.fixture(scope="module")
def segmenter(data):
    from sksteel.vision import DefectSegmenter

    X, _ = data
    frame = pd.DataFrame({"image_path": X["image_path"].dropna().to_numpy()[:8]})
    frame = frame.assign(**{f"EncodedPixels_{c}": "" for c in range(1, 5)})
    return DefectSegmenter(
        "resnet18",
        image_size=(64, 320),
        crop_size=(64, 128),
        max_epochs=1,
        batch_size=4,
        random_state=0,
        verbose=0,
    ).fit(frame)


def test_segmenter_features_are_keyed_on_the_encoder_weights(segmenter, data):
    X, y = data
    paths = list(X["image_path"].dropna()[:3])
    reader = image_cache.SegmenterFeatures(segmenter)
    features, usable, colour = image_cache.cached_inputs(reader, paths)
    features = features[:].numpy()
    assert colour == "RGB"
    assert usable.all() and features.shape == (3, 512)
    weight = next(segmenter.net_.module_.encoder.parameters())
    saved = weight.detach().clone()
    with torch.no_grad():
        weight.add_(1.0)
    try:
        changed = image_cache.SegmenterFeatures(segmenter)
        assert changed.key != reader.key
        new_features = image_cache.cached_inputs(changed, paths)[0][:].numpy()
        assert np.abs(new_features - features).max() > 1e-4
    finally:
        with torch.no_grad():
            weight.copy_(saved)
    assert image_cache.SegmenterFeatures(segmenter).key == reader.key


def test_frozen_segmenter_encoder(segmenter, data, tmp_path):
    X, y = data
    clf = SteelNetClassifier(**CHEAP, image_encoder=segmenter).fit(X, y)
    assert clf.image_shape_ == (512,)
    assert clf.net_.module_.image_branch.encoder is None
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 5)
    loaded = load_model(save_model(clf, tmp_path / "model.skops"))
    np.testing.assert_array_equal(loaded.predict_proba(X), proba)


def _weights(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _changed(before, module):
    after = module.state_dict()
    return [k for k in before if not torch.equal(before[k], after[k])]


def test_segmenter_encoder_is_fine_tuned_or_frozen(segmenter, data, tmp_path):
    """Check that fine-tuning trains a copy of the segmenter's encoder (its
    weights change, the segmenter's do not), and that a frozen encoder keeps
    its weights."""
    X, y = data
    original = _weights(segmenter.encoder_)
    frozen = SteelNetClassifier(**CHEAP, image_encoder=segmenter).fit(X, y)
    assert frozen.net_.module_.image_branch.encoder is None
    assert _changed(original, segmenter.encoder_) == []
    tuned = SteelNetClassifier(
        **CHEAP, image_encoder=segmenter, freeze_image_encoder=False
    ).fit(X, y)
    assert tuned.image_shape_ == (1, *segmenter.image_size_)
    copy = tuned.net_.module_.image_branch.encoder.encoder
    assert copy is not segmenter.encoder_
    trained = [k for k in _changed(original, copy) if "weight" in k]
    assert len(trained) > 10  # the convolutions moved, not only BN statistics
    assert _changed(original, segmenter.encoder_) == []
    proba = tuned.predict_proba(X)
    assert np.abs(proba - frozen.predict_proba(X)).max() > 1e-4
    loaded = load_model(save_model(tuned, tmp_path / "tuned.skops"))
    np.testing.assert_array_equal(loaded.predict_proba(X), proba)


def test_multimodal_model_saves_and_loads_in_skops(fitted, data, tmp_path):
    X, _ = data
    path = save_model(fitted, tmp_path / "model.skops")
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))
    np.testing.assert_array_equal(loaded.embed(X, "image"), fitted.embed(X, "image"))


def test_transform_and_similar_surfaces(fitted, data):
    X, y = data
    for modality in ("sensors", "image", "joint"):
        assert fitted.embed(X, modality).shape == (len(X), 8)
    image = fitted.embed(X, "image")
    assert np.isnan(image[X["image_path"].isna().to_numpy()]).all()
    with pytest.raises(ValueError, match="modality"):
        fitted.embed(X, "camera")
    found = fitted.similar_surfaces(X.iloc[:3], k=4)
    assert found.shape == (12, 5)
    assert found["query"].tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert set(found["image_path"]) <= set(X["image_path"].dropna())
    assert (found.groupby("query")["similarity"].diff().dropna() <= 1e-12).all()
    assert len(fitted.surfaces_) == int(X["image_path"].notna().sum())


def test_alignment_weight_is_a_parameter_and_trains_the_temperature(data):
    X, y = data
    clf = clone(SteelNetClassifier(**CHEAP)).set_params(epsilon=1.0).fit(X, y)
    assert clf.net_.criterion_.epsilon == 1.0
    start = float(np.log(1 / 0.07))
    moved = abs(float(clf.net_.module_.log_scale.detach()) - start)
    off = SteelNetClassifier(**{**CHEAP, "epsilon": 0.0}).fit(X, y)
    decayed = abs(float(off.net_.module_.log_scale.detach()) - start)
    # without the term only AdamW's weight decay moves it
    assert moved > 10 * decayed


def test_info_nce_prefers_matched_pairs():
    a = torch.randn(8, 4)
    scale = torch.tensor(2.0)
    assert info_nce(a, a, scale) < info_nce(a, a.roll(1, 0), scale)
    assert float(info_nce(a[:1], a[:1], scale)) == 0.0


def test_non_path_image_values_are_refused(data):
    X, y = data
    bad = X.assign(image_path=X["image_path"].astype(object))
    bad.iloc[1, bad.columns.get_loc("image_path")] = 3.5
    with pytest.raises(DataFormatError, match="image file paths"):
        SteelNetClassifier(**CHEAP).fit(bad, y)


def test_paths_outside_the_image_root_are_refused(data, tmp_path):
    X, y = data
    root = tmp_path / "root"
    root.mkdir()
    _image(root / "in.jpg")
    outside = X.assign(image_path=["in.jpg"] * (len(X) - 1) + ["../out.jpg"])
    with pytest.raises(DataFormatError, match="outside the image folder"):
        SteelNetClassifier(**CHEAP, image_root=str(root)).fit(outside, y)


def test_wrong_size_or_colour_follows_on_error(data, tmp_path):
    X, y = data
    small = _image(tmp_path / "small.jpg", size=(400, 64))
    grey = _image(tmp_path / "grey.png", mode="L")
    bad = X.copy()
    bad.iloc[1, bad.columns.get_loc("image_path")] = small
    bad.iloc[2, bad.columns.get_loc("image_path")] = grey
    with pytest.raises(ImageReadError, match="small.jpg"):
        SteelNetClassifier(**CHEAP).fit(bad, y)
    with pytest.warns(ImageReadWarning, match="small.jpg"):
        clf = SteelNetClassifier(**CHEAP, on_error="warn").fit(bad, y)
    with pytest.warns(ImageReadWarning, match="grey.png"):
        image_part = clf.embed(bad.iloc[[1, 2]], "joint") - clf.embed(
            bad.iloc[[1, 2]], "sensors"
        )
    # both unusable (a grey file among RGB ones): the missing token
    np.testing.assert_allclose(image_part, [_missing_token(clf)] * 2, atol=1e-6)
    assert not {small, grey} & set(clf.surfaces_["image_path"])
    assert clf.image_colour_ == "RGB"


@pytest.mark.parametrize("size", [(32,), (8, 200), (32.5, 200)])
def test_bad_image_size(data, size):
    X, y = data
    with pytest.raises(ValueError, match="image_size"):
        SteelNetClassifier(**{**CHEAP, "image_size": size}).fit(X, y)


def test_no_image_at_all(data):
    X, y = data
    empty = X.assign(image_path=np.nan)
    with pytest.raises(ValueError, match="No row of the image column"):
        SteelNetClassifier(**CHEAP, image_column="image_path").fit(empty, y)
    with pytest.warns(SksteelWarning, match="sensors only"):
        clf = SteelNetClassifier(**CHEAP).fit(empty, y)
    assert clf.image_column_ is None
    assert type(clf.net_.module_).__name__ == "SteelNet"


def test_an_explicit_image_column_must_exist(data):
    X, y = data
    with pytest.raises(ValueError, match="names no column"):
        SteelNetClassifier(**CHEAP, image_column="camera").fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SteelNetClassifier(**CHEAP, image_column=None).fit(
            X.drop(columns="image_path"), y
        )
