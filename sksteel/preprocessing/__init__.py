"""sksteel.preprocessing."""

from ._intensity import IntensityScorer
from ._rle import rle_decode, rle_encode
from ._rle_decoder import RLEDecoder
from ._sensor_failure import SensorFailure
from ._synthesizer import ProcessParameterSynthesizer

__all__ = [
    "IntensityScorer",
    "ProcessParameterSynthesizer",
    "RLEDecoder",
    "SensorFailure",
    "rle_decode",
    "rle_encode",
]
