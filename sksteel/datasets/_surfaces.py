"""Generate Severstal-like steel surfaces: a Kaggle-format data set on disk."""

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from PIL import Image
from sklearn.utils import check_random_state
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from .._atomic import write_atomically
from .._cache import (
    DATA_HOME_HINT,
    build_lock,
    ensure_folder,
    is_writable,
    manifest_problems,
    read_manifest,
    refuse_or_warn,
    write_manifest,
)
from .._schema import DEFECT_CLASSES
from .._sklearn_compat import Interval, validate_params
from ..exceptions import DataCacheError
from ..preprocessing import rle_encode
from ._base import get_data_home
from ._surface_drawing import _draw_defects, _full_masks, _paint

__all__ = ["make_steel_surfaces"]

#: Bumped whenever drawing or painting changes, so old caches are not reused.
_GENERATOR_VERSION = 2

#: The golden-ratio step of the sequence that assigns each image its classes.
_GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0

#: P(k + 1 classes) / P(k classes) on a defective image: about 90 % carry one
#: class, as in Severstal (87 %).
_MORE_CLASSES_RATIO = 0.1

_JPEG_QUALITY = 90

#: Written last, once the data set is complete: the size and hash of every
#: file, checked whenever the folder is reused.
_MANIFEST = "manifest.json"

#: Part of the cache key: folders of the layout before the manifest (a
#: completion marker that vouched for nothing) are never reused.
_CACHE_LAYOUT = 2

# Independent random streams of one image.
_SHAPES, _PIXELS, _ID, _CLASSES = range(4)


def _rng(random_state, index, stream, attempt=0):
    """A generator that depends only on the seed, the image's position
    ``index`` and ``stream``, never on how many images are generated."""
    key = (index, stream, attempt) if attempt else (index, stream)
    return np.random.default_rng(np.random.SeedSequence(random_state, spawn_key=key))


@dataclass(frozen=True)
class _ImageSpec:
    """What one image holds: its id and classes, and where its randomness
    comes from (``random_state`` and its position ``index``)."""

    index: int
    image_id: str
    classes: tuple
    random_state: int

    def rng(self, stream):
        """The image's generator for ``stream`` (see ``_rng``)."""
        return _rng(self.random_state, self.index, stream)


def _image_id(random_state, index, taken):
    """A 9-hex-digit id like Severstal's, unique among ``taken``."""
    attempt = 0
    while True:
        # 36 random bits make 9 hex digits.
        bits = int(_rng(random_state, index, _ID, attempt).integers(0, 2**36))
        image_id = f"{bits:09x}.jpg"
        if image_id not in taken:
            taken.add(image_id)
            return image_id
        attempt += 1


def _check_class_weights(class_weights):
    """Relative class frequencies as 4 floats summing to 1."""
    if class_weights is None:
        return np.full(len(DEFECT_CLASSES), 1.0 / len(DEFECT_CLASSES))
    weights = np.asarray(class_weights, dtype=float)
    if (
        weights.shape != (len(DEFECT_CLASSES),)
        or not np.isfinite(weights).all()
        or (weights < 0).any()
        or weights.sum() <= 0
    ):
        raise ValueError(
            f"`class_weights` must be {len(DEFECT_CLASSES)} non-negative numbers, "
            f"one per class {list(DEFECT_CLASSES)}, not all zero; got "
            f"{class_weights!r}. E.g. class_weights=(897, 247, 5150, 801) for "
            "Severstal's frequencies."
        )
    return weights / weights.sum()


def _plan(n_images, defect_free_fraction, class_weights, max_defects, random_state):
    """The id and classes of every image.

    A golden-ratio (low-discrepancy) sequence spreads the images over the
    defect-free, class and number-of-classes strata, so every prefix of the
    data set holds the requested proportions almost exactly; the random seed
    only shifts the sequence.
    """
    offset = np.random.SeedSequence(random_state).generate_state(1, np.uint64)[0]
    positions = (offset / 2.0**64 + _GOLDEN * np.arange(1, n_images + 1)) % 1.0
    upper = np.cumsum(class_weights)
    n_weighted = int((class_weights > 0).sum())
    n_classes = min(max_defects, n_weighted)
    last = int(np.flatnonzero(class_weights)[-1])
    class_count_p = _MORE_CLASSES_RATIO ** np.arange(n_classes)
    class_count_upper = np.cumsum(class_count_p / class_count_p.sum())
    taken = set()
    specs = []
    for index, position in enumerate(positions):
        image_id = _image_id(random_state, index, taken)
        classes = ()
        if position >= defect_free_fraction:
            within = (position - defect_free_fraction) / (1.0 - defect_free_fraction)
            first = min(int(np.searchsorted(upper, within, side="right")), last)
            lower = upper[first] - class_weights[first]
            relative = (within - lower) / class_weights[first]
            count = 1 + int(np.searchsorted(class_count_upper, relative, side="right"))
            classes = _with_extra_classes(
                first, min(count, n_classes), class_weights, random_state, index
            )
        specs.append(_ImageSpec(index, image_id, classes, random_state))
    return specs


def _with_extra_classes(first, count, class_weights, random_state, index):
    """The class ``first`` (0-based) and ``count - 1`` others drawn by weight."""
    chosen = [first]
    if count > 1:
        others = class_weights.copy()
        others[first] = 0.0
        rng = _rng(random_state, index, _CLASSES)
        extra = rng.choice(
            len(others), size=count - 1, replace=False, p=others / others.sum()
        )
        chosen.extend(int(c) for c in extra)
    return tuple(sorted(DEFECT_CLASSES[c] for c in chosen))


def _encodings(defects, classes):
    """The run-length encoding of each class's mask."""
    return {c: rle_encode(m) for c, m in _full_masks(defects, classes).items()}


def _csv_text(specs, encodings):
    """``train.csv`` in the original layout: four rows per image."""
    lines = ["ImageId_ClassId,EncodedPixels"]
    for spec in sorted(specs, key=lambda s: s.image_id):
        cells = encodings[spec.image_id]
        lines.extend(f"{spec.image_id}_{c},{cells.get(c, '')}" for c in DEFECT_CLASSES)
    return "\n".join(lines) + "\n"


def _write_atomically(path, write):
    """Write ``path`` through a temporary file renamed into place, so an
    interrupted run never leaves a partial file under the final name; the
    temporary name is unique per process and thread."""
    write_atomically(path, write, overwrite=True)


def _save_jpeg(gray, path):
    """Save a gray image as an RGB JPEG with three identical channels."""
    image = Image.fromarray(gray).convert("RGB")
    _write_atomically(
        path, lambda p: image.save(p, format="JPEG", quality=_JPEG_QUALITY)
    )


def _verified(root, render):
    """Whether the folder ``root`` holds the complete data set (rendered,
    when ``render``), every file matching the manifest. Damaged files are
    removed (with a warning), so that the build redraws them; a damaged
    read-only folder raises."""
    manifest = root / _MANIFEST
    if not manifest.exists():
        return False  # never finished: the build completes it
    problems = manifest_problems(manifest, root)
    if problems:
        refuse_or_warn("steel surfaces", problems, root)
        for name, _ in problems:
            (root / name).unlink(missing_ok=True)
        manifest.unlink(missing_ok=True)
        return False
    return bool(read_manifest(manifest).get("rendered")) or not render


def _files_of(root, specs, render):
    names = ["params.json", "train.csv"]
    if render:
        names += [f"train_images/{spec.image_id}" for spec in specs]
    return names


def _cache_key(params):
    text = json.dumps(params, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


@validate_params(
    {
        "n_images": [Interval(Integral, 1, None, closed="left")],
        "data_home": [str, os.PathLike, None],
        "defect_free_fraction": [Interval(Real, 0, 1, closed="left")],
        "class_weights": ["array-like", None],
        "max_defects_per_image": [
            Interval(Integral, 1, len(DEFECT_CLASSES), closed="both")
        ],
        "render": ["boolean"],
        "random_state": ["random_state"],
        "overwrite": ["boolean"],
        "verbose": ["boolean"],
        "return_frame": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def make_steel_surfaces(
    n_images=200,
    *,
    data_home=None,
    defect_free_fraction=0.5,
    class_weights=None,
    max_defects_per_image=3,
    render=True,
    random_state=0,
    overwrite=False,
    verbose=False,
    return_frame=False,
):
    """Generate Severstal-like steel surfaces with defect masks.

    Writes a data set in the Kaggle Severstal format, readable by
    :func:`load_severstal`: ``train.csv`` in the original layout (four rows
    ``<id>_<class>,<encoding>`` per image, so it lists defect-free images
    too) and ``train_images/<id>.jpg``, 1600 x 256 grayscale JPEGs stored as
    RGB with three identical channels.

    Each image is a procedurally rendered surface of rolled steel: streaks
    and scratches along the rolling direction (the image height, as in
    Severstal), stains, fine grain and a smooth illumination gradient. Its
    defects are drawn as masks first, then painted: the encoding of a class
    covers exactly the pixels its defects alter.

    - 1 crazing: small regions crossed by a network of fine, branching dark
      cracks;
    - 2 inclusion: stringers of thin dark particles elongated along the
      rolling direction;
    - 3 patches: large irregular blotches, lighter or darker, with a dark rim;
    - 4 pitted: darkened rough regions holding clusters of small dark pits.

    Defect sizes follow Severstal's: a class covers about 0.5 % to 10 % of an
    image, patches the most. Regions of different classes are kept apart
    (a few large ones still touch), as Severstal's masks rarely overlap.

    Parameters
    ----------
    n_images : int, default=200
        Number of images.
    data_home : str or path-like, default=None
        The cache folder; see :func:`get_data_home`.
    defect_free_fraction : float in [0, 1), default=0.5
        Fraction of images without any defect.
    class_weights : array-like of 4 floats, default=None
        Relative frequency of classes 1-4 among the defects (the class of a
        single-class image; the additional classes of a multi-class image are
        drawn with the same weights). ``None`` weighs them equally, so that
        each class has enough single-class images; Severstal's frequencies
        are ``(897, 247, 5150, 801)``. A zero weight excludes a class.
    max_defects_per_image : int in [1, 4], default=3
        Largest number of defect classes on one image. About 90 % of the
        defective images carry one class, 9 % two and 1 % three.
    render : bool, default=True
        Whether to render the JPEG images. ``False`` writes the masks
        (``train.csv``) only, much faster; a later call with ``render=True``
        and the same other parameters renders the images of those masks.
    random_state : int, RandomState instance or None, default=0
        Seed. With an int, image ``i`` depends only on ``random_state`` and
        ``i``, so generating more images keeps the first ones, and the cache
        is reused. ``None`` or a RandomState instance draws an int seed from
        it (so each call with ``None`` writes a new data set).
    overwrite : bool, default=False
        Regenerate even if the data set is already in the cache.
    verbose : bool, default=False
        Show a progress bar.
    return_frame : bool, default=False
        Return the data (the table of :func:`load_severstal`, one row per
        image, with the image paths) instead of the folder, as
        scikit-learn's ``make_*`` functions return data. Without rendered
        images, the paths point to files that do not exist.

    Returns
    -------
    root : pathlib.Path
        The data set folder, ``<data_home>/steel_surfaces_<hash>`` (the hash
        of the generation parameters): ``train.csv``, ``train_images/``
        (when rendered) and ``params.json``. An existing complete folder is
        returned without regenerating.
    frame : DataFrame
        With ``return_frame=True``, ``load_severstal(root).frame`` instead.

    See Also
    --------
    load_severstal : Load the generated data set.

    Notes
    -----
    The images are spread over the defect-free and per-class strata with a
    golden-ratio sequence, so any ``n_images`` holds the requested
    proportions almost exactly. Files are written under temporary names and
    renamed, and a ``manifest.json`` (size and SHA-256 of every file) last,
    so an interrupted run is never mistaken for a complete one; rerunning
    it finishes the missing images. A reused folder is checked against its
    manifest: deleted, emptied, truncated or changed files are redrawn, with a
    :class:`~sksteel.exceptions.DataCacheWarning`, or, when the folder is
    read-only, refused with a :class:`~sksteel.exceptions.DataCacheError`.
    Concurrent calls (processes or threads) take a lock file and build the
    folder once.

    Examples
    --------
    >>> import tempfile
    >>> from sksteel.datasets import load_severstal, make_steel_surfaces
    >>> root = make_steel_surfaces(
    ...     8, data_home=tempfile.mkdtemp(), render=False, random_state=0
    ... )
    >>> sorted(p.name for p in root.iterdir())
    ['manifest.json', 'params.json', 'train.csv']
    >>> frame = load_severstal(root, missing_images="ignore").frame
    >>> frame.shape
    (8, 8)
    >>> int(frame["has_defect"].sum())
    4
    >>> make_steel_surfaces(8, data_home=root.parent, render=False,
    ...                     random_state=0, return_frame=True).shape
    (8, 8)
    """
    class_weights = _check_class_weights(class_weights)
    if not isinstance(random_state, Integral):
        random_state = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    params = {
        "generator_version": _GENERATOR_VERSION,
        "n_images": int(n_images),
        "defect_free_fraction": float(defect_free_fraction),
        "class_weights": [round(float(w), 12) for w in class_weights],
        "max_defects_per_image": int(max_defects_per_image),
        "random_state": int(random_state),
        "cache_layout": _CACHE_LAYOUT,
    }
    root = get_data_home(data_home) / f"steel_surfaces_{_cache_key(params)}"
    if not overwrite and _verified(root, render):
        return _as_frame(root, render) if return_frame else root
    if not is_writable(root):
        raise DataCacheError(
            f"The steel surfaces are not complete in {str(root)!r}, and the cache "
            f"folder is read-only, so they cannot be generated there. {DATA_HOME_HINT}"
        )
    ensure_folder(root.parent, "steel surfaces")
    with build_lock(root):
        if overwrite and root.exists():
            shutil.rmtree(root)
        elif _verified(root, render):  # another builder finished meanwhile
            return _as_frame(root, render) if return_frame else root
        _build(root, params, class_weights, render, verbose)
    return _as_frame(root, render) if return_frame else root


def _build(root, params, class_weights, render, verbose):
    """Write (or complete) the data set of ``params`` under ``root``, then
    its manifest (``class_weights`` unrounded, as the plan uses them)."""
    n_images = params["n_images"]
    random_state = params["random_state"]
    train_csv = root / "train.csv"
    has_masks = train_csv.is_file()
    root.mkdir(parents=True, exist_ok=True)
    _write_atomically(
        root / "params.json", lambda p: p.write_text(json.dumps(params, indent=2))
    )
    image_dir = root / "train_images"
    if render:
        image_dir.mkdir(exist_ok=True)
    specs = _plan(
        n_images,
        params["defect_free_fraction"],
        class_weights,
        params["max_defects_per_image"],
        random_state,
    )
    encodings = {}
    # The matrix products here are small: a single BLAS thread is several
    # times faster than a pool competing for the cores.
    with threadpool_limits(limits=1, user_api="blas"):
        for spec in tqdm(
            specs, desc="steel surfaces", unit="image", disable=not verbose
        ):
            image_path = image_dir / spec.image_id
            paint = render and not image_path.is_file()
            if has_masks and not paint:
                continue
            defects = _draw_defects(spec.rng(_SHAPES), spec.classes)
            if not has_masks:
                encodings[spec.image_id] = _encodings(defects, spec.classes)
            if paint:
                _save_jpeg(_paint(spec.rng(_PIXELS), defects), image_path)
    if not has_masks:
        text = _csv_text(specs, encodings)
        _write_atomically(train_csv, lambda p: p.write_text(text))
    write_manifest(
        root / _MANIFEST, root, _files_of(root, specs, render), rendered=render
    )


def _as_frame(root, render):
    """The table of the data set in ``root`` (images need not exist unless
    they were rendered)."""
    from ._severstal import load_severstal

    missing = "raise" if render else "ignore"
    return load_severstal(root, missing_images=missing).frame
