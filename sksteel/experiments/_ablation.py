"""Table 2: SteelNet with one component removed at a time (paper 4.4)."""

from dataclasses import replace

import pandas as pd

from .._schema import CLASS_NAMES
from ..metrics import attribution_mse
from ._data import _test_rows
from ._fitting import fit_models
from ._models import ABLATIONS, steelnet_estimator
from ._results import AblationResults
from ._robustness import run_robustness
from ._table1 import classification_scores, summarise

#: Uniform failure rates at which the ablation reports macro-F1 beside the
#: clean score (the plant's bad days).
FAILURE_POINTS = (0.3, 0.5)

__all__ = ["run_ablation"]


def _ablation_factory(prior, quick, variants):
    """``make_estimators(seed)`` building the requested SteelNet variants."""

    def make_estimators(seed):
        return {
            name: steelnet_estimator(
                prior, random_state=seed, quick=quick, **ABLATIONS[name]
            )
            for name in variants
        }

    return make_estimators


def _scores_of_run(run, dataset, split):
    """Accuracy, macro-F1, per-class recall and attribution MSE (defective
    test rows) of a run."""
    X, y = _test_rows(dataset, split)
    y = y.to_numpy()
    scores = classification_scores(y, run.estimator.predict(X))
    defective = y != 0
    truth = dataset.attribution_prior.loc[y[defective]]
    explained = run.estimator.explain(X[defective], method="head")
    return {
        "model": run.model,
        "seed": run.seed,
        "accuracy": scores["accuracy"],
        "f1_macro": scores["f1_macro"],
        "balanced_accuracy": scores["balanced_accuracy"],
        "attribution_mse": attribution_mse(truth, explained),
        "fit_time": run.fit_time,
        **{f"recall_{name}": scores[f"recall_{name}"] for name in CLASS_NAMES},
    }


def run_ablation(
    dataset, splits, *, quick=False, full_runs=None, n_repeats=5, n_jobs=None,
    on_result=None,
):
    """Fit and score each SteelNet variant of :data:`ABLATIONS` on every seed.

    Every variant is trained exactly as the full model (same split, seed and
    epochs) with one change: no self-attention, no attribution loss
    (``gamma=0``), no modality dropout (``failure_rates=0``) or no physics
    branch. Each is scored on the clean test split (accuracy, macro-F1,
    balanced accuracy), by attribution MSE on the defective test samples,
    and by the area under its uniform-dropout accuracy curve.

    Parameters
    ----------
    dataset : Bunch
        The data set, with ``attribution_prior``.
    splits : dict of int -> Bunch
        Seed -> split.
    quick : bool, default=False
        Train for a few epochs only.
    full_runs : list of _Run, default=None
        Already fitted full-model runs (named ``"full"`` here) to reuse.
    n_repeats : int, default=5
        Random masks per dropout rate.
    n_jobs : int, default=None
        Number of processes.
    on_result : callable, default=None
        Called with each fitted run as it finishes.

    Returns
    -------
    ablation : AblationResults
        ``scores`` (one row per (variant, seed)) and ``summary`` (mean and
        sd per variant, in :data:`ABLATIONS` order).
    runs : list of _Run
        The fitted runs.
    """
    prior = dataset.attribution_prior
    reused = [replace(run, model="full") for run in full_runs or []]
    variants = [name for name in ABLATIONS if not (reused and name == "full")]
    runs = reused + fit_models(
        _ablation_factory(prior, quick, variants), dataset, splits, n_jobs=n_jobs,
        on_result=on_result,
    )
    scores = pd.DataFrame(
        [_scores_of_run(run, dataset, splits[run.seed]) for run in runs]
    )
    robustness = run_robustness(
        runs, dataset, splits, modes=("uniform",), n_repeats=n_repeats, n_jobs=n_jobs
    )
    areas = robustness.auc[["model", "seed", "accuracy_auc"]]
    scores = scores.merge(areas, on=["model", "seed"])
    failing = robustness.curves[robustness.curves["rate"].isin(FAILURE_POINTS)]
    at_rates = failing.pivot_table(
        index=["model", "seed"], columns="rate", values="f1_macro"
    )
    at_rates.columns = [f"f1_macro_at_{round(100 * r)}" for r in at_rates.columns]
    scores = scores.merge(at_rates.reset_index(), on=["model", "seed"])
    scores["model"] = pd.Categorical(scores["model"], categories=list(ABLATIONS))
    scores = scores.sort_values(["model", "seed"]).reset_index(drop=True)
    scores["model"] = scores["model"].astype(str)
    return AblationResults(scores=scores, summary=summarise(scores, "model")), runs
