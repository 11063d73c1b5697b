"""Metrics for attributions, explanations and robustness to failing sensors."""

from ._attribution import attribution_faithfulness, attribution_mse
from ._faithfulness import (
    deletion_curve,
    explanation_comparison,
    randomisation_check,
    rank_agreement,
)
from ._robustness import robustness_auc, robustness_curve

__all__ = [
    "attribution_faithfulness",
    "attribution_mse",
    "deletion_curve",
    "explanation_comparison",
    "randomisation_check",
    "rank_agreement",
    "robustness_auc",
    "robustness_curve",
]
