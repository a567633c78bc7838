"""A ResNet that looks trained, shared by the checkpoint and randomisation tests."""

from __future__ import annotations

import torch

from cinexai.models.resnet import ResNet1d


def trained_like(in_channels: int = 3, **arch) -> ResNet1d:
    """A model whose weights and batch-norm statistics differ from a fresh one."""
    torch.manual_seed(1)
    model = ResNet1d(
        in_channels,
        mean=[0.1 * c for c in range(in_channels)],
        std=[1.0 + c for c in range(in_channels)],
        **arch,
    )
    model.train()
    model(torch.randn(16, in_channels, 200) * 3 + 1)  # moves BN running statistics
    with torch.no_grad():
        model.fc.weight.add_(0.5)
    return model.eval()
