"""The models compared: SteelNet, its ablations and the baselines.

Protocol (written into every report):

- Every model sees readings that fail during training, at the same rates:
  SteelNet through its own modality dropout (a fresh mask on every batch,
  paper 2.2.2), each baseline through :class:`~sksteel.sampling.ModalityDropout`
  in an imbalanced-learn pipeline (the original rows plus one copy with
  readings dropped). Both use the sensor table's failure probabilities
  scaled to a mean of 0.2.
- A baseline that cannot read NaN gets a mean imputer with missing
  indicators (and a scaler where the model is scale-sensitive); the tree
  ensembles read NaN natively, as SteelNet does.
"""

from imblearn.pipeline import Pipeline
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from ..models import SteelNetClassifier
from ..sampling import ModalityDropout

__all__ = [
    "ABLATIONS",
    "PAPER_STEELNET",
    "STEELNET_LABEL",
    "baseline_estimators",
    "steelnet_estimator",
]

#: The model name of SteelNet with the paper's network and training
#: (:meth:`~sksteel.models.SteelNetClassifier.paper`); "SteelNet" alone is
#: SteelNet with sksteel's defaults, the model of every other section.
PAPER_STEELNET = "SteelNet (paper)"

#: How the tables label the model "SteelNet" (sksteel's defaults).
STEELNET_LABEL = "SteelNet (sksteel defaults)"

#: Mean missing-reading rate while training (paper 2.2.2: p_base = 0.2).
TRAINING_DROPOUT = 0.2

#: SteelNet variants of the paper's Table 2: name -> parameters changed.
ABLATIONS = {
    "full": {},
    "no_attention": {"use_attention": False},
    "no_attribution_loss": {"gamma": 0.0},
    "no_modality_dropout": {"failure_rates": 0.0},
    "no_physics": {"use_physics": False},
}

#: Training length in the full and the quick run.
_EPOCHS = {
    False: {"max_epochs": 50, "n_iter_no_change": 10},
    True: {"max_epochs": 5, "n_iter_no_change": 3},
}


def _training_length(quick):
    """Names of the parameters that set SteelNet's training length (the
    report reads their values from the estimator)."""
    return list(_EPOCHS[bool(quick)])


def _imputed(model, *, scale=True):
    """NaN-tolerant steps in front of ``model``: mean imputation with
    missing indicators, then (optionally) standardisation."""
    steps = [("impute", SimpleImputer(add_indicator=True))]
    if scale:
        steps.append(("scale", StandardScaler()))
    return [*steps, ("model", model)]


def baseline_estimators(random_state=None, *, quick=False):
    """The baselines, unfitted, each in the same kind of pipeline.

    Every baseline is an :class:`imblearn.pipeline.Pipeline` starting with
    :class:`~sksteel.sampling.ModalityDropout` (``n_copies=1``: the original
    training rows plus one copy with readings dropped at the sensor table's
    rates, mean 0.2), so it is trained on failing sensors as SteelNet is.

    Parameters
    ----------
    random_state : int, default=None
        Seed of every stochastic step.
    quick : bool, default=False
        Smaller ensembles and fewer iterations, for a fast run.

    Returns
    -------
    estimators : dict of str -> Pipeline
        ``"majority"`` (always the most frequent class), ``"LDA"`` (the
        paper's comparison), ``"logistic regression"``,
        ``"HistGradientBoosting"``, ``"RandomForest"`` and ``"MLP"``.

    Examples
    --------
    >>> from sksteel.experiments import baseline_estimators
    >>> sorted(baseline_estimators(random_state=0))  # doctest: +NORMALIZE_WHITESPACE
    ['HistGradientBoosting', 'LDA', 'MLP', 'RandomForest', 'logistic regression',
     'majority']
    """
    models = {
        "majority": [("model", DummyClassifier(strategy="most_frequent"))],
        "LDA": _imputed(LinearDiscriminantAnalysis()),
        "logistic regression": _imputed(
            LogisticRegression(max_iter=200 if quick else 1000)
        ),
        "HistGradientBoosting": [
            (
                "model",
                HistGradientBoostingClassifier(
                    max_iter=50 if quick else 200, random_state=random_state
                ),
            )
        ],
        "RandomForest": [
            (
                "model",
                RandomForestClassifier(
                    n_estimators=50 if quick else 200, min_samples_leaf=2,
                    random_state=random_state,
                ),
            )
        ],
        "MLP": _imputed(
            MLPClassifier(
                hidden_layer_sizes=(128, 64), max_iter=30 if quick else 200,
                early_stopping=True, random_state=random_state,
            )
        ),
    }
    return {
        name: Pipeline(
            [
                (
                    "dropout",
                    ModalityDropout(
                        p_base=TRAINING_DROPOUT, n_copies=1, random_state=random_state
                    ),
                ),
                *steps,
            ]
        )
        for name, steps in models.items()
    }


def steelnet_estimator(
    attribution_prior=None, *, random_state=None, quick=False, paper=False, **params
):
    """SteelNet as the experiments train it.

    The estimator's defaults (or, with ``paper``, the paper's network and
    training, :meth:`~sksteel.models.SteelNetClassifier.paper`), modality
    dropout with p_base 0.2, at most 50 epochs with patience 10 (5 epochs,
    patience 3 when ``quick``).

    Parameters
    ----------
    attribution_prior : DataFrame of shape (n_classes, n_sensors), default=None
        The generator's ground-truth attribution per class.
    random_state : int, default=None
        Seed of the network.
    quick : bool, default=False
        Train for a few epochs only.
    paper : bool, default=False
        Build the paper's configuration instead of sksteel's defaults.
    **params
        Other :class:`~sksteel.models.SteelNetClassifier` parameters, for
        example an ablation from :data:`ABLATIONS` or
        ``validation_fraction``.

    Returns
    -------
    estimator : SteelNetClassifier
        Unfitted.

    Examples
    --------
    >>> from sksteel.experiments import ABLATIONS, steelnet_estimator
    >>> steelnet_estimator(random_state=0, **ABLATIONS["no_physics"]).use_physics
    False
    >>> steelnet_estimator(random_state=0, paper=True).batch_size
    64
    """
    # verbose=0: the experiments fit many models, in parallel, and report
    # their own progress.
    settings = {
        **_EPOCHS[bool(quick)], "p_base": TRAINING_DROPOUT, "verbose": 0, **params
    }
    build = SteelNetClassifier.paper if paper else SteelNetClassifier
    return build(
        attribution_prior=attribution_prior, random_state=random_state, **settings
    )
