"""Inspection of fitted models: Shapley values over sensor missingness."""

from ._shapley import shapley_values

__all__ = ["shapley_values"]
