"""Tests of SteelNetClassifier.explain's two methods and shapley_importance."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier

from sksteel._schema import SENSOR_NAMES
from sksteel.inspection import shapley_importance, shapley_values
from sksteel.models import SteelNetClassifier


@pytest.fixture(scope="module")
def sensors():
    X, y = make_classification(
        n_samples=150, n_features=10, n_informative=5, n_classes=3, random_state=3
    )
    X = pd.DataFrame(X, columns=list(SENSOR_NAMES))
    return X.mask(np.random.default_rng(3).random(X.shape) < 0.1), y


@pytest.fixture(scope="module")
def steelnet(sensors):
    X, y = sensors
    return SteelNetClassifier(
        hidden_layer_sizes=(16,), d_token=4, max_epochs=3, random_state=0
    ).fit(X, y)


def test_explain_default_is_shapley_of_predicted_class(steelnet, sensors):
    """Check that explain(X) is the Shapley values of each row's predicted
    class, in explain's frame contract (columns, index)."""
    X, _ = sensors
    rows = X.iloc[10:16]
    explained = steelnet.explain(rows)
    assert list(explained.columns) == list(SENSOR_NAMES)
    assert list(explained.index) == list(rows.index)
    reference = shapley_values(steelnet, rows)
    np.testing.assert_allclose(explained.to_numpy(), reference.values.to_numpy())
    proba = steelnet.predict_proba(rows).max(axis=1)
    np.testing.assert_allclose(
        explained.sum(axis=1) + reference.base_values, proba, atol=1e-6
    )
    missing = rows.isna().to_numpy()
    assert missing.any()
    assert (explained.to_numpy()[missing] == 0).all()


def test_explain_head_is_the_attribution_head(steelnet, sensors):
    """Check that method='head' gives rows summing to 1 whose class means
    are feature_attributions_ on the training data."""
    X, y = sensors
    head = steelnet.explain(X, method="head")
    np.testing.assert_allclose(head.sum(axis=1), 1.0, rtol=1e-5)
    assert (head.to_numpy() >= 0).all()
    np.testing.assert_allclose(
        steelnet.feature_attributions_, head.groupby(y).mean(), rtol=1e-4
    )
    assert not np.allclose(head.iloc[:5], steelnet.explain(X.iloc[:5]))


def test_explain_unknown_method_is_refused(steelnet, sensors):
    """Check that an unknown `method` names the two valid ones."""
    with pytest.raises(ValueError, match="'shapley' or 'head'"):
        steelnet.explain(sensors[0].iloc[:2], method="gradient")


def test_shapley_importance_is_mean_abs_value_per_class():
    """Check that shapley_importance is, per class, the normalised mean of
    |Shapley value of that class's probability| over its rows, with the
    subsample drawn per class and reproducible by seed."""
    X, y = make_classification(
        n_samples=240, n_features=4, n_informative=3, n_redundant=0,
        n_classes=3, random_state=0,
    )
    model = HistGradientBoostingClassifier(max_iter=15, random_state=0).fit(X, y)
    importance = shapley_importance(model, X, y, n_samples_per_class=500)
    for label in model.classes_:
        rows = X[y == label]
        expected = np.abs(shapley_values(model, rows, target=label).values).mean()
        np.testing.assert_allclose(
            importance.loc[label], expected / expected.sum(), rtol=1e-10
        )
    small = shapley_importance(model, X, y, n_samples_per_class=10, random_state=1)
    again = shapley_importance(model, X, y, n_samples_per_class=10, random_state=1)
    pd.testing.assert_frame_equal(small, again)
    other = shapley_importance(model, X, y, n_samples_per_class=10, random_state=2)
    assert not np.allclose(small, other)
    np.testing.assert_allclose(small.sum(axis=1), 1.0)


def test_shapley_importance_informative_feature_dominates():
    """Check that a class decided by one feature puts its importance there."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = (X[:, 2] > 0).astype(int)
    # Trained with missing readings, so that "missing" is a known input.
    X[rng.random(X.shape) < 0.2] = np.nan
    model = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(X, y)
    importance = shapley_importance(model, X, y, n_samples_per_class=50, random_state=0)
    assert (importance.to_numpy().argmax(axis=1) == 2).all()
    assert (importance[2] > 2 * importance[[0, 1]].max(axis=1)).all()


def test_shapley_importance_absent_class_is_nan():
    """Check that a class without rows in y gives a NaN row, and that
    mismatched lengths are refused."""
    X, y = make_classification(n_samples=90, n_features=3, n_informative=2,
                               n_redundant=0, n_classes=3, n_clusters_per_class=1,
                               random_state=0)
    model = HistGradientBoostingClassifier(max_iter=5, random_state=0).fit(X, y)
    keep = y != 2
    importance = shapley_importance(model, X[keep], y[keep], n_samples_per_class=5)
    assert importance.loc[2].isna().all()
    assert importance.loc[0].notna().all()
    with pytest.raises(ValueError, match="same number of rows"):
        shapley_importance(model, X, y[:-1])
