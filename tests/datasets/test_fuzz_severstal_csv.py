"""Fuzzing of load_severstal with random, truncated and garbled train.csv files.

Each call either returns a consistent table or raises a DataFormatError (a
ValueError; ImageReadError is one) whose message names the problem; never
another exception. No call changes a byte of the files it reads.
"""

import re
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from sksteel._schema import DEFECT_CLASSES, ENCODED_COLUMNS
from sksteel.datasets import load_severstal
from sksteel.exceptions import DataFormatError, ImageReadError

#: Deterministic hypothesis runs, sized for the test budget.
FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

IMAGES = ("a.jpg", "b.jpg", "c.jpg")

#: (image, class) -> encoding of the defect cells of the tables below.
CELLS = {("b.jpg", 3): "1 10 300 5", ("c.jpg", 4): "7 3", ("b.jpg", 1): "40 2"}

UPDATED = "ImageId,ClassId,EncodedPixels\n" + "".join(
    f"{image},{c},{rle}\n" for (image, c), rle in CELLS.items()
)
ORIGINAL = "ImageId_ClassId,EncodedPixels\n" + "".join(
    f"{image}_{c},{CELLS.get((image, c), '')}\n"
    for image in IMAGES
    for c in DEFECT_CLASSES
)


def _folder(parent, content):
    """A new data set folder under ``parent``: ``content`` (str or bytes) as
    train.csv and three tiny JPEG images."""
    root = Path(tempfile.mkdtemp(dir=parent))
    (root / "train_images").mkdir()
    for name in IMAGES:
        Image.new("L", (4, 2)).save(root / "train_images" / name)
    data = content.encode() if isinstance(content, str) else content
    (root / "train.csv").write_bytes(data)
    return root


def _load(root, **params):
    """``load_severstal(root)``'s frame, or the DataFormatError it raised.

    Any other exception fails the test, and so does a change to any file
    under ``root``.
    """
    files = sorted(p for p in root.rglob("*") if p.is_file())
    before = [p.read_bytes() for p in files]
    try:
        return load_severstal(root, **params).frame
    except DataFormatError as exc:
        assert len(str(exc)) > 40, f"terse error message: {exc!r}"
        return exc
    finally:
        assert [p.read_bytes() for p in files] == before, "an input file changed"


def _check_frame(frame, text):
    """Assert the invariants of a loaded table: one sorted row per image, the
    documented columns, class ids matching the encodings, and encodings
    copied verbatim from the file."""
    assert list(frame.columns) == [
        "ImageId",
        "image_path",
        *ENCODED_COLUMNS,
        "ClassIds",
        "has_defect",
    ]
    assert frame["ImageId"].is_unique
    assert frame["ImageId"].is_monotonic_increasing
    present = frame[list(ENCODED_COLUMNS)].notna().to_numpy()
    ids = [
        " ".join(str(c) for c, p in zip(DEFECT_CLASSES, row) if p) for row in present
    ]
    assert frame["ClassIds"].tolist() == ids
    assert (frame["has_defect"] == present.any(axis=1)).all()
    for rle in frame[list(ENCODED_COLUMNS)].to_numpy()[present]:
        assert isinstance(rle, str) and rle in text


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """A parent folder for the data set folders of one test module."""
    return tmp_path_factory.mktemp("fuzz_severstal")


@pytest.mark.parametrize("text", [UPDATED, ORIGINAL], ids=["updated", "original"])
def test_load_severstal_every_truncation(folders, text):
    """Check every cut of a valid table: the loader raises a DataFormatError,
    or returns a table whose encodings are prefixes of the original ones
    (a cut between rows, or one leaving whole pairs in the last encoding,
    cannot be told from a shorter file)."""
    loaded = 0
    for cut in range(len(text) + 1):
        result = _load(_folder(folders, text[:cut]))
        if isinstance(result, Exception):
            continue
        loaded += 1
        _check_frame(result, text)
        for _, row in result.iterrows():
            for c, column in zip(DEFECT_CLASSES, ENCODED_COLUMNS):
                if pd.notna(row[column]):
                    original = CELLS[(row["ImageId"], c)]
                    assert original.startswith(row[column])
                    assert len(row[column].split()) % 2 == 0
    assert loaded >= 4  # the cuts at line breaks load


def _lines(text):
    return text.splitlines(keepends=True) or [""]


#: Garbling steps applied to a valid table: functions of its text and of a
#: random integer.
GARBLE = {
    "truncate": lambda t, k: t[: k % (len(t) + 1)],
    "drop header": lambda t, k: t.partition("\n")[2],
    "extra column": lambda t, k: t.replace("\n", ",x\n"),
    "extra field in a row": lambda t, k: t.replace("\n", ",x\n", 2),
    "duplicate a row": lambda t, k: t + _lines(t)[k % len(_lines(t))],
    "class id 0": lambda t, k: t.replace(",3,", ",0,").replace("_3,", "_0,"),
    "class id 5": lambda t, k: t.replace(",4,", ",5,").replace("_4,", "_5,"),
    "class id x": lambda t, k: t.replace(",1,", ",x,").replace("_1,", "_x,"),
    "no .jpg": lambda t, k: t.replace("b.jpg", "b"),
    "BOM": lambda t, k: "\ufeff" + t,
    "semicolons": lambda t, k: t.replace(",", ";"),
    "tabs": lambda t, k: t.replace(",", "\t"),
    "CRLF": lambda t, k: t.replace("\n", "\r\n"),
    "no final line break": lambda t, k: t.rstrip("\n"),
    "quote a field": lambda t, k: t.replace("7 3", '"7 3'),
    "repeat a column": lambda t, k: t.replace("Pixels", "Pixels,EncodedPixels", 1),
    "empty": lambda t, k: "",
    "junk": lambda t, k: (
        t[: k % (len(t) + 1)] + "\x00\x01\x7f\x1b" + t[k % (len(t) + 1) :]
    ),
}


@settings(FUZZ, max_examples=120)
@given(
    text=st.sampled_from([UPDATED, ORIGINAL]),
    steps=st.lists(
        st.tuples(st.sampled_from(sorted(GARBLE)), st.integers(0, 500)),
        min_size=1,
        max_size=3,
    ),
)
def test_load_severstal_fuzz_garbled_tables(folders, text, steps):
    """Check random combinations of garbling steps: a DataFormatError or a
    consistent table, and the file left unchanged."""
    for name, k in steps:
        text = GARBLE[name](text, k)
    result = _load(_folder(folders, text))
    if not isinstance(result, Exception):
        _check_frame(result, text)


@settings(FUZZ, max_examples=80)
@given(
    header=st.sampled_from([UPDATED.split("\n")[0], ORIGINAL.split("\n")[0], ""]),
    body=st.lists(
        st.sampled_from(
            [
                "a.jpg",
                "b.jpg_3",
                "c.jpg_4",
                "1",
                "4",
                "0",
                "x",
                "1 2",
                "",
                ",",
                "\n",
                "\r",
                '"',
                ";",
                "\t",
                "_",
                "ImageId",
                "\ufeff",
                " ",
            ]
        ),
        max_size=20,
    ).map("".join),
)
def test_load_severstal_fuzz_token_soup(folders, header, body):
    """Check tables made of CSV-ish pieces after a header (or none)."""
    text = f"{header}\n{body}" if header else body
    result = _load(_folder(folders, text), missing_images="ignore")
    if not isinstance(result, Exception):
        _check_frame(result, text)


@settings(FUZZ, max_examples=60)
@given(raw=st.binary(max_size=120), header=st.booleans())
def test_load_severstal_fuzz_binary(folders, raw, header):
    """Check random bytes, alone or after a valid header: a DataFormatError
    (not UTF-8, not CSV, wrong columns) or a consistent table."""
    content = (UPDATED.split("\n")[0] + "\n").encode() + raw if header else raw
    result = _load(_folder(folders, content), missing_images="ignore")
    if not isinstance(result, Exception):
        _check_frame(result, content.decode("utf-8-sig"))


#: Garbled tables, the error each raises and the start of its message.
GARBLED = {
    "empty file": (b"", DataFormatError, "not a readable CSV"),
    "UTF-16": (UPDATED.encode("utf-16"), DataFormatError, "not UTF-8 text: byte 0xff"),
    "Latin-1": (
        "ImageId,ClassId,EncodedPixels\n\xe9.jpg,1,1 2\n".encode("latin-1"),
        DataFormatError,
        "not UTF-8 text: byte 0xe9 at offset 30",
    ),
    "no header": (UPDATED.partition("\n")[2], DataFormatError, "neither layout's"),
    "semicolons": (UPDATED.replace(",", ";"), DataFormatError, "separated by ';'"),
    "tabs": (UPDATED.replace(",", "\t"), DataFormatError, r"separated by '\\t'"),
    "both layouts": (
        "ImageId_ClassId,ImageId,ClassId,EncodedPixels\n",
        DataFormatError,
        "both layouts' columns",
    ),
    "repeated column": (
        UPDATED.replace("ImageId", "ImageId,ImageId"),
        DataFormatError,
        r"\['ImageId'\] more than once",
    ),
    "extra field": (
        UPDATED.replace("5\n", "5,x\n"),
        DataFormatError,
        "Expected 3 fields in line 2",
    ),
    "cut in a field": (UPDATED + "c.jpg,2", DataFormatError, "has 2 of the 3 fields"),
    "cut after a comma": (UPDATED + "c.jpg,2,", DataFormatError, "no EncodedPixels"),
    "cut in an encoding": (
        UPDATED + "c.jpg,2,7 3 1",
        DataFormatError,
        "ends inside its run-length",
    ),
    "cut between rows": (
        ORIGINAL.rsplit("\n", 2)[0] + "\n",
        DataFormatError,
        r"\['c.jpg'\] have fewer",
    ),
    "duplicate row": (
        UPDATED + UPDATED.split("\n")[1] + "\n",
        DataFormatError,
        r"more than once: \['b.jpg_3'\]",
    ),
    "class 0": (UPDATED.replace(",3,", ",0,"), DataFormatError, r"class ids \['0'\]"),
    "class 5": (UPDATED.replace(",4,", ",5,"), DataFormatError, r"class ids \['5'\]"),
    "class x": (UPDATED.replace(",1,", ",x,"), DataFormatError, r"class ids \['x'\]"),
    "no .jpg": (
        UPDATED.replace("c.jpg", "c"),
        ImageReadError,
        r"\['c'\] have no image",
    ),
}


@pytest.mark.parametrize("content, error, match", GARBLED.values(), ids=GARBLED)
def test_load_severstal_garbled_table_errors(folders, content, error, match):
    """Check the error each kind of garbled table raises, and that the file is
    left unchanged."""
    result = _load(_folder(folders, content))
    assert isinstance(result, error), result
    assert re.search(match, str(result)), result


@pytest.mark.parametrize(
    "content, reference",
    [
        ("\ufeff" + UPDATED, UPDATED),
        (UPDATED.replace("\n", "\r\n"), UPDATED),
        (ORIGINAL.rstrip("\n"), ORIGINAL),
        (UPDATED.replace("\n", ",notes\n"), UPDATED),
        (UPDATED.split("\n")[0] + "\n", None),
    ],
    ids=["BOM", "CRLF", "no final line break", "extra column", "header only"],
)
def test_load_severstal_tolerated_variants(folders, content, reference):
    """Check variants that load as the plain table does: a byte-order mark,
    CRLF line ends, a complete last row without line break, extra columns;
    and a header-only updated table (every image on disk defect-free)."""
    frame = _load(_folder(folders, content))
    assert not isinstance(frame, Exception), frame
    assert frame["ImageId"].tolist() == list(IMAGES)
    if reference is None:
        assert not frame["has_defect"].any()
    else:
        expected = _load(_folder(folders, reference))
        pd.testing.assert_frame_equal(
            frame.drop(columns="image_path"), expected.drop(columns="image_path")
        )
