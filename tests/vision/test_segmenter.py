"""Tests of DefectSegmenter: mask shapes, encodings, determinism, batching,
persistence and bad input. Tiny encoder and images so that a fit takes about
a second."""

import inspect
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from sksteel._schema import ENCODED_COLUMNS, FRACTION_COLUMNS, IMAGE_SHAPE
from sksteel.datasets import load_severstal, make_steel_surfaces
from sksteel.exceptions import (
    DataFormatError,
    ImageReadError,
    ImageReadWarning,
    RLEError,
)
from sksteel.io import load_model, save_model
from sksteel.preprocessing import rle_decode
from sksteel.vision import DefectSegmenter, postprocess
from sksteel.vision import _data as image_data
from sksteel.vision._training import DiceBCELoss, MaskCropDataset

TINY = dict(
    encoder_name="resnet18",
    image_size=(64, 320),
    crop_size=(64, 128),
    max_epochs=1,
    batch_size=4,
    random_state=0,
    verbose=0,
)


def with_params(model, **params):
    """A copy of fitted `model` with inference-only `params` changed, no refit."""
    copy = clone(model).set_params(**params)
    for name, value in vars(model).items():
        if name.endswith("_") and not name.startswith("_"):
            setattr(copy, name, value)
    return copy


@pytest.fixture(scope="module")
def frame(tmp_path_factory):
    """Ten generated surfaces, about half of them defective."""
    home = tmp_path_factory.mktemp("surfaces")
    return load_severstal(
        make_steel_surfaces(n_images=10, random_state=0, data_home=home)
    ).frame


@pytest.fixture(scope="module")
def model(frame):
    return DefectSegmenter(**TINY).fit(frame)


def test_segmenter_predict_masks_shapes(model, frame):
    """Check that predict_masks yields bool batches of at most batch_size
    images at 256 x 1600, covering every image in order."""
    batches = model.predict_masks(frame)
    assert inspect.isgenerator(batches)
    batches = list(batches)
    assert [len(b) for b in batches] == [4, 4, 2]
    for batch in batches:
        assert batch.dtype == bool
        assert batch.shape[1:] == (4, *IMAGE_SHAPE)


def test_segmenter_predict_masks_reads_one_batch_at_a_time(model, frame, monkeypatch):
    """Check that memory is flat by construction: the first batch is yielded
    after reading only its images, and each later batch reads only its own."""
    calls = []
    read_image = image_data.read_image
    monkeypatch.setattr(
        image_data, "read_image", lambda *a: calls.append(a[0]) or read_image(*a)
    )
    batches = model.predict_masks(frame)
    assert calls == []  # nothing read before the first batch is asked for
    next(batches)
    assert calls == frame["image_path"].iloc[:4].tolist()
    next(batches)
    assert len(calls) == 8


def test_segmenter_rle_round_trip(model, frame):
    """Check that predict_rle decodes back to exactly the predicted masks,
    with NaN for an empty mask as load_severstal gives."""
    encodings = model.predict_rle(frame)
    assert encodings.columns.tolist() == list(ENCODED_COLUMNS)
    assert encodings.index.equals(frame.index)
    masks = np.concatenate(list(model.predict_masks(frame)))
    for i, row in enumerate(encodings.itertuples(index=False)):
        for c, rle in enumerate(row):
            np.testing.assert_array_equal(rle_decode(rle), masks[i, c])
            assert isinstance(rle, str) == bool(masks[i, c].any())


def test_segmenter_fractions_are_mask_means(model, frame):
    """Check that predict_fractions, predict and transform give the mean of
    each predicted mask, indexed like X."""
    shuffled = frame.sample(frac=1.0, random_state=0)
    fractions = model.predict_fractions(shuffled)
    assert fractions.columns.tolist() == list(FRACTION_COLUMNS)
    assert fractions.index.equals(shuffled.index)
    masks = np.concatenate(list(model.predict_masks(shuffled)))
    np.testing.assert_allclose(fractions.to_numpy(), masks.mean(axis=(2, 3)))
    np.testing.assert_array_equal(model.transform(shuffled), fractions)
    np.testing.assert_array_equal(model.predict(shuffled), fractions)
    assert model.get_feature_names_out().tolist() == list(FRACTION_COLUMNS)


def test_segmenter_probabilities_give_the_masks(model, frame):
    """Check that predict_proba yields float32 batches in [0, 1] at
    256 x 1600, lazily, whose post-processing is predict_masks."""
    batches = model.predict_proba(frame)
    assert inspect.isgenerator(batches)
    probs = np.concatenate(list(batches))
    assert probs.dtype == np.float32 and probs.shape == (len(frame), 4, *IMAGE_SHAPE)
    assert ((probs >= 0) & (probs <= 1)).all()
    masks = np.concatenate(list(model.predict_masks(frame, threshold=0.3)))
    threshold, min_area = np.full(4, 0.3), np.zeros(4, dtype=int)
    np.testing.assert_array_equal(
        masks, np.stack([postprocess(p, threshold, min_area) for p in probs])
    )


def test_segmenter_probability_fractions(model, frame):
    """Check that fraction='probability' gives the mean of each probability
    map, which threshold and min_area do not change."""
    soft = with_params(model, fraction="probability")
    probs = np.concatenate(list(model.predict_proba(frame)))
    fractions = soft.predict_fractions(frame)
    np.testing.assert_allclose(fractions, probs.mean(axis=(2, 3)), rtol=1e-5)
    strict = with_params(soft, threshold=0.9, min_area=10_000)
    np.testing.assert_array_equal(strict.predict_fractions(frame), fractions)


def test_segmenter_unread_image_has_nan_probabilities(model, frame):
    """Check that under on_error='warn' an unreadable image's probabilities
    are NaN, and the others unchanged."""
    paths = [*frame["image_path"].iloc[:2], "/nonexistent/x.jpg"]
    lenient = with_params(model, on_error="warn")
    with pytest.warns(ImageReadWarning, match="x.jpg"):
        probs = np.concatenate(list(lenient.predict_proba(paths)))
    assert np.isnan(probs[2]).all() and not np.isnan(probs[:2]).any()
    expected = next(model.predict_proba(frame.iloc[:2]))
    np.testing.assert_array_equal(probs[:2], expected)


def test_segmenter_encoder_(model, frame):
    """Check that encoder_ is the fitted smp encoder, taking the grey images
    the segmenter is trained on, and is refused before fit."""
    encoder = model.encoder_
    assert encoder is model.net_.module_.encoder
    with torch.inference_mode():
        features = encoder(torch.zeros(2, 1, *model.image_size_))
    assert [f.shape[1] for f in features] == list(encoder.out_channels)
    with pytest.raises(NotFittedError):
        _ = DefectSegmenter(**TINY).encoder_


def test_segmenter_paths_predict_the_same_as_the_table(model, frame):
    """Check that a list of paths gives the same fractions as the table."""
    from_paths = model.predict_fractions(frame["image_path"].tolist())
    np.testing.assert_array_equal(from_paths, model.predict_fractions(frame))


def test_segmenter_deterministic(model, frame):
    """Check that the same random_state gives identical weights and
    predictions, another one different weights, and that torch's global
    random state is left untouched."""
    before = torch.random.get_rng_state()
    again = DefectSegmenter(**TINY).fit(frame)
    assert torch.equal(before, torch.random.get_rng_state())
    np.testing.assert_array_equal(
        again.predict_fractions(frame), model.predict_fractions(frame)
    )
    other = DefectSegmenter(**{**TINY, "random_state": 1}).fit(frame)
    first = next(iter(model.net_.module_.parameters()))
    assert not torch.equal(first, next(iter(other.net_.module_.parameters())))


def test_segmenter_score_is_mean_dice(model, frame):
    """Check that score is the mean of the per image and class Dice, each in
    [0, 1], and 1 for a pair of empty masks."""
    dice = model.dice_per_image(frame)
    assert dice.shape == (len(frame), 4)
    assert ((dice >= 0) & (dice <= 1)).all()
    assert model.score(frame) == pytest.approx(dice.mean())
    masks = np.concatenate(list(model.predict_masks(frame)))
    empty = ~masks.any(axis=(2, 3)) & frame[list(ENCODED_COLUMNS)].isna().to_numpy()
    assert (dice[empty] == 1).all()


def test_segmenter_tuning_never_lowers_dice_on_its_images(model, frame):
    """Check that tune_postprocessing picks values from its grids, leaves the
    model unchanged, and that the tuned settings score at least the
    defaults on the images they were tuned on (the defaults are in the grid)."""
    best = model.tune_postprocessing(
        frame, thresholds=(0.3, 0.5, 0.7), min_areas=(0, 500)
    )
    assert set(best["threshold"]) <= {0.3, 0.5, 0.7}
    assert set(best["min_area"]) <= {0, 500}
    assert model.threshold == 0.5 and model.min_area == 0
    tuned = with_params(model, **best)
    assert tuned.score(frame) >= model.score(frame) - 1e-12


def test_postprocess_threshold_and_min_area():
    """Check the per-class threshold and the removal of small components."""
    probability = np.zeros((2, 20, 20))
    probability[:, 0:2, 0:2] = 0.9  # 4 pixels
    probability[:, 10:20, 10:20] = 0.6  # 100 pixels
    masks = postprocess(probability, np.array([0.5, 0.7]), np.array([5, 0]))
    assert masks[0].sum() == 100  # the small blob removed
    assert masks[1].sum() == 4  # the 0.6 blob below the class-1 threshold


def test_segmenter_predict_masks_overrides(model, frame):
    """Check that predict_masks' threshold and min_area override the
    parameters: a high threshold and a huge minimum area give fewer pixels."""
    default = next(model.predict_masks(frame)).sum()
    strict = next(model.predict_masks(frame, threshold=0.99, min_area=10**6)).sum()
    assert strict <= default
    assert strict == 0


def test_segmenter_getstate_holds_no_torch_objects(model, frame):
    """Check that the persisted state is plain attributes and numpy weights,
    and that setstate rebuilds a model predicting the same."""
    state = model.__getstate__()
    assert "net_" not in state
    for value in state.values():
        assert not isinstance(value, (torch.Tensor, torch.nn.Module))
    assert all(isinstance(a, np.ndarray) for a in state["net_weights_"].values())
    copy = DefectSegmenter.__new__(DefectSegmenter)
    copy.__setstate__(state)
    np.testing.assert_array_equal(
        copy.predict_fractions(frame), model.predict_fractions(frame)
    )


def test_segmenter_setstate_checks_shapes(model):
    """Check that weights of the wrong shape are refused before loading."""
    state = model.__getstate__()
    name = next(iter(state["net_weights_"]))
    state["net_weights_"][name] = np.zeros((1, 1))
    with pytest.raises(DataFormatError, match="do not fit a DefectSegmenter"):
        DefectSegmenter.__new__(DefectSegmenter).__setstate__(state)


def test_segmenter_skops_round_trip(model, frame, tmp_path):
    """Check that save_model / load_model in the skops format give a model
    predicting the same."""
    path = tmp_path / "segmenter.skops"
    save_model(model, path)
    loaded = load_model(path, trusted=[DefectSegmenter])
    np.testing.assert_array_equal(
        loaded.predict_fractions(frame), model.predict_fractions(frame)
    )


def test_segmenter_local_weights(frame, tmp_path):
    """Check that a local torchvision state dict is loaded into the encoder."""
    import torchvision

    torch.manual_seed(0)
    reference = torchvision.models.resnet18(weights=None)
    torch.save(reference.state_dict(), tmp_path / "resnet18.pth")
    params = {**TINY, "lr": 1e-12, "weight_decay": 0.0}
    model = DefectSegmenter(weights=tmp_path / "resnet18.pth", **params)
    model.fit(frame.iloc[:4])
    conv1 = model.net_.module_.encoder.conv1.weight.detach()
    expected = reference.conv1.weight.sum(dim=1, keepdim=True)
    torch.testing.assert_close(conv1, expected, atol=1e-6, rtol=0)


# -- bad input --------------------------------------------------------------


def test_segmenter_fit_needs_encodings(frame):
    """Check that fitting on paths alone says that masks are needed."""
    with pytest.raises(DataFormatError, match="learns from masks"):
        DefectSegmenter(**TINY).fit(frame["image_path"].tolist())


@pytest.mark.parametrize(
    "params, match",
    [
        ({"image_size": (64, 300)}, "multiples of 32"),
        ({"crop_size": (128, 128)}, "at most image_size"),
        ({"threshold": 1.5}, "'threshold' parameter"),
        ({"threshold": [0.5, 0.5]}, "one per class"),
        ({"min_area": -1}, "'min_area' parameter"),
    ],
)
def test_segmenter_rejects_bad_params(frame, params, match):
    """Check that bad parameters raise a ValueError naming them."""
    with pytest.raises(ValueError, match=match):
        DefectSegmenter(**{**TINY, **params}).fit(frame)


def test_segmenter_bad_rle(frame):
    """Check that an encoding that does not decode raises an RLEError naming
    the image, or with on_error='warn' is left out with a warning."""
    bad = frame.copy()
    bad.loc[bad.index[1], "EncodedPixels_2"] = "1 5 3"
    with pytest.raises(RLEError, match=r"do not decode.*EncodedPixels_2"):
        DefectSegmenter(**TINY).fit(bad)
    with pytest.warns(ImageReadWarning, match="1 of 10 image"):
        DefectSegmenter(**{**TINY, "on_error": "warn"}).fit(bad)


def test_segmenter_missing_image(model, frame):
    """Check that a missing image raises an ImageReadError naming it, or with
    on_error='warn' gets empty masks and NaN fractions."""
    paths = [*frame["image_path"].iloc[:3], "/nonexistent/x.jpg"]
    with pytest.raises(ImageReadError, match="x.jpg"):
        model.predict_fractions(paths)
    lenient = with_params(model, on_error="warn")
    with pytest.warns(ImageReadWarning, match="x.jpg"):
        fractions = lenient.predict_fractions(paths)
    assert fractions.isna().all(axis=1).tolist() == [False, False, False, True]
    with pytest.warns(ImageReadWarning):
        masks = np.concatenate(list(lenient.predict_masks(paths)))
    assert not masks[3].any()


def test_segmenter_wrong_size_and_colour(model, frame, tmp_path):
    """Check that a wrongly sized image and a grayscale image among RGB ones
    are refused by name."""
    small = tmp_path / "small.jpg"
    Image.new("RGB", (800, 128)).save(small)
    grey = tmp_path / "grey.png"
    Image.open(frame["image_path"].iloc[0]).convert("L").save(grey)
    with pytest.raises(ImageReadError, match="small.jpg.*size 800x128"):
        model.predict_fractions([str(small), *frame["image_path"].iloc[:2]])
    with pytest.raises(ImageReadError, match="grayscale, while the other"):
        model.predict_fractions([str(grey)])


@pytest.mark.parametrize("on_error", ["raise", "warn"])
def test_segmenter_undecodable_image(model, frame, tmp_path, on_error):
    """Check that a file failing only when decoded raises by name, or gets
    a NaN row."""
    data = Path(frame["image_path"].iloc[0]).read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    paths = [str(tmp_path / "cut.jpg"), *frame["image_path"].iloc[1:4]]
    lenient = with_params(model, on_error=on_error)
    if on_error == "raise":
        with pytest.raises(ImageReadError, match="cut.jpg"):
            lenient.predict_fractions(paths)
        return
    with pytest.warns(ImageReadWarning, match="1 of 4 .*decoded.*cut.jpg"):
        fractions = lenient.predict_fractions(paths)
    assert fractions.isna().all(axis=1).tolist() == [True, False, False, False]


def test_segmenter_fit_skips_bad_images_with_warning(frame):
    """Check that fit with on_error='warn' trains on the usable images."""
    table = frame.copy()
    table.loc[table.index[0], "image_path"] = "/nonexistent/y.jpg"
    table = table.drop(columns="ImageId")
    with pytest.warns(ImageReadWarning, match="y.jpg"):
        model = DefectSegmenter(**{**TINY, "on_error": "warn"}).fit(table)
    assert model.n_iter_ == 1


def test_segmenter_refuses_ids_outside_root(model, frame):
    """Check that a table whose id leads out of its root is refused."""
    table = frame.iloc[:2].copy()
    root = str(Path(table["image_path"].iloc[0]).parent)
    table.loc[table.index[1], "ImageId"] = "../x.jpg"
    table.loc[table.index[1], "image_path"] = root + "/../x.jpg"
    with pytest.raises(DataFormatError, match=r"outside.*'\.\./x\.jpg'"):
        model.predict_fractions(table)


# -- training pieces: the loss and the crop sampler -------------------------


def _false_positive_cost(dice):
    """Loss increase from probability mass on a crop without the class,
    while the other crop of the batch holds that class (predicted well)."""
    target = torch.zeros(2, 4, 16, 16)
    target[0, 0, :8] = 1.0
    clean = 20.0 * (2 * target - 1)
    noisy = clean.clone()
    noisy[1, 0, :2, :2] = 20.0  # a 4-pixel false blob on the second crop
    loss = DiceBCELoss(dice=dice)
    return float(loss(noisy, target) - loss(clean, target))


def test_image_dice_penalises_false_positives_on_empty_crops():
    """Check that per-image Dice makes a false blob on an empty crop cost
    over three times what the batch Dice does (where the other crop dilutes it)."""
    batch, image = _false_positive_cost("batch"), _false_positive_cost("image")
    assert 0 < batch < 0.05
    assert image > 3 * batch


def test_dice_modes_agree_on_a_single_crop():
    """Check that with one crop per batch both Dice modes give the same loss."""
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(1, 4, 8, 8, generator=generator)
    target = (torch.rand(1, 4, 8, 8, generator=generator) > 0.7).float()
    torch.testing.assert_close(
        DiceBCELoss(dice="image")(logits, target),
        DiceBCELoss(dice="batch")(logits, target),
    )


def test_defect_crops_contain_a_defect(frame):
    """Check that with defect_crop_probability=1 every crop of a defective
    image contains defect pixels."""
    encodings = frame[[f"EncodedPixels_{c}" for c in range(1, 5)]].to_numpy(object)
    defective = ~frame[[f"EncodedPixels_{c}" for c in range(1, 5)]].isna().all(axis=1)
    data = MaskCropDataset(
        frame["image_path"].to_numpy()[defective.to_numpy()],
        encodings[defective.to_numpy()],
        image_size=(64, 320),
        crop_size=(64, 64),
        defect_crop_probability=1.0,
    )
    torch.manual_seed(0)
    for _ in range(3):
        for i in range(len(data)):
            image, masks = data[i]
            assert image.shape == (1, 64, 64) and masks.shape == (4, 64, 64)
            assert masks.sum() > 0


@pytest.mark.parametrize(
    "params, match",
    [
        ({"defect_crop_probability": 1.5}, "'defect_crop_probability' parameter"),
        ({"dice": "pixel"}, "'dice' parameter"),
    ],
)
def test_segmenter_rejects_bad_training_params(frame, params, match):
    """Check that bad training parameters raise a ValueError naming them."""
    with pytest.raises(ValueError, match=match):
        DefectSegmenter(**{**TINY, **params}).fit(frame)


def test_segmenter_dice_mode_changes_training(frame):
    """Check that the dice parameter reaches the loss: the two modes train
    to different weights from the same seed."""
    a = DefectSegmenter(**{**TINY, "dice": "image"}).fit(frame)
    b = DefectSegmenter(**{**TINY, "dice": "batch"}).fit(frame)
    assert a.net_.criterion_.dice == "image"
    assert not np.allclose(a.train_loss_, b.train_loss_)
