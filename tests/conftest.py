"""Shared fixtures: the real Severstal subset beside the project, if present."""

import os
from pathlib import Path

import pytest

#: The real Severstal subset lives in ``../shared/data/severstal`` beside the
#: project root; a user's checkout does not have it, so tests using it skip.
SEVERSTAL_DIR = Path(
    os.environ.get(
        "SKSTEEL_SHARED_SEVERSTAL",
        Path(__file__).resolve().parents[2] / "shared" / "data" / "severstal",
    )
)


@pytest.fixture(scope="session")
def severstal_dir():
    """The real Severstal subset, or skip when it is not beside the project."""
    if not (SEVERSTAL_DIR / "train_partial_defects.csv").is_file():
        pytest.skip(f"real Severstal subset not found at {SEVERSTAL_DIR}")
    return SEVERSTAL_DIR


@pytest.fixture(scope="module")
def one_torch_thread():
    """Run a module's torch code on one thread: the test machine's two cores
    are shared, and torch threads contending with other processes run slower.

    Use it with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``.
    """
    import torch

    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n_threads)
