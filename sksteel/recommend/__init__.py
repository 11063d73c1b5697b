"""Setpoint recommendations: sparse, bounded, NaN-aware changes of the
actionable sensor readings that bring a defective operating point back to
normal, for any estimator with ``predict_proba``."""

from ._evaluate import score_recommendations
from ._setpoint import SetpointRecommender

__all__ = ["SetpointRecommender", "score_recommendations"]
