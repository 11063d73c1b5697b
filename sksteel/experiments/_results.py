"""The configuration and the results of ``reproduce``, as frozen dataclasses.

Every stage returns one of these; nothing is added to them afterwards, so a
reader of the report code sees every field a stage produces in one place.
"""

from dataclasses import dataclass, field, fields

__all__ = [
    "AblationResults",
    "AttributionResults",
    "RecommendationResults",
    "ReproduceConfig",
    "ReproduceResults",
    "RobustnessResults",
    "Table1Results",
]


class _Fields:
    """Mapping-style reading of a dataclass (``keys``, ``items``,
    ``obj[name]``), for code that walks the results generically."""

    def keys(self):
        return [f.name for f in fields(self)]

    def items(self):
        return [(name, getattr(self, name)) for name in self.keys()]

    def __getitem__(self, name):
        if name not in self.keys():
            raise KeyError(name)
        return getattr(self, name)


@dataclass(frozen=True)
class ReproduceConfig(_Fields):
    """What a reproduction runs: the data, the seeds and the run's size.

    Parameters
    ----------
    data : str or None, default=None
        A Kaggle-format Severstal directory or ``train.csv``; None is the
        built-in synthetic surfaces.
    seeds : tuple of int, default=(0, 1, 2)
        The seeds; every score is reported over them.
    quick : bool, default=False
        A fast check with few epochs, not a result.
    intensity : {"masks", "model"}, default="masks"
        Where the defect fractions behind the intensity come from.
    n_normal, n_per_class : int, default=5902, 200
        Composition of the data set.
    n_jobs : int, default=-1
        Processes for fitting and scoring.
    n_repeats : int, default=5
        Random failure masks per rate in the robustness curves.
    command : str, default=""
        The command line recorded in the report.

    Examples
    --------
    >>> from sksteel.experiments import ReproduceConfig
    >>> config = ReproduceConfig(seeds=(0, 1))
    >>> config.n_seeds, config.source
    (2, 'the built-in synthetic surfaces')
    """

    data: str | None = None
    seeds: tuple = (0, 1, 2)
    quick: bool = False
    intensity: str = "masks"
    n_normal: int = 5902
    n_per_class: int = 200
    n_jobs: int = -1
    n_repeats: int = 5
    command: str = ""

    @property
    def n_seeds(self):
        """Number of seeds."""
        return len(self.seeds)

    @property
    def source(self):
        """The data source, in words."""
        return self.data or "the built-in synthetic surfaces"


@dataclass(frozen=True)
class Table1Results(_Fields):
    """Classification on the clean test split, every model and seed.

    Parameters
    ----------
    scores : DataFrame
        One row per (model, seed): accuracy, weighted precision / recall /
        F1, macro-F1, balanced accuracy, per-class recall, ``fit_time`` and
        ``predict_time`` (seconds, whole test split).
    summary : DataFrame
        Mean and sd over seeds per model (``<score>_mean``, ``<score>_std``).
    confusion : dict of str -> list of list
        Model -> confusion matrix summed over seeds (rows true).

    Examples
    --------
    >>> import pandas as pd
    >>> from sksteel.experiments import Table1Results
    >>> Table1Results(pd.DataFrame(), pd.DataFrame(), {}).confusion
    {}
    """

    scores: object
    summary: object
    confusion: dict


@dataclass(frozen=True)
class AttributionResults(_Fields):
    """SteelNet's attributions against the generator's ground truth ``w*``.

    Parameters
    ----------
    prior : DataFrame
        ``w*``, classes x sensors.
    class_attributions, class_attributions_std : DataFrame
        SteelNet's per-sample attributions averaged within each true class
        (mean and sd over seeds).
    scores, summary : DataFrame
        Per seed (and mean and sd): ``mse_defective``, ``mse_all``,
        ``mse_class`` (SteelNet's attributions) and ``mse_prior_copy`` (the
        reference of answering ``w*`` of the predicted class).
    faithfulness, faithfulness_summary : DataFrame
        Recall drop when the top-2 attributed sensors are missing, against 2
        random ones, per (seed, class) and per class.
    faithfulness_prior, faithfulness_prior_summary : DataFrame
        The same check with the top-2 of ``w*``.
    drivers : DataFrame
        Defect classes x sensors: the share of the class's test samples (all
        seeds) on which the sensor has SteelNet's largest attribution.
    explanations, explanations_summary : DataFrame or None
        The explanation methods compared per (seed, method), and per method
        (:func:`sksteel.metrics.explanation_comparison`); None in results
        built without the comparison.

    Examples
    --------
    >>> from sksteel.experiments import AttributionResults
    >>> sorted(AttributionResults.__dataclass_fields__)[:2]
    ['class_attributions', 'class_attributions_std']
    """

    prior: object
    class_attributions: object
    class_attributions_std: object
    scores: object
    summary: object
    faithfulness: object
    faithfulness_summary: object
    faithfulness_prior: object
    faithfulness_prior_summary: object
    drivers: object
    explanations: object = None
    explanations_summary: object = None


@dataclass(frozen=True)
class RobustnessResults(_Fields):
    """Scores while test readings go missing.

    Parameters
    ----------
    curves : DataFrame
        One row per (model, seed, mode, rate): ``accuracy``, ``f1_macro``.
    summary : DataFrame
        Mean and sd over seeds per (model, mode, rate).
    auc, auc_summary : DataFrame
        Area under each curve over the rate range (the mean score over the
        range), per (model, seed, mode) and its mean and sd.
    plant, plant_summary : DataFrame or None
        Scores with each reading missing at the sensor table's own failure
        probabilities (the plant's rates, unscaled), per (model, seed) and
        their mean and sd per model.
    plant_rate : float or None
        The mean of those probabilities.

    Examples
    --------
    >>> from sksteel.experiments import RobustnessResults
    >>> [f for f in RobustnessResults.__dataclass_fields__][:4]
    ['curves', 'summary', 'auc', 'auc_summary']
    """

    curves: object
    summary: object
    auc: object
    auc_summary: object
    plant: object = None
    plant_summary: object = None
    plant_rate: float | None = None


@dataclass(frozen=True)
class AblationResults(_Fields):
    """SteelNet with one component removed at a time (Table 2).

    Parameters
    ----------
    scores : DataFrame
        One row per (variant, seed): clean accuracy, macro-F1, balanced
        accuracy, per-class recall, attribution MSE, the accuracy area under
        uniform dropout, and macro-F1 at 30 % and 50 % uniform failures
        (``f1_macro_at_30``, ``f1_macro_at_50``).
    summary : DataFrame
        Mean and sd per variant, in :data:`ABLATIONS` order.

    Examples
    --------
    >>> from sksteel.experiments import AblationResults
    >>> [f for f in AblationResults.__dataclass_fields__]
    ['scores', 'summary']
    """

    scores: object
    summary: object


@dataclass(frozen=True)
class RecommendationResults(_Fields):
    """Setpoint recommendations on SteelNet against the true causes.

    Parameters
    ----------
    scores : DataFrame
        One row per (seed, defect class): the columns of
        :func:`sksteel.recommend.score_recommendations` and ``seed``.
    summary : DataFrame
        Mean and sd over seeds per class (``<measure>_mean``,
        ``<measure>_std``), indexed by the class name.
    method : str
        The recommender's ``method``.
    rows_per_seed : int
        Defective test rows given to the recommender per seed.

    Examples
    --------
    >>> from sksteel.experiments import RecommendationResults
    >>> [f for f in RecommendationResults.__dataclass_fields__]
    ['scores', 'summary', 'method', 'rows_per_seed']
    """

    scores: object
    summary: object
    method: str
    rows_per_seed: int


@dataclass(frozen=True)
class ReproduceResults(_Fields):
    """Everything :func:`reproduce` measured, for the report and for code.

    Parameters
    ----------
    config : ReproduceConfig
        What was run.
    environment : dict
        Versions, platform and the CPU instruction set torch uses.
    protocol : list of str
        What was done, in words, generated from the estimators' parameters.
    dataset : dict
        Composition, statistics, description and ``frame`` of the data set.
    table1 : Table1Results
    attribution : AttributionResults
    robustness : RobustnessResults
    ablation : AblationResults
    separability : dict
        Data set separability measured in this run: R^2 of the intensity
        from the sensors (linear and HistGradientBoosting), SteelNet's
        parameter count, the majority rate (see the report's "How this
        differs from the paper").
    history : DataFrame
        SteelNet's per-epoch losses and scores (first seed).
    recommendations : RecommendationResults or None
        Setpoint recommendations on SteelNet (None in results built
        without them).
    timing : dict
        Seconds per stage and in total.
    runs : list
        The fitted models of Table 1 (not saved to JSON).

    Examples
    --------
    >>> from sksteel.experiments import ReproduceResults, reproduce
    >>> results = reproduce(quick=True)  # doctest: +SKIP
    >>> results.table1.summary.loc["SteelNet", "accuracy_mean"]  # doctest: +SKIP
    """

    config: ReproduceConfig
    environment: dict
    protocol: list
    dataset: dict
    table1: Table1Results
    attribution: AttributionResults
    robustness: RobustnessResults
    ablation: AblationResults
    separability: dict
    history: object
    recommendations: RecommendationResults | None = None
    timing: dict = field(default_factory=dict)
    runs: list = field(default_factory=list, repr=False)


@dataclass(frozen=True)
class _Run:
    """One fitted (model, seed)."""

    model: str
    seed: int
    estimator: object
    fit_time: float
