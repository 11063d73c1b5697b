"""Tests of :func:`sksteel.io.read_table_csv`, the reader of plant tables."""

import re

import numpy as np
import pandas as pd
import pytest

from sksteel.exceptions import DataFormatError
from sksteel.io import read_table_csv

HEADER = ["id", "vibration", "drive_load", "label"]
ROWS = [["007", "1.5", "-0.25", "a"], ["NA", "", "3e2", "b"], ["", "2.0", "4.75", "é"]]


def _write(path, rows, *, sep=",", decimal=".", encoding="utf-8", end="\n"):
    """``rows`` (lists of cells) as a CSV file at ``path``."""
    lines = [
        sep.join(cell.replace(".", decimal) if i in (1, 2) else cell
                 for i, cell in enumerate(row))
        for row in rows
    ]
    path.write_bytes((end.join(lines) + end).encode(encoding))
    return path


@pytest.fixture
def plain(tmp_path):
    """The table with commas and points, as read."""
    path = _write(tmp_path / "plain.csv", [HEADER, *ROWS])
    return read_table_csv(path, text_columns=["id"], numeric_columns=["vibration"])


@pytest.mark.parametrize(
    "sep, decimal", [(";", ","), (";", "."), ("\t", ","), ("|", "."), (",", ".")]
)
def test_read_table_csv_detects_the_dialect(tmp_path, plain, sep, decimal):
    """Check that a table separated by ``;``, tabs or ``|``, with decimal
    commas or points, reads as the comma-separated one and that the dialect
    is reported in ``attrs``."""
    path = _write(tmp_path / "t.csv", [HEADER, *ROWS], sep=sep, decimal=decimal)
    table = read_table_csv(path, text_columns=["id"], numeric_columns=["vibration"])
    pd.testing.assert_frame_equal(table, plain)
    assert table.attrs["csv_dialect"] == {
        "sep": sep, "decimal": decimal, "encoding": "utf-8"
    }
    assert table["id"].tolist() == ["007", "NA", ""]
    assert table["vibration"].dtype == np.float64
    np.testing.assert_array_equal(table["drive_load"], [-0.25, 300.0, 4.75])


def test_read_table_csv_given_dialect_is_used(tmp_path, plain):
    """Check that a given ``sep`` and ``decimal`` are used as given, and that
    a wrong ``sep`` is refused with the delimiter the file seems to use."""
    path = _write(tmp_path / "eu.csv", [HEADER, *ROWS], sep=";", decimal=",")
    table = read_table_csv(path, sep=";", decimal=",", text_columns=["id"],
                           numeric_columns=["vibration"])
    pd.testing.assert_frame_equal(table, plain)
    with pytest.raises(DataFormatError, match="seems separated by ';' rather than ','"):
        read_table_csv(path, sep=",")
    with pytest.raises(DataFormatError, match="Column 'vibration' .* must hold"):
        read_table_csv(path, decimal=".", numeric_columns=["vibration"])


def test_read_table_csv_encoding(tmp_path):
    """Check that a latin-1 file is refused by default, naming the byte and
    the option, and reads with ``encoding="latin-1"``."""
    path = _write(tmp_path / "latin.csv", [HEADER, *ROWS], encoding="latin-1")
    message = (r"not a text CSV table in UTF-8: byte 0xe9 at position \d+ is not "
               r"UTF-8 text\. .*`encoding='latin-1'`")
    with pytest.raises(DataFormatError, match=message):
        read_table_csv(path)
    table = read_table_csv(path, encoding="latin-1")
    assert table["label"].tolist() == ["a", "b", "é"]
    assert table.attrs["csv_dialect"]["encoding"] == "latin-1"
    with pytest.raises(DataFormatError, match="Unknown encoding 'klingon'"):
        read_table_csv(path, encoding="klingon")
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes("a,b\n1,2\n".encode("utf-16"))
    with pytest.raises(DataFormatError, match="not a text CSV table in UTF-8"):
        read_table_csv(utf16)


@pytest.mark.parametrize(
    "text",
    [
        'a,b,c\n1,2,3\n4,"two\nlines",6',  # a line break in the last quoted cell
        'a,b,c,\n1,2,3\n4,5,6',  # a trailing unnamed column the rows leave out
        'a,b,c\n1,2\n4,5',  # every row leaves out the last cell
        'a;b;c\r\n1;2;3\r\n4;5;"6\r\n7"',
        'a;b;c\n1;2;3\n4;"x\ny";',
    ],
    ids=["quoted line break", "unnamed last column", "short rows", "semicolons",
         "empty last cell"],
)
def test_read_table_csv_complete_table_is_not_called_truncated(tmp_path, text):
    """Check that complete tables without a final line break are read (they
    were called truncated before), with every row."""
    path = tmp_path / "complete.csv"
    path.write_bytes(text.encode())
    assert len(read_table_csv(path)) == 2


@pytest.mark.parametrize(
    "text, fields",
    [('a,b,c\n1,2,3\n4,5', 2), ('a,b,c\r\n1,2,3\r\n\r\n4', 1),
     ('a;b;c\n1;2;3\n4;"x\ny', 2)],
    ids=["cut", "cut after a blank line", "cut in a quoted cell"],
)
def test_read_table_csv_cut_table_is_refused(tmp_path, text, fields):
    """Check that a last row cut short, without a final line break, is
    refused (with the number of fields it has, when it can be parsed)."""
    path = tmp_path / "cut.csv"
    path.write_bytes(text.encode())
    message = f"looks truncated: .* has {fields} of|EOF inside string"
    with pytest.raises(DataFormatError, match=message):
        read_table_csv(path)


def test_read_table_csv_numeric_columns_name_bad_cells(tmp_path):
    """Check that a numeric column with text or infinity is refused with the
    cells and their lines, also with decimal commas."""
    rows = [HEADER, *ROWS, ["9", "high", "1", "c"], ["10", "1e400", "1", "d"]]
    path = _write(tmp_path / "bad.csv", rows, sep=";", decimal=",")
    with pytest.raises(DataFormatError, match=re.escape(
        "must hold numbers, but 1 cell(s) do not: 'high' (line 5)"
    )):
        read_table_csv(path, numeric_columns=["vibration"])
    table = read_table_csv(path, numeric_columns=["drive_load"])
    np.testing.assert_array_equal(table["drive_load"], [-0.25, 300, 4.75, 1, 1])
    with pytest.raises(DataFormatError, match="must hold finite numbers"):
        read_table_csv(_write(tmp_path / "inf.csv", [HEADER, rows[-1]]),
                       numeric_columns=["vibration"])


@pytest.mark.parametrize(
    "text, message",
    [("", "No columns to parse"), ("a,b\n", "has a header but no rows"),
     ("a,a\n1,2\n", r"repeats the column name\(s\) \['a'\]")],
)
def test_read_table_csv_bad_layout(tmp_path, text, message):
    """Check that an empty file, a header without rows and a repeated column
    name are refused."""
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(DataFormatError, match=message):
        read_table_csv(path)
