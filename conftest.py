"""Settings shared by the test suite and the package doctests."""

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread():
    """Train with one torch thread: the small networks of the tests are
    several times slower when two threads contend for two cores."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session", autouse=True)
def _data_home(tmp_path_factory):
    """Keep the data sets generated during the run out of the user's cache."""
    if "SKSTEEL_DATA" not in os.environ:
        os.environ["SKSTEEL_DATA"] = str(tmp_path_factory.mktemp("sksteel_data"))
    yield
