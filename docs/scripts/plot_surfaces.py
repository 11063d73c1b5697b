"""Figure: generated steel surfaces next to a real Severstal image.

Writes ``docs/images/surfaces.png``: one generated image per defect class and
a multi-class one (of 60 generated images, the one of each kind whose defects
cover the most pixels), each shown as rendered and with its masks overlaid, below
a real Severstal image with its real masks when the real subset is beside the
project (``../shared/data/severstal``, or ``SKSTEEL_SHARED_SEVERSTAL``).

Run from the project root: ``python docs/scripts/plot_surfaces.py``.
"""

import os
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch, Rectangle
from PIL import Image

from sksteel.datasets import (
    CLASS_NAMES,
    DEFECT_CLASSES,
    ENCODED_COLUMNS,
    load_severstal,
    make_steel_surfaces,
)
from sksteel.preprocessing import rle_decode

PROJECT = Path(__file__).resolve().parents[2]
OUTPUT = PROJECT / "docs" / "images" / "surfaces.png"
SEVERSTAL = Path(
    os.environ.get(
        "SKSTEEL_SHARED_SEVERSTAL", PROJECT.parent / "shared" / "data" / "severstal"
    )
)
REAL_IMAGE = "0c888ecb5.jpg"  # classes 3 and 4 in the real annotations
COLOURS = {1: "#e41a1c", 2: "#4daf4a", 3: "#377eb8", 4: "#ffd92f"}
ALPHA = 0.35
ZOOM_WIDTH = 320


def overlay(gray, row):
    """RGB image with each class's mask tinted in its colour, and the masks."""
    rgb = np.repeat(gray[..., None] / 255.0, 3, axis=2)
    masks = {}
    for c, column in zip(DEFECT_CLASSES, ENCODED_COLUMNS):
        masks[c] = rle_decode(row[column])
        colour = np.array(matplotlib.colors.to_rgb(COLOURS[c]))
        rgb[masks[c]] = (1 - ALPHA) * rgb[masks[c]] + ALPHA * colour
    return rgb, masks


def zoom_window(masks, width=ZOOM_WIDTH):
    """Columns of a ``width``-wide window centred on the smallest defect."""
    present = [m for m in masks.values() if m.any()]
    if not present:
        return 800 - width // 2, 800 + width // 2
    smallest = min(present, key=np.count_nonzero)
    centre = int(np.median(np.flatnonzero(smallest.any(axis=0))))
    left = int(np.clip(centre - width // 2, 0, 1600 - width))
    return left, left + width


def read_gray(path):
    return np.asarray(Image.open(path).convert("L"))


def panels(data_home):
    """(title, gray image, table row) of every figure row; the generated
    images go to ``data_home``."""
    rows = []
    if (SEVERSTAL / "train_partial_defects.csv").is_file():
        real = load_severstal(
            train_csv=SEVERSTAL / "train_partial_defects.csv",
            image_ids=SEVERSTAL / "train_partial_image_ids.csv",
            image_dir=SEVERSTAL / "train_images",
            missing_images="ignore",
        ).frame.set_index("ImageId")
        if (SEVERSTAL / "train_images" / REAL_IMAGE).is_file():
            row = real.loc[REAL_IMAGE]
            title = f"real Severstal {REAL_IMAGE}, classes {row['ClassIds']}"
            rows.append((title, read_gray(row["image_path"]), row))

    root = make_steel_surfaces(
        60, data_home=data_home, defect_free_fraction=0.1, random_state=3
    )
    frame = load_severstal(root).frame
    wanted = [str(c) for c in DEFECT_CLASSES]
    multi = frame.loc[frame["ClassIds"].str.len() > 1, "ClassIds"]
    wanted.append(multi.iloc[0])
    # Of each kind, the image whose defects cover the most pixels.
    covered = frame[list(ENCODED_COLUMNS)].map(
        lambda rle: (
            np.asarray(str(rle).split()[1::2], dtype=int).sum()
            if isinstance(rle, str)
            else 0
        )
    )
    frame["covered"] = covered.sum(axis=1)
    for classes in wanted:
        same = frame.loc[frame["ClassIds"] == classes]
        row = same.loc[same["covered"].idxmax()]
        names = ", ".join(CLASS_NAMES[int(c)] for c in classes.split())
        title = f"generated {row['ImageId']}: {names}"
        rows.append((title, read_gray(row["image_path"]), row))
    return rows


def main():
    with tempfile.TemporaryDirectory(prefix="sksteel_figure_") as data_home:
        rows = panels(data_home)
    fig, axes = plt.subplots(
        len(rows),
        2,
        figsize=(20.5, 3.0 * len(rows)),
        squeeze=False,
        gridspec_kw={"width_ratios": [1600, ZOOM_WIDTH]},
    )
    for (title, gray, row), (left, right) in zip(rows, axes):
        rgb, masks = overlay(gray, row)
        left.imshow(rgb, interpolation="lanczos")
        for c, mask in masks.items():
            if mask.any():
                left.contour(mask, levels=[0.5], colors=COLOURS[c], linewidths=0.8)
        start, stop = zoom_window(masks)
        left.add_patch(
            Rectangle((start, 0), stop - start, 255, fill=False, ec="white", lw=0.8)
        )
        right.imshow(gray[:, start:stop], cmap="gray", vmin=0, vmax=255)
        left.set_title(title, fontsize=10, loc="left")
        right.set_title(f"zoom, columns {start}-{stop}", fontsize=9, loc="left")
        for ax in (left, right):
            ax.set_axis_off()
    handles = [
        Patch(color=COLOURS[c], alpha=0.8, label=f"{c} {CLASS_NAMES[c]}")
        for c in DEFECT_CLASSES
    ]
    fig.legend(handles=handles, loc="lower center", ncol=4, frameon=False)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUTPUT, dpi=100)
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
