"""The image branch of multimodal SteelNet: a surface-image embedding fused
with the sensor embedding, a learned token for a missing image, and the
cross-modal alignment loss.

The image reaches the network as a tensor ``image`` (grey pixels for an
encoder trained from scratch, or pooled features of a frozen encoder) and a
boolean ``image_present``. A row whose image is missing gets the learned
``missing_token`` in place of its embedding, never the embedding of a black
image.
"""

import copy
import math

import torch
import torch.nn.functional as F
from torch import nn

from ._loss import SteelNetLoss
from ._steelnet import SteelNet

__all__ = [
    "ImageBranch",
    "MultimodalSteelNet",
    "MultimodalSteelNetLoss",
    "ScratchImageEncoder",
    "info_nce",
]

#: Initial temperature of the alignment loss (CLIP's).
INITIAL_TEMPERATURE = 0.07


class ScratchImageEncoder(nn.Module):
    """A small CNN of a grey surface image, trained end to end.

    Four blocks of ``Conv(3x3, stride 2) -> BatchNorm -> ReLU`` with
    ``d_channels`` channels each, then global average pooling.

    Parameters
    ----------
    d_channels : sequence of int, default=(16, 32, 64, 64)
        Channels of the blocks; the last is the size of the output.

    Shape
    -----
    - image: ``(n_samples, 1, height, width)``, normalised grey levels.
    - output: ``(n_samples, d_channels[-1])``.

    Examples
    --------
    >>> import torch
    >>> from sksteel.nn import ScratchImageEncoder
    >>> ScratchImageEncoder()(torch.randn(2, 1, 64, 400)).shape
    torch.Size([2, 64])
    """

    def __init__(self, d_channels=(16, 32, 64, 64)):
        super().__init__()
        blocks, d_prev = [], 1
        for d_next in d_channels:
            blocks += [
                nn.Conv2d(d_prev, d_next, 3, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(d_next),
                nn.ReLU(),
            ]
            d_prev = d_next
        self.blocks = nn.Sequential(*blocks)
        self.d_out = d_prev

    def forward(self, image):
        return self.blocks(image).mean(dim=(-2, -1))


class _PooledEncoder(nn.Module):
    """A segmentation encoder's deepest feature map, average-pooled."""

    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder
        self.d_out = int(encoder.out_channels[-1])

    def forward(self, image):
        return self.encoder(image)[-1].mean(dim=(-2, -1))


class ImageBranch(nn.Module):
    """Embedding of the surface image, or a learned token when it is missing.

    ``e = Linear(encoder(image))`` for a row with an image, the learned
    ``missing_token`` for a row without one. During training each row's
    image is dropped (read as missing) with probability ``image_dropout``.

    Parameters
    ----------
    d_out : int
        Size of the embedding (the size of SteelNet's ``z``).
    d_features : int, default=None
        Size of precomputed image features (a frozen encoder's); None trains
        an encoder on the pixels.
    encoder : torch.nn.Module, default=None
        With ``d_features=None``, a pretrained segmentation encoder to
        fine-tune (a segmentation_models_pytorch encoder: grey images to a
        list of feature maps with ``out_channels``); the branch trains a
        copy of it on the average-pooled deepest map. None trains a
        :class:`ScratchImageEncoder`.
    image_dropout : float, default=0.0
        Probability of dropping a row's image in a training batch.

    Shape
    -----
    - image: ``(n_samples, 1, height, width)`` normalised grey pixels, or
      ``(n_samples, d_features)`` features; any value on missing rows.
    - image_present: ``(n_samples,)``, bool.
    - output: ``(embedding, present)``, ``(n_samples, d_out)`` and the
      ``(n_samples,)`` mask after dropout.

    Examples
    --------
    >>> import torch
    >>> from sksteel.nn import ImageBranch
    >>> branch = ImageBranch(d_out=8, d_features=16).eval()
    >>> features = torch.randn(3, 16)
    >>> present = torch.tensor([True, False, True])
    >>> embedding, _ = branch(features, present)
    >>> torch.equal(embedding[1], branch.missing_token)
    True
    """

    def __init__(self, *, d_out, d_features=None, encoder=None, image_dropout=0.0):
        super().__init__()
        if d_features is not None:
            self.encoder = None
        elif encoder is None:
            self.encoder = ScratchImageEncoder()
        else:  # a copy: training must not change the caller's encoder
            self.encoder = _PooledEncoder(copy.deepcopy(encoder))
        d_in = d_features if self.encoder is None else self.encoder.d_out
        self.projection = nn.Linear(d_in, d_out)
        self.missing_token = nn.Parameter(torch.empty(d_out))
        nn.init.normal_(self.missing_token, std=1.0 / math.sqrt(d_out))
        self.image_dropout = image_dropout

    def forward(self, image, image_present):
        present = image_present.bool()
        if self.training and self.image_dropout > 0:
            kept = torch.rand(present.shape, device=present.device)
            present = present & (kept >= self.image_dropout)
        image = image.float().nan_to_num()
        features = image if self.encoder is None else self.encoder(image)
        embedding = self.projection(features)
        missing = self.missing_token.expand_as(embedding)
        return torch.where(present.unsqueeze(-1), embedding, missing), present


def info_nce(a, b, log_scale):
    """Symmetric InfoNCE between paired rows of ``a`` and ``b`` (CLIP's loss).

    Parameters
    ----------
    a, b : torch.Tensor of shape (n_pairs, d)
        Embeddings of the same samples in two modalities.
    log_scale : torch.Tensor
        Log of the inverse temperature (a learnable scalar).

    Returns
    -------
    loss : torch.Tensor
        A scalar; 0 with fewer than two pairs.

    Examples
    --------
    >>> import torch
    >>> from sksteel.nn import info_nce
    >>> a, scale = torch.eye(3), torch.tensor(3.0)
    >>> bool(info_nce(a, a, scale) < info_nce(a, a.flip(0), scale))
    True
    """
    if len(a) < 2:
        return a.new_zeros(())
    scale = log_scale.clamp(max=math.log(100.0)).exp()
    logits = scale * F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).T
    target = torch.arange(len(a), device=a.device)
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2


class MultimodalSteelNet(SteelNet):
    """SteelNet with the surface image as a second modality.

    ``z_final = z_sensors + e_image``: the sensor embedding of
    :class:`SteelNet` plus the :class:`ImageBranch` embedding (its learned
    missing token for a row without an image). The heads read ``z_final``.
    The outputs add, after SteelNet's three, the alignment loss
    (:func:`info_nce` between ``z_sensors`` and ``e_image`` of the rows with
    an image, learnable temperature ``log_scale``).

    Parameters
    ----------
    d_features : int, default=None
        Size of precomputed image features; None trains an encoder on the
        pixels.
    encoder : torch.nn.Module, default=None
        A pretrained segmentation encoder to fine-tune (see
        :class:`ImageBranch`); None with ``d_features=None`` trains a
        :class:`ScratchImageEncoder`.
    image_dropout : float, default=0.0
        Probability of dropping a row's image in a training batch.
    **kwargs
        The parameters of :class:`SteelNet`.

    Shape
    -----
    - x: ``(n_samples, d_in)``, NaN where a reading is missing.
    - image, image_present: see :class:`ImageBranch`.
    - output: ``(logits, intensity, attribution, alignment)``; the batch's
      alignment loss is repeated on every row, shape ``(n_samples,)``.

    Examples
    --------
    >>> import torch
    >>> from sksteel.nn import MultimodalSteelNet
    >>> net = MultimodalSteelNet(d_in=4, n_classes=3, d_layers=(16, 8), d_token=4,
    ...                          n_heads=2, d_features=6)
    >>> present = torch.tensor([True, True, False, True])
    >>> logits, _, _, alignment = net(torch.randn(4, 4), torch.randn(4, 6), present)
    >>> logits.shape, alignment.shape
    (torch.Size([4, 3]), torch.Size([4]))
    """

    def __init__(self, *, d_features=None, encoder=None, image_dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        d_z = kwargs.get("d_layers", (256, 256, 128))[-1]
        self.image_branch = ImageBranch(
            d_out=d_z,
            d_features=d_features,
            encoder=encoder,
            image_dropout=image_dropout,
        )
        self.log_scale = nn.Parameter(torch.tensor(math.log(1 / INITIAL_TEMPERATURE)))

    def embeddings(self, x, image, image_present):
        """``(z_sensors, e_image, present)``, members averaged."""
        z = self.embed(x)
        if self.n_members > 1:
            z = z.mean(dim=1)
        e, present = self.image_branch(image, image_present)
        return z, e, present

    def forward(self, x, image, image_present):
        z = self.embed(x)
        e, present = self.image_branch(image, image_present)
        z_sensors = z if self.n_members == 1 else z.mean(dim=1)
        alignment = info_nce(z_sensors[present], e[present], self.log_scale)
        # one copy per row, so that skorch can concatenate batches
        return (*self.heads(z + self._per_member(e)), alignment.expand(len(x)))


class MultimodalSteelNetLoss(SteelNetLoss):
    """:class:`SteelNetLoss` plus ``epsilon`` times the alignment loss.

    Parameters
    ----------
    epsilon : float, default=0.0
        Weight of the cross-modal alignment term (the fourth output of
        :class:`MultimodalSteelNet`).
    **kwargs
        The parameters of :class:`SteelNetLoss`.

    Examples
    --------
    >>> import torch
    >>> from sksteel.nn import MultimodalSteelNetLoss
    >>> outputs = (torch.zeros(2, 2), torch.zeros(2), torch.full((2, 2), 0.5),
    ...            torch.full((2,), 2.0))
    >>> loss = MultimodalSteelNetLoss(epsilon=0.5, delta=0.0)
    >>> round(float(loss(outputs, torch.tensor([0, 1]))), 4)
    1.6931
    """

    def __init__(self, *args, epsilon=0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.epsilon = epsilon

    def forward(self, outputs, y, intensity=None, sample_weight=None):
        loss = super().forward(outputs[:3], y, intensity, sample_weight)
        return loss + self.epsilon * outputs[3].mean()
