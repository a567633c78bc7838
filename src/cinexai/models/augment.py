"""Training-time augmentation: time masking (cutout along time, all channels at once).

Why: in a cohort where one sign suffices (an anterior infarction's initial Q forces, the J point
of an ST elevation), a classifier learns that one sign and its attributions ignore the rest of
the evidence a cardiologist marks (the T inversion, the ST plateau).  Blanking a random stretch of
the beat to the isoelectric line (0 mV: windows are baseline-corrected at ingestion) now and then
during training hides any single sign in some batches, so the model must learn every sign of a
family (DeVries & Taylor 2017 "cutout"; Park et al. 2019 "SpecAugment" time masking).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class TimeMask:
    """Blank one stretch of ``width`` samples in [min_samples, max_samples] with ``probability``.

    Each window of a batch draws its own decision, width and start from ``generator``.
    """

    probability: float
    min_samples: int
    max_samples: int

    def __post_init__(self) -> None:
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError(f"time mask probability must be in [0, 1], got {self.probability}")
        if not 1 <= self.min_samples <= self.max_samples:
            raise ValueError(
                f"time mask width must satisfy 1 <= min <= max, got "
                f"[{self.min_samples}, {self.max_samples}] samples"
            )

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any] | None, fs: float) -> TimeMask | None:
        """``models.augment.time_mask`` ({probability, width_ms: [lo, hi]}) at ``fs`` Hz, or None.

        None when the section is absent or its probability is 0 (no augmentation).
        """
        if not cfg or float(cfg.get("probability", 0.0)) == 0.0:
            return None
        lo, hi = (max(1, round(float(ms) * fs / 1000.0)) for ms in cfg["width_ms"])
        return cls(float(cfg["probability"]), lo, hi)

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """A copy of ``x`` (N, C, T) with the drawn stretches set to 0; ``x`` is left untouched."""
        n, _, length = x.shape
        width = min(self.max_samples, length)
        lo = min(self.min_samples, width)
        apply = torch.rand(n, generator=generator) < self.probability
        widths = torch.randint(lo, width + 1, (n,), generator=generator)
        starts = (torch.rand(n, generator=generator) * (length - widths + 1)).long()
        t = torch.arange(length)
        hidden = apply[:, None] & (t >= starts[:, None]) & (t < (starts + widths)[:, None])
        return x.masked_fill(hidden[:, None, :].to(x.device), 0.0)
