"""Robustness: scores as test-time sensor readings go missing (paper 4.3)."""

import pandas as pd
from sklearn.utils import Bunch

from ..metrics import robustness_curve
from ._fitting import parallel_map
from ._table1 import summarise

__all__ = ["DROPOUT_RATES", "run_robustness"]

#: The paper's test-time dropout rates (4.3).
DROPOUT_RATES = (0.0, 0.1, 0.2, 0.3, 0.5)

#: Scores of every robustness curve.
ROBUSTNESS_SCORES = ("accuracy", "f1_macro")


def _curves_of_run(run, X, y, rates, modes, n_repeats):
    """Robustness curves of one fitted run: (curve rows, area rows)."""
    curve_rows, area_rows = [], []
    for mode in modes:
        curve = robustness_curve(
            run.estimator, X, y, rates, mode=mode, scoring=list(ROBUSTNESS_SCORES),
            n_repeats=n_repeats, random_state=run.seed,
        )
        key = {"model": run.model, "seed": run.seed, "mode": mode}
        for i, rate in enumerate(curve.rates):
            scores = {name: curve.scores_mean[name][i] for name in ROBUSTNESS_SCORES}
            curve_rows.append({**key, "rate": float(rate), **scores})
        area_rows.append(
            {**key, **{f"{name}_auc": curve.auc[name] for name in ROBUSTNESS_SCORES}}
        )
    return curve_rows, area_rows


def run_robustness(
    runs, dataset, splits, *, rates=DROPOUT_RATES, modes=("uniform", "table"),
    n_repeats=5, n_jobs=None,
):
    """Score every fitted model while test readings go missing.

    Two failure models: ``"uniform"`` (each reading missing with probability
    ``rate``, the paper's) and ``"table"`` (per-sensor probabilities from the
    sensor table's failure rates, scaled to mean ``rate``). Each point is the
    mean over ``n_repeats`` random masks; the masks of a seed are the same
    for every model, so models are compared on identical failures.

    Parameters
    ----------
    runs : list of Bunch
        Fitted runs from :func:`fit_models`.
    dataset : Bunch
        The data set (``data``, ``target``).
    splits : dict of int -> Bunch
        Seed -> split.
    rates : tuple of float, default=(0.0, 0.1, 0.2, 0.3, 0.5)
        Test-time missing-reading rates.
    modes : tuple of str, default=("uniform", "table")
        Failure models.
    n_repeats : int, default=5
        Random masks per rate.
    n_jobs : int, default=None
        Number of processes.

    Returns
    -------
    robustness : Bunch
        ``curves`` (one row per (model, seed, mode, rate) with ``accuracy``
        and ``f1_macro``), ``summary`` (mean and sd over seeds per (model,
        mode, rate)), ``auc`` (one row per (model, seed, mode): the area
        under each curve divided by the rate range, i.e. the mean score over
        the range) and ``auc_summary``.

    Examples
    --------
    >>> from sksteel.experiments import run_robustness
    >>> robustness = run_robustness(runs, dataset, splits)  # doctest: +SKIP

    ``runs`` comes from :func:`fit_models`.
    """
    items = [
        (
            run,
            dataset.data.iloc[splits[run.seed].test],
            dataset.target.iloc[splits[run.seed].test].to_numpy(),
            tuple(rates),
            tuple(modes),
            n_repeats,
        )
        for run in runs
    ]
    results = parallel_map(_curves_of_run, items, n_jobs=n_jobs)
    curves = pd.DataFrame([row for rows, _ in results for row in rows])
    areas = pd.DataFrame([row for _, rows in results for row in rows])
    return Bunch(
        curves=curves,
        summary=summarise(curves, ["model", "mode", "rate"], list(ROBUSTNESS_SCORES)),
        auc=areas,
        auc_summary=summarise(
            areas, ["model", "mode"], [f"{s}_auc" for s in ROBUSTNESS_SCORES]
        ),
    )
