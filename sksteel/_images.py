"""Reading and checking image files, shared by the vision models and the
image branch of SteelNet: the normalised grey tensor of one file, and the
checks that name the bad files (missing, unreadable, wrong size, colour
kind)."""

import errno
import warnings

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from ._paths import N_NAMED
from ._schema import IMAGE_SHAPE
from .exceptions import ImageReadError, ImageReadWarning

__all__ = ["GREY_MEAN", "GREY_STD", "check_images", "read_image"]

#: Grey-level normalisation: the ImageNet channel means and standard
#: deviations averaged over the three channels, so that weights pretrained on
#: ImageNet (see ``weights``) see inputs on the scale they were trained on.
GREY_MEAN, GREY_STD = 0.449, 0.226

#: PIL modes accepted, and the colour kind each one counts as.
_COLOUR_KINDS = {"L": "grayscale", "RGB": "RGB"}


def _inspect(path, decode):
    """Colour kind of the image at `path` and a problem description or None."""
    try:
        with Image.open(path) as image:
            mode, (width, height) = image.mode, image.size
            if decode:
                image.draft("L", (width // 8, height // 8))
                image.load()
    except FileNotFoundError:
        return None, "file not found"
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        if getattr(exc, "errno", None) == errno.ELOOP:
            return None, "a symbolic link loop"
        return None, f"unreadable: {exc}"
    if (height, width) != IMAGE_SHAPE:
        return None, (
            f"size {width}x{height}, expected {IMAGE_SHAPE[1]}x{IMAGE_SHAPE[0]}"
        )
    if mode not in _COLOUR_KINDS:
        return None, f"mode {mode!r}, expected 'L' (grayscale) or 'RGB'"
    return _COLOUR_KINDS[mode], None


def _describe(problems, n_images):
    """One sentence naming the first few bad files and the count."""
    listed = "; ".join(
        f"{path!r} ({reason})" for path, reason in list(problems.items())[:N_NAMED]
    )
    more = len(problems) - N_NAMED
    tail = f"; and {more} more" if more > 0 else ""
    return f"{len(problems)} of {n_images} image(s) cannot be used: {listed}{tail}."


def check_images(paths, *, on_error="raise", colour=None, decode=False):
    """Check that every image exists, opens, has the Severstal size and one
    colour kind.

    Parameters
    ----------
    paths : ndarray of str
    on_error : {"raise", "warn"}, default="raise"
        ``"raise"`` raises one :class:`ImageReadError` listing the bad files;
        ``"warn"`` flags them in the returned mask with an
        :class:`ImageReadWarning`.
    colour : {"grayscale", "RGB"} or None, default=None
        The colour kind every image must have; ``None`` takes the kind most
        images have, so that a mix is reported on the fewer files.
    decode : bool, default=False
        Decode the pixels (at 1/8 scale) to catch truncated files; otherwise
        only the header is read.

    Returns
    -------
    usable : ndarray of bool, shape (n_images,)
    colour : str
        The colour kind of the usable images.
    """
    kinds, problems = np.empty(len(paths), dtype=object), {}
    for i, path in enumerate(paths):
        kinds[i], problem = _inspect(path, decode)
        if problem is not None:
            problems[str(path)] = problem
    readable = kinds != None  # noqa: E711 (element-wise comparison)
    if colour is None and readable.any():
        values, counts = np.unique(kinds[readable].astype(str), return_counts=True)
        colour = str(values[np.argmax(counts)])
    mixed = readable & (kinds != colour)
    for path, kind in zip(paths[mixed], kinds[mixed]):
        problems[str(path)] = f"{kind}, while the other images are {colour}"
    usable = readable & ~mixed
    if problems:
        message = _describe(problems, len(paths))
        if on_error == "raise" or not usable.any():
            raise ImageReadError(
                f"{message} Fix or remove these files, or pass on_error='warn' to "
                "skip them with a warning."
            )
        warnings.warn(
            f"{message} They are skipped: left out of training, NaN rows in "
            "predictions and features.",
            ImageReadWarning,
            stacklevel=2,
        )
    return usable, colour


def read_image(path, image_size):
    """Read the image at `path` as a normalised grey ``(1, height, width)`` tensor.

    JPEG files are decoded directly at the smallest scale that is still at
    least `image_size`, then resized with a bilinear filter.

    Parameters
    ----------
    path : str
    image_size : tuple of int
        ``(height, width)`` of the output.

    Returns
    -------
    image : torch.Tensor, shape (1, height, width), float32
    """
    height, width = image_size
    with Image.open(path) as image:
        image.draft("L", (width, height))
        grey = image.convert("L").resize((width, height), Image.Resampling.BILINEAR)
    array = np.asarray(grey, dtype=np.float32) / 255.0
    return torch.from_numpy((array - GREY_MEAN) / GREY_STD).unsqueeze(0)
