"""Missing sensor readings at test time, and the failure model behind them."""

from numbers import Real

import pandas as pd
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .._sensors import (
    FAILURE_RATES_CONSTRAINT,
    SENSORS_CONSTRAINT,
    column_names,
    drop_readings,
    resolve_failure_rates,
)
from .._sklearn_compat import Interval, _fit_context
from .._state import _PlainStateMixin
from .._validation import _validate_readings

__all__ = ["SensorFailure"]


class SensorFailure(
    OneToOneFeatureMixin, TransformerMixin, _PlainStateMixin, BaseEstimator
):
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
    failure_rates : "table", float, dict or array-like of shape \
            (n_features,), default=0.1
        Probability that each column's reading is missing, in the vocabulary
        of :func:`sksteel.datasets.failure_rates`: ``"table"`` for the
        sensor table's probabilities scaled to mean ``p_base``, a float for
        every column, a dict ``{column: probability}`` (columns left out
        never fail) or one probability per column.
    p_base : float, default=0.2
        Mean failure probability of the ``"table"`` rates; ignored otherwise.
    sensors : {"auto", "steel"}, DataFrame or None, default="auto"
        Which columns are sensors of which table, for ``"table"`` (see
        :func:`sksteel.datasets.failure_rates`): ``"auto"`` applies the steel
        table when all ten steel sensors are columns.
    random_state : int, RandomState instance or None, default=None
        Seeds the missing-reading mask. With an int, every call to
        ``transform`` draws the same mask for inputs of the same shape.

    Attributes
    ----------
    failure_rates_ : ndarray of shape (n_features_in_,)
        Probability that each column's reading is missing.
    sensor_table_ : DataFrame or None
        The sensor table rows applied, one per sensor column (index: the
        column names), or None when no column was taken for a sensor.
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
    >>> failed = SensorFailure(0.3, random_state=0).fit_transform(X)
    >>> failed.isna().mean().round(2)
    vibration     0.31
    drive_load    0.30
    dtype: float64
    """

    _parameter_constraints: dict = {
        "failure_rates": FAILURE_RATES_CONSTRAINT,
        "p_base": [Interval(Real, 0, 1, closed="both")],
        "sensors": SENSORS_CONSTRAINT,
        "random_state": ["random_state"],
    }

    def __init__(
        self, failure_rates=0.1, *, p_base=0.2, sensors="auto", random_state=None
    ):
        self.failure_rates = failure_rates
        self.p_base = p_base
        self.sensors = sensors
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
        self.failure_rates_, self.sensor_table_ = resolve_failure_rates(
            self.failure_rates,
            column_names(getattr(self, "feature_names_in_", None), self.n_features_in_),
            p_base=self.p_base,
            sensors=self.sensors,
            who=type(self).__name__,
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
        X = drop_readings(X, self.failure_rates_, check_random_state(self.random_state))
        if columns is None:
            return X
        return pd.DataFrame(X, columns=columns, index=index)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.non_deterministic = self.random_state is None
        return tags
