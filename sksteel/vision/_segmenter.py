"""Per-class defect masks segmented from steel-surface images: a U-Net (or
FPN) of segmentation-models-pytorch, trained on the decoded RLE masks."""

import os
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted
from skorch import NeuralNet
from skorch.callbacks import ProgressBar

from .._schema import ENCODED_COLUMNS, FRACTION_COLUMNS, IMAGE_SHAPE
from .._sklearn_compat import Interval, StrOptions, _fit_context
from ..exceptions import DataFormatError, ImageReadWarning
from ..preprocessing import rle_encode
from ._data import check_images, image_paths, inference_batches
from ._module import load_backbone_weights
from ._postprocessing import (
    MIN_AREAS,
    THRESHOLDS,
    check_postprocessing,
    dice_per_class,
    encodings_of,
    postprocess_batch,
    true_masks,
    tune,
)
from ._training import (
    ENCODERS,
    DiceBCELoss,
    MaskCropDataset,
    build_segmentation_net,
    check_encodings,
    check_size,
)

__all__ = ["DefectSegmenter"]


class DefectSegmenter(TransformerMixin, BaseEstimator):
    """Segmentation of the four defect classes of steel-surface images.

    A U-Net (or FPN) of segmentation-models-pytorch with a ResNet encoder
    (ResNet-34 by default, the paper's backbone) predicts a probability map
    per defect class. It is trained, with binary cross-entropy plus Dice, on
    the masks decoded from the ``EncodedPixels_1..4`` columns: every pixel
    supervises the network, so a few hundred images go a long way. Its masks
    give the per-class defect fractions (their means) behind the intensity
    score, and Kaggle submissions (:func:`to_submission`).

    Images are read lazily, as grey levels, resized to `image_size` (half the
    side of the 256 x 1600 originals by default, fine enough to see crazing
    cracks and inclusion particles). Training uses random `crop_size` crops,
    half of them centred on a defect pixel, flipped horizontally at random;
    prediction runs on whole images and upsamples the probabilities to
    256 x 1600 before post-processing. Memory grows with `batch_size`, not
    with the number of images.

    Post-processing, as in the Severstal competition: a pixel belongs to
    class ``c`` when its probability exceeds ``threshold[c]``, and connected
    components of fewer than ``min_area[c]`` pixels are removed.
    :meth:`tune_postprocessing` picks both on validation images.

    Parameters
    ----------
    encoder_name : {"resnet18", "resnet34", "resnet50"}, default="resnet34"
        The ResNet encoder.
    architecture : {"unet", "fpn"}, default="unet"
        ``smp.Unet`` (with decoder widths 128, 64, 32, 16, 8) or ``smp.FPN``.
    weights : str or path-like, default=None
        A local torchvision state dict of the encoder's ResNet (e.g. ImageNet
        weights saved with ``torch.save(torchvision.models.resnet34(
        weights="IMAGENET1K_V1").state_dict(), path)`` on a machine that may
        download). Its ``fc`` layer is dropped, its three-channel first
        convolution summed over channels. ``None`` starts from random weights.
        Nothing is downloaded.
    image_size : tuple of (int, int), default=(128, 800)
        ``(height, width)`` images are resized to; both multiples of 32.
    crop_size : tuple of (int, int), default=(128, 256)
        ``(height, width)`` of the training crops, multiples of 32 and at
        most `image_size`.
    max_epochs : int, default=6
        Passes over the training images (one crop per image and pass).
    defect_crop_probability : float, default=0.5
        Probability that a training crop of an image with a defect is
        centred on a random defect pixel (otherwise it is placed uniformly
        at random, as on clean images).
    dice : {"image", "batch"}, default="batch"
        Where the Dice term of the loss is computed: per image and class,
        so that probability on a crop without that class is penalised as a
        miss is, or per class over the batch (see
        :class:`~sksteel.vision._training.DiceBCELoss`).
    batch_size : int, default=8
        Images per batch, in training and inference.
    lr : float, default=1e-3
        AdamW learning rate.
    weight_decay : float, default=1e-4
        AdamW weight decay.
    threshold : float or array-like of 4 floats, default=0.5
        Probability above which a pixel belongs to a class, per class.
    min_area : int or array-like of 4 ints, default=0
        Minimum connected-component area, in pixels of the 256 x 1600
        image, per class; smaller components are removed (0 keeps all).
    fraction : {"mask", "probability"}, default="mask"
        What :meth:`predict_fractions` averages over the 256 x 1600 pixels:
        the post-processed boolean mask, or the probability map itself
        (which, trained on the area-downscaled soft masks, estimates the
        covered share of each cell, and is not cut by `threshold` or
        `min_area`).
    num_workers : int, default=0
        ``DataLoader`` worker processes reading images.
    device : str, default="auto"
        Torch device; ``"auto"`` picks ``"cuda"`` when available.
    on_error : {"raise", "warn"}, default="raise"
        Missing, unreadable or wrongly sized images, images of the other
        colour kind, and encodings that do not decode raise an error naming
        them (:class:`~sksteel.exceptions.ImageReadError`,
        :class:`~sksteel.exceptions.RLEError`). ``"warn"`` skips them with an
        :class:`~sksteel.exceptions.ImageReadWarning`: `fit` leaves them out;
        predictions give them empty masks, NaN fractions and empty encodings.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, crops and flips. The same value gives
        identical predictions on CPU; torch's global random state is left
        untouched.
    verbose : int, default=1
        0 is silent; otherwise an epoch table and progress bars.

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained network (``net_.module_`` is the smp model).
    image_colour_ : str
        Colour kind of the training images ("grayscale" or "RGB").
    image_size_, crop_size_ : tuple of int
        Validated `image_size` and `crop_size`.
    encoder_ : torch.nn.Module
        The trained smp encoder (``net_.module_.encoder``), a ResNet taking
        ``(n, 1, height, width)`` grey images scaled as in training; its
        ``out_channels`` lists the widths of its feature maps.
    n_iter_ : int
        Epochs run.
    train_loss_ : list of float
        Mean training loss of each epoch.

    See Also
    --------
    DefectFractionRegressor : The paper's regression of the fractions.
    to_submission : Write predictions as a Kaggle submission.

    Examples
    --------
    >>> import tempfile
    >>> from sksteel.datasets import load_severstal, make_steel_surfaces
    >>> from sksteel.vision import DefectSegmenter
    >>> root = make_steel_surfaces(n_images=4, data_home=tempfile.mkdtemp())
    >>> frame = load_severstal(root).frame
    >>> model = DefectSegmenter(
    ...     "resnet18", image_size=(64, 320), crop_size=(64, 128), max_epochs=1,
    ...     random_state=0, verbose=0,
    ... ).fit(frame)
    >>> masks = next(model.predict_masks(frame))
    >>> masks.shape, masks.dtype
    ((4, 4, 256, 1600), dtype('bool'))
    >>> model.predict_fractions(frame).shape
    (4, 4)
    """

    _parameter_constraints = {
        "encoder_name": [StrOptions(set(ENCODERS))],
        "architecture": [StrOptions({"unet", "fpn"})],
        "weights": [str, os.PathLike, None],
        "image_size": ["array-like"],
        "crop_size": ["array-like"],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "defect_crop_probability": [Interval(Real, 0, 1, closed="both")],
        "dice": [StrOptions({"image", "batch"})],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "threshold": [Interval(Real, 0, 1, closed="neither"), "array-like"],
        "min_area": [Interval(Integral, 0, None, closed="left"), "array-like"],
        "fraction": [StrOptions({"mask", "probability"})],
        "num_workers": [Interval(Integral, 0, None, closed="left")],
        "device": [str],
        "on_error": [StrOptions({"raise", "warn"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        encoder_name="resnet34",
        *,
        architecture="unet",
        weights=None,
        image_size=(128, 800),
        crop_size=(128, 256),
        max_epochs=6,
        defect_crop_probability=0.5,
        dice="batch",
        batch_size=8,
        lr=1e-3,
        weight_decay=1e-4,
        threshold=0.5,
        min_area=0,
        fraction="mask",
        num_workers=0,
        device="auto",
        on_error="raise",
        random_state=None,
        verbose=1,
    ):
        self.encoder_name = encoder_name
        self.architecture = architecture
        self.weights = weights
        self.image_size = image_size
        self.crop_size = crop_size
        self.max_epochs = max_epochs
        self.defect_crop_probability = defect_crop_probability
        self.dice = dice
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.threshold = threshold
        self.min_area = min_area
        self.fraction = fraction
        self.num_workers = num_workers
        self.device = device
        self.on_error = on_error
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the network on images and their decoded masks.

        Parameters
        ----------
        X : DataFrame
            ``load_severstal(...).frame``: ``image_path`` and
            ``EncodedPixels_1..4``. Every image must be 256 x 1600.
        y : None
            Ignored: the masks come from the encodings of `X`.

        Returns
        -------
        self : DefectSegmenter
            The fitted segmenter.
        """
        paths, _ = image_paths(X)
        encodings = _encodings(X)
        self.image_size_ = check_size(self.image_size, "image_size")
        self.crop_size_ = check_size(self.crop_size, "crop_size")
        if any(c > s for c, s in zip(self.crop_size_, self.image_size_)):
            raise ValueError(
                "The 'crop_size' parameter of DefectSegmenter must be at most "
                f"image_size={self.image_size_!r} on each side; got "
                f"{self.crop_size!r} instead."
            )
        check_postprocessing(self.threshold, self.min_area)
        decodable = check_encodings(paths, encodings, self.on_error)
        usable, self.image_colour_ = check_images(
            paths, on_error=self.on_error, decode=True
        )
        usable &= decodable
        seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.net_ = self._train(paths[usable], encodings[usable], seed)
        self.n_iter_ = len(self.net_.history)
        self.train_loss_ = [float(v) for v in self.net_.history[:, "train_loss"]]
        return self

    def predict_masks(self, X, *, threshold=None, min_area=None):
        """Boolean masks of the four classes at 256 x 1600, batch by batch.

        Parameters
        ----------
        X : DataFrame or 1-d array-like of paths
            As in :meth:`fit`; encodings are not needed.
        threshold : float or array-like of 4 floats, default=None
            Overrides the `threshold` parameter.
        min_area : int or array-like of 4 ints, default=None
            Overrides the `min_area` parameter.

        Yields
        ------
        masks : ndarray of bool, shape (n_batch, 4, 256, 1600)
            The masks of the next `batch_size` images of `X`, in order.
            Images skipped under ``on_error="warn"`` get empty masks. Only
            one batch is in memory at a time.
        """
        check_is_fitted(self)
        threshold, min_area = check_postprocessing(
            self.threshold if threshold is None else threshold,
            self.min_area if min_area is None else min_area,
        )
        batches = self._probabilities(X)
        return (
            postprocess_batch(probs, threshold, min_area) & ok[:, None, None, None]
            for probs, ok in batches
        )

    def predict_proba(self, X):
        """Class probabilities at 256 x 1600, batch by batch.

        Parameters
        ----------
        X : DataFrame or 1-d array-like of paths
            As in :meth:`predict_masks`.

        Yields
        ------
        probabilities : ndarray of float32, shape (n_batch, 4, 256, 1600)
            The probability of each class at each pixel for the next
            `batch_size` images of `X`, in order, before post-processing.
            Images skipped under ``on_error="warn"`` are NaN. Only one batch
            is in memory at a time.
        """
        check_is_fitted(self)
        return (_blank_unread(probs, ok) for probs, ok in self._probabilities(X))

    @property
    def encoder_(self):
        """The trained encoder of the smp model (see the class Attributes)."""
        check_is_fitted(self)
        return self.net_.module_.encoder

    def predict_fractions(self, X):
        """Per-class defect pixel fractions of each image: the means of its
        masks (or probability maps, see `fraction`).

        Parameters
        ----------
        X : DataFrame or 1-d array-like of paths
            As in :meth:`predict_masks`.

        Returns
        -------
        fractions : DataFrame of shape (n_images, 4)
            Columns ``defect_fraction_1..4``, index of `X`. Rows of images
            skipped under ``on_error="warn"`` are NaN.
        """
        check_is_fitted(self)
        _, index = image_paths(X)
        threshold, min_area = check_postprocessing(self.threshold, self.min_area)
        rows = []
        for probs, ok in self._probabilities(X):
            if self.fraction == "probability":
                fractions = probs.mean(axis=(2, 3), dtype=np.float64)
            else:
                masks = postprocess_batch(probs, threshold, min_area)
                fractions = masks.mean(axis=(2, 3))
            fractions[~ok] = np.nan
            rows.append(fractions)
        return pd.DataFrame(
            np.concatenate(rows), index=index, columns=list(FRACTION_COLUMNS)
        )

    def predict(self, X):
        """Per-class defect pixel fractions; the same as :meth:`predict_fractions`.

        Parameters
        ----------
        X : DataFrame or 1-d array-like of paths

        Returns
        -------
        fractions : DataFrame of shape (n_images, 4)
        """
        return self.predict_fractions(X)

    def transform(self, X):
        """Per-class defect pixel fractions, as features.

        Parameters
        ----------
        X : DataFrame or 1-d array-like of paths

        Returns
        -------
        fractions : DataFrame of shape (n_images, 4)
            As :meth:`predict_fractions`.
        """
        return self.predict_fractions(X)

    def predict_rle(self, X):
        """Run-length encodings of the predicted masks, as a Severstal table.

        Parameters
        ----------
        X : DataFrame or 1-d array-like of paths

        Returns
        -------
        encodings : DataFrame of shape (n_images, 4)
            Columns ``EncodedPixels_1..4`` (str, NaN when the class is
            absent, as in ``load_severstal(...).frame``), index of `X`.
            Encoded with :func:`~sksteel.preprocessing.rle_encode`.
        """
        check_is_fitted(self)
        _, index = image_paths(X)
        rows = [
            [rle_encode(mask) or np.nan for mask in masks]
            for batch in self.predict_masks(X)
            for masks in batch
        ]
        return pd.DataFrame(
            rows, index=index, columns=list(ENCODED_COLUMNS), dtype=object
        )

    def score(self, X, y=None, sample_weight=None):
        """Mean Dice of the predicted masks over images and classes.

        As in the Severstal competition, each (image, class) pair scores its
        Dice coefficient, 1 when both masks are empty.

        Parameters
        ----------
        X : DataFrame
            ``image_path`` and ``EncodedPixels_1..4``.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_images,), default=None
            Weights of the images.

        Returns
        -------
        score : float
            Images skipped under ``on_error="warn"`` are left out.
        """
        dice = self.dice_per_image(X)
        kept = ~np.isnan(dice).any(axis=1)
        weight = None if sample_weight is None else np.asarray(sample_weight)[kept]
        return float(np.average(dice[kept].mean(axis=1), weights=weight))

    def dice_per_image(self, X):
        """Dice of each image and class.

        Parameters
        ----------
        X : DataFrame
            ``image_path`` and ``EncodedPixels_1..4``.

        Returns
        -------
        dice : ndarray of shape (n_images, 4)
            NaN for images skipped under ``on_error="warn"``.
        """
        check_is_fitted(self)
        encodings = _encodings(X)
        dice, start = [], 0
        threshold, min_area = check_postprocessing(self.threshold, self.min_area)
        for probs, ok in self._probabilities(X):
            stop = start + len(probs)
            masks = postprocess_batch(probs, threshold, min_area)
            batch = dice_per_class(masks, true_masks(encodings[start:stop]))
            batch[~ok] = np.nan
            dice.append(batch)
            start = stop
        return np.concatenate(dice)

    def tune_postprocessing(self, X, *, thresholds=THRESHOLDS, min_areas=MIN_AREAS):
        """The per-class threshold and minimum area that maximise the Dice on
        validation images.

        Each class is tuned on its own over the grid ``thresholds x
        min_areas``, maximising its mean Dice over the images of `X` (which
        should not be training images). Probabilities are computed once and
        scored batch by batch, so memory stays flat. The segmenter is not
        changed: apply the result with ``set_params(**result)`` (only
        ``threshold`` and ``min_area``; no refit is needed).

        Parameters
        ----------
        X : DataFrame
            Validation images: ``image_path`` and ``EncodedPixels_1..4``.
        thresholds : sequence of float, default=(0.3, 0.4, 0.5, 0.6, 0.7)
        min_areas : sequence of int, default=(0, 200, 800, 2400)

        Returns
        -------
        best : dict
            ``threshold`` and ``min_area`` (lists of 4, for ``set_params``).
        """
        check_is_fitted(self)
        return tune(self._probabilities(X), _encodings(X), thresholds, min_areas)

    def get_feature_names_out(self, input_features=None):
        """Names of the :meth:`transform` features, ``defect_fraction_1..4``.

        Parameters
        ----------
        input_features : None
            Ignored (the input is images).

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self)
        return np.asarray(FRACTION_COLUMNS, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False  # image paths, not a feature matrix
        tags.input_tags.one_d_array = True
        tags.input_tags.string = True
        tags.target_tags.required = False  # the masks come from X
        return tags

    # -- persistence -------------------------------------------------------

    def __getstate__(self):
        """Plain attributes, with the network's weights as numpy arrays (no
        torch object is pickled), so that skops can store the segmenter."""
        state = super().__getstate__().copy()
        net = state.pop("net_", None)
        if net is not None:
            state["net_weights_"] = {
                name: tensor.detach().cpu().numpy()
                for name, tensor in net.module_.state_dict().items()
            }
        return state

    def __setstate__(self, state):
        state = dict(state)
        weights = state.pop("net_weights_", None)
        super().__setstate__(state)
        if weights is not None:
            self.net_ = self._rebuild_net(weights)

    def _rebuild_net(self, weights):
        """The fitted network, rebuilt from the parameters and `weights`.

        Every array's name and shape are checked against the architecture
        before any tensor is made from it, so that a tampered file cannot
        make torch allocate what it declares.
        """
        with torch.random.fork_rng(devices=[]):
            net = self._build_net(
                build_segmentation_net(self.architecture, self.encoder_name)
            )
        expected = {
            name: tuple(tensor.shape)
            for name, tensor in net.module_.state_dict().items()
        }
        got = {name: tuple(np.shape(array)) for name, array in weights.items()}
        if expected != got:
            wrong = sorted(set(expected) ^ set(got)) or sorted(
                name for name in expected if expected[name] != got[name]
            )
            raise DataFormatError(
                "The saved weights do not fit a DefectSegmenter with "
                f"encoder_name={self.encoder_name!r} and "
                f"architecture={self.architecture!r}: mismatched entries "
                f"{wrong[:5]!r}. The model file is damaged or was edited; save "
                "the model again."
            )
        net.module_.load_state_dict(
            {name: torch.from_numpy(np.array(a)) for name, a in weights.items()}
        )
        return net

    # -- training and inference ----------------------------------------------

    def _build_net(self, module, callbacks=(), seed=0):
        """The skorch net around `module`, initialised."""
        return NeuralNet(
            module,
            criterion=DiceBCELoss,
            criterion__dice=self.dice,
            optimizer=torch.optim.AdamW,
            lr=self.lr,
            optimizer__weight_decay=self.weight_decay,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            train_split=None,
            callbacks=list(callbacks),
            iterator_train__shuffle=True,
            iterator_train__generator=torch.Generator().manual_seed(seed),
            iterator_train__num_workers=self.num_workers,
            device=_resolve_device(self.device),
            verbose=self.verbose,
        ).initialize()

    def _train(self, paths, encodings, seed):
        """Build the smp model and train it; returns the fitted skorch net."""
        module = build_segmentation_net(self.architecture, self.encoder_name)
        if self.weights is not None:
            load_backbone_weights(module.encoder, self.weights, name=self.encoder_name)
        callbacks = [("progress", ProgressBar())] if self.verbose else []
        net = self._build_net(module, callbacks, seed)
        dataset = MaskCropDataset(
            paths,
            encodings,
            image_size=self.image_size_,
            crop_size=self.crop_size_,
            defect_crop_probability=self.defect_crop_probability,
        )
        return net.partial_fit(dataset, y=None)

    def _probabilities(self, X):
        """Class probabilities at 256 x 1600, per batch: pairs of an array
        ``(n_batch, 4, 256, 1600)`` float32 and whether each image was read.

        The images are checked first (all of them, headers only), then read
        and predicted one batch at a time.
        """
        paths, _ = image_paths(X)
        usable, _, batches = inference_batches(self, paths, skip_unusable=False)
        module, device = self.net_.module_, self.net_.device
        start, unread = 0, []
        for images, read in batches:
            stop = start + len(images)
            ok = read.numpy() & usable[start:stop]
            with torch.inference_mode():
                logits = module(images.to(device))
                logits = F.interpolate(
                    logits, size=IMAGE_SHAPE, mode="bilinear", align_corners=False
                )
                probs = torch.sigmoid(logits).float().cpu().numpy()
            unread.extend(paths[start:stop][~read.numpy() & usable[start:stop]])
            start = stop
            yield probs, ok
        if unread:  # only under on_error="warn": ImageDataset raises otherwise
            warnings.warn(
                f"{len(unread)} of {len(paths)} image(s) could not be decoded and "
                f"get empty masks, first {unread[:5]!r}.",
                ImageReadWarning,
                stacklevel=3,
            )


def _blank_unread(probs, ok):
    """`probs` with the images not read set to NaN."""
    probs[~ok] = np.nan
    return probs


def _encodings(X):
    """The four encoding columns of `X`, which must be a table holding them."""
    if not isinstance(X, pd.DataFrame) or not set(ENCODED_COLUMNS) <= set(X.columns):
        got = list(X.columns) if isinstance(X, pd.DataFrame) else type(X).__name__
        raise DataFormatError(
            "DefectSegmenter learns from masks: expected a table with the "
            f"columns image_path and {', '.join(ENCODED_COLUMNS)}, such as "
            f"load_severstal(...).frame; got {got!r}."
        )
    return encodings_of(X)


def _resolve_device(device):
    """``"auto"`` as ``"cuda"`` when available, else ``"cpu"``."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device
