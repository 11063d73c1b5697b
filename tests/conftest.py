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

