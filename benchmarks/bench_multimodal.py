"""Fusing the surface camera and the sensors (issue 17).

Data: ``make_steelnet_dataset(images=True)`` (rendered surfaces, every
sample with its image), the standard split of the experiments (train,
validation and test by class; the estimators hold out their own
validation rows from train + validation, as ``sksteel reproduce`` does).

Models, all ``SteelNetClassifier`` with the same settings and seed:

- ``sensors only``: no image column;
- ``image only``: the multimodal estimator trained and scored with every
  sensor missing (NaN);
- ``multimodal``: sensors and image, without alignment (``epsilon=0``) and
  with it (``epsilon=0.1``);
- ``late fusion``: the mean of the sensors-only and image-only
  probabilities.

Scenarios on the test rows: both present; the image missing on every row;
every sensor missing; and a grid of image-missing rates 0 / 0.3 / 0.7 / 1
crossed with sensor-failure rates 0 / 0.3 / 0.5 (each reading NaN with that
probability). The missing patterns are drawn once per seed and held fixed
across models. Scores: macro-F1 and balanced accuracy. For the aligned
model, retrieval recall@k: for each test row, whether one of the ``k``
training surfaces nearest to its readings (``similar_surfaces``) has the
row's class, averaged per class, then over classes.

Targets (issue 17): with both present, multimodal beats both single
modalities; image missing: within 0.01 of sensors-only; sensors missing:
within 0.01 of image-only; every grid cell: at or above late fusion.
Paired differences over seeds come with a 95 % t-interval: a target is
"met" or "MISSED" when the whole interval is on one side of its bound, and
"noise" when the interval holds it (with one seed there is no interval and
the verdict is the mean's side). The alignment effect is the paired
difference of the aligned and unaligned models with both modalities.

Run: ``OMP_NUM_THREADS=1 nice -n 10 python benchmarks/bench_multimodal.py``
(``--n-normal``, ``--n-per-class``, ``--seeds`` for the size; the full size
is the paper's composition and 3 seeds; ``--class-weight balanced`` and
``--scoring f1_macro`` and ``--no-early-stopping`` for every model). Writes
``benchmarks/results/bench_multimodal.json`` (``--out`` elsewhere) after
every seed; ``--summarise FILE`` reprints and rewrites a file's summary
without fitting.
"""

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from _environment import machine, versions
from scipy import stats
from sklearn.metrics import balanced_accuracy_score, f1_score

from sksteel.datasets import SENSOR_NAMES, make_steelnet_dataset
from sksteel.experiments._data import _make_splits as make_splits
from sksteel.models import SteelNetClassifier

RESULTS = Path(__file__).parent / "results" / "bench_multimodal.json"
IMAGE_MISSING = (0.0, 0.3, 0.7, 1.0)
SENSOR_FAILURE = (0.0, 0.3, 0.5)
K = 5
MODELS = (
    "sensors only",
    "image only",
    "multimodal",
    "multimodal + alignment",
    "late fusion",
)


def _missing(X, image_rate, sensor_rate, rng):
    """``X`` with images and readings dropped at the given rates."""
    X = X.copy()
    drop_image = rng.random(len(X)) < image_rate
    X.loc[drop_image, "image_path"] = np.nan
    readings = X[list(SENSOR_NAMES)].to_numpy(dtype=float, copy=True)
    readings[rng.random(readings.shape) < sensor_rate] = np.nan
    X[list(SENSOR_NAMES)] = readings
    return X


def scenarios(X, seed):
    """The named test inputs, with patterns fixed by ``seed``."""
    rng = np.random.default_rng(seed)
    named = {
        "both present": X,
        "image missing": X.assign(image_path=np.nan),
        "sensors missing": X.assign(**dict.fromkeys(SENSOR_NAMES, np.nan)),
    }
    for image_rate in IMAGE_MISSING:
        for sensor_rate in SENSOR_FAILURE:
            named[f"grid {image_rate:.1f}/{sensor_rate:.1f}"] = _missing(
                X, image_rate, sensor_rate, rng
            )
    return named


def _scores(y, proba, classes):
    y_pred = classes[proba.argmax(axis=1)]
    return {
        "f1_macro": float(f1_score(y, y_pred, average="macro", zero_division=0)),
        "balanced_accuracy": float(balanced_accuracy_score(y, y_pred)),
    }


def recall_at_k(model, X, y, k=K):
    """Per-class mean of "one of the k surfaces nearest to the readings has
    the row's class", averaged over classes."""
    found = model.similar_surfaces(X.reset_index(drop=True), k=k)
    hit = (
        found.assign(same=found["defect_class"].to_numpy() == np.repeat(y, k))
        .groupby("query")["same"]
        .any()
        .to_numpy()
    )
    return float(np.mean([hit[y == c].mean() for c in np.unique(y)]))


def run_seed(dataset, seed, params):
    split = make_splits(dataset.target, random_state=seed)
    train = np.concatenate([split.train, split.valid])
    X, y = dataset.data, dataset.target.to_numpy()
    X_train, y_train = X.iloc[train], y[train]
    X_test, y_test = X.iloc[split.test].reset_index(drop=True), y[split.test]
    no_sensors = dict.fromkeys(SENSOR_NAMES, np.nan)
    fits = {
        "sensors only": (dict(image_column=None), X_train.drop(columns="image_path")),
        "image only": (dict(epsilon=0.0), X_train.assign(**no_sensors)),
        "multimodal": (dict(epsilon=0.0), X_train),
        "multimodal + alignment": (dict(epsilon=0.1), X_train),
    }
    models, seconds = {}, {}
    for name, (extra, X_fit) in fits.items():
        start = time.perf_counter()
        model = SteelNetClassifier(**params, **extra, random_state=seed, verbose=0)
        models[name] = model.fit(X_fit, y_train)
        seconds[name] = time.perf_counter() - start
        print(f"  seed {seed}: {name} fitted in {seconds[name]:.0f} s", flush=True)
    classes = models["sensors only"].classes_
    scores = {}
    for scenario, X_s in scenarios(X_test, seed).items():
        proba = {
            "sensors only": models["sensors only"].predict_proba(
                X_s.drop(columns="image_path")
            ),
            "image only": models["image only"].predict_proba(X_s.assign(**no_sensors)),
            "multimodal": models["multimodal"].predict_proba(X_s),
            "multimodal + alignment": models["multimodal + alignment"].predict_proba(
                X_s
            ),
        }
        proba["late fusion"] = (proba["sensors only"] + proba["image only"]) / 2
        scores[scenario] = {
            name: _scores(y_test, p, classes) for name, p in proba.items()
        }
    retrieval = {
        name: recall_at_k(models[name], X_test, y_test)
        for name in ("multimodal", "multimodal + alignment")
    }
    return {"scores": scores, "fit_seconds": seconds, "recall_at_5": retrieval}


def _interval(values):
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) < 2:
        return mean, None
    half = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1)
    return mean, float(half / np.sqrt(len(values)))


def _verdict(mean, half, bound):
    """ "met" / "missed" when the 95 % interval is on one side of ``bound``,
    "noise" when it straddles it; with one seed, the mean's side only."""
    if half is None:
        return ("met" if mean >= bound else "MISSED") + " (1 seed, no interval)"
    if mean - half >= bound:
        return "met"
    if mean + half < bound:
        return "MISSED"
    return "noise (the interval holds the bound)"


def summarise(runs, metric="f1_macro"):
    """Mean per scenario and model, and the targets' paired differences."""
    scenario_names = list(runs[0]["scores"])
    table = pd.DataFrame(
        {
            name: [
                np.mean([run["scores"][s][name][metric] for run in runs])
                for s in scenario_names
            ]
            for name in MODELS
        },
        index=scenario_names,
    )

    def paired(scenario, model, other):
        return _interval(
            [
                run["scores"][scenario][model][metric]
                - run["scores"][scenario][other][metric]
                for run in runs
            ]
        )

    targets = []
    for model in ("multimodal", "multimodal + alignment"):
        for other in ("sensors only", "image only"):
            targets.append(
                (
                    "both present",
                    model,
                    other,
                    0.0,
                    *paired("both present", model, other),
                )
            )
        targets.append(
            (
                "image missing",
                model,
                "sensors only",
                -0.01,
                *paired("image missing", model, "sensors only"),
            )
        )
        targets.append(
            (
                "sensors missing",
                model,
                "image only",
                -0.01,
                *paired("sensors missing", model, "image only"),
            )
        )
        for scenario in scenario_names:
            if scenario.startswith("grid"):
                targets.append(
                    (
                        scenario,
                        model,
                        "late fusion",
                        0.0,
                        *paired(scenario, model, "late fusion"),
                    )
                )
    return table, targets


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-normal", type=int, default=5902)
    parser.add_argument("--n-per-class", type=int, default=200)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--max-epochs", type=int, default=50)
    parser.add_argument("--image-size", type=int, nargs=2, default=(64, 400))
    parser.add_argument("--class-weight", choices=("balanced",), default=None)
    parser.add_argument("--scoring", default="accuracy")
    parser.add_argument(
        "--no-early-stopping",
        action="store_true",
        help="train every model for --max-epochs (no validation split)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--data-home", default=None)
    parser.add_argument(
        "--summarise",
        type=Path,
        default=None,
        help="print and rewrite the summary of a results file, without fitting",
    )
    args = parser.parse_args()
    if args.summarise is not None:
        saved = json.loads(args.summarise.read_text())
        keys = ("machine", "versions", "total_seconds")
        environment = {key: saved.get(key) for key in keys}
        run_args = {**saved["args"], "out": str(args.summarise)}
        report(run_args, saved["params"], saved["runs"], environment)
        return
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=UserWarning)
    start = time.perf_counter()
    dataset = make_steelnet_dataset(
        n_normal=args.n_normal,
        n_per_class=args.n_per_class,
        images=True,
        data_home=args.data_home,
    )
    print(f"data: {len(dataset.frame)} samples ({time.perf_counter() - start:.0f} s)")
    params = dict(
        max_epochs=args.max_epochs,
        image_size=tuple(args.image_size),
        class_weight=args.class_weight,
        scoring=args.scoring,
        early_stopping=not args.no_early_stopping,
    )
    runs = []
    for seed in range(args.seeds):  # results are written after every seed
        runs.append(run_seed(dataset, seed, params))
        environment = {
            "machine": machine(),
            "versions": versions("torch", "sklearn"),
            "total_seconds": time.perf_counter() - start,
        }
        report({**vars(args), "out": str(args.out)}, params, runs, environment)


def report(args, params, runs, environment):
    """Print the tables and targets of ``runs``; write the JSON to
    ``args["out"]``."""
    out = {"args": args, "params": params, **environment, "runs": runs}
    out["summary"] = {}
    for metric in ("f1_macro", "balanced_accuracy"):
        table, targets = summarise(runs, metric)
        print(f"\n{metric}, mean over {len(runs)} seed(s)")
        print(table.round(3).to_string())
        print(f"\ntargets ({metric}): difference = model - reference, must be >= bound")
        rows = []
        for scenario, model, other, bound, mean, half in targets:
            verdict = _verdict(mean, half, bound)
            ci = "" if half is None else f" +- {half:.3f}"
            rows.append(
                dict(
                    scenario=scenario,
                    model=model,
                    reference=other,
                    bound=bound,
                    difference=mean,
                    half_width=half,
                    verdict=verdict,
                )
            )
            print(
                f"  {scenario:16s} {model:24s} - {other:13s} = {mean:+.3f}{ci}"
                f"  (>= {bound:+.2f}: {verdict})"
            )
        mean, half = _interval(
            [
                run["scores"]["both present"]["multimodal + alignment"][metric]
                - run["scores"]["both present"]["multimodal"][metric]
                for run in runs
            ]
        )
        ci = "" if half is None else f" +- {half:.3f}"
        print(f"  alignment effect (both present, with - without): {mean:+.3f}{ci}")
        out["summary"][metric] = {
            "table": table.to_dict(),
            "targets": rows,
            "alignment_effect": {"difference": mean, "half_width": half},
        }
    recall = {
        name: float(np.mean([run["recall_at_5"][name] for run in runs]))
        for name in ("multimodal", "multimodal + alignment")
    }
    print(f"\nretrieval recall@{K} (class-averaged): {recall}")
    out["recall_at_5"] = recall
    path = Path(args["out"])
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}", flush=True)


if __name__ == "__main__":
    main()
