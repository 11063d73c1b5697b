"""Kaggle submission files of predicted masks."""

import csv
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .._atomic import refuse_existing, write_atomically
from .._schema import DEFECT_CLASSES, ENCODED_COLUMNS
from ..exceptions import DataFormatError
from ..preprocessing import rle_decode

__all__ = ["to_submission"]

#: Columns of a submission, in order (the competition's updated layout).
SUBMISSION_COLUMNS = ("ImageId", "EncodedPixels", "ClassId")


def to_submission(table_or_predictions, path, *, overwrite=False):
    """Write predicted masks as a Kaggle Severstal submission file.

    The file has the columns ``ImageId,EncodedPixels,ClassId`` (the
    competition's updated layout) and one row per image and class, with an
    empty ``EncodedPixels`` where the class is absent, so that every image
    is listed. :func:`~sksteel.datasets.load_severstal` reads it back to the
    same masks (``load_severstal(train_csv=path, missing_images="ignore")``).

    The file is written to a temporary file beside `path` first, then given
    its name in one step: a reader never sees half a file, and without
    `overwrite` an existing file is never replaced, even by a concurrent
    writer.

    Parameters
    ----------
    table_or_predictions : DataFrame
        The ``EncodedPixels_1..4`` columns (str, NaN or ``""`` when the class
        is absent), as :meth:`DefectSegmenter.predict_rle` gives or
        ``load_severstal(...).frame`` holds, and the image ids: an
        ``ImageId`` column, else the file names of an ``image_path`` column,
        else a string index (e.g. ``predict_rle(frame.set_index("ImageId"))``).
    path : str or path-like
        The file to write.
    overwrite : bool, default=False
        Replace `path` if it exists.

    Returns
    -------
    path : pathlib.Path
        The file written.

    Raises
    ------
    FileExistsError
        When `path` exists and `overwrite` is False.
    DataFormatError
        When the ids are missing, empty or repeated, or an encoding does not
        decode (:class:`~sksteel.exceptions.RLEError`).

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> from pathlib import Path
    >>> from sksteel.vision import to_submission
    >>> table = pd.DataFrame({
    ...     "ImageId": ["a.jpg", "b.jpg"],
    ...     "EncodedPixels_1": ["1 10", None],
    ...     "EncodedPixels_2": [None, None],
    ...     "EncodedPixels_3": [None, "20 5"],
    ...     "EncodedPixels_4": [None, None],
    ... })
    >>> path = to_submission(table, Path(tempfile.mkdtemp()) / "submission.csv")
    >>> print(path.read_text().splitlines()[:3])
    ['ImageId,EncodedPixels,ClassId', 'a.jpg,1 10,1', 'a.jpg,,2']
    """
    rows = _submission_rows(table_or_predictions)
    path = Path(path)
    if not overwrite:
        refuse_existing(path)
    _write_atomically(rows, path, overwrite)
    return path


def _image_ids(table):
    """The image ids of `table`, as strings."""
    if "ImageId" in table.columns:
        ids = table["ImageId"]
    elif "image_path" in table.columns:
        ids = table["image_path"].map(lambda p: os.path.basename(os.fspath(p)))
    elif table.index.inferred_type == "string":
        ids = table.index.to_series()
    else:
        raise DataFormatError(
            "Expected the image ids in an 'ImageId' column, an 'image_path' "
            f"column or a string index; got columns {list(table.columns)!r} and "
            f"an index of {table.index.inferred_type}. Add the ids, e.g. "
            "frame[['ImageId']].join(model.predict_rle(frame))."
        )
    ids = ids.to_numpy(dtype=object)
    bad = [i for i in ids if not isinstance(i, str) or not i.strip()]
    if bad:
        raise DataFormatError(
            f"Expected every image id to be a non-empty string; got {bad[:5]!r}."
        )
    repeated = pd.unique(ids[pd.Series(ids).duplicated().to_numpy()])
    if len(repeated):
        raise DataFormatError(
            f"Image ids are repeated: {list(repeated[:5])!r}. Give each image one row."
        )
    return ids


def _submission_rows(table):
    """(ImageId, EncodedPixels, ClassId) rows, every encoding checked."""
    if not isinstance(table, pd.DataFrame) or not set(ENCODED_COLUMNS) <= set(
        table.columns
    ):
        got = list(table.columns) if isinstance(table, pd.DataFrame) else type(table)
        raise DataFormatError(
            f"Expected a table with the columns {', '.join(ENCODED_COLUMNS)} (as "
            f"DefectSegmenter.predict_rle gives); got {got!r}."
        )
    ids = _image_ids(table)
    encodings = table[list(ENCODED_COLUMNS)].to_numpy(dtype=object)
    rows = []
    for image_id, row in zip(ids, encodings):
        for class_id, rle in zip(DEFECT_CLASSES, row):
            rle = (
                "" if rle is None or (isinstance(rle, float) and np.isnan(rle)) else rle
            )
            rle_decode(rle)  # raises an RLEError naming the bad token
            rows.append((image_id, " ".join(str(rle).split()), class_id))
    return rows


def _write_atomically(rows, path, overwrite):
    """Write `rows` through the shared atomic writer: nothing is replaced
    without `overwrite`, even a file another program created meanwhile."""

    def write(temporary):
        with open(temporary, "w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file, lineterminator="\n")
            writer.writerow(SUBMISSION_COLUMNS)
            writer.writerows(rows)

    write_atomically(path, write, overwrite=overwrite)
