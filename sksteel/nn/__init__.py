"""Pure torch modules of SteelNet (no scikit-learn, no pandas)."""

from ._embeddings import NumericEmbedding, SoftClip
from ._ensemble import MemberLinear, MemberScaling, average_member_probabilities
from ._image import (
    ImageBranch,
    MultimodalSteelNet,
    MultimodalSteelNetLoss,
    ScratchImageEncoder,
    info_nce,
)
from ._loss import SteelNetLoss
from ._steelnet import (
    ParameterEncoder,
    PhysicsConstraint,
    SensorSelfAttention,
    SteelNet,
)

__all__ = [
    "ImageBranch",
    "MemberLinear",
    "MemberScaling",
    "MultimodalSteelNet",
    "MultimodalSteelNetLoss",
    "NumericEmbedding",
    "ParameterEncoder",
    "PhysicsConstraint",
    "ScratchImageEncoder",
    "SensorSelfAttention",
    "SoftClip",
    "SteelNet",
    "SteelNetLoss",
    "average_member_probabilities",
    "info_nce",
]
