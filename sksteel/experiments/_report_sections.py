"""The report's sections, in order, each built from the run's results.

A section is a function ``section(results, context) -> list of blocks``
(see :func:`report_blocks` for the block kinds) listed in
:data:`REPORT_SECTIONS`. A new section (explanations, recommendations, ...)
is one more function and one more entry in that list; nothing else changes.
Every number a section prints is read from ``results``: nothing is written
by hand, and the paper's numbers come from ``PAPER_RESULTS``, labelled.
"""

import pandas as pd

from .._schema import CLASS_NAMES
from ._models import ABLATIONS
from ._paired import paired_difference
from ._paper import PAPER_RESULTS
from ._references import CEILING
from ._report_tables import (
    _DASH,
    _VARIANT_NAMES,
    _ablation_recall_table,
    _ablation_table,
    _attribution_tables,
    _formatter,
    _robustness_table,
    _table1_tables,
    _timing_table,
    headline_table,
)

__all__ = ["REPORT_SECTIONS", "differences_from_paper", "paired_comparisons",
           "report_blocks"]

#: The paper's SteelNet parameter count (2.2).
PAPER_PARAMETERS = 547_973

#: The paper's R^2 of the intensity from the ten sensors (A.5).
PAPER_R2 = 0.73

#: Models that are not compared as competitors.
_REFERENCE_ROWS = ("majority", CEILING)


class _Context:
    """What every section shares: the cell formatter and the figures."""

    def __init__(self, results, available_figures):
        self.cell = _formatter(results.config.n_seeds)
        self.available_figures = set(available_figures)

    def figure(self, name, caption):
        if name in self.available_figures:
            return [("figure", name, caption)]
        return []


# -- numbers the sections state ---------------------------------------------


def differences_from_paper(results):
    """Each way this run's data and model differ from the paper's: the value
    measured in this run, the paper's, and the cause in one sentence.

    Returns
    -------
    rows : list of dict
        ``what``, ``value`` (this run, a number), ``paper`` (a number or
        None), ``digits`` and ``why``.
    """
    summary = results.table1.summary
    sep = results.separability
    return [
        {
            "what": "LDA accuracy, clean test split",
            "value": float(summary.loc["LDA", "accuracy_mean"]),
            "paper": PAPER_RESULTS["lda_accuracy"], "digits": 3,
            "why": "The paper's class ranges do not overlap the normal ranges, so "
            "a defect that is expressed at all moves its sensors out of normal "
            "operation: the classes are close to linearly separable.",
        },
        {
            "what": "SteelNet accuracy, clean test split",
            "value": float(summary.loc["SteelNet", "accuracy_mean"]),
            "paper": PAPER_RESULTS["table1"]["accuracy"], "digits": 3,
            "why": "The same separability: every model here scores far above "
            "the paper's numbers.",
        },
        {
            "what": "R^2 of the intensity from the ten sensors, linear (5-fold)",
            "value": sep["r2_intensity_linear"], "paper": PAPER_R2, "digits": 2,
            "why": "The intensity moves the sensors non-linearly (a weakly "
            "expressed defect reads close to normal whatever its intensity), "
            "which a linear fit cannot follow.",
        },
        {
            "what": "R^2 of the intensity from the ten sensors, "
            "HistGradientBoosting (5-fold)",
            "value": sep["r2_intensity_hgb"], "paper": PAPER_R2, "digits": 2,
            "why": "A non-linear regressor recovers most of the intensity: the "
            "information is in the readings.",
        },
        {
            "what": "defect-free samples",
            "value": sep["n_normal"], "paper": None, "digits": 0,
            "why": "The paper's 6,502 + 4 x 200 does not add up to its 6,702 "
            "samples (nor to its split sizes); its 5,902 (the composition "
            "correction, the default) keeps the total. This run: "
            f"{sep['n_normal']:,} + {len(CLASS_NAMES) - 1} x "
            f"{results.config.n_per_class:,} = {sep['n_samples']:,}.",
        },
        {
            "what": "majority-class rate (always answering 'none')",
            "value": sep["majority_rate"], "paper": None, "digits": 3,
            "why": f"The paper's LDA accuracy ({PAPER_RESULTS['lda_accuracy']}) is "
            "below this rate, so it cannot come from this composition: it is "
            "not a target.",
        },
        {
            "what": "SteelNet trainable parameters",
            "value": sep["steelnet_parameters"], "paper": PAPER_PARAMETERS,
            "digits": 0,
            "why": "sksteel builds the layers the paper lists (2.2); the paper "
            "does not say what else its count includes.",
        },
    ]


def paired_comparisons(results):
    """Every model and ablation comparison as a paired difference over seeds.

    SteelNet minus each other model (the ceiling included, as a reference)
    on clean macro-F1 and on the area under the uniform-dropout macro-F1
    curve; the full SteelNet minus each ablation variant on clean macro-F1
    and on macro-F1 with 30 % and 50 % of the readings failing.

    Returns
    -------
    comparisons : list of (str, PairedDifference)
        A label of the measure and the difference.
    """
    table1 = results.table1.scores
    areas = results.robustness.auc.query("mode == 'uniform'")
    out = []
    models = [m for m in results.table1.summary.index if m not in ("SteelNet",)]
    for model in models:
        out.append(("clean macro-F1",
                    paired_difference(table1, "SteelNet", model, "f1_macro")))
        out.append(("macro-F1 area, 0-50 % failing",
                    paired_difference(areas, "SteelNet", model, "f1_macro_auc")))
    ablation = results.ablation.scores
    for variant in (v for v in ABLATIONS if v != "full"):
        for metric, label in (
            ("f1_macro", "clean macro-F1"),
            ("f1_macro_at_30", "macro-F1, 30 % failing"),
            ("f1_macro_at_50", "macro-F1, 50 % failing"),
        ):
            out.append((label, paired_difference(ablation, "full", variant, metric)))
    return out


def _name(model):
    return _VARIANT_NAMES.get(model, model)


# -- sections ----------------------------------------------------------------


def _title(results, context):
    env = results.environment
    seeds = list(results.config.seeds)
    spread = (
        f"mean ± sample standard deviation over {len(seeds)} seeds {seeds}"
        if len(seeds) > 1
        else f"one seed ({seeds[0]}): no spread is shown"
    )
    return [
        ("h1", "sksteel reproduce: SteelNet on the multimodal steel data set"),
        ("p", "Produced by this command; every number below comes from that run:"),
        ("code", results.config.command),
        ("p", f"sksteel {env['sksteel']}, {env['platform']}, {env['cpus']} CPU "
              f"cores, total time {results.timing['total']:.0f} s. Scores are "
              f"{spread}. Columns marked 'paper' are the numbers published in "
              "the SteelNet paper, shown for comparison only."),
    ]


def _for_the_line(results, context):
    """What a process engineer checks first: which sensors drive each defect
    class in this run, and the scores at the plant's own failure rates."""
    drivers = results.attribution.drivers
    items = []
    for c, shares in drivers.iterrows():
        if c == 0:
            continue
        top = shares.sort_values(ascending=False, kind="stable").head(2)
        named = " and ".join(f"{s} ({share:.0%})" for s, share in top.items())
        items.append(f"{CLASS_NAMES[c]}: {named} of its test samples")
    blocks = [
        ("h2", "For the line"),
        ("p", "Sensors that most often drive each defect class: the sensor with "
              "SteelNet's largest attribution, counted over the defective test "
              "samples of every seed."),
        ("list", items),
    ]
    plant = results.robustness.plant_summary
    if plant is not None:
        cell = context.cell
        rate = results.robustness.plant_rate
        rows = [
            {
                "model": model,
                "accuracy": cell(row, "accuracy"),
                "macro-F1": cell(row, "f1_macro"),
            }
            for model, row in plant.iterrows()
        ]
        steel = plant.loc["SteelNet"]
        blocks += [
            ("p", "At the plant's failure rates (each reading missing with its "
                  "sensor's own failure probability from the sensor table, mean "
                  f"{rate:.0%}), SteelNet keeps accuracy "
                  f"{cell(steel, 'accuracy')} and macro-F1 "
                  f"{cell(steel, 'f1_macro')}; every model on the same masks:"),
            ("table", pd.DataFrame(rows)),
        ]
    return blocks


def _headline(results, context):
    return [
        ("h2", "Headline"),
        ("table", headline_table(results)),
        ("p", "Always answering 'none' (the majority row) already scores the "
              "accuracy of the defect-free share; macro-F1, balanced accuracy and "
              "the per-class recalls are the scores that tell models apart. The "
              f"row '{CEILING}' is a reference, not a competitor: "
              "HistGradientBoosting trained on ten times more generated rows "
              "(another seed), scored on the same test splits, shows what more "
              "data buys."),
    ]


def _findings(results, context):
    """Plain statements read off the numbers of this run (nothing else)."""
    summary = results.table1.summary
    trained = summary.drop(index=list(_REFERENCE_ROWS), errors="ignore")
    accuracy = trained["accuracy_mean"]
    spread = (
        f"every trained model's accuracy is {accuracy.min():.3f}"
        if f"{accuracy.min():.3f}" == f"{accuracy.max():.3f}"
        else f"the trained models' accuracy ranges from {accuracy.min():.3f} "
        f"({accuracy.idxmin()}) to {accuracy.max():.3f} ({accuracy.idxmax()})"
    )
    findings = [
        f"Clean test split: {spread}; always answering 'none' scores "
        f"{summary.loc['majority', 'accuracy_mean']:.3f}. The paper reports "
        f"{PAPER_RESULTS['table1']['accuracy']:.3f} for SteelNet and "
        f"{PAPER_RESULTS['lda_accuracy']:.2f} for LDA (see 'How this differs "
        "from the paper')."
    ]
    areas = results.robustness.auc_summary.xs("uniform", level="mode")
    areas = areas.drop(index=list(_REFERENCE_ROWS), errors="ignore")
    ranked = areas["f1_macro_auc_mean"].sort_values(ascending=False)
    findings.append(
        "Uniform test-time dropout, area under the macro-F1 curve, highest "
        "first: " + ", ".join(f"{model} {value:.3f}" for model, value in ranked.items())
        + f". SteelNet ranks {list(ranked.index).index('SteelNet') + 1} of "
        f"{len(ranked)}; see 'What is noise' for which gaps exceed the seed noise."
    )
    if CEILING in summary.index:
        ceiling = context.cell(summary.loc[CEILING], "f1_macro")
        steelnet = context.cell(summary.loc["SteelNet"], "f1_macro")
        findings.append(
            f"The ceiling reaches macro-F1 {ceiling} on the same test splits, "
            f"against SteelNet's {steelnet}."
        )
    ablation = results.ablation.scores
    for rate in (30, 50):
        gain = paired_difference(
            ablation, "full", "no_modality_dropout", f"f1_macro_at_{rate}"
        )
        interval = " (mean [95 % interval])" if gain.n_seeds > 1 else ""
        findings.append(
            f"Modality dropout, macro-F1 with {rate} % of the readings failing: "
            f"full minus 'w/o modality dropout' {gain.text()}{interval}: "
            f"{gain.reading(_name('full'), _name('no_modality_dropout'))}."
        )
    return [("h2", "What this run shows"), ("list", findings)]


def _differs(results, context):
    rows = []
    for row in differences_from_paper(results):
        digits = row["digits"]
        value = f"{row['value']:,.{digits}f}"
        paper = "—" if row["paper"] is None else f"{row['paper']:,.{digits}f}"
        rows.append({"what": row["what"], "this run": value, "paper": paper,
                     "why": row["why"]})
    return [
        ("h2", "How this differs from the paper"),
        ("p", "Measured in this run, beside the paper's figure where it gives "
              "one; the data set is easier than the paper's, and this is why."),
        ("table", pd.DataFrame(rows)),
    ]


def _noise(results, context):
    comparisons = paired_comparisons(results)
    rows = [
        {
            "comparison": f"{_name(d.first)} minus {_name(d.second)}",
            "measure": label,
            "paired difference [95 % interval]": d.text(),
            "reading": d.reading(_name(d.first), _name(d.second)),
        }
        for label, d in comparisons
    ]
    noise = sum(d.within_noise for _, d in comparisons)
    count = (
        f"{noise} of {len(comparisons)} comparisons are within noise."
        if results.config.n_seeds > 1
        else "With one seed there are no intervals: no difference is a finding."
    )
    return [
        ("h2", "What is noise"),
        ("p", "Each comparison is paired over seeds (the two models share the "
              "seed's split, failure masks and random_state): the mean "
              "difference and a 95 % Student t-interval over the per-seed "
              "differences. An interval containing 0 is within noise; a "
              "difference outside it says only which score is higher on this "
              f"data set. {count}"),
        ("table", pd.DataFrame(rows)),
    ]


def _protocol(results, context):
    return [("h2", "Protocol"), ("list", results.protocol)]


def _dataset(results, context):
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
        *context.figure("dataset_composition", "Data set composition"),
        *context.figure(
            "correlation_matrix", "Correlation of the sensors and the intensity"
        ),
    ]


def _table1(results, context):
    table1, honest = _table1_tables(results, context.cell)
    return [
        ("h2", "Table 1: classification on the clean test split"),
        ("table", table1),
        ("table", honest),
        *context.figure(
            "confusion_matrix", "SteelNet confusion matrix, summed over seeds"
        ),
        *context.figure("training_curves", "SteelNet training curves (seed 0)"),
    ]


def _coinciding_top_sensors(attribution):
    """How many (class, seed) cases have the same top-2 sensors for the
    model's class attribution and for w*."""
    model = attribution.faithfulness.set_index(["class", "seed"])["top_sensors"]
    prior = attribution.faithfulness_prior.set_index(["class", "seed"])["top_sensors"]
    same = [
        set(model[key].split(", ")) == set(prior[key].split(", "))
        for key in model.index
    ]
    return sum(same), len(same)


def _attribution(results, context):
    mse, top, faithful = _attribution_tables(results, context.cell)
    same, cases = _coinciding_top_sensors(results.attribution)
    return [
        ("h2", "Attribution"),
        ("p", "What each number measures. Attribution MSE: the squared "
              "difference between SteelNet's per-sample attribution (its "
              "attribution head, a distribution over the ten sensors) and w*, "
              "the generator's ground-truth attribution of the sample's true "
              "class, averaged over sensors and samples. The reference row "
              "copies w* of the predicted class as the explanation: any "
              "classifier gets that score for free, so it is the bar the head "
              "is read against. Without the attribution loss (gamma=0) the head "
              "is trained by the sparsity term alone, with no w* target, so the "
              "paper's '+50 %' for that variant is not a like-for-like "
              "comparison."),
        ("table", mse),
        ("table", top),
        ("p", "Faithfulness: for each defect class, the drop in that class's "
              "recall when its top-2 attributed sensors are missing, against the "
              "mean drop when 2 sensors are missing (every pair once). A ratio "
              "above 1 means the classifier relies on the sensors named. The "
              f"model's top-2 and w*'s top-2 coincide in {same} of {cases} "
              "(class, seed) cases, so this checks the classifier's reliance on "
              "those sensors, not the attribution head itself."),
        ("table", faithful),
        *context.figure(
            "attribution_heatmap",
            "Per-class attribution: SteelNet and the generator's ground truth",
        ),
    ]


def _robustness(results, context):
    blocks = [
        ("h2", "Robustness to missing sensor readings at test time"),
        ("p", "uniform: every reading missing with the given probability (the "
              "paper's setting); table: per-sensor probabilities from the sensor "
              "table's failure rates, scaled to that mean. Area: the area under "
              "the curve divided by the range of rates (the mean score over "
              "0-50 %). The ceiling is drawn dotted, as a reference."),
    ]
    for mode in ("uniform", "table"):
        for metric, label in (("accuracy", "accuracy"), ("f1_macro", "macro-F1")):
            blocks += [
                ("p", f"{label}, {mode} failures:"),
                ("table", _robustness_table(results, context.cell, mode, metric)),
            ]
    return blocks + context.figure(
        "robustness_curves", "Scores against the missing-reading rate"
    )


def _ablation(results, context):
    return [
        ("h2", "Table 2: ablation"),
        ("p", f"Each variant is SteelNet with one change ({', '.join(ABLATIONS)}), "
              "trained on the same splits and seeds; macro-F1 is also given with "
              "30 % and 50 % of the readings failing (uniform). Paired "
              "differences with the full model are in 'What is noise'."),
        ("table", _ablation_table(results, context.cell)),
        ("p", "Per-class recall of each variant, clean test split:"),
        ("table", _ablation_recall_table(results, context.cell)),
        *context.figure("ablation", "Ablation: SteelNet variants against the paper"),
    ]


def _timing(results, context):
    return [
        ("h2", "Timing"),
        ("table", _timing_table(results)),
        ("p", "Stages: " + ", ".join(
            f"{stage} {seconds:.0f} s" for stage, seconds in results.timing.items()
        )),
    ]


def _provenance(results, context):
    env = results.environment
    versions = ", ".join(
        f"{name} {env[name]}" for name in ("python", "scikit-learn", "torch")
    )
    return [
        ("h2", "Provenance"),
        ("p", f"Platform {env['platform']}; CPU {env.get('cpu', 'unknown')}, "
              f"{env['cpus']} cores; torch's CPU kernels use the "
              f"{env.get('torch_cpu_capability', 'unknown')} instruction set; "
              f"{versions}. The run is deterministic on one machine; a CPU with "
              "another instruction set gives float-level differences in the "
              "networks' training, which can move a score in its third decimal."),
    ]


#: How the report names the explanation methods.
_METHOD_NAMES = {
    "shapley": "Shapley values over missingness",
    "head": "attribution head (paper)",
    "permutation": "permutation importance (one global ranking)",
    "random": "random ranking",
}


def explanation_findings(attribution):
    """Paired differences of the deletion area, Shapley minus each other
    method, over seeds (empty when the comparison was not run)."""
    table = getattr(attribution, "explanations", None)
    if table is None or table.empty:
        return {}
    methods = [m for m in table["method"].unique() if m != "shapley"]
    return {
        method: paired_difference(
            table, "shapley", method, "deletion_area", by="method"
        )
        for method in methods
    }


def _explanations(results, context):
    attribution = results.attribution
    summary = getattr(attribution, "explanations_summary", None)
    if summary is None:
        return []
    cell = context.cell
    rows = []
    for method, row in summary.iterrows():
        rows.append(
            {
                "method": _METHOD_NAMES.get(method, method),
                "deletion area": cell(row, "deletion_area"),
                "Spearman with w*": cell(row, "spearman"),
                "top-2 overlap with w*": cell(row, "top_k_overlap"),
            }
        )
    findings = [
        f"Shapley minus {_METHOD_NAMES.get(method, method)}: {d.text()} "
        f"({d.reading('Shapley values', _METHOD_NAMES.get(method, method))})"
        for method, d in explanation_findings(attribution).items()
    ]
    return [
        ("h2", "Explanations"),
        ("p", "Which readings drove each prediction, by four methods, on the "
              "same test rows of every seed (every defective row up to half of "
              "them, the rest defect-free). Deletion area: the mean drop of the "
              "predicted class's probability as each method's top-1, top-2, ... "
              "readings are made missing; larger is more faithful to the model. "
              "Spearman and top-2 overlap: agreement with the generator's w* of "
              "the true class on the defective rows; the head is trained to "
              "reproduce w*, so it is expected to agree more, while the Shapley "
              "values follow the model."),
        ("table", pd.DataFrame(rows)),
        ("p", "Paired differences of the deletion area over seeds (95 % "
              "t-interval):"),
        ("list", findings),
    ]


#: Issue 15's targets for the recommendations, as (measure, bound, ">=" or
#: "<=").
RECOMMENDATION_TARGETS = (
    ("validity", 0.9, ">="),
    ("precision", 0.8, ">="),
    ("plausibility", 0.8, ">="),
    ("median_changes", 2, "<="),
)


def _recommendations(results, context):
    recommendations = getattr(results, "recommendations", None)
    if recommendations is None:
        return []
    cell = context.cell
    summary = recommendations.summary
    rows, missed = [], []
    for name, row in summary.iterrows():
        blocked = row["n_rows_mean"] == row["n_not_actionable_mean"]
        rows.append(
            {
                "class": name,
                "rows per seed": f"{row['n_rows_mean']:.1f}",
                "drivers not actionable": f"{row['n_not_actionable_mean']:.1f}",
                **{
                    label: _DASH if blocked else cell(row, measure)
                    for measure, label in _RECOMMENDATION_COLUMNS.items()
                },
            }
        )
        if blocked:
            continue
        for measure, bound, side in RECOMMENDATION_TARGETS:
            mean = row[f"{measure}_mean"]
            met = mean >= bound if side == ">=" else mean <= bound
            if not met:
                missed.append(
                    f"{name}: {_RECOMMENDATION_COLUMNS[measure]} {mean:.3f} "
                    f"(target {side} {bound})"
                )
    targets = ", ".join(
        f"{_RECOMMENDATION_COLUMNS[measure]} {side} {bound}"
        for measure, bound, side in RECOMMENDATION_TARGETS
    )
    return [
        ("h2", "Recommendations"),
        ("p", "Setpoint recommendations (sksteel.recommend.SetpointRecommender, "
              f"method='{recommendations.method}', on each seed's fitted SteelNet, "
              "fitted on the seed's training rows) for "
              f"{recommendations.rows_per_seed} defective test rows per seed "
              "(clean readings), drawn at random; scored on those the model "
              "predicts as defective. "
              "Validity: the share whose recommendation reaches the model's "
              "threshold for 'none', among the rows whose drivers are actionable "
              "(rows whose only fix is a non-actionable sensor, such as ambient "
              "humidity, are counted apart, not as failures). Precision and "
              "recall: of the changed sensors against the sensors the generator "
              "deviated for the class (w* > 0). Plausibility: the share of "
              "recommended points that the seed's HistGradientBoosting, trained "
              "on the same rows, classifies as 'none'. Cost: the sum of the "
              "changes in units of each sensor's normal range width. Mean ± sd "
              "over seeds."),
        ("table", pd.DataFrame(rows)),
        ("p", f"Targets ({targets}) missed by the means above:"),
        ("list", missed or ["none"]),
    ]


#: The measures of the recommendations table and their column labels.
_RECOMMENDATION_COLUMNS = {
    "validity": "validity",
    "precision": "precision",
    "recall": "recall",
    "plausibility": "plausibility",
    "median_changes": "median changes",
    "median_cost": "median cost",
}


#: The report's sections, in order: ``(name, section(results, context))``.
#: Add a section here (for example the explanations or the recommendations)
#: to put it in report.md and report.html alike.
REPORT_SECTIONS = [
    ("title", _title),
    ("for the line", _for_the_line),
    ("headline", _headline),
    ("findings", _findings),
    ("differs", _differs),
    ("noise", _noise),
    ("protocol", _protocol),
    ("dataset", _dataset),
    ("table1", _table1),
    ("attribution", _attribution),
    ("explanations", _explanations),
    ("recommendations", _recommendations),
    ("robustness", _robustness),
    ("ablation", _ablation),
    ("timing", _timing),
    ("provenance", _provenance),
]


def report_blocks(results, available_figures=()):
    """Every heading, paragraph, table and figure of the report, in order.

    Parameters
    ----------
    results : ReproduceResults
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
    context = _Context(results, available_figures)
    blocks = []
    for _, section in REPORT_SECTIONS:
        blocks += section(results, context)
    return blocks
