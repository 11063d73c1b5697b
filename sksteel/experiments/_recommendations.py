"""Setpoint recommendations on the fitted SteelNet, validated against the
generator's true causes (issue 15's per-class table)."""

import numpy as np
import pandas as pd

from ..recommend import SetpointRecommender, score_recommendations
from ._data import _test_rows
from ._results import RecommendationResults
from ._table1 import summarise

__all__ = ["run_recommendations"]

#: Defective test rows per seed given to the recommender (drawn with the
#: seed), to keep the stage's cost small.
ROWS_PER_SEED = 60

#: The recommender's search: the model-agnostic one (the gradient one costs
#: several times more per row).
METHOD = "search"

#: The baseline whose predictions judge plausibility independently.
INDEPENDENT = "HistGradientBoosting"

#: The measures of :func:`sksteel.recommend.score_recommendations` kept.
MEASURES = [
    "validity",
    "precision",
    "recall",
    "plausibility",
    "median_changes",
    "median_cost",
]


def _defective_rows(y, n_rows, seed):
    """Positions of at most ``n_rows`` defective rows, drawn with ``seed``."""
    defective = np.flatnonzero(y.to_numpy() != 0)
    chosen = np.random.default_rng(seed).permutation(defective)[:n_rows]
    return np.sort(chosen)


def run_recommendations(runs, dataset, splits, *, n_rows=ROWS_PER_SEED):
    """Recommend setpoints for defective test rows with each seed's SteelNet.

    Per seed, a :class:`~sksteel.recommend.SetpointRecommender` on the
    fitted SteelNet (``method=METHOD``), fitted on the seed's training rows,
    recommends setpoints for ``n_rows`` defective test rows;
    :func:`~sksteel.recommend.score_recommendations` scores those the model
    predicts as defective, with the seed's HistGradientBoosting (trained on
    the same rows) as the independent judge of plausibility.

    Parameters
    ----------
    runs : list of _Run
        The fitted models; those of ``"SteelNet"`` and of
        ``"HistGradientBoosting"`` are used, per seed.
    dataset : Bunch
        ``data``, ``target`` and ``attribution_prior``.
    splits : dict of int -> Bunch
        The splits by seed.
    n_rows : int, default=ROWS_PER_SEED
        Defective test rows per seed.

    Returns
    -------
    results : RecommendationResults
    """
    fitted = {(run.model, run.seed): run.estimator for run in runs}
    tables = []
    for seed, split in splits.items():
        model = fitted[("SteelNet", seed)]
        X_train = dataset.data.iloc[split.train]
        y_train = dataset.target.iloc[split.train]
        X, y = _test_rows(dataset, split)
        rows = _defective_rows(y, n_rows, seed)
        recommender = SetpointRecommender(model, method=METHOD, random_state=seed).fit(
            X_train, y_train
        )
        table = score_recommendations(
            recommender,
            X.iloc[rows],
            y.iloc[rows],
            attribution_prior=dataset.attribution_prior,
            independent=fitted[(INDEPENDENT, seed)],
        )
        tables.append(table.reset_index(drop=True).assign(seed=seed))
    scores = pd.concat(tables, ignore_index=True)
    summary = summarise(scores, "class", ["n_rows", "n_not_actionable", *MEASURES])
    return RecommendationResults(
        scores=scores, summary=summary, method=METHOD, rows_per_seed=n_rows
    )
