"""The SteelNet multimodal data set (paper 2.1): images, defect class and
intensity, and ten synthetic process-sensor readings."""

import math
import os
from numbers import Integral
from pathlib import Path

import numpy as np
import pandas as pd
from imblearn.under_sampling import RandomUnderSampler
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.pipeline import Pipeline
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Interval, validate_params

from .._schema import (
    CLASS_NAMES,
    ENCODED_COLUMNS,
    FRACTION_COLUMNS,
    INTENSITY_WEIGHTS,
    SENSOR_NAMES,
)
from ..exceptions import DataFormatError
from ..preprocessing import IntensityScorer, ProcessParameterSynthesizer, RLEDecoder
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
1 crazing, 2 inclusion, 3 patches, 4 pitted; an image with several classes
takes the one with the largest weighted defect area); ``defect_fraction_1`` ..
``defect_fraction_4`` (pixel fraction of each class, from the masks);
``intensity`` (``sum_c w_c f_c`` with w = {weights}, normalised by
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


def _fraction_step(intensity):
    """The transformer giving the per-class fractions behind the intensity,
    and the input columns it reads.

    ``"masks"``: the fractions of the annotated masks. This is the one place
    to plug in an image model predicting the fractions instead.
    """
    if intensity == "masks":
        return RLEDecoder(), list(ENCODED_COLUMNS)
    raise ValueError(
        f"`intensity` must be 'masks' (intensity from the annotated masks); got "
        f"{intensity!r}. Intensities predicted by an image model are not "
        "available yet."
    )


def _appending(transformer, columns):
    """A step that keeps every input column and appends ``transformer``'s
    output on ``columns``."""
    everything = make_column_selector()
    return ColumnTransformer(
        [("keep", "passthrough", everything), ("new", transformer, columns)],
        verbose_feature_names_out=False,
    )


def _simulation_pipeline(intensity, random_state):
    """fractions -> IntensityScorer -> ProcessParameterSynthesizer, keeping
    ``image_id`` and ``defect_class`` along."""
    fractions, inputs = _fraction_step(intensity)
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


def _source_table(source, n_normal, n_per_class, random_state, data_home):
    """The Severstal-format table (one row per image) and its description."""
    if source is None:
        n_free = n_normal + math.ceil(_SPARE_NORMAL * n_normal) + 10
        n_defective = math.ceil(_SPARE_DEFECTIVE * n_per_class * len(ENCODED_COLUMNS))
        n_defective = max(n_defective, 4 * len(ENCODED_COLUMNS))
        root = make_steel_surfaces(
            n_free + n_defective,
            defect_free_fraction=n_free / (n_free + n_defective),
            data_home=data_home,
            render=False,
            random_state=random_state,
        )
        table = load_severstal(root, missing_images="ignore").frame
        return table, f"built-in synthetic surfaces ({len(table):,} images, {root})"
    if isinstance(source, pd.DataFrame):
        return source, f"a table of {len(source):,} images"
    path = Path(source)
    if path.is_dir():
        table = load_severstal(path, missing_images="warn").frame
    else:
        table = load_severstal(train_csv=path, missing_images="warn").frame
    return table, f"{path} ({len(table):,} images)"


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
        "intensity": [str],
        "data_home": [None, str, os.PathLike],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_steelnet_dataset(
    source=None,
    *,
    n_normal=5902,
    n_per_class=200,
    intensity="masks",
    data_home=None,
    random_state=0,
):
    """Build the SteelNet multimodal data set (paper 2.1).

    1. Take a Severstal-format table: the built-in synthetic surfaces
       (:func:`make_steel_surfaces`, masks only, no JPEG rendered) or yours.
    2. Give each image one class: 0 when defect-free, otherwise the class
       with the largest weighted defect area ``w_c * f_c`` (w = 1.0, 1.5,
       2.0, 1.2, the intensity weights), the lower class on a tie.
    3. Draw ``n_normal`` defect-free images and ``n_per_class`` of each
       defect class with imbalanced-learn's
       :class:`~imblearn.under_sampling.RandomUnderSampler`.
    4. Run the simulation pipeline, an sklearn
       :class:`~sklearn.pipeline.Pipeline`: per-class fractions
       (:class:`~sksteel.preprocessing.RLEDecoder`) ->
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
        ``load_severstal(...).frame``.
    n_normal : int, default=5902
        Number of defect-free samples.
    n_per_class : int, default=200
        Number of samples of each defect class.
    intensity : {"masks"}, default="masks"
        Where the fractions behind the intensity come from: ``"masks"``, the
        annotated masks.
    data_home : str or path-like, default=None
        Cache folder of the built-in surfaces (see :func:`get_data_home`);
        unused with another ``source``.
    random_state : int, RandomState instance or None, default=0
        Seeds the surfaces, the sampling and the sensor readings.

    Returns
    -------
    dataset : :class:`~sklearn.utils.Bunch`
        - ``frame``: DataFrame, one row per sample, columns ``image_id``,
          ``defect_class``, ``defect_fraction_1`` .. ``defect_fraction_4``,
          ``intensity`` and the ten sensors, ordered as the source table
          (by image id);
        - ``data``: DataFrame of the ten sensor readings;
        - ``target``: Series, ``defect_class``;
        - ``attribution_prior``: DataFrame (classes 0-4 x sensors), the
          generator's ground-truth attribution, rows summing to 1;
        - ``feature_names``: list of the ten sensor names;
        - ``DESCR``: str, a description.

    Raises
    ------
    ValueError
        When the source has fewer images of a class than requested (the
        message says how many it has), or ``intensity`` is not ``"masks"``.

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
    """
    rng = check_random_state(random_state)
    seeds = [int(seed) for seed in rng.randint(np.iinfo(np.int32).max, size=3)]
    surface_seed, sampler_seed, sensor_seed = seeds
    _fraction_step(intensity)  # refuse an unknown source of fractions early
    table, source_text = _source_table(
        source, n_normal, n_per_class, surface_seed, data_home
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
    pipeline = _simulation_pipeline(intensity, sensor_seed)
    frame = pipeline.fit_transform(samples)
    frame = frame[
        ["image_id", "defect_class", *FRACTION_COLUMNS, "intensity", *SENSOR_NAMES]
    ]
    synthesizer = pipeline.named_steps["sensors"].named_transformers_["new"]

    composition = ", ".join(
        f"{int(n):,} {CLASS_NAMES[c]}" for c, n in sorted(wanted.items())
    )
    return Bunch(
        frame=frame,
        data=frame[list(SENSOR_NAMES)],
        target=frame["defect_class"],
        attribution_prior=synthesizer.attribution_prior_,
        feature_names=list(SENSOR_NAMES),
        DESCR=_DESCR.format(
            n_rows=len(frame),
            composition=composition,
            source=source_text,
            weights=INTENSITY_WEIGHTS,
        ),
    )
