"""Benchmark setpoint recommendations against the generator's true causes.

On the SteelNet data (:func:`sksteel.datasets.make_steelnet_dataset`), for
each of ``N_SEEDS`` seeds (data, split, failures and models all seeded),
a SteelNetClassifier and a HistGradientBoosting are fitted on a stratified
training half; on the defective test rows a model predicts as defective
(test readings failed at rate ``FAILURE_RATE`` with the sensor table's
per-sensor probabilities), a :class:`~sksteel.recommend.SetpointRecommender`
fitted on the training rows recommends setpoints, with three set-ups:

- ``steelnet gradient``: SteelNet, ``method="gradient"``;
- ``steelnet search``: SteelNet, ``method="search"`` (model-agnostic);
- ``hgb search``: HistGradientBoosting, ``method="search"``.

Per class (:func:`sksteel.recommend.score_recommendations`):

1. validity: share of rows whose recommendation reaches ``threshold`` for
   "none" (rows whose drivers are not actionable counted apart);
2. precision and recall of the changed sensors against the sensors the
   generator deviated for the class (``w* > 0``);
3. independent plausibility: share of recommended points that a
   HistGradientBoosting trained on the same rows (other seed and depth than
   the model under test) classifies as "none";
4. median changes and median cost.

Each is given as the mean over seeds with a 95 % t-interval, and the
gradient minus the search on SteelNet as a paired difference over seeds.

Targets (issue 15): validity >= 0.9 on classes with actionable drivers,
precision >= 0.8, plausibility >= 0.8, median changes <= 2.

With ``--dice`` and dice-ml installed, DiCE (``method="random"``) is
compared with the HGB search on rows without NaN of the first seed (DiCE
refuses NaN): validity, sparsity, cost, time.

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_recommend.py [--small]
[--dice]``; writes ``benchmarks/results/bench_recommend.json``.
"""

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _environment import machine, versions
from scipy import stats
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import train_test_split

from sksteel.datasets import SENSORS, make_steelnet_dataset
from sksteel.experiments import paired_difference
from sksteel.models import SteelNetClassifier
from sksteel.preprocessing import SensorFailure
from sksteel.recommend import SetpointRecommender, score_recommendations

RESULTS = Path(__file__).parent / "results" / "bench_recommend.json"
N_SEEDS = 3
SIZES = {"full": (1200, 200), "small": (400, 60)}
#: SteelNet's epochs: a small budget, so that three seeds fit in minutes.
STEELNET_EPOCHS = 30
FAILURE_RATE = 0.2
N_DICE = {"full": 60, "small": 15}
SETUPS = {
    "steelnet gradient": ("steelnet", "gradient"),
    "steelnet search": ("steelnet", "search"),
    "hgb search": ("hgb", "search"),
}
#: Columns of the per-class table that are not measures.
COUNTS = ["class", "n_rows", "n_not_actionable", "setup", "seed"]
TARGETS = {
    "validity_min": 0.9,
    "precision_min": 0.8,
    "plausibility_min": 0.8,
    "median_changes_max": 2,
}


def make_model(kind, seed):
    """The model under test."""
    if kind == "steelnet":
        return SteelNetClassifier(
            max_epochs=STEELNET_EPOCHS, random_state=seed, verbose=0
        )
    return HistGradientBoostingClassifier(max_iter=100, random_state=seed)


def dice_comparison(model, X_train, y_train, rows, recommender):
    """DiCE's random method against the recommender on rows without NaN."""
    try:
        import dice_ml
    except ImportError:
        return {"skipped": "dice-ml is not installed"}
    actionable = list(SENSORS.index[SENSORS["actionable"]])
    frame = X_train.assign(defect_class=np.asarray(y_train))
    data = dice_ml.Data(
        dataframe=frame,
        continuous_features=list(X_train.columns),
        outcome_name="defect_class",
    )
    wrapped = dice_ml.Model(model=model, backend="sklearn", model_type="classifier")
    explainer = dice_ml.Dice(data, wrapped, method="random")
    ranges = {
        name: [SENSORS.loc[name, "feasible_low"], SENSORS.loc[name, "feasible_high"]]
        for name in actionable
    }
    scale = (SENSORS["high"] - SENSORS["low"]).to_numpy()
    start = time.perf_counter()
    found, changes, costs = [], [], []
    for i in range(len(rows)):
        query = rows.iloc[[i]]
        try:
            result = explainer.generate_counterfactuals(
                query,
                total_CFs=1,
                desired_class=0,
                features_to_vary=actionable,
                permitted_range=ranges,
                random_seed=0,
                verbose=False,
            )
            cf = result.cf_examples_list[0].final_cfs_df
        except Exception:  # DiCE raises when it finds nothing
            cf = None
        if cf is None or cf.empty:
            found.append(False)
            continue
        point = cf[list(X_train.columns)].to_numpy(float)[0]
        ok = model.predict_proba(pd.DataFrame([point], columns=X_train.columns))[0, 0]
        found.append(bool(ok >= 0.5))
        delta = point - query.to_numpy(float)[0]
        changes.append(int((np.abs(delta) > 1e-9).sum()))
        costs.append(float((np.abs(delta) / scale).sum()))
    dice_seconds = time.perf_counter() - start
    start = time.perf_counter()
    ours = recommender.recommend(rows)
    ours_seconds = time.perf_counter() - start
    return {
        "n_rows": len(rows),
        "dice": {
            "validity": float(np.mean(found)),
            "median_changes": float(np.median(changes)) if changes else None,
            "median_cost": float(np.median(costs)) if costs else None,
            "seconds_per_row": dice_seconds / len(rows),
        },
        "sksteel": {
            "validity": float(ours.valid.mean()),
            "median_changes": float(np.median(ours.n_changes[ours.valid])),
            "median_cost": float(np.median(ours.cost[ours.valid])),
            "seconds_per_row": ours_seconds / len(rows),
        },
    }


def run_seed(seed, size):
    """The per-class tables of every set-up on one seed, and its pieces."""
    n_normal, n_per_class = SIZES[size]
    data = make_steelnet_dataset(
        n_normal=n_normal, n_per_class=n_per_class, random_state=seed
    )
    X_train, X_test, y_train, y_test = train_test_split(
        data.data,
        data.target,
        test_size=0.5,
        stratify=data.target,
        random_state=seed,
    )
    failed = SensorFailure("table", p_base=FAILURE_RATE, random_state=seed)
    X_failed = failed.fit_transform(X_test)
    models = {
        kind: make_model(kind, seed).fit(X_train, y_train)
        for kind in ("steelnet", "hgb")
    }
    independent = HistGradientBoostingClassifier(
        max_depth=4, max_iter=200, random_state=seed + 1
    ).fit(X_train, y_train)
    tables, seconds = [], {}
    for name, (kind, method) in SETUPS.items():
        recommender = SetpointRecommender(
            models[kind], method=method, random_state=seed
        ).fit(X_train, y_train)
        start = time.perf_counter()
        table = score_recommendations(
            recommender,
            X_failed,
            y_test,
            attribution_prior=data.attribution_prior,
            independent=independent,
        )
        seconds[name] = time.perf_counter() - start
        tables.append(table.assign(setup=name, seed=seed))
        print(f"seed {seed} {name}: {seconds[name]:.1f} s")
    pieces = (models["hgb"], X_train, y_train, X_test, y_test)
    return pd.concat(tables), seconds, pieces


def mean_interval(values):
    """Mean and 95 % t-interval half-width over seeds (NaN seeds dropped)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if not values.size:
        return math.nan, math.nan
    if values.size < 2:
        return float(values.mean()), math.nan
    half = stats.t.ppf(0.975, values.size - 1) * values.std(ddof=1)
    return float(values.mean()), float(half / math.sqrt(values.size))


def measures(scores):
    """The measures of score_recommendations' per-class table, in order."""
    return [c for c in scores.columns if c not in COUNTS]


def summarise(scores):
    """Per set-up and class: every metric's mean and half-width over seeds."""
    rows = []
    for (setup, name), group in scores.groupby(["setup", "class"], sort=False):
        row = {
            "setup": setup,
            "class": name,
            "n_rows": int(group["n_rows"].sum()),
            "n_not_actionable": int(group["n_not_actionable"].sum()),
        }
        for metric in measures(scores):
            row[metric], row[f"{metric}_ci"] = mean_interval(group[metric])
        rows.append(row)
    return pd.DataFrame(rows)


def gradient_minus_search(scores):
    """Paired differences (SteelNet gradient - search) per class and metric."""
    found = {}
    for name, group in scores.groupby("class", sort=False):
        found[name] = {}
        for metric in measures(scores):
            d = paired_difference(
                group, "steelnet gradient", "steelnet search", metric, by="setup"
            )
            found[name][metric] = {
                "mean": d.mean,
                "low": d.low,
                "high": d.high,
                "verdict": d.verdict,
            }
    return found


def check_targets(summary):
    """Per set-up and class with actionable drivers: which target the mean
    meets."""
    checks = {}
    for _, row in summary.iterrows():
        key = f"{row['setup']} / {row['class']}"
        if row["n_rows"] == row["n_not_actionable"]:
            checks[key] = "drivers not actionable"
            continue
        checks[key] = {
            "validity": bool(row["validity"] >= TARGETS["validity_min"]),
            "precision": bool(row["precision"] >= TARGETS["precision_min"]),
            "plausibility": bool(row["plausibility"] >= TARGETS["plausibility_min"]),
            "median_changes": bool(
                row["median_changes"] <= TARGETS["median_changes_max"]
            ),
        }
    return checks


def print_table(summary):
    """Mean +- half-width of each metric, per set-up and class."""
    shown = summary[["setup", "class", "n_rows", "n_not_actionable"]].copy()
    for metric in [c.removesuffix("_ci") for c in summary if c.endswith("_ci")]:
        shown[metric] = [
            f"{m:.2f}" + ("" if not np.isfinite(h) else f" +- {h:.2f}")
            for m, h in zip(summary[metric], summary[f"{metric}_ci"])
        ]
    pd.set_option("display.width", 250)
    print(shown.to_string(index=False))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="reduced size")
    parser.add_argument("--dice", action="store_true", help="compare dice-ml")
    args = parser.parse_args()
    size = "small" if args.small else "full"
    scores, seconds, comparison = [], [], None
    for seed in range(N_SEEDS):
        table, timing, pieces = run_seed(seed, size)
        scores.append(table)
        seconds.append(timing)
        if args.dice and seed == 0:
            hgb, X_train, y_train, X_test, y_test = pieces
            clean = X_test[(y_test > 0).to_numpy() & (hgb.predict(X_test) > 0)]
            recommender = SetpointRecommender(hgb, random_state=seed).fit(
                X_train, y_train
            )
            comparison = dice_comparison(
                hgb, X_train, y_train, clean.iloc[: N_DICE[size]], recommender
            )
    scores = pd.concat(scores)
    summary = summarise(scores)
    print(f"size={size}, {N_SEEDS} seeds, SteelNet {STEELNET_EPOCHS} epochs")
    print_table(summary)
    checks = check_targets(summary)
    print("targets met (means):", json.dumps(checks, indent=1))
    differences = gradient_minus_search(scores)
    print("SteelNet gradient - search, plausibility per class:")
    for name, metrics in differences.items():
        d = metrics["plausibility"]
        print(
            f"  {name}: {d['mean']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}] "
            f"{d['verdict']}"
        )
    if comparison is not None:
        print("dice comparison (rows without NaN):")
        print(json.dumps(comparison, indent=2))
    n_normal, n_per_class = SIZES[size]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "bench_recommend",
                "versions": versions("sklearn", "torch"),
                "machine": machine(),
                "seeds": list(range(N_SEEDS)),
                "size": size,
                "n_normal": n_normal,
                "n_per_class": n_per_class,
                "steelnet_epochs": STEELNET_EPOCHS,
                "test_failure_rate": FAILURE_RATE,
                "setups": SETUPS,
                "targets": TARGETS,
                "seconds": seconds,
                "summary": json.loads(summary.to_json(orient="records")),
                "per_seed": json.loads(scores.to_json(orient="records")),
                "gradient_minus_search": differences,
                "targets_met": checks,
                "dice_comparison": comparison,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
