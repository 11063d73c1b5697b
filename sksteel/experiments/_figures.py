"""The report's figures, drawn from the experiments' results.

Each function returns a matplotlib Figure and draws only what it is given;
matplotlib is imported when a figure is drawn.
"""

import numpy as np
import pandas as pd

from .._schema import CLASS_NAMES, SENSOR_NAMES
from ..plotting import (
    AttributionDisplay,
    RobustnessCurveDisplay,
    TrainingHistoryDisplay,
)
from ._paper import PAPER_RESULTS

__all__ = [
    "ablation_figure",
    "attribution_figure",
    "composition_figure",
    "confusion_figure",
    "correlation_figure",
    "robustness_figure",
    "training_figure",
]

_PAPER_STYLE = {"color": "black", "linestyle": "--", "marker": "s"}

#: The ceiling is a reference line, not one of the competitors.
_REFERENCE_STYLE = {"color": "gray", "linestyle": ":", "linewidth": 2.0}


def _pyplot():
    import matplotlib.pyplot as plt

    return plt


def composition_figure(frame):
    """Class counts, intensity of defective samples, and two sensors by
    defect status (the paper's Fig. 8)."""
    plt = _pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5))
    counts = frame["defect_class"].value_counts().reindex(range(len(CLASS_NAMES)))
    bars = axes[0, 0].bar(CLASS_NAMES, counts.fillna(0).to_numpy(), color="tab:blue")
    axes[0, 0].bar_label(bars, fmt="{:,.0f}", fontsize=8)
    axes[0, 0].set_yscale("log")
    axes[0, 0].set_ylabel("samples (log scale)")
    axes[0, 0].set_title("(a) class composition")

    defective = frame["defect_class"] != 0
    intensity = frame.loc[defective, "intensity"]
    axes[0, 1].hist(intensity, bins=30, color="tab:orange")
    axes[0, 1].set_title(
        f"(b) intensity, defective samples: mean {intensity.mean():.3f}, "
        f"sd {intensity.std():.3f} (paper 0.347, 0.198)",
        fontsize=9,
    )
    axes[0, 1].set_xlabel("intensity")
    for ax, sensor, letter in zip(
        axes[1], ("surface_cleanliness", "curing_temperature"), "cd"
    ):
        for mask, label in ((~defective, "non-defective"), (defective, "defective")):
            ax.hist(
                frame.loc[mask, sensor], bins=40, density=True, alpha=0.6, label=label
            )
        ax.set_title(f"({letter}) {sensor}")
        ax.set_ylabel("density")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def correlation_figure(frame):
    """Pearson correlations of the sensors and the intensity (Fig. 9)."""
    plt = _pyplot()
    columns = [*SENSOR_NAMES, "intensity"]
    corr = frame[columns].corr()
    fig, ax = plt.subplots(figsize=(8.5, 7.5))
    image = ax.imshow(corr.to_numpy(), cmap="RdBu_r", vmin=-1, vmax=1)
    for (i, j), value in np.ndenumerate(corr.to_numpy()):
        ax.text(
            j, i, f"{value:.2f}", ha="center", va="center", fontsize=7,
            color="white" if abs(value) > 0.6 else "black",
        )
    ax.set_xticks(range(len(columns)), labels=columns, rotation=45, ha="right")
    ax.set_yticks(range(len(columns)), labels=columns)
    fig.colorbar(image, ax=ax, fraction=0.046)
    ax.set_title("correlation of the sensors and the intensity")
    fig.tight_layout()
    return fig


def confusion_figure(confusion, model="SteelNet"):
    """Confusion matrix summed over seeds: counts and row-normalised."""
    from sklearn.metrics import ConfusionMatrixDisplay

    plt = _pyplot()
    counts = np.asarray(confusion)
    recall = counts / counts.sum(axis=1, keepdims=True).clip(min=1)
    fig, axes = plt.subplots(1, 2, figsize=(12, 5))
    for ax, matrix, title, fmt in (
        (axes[0], counts, "counts (test splits of all seeds)", "d"),
        (axes[1], recall, "share of each true class (recall on the diagonal)", ".2f"),
    ):
        ConfusionMatrixDisplay(matrix, display_labels=list(CLASS_NAMES)).plot(
            ax=ax, values_format=fmt, colorbar=False, cmap="Blues"
        )
        ax.set_title(f"{model}: {title}", fontsize=10)
    fig.tight_layout()
    return fig


def training_figure(history):
    """Losses and validation accuracy per epoch of one SteelNet fit."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    TrainingHistoryDisplay(pd.DataFrame(history), name="SteelNet, seed 0").plot(ax=ax)
    fig.tight_layout()
    return fig


def attribution_figure(class_attributions, prior):
    """Learned per-class attribution (mean over seeds) beside the
    generator's ground truth (Fig. 4)."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.2), sharey=True)
    vmax = max(class_attributions.to_numpy().max(), prior.to_numpy().max())
    for ax, table, title in (
        (axes[0], class_attributions, "SteelNet (test samples, mean over seeds)"),
        (axes[1], prior, "generator's ground truth w*"),
    ):
        AttributionDisplay(
            table, class_names=[CLASS_NAMES[c] for c in table.index]
        ).plot(ax=ax, title=title, colorbar=False, vmax=vmax)
    fig.tight_layout()
    return fig


def _line_style(model, references):
    if model in references:
        return _REFERENCE_STYLE
    return {"linewidth": 2.5 if model == "SteelNet" else 1.2}


def robustness_figure(summary, models, references=()):
    """Accuracy and macro-F1 against the test-time missing-reading rate, for
    both failure models, every model, and the paper's curve (Fig. 5); the
    models in ``references`` (the ceiling) are drawn dotted gray."""
    plt = _pyplot()
    modes = list(dict.fromkeys(summary.index.get_level_values("mode")))
    fig, axes = plt.subplots(
        len(modes), 2, figsize=(12, 4.6 * len(modes)), squeeze=False
    )
    paper = PAPER_RESULTS["robustness_accuracy"]
    for row, mode in zip(axes, modes):
        for ax, metric in zip(row, ("accuracy", "f1_macro")):
            for model in models:
                # the area of each curve is in the report's tables
                curve = summary.loc[(model, mode)]
                RobustnessCurveDisplay(
                    rates=curve.index.to_numpy(),
                    scores=curve[f"{metric}_mean"].to_numpy(),
                    scores_std=curve[f"{metric}_std"].to_numpy(),
                    metric=metric,
                    name=model,
                ).plot(ax=ax, **_line_style(model, references))
            if metric == "accuracy" and mode == "uniform":
                RobustnessCurveDisplay(
                    rates=list(paper), scores=list(paper.values()), metric=metric,
                    name="paper: SteelNet",
                ).plot(ax=ax, **_PAPER_STYLE)
            ax.set_title(f"{metric}, {mode} failures", fontsize=10)
            ax.grid(alpha=0.3)
            ax.get_legend().remove()
    handles = axes[0, 0].get_lines()
    labels = [*models, "paper: SteelNet"][: len(handles)]
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=9)
    fig.tight_layout(rect=(0, 0.07 / len(modes), 1, 1))
    return fig


def ablation_figure(summary):
    """Accuracy, macro-F1 and attribution MSE of each SteelNet variant, with
    the paper's values as markers (Table 2)."""
    plt = _pyplot()
    variants = list(summary.index)
    paper = PAPER_RESULTS["ablation"]
    x = np.arange(len(variants))
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.4))
    for ax, metric, paper_key in (
        (axes[0], "accuracy", "accuracy"),
        (axes[1], "f1_macro", None),
        (axes[2], "attribution_mse", "attribution_mse"),
    ):
        ax.bar(
            x, summary[f"{metric}_mean"], yerr=summary[f"{metric}_std"], capsize=3,
            color="tab:blue", label="this run (mean +- sd)",
        )
        if paper_key is not None:
            ax.plot(
                x, [paper[v][paper_key] for v in variants], "s", color="black",
                label="paper",
            )
        ax.set_xticks(x, labels=[v.replace("_", " ") for v in variants], rotation=30,
                      ha="right")
        ax.set_title(metric)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=9)
    paper_accuracy = min(paper[v]["accuracy"] for v in variants)
    low = min(
        summary["accuracy_mean"].min(), summary["f1_macro_mean"].min(), paper_accuracy
    )
    for ax in axes[:2]:
        ax.set_ylim(max(0.0, low - 0.05), 1.0)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig
