"""Tests of SensorFailure, the test-time sensor-failure transformer."""

import numpy as np
import pandas as pd
import pytest

from sksteel._schema import SENSOR_NAMES, failure_rates
from sksteel.preprocessing import SensorFailure


def _sensor_frame(n_rows, seed=0):
    rng = np.random.RandomState(seed)
    return pd.DataFrame(
        rng.uniform(1.0, 2.0, (n_rows, 10)),
        columns=SENSOR_NAMES,
        index=pd.RangeIndex(100, 100 + n_rows),
    )


@pytest.fixture(scope="module")
def large_frame():
    return _sensor_frame(100_000)


@pytest.mark.parametrize(
    "mode, rate, expected",
    [
        ("uniform", 0.3, pd.Series(0.3, index=SENSOR_NAMES)),
        ("table", 0.2, failure_rates(0.2)),
        ("table", 0.5, failure_rates(0.5)),
    ],
)
def test_sensor_failure_measured_rates(large_frame, mode, rate, expected):
    """Check that each sensor goes missing at its configured rate, within one
    percentage point on 100,000 rows."""
    failed = SensorFailure(rate, mode=mode, random_state=0).fit_transform(large_frame)
    np.testing.assert_allclose(failed.isna().mean(), expected, atol=0.01)


def test_sensor_failure_pandas_in_pandas_out():
    """Check that a DataFrame comes back with its columns, index and kept
    values."""
    X = _sensor_frame(200)
    failed = SensorFailure(0.4, random_state=0).fit_transform(X)
    assert isinstance(failed, pd.DataFrame)
    assert failed.index.equals(X.index) and failed.columns.equals(X.columns)
    kept = failed.notna()
    pd.testing.assert_frame_equal(failed[kept], X[kept])


def test_sensor_failure_set_output_on_arrays():
    """Check that ``set_output(transform="pandas")`` names array output after
    the sensors."""
    failure = SensorFailure(0.2, random_state=0).set_output(transform="pandas")
    failed = failure.fit_transform(_sensor_frame(20).to_numpy())
    assert list(failed.columns) == [f"x{i}" for i in range(10)]


def test_sensor_failure_keeps_missing_readings():
    """Check that NaN input stays NaN and ``rate=0`` changes nothing else."""
    X = _sensor_frame(50)
    X.iloc[::5, 3] = np.nan
    failed = SensorFailure(0.0).fit_transform(X)
    pd.testing.assert_frame_equal(failed, X)


def test_sensor_failure_rate_one_drops_everything():
    """Check that ``rate=1`` drops every reading."""
    failed = SensorFailure(1.0).fit_transform(_sensor_frame(5).to_numpy())
    assert np.isnan(failed).all()


def test_sensor_failure_deterministic():
    """Check that an int seed gives the same mask at every call."""
    X = _sensor_frame(100)
    failure = SensorFailure(0.3, random_state=3).fit(X)
    pd.testing.assert_frame_equal(failure.transform(X), failure.transform(X))
    other = SensorFailure(0.3, random_state=4).fit_transform(X)
    assert not other.isna().equals(failure.transform(X).isna())


@pytest.mark.parametrize(
    "X, match",
    [
        (_sensor_frame(10).rename(columns={"drive_load": "torque"}), "torque"),
        (np.ones((10, 4)), "exactly 10 columns"),
    ],
)
def test_sensor_failure_table_needs_sensors(X, match):
    """Check that ``mode="table"`` on columns that are not the sensors is a
    clear error."""
    with pytest.raises(ValueError, match=match):
        SensorFailure(0.2, mode="table").fit(X)


@pytest.mark.parametrize(
    "params, match",
    [({"rate": 1.5}, "'rate' parameter"), ({"mode": "random"}, "'mode' parameter")],
)
def test_sensor_failure_invalid_parameters(params, match):
    """Check that an out-of-range rate or unknown mode is refused."""
    with pytest.raises(ValueError, match=match):
        SensorFailure(**params).fit(_sensor_frame(5))


def test_sensor_failure_rejects_infinite_readings():
    """Check that ``inf`` is an error (only NaN means missing)."""
    X = _sensor_frame(5)
    X.iloc[1, 1] = -np.inf
    with pytest.raises(ValueError, match="infinity"):
        SensorFailure().fit_transform(X)
