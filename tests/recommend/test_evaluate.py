"""Tests of score_recommendations: the per-class table against known causes."""

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from sksteel.recommend import SetpointRecommender, score_recommendations


@pytest.fixture(scope="module")
def toy():
    """Class 1 where a > 5 (cause a, actionable), class 2 where h > 5 and
    a <= 5 (cause h, not actionable), class 0 otherwise."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.uniform(0, 10, (900, 3)), columns=["a", "b", "h"])
    y = np.where(X["a"] > 5, 1, np.where(X["h"] > 5, 2, 0))
    prior = pd.DataFrame(
        [[1 / 3] * 3, [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], columns=["a", "b", "h"]
    )
    with threadpool_limits(1):
        model = HistGradientBoostingClassifier(random_state=0).fit(X, y)
        other = HistGradientBoostingClassifier(max_depth=3, random_state=1).fit(X, y)
        recommender = SetpointRecommender(
            model, target=0, actionable=["a", "b"],
            bounds={"a": (0, 10), "b": (0, 10), "h": (0, 10)}, random_state=0,
        ).fit(X, y)
        yield X, y, prior, recommender, other


def test_score_recommendations_per_class(toy):
    """Check the table: class 1 fixed through its true cause a alone, class
    2 (almost all) counted as not actionable, and only rows the model flags
    scored."""
    X, y, prior, recommender, other = toy
    rows = X.iloc[:300]
    with threadpool_limits(1):
        table = score_recommendations(
            recommender, rows, y[:300], attribution_prior=prior, independent=other
        )
        flagged = (y[:300] > 0) & (recommender.estimator.predict(rows) > 0)
    assert table.index.tolist() == [1, 2]
    assert table["n_rows"].sum() == flagged.sum()
    first = table.loc[1]
    assert first["validity"] == 1.0 and first["precision"] == 1.0
    assert first["recall"] == 1.0 and first["median_changes"] == 1.0
    assert first["plausibility"] >= 0.9
    # a row at the edge h = 5 may be tipped by the model's fuzzy boundary
    second = table.loc[2]
    assert second["n_not_actionable"] >= 0.95 * second["n_rows"]


def test_score_recommendations_needs_fitted(toy):
    X, y, prior, recommender, other = toy
    unfitted = SetpointRecommender(recommender.estimator)
    with pytest.raises(Exception, match="not fitted"):
        score_recommendations(
            unfitted, X, y, attribution_prior=prior, independent=other
        )
