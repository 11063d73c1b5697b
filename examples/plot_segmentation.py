"""
Defect masks from steel-surface images with a U-Net
===================================================

The Severstal competition was won by segmentation networks: a U-Net with a
ResNet encoder predicts, for every pixel, the probability of each defect
class, so every pixel of a mask supervises training. The per-class defect
fractions behind SteelNet's intensity score (paper 2.1.1) are then the means
of the predicted masks.

This example trains :class:`~sksteel.vision.DefectSegmenter` briefly on the
built-in synthetic surfaces, draws its masks on fresh surfaces with
:class:`~sksteel.plotting.MaskDisplay` (predicted masks filled, true ones
outlined, the Dice in the title) and, when the real Severstal images are
available beside the project, on real images.

A few dozen images and epochs are far too little for a good model: this is a
tour of the API that runs in under a minute on one core.
``benchmarks/bench_segmentation.py`` measures the segmenter at its defaults.
Set ``SKSTEEL_EXAMPLES_QUICK=1`` for an even shorter run.
"""

# %%
# Training on synthetic surfaces
# ------------------------------
# :func:`~sksteel.datasets.make_steel_surfaces` renders Severstal-like
# 1600 x 256 images and their masks in the Kaggle format. The segmenter reads
# the images lazily, at half their side (128 x 800), and trains on random
# 128 x 256 crops, half of them centred on a defect, with binary
# cross-entropy plus Dice. Here: a ResNet-18 encoder for a few epochs.
import os
from pathlib import Path

import matplotlib.pyplot as plt

from sksteel.datasets import load_severstal, make_steel_surfaces
from sksteel.plotting import MaskDisplay
from sksteel.vision import DefectSegmenter

QUICK = os.environ.get("SKSTEEL_EXAMPLES_QUICK", "0") == "1"

train = load_severstal(make_steel_surfaces(n_images=12 if QUICK else 48)).frame
settings = (
    dict(image_size=(64, 320), crop_size=(64, 128), max_epochs=1)
    if QUICK
    else dict(max_epochs=3)
)
model = DefectSegmenter("resnet18", **settings, random_state=0, verbose=0)
model.fit(train)

# %%
# Masks on fresh surfaces
# -----------------------
# Surfaces of another seed, never seen in training. ``score`` is the
# competition's metric: the Dice of each (image, class) pair, 1 when both
# masks are empty, averaged.
test = load_severstal(make_steel_surfaces(n_images=8, random_state=1)).frame
print(f"mean Dice on {len(test)} fresh surfaces: {model.score(test):.3f}")
print(model.predict_fractions(test).round(4).head())

defective = test.index[test["has_defect"]][:2]
fig, axes = plt.subplots(len(defective), 1, figsize=(12, 2.6 * len(defective)))
for ax, row in zip(axes, defective):
    MaskDisplay.from_estimator(model, test, index=test.index.get_loc(row), ax=ax)
fig.tight_layout()

# %%
# Real Severstal images
# ---------------------
# The labelled real images beside the project, if any (annotations from the
# public partial ``train.csv``). The model has only seen synthetic surfaces,
# so the gap to real images is expected and large.
real_dir = Path("/work/shared/data/severstal")
table = real_dir / "train_partial_original_layout.csv"
if table.is_file() and (real_dir / "train_images").is_dir():
    real = load_severstal(
        train_csv=table, image_dir=real_dir / "train_images", missing_images="ignore"
    ).frame
    real = real[[Path(p).is_file() for p in real["image_path"]]]
    real = real[real["has_defect"]].head(2)
    if len(real):
        fig, axes = plt.subplots(
            len(real), 1, figsize=(12, 2.6 * len(real)), squeeze=False
        )
        for ax, position in zip(axes[:, 0], range(len(real))):
            MaskDisplay.from_estimator(model, real, index=position, ax=ax)
        fig.tight_layout()
else:
    print(f"no real Severstal images in {real_dir}: skipped")

plt.show()
