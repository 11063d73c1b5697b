"""Tests of the shared atomic writer (``sksteel._atomic``)."""

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from sksteel._atomic import temporary_path, write_atomically
from sksteel._schema import TEMP_PREFIX

#: Two threads of one process writing ``target`` without overwrite, each
#: waiting inside its write until every writer of the test is writing.
WRITER = """
import json, sys, threading, time
from pathlib import Path
from sksteel._atomic import write_atomically

target, rendezvous, n_writers = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
overwrite = sys.argv[4] == "overwrite"
results = []

def write(path, name):
    (rendezvous / name).touch()
    deadline = time.monotonic() + 60
    while len(list(rendezvous.iterdir())) < n_writers:
        assert time.monotonic() < deadline, "the other writers never came"
        time.sleep(0.01)
    path.write_text(name * 1000)

def run(name):
    try:
        write_atomically(target, lambda path: write(path, name), overwrite=overwrite)
        results.append([name, "ok"])
    except FileExistsError as error:
        results.append([name, str(error)])

threads = [threading.Thread(target=run, args=(f"{sys.argv[5]}-{i}",)) for i in range(2)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps(results))
"""


def _leftovers(folder):
    return [path.name for path in folder.iterdir() if TEMP_PREFIX in path.name]


def _run_writers(tmp_path, overwrite):
    """Two processes of two threads each writing one target at once: the
    results of the four writers and the target."""
    target, rendezvous = tmp_path / "out" / "target.csv", tmp_path / "rendezvous"
    target.parent.mkdir()
    rendezvous.mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    mode = "overwrite" if overwrite else "new"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(target), str(rendezvous), "4", mode,
             f"p{k}"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for k in range(2)
    ]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        results.extend(json.loads(out))
    return results, target


def test_atomic_concurrent_writers_exactly_one_succeeds(tmp_path):
    """Check that of two processes with two threads each creating one file at
    once, exactly one writer succeeds, the others fail with a message naming
    the file, the file is one writer's complete content and no temporary
    file is left."""
    results, target = _run_writers(tmp_path, overwrite=False)
    winners = [name for name, outcome in results if outcome == "ok"]
    assert len(results) == 4 and len(winners) == 1
    for name, outcome in results:
        if name not in winners:
            assert f"{str(target)!r} was created by another program" in outcome
            assert "pass `--force`" in outcome
    assert target.read_text() == winners[0] * 1000
    assert _leftovers(target.parent) == []


def test_atomic_concurrent_writers_with_overwrite_all_publish(tmp_path):
    """Check that with ``overwrite`` every writer succeeds and the file is
    one writer's complete content (never a mix)."""
    results, target = _run_writers(tmp_path, overwrite=True)
    assert [outcome for _, outcome in results] == ["ok"] * 4
    content = target.read_text()
    assert content in {name * 1000 for name, _ in results}
    assert _leftovers(target.parent) == []


def test_atomic_temporary_names_are_unique_per_thread(tmp_path):
    """Check that temporary names carry the prefix, the process and the
    thread, and differ between threads of one process."""
    names = []
    # Both threads alive at once, or the second may reuse the first's ident.
    together = threading.Barrier(2, timeout=30)

    def name():
        names.append(temporary_path(tmp_path / "x.csv").name)
        together.wait()

    threads = [threading.Thread(target=name) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(names)) == 2
    thread_ids = {name.split("-")[3] for name in names}
    assert len(thread_ids) == 2
    assert all(name.startswith(f"{TEMP_PREFIX}{os.getpid()}-") for name in names)
    assert all(name.endswith("x.csv") for name in names)


def test_atomic_failed_write_leaves_nothing(tmp_path):
    """Check that a write that raises publishes nothing and removes its
    temporary file, and that an existing target is kept without
    ``overwrite``."""
    target = tmp_path / "t.txt"

    def fail(path):
        Path(path).write_text("partial")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        write_atomically(target, fail)
    assert not target.exists() and _leftovers(tmp_path) == []
    write_atomically(target, lambda path: Path(path).write_text("first"))
    with pytest.raises(FileExistsError, match="was created by another program"):
        write_atomically(target, lambda path: Path(path).write_text("second"))
    assert target.read_text() == "first" and _leftovers(tmp_path) == []
    write_atomically(target, lambda path: Path(path).write_text("third"),
                     overwrite=True)
    assert target.read_text() == "third"


def test_atomic_surfaces_cache_built_by_two_threads(tmp_path):
    """Check that two threads building one cached data set of
    ``make_steel_surfaces`` at once both succeed with the same complete
    files (pid-based temporary names made them collide; the build lock now
    lets one wait for the other) and leave no temporary file."""
    from sksteel.datasets import make_steel_surfaces

    roots, errors = [], []

    def build():
        try:
            roots.append(make_steel_surfaces(30, data_home=tmp_path, render=False,
                                             random_state=0))
        except Exception as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=build) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(set(roots)) == 1
    assert (roots[0] / "train.csv").read_text().count("\n") == 1 + 30 * 4
    assert _leftovers(roots[0]) == []
