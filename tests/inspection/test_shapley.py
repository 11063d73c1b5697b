"""Tests of shapley_values, Shapley values over missing readings."""

import itertools

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sksteel._schema import SENSOR_NAMES
from sksteel.exceptions import DataFormatError, NaNUnsupportedError
from sksteel.inspection import shapley_values
from sksteel.models import SteelNetClassifier

COLUMNS = ["a", "b", "c", "d", "e"]


def _brute_force(estimator, row, players, target_index):
    """Shapley values as the average marginal contribution over all n!
    orderings of ``players`` (lists of columns), one predict call per
    coalition; readings of no player stay as they are in ``row``."""
    players = [list(p) for p in players]
    all_columns = [c for p in players for c in p]

    cache = {}

    def payoff(coalition):
        key = frozenset(coalition)
        if key not in cache:
            cache[key] = _predict(key)
        return cache[key]

    def _predict(coalition):
        masked = row.copy()
        for k, members in enumerate(players):
            if k not in coalition:
                masked[members] = np.nan
        frame = pd.DataFrame([masked])
        return estimator.predict_proba(frame)[0, target_index]

    assert set(all_columns) <= set(row.index)
    orderings = list(itertools.permutations(range(len(players))))
    values = np.zeros(len(players))
    for order in orderings:
        coalition = set()
        before = payoff(coalition)
        for k in order:
            coalition.add(k)
            after = payoff(coalition)
            values[k] += after - before
            before = after
    return values / len(orderings)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=300, n_features=5, n_informative=4, n_redundant=0,
        n_classes=3, random_state=0,
    )
    X = pd.DataFrame(X, columns=COLUMNS)
    return X.mask(np.random.default_rng(0).random(X.shape) < 0.1), y


@pytest.fixture(scope="module")
def hgb(data):
    X, y = data
    return HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def steelnet():
    X, y = make_classification(
        n_samples=120, n_features=10, n_informative=5, n_classes=3, random_state=1
    )
    X = pd.DataFrame(X, columns=list(SENSOR_NAMES))
    X = X.mask(np.random.default_rng(1).random(X.shape) < 0.1)
    intensity = np.where(y > 0, 0.3, 0.0)
    clf = SteelNetClassifier(
        hidden_layer_sizes=(16, 8), d_token=4, n_heads=2, max_epochs=2,
        batch_size=32, random_state=0,
    )
    return clf.fit(X, y, intensity=intensity), X


def test_shapley_values_efficiency_hist_gradient_boosting(hgb, data):
    """Check that values sum to prediction minus base value, and that the
    predictions are the model's probabilities of the predicted class."""
    X = data[0].iloc[:40]
    result = shapley_values(hgb, X)
    np.testing.assert_allclose(
        result.values.sum(axis=1) + result.base_values, result.predictions,
        atol=1e-6,
    )
    proba = hgb.predict_proba(X)
    np.testing.assert_allclose(result.predictions, proba.max(axis=1))
    assert (result.target.to_numpy() == hgb.predict(X)).all()
    assert list(result.values.columns) == COLUMNS
    assert result.values.index.equals(X.index)


def test_shapley_values_efficiency_steelnet(steelnet):
    """Check efficiency on SteelNet for a class and for the intensity."""
    clf, X = steelnet
    X = X.iloc[:6]
    for kwargs in ({}, {"target": 2},
                   {"response_method": "predict_intensity", "target": "intensity"}):
        result = shapley_values(clf, X, **kwargs)
        np.testing.assert_allclose(
            result.values.sum(axis=1) + result.base_values, result.predictions,
            atol=1e-6,
        )
    np.testing.assert_allclose(result.predictions, clf.predict_intensity(X), atol=1e-6)


def test_shapley_values_match_brute_force(hgb, data):
    """Check exact values, for a class label and for the predicted class,
    against the average over all 5! orderings."""
    X = data[0]
    rows = X[X.notna().all(axis=1)].iloc[:3]
    for target in (1, None):
        result = shapley_values(hgb, rows, target=target)
        for position, (_, row) in enumerate(rows.iterrows()):
            index = (1 if target is not None
                     else int(hgb.predict_proba(rows.iloc[[position]]).argmax()))
            expected = _brute_force(hgb, row, [[c] for c in COLUMNS], index)
            np.testing.assert_allclose(
                result.values.iloc[position], expected, atol=1e-10
            )


def test_shapley_values_match_captum(hgb, data):
    """Check exact values against Captum's ShapleyValues. Captum mixes input
    and baseline arithmetically (NaN * 0 is NaN), so the baseline is a finite
    sentinel that the forward function turns into NaN."""
    torch = pytest.importorskip("torch")
    captum_attr = pytest.importorskip("captum.attr")
    rows = data[0].iloc[:4]
    sentinel = 1e300

    def forward(batch):
        values = batch.numpy().copy()
        values[values == sentinel] = np.nan
        frame = pd.DataFrame(values, columns=COLUMNS)
        return torch.as_tensor(hgb.predict_proba(frame))

    attributions = captum_attr.ShapleyValues(forward).attribute(
        torch.tensor(rows.fillna(sentinel).to_numpy()),
        baselines=torch.full((1, 5), sentinel, dtype=torch.float64),
        target=1,
    )
    result = shapley_values(hgb, rows, target=1)
    np.testing.assert_allclose(result.values, attributions.numpy(), atol=1e-6)


def test_shapley_values_missing_readings_are_not_players(hgb, data):
    """Check that a missing reading gets 0 and the others equal the brute
    force over the present readings, the missing one staying NaN."""
    row = data[0].iloc[0].copy()
    row[["a", "d"]] = [0.5, 1.0]
    row["b"] = np.nan
    result = shapley_values(hgb, row.to_frame().T, target=0)
    assert result.values.iloc[0]["b"] == 0.0
    expected = _brute_force(hgb, row, [["a"], ["c"], ["d"], ["e"]], 0)
    np.testing.assert_allclose(
        result.values.iloc[0][["a", "c", "d", "e"]], expected, atol=1e-10
    )


def test_shapley_values_all_missing_row(hgb):
    """Check that a row with every reading missing gets zeros and its
    prediction is the base value."""
    row = pd.DataFrame([[np.nan] * 5], columns=COLUMNS)
    result = shapley_values(hgb, row)
    assert (result.values.to_numpy() == 0).all()
    assert result.predictions.iloc[0] == result.base_values.iloc[0]


def test_shapley_values_feature_groups(hgb, data):
    """Check that a group is one player, equal to the brute force over the
    groups, and that ungrouped columns remain players."""
    row = data[0].dropna().iloc[0]
    groups = {"ab": ["a", "b"], "de": ["d", "e"]}
    result = shapley_values(hgb, row.to_frame().T, target=2, feature_groups=groups)
    assert list(result.values.columns) == ["ab", "de", "c"]
    expected = _brute_force(hgb, row, [["a", "b"], ["d", "e"], ["c"]], 2)
    np.testing.assert_allclose(result.values.iloc[0], expected, atol=1e-10)


def test_shapley_values_sampling_converges(hgb, data):
    """Check that sampled values approach the exact ones as the number of
    orderings grows, and that the sampled values keep efficiency."""
    X = data[0].iloc[:20]
    exact = shapley_values(hgb, X, target=1).values.to_numpy()
    errors = []
    for n_permutations in (2, 16, 256):
        sampled = shapley_values(
            hgb, X, target=1, max_exact_features=0,
            n_permutations=n_permutations, random_state=0,
        )
        np.testing.assert_allclose(
            sampled.values.sum(axis=1) + sampled.base_values, sampled.predictions,
            atol=1e-6,
        )
        errors.append(np.abs(sampled.values.to_numpy() - exact).mean())
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 0.2 * errors[0]


def test_shapley_values_deterministic(hgb, data):
    """Check that a seed fixes the sampled values and that the batch size
    does not change the exact ones."""
    X = data[0].iloc[:10]
    kwargs = {"max_exact_features": 2, "n_permutations": 8}
    first = shapley_values(hgb, X, random_state=3, **kwargs).values
    again = shapley_values(hgb, X, random_state=3, batch_size=7, **kwargs).values
    other = shapley_values(hgb, X, random_state=4, **kwargs).values
    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(other)
    pd.testing.assert_frame_equal(
        shapley_values(hgb, X).values, shapley_values(hgb, X, batch_size=5).values
    )


def test_shapley_values_accepts_arrays(hgb, data):
    """Check that an array of the fitted columns gives the same values."""
    X = data[0].iloc[:5]
    expected = shapley_values(hgb, X).values
    result = shapley_values(hgb, X.to_numpy()).values
    np.testing.assert_allclose(result, expected)


def test_shapley_values_refuses_models_without_nan(data):
    """Check that a model that cannot take NaN is refused with advice, and
    that an imputer pipeline is accepted."""
    X, y = data
    filled = X.fillna(0.0)
    with pytest.raises(NaNUnsupportedError, match="imputer"):
        shapley_values(LogisticRegression().fit(filled, y), X.iloc[:2])
    pipeline = make_pipeline(SimpleImputer(), LogisticRegression()).fit(X, y)
    result = shapley_values(pipeline, X.iloc[:2])
    np.testing.assert_allclose(
        result.values.sum(axis=1) + result.base_values, result.predictions,
        atol=1e-6,
    )


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"feature_groups": {"x": ["a", "b"], "y": ["b"]}}, ValueError, "overlap"),
        ({"feature_groups": {"x": ["a", "zz"]}}, ValueError, r"\['zz'\]"),
        ({"feature_groups": {"c": ["a", "b"]}}, ValueError, "ungrouped column"),
        ({"target": 7}, ValueError, "must be one of the classes"),
        ({"response_method": "predict_intensity"}, ValueError,
         "no `predict_intensity`"),
    ],
)
def test_shapley_values_bad_parameters(hgb, data, kwargs, error, match):
    """Check the errors for bad groups, targets and methods."""
    with pytest.raises(error, match=match):
        shapley_values(hgb, data[0].iloc[:2], **kwargs)


def test_shapley_values_bad_X(hgb, data):
    """Check the errors for columns other than those seen in fit and inf."""
    X = data[0].iloc[:2]
    with pytest.raises(DataFormatError, match=r"unexpected \['z'\]"):
        shapley_values(hgb, X.rename(columns={"a": "z"}))
    with pytest.raises(DataFormatError, match="fitted on 5"):
        shapley_values(hgb, X.to_numpy()[:, :4])
    with pytest.raises(ValueError, match="infinity"):
        shapley_values(hgb, X.replace(X.iloc[0, 0], np.inf))
