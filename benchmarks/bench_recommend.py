"""Benchmark setpoint recommendations against the generator's true causes.

On the SteelNet data (:func:`sksteel.datasets.make_steelnet_dataset`), a
classifier is fitted on a stratified training half; on the defective test
rows it predicts as defective (test readings failed at rate ``FAILURE_RATE``
with the sensor table's per-sensor probabilities), a
:class:`~sksteel.recommend.SetpointRecommender` fitted on the training rows
recommends setpoints. Per class (:func:`sksteel.recommend.score_recommendations`):

1. validity: share of rows whose recommendation reaches ``threshold`` for
   "none" (rows whose drivers are not actionable counted apart);
2. precision and recall of the changed sensors against the sensors the
   generator deviated for the class (``w* > 0``);
3. independent plausibility: share of recommended points that a
   HistGradientBoosting trained on the same rows (other seed and depth than
   the model under test) classifies as "none";
4. median changes and median cost.

Targets (issue 15): validity >= 0.9 on classes with actionable drivers,
precision >= 0.8, plausibility >= 0.8, median changes <= 2.

With dice-ml installed, DiCE (``method="random"``) is compared on the same
rows without NaN (DiCE refuses NaN): validity, sparsity, cost, time.

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_recommend.py [--small]
[--model hgb|steelnet]``; writes ``benchmarks/results/bench_recommend.json``
(``bench_recommend_steelnet.json`` for SteelNet).
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _environment import machine, versions
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import train_test_split

from sksteel.datasets import SENSORS, make_steelnet_dataset
from sksteel.preprocessing import SensorFailure
from sksteel.recommend import SetpointRecommender, score_recommendations

RESULTS = Path(__file__).parent / "results" / "bench_recommend.json"
SEED = 0
SIZES = {"full": (2000, 300), "small": (600, 100)}
FAILURE_RATE = 0.2
N_DICE = {"full": 60, "small": 15}
TARGETS = {
    "validity_min": 0.9,
    "precision_min": 0.8,
    "plausibility_min": 0.8,
    "median_changes_max": 2,
}


def make_model(kind):
    """The model under test."""
    if kind == "steelnet":
        from sksteel.models import SteelNetClassifier

        return SteelNetClassifier(max_epochs=30, random_state=SEED)
    return HistGradientBoostingClassifier(max_iter=100, random_state=SEED)


def dice_comparison(model, X_train, y_train, rows, recommender):
    """DiCE's random method against the recommender on rows without NaN."""
    try:
        import dice_ml
    except ImportError:
        return {"skipped": "dice-ml is not installed"}
    actionable = list(SENSORS.index[SENSORS["actionable"]])
    frame = X_train.assign(defect_class=np.asarray(y_train))
    data = dice_ml.Data(
        dataframe=frame, continuous_features=list(X_train.columns),
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
                query, total_CFs=1, desired_class=0, features_to_vary=actionable,
                permitted_range=ranges, random_seed=SEED, verbose=False,
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


def check_targets(table):
    """Per class with rows whose drivers are actionable: which target holds."""
    checks = {}
    for _, row in table.iterrows():
        if row["n_rows"] == row["n_not_actionable"]:
            checks[row["class"]] = "drivers not actionable"
            continue
        checks[row["class"]] = {
            "validity": bool(row["validity"] >= TARGETS["validity_min"]),
            "precision": bool(row["precision"] >= TARGETS["precision_min"]),
            "plausibility": bool(row["plausibility"] >= TARGETS["plausibility_min"]),
            "median_changes": bool(
                row["median_changes"] <= TARGETS["median_changes_max"]
            ),
        }
    return checks


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="reduced size")
    parser.add_argument("--model", choices=["hgb", "steelnet"], default="hgb")
    parser.add_argument("--no-dice", action="store_true", help="skip dice-ml")
    parser.add_argument(
        "--require-plausible", action="store_true",
        help="SetpointRecommender(require_plausible=True)",
    )
    args = parser.parse_args()
    size = "small" if args.small else "full"
    n_normal, n_per_class = SIZES[size]
    data = make_steelnet_dataset(
        n_normal=n_normal, n_per_class=n_per_class, random_state=SEED
    )
    X_train, X_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.5, stratify=data.target,
        random_state=SEED,
    )
    failed = SensorFailure("table", p_base=FAILURE_RATE, random_state=SEED)
    X_failed = failed.fit_transform(X_test)
    start = time.perf_counter()
    model = make_model(args.model).fit(X_train, y_train)
    fit_seconds = time.perf_counter() - start
    independent = HistGradientBoostingClassifier(
        max_depth=4, max_iter=200, random_state=SEED + 1
    ).fit(X_train, y_train)
    recommender = SetpointRecommender(
        model, require_plausible=args.require_plausible, random_state=SEED
    ).fit(X_train, y_train)
    start = time.perf_counter()
    table = score_recommendations(
        recommender, X_failed, y_test, attribution_prior=data.attribution_prior,
        independent=independent,
    )
    seconds = time.perf_counter() - start
    pd.set_option("display.width", 200)
    print(f"model={args.model} size={size} "
          f"require_plausible={args.require_plausible} (fit {fit_seconds:.1f} s, "
          f"recommend+score {seconds:.1f} s)")
    print(table.round(3).to_string())
    checks = check_targets(table)
    print("targets met:", json.dumps(checks))
    comparison = None
    if not args.no_dice:
        clean = X_test[(y_test > 0).to_numpy() & (model.predict(X_test) > 0)]
        comparison = dice_comparison(
            model, X_train, y_train, clean.iloc[: N_DICE[size]], recommender
        )
        print("dice comparison (rows without NaN):")
        print(json.dumps(comparison, indent=2))
    suffix = "" if args.model == "hgb" else f"_{args.model}"
    suffix += "_plausible" if args.require_plausible else ""
    results = RESULTS.with_name(f"bench_recommend{suffix}.json")
    results.parent.mkdir(exist_ok=True)
    results.write_text(
        json.dumps(
            {
                "benchmark": "bench_recommend",
                "versions": versions("sklearn", "torch"),
                "machine": machine(),
                "seed": SEED,
                "size": size,
                "n_normal": n_normal,
                "n_per_class": n_per_class,
                "test_failure_rate": FAILURE_RATE,
                "model": args.model,
                "recommender": {
                    k: v for k, v in recommender.get_params().items()
                    if k != "estimator"
                },
                "targets": TARGETS,
                "seconds": seconds,
                "per_class": json.loads(table.to_json(orient="index")),
                "targets_met": checks,
                "dice_comparison": comparison,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
