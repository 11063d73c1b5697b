"""Synthetic process-sensor readings from defect class and intensity (paper
2.1.2 and A.2)."""

from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_is_fitted,
    validate_data,
)

from .._schema import CLASS_NAMES, SENSOR_NAMES, SENSORS
from ._intensity import intensity_beta

__all__ = [
    "CLASS_PROFILES",
    "COUPLINGS",
    "DRIFT",
    "ProcessParameterSynthesizer",
]

#: Stage 1 operating points of each defect class, in the units a sensor reads:
#: ``sensor: (low, high, shift)``. ``mu_c`` is drawn from ``[low, high]``;
#: ``shift = sigma_c - mu_normal`` is how far the class's deviated operating
#: point lies from normal, so a reading moves by ``intensity * shift``.
#: Sensors a class does not list run in their normal range. Paper 2.1.2 gives
#: the crazing curing-temperature and vibration ranges and the inclusion
#: cleanliness and water-jet pressure ranges; every other number is sksteel's,
#: chosen after the paper's narrative (and its attributions, section 4.2) and
#: calibrated against its data set statistics (A.3-A.5); see
#: ``docs/dataset.md``.
CLASS_PROFILES = {
    1: {  # crazing: thermal stress
        "curing_temperature": (140.0, 175.0, -30.0),
        "ambient_humidity": (52.0, 62.0, 10.0),
        "vibration": (3.0, 6.0, 2.0),
        "surface_cleanliness": (89.0, 95.0, 0.0),
    },
    2: {  # inclusion: contamination
        "surface_cleanliness": (67.0, 81.0, -10.0),
        "water_jet_pressure": (140.0, 170.0, -20.0),
    },
    3: {  # patches: coating irregularities
        "spray_pressure": (3.1, 3.5, 0.3),
        "coating_viscosity": (120.0, 145.0, 20.0),
        "surface_cleanliness": (92.0, 97.0, 0.0),
    },
    4: {  # pitted: corrosion
        "ambient_humidity": (70.0, 80.0, 15.0),
        "surface_cleanliness": (71.0, 85.0, -10.0),
    },
}

#: Correlations of the latent Gaussian factors that draw the operating points
#: (a Gaussian copula: each reading keeps its uniform range, pairs become
#: correlated). sksteel's choice, not the paper's: a shared line load drives
#: vibration and drive load, which the paper reports correlated (r = 0.34,
#: A.4) without saying how. Its other correlations, spray pressure with
#: coating viscosity and ambient humidity with curing time, come out of rules
#: 8 and 9 acting on the patches and pitted profiles, with no coupling.
COUPLINGS = {("vibration", "drive_load"): 0.40}

#: Relative standard deviation of the Stage 1 sensor noise: ``eps ~ N(0,
#: NOISE * |sigma_c - mu_normal|)`` (paper eq. 7).
NOISE = 0.02

#: Stage 3 multiplicative drift factors ``d ~ U(low, high)`` (paper eq. 11).
DRIFT = {
    "water_jet_pressure": (0.95, 1.0),
    "vibration": (1.0, 1.15),
    "surface_cleanliness": (0.95, 1.0),
}


class _Rule(NamedTuple):
    """A Stage 2 rule: ``target = bound(target * (base + step *
    [trigger comparison threshold]), limit)``."""

    target: str
    trigger: str
    comparison: str
    threshold: float
    base: float
    step: float
    bound: str
    limit: float

    def _fired(self, trigger_values):
        compare = np.greater if self.comparison == ">" else np.less
        return compare(trigger_values, self.threshold)

    def apply(self, values):
        """Apply the rule in place to ``values`` (n_samples, n_sensors)."""
        bound = np.minimum if self.bound == "min" else np.maximum
        factor = self.base + self.step * self._fired(values[:, _COLUMN[self.trigger]])
        column = _COLUMN[self.target]
        values[:, column] = bound(values[:, column] * factor, self.limit)

    def normal_factor(self):
        """The factor the rule applies in normal operation (trigger at the
        middle of its normal range)."""
        return self.base + self.step * self._fired(_MID[_COLUMN[self.trigger]])


#: Stage 2 rules, paper eqs. 8-10 as written.
_RULES = (
    _Rule("spray_pressure", "coating_viscosity", ">", 120.0, 1.0, 0.1, "min", 3.0),
    _Rule("curing_time", "ambient_humidity", ">", 70.0, 0.9, 0.1, "max", 8.0),
    _Rule(
        "surface_cleanliness", "water_jet_pressure", "<", 160.0, 0.95, 0.05, "max", 60.0
    ),
)

#: Number of paired samples per class behind ``attribution_prior_``.
_N_PRIOR_SAMPLES = 4000

_COLUMN = {name: i for i, name in enumerate(SENSOR_NAMES)}
_LOW = SENSORS["low"].to_numpy()
_HIGH = SENSORS["high"].to_numpy()
_MID = (_LOW + _HIGH) / 2.0
_PERCENT = (SENSORS["unit"] == "%").to_numpy()


def _profile_table():
    """``(low, high, shift)`` arrays of shape (n_classes, n_sensors)."""
    low = np.tile(_LOW, (len(CLASS_NAMES), 1))
    high = np.tile(_HIGH, (len(CLASS_NAMES), 1))
    shift = np.zeros((len(CLASS_NAMES), len(SENSOR_NAMES)))
    for c, profile in CLASS_PROFILES.items():
        for sensor, (low_c, high_c, shift_c) in profile.items():
            j = _COLUMN[sensor]
            low[c, j], high[c, j], shift[c, j] = low_c, high_c, shift_c
    return low, high, shift


def _normal_gain(interactions, drift):
    """Mean factor by which Stages 2 and 3 scale each sensor in normal
    operation.

    The normal ranges and class profiles are ranges of the final readings;
    Stage 1 works upstream of the rules and drift, so its values are divided
    by this gain. Without it rule 10 and the drift would pull every normal
    cleanliness reading to about 90 %, below its own normal range.
    """
    gain = np.ones(len(SENSOR_NAMES))
    if interactions:
        for rule in _RULES:
            gain[_COLUMN[rule.target]] *= rule.normal_factor()
    if drift:
        for sensor, (low, high) in DRIFT.items():
            gain[_COLUMN[sensor]] *= (low + high) / 2.0
    return gain


def _copula_factor(couplings):
    """Cholesky factor of the latent factors' correlation matrix."""
    corr = np.eye(len(SENSOR_NAMES))
    for (a, b), rho in couplings.items():
        corr[_COLUMN[a], _COLUMN[b]] = corr[_COLUMN[b], _COLUMN[a]] = rho
    try:
        return np.linalg.cholesky(corr)
    except np.linalg.LinAlgError:
        raise ValueError(
            f"`couplings` {couplings!r} do not form a valid correlation matrix "
            "(it is not positive definite). Use smaller correlations."
        ) from None


def _simulate(classes, intensity, rng, *, deviations, interactions, drift, copula):
    """The ten readings of each row: Stages 1, 2 and 3 of paper A.2.

    The random draws do not depend on the stages switched on, so switching
    one off changes nothing else.
    """
    n = len(classes)
    latent = rng.standard_normal((n, len(SENSOR_NAMES))) @ copula.T
    position = stats.norm.cdf(latent)
    noise = rng.standard_normal((n, len(SENSOR_NAMES)))
    drift_draws = rng.random_sample((n, len(DRIFT)))

    low, high, shift = (table[classes] for table in _profile_table())
    if not deviations:
        low, high, shift = _LOW, _HIGH, np.zeros(len(SENSOR_NAMES))
    # Stage 1 (eq. 7): mu_c + s * (sigma_c - mu_normal) + eps, in reading
    # units, then taken upstream of Stages 2-3 by the normal-operation gain.
    values = (
        low
        + position * (high - low)
        + intensity[:, None] * shift
        + NOISE * np.abs(shift) * noise
    ) / _normal_gain(interactions, drift)
    if interactions:  # Stage 2 (eqs. 8-10)
        for rule in _RULES:
            rule.apply(values)
    if drift:  # Stage 3 (eq. 11)
        for j, (sensor, (a, b)) in enumerate(DRIFT.items()):
            values[:, _COLUMN[sensor]] *= a + (b - a) * drift_draws[:, j]
    # Physical bounds: no negative reading, no percentage above 100.
    return np.clip(values, 0.0, np.where(_PERCENT, 100.0, np.inf))


def _attribution_prior(settings):
    """How far each class pushes each sensor from normal, as a distribution.

    Every class is simulated on the same draws as normal operation (common
    random numbers), with intensities at the quantiles of the paper's
    intensity distribution; the mean absolute difference of each reading,
    divided by the width of its normal range, is normalised to sum to 1.
    """
    n = _N_PRIOR_SAMPLES
    intensity = intensity_beta().ppf((np.arange(n) + 0.5) / n)

    def readings(label):
        classes = np.full(n, label)
        return _simulate(classes, intensity, np.random.RandomState(0), **settings)

    normal = readings(0)
    prior = np.full((len(CLASS_NAMES), len(SENSOR_NAMES)), 1.0 / len(SENSOR_NAMES))
    for label in range(1, len(CLASS_NAMES)):
        push = np.abs(readings(label) - normal).mean(axis=0) / (_HIGH - _LOW)
        if push.sum() > 0:
            prior[label] = push / push.sum()
    return pd.DataFrame(
        prior,
        index=pd.RangeIndex(len(CLASS_NAMES), name="defect_class"),
        columns=list(SENSOR_NAMES),
    )


class ProcessParameterSynthesizer(TransformerMixin, BaseEstimator):
    """Generate the ten process-sensor readings from defect class and intensity.

    Implements the paper's three-stage generator (A.2):

    1. **Base values** (eq. 7). ``p = mu_c + s * (sigma_c - mu_normal) +
       eps`` with ``eps ~ N(0, 0.02 * |sigma_c - mu_normal|)``: ``mu_c`` is
       drawn uniformly from the class's range of the sensor, ``sigma_c`` is
       the class's deviated operating point, ``s`` the intensity.
       Non-defective rows, and sensors a class leaves alone, are drawn from
       the normal range (``sigma_c = mu_normal``, so no shift and no noise).
       The ranges are in :data:`CLASS_PROFILES`.
    2. **Interactions** (eqs. 8-10, as written):
       ``spray_pressure = min(spray_pressure * (1 + 0.1 [viscosity > 120]),
       3.0)``; ``curing_time = max(curing_time * (0.9 + 0.1 [humidity >
       70]), 8.0)``; ``surface_cleanliness = max(surface_cleanliness * (0.95
       + 0.05 [water_jet_pressure < 160]), 60.0)``.
    3. **Drift** (eq. 11): water-jet pressure times U(0.95, 1.0), vibration
       times U(1.0, 1.15), surface cleanliness times U(0.95, 1.0).

    Choices of sksteel's, documented in ``docs/dataset.md``:

    - The normal ranges of :data:`sksteel.datasets.SENSORS` and the class
      ranges are ranges of the *final* readings. Stages 2 and 3 rescale some
      sensors even in normal operation (rule 10 takes 5 % off every
      cleanliness reading whose water-jet pressure is normal), so Stage 1
      values are divided by the mean factor the enabled stages apply in
      normal operation. Normal readings then stay centred on their normal
      ranges whichever stages are on.
    - The operating points are drawn through a Gaussian copula whose
      correlations, :data:`COUPLINGS`, couple vibration with drive load (a
      shared line load), spray pressure with coating viscosity and ambient
      humidity with curing time.
    - Readings are clipped to their physical range (no negative value, no
      percentage above 100).
    - Rule 8 caps spray pressure at 3.0 bar, the top of its normal range, so
      the patches class's high spray pressure reads 3.0 bar.

    Parameters
    ----------
    class_column : str, default="defect_class"
        Column of X holding the defect class, 0 (none) to 4 (pitted).
    intensity_column : str, default="intensity"
        Column of X holding the defect intensity in ``[0, 1]``
        (:class:`IntensityScorer`'s ``intensity``); ignored for class 0.
    deviations : bool, default=True
        Stage 1 class profiles. ``False`` draws every row as normal
        operation (the readings then carry no class signal).
    interactions : bool, default=True
        Stage 2 rules.
    drift : bool, default=True
        Stage 3 drift.
    couplings : dict or None, default=None
        ``{(sensor_a, sensor_b): correlation}`` of the latent factors;
        ``None`` uses :data:`COUPLINGS`, ``{}`` draws the sensors
        independently.
    random_state : int, RandomState instance or None, default=None
        Seeds the draws. With an int, ``transform`` returns the same readings
        for the same input at every call.

    Attributes
    ----------
    attribution_prior_ : DataFrame of shape (5, 10)
        Ground-truth attribution of each class (index 0-4) over the sensors
        (columns), each row summing to 1: how far the generator pushes each
        sensor from normal for that class. Each class is simulated on the
        same random draws as normal operation, with intensities at the
        quantiles of the paper's intensity distribution (mean 0.347, sd
        0.198); the mean absolute difference of each reading, divided by the
        width of its normal range, is normalised to sum to 1. Class 0 is
        uniform. It depends on the stages and couplings, not on X.
    n_features_in_ : int
        Always 2 (class and intensity).
    feature_names_in_ : ndarray of shape (2,)
        ``[class_column, intensity_column]`` when X is a DataFrame.

    Examples
    --------
    >>> import pandas as pd
    >>> from sksteel.preprocessing import ProcessParameterSynthesizer
    >>> rows = pd.DataFrame({"defect_class": [0, 1, 2, 3, 4],
    ...                      "intensity": [0.0, 0.3, 0.3, 0.6, 0.5]})
    >>> synth = ProcessParameterSynthesizer(random_state=0)
    >>> synth.set_output(transform="pandas")
    ProcessParameterSynthesizer(random_state=0)
    >>> readings = synth.fit_transform(rows)
    >>> readings.shape
    (5, 10)
    >>> readings["curing_temperature"].round(1).tolist()
    [199.4, 154.6, 199.8, 187.3, 186.1]
    >>> synth.attribution_prior_.idxmax(axis=1).tolist()[1:3]
    ['curing_temperature', 'surface_cleanliness']
    """

    _parameter_constraints: dict = {
        "class_column": [str],
        "intensity_column": [str],
        "deviations": ["boolean"],
        "interactions": ["boolean"],
        "drift": ["boolean"],
        "couplings": [dict, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        class_column="defect_class",
        intensity_column="intensity",
        deviations=True,
        interactions=True,
        drift=True,
        couplings=None,
        random_state=None,
    ):
        self.class_column = class_column
        self.intensity_column = intensity_column
        self.deviations = deviations
        self.interactions = interactions
        self.drift = drift
        self.couplings = couplings
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check X and derive the attribution prior of the generator.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, 2)
            A DataFrame with the class and intensity columns (other columns
            are ignored), or an array of two columns: class, intensity.
        y : None
            Ignored.

        Returns
        -------
        self : ProcessParameterSynthesizer
            The fitted synthesizer.
        """
        self._check_input(X, reset=True)
        self.attribution_prior_ = _attribution_prior(self._settings())
        return self

    def transform(self, X):
        """Generate the sensor readings of each row.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, 2)
            Class and intensity of each sample, as in :meth:`fit`.

        Returns
        -------
        readings : ndarray of shape (n_samples, 10)
            The ten sensors, in :data:`sksteel.datasets.SENSORS` order.
        """
        check_is_fitted(self)
        classes, intensity = self._check_input(X, reset=False)
        rng = check_random_state(self.random_state)
        return _simulate(classes, intensity, rng, **self._settings())

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns: the ten sensors.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Checked against the names seen in ``fit``; otherwise unused.

        Returns
        -------
        feature_names_out : ndarray of str
            The sensor names, in table order.
        """
        check_is_fitted(self, "n_features_in_")
        _check_feature_names_in(self, input_features)
        return np.asarray(SENSOR_NAMES, dtype=object)

    def _settings(self):
        couplings = COUPLINGS if self.couplings is None else self.couplings
        bad = [
            key
            for key in couplings
            if not isinstance(key, tuple)
            or len(key) != 2
            or not set(key) <= set(SENSOR_NAMES)
        ]
        if bad:
            raise ValueError(
                f"`couplings` keys must be pairs of sensor names, e.g. "
                f"('vibration', 'drive_load'); got {bad!r} (unknown sensors or "
                f"not pairs). Sensor names: {list(SENSOR_NAMES)!r}."
            )
        return {
            "deviations": self.deviations,
            "interactions": self.interactions,
            "drift": self.drift,
            "copula": _copula_factor(couplings),
        }

    def _check_input(self, X, *, reset):
        """Class labels (int) and intensities (float) of X, checked."""
        columns = [self.class_column, self.intensity_column]
        if hasattr(X, "columns"):
            missing = [c for c in columns if c not in X.columns]
            if missing:
                raise ValueError(
                    f"ProcessParameterSynthesizer needs the columns {columns!r}; "
                    f"{missing!r} not found among {list(X.columns)!r}. Add them "
                    "(IntensityScorer computes `intensity`) or name yours with "
                    "`class_column` and `intensity_column`."
                )
            X = X[columns]
        X = validate_data(self, X, reset=reset, ensure_all_finite=False, dtype=float)
        if X.shape[1] != 2:
            raise ValueError(
                f"ProcessParameterSynthesizer takes two columns, defect class and "
                f"intensity; got an array of {X.shape[1]}. Pass a DataFrame with "
                f"the columns {columns!r}, or those two columns in that order."
            )
        labels, intensity = X[:, 0], X[:, 1]
        unknown = np.unique(labels[~np.isin(labels, np.arange(len(CLASS_NAMES)))])
        if unknown.size:
            raise ValueError(
                f"Unknown defect class label(s) {unknown[:5].tolist()!r}"
                f"{' ...' if unknown.size > 5 else ''} in "
                f"{self.class_column!r}; expected integers 0 to "
                f"{len(CLASS_NAMES) - 1} ({', '.join(CLASS_NAMES)}). Map your "
                "labels onto these classes."
            )
        bad = ~((intensity >= 0) & (intensity <= 1))
        if bad.any():
            raise ValueError(
                f"{self.intensity_column!r} must be finite and in [0, 1]; got "
                f"{bad.sum()} bad value(s), e.g. {intensity[bad][:3].tolist()!r} "
                f"at row(s) {np.flatnonzero(bad)[:3].tolist()!r}. Score every row "
                "with IntensityScorer (normalised intensity), or drop rows "
                "without a score."
            )
        return labels.astype(np.intp), intensity
