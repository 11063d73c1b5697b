"""Tests of SteelNetClassifier's scikit-learn conventions: sample_weight,
scorer names, errors naming the column, the no-defect label, and
make_steel_surfaces(return_frame=True)."""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import make_blobs
from sklearn.metrics import accuracy_score
from skorch.dataset import Dataset

from sksteel.datasets import load_severstal, make_steel_surfaces
from sksteel.exceptions import NoDefectClassWarning
from sksteel.models import SteelNetClassifier
from sksteel.models._training import ValidationScore
from sksteel.nn import SteelNetLoss

CHEAP = {
    "hidden_layer_sizes": (16,),
    "d_token": 4,
    "n_heads": 2,
    "max_epochs": 4,
    "lr": 1e-2,
    "batch_size": 32,
    "random_state": 0,
}


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=200, centers=3, n_features=4, random_state=0)
    return X, y


@pytest.mark.parametrize("early_stopping", [True, False])
def test_unit_sample_weight_changes_nothing(blobs, early_stopping):
    """Check that weights of one give the unweighted model exactly."""
    X, y = blobs
    params = {**CHEAP, "early_stopping": early_stopping, "validation_fraction": 0.2}
    plain = SteelNetClassifier(**params).fit(X, y)
    weighted = SteelNetClassifier(**params).fit(X, y, sample_weight=np.ones(len(y)))
    np.testing.assert_array_equal(plain.predict_proba(X), weighted.predict_proba(X))


def test_zero_weight_rows_do_not_train(blobs):
    """Check that rows of weight 0 do not pull the model: copies of class-0
    rows labelled 1 make the unweighted model unsure there, not the
    weighted one."""
    X, y = blobs
    decoys = X[y == 0]
    X_all = np.vstack([X, decoys, decoys])
    y_all = np.concatenate([y, np.ones(2 * len(decoys), dtype=int)])
    weight = np.r_[np.ones(len(y)), np.zeros(2 * len(decoys))]
    params = {**CHEAP, "max_epochs": 15, "early_stopping": False}
    plain = SteelNetClassifier(**params).fit(X_all, y_all)
    weighted = SteelNetClassifier(**params).fit(X_all, y_all, sample_weight=weight)
    p_plain = plain.predict_proba(decoys)[:, 0].mean()
    p_weighted = weighted.predict_proba(decoys)[:, 0].mean()
    assert p_weighted > 0.9 > p_plain + 0.2


def test_loss_weights_every_term():
    """Check that each term averages ``sample_weight`` x the sample's loss."""
    torch.manual_seed(0)
    logits, attribution = torch.randn(4, 3), torch.softmax(torch.randn(4, 5), -1)
    outputs = (logits, torch.randn(4), attribution)
    y, intensity = torch.tensor([0, 1, 2, 1]), torch.tensor([np.nan, 1.0, 2.0, 0.5])
    weight = torch.tensor([1.0, 0.0, 2.0, 0.5])
    prior = torch.softmax(torch.randn(3, 5), -1)
    loss = SteelNetLoss(attribution_prior=prior)
    terms = loss.terms(outputs, y, intensity, weight)
    ce = torch.nn.functional.cross_entropy(logits, y, reduction="none")
    torch.testing.assert_close(terms["class"], (ce * weight).mean())
    squared = (outputs[1] - intensity.nan_to_num()) ** 2 * weight
    torch.testing.assert_close(terms["intensity"], squared[1:].sum() / 3)
    kl = (prior[y] * (prior[y].log() - attribution.log())).sum(-1)
    torch.testing.assert_close(terms["attribution"], (kl * weight).mean())
    unweighted = loss.terms(outputs, y, intensity, torch.ones(4))
    for name, value in loss.terms(outputs, y, intensity).items():
        torch.testing.assert_close(unweighted[name], value)


class _Net:
    """A stand-in for a skorch net with fixed probabilities."""

    def __init__(self, proba):
        self.proba = proba

    def predict_proba(self, X):
        return self.proba


@pytest.mark.parametrize("metric", ["accuracy", "balanced_accuracy", "roc_auc_ovr"])
def test_validation_score_uses_sample_weight(metric):
    """Check that the validation score weighs the validation samples by the
    ``sample_weight`` stored in the validation targets."""
    rng = np.random.RandomState(0)
    proba = rng.dirichlet(np.ones(3), 30)
    y = np.arange(30) % 3
    weight = rng.uniform(0, 2, 30)
    dataset = Dataset(np.zeros((30, 2)), {"y": y, "sample_weight": weight})
    weighted = ValidationScore(metric)(_Net(proba), dataset, y)
    plain = ValidationScore(metric)(
        _Net(proba), Dataset(np.zeros((30, 2)), {"y": y}), y
    )
    assert weighted != pytest.approx(plain)
    if metric == "accuracy":
        assert weighted == pytest.approx(
            accuracy_score(y, proba.argmax(1), sample_weight=weight)
        )


@pytest.mark.parametrize("scoring", ["roc_auc_ovr", "neg_log_loss", "f1_micro"])
def test_scoring_accepts_sklearn_scorer_names(blobs, scoring):
    """Check that any scikit-learn scorer name drives early stopping."""
    X, y = blobs
    clf = SteelNetClassifier(**CHEAP, scoring=scoring).fit(X, y)
    scores = clf.history_[:, f"valid_{scoring}"]
    assert len(scores) == clf.n_iter_ and np.all(np.isfinite(scores))


def test_scoring_rejects_unknown_names(blobs):
    """Check that a misspelt scorer is the constraint system's clear error."""
    with pytest.raises(ValueError, match="The 'scoring' parameter"):
        SteelNetClassifier(scoring="roc-auc").fit(*blobs)


def test_text_error_names_the_column(blobs):
    """Check that text in X is an error naming the column that holds it."""
    X = pd.DataFrame(blobs[0], columns=list("abcd")).astype(object)
    X.loc[3, "c"] = "high"
    with pytest.raises(ValueError, match=r"in the column\(s\) \['c'\] is text"):
        SteelNetClassifier(**CHEAP).fit(X, blobs[1])


@pytest.mark.parametrize(
    "labels", [(0, 1, 2), ("0", "1", "2"), ("none", "a", "b"), ("None", "a", "b")]
)
def test_no_defect_label_recognised(blobs, labels):
    """Check that the no-defect class (0, "0" or "none") is left out of the
    intensity loss whatever its type or case."""
    X, y = blobs
    y = np.asarray(labels)[y]
    intensity = np.where(y == labels[0], 100.0, np.arange(len(y)) % 7)
    clf = SteelNetClassifier(**{**CHEAP, "max_epochs": 1}).fit(
        X, y, intensity=intensity
    )
    assert clf.intensity_mean_ == pytest.approx(intensity[y != labels[0]].mean())


def test_no_defect_label_missing_warns(blobs):
    """Check that labels without a no-defect class are said to be so."""
    X, y = blobs
    with pytest.warns(NoDefectClassWarning, match=r"\[1, 2, 3\]"):
        SteelNetClassifier(**{**CHEAP, "max_epochs": 1}).fit(
            X, y + 1, intensity=np.ones(len(y))
        )


def test_make_steel_surfaces_return_frame(tmp_path):
    """Check that ``return_frame=True`` returns the data set's table."""
    frame = make_steel_surfaces(
        6, data_home=tmp_path, render=False, random_state=1, return_frame=True
    )
    root = make_steel_surfaces(6, data_home=tmp_path, render=False, random_state=1)
    expected = load_severstal(root, missing_images="ignore").frame
    pd.testing.assert_frame_equal(frame, expected)
