"""Benchmark a grid search over SteelNet: in one process against a local
Dask cluster.

The same ``GridSearchCV`` over the four loss weights (``alpha``, ``beta``,
``gamma``, ``delta``, two values each: 16 candidates, 2 folds, 32 fits) with
the intensity routed to ``fit``, run

1. sequentially in this process, torch on one thread;
2. through ``joblib.parallel_config(backend="dask")`` on a
   ``LocalCluster`` of ``N_WORKERS`` processes with one thread and one torch
   thread each.

Reported: the wall time of each search (the cluster's start-up, including
the import of sksteel and torch and a first tiny fit in each worker, timed
apart; the sequential search also follows a first tiny fit), the speed-up
(sequential / Dask) and whether both searches give the same mean test
scores and best parameters. The speed-up is bounded by the number of free
cores, measured before and after the runs (``free_cores_at_start``,
``free_cores_at_end``: ``N_WORKERS`` busy loops in parallel against one):
on a machine shared with other work it is well below ``N_WORKERS``.

Run: ``python benchmarks/bench_search.py``; writes
``benchmarks/results/bench_search.json``. Needs ``dask[distributed]``.
"""

import json
import multiprocessing
import os
import platform
import time
from pathlib import Path

import dask
import joblib
import numpy as np
import sklearn
import torch
from distributed import Client, LocalCluster
from sklearn.model_selection import GridSearchCV, StratifiedKFold

import sksteel
from sksteel.datasets import make_steelnet_dataset
from sksteel.models import SteelNetClassifier
from sksteel.utils import single_threaded

RESULTS = Path(__file__).parent / "results" / "bench_search.json"
N_WORKERS = 2
DATA_SIZES = {"n_normal": 1000, "n_per_class": 100}
GRID = {
    "alpha": [0.5, 1.0],
    "beta": [0.25, 0.5],
    "gamma": [0.0, 0.3],
    "delta": [0.05, 0.1],
}
N_SPLITS = 2
SETTINGS = {"hidden_layer_sizes": (64, 32), "d_token": 8, "max_epochs": 10}


def make_search(attribution_prior):
    steelnet = SteelNetClassifier(
        **SETTINGS, attribution_prior=attribution_prior, random_state=0
    ).set_fit_request(intensity=True)
    cv = StratifiedKFold(n_splits=N_SPLITS, shuffle=True, random_state=0)
    return GridSearchCV(steelnet, GRID, cv=cv)


def warm_up():
    """One tiny fit: torch's one-time start-up costs (lazy imports of the
    optimiser's machinery) fall outside the timed searches."""
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=40, n_features=4, random_state=0)
    SteelNetClassifier(hidden_layer_sizes=(4,), d_token=4, max_epochs=1).fit(X, y)


def _spin(n_steps=3_000_000):
    start = time.perf_counter()
    total = 0
    for step in range(n_steps):
        total += step
    return time.perf_counter() - start


def free_cores():
    """Cores this benchmark can use at the moment: ``N_WORKERS`` busy loops
    in parallel processes against one, ``N_WORKERS`` when the cores are idle,
    about 1 when other work takes the rest."""
    alone = min(_spin() for _ in range(3))
    with multiprocessing.get_context("spawn").Pool(N_WORKERS) as pool:
        together = max(pool.map(_spin, [3_000_000] * N_WORKERS))
    return N_WORKERS * alone / together


def timed(function):
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def main():
    sklearn.set_config(enable_metadata_routing=True)
    data = make_steelnet_dataset(**DATA_SIZES, random_state=0)
    X, y, intensity = data.data, data.target, data.frame["intensity"]

    def search():
        return make_search(data.attribution_prior).fit(X, y, intensity=intensity)

    cores = free_cores()
    with single_threaded():
        warm_up()
        sequential, sequential_seconds = timed(search)

    start = time.perf_counter()
    # Single-threaded worker processes, on this machine only.
    cluster = LocalCluster(
        n_workers=N_WORKERS,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
    )
    with cluster, Client(cluster) as client:
        client.run(torch.set_num_threads, 1)
        client.run(warm_up)
        startup_seconds = time.perf_counter() - start
        with joblib.parallel_config(backend="dask"):
            on_dask, dask_seconds = timed(search)

    scores = sequential.cv_results_["mean_test_score"]
    same_scores = bool(np.array_equal(scores, on_dask.cv_results_["mean_test_score"]))
    n_fits = len(scores) * N_SPLITS
    result = {
        "benchmark": "bench_search",
        "versions": {
            "sksteel": sksteel.__version__,
            "torch": torch.__version__,
            "sklearn": sklearn.__version__,
            "dask": dask.__version__,
            "python": platform.python_version(),
        },
        "cpu_count": os.cpu_count(),
        # Other work on the machine slows the runs unevenly: recorded.
        "free_cores_at_start": cores,
        "free_cores_at_end": free_cores(),
        "load_average_1min_at_end": os.getloadavg()[0],
        "rows": len(y),
        "grid": GRID,
        "n_candidates": len(scores),
        "n_fits": n_fits,
        "settings": {
            k: list(v) if isinstance(v, tuple) else v for k, v in SETTINGS.items()
        },
        "n_workers": N_WORKERS,
        "sequential_seconds": sequential_seconds,
        "dask_seconds": dask_seconds,
        "dask_startup_seconds": startup_seconds,
        "speedup": sequential_seconds / dask_seconds,
        "speedup_with_startup": sequential_seconds / (dask_seconds + startup_seconds),
        "same_mean_test_scores": same_scores,
        "same_best_params": on_dask.best_params_ == sequential.best_params_,
        "best_params": sequential.best_params_,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")

    print(f"GridSearchCV, {len(scores)} candidates x {N_SPLITS} folds = {n_fits} fits")
    print(
        f"on {len(y)} rows, {os.cpu_count()} CPUs; free: {cores:.1f} at start, "
        f"{result['free_cores_at_end']:.1f} at the end\n"
    )
    print(f"{'run':<28}{'seconds':>10}{'speed-up':>10}")
    print(f"{'sequential (1 thread)':<28}{sequential_seconds:>10.1f}{1.0:>10.2f}")
    label = f"Dask, {N_WORKERS} workers"
    print(f"{label:<28}{dask_seconds:>10.1f}{result['speedup']:>10.2f}")
    print(
        f"{'Dask, with start-up':<28}{dask_seconds + startup_seconds:>10.1f}"
        f"{result['speedup_with_startup']:>10.2f}"
    )
    print(f"\nsame mean test scores: {same_scores}; best: {sequential.best_params_}")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
