"""Synthetic process-sensor readings from defect class and intensity (paper
2.1.2 and A.2)."""

from numbers import Real
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .._schema import CLASS_NAMES, SENSOR_NAMES, SENSORS
from .._sklearn_compat import _check_feature_names_in, _fit_context
from .._state import _PlainStateMixin
from .._validation import _refuse_repeated_columns, _validate
from ._intensity import intensity_beta

__all__ = [
    "CLASS_PROFILES",
    "COUPLINGS",
    "DRIFT",
    "EXPRESSION",
    "EXPRESSION_COUPLING",
    "ProcessParameterSynthesizer",
]

#: Stage 1 operating points of each defect class, in the units a sensor reads:
#: ``sensor: (low, high, shift)``. ``mu_c`` is drawn from ``[low, high]``;
#: ``shift = sigma_c - mu_normal`` is how far the class's deviated operating
#: point lies from normal, so a reading moves by ``intensity * shift``. A
#: sensor given two triples is off-range on either side: each sample of the
#: class takes the first or the second with equal probability, the same one
#: for all of the class's two-sided sensors. Sensors a class does not list
#: run in their normal range. Paper 2.1.2 gives the crazing curing-temperature
#: and vibration ranges and the inclusion cleanliness and water-jet pressure
#: ranges; every other number is sksteel's, chosen after the paper's
#: narrative (and its attributions, section 4.2) and calibrated against its
#: data set statistics (A.3-A.5); see ``docs/dataset.md``. The defect
#: expression (:data:`EXPRESSION`) is sksteel's too: these ranges are the
#: operating points of a fully expressed defect, and a sample's ``mu_c`` lies
#: between a normal draw and its class draw. So are the two sides of patches
#: (a coating too thick or too thin).
CLASS_PROFILES = {
    1: {  # crazing: thermal stress
        "curing_temperature": (140.0, 175.0, -30.0),
        "ambient_humidity": (56.0, 66.0, 10.0),
        "vibration": (3.0, 6.0, 2.0),
        "surface_cleanliness": (84.0, 92.0, 0.0),
    },
    2: {  # inclusion: contamination
        "surface_cleanliness": (55.0, 69.0, -10.0),
        "water_jet_pressure": (140.0, 170.0, -20.0),
    },
    3: {  # patches: coating irregularities, too thick or too thin
        "spray_pressure": ((3.1, 3.5, 0.3), (1.0, 1.6, -0.3)),
        "coating_viscosity": ((120.0, 130.0, 20.0), (68.0, 78.0, -10.0)),
        "surface_cleanliness": (87.0, 94.0, 0.0),
    },
    4: {  # pitted: corrosion
        "ambient_humidity": (76.0, 86.0, 15.0),
        "surface_cleanliness": (67.0, 77.0, -10.0),
    },
}

#: Default defect expression, sksteel's choice (the paper has none): the
#: ``(a, b)`` of the Beta distribution of ``e``, the degree to which a
#: defect's process deviation shows in the sensors (0 hidden: its operating
#: point is a normal one; 1 fully expressed: the paper's class operating
#: point). Real defects do not always show in the process sensors; the
#: Beta's mass near 0 makes some of them indistinguishable from normal
#: operation.
EXPRESSION = (0.7, 0.4)

#: Correlation between the expression and the intensity, on the normal-score
#: scale (a Gaussian copula; the intensity's score is taken under the paper's
#: intensity distribution, Beta(1.66, 3.12)). Positive: mild defects tend to
#: come from operating points barely off normal.
EXPRESSION_COUPLING = 0.35

#: Correlations of the latent Gaussian factors that draw the operating points
#: (a Gaussian copula: each reading keeps its uniform range, pairs become
#: correlated). sksteel's choice, not the paper's: a shared line load drives
#: vibration and drive load, which the paper reports correlated (r = 0.34,
#: A.4) without saying how. Its other correlations, spray pressure with
#: coating viscosity and ambient humidity with curing time, come out of the
#: patches profile (both sensors off-range on the same side) and of rule 9
#: acting on the pitted profile, with no coupling.
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

#: Normal-score clipping of the intensity: intensities of exactly 0 or 1 get
#: a finite score.
_SCORE_EPS = 1e-9

_COLUMN = {name: i for i, name in enumerate(SENSOR_NAMES)}
_LOW = SENSORS["low"].to_numpy()
_HIGH = SENSORS["high"].to_numpy()
_MID = (_LOW + _HIGH) / 2.0
_PERCENT = (SENSORS["unit"] == "%").to_numpy()


def _sides(entry):
    """The two ``(low, high, shift)`` triples of a profile entry (a one-sided
    entry twice)."""
    return entry if isinstance(entry[0], tuple) else (entry, entry)


def _profile_table():
    """``(low, high, shift)`` arrays of shape (n_classes, 2, n_sensors): the
    class operating points on either side."""
    shape = (len(CLASS_NAMES), 2, len(SENSOR_NAMES))
    low = np.broadcast_to(_LOW, shape).copy()
    high = np.broadcast_to(_HIGH, shape).copy()
    shift = np.zeros(shape)
    for c, profile in CLASS_PROFILES.items():
        for sensor, entry in profile.items():
            j = _COLUMN[sensor]
            for side, (low_c, high_c, shift_c) in enumerate(_sides(entry)):
                low[c, side, j], high[c, side, j] = low_c, high_c
                shift[c, side, j] = shift_c
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


def _expression(intensity, draws, expression):
    """Defect expression ``e`` of each row, in [0, 1].

    ``None``: 1 (every defect fully expressed, the paper's Stage 1). Otherwise
    the Beta(a, b) quantile of a Gaussian-copula level that correlates
    :data:`EXPRESSION_COUPLING` with the intensity's normal score.
    """
    if expression is None:
        return np.ones(len(intensity))
    level = np.clip(intensity_beta().cdf(intensity), _SCORE_EPS, 1.0 - _SCORE_EPS)
    rho = EXPRESSION_COUPLING
    latent = rho * stats.norm.ppf(level) + np.sqrt(1.0 - rho**2) * draws
    return stats.beta(*expression).ppf(stats.norm.cdf(latent))


class _Draws(NamedTuple):
    """The random numbers behind the readings of ``n`` rows."""

    position: np.ndarray  # (n, n_sensors) in (0, 1), copula-correlated
    noise: np.ndarray  # (n, n_sensors) standard normal
    drift: np.ndarray  # (n, len(DRIFT)) uniform
    expression: np.ndarray  # (n,) standard normal
    side: np.ndarray  # (n,) 0 or 1, the side of two-sided sensors


def _draw(rng, n, copula):
    """Every random number of ``n`` rows, in a fixed order. They do not
    depend on the stages switched on, so switching one off changes nothing
    else."""
    latent = rng.standard_normal((n, len(SENSOR_NAMES))) @ copula.T
    return _Draws(
        position=stats.norm.cdf(latent),
        noise=rng.standard_normal((n, len(SENSOR_NAMES))),
        drift=rng.random_sample((n, len(DRIFT))),
        expression=rng.standard_normal(n),
        side=(rng.random_sample(n) < 0.5).astype(np.intp),
    )


def _simulate(
    classes, intensity, rng, *, deviations, expression, interactions, drift, copula
):
    """The ten readings of each row: Stages 1, 2 and 3 of paper A.2."""
    draws = _draw(rng, len(classes), copula)
    low, high, shift = (table[classes, draws.side] for table in _profile_table())
    if not deviations:
        low, high, shift = _LOW, _HIGH, np.zeros(len(SENSOR_NAMES))
    # Stage 1 (eq. 7): mu_c + s * (sigma_c - mu_normal) + eps, in reading
    # units, then taken upstream of Stages 2-3 by the normal-operation gain.
    # mu_c lies between a normal draw (e = 0) and the class draw (e = 1),
    # both at the same position in their ranges.
    normal_point = _LOW + draws.position * (_HIGH - _LOW)
    class_point = low + draws.position * (high - low)
    e = _expression(intensity, draws.expression, expression)[:, None]
    mu = normal_point + e * (class_point - normal_point)
    values = (
        mu + intensity[:, None] * shift + NOISE * np.abs(shift) * draws.noise
    ) / _normal_gain(interactions, drift)
    if interactions:  # Stage 2 (eqs. 8-10)
        for rule in _RULES:
            rule.apply(values)
    if drift:  # Stage 3 (eq. 11)
        for j, (sensor, (a, b)) in enumerate(DRIFT.items()):
            values[:, _COLUMN[sensor]] *= a + (b - a) * draws.drift[:, j]
    # Physical bounds: no negative reading, no percentage above 100.
    return np.clip(values, 0.0, np.where(_PERCENT, 100.0, np.inf))


def _attribution_prior(settings):
    """How far each class pushes each sensor from normal, as a distribution.

    Every class is simulated on the same draws as normal operation (common
    random numbers: positions, noise, drift, expression and side), with
    intensities at the quantiles of the paper's intensity distribution; the
    mean absolute difference of each reading, divided by the width of its
    normal range, is normalised to sum to 1.
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


class ProcessParameterSynthesizer(TransformerMixin, _PlainStateMixin, BaseEstimator):
    """Generate the ten process-sensor readings from defect class and intensity.

    Implements the paper's three-stage generator (A.2):

    1. **Base values** (eq. 7). ``p = mu_c + s * (sigma_c - mu_normal) +
       eps`` with ``eps ~ N(0, 0.02 * |sigma_c - mu_normal|)``: ``mu_c`` is
       the sample's operating point, ``sigma_c - mu_normal`` the shift of
       the class's deviated operating point, ``s`` the intensity.
       Non-defective rows, and sensors a class leaves alone, are drawn from
       the normal range (``sigma_c = mu_normal``, so no shift and no noise).
       The class ranges and shifts are in :data:`CLASS_PROFILES`.
    2. **Interactions** (eqs. 8-10, as written):
       ``spray_pressure = min(spray_pressure * (1 + 0.1 [viscosity > 120]),
       3.0)``; ``curing_time = max(curing_time * (0.9 + 0.1 [humidity >
       70]), 8.0)``; ``surface_cleanliness = max(surface_cleanliness * (0.95
       + 0.05 [water_jet_pressure < 160]), 60.0)``.
    3. **Drift** (eq. 11): water-jet pressure times U(0.95, 1.0), vibration
       times U(1.0, 1.15), surface cleanliness times U(0.95, 1.0).

    Choices of sksteel's, documented in ``docs/dataset.md``:

    - **Defect expression.** A surface defect does not always show in the
      process sensors. Each defective sample draws an expression ``e`` in
      ``[0, 1]`` from a Beta distribution (``expression``), positively
      related to its intensity (:data:`EXPRESSION_COUPLING`), and its
      operating point is ``mu_c = (1 - e) * mu_normal_draw + e *
      mu_class_draw``, both draws at the same position in their ranges; the
      intensity shift and the noise follow as the paper writes. At ``e = 1``
      this is the paper's Stage 1; samples with a low ``e`` overlap normal
      operation, an error no model can remove. ``expression=None`` gives
      every defect ``e = 1``.
    - **Two-sided signatures.** A sensor a class drives off-range on either
      side (patches: spray pressure and coating viscosity both too high or
      both too low) has two class ranges; each sample takes one side, the
      same for all of its class's two-sided sensors.
    - The normal ranges of :data:`sksteel.datasets.SENSORS` and the class
      ranges are ranges of the *final* readings. Stages 2 and 3 rescale some
      sensors even in normal operation (rule 10 takes 5 % off every
      cleanliness reading whose water-jet pressure is normal), so Stage 1
      values are divided by the mean factor the enabled stages apply in
      normal operation. Normal readings then stay centred on their normal
      ranges whichever stages are on.
    - The operating points are drawn through a Gaussian copula whose
      correlations, :data:`COUPLINGS`, couple vibration with drive load (a
      shared line load).
    - Readings are clipped to their physical range (no negative value, no
      percentage above 100).
    - Rule 8 caps spray pressure at 3.0 bar, the top of its normal range, so
      the high spray pressure of patches reads 3.0 bar.

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
    expression : tuple of two floats or None, default=(0.7, 0.4)
        ``(a, b)`` of the Beta distribution of the defect expression ``e``
        (:data:`EXPRESSION`; mean ``a / (a + b)``). ``a < 1`` piles defects
        up near ``e = 0`` (invisible in the sensors), ``b < 1`` near 1
        (fully expressed). ``None``: every defect fully expressed, the
        paper's Stage 1 as written.
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
        same random draws as normal operation (expression and side
        included), with intensities at the quantiles of the paper's
        intensity distribution (mean 0.347, sd 0.198); the mean absolute
        difference of each reading, divided by the width of its normal
        range, is normalised to sum to 1. Class 0 is uniform. It depends on
        the stages, the expression and the couplings, not on X.
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
    [199.4, 165.6, 199.8, 187.3, 186.1]
    >>> synth.attribution_prior_.loc[3].nlargest(2).index.tolist()
    ['spray_pressure', 'coating_viscosity']
    """

    _parameter_constraints: dict = {
        "class_column": [str],
        "intensity_column": [str],
        "deviations": ["boolean"],
        "expression": [tuple, None],
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
        expression=EXPRESSION,
        interactions=True,
        drift=True,
        couplings=None,
        random_state=None,
    ):
        self.class_column = class_column
        self.intensity_column = intensity_column
        self.deviations = deviations
        self.expression = expression
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
        expression = self.expression
        if expression is not None and not (
            len(expression) == 2
            and all(isinstance(v, Real) and 0 < v < np.inf for v in expression)
        ):
            raise ValueError(
                "`expression` must be the two positive parameters (a, b) of a "
                f"Beta distribution, e.g. {EXPRESSION!r}, or None for fully "
                f"expressed defects; got {expression!r}."
            )
        return {
            "deviations": self.deviations,
            "expression": expression,
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
            _refuse_repeated_columns(self, X, columns)
            X = X[columns]
        X = _validate(self, X, reset=reset, ensure_all_finite=False, dtype=float)
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
