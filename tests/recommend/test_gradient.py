"""Tests of SetpointRecommender(method="gradient") on a small SteelNet."""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.ensemble import HistGradientBoostingClassifier

from sksteel.datasets import SENSORS, make_steelnet_dataset
from sksteel.exceptions import DataFormatError
from sksteel.models import SteelNetClassifier
from sksteel.pipeline import make_pipeline
from sksteel.recommend import SetpointRecommender
from sksteel.sampling import ModalityDropout


@pytest.fixture(scope="module")
def steel():
    data = make_steelnet_dataset(n_normal=300, n_per_class=60, random_state=0)
    X, y = data.data, data.target
    model = SteelNetClassifier(
        max_epochs=15, hidden_layer_sizes=(64, 32), random_state=0, verbose=0
    ).fit(X, y)
    defective = X[(y > 0).to_numpy() & (model.predict(X) > 0)].iloc[:24].copy()
    defective.iloc[::3, 2] = np.nan  # failed readings
    return X, y, model, defective


def test_proba_tensor_matches_predict_proba(steel):
    """Check that the differentiable probabilities equal predict_proba and
    carry gradients back to the readings, NaN included."""
    X, _, model, defective = steel
    readings = torch.tensor(defective.to_numpy(), requires_grad=True)
    proba = model.proba_tensor(readings)
    np.testing.assert_allclose(
        proba.detach().numpy(), model.predict_proba(defective), atol=1e-5
    )
    proba[:, 0].sum().backward()
    assert torch.isfinite(readings.grad).all()
    assert (readings.grad[:, 0] != 0).any()


def test_auto_picks_gradient_for_steelnet_and_its_pipeline(steel):
    """Check that "auto" takes the gradient for SteelNet (also in a pipeline
    of samplers) and the search for HistGradientBoosting."""
    X, y, model, _ = steel
    assert SetpointRecommender(model).fit(X, y).method_ == "gradient"
    pipe = make_pipeline(
        ModalityDropout(random_state=0),
        SteelNetClassifier(max_epochs=1, hidden_layer_sizes=(8,), random_state=0),
    ).fit(X, y)
    assert SetpointRecommender(pipe).fit(X, y).method_ == "gradient"
    hgb = HistGradientBoostingClassifier(max_iter=10).fit(X, y)
    assert SetpointRecommender(hgb).fit(X, y).method_ == "search"
    with pytest.raises(DataFormatError, match="method='search'"):
        SetpointRecommender(hgb, method="gradient").fit(X, y)


def test_gradient_keeps_every_rule(steel):
    """Check NaN, non-actionable columns and bounds untouched, at most
    max_changes columns changed, and the reported probabilities honest."""
    X, y, model, defective = steel
    rec = SetpointRecommender(model, method="gradient", max_changes=2)
    result = rec.fit(X, y).recommend(defective)
    setpoints, changes = result.setpoints, result.changes
    assert result.valid.mean() >= 0.5
    nan = defective.isna().to_numpy()
    assert np.isnan(setpoints.to_numpy()[nan]).all()
    assert (changes["ambient_humidity"] == 0).all()
    assert (result.n_changes <= 2).all()
    low, high = SENSORS["feasible_low"], SENSORS["feasible_high"]
    inside = setpoints.ge(low) & setpoints.le(high) | setpoints.isna()
    assert inside.all().all()
    proba = model.predict_proba(setpoints)[:, 0]
    np.testing.assert_allclose(proba, result.probability_after, atol=1e-5)
    assert (result.valid == (proba >= 0.5)).all()
    unchanged = ~result.valid
    pd.testing.assert_frame_equal(
        setpoints[unchanged], defective[unchanged], check_index_type=False
    )


def test_gradient_is_deterministic(steel):
    """Check that two runs with one random_state give the same setpoints."""
    X, y, model, defective = steel
    first = SetpointRecommender(model, random_state=0).fit(X, y).recommend(defective)
    second = SetpointRecommender(model, random_state=0).fit(X, y).recommend(defective)
    pd.testing.assert_frame_equal(first.setpoints, second.setpoints)


def test_gradient_alternatives_and_plausibility(steel):
    """Check that alternatives never contain another's columns and that
    require_plausible keeps only plausible valid points."""
    X, y, model, defective = steel
    rec = SetpointRecommender(model, n_alternatives=2, require_plausible=True)
    result = rec.fit(X, y).recommend(defective.iloc[:8])
    changed = result.valid & (result.reason == "")
    assert changed.any() and result.plausible[changed].all()
    changes = result.changes.to_numpy() != 0
    for row in range(8):
        sets = [
            set(np.flatnonzero(changes[k]))
            for k in np.flatnonzero((result.row == row) & changed)
        ]
        for k, later in enumerate(sets):
            assert not any(earlier <= later for earlier in sets[:k])
