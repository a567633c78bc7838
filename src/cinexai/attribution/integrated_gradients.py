"""Integrated Gradients (captum) smoothed by NoiseTunnel as in the paper: 50 steps, 40 x N(0, .15).

``nt_samples: 0`` gives plain IG (no noise), whose attributions sum to ``f(x) - f(baseline)``.
``stdev`` is absolute, in the input's units (mV for ECG windows, mm for CineECG).  Path and noise
samples are evaluated in chunks of ``internal_batch_size`` model inputs (default: the attribution
``batch_size``), which keeps the forward/backward passes at full batch size.
"""

from __future__ import annotations

import numpy as np
import torch
from captum.attr import IntegratedGradients, NoiseTunnel

from cinexai.attribution.base import AttributionContext, Forward
from cinexai.attribution.registry import choice, integer, number, optional, register

DEFAULTS = {
    "baseline": "zero",  # zero (captum's default) | reference_mean
    "n_steps": 50,
    "nt_samples": 40,  # 0: no NoiseTunnel
    "stdev": 0.15,
    "nt_type": "smoothgrad",  # smoothgrad | smoothgrad_sq | vargrad
    "integration": "gausslegendre",  # captum's IG `method`
    "internal_batch_size": None,  # None: attribution.batch_size
}
#: captum's IG integration methods.
INTEGRATIONS = (
    "riemann_right",
    "riemann_left",
    "riemann_middle",
    "riemann_trapezoid",
    "gausslegendre",
)
PARAMS = {
    "baseline": choice("zero", "reference_mean"),
    "n_steps": integer(1),
    "nt_samples": integer(0),
    "stdev": number(0.0),
    "nt_type": choice("smoothgrad", "smoothgrad_sq", "vargrad"),
    "integration": choice(*INTEGRATIONS),
    "internal_batch_size": optional(integer(1)),
}


@register("integrated_gradients", DEFAULTS, params=PARAMS)
def attribute(
    forward: Forward, x: torch.Tensor, ctx: AttributionContext, target: int
) -> np.ndarray:
    """IG of output ``target`` of ``forward`` for ``x`` ``(N, C, T)``, noise-tunnelled if asked."""
    p = ctx.params
    baseline = ctx.baseline(p["baseline"], x)
    ig = IntegratedGradients(forward)
    batch = int(p["internal_batch_size"] or ctx.batch_size)
    kwargs = dict(
        baselines=baseline, target=target, n_steps=int(p["n_steps"]), method=p["integration"]
    )
    inputs = x.detach().clone().requires_grad_(True)
    nt_samples = int(p["nt_samples"])
    if nt_samples <= 0:
        attr = ig.attribute(inputs, internal_batch_size=max(batch, x.shape[0]), **kwargs)
    else:
        # NoiseTunnel hands IG chunks of `nt_batch` noisy copies per case; size them so that whole
        # paths fill the internal batch (40 x 50 at batch 256: 8 chunks of 5 paths = 250 inputs)
        nt_batch = max(1, min(nt_samples, batch // (x.shape[0] * int(p["n_steps"]))))
        attr = NoiseTunnel(ig).attribute(
            inputs,
            nt_type=p["nt_type"],
            nt_samples=nt_samples,
            stdevs=float(p["stdev"]),
            nt_samples_batch_size=nt_batch,
            internal_batch_size=max(batch, x.shape[0] * nt_batch),
            **kwargs,
        )
    return attr.detach().cpu().numpy()
