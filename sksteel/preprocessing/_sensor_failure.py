"""Missing sensor readings at test time, and the failure model behind them."""

from numbers import Real

import numpy as np
import pandas as pd
from sklearn.base import (
    BaseEstimator,
    OneToOneFeatureMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._schema import SENSOR_NAMES, failure_rates
from .._validation import _validate_readings

__all__ = ["SensorFailure"]


def _table_rates(feature_names, n_features, p_base, who):
    """The sensor table's failure rates (mean ``p_base``) for the columns of X.

    Columns named after sensors get their sensor's rate, in any order and any
    subset; columns without names are taken as the ten sensors in the table's
    order, so there must be exactly ten.
    """
    table = failure_rates(p_base)
    if feature_names is not None:
        unknown = [name for name in feature_names if name not in table.index]
        if unknown:
            raise ValueError(
                f"{who} applies the sensor table's failure rates by column name, "
                f"but the column(s) {unknown!r} are not sensors; expected names "
                f"among {list(SENSOR_NAMES)!r}. Rename the columns, drop the "
                "others, or pass one probability for every column (a float) or "
                "a dict {column: probability}."
            )
        return table.loc[list(feature_names)].to_numpy()
    if n_features != len(SENSOR_NAMES):
        raise ValueError(
            f"{who} applies the sensor table's failure rates by position to "
            f"arrays without column names, which needs exactly "
            f"{len(SENSOR_NAMES)} columns (the sensors, in the table's order); "
            f"got {n_features}. Pass a DataFrame with sensor column names, one "
            "probability for every column (a float) or a dict."
        )
    return table.to_numpy()


def _dict_rates(rates, feature_names, n_features, who):
    """Per-column rates from a ``{column: probability}`` dict; absent columns
    never fail. Arrays without names are read as the ten sensors in order."""
    if feature_names is None:
        if n_features != len(SENSOR_NAMES):
            raise ValueError(
                f"{who} got a dict of rates and an array without column names "
                f"of {n_features} columns; a dict is matched by name, so pass a "
                f"DataFrame, or an array of the {len(SENSOR_NAMES)} sensors in "
                "the table's order."
            )
        feature_names = list(SENSOR_NAMES)
    unknown = [key for key in rates if key not in feature_names]
    if unknown:
        raise ValueError(
            f"{who} got rates for {unknown!r}, which are not columns of X "
            f"({list(feature_names)!r}). Use the column names as keys."
        )
    bad = {key: p for key, p in rates.items() if not 0.0 <= p <= 1.0}
    if bad:
        raise ValueError(
            f"{who} rates must be probabilities in [0, 1]; got {bad!r}. "
            "Correct those values."
        )
    return np.array([float(rates.get(name, 0.0)) for name in feature_names])


def _column_rates(rates, p_base, feature_names, n_features, who):
    """Resolve ``rates`` ("table", a float or a dict) to one probability per
    column of X, as an ndarray of shape (n_features,)."""
    if isinstance(rates, str):
        return _table_rates(feature_names, n_features, p_base, who)
    if isinstance(rates, dict):
        return _dict_rates(rates, feature_names, n_features, who)
    return np.full(n_features, float(rates))


def _drop_readings(X, rates, rng):
    """A float copy of ``X`` whose entry ``(i, j)`` is NaN with probability
    ``rates[j]``, independently."""
    X = np.array(X, dtype=X.dtype if X.dtype.kind == "f" else np.float64)
    X[rng.random_sample(X.shape) < rates] = np.nan
    return X


class SensorFailure(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Make sensor readings go missing (NaN) at a given rate, at test time.

    The evaluation counterpart of
    :class:`~sksteel.sampling.ModalityDropout`: use it to score a fitted
    model on readings that fail, for robustness curves. Readings that are
    already NaN stay NaN; every other reading is either kept as it is or
    set to NaN. Integer and boolean input comes back as float64, float16
    and float32 keep their dtype. ``inf`` is an error naming its columns:
    only NaN means missing.

    Parameters
    ----------
    rate : float, default=0.1
        Mean probability that a reading is missing, in ``[0, 1]``.
    mode : {"uniform", "table"}, default="uniform"
        ``"uniform"``: every reading is missing with probability ``rate``.
        ``"table"``: each sensor fails with its probability from the sensor
        table (:data:`sksteel.datasets.SENSORS`), scaled so that the mean
        over the ten sensors is ``rate``
        (:func:`~sksteel._schema.failure_rates`). Columns are matched by
        sensor name; an array without column names must hold the ten
        sensors in the table's order.
    random_state : int, RandomState instance or None, default=None
        Seeds the missing-reading mask. With an int, every call to
        ``transform`` draws the same mask for inputs of the same shape.

    Attributes
    ----------
    rates_ : ndarray of shape (n_features_in_,)
        Probability that each column's reading is missing.
    n_features_in_ : int
        Number of columns seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names seen in ``fit``, when they are all strings.

    See Also
    --------
    sksteel.sampling.ModalityDropout : The same failures during training only.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sksteel.preprocessing import SensorFailure
    >>> X = pd.DataFrame({"vibration": np.full(1000, 3.0),
    ...                   "drive_load": np.full(1000, 12.0)})
    >>> failed = SensorFailure(rate=0.3, random_state=0).fit_transform(X)
    >>> failed.isna().mean().round(2)
    vibration     0.31
    drive_load    0.30
    dtype: float64
    """

    _parameter_constraints: dict = {
        "rate": [Interval(Real, 0, 1, closed="both")],
        "mode": [StrOptions({"uniform", "table"})],
        "random_state": ["random_state"],
    }

    def __init__(self, rate=0.1, *, mode="uniform", random_state=None):
        self.rate = rate
        self.mode = mode
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check X and work out each column's failure probability.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Sensor readings; NaN is allowed, ``inf`` is not.
        y : None
            Ignored.

        Returns
        -------
        self : SensorFailure
            The fitted transformer.
        """
        X = _validate_readings(self, X, dtype="numeric")
        rates = "table" if self.mode == "table" else self.rate
        self.rates_ = _column_rates(
            rates,
            self.rate,
            getattr(self, "feature_names_in_", None),
            self.n_features_in_,
            type(self).__name__,
        )
        return self

    def transform(self, X):
        """Return X with readings set to NaN at random.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Sensor readings.

        Returns
        -------
        X_failed : ndarray or DataFrame of shape (n_samples, n_features)
            A float copy of X with missing readings as NaN; a DataFrame (same
            columns and index) when X is one.
        """
        check_is_fitted(self)
        index = X.index if isinstance(X, pd.DataFrame) else None
        columns = X.columns if isinstance(X, pd.DataFrame) else None
        X = _validate_readings(self, X, reset=False, dtype="numeric")
        X = _drop_readings(X, self.rates_, check_random_state(self.random_state))
        if columns is None:
            return X
        return pd.DataFrame(X, columns=columns, index=index)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.non_deterministic = self.random_state is None
        return tags
