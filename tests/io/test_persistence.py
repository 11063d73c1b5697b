"""Tests of save_model and load_model (sksteel.io)."""

import copy
import json
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest
import sklearn
import skops.io
import torch
from imblearn.pipeline import Pipeline
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler

from sksteel._schema import ENCODED_COLUMNS, FRACTION_COLUMNS
from sksteel.datasets import make_steelnet_dataset
from sksteel.exceptions import (
    DataFormatError,
    ModelVersionWarning,
    SksteelWarning,
    UntrustedModelError,
)
from sksteel.io import SKSTEEL_TRUSTED_TYPES, load_model, save_model
from sksteel.models import SteelNetClassifier
from sksteel.preprocessing import (
    IntensityScorer,
    ProcessParameterSynthesizer,
    RLEDecoder,
    SensorFailure,
)
from sksteel.sampling import ModalityDropout

CHEAP = {"hidden_layer_sizes": (8,), "d_token": 4, "max_epochs": 2, "random_state": 0}


class Doubler(TransformerMixin, BaseEstimator):
    """A user's own transformer: a type sksteel does not know."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return 2 * np.asarray(X)


@pytest.fixture(scope="module")
def data():
    return make_steelnet_dataset(n_normal=60, n_per_class=15, random_state=0)


@pytest.fixture(scope="module")
def models(data):
    """A SteelNetClassifier on an array, and the learning pipeline (modality
    dropout, a DataFrame prior, the intensity) on the sensor table."""
    X, y = data.data, data.target
    classifier = SteelNetClassifier(**CHEAP).fit(X.to_numpy(), y)
    steelnet = SteelNetClassifier(**CHEAP, attribution_prior=data.attribution_prior)
    pipeline = Pipeline(
        [("dropout", ModalityDropout(random_state=0)), ("steelnet", steelnet)]
    ).fit(X, y, steelnet__intensity=data.frame["intensity"])
    return {"classifier": classifier, "pipeline": pipeline}


@pytest.fixture
def saved_classifier(models, tmp_path):
    return save_model(models["classifier"], tmp_path / "steelnet.skops")


def _rewrite_metadata(path, **versions):
    """Copy of the model file with ``versions`` replacing the recorded ones."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    metadata = json.loads(members["sksteel.json"])
    metadata["versions"].update(versions)
    members["sksteel.json"] = json.dumps(metadata)
    copy_path = path.with_name("rewritten" + path.suffix)
    with zipfile.ZipFile(copy_path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return copy_path


@pytest.mark.parametrize("format", ["skops", "joblib"])
@pytest.mark.parametrize("name", ["classifier", "pipeline"])
def test_save_model_round_trip_predicts_identically(
    data, models, tmp_path, name, format
):
    """Check that a saved and loaded SteelNet model (alone, or in the
    imbalanced-learn pipeline) gives identical probabilities, intensities,
    attributions and history, in both formats."""
    model = models[name]
    X = data.data if name == "pipeline" else data.data.to_numpy()
    path = save_model(model, tmp_path / f"model.{format}", format=format)
    loaded = load_model(path, allow_pickle=format == "joblib")
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    if name == "pipeline":
        steelnet, original = loaded[-1], model[-1]
        np.testing.assert_array_equal(
            steelnet.predict_intensity(X), original.predict_intensity(X)
        )
        assert steelnet.explain(X).equals(original.explain(X))
        assert steelnet.attribution_prior.equals(original.attribution_prior)
        assert steelnet.feature_attributions_.equals(original.feature_attributions_)
        assert steelnet.history_[:, "train_loss"] == original.history_[:, "train_loss"]


def test_save_model_skops_file_holds_no_pickle(models, tmp_path):
    """Check that a skops file of the pipeline needs no type beyond
    SKSTEEL_TRUSTED_TYPES, and stores no torch or skorch object."""
    path = save_model(models["pipeline"], tmp_path / "model.skops")
    untrusted = skops.io.get_untrusted_types(file=path)
    assert untrusted and set(untrusted) <= set(SKSTEEL_TRUSTED_TYPES)
    with zipfile.ZipFile(path) as archive:
        schema = archive.read("schema.json").decode()
    assert "skorch" not in schema and "torch" not in schema


def test_save_model_round_trip_inside_grid_search(data, tmp_path):
    """Check that a fitted GridSearchCV over SteelNet round-trips through
    skops with its best estimator ready to predict, once the user trusts the
    types the refusal names: scikit-learn helpers of the search (its scorer,
    and depending on the skops and scikit-learn versions its splitter or its
    metadata requests) that skops does not trust by default."""
    X, y = data.data, data.target
    search = GridSearchCV(
        SteelNetClassifier(**{**CHEAP, "max_epochs": 1}), {"gamma": [0.0, 0.3]}, cv=2
    ).fit(X, y)
    path = save_model(search, tmp_path / "search.skops")
    with pytest.raises(UntrustedModelError, match="_PassthroughScorer") as refusal:
        load_model(path)
    helpers = [
        name
        for name in skops.io.get_untrusted_types(file=path)
        if repr(name) in str(refusal.value)
    ]
    assert helpers and all(name.startswith("sklearn.") for name in helpers)
    loaded = load_model(path, trusted=helpers)
    np.testing.assert_array_equal(loaded.predict_proba(X), search.predict_proba(X))
    assert loaded.best_params_ == search.best_params_


@pytest.mark.parametrize(
    "make_model, columns",
    [
        (lambda: SensorFailure(random_state=0), "sensors"),
        (RLEDecoder, "masks"),
        (IntensityScorer, "fractions"),
        (lambda: ProcessParameterSynthesizer(random_state=0), "labels"),
    ],
    ids=["SensorFailure", "RLEDecoder", "IntensityScorer", "Synthesizer"],
)
def test_save_model_round_trip_sksteel_transformers(
    data, tmp_path, make_model, columns
):
    """Check that sksteel's transformers load with the default trusted types
    and transform identically."""
    X = {
        "sensors": data.data,
        "masks": pd.DataFrame({name: ["1 3", None] for name in ENCODED_COLUMNS}),
        "fractions": data.frame[list(FRACTION_COLUMNS)],
        "labels": data.frame[["defect_class", "intensity"]],
    }[columns]
    model = make_model().fit(X)
    loaded = load_model(save_model(model, tmp_path / "model.skops"))
    np.testing.assert_array_equal(
        np.asarray(loaded.transform(X)), np.asarray(model.transform(X))
    )


def test_load_model_refuses_untrusted_type(data, tmp_path):
    """Check that a skops file holding a type outside the trusted list is
    refused with a message naming it and the fix, and loads once the user
    trusts it."""
    X = data.data.to_numpy()
    model = Pipeline(
        [
            ("double", Doubler()),
            ("scale", StandardScaler()),
            ("model", LogisticRegression()),
        ]
    )
    model.fit(X, data.target)
    path = save_model(model, tmp_path / "model.skops")
    name = f"{Doubler.__module__}.Doubler"
    with pytest.raises(UntrustedModelError, match=rf"{name}.*trusted=") as error:
        load_model(path)
    assert "get_untrusted_types" in str(error.value)
    for trusted in ([Doubler], [name]):
        loaded = load_model(path, trusted=trusted)
        np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_load_model_refuses_joblib_without_allow_pickle(models, tmp_path):
    """Check that a joblib file (a pickle) loads only with allow_pickle=True."""
    path = save_model(models["classifier"], tmp_path / "model.joblib", format="joblib")
    with pytest.raises(UntrustedModelError, match="allow_pickle=True"):
        load_model(path)


@pytest.mark.parametrize(
    "library, version",
    [
        ("sksteel", "0.0.1"),
        ("scikit-learn", "1.2.0"),
        ("torch", "1.13.1"),
        ("skorch", "0.9.0"),
    ],
)
def test_load_model_warns_on_other_versions(saved_classifier, library, version):
    """Check that a file recording another major.minor version of sksteel,
    scikit-learn, skorch or torch loads with a ModelVersionWarning naming
    it."""
    path = _rewrite_metadata(saved_classifier, **{library: version})
    with pytest.warns(ModelVersionWarning, match=rf"{library} {version} \(running"):
        load_model(path)


@pytest.mark.parametrize(
    "library, version",
    [
        ("scikit-learn", ".".join(sklearn.__version__.split(".")[:2]) + ".99"),
        ("skops", "0.1.0"),
    ],
)
def test_load_model_other_patch_version_is_silent(saved_classifier, library, version):
    """Check that another patch version, or another skops version (skops
    checks its own format), does not warn."""
    path = _rewrite_metadata(saved_classifier, **{library: version})
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelVersionWarning)
        load_model(path)


@pytest.mark.parametrize(
    "content, error, match",
    [
        (b"not a model", DataFormatError, "not a zip archive"),
        (None, DataFormatError, "not a model file"),
        (b"{damaged", DataFormatError, "damaged"),
        (json.dumps({"format": "onnx"}).encode(), DataFormatError, "'onnx'"),
    ],
)
def test_load_model_wrong_file(tmp_path, content, error, match):
    """Check that files that are not model files fail with a clear error."""
    path = tmp_path / "model.skops"
    if content == b"not a model":
        path.write_bytes(content)
    else:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("other.txt", "")
            if content is not None:
                archive.writestr("sksteel.json", content)
    with pytest.raises(error, match=match):
        load_model(path)


def test_load_model_missing_file(tmp_path):
    """Check that a missing file raises FileNotFoundError naming it."""
    with pytest.raises(FileNotFoundError, match="missing.skops"):
        load_model(tmp_path / "missing.skops")


def test_load_model_plain_skops_file(tmp_path):
    """Check that a skops file written by skops itself loads (no versions)."""
    model = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
    path = tmp_path / "plain.skops"
    skops.io.dump(model, path)
    assert load_model(path).predict([[1.0]]) == [1]


def test_save_model_does_not_overwrite(saved_classifier, models):
    """Check that an existing file is kept unless overwrite=True."""
    before = saved_classifier.read_bytes()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        save_model(LogisticRegression(), saved_classifier)
    assert saved_classifier.read_bytes() == before
    save_model(LogisticRegression(), saved_classifier, overwrite=True)
    assert isinstance(load_model(saved_classifier), LogisticRegression)


def test_save_model_failure_leaves_existing_file(saved_classifier):
    """Check that a save that fails (a bare torch module cannot be a skops
    file) leaves the existing file intact and no temporary file behind."""
    before = saved_classifier.read_bytes()
    with pytest.raises(TypeError, match="format='joblib'"):
        save_model(torch.nn.Linear(2, 1), saved_classifier, overwrite=True)
    assert saved_classifier.read_bytes() == before
    assert [p.name for p in saved_classifier.parent.iterdir()] == [
        saved_classifier.name
    ]


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"format": "pickle"}, ValueError, "'format' parameter"),
        ({"overwrite": "yes"}, ValueError, "'overwrite' parameter"),
    ],
)
def test_save_model_invalid_parameters(tmp_path, kwargs, error, match):
    """Check that invalid parameters are refused before anything is written."""
    with pytest.raises(error, match=match):
        save_model(LogisticRegression(), tmp_path / "model", **kwargs)
    assert not list(tmp_path.iterdir())


def test_save_model_missing_folder(tmp_path):
    """Check that saving into a missing folder names the folder."""
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save_model(LogisticRegression(), tmp_path / "absent" / "model.skops")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_load_model_cuda_model_falls_back_to_cpu(models, data, tmp_path):
    """Check that a model set to run on CUDA loads on a CPU-only machine with
    a warning, and predicts as before."""
    model = copy.deepcopy(models["classifier"]).set_params(device="cuda")
    path = save_model(model, tmp_path / "model.skops")
    with pytest.warns(SksteelWarning, match="CUDA is not available"):
        loaded = load_model(path)
    X = data.data.to_numpy()
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
