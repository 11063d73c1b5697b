"""Tests of the verified data cache: manifests, rebuilds, read-only caches,
locks, and the cache key over the whole package source."""

import shutil
import threading
from pathlib import Path

import joblib
import pandas as pd
import pytest

import sksteel
from sksteel import _cache
from sksteel.datasets import _surfaces, get_data_home, make_steel_surfaces
from sksteel.exceptions import DataCacheError, DataCacheWarning
from sksteel.experiments import load_experiment_data

SIZES = dict(n_normal=30, n_per_class=5)


@pytest.fixture(scope="module")
def rendered_home(tmp_path_factory):
    """A data home holding 4 rendered surfaces, copied by each test."""
    home = tmp_path_factory.mktemp("surfaces_home")
    make_steel_surfaces(4, data_home=home, random_state=0)
    return home


@pytest.fixture
def surfaces(rendered_home, tmp_path):
    """A fresh copy of the rendered data home: (home, root, image paths)."""
    home = tmp_path / "home"
    shutil.copytree(rendered_home, home)
    root = next(home.glob("steel_surfaces_*"))
    return home, root, sorted((root / "train_images").iterdir())


def _damage(path, how):
    if how == "deleted":
        path.unlink()
    elif how == "zero-byte":
        path.write_bytes(b"")
    elif how == "truncated":
        path.write_bytes(path.read_bytes()[:-100])
    else:  # same size, one byte changed
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["deleted", "zero-byte", "truncated", "flipped"])
def test_damaged_jpeg_is_detected_and_redrawn(surfaces, how):
    """Check that a damaged image of a complete rendered cache is found on
    reuse, reported by name, and redrawn byte for byte."""
    home, root, images = surfaces
    original = images[1].read_bytes()
    _damage(images[1], how)
    with pytest.warns(DataCacheWarning, match=images[1].name):
        again = make_steel_surfaces(4, data_home=home, random_state=0)
    assert again == root
    assert images[1].read_bytes() == original
    assert not _cache.manifest_problems(root / _surfaces._MANIFEST, root)


def test_truncated_train_csv_is_rebuilt(surfaces):
    """Check that a truncated masks table is rebuilt, identical."""
    home, root, _ = surfaces
    table = root / "train.csv"
    original = table.read_bytes()
    table.write_bytes(original[: len(original) // 2])
    with pytest.warns(DataCacheWarning, match="train.csv"):
        make_steel_surfaces(4, data_home=home, random_state=0)
    assert table.read_bytes() == original


def test_intact_cache_is_reused_without_warning(surfaces, recwarn):
    """Check that an intact cache is returned as is, with no rebuild."""
    home, root, images = surfaces
    stamp = images[0].stat().st_mtime_ns
    make_steel_surfaces(4, data_home=home, random_state=0)
    assert images[0].stat().st_mtime_ns == stamp
    assert not [w for w in recwarn if issubclass(w.category, DataCacheWarning)]


def test_damaged_read_only_cache_raises(surfaces, monkeypatch):
    """Check that a damaged cache that cannot be written is refused with an
    error naming the file and the way to another data home (the tests run
    as root, so the read-only folder is simulated)."""
    home, root, images = surfaces
    images[0].write_bytes(b"")
    monkeypatch.setattr(_cache, "is_writable", lambda folder: False)
    with pytest.raises(DataCacheError, match=rf"{images[0].name}.*SKSTEEL_DATA"):
        make_steel_surfaces(4, data_home=home, random_state=0)
    assert images[0].read_bytes() == b""  # nothing was touched


def test_empty_read_only_cache_gives_the_data_home_hint(tmp_path, monkeypatch):
    """Check that nothing cached in a read-only data home is a clear error
    naming `data_home` and SKSTEEL_DATA, for both caches."""
    monkeypatch.setattr(_surfaces, "is_writable", lambda folder: False)
    with pytest.raises(DataCacheError, match=r"read-only.*data_home.*SKSTEEL_DATA"):
        make_steel_surfaces(4, data_home=tmp_path, render=False)
    from sksteel.experiments import _data

    monkeypatch.setattr(_data, "is_writable", lambda folder: False)
    with pytest.raises(DataCacheError, match=r"read-only.*SKSTEEL_DATA"):
        load_experiment_data(data_home=tmp_path, **SIZES)


def test_uncreatable_data_home_gives_the_hint(tmp_path):
    """Check that a data home that cannot be created (here: below a file)
    raises DataCacheError with the hint, not a bare OSError."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DataCacheError, match=r"data_home.*SKSTEEL_DATA"):
        get_data_home(blocker / "home")


def test_experiment_cache_is_verified(tmp_path):
    """Check that the cached data set carries a manifest, and that a
    truncated or missing file is rebuilt with a warning to the same data."""
    built = load_experiment_data(data_home=tmp_path, **SIZES)
    assert not built.from_cache
    (cached,) = (tmp_path / "experiments").glob("steelnet-*.joblib")
    manifest = cached.with_name(cached.stem + ".manifest.json")
    assert manifest.is_file()
    cached.write_bytes(cached.read_bytes()[:-10])
    with pytest.warns(DataCacheWarning, match="bytes instead of"):
        rebuilt = load_experiment_data(data_home=tmp_path, **SIZES)
    assert not rebuilt.from_cache
    pd.testing.assert_frame_equal(rebuilt.frame, built.frame)
    manifest.unlink()
    with pytest.warns(DataCacheWarning, match="manifest"):
        load_experiment_data(data_home=tmp_path, **SIZES)
    assert load_experiment_data(data_home=tmp_path, **SIZES).from_cache


def test_fingerprint_covers_every_module(tmp_path):
    """Check that the cache key changes when any module changes, the sensor
    table in _schema.py included, and not otherwise."""
    package = Path(sksteel.__file__).parent
    copy = tmp_path / "sksteel"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    first = _cache.source_fingerprint(copy)
    assert first == _cache.package_fingerprint()
    schema = copy / "_schema.py"
    schema.write_text(schema.read_text() + "\n# edited\n")
    _cache.source_fingerprint.cache_clear()
    assert _cache.source_fingerprint(copy) != first


def test_two_threads_build_the_cache_once(tmp_path, monkeypatch):
    """Check that two threads asking for the same uncached data set build it
    once, both get the same complete folder, and no temp file is left."""
    calls = []
    build = _surfaces._build

    def counting_build(*args, **kwargs):
        calls.append(threading.get_ident())
        return build(*args, **kwargs)

    monkeypatch.setattr(_surfaces, "_build", counting_build)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        barrier.wait()
        try:
            results.append(make_steel_surfaces(6, data_home=tmp_path, render=True))
        except Exception as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(calls) == 1
    assert results[0] == results[1]
    root = results[0]
    assert not _cache.manifest_problems(root / _surfaces._MANIFEST, root)
    assert not list(root.rglob("*.tmp"))


def test_two_threads_share_the_experiment_cache(tmp_path):
    """Check that two threads loading the same experiment data set build it
    once: exactly one of them builds, the other reads the cache."""
    barrier = threading.Barrier(2)
    sources = []

    def worker():
        barrier.wait()
        sources.append(load_experiment_data(data_home=tmp_path, **SIZES).from_cache)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(sources) == [False, True]
    (cached,) = (tmp_path / "experiments").glob("steelnet-*.joblib")
    assert joblib.load(cached).frame.shape[0] == 50
