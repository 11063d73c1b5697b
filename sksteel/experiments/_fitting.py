"""Fitting every model on every seed, in parallel, with the same data."""

import os
import time

import joblib
import numpy as np

from ..models import SteelNetClassifier
from ..utils import single_threaded
from ._results import _Run

__all__ = ["fit_models", "parallel_map"]


def _final_step(estimator):
    return estimator[-1] if hasattr(estimator, "steps") else estimator


def _n_workers(n_jobs, n_tasks):
    """Number of processes joblib will use for ``n_tasks`` tasks."""
    n_cpus = os.cpu_count() or 1
    if n_jobs is None:
        n_jobs = 1
    if n_jobs < 0:
        n_jobs = max(n_cpus + 1 + n_jobs, 1)
    return max(1, min(n_jobs, n_tasks))


def _numbered(function):
    """``function`` run single-threaded, returning its task number with the
    result, as results arrive in any order."""

    def run(number, *args):
        with single_threaded():
            return number, function(*args)

    return run


def parallel_map(function, items, *, n_jobs=None, on_result=None):
    """``[function(*item) for item in items]``, in parallel processes.

    Each call runs single-threaded (:func:`sksteel.utils.single_threaded`); results come
    back in the order of ``items``.

    Parameters
    ----------
    function : callable
        A picklable function.
    items : list of tuple
        Arguments of each call.
    n_jobs : int, default=None
        Number of processes; None means 1, -1 all cores.
    on_result : callable, default=None
        Called with each result as it arrives, in any order (for progress
        display).

    Returns
    -------
    results : list
        One result per item.

    Examples
    --------
    >>> from operator import add
    >>> from sksteel.experiments._fitting import parallel_map
    >>> parallel_map(add, [(1, 2), (3, 4)])
    [3, 7]
    """
    items = list(items)
    n_workers = _n_workers(n_jobs, len(items))
    task = _numbered(function)
    if n_workers == 1:
        calls = (task(number, *item) for number, item in enumerate(items))
    else:
        calls = joblib.Parallel(n_jobs=n_workers, return_as="generator_unordered")(
            joblib.delayed(task)(number, *item) for number, item in enumerate(items)
        )
    results = [None] * len(items)
    for number, result in calls:
        if on_result is not None:
            on_result(result)
        results[number] = result
    return results


def _fit_one(name, seed, estimator, X, y, intensity, split):
    """Fit one model on one seed's split and time it.

    SteelNet stops early on held-out rows of its own: it is given the
    training and validation rows together and holds out exactly as many
    rows as the validation split has (stratified), so it trains on as many
    rows as every other model. The others train on the training rows.
    """
    fit_params = {}
    rows = split.train
    if isinstance(_final_step(estimator), SteelNetClassifier):
        rows = np.concatenate([split.train, split.valid])
        estimator.set_params(validation_fraction=len(split.valid) / len(rows))
        if intensity is not None:
            fit_params["intensity"] = intensity.iloc[rows].to_numpy()
    start = time.perf_counter()
    estimator.fit(X.iloc[rows], y.iloc[rows], **fit_params)
    return _Run(
        model=name, seed=seed, estimator=estimator,
        fit_time=time.perf_counter() - start,
    )


def fit_models(make_estimators, dataset, splits, *, n_jobs=None, on_result=None):
    """Fit every model on every seed's split.

    Parameters
    ----------
    make_estimators : callable
        ``make_estimators(seed)`` returns a dict ``name -> unfitted
        estimator`` seeded with ``seed``.
    dataset : Bunch
        As returned by :func:`load_experiment_data`: ``data`` (sensors),
        ``target`` and ``frame`` (with ``intensity``).
    splits : dict of int -> Bunch
        Seed -> the split of ``_make_splits`` made with that seed.
    n_jobs : int, default=None
        Number of processes; see :func:`parallel_map`.
    on_result : callable, default=None
        Called with each fitted run as it finishes.

    Returns
    -------
    runs : list of _Run
        One per (seed, model): ``model``, ``seed``, fitted ``estimator``
        and ``fit_time`` in seconds.
    """
    intensity = dataset.frame["intensity"] if "intensity" in dataset.frame else None
    items = [
        (name, seed, estimator, dataset.data, dataset.target, intensity, split)
        for seed, split in splits.items()
        for name, estimator in make_estimators(seed).items()
    ]
    return parallel_map(_fit_one, items, n_jobs=n_jobs, on_result=on_result)
