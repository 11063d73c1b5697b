"""sksteel: scikit-learn-compatible SteelNet.

Learn defect class, defect intensity and per-sensor attributions from
industrial process sensors that fail, together with the steel-surface images
(Kaggle Severstal format) that produce the labels.
"""

__version__ = "0.1.0.dev0"

__all__ = ["__version__"]
