"""The model-randomisation control."""

from __future__ import annotations

import torch

from cinexai.models.randomize import randomized_copy
from cinexai.models.resnet import ResNet1d


def _trained_like(in_channels: int = 3) -> ResNet1d:
    """A model whose weights and batch-norm statistics differ from a fresh one."""
    torch.manual_seed(1)
    model = ResNet1d(
        in_channels,
        mean=[0.1 * c for c in range(in_channels)],
        std=[1.0 + c for c in range(in_channels)],
    )
    model.train()
    model(torch.randn(16, in_channels, 200) * 3 + 1)  # moves BN running statistics
    with torch.no_grad():
        model.fc.weight.add_(0.5)
    return model.eval()


def test_randomized_copy_reinitialises_weights_only() -> None:
    model = _trained_like(3)
    rng_before = torch.get_rng_state()
    a, b, c = randomized_copy(model, 7), randomized_copy(model, 7), randomized_copy(model, 8)
    assert torch.equal(torch.get_rng_state(), rng_before)
    assert a.arch == model.arch and not a.training
    assert torch.equal(a.mean, model.mean) and torch.equal(a.std, model.std)
    assert torch.equal(a.fc.weight, b.fc.weight)
    assert not torch.equal(a.fc.weight, c.fc.weight)
    assert not torch.equal(a.fc.weight, model.fc.weight)
    assert torch.equal(a.stem[1].running_var, torch.ones_like(a.stem[1].running_var))
    x = torch.randn(2, 3, 200)
    assert not torch.allclose(a(x), model(x))
