"""Table 2: SteelNet with one component removed at a time (paper 4.4)."""

import pandas as pd
from sklearn.utils import Bunch

from ..metrics import attribution_mse
from ._fitting import fit_models
from ._models import ABLATIONS, steelnet_estimator
from ._robustness import run_robustness
from ._table1 import classification_scores, summarise

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
    """Accuracy, macro-F1 and attribution MSE (defective test rows) of a run."""
    X = dataset.data.iloc[split.test]
    y = dataset.target.iloc[split.test].to_numpy()
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
    full_runs : list of Bunch, default=None
        Already fitted full-model runs (named ``"full"`` here) to reuse.
    n_repeats : int, default=5
        Random masks per dropout rate.
    n_jobs : int, default=None
        Number of processes.
    on_result : callable, default=None
        Called with each fitted run as it finishes.

    Returns
    -------
    ablation : Bunch
        ``scores`` (one row per (variant, seed)), ``summary`` (mean and sd
        per variant, in :data:`ABLATIONS` order) and ``runs`` (the fitted
        runs).

    Examples
    --------
    >>> from sksteel.experiments import run_ablation
    >>> ablation = run_ablation(dataset, splits, quick=True)  # doctest: +SKIP
    """
    prior = dataset.attribution_prior
    reused = [Bunch(**{**run, "model": "full"}) for run in full_runs or []]
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
    scores["model"] = pd.Categorical(scores["model"], categories=list(ABLATIONS))
    scores = scores.sort_values(["model", "seed"]).reset_index(drop=True)
    scores["model"] = scores["model"].astype(str)
    return Bunch(scores=scores, summary=summarise(scores, "model"), runs=runs)
