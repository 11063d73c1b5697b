"""Resolve SteelNetClassifier's data-dependent parameters against a table.

The estimator accepts any numeric table. These helpers decide, column by
column, what the network's physics branch and modality dropout use: the
sensor table of :mod:`sksteel._schema` for the ten sensor columns, and
neutral data-driven defaults for any other column.
"""

import numpy as np
import pandas as pd

from .._schema import CLASS_NAMES, SENSOR_NAMES, SENSORS, failure_rates

__all__ = [
    "STANDARDISED_BOUND",
    "align_attribution_prior",
    "column_names",
    "nan_standardisation",
    "no_defect_classes",
    "resolve_missing_rates",
    "resolve_operating_ranges",
    "standardise",
    "unstandardise",
]

#: Largest distance from the training mean, in standard deviations, that a
#: standardised reading keeps. A reading of 1e30 would overflow float32 (the
#: network's precision) or the network's products and give NaN outputs; at
#: most 1e6 standard deviations every output stays finite, and a reading
#: that far out is an extreme reading whatever its exact value.
STANDARDISED_BOUND = 1e6


def column_names(feature_names_in, n_features):
    """Names used for the columns of outputs and to look sensors up.

    DataFrame columns when fitted on a DataFrame; the sensor table order for
    an array with exactly ten columns (the ten sensors); ``x0, x1, ...``
    otherwise.
    """
    if feature_names_in is not None:
        return [str(name) for name in feature_names_in]
    if n_features == len(SENSOR_NAMES):
        return list(SENSOR_NAMES)
    return [f"x{i}" for i in range(n_features)]


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


def resolve_operating_ranges(operating_ranges, names, mean, scale):
    """Normal ``(low, high)`` per column, in the columns' own units.

    Default per column: the sensor table's range for a sensor name, else
    the training mean +- one standard deviation. ``operating_ranges`` may be
    an array of shape (n_features, 2) or a dict ``name -> (low, high)``
    overriding the default for some columns.
    """
    ranges = np.column_stack([mean - scale, mean + scale])
    for i, name in enumerate(names):
        if name in SENSORS.index:
            ranges[i] = SENSORS.loc[name, ["low", "high"]].to_numpy(dtype=float)
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


def resolve_missing_rates(p_base, names):
    """Per-column probability of dropping a reading during training.

    Sensor columns get the failure table scaled to mean ``p_base``
    (:func:`sksteel._schema.failure_rates`); other columns get ``p_base``.
    """
    rates = failure_rates(p_base)
    return np.array([rates.get(name, p_base) for name in names], dtype=float)


def no_defect_classes(classes):
    """Indices of the no-defect class among ``classes`` (label 0 or 'none')."""
    return [i for i, label in enumerate(classes) if label in (0, CLASS_NAMES[0])]


def align_attribution_prior(prior, classes, names):
    """The prior as an array (n_classes, n_features), rows summing to 1.

    A DataFrame is aligned by its index (class labels) and, when its
    columns are names of X's columns, by its columns; an array must already
    be in ``classes`` order and column order.
    """
    if isinstance(prior, pd.DataFrame):
        missing = [label for label in classes if label not in prior.index]
        if missing:
            raise ValueError(
                f"`attribution_prior` has no row for the classes {missing!r}; "
                f"its index is {list(prior.index)!r}. Index it by the class "
                "labels, or pass `.to_numpy()` with rows in `classes_` order."
            )
        prior = prior.loc[list(classes)]
        if set(names) <= set(map(str, prior.columns)):
            prior = prior.set_axis(list(map(str, prior.columns)), axis=1)[names]
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
