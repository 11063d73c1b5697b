"""The multi-objective SteelNet loss (paper 2.2.3, eq 6)."""

import math

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["SteelNetLoss"]


class SteelNetLoss(nn.Module):
    """``alpha * L_class + beta * L_intensity + gamma * L_attr + delta * L_sparse``.

    - ``L_class``: cross-entropy of the class logits (with
      ``label_smoothing``), each sample weighted by ``class_weight[y]`` and
      averaged over the batch (so ``class_weight`` scales a sample's loss,
      as in scikit-learn). Logits of shape ``(n, n_members, n_classes)``
      (an ensemble in training) count the mean of the members' losses.
    - ``L_intensity``: mean squared error of the intensity over the samples
      whose intensity target is finite. The caller marks samples that must
      not count (non-defective, unknown) with NaN, which is how "defective
      samples only" is expressed.
    - ``L_attr``: Kullback-Leibler divergence ``KL(w* || w_hat)`` from the
      prior row ``w*`` of the sample's class to the predicted attribution.
      It is 0 when they agree and, unlike a squared error on numbers of
      about ``1 / d_in``, keeps a useful gradient.
    - ``L_sparse``: entropy of the predicted attribution divided by
      ``log(d_in)`` (in ``[0, 1]``); lowering it focuses the attribution on
      fewer sensors.

    With ``sample_weight``, every term averages the sample's weight times its
    loss (the intensity over the samples that count), as scikit-learn's
    ``sample_weight`` scales a sample's loss.

    A term is switched off (counts 0, costs nothing) when its weight is 0 or
    its target is absent: no ``intensity`` passed, or no
    ``attribution_prior``.

    Parameters
    ----------
    alpha, beta, gamma, delta : float, default=1.0, 0.5, 0.3, 0.1
        Weights of the class, intensity, attribution and sparsity terms.
    attribution_prior : torch.Tensor of shape (n_classes, d_in), default=None
        Ground-truth attribution per class, rows summing to 1.
    class_weight : torch.Tensor of shape (n_classes,), default=None
        Weight of each class in ``L_class``.
    label_smoothing : float, default=0.0
        Label smoothing of ``L_class``, as in
        :func:`torch.nn.functional.cross_entropy`; 0 is none.

    Shape
    -----
    - outputs: the tuple ``(logits, intensity, attribution)`` of
      :class:`~sksteel.nn.SteelNet`, shapes ``(n, n_classes)`` (or
      ``(n, n_members, n_classes)``), ``(n,)``, ``(n, d_in)``.
    - y: ``(n,)``, class indices (int64).
    - intensity: ``(n,)`` float or None.
    - sample_weight: ``(n,)`` float or None.
    - output: a scalar.

    Examples
    --------
    >>> import torch
    >>> from sksteel.nn import SteelNetLoss
    >>> prior = torch.tensor([[0.5, 0.5], [0.9, 0.1]])
    >>> loss = SteelNetLoss(attribution_prior=prior)
    >>> outputs = (torch.zeros(2, 2), torch.zeros(2), torch.full((2, 2), 0.5))
    >>> y, intensity = torch.tensor([0, 1]), torch.tensor([float("nan"), 1.0])
    >>> terms = loss.terms(outputs, y, intensity)
    >>> {name: round(float(value), 4) for name, value in terms.items()}
    {'class': 0.6931, 'intensity': 1.0, 'attribution': 0.184, 'sparsity': 1.0}
    >>> round(float(loss(outputs, y, intensity)), 4)
    1.3483
    """

    def __init__(
        self,
        alpha=1.0,
        beta=0.5,
        gamma=0.3,
        delta=0.1,
        *,
        attribution_prior=None,
        class_weight=None,
        label_smoothing=0.0,
    ):
        super().__init__()
        self.label_smoothing = label_smoothing
        self.weights = {
            "class": alpha,
            "intensity": beta,
            "attribution": gamma,
            "sparsity": delta,
        }
        self.register_buffer("attribution_prior", attribution_prior)
        self.register_buffer("class_weight", class_weight)

    def terms(self, outputs, y, intensity=None, sample_weight=None):
        """The four unweighted terms, as a dict of scalar tensors."""
        logits, intensity_pred, attribution = outputs
        zero = logits.new_zeros(())
        terms = dict.fromkeys(self.weights, zero)
        weight = 1.0 if sample_weight is None else sample_weight
        class_loss = self._class_loss(logits, y)
        if self.class_weight is not None:
            class_loss = class_loss * self.class_weight[y]
        terms["class"] = (class_loss * weight).mean()
        if intensity is not None and self.weights["intensity"]:
            counts = torch.isfinite(intensity)
            squared = (intensity_pred - intensity.nan_to_num()) ** 2 * weight
            terms["intensity"] = (squared * counts).sum() / counts.sum().clamp(min=1)
        log_attribution = torch.log(attribution.clamp(min=1e-12))
        if self.attribution_prior is not None and self.weights["attribution"]:
            prior = self.attribution_prior[y]
            if sample_weight is None:
                terms["attribution"] = F.kl_div(
                    log_attribution, prior, reduction="batchmean"
                )
            else:
                divergence = F.kl_div(log_attribution, prior, reduction="none")
                terms["attribution"] = (divergence.sum(dim=-1) * weight).mean()
        d_in = attribution.shape[-1]
        if d_in > 1 and self.weights["sparsity"]:
            entropy = -(attribution * log_attribution).sum(dim=-1)
            terms["sparsity"] = (entropy * weight).mean() / math.log(d_in)
        return terms

    def _class_loss(self, logits, y):
        """Per-sample cross-entropy; the members' mean for an ensemble."""
        if logits.dim() == 2:
            return F.cross_entropy(
                logits, y, reduction="none", label_smoothing=self.label_smoothing
            )
        members = y.unsqueeze(1).expand(-1, logits.shape[1])
        member_loss = F.cross_entropy(
            logits.transpose(1, 2),
            members,
            reduction="none",
            label_smoothing=self.label_smoothing,
        )
        return member_loss.mean(dim=1)

    def forward(self, outputs, y, intensity=None, sample_weight=None):
        terms = self.terms(outputs, y, intensity, sample_weight)
        return sum(self.weights[name] * value for name, value in terms.items())
