"""Scores of a fitted model as test-time sensor readings go missing."""

from numbers import Integral

import numpy as np
from sklearn.metrics import check_scoring
from sklearn.utils import Bunch, check_random_state

from .._sklearn_compat import HasMethods, Interval, StrOptions, validate_params
from ..preprocessing import SensorFailure

__all__ = ["robustness_auc", "robustness_curve"]


def _scorers(estimator, scoring):
    """A callable returning ``{name: score}`` for any accepted ``scoring``."""
    if isinstance(scoring, str):
        name, scorer = scoring, check_scoring(estimator, scoring=scoring)
        return lambda est, X, y: {name: scorer(est, X, y)}
    if callable(scoring):
        scorer = check_scoring(estimator, scoring=scoring)
        return lambda est, X, y: {"score": scorer(est, X, y)}
    return check_scoring(estimator, scoring=scoring)


def _normalised_area(rates, scores):
    """Area under ``scores(rates)`` divided by the width of the rate range:
    the mean score over the range (trapezoid rule)."""
    if len(rates) == 1:
        return float(scores[0])
    return float(np.trapezoid(scores, rates) / (rates[-1] - rates[0]))


@validate_params(
    {
        "estimator": [HasMethods("predict")],
        "X": ["array-like"],
        "y": ["array-like"],
        "rates": ["array-like"],
        "mode": [StrOptions({"uniform", "table"})],
        "scoring": [str, callable, list, tuple, dict],
        "n_repeats": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def robustness_curve(
    estimator,
    X,
    y,
    rates=(0.0, 0.1, 0.2, 0.3, 0.5),
    *,
    mode="uniform",
    scoring="accuracy",
    n_repeats=5,
    random_state=None,
):
    """Score a fitted model while test-time sensor readings go missing.

    At each rate, readings of ``X`` are set to NaN by
    :class:`~sksteel.preprocessing.SensorFailure` (``mode="uniform"``: each
    reading missing with probability ``rate``; ``mode="table"``: per-sensor
    probabilities from the sensor table's failure rates, scaled to mean
    ``rate``) and the model is scored. This is repeated ``n_repeats`` times
    with different masks; repeat ``r`` uses the same random seed at every
    rate, so the curves compare like with like.

    Parameters
    ----------
    estimator : fitted estimator
        A model whose ``predict`` accepts NaN.
    X : DataFrame of shape (n_samples, n_sensors)
        Held-out sensor readings (``mode="table"`` needs the sensor names
        as columns).
    y : array-like of shape (n_samples,)
        True targets.
    rates : array-like of float, default=(0.0, 0.1, 0.2, 0.3, 0.5)
        Missing-reading rates, increasing, in ``[0, 1]``; the default are
        the paper's.
    mode : {"uniform", "table"}, default="uniform"
        How readings fail (see above).
    scoring : str, callable, list, tuple or dict, default="accuracy"
        As in :func:`sklearn.model_selection.cross_validate`; a single
        callable is reported under the name ``"score"``.
    n_repeats : int, default=5
        Number of random masks per rate.
    random_state : int, RandomState instance or None, default=None
        Seeds the masks.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        - ``rates``: ndarray of shape (n_rates,)
        - ``scores``: dict, metric name -> ndarray (n_rates, n_repeats)
        - ``scores_mean``, ``scores_std``: dict, metric name -> ndarray
          (n_rates,)
        - ``auc``: dict, metric name -> the area under the mean curve
          divided by the width of the rate range (the mean score over the
          range; 1 is perfect).

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from sksteel.metrics import robustness_curve
    >>> X, y = make_classification(n_samples=200, n_features=10, random_state=0)
    >>> X = pd.DataFrame(X)
    >>> model = DecisionTreeClassifier(max_depth=6, random_state=0).fit(X, y)
    >>> curve = robustness_curve(model, X, y, rates=[0.0, 0.5], random_state=0)
    >>> curve.scores["accuracy"].shape
    (2, 5)
    >>> bool(curve.scores_mean["accuracy"][0] > curve.scores_mean["accuracy"][1])
    True
    """
    rates = np.asarray(rates, dtype=float).ravel()
    if rates.size == 0 or not ((rates >= 0) & (rates <= 1)).all():
        raise ValueError(
            f"`rates` must be a non-empty list of probabilities in [0, 1]; got "
            f"{rates.tolist()!r}."
        )
    if (np.diff(rates) <= 0).any():
        raise ValueError(
            f"`rates` must be strictly increasing; got {rates.tolist()!r}. "
            "Sort them, for example with `sorted(set(rates))`."
        )
    score = _scorers(estimator, scoring)
    rng = check_random_state(random_state)
    seeds = rng.randint(np.iinfo(np.int32).max, size=n_repeats)

    collected = {}
    for i, rate in enumerate(rates):
        for r, seed in enumerate(seeds):
            failure = SensorFailure(
                "table" if mode == "table" else float(rate),
                p_base=float(rate),
                sensors="steel",
                random_state=seed,
            )
            X_failed = failure.fit_transform(X)
            for name, value in score(estimator, X_failed, y).items():
                collected.setdefault(name, np.empty((len(rates), n_repeats)))
                collected[name][i, r] = value

    means = {name: values.mean(axis=1) for name, values in collected.items()}
    return Bunch(
        rates=rates,
        scores=collected,
        scores_mean=means,
        scores_std={name: values.std(axis=1) for name, values in collected.items()},
        auc={name: _normalised_area(rates, mean) for name, mean in means.items()},
    )


def robustness_auc(rates, scores):
    """Area under a robustness curve, divided by the width of the rate range.

    This is the mean score over the range of rates by the trapezoid rule, so
    it reads like a score: 1 is perfect, and a curve that stays flat at ``s``
    has area ``s``.

    Parameters
    ----------
    rates : array-like of shape (n_rates,)
        Increasing missing-reading rates.
    scores : array-like of shape (n_rates,)
        The score at each rate.

    Returns
    -------
    auc : float
        The normalised area.

    Examples
    --------
    >>> from sksteel.metrics import robustness_auc
    >>> robustness_auc([0.0, 0.1, 0.2, 0.3, 0.5], [0.892, 0.874, 0.851, 0.823, 0.768])
    0.8347
    """
    rates = np.asarray(rates, dtype=float)
    scores = np.asarray(scores, dtype=float)
    if rates.shape != scores.shape or rates.ndim != 1:
        raise ValueError(
            "`rates` and `scores` must be 1-D and of the same length; got shapes "
            f"{rates.shape!r} and {scores.shape!r}."
        )
    return _normalised_area(rates, scores)
