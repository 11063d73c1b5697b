"""
Grid search on a Dask cluster
=============================

scikit-learn's searches hand their fits to joblib, and joblib can hand them
to a `Dask <https://www.dask.org>`_ cluster. This example tunes SteelNet's
four loss weights (``alpha``, ``beta``, ``gamma``, ``delta``) with
:class:`~sklearn.model_selection.GridSearchCV`, first in this process, then
on a local cluster of two worker processes, and checks that both find the
same scores: the cluster changes where the fits run, not what they compute.

The same code runs on a cluster of many machines: replace the
``LocalCluster`` by ``Client("tcp://scheduler:8786")``, the address of your
scheduler.

Dask is an optional dependency: ``pip install "dask[distributed]"``.
"""

# %%
import os
import time

import joblib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import sklearn
import torch
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from sksteel.datasets import make_steelnet_dataset
from sksteel.models import SteelNetClassifier
from sksteel.utils import single_threaded

try:
    from dask.distributed import Client, LocalCluster
except ImportError:
    Client = LocalCluster = None

QUICK = os.environ.get("SKSTEEL_EXAMPLES_QUICK") == "1"

# %%
# The search
# ----------
# The intensity reaches ``fit`` through scikit-learn's metadata routing, on
# the cluster as in this process. In quick mode (the documentation build)
# the data, the network and the grid are tiny.
if QUICK:
    sizes = {"n_normal": 100, "n_per_class": 25}
    grid = {"alpha": [0.5, 1.0], "gamma": [0.0, 1.0]}
    settings = {"hidden_layer_sizes": (32,), "d_token": 4, "lr": 1e-2, "max_epochs": 4}
else:
    sizes = {"n_normal": 1000, "n_per_class": 100}
    grid = {
        "alpha": [0.5, 1.0],
        "beta": [0.25, 0.5],
        "gamma": [0.0, 0.3],
        "delta": [0.05, 0.1],
    }
    settings = {"max_epochs": 30}


def make_search(attribution_prior):
    steelnet = SteelNetClassifier(
        **settings, attribution_prior=attribution_prior, random_state=0
    ).set_fit_request(intensity=True)
    cv = StratifiedKFold(n_splits=2 if QUICK else 3, shuffle=True, random_state=0)
    return GridSearchCV(steelnet, grid, cv=cv)


# %%
# In this process
# ---------------
# Worker processes start by importing this script again, so the work sits
# under ``if __name__ == "__main__":``, as Python's multiprocessing asks.
if __name__ == "__main__":
    sklearn.set_config(enable_metadata_routing=True)
    data = make_steelnet_dataset(**sizes, random_state=0)
    X, y, intensity = data.data, data.target, data.frame["intensity"]

    start = time.perf_counter()
    with single_threaded():
        sequential = make_search(data.attribution_prior).fit(X, y, intensity=intensity)
    seconds = {"in this process": time.perf_counter() - start}

# %%
# On a local Dask cluster
# -----------------------
# Two worker processes with one thread each, and one torch thread each: a
# SteelNet batch is too small for several threads to pay. On a real
# cluster, connect with ``Client("tcp://scheduler:8786")`` instead and start
# the workers with ``--nthreads 1`` and ``OMP_NUM_THREADS=1``.
if __name__ == "__main__" and LocalCluster is None:
    print("dask[distributed] is not installed: skipping the cluster part.")
elif __name__ == "__main__":
    n_workers = 2 if QUICK else os.cpu_count()
    with (
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(torch.set_num_threads, 1)
        start = time.perf_counter()
        with joblib.parallel_config(backend="dask"):
            on_dask = make_search(data.attribution_prior).fit(X, y, intensity=intensity)
        seconds[f"Dask, {n_workers} workers"] = time.perf_counter() - start

    same = np.array_equal(
        sequential.cv_results_["mean_test_score"],
        on_dask.cv_results_["mean_test_score"],
    )
    print("same mean test scores:", same)
    print("best parameters:", on_dask.best_params_)

# %%
# Results
# -------
# The scores of every candidate, and the wall time of each run. On a laptop
# the cluster's start-up cost can outweigh the parallel fits of a small
# search; the gain grows with the number of candidates and workers.
if __name__ == "__main__":
    sklearn.set_config(enable_metadata_routing=False)
    results = pd.DataFrame(sequential.cv_results_)
    columns = [c for c in results if c.startswith("param_")] + ["mean_test_score"]
    print(results[columns].round(3).to_string(index=False))

    fig, ax = plt.subplots(figsize=(6, 2.5))
    ax.barh(list(seconds), list(seconds.values()))
    ax.set_xlabel("wall time of the search (s)")
    fig.tight_layout()
    plt.show()
