"""Tests of what ``sksteel fit`` and ``sksteel predict`` write: ids come back
as written, no output is replaced without ``--force`` whatever runs
meanwhile, inputs are never written, text cells are spreadsheet-safe and
temporary files of killed runs are removed."""

import csv
import errno
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sksteel._schema import SENSOR_NAMES, TEMP_PREFIX
from sksteel.cli import main

FIT = ["--target", "defect_class", "--max-epochs", "1", "--random-state", "0"]

#: Ids pandas' number guessing would change, and plain ones.
ODD_IDS = [
    "007", "9007199254740993", "9007199254740992", "NA", "", "nan", "1e5",
    "-5", " 007", "a,b", 'say "x"', "line\nbreak", "é", "0x1A", "True",
]


def _readings(n_rows, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.normal(size=(n_rows, len(SENSOR_NAMES))),
                        columns=list(SENSOR_NAMES))


def _write_table(path, ids, seed=0, column="image_id"):
    """A table of readings with ``ids`` quoted as text, as a spreadsheet or
    Python's csv module writes them."""
    readings = _readings(len(ids), seed)
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, quoting=csv.QUOTE_NONNUMERIC)
        writer.writerow([column, *SENSOR_NAMES])
        for identifier, row in zip(ids, readings.itertuples(index=False)):
            writer.writerow([identifier, *map(float, row)])
    return path


def _read_text(path):
    """The output as text cells, exactly as written."""
    with open(path, newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def _dead_pid():
    """The id of a process that has ended."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A SteelNet fitted by ``sksteel fit`` on a small table."""
    folder = tmp_path_factory.mktemp("output_safety")
    frame = _readings(120)
    frame["defect_class"] = np.arange(len(frame)) % 3
    table = folder / "train.csv"
    frame.to_csv(table, index=False)
    path = folder / "model.skops"
    assert main(["fit", str(table), *FIT, "--out", str(path)]) == 0
    return path


@pytest.mark.parametrize("raw", [False, True])
def test_cli_predict_ids_come_back_as_written(model, tmp_path, raw):
    """Check that leading zeros, long digit runs, NA and empty ids survive."""
    table = _write_table(tmp_path / "ids.csv", ODD_IDS)
    out = tmp_path / "out.csv"
    argv = ["predict", str(model), str(table), "--out", str(out)]
    assert main(argv + ["--raw-text"] * raw) == 0
    written = [row["image_id"] for row in _read_text(out)]
    expected = list(ODD_IDS)
    if not raw:
        expected[ODD_IDS.index("-5")] = "-5"  # a number: never prefixed
    assert written == expected


def _looks_like_formula(text):
    """An independent statement of the rule of the CLI help."""
    if re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text):
        return False
    stripped = text.lstrip(" \t\r\n'\"")
    return text[:1] in ("\t", "\r") or stripped[:1] in ("=", "+", "-", "@")


#: Any text a cell can hold (no NUL, which is not text in a CSV).
ID_TEXT = st.text(st.characters(blacklist_categories=("Cs",),
                                blacklist_characters="\x00"), max_size=12)


@settings(deadline=None, max_examples=25, derandomize=True, database=None)
@given(ids=st.lists(ID_TEXT, min_size=1, max_size=6))
def test_cli_predict_round_trips_arbitrary_ids(model, tmp_path_factory, ids):
    """Check that any id strings come back unchanged with --raw-text, and
    otherwise unchanged or with one leading ' exactly when a spreadsheet
    would evaluate them."""
    folder = tmp_path_factory.mktemp("round_trip")
    table = _write_table(folder / "ids.csv", ids)
    for raw in (True, False):
        out = folder / f"out_{raw}.csv"
        argv = ["predict", str(model), str(table), "--out", str(out)]
        assert main(argv + ["--raw-text"] * raw) == 0
        written = [row["image_id"] for row in _read_text(out)]
        if raw:
            assert written == ids
        else:
            assert written == [("'" if _looks_like_formula(i) else "") + i
                               for i in ids]


@pytest.fixture
def job(model, tmp_path):
    """A predict run: its table and output path."""
    table = _write_table(tmp_path / "table.csv", [f"img{i}" for i in range(30)])
    return {"argv": ["predict", str(model), str(table)], "out": tmp_path / "p.csv",
            "folder": tmp_path}


def _leftovers(folder):
    return [p.name for p in folder.iterdir() if TEMP_PREFIX in p.name]


@pytest.mark.parametrize("force", [False, True])
def test_cli_concurrent_threads_never_lose_a_file(job, monkeypatch, capsys, force):
    """Check that of two writers past the existence check at once, exactly one
    succeeds without --force (the other says why), and that with --force
    the result is one complete output."""
    both_checked = threading.Barrier(2, timeout=30)
    to_csv = pd.DataFrame.to_csv

    def to_csv_when_both_ready(frame, path, *args, **kwargs):
        both_checked.wait()
        return to_csv(frame, path, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", to_csv_when_both_ready)
    argv = [*job["argv"], "--out", str(job["out"])] + ["--force"] * force
    statuses = []
    threads = [threading.Thread(target=lambda: statuses.append(main(argv)))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    err = capsys.readouterr().err
    if force:
        assert statuses == [0, 0]
    else:
        assert sorted(statuses) == [0, 1]
        assert "was created by another program while this command ran" in err
    assert len(_read_text(job["out"])) == 30
    assert _leftovers(job["folder"]) == []


def test_cli_concurrent_processes_exactly_one_succeeds(job):
    """Check two ``sksteel predict`` processes writing one file: one exits 0,
    the other 1 with a message saying the file exists."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    argv = [sys.executable, "-m", "sksteel.cli", *job["argv"], "--out",
            str(job["out"])]
    processes = [subprocess.Popen(argv, env=env, stderr=subprocess.PIPE,
                                  stdout=subprocess.DEVNULL, text=True)
                 for _ in range(2)]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in processes]
    assert sorted(status for status, _ in results) == [0, 1]
    err = next(err for status, err in results if status == 1)
    assert re.search("already exists|was created by another program", err), err
    assert "Traceback" not in err
    assert len(_read_text(job["out"])) == 30
    assert _leftovers(job["folder"]) == []


def test_cli_never_writes_over_its_inputs(model, job, capsys):
    """Check that --out naming the model file or the table (directly, through
    a symlink or a hard link) is refused, --force or not."""
    table = Path(job["argv"][2])
    before = {path: path.read_bytes() for path in (model, table)}
    links = job["folder"] / "link.skops", job["folder"] / "hard.skops"
    links[0].symlink_to(model)
    os.link(model, links[1])
    for out in (model, table, *links):
        for force in ([], ["--force"]):
            assert main([*job["argv"], "--out", str(out), *force]) == 1
            assert "sksteel never writes over its inputs" in capsys.readouterr().err
    fit = ["fit", str(table), "--target", "image_id", "--out", str(table)]
    assert main([*fit, "--force"]) == 1
    assert "is the input table" in capsys.readouterr().err
    assert {path: path.read_bytes() for path in before} == before


def test_cli_unwritable_folder_is_reported_before_the_work(job, monkeypatch,
                                                          capsys):
    """Check that a folder refusing new files is named before the model is
    even loaded."""
    open_file = os.open

    def refuse_in_folder(path, *args, **kwargs):
        if Path(path).parent == job["folder"]:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return open_file(path, *args, **kwargs)

    def no_load(*args, **kwargs):
        raise AssertionError("the model was loaded before the folder was checked")

    monkeypatch.setattr(os, "open", refuse_in_folder)
    monkeypatch.setattr("sksteel.io.load_model", no_load)
    assert main([*job["argv"], "--out", str(job["out"])]) == 1
    err = capsys.readouterr().err
    assert f"Cannot write into {str(job['folder'])!r}, the folder of `--out`" in err


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="permissions do not stop root")
def test_cli_read_only_folder_is_reported(job, tmp_path, capsys):
    """Check a real read-only folder."""
    folder = tmp_path / "read_only"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        assert main([*job["argv"], "--out", str(folder / "p.csv")]) == 1
    finally:
        folder.chmod(0o700)
    assert "Cannot write into" in capsys.readouterr().err


def _text_label_model(folder):
    """A model with class labels and feature names a spreadsheet would
    evaluate."""
    frame = _readings(90).iloc[:, :3]
    frame.columns = ["=s1", "s2", "s3"]
    frame["label"] = np.where(np.arange(90) % 2, "@evil", "normal")
    table = folder / "text_train.csv"
    frame.to_csv(table, index=False)
    path = folder / "text.skops"
    argv = ["fit", str(table), "--target", "label", "--features", "=s1,s2,s3",
            "--max-epochs", "1", "--out", str(path)]
    assert main(argv) == 0
    frame["id"] = ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx", "\t =x",
                   '"=x', "'=x", "-5", "1.5e3", "plain", "a=b", *["n"] * 77]
    # CRLF lines, so that the lone "\r" is quoted
    frame.drop(columns="label").to_csv(folder / "text_table.csv", index=False,
                                       lineterminator="\r\n")
    return path, folder / "text_table.csv"


def test_cli_predict_output_is_spreadsheet_safe(tmp_path):
    """Check that formula-like ids, class labels and sensor names get a leading
    ', that numbers and plain text are kept, that --raw-text keeps all and
    that the numeric columns are identical."""
    model, table = _text_label_model(tmp_path)
    outs = {}
    for raw in (False, True):
        outs[raw] = tmp_path / f"out_{raw}.csv"
        argv = ["predict", str(model), str(table), "--out", str(outs[raw])]
        assert main(argv + ["--raw-text"] * raw) == 0
    safe, raw = _read_text(outs[False]), _read_text(outs[True])
    assert [row["id"] for row in safe[:13]] == [
        "'=1+1", "'+cmd", "'-2+3", "'@SUM(A1)", "'\tx", "'\rx", "'\t =x", "'\"=x",
        "''=x", "-5", "1.5e3", "plain", "a=b",
    ]
    assert [row["id"] for row in raw[:13]] == [
        "=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx", "\t =x", '"=x', "'=x",
        "-5", "1.5e3", "plain", "a=b",
    ]
    assert {row["predicted_class"] for row in safe} <= {"'@evil", "normal"}
    assert {row["predicted_class"] for row in raw} <= {"@evil", "normal"}
    assert {row["top_sensor_1"] for row in safe} <= {"'=s1", "s2", "s3"}
    assert "proba_@evil" in safe[0]  # starts with "proba_": not a formula
    numbers = ["proba_@evil", "proba_normal", "top_weight_1"]
    frames = [pd.read_csv(outs[raw]) for raw in (False, True)]
    pd.testing.assert_frame_equal(frames[0][numbers], frames[1][numbers])
    assert all(frames[0][numbers].dtypes == np.float64)


def test_cli_removes_stale_temporary_files(job):
    """Check that a run removes the temporary files of ended runs older than
    itself, and keeps those of running or newer writers and other files."""
    folder, dead, old = job["folder"], _dead_pid(), time.time() - 3600
    names = {
        "stale": f"{TEMP_PREFIX}{dead}-0123-p.csv",
        "stale_nested": f".{TEMP_PREFIX}{dead}-4567-model.skops.abc.tmp",
        "running": f"{TEMP_PREFIX}{os.getpid()}-89ab-p.csv",
        "newer": f"{TEMP_PREFIX}{dead}-cdef-p.csv",
        "other": ".p.csv.0123.tmp",
    }
    for key, name in names.items():
        (folder / name).write_text("partial")
        stamp = time.time() + 3600 if key == "newer" else old
        os.utime(folder / name, (stamp, stamp))
    assert main([*job["argv"], "--out", str(job["out"])]) == 0
    kept = {key for key, name in names.items() if (folder / name).exists()}
    assert kept == {"running", "newer", "other"}


KILLED_WRITER = """
import sys, time
import pandas as pd
from sksteel.cli import main

def stalled_to_csv(frame, path, *args, **kwargs):
    with open(path, "w") as file:
        file.write("row,partial\\n")
    time.sleep(120)

pd.DataFrame.to_csv = stalled_to_csv
sys.exit(main(sys.argv[1:]))
"""


def test_cli_kill_9_leftover_is_removed_by_the_next_run(job):
    """Check that a writer killed mid-write leaves no output, and that the
    next run into the folder removes its temporary file."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    argv = [sys.executable, "-c", KILLED_WRITER, *job["argv"], "--out",
            str(job["out"])]
    writer = subprocess.Popen(argv, env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not any("p.csv" in name for name in _leftovers(job["folder"])):
        assert writer.poll() is None and time.monotonic() < deadline
        time.sleep(0.2)
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    assert not job["out"].exists() and _leftovers(job["folder"])
    assert main([*job["argv"], "--out", str(job["folder"] / "next.csv")]) == 0
    assert _leftovers(job["folder"]) == []
