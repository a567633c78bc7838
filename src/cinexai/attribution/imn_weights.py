"""ECG-IMN intrinsic explanation: the model's own generated weights, read in one forward pass.

The IMN computes ``logit_k = sum_{c,t} W_k(x)[c,t] * z[c,t] + b_k(x)`` with ``z = (x - mean) /
std`` (:mod:`cinexai.models.imn`).  Eq. 1 on the logits is then exact and needs no approximation:

* ``read: contribution``: ``Phi = (W_1 * z - W_0 * z) / 2``, the exact contribution of each cell to
  ``(logit_1 - logit_0) / 2`` (the cells sum to it minus ``(b_1 - b_0) / 2``), relative to the
  per-lead training mean (a cell at the mean contributes 0);
* ``read: weights``: ``Phi = (W_1 - W_0) / 2``, the raw generated weights (IMN's "weights" view).

It is defined for IMN models only (the grid expands it on the ``imn`` architecture only, see
:mod:`cinexai.grid`); ``model: randomized`` reads a re-initialised hypernetwork the same way (the
model-randomisation control).  ``attribution.output`` and ``one_pass`` do not apply: W is read
from the logits, once.
"""

from __future__ import annotations

import numpy as np
import torch

from cinexai.attribution.base import AttributionContext
from cinexai.attribution.registry import choice, register
from cinexai.models.imn import IMN

DEFAULTS = {"read": "contribution"}
PARAMS = {"read": choice("contribution", "weights")}


@register("imn_weights", DEFAULTS, params=PARAMS, intrinsic=True)
def attribute(forward: None, x: torch.Tensor, ctx: AttributionContext, target: None) -> np.ndarray:
    """Phi ``(N, C, T)`` of Eq. 1 from ``ctx.model``'s generated weights (module docstring)."""
    model = ctx.model
    if not isinstance(model, IMN):
        raise TypeError(
            f"imn_weights reads an IMN's generated weights; the model is "
            f"{type(model).__name__} (run it on the imn architecture only)"
        )
    with torch.no_grad():
        weights, _, z = model.generate(x.to(ctx.device))
        if ctx.params["read"] == "contribution":
            weights = weights * z.unsqueeze(1)
        phi = (weights[:, 1] - weights[:, 0]) / 2
    return phi.cpu().numpy()
