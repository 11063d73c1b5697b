"""Tests of the Display classes: attributions, robustness curves, history."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.exceptions import NotFittedError
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline

from sksteel._schema import CLASS_NAMES, SENSOR_NAMES
from sksteel.metrics import robustness_curve
from sksteel.plotting import (
    AttributionDisplay,
    RobustnessCurveDisplay,
    TrainingHistoryDisplay,
)

pytest.importorskip("matplotlib")


@pytest.fixture(autouse=True)
def _close_figures():
    """Use a non-interactive backend and close every figure after a test."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


@pytest.fixture(scope="module")
def prior():
    """A hand-made (classes x sensors) attribution matrix, rows summing to 1."""
    rng = np.random.RandomState(0)
    values = rng.dirichlet(np.ones(len(SENSOR_NAMES)), size=len(CLASS_NAMES))
    return pd.DataFrame(values, index=range(len(CLASS_NAMES)), columns=SENSOR_NAMES)


class _AttributingModel(BaseEstimator):
    """A fitted stand-in exposing only the attributes the displays read."""

    def __init__(self, attributions, history=None):
        self.feature_attributions_ = attributions
        self.classes_ = np.arange(attributions.shape[0])
        self.feature_names_in_ = np.asarray(SENSOR_NAMES)
        if history is not None:
            self.history_ = history

    def fit(self, X, y):
        return self


def test_plotting_import_is_lazy():
    """Check that importing sksteel.plotting does not import matplotlib."""
    code = "import sys, sksteel.plotting; print('matplotlib' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_attribution_display_from_matrix(prior):
    """Check that the heatmap has sensors down, classes across, and that the
    annotations show the values as percentages."""
    display = AttributionDisplay(prior, class_names=CLASS_NAMES).plot()
    np.testing.assert_allclose(display.im_.get_array(), prior.to_numpy().T)
    assert display.text_.shape == (len(SENSOR_NAMES), len(CLASS_NAMES))
    assert display.text_[0, 0].get_text() == f"{prior.iloc[0, 0]:.0%}"
    labels = [t.get_text() for t in display.ax_.get_yticklabels()]
    assert labels == list(SENSOR_NAMES)
    assert [t.get_text() for t in display.ax_.get_xticklabels()] == list(CLASS_NAMES)


@pytest.mark.parametrize("wrap", [False, True])
def test_attribution_display_from_estimator(prior, wrap):
    """Check that `from_estimator` reads `feature_attributions_` from a model
    or from the last step of a pipeline, labelling rows by feature name."""
    model = _AttributingModel(prior.to_numpy())
    estimator = make_pipeline(SimpleImputer(), model) if wrap else model
    display = AttributionDisplay.from_estimator(estimator, values_format=None)
    np.testing.assert_allclose(display.im_.get_array(), prior.to_numpy().T)
    assert display.text_ is None
    assert display.ax_.get_yticklabels()[-1].get_text() == SENSOR_NAMES[-1]


def test_attribution_display_from_estimator_unfitted():
    """Check that a model without attributions raises NotFittedError."""
    with pytest.raises(NotFittedError):
        AttributionDisplay.from_estimator(LinearDiscriminantAnalysis())


def test_attribution_display_from_predictions_averages_per_class(prior):
    """Check that per-sample attributions are averaged within each class."""
    y = np.repeat([0, 1, 2], 4)
    samples = pd.DataFrame(
        np.repeat(prior.to_numpy()[:3], 4, axis=0), columns=SENSOR_NAMES
    )
    display = AttributionDisplay.from_predictions(y, samples)
    np.testing.assert_allclose(display.im_.get_array(), prior.to_numpy()[:3].T)


@pytest.mark.parametrize(
    "attributions, y, match",
    [(np.ones(3), None, "must be 2-D"), (np.ones((3, 2)), [0, 1], "one row per")],
)
def test_attribution_display_rejects_bad_input(attributions, y, match):
    """Check that 1-D attributions and mismatched lengths are refused."""
    with pytest.raises(ValueError, match=match):
        if y is None:
            AttributionDisplay(attributions).plot()
        else:
            AttributionDisplay.from_predictions(y, attributions)


@pytest.fixture(scope="module")
def fitted_lda():
    """An LDA pipeline on a linear problem over the ten sensors."""
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.normal(size=(300, 10)), columns=list(SENSOR_NAMES))
    y = X.iloc[:, :3].to_numpy().argmax(axis=1)
    model = make_pipeline(SimpleImputer(), LinearDiscriminantAnalysis()).fit(X, y)
    return model, X, y


def test_robustness_display_overlays_models(fitted_lda):
    """Check that two curves share one axes, with the area in the label and
    a band only where a standard deviation is known."""
    model, X, y = fitted_lda
    display = RobustnessCurveDisplay.from_estimator(
        model, X, y, n_repeats=2, random_state=0, name="LDA"
    )
    reference = RobustnessCurveDisplay(
        rates=[0.0, 0.5], scores=[0.9, 0.7], name="paper"
    ).plot(ax=display.ax_, linestyle="--")
    assert reference.ax_ is display.ax_
    assert len(display.ax_.get_lines()) == 2
    assert display.band_ is not None and reference.band_ is None
    assert reference.auc_ == pytest.approx(0.8)
    assert display.line_.get_label() == f"LDA (area {display.auc_:.3f})"


def test_robustness_display_from_curve_needs_metric(fitted_lda):
    """Check that a curve with several scores needs `metric`, and that the
    chosen score is drawn."""
    model, X, y = fitted_lda
    curve = robustness_curve(
        model, X, y, [0.0, 0.3], scoring=["accuracy", "f1_macro"], n_repeats=1
    )
    with pytest.raises(ValueError, match="choose one with `metric`"):
        RobustnessCurveDisplay.from_curve(curve)
    display = RobustnessCurveDisplay.from_curve(curve, metric="f1_macro")
    np.testing.assert_allclose(display.line_.get_ydata(), curve.scores_mean["f1_macro"])
    assert display.ax_.get_ylabel() == "f1_macro"


def test_robustness_display_rejects_several_scores(fitted_lda):
    """Check that `from_estimator` asks for a single score."""
    model, X, y = fitted_lda
    with pytest.raises(ValueError, match="must be one score"):
        RobustnessCurveDisplay.from_estimator(model, X, y, scoring=["accuracy"])


@pytest.fixture
def skorch_like_history():
    """A history as skorch records it: bookkeeping columns mixed with curves."""
    return [
        {"epoch": e, "batches": [{"train_loss": 1.0}], "dur": 0.1,
         "train_loss": 1.0 / e, "valid_loss": 1.2 / e + 0.01 * e,
         "valid_acc": acc, "valid_acc_best": False, "event_lr": 1e-3}
        for e, acc in zip(range(1, 6), [0.7, 0.8, 0.9, 0.85, 0.88])
    ]


def test_history_display_from_history(skorch_like_history):
    """Check that only the curves are drawn, scores on a twin axis, and the
    best validation epoch is marked."""
    display = TrainingHistoryDisplay.from_history(skorch_like_history, name="net")
    assert sorted(display.lines_) == ["train_loss", "valid_acc", "valid_loss"]
    assert display.ax_score_ is not display.ax_
    assert display.best_epoch_ == 3
    np.testing.assert_allclose(
        display.lines_["valid_acc"].get_xdata(), [1, 2, 3, 4, 5]
    )
    assert display.ax_.get_title() == "net"


def test_history_display_from_estimator(prior, skorch_like_history):
    """Check that `from_estimator` reads `history_`, titled by class name."""
    model = _AttributingModel(prior.to_numpy(), history=skorch_like_history)
    display = TrainingHistoryDisplay.from_estimator(model, keys=["train_loss"])
    assert list(display.lines_) == ["train_loss"]
    assert display.ax_score_ is None and display.best_epoch_ is None
    assert display.ax_.get_title() == "_AttributingModel"


@pytest.mark.parametrize(
    "history, keys, match",
    [([], None, "is empty"), ([{"epoch": 1, "train_loss": 1.0}], ["nope"], "nope")],
)
def test_history_display_rejects_bad_input(history, keys, match):
    """Check that an empty history and unknown keys are refused."""
    with pytest.raises(ValueError, match=match):
        TrainingHistoryDisplay.from_history(history, keys=keys)
