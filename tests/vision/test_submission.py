"""Tests of to_submission and `sksteel segment`: the Kaggle layout, the round
trip through load_severstal, atomic writes that never overwrite unasked."""

import os
import threading

import numpy as np
import pandas as pd
import pytest

from sksteel._schema import ENCODED_COLUMNS, TEMP_PREFIX
from sksteel.cli import main
from sksteel.datasets import load_severstal, make_steel_surfaces
from sksteel.exceptions import DataFormatError, RLEError
from sksteel.io import save_model
from sksteel.preprocessing import rle_decode
from sksteel.vision import DefectSegmenter, to_submission

TINY = dict(
    encoder_name="resnet18",
    image_size=(64, 320),
    crop_size=(64, 128),
    max_epochs=1,
    batch_size=4,
    threshold=0.3,
    random_state=0,
    verbose=0,
)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    home = tmp_path_factory.mktemp("surfaces")
    return load_severstal(
        make_steel_surfaces(n_images=6, random_state=0, data_home=home)
    )


@pytest.fixture(scope="module")
def model(data):
    return DefectSegmenter(**TINY).fit(data.frame)


def _masks(frame):
    """The decoded masks of a table, (n_images, 4, 256, 1600)."""
    return np.stack(
        [
            np.stack([rle_decode(rle) for rle in row])
            for row in frame[list(ENCODED_COLUMNS)].to_numpy()
        ]
    )


def test_to_submission_layout_and_round_trip(data, tmp_path):
    """Check the columns and row count, and that load_severstal reads the
    file back to the same images (defect-free ones included) and masks."""
    path = to_submission(data.frame, tmp_path / "submission.csv")
    written = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert written.columns.tolist() == ["ImageId", "EncodedPixels", "ClassId"]
    assert len(written) == 4 * len(data.frame)
    back = load_severstal(train_csv=path, missing_images="ignore").frame
    assert back["ImageId"].tolist() == data.frame["ImageId"].tolist()
    np.testing.assert_array_equal(_masks(back), _masks(data.frame))


def test_to_submission_of_predictions_round_trip(model, data, tmp_path):
    """Check that predicted encodings, written and read back, decode to the
    predicted masks."""
    frame = data.frame
    predictions = frame[["ImageId"]].join(model.predict_rle(frame))
    path = to_submission(predictions, tmp_path / "submission.csv")
    back = load_severstal(train_csv=path, missing_images="ignore").frame
    masks = np.concatenate(list(model.predict_masks(frame)))
    np.testing.assert_array_equal(_masks(back), masks)
    # the ids may also come from the index or the image paths
    by_index = model.predict_rle(frame.set_index("ImageId"))
    other = to_submission(by_index, tmp_path / "by_index.csv")
    assert other.read_text() == path.read_text()


def test_to_submission_never_overwrites_unasked(data, tmp_path):
    """Check that an existing file is kept unless overwrite=True, and that no
    temporary file is left behind."""
    path = tmp_path / "submission.csv"
    path.write_text("keep me")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        to_submission(data.frame, path)
    assert path.read_text() == "keep me"
    to_submission(data.frame, path, overwrite=True)
    assert path.read_text().startswith("ImageId,EncodedPixels,ClassId")
    assert not [p for p in os.listdir(tmp_path) if p.startswith(TEMP_PREFIX)]


def test_to_submission_concurrent_writers(data, tmp_path):
    """Check that of several threads writing the same new file exactly one
    succeeds and the others get a FileExistsError."""
    path = tmp_path / "submission.csv"
    outcomes, barrier = [], threading.Barrier(4)

    def write():
        barrier.wait()
        try:
            to_submission(data.frame, path)
            outcomes.append("ok")
        except FileExistsError:
            outcomes.append("exists")

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["exists"] * 3 + ["ok"]
    assert not [p for p in os.listdir(tmp_path) if p.startswith(TEMP_PREFIX)]


@pytest.mark.parametrize(
    "change, error, match",
    [
        (lambda t: t.assign(EncodedPixels_2="1 x"), RLEError, "x"),
        (lambda t: t.assign(ImageId="same.jpg"), DataFormatError, "repeated"),
        (lambda t: t.drop(columns=["ImageId", "image_path"]), DataFormatError, "ids"),
        (lambda t: t.drop(columns="EncodedPixels_4"), DataFormatError, "columns"),
    ],
)
def test_to_submission_bad_tables(data, tmp_path, change, error, match):
    """Check that bad tables raise before any file is created."""
    with pytest.raises(error, match=match):
        to_submission(change(data.frame), tmp_path / "submission.csv")
    assert os.listdir(tmp_path) == []


def test_cli_segment(model, data, tmp_path, capsys):
    """Check that `sksteel segment` writes the masks of a folder's images,
    refuses an existing --out without --force, and refuses a link leading
    out of the folder."""
    model_file = tmp_path / "segmenter.skops"
    save_model(model, model_file)
    out = tmp_path / "submission.csv"
    argv = [
        "segment",
        str(data.image_dir),
        "--model",
        str(model_file),
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    back = load_severstal(train_csv=out, missing_images="ignore").frame
    assert back["ImageId"].tolist() == sorted(data.frame["ImageId"])
    masks = np.concatenate(list(model.predict_masks(data.frame.sort_values("ImageId"))))
    np.testing.assert_array_equal(_masks(back), masks)
    assert main(argv) == 1
    assert "--force" in capsys.readouterr().err
    assert main([*argv, "--force"]) == 0

    images = tmp_path / "images"
    images.mkdir()
    os.symlink(data.frame["image_path"].iloc[0], images / "a.jpg")
    out2 = tmp_path / "other.csv"
    argv = ["segment", str(images), "--model", str(model_file), "--out", str(out2)]
    assert main(argv) == 1
    assert "outside" in capsys.readouterr().err
    assert not out2.exists()
