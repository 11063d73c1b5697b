"""Utilities for developers and for code that handles any sksteel estimator."""

from ._discovery import all_estimators

__all__ = ["all_estimators"]
