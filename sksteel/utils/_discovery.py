"""Discovery of sksteel's public estimators, as ``sklearn.utils.all_estimators``."""

import importlib
import inspect
import pkgutil

from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
    TransformerMixin,
)

#: Subpackages that hold no estimators and are not imported by the walk:
#: ``experiments`` only re-exports estimators built elsewhere.
_SKIPPED = frozenset({"experiments", "utils"})

_TYPE_FILTERS = ("classifier", "regressor", "transformer", "sampler")


def _is_sampler(cls):
    return callable(getattr(cls, "fit_resample", None))


_MATCHES = {
    "classifier": lambda cls: issubclass(cls, ClassifierMixin),
    "regressor": lambda cls: issubclass(cls, RegressorMixin),
    "transformer": lambda cls: issubclass(cls, TransformerMixin),
    "sampler": _is_sampler,
}


def all_estimators(type_filter=None):
    """The public estimators of sksteel, by name.

    Walks sksteel's public subpackages and collects the classes they export
    in ``__all__`` that derive from :class:`sklearn.base.BaseEstimator` and
    are not abstract, as :func:`sklearn.utils.all_estimators` does for
    scikit-learn.

    Parameters
    ----------
    type_filter : {"classifier", "regressor", "transformer", "sampler"} or \
list of those, default=None
        Which kinds of estimators to return. ``None`` returns every
        estimator; a list returns those of any listed kind. A sampler is an
        estimator with a ``fit_resample`` method, as in imbalanced-learn.

    Returns
    -------
    estimators : list of (str, type) tuples
        The class names and the classes, sorted by name.

    Raises
    ------
    ValueError
        If ``type_filter`` names an unknown kind.

    Examples
    --------
    >>> from sksteel.utils import all_estimators
    >>> [name for name, _ in all_estimators(type_filter="sampler")]
    ['ModalityDropout']
    >>> [name for name, _ in all_estimators(type_filter=["classifier", "regressor"])]
    ['DefectFractionRegressor', 'SteelNetClassifier']
    """
    if type_filter is None:
        kinds = []
    else:
        kinds = [type_filter] if isinstance(type_filter, str) else list(type_filter)
    unknown = [kind for kind in kinds if kind not in _TYPE_FILTERS]
    if unknown:
        raise ValueError(
            f"type_filter got unknown kinds {unknown}; use None or any of "
            f"{list(_TYPE_FILTERS)}."
        )
    import sksteel

    found = {}
    for module_info in pkgutil.iter_modules(sksteel.__path__):
        name = module_info.name
        if not module_info.ispkg or name.startswith("_") or name in _SKIPPED:
            continue
        module = importlib.import_module(f"sksteel.{name}")
        for public in getattr(module, "__all__", ()):
            obj = getattr(module, public)
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseEstimator)
                and not inspect.isabstract(obj)
                and obj.__module__.startswith("sksteel.")
            ):
                found[obj.__name__] = obj
    estimators = sorted(found.items())
    if kinds:
        estimators = [
            (name, cls)
            for name, cls in estimators
            if any(_MATCHES[kind](cls) for kind in kinds)
        ]
    return estimators
