"""The one source of truth for sksteel's constants.

Sensor table, defect classes, column names and the paper's defaults live here
and nowhere else; every other module imports them. This module imports
nothing from sksteel so that any subpackage can depend on it.
"""

import pandas as pd

__all__ = [
    "CLASS_NAMES",
    "DEFECT_CLASSES",
    "ENCODED_COLUMNS",
    "FRACTION_COLUMNS",
    "IMAGE_SHAPE",
    "INTENSITY_WEIGHTS",
    "SENSORS",
    "SENSOR_NAMES",
    "TEMP_PREFIX",
]

#: Height and width of a Severstal image (and of every RLE mask), in pixels.
IMAGE_SHAPE = (256, 1600)

#: Defect classes, 0 = no defect (paper 1.1).
CLASS_NAMES = ("none", "crazing", "inclusion", "patches", "pitted")

#: The four defect classes carrying a mask, numbered as in Severstal.
DEFECT_CLASSES = (1, 2, 3, 4)

#: Per-class run-length encoding columns of a Severstal table.
ENCODED_COLUMNS = tuple(f"EncodedPixels_{c}" for c in DEFECT_CLASSES)

#: Per-class defect pixel fraction columns.
FRACTION_COLUMNS = tuple(f"defect_fraction_{c}" for c in DEFECT_CLASSES)

#: Intensity weights w_c of ``intensity = sum_c w_c * f_c`` (paper 2.1.1).
INTENSITY_WEIGHTS = (1.0, 1.5, 2.0, 1.2)

#: Start of the name of every temporary file sksteel writes beside an output;
#: a later run removes the ones a killed run left behind.
TEMP_PREFIX = ".sksteel-tmp-"

_SENSOR_ROWS = [
    # name, unit, normal low, normal high, failure probability (paper 2.2.2),
    # actionable, feasible low, feasible high (sksteel's choices, see the
    # data set card): a plant can set or restore every reading but the
    # ambient humidity; the feasible range holds every physically plausible
    # reading, wider than the normal range and than every class range.
    ("surface_cleanliness", "%", 95.0, 100.0, 0.15, True, 0.0, 100.0),
    ("ambient_humidity", "%", 40.0, 50.0, 0.10, False, 0.0, 100.0),
    ("spray_pressure", "bar", 2.5, 3.0, 0.20, True, 0.5, 6.0),
    ("coating_viscosity", "cP", 80.0, 100.0, 0.12, True, 40.0, 200.0),
    ("curing_temperature", "degC", 180.0, 200.0, 0.25, True, 100.0, 260.0),
    ("curing_time", "min", 20.0, 25.0, 0.08, True, 10.0, 40.0),
    ("water_jet_pressure", "bar", 180.0, 200.0, 0.20, True, 100.0, 250.0),
    ("water_flow_rate", "L/min", 100.0, 120.0, 0.18, True, 60.0, 160.0),
    ("vibration", "mm/s RMS", 2.0, 4.0, 0.30, True, 0.0, 15.0),
    ("drive_load", "kN", 10.0, 15.0, 0.12, True, 0.0, 30.0),
]

#: The ten process sensors, in the paper's order: unit, normal operating range
#: (``low``, ``high``), the probability that the sensor fails, whether a plant
#: can set or restore the reading (``actionable``) and the physical limits a
#: setpoint may take (``feasible_low``, ``feasible_high``).
SENSORS = pd.DataFrame(
    _SENSOR_ROWS,
    columns=[
        "name",
        "unit",
        "low",
        "high",
        "failure_probability",
        "actionable",
        "feasible_low",
        "feasible_high",
    ],
).set_index("name")

#: Sensor column names, in order.
SENSOR_NAMES = tuple(SENSORS.index)

