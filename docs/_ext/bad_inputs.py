"""The table of bad inputs on the "Bad input" page, from live runs.

Each case feeds one kind of bad input to one sksteel component and records
what a user sees: the exception type and the start of its message,
or what the component returns when the input is one it handles (missing
sensor readings, for instance). The documentation build runs every case, so
the table always shows what the installed sksteel does; ``tests/test_docs.py``
runs them too and checks each outcome is the expected kind.
"""

import contextlib
import csv
import io
import re
import tempfile
import warnings
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Case:
    """One bad input for one component.

    ``run`` takes a scratch folder and either raises (``expect="error"``) or
    returns a short description of what the user gets (``expect="works"``).
    """

    component: str
    bad_input: str
    expect: str
    run: object


@dataclass(frozen=True)
class Outcome:
    """What running a case showed.

    ``kind`` is ``"error"``, ``"works"`` or ``"crash"`` (an exception of a
    type users should never see); ``error`` names the exception type, if any;
    ``message`` is the start of its message (or of what the
    component returned), with the scratch folder written ``<folder>``.
    """

    kind: str
    error: str
    message: str


#: Exception types a user may see; anything else is reported as a crash.
_CLEAR_ERRORS = (ValueError, TypeError, FileNotFoundError)

_N_CHARS = 220

#: A sentence ends at one of .!? followed by blanks and a capital letter.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def _first_sentences(message, folder):
    """The message's first sentences, as many as fit in ``_N_CHARS``
    characters (the first one shortened if it alone is longer)."""
    message = " ".join(str(message).replace(str(folder), "<folder>").split())
    sentences = _SENTENCE_END.split(message)
    text = sentences[0]
    for sentence in sentences[1:]:
        if len(text) + 1 + len(sentence) > _N_CHARS:
            break
        text = f"{text} {sentence}"
    return text if len(text) <= _N_CHARS else text[: _N_CHARS - 3] + "..."


# --------------------------------------------------------------------------
# Shared, small inputs (built once per process)
# --------------------------------------------------------------------------


@cache
def _steelnet_frame():
    from sksteel.datasets import make_steelnet_dataset

    return make_steelnet_dataset(n_normal=120, n_per_class=20, random_state=0).frame


def _xy():
    from sksteel.datasets import SENSOR_NAMES

    frame = _steelnet_frame()
    return frame[list(SENSOR_NAMES)], frame["defect_class"]


@cache
def _fitted_classifier():
    from sksteel.models import SteelNetClassifier

    X, y = _xy()
    return SteelNetClassifier(max_epochs=2, random_state=0, verbose=0).fit(X, y)


def _classifier():
    from sksteel.models import SteelNetClassifier

    return SteelNetClassifier(max_epochs=1, random_state=0, verbose=0)


def _severstal_folder(folder, csv_text, images=("a.jpg",)):
    """A Kaggle-format folder with ``csv_text`` as ``train.csv``."""
    from PIL import Image

    (folder / "train_images").mkdir(parents=True, exist_ok=True)
    for name in images:
        Image.new("L", (16, 4)).save(folder / "train_images" / name)
    (folder / "train.csv").write_text(csv_text)
    return folder


def _cli(argv):
    """Run the ``sksteel`` command in process; raise its stderr as an error."""
    from sksteel.cli import main

    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        code = main([str(arg) for arg in argv])
    if code != 0:
        lines = [line for line in stderr.getvalue().splitlines() if line.strip()]
        raise SystemExit(f"exit code {code}: {lines[-1] if lines else ''}")
    return "exit code 0"


def _table(folder, frame):
    path = folder / "table.csv"
    frame.to_csv(path, index=False)
    return path


def _model_file(folder):
    from sksteel.io import save_model

    path = folder / "model.skops"
    if not path.exists():
        save_model(_fitted_classifier(), path)
    return path


# --------------------------------------------------------------------------
# The cases
# --------------------------------------------------------------------------


def _rle(text):
    from sksteel.preprocessing import rle_decode

    return lambda folder: rle_decode(text)


def _predict_nan(pattern):
    def run(folder):
        X, _ = _xy()
        X = X.head(5).copy()
        if pattern == "row":
            X.iloc[0] = np.nan
        else:
            X[X.columns[0]] = np.nan
        proba = _fitted_classifier().predict_proba(X)
        return (
            f"works: probabilities for every row (finite: {np.isfinite(proba).all()}); "
            "missing readings are treated as failed sensors"
        )

    return run


def _predict_columns(change):
    def run(folder):
        X, _ = _xy()
        X = X.head(5)
        if change == "order":
            _fitted_classifier().predict(X[X.columns[::-1]])
            return "works: the columns are matched by name"
        if change == "extra":
            _fitted_classifier().predict(X.assign(line_speed=1.0))
            return "works: predictions"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            _fitted_classifier().predict(X.drop(columns=X.columns[0]))
        names = [type(w.message).__name__ for w in caught]
        return f"works: read as a failed sensor (NaN), with a {names[0]}"

    return run


def _fit(change):
    def run(folder):
        X, y = _xy()
        if change == "single_class":
            X, y = X[y == 0], y[y == 0]
        elif change == "one_row":
            X, y = X.head(1), y.head(1)
        elif change == "nan_column":
            X = X.assign(**{X.columns[0]: np.nan})
        elif change == "text":
            X = X.astype(object)
            X.iloc[0, 0] = "n/a"
        elif change == "inf":
            X = X.copy()
            X.iloc[0, 0] = np.inf
        _classifier().fit(X, y)
        return "works: a fitted model"

    return run


def _not_fitted(folder):
    X, _ = _xy()
    return _classifier().predict(X)


def _loader(csv_text, images=("a.jpg",)):
    from sksteel.datasets import load_severstal

    def run(folder):
        load_severstal(_severstal_folder(folder, csv_text, images))
        return "works"

    return run


def _link_loop(folder):
    import os

    _severstal_folder(folder, "ImageId,ClassId,EncodedPixels\na.jpg,1,1 2\n")
    os.symlink("b.jpg", folder / "train_images" / "loop.jpg")
    os.symlink("loop.jpg", folder / "train_images" / "b.jpg")
    from sksteel.datasets import load_severstal

    load_severstal(folder)


def _segmenter_bad_rle(folder):
    from sksteel.vision import DefectSegmenter

    table = pd.DataFrame({"image_path": [str(folder / "a.jpg")]})
    for c in range(1, 5):
        table[f"EncodedPixels_{c}"] = "1 5 3" if c == 2 else None
    DefectSegmenter(max_epochs=1, verbose=0).fit(table)


def _regressor(kind):
    from sksteel.vision import DefectFractionRegressor

    def run(folder):
        paths = pd.Series([str(folder / "missing.jpg")])
        if kind == "unreadable":
            (folder / "broken.jpg").write_bytes(b"not a jpeg")
            paths = pd.Series([str(folder / "broken.jpg")])
        elif kind == "empty":
            paths = pd.Series([], dtype=str)
        y = np.zeros((len(paths), 4))
        DefectFractionRegressor(max_epochs=1, verbose=0).fit(paths, y)

    return run


#: Ids pandas would read as numbers or missing, and one a spreadsheet evaluates.
ODD_IDS = ["007", "9007199254740993", "NA", "", "=1+1"]


def _cli_predict(change):
    def run(folder):
        from sksteel.datasets import SENSOR_NAMES

        frame = _steelnet_frame().head(5)
        if change == "missing_column":
            frame = frame.drop(columns=SENSOR_NAMES[0])
        elif change == "blank_cells":
            frame = frame.copy()
            frame.loc[frame.index[:2], SENSOR_NAMES[0]] = np.nan
        elif change == "odd_ids":
            frame = frame.assign(image_id=ODD_IDS)
        table = _table(folder, frame)
        if change in ("european", "latin1"):
            frame = frame.assign(image_id=[f"tôle_{i}" for i in range(len(frame))])
            frame.to_csv(table, sep=";", decimal=",", index=False,
                         encoding="utf-8" if change == "european" else "latin-1")
        out = folder / "predictions.csv"
        options = []
        model = _model_file(folder)
        if change == "joblib_model":
            from sksteel.io import load_model, save_model

            model = save_model(load_model(model), folder / "model.joblib",
                               format="joblib")
        if change == "existing_output":
            out.write_text("kept\n")
        elif change == "model_as_output":
            out, options = _model_file(folder), ["--force"]
        result = _cli(["predict", model, table, "--out", out, *options])
        if change == "odd_ids":
            with open(out, newline="") as file:
                ids = [row["image_id"] for row in csv.DictReader(file)]
            result += f"; the ids are written as {ids!r}"
        return result

    return run


def _cli_fit_truncated(folder):
    text = _steelnet_frame().to_csv(index=False)
    table = folder / "table.csv"
    table.write_text(text[: len(text) // 2])
    return _cli(["fit", table, "--target", "defect_class", "--out",
                 folder / "model.skops", "--max-epochs", "1"])


def _cli_fit_set_unknown(folder):
    table = _table(folder, _steelnet_frame())
    return _cli(["fit", table, "--target", "defect_class", "--out",
                 folder / "model.skops", "--set", "learning_rate=0.01"])


def _untrusted_model(folder):
    import skops.io

    from sksteel.io import load_model

    path = folder / "untrusted.skops"
    skops.io.dump({"model": contextlib.ExitStack()}, path)
    return load_model(path)


def _damaged_model(damage):
    """Load a copy of the model file damaged or edited by ``damage``."""
    import json
    import zipfile

    from sksteel.io import load_model

    def run(folder):
        path = _model_file(folder)
        content = path.read_bytes()
        with zipfile.ZipFile(path) as archive:
            members = {name: archive.read(name) for name in archive.namelist()}
            schema_info = archive.getinfo("schema.json")
        if damage == "flipped":
            # A byte in the middle of the compressed schema.
            position = schema_info.header_offset + 30 + len(schema_info.filename)
            position += len(schema_info.extra) + schema_info.compress_size // 2
            content = bytearray(content)
            content[position] ^= 0xFF
        elif damage == "truncated":
            content = content[: len(content) // 2]
        elif damage == "not_a_model":
            content = b"id,reading\n1,2\n"
        else:
            if damage == "missing_member":
                del members["schema.json"]
            elif damage == "metadata":
                members["sksteel.json"] = b"{damaged"
            elif damage == "earlier_format":
                members["sksteel.json"] = json.dumps({"format": "skops"}).encode()
            elif damage == "edited":
                schema = json.loads(members["schema.json"])
                node = schema["content"]["content"]["hidden_layer_sizes"]["content"][0]
                node["content"], node["__id__"] = "4096", 1
                members["schema.json"] = json.dumps(schema).encode()
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for name, data in members.items():
                    archive.writestr(name, data)
            content = buffer.getvalue()
        damaged = folder / "damaged.skops"
        damaged.write_bytes(bytes(content))
        return load_model(damaged)

    return run


def _damaged_surfaces_cache(folder):
    """A cached rendered image emptied: the reuse finds it and redraws it."""
    from sksteel.datasets import make_steel_surfaces

    root = make_steel_surfaces(2, data_home=folder, random_state=0)
    image = sorted((root / "train_images").iterdir())[0]
    image.write_bytes(b"")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make_steel_surfaces(2, data_home=folder, random_state=0)
    (warning,) = [w for w in caught if "is damaged" in str(w.message)]
    return f"{warning.category.__name__}: {warning.message}"


def cases():
    """Every case, in the order of the table."""
    header_new = "ImageId,ClassId,EncodedPixels\n"
    return [
        Case("rle_decode", "odd number of values (``'1 2 5'``)", "error",
             _rle("1 2 5")),
        Case("rle_decode", "a token that is not an integer (``'1 2 x 1'``)", "error",
             _rle("1 2 x 1")),
        Case("rle_decode", "a start below 1 (``'0 2'``)", "error", _rle("0 2")),
        Case("rle_decode", "overlapping runs (``'1 5 3 2'``)", "error",
             _rle("1 5 3 2")),
        Case("rle_decode", "a run past the last pixel", "error", _rle("409600 2")),
        Case("load_severstal", "no ``train.csv`` in the folder", "error",
             lambda folder: _loader("")(folder / "nothing")),
        Case("load_severstal", "a class id outside 1-4", "error",
             _loader(header_new + "a.jpg,5,1 2\n")),
        Case("load_severstal", "the same image and class twice", "error",
             _loader(header_new + "a.jpg,1,1 2\na.jpg,1,5 2\n")),
        Case("load_severstal", "a file cut off in the middle of a row", "error",
             _loader(header_new + "a.jpg,1,1 2\na.jpg,3")),
        Case("load_severstal", "annotated images missing from ``train_images/``",
             "error", _loader(header_new + "a.jpg,1,1 2\nb.jpg,2,3 4\n")),
        Case("load_severstal", "an image id leading out of the folder (``../x.jpg``)",
             "error", _loader(header_new + "a.jpg,1,1 2\n../x.jpg,2,3 4\n")),
        Case("load_severstal", "a symbolic link loop in ``train_images/``", "error",
             _link_loop),
        Case("DefectSegmenter.fit", "an encoding that does not decode", "error",
             _segmenter_bad_rle),
        Case("SteelNetClassifier.fit", "a single class in ``y``", "error",
             _fit("single_class")),
        Case("SteelNetClassifier.fit", "one row", "error", _fit("one_row")),
        Case("SteelNetClassifier.fit", "a sensor column with no reading at all",
             "works", _fit("nan_column")),
        Case("SteelNetClassifier.fit", "text in a sensor column", "error",
             _fit("text")),
        Case("SteelNetClassifier.fit", "an infinite reading", "error", _fit("inf")),
        Case("SteelNetClassifier.predict", "a row with every reading missing",
             "works", _predict_nan("row")),
        Case("SteelNetClassifier.predict", "a sensor missing on every row",
             "works", _predict_nan("column")),
        Case("SteelNetClassifier.predict", "the sensor columns in another order",
             "works", _predict_columns("order")),
        Case("SteelNetClassifier.predict", "a sensor column left out", "works",
             _predict_columns("missing")),
        Case("SteelNetClassifier.predict", "a column not seen in ``fit``", "error",
             _predict_columns("extra")),
        Case("SteelNetClassifier.predict", "before ``fit``", "error", _not_fitted),
        Case("DefectFractionRegressor.fit", "an image file that does not exist",
             "error", _regressor("missing")),
        Case("DefectFractionRegressor.fit", "a file that is not an image", "error",
             _regressor("unreadable")),
        Case("DefectFractionRegressor.fit", "an empty table", "error",
             _regressor("empty")),
        Case("sksteel predict", "empty cells (missing readings)", "works",
             _cli_predict("blank_cells")),
        Case("sksteel predict", "a sensor column missing from the CSV", "error",
             _cli_predict("missing_column")),
        Case("sksteel predict", "an output file that already exists", "error",
             _cli_predict("existing_output")),
        Case("sksteel predict",
             f"ids that look like numbers or formulas (``{ODD_IDS!r}``)",
             "works", _cli_predict("odd_ids")),
        Case("sksteel predict", "``--out`` naming the model file, with ``--force``",
             "error", _cli_predict("model_as_output")),
        Case("sksteel predict", "a European export (``;``, decimal commas)",
             "works", _cli_predict("european")),
        Case("sksteel predict", "a latin-1 table without ``--encoding``", "error",
             _cli_predict("latin1")),
        Case("sksteel predict", "a joblib (pickle) model file", "error",
             _cli_predict("joblib_model")),
        Case("sksteel fit", "a CSV file cut off in the middle", "error",
             _cli_fit_truncated),
        Case("sksteel fit", "``--set`` naming a parameter that does not exist",
             "error", _cli_fit_set_unknown),
        Case("load_model", "a skops file holding a type sksteel does not trust",
             "error", _untrusted_model),
        Case("load_model", "a model file with one byte flipped", "error",
             _damaged_model("flipped")),
        Case("load_model", "a model file cut off in the middle", "error",
             _damaged_model("truncated")),
        Case("load_model", "a model file missing an archive member", "error",
             _damaged_model("missing_member")),
        Case("load_model", "malformed ``sksteel.json`` metadata", "error",
             _damaged_model("metadata")),
        Case("load_model", "a file of an earlier model file format", "error",
             _damaged_model("earlier_format")),
        Case("load_model", "hyperparameters edited to disagree with the weights",
             "error", _damaged_model("edited")),
        Case("load_model", "a CSV file instead of a model", "error",
             _damaged_model("not_a_model")),
        Case("make_steel_surfaces", "a cached image emptied or truncated", "works",
             _damaged_surfaces_cache),
    ]


def run_case(case):
    """Run ``case`` in a scratch folder and return its :class:`Outcome`."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch).resolve()
        try:
            result = case.run(folder)
        except SystemExit as error:  # the command line's exit status and message
            return Outcome("error", "", _first_sentences(error, folder))
        except Exception as error:  # reported as a crash, never hidden
            kind = "error" if isinstance(error, _CLEAR_ERRORS) else "crash"
            return Outcome(kind, type(error).__name__, _first_sentences(error, folder))
    text = result if isinstance(result, str) else "works"
    return Outcome("works", "", _first_sentences(text, folder))


def outcomes():
    """``[(case, outcome), ...]`` for every case, warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [(case, run_case(case)) for case in cases()]


def _escape(text):
    """``text`` with the characters rST would interpret escaped."""
    return re.sub(r"([\\`*_])", r"\\\1", text)


def table_rows(results=None):
    """The rows of the docs table: component, bad input, what the user sees,
    for ``results`` (default: run every case now)."""
    rows = []
    for case, outcome in outcomes() if results is None else results:
        seen = _escape(outcome.message)
        if outcome.error:
            seen = f"``{outcome.error}``: {seen}"
        if outcome.kind == "crash":
            seen = f"**unexpected** {seen}"
        rows.append([f"``{case.component}``", case.bad_input, seen])
    return rows
