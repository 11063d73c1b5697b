"""Bad-input properties of ModalityDropout.

Hypothesis draws sensor readings with random NaN patterns (all-NaN rows and
columns included), one row, ndarray or DataFrame with the sensors in any
order, float16/32/64, integer and boolean dtypes, huge (1e300, inf) and tiny
(1e-300, subnormal) magnitudes, and targets of one to three classes. The
sampler either works or raises a ValueError naming the problem.

What may be NaN in the output: the input's NaN and the readings dropped on
purpose; every other reading is returned unchanged, and with ``n_copies >=
1`` the original rows come first, untouched.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sksteel._schema import SENSOR_NAMES
from sksteel.datasets import failure_rates
from sksteel.sampling import ModalityDropout

#: Readings besides ordinary ones: huge, tiny and signed zeros.
MAGNITUDES = [0.0, -0.0, 1e-300, 5e-324, 1e300, -1e300, 97.5, 190.0]


@st.composite
def _readings(draw):
    """``(X, values)``: sensor readings as a DataFrame (sensors permuted) or
    an array in a random dtype, and the float64 values X holds."""
    n_rows = draw(st.integers(1, 6))
    n_columns = draw(st.integers(1, 10) | st.just(10))
    cell = st.sampled_from(MAGNITUDES) | st.floats(-5.0, 5.0)
    size = n_rows * n_columns
    values = np.array(draw(st.lists(cell, min_size=size, max_size=size)))
    values = values.astype(np.float64).reshape(n_rows, n_columns)
    nan = draw(st.sampled_from(["none", "cells", "row", "column", "all"]))
    if nan == "cells":
        mask = draw(st.lists(st.booleans(), min_size=size, max_size=size))
        values[np.reshape(mask, values.shape)] = np.nan
    elif nan != "none":
        index = {"row": np.s_[0, :], "column": np.s_[:, -1], "all": np.s_[:, :]}
        values[index[nan]] = np.nan
    dtype = draw(st.sampled_from(["float16", "float32", "float64", "int64", "bool"]))
    if dtype in ("int64", "bool"):
        values = np.clip(np.nan_to_num(values), -1e15, 1e15)
        values = np.round(values) if dtype == "int64" else values > 0
    else:
        if draw(st.integers(0, 3)):  # mostly huge for the dtype, not infinite
            largest = float(np.finfo(dtype).max)
            values = np.clip(values, -largest, largest)
        if draw(st.integers(0, 4)) == 0:
            values[-1, 0] = draw(st.sampled_from([np.inf, -np.inf]))
    with np.errstate(over="ignore"):
        X = values.astype(dtype)
    values = X.astype(np.float64)
    if draw(st.booleans()):
        return X, values
    names = draw(st.permutations(SENSOR_NAMES))[:n_columns]
    return pd.DataFrame(X, columns=names), values


@st.composite
def _targets(draw, n_rows):
    """Class labels of one to three classes, as ints, strings or a Series."""
    labels = draw(st.lists(st.integers(0, 2), min_size=n_rows, max_size=n_rows))
    kind = draw(st.sampled_from(["int", "str", "series"]))
    if kind == "str":
        return np.array([f"class {c}" for c in labels])
    return pd.Series(labels, name="defect_class") if kind == "series" else labels


def _expected_error(X, values, y, rates):
    """The start of the error ModalityDropout must raise, or None."""
    if np.isinf(values).any():
        return "infinity"
    if len(set(np.asarray(y).tolist())) < 2:
        return "needs to have more than 1 class"
    if isinstance(rates, dict):
        names = list(X.columns) if isinstance(X, pd.DataFrame) else (
            list(SENSOR_NAMES) if X.shape[1] == 10 else []
        )
        if not set(rates) <= set(names):
            return r"got failure rates for \['vibration'\], which are not columns of X"
    return None


@pytest.mark.filterwarnings("error::RuntimeWarning")
@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    data=st.data(),
    inputs=_readings(),
    rates=st.sampled_from(["table", 0.5, {"vibration": 1.0}]),
    n_copies=st.sampled_from([0, 2]),
)
def test_modality_dropout_bad_inputs(data, inputs, rates, n_copies):
    """Check that ModalityDropout only turns readings into NaN, keeps the
    input's NaN, matches rates by sensor name in any column order, returns
    float columns whatever the input dtype, and refuses inf, single-class
    targets and unnamed arrays it cannot match with clear errors."""
    X, values = inputs
    y = data.draw(_targets(len(values)))
    sampler = ModalityDropout(
        failure_rates=rates, n_copies=n_copies, sensors="steel", random_state=0
    )
    expected_error = _expected_error(X, values, y, rates)
    if expected_error is not None:
        with pytest.raises(ValueError, match=expected_error):
            sampler.fit_resample(X, y)
        return

    X_res, y_res = sampler.fit_resample(X, y)
    if isinstance(X, pd.DataFrame):
        assert list(X_res.columns) == list(X.columns)
        assert (X_res.dtypes.map(lambda dtype: dtype.kind) == "f").all()
        if rates == "table":
            np.testing.assert_allclose(
                sampler.failure_rates_,
                failure_rates(columns=list(X.columns), sensors="steel"),
            )
        X_res = X_res.to_numpy()
    X_res = X_res.astype(np.float64)
    n_rows = len(values)
    assert X_res.shape == ((n_copies + 1) * n_rows, values.shape[1])
    y_tiled = np.tile(np.asarray(y), n_copies + 1)
    np.testing.assert_array_equal(np.asarray(y_res), y_tiled)
    if n_copies:
        np.testing.assert_array_equal(X_res[:n_rows], values)
    tiled = np.tile(values, (n_copies + 1, 1))
    assert np.isnan(X_res[np.isnan(tiled)]).all()
    kept = ~np.isnan(X_res)
    np.testing.assert_array_equal(X_res[kept], tiled[kept])


@pytest.mark.parametrize(
    "y, match",
    [
        (np.zeros(4), "more than 1 class"),
        pytest.param(
            np.array([0.0, 1.0, np.nan, 1.0]),
            "y contains NaN",
            # sklearn's target-type check casts NaN on its way to the error
            marks=pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning"),
        ),
        (np.array([0.1, 0.7, 0.3, 0.9]), "Unknown label type: continuous"),
        (np.array([0, 1, 0]), "inconsistent numbers of samples"),
    ],
)
def test_modality_dropout_bad_targets(y, match):
    """Check that single-class, NaN, continuous and mis-sized targets are
    clear errors."""
    with pytest.raises(ValueError, match=match):
        ModalityDropout(random_state=0).fit_resample(np.ones((4, 10)), y)


def test_modality_dropout_one_row_needs_two_classes():
    """Check that a single row, which has a single class, is refused with the
    imbalanced-learn error naming the class count."""
    with pytest.raises(ValueError, match="Got 1 class instead"):
        ModalityDropout(random_state=0).fit_resample(np.ones((1, 10)), [1])


@pytest.mark.parametrize("dtype", ["int64", "bool", "Int64", "object"])
def test_modality_dropout_non_float_frames(dtype):
    """Check that integer, boolean, nullable and object columns come back as
    float64 with dropped readings as NaN, not as an integer-cast error or as
    True."""
    X = pd.DataFrame(np.ones((50, 10), dtype=int), columns=SENSOR_NAMES).astype(dtype)
    X_res, _ = ModalityDropout(failure_rates=0.5, random_state=0).fit_resample(
        X, np.arange(50) % 2
    )
    assert (X_res.dtypes == np.float64).all()
    assert 0 < X_res.isna().to_numpy().mean() < 1
    assert (X_res.fillna(1.0).to_numpy() == 1.0).all()


@pytest.mark.parametrize(
    "value, match", [(10**400, "too large for a float64"), ("abc", "needs numbers")]
)
def test_modality_dropout_values_that_are_not_floats(value, match):
    """Check that a Python integer beyond float64 and text that is not a
    number are clear ValueErrors."""
    X = pd.DataFrame(np.ones((4, 10)), columns=SENSOR_NAMES).astype(object)
    X.iloc[2, 3] = value
    with pytest.raises(ValueError, match=match):
        ModalityDropout().fit_resample(X, [0, 1, 0, 1])
