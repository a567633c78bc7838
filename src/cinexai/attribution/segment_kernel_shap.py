"""Segment-level KernelSHAP (captum ``KernelShap`` with a feature mask): (channel, 20 ms) groups.

The per-sample KernelSHAP of the paper spends 100 model evaluations on 2,400 features (12 x 200)
and sits at the all-salient floor.  Here a feature is one channel over one ``segment_ms`` stretch
of the window (:func:`cinexai.attribution.base.segment_mask`): 12 x 20 = 240 features on the
12-lead window, 3 x 20 = 60 on CineECG at 500 Hz and 20 ms; with the paper's budget
(``n_samples: 100`` evaluations per case).  An absent feature takes the value of the normal
reference-pool mean (the background of :mod:`cinexai.attribution.kernel_shap`).  captum fits the
Shapley-kernel-weighted linear regression (no feature selection), which is linear in the
attributed output, so Eq. 1's one pass is exact with shared draws.  Every sample of a segment
receives the segment's value.
"""

from __future__ import annotations

import numpy as np
import torch
from captum.attr import KernelShap

from cinexai.attribution.base import AttributionContext, Forward, derive_seed, segment_mask
from cinexai.attribution.registry import choice, integer, number, register

DEFAULTS = {
    "n_samples": 100,  # model evaluations per case (the paper's KernelSHAP budget)
    "segment_ms": 20.0,
    "baseline": "reference_mean",
}
PARAMS = {
    "n_samples": integer(2),
    "segment_ms": number(0.0, positive=True),
    "baseline": choice("reference_mean", "zero"),
}


@register("segment_kernel_shap", DEFAULTS, params=PARAMS)
def attribute(
    forward: Forward, x: torch.Tensor, ctx: AttributionContext, target: int
) -> np.ndarray:
    """Segment Shapley values of output ``target`` of ``forward`` for each case of ``x``."""
    n, c, t = x.shape
    mask = segment_mask((c, t), ctx.fs, float(ctx.params["segment_ms"])).to(x.device)
    baseline = ctx.baseline(str(ctx.params["baseline"]), x)
    explainer = KernelShap(forward)
    ids = ctx.ids_for(n)
    out = np.empty((n, c, t), dtype=np.float32)
    for i in range(n):
        torch.manual_seed(derive_seed(ctx.seed, [ids[i]]))
        phi = explainer.attribute(
            x[i : i + 1],
            baselines=baseline,
            target=target,
            feature_mask=mask,
            n_samples=int(ctx.params["n_samples"]),
            perturbations_per_eval=max(1, int(ctx.batch_size)),
        )
        out[i] = phi[0].detach().cpu().numpy()
    return out
