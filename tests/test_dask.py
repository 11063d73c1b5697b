"""A grid search over SteelNet on a local Dask cluster, through joblib."""

import pytest

pytest.importorskip("distributed")

import joblib
import numpy as np
import sklearn
import torch
from distributed import Client, LocalCluster, get_task_stream
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from sksteel.datasets import make_steelnet_dataset
from sksteel.models import SteelNetClassifier
from sksteel.utils import single_threaded

GRID = {"alpha": [0.5, 1.0], "gamma": [0.0, 1.0]}
#: Two single-threaded worker processes, on this machine only.
CLUSTER = {
    "n_workers": 2,
    "threads_per_worker": 1,
    "processes": True,
    "host": "127.0.0.1",
    "dashboard_address": None,
}


@pytest.fixture(scope="module")
def data():
    return make_steelnet_dataset(n_normal=100, n_per_class=25, random_state=0)


def _search(attribution_prior):
    steelnet = SteelNetClassifier(
        hidden_layer_sizes=(32,),
        d_token=4,
        lr=1e-2,
        max_epochs=4,
        attribution_prior=attribution_prior,
        random_state=0,
    ).set_fit_request(intensity=True)
    cv = StratifiedKFold(n_splits=2, shuffle=True, random_state=0)
    return GridSearchCV(steelnet, GRID, cv=cv)


def test_dask_grid_search_matches_sequential(data):
    """Check that GridSearchCV run through joblib's dask backend on a
    two-process local cluster (one torch thread per worker), with the
    intensity routed to fit, finds the same best parameters and the same
    mean test scores as the sequential search."""
    X, y = data.data, data.target
    intensity = data.frame["intensity"]
    with sklearn.config_context(enable_metadata_routing=True):
        with single_threaded():
            sequential = _search(data.attribution_prior).fit(X, y, intensity=intensity)
        with (
            LocalCluster(**CLUSTER) as cluster,
            Client(cluster) as client,
        ):
            client.run(torch.set_num_threads, 1)
            # Tasks run in the workers' executor threads: ask from there.
            worker_threads = client.gather(
                [client.submit(torch.get_num_threads, pure=False) for _ in range(4)]
            )
            with (
                joblib.parallel_config(backend="dask"),
                get_task_stream(client) as tasks,
            ):
                on_dask = _search(data.attribution_prior).fit(X, y, intensity=intensity)
    assert worker_threads == [1, 1, 1, 1]
    assert len(tasks.data) > 0, "the search did not run on the cluster"
    scores = sequential.cv_results_["mean_test_score"]
    assert len(set(scores)) > 1, "the candidates must be told apart"
    assert on_dask.best_params_ == sequential.best_params_
    np.testing.assert_array_equal(on_dask.cv_results_["mean_test_score"], scores)
