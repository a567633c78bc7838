"""Random control: Phi drawn i.i.d. N(0, 1) per (channel, sample), seeded per case.

A floor for every metric (always in the grid).  It is model-free: Eq. 1 and the one-pass choice do
not apply, and the map of a case depends only on the run seed and the case id.
"""

from __future__ import annotations

import numpy as np
import torch

from cinexai.attribution.base import AttributionContext, derive_seed
from cinexai.attribution.registry import register


@register("random", {}, model_free=True)
def attribute(forward: None, x: torch.Tensor, ctx: AttributionContext, target: None) -> np.ndarray:
    """Standard-normal maps of the shape of ``x``, one generator per case."""
    n, c, t = x.shape
    ids = ctx.ids_for(n)
    return np.stack(
        [
            np.random.default_rng(derive_seed(ctx.seed, [ids[i]])).standard_normal((c, t))
            for i in range(n)
        ]
    ).astype(np.float32)
