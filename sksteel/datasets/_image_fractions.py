"""Defect fractions predicted by an image model: the ``intensity="model"``
step of the SteelNet data set (paper 2.1.1)."""

import sys
import time
from functools import partial

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.validation import check_is_fitted

from .._paths import N_NAMED
from .._schema import ENCODED_COLUMNS, FRACTION_COLUMNS
from .._sklearn_compat import InvalidParameterError
from ..exceptions import DataFormatError
from ..preprocessing import RLEDecoder

__all__ = [
    "DEFAULT_FRACTION_MODEL",
    "DEFAULT_SEGMENTER",
    "check_cross_fitting",
    "describe_fraction_model",
    "is_fitted",
    "model_fraction_step",
]

#: The image model trained when no ``fraction_model`` is given, as
#: ``DefectFractionRegressor`` parameters (its other parameters keep their
#: defaults: 64 x 400 images, batches of 16, AdamW at 3e-4, early stopping on
#: 10 % of the training images). ResNet-18 for 3 epochs instead of the paper's
#: ResNet-34 for 8, so that a 2-core CPU trains it in minutes; pass your own
#: regressor for the paper's.
DEFAULT_FRACTION_MODEL = {"backbone": "resnet18", "max_epochs": 3}

#: The image model trained when ``fraction_model`` is None or "segmenter",
#: as ``DefectSegmenter`` parameters (the others keep their defaults: images
#: at 128 x 800, training crops of 128 x 256, batches of 8, AdamW at 1e-3):
#: a ResNet-18 U-Net for 3 epochs instead of the ResNet-34 for 6 of the
#: segmenter's defaults, so that the cross-fitting of the default data set
#: trains on a 2-core CPU in minutes.
DEFAULT_SEGMENTER = {"encoder_name": "resnet18", "max_epochs": 3}

#: The columns of the samples the image-model step reads.
MODEL_INPUTS = ["image_path", "defect_class", *ENCODED_COLUMNS]


def is_fitted(estimator):
    """Whether `estimator` is fitted, in scikit-learn's sense (None and a
    model name are not)."""
    if estimator is None or isinstance(estimator, str):
        return False
    try:
        check_is_fitted(estimator)
    except NotFittedError:
        return False
    return True


def default_fraction_model(random_state, verbose, kind="segmenter"):
    """The image model named by `kind`, unfitted: "segmenter" is
    :data:`DEFAULT_SEGMENTER`, "regressor" :data:`DEFAULT_FRACTION_MODEL`.

    ``verbose >= 2`` shows its epoch table and progress bars.
    """
    # torchvision and segmentation-models-pytorch: import on use
    from ..vision import DefectFractionRegressor, DefectSegmenter

    cls, params = (
        (DefectSegmenter, DEFAULT_SEGMENTER)
        if kind == "segmenter"
        else (DefectFractionRegressor, DEFAULT_FRACTION_MODEL)
    )
    return cls(**params, random_state=random_state, verbose=2 if verbose >= 2 else 0)


def describe_fraction_model(fraction_model, cv):
    """How the fractions behind the intensity are obtained, in one sentence."""
    name = " ".join(repr(fraction_model).split())  # the repr wraps long lines
    if is_fitted(fraction_model):
        return f"predicted by the given fitted {name} for the defective samples"
    return (
        f"predicted by {name}, cross-fitted: the samples are split "
        f"into {cv} folds (stratified by class) and the defective samples of each "
        "fold are predicted by a model trained on the other folds' defective "
        "samples and as many of their defect-free ones (drawn at random), with "
        "their mask fractions as targets, so no image is predicted by a model "
        "that saw it"
    )


def _fraction_names(transformer, input_features):
    return np.asarray(FRACTION_COLUMNS, dtype=object)


def model_fraction_step(fraction_model, *, cv, random_state, verbose):
    """The step giving the per-class fractions from `fraction_model`, and
    the input columns it reads.

    Parameters
    ----------
    fraction_model : estimator
        Fitted: predicts the defective samples. Unfitted: cloned and
        cross-fitted over `cv` folds.
    cv : int
        Number of folds of the cross-fitting.
    random_state : int
        Seed of the folds.
    verbose : int
        Print the stages to stderr when positive.

    Returns
    -------
    step : FunctionTransformer
        Its output: ``defect_fraction_1..4``, 0 for defect-free samples.
    inputs : list of str
        ``image_path``, ``defect_class`` and the four encodings.
    """
    fractions = partial(
        _model_fractions,
        fraction_model=fraction_model,
        cv=cv,
        random_state=random_state,
        verbose=verbose,
    )
    step = FunctionTransformer(fractions, feature_names_out=_fraction_names)
    return step, list(MODEL_INPUTS)


def _say(verbose, text):
    if verbose:
        print(f"[make_steelnet_dataset] {text}", file=sys.stderr, flush=True)


def _model_fractions(samples, *, fraction_model, cv, random_state, verbose):
    """Fractions of the defective samples as predicted by the image model;
    0 for the defect-free samples (their class comes from the masks, and
    IntensityScorer gives them intensity 0)."""
    images = samples[["image_path"]]
    # the segmenter learns from the masks themselves, a regressor from `y`
    annotated = samples[["image_path", *ENCODED_COLUMNS]]
    labels = samples["defect_class"].to_numpy()
    defective = labels > 0
    fractions = np.zeros((len(samples), len(FRACTION_COLUMNS)))
    start = time.perf_counter()
    if is_fitted(fraction_model):
        _say(verbose, f"image model: predicting {defective.sum():,} defective images")
        fractions[defective] = _predicted(fraction_model, images[defective])
    else:
        targets = np.asarray(
            RLEDecoder().fit_transform(samples[list(ENCODED_COLUMNS)])
        )
        rng = np.random.RandomState(random_state)
        folds = StratifiedKFold(cv, shuffle=True, random_state=random_state)
        for k, (train, test) in enumerate(folds.split(images, labels), start=1):
            train = _balanced(train, defective, rng)
            wanted = test[defective[test]]
            _say(
                verbose,
                f"image model, fold {k} of {cv}: training "
                f"{type(fraction_model).__name__} on {len(train):,} images, then "
                f"predicting {len(wanted):,} defective images",
            )
            model = clone(fraction_model).fit(annotated.iloc[train], targets[train])
            fractions[wanted] = _predicted(model, images.iloc[wanted])
    _say(verbose, f"image model: done in {time.perf_counter() - start:.1f} s")
    return pd.DataFrame(fractions, index=samples.index, columns=list(FRACTION_COLUMNS))


def _balanced(rows, defective, rng):
    """The defective rows among `rows` and as many defect-free ones, drawn at
    random: half of Severstal's training images show defects (6,666 of
    12,568), whereas the SteelNet data set is 88 % defect-free, and training
    on every defect-free sample would cost four times as much."""
    sick, clean = rows[defective[rows]], rows[~defective[rows]]
    if len(clean) > len(sick):
        clean = rng.choice(clean, size=len(sick), replace=False)
    return np.sort(np.concatenate([sick, clean]))


def check_cross_fitting(cv, n_normal, n_per_class):
    """Refuse folds that would leave a class out of a training split."""
    smallest = min(n for n in (n_normal, n_per_class) if n > 0)
    if smallest < cv:
        raise InvalidParameterError(
            f"Cross-fitting the image model over fraction_cv={cv} folds needs at "
            f"least {cv} samples of every class; got n_normal={n_normal} and "
            f"n_per_class={n_per_class}. Raise them, lower `fraction_cv`, or pass "
            "a fitted `fraction_model`."
        )


def _predicted(model, images):
    """``model.predict(images)`` checked and clipped to ``[0, 1]``."""
    if len(images) == 0:
        return np.empty((0, len(FRACTION_COLUMNS)))
    predicted = np.asarray(model.predict(images), dtype=np.float64)
    expected = (len(images), len(FRACTION_COLUMNS))
    if predicted.shape != expected:
        raise DataFormatError(
            f"`fraction_model.predict` must give one fraction per image and defect "
            f"class, shape {expected!r}; got shape {predicted.shape!r} from "
            f"{model!r}."
        )
    unusable = ~np.isfinite(predicted).all(axis=1)
    if unusable.any():
        paths = images["image_path"].to_numpy()[unusable][:N_NAMED].tolist()
        raise DataFormatError(
            f"`fraction_model` gave NaN or infinite fractions for {unusable.sum()} "
            f"image(s), first {paths!r} (unreadable images skipped under "
            "on_error='warn'?). Fix or remove those images from the source."
        )
    return np.clip(predicted, 0.0, 1.0)
