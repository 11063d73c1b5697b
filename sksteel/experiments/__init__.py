"""The paper's experiments as functions returning data; ``sksteel reproduce``
only formats what they return."""

from ._ablation import run_ablation
from ._attribution import run_attribution
from ._data import load_experiment_data, make_splits
from ._fitting import fit_models, parallel_map, single_threaded
from ._models import ABLATIONS, baseline_estimators, steelnet_estimator
from ._paper import PAPER_RESULTS
from ._report import results_to_json, write_report
from ._report_tables import headline_table
from ._reproduce import reproduce
from ._robustness import DROPOUT_RATES, run_robustness
from ._table1 import classification_scores, run_table1, summarise

__all__ = [
    "ABLATIONS",
    "DROPOUT_RATES",
    "PAPER_RESULTS",
    "baseline_estimators",
    "classification_scores",
    "fit_models",
    "headline_table",
    "load_experiment_data",
    "make_splits",
    "parallel_map",
    "reproduce",
    "results_to_json",
    "run_ablation",
    "run_attribution",
    "run_robustness",
    "run_table1",
    "single_threaded",
    "steelnet_estimator",
    "summarise",
    "write_report",
]
