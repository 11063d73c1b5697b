"""Tests of load_severstal on the real subset and on small written tables."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from sksteel._schema import ENCODED_COLUMNS
from sksteel.datasets import load_severstal
from sksteel.exceptions import DataFormatError, ImageReadError, MissingImagesWarning

COLUMNS = ["ImageId", "image_path", *ENCODED_COLUMNS, "ClassIds", "has_defect"]

# Three images: b has classes 1 and 3, c has class 4, a has none.
UPDATED = (
    "ImageId,ClassId,EncodedPixels\nb.jpg,3,1 10 300 5\nc.jpg,4,7 3\nb.jpg,1,40 2\n"
)
ORIGINAL = (
    "ImageId_ClassId,EncodedPixels\n"
    "a.jpg_1,\na.jpg_2,\na.jpg_3,\na.jpg_4,\n"
    "c.jpg_1,\nc.jpg_2,\nc.jpg_3,\nc.jpg_4,7 3\n"
    "b.jpg_1,40 2\nb.jpg_2,\nb.jpg_3,1 10 300 5\nb.jpg_4,\n"
)


def write(directory, text, name="train.csv", images=()):
    """A Kaggle-format folder holding ``text`` as its table and empty images."""
    directory = Path(directory)
    (directory / "train_images").mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(text)
    for image in images:
        (directory / "train_images" / image).write_bytes(b"")
    return directory


def test_load_severstal_real_layouts_agree(severstal_dir):
    """Check that both layouts of the real annotations load to the same table
    with the documented counts (their speed is measured in benchmarks, not
    timed here)."""
    common = {"image_dir": severstal_dir / "train_images", "missing_images": "ignore"}
    updated = load_severstal(
        train_csv=severstal_dir / "train_partial_defects.csv",
        image_ids=severstal_dir / "train_partial_image_ids.csv",
        **common,
    )
    original = load_severstal(
        train_csv=severstal_dir / "train_partial_original_layout.csv", **common
    )
    assert (updated.layout, original.layout) == ("updated", "original")
    pd.testing.assert_frame_equal(updated.frame, original.frame)
    frame = updated.frame
    assert len(frame) == 5_621
    assert frame[list(ENCODED_COLUMNS)].notna().sum().tolist() == [478, 135, 2550, 526]
    assert frame[list(ENCODED_COLUMNS)].notna().to_numpy().sum() == 3_689
    assert (~frame["has_defect"]).sum() == 2_361
    row = frame.set_index("ImageId").loc["0a405b396.jpg"]
    assert row["ClassIds"] == "3"
    assert Path(row["image_path"]).is_file()


def test_load_severstal_real_missing_images_are_reported(severstal_dir):
    """Check that the real table with its 26 images raises by default."""
    with pytest.raises(ImageReadError, match=r"5,604 of 5,621 image\(s\)"):
        load_severstal(
            train_csv=severstal_dir / "train_partial_original_layout.csv",
            image_dir=severstal_dir / "train_images",
        )


@pytest.mark.parametrize("text", [UPDATED, ORIGINAL], ids=["updated", "original"])
def test_load_severstal_small_table(tmp_path, text):
    """Check the frame of a small table: columns, dtypes, order, cells."""
    root = write(tmp_path, text, images=["a.jpg", "b.jpg", "c.jpg"])
    data = load_severstal(root)
    frame = data.frame
    assert list(frame.columns) == COLUMNS
    assert frame["ImageId"].tolist() == ["a.jpg", "b.jpg", "c.jpg"]
    assert isinstance(frame.index, pd.RangeIndex)
    assert frame["ClassIds"].tolist() == ["", "1 3", "4"]
    assert frame["has_defect"].tolist() == [False, True, True]
    assert frame["has_defect"].dtype == bool
    assert all(frame[c].dtype == object for c in ENCODED_COLUMNS)
    assert frame.loc[1, "EncodedPixels_3"] == "1 10 300 5"
    assert frame.loc[1, "EncodedPixels_1"] == "40 2"
    assert np.isnan(frame.loc[0, "EncodedPixels_1"])
    assert frame.loc[2, "image_path"] == str(
        (root / "train_images" / "c.jpg").resolve()
    )
    assert data.root == root
    assert "3 image(s)" in data.DESCR


def test_load_severstal_small_layouts_agree(tmp_path):
    """Check that the two layouts of the same small data set load equal."""
    updated = write(tmp_path / "u", UPDATED, images=["a.jpg", "b.jpg", "c.jpg"])
    original = write(tmp_path / "o", ORIGINAL, images=["a.jpg", "b.jpg", "c.jpg"])
    frames = [load_severstal(root).frame for root in (updated, original)]
    for frame in frames:
        frame["image_path"] = frame["image_path"].map(lambda p: Path(p).name)
    pd.testing.assert_frame_equal(*frames)


def test_load_severstal_updated_defect_free_images(tmp_path):
    """Check where the updated layout finds defect-free images: the image
    files, or only the explicit ``image_ids`` (a list or a CSV) when given."""
    root = write(tmp_path, UPDATED, images=["b.jpg", "c.jpg", "d.jpg", "e.jpg"])
    scanned = load_severstal(root, missing_images="ignore").frame
    assert scanned["ImageId"].tolist() == ["b.jpg", "c.jpg", "d.jpg", "e.jpg"]
    assert scanned["ClassIds"].tolist() == ["1 3", "4", "", ""]

    listed = load_severstal(
        root, image_ids=["c.jpg", "a.jpg", "b.jpg"], missing_images="ignore"
    ).frame
    assert listed["ImageId"].tolist() == ["a.jpg", "b.jpg", "c.jpg"]
    pd.DataFrame({"ImageId": ["a.jpg", "b.jpg", "c.jpg"]}).to_csv(
        tmp_path / "ids.csv", index=False
    )
    from_csv = load_severstal(
        root, image_ids=tmp_path / "ids.csv", missing_images="ignore"
    ).frame
    pd.testing.assert_frame_equal(listed, from_csv)


def test_load_severstal_paths_override_root(tmp_path):
    """Check that ``train_csv`` and ``image_dir`` replace the default paths."""
    write(tmp_path, ORIGINAL, name="annotations.csv")
    images = tmp_path / "pictures"
    images.mkdir()
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        (images / name).write_bytes(b"")
    data = load_severstal(train_csv=tmp_path / "annotations.csv", image_dir=images)
    assert data.root == tmp_path
    assert data.frame["image_path"].map(lambda p: Path(p).parent).eq(images).all()


@pytest.mark.parametrize("text", [UPDATED, ORIGINAL], ids=["updated", "original"])
def test_load_severstal_missing_images_raise(tmp_path, text):
    """Check that missing files raise with their count, ids and the fix."""
    root = write(tmp_path, text, images=["b.jpg"])
    with pytest.raises(ImageReadError, match=r"2 of 3 image.*'a.jpg', 'c.jpg'.*"):
        load_severstal(root, image_ids=["a.jpg", "b.jpg", "c.jpg"])
    with pytest.raises(ImageReadError, match="missing_images='warn'"):
        load_severstal(root, image_ids=["a.jpg", "b.jpg", "c.jpg"])


@pytest.mark.parametrize("mode", ["warn", "ignore"])
def test_load_severstal_missing_images_keep_rows(tmp_path, mode, recwarn):
    """Check that 'warn' warns (count and ids), 'ignore' is quiet, and that
    neither drops rows."""
    root = write(tmp_path, ORIGINAL, images=["b.jpg"])
    frame = load_severstal(root, missing_images=mode).frame
    assert frame["ImageId"].tolist() == ["a.jpg", "b.jpg", "c.jpg"]
    caught = [w for w in recwarn if issubclass(w.category, MissingImagesWarning)]
    if mode == "warn":
        assert len(caught) == 1
        assert "2 of 3 image(s)" in str(caught[0].message)
        assert "'a.jpg', 'c.jpg'" in str(caught[0].message)
        assert caught[0].filename == __file__
    else:
        assert not caught


def test_load_severstal_missing_image_folder(tmp_path):
    """Check that a missing image folder counts every image as missing."""
    (tmp_path / "train.csv").write_text(ORIGINAL)
    with pytest.raises(ImageReadError, match="3 of 3 image"):
        load_severstal(tmp_path)
    assert len(load_severstal(tmp_path, missing_images="ignore").frame) == 3


@pytest.mark.parametrize(
    "text, match",
    [
        ("ImageId,EncodedPixels\na.jpg,1 2\n", r"expected the columns.*'ImageId'"),
        ("Image,Class,Pixels\na.jpg,1,1 2\n", "is not a Severstal train.csv"),
        ("ImageId,ClassId,EncodedPixels\na.jpg,5,1 2\n", r"unknown class ids \['5'\]"),
        ("ImageId,ClassId,EncodedPixels\na.jpg,,1 2\n", "unknown class ids"),
        ("ImageId,ClassId,EncodedPixels\na.jpg,x,1 2\n", r"\['x'\].*expected one of"),
        ("ImageId,ClassId,EncodedPixels\n,1,1 2\n", "rows without an ImageId"),
        (
            "ImageId,ClassId,EncodedPixels\na.jpg,1,1 2\na.jpg,1,5 2\n",
            r"more than once: \['a.jpg_1'\]",
        ),
        (
            ORIGINAL.replace("a.jpg_4", "a.jpg_3"),
            r"more than once: \['a.jpg_3'\]",
        ),
        (ORIGINAL.replace("c.jpg_2", "c.jpg_9"), r"unknown class ids \['9'\]"),
        (ORIGINAL.replace("b.jpg_1", "b.jpg1"), r"\['b.jpg1'\] are not of the form"),
        (ORIGINAL.replace("b.jpg_1", "_1"), r"\['_1'\] are not of the form"),
        (
            ORIGINAL.replace("c.jpg_2,\n", ""),
            r"images \['c.jpg'\] have fewer.*Add the missing",
        ),
        ("", "not a readable CSV"),
    ],
)
def test_load_severstal_malformed_table(tmp_path, text, match):
    """Check that each kind of malformed table raises a DataFormatError that
    names the problem, the offending values and the fix."""
    root = write(tmp_path, text)
    with pytest.raises(DataFormatError, match=match):
        load_severstal(root, missing_images="ignore")


def test_load_severstal_malformed_inputs(tmp_path):
    """Check the errors for nonexistent files and inconsistent image ids."""
    with pytest.raises(DataFormatError, match="does not exist"):
        load_severstal(tmp_path)
    with pytest.raises(DataFormatError, match="needs the data set folder"):
        load_severstal()
    root = write(tmp_path, UPDATED)
    with pytest.raises(DataFormatError, match=r"not in `image_ids`.*\['c.jpg'\]"):
        load_severstal(root, image_ids=["a.jpg", "b.jpg"], missing_images="ignore")
    with pytest.raises(DataFormatError, match="does not exist"):
        load_severstal(root, image_ids=tmp_path / "nope.csv")
    (tmp_path / "ids.csv").write_text("Id\nb.jpg\n")
    with pytest.raises(DataFormatError, match="no ImageId column"):
        load_severstal(root, image_ids=tmp_path / "ids.csv")


def test_load_severstal_invalid_parameter(tmp_path):
    """Check that an unknown ``missing_images`` mode is rejected."""
    with pytest.raises(InvalidParameterError, match="missing_images"):
        load_severstal(tmp_path, missing_images="skip")


def test_load_severstal_keeps_encodings_verbatim(tmp_path):
    """Check that encodings are kept as strings, unvalidated (the decoder
    checks them)."""
    root = write(tmp_path, "ImageId,ClassId,EncodedPixels\na.jpg,2,not an rle\n")
    frame = load_severstal(root, missing_images="ignore").frame
    assert frame.loc[0, "EncodedPixels_2"] == "not an rle"
