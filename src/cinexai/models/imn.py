"""ECG-IMN: an interpretable mesomorphic network (a hypernetwork generating a linear model per input).

Our implementation of the published design (Thambawita et al. 2026, facts in
``shared/spec/ecg-imn.md``), for 12-lead windows (12 x T) and CineECG trajectories (3 x T):

* the input is normalised inside the model, ``z = (x - mean) / std`` per channel with the training
  split's statistics (as in :class:`cinexai.models.resnet.ResNet1d`), and read as a one-channel
  image ``(N, 1, C, T)``;
* backbone: three Conv2d blocks ``1 -> w -> 2w -> 4w`` (kernel 3 channels x ``kernel_size``
  samples, BatchNorm, GELU), the last two followed by max-pooling (1, 2) in time, then dropout;
* transition decoder: twice [Conv 3x3 + BatchNorm + GELU + nearest x2 upsampling in time]
  (``4w -> 2w -> w``), then Conv ``w -> K``: the weights ``W`` of shape ``(N, K, C, T)``, exactly
  the input's;
* bias ``b``: global average pool of the latent, then Linear ``4w -> K``;
* ``logit_k = sum_{c,t} W_k[c,t] * z[c,t] + b_k`` (exact, see :meth:`IMN.contributions`).

Any length is handled: the time axis is padded by replication to a multiple of 4 before the
backbone and ``W`` is cropped back to ``T``.

What the decomposition is relative to: with ``z = (x - mean) / std``,
``W * z = (W / std) * (x - mean)``, so the contribution of cell (c, t) is zero when ``x[c, t]``
equals the training mean of lead c: W * z is exact relative to the per-lead mean (with ``W`` held
at ``W(x)``), not relative to 0 mV.  Gradients of the logit differ from ``W``:
``d logit / dx = (W + (dW/dx)^T z) / std``, which is why gradient methods on the IMN are a
different explanation from its own ``W * z``.

Training loss (:meth:`IMN.loss`): cross-entropy + ``l1_lambda * mean|W|``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from cinexai.models.resnet import _channel_buffer

#: Time is pooled twice by 2 in the backbone: inputs are padded to a multiple of this.
TIME_MULTIPLE = 4


def _block(cin: int, cout: int, kernel: tuple[int, int]) -> list[nn.Module]:
    padding = (kernel[0] // 2, kernel[1] // 2)
    return [nn.Conv2d(cin, cout, kernel, padding=padding), nn.BatchNorm2d(cout), nn.GELU()]


class IMN(nn.Module):
    """Hypernetwork ``x -> (W(x), b(x))`` with ``logits = sum(W * z) + b`` (module docstring).

    ``width`` is the first backbone block's channel count (the published model: 16);
    ``kernel_size`` the convolutions' extent in time (published: 15); ``l1_lambda`` weighs
    ``mean|W|`` in :meth:`loss` (published default 1e-4).
    """

    def __init__(
        self,
        in_channels: int,
        n_samples: int = 200,
        width: int = 16,
        kernel_size: int = 15,
        dropout: float = 0.2,
        n_classes: int = 2,
        l1_lambda: float = 1e-4,
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
    ) -> None:
        super().__init__()
        for name, value, low in (
            ("in_channels", in_channels, 1),
            ("n_samples", n_samples, 1),
            ("width", width, 1),
            ("kernel_size", kernel_size, 1),
            ("n_classes", n_classes, 2),
        ):
            if int(value) != value or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        if not l1_lambda >= 0.0:
            raise ValueError(f"l1_lambda must be >= 0, got {l1_lambda!r}")
        self._arch = {
            "in_channels": int(in_channels),
            "n_samples": int(n_samples),
            "width": int(width),
            "kernel_size": int(kernel_size),
            "dropout": float(dropout),
            "n_classes": int(n_classes),
            "l1_lambda": float(l1_lambda),
        }
        self.l1_lambda = float(l1_lambda)
        self.register_buffer("mean", _channel_buffer(mean, in_channels, 0.0, "mean"))
        self.register_buffer("std", _channel_buffer(std, in_channels, 1.0, "std"))
        if not bool((self.std > 0).all()):
            raise ValueError(f"std must be positive for every channel, got {self.std.flatten()}")
        w, k = int(width), (3, int(kernel_size))
        pool = nn.MaxPool2d((1, 2))
        self.backbone = nn.Sequential(
            *_block(1, w, k),
            *_block(w, 2 * w, k),
            pool,
            *_block(2 * w, 4 * w, k),
            nn.MaxPool2d((1, 2)),
            nn.Dropout(dropout),
        )
        up = {"scale_factor": (1, 2), "mode": "nearest"}
        self.decoder = nn.Sequential(
            *_block(4 * w, 2 * w, (3, 3)),
            nn.Upsample(**up),
            *_block(2 * w, w, (3, 3)),
            nn.Upsample(**up),
            nn.Conv2d(w, int(n_classes), 3, padding=1),
        )
        self.bias = nn.Linear(4 * w, int(n_classes))

    @property
    def arch(self) -> dict[str, Any]:
        """Constructor arguments (primitives only) that rebuild this architecture."""
        return dict(self._arch)

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        """``z = (x - mean) / std`` per channel: the input the linear model reads."""
        return (x - self.mean) / self.std

    def generate(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(W (N, K, C, T), b (N, K), z (N, C, T))`` for raw inputs ``x`` ``(N, C, T)``."""
        z = self.normalise(x)
        length = z.shape[-1]
        pad = (-length) % TIME_MULTIPLE
        image = (F.pad(z, (0, pad), mode="replicate") if pad else z).unsqueeze(1)
        latent = self.backbone(image)
        weights = self.decoder(latent)[..., :length]
        return weights, self.bias(latent.mean(dim=(2, 3))), z

    def contributions(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(W * z (N, K, C, T), b (N, K))``: the logits are exactly their sums plus ``b``."""
        weights, bias, z = self.generate(x)
        return weights * z.unsqueeze(1), bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts, bias = self.contributions(x)
        return parts.sum(dim=(2, 3)) + bias

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Cross-entropy + ``l1_lambda * mean|W|`` (the published training objective)."""
        weights, bias, z = self.generate(x)
        logits = (weights * z.unsqueeze(1)).sum(dim=(2, 3)) + bias
        return F.cross_entropy(logits, y) + self.l1_lambda * weights.abs().mean()
