"""GradientSHAP (captum) with the 150-window normal reference pool as the baseline distribution.

captum evaluates ``N * n_samples`` model inputs at once, so cases are attributed in groups of at
most ``batch_size // n_samples`` to bound memory.
"""

from __future__ import annotations

import numpy as np
import torch
from captum.attr import GradientShap

from cinexai.attribution.base import AttributionContext, Forward
from cinexai.attribution.registry import choice, integer, number, register

DEFAULTS = {
    "baseline": "reference_pool",  # the only choice: baselines drawn from the reference pool
    "n_samples": 50,
    "stdevs": 0.0,
}
PARAMS = {
    "baseline": choice("reference_pool"),
    "n_samples": integer(1),
    "stdevs": number(0.0),
}


@register("gradient_shap", DEFAULTS, params=PARAMS)
def attribute(
    forward: Forward, x: torch.Tensor, ctx: AttributionContext, target: int
) -> np.ndarray:
    """GradientSHAP of output ``target`` of ``forward`` for ``x`` ``(N, C, T)``."""
    p = ctx.params
    if p["baseline"] != "reference_pool":
        raise ValueError(f"gradient_shap baseline must be 'reference_pool', got {p['baseline']!r}")
    pool = ctx.reference_pool()
    n_samples = int(p["n_samples"])
    group = max(1, ctx.batch_size // n_samples)
    explainer = GradientShap(forward)
    parts = []
    for start in range(0, x.shape[0], group):
        inputs = x[start : start + group].detach().clone().requires_grad_(True)
        attr = explainer.attribute(
            inputs, baselines=pool, n_samples=n_samples, stdevs=float(p["stdevs"]), target=target
        )
        parts.append(attr.detach().cpu().numpy())
    return np.concatenate(parts, axis=0)
