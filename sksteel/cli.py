"""The ``sksteel`` command. It parses arguments, calls the public Python API
and formats what it returns; everything it does is reachable from Python.

Subcommands (one ``_add_<command>`` function each, listed in
:data:`_COMMANDS`):

- ``sksteel fit TABLE.csv --target COLUMN --out MODEL.skops``: train a
  :class:`~sksteel.models.SteelNetClassifier` on a CSV table of sensor
  readings (:func:`sksteel.io.read_table_csv`) and save it
  (:func:`sksteel.io.save_model`);
- ``sksteel predict MODEL.skops TABLE.csv --out PREDICTIONS.csv``: load a
  model (:func:`sksteel.io.load_model`) and write, per row of a CSV table,
  the class, its probabilities, the intensity, the top sensors
  (:meth:`~sksteel.models.SteelNetClassifier.explain`) and, with
  ``--explain``, the Shapley values of the predicted class
  (:func:`sksteel.inspection.shapley_values`);
- ``sksteel evaluate MODEL.skops TABLE.csv --target COLUMN``: score a
  labelled table (macro-F1, balanced accuracy, recall per class, confusion
  matrix);
- ``sksteel recommend MODEL.skops TABLE.csv --normal NORMAL.csv --out
  RECOMMENDATIONS.csv``: per row of a CSV table, the setpoint changes that
  bring it to "none" (:class:`~sksteel.recommend.SetpointRecommender`,
  fitted on the rows of normal operation in ``NORMAL.csv``);
- ``sksteel reproduce``: every experiment of the paper on the built-in data
  (or a Kaggle Severstal directory), written as a report
  (:func:`sksteel.experiments.reproduce`).

Errors of the data, the settings or the files (sksteel's own exception
classes, parameter validation and ``OSError``) are one line and status 1;
anything else is a bug and shows its traceback.
"""

import argparse
import ast
import difflib
import functools
import json
import os
import shlex
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__, exceptions
from ._outputs import check_output as _check_output
from ._outputs import spreadsheet_safe as _spreadsheet_safe
from ._outputs import write_output as _write_output
from ._schema import CLASS_NAMES, SENSOR_NAMES
from ._sklearn_compat import InvalidParameterError
from .exceptions import DataFormatError, NotFittedError
from .io import read_table_csv

__all__ = ["main"]

#: Errors the user can fix, reported in one line: sksteel's own, a setting
#: refused by parameter validation, and file errors.
_USER_ERRORS = (
    *(
        error for name in exceptions.__all__
        if isinstance(error := getattr(exceptions, name), type)
        and issubclass(error, Exception) and not issubclass(error, Warning)
    ),
    InvalidParameterError,
    OSError,
)

#: Columns carried from the input table into the predictions, when present.
_ID_COLUMNS = ("id", "image_id", "ImageId")

#: ``--sep`` values and the delimiter each stands for.
_SEPARATORS = {",": ",", ";": ";", "tab": "\t", "\\t": "\t", "\t": "\t", "|": "|"}

#: Decimals kept in probabilities, intensities and weights by default.
_DECIMALS = 6

#: What ``fit`` sets unless told otherwise (the estimator's other defaults
#: stay): the command trains at most 50 epochs, seeded.
_FIT_DEFAULTS = {"max_epochs": 50, "random_state": 0}


class _UsageError(Exception):
    """The command line is inconsistent: reported as a usage error (status 2)."""


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {text!r}")
    return value


def _one_line(error):
    """The message of ``error`` on one line (pandas' and sklearn's may not be)."""
    if isinstance(error, OSError) and error.filename and error.strerror:
        return f"{error.strerror}: {str(error.filename)!r}"
    return " ".join(line.strip() for line in str(error).splitlines() if line.strip())


# Tables ----------------------------------------------------------------


def _add_table_options(parser):
    """``--sep``, ``--decimal`` and ``--encoding``, for every table read."""
    group = parser.add_argument_group(
        "tables", "how the CSV tables are read; by default the delimiter and the "
        "decimal mark are detected (and reported when not ',' and '.') and the "
        "encoding is UTF-8",
    )
    group.add_argument(
        "--sep", choices=sorted(_SEPARATORS, key=len), default=None,
        metavar="{',',';',tab,'|'}",
        help="the delimiter of the tables; default: detected",
    )
    group.add_argument(
        "--decimal", choices=(".", ","), default=None,
        help="the decimal mark of the numbers; default: detected (',' only "
        "in tables not separated by commas)",
    )
    group.add_argument(
        "--encoding", default=None, metavar="NAME",
        help="the text encoding of the tables, e.g. latin-1 or cp1252; "
        "default: UTF-8",
    )


def _read_table(path, text_columns=(), *, numeric_columns=(), args=None):
    """The CSV at ``path`` (:func:`sksteel.io.read_table_csv`) in the dialect
    of ``args``' table options, or detected; a detected dialect other than
    commas and points is noted on stderr."""
    sep = getattr(args, "sep", None)
    table = read_table_csv(
        path,
        sep=None if sep is None else _SEPARATORS[sep],
        decimal=getattr(args, "decimal", None),
        encoding=getattr(args, "encoding", None),
        text_columns=list(text_columns),
        numeric_columns=list(numeric_columns),
    )
    dialect = table.attrs["csv_dialect"]
    detected = {
        key: dialect[key] for key, default in [("sep", ","), ("decimal", ".")]
        if getattr(args, key, None) is None and dialect[key] != default
    }
    if detected:
        described = ", ".join(f"{key} {value!r}" for key, value in detected.items())
        print(f"sksteel: note: read {str(path)!r} with {described} (detected)",
              file=sys.stderr)
    return table


def _numeric_columns(table, columns, path):
    """``table[columns]`` as floats; non-numeric values raise, blanks are NaN.

    Columns not read as numbers yet are read again from ``path`` as numeric
    columns (:func:`sksteel.io.read_table_csv` names the cells that are not).
    """
    columns = list(columns)
    if not all(table[column].dtype == np.float64 for column in columns):
        dialect = table.attrs.get("csv_dialect", {})
        table = read_table_csv(path, numeric_columns=columns, **dialect)
    return table[columns].astype(np.float64)


def _require_columns(table, columns, path, what):
    missing = [column for column in columns if column not in table.columns]
    if missing:
        raise DataFormatError(
            f"{str(path)!r} has no {what} column(s) {missing!r}; its columns are "
            f"{list(table.columns)!r}."
        )


def _feature_names(features):
    """The names of ``--features``, or None for the ten sensors."""
    if features is None:
        return None
    names = [name.strip() for name in features.split(",") if name.strip()]
    if not names or len(set(names)) != len(names):
        raise DataFormatError(
            "`--features` must name distinct columns separated by commas; got "
            f"{features!r}."
        )
    return names


def _feature_columns(table, names, path):
    """The feature columns: ``names`` (from ``--features``), or the ten sensors."""
    if names is None:
        missing = [name for name in SENSOR_NAMES if name not in table.columns]
        if missing:
            raise DataFormatError(
                f"{str(path)!r} lacks the sensor column(s) {missing!r}, so the "
                "features cannot default to the ten sensors; its columns are "
                f"{list(table.columns)!r}. Name the feature columns with "
                "`--features a,b,c`."
            )
        return list(SENSOR_NAMES)
    _require_columns(table, names, path, "feature")
    return names


def _check_target(y, column):
    """Refuse a target column with empty cells or fractional numbers."""
    if y.isna().any():
        lines = (np.flatnonzero(y.isna())[:5] + 2).tolist()
        raise DataFormatError(
            f"The target column {column!r} has {int(y.isna().sum())} empty "
            f"cell(s) (lines {lines}); fill them in or drop those rows."
        )
    if y.dtype.kind == "f" and not (np.mod(y, 1) == 0).all():
        bad = np.mod(y, 1) != 0
        cells = ", ".join(
            f"{value!r} (line {position + 2})"
            for position, value in zip(np.flatnonzero(bad)[:3], y[bad][:3])
        )
        raise DataFormatError(
            f"The target column {column!r} must hold class labels, but "
            f"holds numbers that are not whole: {cells}. "
            "Give one class per row (say 0-4, or class names)."
        )


# Outputs and model files -----------------------------------------------


def _add_output(parser, metavar, help):
    """``--out`` (required) and ``--force``."""
    parser.add_argument("--out", required=True, metavar=metavar, help=help)
    parser.add_argument(
        "--force", action="store_true", help="replace --out if it exists"
    )


def _add_raw_text(parser):
    """``--raw-text``: switch off the spreadsheet-safe text cells."""
    parser.add_argument(
        "--raw-text", action="store_true",
        help="write text cells as they are, without the leading ' that keeps "
        "a spreadsheet from evaluating formulas",
    )


def _load_model(path):
    """The model in ``path``; a pickle-based file gets advice the command
    can follow (it never loads pickles)."""
    from .io import load_model

    try:
        return load_model(path)
    except DataFormatError as error:
        if "allow_pickle" not in str(error):
            raise
        raise DataFormatError(_pickle_advice(path)) from error


def _pickle_advice(path):
    """Why the command refuses ``path``, which ``load_model`` would load only
    with ``allow_pickle=True``, and what to do."""
    with open(path, "rb") as file:
        head = file.read(6)
    # protocol 2+ pickles, and the compressions joblib writes
    pickled = head[:1] == b"\x80" or head.startswith(
        (b"\x1f\x8b", b"x\x9c", b"x\x01", b"x\xda", b"BZh", b"\xfd7zXZ")
    )
    if zipfile.is_zipfile(path) or pickled:
        return (
            f"{str(path)!r} is a joblib (pickle) model file; the sksteel command "
            "loads only skops files, because loading a pickle runs code. If you "
            "trust its source, convert it once in Python: `save_model("
            "load_model(path, allow_pickle=True), 'model.skops')` (sksteel.io)."
        )
    return (
        f"{str(path)!r} is not a readable model file: neither a skops archive "
        "(it may be damaged or cut short) nor a pickle. Copy or save it again."
    )


def _round(values, args):
    """``values`` rounded to :data:`_DECIMALS` unless ``--full-precision``."""
    return values if args.full_precision else np.round(values, _DECIMALS)


# fit -------------------------------------------------------------------


def _add_fit(subparsers):
    parser = subparsers.add_parser(
        "fit",
        help="train SteelNet on a CSV table and save the model",
        description=(
            "Train a SteelNetClassifier on a CSV table of sensor readings and "
            "classes, and save it as a skops file (sksteel.io.save_model). "
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
    parser.add_argument(
        "--attribution-prior", metavar="PRIOR.csv", default=None,
        help="a CSV table of the ground-truth attribution per class: its first "
        "column holds the class labels, one row per class, and the other "
        "columns are the features, by name (the estimator's "
        "attribution_prior); default: none, the attribution head learns "
        "unsupervised",
    )
    _add_output(parser, "MODEL.skops", "the model file to write")
    parser.add_argument(
        "--max-epochs", metavar="N", type=_positive_int, default=None,
        help=f"maximum training epochs (default: {_FIT_DEFAULTS['max_epochs']})",
    )
    parser.add_argument(
        "--random-state", metavar="N", type=int, default=None,
        help=f"seed of the training (default: {_FIT_DEFAULTS['random_state']})",
    )
    parser.add_argument(
        "--set", metavar="NAME=VALUE", action="append", default=[],
        dest="settings",
        help="set any parameter of SteelNetClassifier, e.g. --set lr=3e-4 --set "
        "class_weight=balanced; the value is read as a Python literal (a "
        "number, None, a list, a dict) or else as text, and checked by the "
        "estimator; repeat for several parameters",
    )
    parser.add_argument(
        "--verbose", "-v", action="count", default=None,
        help="report the training as it runs; -vv for the table of every epoch",
    )
    _add_table_options(parser)
    parser.set_defaults(handler=_fit, interrupted="No model was written.")


def _fit(args, argv):
    from .io import save_model
    from .models import SteelNetClassifier

    model = SteelNetClassifier()
    params = _fit_params(args, model)
    inputs = {"input table": args.table}
    if args.attribution_prior is not None:
        inputs["attribution prior"] = args.attribution_prior
    out = _check_output(args.out, args.force, inputs)
    names = _feature_names(args.features)
    labels = [args.target, args.intensity_column]
    overlap = [column for column in labels if column in (names or SENSOR_NAMES)]
    if overlap:
        raise DataFormatError(
            f"{overlap!r} cannot be both a feature and the target or intensity; "
            "leave it out of `--features`."
        )
    numeric = [*(names or SENSOR_NAMES)]
    if args.intensity_column is not None:
        numeric.append(args.intensity_column)
    table = _read_table(args.table, numeric_columns=numeric, args=args)
    features = _feature_columns(table, names, args.table)
    _require_columns(table, [args.target], args.table, "target")
    y = table[args.target]
    _check_target(y, args.target)
    if y.nunique() < 2:
        raise DataFormatError(
            f"The target column {args.target!r} holds one class only "
            f"({y.unique().tolist()[0]!r}); a classifier needs rows of at least "
            "2 classes."
        )
    intensity = None
    if args.intensity_column is not None:
        _require_columns(table, [args.intensity_column], args.table, "intensity")
        intensity = table[args.intensity_column]
        if not intensity[[not _is_no_defect(label) for label in y]].notna().any():
            raise DataFormatError(
                f"The intensity column {args.intensity_column!r} has no value on "
                "a row with a defect; fill in the intensities, or leave out "
                "`--intensity-column` to train without the intensity head."
            )
    if args.attribution_prior is not None:
        classes = np.unique(y.to_numpy()).tolist()
        params["attribution_prior"] = _attribution_prior(
            args.attribution_prior, classes, features, args
        )
    X = table[features]
    model.set_params(**params).fit(X, y.to_numpy(), intensity=intensity)
    _write_output(
        lambda path: save_model(model, path, overwrite=True), out, args.force, inputs
    )
    print(
        f"Trained SteelNet on {len(X)} rows, {len(features)} features, classes "
        f"{model.classes_.tolist()}{' and intensity' if intensity is not None else ''}"
        f"; saved to {out}."
    )
    return 0


def _fit_params(args, model):
    """The parameters ``fit`` sets: the command's defaults, its options and
    ``--set`` (a parameter given twice is a usage error)."""
    options = {
        "max_epochs": args.max_epochs,
        "random_state": args.random_state,
        "verbose": args.verbose,
    }
    settings = dict(_parse_setting(text, model) for text in args.settings)
    if args.attribution_prior is not None:
        options["attribution_prior"] = "--attribution-prior"
    twice = sorted(
        name for name, value in options.items()
        if value is not None and name in settings
    )
    if twice:
        raise _UsageError(
            f"{twice!r} given both by `--set` and by its own option; give each "
            "parameter once."
        )
    options.pop("attribution_prior", None)
    given = {name: value for name, value in options.items() if value is not None}
    return {**_FIT_DEFAULTS, **given, **settings}


def _parse_setting(text, model):
    """``(name, value)`` of a ``--set NAME=VALUE``; the name must be one of
    ``model``'s parameters, the value a Python literal or else text."""
    name, equals, value = text.partition("=")
    name = name.strip()
    if not equals or not name:
        raise _UsageError(f"`--set` takes NAME=VALUE, e.g. lr=3e-4; got {text!r}.")
    known = model.get_params()
    if name not in known:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"Did you mean {close[0]!r}? " if close else ""
        raise _UsageError(
            f"`--set {text}`: {type(model).__name__} has no parameter {name!r}. "
            f"{hint}Its parameters are {sorted(known)!r}."
        )
    try:
        return name, ast.literal_eval(value.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return name, value.strip()


def _attribution_prior(path, classes, features, args):
    """The prior of ``path`` as an array (classes x features) in the order
    of ``classes`` and ``features``, its labels matched as text."""
    table = _read_table(path, numeric_columns=features, args=args)
    label_column = table.columns[0]
    _require_columns(table, features, path, "feature")
    extra = [c for c in table.columns[1:] if c not in features]
    if extra:
        raise DataFormatError(
            f"The attribution prior {str(path)!r} has columns that are not "
            f"features: {extra!r}; its columns after the class labels must be "
            f"the features {features!r}."
        )
    labels = table[label_column].astype(str).str.strip().tolist()
    rows = []
    for label in classes:
        matches = [i for i, text in enumerate(labels) if text == str(label)]
        if len(matches) != 1:
            raise DataFormatError(
                f"The attribution prior {str(path)!r} must have one row for each "
                f"class, labelled in its first column {label_column!r}; class "
                f"{label!r} has {len(matches)}. Its labels are {labels!r}."
            )
        rows.append(matches[0])
    prior = table[features].to_numpy(np.float64)[rows]
    if np.isnan(prior).any() or (prior < 0).any() or (prior.sum(axis=1) <= 0).any():
        raise DataFormatError(
            f"The attribution prior {str(path)!r} must hold non-negative "
            "weights, no empty cell, and a positive sum in every row."
        )
    return prior


# predict ---------------------------------------------------------------


def _add_predict(subparsers):
    parser = subparsers.add_parser(
        "predict",
        help="predict classes, intensities and sensors for a CSV table",
        description=(
            "Load a model saved by `sksteel fit` (or sksteel.io.save_model) and "
            "write one row of predictions per row of the table: the row number, "
            "the id column if any (id, image_id or ImageId), predicted_class, "
            "proba_<class> per class, intensity (when the model was trained "
            "with one; empty for rows predicted as no defect) and the top "
            "sensors with their attribution weights; with --explain also "
            "base_value and shap_<sensor>, the Shapley values of the predicted "
            "class. Numbers are rounded to 6 decimals unless --full-precision. "
            "Columns are matched by name, in any order; other columns are "
            "ignored; empty cells are missing readings. Id cells are written "
            "back exactly as read. "
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
        "--explain", action="store_true",
        help="add the exact Shapley values over missing readings of the "
        "predicted class's probability (sksteel.inspection.shapley_values): "
        "base_value (every reading missing) and one shap_<sensor> column per "
        "sensor, summing with base_value to that probability; a reading "
        "missing in the row gets 0",
    )
    parser.add_argument(
        "--full-precision", action="store_true",
        help="write numbers with every digit instead of 6 decimals",
    )
    _add_raw_text(parser)
    _add_table_options(parser)
    parser.set_defaults(handler=_predict, interrupted="No predictions were written.")


def _model_features(model, path):
    """The column names ``model`` was trained on."""
    features = getattr(model, "feature_names_in_", None)
    if features is None:
        raise DataFormatError(
            f"The model in {str(path)!r} was trained without column names, "
            "so the table's columns cannot be matched to it; train it on a "
            "DataFrame (or with `sksteel fit`)."
        )
    return list(features)


def _predict(args, argv):
    inputs = {"model file": args.model, "input table": args.table}
    out = _check_output(args.out, args.force, inputs)
    model = _load_model(args.model)
    features = _model_features(model, args.model)
    carried = [c for c in _ID_COLUMNS if c not in features]
    table = _read_table(
        args.table, text_columns=carried, numeric_columns=features, args=args
    )
    _require_columns(table, features, args.table, "feature")
    ids = [c for c in carried if c in table.columns]
    X = table[features]
    predictions = _predictions(model, X, args)
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


def _is_no_defect(label):
    """Whether a class label means no defect: 0, "0" or "none"."""
    if isinstance(label, (int, float, np.integer, np.floating)):
        return not isinstance(label, bool) and label == 0
    return str(label).strip().lower() in ("0", CLASS_NAMES[0])


def _predictions(model, X, args):
    """Class, probabilities, intensity, top sensors and, with ``--explain``,
    Shapley values: one row per row of X."""
    proba = model.predict_proba(X)
    predicted = model.classes_[np.argmax(proba, axis=1)]
    columns = {"predicted_class": predicted}
    for k, label in enumerate(model.classes_):
        columns[f"proba_{label}"] = _round(proba[:, k], args)
    if hasattr(model, "predict_intensity"):
        try:
            intensity = model.predict_intensity(X)
        except NotFittedError:
            pass  # trained without intensity: no column
        else:
            no_defect = np.array([_is_no_defect(label) for label in predicted])
            columns["intensity"] = np.where(no_defect, np.nan, _round(intensity, args))
    if hasattr(model, "explain"):
        attribution = model.explain(X, method="head")  # the head: cheap, non-negative
        order = np.argsort(-attribution.to_numpy(), axis=1, kind="stable")
        weights = np.take_along_axis(attribution.to_numpy(), order, axis=1)
        names = attribution.columns.to_numpy()[order]
        for rank in range(min(args.top_k, attribution.shape[1])):
            columns[f"top_sensor_{rank + 1}"] = names[:, rank]
            columns[f"top_weight_{rank + 1}"] = _round(weights[:, rank], args)
    if args.explain:
        columns.update(_shapley_columns(model, X, args))
    return pd.DataFrame(columns, index=X.index)


def _shapley_columns(model, X, args):
    """``base_value`` and ``shap_<feature>``: the Shapley values of the
    predicted class's probability, per row."""
    from .inspection import shapley_values

    result = shapley_values(model, X)
    columns = {"base_value": _round(np.asarray(result.base_values, float), args)}
    for name in result.values.columns:
        columns[f"shap_{name}"] = _round(result.values[name].to_numpy(float), args)
    return columns


# evaluate --------------------------------------------------------------


def _add_evaluate(subparsers):
    parser = subparsers.add_parser(
        "evaluate",
        help="score a model on a labelled CSV table",
        description=(
            "Load a model saved by `sksteel fit` (or sksteel.io.save_model), "
            "predict the rows of a labelled table and print macro-F1, balanced "
            "accuracy, the recall of each class and the confusion matrix (rows: "
            "true class, columns: predicted class). Columns are matched by name."
        ),
    )
    parser.add_argument("model", metavar="MODEL.skops", help="the model file")
    parser.add_argument("table", metavar="TABLE.csv", help="the labelled readings")
    parser.add_argument(
        "--target", required=True, metavar="COLUMN",
        help="the column holding the true class of each row",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the scores as JSON"
    )
    _add_table_options(parser)
    parser.set_defaults(handler=_evaluate, interrupted="Nothing was scored.")


def _evaluate(args, argv):
    model = _load_model(args.model)
    features = _model_features(model, args.model)
    if args.target in features:
        raise DataFormatError(
            f"The target {args.target!r} is one of the model's features; name "
            "the column of the true classes."
        )
    table = _read_table(args.table, numeric_columns=features, args=args)
    _require_columns(table, features, args.table, "feature")
    _require_columns(table, [args.target], args.table, "target")
    y = table[args.target]
    _check_target(y, args.target)
    scores = _scores(y.to_numpy(), model.predict(table[features]), model.classes_)
    if args.json:
        print(json.dumps(scores, indent=2))
    else:
        print(_scores_text(scores, args))
    return 0


def _scores(y_true, y_pred, classes):
    """Macro-F1, balanced accuracy, recall and support per class, and the
    confusion matrix, over the model's classes and any other true label."""
    from sklearn.metrics import (
        balanced_accuracy_score,
        confusion_matrix,
        f1_score,
        recall_score,
    )

    # labels compared as text: the table's may be read as numbers or not
    y_true = np.array([str(label) for label in y_true], dtype=object)
    y_pred = np.array([str(label) for label in y_pred], dtype=object)
    labels = [str(label) for label in classes]
    labels += sorted(set(y_true) - set(labels))
    recall = recall_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    matrix = confusion_matrix(y_true, y_pred, labels=labels)
    return {
        "n_rows": int(len(y_true)),
        "macro_f1": float(
            f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)
        ),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
        "labels": labels,
        "unknown_labels": labels[len(classes):],
        "recall": dict(zip(labels, map(float, recall))),
        "support": dict(zip(labels, map(int, matrix.sum(axis=1)))),
        "confusion_matrix": matrix.tolist(),
    }


def _scores_text(scores, args):
    """The scores as a few aligned lines of text."""
    labels = scores["labels"]
    lines = [
        f"{scores['n_rows']} rows of {args.table} scored by {args.model}",
        f"macro-F1           {scores['macro_f1']:.4f}",
        f"balanced accuracy  {scores['balanced_accuracy']:.4f}",
        "",
        "recall per class:",
        *(f"  {label:>10}  {scores['recall'][label]:.4f}  "
          f"(n={scores['support'][label]})" for label in labels),
        "",
        "confusion matrix (rows: true class, columns: predicted class):",
        pd.DataFrame(scores["confusion_matrix"], index=labels, columns=labels)
        .to_string(),
    ]
    if scores["unknown_labels"]:
        lines.append(
            f"\nnote: the true labels {scores['unknown_labels']!r} are not classes "
            "of the model; their rows count as errors"
        )
    return "\n".join(lines)


# reproduce -------------------------------------------------------------


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
    parser.set_defaults(
        handler=_reproduce,
        interrupted="The data set is cached: running the same command again "
        "starts from the models.",
    )


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


def _add_recommend(subparsers):
    parser = subparsers.add_parser(
        "recommend",
        help="recommend setpoint changes that bring defective rows to normal",
        description=(
            "Load a model saved by `sksteel fit` (or sksteel.io.save_model), fit "
            "a SetpointRecommender on a table of normal operation (--normal: "
            "the rows it draws recommended values from and that define the "
            "plausible region; with --label-column, only its rows of the "
            "target class), and write one row per row of the readings: the row "
            "number, the id column if any (id, image_id or ImageId), "
            "setpoint_<feature> and change_<feature> per feature, "
            "probability_before, probability_after, valid, plausible, "
            "n_changes, cost and reason. Only actionable sensors change, "
            "within the sensor table's feasible ranges; empty cells are missing "
            "readings and stay empty. Text cells are made spreadsheet-safe as "
            "in `sksteel predict`."
        ),
    )
    parser.add_argument("model", metavar="MODEL.skops", help="the model file")
    parser.add_argument("table", metavar="READINGS.csv", help="the readings")
    parser.add_argument(
        "--normal", required=True, metavar="NORMAL.csv",
        help="rows of normal operation, with the model's feature columns "
        "(for example the training table)",
    )
    parser.add_argument(
        "--label-column", metavar="COLUMN", default=None,
        help="a column of --normal holding each row's class: only the rows of "
        "the target class are used",
    )
    _add_output(parser, "RECOMMENDATIONS.csv", "the recommendations to write")
    parser.add_argument(
        "--target", default="none",
        help="the class to reach, a class of the model or a defect class name "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--max-changes", metavar="K", type=_positive_int, default=3,
        help="most sensors one recommendation changes (default: %(default)s)",
    )
    parser.add_argument(
        "--threshold", metavar="P", type=float, default=0.5,
        help="target probability a recommendation must reach (default: "
        "%(default)s)",
    )
    parser.add_argument(
        "--random-state", metavar="N", type=int, default=0,
        help="seed of the normal rows kept as reference (default: %(default)s)",
    )
    _add_raw_text(parser)
    _add_table_options(parser)
    parser.set_defaults(handler=_recommend, interrupted="Nothing was written.")


def _recommend(args, argv):
    from .recommend import SetpointRecommender

    inputs = {
        "model file": args.model, "input table": args.table,
        "normal table": args.normal,
    }
    out = _check_output(args.out, args.force, inputs)
    model = _load_model(args.model)
    features = _model_features(model, args.model)
    normal = _read_table(args.normal, args=args)
    _require_columns(normal, features, args.normal, "feature")
    labels = None
    if args.label_column is not None:
        _require_columns(normal, [args.label_column], args.normal, "label")
        labels = normal[args.label_column].to_numpy()
    target = int(args.target) if args.target.lstrip("-").isdigit() else args.target
    recommender = SetpointRecommender(
        model, target=target, max_changes=args.max_changes,
        threshold=args.threshold, random_state=args.random_state,
    ).fit(_numeric_columns(normal, features, args.normal), labels)
    carried = [c for c in _ID_COLUMNS if c not in features]
    table = _read_table(args.table, text_columns=carried, args=args)
    _require_columns(table, features, args.table, "feature")
    ids = [c for c in carried if c in table.columns]
    result = recommender.recommend(_numeric_columns(table, features, args.table))
    columns = {f"setpoint_{name}": result.setpoints[name] for name in features}
    columns.update({f"change_{name}": result.changes[name] for name in features})
    for name in ("probability_before", "probability_after", "valid", "plausible",
                 "n_changes", "cost", "reason"):
        columns[name] = result[name]
    rows = pd.concat(
        [table[ids], pd.DataFrame(columns, index=table.index)], axis=1
    )
    rows.index.name = "row"
    if not args.raw_text:
        rows = _spreadsheet_safe(rows)
    write = functools.partial(rows.to_csv, lineterminator="\r\n")
    _write_output(write, out, args.force, inputs)
    print(
        f"Wrote {len(rows)} recommendations to {out}: {int(result.valid.sum())} "
        f"valid, {int((result.reason == f'already {target!r}').sum())} already "
        f"{target!r}."
    )
    return 0


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
    parser.set_defaults(handler=_segment, interrupted="No submission was written.")


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


#: The subcommands, each registered by its own ``_add_<command>(subparsers)``,
#: which sets ``handler(args, argv)`` and ``interrupted`` (said on Ctrl-C).
_COMMANDS = (
    _add_fit,
    _add_predict,
    _add_evaluate,
    _add_recommend,
    _add_reproduce,
    _add_segment,
)


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
    for add in _COMMANDS:
        add(subparsers)
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
        0 on success, 1 when the data, a setting or a file cannot be used
        (one line on stderr), 2 on a usage error, 130 when interrupted. Any
        other error is a bug and propagates with its traceback.

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
    except _UsageError as error:
        print(f"sksteel: error: {error}", file=sys.stderr)
        return 2
    except _USER_ERRORS as error:
        # the data, a setting or a file cannot be used: say why, without a
        # traceback
        print(f"sksteel: error: {_one_line(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\nInterrupted. {args.interrupted}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
