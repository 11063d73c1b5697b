"""The scikit-learn internals sksteel builds on, imported in one place.

sksteel's estimators declare their parameters the way scikit-learn's own do
(``_parameter_constraints`` with :class:`Interval`, :class:`StrOptions`,
:class:`HasMethods`, checked by ``_fit_context`` and
``validate_params``), and name their output features with
``_check_feature_names_in``. scikit-learn keeps these in private modules
and gives no public home for them (``sklearn-compat``, the compatibility
layer of imbalanced-learn, covers ``validate_params`` but not the
constraint classes), so they may move between releases. They are imported
here only, and ``pyproject.toml`` bounds scikit-learn to the tested range;
``make test-lowest`` tests the lowest supported release. A release that
moves them needs a change here, nowhere else.

Examples
--------
>>> from sksteel._sklearn_compat import Interval
>>> from numbers import Real
>>> 0.5 in Interval(Real, 0, 1, closed="both")
True
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    InvalidParameterError,
    StrOptions,
    validate_params,
)
from sklearn.utils.validation import _check_feature_names_in

__all__ = [
    "HasMethods",
    "Interval",
    "InvalidParameterError",
    "StrOptions",
    "_check_feature_names_in",
    "_fit_context",
    "validate_params",
]
