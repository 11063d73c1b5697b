"""Tests of SetpointRecommender: the rules it keeps, its reasons, its errors."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LinearRegression
from sklearn.utils._param_validation import InvalidParameterError
from threadpoolctl import threadpool_limits

from sksteel.datasets import SENSORS, make_steelnet_dataset
from sksteel.recommend import SetpointRecommender


@pytest.fixture(autouse=True, scope="module")
def one_openmp_thread():
    """Run HistGradientBoosting on one OpenMP thread: its many small
    predict_proba calls slow down badly when threads contend for the
    shared cores."""
    with threadpool_limits(1):
        yield


def _toy(rule, n=600, seed=0):
    """Columns a, b, h uniform in [0, 10]; "bad" where ``rule`` holds."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.uniform(0, 10, (n, 3)), columns=["a", "b", "h"])
    y = np.where(rule(X), "bad", "good")
    model = HistGradientBoostingClassifier(random_state=0).fit(X, y)
    return X, y, model


def _recommender(model, **params):
    params = {
        "target": "good",
        "actionable": ["a", "b"],
        "bounds": {"a": (0, 10), "b": (0, 10), "h": (0, 10)},
        **params,
    }
    return SetpointRecommender(model, **params)


@pytest.fixture(scope="module")
def toy_a():
    """Bad where a > 5: moving a below 5 fixes every bad row."""
    return _toy(lambda X: X["a"] > 5)


def test_valid_on_simple_case(toy_a):
    """Check that every bad row is fixed by lowering a alone, and that the
    estimator agrees with the reported probability."""
    X, y, model = toy_a
    rec = _recommender(model).fit(X, y)
    rows = pd.DataFrame({"a": [6.5, 8.0, 9.5], "b": [2.0, 5.0, 8.0], "h": 3.0})
    result = rec.recommend(rows)
    assert result.valid.all() and (result.reason == "").all()
    assert (result.setpoints["a"] <= 5.5).all()
    assert (result.changes[["b", "h"]] == 0).all().all()
    assert (result.n_changes == 1).all()
    proba = model.predict_proba(result.setpoints)[:, list(model.classes_).index("good")]
    np.testing.assert_allclose(proba, result.probability_after)
    assert (result.probability_before < 0.5).all()


def test_already_target_and_no_readings(toy_a):
    """Check that a good row is returned unchanged and valid, and that an
    all-NaN row gets "no readings"."""
    X, y, model = toy_a
    rec = _recommender(model).fit(X, y)
    rows = pd.DataFrame({"a": [1.0, np.nan], "b": [2.0, np.nan], "h": [3.0, np.nan]})
    result = rec.recommend(rows)
    assert list(result.reason) == ["already 'good'", "no readings"]
    assert list(result.valid) == [True, False]
    assert (result.changes == 0).all().all()
    assert result.setpoints.iloc[1].isna().all()


def test_nan_is_never_changed():
    """Check that a missing reading stays NaN even when changing it would
    help, and that another column is changed instead."""
    X, y, model = _toy(lambda X: (X["a"] > 5) | (X["b"] > 5))
    X.iloc[::7, 0] = np.nan
    rec = _recommender(model).fit(X, y)
    rows = pd.DataFrame({"a": [np.nan, np.nan, 8.0], "b": [8.0, 2.0, np.nan], "h": 1.0})
    result = rec.recommend(rows)
    np.testing.assert_array_equal(result.setpoints.isna(), rows.isna())
    assert (result.changes.to_numpy()[rows.isna().to_numpy()] == 0).all()


def test_non_actionable_never_changes():
    """Check that a defect driven by a non-actionable column gets no change
    and names that column as the driver."""
    X, y, model = _toy(lambda X: X["h"] > 5)
    rec = _recommender(model).fit(X, y)
    rows = pd.DataFrame({"a": [3.0, 7.0], "b": [3.0, 7.0], "h": [8.0, 9.0]})
    result = rec.recommend(rows)
    assert not result.valid.any()
    assert list(result.reason) == ["drivers not actionable: h"] * 2
    pd.testing.assert_frame_equal(result.setpoints, rows)


def test_bounds_are_respected(toy_a):
    """Check that changed values stay within bounds, and that bounds that
    forbid every fix give the general reason."""
    X, y, model = toy_a
    rows = pd.DataFrame({"a": [8.0, 9.0], "b": [3.0, 4.0], "h": 1.0})
    rec = _recommender(model, bounds={"a": (4.0, 10.0)}).fit(X, y)
    result = rec.recommend(rows)
    assert result.valid.all() and (result.setpoints["a"] >= 4.0).all()
    rec = _recommender(model, bounds={"a": (6.0, 10.0)}).fit(X, y)
    result = rec.recommend(rows)
    assert not result.valid.any()
    assert (
        list(result.reason)
        == ["no change of <= 3 sensors within bounds reaches 'good'"] * 2
    )
    pd.testing.assert_frame_equal(result.setpoints, rows)


def test_alternatives_are_different_minimal_sets():
    """Check that the second alternative changes another column when
    another column fixes the row too, and is not the first plus more."""
    X, y, model = _toy(lambda X: (X["a"] > 5) & (X["b"] > 5))
    rec = _recommender(model, n_alternatives=2).fit(X, y)
    result = rec.recommend(pd.DataFrame({"a": [8.0], "b": [8.0], "h": 1.0}))
    assert list(result.row) == [0, 0] and list(result.alternative) == [0, 1]
    assert result.valid.all()
    changed = [set(result.changes.columns[result.changes.iloc[k] != 0]) for k in (0, 1)]
    assert changed[0] != changed[1] and not (changed[0] & changed[1])


def test_same_random_state_same_result():
    """Check that two fits with one random_state (reference subsampled)
    give identical recommendations and plausibility."""
    X, y, model = _toy(lambda X: X["a"] > 5, n=4500)
    rows = X.iloc[:40]
    first = _recommender(model, random_state=0).fit(X, y).recommend(rows)
    second = _recommender(model, random_state=0).fit(X, y).recommend(rows)
    pd.testing.assert_frame_equal(first.setpoints, second.setpoints)
    np.testing.assert_array_equal(first.plausible, second.plausible)
    other = _recommender(model, random_state=1).fit(X, y)
    assert not np.array_equal(
        other.reference_, _recommender(model, random_state=0).fit(X, y).reference_
    )


@pytest.fixture(scope="module")
def steel():
    data = make_steelnet_dataset(n_normal=400, n_per_class=80, random_state=0)
    X, y = data.data, data.target
    model = HistGradientBoostingClassifier(max_iter=60, random_state=0).fit(X, y)
    return X, y, model


def test_histgradientboosting_on_steelnet_data(steel):
    """Check the rules with the sensor table on a model of the SteelNet data:
    humidity and NaN untouched, table bounds kept, probabilities honest."""
    X, y, model = steel
    rec = SetpointRecommender(model, random_state=0).fit(X, y)
    rows = X[(y > 0).to_numpy() & (model.predict(X) > 0)].iloc[::4].copy()
    rows.iloc[::3, 4] = np.nan  # curing temperature failed
    result = rec.recommend(rows)
    assert result.valid.mean() > 0.5
    assert (result.changes["ambient_humidity"] == 0).all()
    np.testing.assert_array_equal(result.setpoints.isna(), rows.isna())
    low, high = SENSORS["feasible_low"], SENSORS["feasible_high"]
    inside = (
        result.setpoints.ge(low) & result.setpoints.le(high) | result.setpoints.isna()
    )
    assert inside.all().all()
    assert (result.n_changes[result.valid] <= 3).all()
    after = model.predict_proba(result.setpoints)[:, 0]
    np.testing.assert_allclose(after, result.probability_after)
    assert (after[result.valid] >= 0.5).all()
    failed = result.reason[~result.valid]
    assert all(r.startswith(("drivers not actionable", "no change")) for r in failed)


def test_changes_point_to_true_causes(steel):
    """Check that on inclusion and patches rows (all drivers but
    cleanliness-on-patches actionable) the changed sensors are mostly the
    ones the generator deviated for the class, and that each changed value
    is one seen in normal rows."""
    X, y, model = steel
    rec = SetpointRecommender(model, max_changes=2, random_state=0).fit(X, y)
    normal = X[(y == 0).to_numpy()]
    prior = make_steelnet_dataset(n_normal=10, n_per_class=2).attribution_prior
    for label in (2, 3):
        rows = X[(y == label).to_numpy() & (model.predict(X) > 0)].iloc[:12]
        result = rec.recommend(rows)
        assert result.valid.mean() >= 0.75
        changed = result.changes.to_numpy()[result.valid] != 0
        causes = prior.loc[label, list(X.columns)].to_numpy() > 0
        assert (changed & causes).sum() / changed.sum() >= 0.8
        setpoints = result.setpoints.to_numpy()[result.valid]
        for j in np.flatnonzero(changed.any(axis=0)):
            values = setpoints[changed[:, j], j]
            assert np.isin(values, normal.iloc[:, j].to_numpy()).all()


@pytest.mark.parametrize(
    "params, match",
    [
        ({"target": "rust"}, "does not know the target class 'rust'"),
        (
            {"actionable": ["spray_pressure", "colour"]},
            r"unknown column\(s\) \['colour'\]",
        ),
        ({"bounds": {"colour": (0, 1)}}, r"unknown column\(s\) \['colour'\]"),
        ({"bounds": {"vibration": (5, 1)}}, "bounds of column 'vibration' are"),
    ],
)
def test_bad_parameters(steel, params, match):
    X, y, model = steel
    with pytest.raises(ValueError, match=match):
        SetpointRecommender(model, **params).fit(X)


def test_estimator_without_predict_proba(steel):
    X, y, _ = steel
    with pytest.raises(InvalidParameterError, match="predict_proba"):
        SetpointRecommender(LinearRegression().fit(X.fillna(0), y)).fit(X)


def test_table_needs_sensor_columns(steel):
    X, y, model = steel
    with pytest.raises(ValueError, match=r"\['extra'\] are not sensors"):
        SetpointRecommender(model).fit(X.assign(extra=1.0))


def test_reading_outside_bounds_and_infinity(steel):
    X, y, model = steel
    rec = SetpointRecommender(model).fit(X, y)
    rows = X.iloc[:3].copy()
    rows.iloc[1, 2] = 9.0  # spray pressure, feasible 0.5 - 6 bar
    with pytest.raises(ValueError, match=r"9.0 of column 'spray_pressure' at row 1"):
        rec.recommend(rows)
    rows.iloc[1, 2] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        rec.recommend(rows)


def test_clone_keeps_parameters(toy_a):
    _, _, model = toy_a
    rec = _recommender(model, max_changes=2, threshold=0.7)
    assert clone(rec).get_params()["max_changes"] == 2


def test_require_plausible_keeps_only_plausible_points(steel):
    """Check that with require_plausible every valid recommendation is
    plausible, while without it some valid ones are not (on the same rows)."""
    X, y, model = steel
    rows = X[(y == 2).to_numpy() & (model.predict(X) > 0)].iloc[:15]
    loose = SetpointRecommender(model, random_state=0).fit(X, y).recommend(rows)
    assert (loose.valid & ~loose.plausible).any()
    strict = SetpointRecommender(model, require_plausible=True, random_state=0)
    result = strict.fit(X, y).recommend(rows)
    assert result.valid.any()
    assert result.plausible[result.valid].all()
    failed = result.reason[~result.valid]
    assert all(r.startswith(("drivers not actionable", "no change")) for r in failed)
