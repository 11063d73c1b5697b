"""Image models: the defect-fraction regressor of paper 2.1.1."""

from ._regressor import DefectFractionRegressor, predict_fractions

__all__ = ["DefectFractionRegressor", "predict_fractions"]
