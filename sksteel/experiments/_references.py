"""Reference numbers beside the models: the ceiling (a strong model on ten
times more rows) and how separable the data set is."""

import time

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import KFold, cross_val_score

from ._data import load_experiment_data
from ._fitting import parallel_map
from ._models import baseline_estimators
from ._results import _Run

__all__ = ["CEILING", "fit_ceiling", "separability"]

#: Name of the ceiling row: a reference, not a competitor.
CEILING = "ceiling: HGB on 10x rows (reference)"

#: How many times more generated rows the ceiling trains on.
CEILING_FACTOR = 10

#: Seed of the ceiling's data set: other draws than the data set's (seed
#: 0), so none of its rows is a test row.
CEILING_DATA_SEED = 1


def _fit_ceiling(name, seed, estimator, X, y):
    start = time.perf_counter()
    estimator.fit(X, y)
    return _Run(
        model=name, seed=seed, estimator=estimator,
        fit_time=time.perf_counter() - start,
    )


def fit_ceiling(config, *, n_jobs=None, on_result=None):
    """HistGradientBoosting (the baseline pipeline, failing sensors while
    training included) fitted on a built-in data set ten times the size,
    drawn with another seed, once per seed; scored later on the same test
    splits as every model. None for a user's data directory, which has no
    ten-times-larger twin, and for intensities from the image model."""
    if config.data is not None or config.intensity != "masks":
        return None
    big = load_experiment_data(
        n_normal=CEILING_FACTOR * config.n_normal,
        n_per_class=CEILING_FACTOR * config.n_per_class,
        random_state=CEILING_DATA_SEED,
    )
    items = [
        (
            CEILING, seed,
            baseline_estimators(seed, quick=config.quick)["HistGradientBoosting"],
            big.data, big.target,
        )
        for seed in config.seeds
    ]
    return parallel_map(_fit_ceiling, items, n_jobs=config.n_jobs, on_result=on_result)


def _parameter_count(estimator):
    """Trainable parameters of a fitted SteelNetClassifier's network."""
    module = estimator.net_.module_
    return int(sum(p.numel() for p in module.parameters() if p.requires_grad))


def separability(dataset, steelnet_run):
    """How separable the data set is, measured in this run.

    5-fold cross-validated R^2 of the intensity from the ten sensors over
    all samples (linear regression and HistGradientBoosting; complete
    readings), the majority-class rate, the number of defect-free samples
    and SteelNet's trainable parameter count.
    """
    X, intensity = dataset.data, dataset.frame["intensity"]
    folds = KFold(5, shuffle=True, random_state=0)
    r2 = {
        name: float(np.mean(cross_val_score(model, X, intensity, cv=folds)))
        for name, model in (
            ("linear", LinearRegression()),
            ("hgb", HistGradientBoostingRegressor(random_state=0)),
        )
    }
    y = dataset.target.to_numpy()
    return {
        "r2_intensity_linear": r2["linear"],
        "r2_intensity_hgb": r2["hgb"],
        "majority_rate": float(np.mean(y == 0)),
        "n_normal": int(np.sum(y == 0)),
        "n_samples": len(y),
        "steelnet_parameters": _parameter_count(steelnet_run.estimator),
    }
