"""Robustness: scores as test-time sensor readings go missing (paper 4.3)."""

import pandas as pd

from ..datasets import SENSORS
from ..metrics import robustness_curve
from ._data import _test_rows
from ._fitting import parallel_map
from ._results import RobustnessResults
from ._table1 import summarise

__all__ = ["DROPOUT_RATES", "run_robustness"]

#: The paper's test-time dropout rates (4.3).
DROPOUT_RATES = (0.0, 0.1, 0.2, 0.3, 0.5)

#: Scores of every robustness curve.
ROBUSTNESS_SCORES = ("accuracy", "f1_macro")


def _plant_scores(run, X, y, plant_rate, n_repeats):
    """Scores of one run with readings missing at the sensor table's own
    probabilities (``mode="table"`` at their mean), on masks of their own."""
    curve = robustness_curve(
        run.estimator, X, y, (0.0, plant_rate), mode="table",
        scoring=list(ROBUSTNESS_SCORES), n_repeats=n_repeats,
        random_state=run.seed,
    )
    return {
        "model": run.model, "seed": run.seed,
        **{name: curve.scores_mean[name][-1] for name in ROBUSTNESS_SCORES},
    }


def _curves_of_run(run, X, y, rates, modes, n_repeats, plant_rate=None):
    """Robustness curves of one fitted run: (curve rows, area rows, plant
    scores or None)."""
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
    plant = None
    if plant_rate is not None:
        plant = _plant_scores(run, X, y, plant_rate, n_repeats)
    return curve_rows, area_rows, plant


def run_robustness(
    runs, dataset, splits, *, rates=DROPOUT_RATES, modes=("uniform", "table"),
    n_repeats=5, n_jobs=None, plant=False,
):
    """Score every fitted model while test readings go missing.

    Two failure models: ``"uniform"`` (each reading missing with probability
    ``rate``, the paper's) and ``"table"`` (per-sensor probabilities from the
    sensor table's failure rates, scaled to mean ``rate``). Each point is the
    mean over ``n_repeats`` random masks; the masks of a seed are the same
    for every model, so models are compared on identical failures.

    Parameters
    ----------
    runs : list of _Run
        Fitted runs from ``fit_models``.
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
    plant : bool, default=False
        Also score every run with readings missing at the sensor table's
        own failure probabilities (the plant's rates).

    Returns
    -------
    robustness : RobustnessResults
        ``curves`` (one row per (model, seed, mode, rate) with ``accuracy``
        and ``f1_macro``), ``summary`` (mean and sd over seeds per (model,
        mode, rate)), ``auc`` (one row per (model, seed, mode): the area
        under each curve divided by the rate range, i.e. the mean score over
        the range) and ``auc_summary``.
    """
    plant_rate = float(SENSORS["failure_probability"].mean()) if plant else None
    items = []
    for run in runs:
        X, y = _test_rows(dataset, splits[run.seed])
        items.append(
            (run, X, y.to_numpy(), tuple(rates), tuple(modes), n_repeats, plant_rate)
        )
    results = parallel_map(_curves_of_run, items, n_jobs=n_jobs)
    curves = pd.DataFrame([row for rows, _, _ in results for row in rows])
    areas = pd.DataFrame([row for _, rows, _ in results for row in rows])
    plant_scores = plant_summary = None
    if plant:
        plant_scores = pd.DataFrame([scores for _, _, scores in results])
        plant_summary = summarise(plant_scores, "model", list(ROBUSTNESS_SCORES))
    return RobustnessResults(
        curves=curves,
        summary=summarise(curves, ["model", "mode", "rate"], list(ROBUSTNESS_SCORES)),
        auc=areas,
        auc_summary=summarise(
            areas, ["model", "mode"], [f"{s}_auc" for s in ROBUSTNESS_SCORES]
        ),
        plant=plant_scores,
        plant_summary=plant_summary,
        plant_rate=plant_rate,
    )
