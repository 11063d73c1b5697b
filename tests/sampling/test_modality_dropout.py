"""Tests of ModalityDropout, the training-time sensor-failure sampler."""

import numpy as np
import pandas as pd
import pytest
from imblearn.pipeline import Pipeline
from imblearn.utils.estimator_checks import (
    check_dataframe_column_names_consistency,
    check_param_validation,
)
from sklearn.base import BaseEstimator, ClassifierMixin

from sksteel._schema import SENSOR_NAMES
from sksteel.datasets import failure_rates
from sksteel.sampling import ModalityDropout

N_ROWS = 100_000


def _sensor_frame(n_rows, seed=0):
    rng = np.random.RandomState(seed)
    return pd.DataFrame(rng.uniform(1.0, 2.0, (n_rows, 10)), columns=SENSOR_NAMES)


@pytest.fixture(scope="module")
def large_frame():
    return _sensor_frame(N_ROWS), np.arange(N_ROWS) % 5


@pytest.mark.parametrize(
    "imblearn_check",
    [check_param_validation, check_dataframe_column_names_consistency],
)
def test_modality_dropout_imblearn_extra_checks(imblearn_check):
    """Check that parameters are validated and column names kept consistent,
    as imbalanced-learn checks its own samplers."""
    sampler = ModalityDropout(failure_rates=0.2, random_state=0)
    imblearn_check("ModalityDropout", sampler)


@pytest.mark.parametrize(
    "rates, expected",
    [
        ("table", failure_rates(p_base=0.2)),
        (np.linspace(0, 0.9, 10), pd.Series(np.linspace(0, 0.9, 10), SENSOR_NAMES)),
        (0.35, pd.Series(0.35, index=SENSOR_NAMES)),
        (
            {"vibration": 0.5, "curing_time": 0.05},
            pd.Series(0.0, index=SENSOR_NAMES).add(
                pd.Series({"vibration": 0.5, "curing_time": 0.05}), fill_value=0.0
            ),
        ),
    ],
)
def test_modality_dropout_measured_rates(large_frame, rates, expected):
    """Check that each sensor goes missing at its configured rate, within one
    percentage point on 100,000 rows."""
    X, y = large_frame
    X_res, _ = ModalityDropout(rates, random_state=0).fit_resample(X, y)
    measured = X_res.isna().mean()
    np.testing.assert_allclose(measured, expected[X.columns], atol=0.01)


def test_modality_dropout_p_base_scales_table(large_frame):
    """Check that ``p_base`` sets the mean of the table's rates."""
    X, y = large_frame
    sampler = ModalityDropout(p_base=0.4, random_state=0)
    X_res, _ = sampler.fit_resample(X, y)
    np.testing.assert_allclose(sampler.failure_rates_, failure_rates(p_base=0.4))
    assert X_res.isna().to_numpy().mean() == pytest.approx(0.4, abs=0.005)


def test_modality_dropout_table_matches_columns_by_name():
    """Check that the table's rates follow the columns by name, whatever
    their order, and, with ``sensors="steel"``, for a subset."""
    X = _sensor_frame(10)[["vibration", "curing_time"]]
    sampler = ModalityDropout(sensors="steel", random_state=0)
    sampler.fit_resample(X, np.arange(10) % 2)
    np.testing.assert_allclose(
        sampler.failure_rates_, failure_rates(p_base=0.2)[["vibration", "curing_time"]]
    )
    shuffled = _sensor_frame(10)[list(SENSOR_NAMES[::-1])]
    sampler = ModalityDropout(random_state=0)
    sampler.fit_resample(shuffled, np.arange(10) % 2)
    np.testing.assert_allclose(
        sampler.failure_rates_, failure_rates(p_base=0.2)[list(SENSOR_NAMES[::-1])]
    )
    assert list(sampler.sensor_table_.index) == list(SENSOR_NAMES[::-1])


def test_modality_dropout_table_by_position_for_arrays():
    """Check that an array of ten unnamed columns gets the table in order."""
    X = _sensor_frame(20).to_numpy()
    sampler = ModalityDropout(random_state=0)
    X_res, _ = sampler.fit_resample(X, np.arange(20) % 2)
    assert isinstance(X_res, np.ndarray)
    np.testing.assert_allclose(sampler.failure_rates_, failure_rates(p_base=0.2))


def test_modality_dropout_preserves_rows_and_values():
    """Check that rows keep their order and that kept readings are unchanged."""
    X = _sensor_frame(500)
    y = pd.Series(np.arange(500) % 3, name="defect_class")
    X_res, y_res = ModalityDropout(random_state=0).fit_resample(X, y)
    assert X_res.index.equals(X.index) and list(X_res.columns) == list(X.columns)
    pd.testing.assert_series_equal(y_res, y)
    kept = X_res.notna()
    assert (X_res[kept] == X[kept]).sum().sum() == kept.sum().sum()
    assert X_res.isna().any().any()


@pytest.mark.parametrize("n_copies", [1, 3])
def test_modality_dropout_copies(n_copies):
    """Check that ``n_copies`` keeps the original rows untouched and appends
    that many corrupted copies of them."""
    X = _sensor_frame(200).to_numpy()
    y = np.arange(200) % 2
    X_res, y_res = ModalityDropout(n_copies=n_copies, random_state=0).fit_resample(X, y)
    assert X_res.shape == ((n_copies + 1) * 200, 10)
    np.testing.assert_array_equal(X_res[:200], X)
    np.testing.assert_array_equal(y_res, np.tile(y, n_copies + 1))
    copies = X_res[200:]
    assert np.isnan(copies).mean() == pytest.approx(0.2, abs=0.03)
    np.testing.assert_array_equal(
        np.where(np.isnan(copies), 0, copies),
        np.where(np.isnan(copies), 0, np.tile(X, (n_copies, 1))),
    )


def test_modality_dropout_accepts_missing_readings():
    """Check that NaN input is accepted and stays NaN."""
    X = _sensor_frame(300)
    X.iloc[::3, 0] = np.nan
    X_res, _ = ModalityDropout(failure_rates=0.1, random_state=0).fit_resample(
        X, np.arange(300) % 2
    )
    assert X_res.iloc[::3, 0].isna().all()


def test_modality_dropout_rejects_infinite_readings():
    """Check that ``inf`` is an error (only NaN means missing)."""
    X = _sensor_frame(10)
    X.iloc[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        ModalityDropout().fit_resample(X, np.arange(10) % 2)


def test_modality_dropout_deterministic():
    """Check that an int ``random_state`` gives the same mask, and another
    seed a different one."""
    X, y = _sensor_frame(100), np.arange(100) % 2
    first, _ = ModalityDropout(random_state=1).fit_resample(X, y)
    again, _ = ModalityDropout(random_state=1).fit_resample(X, y)
    other, _ = ModalityDropout(random_state=2).fit_resample(X, y)
    pd.testing.assert_frame_equal(first, again)
    assert not first.isna().equals(other.isna())


@pytest.mark.parametrize(
    "rates, X, match",
    [
        ({"vibration": 0.2}, np.ones((10, 7)), "'vibration'"),
        ([0.1, 0.2], _sensor_frame(10), r"shape \(2,\)"),
        (np.full(10, 2.0), _sensor_frame(10), "2.0"),
        ({"speed": 0.2}, _sensor_frame(10), "'speed'"),
        ({"vibration": 1.5}, _sensor_frame(10), "1.5"),
    ],
)
def test_modality_dropout_bad_rates(rates, X, match):
    """Check that rates that do not fit the columns are clear errors."""
    with pytest.raises(ValueError, match=match):
        ModalityDropout(rates, random_state=0).fit_resample(X, np.arange(10) % 2)


@pytest.mark.parametrize("rates", [-0.1, 1.2, "uniform"])
def test_modality_dropout_invalid_parameter(rates):
    """Check that an out-of-range probability or unknown option is refused."""
    with pytest.raises(ValueError, match="The 'failure_rates' parameter"):
        ModalityDropout(rates).fit_resample(_sensor_frame(10), np.arange(10) % 2)


class _RecordingClassifier(ClassifierMixin, BaseEstimator):
    """Predicts the majority class; records how many NaN it saw."""

    def fit(self, X, y):
        self.nan_in_fit_ = int(np.isnan(np.asarray(X, dtype=float)).sum())
        self.classes_, counts = np.unique(y, return_counts=True)
        self.majority_ = self.classes_[counts.argmax()]
        return self

    def predict(self, X):
        self.nan_in_predict_ = int(np.isnan(np.asarray(X, dtype=float)).sum())
        return np.full(len(X), self.majority_)


def test_modality_dropout_acts_at_fit_time_only():
    """Check that, inside an imbalanced-learn pipeline, readings go missing
    while fitting and not while predicting."""
    X, y = _sensor_frame(1000), np.arange(1000) % 2
    pipe = Pipeline(
        [
            ("dropout", ModalityDropout(random_state=0)),
            ("model", _RecordingClassifier()),
        ]
    )
    pipe.fit(X, y)
    pipe.predict(X)
    model = pipe.named_steps["model"]
    assert model.nan_in_fit_ == pytest.approx(0.2 * X.size, rel=0.1)
    assert model.nan_in_predict_ == 0
    assert not X.isna().any().any()
