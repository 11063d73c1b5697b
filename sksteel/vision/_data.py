"""Image input for the vision models: paths from a table, checks that name the
bad files, a lazily reading torch ``Dataset`` and the inference batches."""

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from .._images import check_images, read_image
from .._paths import check_under_root, fspaths
from ..exceptions import DataFormatError, ImageReadError

__all__ = [
    "ImageDataset",
    "check_images",
    "image_paths",
    "inference_batches",
    "read_image",
]


def image_paths(X):
    """Image paths and row index of `X`.

    Parameters
    ----------
    X : DataFrame with an ``image_path`` column, or 1-d array-like of paths
        The table returned by ``load_severstal(...).frame``, or paths.

    Returns
    -------
    paths : ndarray of str, shape (n_images,)
    index : pandas.Index
        ``X.index`` for a DataFrame or Series, a RangeIndex otherwise.
    """
    if isinstance(X, pd.DataFrame):
        if "image_path" not in X.columns:
            raise DataFormatError(
                "Expected a table with an 'image_path' column (as "
                f"load_severstal(...).frame has); got columns {list(X.columns)!r}. "
                "Pass the table from load_severstal or a list of image paths."
            )
        n_columns = int((X.columns == "image_path").sum())
        if n_columns > 1:
            raise DataFormatError(
                f"Expected one 'image_path' column; got {n_columns} columns of "
                "that name. Rename or drop the copies."
            )
        values, index = X["image_path"].to_numpy(), X.index
    elif isinstance(X, (pd.Series, np.ndarray, Sequence)) and not isinstance(
        X, (str, bytes)
    ):
        values = np.asarray(X, dtype=object)
        index = X.index if isinstance(X, pd.Series) else pd.RangeIndex(len(values))
        if values.ndim != 1:
            raise DataFormatError(
                "Expected a 1-d list of image paths or a table with an "
                f"'image_path' column; got an array of shape {values.shape!r}."
            )
    else:
        raise DataFormatError(
            "Expected a table with an 'image_path' column or a list of image "
            f"paths; got {type(X).__name__}: {X!r:.80}."
        )
    if len(values) == 0:
        raise DataFormatError(
            "Found no images: the table or list of paths is empty. Pass at least "
            "one image."
        )
    paths = np.array(
        fspaths(values, "Expected every image path to be a str or path-like"),
        dtype=object,
    )
    if isinstance(X, pd.DataFrame) and "ImageId" in X.columns:
        _check_roots(X["ImageId"].to_numpy(), paths)
    return paths, index


def _check_roots(ids, paths):
    """Refuse ids of a Severstal table whose files resolve outside their root.

    In a table of :func:`~sksteel.datasets.load_severstal` each path is
    ``<root>/<ImageId>``; the root is what the path holds before the id.
    Rows whose path does not end with their id (a table built by hand) have
    no known root and are not checked.
    """
    by_root = {}
    for image_id, path in zip(ids, paths):
        if isinstance(image_id, str) and image_id and path.endswith(image_id):
            root = path[: len(path) - len(image_id)]
            by_root.setdefault(root, ([], []))
            by_root[root][0].append(image_id)
            by_root[root][1].append(path)
    for root, (root_ids, root_paths) in by_root.items():
        check_under_root(root_ids, root_paths, root or os.curdir)


class ImageDataset(torch.utils.data.Dataset):
    """Images read from disk one at a time, with optional targets.

    Nothing is cached: memory holds only the batches a ``DataLoader`` is
    assembling.

    Parameters
    ----------
    paths : ndarray of str, shape (n_images,)
    targets : ndarray of shape (n_images, n_outputs), default=None
        Training targets. Without them the second item of a sample is a bool
        saying whether the image could be read.
    image_size : tuple of int, default=(64, 400)
        ``(height, width)`` the images are resized to.
    augment : bool, default=False
        Flip each image horizontally with probability 0.5 (training only).
    on_error : {"raise", "warn"}, default="raise"
        What an image that fails to decode does: raise an
        :class:`ImageReadError` naming it, or give a zero image flagged
        unreadable (only without `targets`).
    """

    def __init__(
        self,
        paths,
        targets=None,
        *,
        image_size=(64, 400),
        augment=False,
        on_error="raise",
    ):
        self.paths = paths
        self.targets = (
            None if targets is None else torch.as_tensor(targets, dtype=torch.float32)
        )
        self.image_size = tuple(image_size)
        self.augment = augment
        self.on_error = on_error

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        path, ok = self.paths[i], True
        try:
            image = read_image(path, self.image_size)
        except OSError as exc:
            if self.on_error == "raise" or self.targets is not None:
                raise ImageReadError(
                    f"Cannot read image {path!r}: {exc}. Fix or remove the file, "
                    "or pass on_error='warn' to skip unreadable images."
                ) from exc
            image, ok = torch.zeros((1, *self.image_size)), False
        if self.augment and torch.rand(()) < 0.5:
            image = image.flip(-1)
        if self.targets is None:
            return image, ok
        return image, self.targets[i]


def inference_batches(model, paths, *, skip_unusable):
    """The images of `paths` in batches for a fitted vision model's network.

    The images are checked first (all of them, headers only, against the
    colour kind `model` was trained on), then read lazily, `batch_size` at a
    time, with a progress bar when `model` is verbose. The network is put in
    evaluation mode.

    Parameters
    ----------
    model : DefectSegmenter or DefectFractionRegressor
        Fitted: ``net_``, ``image_colour_``, ``image_size_``, and the
        ``on_error``, ``batch_size``, ``num_workers`` and ``verbose``
        parameters.
    paths : ndarray of str, shape (n_images,)
    skip_unusable : bool
        Read only the images that passed the checks (``True``), or all of
        them, the others flagged unreadable (``False``, under
        ``on_error="warn"``).

    Returns
    -------
    usable : ndarray of bool, shape (n_images,)
        Which images passed the checks.
    dataset : ImageDataset
        The images read.
    batches : iterable of (Tensor, Tensor)
        Images ``(n_batch, 1, height, width)`` and whether each was read.
    """
    usable, _ = check_images(paths, on_error=model.on_error, colour=model.image_colour_)
    dataset = ImageDataset(
        paths[usable] if skip_unusable else paths,
        image_size=model.image_size_,
        on_error=model.on_error,
    )
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=model.batch_size, num_workers=model.num_workers
    )
    model.net_.module_.eval()
    batches = tqdm(
        loader,
        desc="images",
        unit="batch",
        leave=False,
        delay=2.0,
        disable=not model.verbose,
    )
    return usable, dataset, batches
