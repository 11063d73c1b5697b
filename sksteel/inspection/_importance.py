"""Per-class global importance from Shapley values over missingness."""

from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .._sklearn_compat import HasMethods, Interval, validate_params
from ..exceptions import DataFormatError
from ._shapley import _as_frame, shapley_values

__all__ = ["shapley_importance"]


@validate_params(
    {
        "estimator": [HasMethods(["fit", "predict_proba"])],
        "X": ["array-like"],
        "y": ["array-like"],
        "n_samples_per_class": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
    },
    prefer_skip_nested_validation=True,
)
def shapley_importance(
    estimator, X, y, *, n_samples_per_class=100, random_state=None, batch_size=None
):
    """Per-class importance of each reading: mean absolute Shapley value.

    For each class ``c`` of the model, up to ``n_samples_per_class`` rows of
    true class ``c`` are drawn from ``X`` (without replacement, seeded by
    ``random_state``) and the Shapley values of the probability of ``c``
    are computed with :func:`shapley_values`. The importance of a reading
    for ``c`` is the mean of its absolute value over those rows, and each
    class's row is normalised to sum to 1. The subsample is drawn per
    class so that rare defect classes are represented.

    Unlike :attr:`SteelNetClassifier.feature_attributions_
    <sksteel.models.SteelNetClassifier>` (the attribution head averaged per
    class), this measures how much each reading moves the model's
    probability of the class, and works for any NaN-native classifier.

    Parameters
    ----------
    estimator : estimator object
        A fitted classifier whose ``predict_proba`` accepts NaN.

    X : {array-like, DataFrame} of shape (n_samples, n_features)
        Rows to draw from, typically the training rows; NaN is a missing
        reading.

    y : array-like of shape (n_samples,)
        True classes of the rows of ``X``.

    n_samples_per_class : int, default=100
        Largest number of rows explained per class.

    random_state : int, RandomState instance or None, default=None
        Seeds the subsample.

    batch_size : int, default=None
        Passed to :func:`shapley_values`.

    Returns
    -------
    importance : DataFrame of shape (n_classes, n_features)
        One row per class of the model (index named ``class``), rows sum
        to 1. A class with no row in ``y``, or whose values are all 0, is a
        row of NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.ensemble import HistGradientBoostingClassifier
    >>> from sksteel.inspection import shapley_importance
    >>> X, y = make_classification(n_samples=300, n_features=4, n_classes=3,
    ...                            n_informative=3, n_redundant=0, random_state=0)
    >>> model = HistGradientBoostingClassifier(max_iter=20, random_state=0)
    >>> importance = shapley_importance(model.fit(X, y), X, y,
    ...                                 n_samples_per_class=20, random_state=0)
    >>> importance.shape
    (3, 4)
    >>> importance.sum(axis=1).round(6).tolist()
    [1.0, 1.0, 1.0]
    """
    check_is_fitted(estimator)
    y = np.asarray(y)
    if len(y) != len(X):
        raise DataFormatError(
            f"X and y must have the same number of rows; got {len(X)} and {len(y)}."
        )
    rng = check_random_state(random_state)
    frame = X if isinstance(X, pd.DataFrame) else None
    rows = []
    for label in estimator.classes_:
        where = np.flatnonzero(y == label)
        if len(where) > n_samples_per_class:
            where = np.sort(rng.choice(where, n_samples_per_class, replace=False))
        if len(where) == 0:
            rows.append(None)
            continue
        subset = frame.iloc[where] if frame is not None else np.asarray(X)[where]
        values = shapley_values(estimator, subset, target=label, batch_size=batch_size)
        rows.append(values.values.abs().mean(axis=0).to_numpy())
    columns = _as_frame(estimator, X).columns
    table = np.vstack(
        [np.full(len(columns), np.nan) if r is None else r for r in rows]
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        totals = table.sum(axis=1, keepdims=True)
        table = np.where(totals > 0, table / totals, np.nan)
    return pd.DataFrame(
        table, index=pd.Index(estimator.classes_, name="class"), columns=columns
    )
