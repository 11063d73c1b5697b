"""Tests of the one failure-rate vocabulary (sksteel.datasets.failure_rates)
and of the sensor-table resolver shared by the transformer, the sampler and
the classifier."""

import numpy as np
import pandas as pd
import pytest

from sksteel._schema import SENSOR_NAMES, SENSORS
from sksteel.datasets import failure_rates
from sksteel.models import SteelNetClassifier
from sksteel.preprocessing import SensorFailure
from sksteel.sampling import ModalityDropout

TINY = {
    "hidden_layer_sizes": (4,),
    "d_token": 2,
    "n_heads": 1,
    "max_epochs": 1,
    "early_stopping": False,
    "random_state": 0,
}

#: The mean of the steel table's failure probabilities (0.17).
TABLE_MEAN = SENSORS["failure_probability"].mean()


def _frame(columns, n_rows=20, seed=0):
    rng = np.random.RandomState(seed)
    return pd.DataFrame(rng.uniform(1, 2, (n_rows, len(columns))), columns=columns)


def _resolved(kind, X, **params):
    """``failure_rates_`` and ``sensor_table_`` of each object fitted on X."""
    y = np.arange(len(X)) % 2
    if kind == "SensorFailure":
        est = SensorFailure(**params).fit(X)
    elif kind == "ModalityDropout":
        est = ModalityDropout(**params)
        est.fit_resample(X, y)
    else:
        est = SteelNetClassifier(**TINY, **params).fit(X, y)
    return est.failure_rates_, est.sensor_table_


def test_failure_rates_table_scaled_to_p_base():
    """Check that the table's probabilities are scaled to mean ``p_base``,
    keep their ratios and are clipped to [0, 1]."""
    rates = failure_rates(p_base=0.2)
    assert list(rates.index) == list(SENSOR_NAMES)
    assert rates.mean() == pytest.approx(0.2)
    np.testing.assert_allclose(rates, SENSORS["failure_probability"] * 0.2 / TABLE_MEAN)
    assert failure_rates(p_base=1.0).max() == 1.0
    with pytest.raises(ValueError, match="`p_base` must be a probability"):
        failure_rates(p_base=1.5)


@pytest.mark.parametrize(
    "spec, columns, sensors, expected",
    [
        (0.3, ["a", "b"], "auto", [0.3, 0.3]),
        ({"b": 0.4}, ["a", "b"], "auto", [0.0, 0.4]),
        ([0.1, 0.9], ["a", "b"], "auto", [0.1, 0.9]),
        # not all ten sensors: "auto" takes no column for a steel sensor
        ("table", ["vibration", "a"], "auto", [0.2, 0.2]),
        ("table", ["vibration", "a"], "steel", [0.30 * 0.2 / TABLE_MEAN, 0.2]),
        ("table", ["vibration", "a"], None, [0.2, 0.2]),
        # a ColumnTransformer prefix is seen through when unambiguous ...
        ("table", ["remainder__vibration"], "steel", [0.30 * 0.2 / TABLE_MEAN]),
        # ... but not when two columns claim the same sensor
        ("table", ["a__vibration", "b__vibration"], "steel", [0.2, 0.2]),
        # an exact name wins over a prefixed one
        (
            "table",
            ["vibration", "x__vibration"],
            "steel",
            [0.30 * 0.2 / TABLE_MEAN, 0.2],
        ),
    ],
)
def test_failure_rates_specs(spec, columns, sensors, expected):
    """Check each kind of spec, and which columns count as sensors."""
    rates = failure_rates(spec, columns=columns, sensors=sensors)
    assert list(rates.index) == columns
    np.testing.assert_allclose(rates, expected)


def test_failure_rates_user_table():
    """Check that a user table (with a ``name`` column) gives its own rates,
    scaled to ``p_base`` over its sensors, and that a bad table is refused."""
    table = pd.DataFrame(
        {
            "name": ["speed", "torque"],
            "low": [0, 1],
            "high": [1, 2],
            "failure_probability": [0.1, 0.3],
        }
    )
    rates = failure_rates(columns=["torque", "speed", "other"], sensors=table)
    np.testing.assert_allclose(rates, [0.3, 0.1, 0.2])
    with pytest.raises(ValueError, match="lacks the column"):
        failure_rates(sensors=table.drop(columns="high"))
    with pytest.raises(ValueError, match="failure_probability` in"):
        failure_rates(sensors=table.assign(failure_probability=[0.1, 2.0]))


@pytest.mark.parametrize(
    "spec, match",
    [
        ({"speed": 0.1}, r"got failure rates for \['speed'\]"),
        ([0.1, 0.2], r"shape \(2,\)"),
        ({"vibration": 1.5}, "1.5"),
    ],
)
def test_failure_rates_bad_specs(spec, match):
    """Check that specs that do not fit the columns are clear errors."""
    with pytest.raises(ValueError, match=match):
        failure_rates(spec)


@pytest.mark.parametrize(
    "columns, params",
    [
        (list(SENSOR_NAMES[::-1]), {"failure_rates": "table", "p_base": 0.3}),
        (list(SENSOR_NAMES[:4]) + ["extra"], {"failure_rates": "table"}),
        (
            list(SENSOR_NAMES[:4]) + ["extra"],
            {"failure_rates": "table", "sensors": "steel"},
        ),
        (["a", "b", "c"], {"failure_rates": {"b": 0.5}}),
        (["a", "b", "c"], {"failure_rates": [0.1, 0.2, 0.3]}),
        (["a", "remainder__vibration"], {"failure_rates": 0.25, "sensors": "steel"}),
    ],
)
def test_same_spec_same_rates_everywhere(columns, params):
    """Check that SensorFailure, ModalityDropout and SteelNetClassifier
    resolve the same spec to the same ``failure_rates_`` and sensor table as
    :func:`failure_rates`."""
    X = _frame(columns)
    expected = failure_rates(
        params["failure_rates"],
        columns=columns,
        p_base=params.get("p_base", 0.2),
        sensors=params.get("sensors", "auto"),
    )
    tables = []
    for kind in ("SensorFailure", "ModalityDropout", "SteelNetClassifier"):
        rates, table = _resolved(kind, X, **params)
        np.testing.assert_allclose(rates, expected, err_msg=kind)
        tables.append(table)
    for table in tables[1:]:
        if tables[0] is None:
            assert table is None
        else:
            pd.testing.assert_frame_equal(table, tables[0])


def test_failure_rates_auto():
    """Check that ``"auto"`` is ``"table"`` when a sensor table applies and
    0 for every column otherwise, and that another string is an error."""
    steel = failure_rates("auto", p_base=0.3)
    pd.testing.assert_series_equal(steel, failure_rates("table", p_base=0.3))
    other = failure_rates("auto", columns=["a", "b"], p_base=0.3)
    assert other.tolist() == [0.0, 0.0]
    assert failure_rates("table", columns=["a", "b"]).tolist() == [0.2, 0.2]
    with pytest.raises(ValueError, match="'table' or 'auto'"):
        failure_rates("tabel")
