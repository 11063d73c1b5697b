"""
Defect fractions from steel-surface images with a ResNet
========================================================

The SteelNet paper (section 2.1.1) scores the intensity of a defect from the
image: a ResNet-34 with a regression head predicts, for each of the four
defect classes, the fraction of the image's pixels that the class covers.
It is trained for 8 epochs with a mean squared error loss on the fractions of
the run-length-encoded masks, and reaches a validation loss of 0.003261 on
Severstal. The predicted fractions then feed the intensity score.

This example trains :class:`~sksteel.vision.DefectFractionRegressor` on the
built-in synthetic surfaces, compares its validation MSE with the paper's,
plots predicted against true fractions per class, and, when the real
Severstal images are available beside the project, predicts their fractions.

Set ``SKSTEEL_EXAMPLES_QUICK=1`` for a run of well under a minute (few
images, a ResNet-18, one small epoch); its numbers are then not meaningful.
"""

# %%
# Synthetic surfaces
# ------------------
# :func:`~sksteel.datasets.make_steel_surfaces` renders Severstal-like
# 1600 x 256 images with their masks, in the Kaggle format, half of them
# defect-free. A quarter of the images is held out as a test set.
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split

from sksteel.datasets import (
    CLASS_NAMES,
    DEFECT_CLASSES,
    FRACTION_COLUMNS,
    load_severstal,
    make_steel_surfaces,
)
from sksteel.preprocessing import RLEDecoder
from sksteel.vision import DefectFractionRegressor

QUICK = os.environ.get("SKSTEEL_EXAMPLES_QUICK", "0") == "1"
PAPER_VALIDATION_MSE = 0.003261

frame = load_severstal(
    make_steel_surfaces(n_images=40 if QUICK else 600, random_state=0)
).frame
train, test = train_test_split(
    frame, test_size=0.25, stratify=frame["has_defect"], random_state=0
)
print(f"{len(train)} training and {len(test)} test images")

# %%
# Training
# --------
# The paper's settings are the defaults: ResNet-34, MSE, AdamW, 8 epochs;
# 10 % of the training images are held out for early stopping. Images are
# read lazily, as grey levels resized to 64 x 400 pixels, and flipped at
# random during training.
settings = (
    dict(backbone="resnet18", image_size=(32, 200), max_epochs=1) if QUICK else {}
)
model = DefectFractionRegressor(**settings, random_state=0, verbose=int(not QUICK))
model.fit(train)

# %%
# Validation and test error
# -------------------------
# The validation MSE is measured on the images early stopping held out; the
# test MSE on images the model never saw. Synthetic defects are not
# Severstal's, so the comparison with the paper is indicative only. The
# fractions are small (a class covers 0.5 % to 10 % of an image), so the MSE
# of always predicting the training mean is the baseline to beat.
true = RLEDecoder().fit_transform(test)
predicted = model.predict(test)
baseline = np.broadcast_to(RLEDecoder().fit_transform(train).mean(axis=0), true.shape)
print(f"validation MSE (sksteel): {model.validation_loss_:.6f}")
print(f"validation MSE (paper):   {PAPER_VALIDATION_MSE:.6f}")
print(f"test MSE:                 {mean_squared_error(true, predicted):.6f}")
print(f"test MSE, mean baseline:  {mean_squared_error(true, baseline):.6f}")
print(f"test R^2:                 {model.score(test):.3f}")

# %%
# Predicted against true fractions
# --------------------------------
# One panel per defect class; points on the diagonal are exact predictions.
# Trained from scratch on a few hundred images for 8 epochs, the network
# learns the large patches first. Crazing cracks and inclusion stringers are
# a few pixels wide once the image is shrunk to 64 x 400, and need more
# images and epochs, a larger ``image_size`` or pretrained ``weights``.


def plot_fractions(true, predicted, title):
    """Scatter predicted against true fractions, one panel per class."""
    fig, axes = plt.subplots(1, len(DEFECT_CLASSES), figsize=(12, 3.2))
    for ax, c, column in zip(axes, DEFECT_CLASSES, FRACTION_COLUMNS):
        ax.scatter(true[:, c - 1], predicted[column], s=12, alpha=0.7)
        top = max(true[:, c - 1].max(), predicted[column].max(), 1e-3) * 1.05
        ax.plot([0, top], [0, top], color="grey", linewidth=1, linestyle="--")
        ax.set(
            xlim=(0, top),
            ylim=(0, top),
            title=f"{c} {CLASS_NAMES[c]}",
            xlabel="true fraction",
        )
        ax.locator_params(nbins=3)
    axes[0].set_ylabel("predicted fraction")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


plot_fractions(true, predicted, "Synthetic test surfaces")

# %%
# Real Severstal images
# ---------------------
# The real subset lives in ``../shared/data/severstal`` beside the project
# (``SKSTEEL_SHARED_SEVERSTAL`` overrides the location). Only the images with
# a file and an annotation are kept. A model trained on synthetic surfaces
# meets real steel here for the first time: expect a domain gap (real
# textures read as defects, real defects missed). Train on real annotated
# images for real predictions.
# sphinx-gallery runs the examples from ``examples/`` without ``__file__``.
here = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
repo_root = here.parent
severstal = Path(
    os.environ.get(
        "SKSTEEL_SHARED_SEVERSTAL",
        repo_root.parent / "shared" / "data" / "severstal",
    )
)
if (severstal / "train_images").is_dir():
    real = load_severstal(
        severstal,
        train_csv=severstal / "train_partial_original_layout.csv",
        missing_images="ignore",
    ).frame
    real = real[real["image_path"].map(os.path.exists)]
    real_true = RLEDecoder().fit_transform(real)
    real_predicted = model.predict(real)
    table = real_predicted.set_axis(real["ImageId"]).round(4)
    for c in DEFECT_CLASSES:
        table.insert(2 * (c - 1), f"true_{c}", real_true[:, c - 1].round(4))
    print(table.to_string())
    print(f"real images: MSE {mean_squared_error(real_true, real_predicted):.6f}")
    plot_fractions(real_true, real_predicted, f"{len(real)} real Severstal images")
else:
    print(f"No real Severstal images at {severstal}; skipping this part.")

plt.show()
