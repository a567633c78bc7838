"""Fit stage: the clusterer and the forest of one (modality, K), on the training split only.

The activations of every training window are clustered (a seeded subsample of at most
``max_timestamps`` timestamps fits the mixture); the forest learns the CNN's predicted class of
the same training windows from their cluster proportions.  No other split is read.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from cinexai.clusters import latent
from cinexai.clusters.settings import settings
from cinexai.clusters.store import FittedState, save_state
from cinexai.config import ConfigError
from cinexai.io import SignalSet, file_sha256, package_versions, read_signals, read_table
from cinexai.models.checkpoint import load_model

log = logging.getLogger(__name__)


def split_windows(
    signals: str | os.PathLike[str], records: str | os.PathLike[str], split: str
) -> SignalSet:
    """The included windows of one split, sorted by id; an empty split is an error."""
    rec = read_table(records, columns=["ecg_id", "split", "included"])
    ids = np.sort(
        rec.loc[rec["included"].astype(bool) & (rec["split"] == split), "ecg_id"].to_numpy(np.int64)
    )
    if len(ids) == 0:
        raise ValueError(f"{records}: no included records with split == {split!r}")
    return read_signals(signals).select(ids)


def frozen_model(path: str | os.PathLike[str]) -> torch.nn.Module:
    """The trained model in eval mode without gradients."""
    model = load_model(path)
    for p in model.parameters():
        p.requires_grad_(False)
    return model.eval()


def fit_state(
    model: torch.nn.Module,
    train: SignalSet,
    n_clusters: int,
    instances: Sequence[str],
    cfg: dict[str, Any],
    seed: int,
) -> FittedState:
    """Clusterer + forest for ``n_clusters`` from the training windows ``train``."""
    cfg = settings(cfg)
    start = time.perf_counter()
    feats, cnn = latent.activations(model, train.X, instances, int(cfg["n_layers"]))
    n, t, f = feats.shape
    if n_clusters > n * t:
        names = ", ".join(f"methods.{name}.n_clusters" for name in instances)
        raise ConfigError(
            f"config key '{names}': {n_clusters} clusters exceed the {n * t} training "
            f"timestamps ({n} windows x {t} samples)"
        )
    flat = feats.reshape(n * t, f)
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(n * t, size=min(int(cfg["max_timestamps"]), n * t), replace=False))
    clusterer = latent.fit_clusterer(
        flat[rows], n_clusters, int(cfg["pca_components"]), seed, int(cfg["max_iter"])
    )
    props = latent.proportions(clusterer.proba(feats).argmax(axis=-1), n_clusters)
    predicted = cnn.argmax(axis=1)
    forest = latent.fit_forest(
        props, predicted, int(cfg["n_trees"]), int(cfg["min_samples_leaf"]), seed
    )
    agreement = float((forest.predict_proba(props).argmax(axis=1) == predicted).mean())
    meta = {
        "n_clusters": int(n_clusters),
        "instances": list(instances),
        "n_layers_used": min(int(cfg["n_layers"]), len(latent.residual_blocks(model, instances))),
        "n_features": int(f),
        "n_train_windows": int(n),
        "n_timestamps_fit": len(rows),
        "train_agreement": agreement,
        "cnn_classes_on_train": np.unique(predicted).tolist(),
        "fit_seconds": time.perf_counter() - start,
        "settings": cfg,
        "seed": int(seed),
        "versions": package_versions(),
    }
    log.info("K=%d: %d windows, %d features, train agreement %.3f", n_clusters, n, f, agreement)
    return FittedState(clusterer, forest, train.ids, meta)


def fit(
    *,
    signals: str | os.PathLike[str],
    records: str | os.PathLike[str],
    model: str | os.PathLike[str],
    out: str | os.PathLike[str],
    n_clusters: int,
    instances: Sequence[str],
    cfg: dict[str, Any],
    seed: int,
    threads: int = 1,
) -> None:
    """Stage entry: fit on the training split of ``signals`` and write ``out`` (+ sidecar)."""
    torch.set_num_threads(max(1, int(threads)))
    train = split_windows(signals, records, "train")
    state = fit_state(frozen_model(model), train, int(n_clusters), instances, cfg, int(seed))
    state.meta["model_sha256"] = file_sha256(model)
    digest = save_state(state, out)
    log.info("wrote %s (sha256 %s)", out, digest)
