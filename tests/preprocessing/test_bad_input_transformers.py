"""Bad-input properties of the preprocessing transformers.

Hypothesis draws inputs of valid shape with random NaN patterns (all-NaN rows
and columns included), one row, ndarray or DataFrame, permuted and extra
columns, float16/32/64, integer and boolean dtypes, huge (1e300, inf) and
tiny (1e-300, subnormal) magnitudes. Each transformer either works, with the
outputs stated below, or raises a ValueError whose message names the
problem; anything else (another exception, a RuntimeWarning) fails.

What may be NaN in the outputs:

- ``SensorFailure``: NaN wherever the input is NaN, plus the readings it
  drops on purpose; every other value is the input's.
- ``RLEDecoder``, ``IntensityScorer``, ``ProcessParameterSynthesizer``:
  never (a missing encoding is an empty mask; NaN fractions, classes or
  intensities are errors).
"""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sksteel._schema import (
    ENCODED_COLUMNS,
    FRACTION_COLUMNS,
    INTENSITY_WEIGHTS,
    SENSOR_NAMES,
)
from sksteel.datasets import failure_rates
from sksteel.exceptions import RLEError
from sksteel.preprocessing import (
    IntensityScorer,
    ProcessParameterSynthesizer,
    RLEDecoder,
    SensorFailure,
)

#: Deterministic, bounded hypothesis runs (CI sees the same examples).
FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

#: Finite magnitudes numeric inputs are drawn from, besides ordinary values.
EXTREMES = [0.0, -0.0, 1e-300, 5e-324, 1e300, -1e300]

#: Values that make a reading invalid, put in one cell of some inputs.
INFINITE = [np.inf, -np.inf]

#: The float dtypes inputs come in (besides int64 and bool).
FLOATS = ("float16", "float32", "float64")

CLASSES = ("defect_class", "intensity")


def _outcome(call):
    """``(result, None)`` or ``(None, error)`` for a clear error; any other
    exception, or a RuntimeWarning (a silent NaN on the way), fails."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        try:
            return call(), None
        except (ValueError, TypeError) as exc:
            assert len(str(exc)) > 30, f"terse error message: {exc!r}"
            return None, exc


def _cast(values, dtype):
    """``values`` (float64) as ``dtype``; values beyond a float dtype's range
    become +-inf, as a user's cast would make them."""
    with np.errstate(over="ignore", invalid="ignore"):
        return values.astype(dtype)


@st.composite
def _numbers(draw, n_rows, n_columns, pool, specials, nan=True):
    """A float64 array of ``pool`` values and ordinary ones; sometimes random
    NaN cells, an all-NaN row or column (``nan``), or a ``specials`` value in
    a cell."""
    cell = st.sampled_from(pool) | st.floats(0.0, 1.0)
    size = n_rows * n_columns
    values = np.array(draw(st.lists(cell, min_size=size, max_size=size)))
    values = values.astype(np.float64).reshape(n_rows, n_columns)
    if nan and draw(st.booleans()):
        mask = draw(st.lists(st.booleans(), min_size=size, max_size=size))
        values[np.array(mask).reshape(values.shape)] = np.nan
    if nan and draw(st.booleans()):
        values[draw(st.integers(0, n_rows - 1)), :] = np.nan
    if nan and draw(st.booleans()):
        values[:, draw(st.integers(0, n_columns - 1))] = np.nan
    if draw(st.integers(0, 3)) == 0:
        row, column = (
            draw(st.integers(0, n_rows - 1)),
            draw(st.integers(0, n_columns - 1)),
        )
        values[row, column] = draw(st.sampled_from(specials))
    return values


@st.composite
def _container(draw, values, columns):
    """``values`` as a DataFrame (columns maybe permuted) or an ndarray, in a
    random dtype: float16/32/64, or int64 / bool when every value allows it.
    Values too large for a float dtype mostly become its largest value,
    sometimes infinity (as a plain cast makes them).

    Returns the input and the float64 values it holds, in ``columns`` order.
    """
    whole = np.isfinite(values).all() and (values == np.round(values)).all()
    kinds = list(FLOATS) + (["int64"] if whole and np.abs(values).max() < 2**53 else [])
    kinds += ["bool"] if np.isin(values, (0, 1)).all() else []
    dtype = draw(st.sampled_from(kinds))
    if dtype in FLOATS and draw(st.integers(0, 3)):
        largest = float(np.finfo(dtype).max)
        values = np.clip(values, -largest, largest)
    cast = _cast(values, dtype)
    held = cast.astype(np.float64)
    if draw(st.booleans()):
        return cast, held
    order = draw(st.permutations(range(len(columns))))
    frame = pd.DataFrame(cast[:, order], columns=[columns[j] for j in order])
    return frame, held


# --- SensorFailure --------------------------------------------------------


@st.composite
def _sensor_inputs(draw):
    n_rows = draw(st.integers(1, 6))
    n_columns = draw(st.integers(1, len(SENSOR_NAMES)) | st.just(len(SENSOR_NAMES)))
    columns = list(SENSOR_NAMES[:n_columns])
    pool = EXTREMES + [97.5, 12.0, 190.0]
    values = draw(_numbers(n_rows, len(columns), pool, INFINITE))
    X, held = draw(_container(values, columns))
    return X, held, columns


@FUZZ
@given(inputs=_sensor_inputs(), mode=st.sampled_from(["uniform", "table"]))
def test_sensor_failure_bad_readings(inputs, mode):
    """Check that SensorFailure keeps every input NaN, changes readings only
    to NaN, matches table rates by column name in any order, and refuses inf
    naming the column, whatever the dtype, container and NaN pattern."""
    X, held, columns = inputs
    failure = SensorFailure(
        "table" if mode == "table" else 0.5, p_base=0.5, sensors="steel", random_state=0
    )
    result, error = _outcome(lambda: failure.fit_transform(X))
    event(f"error: {error is not None}")
    infinite = [c for c, bad in zip(columns, np.isinf(held).any(axis=0)) if bad]
    if infinite:
        named = infinite if isinstance(X, pd.DataFrame) else ["column"]
        assert any(re.search(f"infinity.*'{n}", str(error)) for n in named), error
        return
    assert error is None, error
    if isinstance(X, pd.DataFrame):
        assert list(result.columns) == list(X.columns)
        expected = (
            failure_rates(columns=list(X.columns), p_base=0.5, sensors="steel")
            if mode == "table"
            else 0.5
        )
        np.testing.assert_allclose(failure.failure_rates_, expected)
        result = result[columns].to_numpy()
    assert result.dtype.kind == "f"
    out = result.astype(np.float64)
    assert np.isnan(out[np.isnan(held)]).all()
    kept = ~np.isnan(out)
    np.testing.assert_array_equal(out[kept], held[kept])


@pytest.mark.parametrize("rate", [0.0, 1.0])
def test_sensor_failure_extreme_rates_on_extreme_values(rate):
    """Check that rate 0 returns huge and tiny readings unchanged and rate 1
    makes every reading NaN."""
    X = np.array([[1e300, -1e300, 1e-300, 5e-324, 0.0, np.nan] * 2])[:, :10]
    out = SensorFailure(rate, random_state=0).fit_transform(X)
    expected = X if rate == 0.0 else np.full_like(X, np.nan)
    np.testing.assert_array_equal(out, expected)


# --- IntensityScorer ------------------------------------------------------


@st.composite
def _fraction_inputs(draw):
    n_rows = draw(st.integers(1, 6))
    n_columns = draw(st.integers(1, 4))
    columns = list(FRACTION_COLUMNS[:n_columns])
    pool = EXTREMES[:4] + [0.02, 0.5, 1.0]
    bad = INFINITE + [np.nan, 1.5, -1e-9, 1e300, -1e300]
    values = draw(_numbers(n_rows, n_columns, pool, bad, nan=False))
    X, held = draw(_container(values, columns))
    if isinstance(X, np.ndarray):  # arrays are read by position: all four
        padding = np.zeros((n_rows, 4 - n_columns), dtype=X.dtype)
        X, held = np.hstack([X, padding]), np.hstack([held, padding])
        columns = list(FRACTION_COLUMNS)
    return X, held, columns


@FUZZ
@given(inputs=_fraction_inputs(), normalize=st.booleans())
def test_intensity_scorer_bad_fractions(inputs, normalize):
    """Check that IntensityScorer weighs named fraction columns by class in any
    order, returns finite scores, and refuses NaN, inf and values outside
    [0, 1] with messages naming them."""
    X, held, columns = inputs
    scorer = IntensityScorer(normalize=normalize)
    result, error = _outcome(lambda: scorer.fit_transform(X))
    event(f"error: {error is not None}")
    weights = np.array([INTENSITY_WEIGHTS[FRACTION_COLUMNS.index(c)] for c in columns])
    fraction_error = r"must be finite numbers in \[0, 1\]; got \d+ value\(s\) "
    if not np.isfinite(held).all():
        assert re.search(fraction_error + "NaN or infinite", str(error)), error
    elif ((held < 0) | (held > 1)).any():
        assert re.search(fraction_error + "(negative|above 1)", str(error)), error
    elif normalize and not (held @ weights > 0).any():
        assert "normalize=False" in str(error), error
    else:
        assert error is None, error
        assert np.isfinite(result).all()
        raw = held @ weights
        np.testing.assert_allclose(result[:, 0], raw, rtol=1e-12)
        if normalize:
            assert ((result[:, 1] >= 0) & (result[:, 1] <= 1)).all()
            assert (result[raw == 0, 1] == 0).all()
        else:
            np.testing.assert_array_equal(result[:, 1], result[:, 0])


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize(
    "weights",
    [
        (np.nan, 1, 1, 1),
        (np.inf, 1, 1, 1),
        (1e308,) * 4,
        ("a", 1, 1, 1),
        [[1, 1], [1, 1]],
    ],
)
def test_intensity_scorer_bad_weights(weights):
    """Check that NaN, infinite, overflowing, non-numeric and 2-D weights are
    a clear error rather than NaN or infinite scores."""
    X = pd.DataFrame(np.full((3, 4), 0.5), columns=FRACTION_COLUMNS)
    with pytest.raises(ValueError, match="one non-negative weight per fraction"):
        IntensityScorer(weights=weights).fit(X)


def test_intensity_scorer_all_zero_weights():
    """Check that weights that score every row 0 name the weights as a cause."""
    X = np.full((3, 4), 0.5)
    with pytest.raises(ValueError, match="zero `weights`"):
        IntensityScorer(weights=(0, 0, 0, 0)).fit(X)


# --- ProcessParameterSynthesizer -----------------------------------------


@pytest.fixture(scope="module")
def synthesizers():
    """One synthesizer fitted on a DataFrame, one on an array."""
    rows = pd.DataFrame({"defect_class": [0, 3], "intensity": [0.0, 0.5]})
    return {
        "frame": ProcessParameterSynthesizer(random_state=0).fit(rows),
        "array": ProcessParameterSynthesizer(random_state=0).fit(rows.to_numpy()),
    }


@st.composite
def _synthesizer_inputs(draw):
    n_rows = draw(st.integers(1, 6))
    labels = draw(st.lists(st.integers(0, 4), min_size=n_rows, max_size=n_rows))
    levels = st.sampled_from(EXTREMES[:4] + [0.3, 1.0]) | st.floats(0.0, 1.0)
    values = np.column_stack(
        [labels, draw(st.lists(levels, min_size=n_rows, max_size=n_rows))]
    ).astype(np.float64)
    bad = {
        0: [-1, 5, 1.5, np.nan, 1e300, np.inf],
        1: [np.nan, np.inf, -np.inf, 1e300, -1e300, 1.0000001, -1e-9],
    }
    for column, specials in bad.items():
        if draw(st.integers(0, 3)) == 0:
            row = draw(st.integers(0, n_rows - 1))
            values[row, column] = draw(st.sampled_from(specials))
    X, held = draw(_container(values, list(CLASSES)))
    if isinstance(X, pd.DataFrame) and draw(st.booleans()):
        X.insert(draw(st.integers(0, 2)), "line", "L1")  # ignored, by name
    return X, held


@FUZZ
@given(inputs=_synthesizer_inputs())
def test_synthesizer_bad_classes_and_intensities(synthesizers, inputs):
    """Check that the synthesizer reads class and intensity by name in any
    column order (extra columns ignored), returns finite readings, and
    refuses unknown classes and intensities outside [0, 1] by name."""
    X, held = inputs
    synth = synthesizers["frame" if isinstance(X, pd.DataFrame) else "array"]
    result, error = _outcome(lambda: synth.transform(X))
    event(f"error: {error is not None}")
    labels, intensity = held[:, 0], held[:, 1]
    if not np.isin(labels, range(5)).all():
        assert "Unknown defect class label(s)" in str(error), error
    elif not ((intensity >= 0) & (intensity <= 1)).all():
        assert "must be finite and in [0, 1]" in str(error), error
    else:
        assert error is None, error
        assert result.shape == (len(held), len(SENSOR_NAMES))
        assert np.isfinite(result).all()
        np.testing.assert_array_equal(result, synthesizers["array"].transform(held))


# --- RLEDecoder -----------------------------------------------------------

SHAPE = (3, 4)

#: Cells no decoder accepts, and the start of their error.
BAD_CELLS = ["1 2 3", "0 2", "5 1 2 1", "1 99", "x 1", "1.0 2", 7, 1.5, b"1 2"]


def _encode(mask):
    """Reference encoder: 1-indexed ``start length`` runs, column-major."""
    flat = np.concatenate([[0], mask.ravel(order="F").astype(int), [0]])
    edges = np.flatnonzero(np.diff(flat)) + 1
    return " ".join(f"{a} {b - a}" for a, b in zip(edges[0::2], edges[1::2]))


@st.composite
def _encoding_tables(draw):
    n_rows = draw(st.integers(1, 4))
    masks = draw(
        st.lists(
            st.lists(st.booleans(), min_size=12, max_size=12),
            min_size=4 * n_rows,
            max_size=4 * n_rows,
        )
    )
    fractions = np.array([sum(m) / 12 for m in masks]).reshape(n_rows, 4)
    cells = [_encode(np.array(m).reshape(SHAPE, order="F")) for m in masks]
    missing = st.sampled_from([None, np.nan, pd.NA, "", "  "])
    for i in range(len(cells)):
        choice = draw(st.integers(0, 9))
        if choice < 2 or fractions.flat[i] == 0:
            cells[i] = draw(missing)
            fractions.flat[i] = 0.0
        elif choice == 2:
            cells[i] = draw(st.sampled_from(BAD_CELLS))
            fractions.flat[i] = np.nan  # marks the cell as invalid
    table = np.array(cells, dtype=object).reshape(n_rows, 4)
    if draw(st.booleans()):
        return table, fractions, None
    order = draw(st.permutations(range(4)))
    frame = pd.DataFrame(table[:, order], columns=[ENCODED_COLUMNS[j] for j in order])
    ids = [f"img{k}.jpg" for k in range(n_rows)]
    if draw(st.booleans()):
        frame.insert(draw(st.integers(0, 4)), "ImageId", ids)
        return frame, fractions, ids
    return frame, fractions, None


@FUZZ
@given(inputs=_encoding_tables())
def test_rle_decoder_bad_encodings(inputs):
    """Check that RLEDecoder matches columns by name, reads missing cells as
    empty masks, returns the reference fractions (never NaN), and names the
    first malformed cell's image or row and class in an RLEError."""
    X, fractions, ids = inputs
    result, error = _outcome(lambda: RLEDecoder(shape=SHAPE).fit_transform(X))
    event(f"error: {error is not None}")
    if np.isnan(fractions).any():
        row, column = np.argwhere(np.isnan(fractions))[0]
        assert isinstance(error, RLEError), error
        where = f"image {ids[row]!r}" if ids else f"row {row}"
        assert f"for {where}, class {column + 1}" in str(error), error
    else:
        assert error is None, error
        np.testing.assert_allclose(result, fractions)


# --- every transformer ----------------------------------------------------


def _fitted(name):
    """A transformer of each kind fitted on a small valid DataFrame, with it."""
    if name == "SensorFailure":
        X = pd.DataFrame(np.full((4, 10), 3.0), columns=list(SENSOR_NAMES))
        return SensorFailure("table", random_state=0).fit(X), X
    if name == "IntensityScorer":
        X = pd.DataFrame(np.full((4, 4), 0.1), columns=list(FRACTION_COLUMNS))
        return IntensityScorer().fit(X), X
    if name == "ProcessParameterSynthesizer":
        X = pd.DataFrame({"defect_class": [0, 1, 2, 4], "intensity": [0, 0.2, 0.5, 1]})
        return ProcessParameterSynthesizer(random_state=0).fit(X), X
    X = pd.DataFrame([["1 2", None, "", "3 1"]] * 4, columns=list(ENCODED_COLUMNS))
    return RLEDecoder(shape=SHAPE).fit(X), X


TRANSFORMERS = ["SensorFailure", "IntensityScorer", "ProcessParameterSynthesizer"]


@pytest.mark.parametrize("name", TRANSFORMERS + ["RLEDecoder"])
def test_transformers_reordered_columns_at_transform(name):
    """Check that columns reordered after fit are either read by name (same
    output) or refused with sklearn's error about their order; never used by
    position."""
    transformer, X = _fitted(name)
    reordered = X[list(X.columns)[::-1]]
    if name in ("SensorFailure", "IntensityScorer"):
        with pytest.raises(ValueError, match="same order as they were in fit"):
            transformer.transform(reordered)
    else:
        np.testing.assert_array_equal(
            transformer.transform(reordered), transformer.transform(X)
        )


@pytest.mark.parametrize("name", TRANSFORMERS + ["RLEDecoder"])
def test_transformers_array_after_dataframe_fit(name):
    """Check that an array after a DataFrame fit works by position, with
    sklearn's warning about the missing feature names."""
    transformer, X = _fitted(name)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        result = transformer.transform(X.to_numpy())
    np.testing.assert_array_equal(
        np.asarray(result), np.asarray(transformer.transform(X))
    )


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
@pytest.mark.parametrize("name", TRANSFORMERS + ["RLEDecoder"])
def test_transformers_empty_and_one_dimensional_input(name):
    """Check that zero rows and 1-D input are sklearn's clear errors."""
    transformer, X = _fitted(name)
    with pytest.raises(ValueError, match="0 sample"):
        transformer.transform(X.iloc[:0])
    with pytest.raises(ValueError, match="Expected 2D array"):
        transformer.transform(X.iloc[0].to_numpy())


@pytest.mark.parametrize(
    "name, column", [("ProcessParameterSynthesizer", 1), ("RLEDecoder", 0)]
)
def test_transformers_repeated_column_names(name, column):
    """Check that a column read by name that appears twice is a clear error
    naming it, not a pandas error."""
    transformer, X = _fitted(name)
    X = pd.concat([X, X.iloc[:, [column]]], axis=1)
    with pytest.raises(
        ValueError, match=rf"several columns named \['{X.columns[column]}'"
    ):
        transformer.fit(X)


#: Object cells that are not float64 numbers, and the error they raise.
NOT_FLOATS = [(10**400, "too large for a float64"), ("abc", "needs numbers in X")]


@pytest.mark.parametrize("value, match", NOT_FLOATS)
@pytest.mark.parametrize("name", TRANSFORMERS)
def test_transformers_values_that_are_not_floats(name, value, match):
    """Check that a Python integer beyond float64 and text that is not a
    number are ValueErrors naming the problem, not numpy's OverflowError or
    its bare conversion message."""
    transformer, X = _fitted(name)
    X = X.astype(object)
    X.iloc[0, 1] = value
    with pytest.raises(ValueError, match=match):
        transformer.fit(X)
