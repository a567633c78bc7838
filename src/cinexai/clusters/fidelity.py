"""Fidelity and landmark checks of the latent clusters on the test split, and their table.

Per (modality, K): how often the forest reproduces the CNN's predicted class (the seed paper:
94.9 %), forest and CNN accuracy and AUROC against the labels, and, where the synthetic truth
gives wave boundaries, the landmark AMI and the cluster x wave contingency (with the mean
uncertainty of each cell).  :func:`summarise` gathers them into ``tables/clusters_fidelity``
and the ``latent_clusters`` entries of ``checks.json``.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import accuracy_score, roc_auc_score

from cinexai.clusters import landmarks, latent
from cinexai.clusters.fit import frozen_model, split_windows
from cinexai.clusters.settings import settings
from cinexai.clusters.store import load_state
from cinexai.clusters.summary import COLUMNS
from cinexai.io import atomic_write, file_sha256, read_table, write_json

log = logging.getLogger(__name__)


def _auroc(y: np.ndarray, score: np.ndarray) -> float | None:
    return float(roc_auc_score(y, score)) if len(np.unique(y)) == 2 else None


def fidelity(
    *,
    signals: str | os.PathLike[str],
    records: str | os.PathLike[str],
    model: str | os.PathLike[str],
    state: str | os.PathLike[str],
    truth: str | os.PathLike[str] | None,
    out_json: str | os.PathLike[str],
    out_contingency: str | os.PathLike[str],
    modality: str,
    clusters_cfg: dict[str, Any],
    threads: int = 1,
) -> None:
    """Stage entry: the checks of one (modality, K) on the test split."""
    torch.set_num_threads(max(1, int(threads)))
    test = split_windows(signals, records, "test")
    rec = read_table(records, columns=["ecg_id", "label"]).set_index("ecg_id")
    y = rec.loc[test.ids, "label"].to_numpy(np.int64)
    fitted, digest = load_state(state)
    ex = latent.explain(
        frozen_model(model),
        fitted.clusterer,
        fitted.forest,
        test.X,
        fitted.meta["instances"],
        int(settings(clusters_cfg)["n_layers"]),
    )
    k = fitted.clusterer.n_clusters
    cnn_pred = ex.cnn_proba.argmax(axis=1)
    forest_pred = (ex.forest_proba > 0.5).astype(np.int64)
    result: dict[str, Any] = {
        "modality": modality,
        "n_clusters": k,
        "n_test": int(len(test.ids)),
        "agreement": float((forest_pred == cnn_pred).mean()),
        "forest_accuracy": float(accuracy_score(y, forest_pred)),
        "cnn_accuracy": float(accuracy_score(y, cnn_pred)),
        "forest_auroc": _auroc(y, ex.forest_proba),
        "cnn_auroc": _auroc(y, ex.cnn_proba[:, 1]),
        "mean_uncertainty": float((ex.entropy / np.log(k)).mean()),
        "clusters_sha256": digest,
        "model_sha256": file_sha256(model),
        "train_agreement": fitted.meta["train_agreement"],
        "fit_seconds": fitted.meta["fit_seconds"],
    }
    if truth:
        bounds = landmarks.read_boundaries(truth, test.ids)
        waves = landmarks.wave_labels(bounds, test.X.shape[-1], test.fs)
        result["landmark_ami"] = landmarks.landmark_ami(ex.labels, waves)
        table = landmarks.contingency(ex.labels, waves, ex.entropy / np.log(k), k)
    else:
        result["landmark_ami"] = None
        result["landmark_note"] = "no wave-boundary truth for this dataset"
        table = pd.DataFrame(columns=["cluster", "wave", "count", "mean_uncertainty"])
    log.info("%s K=%d: %s", modality, k, {c: result.get(c) for c in COLUMNS})
    write_json(result, out_json)
    with atomic_write(out_contingency) as tmp:
        table.to_csv(tmp, index=False)
