"""Tests of the training pieces of DefectSegmenter: the Dice + BCE loss and
the crop sampler."""

import numpy as np
import pytest
import torch

from sksteel.datasets import load_severstal, make_steel_surfaces
from sksteel.vision import DefectSegmenter
from sksteel.vision._training import DiceBCELoss, MaskCropDataset


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


@pytest.fixture(scope="module")
def frame(tmp_path_factory):
    home = tmp_path_factory.mktemp("surfaces")
    return load_severstal(
        make_steel_surfaces(n_images=10, random_state=0, data_home=home)
    ).frame


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
    model = DefectSegmenter(
        "resnet18", image_size=(64, 320), crop_size=(64, 128), verbose=0, **params
    )
    with pytest.raises(ValueError, match=match):
        model.fit(frame)


def test_segmenter_dice_mode_changes_training(frame):
    """Check that the dice parameter reaches the loss: the two modes train
    to different weights from the same seed."""
    params = dict(
        encoder_name="resnet18",
        image_size=(64, 320),
        crop_size=(64, 128),
        max_epochs=1,
        batch_size=4,
        random_state=0,
        verbose=0,
    )
    a = DefectSegmenter(dice="image", **params).fit(frame)
    b = DefectSegmenter(dice="batch", **params).fit(frame)
    assert a.net_.criterion_.dice == "image"
    assert not np.allclose(a.train_loss_, b.train_loss_)
