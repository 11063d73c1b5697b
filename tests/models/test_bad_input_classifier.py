"""Property-based tests of SteelNetClassifier on bad and unusual input.

Every input either works, with finite probabilities that sum to 1, finite
intensities and attributions, or raises a ValueError / TypeError that names
the problem. Small models are fitted once per module and hypothesis varies
what they predict on; the properties over ``fit`` draw few examples.
"""

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sksteel._schema import SENSOR_NAMES, SENSORS
from sksteel.models import SteelNetClassifier

#: A tiny network: fitting it takes a few hundredths of a second.
TINY = {
    "hidden_layer_sizes": (8,),
    "d_token": 4,
    "n_heads": 2,
    "max_epochs": 2,
    "batch_size": 16,
    "random_state": 0,
}

N_SENSORS = len(SENSOR_NAMES)
LOW, HIGH = SENSORS["low"].to_numpy(), SENSORS["high"].to_numpy()

#: Extreme readings: huge, tiny, float32's largest and float64's largest.
EXTREMES = [0.0, 1e-300, -1e-300, 5e-324, 1e30, -1e30, 3.4e38, 1e300, -1e300, 1.7e308]

FLOAT_DTYPES = [np.float16, np.float32, np.float64]
INT_DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint64]


#: Reproducible runs, no example database, no deadline (a fit varies in time).
FUZZ = settings(deadline=None, derandomize=True, database=None)

@pytest.fixture(scope="module")
def training():
    """60 readings inside the normal ranges, 3 classes, intensities."""
    rng = np.random.default_rng(0)
    X = LOW + rng.random((60, N_SENSORS)) * (HIGH - LOW)
    X[rng.random(X.shape) < 0.1] = np.nan
    y = np.arange(60) % 3
    intensity = np.where(y > 0, rng.random(60), 0.0)
    return pd.DataFrame(X, columns=list(SENSOR_NAMES)), y, intensity


@pytest.fixture(scope="module")
def models(training):
    """One model fitted on a DataFrame, one on the same readings as an array."""
    X, y, intensity = training
    return {
        "frame": SteelNetClassifier(**TINY).fit(X, y, intensity=intensity),
        "array": SteelNetClassifier(**TINY).fit(X.to_numpy(), y, intensity=intensity),
    }


def as_container(values, container):
    """``values`` as an ndarray, or a DataFrame with the sensor columns."""
    if container == "array":
        return values
    return pd.DataFrame(values, columns=list(SENSOR_NAMES))


def assert_sound_outputs(model, X):
    """Check every output of ``model`` on ``X``: finite, probabilities summing
    to 1, predictions among the classes, attributions summing to 1."""
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), len(model.classes_))
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    y_pred = model.predict(X)
    np.testing.assert_array_equal(y_pred, model.classes_[np.argmax(proba, axis=1)])
    attribution = model.explain(X, method="head").to_numpy()
    assert attribution.shape == (len(X), model.n_features_in_)
    assert np.isfinite(attribution).all()
    np.testing.assert_allclose(attribution.sum(axis=1), 1.0, rtol=1e-5)
    if model.intensity_mean_ is not None:
        intensity = model.predict_intensity(X)
        assert intensity.shape == (len(X),) and np.isfinite(intensity).all()


@st.composite
def readings(draw, n_rows, dtypes=FLOAT_DTYPES):
    """A (n_rows, 10) float array mixing normal readings, NaN and extremes,
    with whole rows and whole columns missing, in one of ``dtypes``.

    Values beyond the dtype's largest are clipped to it (a float16 sensor
    cannot read 1e30), so the array holds no infinity.
    """
    n = draw(n_rows)
    normal = draw(hnp.arrays(np.float64, (n, N_SENSORS), elements=st.floats(0, 1)))
    values = LOW + normal * (HIGH - LOW)
    cells = st.tuples(st.integers(0, n - 1), st.integers(0, N_SENSORS - 1))
    special = st.sampled_from([np.nan, *EXTREMES])
    for (row, column), value in draw(st.lists(st.tuples(cells, special), max_size=20)):
        values[row, column] = value
    values[draw(st.lists(st.integers(0, n - 1), max_size=3)), :] = np.nan
    values[:, draw(st.lists(st.integers(0, N_SENSORS - 1), max_size=3))] = np.nan
    dtype = draw(st.sampled_from(dtypes))
    largest = np.finfo(dtype).max
    return np.clip(values, -largest, largest).astype(dtype)


@settings(FUZZ, max_examples=100)
@given(
    values=readings(st.integers(1, 12)),
    container=st.sampled_from(["frame", "array"]),
)
def test_bad_input_classifier_predict_is_finite_on_any_readings(
    models, values, container
):
    """Check that NaN patterns, all-NaN rows and columns, one row, float16/32/64
    and huge or tiny readings give finite, normalised outputs."""
    assert_sound_outputs(models[container], as_container(values, container))


@settings(FUZZ, max_examples=20)
@given(
    values=hnp.arrays(
        st.sampled_from(INT_DTYPES), st.tuples(st.integers(1, 8), st.just(N_SENSORS))
    ),
    container=st.sampled_from(["frame", "array"]),
)
def test_bad_input_classifier_predict_accepts_integer_readings(
    models, values, container
):
    """Check that integer readings of any width, to their extremes, work."""
    assert_sound_outputs(models[container], as_container(values, container))


@settings(FUZZ, max_examples=10)
@given(values=readings(st.integers(1, 12)))
def test_bad_input_classifier_ndarray_and_frame_agree(models, values):
    """Check that an array gives the probabilities of the same DataFrame (to
    float32 rounding), with sklearn's warning about the missing names."""
    model = models["frame"]
    expected = model.predict_proba(as_container(values, "frame"))
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        proba = model.predict_proba(values)
    np.testing.assert_allclose(proba, expected, atol=1e-6)


@settings(FUZZ, max_examples=15)
@given(order=st.permutations(range(N_SENSORS)))
def test_bad_input_classifier_permuted_columns_are_matched(models, training, order):
    """Check that columns in another order than in fit are matched by name:
    the probabilities are those of the fit order (not silently mixed up)."""
    X = training[0].iloc[:, list(order)]
    expected = models["frame"].predict_proba(training[0])
    np.testing.assert_array_equal(models["frame"].predict_proba(X), expected)


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda X: X.assign(speed=1.0), r"also has \['speed'\]"),
        (
            lambda X: X.rename(columns={"vibration": "shaking"}),
            r"also has \['shaking'\]",
        ),
        (
            lambda X: pd.concat([X, X[["vibration"]]], axis=1),
            r"several columns named \['vibration'\]",
        ),
        (lambda X: X.to_numpy()[:, :-1], "X has 9 features"),
        (lambda X: X.to_numpy()[0], "Expected 2D array"),
        (lambda X: X.iloc[:0], "0 sample\\(s\\)"),
        (lambda X: X.assign(vibration="high"), "could not convert string to float"),
        (lambda X: X.to_numpy() + 1j, "Complex data not supported"),
    ],
    ids=[
        "extra column", "renamed column", "duplicated column",
        "array of 9 columns", "1-d row", "no row", "text", "complex",
    ],
)
@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
def test_bad_input_classifier_predict_refuses_bad_tables(models, training, edit, match):
    """Check that unusable tables at predict raise sklearn's clear errors."""
    with pytest.raises(ValueError, match=match):
        models["frame"].predict_proba(edit(training[0]))


@settings(FUZZ, max_examples=15)
@given(
    values=readings(st.integers(1, 12)),
    where=st.tuples(st.integers(0, 11), st.integers(0, N_SENSORS - 1)),
    sign=st.sampled_from([1, -1]),
    container=st.sampled_from(["frame", "array"]),
)
@pytest.mark.parametrize("method", ["predict", "predict_proba", "explain"])
def test_bad_input_classifier_infinity_is_refused(
    models, values, where, sign, container, method
):
    """Check that an infinite reading is an error at predict, not a guess."""
    values = values.astype(np.float64)
    values[where[0] % len(values), where[1]] = sign * np.inf
    with pytest.raises(ValueError, match="contains infinity"):
        getattr(models[container], method)(as_container(values, container))


@st.composite
def training_sets(draw):
    """Readings as in :func:`readings` (or integers), labels of 2-3 classes
    and, half of the time, intensities with NaN, negative, above-1 or huge
    values (at least one usable on a defective row)."""
    n = draw(st.integers(2, 40))
    if draw(st.booleans()):
        values = draw(readings(st.just(n)))
    else:
        values = draw(hnp.arrays(st.sampled_from(INT_DTYPES), (n, N_SENSORS)))
    y = np.array(draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)))
    y[:2] = [0, 1]
    intensity = None
    if draw(st.booleans()):
        value = st.one_of(
            st.floats(-1e6, 1e6), st.sampled_from([np.nan, *EXTREMES, -5.0, 7.0])
        )
        intensity = np.array(draw(st.lists(value, min_size=n, max_size=n)))
        intensity[1] = draw(st.floats(-10, 10))
    return values, y, intensity


@settings(FUZZ, max_examples=30)
@given(data=training_sets(), container=st.sampled_from(["frame", "array"]))
def test_bad_input_classifier_fit_on_any_readings(training, data, container):
    """Check that fitting on NaN patterns, all-NaN rows and columns, extreme
    readings, any dtype, two rows, and intensities with NaN or outside
    [0, 1] works and gives sound outputs on its own and on normal data."""
    values, y, intensity = data
    X = as_container(values, container)
    model = SteelNetClassifier(**TINY).fit(X, y, intensity=intensity)
    assert np.isfinite(model.mean_).all() and np.isfinite(model.scale_).all()
    assert intensity is None or np.isfinite(model.intensity_scale_)
    assert_sound_outputs(model, X)
    assert_sound_outputs(model, as_container(training[0].to_numpy(), container))


@settings(FUZZ, max_examples=25)
@given(
    label=st.one_of(st.integers(-(2**63), 2**63 - 1), st.text(min_size=1, max_size=5)),
    n_rows=st.integers(1, 30),
)
def test_bad_input_classifier_single_class_is_refused(training, label, n_rows):
    """Check that one class, including a single row, is refused naming it."""
    X, y = training[0].iloc[:n_rows], np.array([label] * n_rows)
    message = f"only one class: {label!r}. Pass samples of every class"
    with pytest.raises(ValueError, match=re.escape(message)):
        SteelNetClassifier(**TINY).fit(X, y)


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda X, y, s: (X.replace(X.iloc[0, 0], np.inf), y, s), "contains infinity"),
        (lambda X, y, s: (X, np.where(y == 2, np.nan, y), s), "y contains NaN"),
        (lambda X, y, s: (X, y[:-1], s), "inconsistent numbers of samples"),
        (lambda X, y, s: (X, y + 0.5, s), "Unknown label type: continuous"),
        (lambda X, y, s: (X.iloc[:0], y[:0], s[:0]), "0 sample\\(s\\)"),
        (lambda X, y, s: (X, y, s[:-1]), "`intensity` must have shape \\(n_samples"),
        (lambda X, y, s: (X, y, s[:, None]), "`intensity` must have shape"),
        (lambda X, y, s: (X, y, np.where(y > 0, np.nan, s)), "no finite value"),
        (lambda X, y, s: (X, y, np.where(y > 0, np.inf, s)), "intensity contains inf"),
        (lambda X, y, s: (X, y, s.astype(str).astype(object) + "%"), "convert string"),
        (lambda X, y, s: (X, y, 0.5), "at least 1 dimension"),
    ],
    ids=[
        "inf reading", "NaN label", "short y", "continuous y", "no row",
        "short intensity", "2-d intensity", "no defective intensity",
        "inf intensity", "text intensity", "scalar intensity",
    ],
)
def test_bad_input_classifier_fit_refuses_bad_data(training, edit, match):
    """Check that unusable readings, labels and intensities raise clear errors."""
    X, y, intensity = edit(*training)
    with pytest.raises((ValueError, TypeError), match=match):
        SteelNetClassifier(**TINY).fit(X, y, intensity=intensity)


def test_bad_input_classifier_extreme_reading_saturates(models, training):
    """Check that a reading beyond 1e6 standard deviations counts as that far:
    1e30 and 1e300 predict like the clipped reading, not NaN."""
    model = models["frame"]
    X = training[0].iloc[:3].copy()
    clipped, column = X.copy(), SENSOR_NAMES.index("vibration")
    clipped["vibration"] = model.mean_[column] + 1e6 * model.scale_[column]
    expected = model.predict_proba(clipped)
    for value in (1e30, 1e300):
        X["vibration"] = value
        np.testing.assert_allclose(model.predict_proba(X), expected, rtol=1e-6)
