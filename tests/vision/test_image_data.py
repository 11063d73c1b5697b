"""Tests of the image input layer of the vision models: paths, checks that name
bad files, lazy reading and the torch module."""

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
import torchvision
from PIL import Image

from sksteel._images import GREY_MEAN, GREY_STD
from sksteel._schema import IMAGE_SHAPE
from sksteel.exceptions import DataFormatError, ImageReadError, ImageReadWarning
from sksteel.vision._data import (
    ImageDataset,
    check_images,
    image_paths,
    read_image,
)
from sksteel.vision._module import FractionNet, load_backbone_weights

HEIGHT, WIDTH = IMAGE_SHAPE


def write_image(path, *, mode="RGB", size=(WIDTH, HEIGHT), seed=0):
    """Write a noise image (three identical channels when RGB) and return its path."""
    grey = np.random.default_rng(seed).integers(0, 256, size[::-1], dtype=np.uint8)
    image = Image.fromarray(grey, mode="L")
    (image.convert(mode) if mode != "L" else image).save(path)
    return str(path)


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory):
    """Six good RGB JPEGs plus one file of each kind of trouble."""
    root = tmp_path_factory.mktemp("images")
    for i in range(6):
        write_image(root / f"good_{i}.jpg", seed=i)
    write_image(root / "grey.jpg", mode="L")
    write_image(root / "small.jpg", size=(800, 128))
    write_image(root / "cmyk.jpg", mode="CMYK")
    (root / "garbage.jpg").write_bytes(b"not an image at all")
    full = (root / "good_0.jpg").read_bytes()
    (root / "truncated.jpg").write_bytes(full[: len(full) // 2])
    return root


def good_paths(image_dir, n=6):
    return np.array([str(image_dir / f"good_{i}.jpg") for i in range(n)], dtype=object)


@pytest.mark.parametrize("container", [list, tuple, np.array, pd.Series])
def test_image_paths_accepts_sequences(image_dir, container):
    """Check that lists, tuples, arrays and Series of paths give str paths."""
    paths, index = image_paths(container(list(good_paths(image_dir))))
    assert paths.tolist() == list(good_paths(image_dir))
    assert index.tolist() == list(range(6))


def test_image_paths_keeps_frame_index(image_dir):
    """Check that a table's ``image_path`` column and index are used."""
    frame = pd.DataFrame({"image_path": good_paths(image_dir)}, index=list("abcdef"))
    paths, index = image_paths(frame)
    assert paths[0].endswith("good_0.jpg")
    assert index.tolist() == list("abcdef")


@pytest.mark.parametrize(
    "X, match",
    [
        (pd.DataFrame({"ImageId": ["a.jpg"]}), "'image_path' column"),
        (pd.DataFrame({"image_path": []}), "Found no images"),
        ([], "Found no images"),
        (["a.jpg", 3], "str or path-like"),
        (np.array([["a.jpg"]]), "1-d list"),
        ("a.jpg", "list of image"),
    ],
)
def test_image_paths_rejects_bad_input(X, match):
    """Check that tables without paths, empty input and non-paths are refused."""
    with pytest.raises(DataFormatError, match=match):
        image_paths(X)


@pytest.mark.parametrize(
    "name, reason",
    [
        ("missing.jpg", "file not found"),
        ("garbage.jpg", "unreadable"),
        ("small.jpg", "size 800x128, expected 1600x256"),
        ("cmyk.jpg", "mode 'CMYK'"),
        ("grey.jpg", "grayscale, while the other images are RGB"),
    ],
)
def test_check_images_names_bad_files(image_dir, name, reason):
    """Check that each kind of bad image raises an error naming it and the count."""
    paths = np.append(good_paths(image_dir), str(image_dir / name))
    with pytest.raises(ImageReadError, match=rf"1 of 7 image\(s\).*{name}.*{reason}"):
        check_images(paths)


def test_check_images_decode_catches_truncated_files(image_dir):
    """Check that a truncated JPEG passes the header check but not decoding."""
    paths = np.append(good_paths(image_dir), str(image_dir / "truncated.jpg"))
    usable, colour = check_images(paths)
    assert usable.all() and colour == "RGB"
    with pytest.raises(ImageReadError, match="truncated.jpg"):
        check_images(paths, decode=True)


def test_check_images_lists_first_few_and_count(image_dir):
    """Check that many bad files are counted and only the first five named."""
    paths = np.array(
        [str(image_dir / f"gone_{i}.jpg") for i in range(8)]
        + [str(image_dir / "good_0.jpg")]
    )
    with pytest.raises(ImageReadError, match=r"8 of 9 .*gone_4.jpg.*; and 3 more"):
        check_images(paths)


def test_check_images_warn_skips_bad_files(image_dir):
    """Check that ``on_error='warn'`` flags bad files and warns instead of raising."""
    paths = np.concatenate(
        [
            good_paths(image_dir, 3),
            [str(image_dir / "missing.jpg")],
            good_paths(image_dir)[3:],
        ]
    )
    with pytest.warns(ImageReadWarning, match="1 of 7 .*missing.jpg"):
        usable, _ = check_images(paths, on_error="warn")
    np.testing.assert_array_equal(usable, [True] * 3 + [False] + [True] * 3)


def test_check_images_warn_raises_when_nothing_is_usable(image_dir):
    """Check that skipping every image is an error even under ``'warn'``."""
    with pytest.raises(ImageReadError, match="1 of 1"):
        check_images(np.array([str(image_dir / "missing.jpg")]), on_error="warn")


def test_check_images_majority_colour_and_fixed_colour(image_dir):
    """Check that a mix reports the fewer kind, and a given colour is enforced."""
    greys = [
        write_image(image_dir / f"grey_{i}.png", mode="L", seed=i) for i in range(3)
    ]
    paths = np.array(greys + [str(image_dir / "good_0.jpg")])
    with pytest.raises(ImageReadError, match=r"good_0.jpg' \(RGB, while the other"):
        check_images(paths)
    with pytest.raises(ImageReadError, match=r"3 of 4 .*grey_0.png' \(grayscale"):
        check_images(paths, colour="RGB")


def test_read_image_shape_and_normalisation(image_dir):
    """Check that images come out grey, resized and normalised, RGB equal to L."""
    rgb = read_image(str(image_dir / "good_0.jpg"), (32, 200))
    assert rgb.shape == (1, 32, 200) and rgb.dtype == torch.float32
    grey_path = write_image(image_dir / "same_grey.png", mode="L", seed=0)
    rgb_path = write_image(image_dir / "same_rgb.png", mode="RGB", seed=0)
    np.testing.assert_allclose(
        read_image(grey_path, (64, 400)), read_image(rgb_path, (64, 400))
    )
    # uniform noise in [0, 1] averages to about 0.5 once resized
    expected = (0.5 - GREY_MEAN) / GREY_STD
    assert abs(float(read_image(grey_path, (64, 400)).mean()) - expected) < 0.1


def test_image_dataset_targets_flags_and_flips(image_dir):
    """Check the items: targets when given, a read flag otherwise, seeded flips."""
    paths, targets = good_paths(image_dir), np.full((6, 4), 0.25)
    image, target = ImageDataset(paths, targets, image_size=(32, 200))[2]
    assert image.shape == (1, 32, 200)
    torch.testing.assert_close(target, torch.full((4,), 0.25))
    assert ImageDataset(paths, image_size=(32, 200))[0][1] is True

    plain = ImageDataset(paths, targets, image_size=(32, 200))
    augmented = ImageDataset(paths, targets, image_size=(32, 200), augment=True)

    def draw():
        torch.manual_seed(0)
        return [augmented[i][0] for i in range(6)]

    first, second = draw(), draw()
    flipped = []
    for i, (image, repeat) in enumerate(zip(first, second)):
        assert torch.equal(image, repeat)
        original = plain[i][0]
        assert torch.equal(image, original) or torch.equal(image, original.flip(-1))
        flipped.append(not torch.equal(image, original))
    assert 0 < sum(flipped) < 6


@pytest.mark.parametrize("on_error", ["raise", "warn"])
def test_image_dataset_decode_failure(image_dir, on_error):
    """Check that a file failing to decode raises, or gives a flagged zero image."""
    dataset = ImageDataset(
        np.array([str(image_dir / "truncated.jpg")]),
        image_size=(32, 200),
        on_error=on_error,
    )
    if on_error == "raise":
        with pytest.raises(ImageReadError, match="truncated.jpg"):
            dataset[0]
    else:
        image, ok = dataset[0]
        assert ok is False and not image.any()


def test_fraction_net_clamps_outside_training_only():
    """Check the one-channel input, the embedding size, and that outputs are
    clamped to [0, 1] in eval mode only (training needs the raw gradient)."""
    torch.manual_seed(0)
    net = FractionNet(backbone="resnet18", d_out=4)
    assert net.backbone.conv1.in_channels == 1 and net.d_embedding == 512
    torch.nn.init.normal_(net.head.weight, std=10.0)
    net.set_target_scale(torch.full((4,), 0.5), torch.full((4,), 1.0))
    x = torch.randn(6, 1, 32, 200)
    with torch.no_grad():
        raw = net.train()(x)
        clamped = net.eval()(x)
    assert raw.shape == clamped.shape == (6, 4)
    assert bool(((raw < 0) | (raw > 1)).any())
    assert bool(((clamped >= 0) & (clamped <= 1)).all())


def test_load_backbone_weights_sums_rgb_conv(tmp_path):
    """Check that a torchvision state dict loads, its conv1 summed over channels."""
    torch.manual_seed(0)
    reference = torchvision.models.resnet18(weights=None)
    path = tmp_path / "resnet18.pth"
    torch.save(reference.state_dict(), path)
    net = FractionNet(backbone="resnet18")
    load_backbone_weights(net.backbone, path, name="resnet18")
    torch.testing.assert_close(
        net.backbone.conv1.weight, reference.conv1.weight.sum(dim=1, keepdim=True)
    )
    torch.testing.assert_close(
        net.backbone.layer4[1].conv2.weight, reference.layer4[1].conv2.weight
    )


def test_load_backbone_weights_errors(tmp_path):
    """Check the errors for a missing file, a wrong architecture and a non-dict."""
    net = FractionNet(backbone="resnet18")
    with pytest.raises(FileNotFoundError, match="nothing is ever downloaded"):
        load_backbone_weights(net.backbone, tmp_path / "none.pth", name="resnet18")
    torch.save(
        torchvision.models.resnet34(weights=None).state_dict(), tmp_path / "r34.pth"
    )
    with pytest.raises(DataFormatError, match="does not fit a torchvision resnet18"):
        load_backbone_weights(net.backbone, tmp_path / "r34.pth", name="resnet18")
    torch.save([1, 2], tmp_path / "list.pth")
    with pytest.raises(DataFormatError, match="not a state dict"):
        load_backbone_weights(net.backbone, tmp_path / "list.pth", name="resnet18")
    (tmp_path / "text.pth").write_text("hello")
    with pytest.raises(DataFormatError, match="could not be read"):
        load_backbone_weights(net.backbone, tmp_path / "text.pth", name="resnet18")


def test_check_images_ignores_warnings_filter_state(image_dir):
    """Check that good images give neither an error nor a warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        usable, colour = check_images(good_paths(image_dir), decode=True)
    assert usable.all() and colour == "RGB"
