"""Tests of RecommendationDisplay: lanes, ranges, probabilities."""

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from sksteel.datasets import SENSORS, make_steelnet_dataset
from sksteel.plotting import RecommendationDisplay
from sksteel.recommend import SetpointRecommender

pytest.importorskip("matplotlib")


@pytest.fixture(autouse=True)
def _close_figures():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


@pytest.fixture(scope="module")
def fitted():
    with threadpool_limits(1):
        data = make_steelnet_dataset(n_normal=300, n_per_class=60, random_state=0)
        X, y = data.data, data.target
        model = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(X, y)
        recommender = SetpointRecommender(model, random_state=0).fit(X, y)
        rows = X[(y == 2).to_numpy() & (model.predict(X) == 2)].iloc[:3]
        yield recommender, rows, recommender.recommend(rows)


def test_from_recommendation_draws_changed_sensors(fitted):
    """Check that the display shows exactly the changed sensors, with the
    current and recommended values and the probabilities of the result."""
    recommender, rows, result = fitted
    display = RecommendationDisplay.from_recommendation(recommender, result, entry=1)
    changed = result.changes.columns[result.changes.iloc[1] != 0].tolist()
    assert display.sensors == changed
    np.testing.assert_allclose(display.current, rows.iloc[1][changed])
    np.testing.assert_allclose(display.recommended, result.setpoints.iloc[1][changed])
    assert len(display.arrows_) == len(changed)
    labels = [t.get_text() for t in display.ax_.get_yticklabels()]
    assert sorted(labels) == sorted(changed)
    title = display.ax_.get_title()
    assert f"{result.probability_before[1]:.2f}" in title
    assert f"{result.probability_after[1]:.2f}" in title
    bounds = SENSORS.loc[changed, ["feasible_low", "feasible_high"]].to_numpy()
    np.testing.assert_array_equal(display.feasible, bounds)


def test_lanes_are_scaled_to_feasible_range(fitted):
    """Check that an arrow runs from the current to the recommended value
    as a share of the feasible range."""
    recommender, rows, result = fitted
    display = RecommendationDisplay.from_recommendation(recommender, result)
    low, high = display.feasible[0]
    arrow = display.arrows_[0]
    start, end = arrow.xyann[0], arrow.xy[0]
    assert start == pytest.approx((display.current[0] - low) / (high - low))
    assert end == pytest.approx((display.recommended[0] - low) / (high - low))


def test_from_estimator_matches_from_recommendation(fitted):
    """Check that from_estimator recommends for the chosen row."""
    recommender, rows, result = fitted
    display = RecommendationDisplay.from_estimator(recommender, rows, row=2)
    expected = result.changes.columns[result.changes.iloc[2] != 0].tolist()
    assert display.sensors == expected
    assert display.probability_after == pytest.approx(result.probability_after[2])


def test_unbounded_and_unchanged():
    """Check that an unbounded lane spans the values, and that a row with
    no change is drawn with a note instead of lanes."""
    display = RecommendationDisplay(
        sensors=["a"], current=[1.0], recommended=[3.0],
        feasible=[(-np.inf, np.inf)],
    ).plot()
    x0, x1 = display.arrows_[0].xyann[0], display.arrows_[0].xy[0]
    assert 0.0 < x0 < x1 < 1.0
    empty = RecommendationDisplay(
        sensors=[], current=[], recommended=[], feasible=np.empty((0, 2)),
        probability_before=0.9,
    ).plot()
    assert empty.arrows_ == []
    assert "no change" in [t.get_text() for t in empty.ax_.texts]
    assert empty.ax_.get_title() == "P('none'): 0.90"


def test_plot_on_given_axes():
    """Check that plot draws on the axes it is given."""
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    display = RecommendationDisplay(
        sensors=["x"], current=[1.0], recommended=[2.0], feasible=[(0, 4)],
        normal=[(1.5, 2.5)],
    ).plot(ax=ax)
    assert display.ax_ is ax and display.figure_ is ax.figure
    assert len(ax.patches) >= 2  # feasible lane and normal band


def test_frame_input_kept(fitted):
    """Check that from_estimator takes a DataFrame row by position."""
    recommender, rows, _ = fitted
    frame = pd.DataFrame(rows.to_numpy(), columns=rows.columns, index=[7, 8, 9])
    display = RecommendationDisplay.from_estimator(recommender, frame, row=0)
    assert display.sensors
