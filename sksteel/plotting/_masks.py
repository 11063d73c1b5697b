"""A steel-surface image with its true and predicted defect masks."""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._schema import CLASS_NAMES, DEFECT_CLASSES, ENCODED_COLUMNS, IMAGE_SHAPE
from ._layout import fit_labels

__all__ = ["MaskDisplay"]

#: One colour per defect class (colour-blind safe, Okabe-Ito).
_COLOURS = ("#E69F00", "#56B4E9", "#009E73", "#CC79A7")


def _check_masks(masks, what):
    """`masks` as a bool array of shape (4, 256, 1600), or None."""
    if masks is None:
        return None
    masks = np.asarray(masks)
    expected = (len(DEFECT_CLASSES), *IMAGE_SHAPE)
    if masks.shape != expected:
        raise ValueError(
            f"`{what}` must be the four class masks of one image, shape "
            f"{expected!r}; got shape {masks.shape!r}."
        )
    return masks.astype(bool)


def _dice(predicted, true):
    """Dice of each class, 1 when both masks are empty."""
    intersection = (predicted & true).sum(axis=(1, 2))
    total = predicted.sum(axis=(1, 2)) + true.sum(axis=(1, 2))
    return np.where(total == 0, 1.0, 2.0 * intersection / np.maximum(total, 1))


class MaskDisplay:
    """A steel-surface image with its true and predicted masks overlaid.

    Each defect class has its colour: the predicted mask is filled,
    translucent; the true mask is outlined. The title gives the Dice of
    each class (1 when both masks are empty) and their mean.

    Build it with :meth:`from_estimator` from a fitted
    :class:`~sksteel.vision.DefectSegmenter` and a Severstal table, or
    directly from arrays.

    Parameters
    ----------
    image : ndarray of shape (256, 1600) or (256, 1600, 3)
        The image, grey levels or RGB.
    predicted_masks : ndarray of bool, shape (4, 256, 1600), default=None
        The predicted mask of each class.
    true_masks : ndarray of bool, shape (4, 256, 1600), default=None
        The true mask of each class. With both masks, the Dice is computed.
    name : str, default=None
        Shown at the start of the title (e.g. the image id).

    Attributes
    ----------
    dice_ : ndarray of shape (4,) or None
        Dice of each class, when both masks are given.
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sksteel.plotting import MaskDisplay
    >>> true = np.zeros((4, 256, 1600), dtype=bool)
    >>> true[2, 50:150, 200:400] = True
    >>> predicted = np.zeros_like(true)
    >>> predicted[2, 50:150, 250:400] = True
    >>> display = MaskDisplay(np.zeros((256, 1600)), predicted, true).plot()
    >>> display.dice_.round(3).tolist()
    [1.0, 1.0, 0.857, 1.0]
    """

    def __init__(self, image, predicted_masks=None, true_masks=None, *, name=None):
        self.image = image
        self.predicted_masks = predicted_masks
        self.true_masks = true_masks
        self.name = name

    def plot(self, ax=None):
        """Draw the image and the masks.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new wide figure is created when None.

        Returns
        -------
        display : MaskDisplay
            This object, with ``dice_``, ``ax_`` and ``figure_``.
        """
        import matplotlib.pyplot as plt
        from matplotlib.colors import to_rgba
        from matplotlib.patches import Patch

        image = np.asarray(self.image)
        if image.shape[:2] != IMAGE_SHAPE:
            raise ValueError(
                f"`image` must be {IMAGE_SHAPE[0]} x {IMAGE_SHAPE[1]} pixels; got "
                f"shape {image.shape!r}."
            )
        predicted = _check_masks(self.predicted_masks, "predicted_masks")
        true = _check_masks(self.true_masks, "true_masks")
        created = ax is None
        if created:
            _, ax = plt.subplots(figsize=(12.0, 2.4))
        ax.imshow(image, cmap="gray" if image.ndim == 2 else None)
        for c, colour in enumerate(_COLOURS):
            if predicted is not None and predicted[c].any():
                overlay = np.zeros((*IMAGE_SHAPE, 4))
                overlay[predicted[c]] = to_rgba(colour, alpha=0.45)
                ax.imshow(overlay)
            if true is not None and true[c].any():
                ax.contour(true[c], levels=[0.5], colors=[colour], linewidths=1.2)
        ax.set_axis_off()
        handles = [
            Patch(color=colour, label=f"{k} {CLASS_NAMES[k]}")
            for k, colour in zip(DEFECT_CLASSES, _COLOURS)
        ]
        ax.legend(handles=handles, loc="upper right", fontsize=7, ncol=4)
        self.dice_ = None
        title = [self.name] if self.name else []
        if predicted is not None and true is not None:
            self.dice_ = _dice(predicted, true)
            scores = " ".join(
                f"{CLASS_NAMES[k]} {d:.2f}" for k, d in zip(DEFECT_CLASSES, self.dice_)
            )
            title.append(f"Dice {scores} (mean {self.dice_.mean():.2f})")
        title.append("filled: predicted, outlined: true")
        ax.set_title("; ".join(title), fontsize=9)
        self.ax_, self.figure_ = ax, ax.figure
        fit_labels(self.figure_, resize=created)
        return self

    @classmethod
    def from_estimator(cls, estimator, X, *, index=0, name=None, ax=None):
        """Plot one image of `X` with the masks `estimator` predicts for it.

        Parameters
        ----------
        estimator : fitted DefectSegmenter
        X : DataFrame
            A Severstal table (``image_path``; with ``EncodedPixels_1..4``,
            the true masks are drawn too and the Dice computed).
        index : int, default=0
            Position of the image's row in `X`.
        name : str, default=None
            Title start; by default the row's ``ImageId`` (or its path).
        ax : matplotlib Axes, default=None

        Returns
        -------
        display : MaskDisplay
        """
        from PIL import Image

        from ..preprocessing import rle_decode

        check_is_fitted(estimator)
        row = X.iloc[[index]]
        predicted = next(iter(estimator.predict_masks(row)))[0]
        true = None
        if set(ENCODED_COLUMNS) <= set(X.columns):
            true = np.stack([rle_decode(row[c].iloc[0]) for c in ENCODED_COLUMNS])
        with Image.open(row["image_path"].iloc[0]) as image:
            pixels = np.asarray(image.convert("L"))
        if name is None:
            name = str(
                row["ImageId"].iloc[0]
                if "ImageId" in row
                else row["image_path"].iloc[0]
            )
        return cls(pixels, predicted, true, name=name).plot(ax=ax)
