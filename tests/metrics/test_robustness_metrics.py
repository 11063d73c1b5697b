"""Tests of robustness_curve and robustness_auc."""

import numpy as np
import pandas as pd
import pytest
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.impute import SimpleImputer
from sklearn.metrics import accuracy_score, make_scorer
from sklearn.pipeline import make_pipeline
from sklearn.tree import DecisionTreeClassifier

from sksteel._schema import SENSOR_NAMES
from sksteel.metrics import robustness_auc, robustness_curve


@pytest.fixture(scope="module")
def sensor_data():
    """A linear three-class problem over the ten sensor columns."""
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.normal(size=(400, 10)), columns=list(SENSOR_NAMES))
    y = X.iloc[:, :3].to_numpy().argmax(axis=1)
    return X, y


@pytest.fixture(scope="module")
def lda(sensor_data):
    """An LDA pipeline with mean imputation, fitted on clean data."""
    X, y = sensor_data
    return make_pipeline(SimpleImputer(), LinearDiscriminantAnalysis()).fit(X, y)


def test_robustness_curve_shapes_and_clean_score(sensor_data, lda):
    """Check the result's shapes and that rate 0 scores the clean data."""
    X, y = sensor_data
    curve = robustness_curve(
        lda, X, y, [0.0, 0.2, 0.5], scoring=["accuracy", "f1_macro"],
        n_repeats=3, random_state=0,
    )
    assert sorted(curve.scores) == ["accuracy", "f1_macro"]
    assert curve.scores["accuracy"].shape == (3, 3)
    np.testing.assert_allclose(curve.scores["accuracy"][0], lda.score(X, y))
    np.testing.assert_allclose(curve.scores_std["accuracy"][0], 0.0)
    assert curve.rates.tolist() == [0.0, 0.2, 0.5]


@pytest.mark.parametrize("mode", ["uniform", "table"])
def test_robustness_curve_decreases_with_rate(sensor_data, lda, mode):
    """Check that more missing readings cost accuracy, in both modes."""
    X, y = sensor_data
    curve = robustness_curve(lda, X, y, mode=mode, n_repeats=3, random_state=0)
    mean = curve.scores_mean["accuracy"]
    assert mean[0] > mean[2] > mean[-1]
    assert mean[-1] > 1 / 3  # still better than chance at 50 %


def test_robustness_curve_is_deterministic(sensor_data):
    """Check that the same `random_state` gives the same scores, another does not."""
    X, y = sensor_data
    model = DecisionTreeClassifier(max_depth=6, random_state=0).fit(X, y)
    runs = [
        robustness_curve(model, X, y, [0.3], n_repeats=2, random_state=seed)
        for seed in (1, 1, 2)
    ]
    first, same, other = (run.scores["accuracy"] for run in runs)
    np.testing.assert_array_equal(first, same)
    assert not np.array_equal(first, other)


def test_robustness_curve_callable_scoring(sensor_data, lda):
    """Check that a single callable scorer is reported under 'score'."""
    X, y = sensor_data
    curve = robustness_curve(
        lda, X, y, [0.0], scoring=make_scorer(accuracy_score), n_repeats=1
    )
    assert list(curve.scores) == ["score"]
    assert curve.auc["score"] == pytest.approx(lda.score(X, y))


@pytest.mark.parametrize(
    "rates, match",
    [([], "non-empty"), ([0.0, 1.5], r"in \[0, 1\]"), ([0.2, 0.1], "increasing")],
)
def test_robustness_curve_rejects_bad_rates(sensor_data, lda, rates, match):
    """Check that empty, out-of-range and unsorted rates are refused."""
    X, y = sensor_data
    with pytest.raises(ValueError, match=match):
        robustness_curve(lda, X, y, rates)


@pytest.mark.parametrize(
    "rates, scores, expected",
    [
        ([0.0, 0.5], [0.8, 0.8], 0.8),
        ([0.0, 1.0], [1.0, 0.0], 0.5),
        ([0.3], [0.7], 0.7),
        ([0.0, 0.1, 0.2, 0.3, 0.5], [0.892, 0.874, 0.851, 0.823, 0.768], 0.8347),
    ],
)
def test_robustness_auc_is_the_mean_score(rates, scores, expected):
    """Check that the normalised area is the trapezoid mean of the curve."""
    assert robustness_auc(rates, scores) == pytest.approx(expected)


def test_robustness_auc_rejects_mismatched_lengths():
    """Check that rates and scores of different lengths are refused."""
    with pytest.raises(ValueError, match="same length"):
        robustness_auc([0.0, 0.1], [0.9])
