"""Per-class defect pixel fractions predicted from steel-surface images
(paper 2.1.1)."""

import os
import warnings
from numbers import Integral

import numpy as np
import pandas as pd
import torch
from sklearn.base import RegressorMixin, TransformerMixin, clone
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_is_fitted
from skorch import NeuralNetRegressor
from skorch.callbacks import EarlyStopping, ProgressBar
from skorch.helper import predefined_split

from .._schema import FRACTION_COLUMNS
from .._sklearn_compat import Interval, StrOptions, _fit_context
from ..exceptions import DataFormatError, ImageReadWarning, NotFittedError
from ..models._base import _BaseTorchEstimator
from ..preprocessing import RLEDecoder
from ._data import ImageDataset, check_images, image_paths, inference_batches
from ._module import BACKBONES, FractionNet, load_backbone_weights

__all__ = ["DefectFractionRegressor", "predict_fractions"]


def _quiet(*args, **kwargs):
    """A message sink that drops messages (``verbose=0``)."""


class DefectFractionRegressor(TransformerMixin, RegressorMixin, _BaseTorchEstimator):
    """ResNet regression of the four per-class defect pixel fractions of an image.

    Paper 2.1.1: a torchvision ResNet (ResNet-34 by default) with a
    regression head predicts, from a steel-surface image, the fraction of its
    pixels covered by each defect class; trained with MSE and AdamW for 8
    epochs. Its predictions feed the intensity score
    (:class:`~sksteel.preprocessing.IntensityScorer`).

    The head is linear, starts at the mean training fractions and works on
    the scale of each class's spread; predictions are clamped to ``[0, 1]``.
    (A sigmoid head saturates at the small fractions of most images and, on
    the built-in surfaces, learns nothing beyond the mean.)

    Images are read lazily from disk in batches (a torch ``DataLoader``), as
    grey levels (Severstal images carry three identical channels; the first
    convolution takes one channel), resized to `image_size` and flipped
    horizontally at random during training only. Memory grows with
    `batch_size`, not with the number of images.

    Parameters
    ----------
    backbone : {"resnet18", "resnet34", "resnet50"}, default="resnet34"
        The torchvision ResNet.
    weights : str or path-like, default=None
        A local torchvision state dict of `backbone` (e.g. ImageNet weights
        saved with ``torch.save(model.state_dict(), path)``). Its ``fc`` layer
        is dropped and its three-channel first convolution summed over
        channels. ``None`` starts from random weights. Nothing is downloaded.
    image_size : tuple of (int, int), default=(64, 400)
        ``(height, width)`` images are resized to. The default keeps the
        1:6.25 aspect of the 256 x 1600 originals at a quarter of their side,
        so that a 2-core CPU trains a ResNet-34 on about 7.5 images per
        second and predicts about 32 per second (measured by
        ``benchmarks/bench_vision.py``); ``(128, 800)`` sees
        finer defects at about four times the cost. Both sides must be at
        least 32.
    max_epochs : int, default=8
        Training epochs (the paper's 8).
    batch_size : int, default=16
        Images per batch, in training and inference.
    lr : float, default=3e-4
        AdamW learning rate. The paper does not give it; on the built-in
        surfaces, 3e-4 with batches of 16 learns steadily where 1e-3 with
        batches of 32 is erratic.
    weight_decay : float, default=1e-4
        AdamW weight decay.
    early_stopping : bool, default=True
        Hold out `validation_fraction` of the images, stop when their MSE has
        not improved for `n_iter_no_change` epochs and keep the weights of the
        best epoch.
    validation_fraction : float, default=0.1
        Share of the images held out when `early_stopping` is on.
    n_iter_no_change : int, default=5
        Patience of early stopping, in epochs. The validation loss of a few
        dozen images is noisy, so a short patience stops training too early.
    num_workers : int, default=0
        ``DataLoader`` worker processes reading images (0 reads in the main
        process).
    device : str or torch.device, default="auto"
        Torch device; ``"auto"`` picks ``"cuda"`` when available, else
        ``"cpu"``. A device that is not available (say ``"cuda"`` without a
        GPU) raises :class:`~sksteel.exceptions.DeviceUnavailableError`.
    on_error : {"raise", "warn"}, default="raise"
        Missing, unreadable or wrongly sized images, or images of the other
        colour kind (grayscale among RGB images or the reverse), raise an
        :class:`~sksteel.exceptions.ImageReadError` naming them. ``"warn"``
        skips them with an :class:`~sksteel.exceptions.ImageReadWarning`:
        `fit` leaves them out, `predict` and `transform` give them NaN rows.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, the validation split, shuffling and
        flips. The same value gives identical predictions on CPU. Torch's
        global random state is left untouched.
    verbose : "auto" or int, default="auto"
        "auto" shows a progress bar over the epochs with the validation loss
        (on stderr) once training has run for more than two seconds, and one
        over the batches of an inference that takes more than two seconds;
        0 is silent; 1 prints one line per epoch; 2 or more prints skorch's
        per-epoch table and a progress bar over each epoch's batches. Output
        that is not a terminal gets no colour codes.

    Attributes
    ----------
    net_ : skorch.NeuralNetRegressor
        The fitted network (``net_.module_``).
    history_ : skorch.History
        Per-epoch training record (``train_loss``, ``valid_loss``, ...).
    image_colour_ : {"grayscale", "RGB"}
        The colour kind of the training images; images of the other kind are
        refused by `predict` and `transform`.
    image_size_ : tuple of (int, int)
        The ``(height, width)`` the network was trained at, and reads images
        at in `predict` and `transform`.
    n_iter_ : int
        Epochs run.
    validation_loss_ : float or None
        Validation MSE of the kept (best) epoch; None without early stopping.

    See Also
    --------
    sksteel.preprocessing.RLEDecoder : The fractions the model learns.
    sksteel.preprocessing.IntensityScorer : Intensity from the fractions.
    predict_fractions : Fractions of a table's images from a fitted or new model.

    Examples
    --------
    >>> import tempfile
    >>> from sksteel.datasets import load_severstal, make_steel_surfaces
    >>> from sksteel.vision import DefectFractionRegressor
    >>> root = make_steel_surfaces(n_images=4, data_home=tempfile.mkdtemp())
    >>> frame = load_severstal(root).frame
    >>> model = DefectFractionRegressor(
    ...     "resnet18", image_size=(32, 200), max_epochs=1, early_stopping=False,
    ...     random_state=0, verbose=0,
    ... ).fit(frame)
    >>> model.predict(frame).shape
    (4, 4)
    >>> model.transform(frame).shape
    (4, 512)
    """

    _parameter_constraints: dict = {
        **_BaseTorchEstimator._parameter_constraints,
        "backbone": [StrOptions(set(BACKBONES))],
        "weights": [None, str, os.PathLike],
        "image_size": [tuple, list],
        "num_workers": [Interval(Integral, 0, None, closed="left")],
        "on_error": [StrOptions({"raise", "warn"})],
    }

    def __init__(
        self,
        backbone="resnet34",
        *,
        weights=None,
        image_size=(64, 400),
        max_epochs=8,
        batch_size=16,
        lr=3e-4,
        weight_decay=1e-4,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=5,
        num_workers=0,
        device="auto",
        on_error="raise",
        random_state=None,
        verbose="auto",
    ):
        self.backbone = backbone
        self.weights = weights
        self.image_size = image_size
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.num_workers = num_workers
        self.device = device
        self.on_error = on_error
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the network on images and their per-class defect fractions.

        Parameters
        ----------
        X : DataFrame or 1-d array-like of paths
            ``load_severstal(...).frame`` (column ``image_path``), or image
            paths. Every image must be 256 x 1600 (``IMAGE_SHAPE``).
        y : array-like of shape (n_images, 4), default=None
            Per-class defect fractions in ``[0, 1]``; a DataFrame with the
            ``defect_fraction_1..4`` columns is matched by column name.
            ``None`` computes them from the ``EncodedPixels_1..4`` columns of
            `X` with :class:`~sksteel.preprocessing.RLEDecoder`.

        Returns
        -------
        self : DefectFractionRegressor
            The fitted regressor.
        """
        paths, _ = image_paths(X)
        targets = _fraction_targets(X, y, len(paths))
        self.image_size_ = _check_image_size(self.image_size)
        usable, self.image_colour_ = check_images(
            paths, on_error=self.on_error, decode=True
        )
        seed = self._seed()
        device = self._resolve_device()
        with self._seeded(seed):
            self.net_ = self._train(paths[usable], targets[usable], seed, device)
        self._store_history()
        self.validation_loss_ = (
            float(min(self.history_[:, "valid_loss"])) if self.early_stopping else None
        )
        return self

    def predict(self, X):
        """Per-class defect pixel fractions of each image.

        Parameters
        ----------
        X : DataFrame or 1-d array-like of paths
            As in :meth:`fit`; encodings are not needed.

        Returns
        -------
        fractions : DataFrame of shape (n_images, 4)
            Columns ``defect_fraction_1..4``, values in ``[0, 1]``, index of
            `X` (or a RangeIndex). Rows of images skipped under
            ``on_error="warn"`` are NaN.
        """
        check_is_fitted(self)
        outputs, index = self._forward(X, embed=False)
        return pd.DataFrame(
            outputs.astype(np.float64), index=index, columns=list(FRACTION_COLUMNS)
        )

    def transform(self, X):
        """Globally pooled backbone features of each image.

        Parameters
        ----------
        X : DataFrame or 1-d array-like of paths
            As in :meth:`predict`.

        Returns
        -------
        features : ndarray of shape (n_images, 512 or 2048), float32
            512 features for ResNet-18/34, 2048 for ResNet-50; a DataFrame
            with ``set_output(transform="pandas")``. Rows of images skipped
            under ``on_error="warn"`` are NaN.
        """
        check_is_fitted(self)
        return self._forward(X, embed=True)[0]

    def score(self, X, y=None, sample_weight=None):
        """R^2 of the predicted fractions, averaged over the four classes.

        Parameters
        ----------
        X : DataFrame or 1-d array-like of paths
            As in :meth:`fit`.
        y : array-like of shape (n_images, 4), default=None
            True fractions; ``None`` computes them from the encodings of `X`.
        sample_weight : array-like of shape (n_images,), default=None
            Sample weights.

        Returns
        -------
        score : float
            ``r2_score(y, predict(X))``, leaving out images skipped under
            ``on_error="warn"``.
        """
        predicted = self.predict(X).to_numpy()
        targets = _fraction_targets(X, y, len(predicted))
        kept = ~np.isnan(predicted).any(axis=1)
        weight = None if sample_weight is None else np.asarray(sample_weight)[kept]
        return r2_score(targets[kept], predicted[kept], sample_weight=weight)

    def get_feature_names_out(self, input_features=None):
        """Names of the :meth:`transform` features, ``embedding_0`` onwards.

        Parameters
        ----------
        input_features : None
            Ignored (the input is images).

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self)
        d_embedding = self.net_.module_.d_embedding
        return np.array([f"embedding_{i}" for i in range(d_embedding)], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False  # image paths, not a feature matrix
        tags.input_tags.one_d_array = True
        tags.input_tags.string = True
        tags.target_tags.required = False  # computed from the encodings of X
        tags.target_tags.single_output = False
        tags.target_tags.multi_output = True
        return tags

    def _train(self, paths, targets, seed, device):
        """Build the skorch net and train it; returns the fitted net."""
        image_size, train, valid = self.image_size_, np.arange(len(paths)), None
        if self.early_stopping:
            train, valid = _validation_split(len(paths), self.validation_fraction, seed)
        callbacks, settings = self._verbosity_callbacks()
        sink = print if settings["verbose"] else _quiet
        if settings["verbose"] >= 2:
            callbacks.append(("batch_progress", ProgressBar()))
        valid_set = None
        if valid is not None:
            valid_set = ImageDataset(
                paths[valid], targets[valid], image_size=image_size
            )
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStopping(
                        patience=self.n_iter_no_change, load_best=True, sink=sink
                    ),
                )
            )
        net = self._build_net(
            callbacks, settings, valid_set, seed=seed, device=device
        ).initialize()
        if self.weights is not None:
            load_backbone_weights(
                net.module_.backbone, self.weights, name=self.backbone
            )
        net.module_.set_target_scale(*_target_scale(targets[train]))
        train_set = ImageDataset(
            paths[train], targets[train], image_size=image_size, augment=True
        )
        return net.partial_fit(train_set, y=None)

    def _build_net(self, callbacks, settings, valid_set, *, seed, device):
        """The skorch net, not initialised."""
        return NeuralNetRegressor(
            FractionNet,
            module__backbone=self.backbone,
            module__d_out=len(FRACTION_COLUMNS),
            criterion=torch.nn.MSELoss,
            optimizer=torch.optim.AdamW,
            lr=self.lr,
            optimizer__weight_decay=self.weight_decay,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            train_split=None if valid_set is None else predefined_split(valid_set),
            callbacks=callbacks,
            iterator_train__shuffle=True,
            iterator_train__generator=torch.Generator().manual_seed(seed),
            iterator_train__num_workers=self.num_workers,
            iterator_valid__num_workers=self.num_workers,
            device=device,
            **settings,
        )

    def _rebuild_net(self):
        """The fitted net's configuration, for loading saved weights into."""
        settings = {"verbose": 0, "callbacks__print_log": None}
        return self._build_net(
            [], settings, None, seed=0, device=self._resolve_device(fallback=True)
        )

    def _forward(self, X, *, embed):
        """Outputs of the head (or the pooled features) for every image of X."""
        paths, index = image_paths(X)
        usable, dataset, batches = inference_batches(self, paths, skip_unusable=True)
        module, device = self.net_.module_, self.net_.device
        forward = module.embed if embed else module
        outputs, read = [], []
        with torch.inference_mode():
            for images, ok in batches:
                outputs.append(forward(images.to(device)).float().cpu().numpy())
                read.append(ok.numpy())
        outputs, read = np.concatenate(outputs), np.concatenate(read)
        result = np.full((len(paths), outputs.shape[1]), np.nan, dtype=outputs.dtype)
        rows = np.flatnonzero(usable)
        result[rows[read]] = outputs[read]
        if not read.all():
            unread = list(dataset.paths[~read])
            warnings.warn(
                f"{len(unread)} of {len(paths)} image(s) could not be decoded and "
                f"get NaN rows, first {unread[:5]!r}.",
                ImageReadWarning,
                stacklevel=3,
            )
        return result, index


def predict_fractions(regressor, frame, *, random_state=None, verbose=0):
    """Per-class defect fractions of every image of a Severstal table, as
    predicted by a :class:`DefectFractionRegressor`.

    The paper's way to the intensity score (2.1.1): the image model is
    trained on the fractions of the masks of `frame` and its predictions on
    the same images replace the mask fractions. Those are in-sample
    predictions; :func:`~sksteel.datasets.make_steelnet_dataset` with
    ``intensity="model"`` cross-fits instead, so that no image is predicted
    by a model that was trained on it.

    Parameters
    ----------
    regressor : DefectFractionRegressor or None
        A fitted regressor is used as is; an unfitted one is cloned and
        fitted on `frame`; ``None`` fits ``DefectFractionRegressor`` with its
        defaults.
    frame : DataFrame
        ``load_severstal(...).frame``: ``image_path`` and, when a regressor
        must be fitted, ``EncodedPixels_1..4``.
    random_state : int, RandomState instance or None, default=None
        Used when `regressor` is None.
    verbose : int, default=0
        Used when `regressor` is None.

    Returns
    -------
    fractions : DataFrame of shape (len(frame), 4)
        Columns ``defect_fraction_1..4``, index of `frame`.

    Examples
    --------
    >>> import tempfile
    >>> from sksteel.datasets import load_severstal, make_steel_surfaces
    >>> from sksteel.vision import DefectFractionRegressor, predict_fractions
    >>> root = make_steel_surfaces(n_images=4, data_home=tempfile.mkdtemp())
    >>> frame = load_severstal(root).frame
    >>> model = DefectFractionRegressor(
    ...     "resnet18", image_size=(32, 200), max_epochs=1, early_stopping=False,
    ...     random_state=0, verbose=0,
    ... )
    >>> predict_fractions(model, frame).columns.tolist()
    ['defect_fraction_1', 'defect_fraction_2', 'defect_fraction_3', 'defect_fraction_4']
    """
    if regressor is None:
        regressor = DefectFractionRegressor(random_state=random_state, verbose=verbose)
    try:
        check_is_fitted(regressor)
    except NotFittedError:
        regressor = clone(regressor).fit(frame)
    return regressor.predict(frame)


def _fraction_targets(X, y, n_images):
    """Training targets as a float32 array of shape (n_images, 4).

    A DataFrame holding the ``defect_fraction_1..4`` columns is read by
    column name; any other `y` by position.
    """
    if y is None:
        if not isinstance(X, pd.DataFrame):
            raise DataFormatError(
                "No targets: pass `y` (per-class defect fractions, shape "
                f"(n_images, {len(FRACTION_COLUMNS)})) or a table with "
                "EncodedPixels_1..4 columns, such as load_severstal(...).frame, "
                f"to compute them; got X of type {type(X).__name__} and y=None."
            )
        y = RLEDecoder().fit_transform(X)
    if isinstance(y, pd.DataFrame) and set(FRACTION_COLUMNS) <= set(y.columns):
        y = y[list(FRACTION_COLUMNS)]  # matched by name, in any column order
    try:
        targets = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise DataFormatError(
            "Expected `y` to hold pixel fractions: numbers of shape (n_images, "
            f"{len(FRACTION_COLUMNS)}); it cannot be read as numbers: {error}"
        ) from error
    expected = (n_images, len(FRACTION_COLUMNS))
    if targets.shape != expected:
        raise DataFormatError(
            f"Expected `y` of shape {expected!r} (one fraction per image and "
            f"defect class); got shape {targets.shape!r}."
        )
    finite = np.isfinite(targets)
    if not finite.all():
        raise DataFormatError(
            f"Expected `y` to hold pixel fractions in [0, 1]; got {(~finite).sum()} "
            "NaN or inf value(s). Pass the fractions of RLEDecoder (0 when a class "
            "is absent)."
        )
    if targets.min() < 0 or targets.max() > 1:
        raise DataFormatError(
            "Expected `y` to hold pixel fractions in [0, 1]; got values from "
            f"{float(targets.min())!r} to {float(targets.max())!r}."
        )
    return targets.astype(np.float32)


def _check_image_size(image_size):
    """`image_size` as a (height, width) tuple of positive ints."""
    size = tuple(image_size)
    if len(size) != 2 or not all(
        isinstance(side, Integral) and side >= 32 for side in size
    ):
        raise ValueError(
            "The 'image_size' parameter of DefectFractionRegressor must be "
            f"(height, width) with two integers >= 32; got {image_size!r} instead."
        )
    return tuple(int(side) for side in size)


def _validation_split(n_images, validation_fraction, seed):
    """Indices of the training and validation images."""
    n_valid = int(np.ceil(validation_fraction * n_images))
    if n_valid >= n_images:
        raise ValueError(
            f"Early stopping holds out {n_valid} of {n_images} image(s), leaving "
            "none to train on. Pass more images, a smaller `validation_fraction` "
            "or early_stopping=False."
        )
    return train_test_split(np.arange(n_images), test_size=n_valid, random_state=seed)


def _target_scale(targets):
    """Mean and spread of each output over the training targets; the spread
    has a floor so that a class absent from training still gets a scale."""
    return targets.mean(axis=0), np.maximum(targets.std(axis=0), 1e-3)
