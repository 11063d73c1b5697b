"""Plots in scikit-learn's Display style; matplotlib is imported only when
something is drawn."""

from ._attribution import AttributionDisplay
from ._history import TrainingHistoryDisplay
from ._masks import MaskDisplay
from ._robustness import RobustnessCurveDisplay

__all__ = [
    "AttributionDisplay",
    "MaskDisplay",
    "RobustnessCurveDisplay",
    "TrainingHistoryDisplay",
]
