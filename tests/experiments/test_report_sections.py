"""Tests of the report's generated sections on small hand-made results:
the differences from the paper, the paired differences and their wording,
the "For the line" summary and the cells that must not wrap."""

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sksteel._schema import CLASS_NAMES, SENSOR_NAMES
from sksteel.experiments import (
    ABLATIONS,
    ReproduceConfig,
    headline_table,
    paired_difference,
)
from sksteel.experiments._models import STEELNET_LABEL
from sksteel.experiments._references import CEILING
from sksteel.experiments._report import _markdown
from sksteel.experiments._report_sections import (
    PAPER_PARAMETERS,
    _Context,
    _differs,
    _for_the_line,
    _noise,
    differences_from_paper,
    paired_comparisons,
)
from sksteel.experiments._table1 import summarise

SEEDS = (0, 1, 2)
MODELS = ("SteelNet", "majority", "LDA", CEILING)


def _scores(groups, columns, offsets):
    """One row per (group, seed): ``base + offset[group] + noise[seed]``."""
    rows = []
    for group in groups:
        for seed in SEEDS:
            rows.append(
                {"model": group, "seed": seed,
                 **{c: 0.8 + offsets[group][seed] for c in columns}}
            )
    return pd.DataFrame(rows)


@pytest.fixture
def results():
    """Fake results: SteelNet beats LDA clearly on every seed; the ablation's
    no_attention differs by noise (+0.01, -0.01, +0.005) and
    no_modality_dropout is lower on every seed."""
    table1_offsets = {
        "SteelNet": [0.10, 0.11, 0.12], "majority": [-0.6, -0.6, -0.6],
        "LDA": [0.02, 0.025, 0.03], CEILING: [0.12, 0.121, 0.119],
    }
    metrics = ["accuracy", "f1_macro", "f1_weighted", "balanced_accuracy"]
    scores = _scores(MODELS, metrics, table1_offsets)
    areas = _scores(MODELS, ["f1_macro_auc", "accuracy_auc"], table1_offsets)
    areas = pd.concat(
        [areas.assign(mode="uniform"), areas.assign(mode="table")], ignore_index=True
    )
    ablation_offsets = {name: [0.0, 0.0, 0.0] for name in ABLATIONS}
    ablation_offsets["no_attention"] = [-0.01, 0.01, -0.005]
    ablation_offsets["no_modality_dropout"] = [-0.08, -0.09, -0.1]
    ablation = _scores(
        ABLATIONS, ["f1_macro", "f1_macro_at_30", "f1_macro_at_50"], ablation_offsets
    )
    drivers = pd.DataFrame(
        np.eye(len(CLASS_NAMES), len(SENSOR_NAMES)) * 0.7 + 0.03,
        index=range(len(CLASS_NAMES)), columns=list(SENSOR_NAMES),
    )
    plant = _scores(MODELS, ["accuracy", "f1_macro"], table1_offsets)
    return SimpleNamespace(
        config=ReproduceConfig(seeds=SEEDS),
        table1=SimpleNamespace(scores=scores, summary=summarise(scores, "model")),
        robustness=SimpleNamespace(
            auc=areas, auc_summary=summarise(areas, ["model", "mode"]),
            plant_summary=summarise(plant, "model", ["accuracy", "f1_macro"]),
            plant_rate=0.17,
        ),
        ablation=SimpleNamespace(scores=ablation),
        attribution=SimpleNamespace(drivers=drivers),
        separability={
            "r2_intensity_linear": 0.4812, "r2_intensity_hgb": 0.8634,
            "majority_rate": 0.8806, "n_normal": 5902, "n_samples": 6702,
            "steelnet_parameters": 118_288,
        },
    )


def _cells(blocks):
    return [
        str(cell)
        for kind, *content in blocks if kind == "table"
        for cell in content[0].to_numpy().ravel()
    ]


def test_differences_from_paper_are_the_run_values(results):
    """Check that every number of the section is the value computed in the
    run (and printed as such), beside the paper's."""
    rows = {row["what"]: row for row in differences_from_paper(results)}
    summary = results.table1.summary
    sep = results.separability
    expected = {
        "LDA accuracy, clean test split": summary.loc["LDA", "accuracy_mean"],
        "SteelNet accuracy, clean test split": summary.loc["SteelNet", "accuracy_mean"],
        "R^2 of the intensity from the ten sensors, linear (5-fold)":
            sep["r2_intensity_linear"],
        "R^2 of the intensity from the ten sensors, HistGradientBoosting (5-fold)":
            sep["r2_intensity_hgb"],
        "defect-free samples": sep["n_normal"],
        "majority-class rate (always answering 'none')": sep["majority_rate"],
        "SteelNet trainable parameters": sep["steelnet_parameters"],
    }
    assert set(rows) == set(expected)
    for what, value in expected.items():
        assert rows[what]["value"] == value, what
    assert rows["SteelNet trainable parameters"]["paper"] == PAPER_PARAMETERS
    table = _differs(results, _Context(results, ()))[-1][1].set_index("what")
    assert table.loc["SteelNet trainable parameters", "this run"] == "118,288"
    assert table.loc["defect-free samples", "this run"] == "5,902"
    assert table.loc[
        "R^2 of the intensity from the ten sensors, linear (5-fold)", "this run"
    ] == "0.48"
    assert "5,902 + 4 x 200 = 6,702" in table.loc["defect-free samples", "why"]
    assert "0.84" in table.loc["majority-class rate (always answering 'none')", "why"]


def test_paired_difference_is_a_t_interval():
    """Check the mean and the 95 % Student t-interval of the per-seed
    differences against a direct computation."""
    scores = pd.DataFrame(
        {"model": ["a"] * 3 + ["b"] * 3, "seed": [0, 1, 2] * 2,
         "x": [0.91, 0.93, 0.95, 0.90, 0.91, 0.92]}
    )
    d = paired_difference(scores, "a", "b", "x")
    diffs = np.array([0.01, 0.02, 0.03])
    half = stats.t.ppf(0.975, 2) * diffs.std(ddof=1) / math.sqrt(3)
    assert d.mean == pytest.approx(0.02)
    assert (d.low, d.high) == pytest.approx((0.02 - half, 0.02 + half))
    assert d.within_noise  # half is 0.0248: the interval contains 0
    assert d.verdict == "within noise"
    one = paired_difference(scores[scores.seed == 0], "a", "b", "x")
    assert math.isnan(one.low) and "no interval" in one.verdict


def test_an_interval_containing_zero_is_worded_as_noise(results):
    """Check that the noise section calls every difference whose interval
    contains 0 "within noise", the others by which is higher, and never an
    improvement."""
    comparisons = dict(
        ((d.second, label), d) for label, d in paired_comparisons(results)
    )
    noisy = comparisons[("no_attention", "clean macro-F1")]
    assert noisy.low < 0 < noisy.high
    clear = comparisons[("no_modality_dropout", "macro-F1, 50 % failing")]
    assert clear.low > 0
    table = _noise(results, _Context(results, ()))[-1][1]
    readings = dict(zip(
        table["comparison"] + " | " + table["measure"], table["reading"]
    ))
    assert readings["SteelNet (full) minus w/o self-attention | clean macro-F1"] == (
        "within noise"
    )
    assert readings[
        "SteelNet (full) minus w/o modality dropout | macro-F1, 50 % failing"
    ] == "SteelNet (full) higher than w/o modality dropout, beyond seed noise"
    # row by row, in the order of the comparisons
    for (_, d), reading in zip(paired_comparisons(results), table["reading"]):
        assert (reading == "within noise") == (d.low <= 0 <= d.high)
    text = _markdown(_noise(results, _Context(results, ())))
    assert "improv" not in text.lower()
    # every model comparison of SteelNet is present, the ceiling included
    assert {d.second for _, d in paired_comparisons(results)} >= {"LDA", CEILING}


def test_for_the_line_names_the_drivers_and_the_plant_rates(results):
    """Check the summary names, per defect class, its most frequent driving
    sensors with their shares, and the scores at the plant's rates."""
    blocks = _for_the_line(results, _Context(results, ()))
    (items,) = [content[0] for kind, *content in blocks if kind == "list"]
    assert len(items) == len(CLASS_NAMES) - 1
    assert items[0].startswith(f"{CLASS_NAMES[1]}: {SENSOR_NAMES[1]} (73%)")
    text = _markdown(blocks)
    assert "mean 17%" in text
    steelnet = results.robustness.plant_summary.loc["SteelNet", "accuracy_mean"]
    assert f"{steelnet:.3f}" in text


def test_cells_do_not_wrap_a_value_from_its_spread(results):
    """Check that "mean ± sd" cells join the value and the spread with
    no-break spaces, in the headline table and the report sections."""
    table = headline_table(results)
    cells = [str(c) for c in table.to_numpy().ravel()]
    cells += _cells(_for_the_line(results, _Context(results, ())))
    spread = [c for c in cells if "±" in c]
    assert spread
    assert all(" ±" not in c and "± " not in c for c in spread)
    assert all("\u00a0±\u00a0" in c for c in spread)
    # "SteelNet" (the model of every section) is labelled as sksteel's defaults
    assert list(table["model"]) == [STEELNET_LABEL, *MODELS[1:]]


def test_separability_is_measured_on_the_data(tmp_path, monkeypatch):
    """Check the R^2 values against a direct 5-fold computation, and the
    rate, count and parameter count against the data and the network."""
    import torch
    from sklearn.linear_model import LinearRegression
    from sklearn.model_selection import KFold, cross_val_score

    from sksteel.experiments import load_experiment_data
    from sksteel.experiments._references import separability

    data = load_experiment_data(n_normal=40, n_per_class=10, data_home=tmp_path)
    network = torch.nn.Linear(10, 5)  # 55 trainable parameters
    net = SimpleNamespace(module_=network)
    run = SimpleNamespace(estimator=SimpleNamespace(net_=net))
    measured = separability(data, run)
    folds = KFold(5, shuffle=True, random_state=0)
    linear = cross_val_score(
        LinearRegression(), data.data, data.frame["intensity"], cv=folds
    ).mean()
    assert measured["r2_intensity_linear"] == pytest.approx(linear)
    assert measured["n_normal"] == 40 and measured["n_samples"] == 80
    assert measured["majority_rate"] == 0.5
    assert measured["steelnet_parameters"] == 55


def test_ceiling_trains_on_other_rows(tmp_path, monkeypatch):
    """Check that the ceiling is fitted once per seed on ten times the rows,
    drawn with another seed (no image of the data set), and that it is left
    out for a user's data folder."""
    from sksteel.experiments import load_experiment_data
    from sksteel.experiments._references import CEILING_FACTOR, fit_ceiling

    monkeypatch.setenv("SKSTEEL_DATA", str(tmp_path))
    config = ReproduceConfig(n_normal=20, n_per_class=3, seeds=(0, 1), quick=True,
                             n_jobs=1)
    runs = fit_ceiling(config)
    assert [(r.model, r.seed) for r in runs] == [(CEILING, 0), (CEILING, 1)]
    big = load_experiment_data(n_normal=200, n_per_class=30, random_state=1)
    small = load_experiment_data(n_normal=20, n_per_class=3)
    assert len(big.frame) == CEILING_FACTOR * len(small.frame)
    assert not set(big.frame["image_id"]) & set(small.frame["image_id"])
    assert runs[0].estimator[-1].n_iter_ > 0
    assert fit_ceiling(ReproduceConfig(data="somewhere")) is None


def test_explanations_section_words_the_paired_deletion_areas():
    """Check that the explanations section tabulates every method and words
    the Shapley-minus-method deletion areas from the run: a clear gap as
    higher, a gap inside the seed noise as noise."""
    from sksteel.experiments._report_sections import (
        _explanations,
        explanation_findings,
    )
    from sksteel.experiments._table1 import summarise

    rows = []
    for seed, (shapley, head, random) in enumerate(
        [(0.20, 0.11, 0.19), (0.19, 0.12, 0.21), (0.21, 0.10, 0.20)]
    ):
        for method, area in [("shapley", shapley), ("head", head),
                             ("random", random)]:
            rows.append({"method": method, "seed": seed, "deletion_area": area,
                         "spearman": 0.5, "top_k_overlap": 0.7})
    table = pd.DataFrame(rows)
    attribution = SimpleNamespace(
        explanations=table,
        explanations_summary=summarise(
            table, "method", ["deletion_area", "spearman", "top_k_overlap"]
        ),
    )
    findings = explanation_findings(attribution)
    assert findings["head"].mean == pytest.approx(0.09)
    assert not findings["head"].within_noise
    assert findings["random"].within_noise
    results = SimpleNamespace(attribution=attribution)
    context = SimpleNamespace(cell=lambda row, name: f"{row[name + '_mean']:.3f}")
    blocks = _explanations(results, context)
    (table_block,) = [block for block in blocks if block[0] == "table"]
    assert table_block[1]["deletion area"].tolist() == ["0.200", "0.110", "0.200"]
    (listed,) = [block for block in blocks if block[0] == "list"]
    assert "beyond seed noise" in listed[1][0] and "within noise" in listed[1][1]
    assert _explanations(SimpleNamespace(attribution=SimpleNamespace()), context) == []
