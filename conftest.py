"""Settings shared by the test suite and the package doctests."""

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def _one_thread():
    """Run torch, BLAS and OpenMP on one thread (the one thread-limiting
    fixture of the suite): the small networks of the tests are several
    times slower when two threads contend for two cores."""
    from sksteel.utils import single_threaded

    with single_threaded():
        yield


@pytest.fixture(scope="session", autouse=True)
def _data_home(tmp_path_factory):
    """Keep the data sets generated during the run out of the user's cache."""
    if "SKSTEEL_DATA" not in os.environ:
        os.environ["SKSTEEL_DATA"] = str(tmp_path_factory.mktemp("sksteel_data"))
    yield
