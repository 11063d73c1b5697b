"""Parameter-efficient ensembling (TabM-mini / BatchEnsemble), plain torch.

``k`` members share every weight of the network but two small pieces: a
per-member multiplicative scaling of the network's input (TabM-mini's
adapter, Gorishniy et al., "TabM", ICLR 2025) and a per-member output
layer. Each member sees the same rows; training minimises the mean of the
members' losses and prediction averages their probabilities.
"""

import math

import torch
from torch import nn

__all__ = ["MemberLinear", "MemberScaling", "average_member_probabilities"]


class MemberScaling(nn.Module):
    """Copy the input once per member and scale each copy elementwise.

    The scalings start as random signs (TabM's initialisation), so members
    differ from the first step.

    Parameters
    ----------
    n_members : int
        Number of members ``k``.
    d_in : int
        Size of the input.

    Shape
    -----
    - input: ``(n_samples, d_in)``.
    - output: ``(n_samples, n_members, d_in)``.

    Examples
    --------
    >>> import torch
    >>> from sksteel.nn import MemberScaling
    >>> MemberScaling(n_members=4, d_in=3)(torch.randn(2, 3)).shape
    torch.Size([2, 4, 3])
    """

    def __init__(self, *, n_members, d_in):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_members, d_in))
        with torch.no_grad():
            self.weight.bernoulli_(0.5).mul_(2.0).sub_(1.0)

    def forward(self, x):
        return x.unsqueeze(1) * self.weight


class MemberLinear(nn.Module):
    """One linear layer per member, applied to that member's input.

    Parameters
    ----------
    n_members : int
        Number of members ``k``.
    d_in, d_out : int
        Input and output sizes.

    Shape
    -----
    - input: ``(n_samples, n_members, d_in)``.
    - output: ``(n_samples, n_members, d_out)``.

    Examples
    --------
    >>> import torch
    >>> from sksteel.nn import MemberLinear
    >>> MemberLinear(n_members=4, d_in=3, d_out=5)(torch.randn(2, 4, 3)).shape
    torch.Size([2, 4, 5])
    """

    def __init__(self, *, n_members, d_in, d_out):
        super().__init__()
        bound = 1.0 / math.sqrt(d_in)
        self.weight = nn.Parameter(torch.empty(n_members, d_in, d_out))
        self.bias = nn.Parameter(torch.empty(n_members, d_out))
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        return torch.einsum("nki,kio->nko", x, self.weight) + self.bias


def average_member_probabilities(logits, temperature=1.0):
    """Log of the members' mean probability, ``log mean_k softmax(l_k / T)``.

    Parameters
    ----------
    logits : torch.Tensor of shape (n_samples, n_members, n_classes)
        Logits of each member.
    temperature : float or torch.Tensor, default=1.0
        Divides the logits before the softmax (temperature scaling).

    Returns
    -------
    log_proba : torch.Tensor of shape (n_samples, n_classes)
        Log-probabilities of the ensemble; their softmax is the ensemble's
        probability.

    Examples
    --------
    >>> import torch
    >>> from sksteel.nn import average_member_probabilities
    >>> logits = torch.tensor([[[0.0, 10.0], [10.0, 0.0]]])
    >>> average_member_probabilities(logits).exp().round(decimals=3)
    tensor([[0.5000, 0.5000]])
    """
    log_proba = torch.log_softmax(logits / temperature, dim=-1)
    return torch.logsumexp(log_proba, dim=1) - math.log(logits.shape[1])
