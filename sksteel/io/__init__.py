"""Saving and loading fitted models: skops files to share, joblib files for
local use, both recording the versions that wrote them; reading plant tables
from CSV files."""

from ._csv import read_table_csv
from ._persistence import SKSTEEL_TRUSTED_TYPES, load_model, save_model

__all__ = ["SKSTEEL_TRUSTED_TYPES", "load_model", "read_table_csv", "save_model"]
