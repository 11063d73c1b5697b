"""Reading plant tables from CSV files: the dialect detected or given, the
layout checked, ids kept as text and readings as checked numbers."""

import codecs
import csv
import io
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype

from .._sklearn_compat import StrOptions, validate_params
from ..exceptions import DataFormatError

__all__ = ["read_table_csv"]

#: Delimiters tried when none is given, the first preferred on a tie.
_DELIMITERS = (",", ";", "\t", "|")

#: Bytes read from the start of a file to detect its dialect.
_SAMPLE_BYTES = 65536

#: A number written with a decimal comma, and one written with a point.
_COMMA_NUMBER = re.compile(r"[+-]?\d+,\d+([eE][+-]?\d+)?")
_POINT_NUMBER = re.compile(r"[+-]?\d*\.\d+([eE][+-]?\d+)?")


@validate_params(
    {
        "path": [str, os.PathLike],
        "sep": [StrOptions(set(_DELIMITERS)), None],
        "decimal": [StrOptions({".", ","}), None],
        "encoding": [str, None],
        "text_columns": [list, tuple],
        "numeric_columns": [list, tuple],
    },
    prefer_skip_nested_validation=True,
)
def read_table_csv(
    path, *, sep=None, decimal=None, encoding=None, text_columns=(),
    numeric_columns=(),
):
    """Read a table of sensor readings from a CSV file, with checks.

    Empty cells (and ``NA``, ``NaN``) are missing values; spaces after a
    delimiter are skipped. A file that is not text in its encoding, that
    looks cut short, repeats a column name or has no row is refused with a
    :class:`~sksteel.exceptions.DataFormatError` saying what is wrong and
    how to fix it. This is the reader of the ``sksteel`` command.

    Parameters
    ----------
    path : str or path-like
        The CSV file.
    sep : {",", ";", "\\\\t", "|"}, default=None
        The delimiter. By default it is detected from the first lines: the
        candidate that splits the header into most columns consistently
        with the rows, a comma on a tie.
    decimal : {".", ","}, default=None
        The decimal mark of the numbers. By default a point, or a comma
        when the table is not comma-separated and its numbers are written
        with decimal commas only (a European spreadsheet export).
    encoding : str, default=None
        The text encoding, such as ``"latin-1"`` or ``"cp1252"``. By
        default UTF-8 (with or without a byte-order mark); a file that is
        not UTF-8 is refused with the position of the first byte that is
        not, rather than guessed.
    text_columns : list of str, default=()
        Columns read as text, exactly as written, when present (ids carried
        into an output): no number guessing and no missing value, so that
        ``007``, ``NA`` and an empty cell come back unchanged.
    numeric_columns : list of str, default=()
        Columns that must hold numbers, when present: they are returned as
        float64, empty cells as NaN. A cell that is not a number, or not a
        finite one, is refused with its line in the file.

    Returns
    -------
    table : DataFrame
        The table. ``table.attrs["csv_dialect"]`` is a dict of the
        ``sep``, ``decimal`` and ``encoding`` used, given or detected.

    Raises
    ------
    DataFormatError
        When the file cannot be read as a CSV table in the dialect, or its
        layout or a numeric column is unusable.

    Examples
    --------
    A European export, separated by semicolons with decimal commas:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from sksteel.io import read_table_csv
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "line.csv"
    ...     _ = path.write_text("id;vibration\\n007;1,5\\n008;\\n")
    ...     table = read_table_csv(path, text_columns=["id"],
    ...                            numeric_columns=["vibration"])
    >>> table
        id  vibration
    0  007        1.5
    1  008        NaN
    >>> table.attrs["csv_dialect"]
    {'sep': ';', 'decimal': ',', 'encoding': 'utf-8'}
    """
    given_encoding = encoding is not None
    encoding = "utf-8" if encoding is None else encoding
    sample = _sample_text(path, encoding, given_encoding)
    sep = _detect_sep(sample) if sep is None else sep
    decimal = _detect_decimal(sample, sep) if decimal is None else decimal
    dialect = {"sep": sep, "decimal": decimal, "encoding": encoding}
    read = _reader(path, dialect, given_encoding)
    table = read(low_memory=False)
    header = read(header=None, nrows=1, dtype=str, na_filter=False).iloc[0]
    _check_layout(table, header, path, dialect)
    text = [i for i, dtype in enumerate(table.dtypes) if not is_numeric_dtype(dtype)]
    if text:
        # pandas leaves blank and NA cells as text in some columns it cannot
        # parse as numbers (one holding a 40-digit integer, say): read the
        # text columns again as text, where they are NaN
        table.iloc[:, text] = read(usecols=text, dtype=str, low_memory=False).to_numpy()
    kept = [i for i, name in enumerate(table.columns) if name in text_columns]
    if kept:
        as_written = read(
            usecols=kept, dtype=str, keep_default_na=False, low_memory=False
        )
        for position, name in zip(kept, table.columns[kept]):
            table[name] = as_written.iloc[:, kept.index(position)].to_numpy(object)
    for column in [c for c in numeric_columns if c in table.columns]:
        table[column] = _numeric_column(table[column], path, decimal)
    table.attrs["csv_dialect"] = dialect
    return table


def _reader(path, dialect, given_encoding):
    """``read(**kwargs)``: ``pd.read_csv`` of ``path`` in ``dialect``, its
    errors as :class:`DataFormatError`."""

    def read(**kwargs):
        try:
            return pd.read_csv(
                path, sep=dialect["sep"], decimal=dialect["decimal"],
                encoding=dialect["encoding"], skipinitialspace=True, **kwargs,
            )
        except UnicodeError as error:
            raise _not_text(path, dialect["encoding"], given_encoding) from error
        except (pd.errors.EmptyDataError, pd.errors.ParserError) as error:
            raise DataFormatError(
                f"{str(path)!r} is not a readable CSV table: {_one_line(error)}"
            ) from error

    return read


def _one_line(error):
    """The message of ``error`` on one line (pandas' may not be)."""
    return " ".join(line.strip() for line in str(error).splitlines() if line.strip())


def _sample_text(path, encoding, given_encoding):
    """The first bytes of ``path`` as text (a character cut at the end is
    dropped); a file that is not text in ``encoding`` is refused."""
    with open(path, "rb") as file:
        data = file.read(_SAMPLE_BYTES)
        final = not file.read(1)
    try:
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        text = decoder.decode(data, final=final)
    except LookupError as error:
        raise DataFormatError(
            f"Unknown encoding {encoding!r}; name one Python knows, such as "
            "'utf-8', 'latin-1' or 'cp1252'."
        ) from error
    except UnicodeError as error:
        raise _not_text(path, encoding, given_encoding) from error
    return text.removeprefix("\ufeff")


def _not_text(path, encoding, given_encoding):
    """The error for a file that is not text in ``encoding``."""
    try:
        Path(path).read_bytes().decode(encoding)
    except UnicodeDecodeError as error:
        where = (
            f": byte {error.object[error.start]:#04x} at position {error.start} "
            f"is not {encoding.upper() if not given_encoding else encoding} text"
        )
    else:
        where = ""
    advice = (
        "Check the `encoding`." if given_encoding else
        "Save the table as CSV (UTF-8), or give its encoding "
        "(`--encoding latin-1` on the command line, `encoding='latin-1'` in "
        "Python)."
    )
    what = "UTF-8" if not given_encoding else repr(encoding)
    return DataFormatError(
        f"{str(path)!r} is not a text CSV table in {what}{where}. {advice}"
    )


def _sample_lines(sample, n_lines=20):
    """The first complete lines of ``sample`` (the last may be cut)."""
    lines = sample.splitlines()
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]
    return [line for line in lines if line.strip()][:n_lines]


def _detect_sep(sample):
    """The delimiter that splits the sampled header into most columns,
    consistently with the rows; a comma on a tie or when none splits it."""
    lines = _sample_lines(sample)
    best, best_score = ",", (1, 0)
    for delimiter in _DELIMITERS:
        try:
            rows = list(csv.reader(lines, delimiter=delimiter, skipinitialspace=True))
        except csv.Error:
            continue
        if not rows or len(rows[0]) < 2:
            continue
        consistent = sum(len(row) == len(rows[0]) for row in rows[1:])
        score = (consistent, len(rows[0]))
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _detect_decimal(sample, sep):
    """A comma when the table is not comma-separated and its numbers use
    decimal commas only, else a point."""
    if sep == ",":
        return "."
    rows = csv.reader(_sample_lines(sample)[1:], delimiter=sep, skipinitialspace=True)
    cells = [cell.strip() for row in rows for cell in row]
    commas = sum(bool(_COMMA_NUMBER.fullmatch(cell)) for cell in cells)
    points = sum(bool(_POINT_NUMBER.fullmatch(cell)) for cell in cells)
    return "," if commas and not points else "."


def _check_layout(table, header, path, dialect):
    """Refuse a table separated by another character than ``sep``, with a
    column name used twice (``header``: the names as written), no row, or
    a last row cut short."""
    if len(table.columns) == 1:
        name = str(table.columns[0])
        for delimiter in _DELIMITERS:
            if delimiter != dialect["sep"] and delimiter in name:
                raise DataFormatError(
                    f"{str(path)!r} seems separated by {delimiter!r} rather than "
                    f"{dialect['sep']!r}: its only column is {name[:60]!r}. Give "
                    f"its delimiter (`--sep {delimiter!r}`, `sep={delimiter!r}`) "
                    "or let it be detected."
                )
    repeated = sorted(set(header[header.duplicated()]))
    if repeated:
        raise DataFormatError(
            f"{str(path)!r} repeats the column name(s) {repeated!r}; rename or "
            "remove the copies so that each column has its own name."
        )
    if len(table) == 0:
        raise DataFormatError(
            f"{str(path)!r} has a header but no rows; add at least one row of "
            "readings."
        )
    cut = _cut_last_record(path, dialect, len(header))
    if cut is not None:
        n_fields, expected, text = cut
        raise DataFormatError(
            f"{str(path)!r} looks truncated: it does not end with a line "
            f"break and its last line has {n_fields} of the {expected} "
            f"fields ({text[:60]!r}). Export the table again, or end "
            "the last row with a line break if it is complete."
        )


def _cut_last_record(path, dialect, n_header, n_bytes=65536):
    """``(fields, expected, text)`` of the last record of ``path`` when the
    file does not end with a line break and that record has fewer fields
    than the header and the record before it; else None.

    Records are delimited as a CSV reader does: a line break inside a
    quoted cell does not start a record. Only the file's last ``n_bytes``
    are read; a last record longer than that is not checked.
    """
    with open(path, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        file.seek(max(0, size - n_bytes))
        tail = file.read()
    if not tail.strip() or tail.endswith((b"\n", b"\r")):
        return None
    text = tail.decode(dialect["encoding"], errors="replace").removeprefix("\ufeff")
    # a line break starts a record when the text after it holds an even
    # number of quotes: inside a quoted cell, the closing quote is unpaired
    starts, quotes = [], 0
    for position in range(len(text) - 1, -1, -1):
        if text[position] == '"':
            quotes += 1
        elif text[position] in "\r\n" and quotes % 2 == 0:
            starts.append(position + 1)
            if len(starts) == 4:  # room for blank lines between the records
                break
    if size <= n_bytes:
        starts.append(0)
    if not starts:
        return None
    suffix = io.StringIO(text[starts[-1]:], newline="")
    reader = csv.reader(suffix, delimiter=dialect["sep"], skipinitialspace=True)
    try:
        records = [record for record in reader if record]
    except csv.Error:
        return None  # pandas reported what it could not parse
    if len(records) < 2:
        return None
    last, before = records[-1], records[-2]
    if len(last) < len(before) and len(last) < n_header:
        last_line = text[starts[0]:] if starts[0] < len(text) else ""
        return len(last), n_header, last_line
    return None


def _numeric_column(column, path, decimal):
    """``column`` as floats; non-numeric or infinite values raise, blanks
    are NaN."""
    if is_numeric_dtype(column):
        values = column.astype(np.float64)
    else:
        text = column if decimal == "." else column.str.replace(",", ".", regex=False)
        values = pd.to_numeric(text, errors="coerce").astype(np.float64)
        # pandas before 2.1 reads a number beyond the float range as NaN,
        # later ones as inf: read it as inf whatever the version
        unread = values.isna() & text.notna()
        values[unread] = [_overflow(cell) for cell in text[unread]]
    not_numbers = values.isna() & column.notna()
    too_large = np.isinf(values)
    for bad, what in [(not_numbers, "numbers"), (too_large, "finite numbers")]:
        if bad.any():
            raise DataFormatError(
                f"Column {column.name!r} of {str(path)!r} must hold {what}, but "
                f"{int(bad.sum())} cell(s) do not: {_cells(column, bad)}. "
                "Fix those cells, or leave them empty for a missing reading."
            )
    return values


def _overflow(cell):
    """``cell`` as +-inf when it is a number beyond the float range, else NaN."""
    try:
        number = float(cell)
    except (TypeError, ValueError):
        return np.nan
    return number if np.isinf(number) else np.nan


def _cells(column, bad):
    """The first few flagged cells of ``column`` with their line in the file."""
    # line 1 of the file is the header
    return ", ".join(
        f"{value!r} (line {position + 2})"
        for position, value in zip(np.flatnonzero(bad)[:3], column[bad][:3])
    )
