"""Deviation-from-normal control: Phi = |x - mean normal reference beat|, with no model.

A model-free control (Eq. 1 and the one-pass choice do not apply): where the case differs from
the mean of the source's normal reference pool, which is what a normal-reference baseline
subtracts.  The map carries no class sign, so sign alignment turns a normal case's map negative;
the ``absolute`` post-processing reads it as intended (its own best).  An explanation that does
not beat it localises nothing beyond "this beat differs from the average normal beat".
"""

from __future__ import annotations

import numpy as np
import torch

from cinexai.attribution.base import AttributionContext
from cinexai.attribution.registry import register


@register("input_deviation", {}, model_free=True)
def attribute(forward: None, x: torch.Tensor, ctx: AttributionContext, target: None) -> np.ndarray:
    """``|x - mean(reference pool)|`` per case, channel and sample."""
    deviation = x.detach() - ctx.reference_mean().to(x.device, x.dtype)
    return deviation.abs().cpu().numpy().astype(np.float32)
