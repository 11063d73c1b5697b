"""SteelNet's attributions against the generator's ground truth (paper 4.2)."""

import numpy as np
import pandas as pd

from ..metrics import attribution_faithfulness, attribution_mse, explanation_comparison
from ._data import _test_rows
from ._fitting import parallel_map
from ._results import AttributionResults
from ._table1 import summarise

__all__ = ["run_attribution"]

#: Number of sensors hidden by the faithfulness check.
TOP_K = 2

#: Test rows per seed explained by every method in the comparison: every
#: defective row (up to half of this) and as many defect-free ones.
EXPLAINED_ROWS = 240

#: The measures of :func:`sksteel.metrics.explanation_comparison` reported.
EXPLANATION_MEASURES = ["deletion_area", "spearman", "top_k_overlap"]


def _test_attributions(run, dataset, split):
    """Per-sample attributions of the test rows, and their true classes."""
    X, y = _test_rows(dataset, split)
    return X, y, run.estimator.explain(X, method="head")


def _faithfulness(estimator, X, y, attributions, classes, seed):
    """The faithfulness table of one seed, with ``class`` and ``seed`` columns."""
    table = attribution_faithfulness(
        estimator, X, y.to_numpy(), attributions, k=TOP_K, classes=classes,
        random_state=seed,
    )
    return table.reset_index().assign(seed=seed)


def _explained_rows(y, n_rows, seed):
    """Positions of the rows the methods explain: defective rows first (at
    most half of ``n_rows``), then defect-free ones, drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    labels = y.to_numpy()
    defective = np.flatnonzero(labels != 0)
    normal = np.flatnonzero(labels == 0)
    defective = rng.permutation(defective)[: n_rows // 2]
    normal = rng.permutation(normal)[: n_rows - len(defective)]
    return np.sort(np.concatenate([defective, normal]))


def _explanations(estimator, X, y, prior, seed):
    """The explanation methods compared on one seed's test rows."""
    table = explanation_comparison(
        estimator, X, y.to_numpy(), attribution_prior=prior, k=TOP_K,
        random_state=seed,
    ).table
    return table.rename_axis("method").reset_index().assign(seed=seed)


def run_attribution(runs, dataset, splits, *, n_jobs=None, explained_rows=None):
    """Compare SteelNet's attributions with the generator's ``w*`` and check
    that they are faithful.

    For every seed, on the clean test split:

    - the per-sample attributions (``explain``) averaged within each true
      class: the learned counterpart of the paper's Fig. 4;
    - attribution MSE: each test sample's attribution against ``w*`` of its
      true class, averaged over the defective samples (the headline, compared
      with the paper's 0.0156), over all samples, and class by class;
    - faithfulness: for each defect class, the drop in its recall when its
      top-2 attributed sensors are missing, against the mean drop when 2
      sensors are missing (every pair of sensors, once); the same check of
      the ground truth ``w*`` is given as a reference.

    Parameters
    ----------
    runs : list of _Run
        Fitted SteelNet runs from ``fit_models`` (one per seed).
    dataset : Bunch
        The data set, with ``attribution_prior``.
    splits : dict of int -> Bunch
        Seed -> split.
    n_jobs : int, default=None
        Number of processes for the faithfulness checks.
    explained_rows : int, default=None
        Test rows per seed in the comparison of explanation methods
        (:func:`sksteel.metrics.explanation_comparison`: Shapley values, the
        head, permutation importance and a random ranking); None is
        ``EXPLAINED_ROWS``.

    Returns
    -------
    attribution : AttributionResults
        ``prior`` (DataFrame, classes x sensors), ``class_attributions``
        (mean over seeds) and ``class_attributions_std``; ``scores`` (one
        row per seed: ``mse_defective``, ``mse_all``, ``mse_class`` and the
        reference ``mse_prior_copy``: w* of the predicted class as the
        explanation) and ``summary``; ``faithfulness`` and
        ``faithfulness_prior`` (one row per (seed, class)) with their
        ``*_summary`` per class; ``drivers``, per defect class the share of
        its test samples (all seeds) on which each sensor has SteelNet's
        largest attribution; ``explanations`` (one row per (seed, method):
        deletion-curve area, Spearman and top-2 agreement with w* on the
        defective rows) and ``explanations_summary`` per method.
    """
    prior = dataset.attribution_prior
    n_explained = EXPLAINED_ROWS if explained_rows is None else explained_rows
    rows, per_class, checks, drivers, compared = [], [], [], [], []
    for run in runs:
        X, y, explained = _test_attributions(run, dataset, splits[run.seed])
        defect_classes = [c for c in prior.index if c != 0 and c in set(y)]
        truth = prior.loc[y.to_numpy()].set_axis(explained.index)
        defective = (y != 0).to_numpy()
        mse_defective = attribution_mse(truth[defective], explained[defective])
        # The reference any classifier gets for free: w* of the class it
        # predicts, copied as the explanation.
        copied = prior.loc[run.estimator.predict(X)].set_axis(explained.index)
        classes = explained.groupby(y.to_numpy()).mean()
        per_class.append(classes)
        rows.append(
            {
                "seed": run.seed,
                "mse_defective": mse_defective,
                "mse_all": attribution_mse(truth, explained),
                "mse_class": attribution_mse(
                    prior.loc[defect_classes], classes.loc[defect_classes]
                ),
                "mse_prior_copy": attribution_mse(
                    truth[defective], copied[defective]
                ),
            }
        )
        for table in (classes, prior):
            checks.append((run.estimator, X, y, table, defect_classes, run.seed))
        chosen = _explained_rows(y, n_explained, run.seed)
        compared.append(
            (run.estimator, X.iloc[chosen], y.iloc[chosen], prior, run.seed)
        )
        top = explained[defective].idxmax(axis=1)
        drivers.append(pd.crosstab(y.to_numpy()[defective], top.to_numpy()))
    tables = parallel_map(_faithfulness, checks, n_jobs=n_jobs)
    explanations = pd.concat(
        parallel_map(_explanations, compared, n_jobs=n_jobs), ignore_index=True
    )
    stacked = pd.concat(per_class)
    scores = pd.DataFrame(rows)
    faithfulness = pd.concat(tables[::2], ignore_index=True)
    faithfulness_prior = pd.concat(tables[1::2], ignore_index=True)
    measures = ["drop_top", "drop_random", "ratio"]
    counts = pd.concat(drivers).fillna(0).groupby(level=0).sum()
    counts = counts.reindex(columns=prior.columns, fill_value=0)
    return AttributionResults(
        prior=prior,
        class_attributions=stacked.groupby(level=0).mean(),
        class_attributions_std=stacked.groupby(level=0).std(ddof=1).fillna(0.0),
        scores=scores,
        summary=summarise(scores.assign(group="SteelNet"), "group"),
        faithfulness=faithfulness,
        faithfulness_summary=_faithfulness_summary(faithfulness, measures),
        faithfulness_prior=faithfulness_prior,
        faithfulness_prior_summary=_faithfulness_summary(faithfulness_prior, measures),
        drivers=counts.div(counts.sum(axis=1), axis=0),
        explanations=explanations,
        explanations_summary=summarise(explanations, "method", EXPLANATION_MEASURES),
    )


def _faithfulness_summary(table, measures):
    """Per class: the top sensors (every distinct choice over seeds) and the
    mean and sd of each measure."""
    summary = summarise(table, "class", measures)
    top = table.groupby("class")["top_sensors"].agg(lambda s: " / ".join(s.unique()))
    return summary.assign(top_sensors=top)[["top_sensors", *summary.columns]]
