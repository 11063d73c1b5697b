"""Pure torch modules of SteelNet (no scikit-learn, no pandas)."""

from ._loss import SteelNetLoss
from ._steelnet import (
    ParameterEncoder,
    PhysicsConstraint,
    SensorSelfAttention,
    SteelNet,
)

__all__ = [
    "ParameterEncoder",
    "PhysicsConstraint",
    "SensorSelfAttention",
    "SteelNet",
    "SteelNetLoss",
]
