"""Tests of the SteelNet torch module and its parts."""

import pytest
import torch

from sksteel.nn import (
    ParameterEncoder,
    PhysicsConstraint,
    SensorSelfAttention,
    SteelNet,
)

D_IN, N_CLASSES = 10, 5
SMALL = {"d_layers": (16, 16, 8), "d_token": 8, "n_heads": 2}


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _small_net(**params):
    return SteelNet(d_in=D_IN, n_classes=N_CLASSES, **{**SMALL, **params}).eval()


def test_steelnet_output_shapes_and_attribution_simplex():
    """Check that SteelNet returns logits, intensity and attributions summing to 1."""
    logits, intensity, attribution = _small_net()(torch.randn(7, D_IN))
    assert logits.shape == (7, N_CLASSES)
    assert intensity.shape == (7,)
    assert attribution.shape == (7, D_IN)
    assert torch.all(attribution >= 0)
    torch.testing.assert_close(attribution.sum(dim=1), torch.ones(7))


@pytest.mark.parametrize(
    "params", [{}, {"use_attention": False}, {"use_physics": False}, {"dropout": 0.0}]
)
def test_steelnet_missing_reading_differs_from_zero(params):
    """Check that a NaN reading is not treated like a real reading of 0."""
    net = _small_net(**params)
    x = torch.randn(4, D_IN)
    x_zero, x_nan = x.clone(), x.clone()
    x_zero[:, 2] = 0.0
    x_nan[:, 2] = float("nan")
    out_zero, out_nan = net(x_zero)[0], net(x_nan)[0]
    assert torch.all(torch.isfinite(out_nan))
    assert not torch.allclose(out_zero, out_nan)


def test_steelnet_all_readings_missing_is_finite():
    """Check that a row without any reading still gives finite outputs."""
    x = torch.full((3, D_IN), float("nan"))
    for output in _small_net()(x):
        assert torch.all(torch.isfinite(output))


@pytest.mark.parametrize(
    "flag, part", [("use_attention", "attention"), ("use_physics", "physics")]
)
def test_steelnet_ablation_removes_branch(flag, part):
    """Check that an ablation flag removes the branch and its parameters."""
    full, ablated = _small_net(), _small_net(**{flag: False})
    assert getattr(ablated, part) is None
    n_full = sum(p.numel() for p in full.parameters())
    n_ablated = sum(p.numel() for p in ablated.parameters())
    assert n_ablated < n_full


def test_steelnet_modality_dropout_only_while_training():
    """Check that readings are dropped in train mode only, at the given rates."""
    rates = torch.tensor([0.0, 0.5] + [0.0] * (D_IN - 2))
    net = _small_net(missing_rates=rates)
    dropped = torch.isnan(net.drop_readings(torch.zeros(4000, D_IN)))
    assert dropped[:, 0].sum() == 0
    assert 0.45 < dropped[:, 1].float().mean() < 0.55
    x = torch.randn(6, D_IN)
    torch.testing.assert_close(net(x)[0], net(x)[0])  # eval: no dropout
    net.train()
    torch.manual_seed(1)
    train_a = net(x)[0]
    torch.manual_seed(2)
    assert not torch.allclose(train_a, net(x)[0])


def test_parameter_encoder_layer_sizes():
    """Check that the encoder follows eqs 2-4 with the given widths."""
    encoder = ParameterEncoder(d_in=D_IN)
    widths = [encoder.input.out_features] + [
        block.linear.out_features for block in encoder.blocks
    ]
    assert widths == [256, 256, 128]
    assert encoder.input.in_features == D_IN
    assert [type(layer).__name__ for layer in encoder.blocks[0]] == [
        "Dropout",
        "Linear",
        "BatchNorm1d",
        "ReLU",
    ]


def test_physics_constraint_signed_deviation():
    """Check the deviation: 0 inside the range, signed outside, 0 when missing."""
    ranges = torch.tensor([[0.0, 1.0], [-1.0, 2.0], [5.0, 6.0]])
    physics = PhysicsConstraint(d_in=3, d_out=4, operating_ranges=ranges)
    values = torch.tensor([[0.5, 4.0, 3.0], [2.0, -3.0, 0.0]])
    missing = torch.tensor([[False, False, False], [False, False, True]])
    expected = torch.tensor([[0.0, 2.0, -2.0], [1.0, -2.0, 0.0]])
    torch.testing.assert_close(physics.deviation(values, missing), expected)
    assert physics(values, missing).shape == (2, 4)


def test_sensor_self_attention_rejects_indivisible_heads():
    """Check that d_token must be divisible by n_heads."""
    with pytest.raises(ValueError, match="divisible by n_heads"):
        SensorSelfAttention(d_in=D_IN, d_token=10, n_heads=3)


def test_sensor_self_attention_uses_other_sensors():
    """Check that a sensor's value reaches the output through the attention."""
    attention = SensorSelfAttention(d_in=D_IN, d_token=8, n_heads=2, d_out=4).eval()
    missing = torch.zeros(2, D_IN, dtype=torch.bool)
    values = torch.zeros(2, D_IN)
    values[1, 5] = 3.0
    out = attention(values, missing)
    assert not torch.allclose(out[0], out[1])
