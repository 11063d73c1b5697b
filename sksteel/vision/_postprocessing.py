"""Post-processing of :class:`DefectSegmenter`'s probabilities, as in the
Severstal competition (a probability threshold and a minimum component area
per class), the Dice it is scored by, and the tuning of both settings."""

import numpy as np
from scipy import ndimage

from .._schema import ENCODED_COLUMNS
from ..preprocessing import rle_decode

__all__ = [
    "N_CLASSES",
    "check_postprocessing",
    "dice_per_class",
    "postprocess",
    "postprocess_batch",
    "tune",
]

N_CLASSES = len(ENCODED_COLUMNS)

#: Candidates of :meth:`DefectSegmenter.tune_postprocessing`.
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)
MIN_AREAS = (0, 200, 800, 2400)


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


def postprocess_batch(probs, threshold, min_area):
    """:func:`postprocess` of each image of a batch ``(n, n_classes, h, w)``."""
    return np.stack([postprocess(p, threshold, min_area) for p in probs])


def tune(batches, encodings, thresholds, min_areas):
    """The per-class threshold and minimum area of the grid that maximise
    the summed Dice over images.

    Parameters
    ----------
    batches : iterable of (ndarray, ndarray)
        Probabilities ``(n_batch, n_classes, 256, 1600)`` and whether each
        image was read (the others are left out).
    encodings : ndarray of object, shape (n_images, n_classes)
        The true encodings of the images, in the order of `batches`.
    thresholds, min_areas : sequence
        The grid.

    Returns
    -------
    best : dict
        ``threshold`` and ``min_area``, lists of one value per class.
    """
    thresholds = np.asarray(thresholds, dtype=np.float64)
    min_areas = np.asarray(min_areas, dtype=np.int64)
    total = np.zeros((len(thresholds), len(min_areas), N_CLASSES))
    start = 0
    for probs, ok in batches:
        stop = start + len(probs)
        truth = true_masks(encodings[start:stop])[ok]
        probs = probs[ok]
        for i, t in enumerate(thresholds):
            raw = probs > t
            for j, area in enumerate(min_areas):
                masks = raw.copy()
                if area > 1:
                    for n, c in np.ndindex(masks.shape[:2]):
                        if masks[n, c].any():
                            masks[n, c] = remove_small(masks[n, c], area)
                total[i, j] += dice_per_class(masks, truth).sum(axis=0)
        start = stop
    best_threshold, best_area = [], []
    for c in range(N_CLASSES):
        i, j = np.unravel_index(np.argmax(total[:, :, c]), total.shape[:2])
        best_threshold.append(float(thresholds[i]))
        best_area.append(int(min_areas[j]))
    return {"threshold": best_threshold, "min_area": best_area}


def check_postprocessing(threshold, min_area):
    """`threshold` and `min_area` as arrays of one value per class."""
    values = np.asarray(threshold, dtype=np.float64)
    if (
        values.shape not in ((), (N_CLASSES,))
        or not ((values > 0) & (values < 1)).all()
    ):
        raise ValueError(
            "The 'threshold' parameter of DefectSegmenter must be a float in (0, 1) "
            f"or {N_CLASSES} of them, one per class; got {threshold!r} instead."
        )
    area = np.asarray(min_area)
    if (
        area.shape not in ((), (N_CLASSES,))
        or area.dtype.kind not in "iu"
        or (area < 0).any()
    ):
        raise ValueError(
            "The 'min_area' parameter of DefectSegmenter must be an int >= 0 or "
            f"{N_CLASSES} of them, one per class; got {min_area!r} instead."
        )
    return (
        np.broadcast_to(values, (N_CLASSES,)),
        np.broadcast_to(area, (N_CLASSES,)),
    )
