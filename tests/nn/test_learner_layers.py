"""Tests of the learner layers: numeric embeddings, soft clipping, ensembling."""

import pytest
import torch

from sksteel.nn import (
    MemberLinear,
    MemberScaling,
    NumericEmbedding,
    SoftClip,
    SteelNet,
    SteelNetLoss,
    average_member_probabilities,
)
from sksteel.nn._embeddings import quantile_bins


def _readings(n_samples=32, d_in=5, seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n_samples, d_in, generator=generator)
    x[::3, 1] = float("nan")
    x[:, 4] = float("nan")  # a column that never reads
    return x


def test_soft_clip_bounds_and_keeps_nan():
    """Check that SoftClip stays within its bound, is near identity at 0 and
    keeps NaN as NaN."""
    x = torch.tensor([-1e30, -5.0, 0.0, 0.1, 5.0, 1e30, float("nan")])
    out = SoftClip(bound=2.0)(x)
    assert torch.all(out[:-1].abs() <= 2.0)
    assert torch.isclose(out[3], torch.tensor(0.1), atol=1e-3)
    assert torch.isnan(out[-1])


def test_soft_clip_rejects_bad_bound():
    """Check that a non-positive bound is a clear error."""
    with pytest.raises(ValueError, match="must be positive"):
        SoftClip(bound=0.0)


@pytest.mark.parametrize("kind", ["periodic", "piecewise_linear"])
def test_numeric_embedding_shape_and_missing_token(kind):
    """Check the output shape, that a missing reading gets exactly its
    feature's missing token, and that outputs are finite."""
    x = _readings()
    missing = torch.isnan(x)
    bins = quantile_bins(x, n_bins=8) if kind == "piecewise_linear" else None
    embedding = NumericEmbedding(d_in=5, d_embedding=6, kind=kind, bins=bins)
    out = embedding(x.nan_to_num(), missing)
    assert out.shape == (32, 5, 6)
    assert torch.isfinite(out).all()
    assert torch.equal(out[0, 1], embedding.missing_token[1])
    assert torch.equal(out[5, 4], embedding.missing_token[4])
    # an observed reading equal to the fill value is not the missing token
    assert not torch.equal(out[1, 1], embedding.missing_token[1])


def test_numeric_embedding_needs_bins_for_piecewise_linear():
    """Check that piecewise-linear embeddings without bins is a clear error."""
    with pytest.raises(ValueError, match="needs `bins`"):
        NumericEmbedding(d_in=3, kind="piecewise_linear")
    with pytest.raises(ValueError, match="must be one of"):
        NumericEmbedding(d_in=3, kind="fourier")


def test_quantile_bins_ignore_nan_and_handle_constant_columns():
    """Check that bins come from observed readings only, are sorted and
    distinct, and that constant or empty columns still get two edges."""
    x = _readings()
    x[:, 2] = 3.0
    bins = quantile_bins(x, n_bins=4)
    assert len(bins) == 5
    for edges in bins:
        assert len(edges) >= 2 and torch.all(edges[1:] > edges[:-1])
    assert bins[2].tolist() == [2.0, 4.0]
    assert bins[4].tolist() == [-1.0, 1.0]


def test_member_layers_shapes_and_distinct_members():
    """Check the member layers' shapes and that members start different."""
    torch.manual_seed(0)
    scaled = MemberScaling(n_members=4, d_in=3)(torch.ones(2, 3))
    assert scaled.shape == (2, 4, 3)
    assert set(scaled.unique().tolist()) <= {-1.0, 1.0}
    out = MemberLinear(n_members=4, d_in=3, d_out=5)(scaled)
    assert out.shape == (2, 4, 5)
    assert not torch.allclose(out[:, 0], out[:, 1])


def test_average_member_probabilities_is_mean_of_probabilities():
    """Check that the ensemble's probability is the mean of the members'
    softmax, and that temperature flattens it."""
    logits = torch.randn(6, 3, 4, generator=torch.Generator().manual_seed(1))
    expected = torch.softmax(logits, dim=-1).mean(dim=1)
    torch.testing.assert_close(average_member_probabilities(logits).exp(), expected)
    hot = average_member_probabilities(logits, temperature=10.0).exp()
    assert hot.max() < expected.max()


@pytest.mark.parametrize("n_members", [1, 4])
def test_steelnet_learner_options_shapes_nan_and_determinism(n_members):
    """Check SteelNet with embeddings, soft clipping and k members: output
    shapes in training and evaluation, finite outputs with NaN inputs, and
    identical outputs for the same seed."""

    def build():
        torch.manual_seed(0)
        return SteelNet(
            d_in=5, n_classes=3, d_layers=(16, 8), d_token=4, n_heads=2,
            d_embedding=4, n_members=n_members, soft_clip=3.0,
        )

    x = _readings()
    net = build()
    logits, intensity, attribution = net(x)
    expected = (32, 3) if n_members == 1 else (32, n_members, 3)
    assert logits.shape == expected
    assert intensity.shape == (32,) and attribution.shape == (32, 5)
    net.eval()
    outputs = net(x)
    assert outputs[0].shape == (32, 3)
    assert all(torch.isfinite(out).all() for out in outputs)
    torch.testing.assert_close(outputs[2].sum(dim=1), torch.ones(32))
    again = build()
    again(x)  # the same training step moves batch norm's statistics alike
    again = again.eval()(x)
    for first, second in zip(outputs, again):
        assert torch.equal(first, second)


def test_steelnet_eval_probabilities_sum_to_one_with_members():
    """Check that an ensemble's evaluation logits are log-probabilities."""
    torch.manual_seed(0)
    net = SteelNet(d_in=5, n_classes=3, d_layers=(8,), d_token=4, n_members=3)
    net.eval()
    proba = torch.softmax(net(_readings())[0], dim=-1)
    torch.testing.assert_close(proba, net(_readings())[0].exp())


def test_loss_label_smoothing_and_member_mean():
    """Check that the class term of k members is the mean of their losses
    and that label smoothing changes a confident loss."""
    logits = torch.randn(8, 3, 4, generator=torch.Generator().manual_seed(2))
    y = torch.arange(8) % 4
    outputs = (logits, torch.zeros(8), torch.full((8, 5), 0.2))
    term = SteelNetLoss().terms(outputs, y)["class"]
    members = [
        torch.nn.functional.cross_entropy(logits[:, k], y) for k in range(3)
    ]
    torch.testing.assert_close(term, torch.stack(members).mean())
    confident = (torch.eye(4)[y] * 20.0, torch.zeros(8), torch.full((8, 5), 0.2))
    plain = SteelNetLoss().terms(confident, y)["class"]
    smoothed = SteelNetLoss(label_smoothing=0.1).terms(confident, y)["class"]
    assert smoothed > plain + 0.1
