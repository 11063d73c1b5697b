"""The surface image as a second modality of SteelNetClassifier.

Everything the estimator does with an image column lives here: which
column holds the images, what a missing or bad image is, the network
inputs (through the cache of :mod:`._image_cache`), the net configuration,
the embeddings and the retrieval of similar training surfaces. The
estimator calls these helpers at a few marked places; without an image
column none of them changes what it does.
"""

import os
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch

from .._paths import check_under_root, fspaths
from .._sklearn_compat import HasMethods, Interval, StrOptions
from ..exceptions import SksteelWarning
from ..nn import MultimodalSteelNet, MultimodalSteelNetLoss
from ._image_cache import CachedImages, PixelReader, SegmenterFeatures, cached_inputs

__all__ = [
    "IMAGE_PARAMETER_CONSTRAINTS",
    "MODALITIES",
    "embeddings",
    "image_net_params",
    "network_inputs",
    "similar_surfaces",
    "split_images",
    "take_rows",
]

#: The column ``image_column="auto"`` looks for.
DEFAULT_IMAGE_COLUMN = "image_path"

#: What ``embed(X, modality=...)`` may return.
MODALITIES = ("sensors", "image", "joint")

#: Rows embedded per forward pass (their images are loaded together).
_EMBEDDING_BATCH_SIZE = 1024

#: The image parameters of SteelNetClassifier, validated with the others.
IMAGE_PARAMETER_CONSTRAINTS = {
    "epsilon": [Interval(Real, 0, None, closed="left")],
    "image_column": [str, None],
    "image_encoder": [StrOptions({"scratch"}), HasMethods(["predict_masks"])],
    "freeze_image_encoder": ["boolean"],
    "image_size": ["array-like"],
    "image_root": [str, os.PathLike, None],
    "image_dropout": [Interval(Real, 0, 1, closed="both")],
    "on_error": [StrOptions({"raise", "warn"})],
}


def split_images(estimator, X, *, fit):
    """``(sensor part of X, image column values or None)``.

    In ``fit`` the column is resolved from ``image_column`` and stored as
    ``image_column_`` (None: no image column). At prediction a model
    fitted with images reads a DataFrame without that column as images
    missing on every row.
    """
    if fit:
        column = _resolve_column(estimator.image_column, X)
        estimator.image_column_ = column
    else:
        column = getattr(estimator, "image_column_", None)
    if column is None:
        return X, None
    if not isinstance(X, pd.DataFrame) or column not in X.columns:
        return X, np.full(len(X), None, dtype=object)
    return X.drop(columns=column), X[column].to_numpy(dtype=object)


def _resolve_column(image_column, X):
    """The image column of ``X`` named by ``image_column``, or None."""
    is_frame = isinstance(X, pd.DataFrame)
    if image_column == "auto":
        found = is_frame and DEFAULT_IMAGE_COLUMN in X.columns
        return DEFAULT_IMAGE_COLUMN if found else None
    if image_column is None:
        return None
    if not is_frame or image_column not in X.columns:
        columns = list(X.columns) if is_frame else "an array without column names"
        raise ValueError(
            f"`image_column={image_column!r}` names no column of X (X has "
            f"{columns!r}). Pass a DataFrame with that column, "
            "image_column='auto' to use an 'image_path' column when there is "
            "one, or image_column=None for the sensors only."
        )
    return image_column


def _is_missing(value):
    if value is None or (isinstance(value, str) and not value.strip()):
        return True
    return isinstance(value, float) and np.isnan(value)


def _image_paths(values, root):
    """Paths of the rows with an image, and the mask of those rows."""
    present = np.array([not _is_missing(value) for value in values], dtype=bool)
    paths = fspaths(
        values[present],
        "The image column must hold image file paths (str or path-like), or "
        "NaN/None where a row has no image",
    )
    if root is not None:
        joined = [os.path.join(root, path) for path in paths]
        check_under_root(paths, joined, root)
        paths = joined
    return paths, present


def _fine_tuned(estimator):
    """Whether a segmenter's encoder is trained with the network."""
    return not isinstance(estimator.image_encoder, str) and not (
        estimator.freeze_image_encoder
    )


def _reader(estimator):
    """What the network reads from an image: pixels (for the scratch
    encoder or a fine-tuned one) or frozen features."""
    encoder = estimator.image_encoder
    if isinstance(encoder, str):
        size = estimator.image_size
        if not (
            len(size) == 2 and all(isinstance(n, Integral) and n >= 16 for n in size)
        ):
            raise ValueError(
                "`image_size` must be (height, width), two integers of at least "
                f"16 (the scratch encoder halves them four times); got {size!r}."
            )
        return PixelReader(size)
    if not hasattr(encoder, "net_") or not hasattr(encoder, "image_size_"):
        raise ValueError(
            "`image_encoder` must be 'scratch' or a fitted DefectSegmenter "
            f"(its encoder gives the image features); got an unfitted "
            f"{type(encoder).__name__}. Fit it first."
        )
    if _fine_tuned(estimator):
        return PixelReader(encoder.image_size_)
    return SegmenterFeatures(encoder)


def network_inputs(estimator, readings, values, *, fit=False):
    """The net's input: the readings tensor alone, or with the images
    (a :class:`CachedImages`, loaded a batch at a time).

    With ``fit=True`` a fit in which no row has a usable image raises when
    ``image_column`` was named, or warns and drops the image column when
    it was inferred (``"auto"``); ``image_shape_`` and ``image_colour_``
    (the colour kind every image must have) are stored.
    """
    if values is None:
        return readings
    paths, present = _image_paths(values, estimator.image_root)
    reader = _reader(estimator)
    entries = np.full(len(values), None, dtype=object)
    colour = None if fit else estimator.image_colour_
    if paths:
        read, usable, colour = cached_inputs(
            reader, paths, on_error=estimator.on_error, colour=colour
        )
        entries[present] = read.entries
        present[present] = usable
    if fit:
        if not present.any():
            return _without_images(estimator, readings)
        estimator.image_shape_ = tuple(reader.shape)
        estimator.image_colour_ = colour
    return {
        "x": readings,
        "image": CachedImages(entries, reader.shape, reader.dtype),
        "image_present": torch.from_numpy(present),
    }


def take_rows(inputs, index):
    """The rows ``index`` of the net's input, the images still unloaded."""
    if not isinstance(inputs, dict):
        return inputs[index]
    return {
        key: value.take(index) if isinstance(value, CachedImages) else value[index]
        for key, value in inputs.items()
    }


def _without_images(estimator, readings):
    column = estimator.image_column_
    if estimator.image_column != "auto":
        raise ValueError(
            f"No row of the image column {column!r} has a usable image, so "
            "there is nothing to learn from images. Pass rows with image files, "
            "or image_column=None to fit on the sensors only."
        )
    warnings.warn(
        f"No row of the column {column!r} has a usable image; fitting on the "
        "sensors only. Pass image_column=None to silence this warning.",
        SksteelWarning,
        stacklevel=4,
    )
    estimator.image_column_ = None
    return readings


def image_net_params(estimator):
    """skorch parameters turning the SteelNet net into the multimodal one."""
    features = getattr(estimator, "image_shape_", None)
    encoder = estimator.image_encoder.encoder_ if _fine_tuned(estimator) else None
    return {
        "module": MultimodalSteelNet,
        "module__d_features": None if len(features) > 1 else features[0],
        "module__encoder": encoder,
        "module__image_dropout": estimator.image_dropout,
        "criterion": MultimodalSteelNetLoss,
        "criterion__epsilon": estimator.epsilon,
    }


def embeddings(net, inputs, modality):
    """The ``modality`` embedding of every row, as float64.

    ``"sensors"``: SteelNet's ``z`` of the readings; ``"image"``: the image
    embedding (NaN rows where the image is missing); ``"joint"``: their sum,
    what the heads read (the learned missing token standing in for a
    missing image).
    """
    module = net.module_
    module.eval()
    with torch.no_grad():
        if not isinstance(inputs, dict):
            z = module.embed(inputs)
            z = z if z.dim() == 2 else z.mean(dim=1)
            if modality == "image":
                return np.full((len(z), z.shape[-1]), np.nan)
            return z.numpy().astype(np.float64)
        parts = [
            module.embeddings(**_batch(inputs, start))
            for start in range(0, len(inputs["x"]), _EMBEDDING_BATCH_SIZE)
        ]
        z, e, present = (torch.cat(part) for part in zip(*parts))
    if modality == "sensors":
        return z.numpy().astype(np.float64)
    if modality == "joint":
        return (z + e).numpy().astype(np.float64)
    e = e.numpy().astype(np.float64)
    e[~present.numpy()] = np.nan
    return e


def _batch(inputs, start):
    """The rows ``start:start + _EMBEDDING_BATCH_SIZE``, images loaded."""
    rows = slice(start, start + _EMBEDDING_BATCH_SIZE)
    return {key: value[rows] for key, value in inputs.items()}


def _unit(rows):
    norm = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norm > 0, norm, 1.0)


def similar_surfaces(query, surfaces, surface_embeddings, k):
    """The ``k`` training surfaces nearest (cosine) to each query row.

    Returns a DataFrame with one row per (query, rank): ``query`` (row
    position), ``rank`` (0 = nearest), ``image_path``, ``defect_class`` and
    ``similarity``.
    """
    k = min(int(k), len(surfaces))
    similarity = _unit(query) @ _unit(surface_embeddings).T
    nearest = np.argsort(-similarity, axis=1, kind="stable")[:, :k]
    rows = np.arange(len(query)).repeat(k)
    chosen = nearest.ravel()
    return pd.DataFrame(
        {
            "query": rows,
            "rank": np.tile(np.arange(k), len(query)),
            "image_path": surfaces["image_path"].to_numpy()[chosen],
            "defect_class": surfaces["defect_class"].to_numpy()[chosen],
            "similarity": similarity[rows, chosen],
        }
    )
