"""Input-amplitude control: Phi = |x|, the window itself, with no model.

A model-free control (Eq. 1 and the one-pass choice do not apply): the map a method that merely
follows the input would draw.  The map carries no class sign, so sign alignment turns a normal
case's map negative; the ``absolute`` post-processing reads it as intended (its own best).  A
trained model's explanation that does not beat it localises nothing beyond the input.
"""

from __future__ import annotations

import numpy as np
import torch

from cinexai.attribution.base import AttributionContext
from cinexai.attribution.registry import register


@register("input_amplitude", {}, model_free=True)
def attribute(forward: None, x: torch.Tensor, ctx: AttributionContext, target: None) -> np.ndarray:
    """``|x|`` per case, channel and sample."""
    return x.detach().abs().cpu().numpy().astype(np.float32)
