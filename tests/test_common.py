"""scikit-learn's (and imbalanced-learn's) common checks over every public
estimator that :func:`sksteel.utils.all_estimators` finds."""

import pytest
from imblearn.utils.estimator_checks import (
    parametrize_with_checks as parametrize_with_imblearn_checks,
)
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.utils.estimator_checks import (
    check_do_not_raise_errors_in_init_or_set_params,
    check_estimator_cloneable,
    check_estimator_repr,
    check_estimator_tags_renamed,
    check_estimators_unfitted,
    check_get_params_invariance,
    check_mixin_order,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
    check_valid_tag_types,
    parametrize_with_checks,
)

from sksteel.utils import all_estimators

#: Cheap constructor parameters of every public estimator: the whole file
#: must run in a few minutes on one core. A new estimator must be added here
#: (``test_every_estimator_has_cheap_settings`` fails otherwise).
CHEAP_PARAMS = {
    "SetpointRecommender": dict(
        estimator=HistGradientBoostingClassifier(max_iter=5), target=0
    ),
    "DefectFractionRegressor": dict(
        backbone="resnet18",
        image_size=(32, 200),
        max_epochs=1,
        batch_size=8,
        random_state=0,
        verbose=0,
    ),
    "DefectSegmenter": dict(
        encoder_name="resnet18",
        image_size=(64, 320),
        crop_size=(64, 128),
        max_epochs=1,
        batch_size=8,
        random_state=0,
        verbose=0,
    ),
    "IntensityScorer": {},
    "ModalityDropout": dict(failure_rates=0.2, random_state=0),
    "ProcessParameterSynthesizer": dict(random_state=0),
    "RLEDecoder": {},
    "SensorFailure": dict(random_state=0),
    "SteelNetClassifier": dict(
        hidden_layer_sizes=(16, 8),
        d_token=4,
        n_heads=2,
        max_epochs=3,
        lr=1e-2,
        batch_size=32,
        random_state=0,
    ),
}

# RLEDecoder's input is the four columns of run-length encoding strings of a
# Severstal table, so sklearn's random numeric arrays are rejected before any
# other behaviour is reached. tests/preprocessing/test_rle_decoder.py tests
# those properties on encodings.
_RLE = (
    "feeds numeric arrays, but X must be the four EncodedPixels_<c> columns of "
    "run-length encoding strings (or NaN); "
)
# IntensityScorer reads one pixel fraction in [0, 1] per weight, the
# synthesizer a class label 0-4 and an intensity in [0, 1].
_LAYOUT = (
    "the input has a fixed layout (fractions in [0, 1], or class and "
    "intensity); the check passes other shapes or values"
)
_LAYOUT_CHECKS = dict.fromkeys(
    [
        "check_dict_unchanged",
        "check_dont_overwrite_parameters",
        "check_dtype_object",
        "check_estimators_dtypes",
        "check_estimators_fit_returns_self",
        "check_estimators_nan_inf",
        "check_estimators_overwrite_params",
        "check_estimators_pickle",
        "check_f_contiguous_array_estimator",
        "check_fit2d_1feature",
        "check_fit2d_1sample",
        "check_fit2d_predict1d",
        "check_fit_check_is_fitted",
        "check_fit_idempotent",
        "check_fit_score_takes_y",
        "check_methods_sample_order_invariance",
        "check_methods_subset_invariance",
        "check_n_features_in",
        "check_n_features_in_after_fitting",
        "check_pipeline_consistency",
        "check_positive_only_tag_during_fit",
        "check_readonly_memmap_input",
        "check_transformer_data_not_an_array",
        "check_transformer_general",
        "check_transformer_preserve_dtypes",
    ],
    _LAYOUT,
)

#: Every common check expected to fail, by estimator, with the reason.
#: sklearn's and imbalanced-learn's checks have distinct names, so one dict
#: per estimator serves both.
EXPECTED_FAILED_CHECKS = {
    "IntensityScorer": _LAYOUT_CHECKS,
    "ModalityDropout": {
        "check_samplers_pandas_sparse": (
            "sparse input is refused: a sparse matrix cannot tell a missing "
            "reading (NaN) from an implicit zero"
        ),
    },
    "ProcessParameterSynthesizer": _LAYOUT_CHECKS,
    "RLEDecoder": {
        "check_complex_data": _RLE + "complex numbers are no encodings either",
        "check_dict_unchanged": _RLE + "see test_rle_decoder_fit_leaves_dict",
        "check_dont_overwrite_parameters": _RLE
        + "see test_rle_decoder_fit_leaves_dict",
        "check_dtype_object": _RLE + "object arrays are tested on encodings",
        "check_estimators_dtypes": _RLE + "only str / NaN cells are meaningful",
        "check_estimators_fit_returns_self": _RLE + "see test_rle_decoder_is_stateless",
        "check_estimators_overwrite_params": _RLE
        + "see test_rle_decoder_fit_leaves_dict",
        "check_estimators_pickle": _RLE + "see test_rle_decoder_pickle_and_clone",
        "check_f_contiguous_array_estimator": _RLE + "memory layout is irrelevant",
        "check_fit2d_1feature": _RLE + "one column is not the four classes",
        "check_fit2d_1sample": _RLE + "see test_rle_decoder_single_image",
        "check_fit2d_predict1d": _RLE + "see test_rle_decoder_rejects_1d_input",
        "check_fit_check_is_fitted": _RLE + "see test_rle_decoder_is_stateless",
        "check_fit_idempotent": _RLE + "see test_rle_decoder_is_stateless",
        "check_fit_score_takes_y": _RLE + "fit(X, y) is tested on encodings",
        "check_methods_sample_order_invariance": _RLE
        + "see test_rle_decoder_row_order_and_subsets",
        "check_methods_subset_invariance": _RLE
        + "see test_rle_decoder_row_order_and_subsets",
        "check_n_features_in": _RLE + "see test_rle_decoder_is_stateless",
        "check_pipeline_consistency": _RLE + "see test_rle_decoder_in_pipeline",
        "check_readonly_memmap_input": _RLE + "read-only data is never written",
        "check_transformer_data_not_an_array": _RLE + "array-likes tested on encodings",
        "check_transformer_general": _RLE + "see test_rle_decoder_is_stateless",
        "check_transformers_unfitted_stateless": _RLE
        + "see test_rle_decoder_is_stateless",
    },
    "SteelNetClassifier": {
        "check_sample_weight_equivalence_on_dense_data": (
            "a weight of 2 doubles a sample's loss, but stochastic mini-batches, "
            "the validation split and modality dropout differ from training on "
            "a duplicated row; tests/models/test_conventions.py checks the "
            "weights in the loss and the score"
        ),
    },
    "SensorFailure": dict.fromkeys(
        ["check_methods_sample_order_invariance", "check_methods_subset_invariance"],
        "the random mask is drawn by row position, so subsets and shuffles of "
        "the rows lose other readings",
    ),
}

#: The checks of the sklearn API that need no numeric feature matrix. For an
#: estimator whose input is not a 2-D array (tag ``two_d_array=False``, as
#: DefectFractionRegressor's image paths), ``parametrize_with_checks`` yields
#: no data checks, so these are run instead.
API_CHECKS = [
    check_estimator_cloneable,
    check_estimator_repr,
    check_no_attributes_set_in_init,
    check_get_params_invariance,
    check_set_params,
    check_parameters_default_constructible,
    check_do_not_raise_errors_in_init_or_set_params,
    check_estimators_unfitted,
    check_mixin_order,
    check_valid_tag_types,
    check_estimator_tags_renamed,
]

ESTIMATORS = all_estimators()


def _cheap(cls):
    return cls(**CHEAP_PARAMS.get(cls.__name__, {}))


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


#: Estimators that wrap an already fitted model: sklearn's data checks fit
#: them on random arrays the wrapped model was not trained on, so only the
#: API checks run for them.
WRAPS_FITTED_MODEL = {
    "SetpointRecommender": "searches over a fitted classifier's inputs",
}


def _takes_arrays(cls):
    if cls.__name__ in WRAPS_FITTED_MODEL:
        return False
    return _cheap(cls).__sklearn_tags__().input_tags.two_d_array


def test_every_estimator_has_cheap_settings():
    """Check that every public estimator is listed in CHEAP_PARAMS, and that
    CHEAP_PARAMS and EXPECTED_FAILED_CHECKS name no estimator that is gone."""
    names = {name for name, _ in ESTIMATORS}
    missing = sorted(names - set(CHEAP_PARAMS))
    assert not missing, f"add cheap settings for {missing} to CHEAP_PARAMS"
    stale = sorted((set(CHEAP_PARAMS) | set(EXPECTED_FAILED_CHECKS)) - names)
    assert not stale, f"{stale} are no public estimators; remove them"


@parametrize_with_checks(
    [_cheap(cls) for _, cls in ESTIMATORS if _takes_arrays(cls)],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    """Check that each estimator passes scikit-learn's common checks."""
    check(estimator)


@pytest.mark.parametrize(
    "cls",
    [cls for _, cls in ESTIMATORS if not _takes_arrays(cls)],
    ids=lambda cls: cls.__name__,
)
@pytest.mark.parametrize("check", API_CHECKS, ids=lambda check: check.__name__)
def test_sklearn_api_without_arrays(cls, check):
    """Check the sklearn API checks of the estimators whose input is not a
    2-D array, for which ``parametrize_with_checks`` yields no checks."""
    check(cls.__name__, _cheap(cls))


@parametrize_with_imblearn_checks(
    [_cheap(cls) for _, cls in all_estimators(type_filter="sampler")],
    expected_failed_checks=_expected_failed_checks,
)
def test_imblearn_compatible(estimator, check):
    """Check that each sampler passes imbalanced-learn's sampler checks."""
    check(estimator)
