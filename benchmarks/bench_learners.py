"""SteelNet against the tabular learners, on a suite of tables (issue 13).

Models, side by side on the same splits and seeds: SteelNet with sksteel's
defaults, SteelNet as in the paper (``SteelNetClassifier.paper()``; left
out while the defaults are the paper's, as it would give the same numbers),
the study's candidate (``CANDIDATE_CONFIG``), HistGradientBoosting,
RandomForest (500 trees), LightGBM (when installed), sklearn's MLP and LDA,
and with ``--pytabkit`` pytabkit's RealMLP and TabM on imputed inputs.
Each is scored on macro-F1, balanced accuracy, accuracy, expected
calibration error (ECE, 15 equal-width bins of the top probability) and
fit seconds.

Suite:

- ``builtin``: the reproduce data and split (train on the training rows;
  SteelNet gets training plus validation rows and holds out as many as the
  validation split has, as ``sksteel reproduce`` does), scored clean and
  under uniform test-time failures of 30 % and 50 %. The baselines train on
  ModalityDropout-augmented rows (p_base 0.2, one copy), SteelNet with its
  own modality dropout and the generator's attribution prior. The
  near-Bayes ceiling is HistGradientBoosting trained on ten times more
  generated rows (``random_state=1``), scored on the same test rows.
- ``real``: the tables of ``/work/shared/data/real/`` (skipped when
  absent): stratified 70/30, every model at its defaults, SteelNet without
  attribution prior or sensor table.
- ``sklearn``: breast cancer, wine, digits, stratified 70/30.

Paired differences of macro-F1 (SteelNet defaults minus each model) are
reported with their mean and 95 % t-interval over the seeds. The fit-time
ratio times SteelNet (defaults) and HistGradientBoosting on the same rows
in the same process; throughput is ``predict_proba`` rows per second.

Run: ``OMP_NUM_THREADS=1 nice -n 10 python benchmarks/bench_learners.py``
(``--quick`` for 1 seed and subsets, ``--suite builtin`` for one part).
Writes ``benchmarks/results/bench_learners.json``. On two cores, the
committed file was made by two processes and a merge::

    python benchmarks/bench_learners.py --suite builtin --out /tmp/a.json
    python benchmarks/bench_learners.py --suite real sklearn --out /tmp/b.json
    python benchmarks/bench_learners.py --combine /tmp/a.json /tmp/b.json

``--dropout-check`` fits the defaults with and without modality dropout
(``failure_rates=0``) on two hydraulic tables, one seed, and writes
``benchmarks/results/bench_learners_dropout.json``.

SteelNet with self-attention (the paper's network) is not run on tables of
more than ``ATTENTION_MAX_FEATURES`` columns (SECOM): one token per column
makes a fit take over an hour here.

Study (how the defaults were chosen)
------------------------------------
``--study`` fits every configuration of ``STUDY_CONFIGS`` (the paper's
network and the candidate learners, each a full set of the options under
study) on the whole suite, 2 seeds, and prints per table the mean macro-F1
of each and its paired difference to the paper's configuration, with the
number of tables it wins and the mean fit seconds. No default is chosen on
one table: a configuration replaces the paper's defaults only when it wins
on most tables of the suite. Writes
``benchmarks/results/bench_learners_study.json``. See
``docs/user_guide/performance.rst`` ("Choosing SteelNet's defaults").
"""

import argparse
import gzip
import json
import time
import warnings
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from imblearn.pipeline import Pipeline
from scipy import stats
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from sksteel.experiments import load_experiment_data

# The reproduce split itself, so that the numbers compare with the report.
from sksteel.experiments._data import _make_splits as make_splits
from sksteel.metrics import rank_agreement
from sksteel.models import SteelNetClassifier
from sksteel.preprocessing import SensorFailure
from sksteel.sampling import ModalityDropout

RESULTS = Path(__file__).parent / "results" / "bench_learners.json"
STUDY_RESULTS = RESULTS.with_name("bench_learners_study.json")
DROPOUT_RESULTS = RESULTS.with_name("bench_learners_dropout.json")
REAL_ROOT = Path("/work/shared/data/real")
FAILURE_RATES = (0.3, 0.5)
ATTENTION_MAX_FEATURES = 100

#: The study's configuration run beside the defaults in the full benchmark.
CANDIDATE_CONFIG = "fast + embeddings"
CANDIDATE = f"SteelNet (candidate: {CANDIDATE_CONFIG})"
STEELNET = "SteelNet (sksteel defaults)"
PAPER = "SteelNet (paper)"
CEILING = "ceiling (HGB, 10x rows)"

#: The study's configurations (``--study``): each is the paper's network
#: (``SteelNetClassifier.paper``) with these options changed, so every row
#: names all it changes. "fast" drops the attention branch (its ~5 ms per
#: batch) and trains on batches of 256 with early stopping on macro-F1.
_FAST = {
    "use_attention": False,
    "batch_size": 256,
    "lr": 2e-3,
    "scoring": "f1_macro",
    "temperature_scaling": True,
}
_EMBED = {"numeric_embedding": "periodic", "scaling": "robust", "soft_clip": 3.0}
STUDY_CONFIGS = {
    "paper": {},
    "fast": _FAST,
    "fast + embeddings": {**_FAST, **_EMBED},
    "fast + embeddings + 4 members": {**_FAST, **_EMBED, "n_ensemble": 4},
    "attention + embeddings + 4 members": {
        **_FAST,
        **_EMBED,
        "n_ensemble": 4,
        "use_attention": True,
    },
}


def expected_calibration_error(y_true, proba, classes, n_bins=15):
    """Top-label ECE: mean |accuracy - confidence| over confidence bins."""
    confidence = proba.max(axis=1)
    correct = classes[proba.argmax(axis=1)] == y_true
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in np.unique(bins):
        in_bin = bins == b
        ece += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(ece)


def score(model, X, y):
    """The four scores of a fitted classifier on ``(X, y)``."""
    proba = model.predict_proba(X)
    classes = model.classes_
    y_pred = classes[proba.argmax(axis=1)]
    return {
        "f1_macro": f1_score(y, y_pred, average="macro", zero_division=0),
        "balanced_accuracy": balanced_accuracy_score(y, y_pred),
        "accuracy": accuracy_score(y, y_pred),
        "ece": expected_calibration_error(np.asarray(y), proba, classes),
    }


def _imputed(model):
    return [
        ("impute", SimpleImputer(add_indicator=True, keep_empty_features=True)),
        ("scale", StandardScaler()),
        ("model", model),
    ]


def baselines(seed, *, augment, pytabkit=False):
    """The non-SteelNet models; with ``augment``, behind ModalityDropout;
    with ``pytabkit``, RealMLP and TabM too (when installed)."""
    steps = {
        "HistGradientBoosting": [
            ("model", HistGradientBoostingClassifier(random_state=seed))
        ],
        "RandomForest": [
            (
                "model",
                RandomForestClassifier(n_estimators=500, n_jobs=1, random_state=seed),
            )
        ],
        "MLP": _imputed(MLPClassifier(early_stopping=True, random_state=seed)),
        "LDA": _imputed(LinearDiscriminantAnalysis()),
    }
    try:
        from lightgbm import LGBMClassifier

        steps["LightGBM"] = [
            ("model", LGBMClassifier(random_state=seed, n_jobs=1, verbose=-1))
        ]
    except ImportError:
        pass
    try:
        if not pytabkit:
            raise ImportError
        from pytabkit import RealMLP_TD_Classifier, TabM_D_Classifier

        for name, model in (
            ("RealMLP (pytabkit)", RealMLP_TD_Classifier),
            ("TabM (pytabkit)", TabM_D_Classifier),
        ):
            # they refuse NaN: mean imputation with missing indicators
            steps[name] = [
                ("impute", SimpleImputer(add_indicator=True, keep_empty_features=True)),
                (
                    "model",
                    model(random_state=seed, n_threads=1, device="cpu", verbosity=0),
                ),
            ]
    except ImportError:
        pass
    head = (
        [("dropout", ModalityDropout(p_base=0.2, n_copies=1, random_state=seed))]
        if augment
        else []
    )
    return {name: Pipeline([*head, *s]) for name, s in steps.items()}


def steelnets(seed, **params):
    """The SteelNet rows: sksteel's defaults, the paper's network (left out
    while the defaults are the paper's: the same estimator gives the same
    numbers) and the study's best candidate, ``CANDIDATE``."""
    models = {STEELNET: SteelNetClassifier(random_state=seed, **params)}
    if not defaults_are_paper():
        models[PAPER] = SteelNetClassifier.paper(random_state=seed, **params)
    models[CANDIDATE] = SteelNetClassifier.paper(
        random_state=seed, **STUDY_CONFIGS[CANDIDATE_CONFIG], **params
    )
    return models


def defaults_are_paper():
    """Whether SteelNetClassifier's defaults are the paper's configuration."""
    paper = SteelNetClassifier.paper().get_params()
    return SteelNetClassifier().get_params() == paper


def study_steelnets(seed, **params):
    """One SteelNet per configuration of ``STUDY_CONFIGS``."""
    return {
        name: SteelNetClassifier.paper(random_state=seed, **config, **params)
        for name, config in STUDY_CONFIGS.items()
    }


def too_wide_for_attention(model, X):
    """Whether ``model`` is a SteelNet with attention on more columns than
    ``ATTENTION_MAX_FEATURES``: one token per column makes such a fit take
    over an hour on this benchmark's machine (SECOM's 590 columns: 75-150 s
    per epoch), so it is left out and the table says so."""
    return (
        isinstance(model, SteelNetClassifier)
        and model.use_attention
        and X.shape[1] > ATTENTION_MAX_FEATURES
    )


def head_agreement(model, dataset, X, y):
    """The attribution head against the generator's ``w*``, on the defective
    test rows: per-sample MSE, Spearman correlation and top-2 overlap."""
    head = model.explain(X, method="head")
    head.columns = dataset.data.columns
    defective = y != 0
    prior = dataset.attribution_prior
    agreement = rank_agreement(head[defective], y[defective], prior, k=2)
    truth = prior.loc[y[defective]].to_numpy()
    return {
        "attribution_mse": float(np.mean((head[defective].to_numpy() - truth) ** 2)),
        "attribution_spearman": float(agreement.spearman),
        "attribution_top2": float(agreement.top_k_overlap),
    }


def timed_fit(model, X, y, **fit_params):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y, **fit_params)
    return time.perf_counter() - start


def run_builtin(seeds, only=None, study=False, pytabkit=False, on_rows=None):
    """Rows (table, model, seed, condition, scores) on the built-in data.

    With ``study``, the study's SteelNets only (no baselines, ceiling or
    timing). ``on_rows(rows, timing)`` is called after each seed."""
    dataset = load_experiment_data()
    X, y = dataset.data.to_numpy(), dataset.target.to_numpy()
    intensity = dataset.frame["intensity"].to_numpy(dtype=float)
    ceiling_data = load_experiment_data(
        n_normal=59020, n_per_class=2000, random_state=1
    )
    rows, timing = [], []
    for seed in seeds:
        split = make_splits(y, random_state=seed)
        fit_rows = np.concatenate([split.train, split.valid])
        tests = {"clean": X[split.test]}
        for rate in FAILURE_RATES:
            failure = SensorFailure(rate, random_state=seed)
            tests[f"uniform {rate:.0%}"] = failure.fit_transform(X[split.test])
        models = (study_steelnets if study else steelnets)(
            seed,
            attribution_prior=dataset.attribution_prior,
            p_base=0.2,
            validation_fraction=len(split.valid) / len(fit_rows),
        )
        if not study:
            models.update(baselines(seed, augment=True, pytabkit=pytabkit))
            models[CEILING] = HistGradientBoostingClassifier(random_state=seed)
        for name, model in models.items():
            if only and name not in only:
                continue
            if name == CEILING:
                seconds = timed_fit(
                    model, ceiling_data.data.to_numpy(), ceiling_data.target
                )
                conditions = {"clean": tests["clean"]}
            elif isinstance(model, SteelNetClassifier):
                extra = {} if intensity is None else {"intensity": intensity[fit_rows]}
                seconds = timed_fit(model, X[fit_rows], y[fit_rows], **extra)
                conditions = tests
            else:
                seconds = timed_fit(model, X[split.train], y[split.train])
                conditions = tests
            for condition, X_test in conditions.items():
                rows.append(
                    {
                        "table": "builtin",
                        "condition": condition,
                        "model": name,
                        "seed": seed,
                        "fit_seconds": seconds,
                        **score(model, X_test, y[split.test]),
                    }
                )
                if isinstance(model, SteelNetClassifier) and condition == "clean":
                    rows[-1].update(
                        head_agreement(model, dataset, X_test, y[split.test])
                    )
            print(f"  builtin seed {seed} {name}: {seconds:.1f}s", flush=True)
        if not study and (not only or STEELNET in only):
            timing.append(
                fit_time_ratio(X[fit_rows], y[fit_rows], seed, models[STEELNET])
            )
        if on_rows is not None:
            on_rows(rows, timing)
    return rows, timing


def fit_time_ratio(X, y, seed, steelnet):
    """SteelNet (already fitted above) vs HGB on the same rows, and the
    prediction throughput of SteelNet."""
    from sklearn.base import clone

    steelnet = clone(steelnet).set_params(attribution_prior=None)
    steelnet_seconds = timed_fit(steelnet, X, y)
    hgb_seconds = timed_fit(HistGradientBoostingClassifier(random_state=seed), X, y)
    big = np.tile(X, (max(1, 100_000 // len(X)), 1))
    start = time.perf_counter()
    steelnet.predict_proba(big)
    throughput = len(big) / (time.perf_counter() - start)
    return {
        "seed": seed,
        "n_rows": len(X),
        "steelnet_seconds": steelnet_seconds,
        "hgb_seconds": hgb_seconds,
        "ratio": steelnet_seconds / hgb_seconds,
        "predict_rows_per_second": throughput,
    }


def real_tables(root=REAL_ROOT):
    """name -> (X, y) for the real tables found (classification targets)."""
    if not root.is_dir():
        print(f"  {root} is absent: the real tables are skipped")
        return {}
    tables = {}
    secom = root / "secom_uci179" / "secom.csv.gz"
    if secom.is_file():
        with gzip.open(secom) as file:
            frame = pd.read_csv(file)
        features = frame.filter(regex=r"^f\d+$")
        tables["secom"] = (features.to_numpy(float), frame["target_fail"].to_numpy())
    hydraulic = root / "hydraulic_uci447" / "hydraulic_cycles.csv"
    if hydraulic.is_file():
        frame = pd.read_csv(hydraulic)
        features = frame.drop(columns=["cycle"]).filter(regex=r"^(?!target_)")
        for target in ("cooler_pct", "valve_pct", "pump_leakage", "accumulator_bar"):
            tables[f"hydraulic {target}"] = (
                features.to_numpy(float),
                frame[f"target_{target}"].to_numpy(),
            )
    cwru = root / "cwru_bearing_48k_1hp" / "cwru_time_features.csv"
    if cwru.is_file():
        frame = pd.read_csv(cwru)
        features = frame.filter(regex=r"^(?!target_)").select_dtypes("number")
        tables["cwru"] = (features.to_numpy(float), frame["target_fault"].to_numpy())
    return tables


def sklearn_tables():
    return {
        "breast_cancer": load_breast_cancer(return_X_y=True),
        "wine": load_wine(return_X_y=True),
        "digits": load_digits(return_X_y=True),
    }


def run_tables(
    tables,
    seeds,
    only=None,
    subsample=None,
    study=False,
    pytabkit=False,
    on_rows=None,
):
    """Rows on plain tables: stratified 70/30, every model at its defaults
    (with ``study``, the study's SteelNets only). Every table of a seed runs
    before the next seed; ``on_rows(rows)`` is called after each table, to
    save what has run."""
    rows = []
    for seed in seeds:
        for table, (X, y) in tables.items():
            X_train, X_test, y_train, y_test = train_test_split(
                X, y, test_size=0.3, stratify=y, random_state=seed
            )
            if subsample and len(X_train) > subsample:
                X_train, _, y_train, _ = train_test_split(
                    X_train,
                    y_train,
                    train_size=subsample,
                    stratify=y_train,
                    random_state=seed,
                )
            if study:
                models = study_steelnets(seed)
            else:
                models = {
                    **steelnets(seed),
                    **baselines(seed, augment=False, pytabkit=pytabkit),
                }
            for name, model in models.items():
                if only and name not in only:
                    continue
                if too_wide_for_attention(model, X_train):
                    print(
                        f"  {table}: {name} not run (attention over "
                        f"{X_train.shape[1]} sensor tokens)",
                        flush=True,
                    )
                    continue
                seconds = timed_fit(model, X_train, y_train)
                rows.append(
                    {
                        "table": table,
                        "condition": "clean",
                        "model": name,
                        "seed": seed,
                        "fit_seconds": seconds,
                        **score(model, X_test, y_test),
                    }
                )
            print(f"  {table} seed {seed} done", flush=True)
            if on_rows is not None:
                on_rows(rows)
    return rows


def paired_differences(frame, reference=STEELNET, sign=1):
    """Macro-F1 of ``reference`` minus each model (``sign=-1``: each model
    minus ``reference``), per table and condition: mean and 95 % t-interval
    over the seeds."""
    out = []
    for (table, condition), group in frame.groupby(["table", "condition"]):
        pivot = group.pivot(index="seed", columns="model", values="f1_macro")
        if reference not in pivot:  # not run on this table (say attention)
            continue
        for model in pivot.columns.drop(reference):
            diff = sign * (pivot[reference] - pivot[model]).dropna()
            n = len(diff)
            half = (
                stats.t.ppf(0.975, n - 1) * diff.std(ddof=1) / np.sqrt(n)
                if n > 1
                else np.nan
            )
            out.append(
                {
                    "table": table,
                    "condition": condition,
                    "versus": model if sign == 1 else reference,
                    "model": reference if sign == 1 else model,
                    "mean": diff.mean(),
                    "low": diff.mean() - half,
                    "high": diff.mean() + half,
                    "n_seeds": n,
                }
            )
    return pd.DataFrame(out)


def _row(target, measured, goal, met):
    return {"target": target, "measured": measured, "goal": goal, "met": bool(met)}


def targets(frame, diffs, timing):
    """The issue's targets, each with what was measured and whether it is met."""
    out = []
    f1 = frame.groupby(["table", "condition", "model"])["f1_macro"].mean()
    diff = diffs.set_index(["table", "condition", "versus"])
    if "builtin" in frame["table"].unique():
        clean = f1.loc[("builtin", "clean")]
        trees = [m for m in ("HistGradientBoosting", "RandomForest") if m in clean]
        if trees:
            best = max(trees, key=clean.get)
            d = diff.loc[("builtin", "clean", best)]
            out.append(
                _row(
                    f"built-in clean macro-F1 minus {best} (the better tree ensemble)",
                    f"{d['mean']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}]",
                    ">= 0",
                    d["mean"] >= 0,
                )
            )
        if CEILING in clean:
            gap = clean[STEELNET] - clean[CEILING]
            out.append(
                _row(
                    "built-in clean macro-F1 minus the ceiling",
                    f"{gap:+.4f}",
                    ">= -0.005",
                    gap >= -0.005,
                )
            )
        for rate in FAILURE_RATES:
            condition = f"uniform {rate:.0%}"
            ranked = f1.loc[("builtin", condition)].sort_values(ascending=False)
            rank = list(ranked.index).index(STEELNET) + 1
            out.append(
                _row(
                    f"rank by macro-F1 at {condition} failures",
                    f"{rank} of {len(ranked)} (first: {ranked.index[0]})",
                    "1",
                    rank == 1,
                )
            )
    for table in frame["table"].unique():
        if table == "builtin":
            continue
        if (table, "clean", "HistGradientBoosting") not in diff.index:
            out.append(
                _row(
                    f"{table}: macro-F1 minus HistGradientBoosting",
                    "not run (self-attention on too many columns)",
                    ">= 0",
                    False,
                )
            )
            continue
        d = diff.loc[(table, "clean", "HistGradientBoosting")]
        out.append(
            _row(
                f"{table}: macro-F1 minus HistGradientBoosting",
                f"{d['mean']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}]",
                ">= 0",
                d["mean"] >= 0,
            )
        )
    if timing:
        ratio = float(np.mean([t["ratio"] for t in timing]))
        speed = float(np.min([t["predict_rows_per_second"] for t in timing]))
        out.append(
            _row(
                "fit time / HistGradientBoosting's (built-in rows)",
                f"{ratio:.2f}",
                "<= 6",
                ratio <= 6,
            )
        )
        out.append(
            _row(
                "predict_proba rows per second (slowest seed)",
                f"{speed:,.0f}",
                ">= 50,000",
                speed >= 50_000,
            )
        )
    return out


def study_summary(frame):
    """Per configuration: tables won against the paper's configuration (mean
    paired difference > 0), tables clearly won (95 % interval above 0),
    mean paired difference and mean fit seconds."""
    diffs = paired_differences(frame, reference="paper", sign=-1)
    seconds = frame.groupby("model")["fit_seconds"].mean()
    summary = diffs.groupby("model").agg(
        tables=("mean", "size"),
        wins=("mean", lambda d: int((d > 0).sum())),
        clear_wins=("low", lambda low: int((low > 0).sum())),
        clear_losses=("high", lambda high: int((high < 0).sum())),
        mean_difference=("mean", "mean"),
    )
    summary["fit_seconds"] = seconds.reindex(summary.index)
    return diffs, summary


def run_study(args):
    """The study of the defaults: every STUDY_CONFIGS row on the suite."""
    seeds = [0] if args.quick else [0, 1]
    subsample = 1000 if args.quick else None
    rows = []
    if "builtin" in args.suite:
        rows += run_builtin(seeds, args.models, study=True)[0]
    if "real" in args.suite:
        rows += run_tables(real_tables(), seeds, args.models, subsample, study=True)
    if "sklearn" in args.suite:
        rows += run_tables(sklearn_tables(), seeds, args.models, subsample, study=True)
    frame = pd.DataFrame(rows)
    pivot = frame.pivot_table(
        index=["table", "condition"], columns="model", values="f1_macro"
    )
    diffs, summary = study_summary(frame)
    print(pivot.round(4).to_string())
    print(diffs.round(4).to_string(index=False))
    print(summary.round(4).to_string())
    out = Path(args.out if args.out != str(RESULTS) else STUDY_RESULTS)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "seeds": seeds,
                "quick": args.quick,
                "suites": args.suite,
                "configs": STUDY_CONFIGS,
                "runs": write_runs(rows, out),
                "paired_f1_macro_differences": diffs.to_dict(orient="records"),
                "summary": summary.reset_index().to_dict(orient="records"),
            },
            indent=1,
            default=float,
        )
    )
    print(f"wrote {out}")


#: The rules of modality dropout compared by ``--dropout-check`` on tables
#: without a sensor table: each maps the training rows to SteelNet's
#: ``failure_rates``. "table" is today's ``failure_rates="table"`` (every
#: column at ``p_base`` 0.2); "training missing rate" drops each column as
#: often as it is missing in the training rows.
DROPOUT_RULES = {
    "table": lambda X: "table",
    "no dropout": lambda X: 0.0,
    "p_base 0.05": lambda X: 0.05,
    "training missing rate": lambda X: np.isnan(X).mean(axis=0),
}


def _rates_key(rates, n_features):
    """The per-column rates a rule gives on a table without a sensor table
    (where "table" is 0.2 everywhere), to fit each distinct rule once."""
    if isinstance(rates, str):
        rates = 0.2
    return tuple(np.broadcast_to(np.asarray(rates, dtype=float), (n_features,)))


def run_dropout_check(seeds, out, rules=None, reference=None):
    """SteelNet's defaults under each rule of ``DROPOUT_RULES`` on the real
    and sklearn tables (none has a sensor table), stratified 70/30 as in the
    suite. A rule that gives the same rates as one already fitted (say the
    training missing rate on a table without NaN, which is no dropout)
    reuses its scores. With ``reference`` (a runs CSV of the suite), the
    rows of "SteelNet (sksteel defaults)" stand for the "table" rule instead
    of refitting it (the same estimator, splits and seeds)."""
    rules = rules or list(DROPOUT_RULES)
    tables = {**real_tables(), **sklearn_tables()}
    rows = []
    if reference is not None:
        old = pd.read_csv(reference)
        old = old[(old["model"] == STEELNET) & (old["condition"] == "clean")]
        old = old[old["seed"].isin(seeds) & old["table"].isin(list(tables))]
        rows += [
            {**row, "model": "table", "reused": True}
            for row in old[["table", "seed", "fit_seconds", "f1_macro"]].to_dict(
                "records"
            )
        ]
        rules = [rule for rule in rules if rule != "table"]
    for seed in seeds:
        for table, (X, y) in tables.items():
            X_train, X_test, y_train, y_test = train_test_split(
                X, y, test_size=0.3, stratify=y, random_state=seed
            )
            fitted = {}
            for rule in rules:
                rates = DROPOUT_RULES[rule](X_train)
                key = _rates_key(rates, X.shape[1])
                if key in fitted:
                    rows.append({**fitted[key], "model": rule, "reused": True})
                    continue
                model = SteelNetClassifier(random_state=seed, failure_rates=rates)
                if too_wide_for_attention(model, X_train):
                    continue
                seconds = timed_fit(model, X_train, y_train)
                rows.append(
                    {
                        "table": table,
                        "model": rule,
                        "seed": seed,
                        "fit_seconds": seconds,
                        "reused": False,
                        **score(model, X_test, y_test),
                    }
                )
                fitted[key] = rows[-1]
                print(f"  {table} seed {seed} {rule}: {seconds:.1f}s", flush=True)
            write_dropout_check(rows, seeds, out, partial=True)
    write_dropout_check(rows, seeds, out)


def dropout_summary(frame):
    """Each rule against "table": per table and pooled over every
    (table, seed) pair, the mean paired macro-F1 difference and its 95 %
    t-interval."""
    frame = frame.assign(condition="clean")
    diffs = paired_differences(frame, reference="table", sign=-1)
    pivot = frame.pivot_table(
        index=["table", "seed"], columns="model", values="f1_macro"
    )
    pooled = []
    for rule in pivot.columns.drop("table"):
        diff = (pivot[rule] - pivot["table"]).dropna()
        half = stats.t.ppf(0.975, len(diff) - 1) * diff.std(ddof=1) / np.sqrt(len(diff))
        pooled.append(
            {
                "model": rule,
                "pairs": len(diff),
                "mean": diff.mean(),
                "low": diff.mean() - half,
                "high": diff.mean() + half,
                "tables_won": int((diffs[diffs["model"] == rule]["mean"] > 0).sum()),
                "tables_clearly_lost": int(
                    (diffs[diffs["model"] == rule]["high"] < 0).sum()
                ),
                "tables": int((diffs["model"] == rule).sum()),
            }
        )
    return diffs, pd.DataFrame(pooled)


def write_dropout_check(rows, seeds, out, partial=False):
    frame = pd.DataFrame(rows)
    if partial or frame["model"].nunique() < 2:
        Path(out).write_text(
            json.dumps({"seeds": seeds, "partial": True, "runs": write_runs(rows, out)})
        )
        return
    means = frame.groupby(["table", "model"])[["f1_macro", "fit_seconds"]].mean()
    diffs, pooled = dropout_summary(frame)
    pd.set_option("display.width", 200)
    print(means.round(4).to_string())
    print(diffs.round(4).to_string(index=False))
    print(pooled.round(4).to_string(index=False))
    Path(out).write_text(
        json.dumps(
            {
                "seeds": seeds,
                "rules": list(DROPOUT_RULES),
                "summary": means.reset_index().to_dict(orient="records"),
                "paired_f1_macro_differences": diffs.to_dict(orient="records"),
                "pooled": pooled.to_dict(orient="records"),
                "runs": write_runs(rows, out),
            },
            indent=1,
            default=float,
        )
    )
    print(f"wrote {out}")


def write_runs(rows, out):
    """The per-seed rows beside ``out`` as CSV (the JSON keeps the tables,
    which the documentation renders)."""
    path = Path(out).with_name(Path(out).stem + "_runs.csv")
    pd.DataFrame(rows).to_csv(path, index=False, float_format="%.6g")
    return path.name


def write_results(rows, timing, seeds, quick, out):
    """Print the tables and targets of ``rows`` and write them to ``out``
    (the per-seed rows to ``<out>_runs.csv``)."""
    frame = pd.DataFrame(rows)
    metrics = ["f1_macro", "balanced_accuracy", "accuracy", "ece", "fit_seconds"]
    metrics += [c for c in frame.columns if c.startswith("attribution_")]
    summary = frame.groupby(["table", "condition", "model"])[metrics].mean()
    pd.set_option("display.width", 200)
    pd.set_option("display.max_rows", 500)
    print(summary.round(4).to_string())
    diffs = paired_differences(frame)
    print(diffs.round(4).to_string(index=False))
    candidate = (
        paired_differences(frame, reference=CANDIDATE)
        if CANDIDATE in set(frame["model"])
        else pd.DataFrame()
    )
    if timing:
        print(pd.DataFrame(timing).round(3).to_string(index=False))
    goals = targets(frame, diffs, timing)
    print(pd.DataFrame(goals).to_string(index=False))
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(
        json.dumps(
            {
                "seeds": seeds,
                "quick": quick,
                "targets": goals,
                "summary": summary.reset_index().to_dict(orient="records"),
                "paired_f1_macro_differences": diffs.to_dict(orient="records"),
                "candidate_paired_f1_macro_differences": candidate.to_dict(
                    orient="records"
                ),
                "fit_time": timing,
                "runs": write_runs(rows, out),
            },
            indent=1,
            default=float,
        )
    )
    print(f"wrote {out}")


def save_runs(rows, timing, seeds, quick, out):
    """The rows so far, without the tables: what :func:`combine` needs to
    merge an interrupted run."""
    Path(out).write_text(
        json.dumps(
            {
                "seeds": seeds,
                "quick": quick,
                "partial": True,
                "fit_time": timing,
                "runs": write_runs(rows, out),
            },
            default=float,
        )
    )


def combine(paths, out):
    """Merge the runs of several result files (say the suites run in
    parallel processes) into ``out``, recomputing every table."""
    parts = [json.loads(Path(path).read_text()) for path in paths]
    rows = []
    for path, part in zip(paths, parts):
        runs = part["runs"]
        if isinstance(runs, str):  # the name of the runs' CSV file
            runs = pd.read_csv(Path(path).with_name(runs)).to_dict("records")
        rows += runs
    timing = [t for part in parts for t in part["fit_time"]]
    seeds = sorted({int(row["seed"]) for row in rows})
    write_results(rows, timing, seeds, any(part["quick"] for part in parts), out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 seed, subsets")
    parser.add_argument(
        "--suite",
        nargs="+",
        default=["builtin", "real", "sklearn"],
        choices=["builtin", "real", "sklearn"],
    )
    parser.add_argument("--models", nargs="+", default=None, help="subset of models")
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument(
        "--study", action="store_true", help="compare STUDY_CONFIGS (2 seeds)"
    )
    parser.add_argument(
        "--combine",
        nargs="+",
        default=None,
        metavar="JSON",
        help="merge result files (suites run in parallel) into --out",
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=None)
    parser.add_argument(
        "--tables", nargs="+", default=None, help="subset of the real/sklearn tables"
    )
    parser.add_argument(
        "--pytabkit",
        action="store_true",
        help="add pytabkit's RealMLP and TabM (slow on CPU)",
    )
    parser.add_argument(
        "--dropout-check",
        action="store_true",
        help="SteelNet under the rules of DROPOUT_RULES (--models: a subset)",
    )
    parser.add_argument(
        "--dropout-reference",
        default=None,
        metavar="CSV",
        help="suite runs whose SteelNet defaults stand for the 'table' rule",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.dropout_check:
        out = args.out if args.out != str(RESULTS) else DROPOUT_RESULTS
        run_dropout_check(
            args.seeds or [0, 1, 2], out, args.models, args.dropout_reference
        )
        return
    if args.combine:
        combine(args.combine, args.out)
        return
    if args.study:
        run_study(args)
        return
    seeds = args.seeds or ([0] if args.quick else [0, 1, 2])
    subsample = 1000 if args.quick else None
    rows, timing = [], []
    if "builtin" in args.suite:
        builtin_rows, timing = run_builtin(
            seeds,
            args.models,
            pytabkit=args.pytabkit,
            on_rows=partial(save_runs, seeds=seeds, quick=args.quick, out=args.out),
        )
        rows += builtin_rows
    tables = {}
    if "real" in args.suite:
        tables.update(real_tables())
    if "sklearn" in args.suite:
        tables.update(sklearn_tables())

    if args.tables:
        tables = {name: tables[name] for name in args.tables if name in tables}

    def checkpoint(table_rows):
        save_runs(rows + table_rows, timing, seeds, args.quick, args.out)

    rows += run_tables(
        tables,
        seeds,
        args.models,
        subsample,
        pytabkit=args.pytabkit,
        on_rows=checkpoint,
    )
    write_results(rows, timing, seeds, args.quick, args.out)


if __name__ == "__main__":
    main()
