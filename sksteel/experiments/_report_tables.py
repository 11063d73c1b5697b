"""The report's content: headings, text and tables built from the results.

Both report.md and report.html are rendered from the same blocks, so they
always say the same thing. Paper columns are always labelled "paper".
"""

import math

import numpy as np
import pandas as pd

from .._schema import CLASS_NAMES
from ._models import ABLATIONS
from ._paper import PAPER_RESULTS

__all__ = ["headline_table", "report_blocks"]

_DASH = "—"

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
        return f"{_number(mean, digits)} ± {_number(row[f'{name}_std'], digits)}"

    return cell


def _paper_table1(model, metric):
    if model == "SteelNet":
        return _number(PAPER_RESULTS["table1"].get(metric))
    if model == "LDA" and metric == "accuracy":
        return _number(PAPER_RESULTS["lda_accuracy"])
    return _DASH


def headline_table(results):
    """The README's table: every model on the clean test split, with the
    paper's accuracy beside ours and the area under the uniform-dropout
    accuracy curve.

    Parameters
    ----------
    results : Bunch
        As returned by :func:`reproduce`.

    Returns
    -------
    table : DataFrame
        Formatted strings, one row per model.

    Examples
    --------
    >>> from sksteel.experiments import headline_table, reproduce
    >>> results = reproduce(quick=True)  # doctest: +SKIP
    >>> print(headline_table(results))  # doctest: +SKIP
    """
    cell = _formatter(len(results.config["seeds"]))
    summary = results.table1.summary
    areas = results.robustness.auc_summary.xs("uniform", level="mode")
    rows = []
    for model, row in summary.iterrows():
        rows.append(
            {
                "model": model,
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
        entry = {"model": model}
        for metric, label in paper_metrics:
            entry[label] = cell(row, metric)
            entry[f"{label}, paper"] = _paper_table1(model, metric)
        rows.append(entry)
    honest = []
    for model, row in summary.iterrows():
        entry = {
            "model": model,
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
    fine = _formatter(len(results.config["seeds"]), digits=4)
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
        entry = {"model": model}
        for rate, row in curve.iterrows():
            entry[_rate_label(rate)] = cell(row, metric)
        entry["area"] = cell(areas.loc[(model, mode)], f"{metric}_auc")
        rows.append(entry)
    if metric == "accuracy" and mode == "uniform":
        paper = PAPER_RESULTS["robustness_accuracy"]
        entry = {"model": "SteelNet, paper"}
        for rate in summary.loc[(rows[0]["model"], mode)].index:
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
    fine = _formatter(len(results.config["seeds"]), digits=4)
    rows = []
    for variant, row in summary.iterrows():
        rows.append(
            {
                "configuration": _VARIANT_NAMES.get(variant, variant),
                "accuracy": cell(row, "accuracy"),
                "accuracy, paper": _number(paper[variant]["accuracy"]),
                "macro-F1": cell(row, "f1_macro"),
                "balanced accuracy": cell(row, "balanced_accuracy"),
                "attribution MSE": fine(row, "attribution_mse"),
                "attribution MSE, paper": _number(paper[variant]["attribution_mse"], 4),
                "accuracy under 0-50 % dropout (area)": cell(row, "accuracy_auc"),
            }
        )
    return pd.DataFrame(rows)


def _timing_table(results):
    cell = _formatter(len(results.config["seeds"]), digits=2)
    summary = results.table1.summary
    return pd.DataFrame(
        [
            {
                "model": model,
                "fit time (s)": cell(row, "fit_time"),
                "predict time, test split (s)": cell(row, "predict_time"),
            }
            for model, row in summary.iterrows()
        ]
    )


def _dataset_blocks(results):
    dataset = results.dataset
    counts = pd.DataFrame(
        [
            {"class": name, **{k: f"{v:,}" for k, v in split.items()}}
            for name, split in dataset["class_counts"].items()
        ]
    )
    return [
        ("h2", "Data set"),
        ("p", dataset["source"]),
        ("table", counts),
        ("table", dataset["statistics"]),
    ]


def _findings(results):
    """Plain statements read off the numbers of this run (nothing else)."""
    summary = results.table1.summary
    trained = summary.drop(index="majority", errors="ignore")["accuracy_mean"]
    spread = (
        f"every trained model's accuracy is {trained.min():.3f}"
        if f"{trained.min():.3f}" == f"{trained.max():.3f}"
        else f"the trained models' accuracy ranges from {trained.min():.3f} "
        f"({trained.idxmin()}) to {trained.max():.3f} ({trained.idxmax()})"
    )
    findings = [
        f"Clean test split: {spread}; always answering 'none' scores "
        f"{summary.loc['majority', 'accuracy_mean']:.3f}. The paper reports "
        f"{PAPER_RESULTS['table1']['accuracy']:.3f} for SteelNet and "
        f"{PAPER_RESULTS['lda_accuracy']:.2f} for LDA."
    ]
    areas = results.robustness.auc_summary.xs("uniform", level="mode")
    ranked = areas["f1_macro_auc_mean"].sort_values(ascending=False)
    findings.append(
        "Uniform test-time dropout, area under the macro-F1 curve, best first: "
        + ", ".join(f"{model} {value:.3f}" for model, value in ranked.items())
        + f". SteelNet ranks {list(ranked.index).index('SteelNet') + 1} of "
        f"{len(ranked)}."
    )
    ablation = results.ablation.summary
    mse = results.attribution.summary.iloc[0]["mse_defective_mean"]
    findings.append(
        f"SteelNet's attribution MSE against the generator's ground truth "
        f"(defective test samples) is {mse:.4f} (paper "
        f"{PAPER_RESULTS['attribution_mse']}); without the attribution loss it "
        f"is {ablation.loc['no_attribution_loss', 'attribution_mse_mean']:.4f}."
    )
    area = ablation["accuracy_auc_mean"]
    findings.append(
        "Without modality dropout, the area under SteelNet's uniform-dropout "
        f"accuracy curve is {area['no_modality_dropout']:.3f} against "
        f"{area['full']:.3f} for the full model."
    )
    return findings


def report_blocks(results, available_figures=()):
    """Every heading, paragraph, table and figure of the report, in order.

    Parameters
    ----------
    results : Bunch
        As returned by :func:`reproduce`.
    available_figures : set of str, default=()
        Names of the figures written; others are not referenced.

    Returns
    -------
    blocks : list of tuple
        ``(kind, *content)`` with kind in ``h1``, ``h2``, ``p``, ``list``,
        ``code``, ``table`` (a DataFrame of strings) and ``figure`` (name,
        caption).
    """
    config = results.config
    seeds = config["seeds"]
    cell = _formatter(len(seeds))

    def figure(name, caption):
        return [("figure", name, caption)] if name in available_figures else []

    table1, honest = _table1_tables(results, cell)
    mse, top, faithful = _attribution_tables(results, cell)
    spread = (
        f"mean ± sample standard deviation over {len(seeds)} seeds {seeds}"
        if len(seeds) > 1
        else f"one seed ({seeds[0]}): no spread is shown"
    )
    blocks = [
        ("h1", "sksteel reproduce: SteelNet on the multimodal steel data set"),
        ("p", "Produced by this command; every number below comes from that run:"),
        ("code", config["command"]),
        ("p", f"sksteel {results.environment['sksteel']}, "
              f"{results.environment['platform']}, {results.environment['cpus']} "
              f"CPU cores, total time {results.timing['total']:.0f} s. "
              f"Scores are {spread}. Columns marked 'paper' are the numbers "
              "published in the SteelNet paper, shown for comparison only."),
        ("h2", "Headline"),
        ("table", headline_table(results)),
        ("p", "Always answering 'none' (the majority row) already scores the "
              "accuracy of the defect-free share; macro-F1, balanced accuracy and "
              "the per-class recalls are the scores that tell models apart."),
        ("h2", "What this run shows"),
        ("list", _findings(results)),
        ("h2", "Protocol"),
        ("list", results.protocol),
        *_dataset_blocks(results),
        *figure("dataset_composition", "Data set composition"),
        *figure("correlation_matrix", "Correlation of the sensors and the intensity"),
        ("h2", "Table 1: classification on the clean test split"),
        ("table", table1),
        ("table", honest),
        *figure("confusion_matrix", "SteelNet confusion matrix, summed over seeds"),
        *figure("training_curves", "SteelNet training curves (seed 0)"),
        ("h2", "Attribution"),
        ("table", mse),
        ("table", top),
        ("p", "Faithfulness: for each defect class, the drop in that class's "
              "recall when its top-2 attributed sensors are missing, against the "
              "mean drop when 2 sensors are missing (every pair once). A ratio "
              "above 1 means the model relies on the sensors it names."),
        ("table", faithful),
        *figure(
            "attribution_heatmap",
            "Per-class attribution: SteelNet and the generator's ground truth",
        ),
        ("h2", "Robustness to missing sensor readings at test time"),
        ("p", "uniform: every reading missing with the given probability (the "
              "paper's setting); table: per-sensor probabilities from the sensor "
              "table's failure rates, scaled to that mean. Area: the area under "
              "the curve divided by the range of rates (the mean score over 0-50 %)."),
    ]
    for mode in ("uniform", "table"):
        for metric, label in (("accuracy", "accuracy"), ("f1_macro", "macro-F1")):
            blocks += [
                ("p", f"{label}, {mode} failures:"),
                ("table", _robustness_table(results, cell, mode, metric)),
            ]
    blocks += [
        *figure("robustness_curves", "Scores against the missing-reading rate"),
        ("h2", "Table 2: ablation"),
        ("p", f"Each variant is SteelNet with one change ({', '.join(ABLATIONS)}), "
              "trained on the same splits and seeds."),
        ("table", _ablation_table(results, cell)),
        *figure("ablation", "Ablation: SteelNet variants against the paper"),
        ("h2", "Timing"),
        ("table", _timing_table(results)),
        ("p", "Stages: " + ", ".join(
            f"{stage} {seconds:.0f} s" for stage, seconds in results.timing.items()
        )),
    ]
    return blocks
