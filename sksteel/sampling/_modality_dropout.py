"""Industrial modality dropout (paper 2.2.2) as an imbalanced-learn sampler."""

from numbers import Integral, Real

import numpy as np
import pandas as pd
from imblearn.base import BaseSampler
from imblearn.utils import check_target_type
from sklearn.utils import check_random_state

from .._sensors import (
    FAILURE_RATES_CONSTRAINT,
    SENSORS_CONSTRAINT,
    column_names,
    drop_readings,
    resolve_failure_rates,
)
from .._sklearn_compat import Interval
from .._state import _PlainStateMixin
from .._validation import _validate_readings

__all__ = ["ModalityDropout"]


class ModalityDropout(_PlainStateMixin, BaseSampler):
    """Set sensor readings to NaN during training, as failing sensors would.

    Paper eq. 5: reading ``x_i`` is kept with probability ``1 - p_i``, where
    ``p_i`` is sensor ``i``'s failure probability. sksteel marks a dropped
    reading as NaN (the project's "missing" value) rather than 0, so a model
    can tell a failed sensor from a reading of zero. Readings that are
    already NaN stay NaN; every other reading is either kept as it is or set
    to NaN. The readings come back as floats (integer and boolean DataFrame
    columns as float64). ``inf`` is an error naming its columns: only NaN
    means missing.

    This is an imbalanced-learn sampler: inside an
    :class:`imblearn.pipeline.Pipeline` it acts while the pipeline is fitted
    and is skipped by ``predict``, ``predict_proba`` and ``score``, so test
    data pass through untouched (use
    :class:`~sksteel.preprocessing.SensorFailure` to make test readings
    fail). Every call draws a new mask unless ``random_state`` is an int.

    Parameters
    ----------
    failure_rates : "table", float, dict or array-like of shape \
            (n_features,), default="table"
        Probability that each reading is dropped, in the vocabulary of
        :func:`sksteel.datasets.failure_rates`.

        - ``"table"``: the sensor table's failure probabilities
          (:data:`sksteel.datasets.SENSORS`) scaled to mean ``p_base``
          (paper: "p_base 0.2 scaled by the per-sensor failure
          probabilities") for the sensor columns (see ``sensors``), and
          ``p_base`` for any other column.
        - float in ``[0, 1]``: the same probability for every column,
          whatever the columns are.
        - dict ``{column: probability}``: per column, matched by name
          (arrays without names: the ten sensors in order, else ``x0``,
          ``x1``, ...); columns left out are never dropped.
        - array-like of shape (n_features,): one probability per column.
    p_base : float, default=0.2
        Mean failure probability of the ``"table"`` rates; ignored otherwise.
    sensors : {"auto", "steel"}, DataFrame or None, default="auto"
        Which columns are sensors of which table (see
        :func:`sksteel.datasets.failure_rates`). ``"auto"`` applies the
        steel table when all ten steel sensors are columns (by name, also
        behind an unambiguous prefix such as ``remainder__``, or an array of
        exactly ten columns in the table's order); ``"steel"`` to every
        column named after a steel sensor.
    n_copies : int, default=0
        ``0``: every row is returned once, with readings dropped (the rows
        and their order are preserved). ``k >= 1``: the original rows are
        returned untouched, followed by ``k`` corrupted copies of them
        (``(k + 1) * n_samples`` rows), an augmentation.
    random_state : int, RandomState instance or None, default=None
        Seeds the dropout mask.

    Attributes
    ----------
    failure_rates_ : ndarray of shape (n_features_in_,)
        Probability that each column's reading is dropped, set by
        ``fit_resample``.
    sensor_table_ : DataFrame or None
        The sensor table rows applied, one per sensor column (index: the
        column names), or None when no column was taken for a sensor.
    sampling_strategy_ : str
        Always ``"auto"``: this sampler changes readings, not class counts.
    n_features_in_ : int
        Number of columns seen in ``fit_resample``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names seen in ``fit_resample``, when they are all strings.

    See Also
    --------
    sksteel.preprocessing.SensorFailure : The same failures at test time.

    Notes
    -----
    Like every imbalanced-learn sampler it needs a classification target
    ``y`` with at least two classes, although it does not use it beyond
    copying it along with the rows.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sksteel.datasets import SENSORS
    >>> from sksteel.sampling import ModalityDropout
    >>> X = pd.DataFrame(np.ones((2000, 10)), columns=list(SENSORS.index))
    >>> y = np.arange(2000) % 2
    >>> X_res, y_res = ModalityDropout(random_state=0).fit_resample(X, y)
    >>> X_res.shape
    (2000, 10)
    >>> X_res.isna().mean()[["vibration", "curing_time"]].round(2)
    vibration      0.35
    curing_time    0.09
    dtype: float64
    """

    _sampling_type = "bypass"

    _parameter_constraints: dict = {
        "failure_rates": FAILURE_RATES_CONSTRAINT,
        "p_base": [Interval(Real, 0, 1, closed="both")],
        "sensors": SENSORS_CONSTRAINT,
        "n_copies": [Interval(Integral, 0, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        failure_rates="table",
        *,
        p_base=0.2,
        sensors="auto",
        n_copies=0,
        random_state=None,
    ):
        # imbalanced-learn's fit_resample reads `sampling_strategy`; a bypass
        # sampler keeps its base's "auto" (as imblearn's FunctionSampler).
        super().__init__()
        self.failure_rates = failure_rates
        self.p_base = p_base
        self.sensors = sensors
        self.n_copies = n_copies
        self.random_state = random_state

    def _check_X_y(self, X, y, accept_sparse=None):
        # Readings may already be missing (NaN); sparse matrices cannot tell a
        # missing reading from an implicit zero, so they are refused.
        y, binarize_y = check_target_type(y, indicate_one_vs_all=True)
        X, y = _validate_readings(
            self, X, y, reset=True, accept_sparse=False, dtype=[np.float64, np.float32]
        )
        return X, y, binarize_y

    def fit_resample(self, X, y, **params):
        """Drop readings (set them to NaN) at random.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Sensor readings; NaN (missing) is allowed, ``inf`` is not.
        y : array-like of shape (n_samples,)
            Class labels, copied along with the rows; at least two classes
            (an imbalanced-learn requirement).
        **params : dict
            Resampling parameters of imbalanced-learn's API; ModalityDropout
            takes none.

        Returns
        -------
        X_resampled : ndarray or DataFrame of shape (n_samples_new, n_features)
            The readings with dropped ones as NaN; a DataFrame (same columns,
            float dtypes) when X is one.
        y_resampled : ndarray or Series of shape (n_samples_new,)
            The labels of ``X_resampled``.
        """
        if isinstance(X, pd.DataFrame):
            # imbalanced-learn casts a DataFrame result back to the input's
            # dtypes, which would fail on NaN in an integer column and turn it
            # into True in a boolean one: readings come back as floats.
            not_float = [c for c, dtype in X.dtypes.items() if dtype.kind != "f"]
            try:
                X = X.astype(dict.fromkeys(not_float, np.float64))
            except (TypeError, ValueError, OverflowError):
                pass  # not numbers: validation reports them with its message
        return super().fit_resample(X, y, **params)

    def _fit_resample(self, X, y):
        self.failure_rates_, self.sensor_table_ = resolve_failure_rates(
            self.failure_rates,
            column_names(getattr(self, "feature_names_in_", None), self.n_features_in_),
            p_base=self.p_base,
            sensors=self.sensors,
            who=type(self).__name__,
        )
        rng = check_random_state(self.random_state)
        if self.n_copies == 0:
            return drop_readings(X, self.failure_rates_, rng), y
        copies = drop_readings(
            np.tile(X, (self.n_copies, 1)), self.failure_rates_, rng
        )
        return np.vstack([X, copies]), np.concatenate([y] * (self.n_copies + 1))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = False
        tags.non_deterministic = self.random_state is None
        return tags
