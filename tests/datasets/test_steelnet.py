"""Tests of make_steelnet_dataset, the SteelNet multimodal data set."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_score
from threadpoolctl import threadpool_limits

from sksteel._schema import ENCODED_COLUMNS, FRACTION_COLUMNS, SENSOR_NAMES
from sksteel.datasets import load_severstal, make_steelnet_dataset
from sksteel.exceptions import MissingImagesWarning


@pytest.fixture(scope="module")
def dataset():
    """The default data set (random_state=0), built once."""
    return make_steelnet_dataset()


def _defective(frame):
    return frame["defect_class"].to_numpy() > 0


def test_steelnet_composition(dataset):
    """Check the paper's composition: 5,902 non-defective + 200 per class."""
    counts = dataset.target.value_counts().sort_index()
    assert counts.to_dict() == {0: 5902, 1: 200, 2: 200, 3: 200, 4: 200}
    assert len(dataset.frame) == 6702
    assert dataset.frame["image_id"].is_unique


def test_steelnet_columns(dataset):
    """Check the column contract of the frame and the other fields."""
    frame = dataset.frame
    expected = ["image_id", "defect_class", *FRACTION_COLUMNS, "intensity"]
    assert list(frame.columns) == expected + list(SENSOR_NAMES)
    assert frame["defect_class"].dtype == np.int64
    numeric = frame.columns[2:]
    assert (frame[numeric].dtypes == np.float64).all()
    assert not frame[numeric].isna().any().any()
    pd.testing.assert_frame_equal(dataset.data, frame[list(SENSOR_NAMES)])
    pd.testing.assert_series_equal(dataset.target, frame["defect_class"])
    assert dataset.feature_names == list(SENSOR_NAMES)
    assert "6,702 samples" in dataset.DESCR


def test_steelnet_class_matches_fractions(dataset):
    """Check that each sample's class is its largest weighted defect area and
    that defect-free samples have no defect pixels and zero intensity."""
    frame = dataset.frame
    weighted = frame[list(FRACTION_COLUMNS)].to_numpy() * [1.0, 1.5, 2.0, 1.2]
    defective = _defective(frame)
    np.testing.assert_array_equal(
        weighted[defective].argmax(axis=1) + 1, frame["defect_class"][defective]
    )
    assert (weighted[~defective] == 0).all()
    assert (frame["intensity"][~defective] == 0).all()


def test_steelnet_attribution_prior(dataset):
    """Check the prior: classes x sensors, rows summing to 1."""
    prior = dataset.attribution_prior
    assert prior.shape == (5, 10) and list(prior.columns) == list(SENSOR_NAMES)
    np.testing.assert_allclose(prior.sum(axis=1), 1.0)
    top = prior.idxmax(axis=1).to_dict()
    assert top[1] == "curing_temperature" and top[2] == "surface_cleanliness"
    assert top[3] == "spray_pressure"


def test_steelnet_deterministic(dataset):
    """Check that the same seed rebuilds the same table and another seed a
    different one."""
    pd.testing.assert_frame_equal(make_steelnet_dataset().frame, dataset.frame)
    other = make_steelnet_dataset(n_normal=50, n_per_class=10, random_state=1)
    small = make_steelnet_dataset(n_normal=50, n_per_class=10, random_state=0)
    assert not other.frame["image_id"].equals(small.frame["image_id"])


def test_steelnet_intensity_statistics(dataset):
    """Check the intensity of defective samples: mean 0.347 and sd 0.198
    (paper A.3) within 0.05, right-skewed."""
    intensity = dataset.frame["intensity"][_defective(dataset.frame)]
    assert intensity.mean() == pytest.approx(0.347, abs=0.05)
    assert intensity.std() == pytest.approx(0.198, abs=0.05)
    assert stats.skew(intensity) > 0


@pytest.mark.parametrize(
    "defective, mean, mean_tol, sd, sd_tol",
    [(False, 97.5, 0.7, 1.8, 0.6), (True, 82.3, 3.0, 8.4, 3.0)],
)
def test_steelnet_cleanliness_statistics(
    dataset, defective, mean, mean_tol, sd, sd_tol
):
    """Check surface cleanliness of non-defective and defective samples
    against the paper (A.3)."""
    mask = _defective(dataset.frame) == defective
    cleanliness = dataset.frame["surface_cleanliness"][mask]
    assert cleanliness.mean() == pytest.approx(mean, abs=mean_tol)
    assert cleanliness.std() == pytest.approx(sd, abs=sd_tol)


@pytest.mark.parametrize(
    "a, b, paper",
    [
        ("vibration", "drive_load", 0.34),
        ("surface_cleanliness", "intensity", -0.52),
        ("spray_pressure", "coating_viscosity", 0.28),
        ("ambient_humidity", "curing_time", 0.19),
    ],
)
def test_steelnet_correlations(dataset, a, b, paper):
    """Check the paper's correlations (A.4) over the whole data set, within
    0.10."""
    assert dataset.frame[a].corr(dataset.frame[b]) == pytest.approx(paper, abs=0.10)


def _macro_f1(dataset, model):
    """5-fold stratified macro-F1 of ``model`` from the ten sensors."""
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    with threadpool_limits(1):  # OpenMP threads thrash on a busy machine
        scores = cross_val_score(
            model, dataset.data, dataset.target, cv=folds, scoring="f1_macro"
        )
    return scores.mean()


@pytest.fixture(scope="module")
def lda_f1(dataset):
    """Macro-F1 of linear discriminant analysis, the paper's baseline."""
    return _macro_f1(dataset, LinearDiscriminantAnalysis())


def test_steelnet_not_trivially_separable(dataset, lda_f1):
    """Check that the classes are not linearly separable from complete
    readings (defects that barely show in the sensors), yet the sensors
    carry class signal: LDA's macro-F1 lies between the majority baseline's
    and 0.95."""
    majority_f1 = _macro_f1(dataset, DummyClassifier())
    assert majority_f1 + 0.3 < lda_f1 < 0.95


def test_steelnet_nonlinear_model_beats_lda(dataset, lda_f1):
    """Check that a nonlinear model beats LDA's macro-F1 by at least 0.03
    (two-sided patches signatures, expression-dependent spread), so that
    comparing a model with the LDA baseline means something."""
    boosting = HistGradientBoostingClassifier(
        max_iter=30, max_leaf_nodes=15, random_state=0
    )
    assert _macro_f1(dataset, boosting) >= lda_f1 + 0.03


def test_steelnet_multi_class_images_take_largest_weighted_area():
    """Check the single-class rule on hand-made masks: the larger weighted
    area wins, even when its raw area is smaller."""
    table = pd.DataFrame(
        {
            "ImageId": [f"{i:03d}.jpg" for i in range(6)],
            # 000: crazing 1000 px x 1.0 < patches 600 px x 2.0 -> patches
            # 002: crazing 500 px x 1.0 > pitted 300 px x 1.2 -> crazing
            "EncodedPixels_1": ["1 1000", None, "1 500", None, None, None],
            "EncodedPixels_2": [None, "1 100", None, None, None, None],
            "EncodedPixels_3": ["2001 600", None, None, None, None, None],
            "EncodedPixels_4": [None, None, "1001 300", "1 80", None, None],
        }
    )
    data = make_steelnet_dataset(table, n_normal=2, n_per_class=1)
    classes = data.frame.set_index("image_id")["defect_class"].to_dict()
    assert classes == {
        "000.jpg": 3,
        "001.jpg": 2,
        "002.jpg": 1,
        "003.jpg": 4,
        "004.jpg": 0,
        "005.jpg": 0,
    }


def test_steelnet_real_severstal(severstal_dir):
    """Check the data set built from real Severstal annotations."""
    with pytest.warns(MissingImagesWarning):
        data = make_steelnet_dataset(
            severstal_dir / "train_partial_original_layout.csv",
            n_normal=300,
            n_per_class=100,
        )
    assert data.target.value_counts().to_dict() == {
        0: 300,
        1: 100,
        2: 100,
        3: 100,
        4: 100,
    }
    intensity = data.frame["intensity"][_defective(data.frame)]
    assert intensity.mean() == pytest.approx(0.347, abs=0.01)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_per_class": 5}, r"class 1 \(crazing\): 5 wanted, 1 available"),
        ({"n_normal": 3}, r"class 0 \(none\): 3 wanted, 2 available"),
    ],
)
def test_steelnet_too_few_images(params, match):
    """Check that asking for more images of a class than the source has is a
    clear error naming the class, the numbers and the fix."""
    table = pd.DataFrame(
        {
            "ImageId": ["a.jpg", "b.jpg", "c.jpg", "d.jpg", "e.jpg", "f.jpg"],
            "EncodedPixels_1": ["1 10", None, None, None, None, None],
            "EncodedPixels_2": [None, "1 10", None, None, None, None],
            "EncodedPixels_3": [None, None, "1 10", None, None, None],
            "EncodedPixels_4": [None, None, None, "1 10", None, None],
        }
    )
    params = {"n_normal": 2, "n_per_class": 1, **params}
    with pytest.raises(ValueError, match=match) as error:
        make_steelnet_dataset(table, **params)
    assert "Lower `n_" in str(error.value)


def test_steelnet_unknown_intensity_source():
    """Check that an intensity source other than the masks or the image model
    is a clear error (intensity="model" is tested in
    test_steelnet_model_intensity.py)."""
    with pytest.raises(ValueError, match="'intensity' parameter.*Got 'pixels'"):
        make_steelnet_dataset(intensity="pixels")


def test_steelnet_source_without_encodings():
    """Check that a table without the encoding columns is a clear error."""
    table = pd.DataFrame({"ImageId": ["a.jpg"], "EncodedPixels_1": [None]})
    with pytest.raises(ValueError, match="EncodedPixels_2"):
        make_steelnet_dataset(table, n_normal=1, n_per_class=1)


def test_steelnet_kaggle_folder(tmp_path):
    """Check that a Kaggle-style folder (train.csv, no images) is read."""
    rows = []
    for i in range(12):
        label = i % 4 + 1 if i < 8 else None
        for c in range(1, 5):
            rle = f"{1 + i * 10} {5 + i}" if c == label else ""
            rows.append({"ImageId_ClassId": f"{i:09x}.jpg_{c}", "EncodedPixels": rle})
    pd.DataFrame(rows).to_csv(tmp_path / "train.csv", index=False)
    with pytest.warns(MissingImagesWarning):
        data = make_steelnet_dataset(tmp_path, n_normal=4, n_per_class=2)
    assert data.target.value_counts().sort_index().tolist() == [4, 2, 2, 2, 2]
    assert set(ENCODED_COLUMNS).isdisjoint(data.frame.columns)
    loaded = load_severstal(tmp_path, missing_images="ignore").frame
    assert set(data.frame["image_id"]) <= set(loaded["ImageId"])
