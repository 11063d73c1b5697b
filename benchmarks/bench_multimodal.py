"""Fusing the surface camera and the sensors (issue 17).

Data: ``make_steelnet_dataset(images=True)`` (rendered surfaces, every
sample with its image), the standard split of the experiments (train,
validation and test by class; the estimators hold out their own
validation rows from train + validation, as ``sksteel reproduce`` does).

Models, the ``SteelNetClassifier`` ones with the same settings and seed
(by default every one weighs the classes as ``class_weight="balanced"``
and early-stops on the validation macro-F1, ``scoring="f1_macro"``):

- ``sensors only``: no image column;
- ``image only``: the multimodal estimator trained and scored with every
  sensor missing (NaN);
- ``image classifier``: a plain image classifier, a class-balanced
  logistic regression on the frozen, pooled deepest features of a
  ``DefectSegmenter`` encoder (ResNet-18 U-Net fitted, per seed, on the
  training surfaces and their masks); a row without an image gets the
  training class shares;
- ``multimodal``: sensors and image, without alignment (``epsilon=0``) and
  with it (``epsilon=0.1``);
- ``late fusion``: the mean of the sensors-only and image-only
  (SteelNet) probabilities.

``--image-encoder segmenter`` gives the SteelNet image models the frozen
encoder of that seed's segmenter in place of the CNN trained from scratch.

Scenarios on the test rows: both present; the image missing on every row;
every sensor missing; and a grid of image-missing rates 0 / 0.3 / 0.7 / 1
crossed with sensor-failure rates 0 / 0.3 / 0.5 (each reading NaN with that
probability). The missing patterns are drawn once per seed and held fixed
across models. Scores: macro-F1 and balanced accuracy. For the aligned
model, retrieval recall@k: for each test row, whether one of the ``k``
training surfaces nearest to its readings (``similar_surfaces``) has the
row's class, averaged per class, then over classes.

Targets (issue 17): with both present, multimodal beats every
single-modality model; image missing: within 0.01 of sensors-only; sensors
missing: within 0.01 of each image-only model; every grid cell: at or
above late fusion.
Paired differences over seeds come with a 95 % t-interval: a target is
"met" or "MISSED" when the whole interval is on one side of its bound, and
"noise" when the interval holds it (with one seed there is no interval and
the verdict is the mean's side). The alignment effect is the paired
difference of the aligned and unaligned models with both modalities.

Run: ``OMP_NUM_THREADS=1 nice -n 10 python benchmarks/bench_multimodal.py``
(``--n-normal``, ``--n-per-class``, ``--seeds`` for the size; the full size
is the paper's composition and 3 seeds; ``--class-weight``, ``--scoring``
and ``--no-early-stopping`` apply to every SteelNet model). Writes
``benchmarks/results/bench_multimodal.json`` (``--out`` elsewhere) after
every seed, and the heat map of the grid (macro-F1 of each model, and the
multimodal models minus late fusion) as a PNG beside it;
``--summarise FILE`` reprints and rewrites a file's summary and heat map
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
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, f1_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sksteel.datasets import SENSOR_NAMES, load_severstal, make_steelnet_dataset
from sksteel.experiments._data import _make_splits as make_splits
from sksteel.models import SteelNetClassifier
from sksteel.models._image_cache import SegmenterFeatures, cached_inputs
from sksteel.vision import DefectSegmenter

RESULTS = Path(__file__).parent / "results" / "bench_multimodal.json"
IMAGE_MISSING = (0.0, 0.3, 0.7, 1.0)
SENSOR_FAILURE = (0.0, 0.3, 0.5)
K = 5
MODELS = (
    "sensors only",
    "image only",
    "image classifier",
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


def fit_segmenter(paths, seed, epochs):
    """A ResNet-18 U-Net fitted on the surfaces ``paths`` and their masks."""
    paths = pd.unique(np.asarray(paths, dtype=object))
    root = Path(paths[0]).parents[1]  # <root>/train_images/<image>
    table = load_severstal(root, missing_images="ignore").frame
    frame = table[table["image_path"].isin(set(paths))].reset_index(drop=True)
    return DefectSegmenter(
        "resnet18",
        image_size=(64, 320),
        crop_size=(64, 128),
        max_epochs=epochs,
        batch_size=8,
        random_state=seed,
        verbose=0,
    ).fit(frame)


class EncoderImageClassifier:
    """The plain image classifier: a class-balanced logistic regression on
    the frozen, pooled features of a segmenter's encoder (the features
    SteelNet's frozen image branch reads). A row without an image gets the
    training class shares."""

    def __init__(self, segmenter, seed):
        self.reader = SegmenterFeatures(segmenter)
        self.seed = seed

    def _features(self, paths):
        paths = pd.Series(paths, dtype=object)
        present = paths.notna().to_numpy(copy=True)
        features = np.zeros((len(paths), *self.reader.shape), dtype=np.float32)
        if present.any():
            cached, usable, _ = cached_inputs(self.reader, list(paths[present]))
            features[present] = cached[:].numpy()
            present[present] = usable
        return features, present

    def fit(self, paths, y):
        features, present = self._features(paths)
        self.classes_, counts = np.unique(y, return_counts=True)
        self.shares_ = counts / counts.sum()
        self.model_ = make_pipeline(
            StandardScaler(),
            LogisticRegression(
                class_weight="balanced", max_iter=2000, random_state=self.seed
            ),
        ).fit(features[present], y[present])
        return self

    def predict_proba(self, paths):
        features, present = self._features(paths)
        proba = np.tile(self.shares_, (len(features), 1))
        if present.any():
            proba[present] = self.model_.predict_proba(features[present])
        return proba


def run_seed(dataset, seed, params, segmenter_epochs, image_encoder="scratch"):
    split = make_splits(dataset.target, random_state=seed)
    train = np.concatenate([split.train, split.valid])
    X, y = dataset.data, dataset.target.to_numpy()
    X_train, y_train = X.iloc[train], y[train]
    X_test, y_test = X.iloc[split.test].reset_index(drop=True), y[split.test]
    no_sensors = dict.fromkeys(SENSOR_NAMES, np.nan)
    seconds = {}
    start = time.perf_counter()
    segmenter = fit_segmenter(X_train["image_path"], seed, segmenter_epochs)
    images = EncoderImageClassifier(segmenter, seed).fit(X_train["image_path"], y_train)
    seconds["image classifier"] = time.perf_counter() - start
    print(
        f"  seed {seed}: image classifier (segmenter and logistic regression) "
        f"fitted in {seconds['image classifier']:.0f} s",
        flush=True,
    )
    encoder = segmenter if image_encoder == "segmenter" else "scratch"
    fits = {
        "sensors only": (dict(image_column=None), X_train.drop(columns="image_path")),
        "image only": (dict(epsilon=0.0), X_train.assign(**no_sensors)),
        "multimodal": (dict(epsilon=0.0), X_train),
        "multimodal + alignment": (dict(epsilon=0.1), X_train),
    }
    models = {}
    for name, (extra, X_fit) in fits.items():
        start = time.perf_counter()
        model = SteelNetClassifier(
            **params, **extra, image_encoder=encoder, random_state=seed, verbose=0
        )
        models[name] = model.fit(X_fit, y_train)
        seconds[name] = time.perf_counter() - start
        print(f"  seed {seed}: {name} fitted in {seconds[name]:.0f} s", flush=True)
    classes = models["sensors only"].classes_
    assert np.array_equal(images.classes_, classes)
    scores = {}
    for scenario, X_s in scenarios(X_test, seed).items():
        proba = {
            "sensors only": models["sensors only"].predict_proba(
                X_s.drop(columns="image_path")
            ),
            "image only": models["image only"].predict_proba(X_s.assign(**no_sensors)),
            "image classifier": images.predict_proba(X_s["image_path"]),
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
        for other in ("sensors only", "image only", "image classifier"):
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
        for other in ("image only", "image classifier"):
            targets.append(
                (
                    "sensors missing",
                    model,
                    other,
                    -0.01,
                    *paired("sensors missing", model, other),
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
    parser.add_argument(
        "--class-weight",
        choices=("balanced", "none"),
        default="balanced",
        help="class_weight of every SteelNet model",
    )
    parser.add_argument(
        "--scoring", default="f1_macro", help="early-stopping score of every model"
    )
    parser.add_argument(
        "--image-encoder",
        choices=("scratch", "segmenter"),
        default="scratch",
        help="image encoder of the SteelNet models: the scratch CNN, or the "
        "frozen encoder of the image classifier's segmenter",
    )
    parser.add_argument(
        "--segmenter-epochs",
        type=int,
        default=3,
        help="epochs of the segmenter behind the plain image classifier",
    )
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
        class_weight=None if args.class_weight == "none" else args.class_weight,
        scoring=args.scoring,
        early_stopping=not args.no_early_stopping,
    )
    runs = []
    for seed in range(args.seeds):  # results are written after every seed
        runs.append(
            run_seed(dataset, seed, params, args.segmenter_epochs, args.image_encoder)
        )
        environment = {
            "machine": machine(),
            "versions": versions("torch", "sklearn"),
            "total_seconds": time.perf_counter() - start,
        }
        report({**vars(args), "out": str(args.out)}, params, runs, environment)


def grid(runs, model, metric="f1_macro"):
    """Mean ``metric`` of ``model`` on the grid, image-missing rate by row,
    sensor-failure rate by column."""
    return np.array(
        [
            [
                np.mean(
                    [
                        run["scores"][f"grid {image:.1f}/{sensor:.1f}"][model][metric]
                        for run in runs
                    ]
                )
                for sensor in SENSOR_FAILURE
            ]
            for image in IMAGE_MISSING
        ]
    )


def plot_grid(runs, path, metric="f1_macro"):
    """The heat map of the grid: each model's ``metric``, and the multimodal
    models minus late fusion, written to ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(name, grid(runs, name, metric), "viridis") for name in MODELS]
    fusion = grid(runs, "late fusion", metric)
    for name in ("multimodal", "multimodal + alignment"):
        panels.append((f"{name}\nminus late fusion", grid(runs, name) - fusion, "RdBu"))
    figure, axes = plt.subplots(2, 4, figsize=(14, 6.5), layout="constrained")
    low = min(values.min() for _, values, cmap in panels if cmap == "viridis")
    high = max(values.max() for _, values, cmap in panels if cmap == "viridis")
    spread = max(abs(values).max() for _, values, cmap in panels if cmap == "RdBu")
    for axis, (title, values, cmap) in zip(axes.flat, panels):
        limits = (low, high) if cmap == "viridis" else (-spread, spread)
        image = axis.imshow(values, cmap=cmap, vmin=limits[0], vmax=limits[1])
        for (row, column), value in np.ndenumerate(values):
            axis.text(column, row, f"{value:.2f}", ha="center", va="center")
        axis.set_title(title, fontsize=10)
        axis.set_xticks(range(len(SENSOR_FAILURE)), SENSOR_FAILURE)
        axis.set_yticks(range(len(IMAGE_MISSING)), IMAGE_MISSING)
        axis.set_xlabel("sensor failure rate")
        axis.set_ylabel("image missing rate")
        figure.colorbar(image, ax=axis, shrink=0.8)
    figure.suptitle(
        f"{metric} on the test rows, mean over {len(runs)} seed(s) "
        "(bench_multimodal.py)"
    )
    figure.savefig(path, dpi=90)
    plt.close(figure)


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
    mean, half = _interval(
        [
            run["recall_at_5"]["multimodal + alignment"]
            - run["recall_at_5"]["multimodal"]
            for run in runs
        ]
    )
    ci = "" if half is None else f" +- {half:.3f}"
    print(f"  alignment effect on recall@{K} (with - without): {mean:+.3f}{ci}")
    out["recall_at_5"] = recall
    out["recall_alignment_effect"] = {"difference": mean, "half_width": half}
    path = Path(args["out"])
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(out, indent=1) + "\n")
    heat_map = path.with_name(f"{path.stem}_grid.png")
    plot_grid(runs, heat_map)
    print(f"wrote {path} and {heat_map}", flush=True)


if __name__ == "__main__":
    main()
