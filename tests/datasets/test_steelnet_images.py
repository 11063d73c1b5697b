"""make_steelnet_dataset(images=True): every sample has its rendered image."""

import os

import numpy as np
from PIL import Image

from sksteel._schema import IMAGE_SHAPE
from sksteel.datasets import SENSOR_NAMES, make_steelnet_dataset


def test_images_add_an_image_path_per_sample(tmp_path):
    data = make_steelnet_dataset(
        n_normal=6, n_per_class=2, images=True, data_home=tmp_path
    )
    frame = data.frame
    assert list(frame.columns[:2]) == ["image_id", "image_path"]
    assert list(data.data.columns) == [*SENSOR_NAMES, "image_path"]
    assert data.feature_names == list(SENSOR_NAMES)
    paths = frame["image_path"].to_list()
    assert all(os.path.isfile(path) for path in paths)
    assert [os.path.basename(path) for path in paths] == frame["image_id"].to_list()
    with Image.open(paths[0]) as image:
        assert (image.height, image.width) == IMAGE_SHAPE


def test_images_leave_the_samples_unchanged(tmp_path):
    without = make_steelnet_dataset(n_normal=6, n_per_class=2, data_home=tmp_path)
    with_images = make_steelnet_dataset(
        n_normal=6, n_per_class=2, images=True, data_home=tmp_path
    )
    np.testing.assert_array_equal(
        with_images.frame.drop(columns="image_path").to_numpy(),
        without.frame.to_numpy(),
    )


def test_rendered_surfaces_are_cached(tmp_path):
    first = make_steelnet_dataset(
        n_normal=6, n_per_class=2, images=True, data_home=tmp_path
    )
    mtimes = [os.stat(path).st_mtime_ns for path in first.frame["image_path"]]
    second = make_steelnet_dataset(
        n_normal=6, n_per_class=2, images=True, data_home=tmp_path
    )
    assert second.frame["image_path"].to_list() == first.frame["image_path"].to_list()
    assert [os.stat(p).st_mtime_ns for p in second.frame["image_path"]] == mtimes
