"""Pure torch modules of SteelNet (no scikit-learn, no pandas)."""

from ._embeddings import NumericEmbedding, SoftClip
from ._ensemble import MemberLinear, MemberScaling, average_member_probabilities
from ._loss import SteelNetLoss
from ._steelnet import (
    ParameterEncoder,
    PhysicsConstraint,
    SensorSelfAttention,
    SteelNet,
)

__all__ = [
    "MemberLinear",
    "MemberScaling",
    "NumericEmbedding",
    "ParameterEncoder",
    "PhysicsConstraint",
    "SensorSelfAttention",
    "SoftClip",
    "SteelNet",
    "SteelNetLoss",
    "average_member_probabilities",
]
