"""Tests of the explanation faithfulness metrics."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier

from sksteel.inspection import shapley_values
from sksteel.metrics import (
    deletion_curve,
    explanation_comparison,
    randomisation_check,
    rank_agreement,
)
from sksteel.models import SteelNetClassifier

COLUMNS = ["a", "b", "c"]
WEIGHTS = np.array([0.3, 0.1, 0.05])


class LinearProba(ClassifierMixin, BaseEstimator):
    """P(class 1) = 0.5 + sum of weight * reading over the present readings."""

    def fit(self, X, y=None):
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = len(WEIGHTS)
        return self

    def predict_proba(self, X):
        p1 = 0.5 + np.nan_to_num(np.asarray(X, dtype=float)) @ WEIGHTS
        return np.column_stack([1 - p1, p1])


@pytest.fixture(scope="module")
def linear():
    return LinearProba().fit(None)


def test_deletion_curve_matches_hand_computation(linear):
    """Check the drops of a linear model, for a good and a reversed ranking."""
    X = pd.DataFrame([[1.0, 1.0, 1.0]], columns=COLUMNS)
    good = deletion_curve(linear, X, pd.DataFrame([[3, 2, 1]], columns=COLUMNS))
    np.testing.assert_allclose(good.drops[0], [0.0, 0.3, 0.4, 0.45])
    assert good.area == pytest.approx((0.3 + 0.4 + 0.45) / 3)
    bad = deletion_curve(linear, X, np.array([[1, 2, 3]]))
    np.testing.assert_allclose(bad.drops[0], [0.0, 0.05, 0.15, 0.45])
    assert bad.area < good.area
    np.testing.assert_array_equal(good.k, [0, 1, 2, 3])


def test_deletion_curve_explains_predicted_class(linear):
    """Check that the explained output is the predicted class's probability:
    a row predicted 0 (p1 = 0.2) drops as its readings push p0 down."""
    X = np.array([[-1.0, 0.0, 0.0]])  # p1 = 0.2, predicted class 0, p0 = 0.8
    curve = deletion_curve(linear, X, np.array([[1.0, 0.0, 0.0]]))
    np.testing.assert_allclose(curve.drops[0], [0.0, 0.3, 0.3, 0.3])
    fixed = deletion_curve(linear, X, np.array([[1.0, 0.0, 0.0]]), target=1)
    np.testing.assert_allclose(fixed.drops[0], [0.0, -0.3, -0.3, -0.3])


def test_deletion_curve_never_deletes_missing_readings(linear):
    """Check that a missing reading is skipped even when ranked first, and
    that one global ranking applies to every row."""
    X = pd.DataFrame([[np.nan, 1.0, 1.0], [1.0, 1.0, 1.0]], columns=COLUMNS)
    curve = deletion_curve(linear, X, pd.Series([3.0, 2.0, 1.0], index=COLUMNS))
    np.testing.assert_allclose(curve.drops[0], [0.0, 0.1, 0.15, 0.15])
    np.testing.assert_allclose(curve.drops[1], [0.0, 0.3, 0.4, 0.45])
    np.testing.assert_allclose(curve.drop_mean, curve.drops.mean(axis=0))


def test_deletion_curve_bad_attributions(linear):
    """Check that wrongly shaped or non-finite attributions are refused."""
    X = np.ones((2, 3))
    with pytest.raises(ValueError, match="one row per row"):
        deletion_curve(linear, X, np.ones((3, 3)))
    with pytest.raises(ValueError, match="finite"):
        deletion_curve(linear, X, np.full((2, 3), np.nan))
    with pytest.raises(ValueError, match="`target` must be one of"):
        deletion_curve(linear, X, np.ones((2, 3)), target=7)


def test_shapley_deletion_beats_random_on_linear_model(linear):
    """Check that on the linear model the Shapley ranking is the optimal one
    (area equals the hand-sorted ranking's), above a random ranking."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.uniform(0, 1, size=(30, 3)), columns=COLUMNS)
    values = shapley_values(linear, X).values
    # For this additive model the Shapley value is weight * reading.
    np.testing.assert_allclose(values, X.to_numpy() * WEIGHTS, atol=1e-12)
    shapley = deletion_curve(linear, X, values).area
    random = deletion_curve(linear, X, rng.random((30, 3))).area
    assert shapley > random


def test_rank_agreement_by_hand():
    """Check Spearman and top-k overlap on hand-made rows, the defective
    filter and constant rows."""
    prior = pd.DataFrame(
        [[1 / 3] * 3, [0.6, 0.3, 0.1], [0.1, 0.3, 0.6]], index=[0, 1, 2],
        columns=COLUMNS,
    )
    attributions = pd.DataFrame(
        [[5.0, 0.0, 0.0], [3.0, 2.0, 1.0], [3.0, 2.0, 1.0], [1.0, 1.0, 1.0]],
        columns=["c", "b", "a"],  # matched by name: rows read a=1, b=2, c=3
    )
    y = [0, 2, 1, 1]
    agreement = rank_agreement(attributions, y, prior, k=2)
    assert list(agreement.per_row.index) == [1, 2, 3]
    np.testing.assert_allclose(agreement.per_row["spearman"].iloc[:2], [1.0, -1.0])
    assert np.isnan(agreement.per_row["spearman"].iloc[2])
    assert agreement.spearman == pytest.approx(0.0)
    np.testing.assert_allclose(agreement.per_row["top_k_overlap"], [1.0, 0.5, 1.0])
    every = rank_agreement(attributions, y, prior, defective_only=False)
    assert len(every.per_row) == 4


def test_rank_agreement_bad_input():
    """Check the errors for a class without a prior row and a length mismatch."""
    prior = pd.DataFrame([[0.5, 0.5]], index=[1], columns=["a", "b"])
    with pytest.raises(ValueError, match="without a row"):
        rank_agreement(np.ones((1, 2)), [3], prior)
    with pytest.raises(ValueError, match="same number of rows"):
        rank_agreement(np.ones((2, 2)), [1], prior)


@pytest.fixture(scope="module")
def steelnet_data():
    X, y = make_classification(
        n_samples=200, n_features=5, n_informative=4, n_redundant=0,
        n_classes=3, random_state=0,
    )
    X = pd.DataFrame(X, columns=list("vwxyz"))
    X = X.mask(np.random.default_rng(0).random(X.shape) < 0.1)
    model = SteelNetClassifier(
        hidden_layer_sizes=(16,), d_token=4, max_epochs=15, lr=1e-2,
        random_state=0,
    ).fit(X, y)
    return model, X, y


def test_randomisation_check_separates_model_from_data(steelnet_data):
    """Check that Shapley values change when the weights are re-drawn, and
    that a method ignoring the model is caught (identical explanations)."""
    model, X, _ = steelnet_data
    rows = X.iloc[:20]
    check = randomisation_check(model, rows, random_state=0)
    assert check.distance > 0.5
    assert check.spearman < 0.9
    # The re-initialised copy predicts differently; the original is untouched.
    np.testing.assert_array_equal(
        check.original.to_numpy(), model.explain(rows).to_numpy()
    )

    def data_only(estimator, X):
        return np.abs(np.nan_to_num(np.asarray(X, dtype=float)))

    blind = randomisation_check(model, rows, method=data_only, random_state=0)
    assert blind.distance == 0.0
    assert blind.spearman == pytest.approx(1.0)


def test_randomisation_check_needs_a_network():
    """Check that a model without a torch network is refused clearly."""
    X, y = make_classification(n_samples=50, n_features=3, n_informative=2,
                               n_redundant=0, random_state=0)
    model = HistGradientBoostingClassifier(max_iter=5).fit(X, y)
    with pytest.raises(ValueError, match="net_.module_"):
        randomisation_check(model, X[:3])


def test_explanation_comparison_table(steelnet_data):
    """Check the comparison table's shape and that, on a model trained to
    use its readings, Shapley deletion is steeper than random deletion."""
    model, X, y = steelnet_data
    prior = pd.DataFrame(
        np.full((3, 5), 0.2), index=[0, 1, 2], columns=list("vwxyz")
    )
    prior.iloc[1:, :2] = [0.5, 0.3]
    rows, labels = X.iloc[100:160], y[100:160]
    comparison = explanation_comparison(
        model, rows, labels, attribution_prior=prior, n_repeats=2, random_state=0
    )
    table = comparison.table
    assert list(table.index) == ["shapley", "head", "permutation", "random"]
    assert table.loc["shapley", "deletion_area"] > table.loc["random", "deletion_area"]
    assert table.loc[["shapley", "head"], "randomised_distance"].notna().all()
    assert table.loc[["permutation", "random"], "randomised_distance"].isna().all()
    assert table[["spearman", "top_k_overlap"]].notna().all().all()
    again = explanation_comparison(
        model, rows, labels, attribution_prior=prior, n_repeats=2, random_state=0
    )
    pd.testing.assert_frame_equal(table, again.table)
    with pytest.raises(ValueError, match="`methods` must be among"):
        explanation_comparison(model, rows, labels, methods=["lime"])
