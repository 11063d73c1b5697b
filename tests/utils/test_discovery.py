"""Tests of sksteel.utils.all_estimators."""

import importlib
import inspect

import pytest
from sklearn.base import BaseEstimator

from sksteel.utils import all_estimators


def test_all_estimators_sorted_public_and_concrete():
    """Check that the estimators are sorted by name, exported publicly by
    their subpackage, and concrete BaseEstimator subclasses."""
    estimators = all_estimators()
    names = [name for name, _ in estimators]
    assert names == sorted(names) and len(set(names)) == len(names)
    assert {"SteelNetClassifier", "ModalityDropout", "RLEDecoder"} <= set(names)
    for name, cls in estimators:
        assert cls.__name__ == name
        assert issubclass(cls, BaseEstimator) and not inspect.isabstract(cls)
        subpackage = ".".join(cls.__module__.split(".")[:2])
        assert name in importlib.import_module(subpackage).__all__


def test_all_estimators_type_filter():
    """Check that a list of kinds returns the union of the single kinds."""
    samplers = all_estimators(type_filter="sampler")
    assert [name for name, _ in samplers] == ["ModalityDropout"]
    union = all_estimators(type_filter=["classifier", "sampler"])
    expected = sorted(all_estimators("classifier") + samplers)
    assert union == expected


def test_all_estimators_unknown_kind():
    """Check that an unknown kind names the kinds accepted."""
    with pytest.raises(ValueError, match="'cluster'.*'sampler'"):
        all_estimators(type_filter=["classifier", "cluster"])
