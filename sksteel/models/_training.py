"""skorch plumbing of SteelNetClassifier: the net, its batches, its callbacks.

Everything here plugs into skorch's extension points (a ``NeuralNet``
subclass overriding only ``get_loss``, an ``iterator_train`` /
``iterator_valid`` class and scoring callbacks); the training loop itself is
skorch's.
"""

import math
from copy import deepcopy
from functools import partial

import numpy as np
import torch
from sklearn.base import clone
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score
from sklearn.model_selection import StratifiedShuffleSplit
from skorch import NeuralNet
from skorch.callbacks import (
    Callback,
    EpochScoring,
    GradientNormClipping,
    LRScheduler,
)
from skorch.utils import to_numpy, to_tensor

from ._scoring import dataset_sample_weight, scorer_score

__all__ = [
    "VALIDATION_METRICS",
    "SteelNetNeuralNet",
    "TensorBatches",
    "TieBreakingEarlyStopping",
    "ValidationScore",
    "class_target",
    "softmax",
    "training_callbacks",
    "validation_split",
]

#: Metrics ``scoring`` may name for early stopping (greater is better).
VALIDATION_METRICS = {
    "accuracy": accuracy_score,
    "balanced_accuracy": balanced_accuracy_score,
    "f1_macro": partial(f1_score, average="macro", zero_division=0),
    "f1_weighted": partial(f1_score, average="weighted", zero_division=0),
}


class SteelNetNeuralNet(NeuralNet):
    """A skorch ``NeuralNet`` whose target is a dict of tensors.

    ``y`` holds the class indices (``"y"``) and, when known, the intensity
    (``"intensity"``); the criterion is a :class:`~sksteel.nn.SteelNetLoss`.
    """

    def get_loss(self, y_pred, y_true, X=None, training=False):
        y_true = to_tensor(y_true, device=self.device)
        return self.criterion_(
            y_pred, y_true["y"], y_true.get("intensity"), y_true.get("sample_weight")
        )


def _take(data, index):
    if data is None:
        return None
    if isinstance(data, dict):
        return {key: value[index] for key, value in data.items()}
    return data[index]


class TensorBatches:
    """Mini-batches sliced from a skorch ``Dataset`` of tensors.

    A drop-in for torch's ``DataLoader`` as skorch's ``iterator_train`` and
    ``iterator_valid``: it slices whole batches out of the tensors instead
    of collating one row at a time, which keeps skorch's per-batch overhead
    small. A last batch of a single row is merged into the previous one
    because batch normalisation cannot train on one row. Shuffling draws
    from torch's global generator, which the estimator seeds.
    """

    def __init__(self, dataset, batch_size, shuffle=False):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle

    def _bounds(self):
        n_samples = len(self.dataset)
        bounds = [*range(0, n_samples, self.batch_size), n_samples]
        if len(bounds) > 2 and bounds[-1] - bounds[-2] == 1:
            del bounds[-2]
        return bounds

    def __len__(self):
        return len(self._bounds()) - 1

    def __iter__(self):
        bounds = self._bounds()
        order = torch.randperm(len(self.dataset)) if self.shuffle else None
        for start, stop in zip(bounds[:-1], bounds[1:]):
            index = slice(start, stop) if order is None else order[start:stop]
            yield _take(self.dataset.X, index), _take(self.dataset.y, index)


def class_target(y):
    """Class indices of a batch target (skorch's ``target_extractor``)."""
    return to_numpy(y["y"])


class ValidationScore:
    """Score the net's class predictions on the validation split.

    Parameters
    ----------
    metric : str or callable
        A key of :data:`VALIDATION_METRICS`, another scikit-learn scorer
        name (:func:`sklearn.metrics.get_scorer`, e.g. ``"roc_auc_ovr"``),
        or ``metric(y_true, y_pred)`` returning a score where greater is
        better.
    class_weight : ndarray of shape (n_classes,), default=None
        When given, each validation sample is weighted by its class's
        weight (``sample_weight=class_weight[y_true]``), like in the loss,
        so early stopping optimises the same trade-off as training.
    """

    def __init__(self, metric, class_weight=None):
        self.metric = metric
        self.class_weight = class_weight

    def __call__(self, net, X, y):
        # the validation Dataset's targets carry the user's sample weights
        weight = dataset_sample_weight(X)
        if self.class_weight is not None:
            weight = self.class_weight[y] * (1.0 if weight is None else weight)
        if isinstance(self.metric, str) and self.metric not in VALIDATION_METRICS:
            return scorer_score(self.metric, net, X, y, weight)
        y_pred = np.argmax(net.predict_proba(X), axis=1)
        metric = VALIDATION_METRICS.get(self.metric, self.metric)
        if weight is None:
            return metric(y, y_pred)
        return metric(y, y_pred, sample_weight=weight)


class TieBreakingEarlyStopping(Callback):
    """Early stopping on a monitored score, with ties broken by another
    history key.

    It stops as :class:`skorch.callbacks.EarlyStopping` does: an epoch
    improves when its score beats the best one by more than ``threshold``,
    and training stops after ``patience`` epochs without improvement. In
    addition, an epoch whose score ties the best one (within ``threshold``,
    the change deemed insignificant; say the same validation accuracy,
    common on small or easy validation sets) counts as an improvement when
    ``tie_breaker`` (lower is better, by default the validation loss) is
    lower than at the best epoch. Training then goes on while the model
    keeps improving on a plateau of the score, and the restored weights are
    the best-scoring epoch with the lowest loss rather than the first epoch
    to reach the score.

    Parameters
    ----------
    monitor : str, default="valid_loss"
        History key of the score.
    patience : int, default=5
        Number of epochs without improvement before training stops.
    threshold : float, default=1e-4
        Smallest change of the score that counts as an improvement.
    threshold_mode : {"rel", "abs"}, default="rel"
        Whether ``threshold`` is relative to the best score or absolute.
    lower_is_better : bool, default=True
        Whether a lower score is better.
    sink : callable, default=print
        Where the stopping and restoring messages go; ``print`` only when
        the net is verbose.
    load_best : bool, default=False
        Whether to restore the weights of the best epoch when training ends.
    tie_breaker : str, default="valid_loss"
        History key, lower is better, that decides between tied epochs.

    Attributes
    ----------
    best_epoch_ : int
        The best epoch so far (1-based, as skorch's history).
    best_score_ : float or None
        The best score so far.
    best_tie_breaker_ : float
        The ``tie_breaker`` value at the best epoch.
    best_model_weights_ : dict or None
        A copy of the module's ``state_dict`` at the best epoch, with
        ``load_best=True``.
    misses_ : int
        Epochs since the last improvement.
    """

    def __init__(
        self,
        monitor="valid_loss",
        patience=5,
        threshold=1e-4,
        threshold_mode="rel",
        lower_is_better=True,
        sink=print,
        load_best=False,
        tie_breaker="valid_loss",
    ):
        self.monitor = monitor
        self.patience = patience
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.lower_is_better = lower_is_better
        self.sink = sink
        self.load_best = load_best
        self.tie_breaker = tie_breaker

    def on_train_begin(self, net, **kwargs):
        if self.threshold_mode not in ("rel", "abs"):
            raise ValueError(
                f"threshold_mode must be 'rel' or 'abs', got {self.threshold_mode!r}."
            )
        self.misses_, self.best_epoch_ = 0, 0
        self.best_model_weights_ = None
        self.best_score_, self.best_tie_breaker_ = None, np.inf
        # The score an epoch must beat to improve: the best score moved by
        # the threshold.
        self._to_beat = np.inf if self.lower_is_better else -np.inf

    def on_epoch_end(self, net, **kwargs):
        score = net.history[-1, self.monitor]
        tie_breaker = net.history[-1, self.tie_breaker]
        if not self._improves(score, tie_breaker):
            self.misses_ += 1
        else:
            self.misses_ = 0
            best = self.best_score_ if self.best_score_ is not None else score
            self.best_score_ = (min if self.lower_is_better else max)(best, score)
            self.best_tie_breaker_ = tie_breaker
            self._to_beat = score - self._sign * self._tolerance(score)
            self.best_epoch_ = net.history[-1, "epoch"]
            if self.load_best:
                self.best_model_weights_ = deepcopy(net.module_.state_dict())
        if self.misses_ == self.patience:
            self._print(
                f"Stopping since {self.monitor} has not improved in the last "
                f"{self.patience} epochs.",
                net.verbose,
            )
            raise KeyboardInterrupt

    def on_train_end(self, net, **kwargs):
        if (
            self.load_best
            and self.best_epoch_ != net.history[-1, "epoch"]
            and self.best_model_weights_ is not None
        ):
            net.module_.load_state_dict(self.best_model_weights_)
            self._print(
                f"Restoring best model from epoch {self.best_epoch_}.", net.verbose
            )

    @property
    def _sign(self):
        """+1 when lower scores are better, -1 otherwise."""
        return 1 if self.lower_is_better else -1

    def _tolerance(self, score):
        """The change of ``score`` deemed insignificant."""
        if self.threshold_mode == "rel":
            return self.threshold * score
        return self.threshold

    def _improves(self, score, tie_breaker):
        """Whether ``score`` beats the best one, or ties it with a lower
        ``tie_breaker``."""
        better = self._sign * (self._to_beat - score) > 0
        if better or self.best_score_ is None:
            return better
        tolerance = self.threshold
        if self.threshold_mode == "rel":
            tolerance *= abs(self.best_score_)
        tie = abs(score - self.best_score_) <= tolerance
        return tie and tie_breaker < self.best_tie_breaker_

    def _print(self, text, verbose):
        """Send ``text`` to the sink; to ``print`` only when verbose."""
        if self.sink is not print or verbose:
            self.sink(text)


def training_callbacks(estimator, validate, class_weight=None, progress=()):
    """The paper's training callbacks, then the user's extra callbacks.

    Gradient clipping, a cosine learning-rate schedule over ``max_epochs``
    and, with a validation split, the validation score and early stopping
    that restores the best weights (ties broken by the validation loss).
    The ``progress`` callbacks come after the validation score, so they
    can show it, and before early stopping, so they see the last epoch.
    """
    callbacks = [
        (
            "lr_scheduler",
            LRScheduler(
                policy=torch.optim.lr_scheduler.CosineAnnealingLR,
                T_max=estimator.max_epochs,
            ),
        )
    ]
    if estimator.max_grad_norm is not None:
        callbacks.append(
            ("gradient_clipping", GradientNormClipping(estimator.max_grad_norm))
        )
    if validate:
        if estimator.scoring == "loss":
            monitor, lower_is_better = "valid_loss", True
        else:
            name = estimator.scoring if isinstance(estimator.scoring, str) else "score"
            monitor, lower_is_better = f"valid_{name}", False
            scoring = EpochScoring(
                ValidationScore(estimator.scoring, class_weight),
                lower_is_better=False,
                name=monitor,
                target_extractor=class_target,
                use_caching=True,
            )
            callbacks.append(("valid_score", scoring))
        callbacks.extend(progress)
        stopping = TieBreakingEarlyStopping(
            monitor=monitor,
            patience=estimator.n_iter_no_change,
            lower_is_better=lower_is_better,
            load_best=True,
        )
        callbacks.append(("early_stopping", stopping))
    else:
        callbacks.extend(progress)
    return callbacks + clone(list(estimator.callbacks or []), safe=False)


def softmax(logits):
    """Class probabilities from logits (skorch's ``predict_nonlinearity``)."""
    return torch.softmax(logits, dim=-1)


def validation_split(y_index, fraction, seed):
    """Stratified (train, valid) indices, or None when the data are too small."""
    if fraction is None:
        return None
    n_samples, n_classes = len(y_index), int(y_index.max()) + 1
    n_valid = math.ceil(fraction * n_samples)
    too_small = (
        np.bincount(y_index).min() < 2
        or n_valid < n_classes
        or n_samples - n_valid < n_classes
    )
    if too_small:
        return None
    splitter = StratifiedShuffleSplit(n_splits=1, test_size=fraction, random_state=seed)
    return next(splitter.split(np.zeros((n_samples, 1)), y_index))
