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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import accuracy_score, roc_auc_score

from cinexai.clusters import landmarks, latent
from cinexai.clusters.fit import frozen_model, settings, split_windows
from cinexai.clusters.store import load_state
from cinexai.io import atomic_write, file_sha256, read_json, read_table, write_json

log = logging.getLogger(__name__)

#: Columns of the fidelity table, in order.
COLUMNS = (
    "modality",
    "n_clusters",
    "n_test",
    "agreement",
    "forest_accuracy",
    "cnn_accuracy",
    "forest_auroc",
    "cnn_auroc",
    "landmark_ami",
    "mean_uncertainty",
)


def _auroc(y: np.ndarray, score: np.ndarray) -> float | None:
    return float(roc_auc_score(y, score)) if len(np.unique(y)) == 2 else None


def fidelity(
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


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "n/a"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def summarise(
    results: Sequence[str | os.PathLike[str]],
    contingencies: Sequence[str | os.PathLike[str]],
    out_md: str | os.PathLike[str],
    out_csv: str | os.PathLike[str],
    out_checks: str | os.PathLike[str],
    figures: Sequence[str | os.PathLike[str]],
    clusters_cfg: dict[str, Any],
) -> None:
    """Stage entry: ``clusters_fidelity.{md,csv}``, the checks entries and, when ``figures`` are
    given (one per result, same order), the cluster x wave heat maps."""
    from cinexai.figures.clusters import render_contingency

    target = float(settings(clusters_cfg)["agreement_target"])
    if figures and len(figures) != len(results):
        raise ValueError(f"{len(figures)} heat maps requested for {len(results)} results")
    for result, table, png in zip(results, contingencies, figures, strict=False):
        r = read_json(result)
        title = f"Latent clusters x true waves: {r['modality']} model, K={r['n_clusters']}"
        render_contingency(
            table, f"{title}\n(test split; landmark AMI {_fmt(r['landmark_ami'])})", png
        )
    rows = [read_json(p) for p in results]
    frame = pd.DataFrame(rows, columns=list(COLUMNS)).sort_values(["modality", "n_clusters"])
    with atomic_write(out_csv) as tmp:
        frame.to_csv(tmp, index=False)
    lines = [
        "Latent clusters: forest-CNN agreement, accuracy and AUROC on the test split; landmark "
        "AMI (clusters vs true waves P, PR, QRS, ST, T, TP); mean normalised uncertainty.",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    lines += [
        "| " + " | ".join(_fmt(v) for v in row) + " |" for row in frame.itertuples(index=False)
    ]
    lines += ["", f"Target agreement (the seed paper: 0.949 on PTB-XL): {target:.2f}."]
    with atomic_write(out_md) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    entries = {
        f"{r['modality']}_k{r['n_clusters']}": {
            **{c: r.get(c) for c in COLUMNS[2:]},
            "agreement_meets_target": bool(r["agreement"] >= target),
        }
        for r in rows
    }
    write_json(
        {
            "agreement_target": target,
            "all_meet_target": all(e["agreement_meets_target"] for e in entries.values()),
            "by_model": entries,
        },
        out_checks,
    )
    log.info("fidelity table %s: %d rows", Path(out_md).name, len(frame))
