"""Tests of SteelNetPipeline.recommend: setpoints in the raw input space."""

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import Ridge
from sklearn.preprocessing import StandardScaler

from sksteel.datasets import SENSORS, make_steelnet_dataset
from sksteel.pipeline import make_pipeline
from sksteel.recommend import SetpointRecommender


@pytest.fixture(scope="module")
def fitted():
    """A pipeline with a preprocessing step in front of a classifier, and rows."""
    data = make_steelnet_dataset(n_normal=300, n_per_class=60, random_state=0)
    X, y = data.data, data.target
    pipe = make_pipeline(
        StandardScaler().set_output(transform="pandas"),
        HistGradientBoostingClassifier(max_iter=30, random_state=0),
    ).fit(X, y)
    defects = X[(y != 0).to_numpy()].head(6).copy()
    defects.iloc[0, 1] = np.nan  # a failed sensor
    defects.iloc[2, [0, 6]] = np.nan
    return pipe, X, y, defects


def test_recommend_equals_the_recommender_on_the_pipeline(fitted):
    """Check that pipe.recommend is the recommender with the whole pipeline
    as its estimator, keyword arguments passed through."""
    pipe, X, y, defects = fitted
    params = {"max_changes": 2, "n_alternatives": 2, "random_state": 0}
    result = pipe.recommend(defects, X, y, **params)
    expected = SetpointRecommender(pipe, **params).fit(X, y).recommend(defects)
    pd.testing.assert_frame_equal(result.setpoints, expected.setpoints)
    pd.testing.assert_frame_equal(result.changes, expected.changes)
    for key in ("probability_after", "valid", "reason", "n_changes"):
        np.testing.assert_array_equal(result[key], expected[key])
    assert result.n_changes.max() <= 2
    assert result.valid.any()


def test_recommend_searches_in_raw_units(fitted):
    """Check that the setpoints are raw readings: bounds come from the sensor
    table by raw name, and the pipeline scores them as reported."""
    pipe, X, y, defects = fitted
    result = pipe.recommend(defects, X, y, random_state=0)
    recommender = result.recommender
    assert list(recommender.feature_names_in_) == list(X.columns)
    np.testing.assert_array_equal(
        recommender.bounds_,
        SENSORS.loc[X.columns, ["feasible_low", "feasible_high"]].to_numpy(float),
    )
    target = list(pipe.classes_).index(0)
    np.testing.assert_allclose(
        pipe.predict_proba(result.setpoints)[:, target], result.probability_after
    )
    changed = result.changes.to_numpy() != 0
    assert changed.any()
    # Every setpoint lies within its feasible bounds, in engineering units.
    points = result.setpoints.to_numpy()
    low, high = recommender.bounds_[:, 0], recommender.bounds_[:, 1]
    assert ((points >= low) | np.isnan(points)).all()
    assert ((points <= high) | np.isnan(points)).all()


def test_recommend_leaves_missing_readings_untouched(fitted):
    """Check that a NaN reading stays NaN, with a change of 0."""
    pipe, X, y, defects = fitted
    result = pipe.recommend(defects, X, y, random_state=0)
    gone = defects.isna().to_numpy()
    assert gone.sum() == 3
    assert result.setpoints.isna().to_numpy()[gone].all()
    assert (result.changes.to_numpy()[gone] == 0).all()


def test_recommend_needs_a_classifier():
    """Check that a pipeline ending in a regressor has no recommend."""
    X = np.arange(20.0).reshape(10, 2)
    pipe = make_pipeline(StandardScaler(), Ridge()).fit(X, X[:, 0])
    assert not hasattr(pipe, "recommend")
