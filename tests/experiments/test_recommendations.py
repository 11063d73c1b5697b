"""Tests of the reproduce report's recommendations stage and section."""

from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from sksteel.datasets import make_steelnet_dataset
from sksteel.experiments import RecommendationResults
from sksteel.experiments._data import _make_splits
from sksteel.experiments._recommendations import run_recommendations
from sksteel.experiments._report_sections import (
    REPORT_SECTIONS,
    _recommendations,
)
from sksteel.experiments._results import _Run
from sksteel.models import SteelNetClassifier
from sksteel.recommend import SetpointRecommender

SEEDS = (0, 1)
N_ROWS = 20


@pytest.fixture(scope="module")
def stage():
    """The stage run on a tiny data set with two seeds."""
    data = make_steelnet_dataset(n_normal=200, n_per_class=40, random_state=0)
    dataset = SimpleNamespace(
        data=data.data, target=data.target, attribution_prior=data.attribution_prior
    )
    splits = {seed: _make_splits(data.target, random_state=seed) for seed in SEEDS}
    runs = []
    for seed, split in splits.items():
        X, y = data.data.iloc[split.train], data.target.iloc[split.train]
        steelnet = SteelNetClassifier(
            max_epochs=10, hidden_layer_sizes=(32,), random_state=seed, verbose=0
        ).fit(X, y)
        hgb = HistGradientBoostingClassifier(max_iter=30, random_state=seed)
        runs += [
            _Run("SteelNet", seed, steelnet, 0.0),
            _Run("HistGradientBoosting", seed, hgb.fit(X, y), 0.0),
        ]
    results = run_recommendations(runs, dataset, splits, n_rows=N_ROWS)
    return results, runs, dataset, splits


def test_stage_numbers_are_the_recommenders(stage):
    """Check that a seed's validity and median changes are those of the
    recommender's own output on the rows scored, and the summary is the
    mean over seeds."""
    results, runs, dataset, splits = stage
    assert isinstance(results, RecommendationResults)
    scores = results.scores
    assert set(scores["seed"]) == set(SEEDS)
    assert (scores.groupby("seed")["n_rows"].sum() <= N_ROWS).all()
    split = splits[0]
    model = runs[0].estimator
    X, y = dataset.data.iloc[split.test], dataset.target.iloc[split.test]
    recommender = SetpointRecommender(model, method="search", random_state=0).fit(
        dataset.data.iloc[split.train], dataset.target.iloc[split.train]
    )
    defective = np.flatnonzero(y.to_numpy() != 0)
    rows = np.sort(np.random.default_rng(0).permutation(defective)[:N_ROWS])
    X, y = X.iloc[rows], y.iloc[rows]
    scored = model.predict(X) != 0
    result = recommender.recommend(X[scored])
    labels = y.to_numpy()[scored]
    seed0 = scores[scores["seed"] == 0].set_index("class")
    for code in np.unique(labels):
        name = seed0.index[list(np.unique(labels)).index(code)]
        in_class = labels == code
        blocked = np.char.startswith(
            result.reason.astype(str), "drivers not actionable"
        )
        counted = in_class & ~blocked
        assert seed0.loc[name, "n_rows"] == in_class.sum()
        if counted.any():
            assert seed0.loc[name, "validity"] == pytest.approx(
                result.valid[counted].mean()
            )
            ok = counted & result.valid
            assert seed0.loc[name, "median_changes"] == pytest.approx(
                np.median(result.n_changes[ok])
            )
    mean = scores.groupby("class")["validity"].mean()
    for name, value in mean.dropna().items():
        assert results.summary.loc[name, "validity_mean"] == pytest.approx(value)


def test_section_tabulates_the_summary_and_names_missed_targets(stage):
    """Check that the section's cells are the summary's and that a class
    whose mean misses a target is listed with its number."""
    results, *_ = stage
    assert ("recommendations", _recommendations) in REPORT_SECTIONS
    context = SimpleNamespace(cell=lambda row, name: f"{row[name + '_mean']:.3f}")
    blocks = _recommendations(SimpleNamespace(recommendations=results), context)
    (table,) = [block[1] for block in blocks if block[0] == "table"]
    summary = results.summary
    for (name, row), cells in zip(summary.iterrows(), table.to_dict("records")):
        assert cells["class"] == name
        if row["n_rows_mean"] != row["n_not_actionable_mean"]:
            assert cells["precision"] == f"{row['precision_mean']:.3f}"
    (listed,) = [block[1] for block in blocks if block[0] == "list"]
    changed = summary.copy()
    name = changed.index[1]
    changed.loc[name, ["precision_mean", "n_not_actionable_mean"]] = 0.5, 0.0
    blocks = _recommendations(
        SimpleNamespace(
            recommendations=SimpleNamespace(
                summary=changed, method="search", rows_per_seed=N_ROWS
            )
        ),
        context,
    )
    (listed,) = [block[1] for block in blocks if block[0] == "list"]
    assert f"{name}: precision 0.500 (target >= 0.8)" in listed
    assert _recommendations(SimpleNamespace(), context) == []
