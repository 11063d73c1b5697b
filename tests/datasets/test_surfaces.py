"""Tests of make_steel_surfaces: files, masks, pixels, determinism, cache."""

import os
import re

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.utils._param_validation import InvalidParameterError
from threadpoolctl import threadpool_limits

from sksteel._schema import DEFECT_CLASSES, ENCODED_COLUMNS, IMAGE_SHAPE
from sksteel.datasets import load_severstal, make_steel_surfaces
from sksteel.datasets._surface_drawing import _draw_defects, _full_masks, _paint
from sksteel.datasets._surfaces import (
    _MANIFEST,
    _PIXELS,
    _SHAPES,
    _ImageSpec,
    _plan,
)
from sksteel.preprocessing import rle_decode

N_IMAGES = 10


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """A small rendered data set (seed 0) and its loaded table."""
    root = make_steel_surfaces(
        N_IMAGES, data_home=tmp_path_factory.mktemp("rendered"), random_state=0
    )
    return root, load_severstal(root).frame


def fractions(frame):
    """Per-class defect pixel fractions of every defect cell."""
    return {
        c: frame[column]
        .dropna()
        .map(lambda rle: int(np.asarray(rle.split(), dtype=np.int64)[1::2].sum()))
        / (IMAGE_SHAPE[0] * IMAGE_SHAPE[1])
        for c, column in zip(DEFECT_CLASSES, ENCODED_COLUMNS)
    }


def test_make_steel_surfaces_layout(rendered):
    """Check the folder: an original-layout train.csv listing every image, a
    1600 x 256 RGB JPEG with three identical channels per image."""
    root, frame = rendered
    assert root.name.startswith("steel_surfaces_")
    assert sorted(p.name for p in root.iterdir()) == [
        _MANIFEST,
        "params.json",
        "train.csv",
        "train_images",
    ]
    table = pd.read_csv(root / "train.csv")
    assert list(table.columns) == ["ImageId_ClassId", "EncodedPixels"]
    assert len(table) == 4 * N_IMAGES
    assert len(frame) == N_IMAGES
    assert frame["ImageId"].str.fullmatch(r"[0-9a-f]{9}\.jpg").all()
    assert sorted(os.listdir(root / "train_images")) == frame["ImageId"].tolist()
    for path in frame["image_path"]:
        with Image.open(path) as image:
            assert (image.format, image.mode, image.size) == (
                "JPEG",
                "RGB",
                (1600, 256),
            )
            pixels = np.asarray(image)
        assert (pixels[..., 0] == pixels[..., 1]).all()
        assert (pixels[..., 0] == pixels[..., 2]).all()


def _render_with_and_without_defects(spec):
    """The drawn defects of an image, its pixels and its background's."""
    defects = _draw_defects(spec.rng(_SHAPES), spec.classes)
    image = _paint(spec.rng(_PIXELS), defects)
    return defects, image, _paint(spec.rng(_PIXELS), [])


def test_make_steel_surfaces_masks_are_the_altered_pixels(rendered):
    """Check that each image differs from its own background exactly on its
    masks (on the uncompressed array), that the masks are the encodings in
    train.csv, and that the JPEG holds that array."""
    root, frame = rendered
    rows = frame.set_index("ImageId")
    specs = _plan(N_IMAGES, 0.5, np.full(4, 0.25), 3, 0)
    n_defective = 0
    # As in make_steel_surfaces: one BLAS thread for the small products.
    with threadpool_limits(limits=1, user_api="blas"):
        images = [(spec, *_render_with_and_without_defects(spec)) for spec in specs]
    for spec, defects, image, background in images:
        row = rows.loc[spec.image_id]
        assert row["ClassIds"] == " ".join(map(str, spec.classes))
        union = np.zeros(IMAGE_SHAPE, dtype=bool)
        for c, mask in _full_masks(defects, spec.classes).items():
            np.testing.assert_array_equal(mask, rle_decode(row[f"EncodedPixels_{c}"]))
            union |= mask
        changed = image != background
        assert not (changed & ~union).any()
        if union.any():
            n_defective += 1
            assert changed[union].mean() > 0.9
        with Image.open(row["image_path"]) as saved:
            jpeg = np.asarray(saved)[..., 0].astype(float)
        assert np.abs(jpeg - image).mean() < 3.0
    assert n_defective == frame["has_defect"].sum() > 0


@pytest.mark.parametrize("classes", [(1,), (2,), (3,), (4,), (1, 2, 3, 4)])
def test_make_steel_surfaces_each_class_paints_its_mask(classes):
    """Check, for every class, that painting alters its mask's pixels, and
    only those."""
    spec = _ImageSpec(index=7, image_id="x.jpg", classes=classes, random_state=3)
    with threadpool_limits(limits=1, user_api="blas"):
        defects, image, background = _render_with_and_without_defects(spec)
    masks = _full_masks(defects, classes)
    union = np.logical_or.reduce(list(masks.values()))
    changed = image != background
    assert not (changed & ~union).any()
    for mask in masks.values():
        assert mask.any()
        assert changed[mask].mean() > 0.9


def test_make_steel_surfaces_deterministic(rendered, tmp_path):
    """Check that the same seed gives the same bytes (table and images) and
    another seed gives other ones."""
    root, frame = rendered
    again = make_steel_surfaces(N_IMAGES, data_home=tmp_path / "a", random_state=0)
    assert (again / "train.csv").read_bytes() == (root / "train.csv").read_bytes()
    for image_id in frame["ImageId"]:
        path = f"train_images/{image_id}"
        assert (again / path).read_bytes() == (root / path).read_bytes()
    other = make_steel_surfaces(
        N_IMAGES, data_home=tmp_path / "b", random_state=1, render=False
    )
    assert other.name != root.name
    other_frame = load_severstal(other, missing_images="ignore").frame
    assert set(other_frame["ImageId"]).isdisjoint(frame["ImageId"])


def test_make_steel_surfaces_masks_only_matches_rendered(rendered, tmp_path):
    """Check that ``render=False`` writes the same train.csv and no images."""
    root, _ = rendered
    masks_only = make_steel_surfaces(
        N_IMAGES, data_home=tmp_path, random_state=0, render=False
    )
    assert masks_only.name == root.name
    assert (masks_only / "train.csv").read_text() == (root / "train.csv").read_text()
    assert not (masks_only / "train_images").exists()
    with pytest.raises(Exception, match=f"{N_IMAGES} of {N_IMAGES} image"):
        load_severstal(masks_only)


def test_make_steel_surfaces_random_state_instance(tmp_path):
    """Check that a RandomState instance seeds reproducibly like sklearn's."""
    roots = [
        make_steel_surfaces(
            3,
            data_home=tmp_path,
            render=False,
            random_state=np.random.RandomState(seed),
        )
        for seed in (0, 0, 1)
    ]
    assert roots[0] == roots[1] != roots[2]


def test_make_steel_surfaces_prefix_stable(tmp_path):
    """Check that image i does not depend on how many images are generated."""
    small, large = (
        load_severstal(
            make_steel_surfaces(n, data_home=tmp_path, render=False, random_state=5),
            missing_images="ignore",
        ).frame.drop(columns="image_path")
        for n in (4, 12)
    )
    shared = large[large["ImageId"].isin(small["ImageId"])].reset_index(drop=True)
    assert len(shared) == 4
    pd.testing.assert_frame_equal(small, shared)


def test_make_steel_surfaces_cache(tmp_path):
    """Check that a complete data set is reused, that ``overwrite`` rebuilds
    it, and that rendering after a masks-only run keeps the masks."""
    root = make_steel_surfaces(3, data_home=tmp_path, render=False)
    csv_stat = (root / "train.csv").stat()
    (root / "sentinel").touch()
    assert make_steel_surfaces(3, data_home=tmp_path, render=False) == root
    assert (root / "train.csv").stat().st_mtime_ns == csv_stat.st_mtime_ns

    assert make_steel_surfaces(3, data_home=tmp_path, render=True) == root
    assert (root / "train.csv").stat().st_mtime_ns == csv_stat.st_mtime_ns
    assert (root / _MANIFEST).is_file()
    frame = load_severstal(root).frame
    assert len(frame) == 3

    # An interrupted rendering (manifest and an image missing) is completed.
    first = root / "train_images" / frame["ImageId"].iloc[0]
    content = first.read_bytes()
    first.unlink()
    (root / _MANIFEST).unlink()
    make_steel_surfaces(3, data_home=tmp_path, render=True)
    assert first.read_bytes() == content
    assert (root / _MANIFEST).is_file()

    make_steel_surfaces(3, data_home=tmp_path, render=False, overwrite=True)
    assert not (root / "sentinel").exists()
    assert not (root / "train_images").exists()
    assert not list(root.glob(".*.tmp"))


@pytest.mark.parametrize(
    "defect_free_fraction, class_weights, max_defects",
    [(0.5, None, 3), (0.85, (897, 247, 5150, 801), 2), (0.0, (1, 0, 2, 1), 1)],
)
def test_make_steel_surfaces_class_mix(
    tmp_path, defect_free_fraction, class_weights, max_defects
):
    """Check that the proportions of defect-free images, of each class and of
    multi-class images follow the parameters."""
    n_images = 240
    root = make_steel_surfaces(
        n_images,
        data_home=tmp_path,
        defect_free_fraction=defect_free_fraction,
        class_weights=class_weights,
        max_defects_per_image=max_defects,
        render=False,
    )
    frame = load_severstal(root, missing_images="ignore").frame
    defective = frame[frame["has_defect"]]
    assert abs((~frame["has_defect"]).sum() - defect_free_fraction * n_images) <= 3
    n_classes = defective["ClassIds"].str.split().str.len()
    assert n_classes.max() <= max_defects
    if max_defects > 1:
        assert 0.85 < (n_classes == 1).mean() < 0.95
    weights = np.ones(4) if class_weights is None else np.asarray(class_weights)
    single = defective.loc[n_classes == 1, "ClassIds"].astype(int)
    counts = single.value_counts().reindex(DEFECT_CLASSES, fill_value=0)
    # The low-discrepancy sequence misses each count by a few images at most.
    expected = len(single) * weights / weights.sum()
    np.testing.assert_allclose(counts, expected, atol=3)


def test_make_steel_surfaces_defect_sizes(tmp_path):
    """Check Severstal-like defect sizes: mostly 0.1 % - 20 % of the image,
    patches the largest on average."""
    root = make_steel_surfaces(
        160, data_home=tmp_path, defect_free_fraction=0.0, render=False
    )
    sizes = fractions(load_severstal(root, missing_images="ignore").frame)
    medians = {c: s.median() for c, s in sizes.items()}
    assert all(0.003 < m < 0.08 for m in medians.values()), medians
    assert max(sizes, key=lambda c: sizes[c].mean()) == 3
    assert all(s.quantile(0.9) < 0.2 for s in sizes.values())


def test_make_steel_surfaces_verbose(tmp_path, capsys):
    """Check that ``verbose=True`` shows a progress bar."""
    make_steel_surfaces(2, data_home=tmp_path, render=False, verbose=True)
    assert "steel surfaces" in capsys.readouterr().err


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"n_images": 0}, InvalidParameterError, "'n_images'"),
        ({"defect_free_fraction": 1.0}, InvalidParameterError, "'defect_free_fr"),
        ({"defect_free_fraction": -0.1}, InvalidParameterError, "'defect_free_fr"),
        ({"class_weights": (1, 2, 3)}, ValueError, re.escape("got (1, 2, 3)")),
        ({"class_weights": (1, -1, 1, 1)}, ValueError, "non-negative"),
        ({"class_weights": (0, 0, 0, 0)}, ValueError, "not all zero"),
        ({"class_weights": (1, np.nan, 1, 1)}, ValueError, "`class_weights`"),
        ({"max_defects_per_image": 0}, InvalidParameterError, "'max_defects_per"),
        ({"max_defects_per_image": 5}, InvalidParameterError, "'max_defects_per"),
        ({"random_state": "seed"}, InvalidParameterError, "'random_state'"),
        ({"random_state": -1}, InvalidParameterError, "'random_state'"),
        ({"render": "yes"}, InvalidParameterError, "'render'"),
    ],
)
def test_make_steel_surfaces_invalid_parameters(tmp_path, params, error, match):
    """Check that invalid parameters raise a clear error before any work."""
    with pytest.raises(error, match=match):
        make_steel_surfaces(**{"n_images": 2, "data_home": tmp_path, **params})
    assert not list(tmp_path.iterdir())
