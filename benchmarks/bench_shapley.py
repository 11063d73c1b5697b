"""Benchmark exact Shapley values over sensor missingness, and whether they
explain better than the attribution head.

1. Speed. Exact values (all 1,024 coalitions) for 1,000 rows x 10 sensors on
   the default SteelNet, against 1,024 plain ``predict_proba`` calls on the
   same rows, in the same process. Target: at most 5x. Rows per second.
2. Other tools on the same model, rows and game (a missing reading is NaN):
   shap's ``PermutationExplainer`` and Captum's ``ShapleyValueSampling``
   with their defaults, timed and compared with the exact values (mean
   absolute error, relative to the mean absolute exact value). Both mix inputs and
   baselines arithmetically, so the baseline is a finite sentinel that the
   forward function turns into NaN.
3. Faithfulness on the built-in data (paper split, test rows):
   :func:`sksteel.metrics.explanation_comparison` for Shapley values, the
   attribution head, permutation importance and random rankings: area of
   the deletion curve (larger = steeper), rank agreement with ``w*`` on the
   defective rows, and the model-randomisation check; over ``--seeds``.

Run: ``python benchmarks/bench_shapley.py`` (``--quick`` for a small run);
writes ``benchmarks/results/bench_shapley.json``.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from _environment import machine, versions
from sklearn.model_selection import train_test_split

from sksteel.datasets import make_steelnet_dataset
from sksteel.inspection import shapley_values
from sksteel.metrics import explanation_comparison
from sksteel.models import SteelNetClassifier

RESULTS = Path(__file__).parent / "results" / "bench_shapley.json"
SENTINEL = 1e300
SPEED_TARGET_MAX = 5.0


def paper_split(y, seed):
    """Stratified 70 / 15 / 15 row indices (train, valid, test)."""
    rows = np.arange(len(y))
    train, rest = train_test_split(rows, test_size=0.3, stratify=y, random_state=seed)
    valid, test = train_test_split(
        rest, test_size=0.5, stratify=y.iloc[rest], random_state=seed
    )
    return train, valid, test


def fit_steelnet(data, train, seed, epochs):
    """The default SteelNet (paper settings) on the training rows."""
    model = SteelNetClassifier(
        attribution_prior=data.attribution_prior, max_epochs=epochs, random_state=seed
    )
    intensity = data.frame["intensity"].to_numpy()[train]
    return model.fit(data.data.iloc[train], data.target.iloc[train],
                     intensity=intensity)


def timed(function):
    start = time.perf_counter()
    out = function()
    return out, time.perf_counter() - start


def sentinel_proba(model, columns):
    """predict_proba on an array where SENTINEL marks a missing reading."""

    def proba(values):
        values = np.array(values, dtype=float)
        values[values == SENTINEL] = np.nan
        return model.predict_proba(pd.DataFrame(values, columns=columns))

    return proba


def bench_speed(model, X, n_tools_rows):
    """Exact values against 1,024 predict_proba calls; shap and Captum."""
    n_coalitions = 2 ** X.shape[1]
    exact, exact_time = timed(lambda: shapley_values(model, X))
    _, plain_time = timed(lambda: [model.predict_proba(X) for _ in range(n_coalitions)])
    speed = {
        "rows": len(X),
        "sensors": X.shape[1],
        "coalitions": n_coalitions,
        "exact_seconds": exact_time,
        "plain_predict_proba_calls_seconds": plain_time,
        "ratio": exact_time / plain_time,
        "ratio_target_max": SPEED_TARGET_MAX,
        "exact_rows_per_s": len(X) / exact_time,
    }
    rows = X.iloc[:n_tools_rows]
    reference = exact.values.iloc[:n_tools_rows].to_numpy()
    classes = list(model.classes_)
    explained = np.array([classes.index(c) for c in exact.target.iloc[:n_tools_rows]])
    proba = sentinel_proba(model, X.columns)
    scale = np.abs(reference).mean()
    tools = {"exact (sksteel)": {
        "rows": n_tools_rows, "seconds": exact_time * n_tools_rows / len(X),
        "rows_per_s": len(X) / exact_time, "mae": 0.0, "relative_mae": 0.0,
    }}

    import shap

    explainer = shap.PermutationExplainer(
        proba, shap.maskers.Independent(np.full((1, X.shape[1]), SENTINEL))
    )
    result, seconds = timed(lambda: explainer(rows.to_numpy(), silent=True))
    values = result.values[np.arange(n_tools_rows), :, explained]
    tools["shap PermutationExplainer"] = _tool_row(values, reference, scale, seconds)

    from captum.attr import ShapleyValueSampling

    def forward(batch):
        return torch.as_tensor(proba(batch.numpy()))

    sampler = ShapleyValueSampling(forward)
    attributions, seconds = timed(lambda: sampler.attribute(
        torch.tensor(rows.to_numpy()),
        baselines=torch.full((1, X.shape[1]), SENTINEL, dtype=torch.float64),
        target=torch.as_tensor(explained),
    ))
    tools["captum ShapleyValueSampling"] = _tool_row(
        attributions.numpy(), reference, scale, seconds
    )
    return speed, tools


def _tool_row(values, reference, scale, seconds):
    mae = float(np.abs(values - reference).mean())
    return {
        "rows": len(reference), "seconds": seconds,
        "rows_per_s": len(reference) / seconds, "mae": mae,
        "relative_mae": mae / scale,
    }


def print_table(title, table):
    print(f"\n{title}")
    print(pd.DataFrame(table).T.to_string(float_format=lambda v: f"{v:.4g}"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="200 rows, 5 epochs, one seed")
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--tool-rows", type=int, default=50,
                        help="rows explained by shap and Captum")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    if args.quick:
        args.rows, args.tool_rows, args.epochs, args.seeds = 200, 10, 5, [0]
    torch.set_num_threads(1)

    data = make_steelnet_dataset(random_state=0)
    comparisons, speed, tools = [], None, None
    for seed in args.seeds:
        train, _, test = paper_split(data.target, seed)
        model = fit_steelnet(data, train, seed, args.epochs)
        X_test, y_test = data.data.iloc[test], data.target.iloc[test].to_numpy()
        if speed is None:
            rows = data.data.iloc[test].iloc[: args.rows]
            if len(rows) < args.rows:  # the test split has 1,006 rows
                rows = data.data.iloc[: args.rows]
            speed, tools = bench_speed(model, rows, args.tool_rows)
            print_table("Exact Shapley values against 1,024 predict_proba calls",
                        {"SteelNet": speed})
            print_table("Other tools on the same model, rows and game", tools)
        comparison = explanation_comparison(
            model, X_test, y_test, attribution_prior=data.attribution_prior,
            random_state=seed,
        )
        table = comparison.table.assign(
            seed=seed, accuracy=model.score(X_test, y_test),
            **{f"drop_k{k}": [c.drop_mean[k] for c in comparison.curves.values()]
               for k in (1, 2, 3)},
        )
        comparisons.append(table.reset_index())
        print_table(f"Explanations, seed {seed} (test rows, n={len(test)})",
                    table.T.to_dict())
    stacked = pd.concat(comparisons, ignore_index=True)
    grouped = stacked.drop(columns="seed").groupby("method", sort=False)
    summary = grouped.mean().join(grouped.std(ddof=1).add_suffix("_sd"))
    shown = ["deletion_area", "deletion_area_sd", "drop_k1", "drop_k2", "spearman",
             "top_k_overlap", "randomised_spearman", "randomised_distance"]
    print_table(f"Explanations, mean over seeds {args.seeds}",
                summary[shown].T.to_dict())
    areas = stacked.pivot(index="seed", columns="method", values="deletion_area")
    steeper = {}
    for other in areas.columns.drop("shapley"):
        gap = areas["shapley"] - areas[other]
        steeper[other] = {"seeds_steeper": int((gap > 0).sum()),
                          "n_seeds": len(gap), "area_gap_mean": gap.mean(),
                          "area_gap_min": gap.min()}
    print_table("Shapley's deletion area minus the other method's, per seed",
                steeper)

    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({
        "speed": speed,
        "tools": tools,
        "explanations_per_seed": stacked.to_dict(orient="records"),
        "explanations_summary": summary.reset_index().to_dict(orient="records"),
        "shapley_steeper": steeper,
        "settings": {"epochs": args.epochs, "seeds": args.seeds, "rows": args.rows,
                     "tool_rows": args.tool_rows, "torch_threads": 1},
        "machine": machine(),
        "versions": versions("torch", "sklearn", "shap", "captum"),
    }, indent=2, default=float))
    print(f"\nwrote {RESULTS}")


if __name__ == "__main__":
    main()
