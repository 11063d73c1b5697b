"""Input checks shared by the transformers, the sampler and the estimators.

Sensor readings may be missing (NaN) but never infinite; every value must fit
in a float64. These helpers wrap :func:`sklearn.utils.validation.validate_data`
so that both problems surface as ValueErrors that name the columns involved.
"""

import numpy as np
from sklearn.utils.validation import validate_data

#: How many column names an error message lists.
_N_QUOTED = 5


def _validate(estimator, X="no_validation", y="no_validation", **check_params):
    """``validate_data``, with clear errors for a value too large for a float
    (numpy raises OverflowError for e.g. ``10**400`` in an object array) and
    for text that is not a number."""
    name = type(estimator).__name__
    try:
        return validate_data(estimator, X=X, y=y, **check_params)
    except OverflowError as exc:
        raise ValueError(
            f"{name} got a number too large for a float64 ({exc}); expected "
            f"values within +-{np.finfo(np.float64).max:.3g}. Check the input "
            "for corrupt or mis-scaled values."
        ) from exc
    except ValueError as exc:
        if not str(exc).startswith("could not convert"):
            raise
        columns = _text_columns(X)
        where = f" in the column(s) {columns!r}" if columns else ""
        raise ValueError(
            f"{name} needs numbers in X, but a value{where} is text that is not "
            f"one ({exc}). Convert those columns to numbers first (e.g. with "
            "`pd.to_numeric`); NaN marks a missing value."
        ) from exc


def _text_columns(X):
    """Names (DataFrame) or ``column <j>`` labels (array) of the columns of
    ``X`` holding text that is not a number, at most ``_N_QUOTED``."""
    if hasattr(X, "columns") and hasattr(X, "iloc"):
        labels = list(map(str, X.columns))
        columns = [X.iloc[:, j] for j in range(X.shape[1])]
    else:
        array = np.asarray(X, dtype=object)
        if array.ndim != 2:
            return []
        labels = [f"column {j}" for j in range(array.shape[1])]
        columns = list(array.T)
    found = []
    for label, values in zip(labels, columns):
        if not _all_numbers(values):
            found.append(label)
        if len(found) == _N_QUOTED:
            break
    return found


def _all_numbers(values):
    """Whether every entry of a column converts to a float."""
    try:
        np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return False
    return True


def _column_names(estimator, columns):
    """Names of the column indices ``columns``: the fitted feature names when
    there are some, else ``column <j>``."""
    names = getattr(estimator, "feature_names_in_", None)
    return [str(names[j]) if names is not None else f"column {j}" for j in columns]


def _refuse_infinity(estimator, X):
    """Raise a ValueError naming the columns of ``X`` that hold ``+-inf``."""
    infinite = np.isinf(X)
    if not infinite.any():
        return
    columns = np.flatnonzero(infinite.any(axis=0))
    row = int(np.flatnonzero(infinite[:, columns[0]])[0])
    names = _column_names(estimator, columns[:_N_QUOTED])
    more = f" and {columns.size - _N_QUOTED} more" if columns.size > _N_QUOTED else ""
    raise ValueError(
        f"{type(estimator).__name__} reads NaN as a missing reading, but X "
        f"contains infinity ({int(infinite.sum())} value(s)) in the column(s) "
        f"{names!r}{more}, e.g. {float(X[row, columns[0]])!r} at row {row}. "
        "Sensor readings must be finite numbers or NaN: replace inf with NaN "
        "where the reading is missing, e.g. `X.replace([np.inf, -np.inf], "
        "np.nan)`."
    )


def _validate_readings(estimator, X, y="no_validation", **check_params):
    """``validate_data`` for sensor readings: NaN is kept (a missing
    reading), ``inf`` is refused with a message naming its columns."""
    checked = _validate(estimator, X, y, ensure_all_finite=False, **check_params)
    no_y = isinstance(y, str) and y == "no_validation"
    _refuse_infinity(estimator, checked if no_y else checked[0])
    return checked


def _refuse_repeated_columns(estimator, X, columns, error=ValueError):
    """Raise ``error`` if the DataFrame ``X`` has several columns of one of the
    names in ``columns``, which the estimator reads by name."""
    repeated = [c for c in columns if list(X.columns).count(c) > 1]
    if repeated:
        raise error(
            f"{type(estimator).__name__} reads the columns {list(columns)!r} by "
            f"name, but X has several columns named {repeated!r}. Keep one "
            "column of each name."
        )
