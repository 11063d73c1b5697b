"""Which columns are sensors, and how often each one fails.

One vocabulary for the per-column failure rates of
:class:`~sksteel.preprocessing.SensorFailure`,
:class:`~sksteel.sampling.ModalityDropout` and
:class:`~sksteel.models.SteelNetClassifier`, and one resolver behind it:

- ``sensors`` (``"auto"``, ``"steel"``, a user table or None) decides which
  columns are sensors of a table with ``low``, ``high`` and
  ``failure_probability`` per sensor;
- ``failure_rates`` (``"table"``, a float, a dict by column or an array;
  ``"auto"`` for SteelNet's training dropout) and ``p_base`` give one
  probability per column.

The same arguments give the same rates in every object; the public face is
:func:`failure_rates`. This module imports only :mod:`sksteel._schema`.
"""

from numbers import Real

import numpy as np
import pandas as pd

from ._schema import SENSOR_NAMES, SENSORS

__all__ = [
    "AUTO_FAILURE_RATES_CONSTRAINT",
    "FAILURE_RATES_CONSTRAINT",
    "NO_TABLE_AUTO_RATE",
    "SENSORS_CONSTRAINT",
    "SENSOR_TABLE_COLUMNS",
    "column_names",
    "drop_readings",
    "failure_rates",
    "match_names",
    "match_sensor_table",
    "resolve_failure_rates",
]

#: Columns a user sensor table must hold (indexed by sensor name).
SENSOR_TABLE_COLUMNS = ("low", "high", "failure_probability")

#: What ``failure_rates="auto"`` gives every column when no sensor table
#: applies: no modality dropout (``benchmarks/bench_learners.py
#: --dropout-check`` measured it against ``p_base`` and 0.05 on the real and
#: scikit-learn tables).
NO_TABLE_AUTO_RATE = 0.0

#: Separator of the prefixes scikit-learn's ``ColumnTransformer`` and
#: ``FeatureUnion`` put before the names they output (``remainder__x``).
_PREFIX_SEPARATOR = "__"


def _constraints():
    # imported lazily so that importing this module stays cheap
    from ._sklearn_compat import Interval, StrOptions

    rates = [
        StrOptions({"table"}),
        Interval(Real, 0, 1, closed="both"),
        dict,
        "array-like",
    ]
    auto = [StrOptions({"table", "auto"}), *rates[1:]]
    return rates, auto, [StrOptions({"auto", "steel"}), pd.DataFrame, None]


#: ``_parameter_constraints`` entries of ``failure_rates`` (with ``"auto"``
#: too, for SteelNet's training dropout) and ``sensors``.
FAILURE_RATES_CONSTRAINT, AUTO_FAILURE_RATES_CONSTRAINT, SENSORS_CONSTRAINT = (
    _constraints()
)


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


def drop_readings(X, rates, rng):
    """A float copy of ``X`` whose entry ``(i, j)`` is NaN with probability
    ``rates[j]``, independently (one uniform draw per entry from ``rng``)."""
    X = np.array(X, dtype=X.dtype if X.dtype.kind == "f" else np.float64)
    X[rng.random_sample(X.shape) < rates] = np.nan
    return X


def _full_table(sensors, who):
    """The whole sensor table ``sensors`` stands for, checked; None for None."""
    if sensors is None:
        return None
    if isinstance(sensors, str):
        return SENSORS.loc[:, list(SENSOR_TABLE_COLUMNS)]
    table = sensors
    if "name" in table.columns:
        table = table.set_index("name")
    absent = [c for c in SENSOR_TABLE_COLUMNS if c not in table.columns]
    if absent:
        raise ValueError(
            f"{who}'s `sensors` table lacks the column(s) {absent!r}; it must be "
            f"indexed by sensor name (or have a 'name' column) and hold "
            f"{list(SENSOR_TABLE_COLUMNS)!r}, as `sksteel.datasets.SENSORS` does."
        )
    table = table.loc[:, list(SENSOR_TABLE_COLUMNS)]
    table.index = table.index.map(str)
    try:
        values = table.to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{who}'s `sensors` table must hold numbers in "
            f"{list(SENSOR_TABLE_COLUMNS)!r} ({exc})."
        ) from exc
    low, high, probability = values.T
    if (
        table.index.has_duplicates
        or not np.all(np.isfinite(values))
        or np.any(low > high)
        or np.any((probability < 0) | (probability > 1))
    ):
        raise ValueError(
            f"{who}'s `sensors` table must have one row per sensor name, finite "
            "`low` <= `high` and `failure_probability` in [0, 1]; got\n"
            f"{table}"
        )
    return table


def match_names(columns, sensor_names):
    """``{column: sensor}`` for the columns that name a sensor (or any name).

    A column matches its own name, or, when no column has that exact name
    and no other column does the same, the name after its last ``__``
    prefix (``remainder__vibration`` is ``vibration``).
    """
    sensor_names = set(sensor_names)
    exact = {c: c for c in columns if c in sensor_names}
    candidates = {}
    for column in columns:
        key = column.rsplit(_PREFIX_SEPARATOR, 1)[-1]
        if column not in exact and key in sensor_names and key not in exact:
            candidates.setdefault(key, []).append(column)
    prefixed = {cols[0]: key for key, cols in candidates.items() if len(cols) == 1}
    matched = {**exact, **prefixed}
    return {column: matched[column] for column in columns if column in matched}


def match_sensor_table(sensors, names, who="sksteel"):
    """The rows of the sensor table that apply to the columns ``names``.

    Parameters
    ----------
    sensors : {"auto", "steel"}, DataFrame or None
        ``"steel"``: the steel table :data:`sksteel.datasets.SENSORS`,
        applied to every column named after one of its sensors;
        ``"auto"``: the steel table, but only when all ten steel sensors are
        columns; a DataFrame: a user table of the same layout; None: no
        table.
    names : list of str
        Column names of X (see :func:`column_names`).
    who : str
        Name of the caller, for error messages.

    Returns
    -------
    table : DataFrame or None
        One row per matched column (index: the column names, in X's order)
        with the matched ``sensor`` name and its ``low``, ``high`` and
        ``failure_probability``; None when no table applies.
    full : DataFrame or None
        The whole table (every sensor), whose mean failure probability
        scales the ``"table"`` rates.
    """
    full = _full_table(sensors, who)
    if full is None:
        return None, None
    matches = match_names(names, full.index)
    if not matches or (
        isinstance(sensors, str)
        and sensors == "auto"
        and len(set(matches.values())) < len(full)
    ):
        return None, full
    table = full.loc[list(matches.values())].set_axis(list(matches), axis=0)
    table.insert(0, "sensor", list(matches.values()))
    return table, full


def _dict_rates(rates, names, who):
    unknown = [key for key in rates if key not in names]
    if unknown:
        raise ValueError(
            f"{who} got failure rates for {unknown!r}, which are not columns of X "
            f"({names!r}). Use the column names as keys."
        )
    values = np.array([float(rates.get(name, 0.0)) for name in names])
    _check_probabilities(values, names, who)
    return values


def _array_rates(rates, names, who):
    values = np.asarray(rates, dtype=float)
    if values.shape != (len(names),):
        raise ValueError(
            f"{who} got an array of failure rates of shape {values.shape!r}; it "
            f"must hold one probability per column of X, shape {(len(names),)!r}. "
            "Pass a dict {column: probability} to set some columns only."
        )
    _check_probabilities(values, names, who)
    return values


def _check_probabilities(values, names, who):
    bad = {n: float(v) for n, v in zip(names, values) if not 0.0 <= v <= 1.0}
    if bad:
        raise ValueError(
            f"{who}'s failure rates must be probabilities in [0, 1]; got {bad!r}. "
            "Correct those values."
        )


def resolve_failure_rates(rates, names, *, p_base, sensors, who="sksteel"):
    """One failure probability per column, and the sensor table applied.

    Parameters
    ----------
    rates : "table", "auto", float, dict or array-like of shape (n_features,)
        See :func:`failure_rates`.
    names : list of str
        Column names of X.
    p_base : float
        Mean of the ``"table"`` rates over the table's sensors.
    sensors : {"auto", "steel"}, DataFrame or None
        See :func:`match_sensor_table`.
    who : str
        Name of the caller, for error messages.

    Returns
    -------
    rates : ndarray of shape (n_features,)
        Probability that each column's reading fails.
    table : DataFrame or None
        The sensor table rows that apply (see :func:`match_sensor_table`).
    """
    table, full = match_sensor_table(sensors, names, who)
    if isinstance(rates, str) and rates not in ("table", "auto"):
        raise ValueError(
            f"{who} got failure_rates={rates!r}; a string must be 'table' or "
            "'auto'. Pass a probability, a dict or an array to set the rates."
        )
    if isinstance(rates, str) and rates == "auto" and table is None:
        values = np.full(len(names), NO_TABLE_AUTO_RATE)
    elif isinstance(rates, str):
        values = np.full(len(names), float(p_base))
        if table is not None:
            probabilities = full["failure_probability"]
            scale = p_base / probabilities.mean() if probabilities.mean() > 0 else 0
            scaled = (table["failure_probability"] * scale).clip(0.0, 1.0)
            position = {name: i for i, name in enumerate(names)}
            values[[position[c] for c in table.index]] = scaled.to_numpy()
    elif isinstance(rates, dict):
        values = _dict_rates(rates, names, who)
    elif isinstance(rates, Real):
        values = np.full(len(names), float(rates))
        _check_probabilities(values, names, who)
    else:
        values = _array_rates(rates, names, who)
    return values, table


def failure_rates(rates="table", *, columns=None, p_base=0.2, sensors="auto"):
    """Per-column probability that a sensor reading fails (is missing).

    The one vocabulary of failure rates in sksteel: ``SensorFailure``,
    ``ModalityDropout`` and ``SteelNetClassifier`` take the same
    ``failure_rates``, ``p_base`` and ``sensors`` parameters, resolve them
    with the rules below and store the result as ``failure_rates_``; this
    function gives the same numbers without fitting anything.

    Parameters
    ----------
    rates : "table", "auto", float, dict or array-like of shape \
            (n_columns,), default="table"
        - ``"table"``: each sensor column gets its failure probability from
          the sensor table, scaled so that the mean over the table's sensors
          is ``p_base`` (paper 2.2.2: "p_base 0.2 scaled by the per-sensor
          failure probabilities") and clipped to ``[0, 1]``; a column that
          is not a sensor of the table gets ``p_base``.
        - ``"auto"``: the ``"table"`` rates when a sensor table applies to
          the columns (see ``sensors``), otherwise 0 for every column (no
          failures); SteelNet's default for its training dropout.
        - float in ``[0, 1]``: that probability for every column.
        - dict ``{column: probability}``: per column, by name; columns left
          out never fail.
        - array-like: one probability per column, in column order.
    columns : list of str, default=None
        Column names; None means the sensors of the table (the ten steel
        sensors for ``sensors="auto"`` or ``"steel"``).
    p_base : float in [0, 1], default=0.2
        Mean failure probability of the ``"table"`` rates; ignored otherwise.
    sensors : {"auto", "steel"}, DataFrame or None, default="auto"
        Which columns are sensors. ``"steel"``: every column named after a
        steel sensor (:data:`sksteel.datasets.SENSORS`), also behind a
        prefix such as ``remainder__vibration`` when unambiguous;
        ``"auto"``: the same, but only when all ten steel sensors are
        columns, so an unrelated column that happens to be named
        ``vibration`` is not taken for the sensor; a DataFrame indexed by
        sensor name with ``low``, ``high`` and ``failure_probability``: your
        own table; None: no column is a sensor.

    Returns
    -------
    rates : pandas.Series
        One probability per column, indexed by column name.

    See Also
    --------
    sksteel.preprocessing.SensorFailure : Failing readings at test time.
    sksteel.sampling.ModalityDropout : Failing readings during training.

    Examples
    --------
    >>> from sksteel.datasets import failure_rates
    >>> rates = failure_rates(p_base=0.2)
    >>> round(float(rates.mean()), 3)
    0.2
    >>> rates.idxmax()
    'vibration'
    >>> failure_rates({"vibration": 0.5}, columns=["vibration", "speed"]).tolist()
    [0.5, 0.0]
    >>> failure_rates(columns=["remainder__vibration", "speed"],
    ...               sensors="steel").round(3).tolist()
    [0.35, 0.2]
    >>> failure_rates("auto", columns=["pressure", "flow"]).tolist()
    [0.0, 0.0]
    """
    if not 0.0 <= p_base <= 1.0:
        raise ValueError(f"`p_base` must be a probability in [0, 1]; got {p_base!r}.")
    if columns is None:
        full = _full_table(sensors, "failure_rates")
        columns = [] if full is None else list(full.index)
    names = [str(c) for c in columns]
    values, _ = resolve_failure_rates(
        rates, names, p_base=p_base, sensors=sensors, who="failure_rates"
    )
    return pd.Series(values, index=pd.Index(names, name="name"), name="failure_rate")
