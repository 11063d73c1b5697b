"""The SteelNet multimodal data set (paper 2.1): images, defect class and
intensity, and ten synthetic process-sensor readings."""

import math
import os
import warnings
from numbers import Integral
from pathlib import Path

import numpy as np
import pandas as pd
from imblearn.under_sampling import RandomUnderSampler
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.pipeline import Pipeline
from sklearn.utils import Bunch, check_random_state

from .._schema import (
    CLASS_NAMES,
    ENCODED_COLUMNS,
    FRACTION_COLUMNS,
    INTENSITY_WEIGHTS,
    SENSOR_NAMES,
)
from .._sklearn_compat import HasMethods, Interval, StrOptions, validate_params
from ..exceptions import DataFormatError, MissingImagesWarning
from ..preprocessing import IntensityScorer, ProcessParameterSynthesizer, RLEDecoder
from ._image_fractions import (
    check_cross_fitting,
    default_fraction_model,
    describe_fraction_model,
    is_fitted,
    model_fraction_step,
)
from ._severstal import load_severstal
from ._surfaces import make_steel_surfaces

__all__ = ["make_steelnet_dataset"]

#: Built-in surfaces: defect-free images generated beyond ``n_normal``, as a
#: fraction of it, so that the undersampler always has a choice.
_SPARE_NORMAL = 0.02

#: Built-in surfaces: defective images generated per requested image of a
#: class. Multi-class images go to one class each, so a class keeps about
#: 1.1-1.4 of its share; 1.5 leaves every class enough.
_SPARE_DEFECTIVE = 1.5

_DESCR = """\
SteelNet multimodal data set
----------------------------

{n_rows:,} samples: {composition}. Source: {source}.

Each sample is one steel-sheet image: ``image_id``; ``defect_class`` (0 none,
1 crazing, 2 inclusion, 3 patches, 4 pitted, from the masks; an image with
several classes takes the one with the largest weighted defect area);
``defect_fraction_1`` .. ``defect_fraction_4`` (pixel fraction of each class,
{fractions}); ``intensity`` (``sum_c w_c f_c`` with w = {weights}, normalised by
IntensityScorer so that defective samples follow the paper's right-skewed
distribution, mean 0.347, sd 0.198; 0 when defect-free); then the ten process
sensors, synthesised from class and intensity by ProcessParameterSynthesizer
(paper A.2: class operating points shifted by intensity, fixed interaction
rules, drift). sksteel adds a per-sample defect expression: a defect's
operating point lies between a normal one and its class's, so some defects
barely show in the sensors and no model separates the classes perfectly.

The sensor readings are synthetic: they carry exactly the relations the
generator puts in. ``attribution_prior`` is the generator's own ground truth
of which sensors each class pushes away from normal. See docs/dataset.md for
the statistics, the choices sksteel made where the paper is silent, and what
the data can and cannot tell.
"""


def _fraction_step(intensity, *, fraction_model, cv, random_state, verbose):
    """The transformer giving the per-class fractions behind the intensity,
    the input columns it reads, and a description of where they come from.

    ``"masks"``: the fractions of the annotated masks. ``"model"``: the
    fractions that an image model predicts for the defective samples (see
    ``_image_fractions``).
    """
    if intensity == "masks":
        return RLEDecoder(), list(ENCODED_COLUMNS), "from the annotated masks"
    if fraction_model is None or isinstance(fraction_model, str):
        fraction_model = default_fraction_model(
            random_state, verbose, kind=fraction_model or "segmenter"
        )
    step, inputs = model_fraction_step(
        fraction_model, cv=cv, random_state=random_state, verbose=verbose
    )
    description = describe_fraction_model(fraction_model, cv)
    return step, inputs, f"{description}; 0 for defect-free samples"


def _check_fraction_source(intensity, fraction_model, cv, n_normal, n_per_class):
    """Refuse a `fraction_model` that would be ignored, and folds that cannot
    be drawn, before anything slow runs."""
    if intensity != "model" and fraction_model is not None:
        raise ValueError(
            "`fraction_model` is only used with intensity='model' (fractions "
            f"predicted from the images); got intensity={intensity!r} and "
            f"fraction_model={fraction_model!r}. Pass intensity='model', or leave "
            "`fraction_model` out to take the fractions from the masks."
        )
    if intensity == "model" and not is_fitted(fraction_model):
        check_cross_fitting(cv, n_normal, n_per_class)


def _appending(transformer, columns):
    """A step that keeps every input column and appends ``transformer``'s
    output on ``columns``."""
    everything = make_column_selector()
    return ColumnTransformer(
        [("keep", "passthrough", everything), ("new", transformer, columns)],
        verbose_feature_names_out=False,
    )


def _simulation_pipeline(fractions, inputs, random_state):
    """fractions (the step ``fractions`` reading the columns ``inputs``) ->
    IntensityScorer -> ProcessParameterSynthesizer, keeping ``image_id`` and
    ``defect_class`` along."""
    return Pipeline(
        [
            (
                "fractions",
                ColumnTransformer(
                    [
                        ("keep", "passthrough", ["image_id", "defect_class"]),
                        ("new", fractions, inputs),
                    ],
                    verbose_feature_names_out=False,
                ),
            ),
            ("intensity", _appending(IntensityScorer(), list(FRACTION_COLUMNS))),
            (
                "sensors",
                _appending(
                    ProcessParameterSynthesizer(random_state=random_state),
                    ["defect_class", "intensity"],
                ),
            ),
        ]
    ).set_output(transform="pandas")


def _assign_classes(fractions):
    """One class per image: 0 when no defect, otherwise the class with the
    largest weighted defect area ``w_c * f_c`` (ties: the lower class)."""
    weighted = np.asarray(fractions) * np.asarray(INTENSITY_WEIGHTS)
    return np.where(weighted.max(axis=1) > 0, weighted.argmax(axis=1) + 1, 0)


def _source_table(
    source, n_normal, n_per_class, random_state, data_home, *, images, verbose
):
    """The Severstal-format table (one row per image) and its description.

    ``images``: whether the images are needed (rendered for the built-in
    surfaces; rows without an image file left out of the others).
    """
    if source is None:
        n_free = n_normal + math.ceil(_SPARE_NORMAL * n_normal) + 10
        n_defective = math.ceil(_SPARE_DEFECTIVE * n_per_class * len(ENCODED_COLUMNS))
        n_defective = max(n_defective, 4 * len(ENCODED_COLUMNS))
        root = make_steel_surfaces(
            n_free + n_defective,
            defect_free_fraction=n_free / (n_free + n_defective),
            data_home=data_home,
            render=images,
            random_state=random_state,
            verbose=bool(verbose),
        )
        table = load_severstal(root, missing_images="ignore").frame
        return table, f"built-in synthetic surfaces ({len(table):,} images, {root})"
    if isinstance(source, pd.DataFrame):
        table, text = source, f"a table of {len(source):,} images"
    else:
        path = Path(source)
        missing = "ignore" if images else "warn"  # images: _on_disk warns below
        if path.is_dir():
            table = load_severstal(path, missing_images=missing).frame
        else:
            table = load_severstal(train_csv=path, missing_images=missing).frame
        text = f"{path} ({len(table):,} images)"
    return (_on_disk(table) if images else table), text


def _on_disk(table):
    """The rows of `table` whose image file exists, warning about the others."""
    if "image_path" not in table.columns:
        raise DataFormatError(
            "The images are read (intensity='model' or images=True), but the "
            "source table has no "
            f"'image_path' column (its columns: {list(table.columns)!r}). Pass a "
            "Kaggle folder or a table as returned by load_severstal, whose "
            "'image_path' column locates each image."
        )
    exists = table["image_path"].map(
        lambda path: isinstance(path, (str, os.PathLike)) and os.path.isfile(path)
    )
    if not exists.all():
        absent = table.loc[~exists, "image_path"].tolist()
        warnings.warn(
            f"{len(absent):,} of {len(table):,} images of the source are not on "
            f"disk, first {absent[:5]!r}; the images are read (intensity='model' "
            "or images=True), so "
            "these rows are left out before sampling.",
            MissingImagesWarning,
            stacklevel=5,  # the caller of make_steelnet_dataset
        )
    return table[exists.to_numpy()]


def _check_available(labels, wanted):
    """Refuse a composition the source cannot provide."""
    counts = np.bincount(labels, minlength=len(CLASS_NAMES))
    short = {c: int(counts[c]) for c, n in wanted.items() if counts[c] < n}
    if not short:
        return
    parts = ", ".join(
        f"class {c} ({CLASS_NAMES[c]}): {wanted[c]} wanted, {have} available"
        for c, have in short.items()
    )
    defective = [counts[c] for c in short if c > 0]
    hint = (
        f"Lower `n_per_class` to at most {min(defective)}"
        if defective
        else f"Lower `n_normal` to at most {short[0]}"
    )
    raise ValueError(
        f"The source has too few images for the requested composition: {parts} "
        "(multi-class images count once, for the class with the largest weighted "
        f"defect area). {hint}, or use a source with more images."
    )


@validate_params(
    {
        "source": [None, str, os.PathLike, pd.DataFrame],
        "n_normal": [Interval(Integral, 0, None, closed="left")],
        "n_per_class": [Interval(Integral, 1, None, closed="left")],
        "intensity": [StrOptions({"masks", "model"})],
        "fraction_model": [
            None,
            StrOptions({"segmenter", "regressor"}),
            HasMethods(["fit", "predict"]),
        ],
        "fraction_cv": [Interval(Integral, 2, None, closed="left")],
        "images": ["boolean"],
        "data_home": [None, str, os.PathLike],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def make_steelnet_dataset(
    source=None,
    *,
    n_normal=5902,
    n_per_class=200,
    intensity="masks",
    fraction_model=None,
    fraction_cv=2,
    images=False,
    data_home=None,
    random_state=0,
    verbose=0,
):
    """Build the SteelNet multimodal data set (paper 2.1).

    1. Take a Severstal-format table: the built-in synthetic surfaces
       (:func:`make_steel_surfaces`; masks only, plus the JPEG images with
       ``intensity="model"``) or yours.
    2. Give each image one class from its masks: 0 when defect-free,
       otherwise the class with the largest weighted defect area
       ``w_c * f_c`` (w = 1.0, 1.5, 2.0, 1.2, the intensity weights), the
       lower class on a tie.
    3. Draw ``n_normal`` defect-free images and ``n_per_class`` of each
       defect class with imbalanced-learn's
       :class:`~imblearn.under_sampling.RandomUnderSampler`.
    4. Run the simulation pipeline, an sklearn
       :class:`~sklearn.pipeline.Pipeline`: per-class fractions (from the
       masks, :class:`~sksteel.preprocessing.RLEDecoder`, or from the image
       model, see `intensity`) ->
       :class:`~sksteel.preprocessing.IntensityScorer` (normalisation fitted
       on these samples) ->
       :class:`~sksteel.preprocessing.ProcessParameterSynthesizer` (its
       defaults: every defect expressed to a random degree, so some read as
       normal operation).

    The paper states 6,502 non-defective + 4 x 200 defective = 6,702 samples,
    which does not add up; its split sizes sum to 6,702, so the default is
    5,902 non-defective + 4 x 200 = 6,702.

    Parameters
    ----------
    source : None, str, path-like or DataFrame, default=None
        ``None``: the built-in synthetic surfaces, generated (and cached, see
        :func:`get_data_home`) with just enough images. A folder: a Kaggle
        Severstal root (``train.csv``, ``train_images/``), read with
        :func:`load_severstal` (``missing_images="warn"``). A file: its
        ``train.csv`` (either layout). A DataFrame: a table as
        ``load_severstal(...).frame``. With ``intensity="model"``, rows whose
        image is not on disk are left out with a
        :class:`~sksteel.exceptions.MissingImagesWarning`.
    n_normal : int, default=5902
        Number of defect-free samples.
    n_per_class : int, default=200
        Number of samples of each defect class.
    intensity : {"masks", "model"}, default="masks"
        Where the per-class fractions behind the intensity come from.

        - ``"masks"`` (fast): the annotated masks.
        - ``"model"``: the paper's way, an image model (by default the
          segmenter :class:`~sksteel.vision.DefectSegmenter`, see
          `fraction_model`) predicts the fractions of each defective sample
          from its image. The class still comes from the masks, and a
          defect-free sample keeps fractions and intensity 0: the model's
          small outputs on clean images would otherwise give them an
          intensity.
    fraction_model : {"segmenter", "regressor"} or estimator, default=None
        The image model of ``intensity="model"``; an error with
        ``"masks"``. It reads a DataFrame with an ``image_path`` column (and,
        in `fit`, the ``EncodedPixels_1..4`` columns, with the mask
        fractions as `y`) and predicts the four ``defect_fraction`` columns
        (clipped to ``[0, 1]``).

        - ``None`` or ``"segmenter"``: an unfitted
          ``DefectSegmenter("resnet18", max_epochs=3)`` (a U-Net trained on
          the masks; its fractions are the means of its predicted masks),
          seeded from `random_state`, cross-fitted as below.
        - ``"regressor"``: the paper's regression head, an unfitted
          ``DefectFractionRegressor("resnet18", max_epochs=3)``, cross-fitted.
          Trained from scratch, it learns the large patches far better than
          the thin crazing, inclusion and pitted defects
          (``benchmarks/bench_model_intensity.py``).
        - Fitted (e.g. a ``DefectSegmenter`` you trained on other images):
          predicts every defective sample, as it is.
        - Unfitted estimator (e.g. ``DefectSegmenter()``, ResNet-34 for 6
          epochs): cloned and *cross-fitted*. The samples are split into
          `fraction_cv` folds, stratified by class; each fold's defective
          samples are predicted by a clone trained on the other folds'
          defective samples and as many of their defect-free ones (drawn at
          random: half of Severstal's training images show defects, the data
          set is 88 % defect-free), with their masks as targets. No image is
          predicted by a model that was trained on it (predicting the
          training images themselves, the paper's way, gives fractions the
          network may have learned by heart). The estimator you pass is left
          unfitted.

        Training is the slow part: for the default composition, two models
        of 800 images each, plus about 2 minutes to render the built-in
        surfaces, once (they are cached). A GPU is used when torch sees one.
        The data set card (``DESCR``) and ``intensity_source`` name the
        model used.
    fraction_cv : int, default=2
        Number of cross-fitting folds when `fraction_model` is trained. Two
        folds cost as much training as one model on every sample; ``k``
        folds cost ``k - 1`` times that, each model seeing more images.
        Every class needs at least `fraction_cv` samples.
    images : bool, default=False
        Add an ``image_path`` column (after ``image_id``) to ``frame`` and
        ``data``: the built-in surfaces are rendered (and cached) so that
        every sample has its image; with another source, rows whose image
        is not on disk are left out with a
        :class:`~sksteel.exceptions.MissingImagesWarning`. ``data`` then
        holds the sensors and the images, ready for
        :class:`~sksteel.models.SteelNetClassifier` (see "Fusing the camera
        and the sensors" in the user guide).
    data_home : str or path-like, default=None
        Cache folder of the built-in surfaces (see :func:`get_data_home`);
        unused with another ``source``.
    random_state : int, RandomState instance or None, default=0
        Seeds the surfaces, the sampling, the cross-fitting folds, the
        default image model and the sensor readings.
    verbose : int, default=0
        ``1``: report the image model's stages (folds, times) on stderr and
        show a progress bar while rendering the built-in surfaces. ``2``:
        also the default image model's epoch table and progress bars.

    Returns
    -------
    dataset : :class:`~sklearn.utils.Bunch`
        - ``frame``: DataFrame, one row per sample, columns ``image_id``,
          ``defect_class``, ``defect_fraction_1`` .. ``defect_fraction_4``,
          ``intensity`` and the ten sensors, ordered as the source table
          (by image id);
        - ``data``: DataFrame of the ten sensor readings (and
          ``image_path`` with ``images=True``);
        - ``target``: Series, ``defect_class``;
        - ``attribution_prior``: DataFrame (classes 0-4 x sensors), the
          generator's ground-truth attribution, rows summing to 1;
        - ``feature_names``: list of the ten sensor names;
        - ``intensity_source``: str, where the fractions behind the
          intensity come from;
        - ``DESCR``: str, a description.

    Raises
    ------
    ValueError
        When the source has fewer images of a class than requested (the
        message says how many it has); when `fraction_model` is given with
        ``intensity="masks"``, is not an estimator with ``fit`` and
        ``predict``, or predicts anything but one finite fraction per image
        and class; when a class has fewer samples than `fraction_cv` folds.

    See Also
    --------
    sksteel.vision.DefectFractionRegressor : The image model of
        ``intensity="model"``.
    load_severstal : Read a Kaggle Severstal folder.

    Examples
    --------
    >>> import tempfile
    >>> from sksteel.datasets import make_steelnet_dataset
    >>> with tempfile.TemporaryDirectory() as cache:
    ...     data = make_steelnet_dataset(n_normal=60, n_per_class=10, data_home=cache)
    >>> data.frame.shape
    (100, 17)
    >>> data.target.value_counts().sort_index().tolist()
    [60, 10, 10, 10, 10]
    >>> data.attribution_prior.loc[2].idxmax()
    'surface_cleanliness'

    Intensity from an image model, here a tiny one trained for one epoch on
    a handful of images (the fractions it predicts mean little):

    >>> from sksteel.vision import DefectFractionRegressor
    >>> tiny = DefectFractionRegressor(
    ...     "resnet18", image_size=(32, 200), max_epochs=1, early_stopping=False,
    ...     random_state=0, verbose=0,
    ... )
    >>> with tempfile.TemporaryDirectory() as cache:
    ...     data = make_steelnet_dataset(
    ...         n_normal=4, n_per_class=2, intensity="model", fraction_model=tiny,
    ...         data_home=cache,
    ...     )
    >>> data.frame.shape
    (12, 17)
    >>> data.intensity_source.startswith("predicted by DefectFractionRegressor")
    True
    >>> data.frame.groupby("defect_class")["intensity"].max().gt(0).tolist()
    [False, True, True, True, True]
    """
    _check_fraction_source(
        intensity, fraction_model, fraction_cv, n_normal, n_per_class
    )
    rng = check_random_state(random_state)
    seeds = [int(seed) for seed in rng.randint(np.iinfo(np.int32).max, size=4)]
    surface_seed, sampler_seed, sensor_seed, model_seed = seeds
    fractions, inputs, fraction_text = _fraction_step(
        intensity,
        fraction_model=fraction_model,
        cv=fraction_cv,
        random_state=model_seed,
        verbose=verbose,
    )
    table, source_text = _source_table(
        source, n_normal, n_per_class, surface_seed, data_home,
        images=images or intensity == "model", verbose=verbose,
    )
    missing = [c for c in ("ImageId", *ENCODED_COLUMNS) if c not in table.columns]
    if missing:
        raise DataFormatError(
            f"The source table lacks the columns {missing!r}; expected a table as "
            "returned by load_severstal (ImageId, EncodedPixels_1 .. _4)."
        )

    labels = _assign_classes(RLEDecoder().fit_transform(table[list(ENCODED_COLUMNS)]))
    wanted = {0: n_normal, **dict.fromkeys(range(1, len(CLASS_NAMES)), n_per_class)}
    _check_available(labels, wanted)
    sampler = RandomUnderSampler(sampling_strategy=wanted, random_state=sampler_seed)
    sampler.fit_resample(np.arange(len(labels)).reshape(-1, 1), labels)
    chosen = np.sort(sampler.sample_indices_)

    samples = table.iloc[chosen].rename(columns={"ImageId": "image_id"})
    samples = samples.assign(defect_class=labels[chosen]).reset_index(drop=True)
    pipeline = _simulation_pipeline(fractions, inputs, sensor_seed)
    frame = pipeline.fit_transform(samples)
    frame = frame[
        ["image_id", "defect_class", *FRACTION_COLUMNS, "intensity", *SENSOR_NAMES]
    ]
    data_columns = list(SENSOR_NAMES)
    if images:  # the camera beside the sensors
        frame.insert(1, "image_path", samples["image_path"].to_numpy())
        data_columns.append("image_path")
    synthesizer = pipeline.named_steps["sensors"].named_transformers_["new"]

    composition = ", ".join(
        f"{int(n):,} {CLASS_NAMES[c]}" for c, n in sorted(wanted.items())
    )
    return Bunch(
        frame=frame,
        data=frame[data_columns],
        target=frame["defect_class"],
        attribution_prior=synthesizer.attribution_prior_,
        feature_names=list(SENSOR_NAMES),
        intensity_source=fraction_text,
        DESCR=_DESCR.format(
            n_rows=len(frame),
            composition=composition,
            source=source_text,
            fractions=fraction_text,
            weights=INTENSITY_WEIGHTS,
        ),
    )
