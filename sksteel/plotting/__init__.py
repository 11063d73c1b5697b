"""Plots in scikit-learn's Display style; matplotlib is imported only when
something is drawn."""

from ._attribution import AttributionDisplay
from ._history import TrainingHistoryDisplay
from ._masks import MaskDisplay
from ._recommend import RecommendationDisplay
from ._robustness import RobustnessCurveDisplay
from ._shapley import DeletionCurveDisplay, ShapleyDisplay, ShapleySummaryDisplay

__all__ = [
    "AttributionDisplay",
    "DeletionCurveDisplay",
    "MaskDisplay",
    "RecommendationDisplay",
    "RobustnessCurveDisplay",
    "ShapleyDisplay",
    "ShapleySummaryDisplay",
    "TrainingHistoryDisplay",
]
