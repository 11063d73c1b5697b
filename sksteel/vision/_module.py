"""The torch module behind :class:`DefectFractionRegressor`: a torchvision
ResNet on one-channel images with a linear regression head."""

import torch
import torchvision
from torch import nn

from ..exceptions import DataFormatError

__all__ = ["BACKBONES", "FractionNet", "load_backbone_weights"]

#: The torchvision ResNets a regressor can be built on.
BACKBONES = ("resnet18", "resnet34", "resnet50")


class FractionNet(nn.Module):
    """A ResNet backbone and a linear head predicting fractions in ``[0, 1]``.

    The first convolution takes one channel: Severstal images carry three
    identical channels, so grey levels lose nothing and ``conv1`` costs a third
    of the RGB version.

    The head is linear on the globally pooled backbone features, expressed
    around the training targets: ``output = target_mean + target_scale * z``,
    with ``z`` a zero-initialised ``Linear`` (set the two buffers with
    :meth:`set_target_scale`). Training thus starts from the mean fractions,
    and steps on ``z`` move each output on the scale of its own class. Outside
    training the output is clamped to ``[0, 1]``. A sigmoid head instead
    saturates at the small fractions of most images (a class covers 0 to 10 %
    of an image) and stops passing gradient: on the built-in surfaces it
    learns nothing beyond the mean.

    Parameters
    ----------
    backbone : {"resnet18", "resnet34", "resnet50"}, default="resnet34"
        The torchvision ResNet, built with random weights.
    d_out : int, default=4
        Number of outputs.

    Attributes
    ----------
    d_embedding : int
        Size of the pooled backbone features (512 or 2048).

    Shape
    -----
    - Input: ``(batch, 1, height, width)``, float.
    - Output: ``(batch, d_out)``, in ``[0, 1]`` outside training;
      :meth:`embed` gives ``(batch, d_embedding)``.

    Examples
    --------
    >>> import torch
    >>> from sksteel.vision._module import FractionNet
    >>> net = FractionNet(backbone="resnet18", d_out=4).eval()
    >>> net.set_target_scale(torch.full((4,), 0.01), torch.full((4,), 0.02))
    >>> net(torch.zeros(2, 1, 32, 200)).detach()
    tensor([[0.0100, 0.0100, 0.0100, 0.0100],
            [0.0100, 0.0100, 0.0100, 0.0100]])
    >>> net.embed(torch.zeros(2, 1, 32, 200)).shape
    torch.Size([2, 512])
    """

    def __init__(self, *, backbone="resnet34", d_out=4):
        super().__init__()
        resnet = getattr(torchvision.models, backbone)(weights=None)
        resnet.conv1 = nn.Conv2d(
            1, resnet.conv1.out_channels, kernel_size=7, stride=2, padding=3, bias=False
        )
        nn.init.kaiming_normal_(
            resnet.conv1.weight, mode="fan_out", nonlinearity="relu"
        )
        self.d_embedding = resnet.fc.in_features
        resnet.fc = nn.Identity()
        self.backbone = resnet
        self.head = nn.Linear(self.d_embedding, d_out)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)
        self.register_buffer("target_mean", torch.zeros(d_out))
        self.register_buffer("target_scale", torch.ones(d_out))

    def set_target_scale(self, mean, scale):
        """Express the outputs around `mean` in units of `scale`, ``(d_out,)`` each."""
        with torch.no_grad():
            self.target_mean.copy_(torch.as_tensor(mean))
            self.target_scale.copy_(torch.as_tensor(scale))

    def embed(self, x):
        """Globally pooled backbone features, ``(batch, d_embedding)``."""
        return self.backbone(x)

    def forward(self, x):
        out = self.target_mean + self.target_scale * self.head(self.backbone(x))
        # No clamp in training: it would pass no gradient where it binds.
        return out if self.training else out.clamp(0.0, 1.0)


def load_backbone_weights(backbone, path, *, name):
    """Load a torchvision ResNet state dict from a local file into `backbone`.

    The classification layer (``fc.*``) of the file is dropped. A
    three-channel first convolution is summed over its input channels, which
    on grey images equals feeding the grey level to all three channels.

    Parameters
    ----------
    backbone : torch.nn.Module
        The backbone of a :class:`FractionNet`.
    path : str or path-like
        A file written by ``torch.save(model.state_dict(), path)``.
    name : str
        The backbone's name, for error messages.

    Raises
    ------
    FileNotFoundError
        When `path` does not exist.
    DataFormatError
        When the file is not a state dict of a `name` ResNet.
    """
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"The `weights` file {str(path)!r} does not exist. Pass the path of a "
            f"local torchvision {name} state dict, or weights=None to start from "
            "random weights (nothing is ever downloaded)."
        ) from None
    except Exception as exc:
        raise DataFormatError(
            f"The `weights` file {str(path)!r} could not be read as a torch state "
            f"dict ({exc}). Expected a file written by "
            f"torch.save(torchvision.models.{name}().state_dict(), path)."
        ) from exc
    if not isinstance(state, dict):
        raise DataFormatError(
            f"The `weights` file {str(path)!r} holds a {type(state).__name__}, not a "
            f"state dict. Save it with torch.save(model.state_dict(), path)."
        )
    state = {key: value for key, value in state.items() if not key.startswith("fc.")}
    conv1 = state.get("conv1.weight")
    if conv1 is not None and conv1.ndim == 4 and conv1.shape[1] == 3:
        state["conv1.weight"] = conv1.sum(dim=1, keepdim=True)
    try:
        backbone.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise DataFormatError(
            f"The `weights` file {str(path)!r} does not fit a torchvision {name}: "
            f"{exc}. Pass the state dict of the same architecture as `backbone`."
        ) from exc
