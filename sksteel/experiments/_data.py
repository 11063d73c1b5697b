"""The experiments' data: the SteelNet data set (cached) and its splits."""

import hashlib
import json
from pathlib import Path

import joblib
import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils import Bunch

from .. import __version__
from .._cache import (
    DATA_HOME_HINT,
    build_lock,
    ensure_folder,
    is_writable,
    manifest_problems,
    package_fingerprint,
    refuse_or_warn,
    temporary_name,
    write_manifest,
)
from ..datasets import get_data_home, make_steelnet_dataset
from ..exceptions import DataCacheError

__all__ = ["load_experiment_data"]

#: Train / validation / test fractions of the paper (3.1): 4,691 / 1,005 /
#: 1,006 rows of the 6,702.
SPLIT_FRACTIONS = (0.70, 0.15, 0.15)


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


def _manifest_of(path):
    return path.with_name(path.stem + ".manifest.json")


def _read_cache(path):
    """The cached data set at ``path`` if its manifest vouches for it, None
    when there is none; a damaged entry warns (and is rebuilt) or, in a
    read-only cache, raises."""
    if not path.exists() and not _manifest_of(path).exists():
        return None
    problems = manifest_problems(_manifest_of(path), path.parent)
    if not problems:
        return joblib.load(path)
    refuse_or_warn("experiment data set", problems, path.parent)
    path.unlink(missing_ok=True)
    _manifest_of(path).unlink(missing_ok=True)
    return None


def _write_cache(dataset, path):
    """Store ``dataset`` at ``path`` and its manifest last, both atomically."""
    partial = temporary_name(path)
    try:
        joblib.dump(dataset, partial)
        partial.replace(path)  # never leave a half-written cache behind
    finally:
        partial.unlink(missing_ok=True)
    write_manifest(_manifest_of(path), path.parent, [path.name])


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
    parameters and any fitted weights), by a hash of the source of the
    whole sksteel package (so editing any module, the sensor table
    included, never serves a stale data set) and, for a Kaggle directory,
    by the names, sizes and times of its CSV files. So data sets with
    intensities from the masks and from the image model never collide, and
    an interrupted run that is started again skips the build (and the image
    model's training).

    Each cached file has a manifest (its size and SHA-256, written last and
    atomically) that is checked on every reuse: a damaged entry is rebuilt
    with a :class:`~sksteel.exceptions.DataCacheWarning`, or refused with a
    :class:`~sksteel.exceptions.DataCacheError` when the cache is
    read-only. Concurrent builders of the same entry (processes or threads)
    wait for each other through a lock file, so it is built once.

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
        "package": package_fingerprint(),
    }
    if not cache:
        return _build(data, params, fraction_model, data_home, verbose)
    path = _cache_path(data_home, params)
    dataset = _read_cache(path)
    if dataset is None:
        if not is_writable(path.parent):
            raise DataCacheError(
                f"The experiment data set is not in the cache {str(path.parent)!r}, "
                f"which is read-only, so it cannot be built there. {DATA_HOME_HINT}"
            )
        ensure_folder(path.parent, "experiment data set")
        with build_lock(path):
            dataset = _read_cache(path)  # another builder may have finished
            if dataset is None:
                dataset = _build(data, params, fraction_model, data_home, verbose)
                _write_cache(dataset, path)
                return dataset
    dataset.from_cache = True
    return dataset


def _build(data, params, fraction_model, data_home, verbose):
    """``make_steelnet_dataset`` with the cache key's parameters."""
    dataset = make_steelnet_dataset(
        None if data is None else str(data),
        n_normal=params["n_normal"],
        n_per_class=params["n_per_class"],
        intensity=params["intensity"],
        fraction_model=fraction_model,
        data_home=data_home,
        random_state=params["random_state"],
        verbose=verbose,
    )
    dataset.from_cache = False
    return dataset


def _test_rows(dataset, split):
    """The clean test rows of ``split``: sensors ``X`` and classes ``y``
    (a Series), the one place the experiments slice the test split."""
    return dataset.data.iloc[split.test], dataset.target.iloc[split.test]


def _make_splits(y, *, random_state=0, fractions=SPLIT_FRACTIONS):
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
    >>> from sksteel.experiments._data import _make_splits
    >>> y = np.repeat([0, 1, 2, 3, 4], [5902, 200, 200, 200, 200])
    >>> splits = _make_splits(y, random_state=0)
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
