"""Training of :class:`DefectSegmenter`: the smp network, the crops of images
and their decoded masks, the BCE + Dice loss, and the checks of the training
input."""

import warnings
from numbers import Integral

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._schema import ENCODED_COLUMNS, IMAGE_SHAPE
from ..exceptions import ImageReadError, ImageReadWarning, RLEError
from ..preprocessing import rle_decode
from ._data import read_image
from ._postprocessing import N_CLASSES

__all__ = [
    "ENCODERS",
    "DiceBCELoss",
    "MaskCropDataset",
    "build_segmentation_net",
    "check_encodings",
    "check_size",
]

#: Decoder widths of the U-Net, from the deepest stage to the output: half of
#: segmentation-models-pytorch's default (256, 128, 64, 32, 16), which on a
#: 2-core CPU trains a ResNet-34 U-Net about 1.5 times faster and loses no
#: Dice on the built-in surfaces.
UNET_DECODER_CHANNELS = (128, 64, 32, 16, 8)

#: Encoders the segmenter accepts: ResNets, whose state dicts are
#: torchvision's (so that `weights` takes a torchvision checkpoint).
ENCODERS = ("resnet18", "resnet34", "resnet50")

#: Probability of a defect pixel the output layer starts at (a class covers
#: 0.5 % to 10 % of a defective image, none of a clean one).
PRIOR = 0.01


def build_segmentation_net(architecture, encoder_name):
    """The smp model with random weights: one grey input channel, four
    class logits."""
    import segmentation_models_pytorch as smp

    if architecture == "fpn":
        net = smp.FPN(
            encoder_name, encoder_weights=None, in_channels=1, classes=N_CLASSES
        )
    else:
        net = smp.Unet(
            encoder_name,
            encoder_weights=None,
            in_channels=1,
            classes=N_CLASSES,
            decoder_channels=UNET_DECODER_CHANNELS,
        )
    # Start every pixel at the prior probability of a defect instead of 0.5:
    # otherwise the first epochs are spent unlearning masks over every image.
    head = net.segmentation_head[0]
    torch.nn.init.constant_(head.bias, np.log(PRIOR / (1 - PRIOR)))
    return net


def downscaled_masks(encodings, size):
    """The four decoded masks of one image as soft ``(4, height, width)``
    targets at `size`: each value is the share of the original pixels of
    that cell covered by the class, so that a one-pixel crack still shows."""
    masks = np.stack([rle_decode(rle) for rle in encodings]).astype(np.float32)
    masks = torch.from_numpy(masks).unsqueeze(0)
    if tuple(size) != IMAGE_SHAPE:
        masks = F.interpolate(masks, size=tuple(size), mode="area")
    return masks.squeeze(0)


class MaskCropDataset(torch.utils.data.Dataset):
    """Image crops and the matching crops of their four class masks, read
    from disk one image at a time.

    Each item is a random crop of the image resized to `image_size`; with
    probability `defect_crop_probability` (when the image has a defect) the
    crop is centred on a random defect pixel, so that small defects are seen
    often. Crops are flipped horizontally with probability 0.5. Randomness
    comes from torch's global generator (seeded by the caller).

    Parameters
    ----------
    paths : ndarray of str, shape (n_images,)
    encodings : ndarray of object, shape (n_images, 4)
        ``EncodedPixels_1..4`` of each image (NaN for an absent class).
    image_size : tuple of int
        ``(height, width)`` the images and masks are resized to.
    crop_size : tuple of int
        ``(height, width)`` of the crops, at most `image_size`.
    defect_crop_probability : float, default=0.5
    """

    def __init__(
        self, paths, encodings, *, image_size, crop_size, defect_crop_probability=0.5
    ):
        self.paths = paths
        self.encodings = encodings
        self.image_size = tuple(image_size)
        self.crop_size = tuple(crop_size)
        self.defect_crop_probability = defect_crop_probability

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        path = self.paths[i]
        try:
            image = read_image(path, self.image_size)
        except OSError as exc:
            raise ImageReadError(
                f"Cannot read image {path!r}: {exc}. Fix or remove the file, or "
                "pass on_error='warn' to skip unreadable images."
            ) from exc
        masks = downscaled_masks(self.encodings[i], self.image_size)
        top, left = self._corner(masks)
        height, width = self.crop_size
        image = image[:, top : top + height, left : left + width]
        masks = masks[:, top : top + height, left : left + width]
        if torch.rand(()) < 0.5:
            image, masks = image.flip(-1), masks.flip(-1)
        return image, masks

    def _corner(self, masks):
        """Top-left corner of the crop."""
        (height, width), (crop_h, crop_w) = self.image_size, self.crop_size
        defect = masks.amax(dim=0) > 0
        if defect.any() and torch.rand(()) < self.defect_crop_probability:
            pixels = defect.nonzero()
            row, col = pixels[torch.randint(len(pixels), ())].tolist()
            top, left = row - crop_h // 2, col - crop_w // 2
        else:
            top = int(torch.randint(height - crop_h + 1, ()))
            left = int(torch.randint(width - crop_w + 1, ()))
        return min(max(top, 0), height - crop_h), min(max(left, 0), width - crop_w)


class DiceBCELoss(nn.Module):
    """Binary cross-entropy plus soft Dice loss on per-class mask logits.

    BCE keeps the gradient alive where no class is present. The Dice term is
    computed either per class over the whole batch (``dice="batch"``), so
    that a class covering a few hundred pixels weighs as much as one
    covering thousands, or per image and class (``dice="image"``), averaged
    over all pairs: a pair whose target is empty then scores
    ``smooth / (sum of its probabilities + smooth)``, so that probability
    mass on a crop without that class costs as much as a missed defect
    (with ``"batch"`` it is diluted by the defects elsewhere in the batch).

    Parameters
    ----------
    smooth : float, default=1.0
        Added to the Dice numerator and denominator.
    dice : {"image", "batch"}, default="batch"
        Where the Dice sums run.

    Shape
    -----
    - Input: logits and targets ``(batch, n_classes, height, width)``,
      targets in ``[0, 1]``.
    - Output: a scalar.

    Examples
    --------
    >>> import torch
    >>> from sksteel.vision._training import DiceBCELoss
    >>> target = torch.zeros(2, 4, 8, 8)
    >>> target[:, 0, :4] = 1.0
    >>> good = DiceBCELoss()(20.0 * (2 * target - 1), target)
    >>> bad = DiceBCELoss()(torch.zeros(2, 4, 8, 8), target)
    >>> bool(good < bad)
    True
    """

    def __init__(self, *, smooth=1.0, dice="batch"):
        super().__init__()
        self.smooth = smooth
        self.dice = dice

    def forward(self, logits, target):
        bce = F.binary_cross_entropy_with_logits(logits, target)
        prob = torch.sigmoid(logits)
        dims = (2, 3) if self.dice == "image" else (0, 2, 3)
        intersection = (prob * target).sum(dims)
        total = prob.sum(dims) + target.sum(dims)
        dice = (2 * intersection + self.smooth) / (total + self.smooth)
        return bce + (1 - dice).mean()


def check_encodings(paths, encodings, on_error):
    """Which images' four encodings decode; raise or warn about the others."""
    problems = {}
    for path, row in zip(paths, encodings):
        for column, rle in zip(ENCODED_COLUMNS, row):
            try:
                rle_decode(rle)
            except RLEError as exc:
                problems.setdefault(str(path), f"{column}: {exc}")
    if not problems:
        return np.ones(len(paths), dtype=bool)
    listed = "; ".join(f"{p!r} ({why})" for p, why in list(problems.items())[:5])
    message = (
        f"{len(problems)} of {len(paths)} image(s) have masks that do not "
        f"decode: {listed}."
    )
    if on_error == "raise" or len(problems) == len(paths):
        raise RLEError(
            f"{message} Fix the encodings, or pass on_error='warn' to skip those "
            "images."
        )
    warnings.warn(
        f"{message} They are left out of training.", ImageReadWarning, stacklevel=3
    )
    return ~np.isin(paths.astype(str), list(problems))


def check_size(size, name):
    """`size` as a (height, width) tuple of positive multiples of 32."""
    try:
        sides = tuple(size)
    except TypeError:
        sides = ()
    if len(sides) != 2 or not all(
        isinstance(s, Integral) and s >= 32 and s % 32 == 0 for s in sides
    ):
        raise ValueError(
            f"The {name!r} parameter of DefectSegmenter must be (height, width) "
            f"with two positive multiples of 32 (the encoder halves the "
            f"resolution five times); got {size!r} instead."
        )
    return tuple(int(s) for s in sides)
