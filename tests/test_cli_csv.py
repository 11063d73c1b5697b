"""Tests of the CSV workflow of the ``sksteel`` command (``fit``, ``predict``)."""

import hashlib
import re

import numpy as np
import pandas as pd
import pytest

from sksteel._schema import SENSOR_NAMES
from sksteel.cli import main
from sksteel.datasets import make_steelnet_dataset
from sksteel.exceptions import NotFittedError
from sksteel.io import load_model

FIT = ["--target", "defect_class", "--max-epochs", "3", "--random-state", "0"]


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def workflow(tmp_path_factory):
    """A training table with blank cells, a model fitted on it by ``sksteel fit
    --intensity-column`` and its predictions by ``sksteel predict``."""
    folder = tmp_path_factory.mktemp("cli_csv")
    frame = make_steelnet_dataset(n_normal=300, n_per_class=30, random_state=0).frame
    rng = np.random.default_rng(0)
    for name in SENSOR_NAMES:
        frame.loc[rng.random(len(frame)) < 0.1, name] = np.nan
    table = folder / "table.csv"
    frame.to_csv(table, index=False)
    digest = _digest(table)
    model = folder / "model.skops"
    argv = ["fit", str(table), *FIT, "--intensity-column", "intensity"]
    assert main([*argv, "--out", str(model)]) == 0
    predictions = folder / "predictions.csv"
    assert main(["predict", str(model), str(table), "--out", str(predictions)]) == 0
    return {
        "folder": folder, "frame": frame, "table": table, "digest": digest,
        "model": model, "predictions": predictions,
    }


def test_cli_csv_predictions_have_one_row_per_input_row(workflow):
    """Check the columns of the predictions, that each row's probabilities sum
    to 1 and that the predicted class is the most probable one."""
    frame = workflow["frame"]
    predictions = pd.read_csv(workflow["predictions"])
    classes = sorted(frame["defect_class"].unique())
    proba = [f"proba_{label}" for label in classes]
    top = ["top_sensor_1", "top_weight_1", "top_sensor_2", "top_weight_2",
           "top_sensor_3", "top_weight_3"]
    assert list(predictions.columns) == [
        "row", "image_id", "predicted_class", *proba, "intensity", *top,
    ]
    assert predictions["row"].tolist() == list(range(len(frame)))
    assert predictions["image_id"].tolist() == frame["image_id"].tolist()
    np.testing.assert_allclose(predictions[proba].sum(axis=1), 1.0, rtol=1e-5)
    most_probable = np.asarray(classes)[predictions[proba].to_numpy().argmax(axis=1)]
    np.testing.assert_array_equal(predictions["predicted_class"], most_probable)
    assert set(predictions["top_sensor_1"]) <= set(SENSOR_NAMES)
    assert (predictions["top_weight_1"] >= predictions["top_weight_2"]).all()
    no_defect = predictions["predicted_class"] == 0
    assert predictions.loc[no_defect, "intensity"].isna().all()
    assert predictions.loc[~no_defect, "intensity"].notna().all()
    assert 0 < no_defect.sum() < len(predictions)


def test_cli_csv_model_file_loads_and_matches_predictions(workflow):
    """Check that the saved model loads with ``load_model``, knows the sensor
    names and gives the probabilities written by ``predict``."""
    model = load_model(workflow["model"])
    assert list(model.feature_names_in_) == list(SENSOR_NAMES)
    predictions = pd.read_csv(workflow["predictions"])
    expected = model.predict_proba(workflow["frame"][list(SENSOR_NAMES)])
    proba = predictions[[f"proba_{label}" for label in model.classes_]]
    # written rounded to 6 decimals
    np.testing.assert_allclose(proba, expected, rtol=0, atol=5e-7 + 1e-7)


def test_cli_csv_input_table_is_unchanged(workflow):
    """Check that neither fit nor predict modifies the input file."""
    assert _digest(workflow["table"]) == workflow["digest"]


def test_cli_csv_column_order_does_not_matter(workflow):
    """Check that a table with shuffled columns gives identical predictions,
    and that the extra columns are announced as ignored."""
    frame = workflow["frame"]
    shuffled = workflow["folder"] / "shuffled.csv"
    columns = np.random.default_rng(1).permutation(frame.columns)
    frame[columns].to_csv(shuffled, index=False)
    out = workflow["folder"] / "shuffled_predictions.csv"
    argv = ["predict", str(workflow["model"]), str(shuffled), "--out", str(out)]
    assert main(argv) == 0
    pd.testing.assert_frame_equal(
        pd.read_csv(out), pd.read_csv(workflow["predictions"])
    )


def test_cli_csv_predict_notes_ignored_columns(workflow, capsys):
    """Check that predict names the columns it ignores, and honours --top-k."""
    out = workflow["folder"] / "top1.csv"
    argv = ["predict", str(workflow["model"]), str(workflow["table"]), "--out",
            str(out), "--top-k", "1"]
    assert main(argv) == 0
    assert "ignoring columns ['defect_class'" in capsys.readouterr().err
    columns = pd.read_csv(out).columns
    assert "top_sensor_1" in columns and "top_sensor_2" not in columns


def test_cli_csv_predict_refuses_to_overwrite_without_force(workflow, capsys):
    """Check that an existing output is kept without --force, replaced with
    it, and that the input table is never used as the output."""
    out = workflow["folder"] / "existing.csv"
    out.write_text("keep me\n")
    table = str(workflow["table"])
    argv = ["predict", str(workflow["model"]), table, "--out", str(out)]
    assert main(argv) == 1
    assert "already exists; pass `--force`" in capsys.readouterr().err
    assert out.read_text() == "keep me\n"
    assert main([*argv, "--force"]) == 0
    assert len(pd.read_csv(out)) == len(workflow["frame"])
    assert main(["predict", str(workflow["model"]), table, "--out", table,
                 "--force"]) == 1
    assert "is the input table" in capsys.readouterr().err
    assert _digest(workflow["table"]) == workflow["digest"]
    assert not list(workflow["folder"].glob(".*.tmp"))


def test_cli_csv_fit_refuses_to_overwrite_without_force(workflow, capsys):
    """Check that fit keeps an existing model file without --force and
    replaces it with --force."""
    model = workflow["folder"] / "refit.skops"
    model.write_bytes(b"old")
    argv = ["fit", str(workflow["table"]), *FIT, "--out", str(model)]
    assert main(argv) == 1
    assert "already exists; pass `--force`" in capsys.readouterr().err
    assert model.read_bytes() == b"old"
    assert main([*argv, "--force"]) == 0
    with pytest.raises(NotFittedError, match="without `intensity`"):
        load_model(model).predict_intensity(workflow["frame"][list(SENSOR_NAMES)])


def _edited_table(workflow, name, edit):
    frame = workflow["frame"].copy()
    frame = edit(frame)
    path = workflow["folder"] / name
    frame.to_csv(path, index=False)
    return str(path)


def _with_text(frame):
    frame = frame.astype({"vibration": object})
    frame.loc[[2, 5], "vibration"] = ["high", "n/a?"]
    return frame


@pytest.mark.parametrize("command", ["fit", "predict"])
@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda frame: frame.drop(columns=["spray_pressure", "vibration"]),
         r"\['spray_pressure', 'vibration'\]"),
        (_with_text,
         r"Column 'vibration' .* must hold numbers, but 2 cell\(s\) do not: "
         r"'high' \(line 4\), 'n/a\?' \(line 7\)"),
    ],
    ids=["missing column", "non-numeric column"],
)
def test_cli_csv_rejects_unusable_tables(workflow, capsys, command, edit, message):
    """Check that missing sensor columns and non-numeric readings stop fit and
    predict with one clear line and status 1."""
    table = _edited_table(workflow, f"{command}_{id(edit)}.csv", edit)
    out = str(workflow["folder"] / f"unused_{command}")
    if command == "fit":
        argv = ["fit", table, *FIT, "--out", out]
    else:
        argv = ["predict", str(workflow["model"]), table, "--out", out]
    assert main(argv) == 1
    error = capsys.readouterr().err
    assert error.startswith("sksteel: error:") and error.count("\n") == 1
    assert re.search(message, error)


@pytest.mark.parametrize(
    "options, message",
    [
        (["--target", "klass"], r"no target column\(s\) \['klass'\]; its columns"),
        (["--target", "defect_class", "--features", "vibration,nope"],
         r"no feature column\(s\) \['nope'\]"),
        (["--target", "defect_class", "--features", "vibration,defect_class"],
         r"cannot be both a feature and the target"),
    ],
)
def test_cli_csv_fit_rejects_bad_columns(workflow, capsys, options, message):
    """Check that an unknown target or feature column, or a feature that is
    also the target, is reported with the available columns."""
    out = workflow["folder"] / "never.skops"
    assert main(["fit", str(workflow["table"]), *options, "--out", str(out)]) == 1
    assert re.search(message, capsys.readouterr().err)
    assert not out.exists()


def test_cli_csv_fit_with_chosen_features(workflow, tmp_path):
    """Check that --features trains on exactly those columns, which predict
    then needs by name."""
    model = tmp_path / "three.skops"
    argv = ["fit", str(workflow["table"]), *FIT, "--out", str(model),
            "--features", "vibration, drive_load,curing_time"]
    assert main(argv) == 0
    names = load_model(model).feature_names_in_.tolist()
    assert names == ["vibration", "drive_load", "curing_time"]
