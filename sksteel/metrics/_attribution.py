"""Attribution quality: error against a ground truth, and faithfulness.

An attribution is a non-negative weight per sensor, usually a distribution
over the sensors (a row summing to one). Two questions are asked of it:

- does it match the generator's ground truth ``w*``? (:func:`attribution_mse`)
- does the model actually rely on the sensors it names? Hiding the top
  attributed sensors should hurt that class more than hiding random ones
  (:func:`attribution_faithfulness`).
"""

import itertools
import math
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.metrics import recall_score
from sklearn.utils import check_random_state

from .._sklearn_compat import HasMethods, Interval, StrOptions, validate_params

__all__ = ["attribution_faithfulness", "attribution_mse"]


def _as_frame(attributions, name, columns=None):
    """Return ``attributions`` as a float DataFrame, checking its shape."""
    if isinstance(attributions, pd.DataFrame):
        frame = attributions.astype(float)
    else:
        values = np.asarray(attributions, dtype=float)
        if values.ndim != 2:
            raise ValueError(
                f"`{name}` must be 2-D (rows x sensors); got an array of shape "
                f"{values.shape!r}. Reshape a single attribution with "
                "`.reshape(1, -1)`."
            )
        frame = pd.DataFrame(values, columns=columns)
    if not np.isfinite(frame.to_numpy()).all():
        raise ValueError(
            f"`{name}` must be finite; it contains NaN or inf. Attributions "
            "are weights per sensor, not readings."
        )
    return frame


def _aligned(attribution_true, attribution_pred):
    """Both attribution tables with the same columns, in the same order."""
    true = _as_frame(attribution_true, "attribution_true")
    columns = true.columns if isinstance(attribution_true, pd.DataFrame) else None
    if isinstance(attribution_pred, pd.DataFrame) and columns is not None:
        missing = sorted(set(columns) - set(attribution_pred.columns))
        if missing:
            raise ValueError(
                f"`attribution_pred` lacks the columns {missing!r} of "
                "`attribution_true`; both must name the same sensors."
            )
        attribution_pred = attribution_pred[list(columns)]
    pred = _as_frame(attribution_pred, "attribution_pred")
    if true.shape != pred.shape:
        raise ValueError(
            "`attribution_true` and `attribution_pred` must have the same shape "
            f"(rows x sensors); got {true.shape!r} and {pred.shape!r}."
        )
    return true.to_numpy(), pred.to_numpy()


@validate_params(
    {
        "attribution_true": ["array-like"],
        "attribution_pred": ["array-like"],
        "sample_weight": ["array-like", None],
        "multioutput": [StrOptions({"uniform", "raw_values"})],
    },
    prefer_skip_nested_validation=True,
)
def attribution_mse(
    attribution_true, attribution_pred, *, sample_weight=None, multioutput="uniform"
):
    """Mean squared error between two attribution tables.

    The paper's "attribution MSE" (reported as 0.0156 for the full model):
    the squared difference between predicted and ground-truth attribution,
    averaged over sensors and rows. Rows may be classes (a class-level
    attribution matrix against the generator's prior) or samples (per-sample
    explanations against the prior row of each sample's class).

    Parameters
    ----------
    attribution_true : array-like or DataFrame of shape (n_rows, n_sensors)
        Ground-truth attributions. When both arguments are DataFrames, the
        columns of ``attribution_pred`` are matched to these by name.
    attribution_pred : array-like or DataFrame of shape (n_rows, n_sensors)
        Predicted attributions.
    sample_weight : array-like of shape (n_rows,), default=None
        Weight of each row.
    multioutput : {"uniform", "raw_values"}, default="uniform"
        ``"uniform"`` returns one number; ``"raw_values"`` returns the error
        of each row (averaged over sensors).

    Returns
    -------
    mse : float or ndarray of shape (n_rows,)
        The error; 0 when the tables are equal.

    Examples
    --------
    >>> import numpy as np
    >>> from sksteel.metrics import attribution_mse
    >>> truth = np.array([[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])
    >>> pred = np.array([[0.5, 0.3, 0.2], [0.0, 0.0, 1.0]])
    >>> round(attribution_mse(truth, pred), 4)
    0.0133
    >>> attribution_mse(truth, pred, multioutput="raw_values").round(4)
    array([0.0267, 0.    ])
    """
    true, pred = _aligned(attribution_true, attribution_pred)
    per_row = ((true - pred) ** 2).mean(axis=1)
    if multioutput == "raw_values":
        return per_row
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=float)
        if sample_weight.shape != per_row.shape:
            raise ValueError(
                f"`sample_weight` must have one weight per row ({len(per_row)}); "
                f"got shape {sample_weight.shape!r}."
            )
    return float(np.average(per_row, weights=sample_weight))


def _with_missing(X, columns):
    """A copy of ``X`` with the given column positions set to NaN."""
    if isinstance(X, pd.DataFrame):
        hidden = X.copy()
        hidden.iloc[:, list(columns)] = np.nan
        return hidden
    hidden = np.array(X, dtype=float, copy=True)
    hidden[:, list(columns)] = np.nan
    return hidden


def _class_recalls(y, y_pred, classes):
    """Recall of each class in ``classes``, as an array."""
    return recall_score(y, y_pred, labels=list(classes), average=None, zero_division=0)


def _random_subsets(n_features, k, n_repeats, random_state):
    """Sensor subsets of size ``k``: all of them when there are at most
    ``n_repeats``, otherwise ``n_repeats`` drawn at random."""
    if math.comb(n_features, k) <= n_repeats:
        return [list(subset) for subset in itertools.combinations(range(n_features), k)]
    rng = check_random_state(random_state)
    return [
        sorted(rng.choice(n_features, size=k, replace=False)) for _ in range(n_repeats)
    ]


@validate_params(
    {
        "estimator": [HasMethods("predict")],
        "X": ["array-like"],
        "y": ["array-like"],
        "attributions": ["array-like"],
        "k": [Interval(Integral, 1, None, closed="left")],
        "n_repeats": [Interval(Integral, 1, None, closed="left")],
        "classes": ["array-like", None],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def attribution_faithfulness(
    estimator, X, y, attributions, *, k=2, n_repeats=50, classes=None,
    random_state=None,
):
    """Does hiding the sensors an attribution names hurt more than chance?

    For each class ``c``, the ``k`` sensors with the largest attribution for
    ``c`` are set missing (NaN) in every row of ``X`` and the recall of ``c``
    is measured again. The same is done with ``k`` sensors chosen at random.
    A faithful attribution names sensors the model depends on, so its drop
    in recall is larger than the random one: ``ratio = drop_top /
    drop_random`` above 1.

    Parameters
    ----------
    estimator : fitted estimator
        A classifier whose ``predict`` accepts NaN (for example a pipeline
        starting with an imputer, or ``SteelNetClassifier``).
    X : array-like or DataFrame of shape (n_samples, n_sensors)
        Held-out sensor readings.
    y : array-like of shape (n_samples,)
        True classes.
    attributions : array-like or DataFrame of shape (n_classes, n_sensors)
        One attribution row per class, for example a fitted SteelNet's
        ``feature_attributions_``. A DataFrame is indexed by class label and,
        when ``X`` is a DataFrame, its columns are matched to ``X``'s by
        name; an array's rows follow ``estimator.classes_``.
    k : int, default=2
        Number of sensors hidden at a time.
    n_repeats : int, default=50
        Number of random sensor subsets. When there are no more than
        ``n_repeats`` subsets of size ``k`` (45 for 10 sensors and ``k=2``),
        every subset is used once and the random drop is exact.
    classes : array-like, default=None
        The classes to evaluate; by default every class present in both
        ``y`` and ``attributions``.
    random_state : int, RandomState instance or None, default=None
        Draws the random subsets when they are sampled.

    Returns
    -------
    faithfulness : DataFrame
        Indexed by class, with columns ``top_sensors`` (comma-separated
        names or positions), ``recall``, ``recall_top_missing``,
        ``recall_random_missing``, ``drop_top``, ``drop_random`` and
        ``ratio`` (``inf`` when only the top sensors cause a drop, NaN when
        neither does).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from sksteel.metrics import attribution_faithfulness
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(300, 4))
    >>> y = X[:, :3].argmax(axis=1)  # class c is decided by sensor c
    >>> model = DecisionTreeClassifier(max_depth=6, random_state=0)
    >>> model = model.fit(X, y)
    >>> attributions = np.eye(4)[:3]  # each class names its own sensor
    >>> table = attribution_faithfulness(model, X, y, attributions, k=1)
    >>> list(table.columns)  # doctest: +NORMALIZE_WHITESPACE
    ['top_sensors', 'recall', 'recall_top_missing', 'recall_random_missing',
     'drop_top', 'drop_random', 'ratio']
    >>> bool((table["ratio"] > 1).all())
    True
    """
    y = np.asarray(y)
    n_features = X.shape[1]
    if not 1 <= k < n_features:
        raise ValueError(
            f"`k` must be between 1 and the number of sensors minus one "
            f"({n_features - 1}); got {k!r}."
        )
    table = _attribution_table(estimator, X, attributions)
    if classes is None:
        classes = [c for c in table.index if c in set(np.unique(y))]
    missing = [c for c in classes if c not in table.index]
    if missing:
        raise ValueError(
            f"`attributions` has no row for the classes {missing!r}; its rows "
            f"are {list(table.index)!r}."
        )

    names = list(X.columns) if isinstance(X, pd.DataFrame) else list(range(n_features))
    recall = _class_recalls(y, estimator.predict(X), classes)
    subsets = _random_subsets(n_features, k, n_repeats, random_state)
    recall_random = np.mean(
        [
            _class_recalls(y, estimator.predict(_with_missing(X, subset)), classes)
            for subset in subsets
        ],
        axis=0,
    )
    rows = []
    for c, full, random in zip(classes, recall, recall_random):
        top = np.argsort(-table.loc[c].to_numpy(), kind="stable")[:k]
        hidden = _with_missing(X, top)
        top_recall = _class_recalls(y, estimator.predict(hidden), [c])[0]
        rows.append(
            {
                "top_sensors": ", ".join(str(names[j]) for j in top),
                "recall": full,
                "recall_top_missing": top_recall,
                "recall_random_missing": random,
            }
        )
    result = pd.DataFrame(rows, index=pd.Index(classes, name="class"))
    result["drop_top"] = result["recall"] - result["recall_top_missing"]
    result["drop_random"] = result["recall"] - result["recall_random_missing"]
    with np.errstate(divide="ignore", invalid="ignore"):
        result["ratio"] = result["drop_top"] / result["drop_random"]
    return result


def _attribution_table(estimator, X, attributions):
    """Attributions as a DataFrame indexed by class, columns in ``X``'s order."""
    if isinstance(attributions, pd.DataFrame):
        table = _as_frame(attributions, "attributions")
        if isinstance(X, pd.DataFrame):
            absent = sorted(set(X.columns) - set(table.columns))
            if absent:
                raise ValueError(
                    f"`attributions` lacks the sensors {absent!r} of `X`; its "
                    "columns must name the same sensors as `X`."
                )
            table = table[list(X.columns)]
    else:
        table = _as_frame(attributions, "attributions")
        classes = getattr(estimator, "classes_", None)
        if classes is None or len(classes) != len(table):
            raise ValueError(
                "An `attributions` array needs one row per class of "
                f"`estimator.classes_`; got {len(table)} rows. Pass a DataFrame "
                "indexed by class label instead."
            )
        table.index = list(classes)
    if table.shape[1] != X.shape[1]:
        raise ValueError(
            f"`attributions` must have one column per sensor of `X` "
            f"({X.shape[1]}); got {table.shape[1]}."
        )
    return table
