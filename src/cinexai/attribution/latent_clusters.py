"""Latent-cluster explanation (Boubekki et al. 2025): Phi(t) = the forest's SHAP contribution to
"abnormal" of the cluster active at t, with the assignment entropy as its uncertainty.

Per evaluation case: one forward pass collects the residual-block activations per timestamp, the
fitted mixture gives soft assignments (cluster label = most likely cluster, uncertainty = entropy
in nats, in [0, log K]), the cluster proportions feed the forest, and shap's TreeExplainer splits
its P(abnormal) into per-cluster contributions.  Phi is time-only (the same on every channel).
``weighting: certainty`` multiplies Phi by 1 - entropy / log K, so uncertain timestamps count less.

The method needs the fitted clusterer and forest of the fit stage, so its instances are run by the
``explain_clusters`` rule (:func:`explain`), not by the ``attribute`` rule; the output has the
attribution long format plus ``uncertainty`` and ``cluster`` columns and is scored like any other.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np
import torch

from cinexai.attribution import registry, run
from cinexai.attribution.base import AttributionContext
from cinexai.attribution.mapping import long_table
from cinexai.attribution.registry import choice, integer, register
from cinexai.clusters import latent
from cinexai.clusters.fit import frozen_model
from cinexai.clusters.settings import settings
from cinexai.clusters.store import FittedState, load_state
from cinexai.io import file_sha256, package_versions, read_signals, read_table, write_table

log = logging.getLogger(__name__)

NAME = "latent_clusters"
DEFAULTS = {"n_clusters": 8, "weighting": "none"}
#: ``ctx.cache`` keys: the (model, fitted state, n_layers) to explain with; the last explanation.
STATE, EXPLANATION = "latent_clusters_state", "latent_clusters_explanation"


#: K >= 2 (one cluster explains nothing); the weighting is one of :data:`latent.WEIGHTINGS`
#: (spelled out: the registry reads this declaration without importing the module).
PARAMS = {"n_clusters": integer(2), "weighting": choice("none", "certainty")}


@register(NAME, DEFAULTS, model_free=True, params=PARAMS)
def attribute(forward: None, x: torch.Tensor, ctx: AttributionContext, target: None) -> np.ndarray:
    """Phi ``(N, C, T)`` of ``x``; the explanation (labels, entropy) is left in the cache."""
    if STATE not in ctx.cache:
        raise ValueError(
            f"{NAME} needs the fitted clusterer and forest in ctx.cache[{STATE!r}]: its instances "
            "are run by the explain_clusters rule (latent_clusters.explain), not by attribute"
        )
    model, state, n_layers = ctx.cache[STATE]
    explanation = latent.explain(
        model,
        state.clusterer,
        state.forest,
        x.detach().cpu().numpy(),
        state.meta["instances"],
        n_layers,
    )
    ctx.cache[EXPLANATION] = explanation
    phi = explanation.phi(str(ctx.params["weighting"]))
    return np.repeat(phi[:, None, :], x.shape[1], axis=1).astype(np.float32)


def check_state(state: FittedState, n_clusters: int, model_sha: str, path: Any) -> None:
    """The state must be fitted with this K on this model."""
    if state.clusterer.n_clusters != n_clusters:
        raise ValueError(
            f"{path}: fitted with {state.clusterer.n_clusters} clusters, instance asks {n_clusters}"
        )
    if state.meta.get("model_sha256") != model_sha:
        raise ValueError(
            f"{path}: fitted on another model (sha256 {state.meta.get('model_sha256')})"
        )


def explain(
    *,
    signals: str | os.PathLike[str],
    records: str | os.PathLike[str],
    model: str | os.PathLike[str],
    state: str | os.PathLike[str],
    out: str | os.PathLike[str],
    source: str,
    name: str,
    method_cfg: dict[str, Any],
    clusters_cfg: dict[str, Any],
    seed: int,
    arch: str = "resnet",
    threads: int = 1,
) -> None:
    """Stage entry: explain the evaluation cases of ``source`` (its ``arch`` model, a ResNet)
    with cluster instance ``name``."""
    torch.set_num_threads(max(1, int(threads)))
    registered, params = registry.resolve(name, method_cfg)
    if registered != NAME:
        raise ValueError(f"methods.{name} is {registered!r}, not a {NAME} instance")
    sig = read_signals(signals)
    run.check_source(sig, source, signals)
    eval_ids, _ = run.split_ids(read_table(records), records)
    cases = run.select_finite(sig, eval_ids, "evaluation", signals)
    net = frozen_model(model)
    model_sha = file_sha256(model)
    fitted, digest = load_state(state)
    check_state(fitted, int(params["n_clusters"]), model_sha, state)
    n_layers = int(settings(clusters_cfg)["n_layers"])
    ctx = AttributionContext(
        reference=np.empty((0, *cases.X.shape[1:]), np.float32),
        params=params,
        seed=int(seed),
        cache={STATE: (net, fitted, n_layers)},
    )
    phi = registry.get(NAME).fn(None, torch.as_tensor(cases.X), ctx, None)
    ex: latent.Explanation = ctx.cache[EXPLANATION]
    c = len(sig.channels)
    t = np.arange(phi.shape[2])
    table = long_table(cases.ids, sig.channels, t, t * 1000.0 / sig.fs, phi)
    table["uncertainty"] = np.repeat(ex.entropy[:, None, :], c, axis=1).reshape(-1)
    table["uncertainty"] = table["uncertainty"].astype(np.float32)
    table["cluster"] = np.repeat(ex.labels[:, None, :], c, axis=1).reshape(-1).astype(np.int16)
    log.info(
        "%s/%s: %d cases, K=%d, mean entropy %.3f nats, forest-CNN agreement %.3f",
        source,
        name,
        len(cases.ids),
        fitted.clusterer.n_clusters,
        float(ex.entropy.mean()),
        float(((ex.forest_proba > 0.5) == (ex.cnn_proba.argmax(axis=1) == 1)).mean()),
    )
    metadata = {
        "source": source,
        "arch": arch,
        "method": name,
        "registered_method": NAME,
        "params": params,
        "baseline": "none",
        "output": "probability",
        "one_pass": True,
        "eq1": "not applied: Phi is the forest's SHAP contribution to P(abnormal) of the "
        "cluster active at t (time-only, the same on every channel)",
        "uncertainty": "assignment entropy in nats, in [0, log K]",
        "model": "trained",
        "seed": int(seed),
        "model_sha256": model_sha,
        "clusters_sha256": digest,
        "clusters_meta": {k: v for k, v in fitted.meta.items() if k != "versions"},
        "n_cases": int(len(cases.ids)),
        "forest_proba": dict(zip(cases.ids.tolist(), ex.forest_proba.tolist(), strict=True)),
        "fs": float(sig.fs),
        "versions": package_versions(),
    }
    write_table(table, out, metadata)
