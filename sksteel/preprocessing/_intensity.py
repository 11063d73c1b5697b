"""Defect intensity from per-class defect fractions (paper 2.1.1 and A.3)."""

from numbers import Integral, Real

import numpy as np
from scipy import stats
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._schema import FRACTION_COLUMNS, INTENSITY_WEIGHTS
from .._sklearn_compat import Interval, _check_feature_names_in, _fit_context
from .._validation import _validate

__all__ = ["INTENSITY_MEAN", "INTENSITY_STD", "IntensityScorer", "intensity_beta"]

#: Mean and standard deviation of the intensity over defective samples that
#: the paper reports (A.3); the default target of the normalisation.
INTENSITY_MEAN = 0.347
INTENSITY_STD = 0.198

#: Names of the two output columns.
_OUTPUT_NAMES = ("intensity_raw", "intensity")

#: How to fix fractions that are missing, or outside [0, 1].
_NAN_FIX = (
    "A class absent from an image has fraction 0, not NaN: fill missing "
    "fractions with 0 (`X.fillna(0)`) or drop those rows."
)
_RANGE_FIX = (
    "Pass pixel fractions (defect pixels / all pixels), e.g. the output of RLEDecoder."
)


def intensity_beta(mean=INTENSITY_MEAN, std=INTENSITY_STD):
    """The Beta distribution on [0, 1] with the given mean and standard deviation.

    With the paper's figures (0.347, 0.198) it is Beta(1.66, 3.12): right-
    skewed, as the paper describes its intensity distribution.

    Parameters
    ----------
    mean : float, default=0.347
        Mean, in ``(0, 1)``.
    std : float, default=0.198
        Standard deviation; must be below ``sqrt(mean * (1 - mean))``.

    Returns
    -------
    distribution : scipy.stats frozen distribution
        ``scipy.stats.beta(a, b)``.

    Examples
    --------
    >>> from sksteel.preprocessing._intensity import intensity_beta
    >>> beta = intensity_beta()
    >>> round(float(beta.mean()), 3), round(float(beta.std()), 3)
    (0.347, 0.198)
    >>> bool(beta.stats(moments="s") > 0)
    True
    """
    limit = np.sqrt(mean * (1.0 - mean))
    if not 0.0 < mean < 1.0 or not 0.0 < std < limit:
        raise ValueError(
            f"No Beta distribution has mean {mean!r} and standard deviation "
            f"{std!r}: the mean must lie in (0, 1) and the standard deviation in "
            f"(0, sqrt(mean * (1 - mean))) = (0, {limit:.3f}). Choose a smaller "
            "`target_std`."
        )
    concentration = mean * (1.0 - mean) / std**2 - 1.0
    return stats.beta(mean * concentration, (1.0 - mean) * concentration)


def _interpolate(values, xp, fp):
    """Monotone piecewise-linear map of ``values`` through ``(xp, fp)``.

    Averaging the forward and backward interpolation gives ties in ``xp`` the
    mean of their ``fp`` (as :class:`sklearn.preprocessing.QuantileTransformer`
    does); values outside ``xp`` get the end values of ``fp``.
    """
    forward = np.interp(values, xp, fp)
    backward = -np.interp(-values, -xp[::-1], -fp[::-1])
    return 0.5 * (forward + backward)


class IntensityScorer(TransformerMixin, BaseEstimator):
    """Score defect intensity from per-class defect pixel fractions.

    The raw score is the paper's eq. 1, ``intensity_raw = sum_c w_c * f_c``
    with ``w = (1.0, 1.5, 2.0, 1.2)`` for crazing, inclusion, patches and
    pitted. Pixel fractions are small (a typical defect covers a few percent
    of the sheet), whereas the paper's intensity over defective samples has
    mean 0.347 and standard deviation 0.198 (A.3). The paper does not say
    how it got there, so sksteel learns a documented normalisation in
    ``fit``:

    1. Over the defective rows seen in ``fit`` (any fraction > 0), take the
       quantiles of the raw score at levels ``(k + 0.5) / n``,
       ``k = 0 .. n - 1`` (``n = min(n_quantiles, n_defective)``).
    2. Map each quantile to the same quantile of a target distribution: the
       Beta distribution with mean ``target_mean`` and standard deviation
       ``target_std`` (Beta(1.66, 3.12) by default, right-skewed).
    3. ``transform`` interpolates linearly between these pairs. The map is
       deterministic and monotone (a larger raw score never gets a smaller
       intensity); raw scores beyond the fitted range get the end values.

    So the defective rows of the fitting data get intensities distributed
    like the target, ranked as their raw scores. Non-defective rows (every
    fraction 0) get intensity 0.

    Parameters
    ----------
    weights : array-like of shape (n_features,), default=INTENSITY_WEIGHTS
        Finite, non-negative weight of each fraction column, in column order;
        the default is the paper's ``(1.0, 1.5, 2.0, 1.2)`` for classes 1-4.
        When X is a DataFrame whose columns are all named
        ``defect_fraction_<c>`` (any order, any subset) and there are four
        weights, they are per class: ``weights[c - 1]`` goes to column
        ``defect_fraction_<c>``.
    normalize : bool, default=True
        Learn and apply the normalisation above. ``False``: ``intensity``
        equals ``intensity_raw``.
    target_mean : float, default=0.347
        Mean of the target distribution (paper A.3).
    target_std : float, default=0.198
        Standard deviation of the target distribution (paper A.3).
    n_quantiles : int, default=1000
        Maximum number of quantile pairs of the map.

    Attributes
    ----------
    weights_ : ndarray of shape (n_features_in_,)
        The weight of each column of X, in column order.
    raw_quantiles_ : ndarray of shape (n_quantiles_,)
        Quantiles of the raw score over the defective rows seen in ``fit``
        (only when ``normalize=True``).
    references_ : ndarray of shape (n_quantiles_,)
        The target distribution's quantiles they map to (only when
        ``normalize=True``).
    n_features_in_ : int
        Number of fraction columns seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names seen in ``fit``, when they are all strings.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sksteel.preprocessing import IntensityScorer
    >>> rng = np.random.RandomState(0)
    >>> fractions = pd.DataFrame(
    ...     rng.exponential(0.02, size=(500, 4)) * (rng.rand(500, 1) < 0.5),
    ...     columns=[f"defect_fraction_{c}" for c in range(1, 5)],
    ... )
    >>> scorer = IntensityScorer().set_output(transform="pandas")
    >>> scores = scorer.fit_transform(fractions)
    >>> list(scores.columns)
    ['intensity_raw', 'intensity']
    >>> defective = scores["intensity_raw"] > 0
    >>> round(float(scores.loc[defective, "intensity"].mean()), 2)
    0.35
    >>> float(scores.loc[~defective, "intensity"].max())
    0.0
    """

    _parameter_constraints: dict = {
        "weights": ["array-like"],
        "normalize": ["boolean"],
        "target_mean": [Interval(Real, 0, 1, closed="neither")],
        "target_std": [Interval(Real, 0, 1, closed="neither")],
        "n_quantiles": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        weights=INTENSITY_WEIGHTS,
        *,
        normalize=True,
        target_mean=INTENSITY_MEAN,
        target_std=INTENSITY_STD,
        n_quantiles=1000,
    ):
        self.weights = weights
        self.normalize = normalize
        self.target_mean = target_mean
        self.target_std = target_std
        self.n_quantiles = n_quantiles

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the normalisation from the defective rows of X.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Per-class defect pixel fractions in ``[0, 1]``, one column per
            weight (``defect_fraction_1`` .. ``defect_fraction_4``). NaN and
            ``inf`` are errors: an absent class has fraction 0.
        y : None
            Ignored.

        Returns
        -------
        self : IntensityScorer
            The fitted scorer.
        """
        X = _validate(self, X, dtype="numeric", ensure_all_finite=False)
        X = self._check_fractions(X)
        self.weights_ = self._check_weights()
        if not self.normalize:
            return self

        raw = X @ self.weights_
        defective = raw[raw > 0]
        if defective.size == 0:
            raise ValueError(
                f"IntensityScorer learns its normalisation from defective rows "
                f"(some weighted fraction > 0), but all {len(raw)} rows passed to "
                "fit score 0 (zero fractions, or zero `weights` on their "
                "classes). Fit on data with defective images, or pass "
                "`normalize=False`."
            )
        n_quantiles = min(self.n_quantiles, defective.size)
        levels = (np.arange(n_quantiles) + 0.5) / n_quantiles
        self.raw_quantiles_ = np.quantile(defective, levels)
        self.references_ = intensity_beta(self.target_mean, self.target_std).ppf(levels)
        return self

    def transform(self, X):
        """Score each row.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Per-class defect pixel fractions in ``[0, 1]``, the columns of
            ``fit`` in the same order; NaN and ``inf`` are errors.

        Returns
        -------
        scores : ndarray of shape (n_samples, 2)
            Columns ``intensity_raw`` (eq. 1) and ``intensity`` (normalised;
            0 for rows whose fractions are all 0). Always finite.
        """
        check_is_fitted(self)
        X = _validate(self, X, reset=False, ensure_all_finite=False)
        X = self._check_fractions(X)
        raw = X @ self.weights_
        if not self.normalize:
            return np.column_stack([raw, raw])
        intensity = _interpolate(raw, self.raw_quantiles_, self.references_)
        intensity[raw <= 0] = 0.0
        return np.column_stack([raw, intensity])

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Checked against the names seen in ``fit``; otherwise unused.

        Returns
        -------
        feature_names_out : ndarray of str
            ``["intensity_raw", "intensity"]``.
        """
        check_is_fitted(self, "n_features_in_")
        _check_feature_names_in(self, input_features)
        return np.asarray(_OUTPUT_NAMES, dtype=object)

    def _check_weights(self):
        """The weight of each column of X: by position, or by class when the
        columns are named fraction columns (any order) and there are four."""
        try:
            weights = np.asarray(self.weights, dtype=float)
        except (TypeError, ValueError, OverflowError):
            weights = np.array([np.nan])  # reported below
        names = getattr(self, "feature_names_in_", None)
        if (
            names is not None
            and weights.shape == (len(FRACTION_COLUMNS),)
            and set(names) <= set(FRACTION_COLUMNS)
        ):
            weights = weights[[FRACTION_COLUMNS.index(name) for name in names]]
        with np.errstate(over="ignore", invalid="ignore"):
            # Fractions are at most 1, so a finite sum bounds every raw score.
            total = weights.sum()
        if (
            weights.shape != (self.n_features_in_,)
            or not np.isfinite(weights).all()
            or (weights < 0).any()
            or not np.isfinite(total)
        ):
            raise ValueError(
                f"`weights` must hold one non-negative weight per fraction "
                f"column ({self.n_features_in_} here), or one per class when the "
                f"columns are named {list(FRACTION_COLUMNS)!r}, all finite and "
                f"with a finite sum; got {self.weights!r}. Pass one weight per "
                "column, in column order."
            )
        return weights

    @staticmethod
    def _check_fractions(X):
        """Refuse fractions that are not numbers in [0, 1], naming one."""
        with np.errstate(invalid="ignore"):
            checks = [
                (~np.isfinite(X), "NaN or infinite", _NAN_FIX),
                (X < 0, "negative", _RANGE_FIX),
                (X > 1, "above 1", _RANGE_FIX),
            ]
        for bad, what, fix in checks:
            if bad.any():
                row, col = np.argwhere(bad)[0]
                raise ValueError(
                    f"Defect fractions must be finite numbers in [0, 1]; got "
                    f"{bad.sum()} value(s) {what}, e.g. {float(X[row, col])!r} at "
                    f"row {row}, column {col}. {fix}"
                )
        return X

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        return tags
