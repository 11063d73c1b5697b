"""Tests of ShapleyDisplay, ShapleySummaryDisplay and DeletionCurveDisplay."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier

from sksteel.inspection import shapley_values
from sksteel.metrics import deletion_curve
from sksteel.plotting import (
    DeletionCurveDisplay,
    ShapleyDisplay,
    ShapleySummaryDisplay,
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
def fitted():
    X, y = make_classification(
        n_samples=200, n_features=4, n_informative=3, n_redundant=0,
        n_classes=3, random_state=0,
    )
    X = pd.DataFrame(X, columns=["a", "b", "c", "d"], index=np.arange(200) + 100)
    X = X.mask(np.random.default_rng(0).random(X.shape) < 0.15)
    model = HistGradientBoostingClassifier(max_iter=15, random_state=0).fit(X, y)
    return model, X, y


def test_shapley_display_waterfall_runs_base_to_prediction(fitted):
    """Check that bars are sorted by |value|, chained from the base value to
    the prediction, and that missing readings are listed last as missing."""
    model, X, _ = fitted
    rows = X.iloc[:10]
    row = rows.index[rows.isna().any(axis=1)][0]
    result = shapley_values(model, rows)
    display = ShapleyDisplay.from_values(result, rows, row=row)
    values = result.values.loc[row].to_numpy()
    gone = rows.loc[row].isna().to_numpy()
    present = display.order_[: (~gone).sum()]
    assert not gone[present].any()
    assert (np.diff(np.abs(values[present])) <= 0).all()
    widths = [bar.get_width() for bar in display.bars_]
    lefts = [bar.get_x() for bar in display.bars_]
    assert lefts[0] == pytest.approx(result.base_values.loc[row])
    assert lefts[-1] + widths[-1] == pytest.approx(result.predictions.loc[row])
    labels = [t.get_text() for t in display.ax_.get_yticklabels()]
    n_gone = gone.sum()
    assert labels[-n_gone:] == [
        f"{c} = missing" for c in X.columns[display.order_[-n_gone:]]
    ]
    assert not any(label.endswith("missing") for label in labels[:-n_gone])


def test_shapley_display_from_estimator_and_max_display(fitted):
    """Check that from_estimator explains the chosen row and max_display
    folds the smallest values into one bar that keeps the total."""
    model, X, _ = fitted
    row = X.index[3]
    display = ShapleyDisplay.from_estimator(model, X, row=row, max_display=2)
    assert len(display.bars_) == 2
    expected = shapley_values(model, X.loc[[row]])
    total = sum(bar.get_width() for bar in display.bars_)
    assert total == pytest.approx(expected.values.to_numpy().sum())
    with pytest.raises(ValueError, match="not a label"):
        ShapleyDisplay.from_estimator(model, X, row=-5)
    with pytest.raises(ValueError, match="`row` must be a label"):
        ShapleyDisplay.from_values(expected, row=12345)


def test_summary_display_panels_and_missing_markers(fitted):
    """Check one panel per class, every row drawn once per reading, and the
    missing readings drawn as hollow markers at 0."""
    model, X, y = fitted
    rows, labels = X.iloc[:40], y[:40]
    display = ShapleySummaryDisplay.from_estimator(model, rows, labels)
    assert display.classes_.tolist() == sorted(set(labels))
    n_points = sum(
        len(c.get_offsets()) for ax in display.axes_ for c in ax.collections
    )
    assert n_points == rows.size
    hollow = [
        c for ax in display.axes_ for c in ax.collections[1::2]
    ]
    assert sum(len(c.get_offsets()) for c in hollow) == rows.isna().to_numpy().sum()
    assert all((np.asarray(c.get_offsets())[:, 0] == 0).all() for c in hollow)
    by_prediction = ShapleySummaryDisplay.from_values(shapley_values(model, rows), rows)
    assert len(by_prediction.axes_) == len(by_prediction.classes_)
    import matplotlib.pyplot as plt

    _, axes = plt.subplots(1, 1, squeeze=False)
    with pytest.raises(ValueError, match="one axes per class"):
        ShapleySummaryDisplay.from_estimator(model, rows, labels, axes=axes)


def test_deletion_curve_display_matches_metric(fitted):
    """Check that the drawn curve and area are those of deletion_curve, and
    that two methods overlay on one axes."""
    model, X, _ = fitted
    rows = X.iloc[:30]
    values = shapley_values(model, rows).values
    curve = deletion_curve(model, rows, values)
    display = DeletionCurveDisplay.from_curve(curve, name="shapley")
    assert display.area_ == pytest.approx(curve.area)
    np.testing.assert_allclose(display.line_.get_ydata(), curve.drop_mean)
    other = DeletionCurveDisplay.from_estimator(
        model, rows, np.random.default_rng(0).random(rows.shape), name="random",
        ax=display.ax_,
    )
    assert other.ax_ is display.ax_
    assert len(display.ax_.get_lines()) == 2
    assert display.area_ > other.area_
