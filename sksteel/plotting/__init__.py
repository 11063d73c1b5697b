"""Plots in scikit-learn's Display style; matplotlib is imported only when
something is drawn."""

from ._attribution import AttributionDisplay
from ._history import TrainingHistoryDisplay
from ._recommend import RecommendationDisplay
from ._robustness import RobustnessCurveDisplay

__all__ = [
    "AttributionDisplay",
    "RecommendationDisplay",
    "RobustnessCurveDisplay",
    "TrainingHistoryDisplay",
]
