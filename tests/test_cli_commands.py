"""Tests of the ``sksteel`` command for plant files: table options, ``fit
--set`` / ``--attribution-prior`` / ``--verbose``, ``evaluate``, ``predict
--explain`` and its number format, model-file advice and error handling."""

import json
import re

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import balanced_accuracy_score, confusion_matrix, f1_score

from sksteel._schema import SENSOR_NAMES
from sksteel.cli import main
from sksteel.datasets import make_steelnet_dataset
from sksteel.inspection import shapley_values
from sksteel.io import load_model, save_model

TARGET = "defect_class"


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A training table, its attribution prior as a CSV file (rows and
    columns shuffled), a model fitted by ``sksteel fit`` with ``--set``,
    ``--attribution-prior`` and ``--verbose``, and a 40-row table to predict."""
    folder = tmp_path_factory.mktemp("cli_commands")
    data = make_steelnet_dataset(n_normal=100, n_per_class=15, random_state=0)
    frame = data.frame
    table = folder / "train.csv"
    frame.to_csv(table, index=False)
    prior = data.attribution_prior
    shuffled = prior.iloc[::-1, np.random.default_rng(0).permutation(prior.shape[1])]
    prior_file = folder / "prior.csv"
    shuffled.rename_axis("class").to_csv(prior_file)
    model = folder / "model.skops"
    argv = ["fit", table, "--target", TARGET, "--out", model,
            "--attribution-prior", prior_file, "--verbose",
            "--set", "max_epochs=2", "--set", "lr=2e-3",
            "--set", "class_weight=balanced", "--set", "hidden_layer_sizes=(32, 16)"]
    assert main([str(arg) for arg in argv]) == 0
    small = frame.sample(40, random_state=1).reset_index(drop=True)
    small_table = folder / "small.csv"
    small.to_csv(small_table, index=False)
    return {"folder": folder, "frame": frame, "table": table, "prior": prior,
            "prior_file": prior_file, "model": model, "small": small,
            "small_table": small_table}


def run(argv, capsys):
    """``main(argv)``: (status, stdout, stderr)."""
    status = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_fit_set_and_prior_reach_the_estimator(setup):
    """Check that ``--set`` values (literals and text), ``--verbose`` and the
    attribution prior, aligned by class label and column name, are the
    fitted model's."""
    model = load_model(setup["model"])
    params = model.get_params()
    assert params["max_epochs"] == 2 and params["lr"] == 2e-3
    assert params["class_weight"] == "balanced"
    assert params["hidden_layer_sizes"] == (32, 16)
    assert params["verbose"] == 1 and params["random_state"] == 0
    expected = setup["prior"].loc[model.classes_, list(SENSOR_NAMES)].to_numpy()
    np.testing.assert_allclose(
        model.attribution_prior_, expected / expected.sum(axis=1, keepdims=True)
    )


@pytest.mark.parametrize(
    "options, status, message",
    [
        (["--set", "lrr=1e-3"], 2, r"has no parameter 'lrr'\. Did you mean 'lr'\?"),
        (["--set", "lr"], 2, r"`--set` takes NAME=VALUE"),
        (["--set", "max_epochs=2", "--max-epochs", "3"], 2,
         r"\['max_epochs'\] given both by `--set` and by its own option"),
        (["--set", "lr=-1", "--max-epochs", "1"], 1,
         r"The 'lr' parameter of SteelNetClassifier must be a float"),
        (["--set", "attribution_prior=None", "--attribution-prior", "x.csv"], 2,
         r"given both by `--set`"),
    ],
    ids=["unknown", "no value", "twice", "invalid value", "prior twice"],
)
def test_cli_fit_set_errors(setup, tmp_path, capsys, options, status, message):
    """Check that an unknown or doubly given parameter is a usage error and an
    invalid value one clear line, and that no model is written."""
    out = tmp_path / "never.skops"
    result = run(["fit", setup["table"], "--target", TARGET, "--out", out, *options],
                 capsys)
    assert result[0] == status, result
    assert re.search(message, result[2]) and result[2].count("\n") == 1
    assert not out.exists()


def test_cli_fit_prior_without_a_class_is_refused(setup, tmp_path, capsys):
    """Check that a prior lacking a class row is refused, naming the class."""
    prior = tmp_path / "prior.csv"
    setup["prior"].iloc[:-1].rename_axis("class").to_csv(prior)
    argv = ["fit", setup["table"], "--target", TARGET, "--out", tmp_path / "m.skops",
            "--attribution-prior", prior]
    status, _, err = run(argv, capsys)
    assert status == 1
    assert "must have one row for each class" in err and "class 4 has 0" in err


def test_cli_predict_explain_writes_shapley_values(setup, tmp_path, capsys):
    """Check that ``--explain`` adds base_value and one shap_<sensor> column
    per sensor, equal to ``shapley_values`` to 6 decimals, summing with the
    base value to the predicted class's probability."""
    out = tmp_path / "explained.csv"
    status, _, err = run(["predict", setup["model"], setup["small_table"], "--out",
                          out, "--explain"], capsys)
    assert status == 0, err
    predictions = pd.read_csv(out)
    shap = [f"shap_{name}" for name in SENSOR_NAMES]
    assert list(predictions.columns[-11:]) == ["base_value", *shap]
    model = load_model(setup["model"])
    X = setup["small"][list(SENSOR_NAMES)]
    expected = shapley_values(model, X)
    np.testing.assert_allclose(predictions[shap], expected.values, atol=6e-7)
    np.testing.assert_allclose(predictions["base_value"], expected.base_values,
                               atol=6e-7)
    proba = predictions.filter(like="proba_").to_numpy()
    total = predictions[shap].sum(axis=1) + predictions["base_value"]
    np.testing.assert_allclose(total, proba.max(axis=1), atol=1e-5)


def test_cli_predict_number_format_and_intensity(setup, tmp_path, capsys):
    """Check that probabilities are written with at most 6 decimals by
    default and exactly with ``--full-precision``, and that the intensity
    is empty exactly on rows predicted as no defect."""
    table = tmp_path / "with_intensity.csv"
    setup["frame"].to_csv(table, index=False)
    model = tmp_path / "intensity.skops"
    assert run(["fit", table, "--target", TARGET, "--intensity-column", "intensity",
                "--max-epochs", "2", "--out", model], capsys)[0] == 0
    outs = {}
    for full in (False, True):
        outs[full] = tmp_path / f"p_{full}.csv"
        argv = ["predict", model, setup["small_table"], "--out", outs[full]]
        assert run(argv + ["--full-precision"] * full, capsys)[0] == 0
    rounded = pd.read_csv(outs[False], dtype=str)
    decimals = rounded["proba_0"].str.partition(".")[2].str.len()
    assert decimals.max() <= 6
    fitted = load_model(model)
    X = setup["small"][list(SENSOR_NAMES)]
    full = pd.read_csv(outs[True])
    proba = [f"proba_{label}" for label in fitted.classes_]
    np.testing.assert_array_equal(full[proba], fitted.predict_proba(X))
    np.testing.assert_allclose(pd.read_csv(outs[False])[proba], full[proba],
                               rtol=0, atol=5e-7 + 1e-12)
    none = full["predicted_class"] == 0
    assert full.loc[none, "intensity"].isna().all()
    np.testing.assert_array_equal(
        full.loc[~none, "intensity"], fitted.predict_intensity(X)[~none]
    )


@pytest.mark.parametrize("as_json", [False, True])
def test_cli_evaluate_scores_a_labelled_table(setup, capsys, as_json):
    """Check the scores of ``evaluate`` against scikit-learn's on the model's
    predictions, as text and as JSON."""
    argv = ["evaluate", setup["model"], setup["small_table"], "--target", TARGET]
    status, out, err = run(argv + ["--json"] * as_json, capsys)
    assert status == 0, err
    model = load_model(setup["model"])
    y = setup["small"][TARGET].to_numpy()
    predicted = model.predict(setup["small"][list(SENSOR_NAMES)])
    f1 = f1_score(y, predicted, average="macro", labels=model.classes_,
                  zero_division=0)
    balanced = balanced_accuracy_score(y, predicted)
    matrix = confusion_matrix(y, predicted, labels=model.classes_)
    if as_json:
        scores = json.loads(out)
        assert scores["macro_f1"] == pytest.approx(f1)
        assert scores["balanced_accuracy"] == pytest.approx(balanced)
        assert scores["confusion_matrix"] == matrix.tolist()
        recall = np.diag(matrix) / matrix.sum(axis=1)
        assert list(scores["recall"].values()) == pytest.approx(recall.tolist())
        assert scores["n_rows"] == 40 and scores["unknown_labels"] == []
    else:
        assert f"macro-F1           {f1:.4f}" in out
        assert f"balanced accuracy  {balanced:.4f}" in out
        assert "confusion matrix (rows: true class, columns: predicted class)" in out


def test_cli_evaluate_refuses_missing_target(setup, capsys):
    """Check that an unknown target column is one clear line."""
    argv = ["evaluate", setup["model"], setup["small_table"], "--target", "klass"]
    status, _, err = run(argv, capsys)
    assert status == 1 and "no target column(s) ['klass']" in err


def test_cli_european_and_latin1_tables(setup, tmp_path, capsys):
    """Check that a ';'-separated table with decimal commas in latin-1 gives
    the predictions of the plain table, detected or given by options, with
    the detected dialect noted and ids written back."""
    plain = tmp_path / "plain.csv"
    argv = ["predict", setup["model"], setup["small_table"], "--out", plain]
    assert run(argv, capsys)[0] == 0
    small = setup["small"].assign(image_id=[f"tôle_{i}" for i in range(40)])
    european = tmp_path / "eu.csv"
    small.to_csv(european, sep=";", decimal=",", index=False, encoding="latin-1")
    refused = run(["predict", setup["model"], european, "--out", tmp_path / "x.csv"],
                  capsys)
    assert refused[0] == 1 and "`--encoding latin-1`" in refused[2]
    expected = pd.read_csv(plain).drop(columns="image_id")
    for options in (["--encoding", "latin-1"],
                    ["--encoding", "latin-1", "--sep", ";", "--decimal", ","]):
        out = tmp_path / f"eu_{len(options)}.csv"
        status, _, err = run(["predict", setup["model"], european, "--out", out,
                              *options], capsys)
        assert status == 0, err
        assert ("with sep ';', decimal ','" in err) == (len(options) == 2)
        predictions = pd.read_csv(out)
        assert predictions["image_id"].tolist() == small["image_id"].tolist()
        pd.testing.assert_frame_equal(predictions.drop(columns="image_id"), expected)


def test_cli_pickle_model_files_get_advice_the_cli_can_follow(setup, tmp_path,
                                                              capsys):
    """Check that joblib files (save_model's and plain ones) and a damaged
    skops file are one line, with advice that fits each."""
    model = load_model(setup["model"])
    files = {
        "joblib": save_model(model, tmp_path / "m.joblib", format="joblib"),
        "pickle": tmp_path / "plain.joblib",
        "damaged": tmp_path / "cut.skops",
    }
    joblib.dump(model, files["pickle"])
    files["damaged"].write_bytes(setup["model"].read_bytes()[:5000])
    for kind, path in files.items():
        status, _, err = run(["predict", path, setup["small_table"], "--out",
                              tmp_path / f"{kind}.csv"], capsys)
        assert status == 1 and err.count("\n") == 1 and "Traceback" not in err
        if kind == "damaged":
            assert "joblib" not in err and "allow_pickle" not in err
        else:
            assert "the sksteel command loads only skops files" in err


def test_cli_internal_errors_show_their_traceback(setup, tmp_path, monkeypatch,
                                                  capsys):
    """Check that an error that is not sksteel's nor a file's propagates (a
    bug must show its traceback) while a DataFormatError is one line."""
    from sksteel.exceptions import DataFormatError

    argv = ["predict", str(setup["model"]), str(setup["small_table"]), "--out",
            str(tmp_path / "p.csv")]

    def bug(*args, **kwargs):
        raise ValueError("an internal bug")

    monkeypatch.setattr("sksteel.cli._predictions", bug)
    with pytest.raises(ValueError, match="an internal bug"):
        main(argv)

    def bad_data(*args, **kwargs):
        raise DataFormatError("bad data")

    monkeypatch.setattr("sksteel.cli._predictions", bad_data)
    assert main(argv) == 1
    assert capsys.readouterr().err == "sksteel: error: bad data\n"


@pytest.mark.parametrize(
    "command, patched, said",
    [
        ("fit", "sksteel.cli.read_table_csv", "No model was written."),
        ("predict", "sksteel.cli.read_table_csv", "No predictions were written."),
        ("evaluate", "sksteel.cli.read_table_csv", "Nothing was scored."),
        ("reproduce", "sksteel.experiments.reproduce", "The data set is cached"),
    ],
)
def test_cli_interrupt_message_fits_the_command(setup, tmp_path, monkeypatch,
                                                capsys, command, patched, said):
    """Check that Ctrl-C exits 130 with a message for that command: the cache
    hint for reproduce only."""
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(patched, interrupt)
    table, model, out = setup["small_table"], setup["model"], tmp_path / "o"
    argv = {
        "fit": ["fit", table, "--target", TARGET, "--out", out],
        "predict": ["predict", model, table, "--out", out],
        "evaluate": ["evaluate", model, table, "--target", TARGET],
        "reproduce": ["reproduce", "--out", out, "--quick"],
    }[command]
    status, _, err = run(argv, capsys)
    assert status == 130 and said in err
    assert ("cached" in err) == (command == "reproduce")
