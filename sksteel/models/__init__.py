"""scikit-learn estimators built on the SteelNet network."""

from ._steelnet import SteelNetClassifier

__all__ = ["SteelNetClassifier"]
