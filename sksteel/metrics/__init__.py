"""Metrics for attributions and for robustness to failing sensors."""

from ._attribution import attribution_faithfulness, attribution_mse
from ._robustness import robustness_auc, robustness_curve

__all__ = [
    "attribution_faithfulness",
    "attribution_mse",
    "robustness_auc",
    "robustness_curve",
]
