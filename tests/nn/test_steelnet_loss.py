"""Tests of SteelNetLoss."""

import math

import pytest
import torch

from sksteel.nn import SteelNetLoss

N, N_CLASSES, D_IN = 6, 3, 4


@pytest.fixture
def outputs():
    torch.manual_seed(0)
    logits = torch.randn(N, N_CLASSES, requires_grad=True)
    intensity = torch.randn(N, requires_grad=True)
    attribution = torch.softmax(torch.randn(N, D_IN, requires_grad=True), dim=1)
    return logits, intensity, attribution


@pytest.fixture
def y():
    return torch.tensor([0, 1, 2, 0, 1, 2])


def test_steelnet_loss_class_term_is_cross_entropy(outputs, y):
    """Check that L_class is the cross-entropy of the logits."""
    terms = SteelNetLoss().terms(outputs, y)
    expected = torch.nn.functional.cross_entropy(outputs[0], y)
    torch.testing.assert_close(terms["class"], expected)


def test_steelnet_loss_terms_off_without_targets(outputs, y):
    """Check that the intensity and attribution terms are 0 without targets."""
    terms = SteelNetLoss().terms(outputs, y)
    assert float(terms["intensity"]) == 0.0
    assert float(terms["attribution"]) == 0.0
    assert float(terms["sparsity"].detach()) > 0.0


def test_steelnet_loss_intensity_ignores_nan_targets(outputs, y):
    """Check that NaN intensity targets (non-defective rows) do not count."""
    target = torch.tensor([float("nan"), 1.0, 2.0, float("nan"), 0.0, 1.0])
    terms = SteelNetLoss().terms(outputs, y, target)
    known = ~torch.isnan(target)
    expected = ((outputs[1][known] - target[known]) ** 2).mean()
    torch.testing.assert_close(terms["intensity"], expected)
    assert torch.isfinite(SteelNetLoss()(outputs, y, torch.full((N,), float("nan"))))


def test_steelnet_loss_attribution_zero_when_matching_prior(y):
    """Check that L_attr is 0 when the attribution equals the class prior."""
    prior = torch.softmax(torch.randn(N_CLASSES, D_IN), dim=1)
    outputs = (torch.zeros(N, N_CLASSES), torch.zeros(N), prior[y])
    loss = SteelNetLoss(attribution_prior=prior)
    assert float(loss.terms(outputs, y)["attribution"]) == pytest.approx(0, abs=1e-6)
    shuffled = (outputs[0], outputs[1], prior[(y + 1) % N_CLASSES])
    assert float(loss.terms(shuffled, y)["attribution"]) > 0


def test_steelnet_loss_sparsity_is_normalised_entropy(y):
    """Check that L_sparse is 1 for uniform and 0 for one-hot attributions."""
    uniform = torch.full((N, D_IN), 1.0 / D_IN)
    one_hot = torch.eye(D_IN)[torch.zeros(N, dtype=torch.long)]
    loss = SteelNetLoss()
    for attribution, expected in [(uniform, 1.0), (one_hot, 0.0)]:
        outputs = (torch.zeros(N, N_CLASSES), torch.zeros(N), attribution)
        assert float(loss.terms(outputs, y)["sparsity"]) == pytest.approx(
            expected, abs=1e-5
        )


def test_steelnet_loss_weights_combine_terms(outputs, y):
    """Check that the total is the weighted sum of the terms, zero weights off."""
    prior = torch.full((N_CLASSES, D_IN), 1.0 / D_IN)
    target = torch.ones(N)
    loss = SteelNetLoss(2.0, 0.5, 0.0, 0.25, attribution_prior=prior)
    terms = loss.terms(outputs, y, target)
    assert float(terms["attribution"]) == 0.0
    expected = (
        2.0 * terms["class"] + 0.5 * terms["intensity"] + 0.25 * terms["sparsity"]
    )
    torch.testing.assert_close(loss(outputs, y, target), expected)


def test_steelnet_loss_class_weight_scales_samples(outputs, y):
    """Check that class_weight multiplies each sample's cross-entropy."""
    weight = torch.tensor([1.0, 0.0, 0.0])
    weighted = SteelNetLoss(class_weight=weight).terms(outputs, y)["class"]
    per_sample = torch.nn.functional.cross_entropy(outputs[0], y, reduction="none")
    torch.testing.assert_close(weighted, per_sample[y == 0].sum() / N)


def test_steelnet_loss_gradient_reaches_every_output(outputs, y):
    """Check that the total loss back-propagates to all three heads."""
    prior = torch.full((N_CLASSES, D_IN), 1.0 / D_IN)
    prior[:, 0] += 1.0
    prior = prior / prior.sum(dim=1, keepdim=True)
    SteelNetLoss(attribution_prior=prior)(outputs, y, torch.ones(N)).backward()
    logits, intensity, _ = outputs
    assert logits.grad.abs().sum() > 0
    assert intensity.grad.abs().sum() > 0


def test_steelnet_loss_single_sensor_has_no_sparsity(y):
    """Check that one sensor gives a zero sparsity term (entropy over 1 value)."""
    outputs = (torch.zeros(N, N_CLASSES), torch.zeros(N), torch.ones(N, 1))
    loss = SteelNetLoss().terms(outputs, y)["sparsity"]
    assert float(loss) == 0.0
    assert math.isfinite(float(SteelNetLoss()(outputs, y)))
