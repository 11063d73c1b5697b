"""Masks for :class:`DefectSegmenter`: training crops of images and their
decoded masks, the BCE + Dice loss, and the competition's post-processing
(probability threshold, minimum component area) with the Dice it is scored by.
"""

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage
from torch import nn

from .._schema import ENCODED_COLUMNS, IMAGE_SHAPE
from ..exceptions import ImageReadError
from ..preprocessing import rle_decode
from ._data import read_image

__all__ = [
    "DiceBCELoss",
    "MaskCropDataset",
    "dice_per_class",
    "postprocess",
]


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

    The Dice term is computed per class over the whole batch, so that a class
    covering a few hundred pixels weighs as much as one covering thousands;
    BCE keeps the gradient alive where no class is present.

    Shape
    -----
    - Input: logits and targets ``(batch, n_classes, height, width)``,
      targets in ``[0, 1]``.
    - Output: a scalar.

    Examples
    --------
    >>> import torch
    >>> from sksteel.vision._masks import DiceBCELoss
    >>> target = torch.zeros(2, 4, 8, 8)
    >>> target[:, 0, :4] = 1.0
    >>> good = DiceBCELoss()(20.0 * (2 * target - 1), target)
    >>> bad = DiceBCELoss()(torch.zeros(2, 4, 8, 8), target)
    >>> bool(good < bad)
    True
    """

    def __init__(self, *, smooth=1.0):
        super().__init__()
        self.smooth = smooth

    def forward(self, logits, target):
        bce = F.binary_cross_entropy_with_logits(logits, target)
        prob = torch.sigmoid(logits)
        dims = (0, 2, 3)
        intersection = (prob * target).sum(dims)
        total = prob.sum(dims) + target.sum(dims)
        dice = (2 * intersection + self.smooth) / (total + self.smooth)
        return bce + (1 - dice).mean()


def postprocess(probability, threshold, min_area):
    """Boolean masks from per-class probabilities, the competition's way.

    Parameters
    ----------
    probability : ndarray of shape (n_classes, height, width)
    threshold : ndarray of shape (n_classes,)
        A pixel belongs to class ``c`` when its probability exceeds
        ``threshold[c]``.
    min_area : ndarray of shape (n_classes,)
        Connected components (8-connectivity) of fewer pixels are removed.

    Returns
    -------
    masks : ndarray of bool, shape (n_classes, height, width)

    Examples
    --------
    >>> import numpy as np
    >>> from sksteel.vision import postprocess
    >>> probability = np.zeros((2, 4, 6))
    >>> probability[:, 0, 0] = 0.9  # one pixel of each class
    >>> probability[:, 2:, 2:] = 0.6  # a 2 x 4 block of each class
    >>> masks = postprocess(probability, np.array([0.5, 0.5]), np.array([2, 0]))
    >>> masks.sum(axis=(1, 2)).tolist()
    [8, 9]
    """
    masks = probability > np.asarray(threshold)[:, None, None]
    for c, area in enumerate(min_area):
        if area > 1 and masks[c].any():
            masks[c] = remove_small(masks[c], area)
    return masks


def remove_small(mask, min_area):
    """`mask` without its connected components of fewer than `min_area` pixels."""
    labels, n = ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
    if n == 0:
        return mask
    sizes = np.bincount(labels.ravel())
    keep = sizes >= min_area
    keep[0] = False
    return keep[labels]


def dice_per_class(predicted, true):
    """Dice of each (image, class) pair, 1 when both masks are empty.

    Parameters
    ----------
    predicted, true : ndarray of bool, shape (n_images, n_classes, height, width)

    Returns
    -------
    dice : ndarray of shape (n_images, n_classes)
    """
    intersection = (predicted & true).sum(axis=(2, 3))
    total = predicted.sum(axis=(2, 3)) + true.sum(axis=(2, 3))
    with np.errstate(invalid="ignore", divide="ignore"):
        dice = np.where(total == 0, 1.0, 2.0 * intersection / total)
    return dice


def true_masks(encodings):
    """The decoded masks of a batch, ``(n_images, 4, 256, 1600)`` bool."""
    return np.stack([np.stack([rle_decode(rle) for rle in row]) for row in encodings])


def encodings_of(X):
    """The ``EncodedPixels_1..4`` columns of a table as an object array."""
    return X[list(ENCODED_COLUMNS)].to_numpy(dtype=object)
