"""Load a Severstal annotation table (either ``train.csv`` layout) as one row
per image."""

import csv
import io
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from .._paths import check_under_root, resolve_dir
from .._schema import CLASS_NAMES, DEFECT_CLASSES, ENCODED_COLUMNS, IMAGE_SHAPE
from .._sklearn_compat import StrOptions, validate_params
from ..exceptions import DataFormatError, ImageReadError, MissingImagesWarning

__all__ = ["load_severstal"]

#: Columns that identify each ``train.csv`` layout.
_LAYOUT_COLUMNS = {
    "original": ("ImageId_ClassId", "EncodedPixels"),
    "updated": ("ImageId", "ClassId", "EncodedPixels"),
}

#: How many offending values an error message quotes.
_N_QUOTED = 5

#: File endings taken for images when scanning ``image_dir``.
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")

_DESCR = """\
Severstal steel-sheet surfaces
------------------------------

{n_images:,} image(s) of {width} x {height} pixels, {n_defective:,} with a defect.
Defect cells per class: {class_counts}.

Annotations: {train_csv} ({layout} layout)
Images:      {image_dir}

Columns of ``frame``, one row per image: ``ImageId``; ``image_path`` (where
the image is expected); ``EncodedPixels_1`` .. ``EncodedPixels_4`` (the
run-length encoding of each class's mask, NaN when the class is absent);
``ClassIds`` (the present classes, e.g. ``"1 3"``); ``has_defect``. Images
are read lazily by the image models, never by the loader.
"""


def _quote(values):
    """The first few ``values`` as a short, readable list."""
    values = list(values)
    shown = ", ".join(repr(v) for v in values[:_N_QUOTED])
    more = f", ... ({len(values)} in all)" if len(values) > _N_QUOTED else ""
    return f"[{shown}{more}]"


def _read_csv(path, what, fix):
    """Read a UTF-8 CSV of strings; empty cells become NaN.

    Returns the table, its column names exactly as in the header (repeated
    names are not renamed), and the file's text. The file is only read.
    """
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(f"The {what} {str(path)!r} does not exist. {fix}")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataFormatError(
            f"The {what} {str(path)!r} is not UTF-8 text: byte "
            f"{data[exc.start]:#04x} at offset {exc.start} cannot be decoded "
            f"({exc.reason}). Save it as UTF-8 (or plain ASCII) CSV. {fix}"
        ) from exc
    try:
        # header=None: the header is a row like the others, so a row with
        # more fields than the header is an error (not a silent index
        # column) and repeated column names keep their spelling.
        rows = pd.read_csv(
            io.StringIO(text),
            header=None,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
        )
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as exc:
        raise DataFormatError(
            f"The {what} {str(path)!r} is not a readable CSV file ({exc}). {fix}"
        ) from exc
    table = rows.iloc[1:].reset_index(drop=True)
    table.columns = ["" if pd.isna(name) else name for name in rows.iloc[0]]
    return table, text


def _detect_layout(table, path):
    """Name the ``train.csv`` layout of ``table`` from its columns."""
    found = [
        layout
        for layout, columns in _LAYOUT_COLUMNS.items()
        if set(columns) <= set(table.columns)
    ]
    expected = " or ".join(",".join(cols) for cols in _LAYOUT_COLUMNS.values())
    if len(found) != 1:
        header = list(table.columns)
        hint = ""
        if len(header) == 1:
            separators = [sep for sep in (";", "\t", "|") if sep in header[0]]
            if separators:
                hint = (
                    f" The header looks separated by {separators[0]!r}; "
                    "train.csv must be comma-separated."
                )
        problem = "both layouts' columns" if found else "neither layout's columns"
        raise DataFormatError(
            f"{str(path)!r} is not a Severstal train.csv: expected the columns "
            f"{expected}; got {problem}: {_quote(header)}.{hint} Point "
            "`train_csv` at the competition's train.csv (either layout)."
        )
    _check_unique_columns(table, _LAYOUT_COLUMNS[found[0]], path)
    return found[0]


def _check_unique_columns(table, columns, path):
    """Refuse a header that names one of ``columns`` more than once."""
    repeated = [c for c in columns if list(table.columns).count(c) > 1]
    if repeated:
        raise DataFormatError(
            f"{str(path)!r} has the column(s) {repeated!r} more than once in its "
            "header, so which one to read is ambiguous. Keep one of each."
        )


def _check_last_row(text, table, layout, path):
    """A file cut short ends mid-row: check the last row of a file that does
    not end with a line break.

    A cut that leaves a complete-looking row (between two rows, or inside an
    encoding leaving an even number of values) cannot be detected.
    """
    if table.empty or text[-1] in "\r\n":
        return
    last_line = text[max(text.rfind("\n"), text.rfind("\r")) + 1 :]
    n_fields = len(next(csv.reader([last_line]), []))
    encoding = table["EncodedPixels"].iloc[-1]
    problem = None
    if n_fields < len(table.columns):
        problem = f"has {n_fields} of the {len(table.columns)} fields"
    elif pd.isna(encoding):
        if layout == "updated":
            problem = "has no EncodedPixels, which every updated-layout row has"
    else:
        tokens = encoding.split()
        if len(tokens) % 2 or not all(t.isascii() and t.isdigit() for t in tokens):
            problem = "ends inside its run-length encoding"
    if problem:
        shown = last_line if len(last_line) <= 60 else last_line[:57] + "..."
        raise DataFormatError(
            f"{str(path)!r} looks truncated: it does not end with a line break "
            f"and its last line {shown!r} {problem}. Restore the complete file; "
            "if that row is complete as it is, end the file with a line break."
        )


def _check_class_ids(class_ids, image_ids, path):
    """Convert class-id strings to ints, rejecting anything but 1-4."""
    class_ids = class_ids.str.strip()
    valid = class_ids.isin([str(c) for c in DEFECT_CLASSES])
    if not valid.all():
        bad = pd.unique(class_ids[~valid].fillna("<empty>"))
        raise DataFormatError(
            f"{str(path)!r} has unknown class ids {_quote(bad)} (e.g. for "
            f"image {image_ids[~valid].iloc[0]!r}); expected one of "
            f"{list(DEFECT_CLASSES)}. Fix or remove those rows."
        )
    return class_ids.astype(np.int64)


def _long_from_original(table, path):
    """``ImageId_ClassId`` rows -> a long (ImageId, ClassId, EncodedPixels)
    table, checking that each image has exactly its four rows."""
    key = table["ImageId_ClassId"].fillna("")
    if key.empty:
        return pd.DataFrame({"ImageId": [], "ClassId": [], "EncodedPixels": []})
    parts = key.str.rpartition("_")
    unsplit = (parts[1] == "") | (parts[0] == "")
    if unsplit.any():
        raise DataFormatError(
            f"{str(path)!r}: `ImageId_ClassId` values {_quote(key[unsplit])} are "
            "not of the form '<image id>_<class id>' (e.g. '0002cc93b.jpg_1'). "
            "Fix those rows, or use the updated layout "
            "ImageId,ClassId,EncodedPixels."
        )
    long = pd.DataFrame(
        {
            "ImageId": parts[0],
            "ClassId": _check_class_ids(parts[2], parts[0], path),
            "EncodedPixels": table["EncodedPixels"],
        }
    )
    _check_duplicates(long, path)
    n_rows = long.groupby("ImageId", sort=False).size()
    incomplete = n_rows.index[n_rows != len(DEFECT_CLASSES)]
    if len(incomplete):
        raise DataFormatError(
            f"{str(path)!r} is in the original layout, which has "
            f"{len(DEFECT_CLASSES)} rows per image (one per class, empty = no "
            f"defect), but images {_quote(incomplete)} have fewer. Add the "
            "missing '<image id>_<class id>' rows with an empty EncodedPixels."
        )
    return long


def _long_from_updated(table, path):
    """Check and convert an updated-layout (defect rows only) table."""
    long = pd.DataFrame(
        {
            "ImageId": table["ImageId"].fillna(""),
            "ClassId": _check_class_ids(
                table["ClassId"].fillna(""), table["ImageId"], path
            ),
            "EncodedPixels": table["EncodedPixels"],
        }
    )
    if (long["ImageId"] == "").any():
        raise DataFormatError(
            f"{str(path)!r} has rows without an ImageId. Fill in or remove them."
        )
    _check_duplicates(long, path)
    return long


def _check_duplicates(long, path):
    duplicated = long.duplicated(["ImageId", "ClassId"])
    if duplicated.any():
        pairs = long.loc[duplicated, ["ImageId", "ClassId"]].itertuples(index=False)
        raise DataFormatError(
            f"{str(path)!r} lists some (image, class) pairs more than once: "
            f"{_quote(f'{i}_{c}' for i, c in pairs)}. Keep one row per image "
            "and class (merge the masks of duplicated rows)."
        )


def _read_image_ids(image_ids):
    """The explicit image list: a list-like of ids or a CSV with ``ImageId``."""
    if isinstance(image_ids, (str, os.PathLike)):
        table, _ = _read_csv(
            image_ids,
            "`image_ids` file",
            "Pass a CSV with an ImageId column, or a list of image ids.",
        )
        if "ImageId" not in table.columns:
            raise DataFormatError(
                f"The `image_ids` file {str(image_ids)!r} has no ImageId column; "
                f"got columns {list(table.columns)!r}. Add the header 'ImageId' "
                "or pass the ids as a list."
            )
        _check_unique_columns(table, ["ImageId"], image_ids)
        image_ids = table["ImageId"].dropna()
    return pd.Index(pd.unique(pd.Series(list(image_ids), dtype=str)))


def _image_files(image_dir):
    """Names of the image files in ``image_dir`` (empty if it does not exist)."""
    if not image_dir.is_dir():
        return pd.Index([], dtype=str)
    names = [n for n in os.listdir(image_dir) if n.lower().endswith(_IMAGE_SUFFIXES)]
    return pd.Index(names, dtype=str)


def _frame_from_long(long, all_ids, image_dir):
    """One row per image from the long table of defect cells."""
    cells = long.dropna(subset=["EncodedPixels"])
    wide = cells.pivot(index="ImageId", columns="ClassId", values="EncodedPixels")
    wide = wide.reindex(index=all_ids.sort_values(), columns=list(DEFECT_CLASSES))
    encoded = wide.to_numpy(dtype=object)
    present = pd.notna(encoded)
    # Each image's set of classes as a 4-bit code, then one lookup per image.
    code = present.astype(np.int64) @ (1 << np.arange(len(DEFECT_CLASSES)))
    names = [
        " ".join(str(c) for b, c in enumerate(DEFECT_CLASSES) if k >> b & 1)
        for k in range(1 << len(DEFECT_CLASSES))
    ]
    ids = pd.Series(wide.index, dtype=str)
    frame = pd.DataFrame({"ImageId": ids, "image_path": str(image_dir) + os.sep + ids})
    for column, values in zip(ENCODED_COLUMNS, encoded.T):
        frame[column] = pd.Series(values, dtype=object)
    frame["ClassIds"] = pd.Series(np.asarray(names, dtype=object)[code], dtype=str)
    frame["has_defect"] = code > 0
    return frame


def _check_images(frame, image_dir, missing_images):
    """Raise, warn or stay quiet about image files that are not on disk."""
    if missing_images == "ignore":
        return
    missing = frame["ImageId"][~frame["ImageId"].isin(_image_files(image_dir))]
    if missing.empty:
        return
    message = (
        f"{len(missing):,} of {len(frame):,} image(s) are not in {str(image_dir)!r}, "
        f"e.g. {_quote(missing)}."
    )
    no_suffix = missing[~missing.str.lower().str.endswith(_IMAGE_SUFFIXES)]
    if len(no_suffix):
        message += (
            f" Image ids are file names, but {_quote(no_suffix)} have no image "
            f"suffix ({', '.join(_IMAGE_SUFFIXES)}); add it to the ids in "
            "train.csv."
        )
    if missing_images == "raise":
        raise ImageReadError(
            f"{message} Point `image_dir` at the folder that holds them, or pass "
            "missing_images='warn' (or 'ignore' when only the masks are needed)."
        )
    # Point at the caller of load_severstal, past its validation wrapper.
    warnings.warn(
        f"{message} Their rows are kept; reading those images will fail.",
        MissingImagesWarning,
        stacklevel=4,
    )


@validate_params(
    {
        "root": [str, os.PathLike, None],
        "train_csv": [str, os.PathLike, None],
        "image_dir": [str, os.PathLike, None],
        "image_ids": ["array-like", str, os.PathLike, None],
        "missing_images": [StrOptions({"raise", "warn", "ignore"})],
    },
    prefer_skip_nested_validation=True,
)
def load_severstal(
    root=None, *, train_csv=None, image_dir=None, image_ids=None, missing_images="raise"
):
    """Load Severstal annotations as one row per image.

    Reads a directory in the Kaggle "Severstal: Steel Defect Detection"
    format, ``root/train.csv`` and ``root/train_images/``, in either layout
    of ``train.csv`` (detected from its columns):

    - original: ``ImageId_ClassId,EncodedPixels``, four rows per image, an
      empty encoding meaning that the class is absent;
    - updated: ``ImageId,ClassId,EncodedPixels``, defect rows only. An image
      without any row is defect-free when its file is in ``image_dir`` or
      its id is in ``image_ids``.

    Images are not read; the image models read them lazily from
    ``image_path``. Run-length encodings are kept as strings and checked
    when decoded (:func:`sksteel.preprocessing.rle_decode`).

    Parameters
    ----------
    root : str or path-like, default=None
        The data set directory, holding ``train.csv`` and ``train_images/``.
        ``None`` requires ``train_csv``; the root is then its folder.
    train_csv : str or path-like, default=None
        The annotation table, overriding ``root/train.csv``.
    image_dir : str or path-like, default=None
        The image folder, overriding ``root/train_images``.
    image_ids : array-like of str, str or path-like, default=None
        Every image id of the data set, as a list or as a CSV file with an
        ``ImageId`` column (such as the defect-free ids of an updated-layout
        table). Ids without an annotation row are defect-free. ``None`` takes
        the ids of ``train_csv`` plus, in the updated layout, the image files
        of ``image_dir``.
    missing_images : {"raise", "warn", "ignore"}, default="raise"
        What to do when image files are not in ``image_dir``: raise
        :class:`~sksteel.exceptions.ImageReadError`, warn with
        :class:`~sksteel.exceptions.MissingImagesWarning`, or nothing (when
        only the masks are needed). Rows are never dropped.

    Returns
    -------
    data : sklearn.utils.Bunch
        With ``frame`` (pandas.DataFrame, one row per image sorted by
        ``ImageId``, columns ``ImageId``, ``image_path``, ``EncodedPixels_1``
        .. ``EncodedPixels_4`` (str or NaN when the class is absent),
        ``ClassIds`` (space-separated present classes, ``""`` when none),
        ``has_defect``), ``layout`` ("original" or "updated"), ``root``,
        ``train_csv`` and ``image_dir`` (pathlib.Path) and ``DESCR``.

    Raises
    ------
    DataFormatError
        When a file does not exist or the table is malformed: not UTF-8
        text, not CSV (e.g. a row with more fields than the header),
        missing, repeated or both layouts' columns, unknown class ids,
        duplicated image and class, an image of the original layout without
        its four rows, or a file that looks cut short (no final line break
        and an incomplete last row). The files are only read. Also when image
        ids lead outside ``image_dir`` (``..``, an absolute path, or a
        symbolic link out of the folder), whatever `missing_images` says,
        and when ``image_dir`` is a symbolic link loop.
    ImageReadError
        When image files are missing and ``missing_images="raise"``, or are
        symbolic link loops.

    See Also
    --------
    make_steel_surfaces : Generate a Severstal-like data set to load.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sksteel.datasets import load_severstal
    >>> root = Path(tempfile.mkdtemp())
    >>> _ = (root / "train.csv").write_text(
    ...     "ImageId,ClassId,EncodedPixels\\n"
    ...     "b.jpg,3,1 10 300 5\\n"
    ...     "b.jpg,1,40 2\\n"
    ... )
    >>> data = load_severstal(root, image_ids=["a.jpg", "b.jpg"],
    ...                       missing_images="ignore")
    >>> data.layout
    'updated'
    >>> data.frame[["ImageId", "EncodedPixels_3", "ClassIds", "has_defect"]]
      ImageId EncodedPixels_3 ClassIds  has_defect
    0   a.jpg             NaN                False
    1   b.jpg      1 10 300 5      1 3        True
    """
    if root is None and train_csv is None:
        raise DataFormatError(
            "load_severstal needs the data set folder `root` or the annotation "
            "table `train_csv`; got neither. Pass e.g. root='path/to/severstal'."
        )
    train_csv = Path(train_csv) if train_csv is not None else Path(root) / "train.csv"
    root = Path(root) if root is not None else train_csv.parent
    image_dir = Path(image_dir) if image_dir is not None else root / "train_images"
    image_dir = Path(resolve_dir(image_dir, "image folder"))

    table, text = _read_csv(
        train_csv,
        "annotation table",
        "Pass `root` (holding train.csv) or `train_csv` pointing at the file.",
    )
    layout = _detect_layout(table, train_csv)
    _check_last_row(text, table, layout, train_csv)
    if layout == "original":
        long = _long_from_original(table, train_csv)
    else:
        long = _long_from_updated(table, train_csv)

    annotated = pd.Index(pd.unique(long["ImageId"]), dtype=str)
    if image_ids is not None:
        listed = _read_image_ids(image_ids)
        unlisted = annotated.difference(listed)
        if len(unlisted):
            raise DataFormatError(
                f"{len(unlisted):,} image(s) of {str(train_csv)!r} are not in "
                f"`image_ids`, e.g. {_quote(unlisted)}. Pass the complete list of "
                "image ids, or image_ids=None."
            )
        all_ids = listed
    elif layout == "updated":
        all_ids = annotated.union(_image_files(image_dir))
    else:
        all_ids = annotated

    frame = _frame_from_long(long, all_ids, image_dir)
    check_under_root(frame["ImageId"], frame["image_path"], image_dir)
    _check_images(frame, image_dir, missing_images)
    counts = [int(frame[c].notna().sum()) for c in ENCODED_COLUMNS]
    descr = _DESCR.format(
        n_images=len(frame),
        height=IMAGE_SHAPE[0],
        width=IMAGE_SHAPE[1],
        train_csv=train_csv,
        layout=layout,
        n_defective=int(frame["has_defect"].sum()),
        class_counts=", ".join(
            f"{c} {CLASS_NAMES[c]} {n:,}" for c, n in zip(DEFECT_CLASSES, counts)
        ),
        image_dir=image_dir,
    )
    return Bunch(
        frame=frame,
        layout=layout,
        root=root,
        train_csv=train_csv,
        image_dir=image_dir,
        DESCR=descr,
    )
