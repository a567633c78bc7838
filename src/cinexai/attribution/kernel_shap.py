"""KernelSHAP (shap.KernelExplainer) on the flattened window: every (channel, sample) is a feature.

As in the paper: 100 model evaluations per instance and shap's default ``l1_reg="num_features(10)"``
(kept explicit: at most 10 non-zero features per case, which may explain the paper's near-zero
Spearman); ``l1_reg: false`` switches the selection off, which needs ``nsamples`` > C*T (shap's
``auto`` = 2*C*T + 2048): with fewer samples the regression is underdetermined and shap's
``np.linalg.solve`` returns unbounded values (seen: 1e29 for 3 x 200 with 100 samples), so that
combination is refused.  The background is the reference-pool mean (one row, so ``nsamples``
model evaluations per case) or ``n_clusters`` k-means centres of the pool (``nsamples *
n_clusters`` evaluations).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shap
import torch

from cinexai.attribution.base import AttributionContext, Forward, derive_seed, numpy_output
from cinexai.attribution.registry import any_of, choice, integer, matches, number, register

DEFAULTS = {
    "nsamples": 100,  # or "auto": 2 * C * T + 2048
    "l1_reg": "num_features(10)",
    "background": "reference_mean",  # reference_mean | reference_kmeans
    "n_clusters": 10,  # k for reference_kmeans
}
#: l1_reg strings: shap's choices, and ours that switch selection off.
L1_WORDS = r"num_features\(\d+\)|auto|aic|bic|false|none|off"


PARAMS = {
    "nsamples": integer(1, words=("auto",)),
    "l1_reg": any_of(
        choice(None, False),
        number(0.0),
        matches(L1_WORDS),
        what="false, a number >= 0, 'num_features(k)', 'auto', 'aic' or 'bic'",
    ),
    "background": choice("reference_mean", "reference_kmeans"),
    "n_clusters": integer(1),
}


def l1_setting(value: Any) -> str | float | bool:
    """shap's ``l1_reg`` from a config value; ``false``/``none``/0 switch selection off."""
    if (
        value is None
        or value is False
        or (isinstance(value, str) and value.lower() in ("false", "none", "off"))
    ):
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return False if value == 0 else float(value)
    return str(value)


def n_samples(value: int | str, n_features: int) -> int:
    """``nsamples`` as an integer (``auto`` -> shap's 2 * n_features + 2048)."""
    if isinstance(value, str) and value.lower() == "auto":
        return 2 * n_features + 2**11
    return int(value)


def background(ctx: AttributionContext) -> Any:
    """The background data set of the explainer (flattened), per ``ctx.params['background']``."""
    kind = ctx.params["background"]
    pool = ctx.reference_pool().cpu().numpy()
    flat = pool.reshape(pool.shape[0], -1).astype(np.float64)
    if kind == "reference_mean":
        return flat.mean(axis=0, keepdims=True)
    if kind == "reference_kmeans":
        k = min(int(ctx.params["n_clusters"]), flat.shape[0])
        return shap.kmeans(flat, k)  # sklearn KMeans with shap's fixed random_state=0
    raise ValueError(
        f"kernel_shap background must be 'reference_mean' or 'reference_kmeans', got {kind!r}"
    )


@register("kernel_shap", DEFAULTS, params=PARAMS)
def attribute(
    forward: Forward, x: torch.Tensor, ctx: AttributionContext, target: int
) -> np.ndarray:
    """KernelSHAP values of output ``target`` of ``forward`` for each case of ``x``."""
    n, c, t = x.shape
    l1_reg, nsamples = l1_setting(ctx.params["l1_reg"]), n_samples(ctx.params["nsamples"], c * t)
    if l1_reg is False and nsamples <= c * t:
        raise ValueError(
            f"kernel_shap with l1_reg=false needs nsamples > {c * t} features "
            f"(got {nsamples}); use nsamples: auto or keep l1_reg"
        )
    predict = numpy_output(forward, target, (c, t), ctx)
    data = ctx.cached("kernel_shap_background", lambda: background(ctx))
    explainer = shap.KernelExplainer(predict, data, link="identity")
    flat = x.detach().cpu().numpy().reshape(n, c * t).astype(np.float64)
    ids = ctx.ids_for(n)
    out = np.empty((n, c * t), dtype=np.float32)
    for i in range(n):
        np.random.seed(derive_seed(ctx.seed, [ids[i]]))
        values = explainer.shap_values(
            flat[i : i + 1], nsamples=nsamples, l1_reg=l1_reg, silent=True
        )
        out[i] = np.asarray(values, dtype=np.float32).reshape(c * t)
    return out.reshape(n, c, t)
