"""Fuzzing of the CSV workflow of the ``sksteel`` command (``fit``, ``predict``).

Whatever the table holds, a run either succeeds or exits with status 1 and
one ``sksteel: error:`` line on stderr, no traceback; the input file is
never modified, no partial output is left behind and an existing output is
only replaced by a successful run with ``--force``. ``main`` runs in-process.
"""

import contextlib
import io
import itertools
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sksteel._schema import SENSOR_NAMES, SENSORS
from sksteel.cli import main
from sksteel.io import read_table_csv

TARGET = "defect_class"
FIT = ["--target", TARGET, "--max-epochs", "1", "--random-state", "0"]
COLUMNS = [*SENSOR_NAMES, TARGET, "intensity", "image_id"]

#: Cell contents a spreadsheet or a failing logger may write.
ODD_CELLS = [
    "", " ", "x", "n/a?", "1,5", "--", "1e400", "-inf", "inf", "nan", "NA",
    "1e300", "-1e300", "1e-300", "9" * 40, "0x1A", "true", '"', "\x00", "é",
]

_names = itertools.count()

#: No file at the output path, an old one and --force, an old one without.
EXISTING = st.sampled_from([None, None, "force", "keep"])


#: Reproducible runs, no example database, no deadline (a fit varies in time).
FUZZ = settings(deadline=None, derandomize=True, database=None)

def run(argv):
    """``main(argv)`` with its stderr: (status, stderr)."""
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        status = main([str(arg) for arg in argv])
    return status, stderr.getvalue()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A folder, the cells of a 40-row training table with blank readings,
    and a model fitted once on it by ``sksteel fit``."""
    folder = tmp_path_factory.mktemp("fuzz_cli_csv")
    rng = np.random.default_rng(0)
    low, high = SENSORS["low"].to_numpy(), SENSORS["high"].to_numpy()
    readings = low + rng.random((40, len(low))) * (high - low)
    readings[rng.random(readings.shape) < 0.1] = np.nan
    frame = pd.DataFrame(readings, columns=list(SENSOR_NAMES)).assign(
        defect_class=np.arange(40) % 3,
        intensity=rng.random(40).round(3),
        image_id=[f"img{i}.jpg" for i in range(40)],
    )
    rows = frame[COLUMNS].itertuples(index=False)
    cells = [COLUMNS] + [["" if pd.isna(v) else str(v) for v in row] for row in rows]
    table = write(folder, to_text(cells))
    model = folder / "model.skops"
    assert run(["fit", table, *FIT, "--out", model]) == (0, "")
    return {"folder": folder, "cells": cells, "model": model}


def to_text(cells, delimiter=",", newline="\n"):
    return "".join(delimiter.join(row) + newline for row in cells)


def write(folder, content):
    """``content`` (str or bytes) in a new file of ``folder``."""
    path = folder / f"table_{next(_names)}.csv"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", newline="")
    else:
        path.write_bytes(content)
    return path


def check_run(workspace, command, content, *, existing=None):
    """Run ``command`` on a table holding ``content`` and check the outcome:
    success or status 1 with one error line; the table unchanged; no
    partial output. ``existing`` puts an old file at the output path, to be
    kept without --force (``"keep"``), replaced only by a success with it
    (``"force"``)."""
    folder = workspace["folder"]
    table = write(folder, content)
    out = folder / f"out_{next(_names)}"
    if existing is not None:
        out.write_bytes(b"old output")
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    if command == "fit":
        argv = ["fit", table, *FIT, "--out", out]
    else:
        argv = ["predict", workspace["model"], table, "--out", out]
    status, stderr = run([*argv, "--force"] if existing == "force" else argv)
    after = {path.name: path.read_bytes() for path in folder.iterdir()}
    if status == 0:
        before.pop(out.name, None)
        after.pop(out.name)
    assert after == before  # the table unchanged, no partial or temporary file
    if status == 0 and command == "predict":
        check_predictions(out, table)
    if status != 0:
        assert status == 1
        assert stderr.startswith("sksteel: error: ") and stderr.count("\n") == 1
        assert "Traceback" not in stderr
    if existing == "keep":
        assert status == 1 and "already exists; pass `--force`" in stderr
    table.unlink()
    out.unlink(missing_ok=True)
    return status, stderr


def check_predictions(out, table):
    """One row of finite probabilities summing to 1 per row of the table."""
    predictions = pd.read_csv(out)
    # the rows of the table, whatever its delimiter
    assert len(predictions) == len(read_table_csv(table))
    proba = predictions.filter(like="proba_").to_numpy()
    assert proba.shape[1] == 3 and np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert np.isfinite(predictions.filter(like="top_weight_").to_numpy()).all()


def rarely(draw):
    """True for about one draw in six."""
    return draw(st.integers(0, 5)) == 0


@st.composite
def mutated_tables(draw, cells):
    """The training table's cells after a few structural edits (odd cells,
    blanks, dropped, renamed, duplicated, added or reordered columns, one
    class), a ragged row and few rows, written with a drawn delimiter and
    line ending, then maybe byte edits (BOM, truncation, junk bytes)."""
    header, rows = list(cells[0]), [list(row) for row in cells[1:]]
    n_rows, n_columns = len(rows), len(header)
    row_index, column_index = st.integers(0, n_rows - 1), st.integers(0, n_columns - 1)
    for _ in range(draw(st.integers(0, 4))):
        edit = draw(
            st.sampled_from(
                ["odd cell", "blank column", "blank row", "drop", "rename",
                 "duplicate", "add", "shuffle", "one class"]
            )
        )
        if edit == "odd cell":
            rows[draw(row_index)][draw(column_index)] = draw(st.sampled_from(ODD_CELLS))
        elif edit == "blank column":
            column = draw(column_index)
            for row in rows:
                row[column] = ""
        elif edit == "blank row":
            row = draw(row_index)
            rows[row] = [""] * len(SENSOR_NAMES) + rows[row][len(SENSOR_NAMES):]
        elif edit in ("drop", "rename", "duplicate"):
            column = draw(column_index)
            if edit == "duplicate":
                header[column] = header[draw(column_index)]
            elif edit == "rename":
                header[column] = header[column].upper()
            else:
                header.pop(column)
                for row in rows:
                    row.pop(column)
                n_columns -= 1
                column_index = st.integers(0, n_columns - 1)
        elif edit == "add":
            header.append(draw(st.sampled_from(["extra", "notes", ""])))
            for row in rows:
                row.append(draw(st.sampled_from(ODD_CELLS)))
            n_columns += 1
            column_index = st.integers(0, n_columns - 1)
        elif edit == "shuffle":
            order = draw(st.permutations(range(n_columns)))
            header = [header[i] for i in order]
            rows = [[row[i] for i in order] for row in rows]
        elif edit == "one class" and TARGET in header:
            label = draw(st.sampled_from(["0", "1", "2", "0.5", "inf"]))
            for row in rows:
                row[header.index(TARGET)] = label
    if rarely(draw):  # a row cut short, or with extra cells
        row = rows[draw(row_index)]
        row[:] = row[: draw(st.integers(0, len(row)))] + draw(
            st.lists(st.sampled_from(ODD_CELLS), max_size=2)
        )
    if rarely(draw):
        rows = rows[: draw(st.integers(0, 3))]
    delimiter = draw(st.sampled_from([";", "\t", ", "])) if rarely(draw) else ","
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    data = to_text([header, *rows], delimiter, newline).encode("utf-8")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    if rarely(draw):
        data = data[: draw(st.integers(0, len(data)))]
    if rarely(draw):
        position = draw(st.integers(0, len(data)))
        junk = draw(st.binary(min_size=1, max_size=8))
        data = data[:position] + junk + data[position:]
    return data


@settings(FUZZ, max_examples=150)
@given(data=st.data())
def test_fuzz_cli_csv_predict_on_mutated_tables(workspace, data):
    """Check that predict on a damaged table succeeds or fails cleanly."""
    content = data.draw(mutated_tables(workspace["cells"]))
    check_run(workspace, "predict", content, existing=data.draw(EXISTING))


@settings(FUZZ, max_examples=60)
@given(data=st.data())
def test_fuzz_cli_csv_fit_on_mutated_tables(workspace, data):
    """Check that fit on a damaged table succeeds or fails cleanly."""
    content = data.draw(mutated_tables(workspace["cells"]))
    check_run(workspace, "fit", content, existing=data.draw(EXISTING))


@settings(FUZZ, max_examples=60)
@given(
    content=st.one_of(st.binary(max_size=300), st.text(max_size=300)),
    command=st.sampled_from(["fit", "predict"]),
)
def test_fuzz_cli_csv_random_content(workspace, content, command):
    """Check that random bytes or text, as a table, fail cleanly."""
    check_run(workspace, command, content)


#: Readings that must work: blanks (missing readings) and extreme numbers.
USABLE_CELLS = ["", " ", "NA", "nan", "NaN", "1e300", "-1e300", "1e-300", "9" * 40, "0"]


@st.composite
def usable_tables(draw, cells):
    """The training table with blank or extreme readings (single cells, whole
    rows, whole columns), columns in any order, extra columns, a BOM, CRLF
    line ends or spaces after the commas."""
    header, rows = list(cells[0]), [list(row) for row in cells[1:]]
    sensor = st.integers(0, len(SENSOR_NAMES) - 1)
    row_index = st.integers(0, len(rows) - 1)
    for _ in range(draw(st.integers(0, 30))):
        rows[draw(row_index)][draw(sensor)] = draw(st.sampled_from(USABLE_CELLS))
    for row in draw(st.lists(row_index, max_size=5)):
        rows[row][: len(SENSOR_NAMES)] = [""] * len(SENSOR_NAMES)
    for column in draw(st.lists(sensor, max_size=5)):
        for row in rows:
            row[column] = ""
    if draw(st.booleans()):
        header.append("notes")
        rows = [[*row, draw(st.sampled_from(["", "x", "n/a?", "é"]))] for row in rows]
    order = draw(st.permutations(range(len(header))))
    text = to_text(
        [[row[i] for i in order] for row in [header, *rows]],
        delimiter=draw(st.sampled_from([",", ", "])),
        newline=draw(st.sampled_from(["\n", "\r\n"])),
    )
    return (b"\xef\xbb\xbf" if draw(st.booleans()) else b"") + text.encode("utf-8")


@pytest.mark.parametrize(
    "command, max_examples", [("predict", 80), ("fit", 20)]
)
def test_fuzz_cli_csv_blank_and_extreme_readings_work(
    workspace, command, max_examples
):
    """Check that blank cells, whole blank rows or columns, huge and tiny
    numbers, reordered and extra columns, a BOM and CRLF all work."""

    @settings(FUZZ, max_examples=max_examples)
    @given(content=usable_tables(workspace["cells"]))
    def check(content):
        status, stderr = check_run(workspace, command, content)
        assert status == 0, stderr

    check()


def _edit_cells(edit):
    """A builder of table bytes from the training cells, edited by ``edit``."""

    def build(cells):
        header, *rows = [list(row) for row in cells]
        return to_text(edit(header, rows)).encode("utf-8")

    return build


def _set_column(name, value):
    def edit(header, rows):
        column = header.index(name)
        return [header, *[[*row[:column], value, *row[column + 1:]] for row in rows]]

    return edit


def _with_cell(name, value):
    def edit(header, rows):
        rows[1][header.index(name)] = value
        return [header, *rows]

    return edit


def _renamed(old, new):
    return lambda header, rows: [[new if c == old else c for c in header], *rows]


def _with_notes(header, rows):
    return [[*header, "notes"], *[[*row, "ok"] for row in rows]]


def _extreme_readings(header, rows):
    for name, value in [("vibration", "1e300"), ("drive_load", "-1e-300"),
                        ("curing_time", "9" * 40)]:
        header, *rows = _set_column(name, value)(header, rows)
    return [header, *rows]


def _long_integer(header, rows):
    """A 40-digit integer in a column with blank and NA readings (pandas then
    reads the column as text, blanks included)."""
    column = header.index("vibration")
    for row, value in zip(rows, ["9" * 40, "", "NA", "1.5"]):
        row[column] = value
    return [header, *rows]


def _good(cells):
    return to_text(cells).encode("utf-8")


def _cut_last_row(cells):
    data = _good(cells)
    return data[: data.rindex(b"\n", 0, -1) + 60]


def _blank_readings(header, rows):
    return [header, *[["" if i % 3 == j % 3 else c for j, c in enumerate(row[:10])]
                      + row[10:] for i, row in enumerate(rows)]]


FIT_AND_PREDICT_CASES = {
    # name: (table bytes from the cells, fit outcome, predict outcome), an
    # outcome being None (works) or a regex of the one-line error
    "empty file": (lambda cells: b"", "No columns to parse", "No columns to parse"),
    "header only": (
        lambda cells: _good(cells[:1]), "has a header but no rows",
        "has a header but no rows",
    ),
    "cut mid-row": (
        _cut_last_row, "looks truncated: it does not end with a line break",
        "looks truncated: it does not end with a line break",
    ),
    "complete last row without line break": (
        lambda cells: _good(cells).rstrip(b"\n"), None, None,
    ),
    "binary junk": (
        lambda cells: bytes(range(256)) * 4, "is not a text CSV table in UTF-8",
        "is not a text CSV table in UTF-8",
    ),
    "latin-1 text": (
        lambda cells: _good(cells).decode().replace("img1.", "imgé.").encode("latin-1"),
        "byte 0xe9 at position \\d+ is not UTF-8", "byte 0xe9 at position",
    ),
    "BOM": (lambda cells: b"\xef\xbb\xbf" + _good(cells), None, None),
    "';' delimiter": (lambda cells: to_text(cells, ";").encode(), None, None),
    "';' delimiter, decimal commas": (
        lambda cells: to_text(cells, ";").replace(".", ",").encode(), None, None,
    ),
    "tab delimiter": (lambda cells: to_text(cells, "\t").encode(), None, None),
    "duplicated column": (
        _edit_cells(_renamed("drive_load", "vibration")),
        "repeats the column name\\(s\\) \\['vibration'\\]",
        "repeats the column name\\(s\\) \\['vibration'\\]",
    ),
    "renamed column": (
        _edit_cells(_renamed("vibration", "Vibration")),
        "lacks the sensor column\\(s\\) \\['vibration'\\]",
        "has no feature column\\(s\\) \\['vibration'\\]",
    ),
    "extra column": (
        _edit_cells(_with_notes), None, None,
    ),
    "text in readings": (
        _edit_cells(_with_cell("vibration", "high")),
        "Column 'vibration' .* must hold numbers, .* 'high' \\(line 3\\)",
        "Column 'vibration' .* must hold numbers",
    ),
    "1e400 reading": (
        _edit_cells(_with_cell("vibration", "1e400")),
        "Column 'vibration' .* must hold finite numbers, .* inf \\(line 3\\)",
        "must hold finite numbers",
    ),
    "blank readings": (_edit_cells(_blank_readings), None, None),
    "huge and tiny readings": (_edit_cells(_extreme_readings), None, None),
    "40-digit reading beside blanks": (_edit_cells(_long_integer), None, None),
    "one class": (
        _edit_cells(_set_column(TARGET, "2")),
        "target column 'defect_class' holds one class only \\(2\\)", None,
    ),
    "one row": (
        lambda cells: _good(cells[:2]), "holds one class only \\(0\\)", None,
    ),
    "fractional class": (
        _edit_cells(_with_cell(TARGET, "1.5")),
        "target column 'defect_class' must hold class labels, .* 1.5 \\(line 3\\)",
        None,
    ),
    "unclosed quote": (
        lambda cells: _good(cells) + b'"1,2\n', "EOF inside string",
        "EOF inside string",
    ),
    "extra cell in a row": (
        lambda cells: _good(cells) + b"1," * 13 + b"1\n",
        "Expected 13 fields in line 42, saw 14", "Expected 13 fields",
    ),
}


@pytest.mark.parametrize("command", ["fit", "predict"])
@pytest.mark.parametrize("case", list(FIT_AND_PREDICT_CASES))
def test_fuzz_cli_csv_named_bad_tables(workspace, command, case):
    """Check that each kind of bad table works or fails with one clear line."""
    build, fit_error, predict_error = FIT_AND_PREDICT_CASES[case]
    status, stderr = check_run(workspace, command, build(workspace["cells"]))
    error = fit_error if command == "fit" else predict_error
    if error is None:
        assert status == 0, stderr
    else:
        assert status == 1 and re.search(error, stderr), stderr


@pytest.mark.parametrize(
    "edit, error",
    [
        (_with_cell("intensity", "-5"), None),
        (_set_column("intensity", "7"), None),
        (_with_cell("intensity", ""), None),
        (_with_cell("intensity", "high"), "Column 'intensity' .* must hold numbers"),
        (_with_cell("intensity", "1e400"), "must hold finite numbers"),
        (_set_column("intensity", ""), "'intensity' has no value on a row with"),
    ],
    ids=["negative", "above 1", "one blank", "text", "1e400", "all blank"],
)
def test_fuzz_cli_csv_intensity_column(workspace, edit, error):
    """Check that in fit's --intensity-column finite numbers and blanks work,
    text, infinity or no intensity at all are one clear line."""
    table = write(workspace["folder"], _edit_cells(edit)(workspace["cells"]))
    out = workspace["folder"] / f"out_{next(_names)}.skops"
    argv = ["fit", table, *FIT, "--intensity-column", "intensity", "--out", out]
    status, stderr = run(argv)
    if error is None:
        assert status == 0 and out.exists(), stderr
    else:
        assert status == 1 and re.search(error, stderr) and not out.exists()
        assert stderr.count("\n") == 1
