"""Tests that the Displays lay out long sensor and class names inside the figure."""

import numpy as np
import pandas as pd
import pytest

from sksteel.plotting import (
    AttributionDisplay,
    DeletionCurveDisplay,
    MaskDisplay,
    RecommendationDisplay,
    RobustnessCurveDisplay,
    ShapleyDisplay,
    ShapleySummaryDisplay,
    TrainingHistoryDisplay,
)
from sksteel.plotting._layout import CROWDED_ROTATION

pytest.importorskip("matplotlib")

#: Names as a plant historian or a ColumnTransformer writes them.
LONG = [
    "remainder__surface_cleanliness_index_percent",
    "line_3_descaler_header_water_jet_pressure_bar",
    "a" * 40,
    "vibration",
]
LONG_CLASSES = ["none", "scratches_on_the_operator_side", "inclusion_near_edge"]


@pytest.fixture(autouse=True)
def _close_figures():
    """Use a non-interactive backend and close every figure after a test."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


def _shown(labels, limits, coordinate):
    """The tick labels within the view limits (matplotlib skips the others)."""
    low, high = sorted(limits)
    return [t for t in labels if low <= t.get_position()[coordinate] <= high]


def _texts(figure):
    """Every tick label, title, axis label and legend text that shows a name."""
    texts = []
    for ax in figure.axes:
        if ax.axison:
            texts += _shown(ax.get_xticklabels(), ax.get_xlim(), 0)
            texts += _shown(ax.get_yticklabels(), ax.get_ylim(), 1)
            texts += [ax.xaxis.label, ax.yaxis.label]
        texts.append(ax.title)
        legend = ax.get_legend()
        if legend is not None:
            texts += legend.get_texts()
    return [text for text in texts if text.get_visible() and text.get_text()]


def assert_inside(figure):
    """Assert that every name's window extent lies inside the figure."""
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    width, height = figure.canvas.get_width_height()
    texts = _texts(figure)
    assert texts
    for text in texts:
        box = text.get_window_extent(renderer)
        assert box.x0 >= -0.5 and box.y0 >= -0.5, text.get_text()
        assert box.x1 <= width + 0.5 and box.y1 <= height + 0.5, text.get_text()


def test_attribution_display_fits_long_names():
    rng = np.random.default_rng(0)
    values = pd.DataFrame(
        rng.dirichlet(np.ones(len(LONG)), size=len(LONG_CLASSES)),
        index=LONG_CLASSES,
        columns=LONG,
    )
    display = AttributionDisplay(values).plot(title="attribution of " + LONG[0])
    assert_inside(display.figure_)
    labels = [t.get_text() for t in display.ax_.get_yticklabels()]
    assert labels == LONG  # the full names, not cut


def test_short_names_keep_the_default_size():
    """Check that a figure whose names fit is not grown."""
    display = AttributionDisplay(
        [[0.7, 0.3], [0.2, 0.8]], class_names=["a", "b"], sensor_names=["s1", "s2"]
    ).plot()
    assert display.figure_.get_size_inches().tolist() == [1.1 * 2 + 3.0, 0.42 * 2 + 1.2]


def test_names_fit_on_axes_the_caller_passes():
    """Check that crowded class names on a caller's axes are rotated, and the
    caller's figure keeps its size."""
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(6.0, 4.0))
    AttributionDisplay(
        np.full((3, 2), 0.5), class_names=LONG_CLASSES, sensor_names=["s1", "s2"]
    ).plot(ax=ax)
    assert figure.get_size_inches().tolist() == [6.0, 4.0]
    assert {t.get_rotation() for t in ax.get_xticklabels()} == {CROWDED_ROTATION}


def test_shapley_display_fits_long_names():
    display = ShapleyDisplay(
        values=[0.2, -0.1, 0.05, 0.0],
        base_value=0.4,
        prediction=0.55,
        feature_names=LONG,
        readings=[1.0, 2.0, 3.0, np.nan],
        target=LONG_CLASSES[1],
    ).plot()
    assert_inside(display.figure_)


def test_shapley_summary_display_fits_long_names():
    rng = np.random.default_rng(0)
    values = pd.DataFrame(rng.normal(size=(30, len(LONG))), columns=LONG)
    classes = np.repeat(LONG_CLASSES, 10)
    display = ShapleySummaryDisplay(values=values, classes=classes).plot()
    assert_inside(display.figure_)


def test_deletion_curve_display_fits_long_names():
    display = DeletionCurveDisplay(
        k=[0, 1, 2], drops=[0.0, 0.3, 0.4], name=" ".join(LONG[:2])
    ).plot()
    assert_inside(display.figure_)


def test_robustness_curve_display_fits_long_names():
    display = RobustnessCurveDisplay(
        rates=[0.0, 0.2, 0.5],
        scores=[0.9, 0.8, 0.6],
        metric=LONG[1],
        name=" ".join(LONG[:2]),
    ).plot()
    assert_inside(display.figure_)


def test_training_history_display_fits_long_names():
    history = pd.DataFrame(
        {
            "epoch": [1, 2, 3],
            "train_loss": [1.0, 0.6, 0.5],
            "valid_loss": [0.9, 0.7, 0.72],
            f"valid_{LONG[0]}": [0.80, 0.86, 0.85],
        }
    )
    display = TrainingHistoryDisplay(history, name=LONG[1] + " " + LONG[0]).plot()
    assert_inside(display.figure_)


def test_recommendation_display_fits_long_names():
    display = RecommendationDisplay(
        sensors=LONG[:3],
        current=[62.0, 1.0, 5.0],
        recommended=[96.5, 2.0, 4.0],
        feasible=[(0.0, 100.0), (0.0, 5.0), (0.0, 10.0)],
        probability_before=0.02,
        probability_after=0.91,
        target=LONG_CLASSES[1],
    ).plot()
    assert_inside(display.figure_)


def test_mask_display_fits_a_long_title():
    true = np.zeros((4, 256, 1600), dtype=bool)
    true[2, 50:150, 200:400] = True
    name = "plant_7/coil_2026-12-08_0001/" + "b" * 80 + ".jpg"
    display = MaskDisplay(np.zeros((256, 1600)), true, true, name=name).plot()
    assert_inside(display.figure_)
    assert name in display.ax_.get_title().replace("\n", "")


def test_a_later_tight_layout_changes_nothing_and_is_silent():
    """Check that the caller's usual ``tight_layout()`` after a Display neither
    warns (the layout engine is not switched) nor cuts a name again."""
    import warnings

    display = RecommendationDisplay(
        sensors=LONG[:2],
        current=[62.0, 1.0],
        recommended=[96.5, 2.0],
        feasible=[(0.0, 100.0), (0.0, 5.0)],
    ).plot()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        display.figure_.tight_layout()
    assert_inside(display.figure_)
