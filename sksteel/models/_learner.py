"""SteelNetClassifier's learner options: robust scaling and temperature.

Both are small steps around the network, kept out of the estimator module:

- :func:`robust_standardisation`: the centre and scale of each column from
  its median and inter-quartile range (RealMLP's robust scaling), NaN
  ignored, so a few outliers do not squash every other reading;
- :func:`fit_temperature`: post-hoc temperature scaling (Guo et al., 2017)
  of a trained network on held-out rows, which calibrates the
  probabilities without changing which class is most probable for a
  single network.
"""

import warnings

import numpy as np
from torch.nn import functional as F

from ._inputs import nan_standardisation

__all__ = ["TEMPERATURES", "fit_temperature", "robust_standardisation"]

#: Temperatures tried by :func:`fit_temperature`: a log-spaced grid from
#: 1/4 to 4, which contains 1 (no change).
TEMPERATURES = np.exp(np.linspace(np.log(0.25), np.log(4.0), 41))

#: Ratio of the inter-quartile range to the standard deviation of a normal
#: distribution: dividing by it makes the robust scale a standard deviation
#: on normal data.
_IQR_PER_STD = 1.349


def robust_standardisation(X):
    """Per-column median and ``IQR / 1.349``, ignoring NaN.

    A column whose inter-quartile range is 0 (mostly constant) falls back
    to its standard deviation, and a constant or empty column to 1, as in
    :func:`~sksteel.models._inputs.nan_standardisation`.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Readings, float64, NaN where missing.

    Returns
    -------
    centre, scale : ndarray of shape (n_features,)
        Positive, finite scales.
    """
    mean, std_scale = nan_standardisation(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        low, centre, high = np.nanquantile(X, [0.25, 0.5, 0.75], axis=0)
    centre = np.where(np.isnan(centre), mean, centre)
    with np.errstate(over="ignore", invalid="ignore"):
        iqr = (high - low) / _IQR_PER_STD
    scale = np.where(np.isfinite(iqr) & (iqr > 0), iqr, std_scale)
    return centre, scale


def fit_temperature(net, X, y_index):
    """Set ``net.module_.temperature`` to the NLL-best one on ``(X, y)``.

    Parameters
    ----------
    net : skorch.NeuralNet
        A fitted net whose module is a :class:`~sksteel.nn.SteelNet`.
    X : torch.Tensor of shape (n_samples, n_features)
        Standardised held-out readings.
    y_index : torch.Tensor of shape (n_samples,)
        Their class indices.

    Returns
    -------
    temperature : float
        The chosen temperature (1.0 when none beats it).
    """
    module = net.module_
    losses = []
    for temperature in TEMPERATURES:
        module.temperature = float(temperature)
        logits = net.forward(X)[0]
        losses.append(float(F.cross_entropy(logits, y_index)))
    module.temperature = float(TEMPERATURES[int(np.argmin(losses))])
    return module.temperature

