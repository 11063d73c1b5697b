"""Utilities for developers and for code that handles any sksteel estimator."""

from ._discovery import all_estimators
from ._threads import single_threaded

__all__ = ["all_estimators", "single_threaded"]
