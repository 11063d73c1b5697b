"""Tests of attribution_mse and attribution_faithfulness."""

import numpy as np
import pandas as pd
import pytest
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.tree import DecisionTreeClassifier

from sksteel.metrics import attribution_faithfulness, attribution_mse


@pytest.fixture(scope="module")
def sensor_problem():
    """Three classes, each decided by its own sensor, plus two noise sensors."""
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.normal(size=(600, 5)), columns=list("abcde"))
    y = X[["a", "b", "c"]].to_numpy().argmax(axis=1)
    return X, y


@pytest.fixture(scope="module")
def fitted_models(sensor_problem):
    """A decision tree and an LDA pipeline (imputer in front) on the problem."""
    X, y = sensor_problem
    tree = DecisionTreeClassifier(max_depth=6, random_state=0).fit(X, y)
    lda = make_pipeline(SimpleImputer(), LinearDiscriminantAnalysis()).fit(X, y)
    return {"tree": tree, "lda": lda}


def test_attribution_mse_zero_on_equal_tables():
    """Check that equal tables have zero error and a hand-computed case holds."""
    truth = np.array([[0.25, 0.75], [1.0, 0.0]])
    assert attribution_mse(truth, truth) == 0.0
    pred = np.array([[0.75, 0.25], [1.0, 0.0]])
    assert attribution_mse(truth, pred) == pytest.approx(0.125)


def test_attribution_mse_aligns_dataframe_columns():
    """Check that DataFrame columns are matched by name, not position."""
    truth = pd.DataFrame([[0.2, 0.8]], columns=["x", "y"])
    pred = pd.DataFrame([[0.8, 0.2]], columns=["y", "x"])
    assert attribution_mse(truth, pred) == 0.0


@pytest.mark.parametrize(
    "weights, expected", [(None, 0.5 * 0.25), ([1.0, 0.0], 0.25), ([0.0, 1.0], 0.0)]
)
def test_attribution_mse_sample_weight(weights, expected):
    """Check that rows are averaged with `sample_weight`."""
    truth = np.array([[0.0, 1.0], [0.5, 0.5]])
    pred = np.array([[0.5, 0.5], [0.5, 0.5]])
    assert attribution_mse(truth, pred, sample_weight=weights) == pytest.approx(
        expected
    )


def test_attribution_mse_raw_values_per_row():
    """Check that `multioutput='raw_values'` gives one error per row."""
    truth = np.eye(3)
    pred = np.full((3, 3), 1 / 3)
    errors = attribution_mse(truth, pred, multioutput="raw_values")
    assert errors.shape == (3,)
    np.testing.assert_allclose(errors, ((2 / 3) ** 2 + 2 * (1 / 3) ** 2) / 3)


@pytest.mark.parametrize(
    "truth, pred, match",
    [
        (np.ones((2, 3)), np.ones((3, 3)), "same shape"),
        (np.ones(3), np.ones(3), "must be 2-D"),
        (np.ones((1, 2)), [[np.nan, 1.0]], "finite"),
        (
            pd.DataFrame([[1.0]], columns=["x"]),
            pd.DataFrame([[1.0]], columns=["z"]),
            "lacks the columns",
        ),
    ],
)
def test_attribution_mse_rejects_bad_input(truth, pred, match):
    """Check that mismatched, 1-D, non-finite or misnamed input is refused."""
    with pytest.raises(ValueError, match=match):
        attribution_mse(truth, pred)


@pytest.mark.parametrize("model", ["tree", "lda"])
def test_attribution_faithfulness_true_attributions_beat_random(
    sensor_problem, fitted_models, model
):
    """Check that attributions naming the deciding sensor are faithful
    (ratio > 1) and attributions naming noise sensors are not (ratio < 1)."""
    X, y = sensor_problem
    estimator = fitted_models[model]
    right = pd.DataFrame(np.eye(5)[:3], index=[0, 1, 2], columns=list("abcde"))
    wrong = pd.DataFrame(
        np.tile([0, 0, 0, 0.5, 0.5], (3, 1)), index=[0, 1, 2], columns=list("abcde")
    )
    faithful = attribution_faithfulness(estimator, X, y, right, k=1)
    unfaithful = attribution_faithfulness(estimator, X, y, wrong, k=1)
    assert (faithful["ratio"] > 1.5).all()
    assert (unfaithful["ratio"] < 1.0).all()
    assert faithful["top_sensors"].tolist() == ["a", "b", "c"]


def test_attribution_faithfulness_exact_enumeration_is_seed_free(
    sensor_problem, fitted_models
):
    """Check that with few subsets every subset is used, so the random drop
    does not depend on `random_state`, while sampling does."""
    X, y = sensor_problem
    prior = np.full((3, 5), 0.2)
    runs = [
        attribution_faithfulness(
            fitted_models["tree"], X, y, prior, k=2, n_repeats=n, random_state=seed
        )["drop_random"]
        for n, seed in [(10, 0), (10, 1), (3, 0), (3, 1)]
    ]
    pd.testing.assert_series_equal(runs[0], runs[1])
    assert not runs[2].equals(runs[3])


def test_attribution_faithfulness_numpy_rows_follow_classes(
    sensor_problem, fitted_models
):
    """Check that array attributions are matched to `estimator.classes_` and
    that `classes` restricts the rows evaluated."""
    X, y = sensor_problem
    X = X.to_numpy()
    lda = make_pipeline(SimpleImputer(), LinearDiscriminantAnalysis()).fit(X, y)
    table = attribution_faithfulness(lda, X, y, np.eye(5)[:3], k=1, classes=[2])
    assert table.index.tolist() == [2]
    assert table.loc[2, "top_sensors"] == "2"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"attributions": np.eye(5)[:2]}, "one row per class"),
        ({"classes": [7]}, "no row for the classes"),
        ({"k": 5}, "`k` must be between"),
        ({"attributions": np.eye(4)[:3]}, "one column per sensor"),
    ],
)
def test_attribution_faithfulness_rejects_bad_input(
    sensor_problem, fitted_models, kwargs, match
):
    """Check that attributions of the wrong shape, unknown classes and a too
    large `k` are refused with an explanation."""
    X, y = sensor_problem
    params = {"attributions": np.eye(5)[:3], "k": 1, **kwargs}
    with pytest.raises(ValueError, match=match):
        attribution_faithfulness(fitted_models["lda"], X, y, **params)
