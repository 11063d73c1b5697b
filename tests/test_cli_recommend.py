"""Tests of ``sksteel recommend``: the round trip through CSV files."""

import io
from contextlib import redirect_stderr, redirect_stdout

import numpy as np
import pandas as pd
import pytest

from sksteel.cli import main
from sksteel.datasets import SENSOR_NAMES, make_steelnet_dataset
from sksteel.io import load_model
from sksteel.recommend import SetpointRecommender


def _run(argv):
    stdout, stderr = io.StringIO(), io.StringIO()
    with redirect_stdout(stdout), redirect_stderr(stderr):
        status = main([str(a) for a in argv])
    return status, stdout.getvalue(), stderr.getvalue()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A training table, a model trained on it by ``sksteel fit`` and a
    table of defective readings with ids and a failed sensor."""
    folder = tmp_path_factory.mktemp("recommend")
    data = make_steelnet_dataset(n_normal=200, n_per_class=40, random_state=0)
    train = data.frame[[*SENSOR_NAMES, "defect_class"]]
    train.to_csv(folder / "train.csv", index=False)
    model = folder / "model.skops"
    status, _, stderr = _run([
        "fit", folder / "train.csv", "--target", "defect_class", "--out", model,
        "--max-epochs", "15",
    ])
    assert status == 0, stderr
    readings = data.data[(data.target > 0).to_numpy()].iloc[::8].copy()
    readings.iloc[::2, 4] = np.nan  # curing temperature failed
    readings.insert(0, "id", [f"coil-{k:03d}" for k in range(len(readings))])
    readings.to_csv(folder / "readings.csv", index=False)
    return folder, model, readings


def _recommend(folder, model, *extra):
    out = folder / "recommendations.csv"
    return out, _run([
        "recommend", model, folder / "readings.csv", "--normal",
        folder / "train.csv", "--label-column", "defect_class", "--out", out,
        *extra,
    ])


def test_cli_recommend_round_trip(files):
    """Check one row per input row with its id, that the numbers equal
    those of the Python API on the same model and rows, and that failed
    readings stay empty."""
    folder, model, readings = files
    out, (status, stdout, stderr) = _recommend(folder, model, "--force")
    assert status == 0, stderr
    assert "recommendations to" in stdout
    written = pd.read_csv(out, keep_default_na=False, na_values=[""])
    assert written["id"].tolist() == readings["id"].tolist()
    assert written["row"].tolist() == list(range(len(readings)))
    train = pd.read_csv(folder / "train.csv")
    recommender = SetpointRecommender(load_model(model), random_state=0).fit(
        train[list(SENSOR_NAMES)], train["defect_class"]
    )
    expected = recommender.recommend(readings[list(SENSOR_NAMES)])
    for name in SENSOR_NAMES:
        np.testing.assert_allclose(
            written[f"setpoint_{name}"], expected.setpoints[name], equal_nan=True
        )
        np.testing.assert_allclose(written[f"change_{name}"], expected.changes[name])
    np.testing.assert_allclose(written["probability_after"], expected.probability_after)
    np.testing.assert_array_equal(written["valid"], expected.valid)
    assert written["reason"].fillna("").tolist() == expected.reason.tolist()
    failed = readings["curing_temperature"].isna().to_numpy()
    assert written["setpoint_curing_temperature"].isna().to_numpy()[failed].all()
    assert (written["change_ambient_humidity"] == 0).all()


def test_cli_recommend_refuses_overwrite_without_force(files):
    """Check that an existing output is kept without --force and replaced
    with it."""
    folder, model, _ = files
    out = folder / "recommendations.csv"
    out.write_text("keep me\n")
    _, (status, _, stderr) = _recommend(folder, model)
    assert status == 1 and "already exists" in stderr and "--force" in stderr
    assert out.read_text() == "keep me\n"
    _, (status, _, _) = _recommend(folder, model, "--force")
    assert status == 0 and out.read_text() != "keep me\n"


def test_cli_recommend_bad_input(files, tmp_path):
    """Check clear errors for a normal table without the model's columns,
    an unknown target class and a reading outside its feasible range."""
    folder, model, readings = files
    pd.DataFrame({"vibration": [3.0]}).to_csv(tmp_path / "bad.csv", index=False)
    status, _, stderr = _run([
        "recommend", model, folder / "readings.csv", "--normal",
        tmp_path / "bad.csv", "--out", tmp_path / "out.csv",
    ])
    assert status == 1 and "feature column(s)" in stderr
    _, (status, _, stderr) = _recommend(folder, model, "--target", "rust", "--force")
    assert status == 1 and "does not know the target class 'rust'" in stderr
    far = readings.copy()
    far.iloc[0, far.columns.get_loc("spray_pressure")] = 9.0
    far.to_csv(tmp_path / "far.csv", index=False)
    status, _, stderr = _run([
        "recommend", model, tmp_path / "far.csv", "--normal", folder / "train.csv",
        "--out", tmp_path / "out.csv",
    ])
    assert status == 1 and "'spray_pressure' at row 0" in stderr
    assert not (tmp_path / "out.csv").exists()
