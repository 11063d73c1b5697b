"""The paper's experiments as functions returning data; ``sksteel reproduce``
only formats what they return."""

from ._data import load_experiment_data
from ._models import ABLATIONS, baseline_estimators, steelnet_estimator
from ._paired import PairedDifference, paired_difference
from ._paper import PAPER_RESULTS
from ._report_tables import headline_table
from ._reproduce import reproduce
from ._results import (
    AblationResults,
    AttributionResults,
    RecommendationResults,
    ReproduceConfig,
    ReproduceResults,
    RobustnessResults,
    Table1Results,
)
from ._robustness import DROPOUT_RATES

__all__ = [
    "ABLATIONS",
    "DROPOUT_RATES",
    "PAPER_RESULTS",
    "AblationResults",
    "AttributionResults",
    "PairedDifference",
    "RecommendationResults",
    "ReproduceConfig",
    "ReproduceResults",
    "RobustnessResults",
    "Table1Results",
    "baseline_estimators",
    "headline_table",
    "load_experiment_data",
    "paired_difference",
    "reproduce",
    "steelnet_estimator",
]
