"""Tests of IntensityScorer, defect intensity from per-class fractions.

scikit-learn's common checks run in ``test_synthesizer.py``, over both
simulation transformers.
"""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sksteel._schema import FRACTION_COLUMNS, INTENSITY_WEIGHTS
from sksteel.datasets import load_severstal
from sksteel.preprocessing import IntensityScorer, RLEDecoder


def _fractions(n_rows, defective_share=0.5, seed=0):
    """Exponential pixel fractions (a few percent), zero on defect-free rows."""
    rng = np.random.RandomState(seed)
    values = rng.exponential(0.02, size=(n_rows, 4))
    values *= rng.rand(n_rows, 1) < defective_share
    return pd.DataFrame(values, columns=FRACTION_COLUMNS)


@pytest.mark.parametrize(
    "target_mean, target_std", [(0.347, 0.198), (0.7, 0.1), (0.2, 0.15)]
)
def test_intensity_scorer_matches_target_distribution(target_mean, target_std):
    """Check that defective rows of the fitting data get intensities with the
    target mean, standard deviation and skew."""
    X = _fractions(4000)
    scorer = IntensityScorer(target_mean=target_mean, target_std=target_std)
    intensity = scorer.fit_transform(X)[:, 1]
    defective = intensity[X.sum(axis=1).to_numpy() > 0]
    assert defective.mean() == pytest.approx(target_mean, abs=0.005)
    assert defective.std() == pytest.approx(target_std, abs=0.005)
    target_skew = np.sign(0.5 - target_mean)
    assert np.sign(stats.skew(defective)) == target_skew


@pytest.mark.parametrize("weights", [INTENSITY_WEIGHTS, (1.0, 1.0, 1.0, 1.0)])
def test_intensity_scorer_raw_is_weighted_sum(weights):
    """Check that ``intensity_raw`` is eq. 1, ``sum_c w_c f_c``."""
    X = _fractions(100)
    raw = IntensityScorer(weights).fit_transform(X)[:, 0]
    np.testing.assert_allclose(raw, X.to_numpy() @ np.asarray(weights))


def test_intensity_scorer_defect_free_rows_score_zero():
    """Check that rows whose fractions are all zero get intensity 0, and
    defective rows a positive one."""
    X = _fractions(300)
    intensity = IntensityScorer().fit_transform(X)[:, 1]
    defect_free = X.sum(axis=1).to_numpy() == 0
    assert (intensity[defect_free] == 0).all()
    assert (intensity[~defect_free] > 0).all()


def test_intensity_scorer_monotone_and_clipped():
    """Check that the normalisation is monotone and clips raw scores beyond
    the fitted range to its end values."""
    scorer = IntensityScorer().fit(_fractions(500).to_numpy())
    grid = np.linspace(0, 0.5, 400)
    X = np.column_stack([grid, np.zeros((400, 3))])
    intensity = scorer.transform(X)[:, 1]
    assert (np.diff(intensity[1:]) >= 0).all()
    assert intensity[-1] == pytest.approx(scorer.references_[-1])
    assert 0 < intensity[1] <= scorer.references_[0] + 1e-12


def test_intensity_scorer_without_normalisation():
    """Check that ``normalize=False`` returns the raw score twice and needs no
    defective rows."""
    X = np.zeros((5, 4))
    scores = IntensityScorer(normalize=False).fit_transform(X)
    np.testing.assert_array_equal(scores, np.zeros((5, 2)))


def test_intensity_scorer_pandas_output():
    """Check the output columns and that the input index is kept."""
    X = _fractions(50).set_index(pd.RangeIndex(10, 60))
    scorer = IntensityScorer().set_output(transform="pandas")
    scores = scorer.fit_transform(X)
    assert list(scores.columns) == ["intensity_raw", "intensity"]
    assert scores.index.equals(X.index)
    assert list(scorer.get_feature_names_out()) == ["intensity_raw", "intensity"]


def test_intensity_scorer_real_severstal_fractions(severstal_dir):
    """Check that fractions of real Severstal masks normalise to the paper's
    intensity distribution."""
    table = load_severstal(
        train_csv=severstal_dir / "train_partial_original_layout.csv",
        missing_images="ignore",
    ).frame
    fractions = RLEDecoder().fit_transform(table)
    scores = IntensityScorer().fit_transform(fractions)
    defective = fractions.sum(axis=1) > 0
    assert scores[defective, 1].mean() == pytest.approx(0.347, abs=0.005)
    assert scores[defective, 1].std() == pytest.approx(0.198, abs=0.005)
    assert (scores[~defective, 1] == 0).all()


@pytest.mark.parametrize(
    "value, match", [(-0.01, "1 value\\(s\\) negative"), (1.5, "above 1")]
)
def test_intensity_scorer_rejects_non_fractions(value, match):
    """Check that negative fractions or fractions above 1 are clear errors."""
    X = _fractions(20).to_numpy(copy=True)
    X[3, 2] = value
    with pytest.raises(ValueError, match=match):
        IntensityScorer().fit(X)
    scorer = IntensityScorer().fit(_fractions(20).to_numpy())
    with pytest.raises(ValueError, match="row 3, column 2"):
        scorer.transform(X)


def test_intensity_scorer_rejects_wrong_weights():
    """Check that weights not matching the columns are a clear error."""
    with pytest.raises(ValueError, match="one non-negative weight per fraction"):
        IntensityScorer(weights=(1.0, 2.0)).fit(_fractions(20))


def test_intensity_scorer_needs_defective_rows():
    """Check that fitting the normalisation without defects is a clear error."""
    with pytest.raises(ValueError, match="normalize=False"):
        IntensityScorer().fit(np.zeros((10, 4)))


def test_intensity_scorer_impossible_target():
    """Check that a target no Beta distribution has is a clear error."""
    with pytest.raises(ValueError, match="smaller `target_std`"):
        IntensityScorer(target_mean=0.5, target_std=0.6).fit(_fractions(20))
