"""SteelNetClassifier: the SteelNet network as a scikit-learn classifier."""

from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from sklearn.base import ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_array
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted
from skorch.dataset import Dataset
from skorch.helper import predefined_split

from .._sensors import AUTO_FAILURE_RATES_CONSTRAINT, SENSORS_CONSTRAINT
from .._sklearn_compat import Interval, StrOptions, _fit_context
from .._validation import _validate_readings
from ..exceptions import NotFittedError
from ..nn import SteelNet, SteelNetLoss
from ._base import _BaseTorchEstimator
from ._images import (
    IMAGE_PARAMETER_CONSTRAINTS,
    MODALITIES,
    embeddings,
    image_net_params,
    network_inputs,
    similar_surfaces,
    split_images,
    take_rows,
)
from ._inputs import (
    STANDARDISED_BOUND,
    align_attribution_prior,
    align_columns,
    column_names,
    nan_standardisation,
    no_defect_classes,
    resolve_failure_rates,
    resolve_operating_ranges,
    sample_weight_target,
    standardise,
    unstandardise,
)
from ._learner import fit_temperature, robust_standardisation
from ._scoring import scorer_names
from ._training import (
    VALIDATION_METRICS,
    SteelNetNeuralNet,
    TensorBatches,
    softmax,
    training_callbacks,
    validation_split,
)

__all__ = ["SteelNetClassifier"]

_FLOAT_DTYPES = (np.float64, np.float32)

#: Smallest batch for validation and prediction: no gradients are kept, so
#: larger batches only save per-batch overhead.
_EVAL_BATCH_SIZE = 1024

#: The network and training of paper 2.2, for the parameters whose sksteel
#: default differs: :meth:`SteelNetClassifier.paper` applies them.
PAPER_PARAMS = {
    "numeric_embedding": None,
    "n_ensemble": 1,
    "scaling": "standard",
    "soft_clip": None,
    "label_smoothing": 0.0,
    "temperature_scaling": False,
    "batch_size": 64,
    "lr": 1e-3,
    "scoring": "accuracy",
    "failure_rates": "table",
}


class SteelNetClassifier(ClassifierMixin, _BaseTorchEstimator):
    """SteelNet: defect class, intensity and sensor attribution (paper 2.2).

    A scikit-learn classifier whose ``fit`` builds and trains a skorch
    ``NeuralNet`` (``net_``) around :class:`sksteel.nn.SteelNet`: a
    three-layer encoder of the readings (eqs 2-4), self-attention across
    per-sensor tokens, a physics branch encoding each reading's deviation
    from its normal operating range, and three heads (class, intensity,
    attribution) trained with :class:`sksteel.nn.SteelNetLoss`.

    Training follows the paper: AdamW, gradient clipping, cosine annealing,
    modality dropout on every batch, and early stopping on a stratified
    internal validation split that restores the best weights (the best
    validation score; among tied epochs, the lowest validation loss). Readings are
    standardised inside the estimator; a missing reading is NaN and reaches
    the network as "missing", never as a value.

    Works on any numeric table: without ``intensity`` or
    ``attribution_prior`` the matching loss terms are off. Sensor columns
    (see ``sensors``) get the sensor table's normal ranges and failure
    rates; other columns get neutral defaults (see ``operating_ranges`` and
    ``failure_rates``). Columns are matched by name at prediction time (see
    ``missing_columns``).

    Parameters
    ----------
    alpha, beta, gamma, delta : float, default=1.0, 0.5, 0.3, 0.1
        Weights of the class, intensity, attribution and sparsity terms of
        the loss (paper eq 6). ``gamma=0`` is the "w/o attribution loss"
        ablation.
    epsilon : float, default=0.1
        Weight of the cross-modal alignment term: a symmetric InfoNCE loss
        (learnable temperature) between the sensor and the image embedding
        of each training row that has both. Used only with images.
    image_column : str, "auto" or None, default="auto"
        The column of a DataFrame ``X`` holding each row's surface-image
        file (NaN or None where a row has no image). ``"auto"``: the column
        ``image_path`` when ``X`` has it; None: sensors only; a name: that
        column, which must exist. Without an image column the estimator is
        the sensors-only SteelNet, unchanged. See the user guide, "Fusing
        the camera and the sensors".
    image_encoder : "scratch" or fitted DefectSegmenter, default="scratch"
        ``"scratch"``: a small CNN trained end to end on the grey images at
        ``image_size``; a fitted :class:`~sksteel.vision.DefectSegmenter`:
        the pooled deepest features of its encoder (at the segmenter's
        ``image_size_``), frozen or fine-tuned (``freeze_image_encoder``).
    freeze_image_encoder : bool, default=True
        With a segmenter as ``image_encoder``: True keeps its encoder's
        weights and caches its features; False trains a copy of the encoder
        with the rest of the network (the segmenter itself is untouched).
        Ignored for ``"scratch"``.
    image_size : tuple of int, default=(64, 400)
        ``(height, width)`` the images are read at for ``"scratch"``.
    image_root : str, path-like or None, default=None
        Folder the image paths are relative to; a path resolving outside it
        (``..``, symbolic links) is refused. None uses the paths as given.
    image_dropout : float, default=0.3
        Probability of dropping a row's image in each training batch (its
        image then reads as missing), beside ``failure_rates``.
    on_error : {"raise", "warn"}, default="raise"
        An image that is unreadable, not 1600 x 256 or of another colour
        kind than the training images: an
        :class:`~sksteel.exceptions.ImageReadError`, or a warning
        (:class:`~sksteel.exceptions.ImageReadWarning`) and a missing image.
    hidden_layer_sizes : tuple of int, default=(256, 256, 128)
        Widths of the encoder layers; the last is the size of ``z``.
    d_token : int, default=32
        Size of a sensor token in the attention branch.
    n_heads : int, default=4
        Number of attention heads; must divide ``d_token``.
    dropout : float, default=0.1
        Dropout in the encoder and attention; 0 switches it off.
    use_attention : bool, default=True
        False is the "w/o self-attention" ablation.
    use_physics : bool, default=True
        False is the "w/o physics constraints" ablation.
    failure_rates : "auto", "table", float, dict or array-like of shape \
            (n_features,), default="auto"
        Probability of dropping each column's reading in every training
        batch (modality dropout, paper eq 5), in the vocabulary of
        :func:`sksteel.datasets.failure_rates` and
        :class:`~sksteel.sampling.ModalityDropout`: ``"table"`` gives the
        sensor columns the failure table scaled to mean ``p_base`` and other
        columns ``p_base`` (the paper's rule); ``"auto"`` is ``"table"``
        when a sensor table applies (``sensor_table_`` is not None, as on
        the steel sensors) and no modality dropout otherwise, since on
        tables without a sensor table dropping every column at ``p_base``
        cost accuracy (user guide, "Modality dropout without a sensor
        table"); a float, a dict ``{column: probability}`` or an array set
        the rates directly. ``0`` switches modality dropout off.
    p_base : float, default=0.2
        Mean failure probability of the ``"table"`` rates (and of
        ``"auto"`` when a sensor table applies).
    sensors : {"auto", "steel"}, DataFrame or None, default="auto"
        Which columns are sensors, and of which table (names, normal
        ``low``/``high`` and ``failure_probability``): they take its ranges
        and failure rates. ``"auto"``: the steel table
        (:data:`sksteel.datasets.SENSORS`) when all ten steel sensors are
        columns (names also matched behind an unambiguous prefix such as
        ``remainder__``; an array of exactly ten columns is read in the
        table's order), else none; ``"steel"``: every column named after a
        steel sensor; a DataFrame: your table; None: no sensor table. The
        outcome is ``sensor_table_``.
    missing_columns : {"nan", "error"}, default="nan"
        At prediction, a training column absent from a DataFrame ``X``:
        ``"nan"`` reads it as a sensor that failed on every row (NaN) and
        warns (:class:`~sksteel.exceptions.MissingColumnsWarning`);
        ``"error"`` refuses ``X``. Columns in another order are always
        matched by name.
    extra_columns : {"error", "ignore"}, default="error"
        At prediction, columns of a DataFrame ``X`` not seen in ``fit``:
        an error, or dropped with ``"ignore"``.
    numeric_embedding : {"periodic"} or None, default=None
        Embed every reading (:class:`sksteel.nn.NumericEmbedding`, periodic,
        with a learned missing token) before the encoder; None feeds the
        readings themselves, as in the paper.
    d_embedding : int, default=8
        Size of each reading's embedding.
    n_ensemble : int, default=1
        Members of a TabM-mini ensemble sharing the encoder: training
        minimises the mean of their losses, prediction averages their
        probabilities. 1 is a single network, as in the paper.
    scaling : {"robust", "standard"}, default="standard"
        How readings are centred and scaled: median and inter-quartile
        range ("robust"), or mean and standard deviation ("standard", the
        paper), both ignoring NaN.
    soft_clip : float or None, default=None
        Smoothly limit scaled readings to +-``soft_clip`` before the encoder
        and the attention (:class:`sksteel.nn.SoftClip`); the physics
        branch sees them unclipped. None switches it off.
    label_smoothing : float, default=0.0
        Label smoothing of the cross-entropy term, in ``[0, 1)``.
    temperature_scaling : bool, default=False
        Fit a temperature on the internal validation split after training
        (lowest log-loss) to calibrate ``predict_proba``; needs a
        validation split.
    operating_ranges : array-like of shape (n_features, 2) or dict, default=None
        Normal ``(low, high)`` per column for the physics branch, in the
        columns' units; a dict ``name -> (low, high)`` overrides some
        columns. By default, sensor columns take the sensor table's range
        and any other column its training mean +- one standard deviation.
    attribution_prior : array-like or DataFrame of shape (n_classes, \
            n_features), default=None
        Ground-truth attribution per class (rows in ``classes_`` order, or
        a DataFrame indexed by class label). None leaves the attribution
        head unsupervised (sparsity term only).
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the cross-entropy term, as in
        scikit-learn.
    lr : float, default=1e-3
        AdamW learning rate (start of the cosine schedule).
    weight_decay : float, default=1e-4
        AdamW weight decay.
    max_grad_norm : float or None, default=1.0
        Gradient clipping norm; None switches clipping off.
    batch_size : int, default=64
        Mini-batch size for training (at least 2, for batch normalisation);
        validation and prediction use batches of at least 1,024 rows.
    max_epochs : int, default=50
        Maximum number of epochs.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the training data (stratified),
        stop when the validation score has not improved for
        ``n_iter_no_change`` epochs and keep the weights of the best epoch.
        False, or data too small for a stratified split (a class with fewer
        than two samples, or fewer held-out rows than classes), trains on
        everything for ``max_epochs``.
    validation_fraction : float, default=0.15
        Fraction of the training data held out when ``early_stopping`` is on.
    n_iter_no_change : int, default=10
        Epochs without improvement of the validation score before stopping.
        An epoch that ties the best score with a lower validation loss
        counts as an improvement, so training goes on while the model still
        improves on a plateau of, say, the accuracy.
    scoring : str or callable, default="accuracy"
        Validation score monitored by early stopping: ``"loss"``, or a
        scikit-learn scorer name (:func:`sklearn.metrics.get_scorer_names`,
        e.g. ``"accuracy"``, ``"balanced_accuracy"``, ``"f1_macro"``,
        ``"roc_auc_ovr"``, ``"neg_log_loss"``); a callable
        ``score(y_true, y_pred)`` (greater is better) also works. With
        ``class_weight`` or ``sample_weight``, validation samples are
        weighted as in the loss.
    callbacks : list of skorch callbacks or (name, callback) tuples, \
            default=None
        Extra callbacks appended to the net's (cloned at each fit).
    device : str or torch.device, default="auto"
        Torch device; "auto" is "cuda" when available, else "cpu". A device
        that is not available (say "cuda" without a GPU) raises
        :class:`~sksteel.exceptions.DeviceUnavailableError` in ``fit``.
    random_state : int, RandomState instance or None, default=None
        Seeds the validation split, the weights, the batches and modality
        dropout. An int gives identical predictions on CPU. Torch's global
        random state (CPU and CUDA) is left untouched.
    verbose : "auto" or int, default="auto"
        "auto" shows a progress bar over the epochs with the validation
        score (on stderr), once training has run for more than two seconds;
        0 is silent; 1 prints one line per epoch; 2 or more prints skorch's
        per-epoch table. Output that is not a terminal gets no colour codes.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of columns seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``X`` was a DataFrame with string column names.
    net_ : skorch.NeuralNet
        The trained net; ``net_.module_`` is the :class:`~sksteel.nn.SteelNet`.
    history_ : skorch.History
        Per-epoch training record (``train_loss``, ``valid_loss``,
        ``valid_<scoring>``, ...).
    n_iter_ : int
        Number of epochs run.
    feature_attributions_ : DataFrame of shape (n_classes, n_features_in_)
        The paper's class-level attribution: the attribution head's output
        (``explain(X, method="head")``) averaged per true class on the
        training data; rows sum to 1. It is not computed from Shapley
        values; for a per-class importance from them see
        :func:`sksteel.inspection.shapley_importance`.
    mean_, scale_ : ndarray of shape (n_features_in_,)
        NaN-aware centre and scale used to standardise ``X`` (median and
        ``IQR / 1.349`` with ``scaling="robust"``, else mean and standard
        deviation).
    operating_ranges_ : ndarray of shape (n_features_in_, 2)
        Normal ranges used by the physics branch, in the columns' units.
    failure_rates_ : ndarray of shape (n_features_in_,)
        Per-column modality dropout probability during training.
    sensor_table_ : DataFrame or None
        The sensor table rows applied, one per sensor column (index: the
        column names; columns ``sensor``, ``low``, ``high``,
        ``failure_probability``), or None when no column is a sensor.
    attribution_prior_ : ndarray of shape (n_classes, n_features_in_) or None
        The prior aligned to ``classes_`` and the columns.
    intensity_mean_, intensity_scale_ : float or None
        Standardisation of the intensity target; None when fitted without
        ``intensity``.
    temperature_ : float
        Temperature dividing the class logits (1.0 without
        ``temperature_scaling``).
    image_column_ : str or None
        The image column used; None when fitted on the sensors only.
    image_shape_ : tuple of int
        Shape of one image's network input (pixels or encoder features);
        only with images.
    image_colour_ : str
        Colour kind of the training images ("grayscale" or "RGB"); only
        with images.
    surfaces_ : DataFrame or None
        The training rows with an image: ``image_path`` and
        ``defect_class``, for :meth:`similar_surfaces`; None without images.
    surface_embeddings_ : ndarray of shape (len(surfaces_), d) or None
        Their image embeddings.

    See Also
    --------
    sksteel.nn.SteelNet : The torch module.
    sksteel.sampling.ModalityDropout : Modality dropout as a pipeline step.

    Notes
    -----
    :meth:`paper` builds the network and training of paper 2.2 exactly
    (``PAPER_PARAMS``): no embeddings, a single network, mean and standard
    deviation scaling, no label smoothing or temperature, batches of 64,
    learning rate 1e-3, early stopping on the validation accuracy, and
    modality dropout at ``p_base`` on every column that is not a sensor of
    a table (``failure_rates="table"``). The defaults are that
    configuration too, but for one rule: ``failure_rates="auto"`` trains
    without modality dropout when no sensor table applies, which is the same
    on the steel sensors. The options that tabular deep
    learning found to help (periodic embeddings, TabM-style ensembling,
    robust scaling with soft clipping, label smoothing, temperature scaling,
    larger batches) are parameters, but the study of
    ``benchmarks/bench_learners.py --study`` found no combination of them
    that beats the paper's configuration clearly across its suite of tables.
    Self-attention has one token per column, so on wide tables (hundreds of
    columns) ``use_attention=False`` is much faster.

    Any finite reading gives finite outputs: a reading further than
    ``1e6`` training standard deviations from the training mean (say a
    sensor glitch of ``1e30``) counts as ``1e6`` standard deviations away.
    ``inf`` and ``-inf`` are errors.

    The intensity loss counts defective samples only: rows of the
    no-defect class (label ``0``, ``"0"`` or ``"none"``, any case) and rows
    whose intensity is NaN are left out; when no label reads as no defect,
    ``fit`` warns (:class:`~sksteel.exceptions.NoDefectClassWarning`).
    ``predict_intensity`` answers for every row as if it were defective.

    ``fit`` accepts ``intensity`` as a keyword. To route it through
    :class:`~sklearn.model_selection.GridSearchCV`, ``cross_validate`` or a
    pipeline, enable metadata routing
    (``sklearn.set_config(enable_metadata_routing=True)``) and call
    ``set_fit_request(intensity=True)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> from sksteel.models import SteelNetClassifier
    >>> X, y = make_classification(n_samples=200, n_features=6, n_informative=4,
    ...                            n_classes=3, random_state=0)
    >>> X[::7, 2] = np.nan
    >>> clf = SteelNetClassifier(hidden_layer_sizes=(32, 16), d_token=8,
    ...                          lr=1e-2, batch_size=32, max_epochs=10,
    ...                          random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 3)
    >>> bool(clf.score(X, y) > 0.6)
    True
    >>> clf.explain(X[:2]).columns.tolist()
    ['x0', 'x1', 'x2', 'x3', 'x4', 'x5']
    >>> clf.explain(X[:2], method="head").sum(axis=1).round(6).tolist()
    [1.0, 1.0]
    >>> clf.feature_attributions_.sum(axis=1).round(6).tolist()
    [1.0, 1.0, 1.0]

    Routing the intensity through cross-validation:

    >>> import sklearn
    >>> from sklearn.model_selection import cross_validate
    >>> intensity = np.abs(X[:, 0])
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     clf = SteelNetClassifier(hidden_layer_sizes=(16,), d_token=4,
    ...                              max_epochs=1, random_state=0)
    ...     clf = clf.set_fit_request(intensity=True)
    ...     scores = cross_validate(clf, X, y, cv=2,
    ...                             params={"intensity": intensity})
    >>> scores["test_score"].shape
    (2,)
    """

    _parameter_constraints: dict = {
        **_BaseTorchEstimator._parameter_constraints,
        "alpha": [Interval(Real, 0, None, closed="left")],
        "beta": [Interval(Real, 0, None, closed="left")],
        "gamma": [Interval(Real, 0, None, closed="left")],
        "delta": [Interval(Real, 0, None, closed="left")],
        **IMAGE_PARAMETER_CONSTRAINTS,
        "hidden_layer_sizes": ["array-like"],
        "d_token": [Interval(Integral, 1, None, closed="left")],
        "n_heads": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "use_attention": ["boolean"],
        "use_physics": ["boolean"],
        "failure_rates": AUTO_FAILURE_RATES_CONSTRAINT,
        "p_base": [Interval(Real, 0, 1, closed="both")],
        "sensors": SENSORS_CONSTRAINT,
        "missing_columns": [StrOptions({"nan", "error"})],
        "extra_columns": [StrOptions({"error", "ignore"})],
        "numeric_embedding": [StrOptions({"periodic"}), None],
        "d_embedding": [Interval(Integral, 1, None, closed="left")],
        "n_ensemble": [Interval(Integral, 1, None, closed="left")],
        "scaling": [StrOptions({"robust", "standard"})],
        "soft_clip": [Interval(Real, 0, None, closed="neither"), None],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "temperature_scaling": ["boolean"],
        "operating_ranges": ["array-like", dict, None],
        "attribution_prior": ["array-like", None],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "max_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
        "batch_size": [Interval(Integral, 2, None, closed="left")],
        "scoring": [
            StrOptions({*VALIDATION_METRICS, "loss", *scorer_names()}),
            callable,
        ],
        "callbacks": [list, None],
    }

    def __init__(
        self,
        *,
        alpha=1.0,
        beta=0.5,
        gamma=0.3,
        delta=0.1,
        epsilon=0.1,
        image_column="auto",
        image_encoder="scratch",
        freeze_image_encoder=True,
        image_size=(64, 400),
        image_root=None,
        image_dropout=0.3,
        on_error="raise",
        hidden_layer_sizes=(256, 256, 128),
        d_token=32,
        n_heads=4,
        dropout=0.1,
        use_attention=True,
        use_physics=True,
        failure_rates="auto",
        p_base=0.2,
        sensors="auto",
        missing_columns="nan",
        extra_columns="error",
        numeric_embedding=None,
        d_embedding=8,
        n_ensemble=1,
        scaling="standard",
        soft_clip=None,
        label_smoothing=0.0,
        temperature_scaling=False,
        operating_ranges=None,
        attribution_prior=None,
        class_weight=None,
        lr=1e-3,
        weight_decay=1e-4,
        max_grad_norm=1.0,
        batch_size=64,
        max_epochs=50,
        early_stopping=True,
        validation_fraction=0.15,
        n_iter_no_change=10,
        scoring="accuracy",
        callbacks=None,
        device="auto",
        random_state=None,
        verbose="auto",
    ):
        self.alpha = alpha
        self.beta = beta
        self.gamma = gamma
        self.delta = delta
        self.epsilon = epsilon
        self.image_column = image_column
        self.image_encoder = image_encoder
        self.freeze_image_encoder = freeze_image_encoder
        self.image_size = image_size
        self.image_root = image_root
        self.image_dropout = image_dropout
        self.on_error = on_error
        self.hidden_layer_sizes = hidden_layer_sizes
        self.d_token = d_token
        self.n_heads = n_heads
        self.dropout = dropout
        self.use_attention = use_attention
        self.use_physics = use_physics
        self.failure_rates = failure_rates
        self.p_base = p_base
        self.sensors = sensors
        self.missing_columns = missing_columns
        self.extra_columns = extra_columns
        self.numeric_embedding = numeric_embedding
        self.d_embedding = d_embedding
        self.n_ensemble = n_ensemble
        self.scaling = scaling
        self.soft_clip = soft_clip
        self.label_smoothing = label_smoothing
        self.temperature_scaling = temperature_scaling
        self.operating_ranges = operating_ranges
        self.attribution_prior = attribution_prior
        self.class_weight = class_weight
        self.lr = lr
        self.weight_decay = weight_decay
        self.max_grad_norm = max_grad_norm
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.scoring = scoring
        self.callbacks = callbacks
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    @classmethod
    def paper(cls, **overrides):
        """The network and training of paper 2.2, exactly.

        Parameters
        ----------
        **overrides
            Other parameters (say ``random_state``, or an ablation such as
            ``use_attention=False``); they win over the paper's values.

        Returns
        -------
        estimator : SteelNetClassifier
            Unfitted, with ``PAPER_PARAMS`` then ``overrides`` set.

        Examples
        --------
        >>> from sksteel.models import SteelNetClassifier
        >>> clf = SteelNetClassifier.paper(random_state=0)
        >>> clf.n_ensemble, clf.numeric_embedding, clf.batch_size
        (1, None, 64)
        """
        return cls(**{**PAPER_PARAMS, **overrides})

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, intensity=None, sample_weight=None):
        """Train the network on sensor readings, classes and intensities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Readings; NaN marks a missing reading, ``inf`` is an error. A
            DataFrame may add an image column (see ``image_column``).
        y : array-like of shape (n_samples,)
            Class labels.
        intensity : array-like of shape (n_samples,), default=None
            Defect intensity per sample (NaN where unknown). None switches
            the intensity loss off.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in every term of the loss and in the
            validation score of early stopping (multiplied by the class
            weight with ``class_weight``). None weighs samples equally.

        Returns
        -------
        self : SteelNetClassifier
            The fitted estimator.
        """
        X, images = split_images(self, X, fit=True)
        X, y = _validate_readings(self, X, y, dtype=_FLOAT_DTYPES)
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError(
                "SteelNetClassifier needs samples of at least 2 classes, but the "
                f"{len(y)} sample(s) of `y` contain only one class: "
                f"{self.classes_.tolist()[0]!r}. Pass samples of every class."
            )
        y_index = encoder.transform(y)
        self._column_names = column_names(
            getattr(self, "feature_names_in_", None), self.n_features_in_
        )
        standardisation = (
            robust_standardisation if self.scaling == "robust" else nan_standardisation
        )
        self.mean_, self.scale_ = standardisation(X.astype(np.float64))
        self._resolve_parameters(y_index)
        targets = {"y": torch.from_numpy(y_index.astype(np.int64))}
        self.intensity_mean_ = self.intensity_scale_ = None
        if intensity is not None:
            targets["intensity"] = self._intensity_target(intensity, y_index)
        if sample_weight is not None:
            weight = sample_weight_target(sample_weight, len(y_index))
            targets["sample_weight"] = torch.from_numpy(weight.astype(np.float32))
        self.temperature_ = 1.0
        inputs = network_inputs(self, self._to_tensor(X), images, fit=True)
        valid = self._train(inputs, targets, y_index, self._seed())
        if self.temperature_scaling and valid is not None:
            self.temperature_ = fit_temperature(self.net_, *valid)
        self._store_history()
        self.feature_attributions_ = self._class_attributions(inputs, y_index)
        self._store_surfaces(inputs, images, y_index)
        return self

    def _resolve_parameters(self, y_index):
        """Check the parameters that depend on the data; store them."""
        sizes = tuple(self.hidden_layer_sizes)
        if not sizes or not all(
            isinstance(size, Integral) and size > 0 for size in sizes
        ):
            raise ValueError(
                "`hidden_layer_sizes` must be a non-empty sequence of positive "
                f"integers; got {self.hidden_layer_sizes!r}."
            )
        if self.use_attention and self.d_token % self.n_heads:
            raise ValueError(
                f"`d_token`={self.d_token!r} must be divisible by "
                f"`n_heads`={self.n_heads!r}; change one of them."
            )
        names = self._column_names
        self.failure_rates_, self.sensor_table_ = resolve_failure_rates(
            self.failure_rates,
            names,
            p_base=self.p_base,
            sensors=self.sensors,
            who=type(self).__name__,
        )
        self.operating_ranges_ = resolve_operating_ranges(
            self.operating_ranges, names, self.mean_, self.scale_, self.sensor_table_
        )
        self.attribution_prior_ = (
            None
            if self.attribution_prior is None
            else align_attribution_prior(self.attribution_prior, self.classes_, names)
        )
        self._class_weight = (
            None
            if self.class_weight is None
            else compute_class_weight(
                self.class_weight, classes=np.arange(len(self.classes_)), y=y_index
            )
            if self.class_weight == "balanced"
            else compute_class_weight(
                self.class_weight, classes=self.classes_, y=self.classes_[y_index]
            )
        )

    def _intensity_target(self, intensity, y_index):
        """Standardised intensity, NaN where it must not enter the loss."""
        intensity = check_array(
            intensity,
            ensure_2d=False,
            ensure_all_finite="allow-nan",
            dtype=np.float64,
            input_name="intensity",
        )
        if intensity.shape != y_index.shape:
            raise ValueError(
                f"`intensity` must have shape (n_samples,) = {y_index.shape!r}; "
                f"got shape {intensity.shape!r}."
            )
        intensity = np.where(
            np.isin(y_index, no_defect_classes(self.classes_, type(self).__name__)),
            np.nan,
            intensity,
        )
        if not np.isfinite(intensity).any():
            raise ValueError(
                "`intensity` has no finite value on a defective sample; pass the "
                "intensities, or leave `intensity=None` to switch the term off."
            )
        mean, scale = nan_standardisation(intensity[:, None])
        self.intensity_mean_, self.intensity_scale_ = float(mean[0]), float(scale[0])
        standardised = standardise(intensity, mean, scale)
        return torch.from_numpy(standardised.astype(np.float32))

    def _to_tensor(self, X):
        """Standardised, clipped float32 tensor: the one numpy-torch cast."""
        standardised = standardise(X, self.mean_, self.scale_)
        return torch.from_numpy(standardised.astype(np.float32))

    def _train(self, X, targets, y_index, seed):
        """Build ``net_`` and fit it with torch's generator seeded by ``seed``.

        Returns the validation readings and class indices, or None.
        """
        fraction = self.validation_fraction if self.early_stopping else None
        split = validation_split(y_index, fraction, seed)
        train_split = valid_data = None
        if split is not None:
            train, valid = split
            valid_targets = {key: value[valid] for key, value in targets.items()}
            valid_data = take_rows(X, valid), valid_targets["y"]
            train_split = predefined_split(Dataset(take_rows(X, valid), valid_targets))
            X = take_rows(X, train)
            targets = {key: value[train] for key, value in targets.items()}
        self.net_ = self._build_net(
            train_split, validate=split is not None, device=self._resolve_device()
        )
        with self._seeded(seed):
            self.net_.fit(X, targets)
        return valid_data

    def _rebuild_net(self):
        """The fitted net's configuration, for loading saved weights into."""
        return self._build_net(
            None, validate=False, device=self._resolve_device(fallback=True)
        )

    def _build_net(self, train_split, validate, device):
        """The skorch net, not initialised, configured from the fitted attributes."""
        progress, settings = self._verbosity_callbacks()
        standardised_ranges = standardise(
            self.operating_ranges_, self.mean_[:, None], self.scale_[:, None]
        )
        rates = self.failure_rates_
        net = SteelNetNeuralNet(
            module=SteelNet,
            module__d_in=self.n_features_in_,
            module__n_classes=len(self.classes_),
            module__d_layers=tuple(self.hidden_layer_sizes),
            module__dropout=self.dropout,
            module__d_token=self.d_token,
            module__n_heads=self.n_heads,
            module__use_attention=self.use_attention,
            module__use_physics=self.use_physics,
            module__operating_ranges=_float_tensor(standardised_ranges),
            module__missing_rates=_float_tensor(rates) if rates.any() else None,
            module__d_embedding=self.d_embedding if self.numeric_embedding else None,
            module__n_members=self.n_ensemble,
            module__soft_clip=self.soft_clip,
            module__temperature=getattr(self, "temperature_", 1.0),
            criterion=SteelNetLoss,
            criterion__alpha=self.alpha,
            criterion__beta=self.beta,
            criterion__gamma=self.gamma,
            criterion__delta=self.delta,
            criterion__attribution_prior=_float_tensor(self.attribution_prior_),
            criterion__class_weight=_float_tensor(self._class_weight),
            criterion__label_smoothing=self.label_smoothing,
            optimizer=torch.optim.AdamW,
            lr=self.lr,
            optimizer__weight_decay=self.weight_decay,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_train=TensorBatches,
            iterator_train__shuffle=True,
            iterator_valid=TensorBatches,
            iterator_valid__batch_size=max(self.batch_size, _EVAL_BATCH_SIZE),
            train_split=train_split,
            callbacks=training_callbacks(
                self, validate, self._class_weight, progress=progress
            ),
            predict_nonlinearity=softmax,
            device=device,
            **settings,
        )
        if getattr(self, "image_column_", None) is not None:  # the camera
            net.set_params(**image_net_params(self))
        return net

    def _aligned(self, X):
        """``X`` with the training columns by name (``missing_columns``,
        ``extra_columns``)."""
        return align_columns(
            self,
            X,
            missing_columns=self.missing_columns,
            extra_columns=self.extra_columns,
        )

    def _outputs(self, X):
        """The net's validated, standardised input for ``X`` (the top of
        every method): the readings tensor, with the images if fitted with
        them."""
        check_is_fitted(self)
        X, images = split_images(self, X, fit=False)
        X = self._aligned(X)
        X = _validate_readings(self, X, reset=False, dtype=_FLOAT_DTYPES)
        return network_inputs(self, self._to_tensor(X), images)

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Readings; NaN marks a missing reading.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities, columns in ``classes_`` order.
        """
        X = self._outputs(X)
        return self.net_.predict_proba(X).astype(np.float64)

    def proba_tensor(self, X):
        """Class probabilities as a differentiable torch function of readings.

        The probabilities of :meth:`predict_proba`, computed in torch so that
        gradients flow back to the readings: for searches over the inputs,
        such as :class:`~sksteel.recommend.SetpointRecommender` with
        ``method="gradient"``. The net is put in evaluation mode.

        Parameters
        ----------
        X : torch.Tensor of shape (n_samples, n_features_in_)
            Raw readings (not standardised) in the columns and order seen in
            :meth:`fit`; NaN marks a missing reading.

        Returns
        -------
        proba : torch.Tensor of shape (n_samples, n_classes)
            Probabilities, columns in ``classes_`` order, on ``X``'s device.

        Examples
        --------
        >>> import numpy as np
        >>> import torch
        >>> from sksteel.datasets import make_steelnet_dataset
        >>> from sksteel.models import SteelNetClassifier
        >>> data = make_steelnet_dataset(n_normal=60, n_per_class=12, random_state=0)
        >>> model = SteelNetClassifier(max_epochs=2, hidden_layer_sizes=(16,),
        ...                            random_state=0).fit(data.data, data.target)
        >>> X = torch.tensor(data.data.to_numpy()[:3], requires_grad=True)
        >>> proba = model.proba_tensor(X)
        >>> bool(np.allclose(proba.detach().numpy(),
        ...                  model.predict_proba(data.data.iloc[:3]), atol=1e-5))
        True
        >>> proba[:, 0].sum().backward()
        >>> X.grad.shape
        torch.Size([3, 10])
        """
        check_is_fitted(self)
        mean = torch.as_tensor(self.mean_, dtype=X.dtype, device=X.device)
        scale = torch.as_tensor(self.scale_, dtype=X.dtype, device=X.device)
        standardised = ((X - mean) / scale).clamp(
            -STANDARDISED_BOUND, STANDARDISED_BOUND
        )
        module = self.net_.module_
        module.eval()
        device = next(module.parameters()).device
        logits = module(standardised.to(device=device, dtype=torch.float32))[0]
        return softmax(logits).to(X.device)

    def predict(self, X):
        """Most probable class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Readings; NaN marks a missing reading.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted class labels.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def predict_intensity(self, X):
        """Defect intensity, in the units of the ``intensity`` given to ``fit``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Readings; NaN marks a missing reading.

        Returns
        -------
        intensity : ndarray of shape (n_samples,)
            Predicted intensity of each sample, read as defective.
        """
        X = self._outputs(X)
        if self.intensity_mean_ is None:
            raise NotFittedError(
                "This SteelNetClassifier was fitted without `intensity`, so its "
                "intensity head is untrained; call `fit(X, y, intensity=...)`."
            )
        standardised = self.net_.forward(X)[1].numpy().astype(np.float64)
        return unstandardise(standardised, self.intensity_mean_, self.intensity_scale_)

    def explain(self, X, method="shapley"):
        """Per-sample attribution over the columns.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Readings; NaN marks a missing reading.
        method : {"shapley", "head"}, default="shapley"
            ``"shapley"``: exact Shapley values over sensor missingness of
            the probability of each row's predicted class
            (:func:`sksteel.inspection.shapley_values`): how much each
            reading moved that probability away from the all-missing base
            value. Values are signed, a row sums to the predicted
            probability minus the base value, and a reading already missing
            gets 0. ``"head"``: the paper's attribution head, rows
            non-negative and summing to 1; it is trained to reproduce the
            ground truth ``w*`` of the sample's class, which is what the
            paper's figures and attribution MSE use, but it follows the
            predicted class rather than the readings that drove the
            prediction.

        Returns
        -------
        attributions : DataFrame of shape (n_samples, n_features)
            One row per sample, columns named after ``X``'s columns (or the
            sensors, or ``x0, x1, ...``), index of ``X`` when it is a
            DataFrame.
        """
        if method not in ("shapley", "head"):
            raise ValueError(
                f"`method` must be 'shapley' or 'head'; got {method!r}."
            )
        index = X.index if isinstance(X, pd.DataFrame) else None
        if method == "shapley":
            # Imported here: inspection works on any estimator and is not a
            # dependency of the models package.
            from ..inspection import shapley_values

            check_is_fitted(self)
            if getattr(self, "image_column_", None) is not None:
                raise ValueError(
                    "explain(method='shapley') is not available yet for a model "
                    "fitted with images; use method='head'."
                )
            X = self._aligned(X)
            values = shapley_values(self, X).values.to_numpy()
            return pd.DataFrame(values, index=index, columns=self._column_names)
        X = self._outputs(X)
        attribution = self.net_.forward(X)[2].numpy()
        return pd.DataFrame(
            attribution.astype(np.float64), index=index, columns=self._column_names
        )

    def _class_attributions(self, inputs, y_index):
        """Mean attribution per true class on the net's ``inputs`` (rows sum
        to 1)."""
        attribution = self.net_.forward(inputs)[2].numpy()
        rows = np.vstack(
            [attribution[y_index == k].mean(axis=0) for k in range(len(self.classes_))]
        ).astype(np.float64)
        return pd.DataFrame(
            rows / rows.sum(axis=1, keepdims=True),
            index=pd.Index(self.classes_, name="class"),
            columns=self._column_names,
        )

    def _store_surfaces(self, inputs, images, y_index):
        """The training surfaces and their image embeddings, for
        :meth:`similar_surfaces` (None without images)."""
        self.surfaces_ = self.surface_embeddings_ = None
        if not isinstance(inputs, dict):
            return
        present = inputs["image_present"].numpy()
        embedded = embeddings(self.net_, inputs, "image")
        self.surface_embeddings_ = embedded[present]
        self.surfaces_ = pd.DataFrame(
            {
                "image_path": images[present].astype(str),
                "defect_class": self.classes_[y_index[present]],
            }
        )

    def embed(self, X, modality="joint"):
        """Embeddings of the rows in the network's shared space.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Readings (NaN marks a missing reading) and, for a model fitted
            with images, the image column (NaN or None where a row has no
            image; a DataFrame without the column has no images).
        modality : {"sensors", "image", "joint"}, default="joint"
            ``"sensors"``: the sensor embedding ``z``; ``"image"``: the
            image embedding, NaN rows where the image is missing (an error
            for a model fitted without images); ``"joint"``: what the heads
            read, their sum (the learned missing-image token standing in
            for a missing image).

        Returns
        -------
        embedding : ndarray of shape (n_samples, hidden_layer_sizes[-1])
        """
        if modality not in MODALITIES:
            raise ValueError(
                f"`modality` must be one of {list(MODALITIES)!r}; got {modality!r}."
            )
        inputs = self._outputs(X)
        if modality == "image" and not isinstance(inputs, dict):
            raise ValueError(
                "This SteelNetClassifier was fitted without images, so it has no "
                "image embedding; fit it on X with an image column, or ask for "
                "modality='sensors'."
            )
        return embeddings(self.net_, inputs, modality)

    def similar_surfaces(self, X, k=5):
        """The ``k`` training surfaces whose images are nearest to each row's
        readings in the shared space.

        Each row's sensor embedding is compared (cosine similarity) with
        the image embeddings of the training rows that had an image; with
        cross-modal alignment (``epsilon > 0``) the two live in one space.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Readings; an image column, if any, is not used.
        k : int, default=5
            Number of surfaces per row (at most the number of training
            surfaces).

        Returns
        -------
        surfaces : DataFrame of shape (n_samples * k, 5)
            Columns ``query`` (the row's index label of ``X``, or position),
            ``rank`` (0 is the nearest), ``image_path``, ``defect_class``
            (the training class of that surface) and ``similarity``.
        """
        check_is_fitted(self)
        if self.surfaces_ is None:
            raise ValueError(
                "This SteelNetClassifier was fitted without images, so it has no "
                "training surfaces to retrieve; fit it on X with an image column."
            )
        if not isinstance(k, Integral) or k < 1:
            raise ValueError(f"`k` must be a positive integer; got {k!r}.")
        query = self.embed(X, modality="sensors")
        found = similar_surfaces(query, self.surfaces_, self.surface_embeddings_, k)
        if isinstance(X, pd.DataFrame):
            found["query"] = X.index.to_numpy()[found["query"].to_numpy()]
        return found


def _float_tensor(array):
    return None if array is None else torch.as_tensor(array, dtype=torch.float32)
