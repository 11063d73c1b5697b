"""Score setpoint recommendations against the generator's true causes."""

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from .._schema import CLASS_NAMES

__all__ = ["score_recommendations"]

#: Reason prefix of a row whose defect only non-actionable columns can undo.
_NOT_ACTIONABLE = "drivers not actionable"

#: Columns of the per-class table, in order.
_COLUMNS = [
    "class",
    "n_rows",
    "n_not_actionable",
    "validity",
    "precision",
    "recall",
    "plausibility",
    "plausible_nn",
    "median_changes",
    "median_cost",
]


def score_recommendations(recommender, X, y, *, attribution_prior, independent):
    """Per-class validity, agreement with the true cause and plausibility.

    The rows scored are the defective rows of ``X`` (``y`` other than the
    recommender's target) that the recommender's estimator predicts as
    defective: the rows an engineer would ask about. For each class:

    - ``validity``: the share of rows whose recommendation reaches the
      threshold, among the rows whose drivers are actionable (rows with the
      reason "drivers not actionable: ..." are counted in
      ``n_not_actionable`` instead of as failures);
    - ``precision`` and ``recall`` of the changed columns against the
      columns the generator deviated for the class (``attribution_prior``
      above 0), means over the valid rows; the recall counts only the
      deviated columns the recommender may change and that have a reading;
    - ``plausibility``: the share of valid recommended points that the
      independent classifier predicts as the target;
    - ``plausible_nn``: the share of valid recommended points that the
      recommender's own nearest-neighbour check finds plausible;
    - ``median_changes``, ``median_cost``: over the valid rows.

    Parameters
    ----------
    recommender : SetpointRecommender
        A fitted recommender (with ``n_alternatives=1``: only the first
        alternative of each row is scored).

    X : DataFrame of shape (n_samples, n_features)
        Test readings (NaN = missing reading).

    y : array-like of shape (n_samples,)
        True classes of the rows of ``X``, labels of the estimator's
        ``classes_``.

    attribution_prior : DataFrame of shape (n_classes, n_features)
        The generator's ground truth ``w*``, indexed by class label, with
        the columns of ``X`` (the ``attribution_prior`` of
        :func:`~sksteel.datasets.make_steelnet_dataset`).

    independent : object
        A fitted classifier with ``predict`` and the same classes, trained
        on the same rows as the recommender's estimator (for example a
        :class:`~sklearn.ensemble.HistGradientBoostingClassifier`).

    Returns
    -------
    table : DataFrame
        One row per defect class present among the scored rows, indexed by
        class label, with the columns ``class`` (its name), ``n_rows``,
        ``n_not_actionable``, ``validity``, ``precision``, ``recall``,
        ``plausibility``, ``plausible_nn``, ``median_changes`` and
        ``median_cost`` (NaN where no row qualifies).

    Examples
    --------
    >>> from sklearn.ensemble import HistGradientBoostingClassifier
    >>> from sksteel.datasets import make_steelnet_dataset
    >>> from sksteel.recommend import SetpointRecommender, score_recommendations
    >>> data = make_steelnet_dataset(n_normal=300, n_per_class=60, random_state=0)
    >>> X, y = data.data, data.target
    >>> model = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(X, y)
    >>> other = HistGradientBoostingClassifier(max_depth=3, random_state=1).fit(X, y)
    >>> recommender = SetpointRecommender(model, random_state=0).fit(X, y)
    >>> table = score_recommendations(
    ...     recommender, X.iloc[::10], y.iloc[::10],
    ...     attribution_prior=data.attribution_prior, independent=other,
    ... )
    >>> table["class"].tolist()
    ['crazing', 'inclusion', 'patches', 'pitted']
    """
    check_is_fitted(recommender)
    y = np.asarray(y)
    target = recommender.classes_[recommender.target_index_]
    predicted = np.asarray(recommender.estimator.predict(X))
    rows = (y != target) & (predicted != target)
    X, y = X[rows], y[rows]
    result = recommender.recommend(X)
    first = result.alternative == 0
    changed = result.changes.to_numpy()[first] != 0
    valid, reason = result.valid[first], result.reason[first]
    after = np.asarray(independent.predict(result.setpoints[first]))
    free = recommender.actionable_ & ~np.isnan(X.to_numpy())
    columns = list(X.columns)
    table = []
    for label in np.unique(y):
        in_class = y == label
        truth = attribution_prior.loc[label, columns].to_numpy() > 0
        blocked = in_class & np.char.startswith(reason.astype(str), _NOT_ACTIONABLE)
        scored = in_class & ~blocked
        ok = scored & valid
        hits = (changed[ok] & truth).sum(axis=1)
        n_changed = changed[ok].sum(axis=1)
        reachable = (free[ok] & truth).sum(axis=1)
        table.append(
            {
                "class": _class_name(label),
                "n_rows": int(in_class.sum()),
                "n_not_actionable": int(blocked.sum()),
                "validity": _mean(valid[scored]),
                "precision": _mean(hits / np.maximum(n_changed, 1)),
                "recall": _mean(hits[reachable > 0] / reachable[reachable > 0]),
                "plausibility": _mean(after[ok] == target),
                "plausible_nn": _mean(result.plausible[first][ok]),
                "median_changes": _median(n_changed),
                "median_cost": _median(result.cost[first][ok]),
            }
        )
    index = pd.Index(np.unique(y), name="defect_class")
    return pd.DataFrame(table, index=index, columns=_COLUMNS)


def _class_name(label):
    """The class's name in CLASS_NAMES for an integer code, else its label."""
    if isinstance(label, (int, np.integer)) and 0 <= label < len(CLASS_NAMES):
        return CLASS_NAMES[label]
    return str(label)


def _mean(values):
    values = np.asarray(values, dtype=float)
    return float(values.mean()) if values.size else np.nan


def _median(values):
    values = np.asarray(values, dtype=float)
    return float(np.median(values)) if values.size else np.nan
