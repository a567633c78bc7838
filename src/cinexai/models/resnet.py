"""XAI-ready 1D-ResNet for 12-lead windows (12 x T) and CineECG trajectories (3 x T).

Design choices follow section 3.2 of the paper and serve gradient-based attribution:

* input normalisation lives inside the model (registered buffers), so attributions are taken with
  respect to raw inputs in their physical units (mV for ECG, mm for CineECG);
* the stem downsamples with a strided convolution, never with pooling (no shattered gradients);
  by default (``stem="blur"``) that strided convolution is a fixed binomial [1, 2, 1] / 4 filter
  applied after a stride-1 learned convolution (anti-aliased downsampling, Zhang 2019).  The
  gradient of a learned stride-2 convolution is a stride-2 transposed convolution, which gives
  every other input sample a different subset of the kernel taps: a checkerboard (Odena et al.
  2016) that made attribution maps alternate sample by sample, as rough as white noise.  The
  binomial filter feeds even and odd samples the same total weight, so smooth upstream gradients
  stay smooth.  ``stem="strided"`` keeps the learned stride-2 convolution (paper Fig. 2);
* every convolution pads by replication (``nn.ReplicationPad1d`` + ``Conv1d(padding=0)``), which
  avoids the artificial zero edges that produce spurious importance at the window borders;
* global average pooling makes the head agnostic to the input length;
* no max-pooling, argmax or in-place activation: the model is differentiable end to end and every
  ``nn.ReLU`` module is used once (captum's DeepLift/DeepLiftShap rely on that).

``model(x) -> logits (N, n_classes)`` with ``x`` float32 ``(N, C, T)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

#: Stem variants: anti-aliased (stride-1 conv, then a fixed binomial stride-2 filter) or strided.
STEMS = ("blur", "strided")


def _replicated_conv(
    in_channels: int, out_channels: int, kernel_size: int, stride: int = 1
) -> nn.Sequential:
    """Replication padding + unpadded convolution; output length is ceil(T / stride)."""
    left, right = (kernel_size - 1) // 2, kernel_size // 2
    return nn.Sequential(
        nn.ReplicationPad1d((left, right)),
        nn.Conv1d(in_channels, out_channels, kernel_size, stride=stride, padding=0, bias=False),
    )


class BlurDownsample(nn.Module):
    """Fixed depthwise [1, 2, 1] / 4 filter with stride 2 and replication padding: length
    ceil(T / 2), even and odd input samples receive the same total gradient weight."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        kernel = torch.tensor([1.0, 2.0, 1.0]) / 4.0
        self.register_buffer("kernel", kernel.repeat(channels, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, (1, 1 + x.shape[-1] % 2), mode="replicate")
        return F.conv1d(x, self.kernel, stride=2, groups=x.shape[1])


class ResidualBlock(nn.Module):
    """Two replication-padded convolutions with batch norm and an identity shortcut."""

    def __init__(self, width: int, kernel_size: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            _replicated_conv(width, width, kernel_size),
            nn.BatchNorm1d(width),
            nn.ReLU(),
            _replicated_conv(width, width, kernel_size),
            nn.BatchNorm1d(width),
        )
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(x + self.body(x))


class ResNet1d(nn.Module):
    """Normalisation -> downsampling stem -> ``depth`` residual blocks -> GAP -> dropout -> linear.

    ``mean``/``std`` are the per-channel statistics of the training split (defaults 0 and 1);
    ``n_samples`` is recorded in :attr:`arch` for provenance only, the network accepts any length
    of at least ``kernel_size`` samples.
    """

    def __init__(
        self,
        in_channels: int,
        n_samples: int = 200,
        depth: int = 2,
        width: int = 32,
        kernel_size: int = 7,
        dropout: float = 0.2,
        n_classes: int = 2,
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
        stem: str = "blur",
    ) -> None:
        super().__init__()
        _check_arch(in_channels, n_samples, depth, width, kernel_size, dropout, n_classes)
        if stem not in STEMS:
            raise ValueError(f"stem must be one of {STEMS}, got {stem!r}")
        self._arch = {
            "in_channels": int(in_channels),
            "n_samples": int(n_samples),
            "depth": int(depth),
            "width": int(width),
            "kernel_size": int(kernel_size),
            "dropout": float(dropout),
            "n_classes": int(n_classes),
            "stem": stem,
        }
        self.register_buffer("mean", _channel_buffer(mean, in_channels, 0.0, "mean"))
        self.register_buffer("std", _channel_buffer(std, in_channels, 1.0, "std"))
        if not bool((self.std > 0).all()):
            raise ValueError(f"std must be positive for every channel, got {self.std.flatten()}")
        blur = stem == "blur"
        self.stem = nn.Sequential(
            _replicated_conv(in_channels, width, kernel_size, stride=1 if blur else 2),
            nn.BatchNorm1d(width),
            nn.ReLU(),
            BlurDownsample(width) if blur else nn.Identity(),
        )
        self.blocks = nn.Sequential(*[ResidualBlock(width, kernel_size) for _ in range(depth)])
        self.pool = nn.AdaptiveAvgPool1d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(width, n_classes)

    @property
    def arch(self) -> dict[str, Any]:
        """Constructor arguments (primitives only) that rebuild this architecture."""
        return dict(self._arch)

    @property
    def residual_blocks(self) -> list[nn.Module]:
        """The residual blocks in order (what latent-cluster explanations read; a model
        without residual blocks returns an empty list)."""
        return list(self.blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = (x - self.mean) / self.std
        z = self.blocks(self.stem(z))
        return self.fc(self.dropout(self.pool(z).flatten(1)))


def _check_arch(
    in_channels: int,
    n_samples: int,
    depth: int,
    width: int,
    kernel_size: int,
    dropout: float,
    n_classes: int,
) -> None:
    """Reject architectures that would not train or would break gradient coverage.

    ``kernel_size >= 2`` so that the stride-2 stem touches every input sample (non-zero gradient
    everywhere).
    """
    for name, value, low in (
        ("in_channels", in_channels, 1),
        ("n_samples", n_samples, 1),
        ("depth", depth, 0),
        ("width", width, 1),
        ("n_classes", n_classes, 2),
        ("kernel_size", kernel_size, 2),
    ):
        if int(value) != value or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")


def _channel_buffer(
    values: Sequence[float] | None, n: int, default: float, name: str
) -> torch.Tensor:
    """A (1, n, 1) float32 tensor from per-channel ``values`` (or ``default`` everywhere)."""
    if values is None:
        return torch.full((1, n, 1), default, dtype=torch.float32)
    t = torch.as_tensor(values, dtype=torch.float32).flatten()
    if t.numel() != n:
        raise ValueError(f"{name} has {t.numel()} values, expected one per channel ({n})")
    if not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} must be finite, got {t.tolist()}")
    return t.reshape(1, n, 1)
