"""Every example runs, in its quick mode, as a user would run it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(script, tmp_path):
    """Check that the example finishes without error and without warnings
    turned into errors, in quick mode with a non-interactive backend."""
    env = {
        **os.environ,
        "SKSTEEL_EXAMPLES_QUICK": "1",
        "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": "1",
    }
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def test_examples_are_found():
    """Check that the examples directory is where the test looks."""
    names = {p.name for p in EXAMPLES}
    assert {"plot_quickstart.py", "plot_robustness.py"} <= names
