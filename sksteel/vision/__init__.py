"""Image models: defect segmentation, and the defect-fraction regressor of
paper 2.1.1."""

from ._regressor import DefectFractionRegressor, predict_fractions
from ._segmenter import DefectSegmenter

__all__ = ["DefectFractionRegressor", "DefectSegmenter", "predict_fractions"]
