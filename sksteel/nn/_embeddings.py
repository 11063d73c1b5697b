"""Numeric feature embeddings and soft clipping, NaN-aware (plain torch).

The embeddings come from ``rtdl_num_embeddings`` (Gorishniy et al., "On
Embeddings for Numerical Features in Tabular Deep Learning", NeurIPS 2022):
periodic embeddings and piecewise-linear embeddings. Neither accepts NaN, so
:class:`NumericEmbedding` feeds them the NaN-free values and replaces the
embedding of every missing reading by a learned per-feature missing token:
a failed sensor is never embedded as if it read the mean.
"""

import math

import torch
from rtdl_num_embeddings import PeriodicEmbeddings, PiecewiseLinearEmbeddings
from torch import nn

__all__ = ["NumericEmbedding", "SoftClip"]

#: Kinds of numeric embedding :class:`NumericEmbedding` builds.
EMBEDDING_KINDS = ("periodic", "piecewise_linear")


class SoftClip(nn.Module):
    """Smooth clipping of outliers: ``x / sqrt(1 + (x / bound) ** 2)``.

    Close to the identity for ``|x|`` well below ``bound``, and tends to
    ``+-bound`` for large ``|x|`` (RealMLP's "smooth clipping" after robust
    scaling). NaN stays NaN, so a missing reading stays missing.

    Parameters
    ----------
    bound : float, default=3.0
        Limit of the output, in the units of the input.

    Shape
    -----
    - input: any shape.
    - output: same shape.

    Examples
    --------
    >>> import torch
    >>> from sksteel.nn import SoftClip
    >>> SoftClip(bound=3.0)(torch.tensor([0.0, 1.0, 1e6, float("nan")]))
    tensor([0.0000, 0.9487, 3.0000,    nan])
    """

    def __init__(self, *, bound=3.0):
        super().__init__()
        if not bound > 0:
            raise ValueError(f"bound={bound!r} must be positive.")
        self.bound = float(bound)

    def forward(self, x):
        return x * torch.rsqrt(1.0 + (x / self.bound) ** 2)


class NumericEmbedding(nn.Module):
    """Embed every feature into ``d_embedding`` numbers; missing -> a token.

    Parameters
    ----------
    d_in : int
        Number of features.
    d_embedding : int, default=16
        Size of each feature's embedding.
    kind : {"periodic", "piecewise_linear"}, default="periodic"
        ``"periodic"``: rtdl's ``PeriodicEmbeddings`` (learned frequencies,
        then a linear layer and ReLU). ``"piecewise_linear"``: rtdl's
        ``PiecewiseLinearEmbeddings`` over ``bins``.
    bins : list of torch.Tensor, default=None
        Bin edges per feature (sorted, at least two distinct values each),
        required by ``"piecewise_linear"``; compute them on the observed
        (non-NaN) readings.
    frequency_init_scale : float, default=0.01
        Scale of the initial frequencies of ``"periodic"``.

    Shape
    -----
    - values: ``(n_samples, d_in)``, NaN already replaced by any number.
    - missing: ``(n_samples, d_in)``, bool.
    - output: ``(n_samples, d_in, d_embedding)``.

    Examples
    --------
    >>> import torch
    >>> from sksteel.nn import NumericEmbedding
    >>> embedding = NumericEmbedding(d_in=3, d_embedding=4)
    >>> values = torch.randn(5, 3)
    >>> missing = torch.zeros(5, 3, dtype=torch.bool)
    >>> missing[0, 1] = True
    >>> out = embedding(values, missing)
    >>> out.shape
    torch.Size([5, 3, 4])
    >>> bool(torch.equal(out[0, 1], embedding.missing_token[1]))
    True
    """

    def __init__(
        self,
        *,
        d_in,
        d_embedding=16,
        kind="periodic",
        bins=None,
        frequency_init_scale=0.01,
    ):
        super().__init__()
        if kind not in EMBEDDING_KINDS:
            raise ValueError(f"kind={kind!r} must be one of {EMBEDDING_KINDS}.")
        if kind == "periodic":
            self.embedding = PeriodicEmbeddings(
                d_in,
                d_embedding,
                n_frequencies=max(d_embedding, 8),
                frequency_init_scale=frequency_init_scale,
                lite=False,
            )
        else:
            if bins is None or len(bins) != d_in:
                raise ValueError(
                    "kind='piecewise_linear' needs `bins`: one tensor of edges per "
                    f"feature ({d_in}); got {None if bins is None else len(bins)}."
                )
            self.embedding = PiecewiseLinearEmbeddings(
                bins, d_embedding, activation=True, version="B"
            )
        bound = 1.0 / math.sqrt(d_embedding)
        self.missing_token = nn.Parameter(torch.empty(d_in, d_embedding))
        nn.init.uniform_(self.missing_token, -bound, bound)

    def forward(self, values, missing):
        embedded = self.embedding(values.masked_fill(missing, 0.0))
        return torch.where(missing.unsqueeze(-1), self.missing_token, embedded)


def quantile_bins(X, n_bins):
    """Bin edges per column from the quantiles of its observed readings.

    Parameters
    ----------
    X : torch.Tensor of shape (n_samples, d_in)
        Readings, NaN where missing.
    n_bins : int
        Largest number of bins per column.

    Returns
    -------
    bins : list of torch.Tensor
        Sorted, distinct edges per column; a column with fewer than two
        distinct readings gets the edges ``(v - 1, v + 1)`` around its value
        (``0`` when it has none).
    """
    quantiles = torch.linspace(0.0, 1.0, n_bins + 1, dtype=X.dtype)
    bins = []
    for column in X.T:
        observed = column[~torch.isnan(column)]
        edges = (
            torch.unique(torch.quantile(observed, quantiles))
            if len(observed)
            else observed
        )
        if len(edges) < 2:
            centre = edges[0] if len(edges) else X.new_zeros(())
            edges = torch.stack([centre - 1.0, centre + 1.0])
        bins.append(edges)
    return bins
