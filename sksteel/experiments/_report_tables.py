"""The report's content: headings, text and tables built from the results.

Both report.md and report.html are rendered from the same blocks, so they
always say the same thing. Paper columns are always labelled "paper".
"""

import math

import numpy as np
import pandas as pd

from .._schema import CLASS_NAMES
from ._models import PAPER_STEELNET, STEELNET_LABEL
from ._paper import PAPER_RESULTS

__all__ = ["headline_table"]

_DASH = "—"

#: Between a value and its spread: no-break spaces keep "0.984 ± 0.003"
#: on one line in narrow table columns.
_PLUS_MINUS = "\u00a0±\u00a0"

#: Readable names of the ablation variants.
_VARIANT_NAMES = {
    "full": "SteelNet (full)",
    "no_attention": "w/o self-attention",
    "no_attribution_loss": "w/o attribution loss",
    "no_modality_dropout": "w/o modality dropout",
    "no_physics": "w/o physics branch",
}


def _number(value, digits=3):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return _DASH
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    return f"{value:.{digits}f}"


def _formatter(n_seeds, digits=3):
    """``cell(summary_row, name)``: "mean ± sd" over seeds (mean alone for one
    seed, where a spread means nothing)."""

    def cell(row, name):
        mean = row[f"{name}_mean"]
        if n_seeds == 1:
            return _number(mean, digits)
        spread = _number(row[f"{name}_std"], digits)
        return f"{_number(mean, digits)}{_PLUS_MINUS}{spread}"

    return cell


def _label(model):
    """A model's name in the tables: "SteelNet" is sksteel's defaults."""
    return STEELNET_LABEL if model == "SteelNet" else model


def _paper_table1(model, metric):
    if model == PAPER_STEELNET:
        return _number(PAPER_RESULTS["table1"].get(metric))
    if model == "LDA" and metric == "accuracy":
        return _number(PAPER_RESULTS["lda_accuracy"])
    return _DASH


def headline_table(results):
    """The README's table: every model on the clean test split, with the
    paper's accuracy beside ours and the area under the uniform-dropout
    accuracy curve. The ceiling row (HistGradientBoosting on ten times more
    rows) is a reference, not a competitor.

    Parameters
    ----------
    results : ReproduceResults
        As returned by :func:`reproduce`.

    Returns
    -------
    table : DataFrame
        Formatted strings, one row per model ("mean ± sd" joined by no-break
        spaces, so that no renderer wraps a value from its spread).

    Examples
    --------
    >>> from sksteel.experiments import headline_table, reproduce
    >>> results = reproduce(quick=True)  # doctest: +SKIP
    >>> print(headline_table(results))  # doctest: +SKIP
    """
    cell = _formatter(len(results.config.seeds))
    summary = results.table1.summary
    areas = results.robustness.auc_summary.xs("uniform", level="mode")
    rows = []
    for model, row in summary.iterrows():
        rows.append(
            {
                "model": _label(model),
                "accuracy": cell(row, "accuracy"),
                "paper accuracy": _paper_table1(model, "accuracy"),
                "weighted F1": cell(row, "f1_weighted"),
                "macro-F1": cell(row, "f1_macro"),
                "balanced accuracy": cell(row, "balanced_accuracy"),
                "accuracy under 0-50 % dropout (area)": cell(
                    areas.loc[model], "accuracy_auc"
                ),
            }
        )
    return pd.DataFrame(rows)


def _table1_tables(results, cell):
    summary = results.table1.summary
    paper_metrics = [
        ("accuracy", "accuracy"),
        ("precision_weighted", "precision (weighted)"),
        ("recall_weighted", "recall (weighted)"),
        ("f1_weighted", "F1 (weighted)"),
    ]
    rows = []
    for model, row in summary.iterrows():
        entry = {"model": _label(model)}
        for metric, label in paper_metrics:
            entry[label] = cell(row, metric)
            entry[f"{label}, paper"] = _paper_table1(model, metric)
        rows.append(entry)
    honest = []
    for model, row in summary.iterrows():
        entry = {
            "model": _label(model),
            "macro-F1": cell(row, "f1_macro"),
            "balanced accuracy": cell(row, "balanced_accuracy"),
        }
        for name in CLASS_NAMES:
            if f"recall_{name}_mean" in row:
                entry[f"recall {name}"] = cell(row, f"recall_{name}")
        honest.append(entry)
    return pd.DataFrame(rows), pd.DataFrame(honest)


def _top(row, k=2):
    """The ``k`` largest shares of an attribution row, as text."""
    top = row.sort_values(ascending=False, kind="stable").head(k)
    return ", ".join(f"{name} {share:.1%}" for name, share in top.items())


def _attribution_tables(results, cell):
    attribution = results.attribution
    summary = attribution.summary.iloc[0]
    fine = _formatter(len(results.config.seeds), digits=4)
    mse = pd.DataFrame(
        [
            {
                "attribution MSE against w*": "per sample, defective test samples",
                "this run": fine(summary, "mse_defective"),
                "paper": _number(PAPER_RESULTS["attribution_mse"], 4),
            },
            {
                "attribution MSE against w*": "per sample, all test samples",
                "this run": fine(summary, "mse_all"),
                "paper": _DASH,
            },
            {
                "attribution MSE against w*": "class means (defect classes)",
                "this run": fine(summary, "mse_class"),
                "paper": _DASH,
            },
            {
                "attribution MSE against w*": "reference: w* of the predicted class "
                "copied, defective test samples",
                "this run": fine(summary, "mse_prior_copy"),
                "paper": _DASH,
            },
        ]
    )
    learned, prior = attribution.class_attributions, attribution.prior
    top_rows = []
    for c in learned.index:
        if c == 0:
            continue
        name = CLASS_NAMES[c]
        paper = PAPER_RESULTS["top_attributions"].get(name, {})
        top_rows.append(
            {
                "class": name,
                "SteelNet top-2 (mean over seeds)": _top(learned.loc[c]),
                "ground truth w* top-2": _top(prior.loc[c]),
                "paper top-2": ", ".join(f"{s} {v:.1%}" for s, v in paper.items()),
            }
        )
    faithful = attribution.faithfulness_summary
    reference = attribution.faithfulness_prior_summary
    faith_rows = [
        {
            "class": CLASS_NAMES[c],
            "top-2 sensors (per seed)": row["top_sensors"],
            "recall drop, top-2 missing": cell(row, "drop_top"),
            "recall drop, 2 random missing": cell(row, "drop_random"),
            "ratio": cell(row, "ratio"),
            "ratio with w*'s top-2": cell(reference.loc[c], "ratio"),
        }
        for c, row in faithful.iterrows()
    ]
    return mse, pd.DataFrame(top_rows), pd.DataFrame(faith_rows)


def _rate_label(rate):
    return f"{rate:.0%}"


def _robustness_table(results, cell, mode, metric):
    summary = results.robustness.summary
    areas = results.robustness.auc_summary
    rows = []
    for model in results.table1.summary.index:
        curve = summary.loc[(model, mode)]
        entry = {"model": _label(model)}
        for rate, row in curve.iterrows():
            entry[_rate_label(rate)] = cell(row, metric)
        entry["area"] = cell(areas.loc[(model, mode)], f"{metric}_auc")
        rows.append(entry)
    if metric == "accuracy" and mode == "uniform":
        paper = PAPER_RESULTS["robustness_accuracy"]
        entry = {"model": "SteelNet, paper"}
        for rate in summary.loc[(results.table1.summary.index[0], mode)].index:
            entry[_rate_label(rate)] = _number(paper.get(float(rate)))
        rates = np.array(list(paper))
        entry["area"] = _number(
            float(np.trapezoid(list(paper.values()), rates) / (rates[-1] - rates[0]))
        )
        rows.append(entry)
    return pd.DataFrame(rows)


def _ablation_table(results, cell):
    summary = results.ablation.summary
    paper = PAPER_RESULTS["ablation"]
    fine = _formatter(len(results.config.seeds), digits=4)
    rows = []
    for variant, row in summary.iterrows():
        rows.append(
            {
                "configuration": _VARIANT_NAMES.get(variant, variant),
                "accuracy": cell(row, "accuracy"),
                "accuracy, paper": _number(paper[variant]["accuracy"]),
                "macro-F1": cell(row, "f1_macro"),
                "macro-F1, 30 % failing": cell(row, "f1_macro_at_30"),
                "macro-F1, 50 % failing": cell(row, "f1_macro_at_50"),
                "balanced accuracy": cell(row, "balanced_accuracy"),
                "attribution MSE": fine(row, "attribution_mse"),
                "attribution MSE, paper": _number(paper[variant]["attribution_mse"], 4),
                "accuracy under 0-50 % dropout (area)": cell(row, "accuracy_auc"),
            }
        )
    return pd.DataFrame(rows)


def _ablation_recall_table(results, cell):
    """Per-class recall of each variant on the clean test split."""
    return pd.DataFrame(
        [
            {
                "configuration": _VARIANT_NAMES.get(variant, variant),
                **{
                    f"recall {name}": cell(row, f"recall_{name}")
                    for name in CLASS_NAMES
                    if f"recall_{name}_mean" in row
                },
            }
            for variant, row in results.ablation.summary.iterrows()
        ]
    )


def _timing_table(results):
    cell = _formatter(len(results.config.seeds), digits=2)
    summary = results.table1.summary
    return pd.DataFrame(
        [
            {
                "model": _label(model),
                "fit time (s)": cell(row, "fit_time"),
                "predict time, test split (s)": cell(row, "predict_time"),
            }
            for model, row in summary.iterrows()
        ]
    )


