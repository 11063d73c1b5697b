"""Data sets: the Severstal loader, the built-in synthetic surfaces and the
SteelNet multimodal data set."""

from .._schema import SENSORS
from ._base import get_data_home

__all__ = ["SENSORS", "get_data_home"]
