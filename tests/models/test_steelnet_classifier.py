"""Tests of SteelNetClassifier, the skorch-backed sklearn estimator."""

import io
import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import sklearn
import torch
from imblearn.pipeline import Pipeline
from sklearn.base import clone
from sklearn.datasets import make_blobs, make_classification
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.impute import SimpleImputer
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    make_scorer,
)
from sklearn.model_selection import GridSearchCV, cross_validate, train_test_split
from skorch.callbacks import Callback

from sksteel._schema import SENSOR_NAMES, SENSORS
from sksteel.datasets import failure_rates
from sksteel.exceptions import NotFittedError
from sksteel.models import SteelNetClassifier
from sksteel.preprocessing import SensorFailure
from sksteel.sampling import ModalityDropout

#: Small, fast settings; lr is raised so that 3 epochs learn easy problems.
CHEAP = {
    "hidden_layer_sizes": (16, 8),
    "d_token": 4,
    "n_heads": 2,
    "max_epochs": 3,
    "lr": 1e-2,
    "batch_size": 32,
    "random_state": 0,
}


@pytest.fixture(scope="module")
def sensors():
    """Ten sensor columns around their normal ranges, NaN readings, intensity."""
    X, y = make_classification(
        n_samples=300,
        n_features=10,
        n_informative=6,
        n_classes=3,
        class_sep=2.0,
        random_state=0,
    )
    intensity = np.where(y > 0, 0.2 + 0.1 * np.abs(X[:, 0]), 0.0)
    middle = SENSORS[["low", "high"]].mean(axis=1).to_numpy()
    half_width = (SENSORS["high"] - SENSORS["low"]).to_numpy() / 2
    X = pd.DataFrame(middle + X * half_width, columns=list(SENSOR_NAMES))
    X = X.mask(np.random.default_rng(0).random(X.shape) < 0.05)
    prior = pd.DataFrame(np.eye(3, 10) * 0.7 + 0.03, columns=list(SENSOR_NAMES))
    return X, y, intensity, prior / prior.to_numpy().sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def fitted(sensors):
    X, y, intensity, prior = sensors
    params = {**CHEAP, "max_epochs": 15}
    return SteelNetClassifier(**params, attribution_prior=prior).fit(
        X, y, intensity=intensity
    )


def test_steelnet_classifier_outputs(fitted, sensors):
    """Check the shapes and invariants of predict, proba, explain, intensity."""
    X, y, _, _ = sensors
    proba = fitted.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(fitted.predict(X), fitted.classes_[proba.argmax(1)])
    explained = fitted.explain(X.iloc[5:9], method="head")
    assert list(explained.columns) == list(SENSOR_NAMES)
    assert list(explained.index) == [5, 6, 7, 8]
    np.testing.assert_allclose(explained.sum(axis=1), 1.0, rtol=1e-5)
    assert fitted.predict_intensity(X).shape == (len(X),)
    assert fitted.score(X, y) > 0.6


def test_steelnet_classifier_feature_attributions_are_class_means(fitted, sensors):
    """Check that feature_attributions_ is the mean explanation per true class."""
    X, y, _, _ = sensors
    attributions = fitted.feature_attributions_
    assert list(attributions.index) == list(fitted.classes_)
    expected = fitted.explain(X, method="head").groupby(y).mean()
    np.testing.assert_allclose(attributions, expected, rtol=1e-4)
    np.testing.assert_allclose(attributions.sum(axis=1), 1.0)


def test_steelnet_classifier_learns_prior_and_intensity(fitted, sensors):
    """Check that the attribution follows the prior and intensity is learned."""
    X, y, intensity, prior = sensors
    top = fitted.feature_attributions_.idxmax(axis=1)
    assert list(top) == list(prior.idxmax(axis=1))
    defective = y > 0
    predicted = fitted.predict_intensity(X)[defective]
    assert np.corrcoef(predicted, intensity[defective])[0, 1] > 0.3


def test_steelnet_classifier_predict_intensity_needs_intensity(sensors):
    """Check that predict_intensity refuses a model fitted without intensity."""
    X, y, _, _ = sensors
    clf = SteelNetClassifier(**CHEAP).fit(X, y)
    assert clf.intensity_mean_ is None
    with pytest.raises(NotFittedError, match="fitted without `intensity`"):
        clf.predict_intensity(X)


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda X: X.replace(X.iloc[0, 0], np.inf), "infinity"),
        (lambda X: X.to_numpy()[:, :9], "X has 9 features"),
        (
            lambda X: X.rename(columns={"vibration": "shaking"}),
            r"also has \['shaking'\]",
        ),
    ],
)
@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
def test_steelnet_classifier_rejects_bad_inputs(fitted, sensors, change, match):
    """Check sklearn's clear errors for inf, column count and column names."""
    X = change(sensors[0].copy())
    with pytest.raises(ValueError, match=match):
        fitted.predict(X)


@pytest.mark.parametrize(
    "params, fit_kwargs, match",
    [
        ({"attribution_prior": np.ones((2, 10))}, {}, "shape \\(n_classes"),
        ({"attribution_prior": -np.ones((3, 10))}, {}, "non-negative"),
        ({"operating_ranges": np.ones((3, 2))}, {}, "operating_ranges"),
        ({"operating_ranges": {"speed": (0, 1)}}, {}, "not in X"),
        ({"operating_ranges": {"vibration": (5, 1)}}, {}, "low <= high"),
        ({"hidden_layer_sizes": (8, 0)}, {}, "positive"),
        ({"d_token": 6, "n_heads": 4}, {}, "divisible"),
        ({}, {"intensity": np.ones(5)}, "intensity"),
    ],
)
def test_steelnet_classifier_rejects_bad_parameters(sensors, params, fit_kwargs, match):
    """Check that data-dependent parameters are validated with clear messages."""
    X, y, _, _ = sensors
    with pytest.raises(ValueError, match=match):
        SteelNetClassifier(**{**CHEAP, **params}).fit(X, y, **fit_kwargs)


def test_steelnet_classifier_prior_aligned_by_class_label(sensors):
    """Check that a prior DataFrame is aligned by label and by column name."""
    X, y, _, prior = sensors
    labels = np.array(["a", "b", "c"])[y]
    shuffled = prior.set_axis(["c", "a", "b"]).iloc[:, ::-1]
    clf = SteelNetClassifier(**{**CHEAP, "max_epochs": 1}, attribution_prior=shuffled)
    clf.fit(X, labels)
    expected = shuffled.loc[["a", "b", "c"], list(SENSOR_NAMES)].to_numpy()
    np.testing.assert_allclose(clf.attribution_prior_, expected)
    with pytest.raises(ValueError, match="no row for the classes"):
        clf.set_params(attribution_prior=prior).fit(X, labels)


def test_steelnet_classifier_sensor_table_defaults(sensors):
    """Check ranges and dropout rates: sensor table by name, data elsewhere."""
    X, y, _, _ = sensors
    X = X[list(SENSOR_NAMES[::-1])].assign(extra=np.linspace(0, 1, len(X)))
    clf = SteelNetClassifier(**{**CHEAP, "max_epochs": 1}).fit(X, y)
    table = SENSORS.loc[list(SENSOR_NAMES[::-1]), ["low", "high"]].to_numpy()
    np.testing.assert_allclose(clf.operating_ranges_[:10], table)
    extra = X["extra"]
    np.testing.assert_allclose(
        clf.operating_ranges_[10],
        [extra.mean() - extra.std(ddof=0), extra.mean() + extra.std(ddof=0)],
    )
    rates = failure_rates(p_base=0.2)[list(SENSOR_NAMES[::-1])].to_numpy()
    np.testing.assert_allclose(clf.failure_rates_, [*rates, 0.2])
    assert list(clf.sensor_table_.index) == list(SENSOR_NAMES[::-1])
    clf.set_params(failure_rates=0.0, operating_ranges={"extra": (0, 0.5)}).fit(X, y)
    assert clf.net_.module_.missing_rates is None
    np.testing.assert_allclose(clf.operating_ranges_[10], [0, 0.5])


def test_steelnet_classifier_array_of_ten_columns_is_sensor_table(sensors):
    """Check that a 10-column array is read as the ten sensors in table order."""
    X, y, _, _ = sensors
    clf = SteelNetClassifier(**{**CHEAP, "max_epochs": 1}).fit(X.to_numpy(), y)
    np.testing.assert_allclose(
        clf.operating_ranges_, SENSORS[["low", "high"]].to_numpy()
    )
    assert list(clf.explain(X.to_numpy()[:2]).columns) == list(SENSOR_NAMES)


def test_steelnet_classifier_deterministic(sensors):
    """Check that the same random_state gives identical predictions."""
    X, y, intensity, _ = sensors
    probas = [
        SteelNetClassifier(**{**CHEAP, "random_state": seed})
        .fit(X, y, intensity=intensity)
        .predict_proba(X)
        for seed in (3, 3, 4)
    ]
    np.testing.assert_array_equal(probas[0], probas[1])
    assert not np.allclose(probas[0], probas[2])


def test_steelnet_classifier_clone(fitted):
    """Check that clone copies the parameters and not the fitted state."""
    cloned = clone(fitted)
    assert cloned.get_params()["attribution_prior"].equals(fitted.attribution_prior)
    assert cloned.get_params(deep=False).keys() == fitted.get_params(deep=False).keys()
    assert not hasattr(cloned, "net_")


@pytest.mark.parametrize(
    "dump, load", [(pickle.dump, pickle.load), (joblib.dump, joblib.load)]
)
def test_steelnet_classifier_pickle_round_trip(fitted, sensors, dump, load):
    """Check that pickle and joblib round trips give identical predictions."""
    X = sensors[0]
    buffer = io.BytesIO()
    dump(fitted, buffer)
    buffer.seek(0)
    loaded = load(buffer)
    np.testing.assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))
    np.testing.assert_array_equal(loaded.explain(X), fitted.explain(X))


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_steelnet_classifier_gpu_pickle_loads_on_cpu(fitted, sensors):
    """Check that a net pickled with device='cuda' loads and predicts on CPU."""
    gpu_like = pickle.loads(pickle.dumps(fitted))
    gpu_like.net_.device = "cuda"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skorch warns that it falls back to CPU
        loaded = pickle.loads(pickle.dumps(gpu_like))
    assert str(loaded.net_.device) == "cpu"
    X = sensors[0]
    np.testing.assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))


def test_steelnet_classifier_float32_and_integer_input(fitted, sensors):
    """Check that float32 and float64 inputs give the same predictions."""
    X = sensors[0]
    np.testing.assert_allclose(
        fitted.predict_proba(X.astype(np.float32)), fitted.predict_proba(X), atol=1e-5
    )
    X_int = X.fillna(50).round().astype(np.int64)
    assert fitted.predict(X_int).shape == (len(X),)


def test_steelnet_classifier_early_stopping_restores_best(sensors):
    """Check that early stopping stops on a plateau and restores the best epoch."""
    X, _, _, _ = sensors
    y = np.random.default_rng(0).integers(0, 2, len(X))  # nothing to learn
    clf = SteelNetClassifier(**{**CHEAP, "max_epochs": 40, "n_iter_no_change": 3}).fit(
        X, y
    )
    assert clf.n_iter_ < 40
    stopping = dict(clf.net_.callbacks_)["early_stopping"]
    assert stopping.best_epoch_ + 3 == clf.n_iter_
    for name, value in clf.net_.module_.state_dict().items():
        torch.testing.assert_close(value, stopping.best_model_weights_[name])


def test_steelnet_classifier_ties_broken_by_validation_loss():
    """Check that among epochs tied on accuracy the lowest valid loss is kept."""
    X, y = make_blobs(n_samples=200, centers=2, cluster_std=0.3, random_state=0)
    clf = SteelNetClassifier(**{**CHEAP, "max_epochs": 6}).fit(X, y)
    history = clf.history_
    assert {row["valid_accuracy"] for row in history} == {1.0}
    lowest = min(history, key=lambda row: row["valid_loss"])["epoch"]
    assert dict(clf.net_.callbacks_)["early_stopping"].best_epoch_ == lowest
    assert lowest > 1


@pytest.mark.parametrize(
    "scoring, key",
    [
        ("loss", "valid_loss"),
        ("f1_macro", "valid_f1_macro"),
        (balanced_accuracy_score, "valid_score"),
    ],
)
def test_steelnet_classifier_scoring_options(sensors, scoring, key):
    """Check that early stopping monitors the chosen validation score."""
    X, y, _, _ = sensors
    clf = SteelNetClassifier(**CHEAP, scoring=scoring).fit(X, y)
    assert all(key in row for row in clf.history_)
    assert dict(clf.net_.callbacks_)["early_stopping"].monitor == key


def test_steelnet_classifier_small_data_trains_without_validation():
    """Check that data too small for a stratified split train on everything."""
    X = np.arange(24.0).reshape(12, 2)
    y = np.array([0] * 6 + [1] * 5 + [2])  # class 2 has one sample
    clf = SteelNetClassifier(**CHEAP).fit(X, y)
    assert clf.n_iter_ == CHEAP["max_epochs"]
    assert "valid_loss" not in clf.history_[-1]


def test_steelnet_classifier_verbose_and_callbacks(sensors, capsys):
    """Check that verbose prints skorch's table and extra callbacks run."""

    class Flag(Callback):
        def on_epoch_end(self, net, **kwargs):
            net.history.record("flag", 1)

    X, y, _, _ = sensors
    callbacks = [("flag", Flag())]
    clf = SteelNetClassifier(**CHEAP, callbacks=callbacks).fit(X, y)
    assert capsys.readouterr().out == ""
    assert [row["flag"] for row in clf.history_] == [1] * clf.n_iter_
    assert clf.callbacks == callbacks  # the parameter is not modified
    clf.set_params(verbose=1).fit(X, y)
    assert "valid_accuracy" in capsys.readouterr().out


def test_steelnet_classifier_missing_readings(sensors):
    """Check fitting with an all-NaN column and predicting all-NaN rows."""
    X, y, _, _ = sensors
    X = X.assign(vibration=np.nan)
    clf = SteelNetClassifier(**CHEAP).fit(X, y)
    proba = clf.predict_proba(pd.DataFrame(np.nan, index=X.index, columns=X.columns))
    assert np.all(np.isfinite(proba))


def test_steelnet_classifier_grid_search_routes_intensity(sensors):
    """Check GridSearchCV over the loss weights with intensity routed per fold."""
    X, y, intensity, prior = sensors
    with sklearn.config_context(enable_metadata_routing=True):
        net = SteelNetClassifier(**{**CHEAP, "max_epochs": 8}, attribution_prior=prior)
        pipeline = Pipeline(
            [
                ("dropout", ModalityDropout(random_state=0)),
                ("net", net.set_fit_request(intensity=True)),
            ]
        )
        grid = {
            "net__alpha": [1.0],
            "net__beta": [0.0, 0.5],
            "net__gamma": [0.3],
            "net__delta": [0.0, 0.1],
        }
        search = GridSearchCV(pipeline, grid, scoring="f1_macro", cv=2)
        search.fit(X, y, intensity=intensity)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_score_ > 0.5
    assert search.best_estimator_[-1].intensity_mean_ is not None


def test_steelnet_classifier_routes_sample_weight_and_intensity(sensors):
    """Check that GridSearchCV over a pipeline routes both ``sample_weight``
    and ``intensity`` to SteelNet, split with the rows: a fold's fit sees
    the weights of its own rows, so zero weights on one class make that
    class's share of the predictions drop."""
    X, y, intensity, _ = sensors
    seen = []

    class Recording(SteelNetClassifier):
        def fit(self, X, y, intensity=None, sample_weight=None):
            seen.append((len(y), None if intensity is None else len(intensity),
                         None if sample_weight is None else len(sample_weight)))
            return super().fit(X, y, intensity=intensity, sample_weight=sample_weight)

    weight = np.where(y == 2, 1e-3, 1.0)
    with sklearn.config_context(enable_metadata_routing=True):
        net = Recording(**{**CHEAP, "max_epochs": 6})
        net = net.set_fit_request(intensity=True, sample_weight=True)
        pipeline = Pipeline([("impute", "passthrough"), ("net", net)])
        scoring = make_scorer(accuracy_score).set_score_request(sample_weight=False)
        search = GridSearchCV(pipeline, {"net__beta": [0.5]}, cv=2, scoring=scoring)
        search.fit(X, y, intensity=intensity, sample_weight=weight)
        unweighted = clone(net).fit(X, y, intensity=intensity)
    folds, refit = seen[:2], seen[2]
    assert all(n == n_intensity == n_weight for n, n_intensity, n_weight in folds)
    assert sum(n for n, _, _ in folds) == len(y)
    assert refit == (len(y), len(y), len(y))
    best = search.best_estimator_[-1]
    assert best.intensity_mean_ is not None
    share = np.mean(best.predict(X) == 2)
    assert share < np.mean(unweighted.predict(X) == 2)


def test_steelnet_classifier_cross_validate_routes_intensity(sensors):
    """Check that cross_validate splits the routed intensity with the rows."""
    X, y, intensity, _ = sensors
    with sklearn.config_context(enable_metadata_routing=True):
        clf = SteelNetClassifier(**{**CHEAP, "max_epochs": 8})
        clf = clf.set_fit_request(intensity=True)
        scores = cross_validate(
            clf, X, y, cv=3, params={"intensity": intensity}, return_estimator=True
        )
    assert scores["test_score"].mean() > 0.6
    assert all(est.intensity_mean_ is not None for est in scores["estimator"])


def test_steelnet_classifier_beats_lda_on_steelnet_dataset():
    """Check macro-F1 against LDA's and the attributions' top two sensors.

    Paper split: stratified 70 / 15 / 15. Both models sit in the same
    imbalanced-learn pipeline (modality dropout while fitting); LDA gets a
    mean imputer. SteelNet holds the validation rows out for early stopping.
    The test rows are scored as they are and with failing sensors (the
    sensor table's failure rates, mean 0.2); SteelNet must win both.
    """
    from sksteel.datasets import make_steelnet_dataset

    data = make_steelnet_dataset(random_state=0)
    X, y = data.data, data.target
    rows = np.arange(len(y))
    train, rest = train_test_split(rows, test_size=0.3, stratify=y, random_state=0)
    valid, test = train_test_split(
        rest, test_size=0.5, stratify=y.iloc[rest], random_state=0
    )
    fit_rows = np.concatenate([train, valid])
    X_failing = SensorFailure("table", random_state=0).fit_transform(X.iloc[test])
    steelnet = SteelNetClassifier(
        max_epochs=12,
        batch_size=128,
        validation_fraction=len(valid) / len(fit_rows),
        attribution_prior=data.attribution_prior,
        random_state=0,
    )
    scores = {}
    for name, steps in {
        "steelnet": [("net", steelnet)],
        "lda": [("impute", SimpleImputer()), ("lda", LinearDiscriminantAnalysis())],
    }.items():
        model = Pipeline([("dropout", ModalityDropout(random_state=0)), *steps])
        model.fit(X.iloc[fit_rows], y.iloc[fit_rows])
        for condition, X_test in [("intact", X.iloc[test]), ("failing", X_failing)]:
            predicted = model.predict(X_test)
            scores[name, condition] = f1_score(y.iloc[test], predicted, average="macro")
    assert scores["steelnet", "intact"] > scores["lda", "intact"], scores
    assert scores["steelnet", "failing"] > scores["lda", "failing"], scores
    assert top_two(steelnet.feature_attributions_) == top_two(data.attribution_prior)


def top_two(attributions):
    """The two largest sensors of each defect-class row, as sets."""
    return {
        label: set(row.nlargest(2).index)
        for label, row in attributions.iterrows()
        if label != 0
    }
