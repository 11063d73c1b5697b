"""Tests of SteelNetClassifier's columns by name, sensor tables by intent,
name-aligned attribution priors and the pipeline helper."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from sksteel._schema import SENSOR_NAMES, SENSORS
from sksteel.exceptions import MissingColumnsWarning
from sksteel.models import SteelNetClassifier
from sksteel.pipeline import SteelNetPipeline, make_pipeline
from sksteel.sampling import ModalityDropout

CHEAP = {
    "hidden_layer_sizes": (8,),
    "d_token": 4,
    "n_heads": 2,
    "max_epochs": 2,
    "lr": 1e-2,
    "batch_size": 32,
    "random_state": 0,
}


@pytest.fixture(scope="module")
def data():
    """Ten sensor columns around their normal ranges, 3 classes, intensity."""
    rng = np.random.RandomState(0)
    middle = SENSORS[["low", "high"]].mean(axis=1).to_numpy()
    width = (SENSORS["high"] - SENSORS["low"]).to_numpy()
    X = pd.DataFrame(
        middle + rng.normal(size=(150, 10)) * width, columns=list(SENSOR_NAMES)
    )
    y = np.arange(150) % 3
    intensity = np.where(y > 0, rng.uniform(0.1, 1.0, 150), 0.0)
    return X, y, intensity


@pytest.fixture(scope="module")
def fitted(data):
    X, y, intensity = data
    return SteelNetClassifier(**CHEAP).fit(X, y, intensity=intensity)


def test_shuffled_and_missing_columns_predict_as_ordered_with_nan(fitted, data):
    """Check that a DataFrame with the columns shuffled and two sensors
    absent predicts the same as the ordered one with those sensors NaN, and
    warns once naming them."""
    X = data[0].iloc[:20]
    absent = ["vibration", "curing_time"]
    shuffled = X[list(SENSOR_NAMES[::-1])].drop(columns=absent)
    with pytest.warns(MissingColumnsWarning) as record:
        proba = fitted.predict_proba(shuffled)
    assert len(record) == 1 and "['curing_time', 'vibration']" in str(record[0].message)
    expected = fitted.predict_proba(X.assign(**dict.fromkeys(absent, np.nan)))
    np.testing.assert_array_equal(proba, expected)
    with pytest.warns(MissingColumnsWarning):
        np.testing.assert_array_equal(
            fitted.predict_intensity(shuffled),
            fitted.predict_intensity(X.assign(**dict.fromkeys(absent, np.nan))),
        )
    with pytest.warns(MissingColumnsWarning):
        explained = fitted.explain(shuffled)
    assert list(explained.columns) == list(SENSOR_NAMES)


def test_missing_and_extra_columns_options(fitted, data):
    """Check ``missing_columns="error"`` and ``extra_columns="ignore"``."""
    X = data[0].iloc[:10]
    strict = fitted.set_params(missing_columns="error")
    try:
        with pytest.raises(ValueError, match=r"lacks \['drive_load'\]"):
            strict.predict(X.drop(columns="drive_load"))
    finally:
        fitted.set_params(missing_columns="nan")
    with pytest.raises(ValueError, match="extra_columns='ignore'"):
        fitted.predict(X.assign(line=1.0))
    fitted.set_params(extra_columns="ignore")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            proba = fitted.predict_proba(X.assign(line=1.0))
    finally:
        fitted.set_params(extra_columns="error")
    np.testing.assert_array_equal(proba, fitted.predict_proba(X))


def test_explain_refuses_input_it_cannot_interpret(fitted):
    """Check that raw columns that match none of the training ones are
    refused with a pointer to the pipeline helper."""
    raw = pd.DataFrame(np.ones((3, 2)), columns=["a", "b"])
    with pytest.raises(ValueError, match="sksteel.pipeline.make_pipeline"):
        fitted.explain(raw)


@pytest.mark.parametrize(
    "columns, sensors, table_rows",
    [
        (list(SENSOR_NAMES), "auto", list(SENSOR_NAMES)),
        (list(SENSOR_NAMES[:9]), "auto", None),
        (list(SENSOR_NAMES[:9]), "steel", list(SENSOR_NAMES[:9])),
        (list(SENSOR_NAMES), None, None),
        ([f"remainder__{name}" for name in SENSOR_NAMES], "auto", list(SENSOR_NAMES)),
    ],
)
def test_sensors_parameter_decides_ranges_and_rates(data, columns, sensors, table_rows):
    """Check that ``sensors`` decides which columns get the steel table's
    ranges, and that the outcome is recorded in ``sensor_table_``."""
    X, y, _ = data
    X = X.iloc[:, : len(columns)].set_axis(columns, axis=1)
    clf = SteelNetClassifier(**{**CHEAP, "max_epochs": 1}, sensors=sensors).fit(X, y)
    if table_rows is None:
        assert clf.sensor_table_ is None
        np.testing.assert_allclose(
            clf.operating_ranges_,
            np.column_stack([clf.mean_ - clf.scale_, clf.mean_ + clf.scale_]),
        )
        # failure_rates="auto": no modality dropout without a sensor table
        np.testing.assert_allclose(clf.failure_rates_, 0.0)
    else:
        assert list(clf.sensor_table_["sensor"]) == table_rows
        np.testing.assert_allclose(
            clf.operating_ranges_, SENSORS.loc[table_rows, ["low", "high"]]
        )


def test_user_sensor_table(data):
    """Check that a user table gives its ranges and failure rates by name."""
    X, y, _ = data
    X = X.iloc[:, :3].set_axis(["speed", "torque", "other"], axis=1)
    table = pd.DataFrame(
        {"low": [1.0, 2.0], "high": [3.0, 4.0], "failure_probability": [0.1, 0.3]},
        index=pd.Index(["torque", "speed"], name="name"),
    )
    clf = SteelNetClassifier(**{**CHEAP, "max_epochs": 1}, sensors=table).fit(X, y)
    np.testing.assert_allclose(clf.operating_ranges_[:2], [[2.0, 4.0], [1.0, 3.0]])
    np.testing.assert_allclose(clf.failure_rates_, [0.3, 0.1, 0.2])


def test_attribution_prior_aligns_by_name(data):
    """Check that a DataFrame prior named after the sensors aligns to
    prefixed columns in another order, that a Series is one prior for every
    class, and that unmatched names are a clear error."""
    X, y, _ = data
    prior = pd.DataFrame(np.eye(3, 10) + 0.1, columns=list(SENSOR_NAMES))
    prefixed = X[list(SENSOR_NAMES[::-1])].add_prefix("remainder__")
    clf = SteelNetClassifier(**{**CHEAP, "max_epochs": 1}, attribution_prior=prior)
    clf.fit(prefixed, y)
    expected = prior[list(SENSOR_NAMES[::-1])].to_numpy()
    np.testing.assert_allclose(
        clf.attribution_prior_, expected / expected.sum(axis=1, keepdims=True)
    )
    series = pd.Series(np.arange(1.0, 11.0), index=list(SENSOR_NAMES))
    clf.set_params(attribution_prior=series).fit(X[list(SENSOR_NAMES[::-1])], y)
    np.testing.assert_allclose(clf.attribution_prior_[1], np.arange(10.0, 0, -1) / 55)
    with pytest.raises(ValueError, match=r"the prior columns \['vibration'\]"):
        clf.set_params(attribution_prior=prior).fit(X.drop(columns="vibration"), y)


def test_pipeline_explain_and_intensity_apply_preceding_steps(data):
    """Check that the pipeline's ``explain`` and ``predict_intensity`` equal
    the last step's on the transformed input, and that ``fit`` routes the
    intensity as for any imblearn pipeline."""
    X, y, intensity = data
    pipe = make_pipeline(
        StandardScaler().set_output(transform="pandas"),
        ModalityDropout(random_state=0),
        SteelNetClassifier(**CHEAP),
    )
    assert isinstance(pipe, SteelNetPipeline)
    pipe.fit(X, y, steelnetclassifier__intensity=intensity)
    transformed = pipe[0].transform(X.iloc[:5])
    pd.testing.assert_frame_equal(
        pipe.explain(X.iloc[:5]), pipe[-1].explain(transformed)
    )
    np.testing.assert_array_equal(
        pipe.predict_intensity(X.iloc[:5]), pipe[-1].predict_intensity(transformed)
    )
    assert not hasattr(make_pipeline(StandardScaler(), LogisticRegression()), "explain")


def test_pipeline_with_column_transformer_matches_prefixed_sensors(data):
    """Check that a ColumnTransformer's ``remainder__`` prefixes keep the
    steel sensor table on."""
    X, y, _ = data
    prepare = ColumnTransformer([("drop", "drop", ["line"])], remainder="passthrough")
    pipe = make_pipeline(
        prepare.set_output(transform="pandas"),
        SteelNetClassifier(**{**CHEAP, "max_epochs": 1}),
    )
    pipe.fit(X.assign(line=1.0), y)
    assert list(pipe[-1].sensor_table_["sensor"]) == list(SENSOR_NAMES)
    assert pipe.explain(X.assign(line=1.0).iloc[:3]).shape == (3, 10)


def test_auto_failure_rates_keep_the_steel_table_and_drop_nothing_elsewhere(data):
    """Check that the default ``failure_rates="auto"`` is ``"table"`` on the
    steel sensors (the same rates and the same predictions at a fixed seed)
    and no modality dropout on a table without a sensor table."""
    X, y, _ = data
    auto = SteelNetClassifier(**CHEAP).fit(X, y)
    table = SteelNetClassifier(**CHEAP, failure_rates="table").fit(X, y)
    assert auto.failure_rates == "auto"
    np.testing.assert_array_equal(auto.failure_rates_, table.failure_rates_)
    assert auto.failure_rates_.max() > 0
    np.testing.assert_array_equal(auto.predict_proba(X), table.predict_proba(X))
    plain = X.set_axis([f"c{i}" for i in range(10)], axis=1)
    clf = SteelNetClassifier(**CHEAP).fit(plain, y)
    assert clf.sensor_table_ is None
    np.testing.assert_array_equal(clf.failure_rates_, np.zeros(10))
    assert clf.net_.module_.missing_rates is None
    kept = SteelNetClassifier(**CHEAP, failure_rates="table").fit(plain, y)
    np.testing.assert_allclose(kept.failure_rates_, 0.2)


def test_bad_failure_rates_string_is_a_clear_error(data):
    """Check that a string other than "auto" or "table" is refused."""
    X, y, _ = data
    with pytest.raises(ValueError, match="failure_rates"):
        SteelNetClassifier(**CHEAP, failure_rates="tabel").fit(X, y)
