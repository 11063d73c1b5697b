"""save_model and load_model: skops files to share, joblib files for local use.

Both formats are zip archives with a small ``sksteel.json`` member recording
the format, its version and the versions of the libraries that wrote the
file. A skops file is skops's own archive (``skops.io.load`` can audit it); a
joblib file holds the joblib pickle as ``model.joblib``.

This module knows the file format only: what a model stores is up to the
model (sksteel's torch estimators keep their weights as numpy arrays in
``__getstate__``), and which types a skops file may hold is found by
discovering sksteel's own estimators.
"""

import json
import os
import pickle
import re
import warnings
import zipfile
import zlib
from pathlib import Path

import joblib
import sklearn
import skorch
import torch
from imblearn.pipeline import Pipeline as ImbalancedPipeline

from .. import __version__
from .._atomic import refuse_existing, write_atomically
from .._sklearn_compat import StrOptions, validate_params
from ..exceptions import ModelFileError, ModelVersionWarning, UntrustedModelError
from ..utils import all_estimators

__all__ = ["SKSTEEL_TRUSTED_TYPES", "load_model", "save_model"]


def _type_name(obj):
    """Fully qualified name of a type or function, as skops reports it."""
    return obj if isinstance(obj, str) else f"{obj.__module__}.{obj.__name__}"


#: Types a skops model file may contain beyond skops's own defaults (numpy,
#: scikit-learn's estimators, builtins), as fully qualified names: every
#: public sksteel estimator (found by :func:`sksteel.utils.all_estimators`)
#: and imbalanced-learn's ``Pipeline``. The estimators store only numpy
#: arrays and builtins, so no other type is needed. :func:`load_model`
#: trusts exactly these, plus its ``trusted`` argument.
SKSTEEL_TRUSTED_TYPES = tuple(
    sorted(_type_name(cls) for _, cls in all_estimators())
) + (_type_name(ImbalancedPipeline),)

_METADATA = "sksteel.json"
_JOBLIB_MEMBER = "model.joblib"
_SKOPS_SCHEMA = "schema.json"

#: Version of the file layout: what the estimators store and how. Files of
#: another version are refused (version 1, before sksteel's torch
#: estimators owned their saved state, recorded none).
FORMAT_VERSION = 2

#: Type name prefixes a skops file must not hold: skops cannot store torch
#: or skorch objects safely (they would be unpickled when loaded).
_UNSAFE_PREFIXES = ("torch.", "skorch.")

#: First bytes of a pickle (protocol 2 and later) and of joblib's compressed
#: pickles (zlib, gzip, bz2, xz, lzma, lz4).
_PICKLE_MAGIC = (
    b"\x80\x02",
    b"\x80\x03",
    b"\x80\x04",
    b"\x80\x05",
    b"ZF",
    b"\x78",
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ",
    b"]\x00\x00",
    b'\x04"M\x18',
)

#: What reading a damaged archive raises, from zipfile, zlib, json and skops.
_DAMAGE = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    KeyError,
    IndexError,
    ValueError,
    TypeError,
    AttributeError,
    RuntimeError,
)

#: Libraries whose major.minor version must match for a model file to load
#: without a warning.
_CHECKED_VERSIONS = ("sksteel", "scikit-learn", "skorch", "torch")


def _versions(format):
    versions = {
        "sksteel": __version__,
        "scikit-learn": sklearn.__version__,
        "skorch": skorch.__version__,
        "torch": torch.__version__,
    }
    if format == "skops":
        import skops

        versions["skops"] = skops.__version__
    else:
        versions["joblib"] = joblib.__version__
    return versions


def _write_skops(model, file):
    import skops.io

    try:
        data = skops.io.dumps(model)
    except Exception as error:  # skops's errors for what it cannot store vary
        raise TypeError(
            f"The model cannot be stored in the skops format ({error!r}). Save "
            "it with `format='joblib'` for local use."
        ) from error
    unsafe = [
        name
        for name in skops.io.get_untrusted_types(data=data)
        if name.startswith(_UNSAFE_PREFIXES)
    ]
    if unsafe:
        raise TypeError(
            f"The model holds torch or skorch objects ({unsafe[:3]!r}) that the "
            "skops format cannot store safely: sksteel's estimators store their "
            "networks as arrays, other objects cannot. Save the model with "
            "`format='joblib'` for local use."
        )
    file.write(data)


def _write_joblib(model, file):
    with (
        zipfile.ZipFile(file, "w") as archive,
        archive.open(_JOBLIB_MEMBER, "w", force_zip64=True) as member,
    ):
        joblib.dump(model, member)


@validate_params(
    {
        "model": "no_validation",
        "path": [str, os.PathLike],
        "format": [StrOptions({"skops", "joblib"})],
        "overwrite": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def save_model(model, path, *, format="skops", overwrite=False):
    """Save a model (an estimator or a whole pipeline) to a file.

    The file records the versions of sksteel, scikit-learn, skorch and torch
    that wrote it; :func:`load_model` warns when they differ from the
    running ones. It is written to a temporary file beside ``path`` and
    renamed, so ``path`` never holds a partly written model.

    Parameters
    ----------
    model : object
        The model, usually a fitted estimator or pipeline.
    path : str or path-like
        The file to write (``.skops`` or ``.joblib`` by convention). Its
        folder must exist.
    format : {"skops", "joblib"}, default="skops"
        ``"skops"``: a file to share. Loading it builds only audited types
        (:data:`SKSTEEL_TRUSTED_TYPES` and the ones the user passes) and
        never unpickles. sksteel's torch estimators store their weights as
        numpy arrays and rebuild their nets when loaded. ``"joblib"``: a
        pickle for local use; it stores any picklable object, and loading
        it runs code, so load only files you wrote yourself.
    overwrite : bool, default=False
        Whether to replace an existing file.

    Returns
    -------
    path : pathlib.Path
        The file written.

    Raises
    ------
    FileExistsError
        When ``path`` exists and ``overwrite`` is False.
    TypeError
        With ``format="skops"``, when the model holds a torch or skorch
        object outside sksteel's estimators; use ``format="joblib"``.

    See Also
    --------
    load_model : Load the model back.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> from sksteel.io import load_model, save_model
    >>> from sksteel.models import SteelNetClassifier
    >>> X, y = make_classification(n_samples=60, n_features=4, random_state=0)
    >>> clf = SteelNetClassifier(hidden_layer_sizes=(8,), d_token=4, max_epochs=1,
    ...                          random_state=0).fit(X, y)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = save_model(clf, Path(folder) / "steelnet.skops")
    ...     loaded = load_model(path)
    >>> bool(np.array_equal(loaded.predict_proba(X), clf.predict_proba(X)))
    True
    """
    path = Path(path)
    if not overwrite:
        refuse_existing(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(
            f"The folder {str(path.parent)!r} does not exist; create it before "
            "saving a model into it."
        )
    writer = _write_skops if format == "skops" else _write_joblib
    metadata = {
        "format": format,
        "format_version": FORMAT_VERSION,
        "versions": _versions(format),
    }

    def write(temporary):
        with open(temporary, "wb") as file:
            writer(model, file)
        with zipfile.ZipFile(temporary, "a") as archive:
            archive.writestr(_METADATA, json.dumps(metadata, indent=2))

    return write_atomically(path, write, overwrite=overwrite)


@validate_params(
    {
        "path": [str, os.PathLike],
        "trusted": [list, tuple, None],
        "allow_pickle": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def load_model(path, *, trusted=None, allow_pickle=False):
    """Load a model saved by :func:`save_model`.

    A skops file is audited before anything is built: every type it holds
    must be in :data:`SKSTEEL_TRUSTED_TYPES`, among skops's defaults (numpy,
    scikit-learn's estimators, builtins) or in ``trusted``; otherwise
    nothing is loaded. A joblib file is a pickle and loads only with
    ``allow_pickle=True``. A warning tells when the file was written with
    another major or minor version of sksteel, scikit-learn, skorch or
    torch.

    Parameters
    ----------
    path : str or path-like
        The model file.
    trusted : list of str or type, default=None
        Further types to trust in a skops file, by fully qualified name (as
        the error listing untrusted types spells them) or as the type
        itself. Inspect a file's types with
        ``skops.io.get_untrusted_types(file=path)`` before trusting them.
    allow_pickle : bool, default=False
        Whether to load a joblib (pickle) file, which runs code when loaded:
        only for files from a source you trust.

    Returns
    -------
    model : object
        The model, ready to predict.

    Raises
    ------
    UntrustedModelError
        When a skops file holds types that are not trusted, or the file is a
        pickle and ``allow_pickle`` is False.
    ModelFileError
        When the file is not a model file, or is damaged: not a zip archive
        (nor a pickle), truncated, missing an archive member, with malformed
        metadata, of an earlier format version, of an unknown kind, or with
        weights that disagree with its hyperparameters. The message names
        the file and the problem.

    See Also
    --------
    save_model : Save a model.

    Examples
    --------
    A function is a type skops does not trust by default:

    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from sksteel.exceptions import UntrustedModelError
    >>> from sksteel.io import load_model, save_model
    >>> model = FunctionTransformer(np.round).fit(np.zeros((2, 3)))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = save_model(model, Path(folder) / "model.skops")
    ...     try:
    ...         load_model(path)
    ...     except UntrustedModelError as error:
    ...         print("refused:", "'numpy.round'" in str(error))
    ...     loaded = load_model(path, trusted=["numpy.round"])
    refused: True
    >>> loaded.transform([[0.2, 1.7, 2.5]])
    array([[0., 2., 2.]])
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"There is no model file at {str(path)!r}.")
    if not zipfile.is_zipfile(path):
        return _load_pickle(path, allow_pickle)
    try:
        with zipfile.ZipFile(path) as archive:
            metadata = _read_metadata(archive, path)
    except zipfile.BadZipFile as error:
        raise _damaged(path, f"its zip directory cannot be read ({error})") from error
    _check_versions(metadata.get("versions"), path)
    if metadata["format"] == "skops":
        return _load_skops(path, trusted)
    if not allow_pickle:
        raise UntrustedModelError(
            f"{str(path)!r} is a joblib model file: a pickle, which runs code when "
            "loaded. If you trust its source, load it with `allow_pickle=True`; "
            "to share a model, save it with `format='skops'`."
        )
    try:
        with zipfile.ZipFile(path) as archive, archive.open(_JOBLIB_MEMBER) as member:
            return joblib.load(member)
    except ModelFileError as error:
        raise _inconsistent(path, error) from error
    except (*_DAMAGE, pickle.UnpicklingError) as error:
        raise _damaged(path, f"its pickle cannot be read ({error!r})") from error


def _inconsistent(path, error):
    """The error for a model file whose stored state an estimator refused."""
    return ModelFileError(
        f"The model file {str(path)!r} is inconsistent: {error} Save the model "
        "again from the fitted estimator, or copy the file again from its source."
    )


def _damaged(path, problem):
    """The error for a damaged or inconsistent model file."""
    return ModelFileError(
        f"The model file {str(path)!r} is damaged or inconsistent: {problem}. "
        "Save the model again from the fitted estimator, or copy the file again "
        "from its source."
    )


def _load_pickle(path, allow_pickle):
    """A plain joblib or pickle file (not written by save_model), or a
    damaged file."""
    with open(path, "rb") as file:
        start = file.read(8)
    if start.startswith(b"PK"):
        raise _damaged(
            path,
            "it starts as a zip archive but its end is missing or unreadable "
            "(a truncated file)",
        )
    if not start.startswith(_PICKLE_MAGIC):
        raise ModelFileError(
            f"{str(path)!r} is not a model file: it is not a zip archive written "
            "by `save_model`, nor a pickle. Check the path, or save the model "
            "with `save_model`."
        )
    if not allow_pickle:
        raise UntrustedModelError(
            f"{str(path)!r} is not a model file written by `save_model`: it looks "
            "like a joblib or pickle file. If it comes from a source you trust, "
            "load it with `allow_pickle=True`: loading it runs code."
        )
    return joblib.load(path)


def _read_metadata(archive, path):
    """The ``sksteel.json`` record, or a skops file's implied one."""
    names = set(archive.namelist())
    if _METADATA not in names:
        if _SKOPS_SCHEMA in names:
            # A skops file written by skops itself: no versions to check.
            return {"format": "skops"}
        raise ModelFileError(
            f"{str(path)!r} is a zip archive but not a model file: it has neither "
            f"{_METADATA!r} (written by `save_model`) nor skops's "
            f"{_SKOPS_SCHEMA!r}. Save the model with `save_model`."
        )
    try:
        metadata = json.loads(archive.read(_METADATA))
        model_format = metadata["format"]
        versions = metadata.get("versions", {})
        well_formed = isinstance(versions, dict) and all(
            isinstance(value, str) for value in versions.values()
        )
    except (*_DAMAGE, AttributeError) as error:
        raise _damaged(
            path, f"its {_METADATA!r} record is malformed ({error!r})"
        ) from error
    if not well_formed:
        raise _damaged(path, f"the versions of its {_METADATA!r} record are malformed")
    required = _SKOPS_SCHEMA if model_format == "skops" else _JOBLIB_MEMBER
    if model_format in ("skops", "joblib") and required not in names:
        raise _damaged(path, f"its archive member {required!r} is missing")
    if model_format not in ("skops", "joblib"):
        raise ModelFileError(
            f"{str(path)!r} holds a model of format {model_format!r}, which this "
            f"version of sksteel ({__version__}) does not know; it reads 'skops' "
            "and 'joblib' files. Upgrade sksteel, or save the model again."
        )
    format_version = metadata.get("format_version", 1)
    if format_version != FORMAT_VERSION:
        raise ModelFileError(
            f"{str(path)!r} was written in version {format_version!r} of sksteel's "
            f"model file format; this version of sksteel ({__version__}) reads "
            f"version {FORMAT_VERSION} only. Fit the model again and save it with "
            "this version, or load the file with the sksteel version that wrote it."
        )
    return metadata


def _major_minor(version):
    match = re.match(r"(\d+)\.(\d+)", str(version))
    return match.groups() if match else str(version)


def _check_versions(recorded, path):
    """Warn when the file's major.minor versions differ from the running ones."""
    if not recorded:
        return
    running = _versions("skops")
    differing = [
        f"{name} {recorded[name]} (running {running[name]})"
        for name in _CHECKED_VERSIONS
        if name in recorded
        and _major_minor(recorded[name]) != _major_minor(running[name])
    ]
    if differing:
        warnings.warn(
            f"The model file {str(path)!r} was written with {', '.join(differing)}. "
            "It may fail to load or predict differently; load it with the "
            "versions it records, or retrain and save the model again.",
            ModelVersionWarning,
            # Past load_model and its parameter validation, to the caller.
            stacklevel=4,
        )


def _load_skops(path, trusted):
    """Audit the file's types, then build the model (its estimators rebuild
    their nets from the stored arrays)."""
    import skops.io

    allowed = [*SKSTEEL_TRUSTED_TYPES, *map(_type_name, trusted or ())]
    try:
        found = skops.io.get_untrusted_types(file=path)
    except _DAMAGE as error:
        raise _damaged(path, f"its skops schema cannot be read ({error!r})") from error
    refused = [name for name in found if name not in allowed]
    if refused:
        raise UntrustedModelError(
            f"The model file {str(path)!r} contains types that sksteel does not "
            f"trust: {refused!r}. Loading a type runs its code. Inspect them "
            "first (`skops.io.get_untrusted_types(file=path)` lists them, "
            "`skops.io.visualize(path)` shows where they sit in the model); if you "
            f"trust them, pass them on: `load_model(path, trusted={refused!r})`."
        )
    try:
        return skops.io.load(path, trusted=allowed)
    except ModelFileError as error:
        raise _inconsistent(path, error) from error
    except _DAMAGE as error:
        raise _damaged(path, f"its content cannot be read ({error!r})") from error
