"""Inspection of fitted models: Shapley values over sensor missingness."""

from ._importance import shapley_importance
from ._shapley import shapley_values

__all__ = ["shapley_importance", "shapley_values"]
