"""``reproduce``: every experiment of the paper, in one call."""

import os
import platform
import sys
import time
from dataclasses import replace

import pandas as pd

from .. import __version__
from .._schema import CLASS_NAMES
from ..utils import single_threaded
from ._ablation import run_ablation
from ._attribution import run_attribution
from ._data import _make_splits, load_experiment_data
from ._figures import (
    ablation_figure,
    attribution_figure,
    composition_figure,
    confusion_figure,
    correlation_figure,
    robustness_figure,
    training_figure,
)
from ._fitting import fit_models
from ._models import (
    PAPER_STEELNET,
    STEELNET_LABEL,
    TRAINING_DROPOUT,
    _training_length,
    baseline_estimators,
    steelnet_estimator,
)
from ._paper import PAPER_RESULTS
from ._recommendations import ROWS_PER_SEED, run_recommendations
from ._references import CEILING, fit_ceiling, separability
from ._report import write_report
from ._results import ReproduceConfig, ReproduceResults
from ._robustness import run_robustness
from ._table1 import run_table1

__all__ = ["reproduce"]

_STAGES = (
    "data set",
    "training SteelNet, the baselines and the ceiling",
    "Table 1",
    "attribution",
    "robustness",
    "ablation",
    "recommendations",
    "report",
)


class _Progress:
    """Stage lines on stderr: which stage runs, and how long each took."""

    def __init__(self, enabled):
        self.enabled = enabled
        self.times = {}
        self._start = time.perf_counter()
        self._stage = None

    def say(self, text):
        if self.enabled:
            print(text, file=sys.stderr, flush=True)

    def stage(self, name, detail=""):
        self._finish()
        self._stage, self._stage_start = name, time.perf_counter()
        number = _STAGES.index(name) + 1
        self.say(f"[{number}/{len(_STAGES)}] {name}{': ' + detail if detail else ''}")

    def fitted(self, run):
        self.say(f"    {run.model}, seed {run.seed}: fitted in {run.fit_time:.1f} s")

    def _finish(self):
        if self._stage is not None:
            self.times[self._stage] = time.perf_counter() - self._stage_start
            self.say(f"    done in {self.times[self._stage]:.1f} s")
            self._stage = None

    def elapsed(self):
        return time.perf_counter() - self._start

    def close(self):
        self._finish()
        self.times["total"] = time.perf_counter() - self._start
        return self.times


#: The image model of a quick run with ``intensity="model"``: a check that the
#: path runs, in seconds, not a model worth its predictions.
_QUICK_FRACTION_MODEL = {
    "backbone": "resnet18",
    "image_size": (32, 200),
    "max_epochs": 1,
    "early_stopping": False,
}


def _fraction_model(config):
    """The image model to pass to the data set builder: None (its default)
    except for a quick run with ``intensity="model"``."""
    if config.intensity != "model" or not config.quick:
        return None
    from ..vision import DefectFractionRegressor  # torchvision: import on use

    return DefectFractionRegressor(**_QUICK_FRACTION_MODEL, random_state=0, verbose=0)


def _load_dataset(config, stages):
    """The data set stage: build (or read from the cache) the data set."""
    if config.intensity == "model":
        what = (
            "intensity from the image model (a tiny one: quick run)"
            if config.quick
            else "intensity from the image model"
        )
        detail = f"{what}; unless cached, render the images and train it"
    else:
        detail = "intensity from the annotated masks"
    stages.stage("data set", detail)
    dataset = load_experiment_data(
        config.data, intensity=config.intensity,
        fraction_model=_fraction_model(config), n_normal=config.n_normal,
        n_per_class=config.n_per_class, verbose=int(stages.enabled),
    )
    stages.say(
        "    read from the cache" if dataset.from_cache else "    built and cached"
    )
    return dataset


#: The SteelNet parameters the protocol names, beside the training length.
_LEARNER = ["use_attention", "n_ensemble", "lr", "batch_size", "scoring"]


def _settings(estimator, names):
    """``name=value`` of the estimator's parameters ``names``, as set."""
    params = estimator.get_params()
    return ", ".join(f"`{name}={params[name]!r}`" for name in names)


def _protocol(config, dataset, splits, estimators, with_ceiling):
    """What was done, in words, for the report; the training settings are
    read from the estimators of the first seed, so the text cannot drift
    from what ran."""
    sizes = next(iter(splits.values()))
    steelnet, paper = estimators["SteelNet"], estimators[PAPER_STEELNET]
    hgb, forest, mlp, logistic = (
        estimators[name][-1]
        for name in ("HistGradientBoosting", "RandomForest", "MLP",
                     "logistic regression")
    )
    ceiling = (
        f"Ceiling ({CEILING}): the HistGradientBoosting pipeline above, trained "
        "on a built-in data set ten times the size drawn with another seed, "
        "scored on the same test splits. It shows what more data buys; it is a "
        "reference, not a competitor."
        if with_ceiling
        else "No ceiling row: it needs the built-in data with intensities from "
        "the masks."
    )
    return [
        f"Data: {len(dataset.frame):,} samples from {config.source}; the per-class "
        f"defect fractions behind the intensity are {dataset.intensity_source} "
        f"(intensity source: {config.intensity}). The ten sensor readings are "
        "synthesised from the class and intensity by the generator of paper A.2.",
        f"Split: stratified {len(sizes.train):,} train / {len(sizes.valid):,} "
        f"validation / {len(sizes.test):,} test rows, redrawn for each seed; every "
        "model of a seed uses that seed's split and random_state.",
        f"{STEELNET_LABEL} (\"SteelNet\" in the rest of this report): the "
        "estimator's defaults, "
        f"{_settings(steelnet, [*_training_length(config.quick), *_LEARNER])}"
        f"{' (quick run)' if config.quick else ''}. {PAPER_STEELNET}: the paper's "
        "network and training (`SteelNetClassifier.paper()`), "
        f"{_settings(paper, _LEARNER)}. Each is given the "
        "train and validation rows and holds out as many rows as the validation "
        "split has (stratified) for early stopping, so it trains on as many rows "
        "as the baselines, which train on the train rows.",
        f"Baselines: HistGradientBoosting {_settings(hgb, ['max_iter'])}, "
        f"RandomForest {_settings(forest, ['n_estimators', 'min_samples_leaf'])}, "
        f"MLP {_settings(mlp, ['hidden_layer_sizes', 'max_iter'])}, logistic "
        f"regression {_settings(logistic, ['max_iter'])}, LDA, and the majority "
        "class.",
        f"Failing sensors while training, for every model: SteelNet drops "
        f"readings on every batch (modality dropout, mean rate {TRAINING_DROPOUT}, "
        "per-sensor rates from the failure table); every baseline is an "
        "imbalanced-learn pipeline starting with ModalityDropout at the same "
        "rates (the train rows plus one copy with readings dropped).",
        "Missing readings are NaN. SteelNet, HistGradientBoosting and "
        "RandomForest read NaN natively; LDA, logistic regression and the MLP "
        "get a mean imputer with missing indicators and a standard scaler.",
        "Table 1 and the attribution scores use the clean test split; the "
        "robustness curves make test readings missing with SensorFailure "
        f"({config.n_repeats} random masks per rate, the same masks for "
        "every model).",
        ceiling,
        "Differences between two models (or ablation variants) are paired over "
        "seeds (same split, masks and random_state): mean difference and 95 % "
        "Student t-interval over the per-seed differences. An interval that "
        "contains 0 is reported as within noise.",
    ]


def _dataset_statistics(frame):
    """The data set's statistics beside the paper's (A.3-A.5)."""
    defective = frame["defect_class"] != 0
    cleanliness = frame["surface_cleanliness"]
    intensity = frame.loc[defective, "intensity"]
    ours = {
        "intensity of defective samples, mean": intensity.mean(),
        "intensity of defective samples, sd": intensity.std(),
        "surface_cleanliness, non-defective, mean": cleanliness[~defective].mean(),
        "surface_cleanliness, non-defective, sd": cleanliness[~defective].std(),
        "surface_cleanliness, defective, mean": cleanliness[defective].mean(),
        "surface_cleanliness, defective, sd": cleanliness[defective].std(),
    }
    for pair in (
        ("vibration", "drive_load"),
        ("surface_cleanliness", "intensity"),
        ("spray_pressure", "coating_viscosity"),
        ("ambient_humidity", "curing_time"),
    ):
        ours[f"corr({pair[0]}, {pair[1]})"] = frame[pair[0]].corr(frame[pair[1]])
    paper = PAPER_RESULTS["dataset_statistics"]
    return pd.DataFrame(
        [
            {"statistic": name, "this data set": f"{value:.3f}",
             "paper": f"{paper[name]:.3f}"}
            for name, value in ours.items()
        ]
    )


def _dataset_summary(dataset, splits, config):
    """Composition per split, statistics and description of the data set."""
    y = dataset.target.to_numpy()
    split = next(iter(splits.values()))
    counts = {}
    for c, name in enumerate(CLASS_NAMES):
        counts[name] = {"samples": int((y == c).sum())}
        for part in ("train", "valid", "test"):
            counts[name][part] = int((y[split[part]] == c).sum())
    source = config.source
    return {
        "source": f"{len(y):,} samples from {source}; per-class counts of the "
        f"whole set and of the first seed's split. "
        f"{'Read from the cache.' if dataset.from_cache else 'Built for this run.'}",
        "intensity": {
            "source": config.intensity,
            "fractions": dataset.intensity_source,
        },
        "class_counts": counts,
        "statistics": _dataset_statistics(dataset.frame),
        "description": dataset.DESCR,
        "frame": dataset.frame,
    }


def _figures(results):
    """Every figure of the report, drawn from the results."""
    frame = results.dataset["frame"]
    ablation = results.ablation.summary
    return {
        "dataset_composition": composition_figure(frame),
        "correlation_matrix": correlation_figure(frame),
        "confusion_matrix": confusion_figure(results.table1.confusion["SteelNet"]),
        "training_curves": training_figure(results.history),
        "attribution_heatmap": attribution_figure(
            results.attribution.class_attributions, results.attribution.prior
        ),
        "robustness_curves": robustness_figure(
            results.robustness.summary, list(results.table1.summary.index),
            references=(CEILING,),
        ),
        "ablation": ablation_figure(ablation),
    }


def _history(run):
    """The per-epoch losses and scores of a SteelNet fit (numbers only)."""
    rows = [
        {
            key: value
            for key, value in epoch.items()
            if isinstance(value, (int, float))
            and not isinstance(value, bool)
            and key != "dur"
            and not key.endswith("_batch_count")
        }
        for epoch in run.estimator.history_
    ]
    return pd.DataFrame(rows)


def _cpu_model():
    """The CPU's model name (Linux), else the platform's processor string."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _environment():
    import sklearn
    import torch

    return {
        "sksteel": __version__,
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "torch": torch.__version__,
        "platform": platform.platform(terse=True),
        "cpus": os.cpu_count(),
        "cpu": _cpu_model(),
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
    }


def reproduce(
    data=None,
    out=None,
    *,
    seeds=3,
    quick=False,
    intensity="masks",
    n_normal=5902,
    n_per_class=200,
    n_jobs=-1,
    progress=True,
    command=None,
):
    """Run every experiment of the paper and, optionally, write the report.

    1. Build (or read from the cache) the SteelNet data set, with the
       intensity from the masks or from the image model (trained on every
       core; the later stages run single-threaded processes).
    2. For each seed, split it 70 / 15 / 15 (stratified) and fit SteelNet
       and the baselines (:func:`baseline_estimators`) on that split.
    3. Table 1 on the clean test split; SteelNet's attributions against the
       generator's ground truth, with the faithfulness check; robustness
       curves under uniform and failure-table test-time dropout; the
       ablation (Table 2); fit and predict times.
    4. With ``out``: ``results.json``, ``report.md``, ``report.html``
       (self-contained) and the figures under ``out/figures``.

    Parameters
    ----------
    data : str or path-like, default=None
        A Kaggle-format Severstal directory or ``train.csv`` file; None uses
        the built-in data.
    out : str or path-like, default=None
        Where to write the report; None writes nothing.
    seeds : int, default=3
        Number of seeds (0, 1, ...); every score is mean +- sd over them.
    quick : bool, default=False
        One seed, a few epochs and smaller ensembles (and with
        ``intensity="model"`` a tiny image model: ResNet-18 at 32 x 200
        pixels, one epoch): a fast check that everything runs, not a result.
    intensity : {"masks", "model"}, default="masks"
        Where the defect fractions behind the intensity come from: the
        annotated masks (fast), or the image model
        (:class:`~sksteel.vision.DefectSegmenter`, cross-fitted; see
        :func:`~sksteel.datasets.make_steelnet_dataset`). ``"model"``
        renders the built-in surfaces and trains the model: on a 2-core CPU,
        about 8 minutes more for the paper's composition (longer when other
        processes share the cores), once (the data set is cached).
    n_normal, n_per_class : int, default=5902, 200
        Composition of the data set (the paper's by default).
    n_jobs : int, default=-1
        Processes for fitting and scoring; -1 uses every core.
    progress : bool, default=True
        Print the running stage to stderr.
    command : str, default=None
        The command line to record in the report; by default the Python
        call.

    Returns
    -------
    results : ReproduceResults
        ``config``, ``environment``, ``protocol``, ``dataset``, ``table1``,
        ``attribution``, ``robustness``, ``ablation``, ``separability``,
        ``history`` (SteelNet, first seed), ``timing`` (seconds per stage)
        and ``runs`` (the fitted models of Table 1, the ceiling included).

    Examples
    --------
    The command ``sksteel reproduce --quick`` runs the same as:

    >>> from sksteel.experiments import reproduce
    >>> results = reproduce(out="sksteel-reproduce", quick=True)  # doctest: +SKIP
    >>> results.table1.summary.index[0]  # doctest: +SKIP
    'SteelNet'
    """
    if quick:
        seeds = 1
    if seeds < 1:
        raise ValueError(f"`seeds` must be a positive integer; got {seeds!r}.")
    config = ReproduceConfig(
        command=command or f"reproduce(data={data!r}, out={out!r}, seeds={seeds}, "
        f"quick={quick}, intensity={intensity!r})",
        data=None if data is None else str(data),
        seeds=tuple(range(seeds)),
        quick=bool(quick),
        intensity=intensity,
        n_normal=n_normal,
        n_per_class=n_per_class,
        n_jobs=n_jobs,
        n_repeats=2 if quick else 5,
    )
    stages = _Progress(progress)
    dataset = _load_dataset(config, stages)
    with single_threaded():
        results = _run_experiments(config, dataset, stages)
        if out is not None:
            stages.stage("report")
            results = replace(
                results, timing={**stages.times, "total": stages.elapsed()}
            )
            paths = write_report(results, out, _figures(results))
            written = ", ".join(str(paths[k]) for k in ("markdown", "html", "json"))
            stages.say(f"    wrote {written}")
    return replace(results, timing=stages.close())


def _run_experiments(config, dataset, stages):
    """Every experiment of ``reproduce`` after the data set, stage by stage."""
    quick, n_jobs, n_repeats = config.quick, config.n_jobs, config.n_repeats
    splits = {s: _make_splits(dataset.target, random_state=s) for s in config.seeds}
    prior = dataset.attribution_prior

    def make_estimators(seed):
        return {
            "SteelNet": steelnet_estimator(prior, random_state=seed, quick=quick),
            PAPER_STEELNET: steelnet_estimator(
                prior, random_state=seed, quick=quick, paper=True
            ),
            **baseline_estimators(seed, quick=quick),
        }

    stages.stage(_STAGES[1], f"{len(splits)} seed(s)")
    runs = fit_models(
        make_estimators, dataset, splits, n_jobs=n_jobs, on_result=stages.fitted
    )
    ceiling = fit_ceiling(config, on_result=stages.fitted) or []
    runs += ceiling
    steelnet_runs = [run for run in runs if run.model == "SteelNet"]
    stages.stage("Table 1")
    table1 = run_table1(runs, dataset, splits)
    stages.stage("attribution")
    attribution = run_attribution(
        steelnet_runs, dataset, splits, n_jobs=n_jobs,
        explained_rows=40 if config.quick else None,
    )
    stages.stage("robustness")
    robustness = run_robustness(
        runs, dataset, splits, n_repeats=n_repeats, n_jobs=n_jobs, plant=True
    )
    stages.stage("ablation", "four SteelNet variants")
    ablation, _ = run_ablation(
        dataset, splits, quick=quick, full_runs=steelnet_runs, n_repeats=n_repeats,
        n_jobs=n_jobs, on_result=stages.fitted,
    )
    stages.stage("recommendations", f"{ROWS_PER_SEED} defective test rows per seed")
    recommendations = run_recommendations(runs, dataset, splits)
    return ReproduceResults(
        config=config,
        environment=_environment(),
        protocol=_protocol(
            config, dataset, splits, make_estimators(config.seeds[0]), bool(ceiling)
        ),
        dataset=_dataset_summary(dataset, splits, config),
        table1=table1,
        attribution=attribution,
        robustness=robustness,
        ablation=ablation,
        separability=separability(dataset, steelnet_runs[0]),
        history=_history(steelnet_runs[0]),
        recommendations=recommendations,
        runs=runs,
    )
