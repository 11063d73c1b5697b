"""The SteelNet module and its parts (paper 2.2), in plain torch.

Every module here takes standardised sensor readings as a float tensor of
shape ``(n_samples, d_in)`` in which a failed reading is ``NaN``. The NaN is
turned into two things at the top of :class:`SteelNet`: the value ``0`` (the
training mean after standardisation) and a boolean ``missing`` mask. Every
part receives both, so a failed sensor is never confused with a real reading
that happens to equal the mean.
"""

import math
from collections import OrderedDict

import torch
from torch import nn

from ._embeddings import NumericEmbedding, SoftClip
from ._ensemble import MemberLinear, MemberScaling, average_member_probabilities

__all__ = [
    "ParameterEncoder",
    "PhysicsConstraint",
    "SensorSelfAttention",
    "SteelNet",
]


class ParameterEncoder(nn.Module):
    """Fully connected encoder of the sensor readings (paper eqs 2-4).

    ``h_1 = ReLU(BN(Linear(x) + E m))``, then for every further width
    ``h_k = ReLU(BN(Linear(Dropout(h_{k-1}))))``. ``m`` is the 0/1 missing
    mask and ``E`` a learned missing embedding: each failed sensor moves the
    first layer by its own vector, so a missing reading and a reading equal
    to the mean land in different places.

    Parameters
    ----------
    d_in : int
        Number of sensors.
    d_layers : sequence of int, default=(256, 256, 128)
        Widths of the layers; the last one is the size of ``z``.
    dropout : float, default=0.1
        Dropout probability before every layer but the first.
    d_values : int, default=None
        Width of ``values`` when it is not ``d_in`` (the flattened numeric
        embeddings of the features); None means ``d_in``.

    Shape
    -----
    - values: ``(n_samples, d_values)``, NaN already replaced by 0.
    - missing: ``(n_samples, d_in)``, bool.
    - output: ``(n_samples, d_layers[-1])``.

    Examples
    --------
    >>> import torch
    >>> from sksteel.nn import ParameterEncoder
    >>> encoder = ParameterEncoder(d_in=10, d_layers=(32, 16))
    >>> values, missing = torch.randn(4, 10), torch.zeros(4, 10, dtype=torch.bool)
    >>> encoder(values, missing).shape
    torch.Size([4, 16])
    """

    def __init__(self, *, d_in, d_layers=(256, 256, 128), dropout=0.1, d_values=None):
        super().__init__()
        d_first, *d_rest = d_layers
        self.input = nn.Linear(d_in if d_values is None else d_values, d_first)
        self.missing_embedding = nn.Linear(d_in, d_first, bias=False)
        self.input_block = nn.Sequential(
            OrderedDict(norm=nn.BatchNorm1d(d_first), activation=nn.ReLU())
        )
        blocks = []
        for d_prev, d_next in zip(d_layers[:-1], d_rest):
            blocks.append(
                nn.Sequential(
                    OrderedDict(
                        dropout=nn.Dropout(dropout),
                        linear=nn.Linear(d_prev, d_next),
                        norm=nn.BatchNorm1d(d_next),
                        activation=nn.ReLU(),
                    )
                )
            )
        self.blocks = nn.Sequential(*blocks)

    def forward(self, values, missing):
        h = self.input(values) + self.missing_embedding(missing.type_as(values))
        return self.blocks(self.input_block(h))


class SensorSelfAttention(nn.Module):
    """Multi-head self-attention across per-sensor tokens.

    Each sensor ``j`` gets its own token ``t_j = x_j * w_j + b_j`` (its own
    value embedding ``w_j`` and identity ``b_j``), or a learned missing token
    when its reading failed. Multi-head attention mixes the tokens (residual
    and layer norm), their mean is projected to the size of ``z``.

    Parameters
    ----------
    d_in : int
        Number of sensors (tokens).
    d_token : int, default=32
        Size of a sensor token; must be divisible by ``n_heads``.
    n_heads : int, default=4
        Number of attention heads.
    d_out : int, default=128
        Size of the output (the size of ``z``).
    dropout : float, default=0.1
        Dropout on the attention weights.

    Shape
    -----
    - values: ``(n_samples, d_in)``, NaN already replaced by 0.
    - missing: ``(n_samples, d_in)``, bool.
    - output: ``(n_samples, d_out)``.

    Examples
    --------
    >>> import torch
    >>> from sksteel.nn import SensorSelfAttention
    >>> attention = SensorSelfAttention(d_in=10, d_token=8, n_heads=2, d_out=16)
    >>> values, missing = torch.randn(4, 10), torch.zeros(4, 10, dtype=torch.bool)
    >>> attention(values, missing).shape
    torch.Size([4, 16])
    """

    def __init__(self, *, d_in, d_token=32, n_heads=4, d_out=128, dropout=0.1):
        super().__init__()
        if d_token % n_heads:
            raise ValueError(
                f"d_token={d_token!r} must be divisible by n_heads={n_heads!r}; "
                "change one of them."
            )
        bound = 1.0 / math.sqrt(d_token)
        self.value_embedding = nn.Parameter(torch.empty(d_in, d_token))
        self.sensor_embedding = nn.Parameter(torch.empty(d_in, d_token))
        self.missing_token = nn.Parameter(torch.empty(d_in, d_token))
        for parameter in (
            self.value_embedding,
            self.sensor_embedding,
            self.missing_token,
        ):
            nn.init.uniform_(parameter, -bound, bound)
        self.attention = nn.MultiheadAttention(
            d_token, n_heads, dropout=dropout, batch_first=True
        )
        self.norm = nn.LayerNorm(d_token)
        self.output = nn.Linear(d_token, d_out)

    def forward(self, values, missing):
        tokens = values.unsqueeze(-1) * self.value_embedding + self.sensor_embedding
        tokens = torch.where(missing.unsqueeze(-1), self.missing_token, tokens)
        attended, _ = self.attention(tokens, tokens, tokens, need_weights=False)
        tokens = self.norm(tokens + attended)
        return self.output(tokens.mean(dim=1))


class PhysicsConstraint(nn.Module):
    """Encode each sensor's signed deviation from its normal operating range.

    ``dev_j = max(x_j - high_j, 0) - max(low_j - x_j, 0)``: zero inside the
    range, positive above it, negative below it, and zero for a missing
    reading. A linear layer maps the deviations to the size of ``z``.

    Parameters
    ----------
    d_in : int
        Number of sensors.
    d_out : int, default=128
        Size of the output.
    operating_ranges : torch.Tensor of shape (d_in, 2), default=None
        ``(low, high)`` per sensor, in the units of the module's input (the
        estimator passes the ranges standardised like the readings). None
        means ``(-1, 1)``: one standard deviation around the mean.

    Shape
    -----
    - values: ``(n_samples, d_in)``, NaN already replaced by 0.
    - missing: ``(n_samples, d_in)``, bool.
    - output: ``(n_samples, d_out)``.

    Examples
    --------
    >>> import torch
    >>> from sksteel.nn import PhysicsConstraint
    >>> physics = PhysicsConstraint(d_in=2, d_out=3)
    >>> values = torch.tensor([[0.5, 3.0], [-2.0, 0.0]])
    >>> physics.deviation(values, torch.zeros(2, 2, dtype=torch.bool))
    tensor([[ 0.,  2.],
            [-1.,  0.]])
    """

    def __init__(self, *, d_in, d_out=128, operating_ranges=None):
        super().__init__()
        if operating_ranges is None:
            operating_ranges = torch.tensor([[-1.0, 1.0]]).expand(d_in, 2)
        self.register_buffer("low", operating_ranges[:, 0].clone())
        self.register_buffer("high", operating_ranges[:, 1].clone())
        self.linear = nn.Linear(d_in, d_out)

    def deviation(self, values, missing):
        """Signed distance of each reading to its normal range (0 inside)."""
        above = torch.relu(values - self.high)
        below = torch.relu(self.low - values)
        return (above - below).masked_fill(missing, 0.0)

    def forward(self, values, missing):
        return self.linear(self.deviation(values, missing))


class SteelNet(nn.Module):
    """Multi-task network: defect class, intensity and sensor attribution.

    ``z_final = z + z_att + physics_scale * physics(x)``, where ``z`` comes
    from the :class:`ParameterEncoder`, ``z_att`` from the
    :class:`SensorSelfAttention` over per-sensor tokens and ``physics`` from
    the :class:`PhysicsConstraint`. Three linear heads read ``z_final``:
    class logits, the intensity and the attribution (a softmax over the
    sensors).

    During training, ``missing_rates`` (if given) drops readings at random in
    every batch (paper eq 5): each reading becomes NaN with its sensor's
    probability, exactly like a failed sensor.

    Parameters
    ----------
    d_in : int
        Number of sensors.
    n_classes : int
        Number of classes.
    d_layers : sequence of int, default=(256, 256, 128)
        Widths of the encoder; the last one is the size of ``z``.
    dropout : float, default=0.1
        Dropout in the encoder and on the attention weights.
    d_token : int, default=32
        Size of a sensor token in the attention branch.
    n_heads : int, default=4
        Number of attention heads.
    use_attention : bool, default=True
        Whether to add ``z_att`` (False for the "w/o self-attention" ablation).
    use_physics : bool, default=True
        Whether to add the physics branch (False for the "w/o physics
        constraints" ablation).
    physics_scale : float, default=0.1
        Weight of the physics branch in ``z_final``.
    operating_ranges : torch.Tensor of shape (d_in, 2), default=None
        Normal ``(low, high)`` per sensor, see :class:`PhysicsConstraint`.
    missing_rates : torch.Tensor of shape (d_in,), default=None
        Per-sensor probability of dropping a reading during training; None
        or zeros switch modality dropout off.
    d_embedding : int, default=None
        Size of a :class:`NumericEmbedding` (periodic) of every reading,
        fed to the encoder instead of the raw readings; None (the paper)
        feeds the readings themselves.
    n_members : int, default=1
        Members of a TabM-mini ensemble (:class:`MemberScaling` of the
        encoder's input, one :class:`MemberLinear` class head per member);
        1 (the paper) is a single network.
    soft_clip : float, default=None
        Bound of a :class:`SoftClip` applied to the readings entering the
        encoder and the attention (the physics branch sees them unclipped);
        None switches it off.
    temperature : float, default=1.0
        Divides the class logits at evaluation (temperature scaling).

    Shape
    -----
    - x: ``(n_samples, d_in)``, NaN where a reading is missing.
    - output: a tuple ``(logits, intensity, attribution)`` of shapes
      ``(n_samples, n_classes)``, ``(n_samples,)`` and ``(n_samples, d_in)``;
      every attribution row sums to 1. With ``n_members > 1``, the logits
      are ``(n_samples, n_members, n_classes)`` in training mode (one row
      per member, for the mean of their losses) and, in evaluation mode,
      the log of the members' mean probability.

    Examples
    --------
    >>> import torch
    >>> from sksteel.nn import SteelNet
    >>> net = SteelNet(d_in=10, n_classes=5, d_layers=(32, 16), d_token=8)
    >>> x = torch.randn(4, 10)
    >>> x[0, 3] = float("nan")
    >>> logits, intensity, attribution = net(x)
    >>> logits.shape, intensity.shape, attribution.shape
    (torch.Size([4, 5]), torch.Size([4]), torch.Size([4, 10]))
    >>> attribution.sum(dim=1)
    tensor([1.0000, 1.0000, 1.0000, 1.0000], grad_fn=<SumBackward1>)
    """

    def __init__(
        self,
        *,
        d_in,
        n_classes,
        d_layers=(256, 256, 128),
        dropout=0.1,
        d_token=32,
        n_heads=4,
        use_attention=True,
        use_physics=True,
        physics_scale=0.1,
        operating_ranges=None,
        missing_rates=None,
        d_embedding=None,
        n_members=1,
        soft_clip=None,
        temperature=1.0,
    ):
        super().__init__()
        d_z = d_layers[-1]
        d_values = d_in if d_embedding is None else d_in * d_embedding
        self.encoder = ParameterEncoder(
            d_in=d_in, d_layers=d_layers, dropout=dropout, d_values=d_values
        )
        self.attention = (
            SensorSelfAttention(
                d_in=d_in, d_token=d_token, n_heads=n_heads, d_out=d_z, dropout=dropout
            )
            if use_attention
            else None
        )
        self.physics = (
            PhysicsConstraint(d_in=d_in, d_out=d_z, operating_ranges=operating_ranges)
            if use_physics
            else None
        )
        self.physics_scale = physics_scale
        self.class_head = (
            nn.Linear(d_z, n_classes)
            if n_members == 1
            else MemberLinear(n_members=n_members, d_in=d_z, d_out=n_classes)
        )
        self.intensity_head = nn.Linear(d_z, 1)
        self.attribution_head = nn.Linear(d_z, d_in)
        self.register_buffer("missing_rates", missing_rates)
        # Built last, so the paper's network (none of them) draws the same
        # initial weights as before they existed.
        self.embedding = (
            None
            if d_embedding is None
            else NumericEmbedding(d_in=d_in, d_embedding=d_embedding)
        )
        self.member_scaling = (
            None
            if n_members == 1
            else MemberScaling(n_members=n_members, d_in=d_values)
        )
        self.soft_clip = None if soft_clip is None else SoftClip(bound=soft_clip)
        self.n_members = n_members
        self.temperature = temperature

    def drop_readings(self, x):
        """Set each reading to NaN with its sensor's ``missing_rates``."""
        dropped = torch.rand_like(x) < self.missing_rates
        return x.masked_fill(dropped, float("nan"))

    def forward(self, x):
        return self.heads(self.embed(x))

    def embed(self, x):
        """``z_final`` of the readings (after modality dropout in training)."""
        if self.training and self.missing_rates is not None:
            x = self.drop_readings(x)
        missing = torch.isnan(x)
        values = x.masked_fill(missing, 0.0)
        inputs = values if self.soft_clip is None else self.soft_clip(values)
        z = self._encode(inputs, missing)
        if self.attention is not None:
            z = z + self._per_member(self.attention(inputs, missing))
        if self.physics is not None:
            physics = self.physics(values, missing)
            z = z + self.physics_scale * self._per_member(physics)
        return z

    def heads(self, z):
        """``(logits, intensity, attribution)`` from ``z_final``."""
        # The attribution head first: the order of the heads sets the order
        # in which backward sums their gradients into z, so changing it moves
        # every trained weight by rounding (and can move early stopping).
        attribution = torch.softmax(self.attribution_head(z), dim=-1)
        logits = self.class_head(z)
        intensity = self.intensity_head(z).squeeze(-1)
        if self.n_members > 1:
            intensity, attribution = intensity.mean(dim=1), attribution.mean(dim=1)
            if not self.training:
                logits = average_member_probabilities(logits, self.temperature)
        elif not self.training and self.temperature != 1.0:
            logits = logits / self.temperature
        return logits, intensity, attribution

    def _encode(self, inputs, missing):
        """``z`` of shape ``(n, d_z)``, or ``(n, n_members, d_z)``."""
        features = inputs
        if self.embedding is not None:
            features = self.embedding(inputs, missing).flatten(1)
        if self.member_scaling is None:
            return self.encoder(features, missing)
        n_samples, n_members = len(features), self.n_members
        scaled = self.member_scaling(features).flatten(0, 1)
        member_missing = missing.repeat_interleave(n_members, dim=0)
        z = self.encoder(scaled, member_missing)
        return z.unflatten(0, (n_samples, n_members))

    def _per_member(self, branch):
        """A branch's ``(n, d_z)`` output, shaped to add to ``z``."""
        return branch if self.n_members == 1 else branch.unsqueeze(1)
