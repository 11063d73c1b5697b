"""Tests of SteelNetClassifier's learner options and its paper preset."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.utils._param_validation import InvalidParameterError

from sksteel.models import SteelNetClassifier
from sksteel.models._learner import TEMPERATURES, robust_standardisation
from sksteel.models._steelnet import PAPER_PARAMS

DATA = Path(__file__).parent / "data"

#: Small settings so every fit takes a fraction of a second.
CHEAP = dict(hidden_layer_sizes=(16,), d_token=4, n_heads=2, max_epochs=3)

#: Every learner option switched on (the study's candidates combined).
LEARNER = dict(
    use_attention=False,
    numeric_embedding="periodic",
    n_ensemble=4,
    scaling="robust",
    soft_clip=3.0,
    label_smoothing=0.1,
    temperature_scaling=True,
    batch_size=256,
    scoring="f1_macro",
)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=300, n_features=10, n_informative=6, n_classes=3, random_state=0
    )
    X[::5, 3] = np.nan
    return X, y


def test_paper_preset_reproduces_the_paper_network(data):
    """Check that ``paper()`` builds the same network (state names and
    shapes) and gives the same predictions, at a fixed seed, as the
    estimator's defaults did before the learner options existed (saved in
    ``tests/models/data``)."""
    X, y = data
    with torch.random.fork_rng():
        clf = SteelNetClassifier.paper(max_epochs=3, random_state=0).fit(X, y)
    shapes = {
        name: list(tensor.shape)
        for name, tensor in clf.net_.module_.state_dict().items()
    }
    expected = json.loads((DATA / "paper_preset_state_shapes.json").read_text())
    assert shapes == expected
    # The thread count and the CPU's matrix kernels change the last float32
    # digits, and 3 epochs of training carry them to about 3e-5 (1 thread
    # against 2 on one machine); another batch size or seed moves the
    # probabilities by about 0.5. 1e-3 tells the two apart.
    np.testing.assert_allclose(
        clf.predict_proba(X[:50]),
        np.load(DATA / "paper_preset_proba.npy"),
        rtol=0, atol=1e-3,
    )
    assert clf.temperature_ == 1.0


def test_paper_preset_overrides_win():
    """Check that keyword overrides replace the paper's values and that the
    rest of the preset is kept."""
    clf = SteelNetClassifier.paper(batch_size=32, use_attention=False)
    assert clf.batch_size == 32 and clf.use_attention is False
    for name, value in PAPER_PARAMS.items():
        if name != "batch_size":
            assert clf.get_params()[name] == value


def test_paper_preset_names_real_parameters():
    """Check that every PAPER_PARAMS entry is a parameter, and that the
    defaults are still the paper's but for ``failure_rates``: the learner
    study (``benchmarks/bench_learners.py --study``) found no configuration
    that wins clearly, and the dropout check found that no modality dropout
    wins on tables without a sensor table."""
    defaults = SteelNetClassifier().get_params()
    for name, value in PAPER_PARAMS.items():
        assert name in defaults, name
        if name != "failure_rates":
            assert defaults[name] == value, name
    assert (defaults["failure_rates"], PAPER_PARAMS["failure_rates"]) == (
        "auto",
        "table",
    )


@pytest.mark.parametrize(
    "params, match",
    [
        ({"numeric_embedding": "fourier"}, "numeric_embedding"),
        ({"d_embedding": 0}, "d_embedding"),
        ({"n_ensemble": 0}, "n_ensemble"),
        ({"scaling": "minmax"}, "scaling"),
        ({"soft_clip": 0.0}, "soft_clip"),
        ({"label_smoothing": 1.0}, "label_smoothing"),
        ({"temperature_scaling": "yes"}, "temperature_scaling"),
    ],
)
def test_learner_parameters_are_validated(data, params, match):
    """Check that a bad value of each new parameter is a clear error naming
    it."""
    X, y = data
    with pytest.raises(InvalidParameterError, match=match):
        SteelNetClassifier(**CHEAP, **params).fit(X, y)


def test_ensemble_with_embeddings_is_deterministic_and_calibrated(data):
    """Check that the learner options together (embeddings, 4 members,
    robust scaling, soft clipping, temperature) give probabilities summing
    to 1, identical for the same seed, and a temperature from the grid."""
    X, y = data
    first = SteelNetClassifier(**CHEAP, **LEARNER, random_state=0).fit(X, y)
    second = SteelNetClassifier(**CHEAP, **LEARNER, random_state=0).fit(X, y)
    proba = first.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(proba, second.predict_proba(X))
    assert np.isclose(TEMPERATURES, first.temperature_).any()
    assert first.net_.module_.temperature == first.temperature_


def test_temperature_is_one_without_validation(data):
    """Check that without a validation split (or with the option off) the
    temperature stays 1."""
    X, y = data
    off = SteelNetClassifier(**CHEAP, temperature_scaling=False, random_state=0)
    assert off.fit(X, y).temperature_ == 1.0
    none = SteelNetClassifier(
        **CHEAP, temperature_scaling=True, early_stopping=False, random_state=0
    )
    assert none.fit(X, y).temperature_ == 1.0


def test_robust_standardisation_median_iqr_and_fallbacks():
    """Check the robust centre and scale: median and IQR / 1.349, NaN
    ignored; standard deviation when the IQR is 0; 1 for constant or empty
    columns."""
    rng = np.random.default_rng(0)
    X = np.column_stack(
        [
            rng.normal(5.0, 2.0, 2000),
            np.r_[np.zeros(1900), rng.normal(0, 1, 100)],
            np.full(2000, 7.0),
            np.full(2000, np.nan),
        ]
    )
    X[::4, 0] = np.nan
    X[0, 0] = 1e300
    centre, scale = robust_standardisation(X)
    assert abs(centre[0] - 5.0) < 0.2 and abs(scale[0] - 2.0) < 0.2
    assert scale[1] == pytest.approx(np.nanstd(X[:, 1]))
    assert centre[2] == 7.0 and scale[2] == 1.0
    assert centre[3] == 0.0 and scale[3] == 1.0


@pytest.mark.parametrize("options", [{}, LEARNER], ids=["defaults", "learner"])
@pytest.mark.parametrize(
    "kind",
    ["single_feature", "constant_features", "two_rows_per_class", "empty"],
)
def test_default_learner_fits_awkward_tables(kind, options):
    """Check that the defaults, and every learner option on, fit a single
    feature, constant features, 2 rows per class (too few for a validation
    split: trained on every row) and a column with no reading."""
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 2 if kind == "two_rows_per_class" else 20)
    X = rng.normal(size=(len(y), 3)) + y[:, None]
    if kind == "single_feature":
        X = X[:, :1]
    elif kind == "constant_features":
        X[:, 1:] = 4.0
    elif kind == "empty":
        X[:, 2] = np.nan
    clf = SteelNetClassifier(**CHEAP, **options, random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(y), 3) and np.isfinite(proba).all()
    head = clf.explain(X, method="head").to_numpy()
    np.testing.assert_allclose(head.sum(axis=1), 1.0, rtol=1e-5)


def test_default_learner_refuses_infinity(data):
    """Check that ``inf`` is still an error with the new options."""
    X, y = data
    X = X.copy()
    X[0, 0] = np.inf
    with pytest.raises(ValueError, match="(?i)inf"):
        SteelNetClassifier(**CHEAP).fit(X, y)
