"""Tests of the experiments with intensities from the image model: the data
set cache and ``sksteel reproduce --intensity model``."""

import io
import json
import re
from contextlib import redirect_stderr, redirect_stdout

import pandas as pd
import pytest

from sksteel.cli import main
from sksteel.experiments import load_experiment_data
from sksteel.utils import single_threaded
from sksteel.vision import DefectFractionRegressor

#: 16 samples from the built-in surfaces.
SIZES = dict(n_normal=8, n_per_class=2)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny models train fastest on one thread on the shared cores."""
    with single_threaded():
        yield


def tiny_model(**params):
    """A tiny image model: one epoch at 32 x 200 pixels."""
    return DefectFractionRegressor(
        "resnet18", image_size=(32, 200), max_epochs=1, early_stopping=False,
        random_state=0, verbose=0, **params,
    )


def test_load_experiment_data_caches_model_intensity(tmp_path):
    """Check that data sets with intensities from the masks and from image
    models are cached apart, and that loading one again reads the cache."""
    model = tiny_model()
    built = load_experiment_data(
        intensity="model", fraction_model=model, data_home=tmp_path, **SIZES
    )
    assert not built.from_cache
    assert built.intensity_source.startswith("predicted by DefectFractionRegressor")
    again = load_experiment_data(
        intensity="model", fraction_model=tiny_model(),
        data_home=tmp_path, **SIZES,
    )
    assert again.from_cache
    pd.testing.assert_frame_equal(again.frame, built.frame)

    masks = load_experiment_data(data_home=tmp_path, **SIZES)
    assert not masks.from_cache
    assert masks.intensity_source == "from the annotated masks"
    assert not masks.frame["intensity"].equals(built.frame["intensity"])
    other = load_experiment_data(
        intensity="model", fraction_model=tiny_model(lr=1e-3),
        data_home=tmp_path, **SIZES,
    )
    assert not other.from_cache
    assert len(list((tmp_path / "experiments").glob("steelnet-*.joblib"))) == 3


@pytest.fixture(scope="module")
def quick_model_run(tmp_path_factory):
    """One ``sksteel reproduce --quick --intensity model`` run on a small data
    set, with its own data home."""
    out = tmp_path_factory.mktemp("reproduce_model")
    argv = [
        "reproduce", "--quick", "--intensity", "model", "--out", str(out),
        "--n-jobs", "1", "--n-normal", "60", "--n-per-class", "10",
    ]
    stdout, stderr = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SKSTEEL_DATA", str(tmp_path_factory.mktemp("model_home")))
        with redirect_stdout(stdout), redirect_stderr(stderr):
            status = main(argv)
    return status, out, stderr.getvalue()


def test_cli_reproduce_model_intensity_reports_the_source(quick_model_run):
    """Check that the run succeeds and that results.json and the report say
    the intensity came from the (quick run's tiny) image model."""
    status, out, _ = quick_model_run
    assert status == 0
    results = json.loads((out / "results.json").read_text())
    assert results["config"]["intensity"] == "model"
    intensity = results["dataset"]["intensity"]
    assert intensity["source"] == "model"
    fractions = intensity["fractions"]
    assert fractions.startswith("predicted by DefectFractionRegressor(")
    assert "image_size=(32, 200), max_epochs=1" in fractions
    assert "cross-fitted" in fractions
    protocol = results["protocol"][0]
    assert fractions in protocol and "(intensity source: model)" in protocol
    assert "(intensity source: model)" in (out / "report.md").read_text()
    # The recommendations stage ran and its section is in the report.
    assert results["recommendations"]["method"] == "search"
    assert "## Recommendations" in (out / "report.md").read_text()


def test_cli_reproduce_model_intensity_shows_training(quick_model_run):
    """Check that the progress on stderr shows the image model's stage and
    each fold's training, then every later stage in order."""
    _, _, stderr = quick_model_run
    assert "[1/8] data set: intensity from the image model" in stderr
    for fold in (1, 2):
        assert re.search(
            rf"image model, fold {fold} of 2: training DefectFractionRegressor on "
            r"\d+ images", stderr,
        )
    stages = re.findall(r"^\[(\d)/8\]", stderr, flags=re.MULTILINE)
    assert stages == [str(i) for i in range(1, 9)]


def test_cli_reproduce_model_intensity_too_few_samples(tmp_path, monkeypatch, capsys):
    """Check that a composition too small to cross-fit the image model exits
    with status 1 and says how to fix it, before training anything."""
    monkeypatch.setenv("SKSTEEL_DATA", str(tmp_path))
    argv = ["reproduce", "--intensity", "model", "--n-per-class", "1", "--quiet"]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 1
    error = capsys.readouterr().err
    assert "sksteel: error: Cross-fitting the image model" in error
    assert "n_per_class=1" in error
    assert not (tmp_path / "out").exists()
