"""Tests of SensorFailure, the test-time sensor-failure transformer."""

import numpy as np
import pandas as pd
import pytest

from sksteel._schema import SENSOR_NAMES
from sksteel.datasets import failure_rates
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
    "params, expected",
    [
        ({"failure_rates": 0.3}, pd.Series(0.3, index=SENSOR_NAMES)),
        ({"failure_rates": "table"}, failure_rates(p_base=0.2)),
        ({"failure_rates": "table", "p_base": 0.5}, failure_rates(p_base=0.5)),
    ],
)
def test_sensor_failure_measured_rates(large_frame, params, expected):
    """Check that each sensor goes missing at its configured rate, within one
    percentage point on 100,000 rows."""
    failed = SensorFailure(**params, random_state=0).fit_transform(large_frame)
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
    "X, sensors, expected",
    [
        # one sensor renamed: "auto" no longer takes the columns for the steel
        # sensors, so every column gets p_base; "steel" still matches nine
        (_sensor_frame(10).rename(columns={"drive_load": "torque"}), "auto", None),
        (
            _sensor_frame(10).rename(columns={"drive_load": "torque"}),
            "steel",
            [*failure_rates(p_base=0.3).iloc[:9], 0.3],
        ),
        (np.ones((10, 4)), "auto", None),
        (np.ones((10, 4)), None, None),
    ],
)
def test_sensor_failure_table_on_other_columns(X, sensors, expected):
    """Check that ``"table"`` gives the sensor table's rates to the sensor
    columns only and ``p_base`` to every other column."""
    failure = SensorFailure("table", p_base=0.3, sensors=sensors).fit(X)
    expected = np.full(X.shape[1], 0.3) if expected is None else expected
    np.testing.assert_allclose(failure.failure_rates_, expected)
    assert (failure.sensor_table_ is None) == (sensors != "steel")


@pytest.mark.parametrize(
    "params, match",
    [
        ({"failure_rates": 1.5}, "'failure_rates' parameter"),
        ({"sensors": "random"}, "'sensors' parameter"),
        ({"p_base": -0.1}, "'p_base' parameter"),
    ],
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
