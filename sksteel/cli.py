"""The ``sksteel`` command. It parses arguments, calls the public Python API
and formats what it returns; everything it does is reachable from Python.

Subcommands:

- ``sksteel fit TABLE.csv --target COLUMN --out MODEL.skops``: train a
  :class:`~sksteel.models.SteelNetClassifier` on a CSV table of sensor
  readings and save it (:func:`sksteel.io.save_model`);
- ``sksteel predict MODEL.skops TABLE.csv --out PREDICTIONS.csv``: load a
  model (:func:`sksteel.io.load_model`) and write, per row of a CSV table,
  the class, its probabilities, the intensity and the top sensors
  (:meth:`~sksteel.models.SteelNetClassifier.explain`);
- ``sksteel reproduce``: every experiment of the paper on the built-in data
  (or a Kaggle Severstal directory), written as a report
  (:func:`sksteel.experiments.reproduce`).
"""

import argparse
import csv
import errno
import functools
import os
import re
import shlex
import shutil
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype

from . import __version__
from ._schema import SENSOR_NAMES, TEMP_PREFIX
from .exceptions import DataFormatError, NotFittedError

__all__ = ["main"]

#: File problems the user can fix, reported in one line like data errors.
_FILE_ERRORS = (
    FileExistsError,
    FileNotFoundError,
    IsADirectoryError,
    NotADirectoryError,
    PermissionError,
)


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {text!r}")
    return value


def _add_reproduce(subparsers):
    parser = subparsers.add_parser(
        "reproduce",
        help="rebuild the paper's experiments and write a report",
        description=(
            "Build the SteelNet data set, train SteelNet and the baselines on "
            "identical splits and seeds, and report Table 1, the attributions, "
            "robustness to failing sensors, the ablation and timings as mean "
            "+- sd over seeds, beside the paper's numbers. Writes results.json, "
            "report.md, report.html and figures/ under --out."
        ),
    )
    parser.add_argument(
        "--data", metavar="PATH", default=None,
        help="a Kaggle-format Severstal directory (train.csv, train_images/) "
        "or a train.csv file; default: the built-in synthetic surfaces",
    )
    parser.add_argument(
        "--out", metavar="DIR", default="sksteel-reproduce",
        help="output directory (default: %(default)s)",
    )
    parser.add_argument(
        "--seeds", metavar="N", type=_positive_int, default=3,
        help="number of seeds; scores are mean +- sd over them (default: 3)",
    )
    parser.add_argument(
        "--quick", action="store_true",
        help="one seed, few epochs, small ensembles (and a tiny image model "
        "with --intensity model): checks that everything runs (about 2 "
        "minutes); not a result",
    )
    parser.add_argument(
        "--intensity", choices=("masks", "model"), default="masks",
        help="where the defect fractions behind the intensity come from: the "
        "annotated masks, or the image model (DefectSegmenter, a U-Net "
        "cross-fitted on the images; renders the built-in surfaces and "
        "trains it: minutes more on 2 cores, once, as the data set is "
        "cached) (default: %(default)s)",
    )
    parser.add_argument(
        "--n-jobs", type=int, default=-1,
        help="processes for fitting and scoring; -1 uses every core "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="do not print the running stage"
    )
    parser.add_argument(
        "--n-normal", metavar="N", type=_positive_int, default=5902,
        help="defect-free samples in the data set (default: %(default)s, the "
        "paper's); lower it for a directory with fewer images",
    )
    parser.add_argument(
        "--n-per-class", metavar="N", type=_positive_int, default=200,
        help="samples per defect class (default: %(default)s, the paper's)",
    )
    parser.set_defaults(handler=_reproduce)


def _reproduce(args, argv):
    from .experiments import headline_table, reproduce

    results = reproduce(
        args.data,
        args.out,
        seeds=args.seeds,
        quick=args.quick,
        intensity=args.intensity,
        n_normal=args.n_normal,
        n_per_class=args.n_per_class,
        n_jobs=args.n_jobs,
        progress=not args.quiet,
        command=shlex.join(["sksteel", *argv]),
    )
    table = headline_table(results)
    print(table.to_string(index=False))
    print(f"\nReport: {args.out}/report.md, {args.out}/report.html")
    return 0


#: Columns carried from the input table into the predictions, when present.
_ID_COLUMNS = ("id", "image_id", "ImageId")


def _one_line(error):
    """The message of ``error`` on one line (pandas' and sklearn's may not be)."""
    return " ".join(line.strip() for line in str(error).splitlines() if line.strip())


def _first_non_utf8_byte(path):
    """``(byte, position)`` of the first byte of ``path`` that is not UTF-8."""
    data = Path(path).read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        return data[error.start], error.start
    return None


def _read_table(path, text_columns=()):
    """The CSV at ``path``; empty cells (and ``NA``, ``NaN``) become NaN.

    The ``text_columns`` present (ids carried into an output) are read as
    text, as written: no number guessing and no missing value, so that
    ``007``, ``NA`` and an empty cell come back unchanged.
    Spaces after a comma are skipped. A file that is not UTF-8 text or not
    a CSV table is refused with a message saying so, and so is a table
    that :func:`_check_layout` refuses.
    """
    try:
        table = pd.read_csv(path, skipinitialspace=True, low_memory=False)
        header = pd.read_csv(
            path, header=None, nrows=1, dtype=str, na_filter=False,
            skipinitialspace=True,
        ).iloc[0]
    except (UnicodeError, pd.errors.EmptyDataError, pd.errors.ParserError) as error:
        not_utf8 = _first_non_utf8_byte(path)
        if not_utf8 is not None:
            raise DataFormatError(
                f"{str(path)!r} is not a text CSV table in UTF-8: byte "
                f"{not_utf8[0]:#04x} at position {not_utf8[1]} is not UTF-8 text. "
                "Save the table as CSV (UTF-8)."
            ) from error
        raise DataFormatError(
            f"{str(path)!r} is not a readable CSV table: {_one_line(error)}"
        ) from error
    _check_layout(table, header, path)
    text = [i for i, dtype in enumerate(table.dtypes) if not is_numeric_dtype(dtype)]
    if text:
        # pandas leaves blank and NA cells as text in some columns it cannot
        # parse as numbers (one holding a 40-digit integer, say): read the
        # text columns again as text, where they are NaN
        table.iloc[:, text] = pd.read_csv(
            path, usecols=text, dtype=str, skipinitialspace=True, low_memory=False
        ).to_numpy()
    kept = [i for i, name in enumerate(table.columns) if name in text_columns]
    if kept:
        as_written = pd.read_csv(
            path, usecols=kept, dtype=str, keep_default_na=False,
            skipinitialspace=True, low_memory=False,
        )
        for position, name in zip(kept, table.columns[kept]):
            table[name] = as_written.iloc[:, kept.index(position)].to_numpy(object)
    return table


def _check_layout(table, header, path):
    """Refuse a table separated by another character than commas, with a
    column name used twice (``header``: the names as written) or no row."""
    if len(table.columns) == 1:
        name = str(table.columns[0])
        for delimiter in (";", "\t", "|"):
            if delimiter in name:
                raise DataFormatError(
                    f"{str(path)!r} seems separated by {delimiter!r} rather than "
                    f"commas: its only column is {name[:60]!r}. Save it as a "
                    "comma-separated CSV table."
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
    last_line = _unterminated_last_line(path)
    if last_line is not None:
        n_fields = len(next(csv.reader([last_line]), []))
        if n_fields < len(header):
            raise DataFormatError(
                f"{str(path)!r} looks truncated: it does not end with a line "
                f"break and its last line has {n_fields} of the {len(header)} "
                f"fields ({last_line[:60]!r}). Export the table again, or end "
                "the last row with a line break if it is complete."
            )


def _unterminated_last_line(path, n_bytes=65536):
    """The last line of ``path`` when the file does not end with a line
    break, else None (only the file's last ``n_bytes`` are read)."""
    with open(path, "rb") as file:
        file.seek(max(0, os.fstat(file.fileno()).st_size - n_bytes))
        tail = file.read()
    if not tail.strip() or tail.endswith((b"\n", b"\r")):
        return None
    return tail.splitlines()[-1].decode("utf-8", errors="replace")


def _numeric_columns(table, columns, path):
    """``table[columns]`` as floats; non-numeric values raise, blanks are NaN."""
    numeric = {}
    for column in columns:
        values = pd.to_numeric(table[column], errors="coerce").astype(np.float64)
        not_numbers = values.isna() & table[column].notna()
        too_large = np.isinf(values)
        for bad, what in [(not_numbers, "numbers"), (too_large, "finite numbers")]:
            if bad.any():
                raise DataFormatError(
                    f"Column {column!r} of {str(path)!r} must hold {what}, but "
                    f"{int(bad.sum())} cell(s) do not: {_cells(table[column], bad)}. "
                    "Fix those cells, or leave them empty for a missing reading."
                )
        numeric[column] = values
    return pd.DataFrame(numeric, index=table.index)


def _cells(column, bad):
    """The first few flagged cells of ``column`` with their line in the file."""
    # line 1 of the file is the header
    return ", ".join(
        f"{value!r} (line {position + 2})"
        for position, value in zip(np.flatnonzero(bad)[:3], column[bad][:3])
    )


def _require_columns(table, columns, path, what):
    missing = [column for column in columns if column not in table.columns]
    if missing:
        raise DataFormatError(
            f"{str(path)!r} has no {what} column(s) {missing!r}; its columns are "
            f"{list(table.columns)!r}."
        )


def _feature_columns(table, features, path):
    """The feature columns: ``--features``, or the ten sensors."""
    if features is None:
        missing = [name for name in SENSOR_NAMES if name not in table.columns]
        if missing:
            raise DataFormatError(
                f"{str(path)!r} lacks the sensor column(s) {missing!r}, so the "
                "features cannot default to the ten sensors; its columns are "
                f"{list(table.columns)!r}. Name the feature columns with "
                "`--features a,b,c`."
            )
        return list(SENSOR_NAMES)
    names = [name.strip() for name in features.split(",") if name.strip()]
    if not names or len(set(names)) != len(names):
        raise DataFormatError(
            "`--features` must name distinct columns separated by commas; got "
            f"{features!r}."
        )
    _require_columns(table, names, path, "feature")
    return names


def _check_output(out, force, inputs):
    """Check ``--out`` before the long work starts.

    It must not be one of the ``inputs`` (``{what: path}``), a folder, or an
    existing file without ``force``; its folder must exist and be writable.
    The temporary files that killed runs left in that folder are removed.
    """
    started = time.time()
    out = Path(out)
    _refuse_inputs(out, inputs)
    if out.is_dir():
        raise IsADirectoryError(
            f"`--out` {str(out)!r} is a folder; give the path of a file in it."
        )
    if out.exists() and not force:
        raise FileExistsError(
            f"{str(out)!r} already exists; pass `--force` to replace it, or choose "
            "another `--out`."
        )
    if not out.parent.is_dir():
        raise FileNotFoundError(
            f"The folder {str(out.parent)!r} of `--out` does not exist; create it "
            "first."
        )
    _remove_stale_temporaries(out.parent, started)
    _check_writable(out.parent)
    return out


def _refuse_inputs(out, inputs):
    """Refuse an output that is one of the ``inputs``, ``--force`` or not."""
    for what, path in inputs.items():
        if _same_file(out, Path(path)):
            raise FileExistsError(
                f"The output {str(out)!r} is the {what} {str(path)!r}; sksteel "
                "never writes over its inputs, even with `--force`. Choose "
                "another `--out`."
            )


def _same_file(a, b):
    """Whether ``a`` and ``b`` are one file (through links too)."""
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _check_writable(folder):
    """Create and remove a file in ``folder``, or say that it is not writable."""
    probe = _temporary_path(folder / "probe")
    try:
        os.close(os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except OSError as error:
        if error.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise
        raise PermissionError(
            f"Cannot write into {str(folder)!r}, the folder of `--out` "
            f"({error.strerror}); choose a folder you can write to, or change "
            "its permissions."
        ) from error
    probe.unlink()


def _temporary_path(out):
    """A new name beside ``out``: the prefix, the process id, a random part."""
    # the process id tells a later run whether the writer is still running
    name = f"{TEMP_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:16]}-{out.name[-100:]}"
    return out.with_name(name)


def _remove_stale_temporaries(folder, started):
    """Remove the temporary files in ``folder`` that runs killed before
    ``started`` (a time) left behind; those of running writers are kept."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        # save_model writes its own temporary file beside ours: ".<ours>..."
        if not entry.name.startswith((TEMP_PREFIX, "." + TEMP_PREFIX)):
            continue
        start = entry.name.index(TEMP_PREFIX) + len(TEMP_PREFIX)
        pid = entry.name[start:].split("-")[0]
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            if entry.stat(follow_symlinks=False).st_mtime >= started:
                continue
            if pid.isdigit() and _is_running(int(pid)):
                continue
            os.unlink(entry.path)
        except OSError:
            pass  # gone meanwhile, or not ours to remove


def _is_running(pid):
    """Whether a process ``pid`` runs on this machine (unknown: False)."""
    if os.name != "posix":
        return False  # os.kill would end the process on Windows
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _write_output(write, out, force, inputs):
    """Publish an output that ``write(path)`` writes to a temporary file.

    The temporary file is beside ``out`` and carries :data:`TEMP_PREFIX`.
    With ``force`` it replaces ``out`` (``os.replace``); without, it is
    hard-linked to ``out``, which fails if ``out`` exists, whatever ran
    meanwhile: of concurrent writers exactly one succeeds.
    """
    temporary = _temporary_path(out)
    os.close(os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    try:
        write(temporary)
        _refuse_inputs(out, inputs)
        if force:
            os.replace(temporary, out)
        else:
            _publish_new(temporary, out)
    finally:
        temporary.unlink(missing_ok=True)


def _publish_new(temporary, out):
    """Give ``temporary`` the name ``out``, which must not exist."""
    try:
        try:
            os.link(temporary, out)
        except OSError as error:
            no_links = (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK)
            if isinstance(error, FileExistsError) or error.errno not in no_links:
                raise
            # a file system without hard links: create ``out`` exclusively
            with open(temporary, "rb") as source, open(out, "xb") as target:
                shutil.copyfileobj(source, target)
    except FileExistsError:
        raise FileExistsError(
            f"{str(out)!r} was created by another program while this command "
            "ran, and is kept as it is; pass `--force` to replace it, or choose "
            "another `--out`."
        ) from None


#: First characters that make a spreadsheet read a cell as a formula (OWASP).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

#: A plain decimal number, which a spreadsheet reads as that number.
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _spreadsheet_safe_text(text):
    """``text`` with a leading ``'`` when a spreadsheet would evaluate it."""
    if _NUMBER.fullmatch(text):
        return text
    # some spreadsheets skip leading spaces and quotes before a formula
    after_blanks = text.lstrip(" \t\r\n'\"")
    if text.startswith(_FORMULA_STARTS) or after_blanks.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def _spreadsheet_safe(frame):
    """``frame`` with its text cells and headers made spreadsheet-safe;
    numeric columns are kept as they are."""
    safe = frame.copy()
    for column in frame.columns:
        if not is_numeric_dtype(frame[column]):
            safe[column] = frame[column].map(
                lambda value: _spreadsheet_safe_text(value)
                if isinstance(value, str) else value
            )
    safe.columns = [_spreadsheet_safe_text(str(column)) for column in frame.columns]
    return safe


def _add_output(parser, metavar, help):
    """``--out`` (required) and ``--force``."""
    parser.add_argument("--out", required=True, metavar=metavar, help=help)
    parser.add_argument(
        "--force", action="store_true", help="replace --out if it exists"
    )


def _add_fit(subparsers):
    parser = subparsers.add_parser(
        "fit",
        help="train SteelNet on a CSV table and save the model",
        description=(
            "Train a SteelNetClassifier on a CSV table (comma-separated, UTF-8) "
            "of sensor readings and classes, and save it as a skops file "
            "(sksteel.io.save_model). "
            "Empty cells are missing readings. The features are the ten sensor "
            "columns by default; the columns are matched by name."
        ),
    )
    parser.add_argument("table", metavar="TABLE.csv", help="the training table")
    parser.add_argument(
        "--target", required=True, metavar="COLUMN",
        help="the column holding the class of each row, e.g. defect_class",
    )
    parser.add_argument(
        "--intensity-column", metavar="COLUMN", default=None,
        help="a column of defect intensities to train the intensity head on "
        "(empty where unknown); default: no intensity head",
    )
    parser.add_argument(
        "--features", metavar="A,B,C", default=None,
        help="comma-separated feature columns; default: the ten sensors "
        f"({', '.join(SENSOR_NAMES)})",
    )
    _add_output(parser, "MODEL.skops", "the model file to write")
    parser.add_argument(
        "--max-epochs", metavar="N", type=_positive_int, default=50,
        help="maximum training epochs (default: %(default)s)",
    )
    parser.add_argument(
        "--random-state", metavar="N", type=int, default=0,
        help="seed of the training (default: %(default)s)",
    )
    parser.set_defaults(handler=_fit)


def _fit(args, argv):
    from .io import save_model
    from .models import SteelNetClassifier

    inputs = {"input table": args.table}
    out = _check_output(args.out, args.force, inputs)
    table = _read_table(args.table)
    features = _feature_columns(table, args.features, args.table)
    _require_columns(table, [args.target], args.table, "target")
    labels = [args.target, args.intensity_column]
    overlap = [column for column in labels if column in features]
    if overlap:
        raise DataFormatError(
            f"{overlap!r} cannot be both a feature and the target or intensity; "
            "leave it out of `--features`."
        )
    y = table[args.target]
    if y.isna().any():
        lines = (np.flatnonzero(y.isna())[:5] + 2).tolist()
        raise DataFormatError(
            f"The target column {args.target!r} has {int(y.isna().sum())} empty "
            f"cell(s) (lines {lines}); fill them in or drop those rows."
        )
    if y.dtype.kind == "f" and not (np.mod(y, 1) == 0).all():
        raise DataFormatError(
            f"The target column {args.target!r} must hold class labels, but "
            f"holds numbers that are not whole: {_cells(y, np.mod(y, 1) != 0)}. "
            "Give one class per row (say 0-4, or class names)."
        )
    intensity = None
    if args.intensity_column is not None:
        column = args.intensity_column
        _require_columns(table, [column], args.table, "intensity")
        intensity = _numeric_columns(table, [column], args.table)[column]
    X = _numeric_columns(table, features, args.table)
    model = SteelNetClassifier(
        max_epochs=args.max_epochs, random_state=args.random_state
    ).fit(X, y.to_numpy(), intensity=intensity)
    _write_output(
        lambda path: save_model(model, path, overwrite=True), out, args.force, inputs
    )
    print(
        f"Trained SteelNet on {len(X)} rows, {len(features)} features, classes "
        f"{model.classes_.tolist()}{' and intensity' if intensity is not None else ''}"
        f"; saved to {out}."
    )
    return 0


def _add_predict(subparsers):
    parser = subparsers.add_parser(
        "predict",
        help="predict classes, intensities and sensors for a CSV table",
        description=(
            "Load a model saved by `sksteel fit` (or sksteel.io.save_model) and "
            "write one row of predictions per row of the table: the row number, "
            "the id column if any (id, image_id or ImageId), predicted_class, "
            "proba_<class> per class, intensity (when the model was trained "
            "with one) and the top sensors with their attribution weights. "
            "The table is comma-separated UTF-8 text; columns are matched by "
            "name, in any order; other columns are ignored; empty cells are "
            "missing readings. Id cells are written back exactly as read. "
            "Text cells and headers that a spreadsheet would read as a "
            "formula (starting with =, +, -, @, a tab or a carriage return, "
            "also after spaces or quotes) get a leading ' (as OWASP "
            "recommends); numbers, including text such as -5, are kept."
        ),
    )
    parser.add_argument("model", metavar="MODEL.skops", help="the model file")
    parser.add_argument("table", metavar="TABLE.csv", help="the readings")
    _add_output(parser, "PREDICTIONS.csv", "the predictions to write")
    parser.add_argument(
        "--top-k", metavar="K", type=_positive_int, default=3,
        help="number of most-attributed sensors per row (default: %(default)s)",
    )
    parser.add_argument(
        "--raw-text", action="store_true",
        help="write text cells as they are, without the leading ' that keeps "
        "a spreadsheet from evaluating formulas",
    )
    parser.set_defaults(handler=_predict)


def _predict(args, argv):
    from .io import load_model

    inputs = {"model file": args.model, "input table": args.table}
    out = _check_output(args.out, args.force, inputs)
    model = load_model(args.model)
    features = getattr(model, "feature_names_in_", None)
    if features is None:
        raise DataFormatError(
            f"The model in {str(args.model)!r} was trained without column names, "
            "so the table's columns cannot be matched to it; train it on a "
            "DataFrame (or with `sksteel fit`)."
        )
    carried = [c for c in _ID_COLUMNS if c not in features]
    table = _read_table(args.table, text_columns=carried)
    _require_columns(table, list(features), args.table, "feature")
    ids = [c for c in carried if c in table.columns]
    X = _numeric_columns(table, list(features), args.table)
    predictions = _predictions(model, X, args.top_k)
    ignored = [c for c in table.columns if c not in features and c not in ids]
    if ignored:
        print(f"sksteel: note: ignoring columns {ignored!r}", file=sys.stderr)
    predictions = pd.concat([table[ids], predictions], axis=1)
    predictions.index.name = "row"
    if not args.raw_text:
        predictions = _spreadsheet_safe(predictions)
    # CRLF lines (RFC 4180): Python's csv module then quotes a lone "\r"
    # too, which would otherwise end the row in the eyes of a reader
    write = functools.partial(predictions.to_csv, lineterminator="\r\n")
    _write_output(write, out, args.force, inputs)
    print(f"Wrote {len(predictions)} predictions to {out}.")
    return 0


def _predictions(model, X, top_k):
    """Class, probabilities, intensity and top sensors, one row per row of X."""
    proba = model.predict_proba(X)
    columns = {"predicted_class": model.classes_[np.argmax(proba, axis=1)]}
    for k, label in enumerate(model.classes_):
        columns[f"proba_{label}"] = proba[:, k]
    if hasattr(model, "predict_intensity"):
        try:
            columns["intensity"] = model.predict_intensity(X)
        except NotFittedError:
            pass  # trained without intensity: no column
    if hasattr(model, "explain"):
        attribution = model.explain(X)
        order = np.argsort(-attribution.to_numpy(), axis=1, kind="stable")
        weights = np.take_along_axis(attribution.to_numpy(), order, axis=1)
        names = attribution.columns.to_numpy()[order]
        for rank in range(min(top_k, attribution.shape[1])):
            columns[f"top_sensor_{rank + 1}"] = names[:, rank]
            columns[f"top_weight_{rank + 1}"] = weights[:, rank]
    return pd.DataFrame(columns, index=X.index)


def _add_segment(subparsers):
    parser = subparsers.add_parser(
        "segment",
        help="predict defect masks of a folder of images as a Kaggle submission",
        description=(
            "Load a DefectSegmenter saved with sksteel.io.save_model, predict "
            "the masks of every image (.jpg, .jpeg, .png) of IMAGES_DIR, in "
            "name order, and write them as a Kaggle submission: columns "
            "ImageId,EncodedPixels,ClassId, one row per image and class, an "
            "empty EncodedPixels where the class is absent "
            "(sksteel.vision.to_submission). Image names that lead outside "
            "IMAGES_DIR through symbolic links are refused."
        ),
    )
    parser.add_argument("images", metavar="IMAGES_DIR", help="the image folder")
    parser.add_argument(
        "--model", required=True, metavar="MODEL.skops", help="the segmenter file"
    )
    _add_output(parser, "SUBMISSION.csv", "the submission to write")
    parser.set_defaults(handler=_segment)


def _segment(args, argv):
    from .io import load_model
    from .vision import DefectSegmenter, to_submission

    inputs = {"model file": args.model}
    out = _check_output(args.out, args.force, inputs)
    folder = Path(args.images)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"IMAGES_DIR {str(folder)!r} is not a folder; pass the folder of the "
            "images to segment."
        )
    names = sorted(
        name
        for name in os.listdir(folder)
        if name.lower().endswith((".jpg", ".jpeg", ".png"))
    )
    if not names:
        raise DataFormatError(
            f"IMAGES_DIR {str(folder)!r} holds no .jpg, .jpeg or .png image."
        )
    model = load_model(args.model, trusted=[DefectSegmenter])
    if not isinstance(model, DefectSegmenter):
        raise DataFormatError(
            f"The model in {str(args.model)!r} is a {type(model).__name__}, not a "
            "DefectSegmenter; save a fitted DefectSegmenter with "
            "sksteel.io.save_model."
        )
    table = pd.DataFrame(
        {"ImageId": names, "image_path": [str(folder / name) for name in names]}
    )
    encodings = model.predict_rle(table)
    to_submission(
        pd.concat([table[["ImageId"]], encodings], axis=1), out, overwrite=args.force
    )
    print(f"Wrote the masks of {len(names)} image(s) to {out}.")
    return 0


def _parser():
    parser = argparse.ArgumentParser(
        prog="sksteel",
        description="SteelNet, scikit-learn style: learning defects and sensor "
        "attributions from failing process sensors.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    _add_fit(subparsers)
    _add_predict(subparsers)
    _add_reproduce(subparsers)
    _add_segment(subparsers)
    return parser


def main(argv=None):
    """Run the ``sksteel`` command.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments without the program name; by default ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 1 when the data or a setting cannot be used, 2 on a
        usage error, 130 when interrupted.

    Examples
    --------
    >>> from sksteel.cli import main
    >>> main([])  # doctest: +ELLIPSIS
    usage: sksteel ...
    2
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_usage(sys.stdout)
        return 2
    try:
        return args.handler(args, argv)
    except (DataFormatError, ValueError, *_FILE_ERRORS) as error:
        # the data, a file or a setting cannot be used: say why, without a
        # traceback
        print(f"sksteel: error: {_one_line(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            "\nInterrupted. The data set is cached: running the same command "
            "again starts from the models.",
            file=sys.stderr,
        )
        return 130


if __name__ == "__main__":
    sys.exit(main())
