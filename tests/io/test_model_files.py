"""Every public estimator through a skops file, and every way a model file
can be damaged or edited (issue 12, "Model files")."""

import json
import pickle
import zipfile

import numpy as np
import pandas as pd
import pytest
import skorch
from sklearn.linear_model import LogisticRegression

from sksteel._schema import ENCODED_COLUMNS, FRACTION_COLUMNS
from sksteel.datasets import load_severstal, make_steel_surfaces, make_steelnet_dataset
from sksteel.exceptions import ModelFileError, UntrustedModelError
from sksteel.io import load_model, save_model
from sksteel.utils import all_estimators

STEELNET = {"hidden_layer_sizes": (8,), "d_token": 4, "max_epochs": 2}


@pytest.fixture(scope="module")
def data():
    return make_steelnet_dataset(n_normal=60, n_per_class=15, random_state=0)


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    root = make_steel_surfaces(n_images=6, data_home=tmp_path_factory.mktemp("s"))
    return load_severstal(root).frame


def _outputs(result):
    """Comparable arrays of what a method returned."""
    if isinstance(result, tuple):
        return [np.asarray(part) for part in result]
    if hasattr(result, "setpoints"):  # a recommendation
        return [np.asarray(result.setpoints), np.asarray(result.valid)]
    return [np.asarray(result)]


#: How to fit each public estimator cheaply, and which method's output must
#: survive the round trip: name -> (make, fit, call), each taking the data.
RECIPES = {
    "DefectFractionRegressor": (
        lambda cls, d, im: cls(
            "resnet18",
            image_size=(32, 200),
            max_epochs=1,
            early_stopping=False,
            random_state=0,
            verbose=0,
        ),
        lambda est, d, im: est.fit(im),
        lambda est, d, im: est.predict(im),
    ),
    "DefectSegmenter": (
        lambda cls, d, im: cls(
            encoder_name="resnet18",
            image_size=(64, 320),
            crop_size=(64, 128),
            max_epochs=1,
            batch_size=8,
            random_state=0,
            verbose=0,
        ),
        lambda est, d, im: est.fit(im),
        lambda est, d, im: est.predict_fractions(im),
    ),
    "IntensityScorer": (
        lambda cls, d, im: cls(),
        lambda est, d, im: est.fit(d.frame[list(FRACTION_COLUMNS)]),
        lambda est, d, im: est.transform(d.frame[list(FRACTION_COLUMNS)]),
    ),
    "ModalityDropout": (
        lambda cls, d, im: cls(random_state=0),
        lambda est, d, im: est,
        lambda est, d, im: est.fit_resample(d.data, d.target),
    ),
    "ProcessParameterSynthesizer": (
        lambda cls, d, im: cls(random_state=0),
        lambda est, d, im: est.fit(d.frame[["defect_class", "intensity"]]),
        lambda est, d, im: est.transform(d.frame[["defect_class", "intensity"]]),
    ),
    "RLEDecoder": (
        lambda cls, d, im: cls(),
        lambda est, d, im: est.fit(im[list(ENCODED_COLUMNS)]),
        lambda est, d, im: est.transform(im[list(ENCODED_COLUMNS)]),
    ),
    "SensorFailure": (
        lambda cls, d, im: cls(random_state=0),
        lambda est, d, im: est.fit(d.data),
        lambda est, d, im: est.transform(d.data),
    ),
    "SetpointRecommender": (
        lambda cls, d, im: cls(
            LogisticRegression(max_iter=200).fit(d.data, d.target),
            target=0,
            actionable=[d.data.columns[0]],
        ),
        lambda est, d, im: est.fit(d.data[d.target == 0]),
        lambda est, d, im: est.recommend(d.data.iloc[-3:]),
    ),
    "SteelNetClassifier": (
        lambda cls, d, im: cls(
            **STEELNET, attribution_prior=d.attribution_prior, random_state=0
        ),
        lambda est, d, im: est.fit(d.data, d.target, intensity=d.frame["intensity"]),
        lambda est, d, im: (
            est.predict_proba(d.data),
            est.predict_intensity(d.data),
            est.explain(d.data),
            est.feature_attributions_,
        ),
    ),
}


def test_every_public_estimator_has_a_recipe():
    """Check that the round-trip test covers every public estimator."""
    assert sorted(RECIPES) == [name for name, _ in all_estimators()]


@pytest.mark.parametrize("name, cls", all_estimators(), ids=lambda x: str(x))
def test_every_estimator_round_trips_through_skops(name, cls, data, images, tmp_path):
    """Check that each public estimator, fitted, loads from a skops file with
    the default trusted types and gives identical outputs."""
    make, fit, call = RECIPES[name]
    model = fit(make(cls, data, images), data, images)
    loaded = load_model(save_model(model, tmp_path / "model.skops"))
    assert type(loaded) is cls
    for before, after in zip(
        _outputs(call(model, data, images)), _outputs(call(loaded, data, images))
    ):
        np.testing.assert_array_equal(after, before)


# --------------------------------------------------------------------------
# Damaged and edited files
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def steelnet(data):
    from sksteel.models import SteelNetClassifier

    return SteelNetClassifier(**STEELNET, random_state=0).fit(data.data, data.target)


@pytest.fixture
def saved(steelnet, tmp_path):
    return save_model(steelnet, tmp_path / "steelnet.skops")


def _members(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _write_members(path, members):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def _edit_schema(path, edit):
    """Rewrite the file with ``edit(schema_dict)`` applied to skops's schema."""
    members = _members(path)
    schema = json.loads(members["schema.json"])
    edit(schema)
    members["schema.json"] = json.dumps(schema)
    return _write_members(path, members)


def _attribute(schema, name):
    """The schema node of one of the estimator's attributes."""
    return schema["content"]["content"][name]


def test_damaged_file_flipped_bytes(saved, steelnet, data):
    """Check that a model file with any one byte flipped either loads and
    predicts as before or raises ModelFileError naming the file, never
    another exception."""
    content = saved.read_bytes()
    expected = steelnet.predict_proba(data.data)
    outcomes = set()
    for position in np.linspace(0, len(content) - 1, 40).astype(int):
        damaged = bytearray(content)
        damaged[position] ^= 0xFF
        saved.write_bytes(bytes(damaged))
        try:
            loaded = load_model(saved)
        except ModelFileError as error:
            assert str(saved) in str(error)
            outcomes.add("error")
        else:
            np.testing.assert_array_equal(loaded.predict_proba(data.data), expected)
            outcomes.add("loaded")
    assert "error" in outcomes


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.999])
def test_damaged_file_truncated(saved, keep):
    """Check that a truncated file is called truncated or damaged, with no
    pickle advice."""
    content = saved.read_bytes()
    saved.write_bytes(content[: int(len(content) * keep)])
    with pytest.raises(
        ModelFileError, match="steelnet.skops.*(truncated|damaged)"
    ) as error:
        load_model(saved)
    assert "allow_pickle" not in str(error.value)


@pytest.mark.parametrize("member", ["schema.json", "weights"])
def test_damaged_file_member_missing(saved, member):
    """Check that a file missing its schema or an array member raises
    ModelFileError."""
    members = _members(saved)
    if member == "weights":
        member = next(name for name in members if name.endswith(".npy"))
    del members[member]
    with pytest.raises(ModelFileError, match="steelnet.skops"):
        load_model(_write_members(saved, members))


@pytest.mark.parametrize(
    "metadata, match",
    [
        (b"{not json", "malformed"),
        (b"[1, 2]", "malformed"),
        (json.dumps({"versions": {}}).encode(), "malformed"),
        (json.dumps({"format": "skops", "versions": [1]}).encode(), "malformed"),
        (json.dumps({"format": "onnx", "format_version": 2}).encode(), "'onnx'"),
        (json.dumps({"format": "skops"}).encode(), "version 1 of sksteel's model"),
        (
            json.dumps({"format": "skops", "format_version": 99}).encode(),
            "version 99",
        ),
    ],
    ids=[
        "not-json",
        "a-list",
        "no-format",
        "bad-versions",
        "unknown-kind",
        "earlier-format",
        "later-format",
    ],
)
def test_damaged_file_metadata(saved, metadata, match):
    """Check that malformed metadata, an unknown kind of model and another
    format version each raise ModelFileError naming the file."""
    members = _members(saved)
    members["sksteel.json"] = metadata
    with pytest.raises(ModelFileError, match=match) as error:
        load_model(_write_members(saved, members))
    assert "steelnet.skops" in str(error.value)


@pytest.mark.parametrize(
    "attribute, value",
    [("hidden_layer_sizes", 4096), ("d_token", 64), ("n_features_in_", 4000)],
)
def test_edited_hyperparameters_fail_before_allocating(
    saved, monkeypatch, attribute, value
):
    """Check that a file whose hyperparameters or fitted sizes were edited
    fails with ModelFileError on the weight shapes, and that no network was
    initialised (no memory allocated in proportion to the edited sizes)."""

    def edit(schema):
        node = _attribute(schema, attribute)
        if attribute == "hidden_layer_sizes":
            node = node["content"][0]
        # A new id: skops reuses an object already built for a node's id.
        node["content"], node["__id__"] = str(value), 1

    _edit_schema(saved, edit)
    initialised = []
    monkeypatch.setattr(
        skorch.NeuralNet, "initialize", lambda net: initialised.append(net)
    )
    with pytest.raises(
        ModelFileError, match="steelnet.skops.*do not match its saved hyperparameters"
    ):
        load_model(saved)
    assert initialised == []


def test_edited_hyperparameter_of_wrong_type(saved):
    """Check that a hyperparameter edited to an invalid value is refused as an
    inconsistent file."""

    def edit(schema):
        node = _attribute(schema, "d_token")
        node["content"], node["__id__"] = "-3", 1

    with pytest.raises(ModelFileError, match="steelnet.skops.*d_token"):
        load_model(_edit_schema(saved, edit))


def test_not_a_model_file_gets_no_pickle_advice(tmp_path):
    """Check that a file that is neither a zip nor a pickle is not a model file,
    with no advice to unpickle it."""
    path = tmp_path / "notes.skops"
    path.write_bytes(b"just some text, not a model")
    with pytest.raises(ModelFileError, match="not a model file") as error:
        load_model(path)
    assert "allow_pickle" not in str(error.value)


def test_pickle_file_gets_pickle_advice(tmp_path):
    """Check that a real pickle is recognised and refused with the advice to
    pass allow_pickle=True."""
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(LogisticRegression()))
    with pytest.raises(UntrustedModelError, match="allow_pickle=True"):
        load_model(path)
    assert isinstance(load_model(path, allow_pickle=True), LogisticRegression)


def test_truncated_joblib_file(steelnet, tmp_path):
    """Check that a damaged joblib model file raises ModelFileError too."""
    path = save_model(steelnet, tmp_path / "model.joblib", format="joblib")
    members = _members(path)
    members["model.joblib"] = members["model.joblib"][:100]
    with pytest.raises(ModelFileError, match="model.joblib"):
        load_model(_write_members(path, members), allow_pickle=True)


def test_saved_state_holds_no_torch_or_pandas(steelnet, data):
    """Check that the state an estimator saves holds only numpy arrays and
    builtins: no torch, skorch or pandas object."""
    from sksteel.models import SteelNetClassifier

    model = SteelNetClassifier(
        **STEELNET, attribution_prior=data.attribution_prior, random_state=0
    ).fit(data.data, data.target)
    state = model.__getstate__()

    def walk(value):
        if isinstance(value, dict):
            for item in value.values():
                yield from walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                yield from walk(item)
        else:
            yield value

    modules = {type(value).__module__.split(".")[0] for value in walk(state)}
    assert modules <= {"builtins", "numpy"}, modules
    assert isinstance(state["net_"]["weights"]["encoder.input.weight"], np.ndarray)
    assert isinstance(model.feature_attributions_, pd.DataFrame)
