"""The experiments' data: the SteelNet data set (cached) and its splits."""

import hashlib
import json
from pathlib import Path

import joblib
import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils import Bunch

from .. import __version__
from ..datasets import get_data_home, make_steelnet_dataset

__all__ = ["load_experiment_data", "make_splits"]

#: Train / validation / test fractions of the paper (3.1): 4,691 / 1,005 /
#: 1,006 rows of the 6,702.
SPLIT_FRACTIONS = (0.70, 0.15, 0.15)


#: The modules that generate the data set, per intensity source: any change
#: to their source invalidates cached data sets, so a cache never serves
#: stale readings.
_GENERATOR_SOURCES = {
    "masks": (
        "datasets/_steelnet.py",
        "datasets/_image_fractions.py",
        "datasets/_surfaces.py",
        "datasets/_surface_drawing.py",
        "preprocessing/_intensity.py",
        "preprocessing/_synthesizer.py",
        "preprocessing/_rle_decoder.py",
    ),
}
_GENERATOR_SOURCES["model"] = (
    *_GENERATOR_SOURCES["masks"],
    "vision/_data.py",
    "vision/_module.py",
    "vision/_regressor.py",
)


def _generator_fingerprint(intensity):
    """A hash of the source code of the simulation pipeline with the
    intensity from ``intensity`` (the image model's code too for "model")."""
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(intensity.encode())
    for name in _GENERATOR_SOURCES.get(intensity, ()):  # unknown: refused later
        digest.update((package / name).read_bytes())
    return digest.hexdigest()[:16]


def _source_key(data):
    """What identifies a source's content for the cache key: the path, and
    the name, size and time of its CSV file(s)."""
    if data is None:
        return None
    path = Path(data).expanduser().resolve()
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix == ".csv")
    else:
        files = [path] if path.is_file() else []
    stamps = [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files]
    return [str(path), stamps]


def _cache_path(data_home, params):
    """The cache file for a data set built with ``params``."""
    text = json.dumps(params, sort_keys=True, default=str)
    key = hashlib.sha256(text.encode()).hexdigest()[:16]
    return get_data_home(data_home) / "experiments" / f"steelnet-{key}.joblib"


def load_experiment_data(
    data=None,
    *,
    intensity="masks",
    fraction_model=None,
    n_normal=5902,
    n_per_class=200,
    random_state=0,
    data_home=None,
    cache=True,
    verbose=0,
):
    """Build the SteelNet data set once and reuse it from the cache after.

    Calls :func:`sksteel.datasets.make_steelnet_dataset` and stores the
    result in ``<data home>/experiments/``, keyed by every argument but
    `verbose` (`fraction_model` by a hash of the pickled estimator, its
    parameters and any fitted weights), by the source code that generates
    the data (the image model's too, for ``intensity="model"``) and, for a
    Kaggle directory, by the names, sizes and times of its CSV files. So
    data sets with intensities from the masks and from the image model
    never collide, and an interrupted run that is started again skips the
    build (and the image model's training).

    Parameters
    ----------
    data : str or path-like, default=None
        A Kaggle-format Severstal directory (``train.csv``,
        ``train_images/``) or a ``train.csv`` file in either layout; None
        uses the built-in surfaces.
    intensity : {"masks", "model"}, default="masks"
        Intensity from the mask fractions or from the fractions an image
        model predicts (cross-fitted; see ``make_steelnet_dataset``).
    fraction_model : estimator, default=None
        The image model of ``intensity="model"``; None trains
        ``make_steelnet_dataset``'s default.
    n_normal : int, default=5902
        Number of defect-free samples.
    n_per_class : int, default=200
        Number of samples per defect class.
    random_state : int, default=0
        Seed of the data set.
    data_home : str or path-like, default=None
        Cache directory; see :func:`sksteel.datasets.get_data_home`.
    cache : bool, default=True
        Whether to read and write the cache.
    verbose : int, default=0
        Passed to ``make_steelnet_dataset``: report the image model's stages
        on stderr when it is trained.

    Returns
    -------
    dataset : Bunch
        The result of ``make_steelnet_dataset``, with ``from_cache`` set to
        whether it was read from the cache.

    Examples
    --------
    >>> from sksteel.experiments import load_experiment_data
    >>> dataset = load_experiment_data(n_normal=300, n_per_class=30)
    >>> dataset.frame.shape
    (420, 17)
    >>> load_experiment_data(n_normal=300, n_per_class=30).from_cache
    True
    """
    params = {
        "source": _source_key(data),
        "intensity": intensity,
        "fraction_model": None if fraction_model is None else joblib.hash(
            fraction_model
        ),
        "n_normal": n_normal,
        "n_per_class": n_per_class,
        "random_state": random_state,
        "version": __version__,
        "generator": _generator_fingerprint(intensity),
    }
    path = _cache_path(data_home, params)
    if cache and path.is_file():
        dataset = joblib.load(path)
        dataset.from_cache = True
        return dataset
    dataset = make_steelnet_dataset(
        None if data is None else str(data),
        n_normal=n_normal,
        n_per_class=n_per_class,
        intensity=intensity,
        fraction_model=fraction_model,
        data_home=data_home,
        random_state=random_state,
        verbose=verbose,
    )
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        joblib.dump(dataset, partial)
        partial.replace(path)  # never leave a half-written cache behind
    dataset.from_cache = False
    return dataset


def make_splits(y, *, random_state=0, fractions=SPLIT_FRACTIONS):
    """Stratified train / validation / test row positions.

    With the paper's 6,702 rows and the default fractions this gives
    4,691 / 1,005 / 1,006 rows.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Classes to stratify on.
    random_state : int, default=0
        Seed of the split.
    fractions : tuple of three floats, default=(0.70, 0.15, 0.15)
        Train, validation and test fractions, summing to 1.

    Returns
    -------
    splits : Bunch
        ``train``, ``valid`` and ``test``: sorted integer positions.

    Examples
    --------
    >>> import numpy as np
    >>> from sksteel.experiments import make_splits
    >>> y = np.repeat([0, 1, 2, 3, 4], [5902, 200, 200, 200, 200])
    >>> splits = make_splits(y, random_state=0)
    >>> len(splits.train), len(splits.valid), len(splits.test)
    (4691, 1005, 1006)
    """
    train_fraction, valid_fraction, test_fraction = fractions
    if not np.isclose(train_fraction + valid_fraction + test_fraction, 1.0):
        raise ValueError(f"`fractions` must sum to 1; got {fractions!r}.")
    y = np.asarray(y)
    positions = np.arange(len(y))
    train, held = train_test_split(
        positions, test_size=1.0 - train_fraction, stratify=y,
        random_state=random_state,
    )
    valid, test = train_test_split(
        held, test_size=test_fraction / (valid_fraction + test_fraction),
        stratify=y[held], random_state=random_state,
    )
    return Bunch(train=np.sort(train), valid=np.sort(valid), test=np.sort(test))
