"""Image models: defect segmentation (masks, Kaggle submissions), and the
defect-fraction regressor of paper 2.1.1."""

from ._postprocessing import postprocess
from ._regressor import DefectFractionRegressor, predict_fractions
from ._segmenter import DefectSegmenter
from ._submission import to_submission

__all__ = [
    "DefectFractionRegressor",
    "DefectSegmenter",
    "postprocess",
    "predict_fractions",
    "to_submission",
]
