"""Table 1: classification on the clean test split, every model, every seed."""

import time

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)

from .._schema import CLASS_NAMES
from ._data import _test_rows
from ._results import Table1Results

__all__ = ["classification_scores", "run_table1", "summarise"]


def classification_scores(y_true, y_pred, *, labels=None):
    """The scores every results table shows.

    Accuracy and the weighted precision / recall / F1 the paper reports,
    plus the scores that are not fooled by 88 % of one class: macro-F1,
    balanced accuracy and the recall of each class.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted classes.
    labels : array-like, default=None
        The classes, in order; by default 0..4 (the defect classes).

    Returns
    -------
    scores : dict of str -> float
        ``accuracy``, ``precision_weighted``, ``recall_weighted``,
        ``f1_weighted``, ``f1_macro``, ``balanced_accuracy`` and
        ``recall_<class name>`` per class.

    Examples
    --------
    >>> from sksteel.experiments._table1 import classification_scores
    >>> scores = classification_scores([0, 0, 0, 1], [0, 0, 0, 0], labels=[0, 1])
    >>> scores["accuracy"], scores["balanced_accuracy"], scores["recall_crazing"]
    (0.75, 0.5, 0.0)
    """
    if labels is None:
        labels = list(range(len(CLASS_NAMES)))
    precision, recall, f1, _ = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, average="weighted", zero_division=0
    )
    per_class = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, average=None, zero_division=0
    )[1]
    scores = {
        "accuracy": accuracy_score(y_true, y_pred),
        "precision_weighted": precision,
        "recall_weighted": recall,
        "f1_weighted": f1,
        "f1_macro": f1_score(
            y_true, y_pred, labels=labels, average="macro", zero_division=0
        ),
        "balanced_accuracy": balanced_accuracy_score(y_true, y_pred),
    }
    for label, value in zip(labels, per_class):
        scores[f"recall_{_class_name(label)}"] = value
    return {name: float(value) for name, value in scores.items()}


def _class_name(label):
    """``CLASS_NAMES[label]`` for the integer classes, else the label."""
    if isinstance(label, (int, np.integer)) and 0 <= label < len(CLASS_NAMES):
        return CLASS_NAMES[label]
    return str(label)


def summarise(scores, by, columns=None):
    """Mean and standard deviation over seeds of every score column.

    Parameters
    ----------
    scores : DataFrame
        One row per (group, seed).
    by : str or list of str
        Columns identifying a group (for example ``"model"``).
    columns : list of str, default=None
        Score columns; by default every numeric column but ``seed``.

    Returns
    -------
    summary : DataFrame
        Indexed by ``by``, with ``<score>_mean`` and ``<score>_std``
        columns (sample standard deviation; 0 with one seed), in the order
        the groups first appear.

    Examples
    --------
    >>> import pandas as pd
    >>> from sksteel.experiments._table1 import summarise
    >>> scores = pd.DataFrame({"model": ["a", "a"], "seed": [0, 1],
    ...                        "accuracy": [0.8, 0.9]})
    >>> summarise(scores, "model").round(3).to_dict("records")
    [{'accuracy_mean': 0.85, 'accuracy_std': 0.071}]
    """
    if columns is None:
        columns = [
            c for c in scores.select_dtypes("number").columns
            if c != "seed" and c not in np.atleast_1d(by)
        ]
    grouped = scores.groupby(by, sort=False)[columns]
    mean = grouped.mean().add_suffix("_mean")
    std = grouped.std(ddof=1).fillna(0.0).add_suffix("_std")
    ordered = [f"{c}_{stat}" for c in columns for stat in ("mean", "std")]
    return pd.concat([mean, std], axis=1)[ordered]


def run_table1(runs, dataset, splits):
    """Score every fitted model on its seed's clean test split.

    Parameters
    ----------
    runs : list of _Run
        Fitted runs from ``fit_models``.
    dataset : Bunch
        The data set (``data``, ``target``).
    splits : dict of int -> Bunch
        Seed -> split.

    Returns
    -------
    table1 : Table1Results
        Every score of :func:`classification_scores` per (model, seed),
        with ``fit_time`` and ``predict_time``; their summary; the confusion
        matrices summed over seeds.
    """
    labels = sorted(np.unique(dataset.target))
    rows, confusion = [], {}
    for run in runs:
        X, y = _test_rows(dataset, splits[run.seed])
        y = y.to_numpy()
        start = time.perf_counter()
        y_pred = run.estimator.predict(X)
        predict_time = time.perf_counter() - start
        rows.append(
            {
                "model": run.model,
                "seed": run.seed,
                **classification_scores(y, y_pred, labels=labels),
                "fit_time": run.fit_time,
                "predict_time": predict_time,
            }
        )
        matrix = confusion_matrix(y, y_pred, labels=labels)
        confusion[run.model] = confusion.get(run.model, 0) + matrix
    scores = pd.DataFrame(rows)
    return Table1Results(
        scores=scores,
        summary=summarise(scores, "model"),
        confusion={name: matrix.tolist() for name, matrix in confusion.items()},
    )
