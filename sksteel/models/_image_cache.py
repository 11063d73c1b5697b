"""What multimodal SteelNet reads from an image, cached on disk.

An image becomes the network's input once: the downsampled grey pixels for
an encoder trained from scratch (or a segmenter encoder being fine-tuned),
or the pooled features of a frozen
:class:`~sksteel.vision.DefectSegmenter` encoder. Each is stored as one
``.npy`` file under ``<data home>/image_features/<encoder key>/``, named
after the image file's real path, size and modification time. The encoder
key hashes the encoder's weights (or, for pixels, the image size), so new
weights never reuse old features, and an edited image file is read again.
Entries are written atomically; an entry that cannot be loaded or has the
wrong shape is rebuilt with a warning.

The network reads the entries through :class:`CachedImages`, which holds
their file names only and loads a batch's rows when it is indexed, so the
memory of a fit does not grow with the number of images.
"""

import hashlib
import os
import warnings
from pathlib import Path

import numpy as np
import torch

from .._cache import ensure_folder, temporary_name
from ..exceptions import DataCacheWarning, ImageReadError, ImageReadWarning

__all__ = ["CachedImages", "PixelReader", "SegmenterFeatures", "cached_inputs"]

#: Images an encoder reads per forward pass when filling the cache.
_BATCH_SIZE = 16

#: Version of the stored layout; a change gives new keys.
_CACHE_VERSION = 1


def _read_image(path, image_size):
    # PIL: imported on use, as the vision package does
    from .._images import read_image

    return read_image(path, image_size)


class PixelReader:
    """Grey pixels at ``image_size``, normalised, stored as float16."""

    def __init__(self, image_size):
        self.image_size = tuple(int(size) for size in image_size)
        self.shape = (1, *self.image_size)
        self.dtype = np.float16
        self.key = f"pixels-{self.image_size[0]}x{self.image_size[1]}"

    def __call__(self, paths):
        images = [_read_image(path, self.image_size) for path in paths]
        return torch.stack(images).numpy().astype(np.float16)


class SegmenterFeatures:
    """Global-average-pooled deepest feature map of a fitted segmenter's
    encoder (``segmenter.encoder_``), frozen, as float32."""

    def __init__(self, segmenter):
        self.encoder = segmenter.encoder_
        self.image_size = tuple(segmenter.image_size_)
        self.shape = (int(self.encoder.out_channels[-1]),)
        self.dtype = np.float32
        digest = hashlib.sha256(repr(self.image_size).encode())
        for name, tensor in sorted(self.encoder.state_dict().items()):
            digest.update(name.encode() + b"\0")
            digest.update(tensor.detach().cpu().numpy().tobytes())
        self.key = f"encoder-{digest.hexdigest()[:16]}"

    def __call__(self, paths):
        rows = []
        was_training = self.encoder.training
        self.encoder.eval()
        device = next(self.encoder.parameters()).device
        try:
            with torch.no_grad():
                for start in range(0, len(paths), _BATCH_SIZE):
                    batch = torch.stack(
                        [
                            _read_image(path, self.image_size)
                            for path in paths[start : start + _BATCH_SIZE]
                        ]
                    ).to(device)
                    deepest = self.encoder(batch)[-1]
                    rows.append(deepest.mean(dim=(-2, -1)).cpu().numpy())
        finally:
            self.encoder.train(was_training)
        return np.concatenate(rows).astype(np.float32)


class CachedImages:
    """The network inputs of a set of rows, loaded from the cache per batch.

    Holds one cache entry (file name) per row, None where the row has no
    usable image; indexing loads the rows asked for and nothing else.

    Parameters
    ----------
    entries : sequence of path-like or None
        The cache entry of each row.
    shape : tuple of int
        Shape of one row's input.
    dtype : numpy dtype
        Its type in the cache.

    Examples
    --------
    >>> from sksteel.models._image_cache import CachedImages
    >>> images = CachedImages([None, None, None], shape=(2,), dtype="float32")
    >>> len(images), images[1:].shape
    (3, torch.Size([2, 2]))
    """

    def __init__(self, entries, shape, dtype):
        self.entries = np.array(
            [None if entry is None else str(entry) for entry in entries], dtype=object
        )
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)

    def __len__(self):
        return len(self.entries)

    def take(self, index):
        """The rows at ``index`` (positions, a mask or a slice), still
        unloaded."""
        index = index.numpy() if isinstance(index, torch.Tensor) else index
        return CachedImages(self.entries[index], self.shape, self.dtype)

    def __getitem__(self, index):
        """The inputs of the rows at ``index`` as a tensor (zeros where a
        row has no image)."""
        index = index.numpy() if isinstance(index, torch.Tensor) else index
        entries = np.atleast_1d(self.entries[index])
        batch = np.zeros((len(entries), *self.shape), dtype=self.dtype)
        for row, entry in enumerate(entries):
            if entry is not None:
                batch[row] = np.load(entry, allow_pickle=False)
        return torch.from_numpy(batch)


def _file_key(path):
    """A name for the image file at ``path`` (real path, size, mtime), or
    None when it cannot be found."""
    real = os.path.realpath(path)
    try:
        stat = os.stat(real)
    except OSError:
        return None
    text = f"{_CACHE_VERSION}\0{real}\0{stat.st_size}\0{stat.st_mtime_ns}"
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _load(entry, shape):
    """The array stored at ``entry`` (memory-mapped, not read), or None
    when it is absent or bad."""
    if not entry.exists():
        return None
    try:
        array = np.load(entry, mmap_mode="r", allow_pickle=False)  # header only
    except (OSError, ValueError) as error:
        problem = f"unreadable ({error})"
    else:
        if array.shape == shape:
            return array
        problem = f"shape {array.shape}, expected {shape}"
    warnings.warn(
        f"The cached image input {str(entry)!r} is damaged ({problem}); "
        "reading the image again.",
        DataCacheWarning,
        stacklevel=4,
    )
    return None


def _store(entry, array):
    temporary = temporary_name(entry)
    try:
        with open(temporary, "wb") as handle:
            np.save(handle, array, allow_pickle=False)
        os.replace(temporary, entry)
    finally:
        temporary.unlink(missing_ok=True)


#: The colour kinds an image may have (as the vision models name them).
_COLOURS = ("grayscale", "RGB")


def _problem(message, on_error, stacklevel=6):
    """Raise ``message`` as an :class:`ImageReadError`, or warn that the
    images it names are read as missing."""
    if on_error == "raise":
        raise ImageReadError(
            f"{message} Fix or remove these files, or pass on_error='warn' to read "
            "them as missing images."
        )
    warnings.warn(
        f"{message} They are read as missing images.",
        ImageReadWarning,
        stacklevel=stacklevel,  # the caller of the estimator's method
    )


def _usable(paths, on_error, colour):
    """Which of ``paths`` open, have the Severstal size and the colour kind
    ``colour`` (None: the most common one), and that kind."""
    from .._images import check_images  # PIL: imported on use

    try:
        return check_images(
            np.asarray(paths, dtype=object), on_error=on_error, colour=colour
        )
    except ImageReadError as error:
        if on_error == "raise":
            raise
        _problem(str(error).split(" Fix or remove")[0], on_error, stacklevel=7)
        return np.zeros(len(paths), dtype=bool), colour


def _cached(folder, key, shape):
    """The cache entry of the image file ``key`` and its colour kind, or
    ``(None, None)``."""
    for colour in _COLOURS:
        entry = folder / f"{key}-{colour}.npy"
        if _load(entry, shape) is not None:
            return entry, colour
    return None, None


def cached_inputs(reader, paths, *, on_error="raise", colour=None, data_home=None):
    """The network input of every image in ``paths``, from the cache when
    it is there.

    Images not in the cache are checked first (they must open and have the
    Severstal size), then read and stored ``_BATCH_SIZE`` at a time, so that
    no more than a batch of them is in memory. Every image must have the colour kind
    ``colour``. A file failing either is handled by ``on_error``.

    Parameters
    ----------
    reader : PixelReader or SegmenterFeatures
        What to compute from an image.
    paths : sequence of str
        Image files.
    on_error : {"raise", "warn"}, default="raise"
        A file that cannot be used raises
        :class:`~sksteel.exceptions.ImageReadError`, or is flagged unusable
        with an :class:`~sksteel.exceptions.ImageReadWarning`.
    colour : {"grayscale", "RGB"} or None, default=None
        The colour kind of the images; None takes the most common one.
    data_home : str or path-like, default=None
        The sksteel data home (see :func:`sksteel.datasets.get_data_home`).

    Returns
    -------
    inputs : CachedImages of length len(paths)
        Zeros on the unusable rows when indexed.
    usable : ndarray of bool, shape (len(paths),)
    colour : str or None
        The colour kind of the usable images.
    """
    from ..datasets import get_data_home  # the data sets import the models

    folder = Path(get_data_home(data_home)) / "image_features" / reader.key
    ensure_folder(folder, "image features")
    entries = np.full(len(paths), None, dtype=object)
    kinds = np.full(len(paths), None, dtype=object)
    todo = []
    for i, path in enumerate(paths):
        key = _file_key(path)
        entry, kind = (
            (None, None) if key is None else _cached(folder, key, reader.shape)
        )
        if entry is None:
            todo.append(i)
        else:
            entries[i], kinds[i] = entry, kind
    if todo:
        checked, kind = _usable([paths[i] for i in todo], on_error, colour)
        for i, ok in zip(todo, checked):
            kinds[i] = kind if ok else None
    known = kinds[kinds != None]  # noqa: E711 (element-wise comparison)
    if colour is None and len(known):
        values, counts = np.unique(known.astype(str), return_counts=True)
        colour = str(values[np.argmax(counts)])
    other = [i for i, kind in enumerate(kinds) if kind not in (None, colour)]
    if other:
        listed = ", ".join(repr(paths[i]) for i in other[:5])
        _problem(
            f"{len(other)} image(s) are {kinds[other[0]]} while the others are "
            f"{colour}: {listed}.",
            on_error,
        )
        kinds[other] = None
    read = [i for i in todo if kinds[i] is not None]
    for start in range(0, len(read), _BATCH_SIZE):
        chunk = read[start : start + _BATCH_SIZE]
        for i, array in zip(chunk, reader([paths[i] for i in chunk])):
            entries[i] = folder / f"{_file_key(paths[i])}-{kinds[i]}.npy"
            _store(entries[i], array)
    usable = kinds != None  # noqa: E711 (element-wise comparison)
    entries[~usable] = None
    return CachedImages(entries, reader.shape, reader.dtype), usable, colour
