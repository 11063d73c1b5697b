"""Tests of MaskDisplay: an image with true and predicted masks and the Dice."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from sksteel.datasets import load_severstal, make_steel_surfaces
from sksteel.plotting import MaskDisplay
from sksteel.vision import DefectSegmenter


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_mask_display_dice_and_title():
    """Check the Dice of each class (1 for two empty masks) and that the title
    shows them."""
    true = np.zeros((4, 256, 1600), dtype=bool)
    true[0, :10, :10] = True
    predicted = np.zeros_like(true)
    predicted[0, :10, :5] = True
    predicted[3, :2, :2] = True
    display = MaskDisplay(
        np.zeros((256, 1600, 3)), predicted, true, name="x.jpg"
    ).plot()
    np.testing.assert_allclose(display.dice_, [2 * 50 / 150, 1.0, 1.0, 0.0])
    title = display.ax_.get_title()
    assert title.startswith("x.jpg; Dice crazing 0.67")
    assert "mean 0.67" in title


def test_mask_display_without_truth_has_no_dice():
    """Check that predicted masks alone are drawn without a Dice."""
    display = MaskDisplay(np.zeros((256, 1600)), np.zeros((4, 256, 1600))).plot()
    assert display.dice_ is None
    assert "Dice" not in display.ax_.get_title()


@pytest.mark.parametrize(
    "image, masks, match",
    [
        (np.zeros((128, 800)), None, "256 x 1600"),
        (np.zeros((256, 1600)), np.zeros((3, 256, 1600)), "four class masks"),
    ],
)
def test_mask_display_bad_shapes(image, masks, match):
    """Check that arrays of the wrong shape are refused with their shape."""
    with pytest.raises(ValueError, match=match):
        MaskDisplay(image, masks).plot()


def test_mask_display_from_estimator(tmp_path):
    """Check that from_estimator draws the row's image with the segmenter's
    masks and the masks of the table."""
    root = make_steel_surfaces(n_images=4, random_state=0, data_home=tmp_path)
    frame = load_severstal(root).frame
    model = DefectSegmenter(
        "resnet18",
        image_size=(64, 320),
        crop_size=(64, 128),
        max_epochs=1,
        random_state=0,
        verbose=0,
    ).fit(frame)
    row = int(np.flatnonzero(frame["has_defect"])[0])
    display = MaskDisplay.from_estimator(model, frame, index=row)
    masks = next(model.predict_masks(frame.iloc[[row]]))[0]
    assert display.ax_.get_title().startswith(frame["ImageId"].iloc[row])
    assert display.dice_.shape == (4,)
    expected = MaskDisplay(np.zeros((256, 1600)), masks, display.true_masks).plot()
    np.testing.assert_array_equal(display.dice_, expected.dice_)
