"""Data sets: the Severstal loader, the built-in synthetic surfaces and the
SteelNet multimodal data set."""

from .._schema import SENSORS
from ._base import get_data_home
from ._severstal import load_severstal
from ._steelnet import make_steelnet_dataset
from ._surfaces import make_steel_surfaces

__all__ = [
    "SENSORS",
    "get_data_home",
    "load_severstal",
    "make_steel_surfaces",
    "make_steelnet_dataset",
]
