"""Data sets: the Severstal loader, the built-in synthetic surfaces and the
SteelNet multimodal data set, with the names of their classes and columns
and the sensors' failure rates."""

from .._schema import (
    CLASS_NAMES,
    DEFECT_CLASSES,
    ENCODED_COLUMNS,
    FRACTION_COLUMNS,
    IMAGE_SHAPE,
    SENSOR_NAMES,
    SENSORS,
)
from .._sensors import failure_rates
from ._base import get_data_home
from ._severstal import load_severstal
from ._steelnet import make_steelnet_dataset
from ._surfaces import make_steel_surfaces

__all__ = [
    "CLASS_NAMES",
    "DEFECT_CLASSES",
    "ENCODED_COLUMNS",
    "FRACTION_COLUMNS",
    "IMAGE_SHAPE",
    "SENSORS",
    "SENSOR_NAMES",
    "failure_rates",
    "get_data_home",
    "load_severstal",
    "make_steel_surfaces",
    "make_steelnet_dataset",
]
