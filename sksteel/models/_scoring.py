"""scikit-learn scorer names as SteelNetClassifier's early-stopping score.

skorch scores a net, not a scikit-learn estimator; a scorer from
:func:`sklearn.metrics.get_scorer` needs one with ``classes_``,
``predict`` and ``predict_proba``. :class:`_FittedProbabilities` is that
estimator for one validation set, built from the net's probabilities, so
that ``roc_auc_ovr``, ``neg_log_loss`` or ``f1_macro`` all work.
"""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import get_scorer, get_scorer_names

__all__ = ["dataset_sample_weight", "scorer_names", "scorer_score"]


def scorer_names():
    """The scorer names of scikit-learn (for ``_parameter_constraints``)."""
    return set(get_scorer_names())


class _FittedProbabilities(ClassifierMixin, BaseEstimator):
    """A classifier answering with probabilities computed beforehand."""

    def __init__(self, proba):
        self.proba = proba

    def __sklearn_is_fitted__(self):
        return True

    @property
    def classes_(self):
        return np.arange(self.proba.shape[1])

    def predict_proba(self, X):
        return self.proba

    def predict(self, X):
        return np.argmax(self.proba, axis=1)

    def decision_function(self, X):
        # binary scorers ask for one column: the positive class's score
        return self.proba[:, 1] if self.proba.shape[1] == 2 else self.proba


def scorer_score(name, net, X, y, sample_weight=None):
    """The scikit-learn scorer ``name`` of the net's predictions on ``X``.

    Parameters
    ----------
    name : str
        A name of :func:`sklearn.metrics.get_scorer_names`.
    net : skorch.NeuralNet
        The net, whose ``predict_proba`` gives class probabilities.
    X : skorch Dataset or tensor
        The validation inputs.
    y : ndarray of shape (n_samples,)
        Class indices.
    sample_weight : ndarray of shape (n_samples,), default=None
        Weights of the validation samples.

    Returns
    -------
    score : float
        Greater is better, as for every scikit-learn scorer.
    """
    estimator = _FittedProbabilities(np.asarray(net.predict_proba(X)))
    scorer = get_scorer(name)
    if sample_weight is None:
        return float(scorer(estimator, X, y))
    return float(scorer(estimator, X, y, sample_weight=sample_weight))


def dataset_sample_weight(dataset):
    """The ``"sample_weight"`` target of a skorch Dataset, as numpy, or None."""
    targets = getattr(dataset, "y", None)
    if not isinstance(targets, dict) or "sample_weight" not in targets:
        return None
    return np.asarray(targets["sample_weight"], dtype=np.float64)
