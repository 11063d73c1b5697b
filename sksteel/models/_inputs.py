"""Resolve SteelNetClassifier's data-dependent parameters against a table.

The estimator accepts any numeric table. These helpers decide, column by
column, what the network's physics branch and modality dropout use: the
sensor table of :mod:`sksteel._schema` for the ten sensor columns, and
neutral data-driven defaults for any other column.
"""

import warnings

import numpy as np
import pandas as pd

from .._schema import CLASS_NAMES
from .._sensors import column_names, match_names, resolve_failure_rates
from ..exceptions import MissingColumnsWarning, NoDefectClassWarning

__all__ = [
    "STANDARDISED_BOUND",
    "align_attribution_prior",
    "align_columns",
    "column_names",
    "nan_standardisation",
    "no_defect_classes",
    "resolve_failure_rates",
    "resolve_operating_ranges",
    "sample_weight_target",
    "standardise",
    "unstandardise",
]

#: Where to go when X holds the input of the steps before the estimator.
PIPELINE_HINT = (
    "If X is the input of a pipeline whose last step is this estimator, call "
    "the pipeline's own method instead: build it with "
    "`sksteel.pipeline.make_pipeline(...)`, whose `explain` and "
    "`predict_intensity` apply the preceding steps first."
)

#: Largest distance from the training mean, in standard deviations, that a
#: standardised reading keeps. A reading of 1e30 would overflow float32 (the
#: network's precision) or the network's products and give NaN outputs; at
#: most 1e6 standard deviations every output stays finite, and a reading
#: that far out is an extreme reading whatever its exact value.
STANDARDISED_BOUND = 1e6


def nan_standardisation(X):
    """Per-column mean and standard deviation ignoring NaN.

    A column without any reading gets mean 0; a constant (or empty) column
    gets scale 1, so standardising never divides by zero. Each column is
    first divided by a power of two near its largest magnitude, which is
    exact in floating point and keeps huge readings (1e300) from
    overflowing the sum of squares.
    """
    observed = ~np.isnan(X)
    counts = observed.sum(axis=0)
    magnitude = np.where(observed, np.abs(X), 0.0).max(axis=0, initial=0.0)
    # 2**(e - 1) with magnitude < 2**e: finite up to float64's largest value
    power = np.ldexp(1.0, np.frexp(magnitude)[1] - 1)
    filled = np.where(observed, X / power, 0.0)
    mean = filled.sum(axis=0) / np.maximum(counts, 1)
    centred = np.where(observed, X / power - mean, 0.0)
    std = np.sqrt((centred**2).sum(axis=0) / np.maximum(counts, 1))
    mean, std = mean * power, std * power
    scale = np.where(std > 0, std, 1.0)
    return mean, scale


def standardise(X, mean, scale):
    """``(X - mean) / scale`` limited to +-``STANDARDISED_BOUND``; NaN stays."""
    with np.errstate(over="ignore"):
        standardised = (X - mean) / scale
    return np.clip(standardised, -STANDARDISED_BOUND, STANDARDISED_BOUND)


def unstandardise(standardised, mean, scale):
    """``standardised * scale + mean``, kept finite near float64's limits."""
    with np.errstate(over="ignore"):
        values = standardised * scale + mean
    largest = np.finfo(np.float64).max
    return np.clip(values, -largest, largest)


def resolve_operating_ranges(operating_ranges, names, mean, scale, sensor_table):
    """Normal ``(low, high)`` per column, in the columns' own units.

    Default per column: the sensor table's range for a sensor column (the
    rows of ``sensor_table``, see :func:`sksteel._sensors.match_sensor_table`),
    else the training mean +- one standard deviation. ``operating_ranges``
    may be an array of shape (n_features, 2) or a dict ``name -> (low, high)``
    overriding the default for some columns.
    """
    ranges = np.column_stack([mean - scale, mean + scale])
    if sensor_table is not None:
        position = {name: i for i, name in enumerate(names)}
        rows = [position[name] for name in sensor_table.index]
        ranges[rows] = sensor_table[["low", "high"]].to_numpy(dtype=float)
    if isinstance(operating_ranges, dict):
        unknown = sorted(set(operating_ranges) - set(names))
        if unknown:
            raise ValueError(
                f"`operating_ranges` names columns that are not in X: {unknown!r}; "
                f"the columns are {names!r}."
            )
        for name, low_high in operating_ranges.items():
            ranges[names.index(name)] = np.asarray(low_high, dtype=float)
    elif operating_ranges is not None:
        ranges = np.asarray(operating_ranges, dtype=float)
        if ranges.shape != (len(names), 2):
            raise ValueError(
                "`operating_ranges` must have shape (n_features, 2) = "
                f"{(len(names), 2)!r}; got shape {ranges.shape!r}. Pass one "
                "(low, high) row per column, or a dict name -> (low, high)."
            )
    if not np.all(np.isfinite(ranges)) or np.any(ranges[:, 0] > ranges[:, 1]):
        raise ValueError(
            "`operating_ranges` must hold finite (low, high) pairs with "
            f"low <= high; got {ranges.tolist()!r}."
        )
    return ranges


def no_defect_classes(classes, who=None):
    """Indices of the no-defect class among ``classes``.

    The label ``0`` (also as the text ``"0"``) or ``"none"`` (any case), the
    first name of :data:`sksteel._schema.CLASS_NAMES`. With ``who`` (the
    caller's name), finding none warns that every row enters the intensity
    loss, so that a differently named no-defect class is not missed
    silently.
    """
    found = [i for i, label in enumerate(classes) if _is_no_defect(label)]
    if not found and who is not None:
        warnings.warn(
            f"{who} found no no-defect class among the labels "
            f"{np.asarray(classes).tolist()!r} (it looks for 0, '0' or 'none'), so the "
            "intensity of every row enters the intensity loss. Relabel the "
            "no-defect class as 0 or 'none', or give it NaN intensities.",
            NoDefectClassWarning,
            stacklevel=4,
        )
    return found


def _is_no_defect(label):
    if isinstance(label, str):
        return label.strip().lower() in ("0", CLASS_NAMES[0])
    try:
        return bool(label == 0)
    except (TypeError, ValueError):
        return False


def _prior_by_name(prior, names):
    """The columns of the DataFrame ``prior`` matched to ``names`` by name."""
    matches = match_names(names, prior.columns)
    unmatched = [name for name in names if name not in matches]
    unused = sorted(set(prior.columns) - set(matches.values()))
    if unmatched or unused:
        raise ValueError(
            "`attribution_prior` is matched to the columns of X by name, but "
            f"the columns {unmatched!r} of X have no prior column and the prior "
            f"columns {unused!r} match no column of X (X has {names!r}). Name "
            "the prior's columns after X's, or pass `.to_numpy()` in X's order."
        )
    return prior[[matches[name] for name in names]]


def sample_weight_target(sample_weight, n_samples):
    """``sample_weight`` checked: shape (n_samples,), finite, non-negative,
    with a positive sum; float64."""
    weight = np.asarray(sample_weight, dtype=np.float64)
    if weight.shape != (n_samples,):
        raise ValueError(
            f"`sample_weight` must have shape (n_samples,) = {(n_samples,)!r}; "
            f"got shape {weight.shape!r}."
        )
    if not np.all(np.isfinite(weight)) or np.any(weight < 0):
        raise ValueError(
            "`sample_weight` must hold finite, non-negative numbers; got "
            f"{int((~np.isfinite(weight)).sum())} non-finite and "
            f"{int((weight < 0).sum())} negative value(s)."
        )
    if not weight.any():
        raise ValueError(
            "`sample_weight` is zero for every sample; at least one weight "
            "must be positive."
        )
    return weight


def align_columns(estimator, X, *, missing_columns, extra_columns):
    """``X`` with the training columns, in the training order.

    A DataFrame's columns are matched by name to ``feature_names_in_``:
    any order is accepted; a training column that is absent becomes a
    column of NaN (a sensor failed on every row; one warning per call) when
    ``missing_columns="nan"``, an error when ``"error"``; a column not seen
    in fit is an error unless ``extra_columns="ignore"``. Arrays, and
    estimators fitted without column names, are returned unchanged.
    """
    names = getattr(estimator, "feature_names_in_", None)
    if names is None or not isinstance(X, pd.DataFrame):
        return X
    names = list(names)
    if list(X.columns) == names:
        return X
    who = type(estimator).__name__
    if X.columns.has_duplicates:
        raise ValueError(
            f"{who} matches columns by name, but X has several columns named "
            f"{sorted(set(X.columns[X.columns.duplicated()].map(str)))!r}. "
            "Keep one column of each name."
        )
    known = set(names)
    extra = [column for column in X.columns if column not in known]
    if len(extra) == len(X.columns):
        raise ValueError(
            f"{who} cannot interpret X: none of its columns {list(X.columns)!r} "
            f"is a column seen in fit ({names!r}). " + PIPELINE_HINT
        )
    if extra and extra_columns == "error":
        raise ValueError(
            f"{who} was fitted on the columns {names!r}; X also has "
            f"{extra!r}. Drop them, or set `extra_columns='ignore'`. "
            + PIPELINE_HINT
        )
    absent = [name for name in names if name not in set(X.columns)]
    if absent and missing_columns == "error":
        raise ValueError(
            f"{who} was fitted on the columns {names!r}; X lacks {absent!r}. Add "
            "them (NaN where a reading is missing), or set "
            "`missing_columns='nan'` to read them as failed sensors."
        )
    if absent:
        warnings.warn(
            f"X lacks the training column(s) {absent!r}; {who} reads them as "
            "failed sensors (NaN) on every row.",
            MissingColumnsWarning,
            stacklevel=3,
        )
    return X.reindex(columns=names)


def align_attribution_prior(prior, classes, names):
    """The prior as an array (n_classes, n_features), rows summing to 1.

    A DataFrame is aligned by its index (class labels) and, when its
    columns are names, by its columns: each column of X takes the prior
    column of its name, or of its name after an unambiguous prefix
    (``remainder__vibration`` takes ``vibration``). A Series indexed by
    names is the same prior for every class. An array must already be in
    ``classes`` order and column order.
    """
    if isinstance(prior, pd.Series):
        prior = pd.DataFrame([prior.to_numpy()] * len(classes), index=list(classes),
                             columns=prior.index)
    if isinstance(prior, pd.DataFrame):
        missing = [label for label in classes if label not in prior.index]
        if missing:
            raise ValueError(
                f"`attribution_prior` has no row for the classes {missing!r}; "
                f"its index is {list(prior.index)!r}. Index it by the class "
                "labels, or pass `.to_numpy()` with rows in `classes_` order."
            )
        prior = prior.loc[list(classes)]
        if all(isinstance(column, str) for column in prior.columns):
            prior = _prior_by_name(prior, names)
    prior = np.asarray(prior, dtype=float)
    expected = (len(classes), len(names))
    if prior.shape != expected:
        raise ValueError(
            f"`attribution_prior` must have shape (n_classes, n_features) = "
            f"{expected!r}; got shape {prior.shape!r}."
        )
    row_sums = prior.sum(axis=1)
    if not np.all(np.isfinite(prior)) or np.any(prior < 0) or np.any(row_sums <= 0):
        raise ValueError(
            "`attribution_prior` must be finite and non-negative with a positive "
            "sum in every row; got row sums "
            f"{np.round(row_sums, 4).tolist()!r}."
        )
    return prior / row_sums[:, None]
