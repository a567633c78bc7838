"""Segment-level LIME (captum ``Lime`` with a feature mask): (channel, 20 ms) groups.

The paper's LIME perturbs single samples (2,400 features on 12 x 200) and keeps 10 of them; it
sits at the all-salient floor.  Here a feature is one channel over one ``segment_ms`` stretch
(:func:`cinexai.attribution.base.segment_mask`: 240 features on the 12-lead window, 60 on CineECG
at 500 Hz and 20 ms), with the paper's budget (``n_samples: 500`` evaluations per case).  As in
the ``lime`` package's defaults: each perturbed sample switches every feature off with
probability 1/2 (an absent feature takes the normal reference-pool mean), samples are weighted by
``exp(-d^2 / w^2)`` with ``d`` the Euclidean distance of the binary representation to the case
(all ones) and ``w = kernel_width`` (null: 0.75 * sqrt(n_features)), and the surrogate is a ridge
regression (``alpha``) with intercept over every feature (no selection).  The ridge fit is linear
in the attributed output, so Eq. 1's one pass is exact with shared draws.  Every sample of a
segment receives the segment's coefficient.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from captum._utils.models.linear_model import SkLearnRidge
from captum.attr import Lime

from cinexai.attribution.base import AttributionContext, Forward, derive_seed, segment_mask
from cinexai.attribution.registry import choice, integer, number, optional, register

DEFAULTS = {
    "n_samples": 500,  # model evaluations per case (the paper's LIME budget)
    "segment_ms": 20.0,
    "baseline": "reference_mean",
    "kernel_width": None,  # None: lime's 0.75 * sqrt(n_features)
    "alpha": 1.0,  # ridge penalty (lime's Ridge(alpha=1))
}
PARAMS = {
    "n_samples": integer(2),
    "segment_ms": number(0.0, positive=True),
    "baseline": choice("reference_mean", "zero"),
    "kernel_width": optional(number(0.0, positive=True)),
    "alpha": number(0.0),
}


def similarity(kernel_width: float) -> Any:
    """captum similarity: exponential kernel of the binary representation's distance to all-ones."""

    def kernel(_: Any, __: Any, interpretable: torch.Tensor, **kwargs: Any) -> float:
        distance_sq = float(((1.0 - interpretable.float()) ** 2).sum())
        return math.exp(-distance_sq / kernel_width**2)

    return kernel


@register("segment_lime", DEFAULTS, params=PARAMS)
def attribute(
    forward: Forward, x: torch.Tensor, ctx: AttributionContext, target: int
) -> np.ndarray:
    """Segment LIME coefficients of output ``target`` of ``forward`` for each case of ``x``."""
    n, c, t = x.shape
    p = ctx.params
    mask = segment_mask((c, t), ctx.fs, float(p["segment_ms"])).to(x.device)
    n_features = int(mask.max()) + 1
    width = p["kernel_width"] or 0.75 * math.sqrt(n_features)
    baseline = ctx.baseline(str(p["baseline"]), x)
    ids = ctx.ids_for(n)
    out = np.empty((n, c, t), dtype=np.float32)
    for i in range(n):
        torch.manual_seed(derive_seed(ctx.seed, [ids[i]]))
        explainer = Lime(
            forward,
            interpretable_model=SkLearnRidge(alpha=float(p["alpha"])),
            similarity_func=similarity(float(width)),
        )
        phi = explainer.attribute(
            x[i : i + 1],
            baselines=baseline,
            target=target,
            feature_mask=mask,
            n_samples=int(p["n_samples"]),
            perturbations_per_eval=max(1, int(ctx.batch_size)),
        )
        out[i] = phi[0].detach().cpu().numpy()
    return out
