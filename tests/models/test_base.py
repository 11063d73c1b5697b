"""Tests of the shared torch-estimator base: vocabulary, device, seeding,
progress output and repr."""

import inspect

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import make_classification

import sksteel.models._progress as progress
from sksteel.exceptions import DeviceUnavailableError, NotFittedError
from sksteel.models import SteelNetClassifier
from sksteel.models._base import _BaseTorchEstimator
from sksteel.utils import all_estimators

CHEAP = {"hidden_layer_sizes": (8,), "d_token": 4, "max_epochs": 3, "random_state": 0}

TORCH_ESTIMATORS = [
    cls for _, cls in all_estimators() if issubclass(cls, _BaseTorchEstimator)
]


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=120, n_features=5, n_informative=3, n_classes=3, random_state=0
    )
    return X, y


def test_base_is_shared_by_every_torch_estimator():
    """Check that both skorch-backed estimators derive from the base."""
    names = {cls.__name__ for cls in TORCH_ESTIMATORS}
    assert {"SteelNetClassifier", "DefectFractionRegressor"} <= names


@pytest.mark.parametrize("cls", TORCH_ESTIMATORS, ids=lambda cls: cls.__name__)
def test_base_vocabulary_and_defaults(cls):
    """Check that every torch estimator takes the shared parameters, with one
    `verbose` default and sklearn's early-stopping words."""
    params = inspect.signature(cls).parameters
    for name in _BaseTorchEstimator._parameter_constraints:
        assert name in params, name
    assert params["verbose"].default == "auto"
    assert params["device"].default == "auto"
    assert params["early_stopping"].default is True
    assert "patience" not in params


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
@pytest.mark.parametrize("device", ["cuda", torch.device("cuda:0")])
def test_base_unavailable_device_is_a_clear_error(data, device):
    """Check that asking for CUDA without a GPU raises sksteel's error."""
    X, y = data
    clf = SteelNetClassifier(**CHEAP, device=device)
    with pytest.raises(DeviceUnavailableError, match="device=.*cuda.*not available"):
        clf.fit(X, y)


def test_base_unknown_device_names_the_parameter(data):
    """Check that a device torch cannot parse is refused naming `device`."""
    X, y = data
    with pytest.raises(ValueError, match="'device' parameter of SteelNetClassifier"):
        SteelNetClassifier(**CHEAP, device="gpu please").fit(X, y)


def test_base_torch_device_object_is_accepted(data):
    """Check that a torch.device fits like its string."""
    X, y = data
    by_name = SteelNetClassifier(**CHEAP, device="cpu").fit(X, y)
    by_object = SteelNetClassifier(**CHEAP, device=torch.device("cpu")).fit(X, y)
    np.testing.assert_array_equal(by_name.predict_proba(X), by_object.predict_proba(X))


def test_base_fit_leaves_global_torch_rng_alone(data):
    """Check that fit neither reads nor moves torch's global generators."""
    X, y = data
    torch.manual_seed(123)
    before = torch.get_rng_state()
    cuda_before = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []
    first = SteelNetClassifier(**CHEAP).fit(X, y).predict_proba(X)
    assert torch.equal(torch.get_rng_state(), before)
    if torch.cuda.is_available():
        after = torch.cuda.get_rng_state_all()
        assert all(torch.equal(a, b) for a, b in zip(after, cuda_before))
    torch.manual_seed(7)  # another global state: same model
    np.testing.assert_array_equal(
        SteelNetClassifier(**CHEAP).fit(X, y).predict_proba(X), first
    )


def test_base_history_and_not_fitted_error(data):
    """Check `history_` after fit and sksteel's NotFittedError before."""
    X, y = data
    clf = SteelNetClassifier(**CHEAP)
    with pytest.raises(NotFittedError):
        clf.predict(X)
    clf.fit(X, y)
    assert len(clf.history_) == clf.n_iter_ > 0


def test_verbose_zero_is_silent(data, capsys, monkeypatch):
    """Check that verbose=0 prints nothing, even for a long fit."""
    monkeypatch.setattr(progress, "PROGRESS_DELAY", 0.0)
    X, y = data
    SteelNetClassifier(**CHEAP, verbose=0).fit(X, y)
    assert capsys.readouterr() == ("", "")


def test_verbose_auto_is_silent_for_short_fits(data, capsys):
    """Check that the default prints nothing for a fit shorter than the delay."""
    X, y = data
    SteelNetClassifier(**CHEAP).fit(X, y)
    assert capsys.readouterr() == ("", "")


def test_verbose_auto_shows_a_progress_bar(data, capsys, monkeypatch):
    """Check that the default shows a bar over the epochs with the validation
    score on stderr once the fit lasts longer than the delay, without ANSI
    codes when stderr is not a terminal."""
    monkeypatch.setattr(progress, "PROGRESS_DELAY", 0.0)
    X, y = data
    clf = SteelNetClassifier(**CHEAP).fit(X, y)
    out, err = capsys.readouterr()
    assert out == ""
    assert f"{clf.n_iter_}/{CHEAP['max_epochs']}" in err
    assert "valid_accuracy=" in err
    assert "\x1b" not in err


def test_verbose_one_prints_a_line_per_epoch(data, capsys):
    """Check that verbose=1 prints one plain line per epoch."""
    X, y = data
    clf = SteelNetClassifier(**CHEAP, verbose=1).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == clf.n_iter_
    assert lines[0].startswith(f"epoch 1/{CHEAP['max_epochs']} train_loss=")
    assert "valid_accuracy=" in lines[-1]


def test_verbose_two_prints_the_skorch_table_without_colour(data, capsys):
    """Check that verbose=2 prints skorch's table, with no ANSI colour codes
    when stdout is not a terminal."""
    X, y = data
    SteelNetClassifier(**CHEAP, verbose=2).fit(X, y)
    out = capsys.readouterr().out
    assert "train_loss" in out and "valid_accuracy" in out and "dur" in out
    assert "\x1b" not in out


def test_repr_abbreviates_tables_and_arrays():
    """Check that the repr shows the shape of a DataFrame prior and an array of
    ranges instead of their values."""
    prior = pd.DataFrame(np.full((5, 10), 0.1), columns=[f"s{i}" for i in range(10)])
    ranges = np.tile([0.0, 1.0], (10, 1))
    clf = SteelNetClassifier(
        attribution_prior=prior, operating_ranges=ranges, max_epochs=3
    )
    text = repr(clf)
    assert "attribution_prior=<DataFrame of shape (5, 10)>" in text
    assert "operating_ranges=<ndarray of shape (10, 2)>" in text
    assert "max_epochs=3" in text
    assert "0.1" not in text and len(text) < 200
    assert clf.attribution_prior is prior  # the repr does not change the estimator


def test_repr_keeps_short_parameters():
    """Check that short parameters are shown as sklearn shows them."""
    assert repr(SteelNetClassifier(hidden_layer_sizes=(8, 4))) == (
        "SteelNetClassifier(hidden_layer_sizes=(8, 4))"
    )


@pytest.fixture(scope="module")
def surfaces(tmp_path_factory):
    from sksteel.datasets import load_severstal, make_steel_surfaces

    root = make_steel_surfaces(n_images=6, data_home=tmp_path_factory.mktemp("s"))
    return load_severstal(root).frame


def _regressor(**params):
    from sksteel.vision import DefectFractionRegressor

    return DefectFractionRegressor(
        "resnet18",
        image_size=(32, 200),
        max_epochs=2,
        batch_size=4,
        validation_fraction=0.34,
        random_state=0,
        **params,
    )


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_regressor_unavailable_device_is_a_clear_error(surfaces):
    """Check that the image model refuses an unavailable device the same way."""
    with pytest.raises(DeviceUnavailableError, match="DefectFractionRegressor"):
        _regressor(device="cuda").fit(surfaces)


def test_regressor_progress_follows_verbose(surfaces, capsys, monkeypatch):
    """Check that the image model prints one line per epoch at verbose=1, and
    the epoch bar with its validation loss by default once past the delay."""
    model = _regressor(verbose=1).fit(surfaces)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in lines] == [
        ["epoch", f"{i}/2"] for i in range(1, model.n_iter_ + 1)
    ]
    assert len(model.history_) == model.n_iter_
    monkeypatch.setattr(progress, "PROGRESS_DELAY", 0.0)
    _regressor().fit(surfaces)
    out, err = capsys.readouterr()
    assert out == "" and "valid_loss=" in err and "\x1b" not in err
