"""Path safety of load_severstal and of the image readers: image ids that
resolve outside the data root are refused, symbolic link loops get a clear
sksteel error (issue 12, "Paths")."""

import os

import pandas as pd
import pytest

from sksteel.datasets import load_severstal
from sksteel.exceptions import DataFormatError, ImageReadError
from sksteel.vision._data import image_paths


def _root(tmp_path, ids):
    """A data root with an updated-layout train.csv naming `ids`, and an
    empty train_images folder."""
    root = tmp_path / "root"
    (root / "train_images").mkdir(parents=True)
    rows = "".join(f"{image_id},1,1 5\n" for image_id in ids)
    (root / "train.csv").write_text("ImageId,ClassId,EncodedPixels\n" + rows)
    return root


@pytest.mark.parametrize("missing_images", ["raise", "warn", "ignore"])
def test_load_severstal_refuses_ids_outside_root(tmp_path, missing_images):
    """Check that an id with '..' is refused whatever `missing_images` says,
    and that the message names it."""
    (tmp_path / "secret.jpg").write_bytes(b"x")
    root = _root(tmp_path, ["ok.jpg", "../../secret.jpg"])
    with pytest.raises(DataFormatError, match=r"outside.*'\.\./\.\./secret\.jpg'"):
        load_severstal(root, missing_images=missing_images)


def test_load_severstal_refuses_symlink_out_of_root(tmp_path):
    """Check that a file in train_images that links outside the root is
    refused after resolving the link."""
    (tmp_path / "elsewhere.jpg").write_bytes(b"x")
    root = _root(tmp_path, ["a.jpg"])
    os.symlink(tmp_path / "elsewhere.jpg", root / "train_images" / "a.jpg")
    with pytest.raises(DataFormatError, match=r"outside.*'a\.jpg'"):
        load_severstal(root)


def test_load_severstal_accepts_symlink_inside_root(tmp_path):
    """Check that a link to another file of the image folder is accepted."""
    root = _root(tmp_path, ["a.jpg"])
    (root / "train_images" / "real.jpg").write_bytes(b"x")
    os.symlink("real.jpg", root / "train_images" / "a.jpg")
    frame = load_severstal(root).frame
    assert frame["ImageId"].tolist() == ["a.jpg", "real.jpg"]


def test_load_severstal_names_symlink_loops(tmp_path):
    """Check that image files that are link loops raise an ImageReadError
    naming them, not a raw RuntimeError or OSError."""
    root = _root(tmp_path, ["a.jpg"])
    os.symlink("b.jpg", root / "train_images" / "a.jpg")
    os.symlink("a.jpg", root / "train_images" / "b.jpg")
    with pytest.raises(ImageReadError, match=r"link loops.*'a\.jpg', 'b\.jpg'"):
        load_severstal(root, missing_images="warn")


def test_load_severstal_image_dir_loop_is_a_clear_error(tmp_path):
    """Check that an image folder that is a link loop raises a
    DataFormatError naming it."""
    root = _root(tmp_path, ["a.jpg"])
    loop = tmp_path / "loop"
    os.symlink(loop, loop)
    with pytest.raises(DataFormatError, match="symbolic link loop"):
        load_severstal(root, image_dir=loop)


def test_image_paths_refuses_table_ids_outside_root(tmp_path):
    """Check that the image readers refuse a Severstal table whose id leads
    out of its root, even when the table was built by hand."""
    root = str(tmp_path / "train_images")
    os.mkdir(root)
    table = pd.DataFrame(
        {
            "ImageId": ["a.jpg", "../b.jpg"],
            "image_path": [root + os.sep + "a.jpg", root + os.sep + "../b.jpg"],
        }
    )
    with pytest.raises(DataFormatError, match=r"outside.*'\.\./b\.jpg'"):
        image_paths(table)
    paths, _ = image_paths(table.iloc[:1])
    assert paths.tolist() == [root + os.sep + "a.jpg"]
