"""Benchmark SteelNetClassifier: the cost of its sklearn/skorch layer, and
its quality against simple baselines.

1. Fit time on the paper's 4,691-row training split for 50 epochs, against a
   plain torch loop over the same module, loss, optimiser, schedule, batches
   and per-epoch validation, in the same process. Target: at most 1.5x.
2. Prediction throughput (rows/s) on 100,000 rows against the raw module's
   forward over the same batches. Target: at least 0.8x.
3. Quality on the paper's stratified 70 / 15 / 15 split, 3 seeds: SteelNet
   against the majority class, LDA, logistic regression, histogram
   gradient boosting and a random forest, every model in the same
   imbalanced-learn pipeline (modality dropout while fitting), on the clean
   test rows and with failing sensors at test time.

Run: ``python benchmarks/bench_steelnet.py``; writes
``benchmarks/results/bench_steelnet.json``.
"""

import copy
import json
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
import torch
from imblearn.pipeline import Pipeline
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    recall_score,
)
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import sksteel
from sksteel.datasets import make_steelnet_dataset
from sksteel.models import SteelNetClassifier
from sksteel.preprocessing import SensorFailure
from sksteel.sampling import ModalityDropout

RESULTS = Path(__file__).parent / "results" / "bench_steelnet.json"
SEEDS = (0, 1, 2)
N_EPOCHS = 50
N_PREDICT = 100_000
TEST_FAILURE_RATE = 0.2


def paper_split(y, seed):
    """Stratified 70 / 15 / 15 row indices (train, valid, test)."""
    rows = np.arange(len(y))
    train, rest = train_test_split(rows, test_size=0.3, stratify=y, random_state=seed)
    valid, test = train_test_split(
        rest, test_size=0.5, stratify=y.iloc[rest], random_state=seed
    )
    return train, valid, test


def best_of(function, repeat):
    """Smallest wall time of ``repeat`` calls (the least disturbed run)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


# --- 1. fit overhead -------------------------------------------------------


def plain_torch_fit(clf, X, targets, train, valid):
    """The training that ``clf.fit`` runs, written as a plain torch loop.

    Same module (class and arguments), loss, AdamW, clipping, cosine
    schedule, batch size, train/valid rows; per epoch it scores accuracy on
    the validation rows and keeps a copy of the best weights, as early
    stopping does. Inputs are already standardised tensors.
    """
    net = clf.net_
    module = type(net.module_)(**net.get_params_for("module"))
    criterion = type(net.criterion_)(**net.get_params_for("criterion"))
    optimizer = torch.optim.AdamW(
        module.parameters(), lr=clf.lr, weight_decay=clf.weight_decay
    )
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=N_EPOCHS)
    X_train, X_valid = X[train], X[valid]
    y_train, y_valid = targets["y"][train], targets["y"][valid]
    s_train, s_valid = targets["intensity"][train], targets["intensity"][valid]
    best_accuracy, best_state = -1.0, None
    for _ in range(N_EPOCHS):
        module.train()
        order = torch.randperm(len(train))
        for start in range(0, len(train), clf.batch_size):
            batch = order[start : start + clf.batch_size]
            optimizer.zero_grad()
            loss = criterion(module(X_train[batch]), y_train[batch], s_train[batch])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(module.parameters(), clf.max_grad_norm)
            optimizer.step()
        schedule.step()
        module.eval()
        with torch.no_grad():
            outputs = module(X_valid)
            criterion(outputs, y_valid, s_valid)
            accuracy = float((outputs[0].argmax(1) == y_valid).float().mean())
        if accuracy > best_accuracy:
            best_accuracy, best_state = accuracy, copy.deepcopy(module.state_dict())
    module.load_state_dict(best_state)
    return module


def bench_overhead(data):
    """Fit and predict time of the estimator against plain torch."""
    X, y = data.data, data.target
    intensity = data.frame["intensity"].to_numpy()
    train, _, _ = paper_split(y, seed=0)
    X_train, y_train, s_train = X.iloc[train], y.iloc[train], intensity[train]
    clf = SteelNetClassifier(
        max_epochs=N_EPOCHS,
        n_iter_no_change=N_EPOCHS,  # never stops early: exactly 50 epochs
        attribution_prior=data.attribution_prior,
        random_state=0,
    )
    fit_time = best_of(lambda: clf.fit(X_train, y_train, intensity=s_train), 2)
    assert clf.n_iter_ == N_EPOCHS

    # The same rows, targets and split as the estimator, prepared outside the
    # timed loop: the plain loop gets standardised tensors for free.
    X_tensor = torch.from_numpy(
        ((X_train.to_numpy() - clf.mean_) / clf.scale_).astype(np.float32)
    )
    known = np.where(y_train.to_numpy() == 0, np.nan, s_train)
    targets = {
        "y": torch.from_numpy(y_train.to_numpy().astype(np.int64)),
        "intensity": torch.from_numpy(
            ((known - clf.intensity_mean_) / clf.intensity_scale_).astype(np.float32)
        ),
    }
    n_valid = int(np.ceil(clf.validation_fraction * len(train)))
    rows = np.random.default_rng(0).permutation(len(train))
    split = torch.from_numpy(rows[n_valid:]), torch.from_numpy(rows[:n_valid])
    torch_fit_time = best_of(lambda: plain_torch_fit(clf, X_tensor, targets, *split), 2)

    rng = np.random.default_rng(0)
    X_big = X.iloc[rng.integers(0, len(X), N_PREDICT)].reset_index(drop=True)
    X_big = X_big.mask(rng.random(X_big.shape) < 0.1)
    module = clf.net_.module_.eval()
    batch = max(clf.batch_size, 1024)  # the estimator's prediction batches

    def raw_forward():
        X_raw = torch.from_numpy(
            ((X_big.to_numpy() - clf.mean_) / clf.scale_).astype(np.float32)
        )
        with torch.no_grad():
            for start in range(0, N_PREDICT, batch):
                torch.softmax(module(X_raw[start : start + batch])[0], dim=-1)

    predict_time = best_of(lambda: clf.predict_proba(X_big), 3)
    raw_time = best_of(raw_forward, 3)
    return {
        "fit_rows": len(train),
        "epochs": N_EPOCHS,
        "fit_seconds_estimator": fit_time,
        "fit_seconds_plain_torch": torch_fit_time,
        "fit_overhead_ratio": fit_time / torch_fit_time,
        "fit_overhead_target_max": 1.5,
        "predict_rows": N_PREDICT,
        "predict_rows_per_s_estimator": N_PREDICT / predict_time,
        "predict_rows_per_s_raw_module": N_PREDICT / raw_time,
        "predict_throughput_ratio": raw_time / predict_time,
        "predict_throughput_target_min": 0.8,
    }


# --- 3. quality ------------------------------------------------------------


def models(seed, prior, validation_fraction):
    """Every model in the same pipeline: modality dropout while fitting."""
    imputed = [("impute", SimpleImputer())]
    steps = {
        "majority": [("model", DummyClassifier(strategy="most_frequent"))],
        "lda": [*imputed, ("model", LinearDiscriminantAnalysis())],
        "logistic_regression": [
            *imputed,
            ("scale", StandardScaler()),
            ("model", LogisticRegression(max_iter=1000)),
        ],
        "hist_gradient_boosting": [
            ("model", HistGradientBoostingClassifier(random_state=seed))
        ],
        "random_forest": [
            ("model", RandomForestClassifier(n_jobs=1, random_state=seed))
        ],
        "steelnet": [
            (
                "model",
                SteelNetClassifier(
                    attribution_prior=prior,
                    validation_fraction=validation_fraction,
                    random_state=seed,
                ),
            )
        ],
    }
    dropout = ("dropout", ModalityDropout(random_state=seed))
    return {name: Pipeline([dropout, *model]) for name, model in steps.items()}


def scores(y_true, y_pred, classes):
    recall = recall_score(y_true, y_pred, labels=classes, average=None, zero_division=0)
    return {
        "accuracy": accuracy_score(y_true, y_pred),
        "macro_f1": f1_score(y_true, y_pred, average="macro", zero_division=0),
        "balanced_accuracy": balanced_accuracy_score(y_true, y_pred),
        **{f"recall_class_{c}": r for c, r in zip(classes, recall)},
    }


def bench_quality(data):
    """Scores of every model on every seed, clean and with failing sensors."""
    X, y = data.data, data.target
    classes = sorted(y.unique())
    rows = []
    for seed in SEEDS:
        train, valid, test = paper_split(y, seed)
        both = np.concatenate([train, valid])
        failing = SensorFailure("table", p_base=TEST_FAILURE_RATE, random_state=seed)
        X_failing = failing.fit_transform(X.iloc[test])
        for name, model in models(
            seed, data.attribution_prior, len(valid) / len(both)
        ).items():
            # SteelNet holds out as many rows as the validation split for
            # early stopping, so every model trains on as many rows.
            fit_rows = both if name == "steelnet" else train
            start = time.perf_counter()
            model.fit(X.iloc[fit_rows], y.iloc[fit_rows])
            fit_time = time.perf_counter() - start
            for condition, X_test in [("clean", X.iloc[test]), ("failing", X_failing)]:
                row = scores(y.iloc[test], model.predict(X_test), classes)
                rows.append(
                    {"model": name, "seed": seed, "test": condition,
                     "fit_seconds": fit_time, **row}
                )
            print(f"  seed {seed} {name:24s} fitted in {fit_time:6.1f} s", flush=True)
    table = pd.DataFrame(rows)
    summary = table.drop(columns="seed").groupby(["test", "model"]).agg(["mean", "std"])
    return table, summary


def main():
    torch.set_num_threads(1)  # steadier timings on a shared machine
    data = make_steelnet_dataset(random_state=0)
    print("1-2. overhead of the sklearn/skorch layer")
    overhead = bench_overhead(data)
    for key, value in overhead.items():
        print(f"  {key:32s} {value:,.3f}" if isinstance(value, float) else
              f"  {key:32s} {value}")
    print("3. quality (mean +- sd over seeds)")
    table, summary = bench_quality(data)
    columns = ["accuracy", "macro_f1", "balanced_accuracy"]
    for (condition, name), row in summary.iterrows():
        cells = "  ".join(
            f"{c} {row[(c, 'mean')]:.3f}+-{row[(c, 'std')]:.3f}" for c in columns
        )
        print(f"  {condition:8s} {name:24s} {cells}")
    quality = {
        f"{condition}/{name}": {
            metric: {"mean": row[(metric, "mean")], "sd": row[(metric, "std")]}
            for metric in summary.columns.levels[0]
        }
        for (condition, name), row in summary.iterrows()
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "bench_steelnet",
                "versions": {
                    "sksteel": sksteel.__version__,
                    "torch": torch.__version__,
                    "sklearn": sklearn.__version__,
                    "python": platform.python_version(),
                },
                "torch_threads": torch.get_num_threads(),
                "seeds": list(SEEDS),
                "test_failure_rate": TEST_FAILURE_RATE,
                "overhead": overhead,
                "quality": quality,
                "quality_per_seed": table.to_dict(orient="records"),
            },
            indent=2,
        )
    )
    print(f"written {RESULTS}")


if __name__ == "__main__":
    main()
