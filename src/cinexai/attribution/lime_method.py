"""LIME (lime_tabular.LimeTabularExplainer) on the flattened window.

Paper, section 3.3: a linear surrogate trained on 500 perturbed samples "with individual time-steps
treated as discretized features".  We therefore use the tabular explainer on the flattened window
(every (channel, sample) is a feature, as for KernelSHAP), with the normal reference pool as
training data and ``discretize_continuous`` (quartile bins): a perturbed sample draws each
feature's bin from the pool and a value inside it; the surrogate's features say "same bin as the
case".  The defaults
are lime's own, which the paper did not report changing: ``num_features: 10`` (only 10 non-zero
features per case), ``feature_selection: auto`` (``highest_weights`` for more than 6 features) and
``kernel_width: null`` (0.75 * sqrt(n_features): 36.7 for 12 x 200, 18.4 for 3 x 200).
``num_features: all`` keeps every feature.  The explainer runs in regression mode on the single
attributed output column, which equals classification mode for that label and also accepts ``g``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.stats
import torch
from lime.discretize import BaseDiscretizer
from lime.lime_tabular import LimeTabularExplainer

from cinexai.attribution.base import AttributionContext, Forward, derive_seed, numpy_output
from cinexai.attribution.registry import choice, integer, number, optional, register

DEFAULTS = {
    "baseline": "reference_pool",  # training data of the explainer (bin statistics)
    "num_samples": 500,
    "num_features": 10,  # lime's default; "all" = C * T
    "kernel_width": None,  # None: lime's 0.75 * sqrt(C * T)
    "feature_selection": "auto",  # auto | highest_weights | forward_selection | lasso_path
    # | none
    "discretize_continuous": True,
    "discretizer": "quartile",  # quartile | decile | entropy
}
PARAMS = {
    "baseline": choice("reference_pool"),
    "num_samples": integer(1),
    "num_features": integer(1, words=("all",)),
    "kernel_width": optional(number(0.0, positive=True)),
    "feature_selection": choice(
        "auto", "highest_weights", "forward_selection", "lasso_path", "none"
    ),
    "discretize_continuous": choice(True, False),
    "discretizer": choice("quartile", "decile", "entropy"),
}


def n_features(value: int | str, total: int) -> int:
    """``num_features`` as an integer in ``[1, total]`` (``all`` -> ``total``)."""
    if isinstance(value, str) and value.lower() == "all":
        return total
    k = int(value)
    if k < 1:
        raise ValueError(f"lime num_features must be >= 1 or 'all', got {value!r}")
    return min(k, total)


def _bin_table(stats: dict[int, list[float]], features: list[int]) -> np.ndarray:
    """Per-feature bin statistics as a ``(F, max_bins)`` array (NaN-padded)."""
    width = max(len(stats[f]) for f in features)
    table = np.full((len(features), width), np.nan)
    for j, f in enumerate(features):
        table[j, : len(stats[f])] = stats[f]
    return table


def vectorized_undiscretize(discretizer: BaseDiscretizer) -> Any:
    """Drop-in for ``discretizer.undiscretize`` drawing the same values in one truncnorm call.

    lime calls ``scipy.stats.truncnorm.rvs`` once per feature (~7 ms each, 2,400 features for a
    12-lead window); inverse-CDF sampling consumes the RandomState feature by feature in sample
    order, so one call on the features' draws concatenated in that order is draw-for-draw equal
    (checked by a test against lime's own method).
    """
    features = list(discretizer.means)
    stats = {
        name: _bin_table(getattr(discretizer, name), features)
        for name in ("mins", "maxs", "means", "stds")
    }
    rows = np.arange(len(features))[:, None]

    def undiscretize(data: np.ndarray) -> np.ndarray:
        ret = data.copy()
        bins = data[:, features].astype(int).T  # (F, n), lime's loop order
        mins, maxs, means, stds = (stats[k][rows, bins] for k in ("mins", "maxs", "means", "stds"))
        minz, maxz = (mins - means) / stds, (maxs - means) / stds
        unequal = minz != maxz
        values = minz.copy()  # lime keeps minz there
        values[unequal] = scipy.stats.truncnorm.rvs(
            minz[unequal],
            maxz[unequal],
            loc=means[unequal],
            scale=stds[unequal],
            random_state=discretizer.random_state,
        )
        ret[:, features] = values.T
        return ret

    return undiscretize


def explainer(ctx: AttributionContext) -> LimeTabularExplainer:
    """A regression-mode tabular explainer fitted on the flattened reference pool."""
    p = ctx.params
    if p["baseline"] != "reference_pool":
        raise ValueError(f"lime baseline must be 'reference_pool', got {p['baseline']!r}")
    pool = ctx.reference_pool().cpu().numpy()
    flat = pool.reshape(pool.shape[0], -1).astype(np.float64)
    lime = LimeTabularExplainer(
        flat,
        mode="regression",
        kernel_width=p["kernel_width"],
        feature_selection=p["feature_selection"],
        discretize_continuous=bool(p["discretize_continuous"]),
        discretizer=p["discretizer"],
        random_state=np.random.RandomState(ctx.seed % 2**32),
    )
    if lime.discretizer is not None:
        lime.discretizer.undiscretize = vectorized_undiscretize(lime.discretizer)
    return lime


@register("lime", DEFAULTS, params=PARAMS)
def attribute(
    forward: Forward, x: torch.Tensor, ctx: AttributionContext, target: int
) -> np.ndarray:
    """LIME surrogate coefficients of output ``target`` for each case of ``x`` ``(N, C, T)``."""
    n, c, t = x.shape
    predict = numpy_output(forward, target, (c, t), ctx)
    lime = ctx.cached("lime_explainer", lambda: explainer(ctx))
    k = n_features(ctx.params["num_features"], c * t)
    flat = x.detach().cpu().numpy().reshape(n, c * t).astype(np.float64)
    ids = ctx.ids_for(n)
    out = np.zeros((n, c * t), dtype=np.float32)
    for i in range(n):
        # the explainer, its discretizer and LimeBase share this RandomState: reseed per case
        lime.random_state.seed(derive_seed(ctx.seed, [ids[i]]))
        exp = lime.explain_instance(
            flat[i], predict, num_features=k, num_samples=int(ctx.params["num_samples"])
        )
        # regression mode: local_exp[1] holds the fitted coefficients (local_exp[0] negated)
        for feature, weight in exp.local_exp[1]:
            out[i, feature] = weight
    return out.reshape(n, c, t)
