"""The fidelity table, the ``clusters_checks`` entries of checks.json and the heat maps, from the
per-(modality, K) results of :mod:`cinexai.clusters.fidelity` (no torch: runs in the figures env)."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cinexai.clusters.settings import settings
from cinexai.figures.clusters import render_contingency
from cinexai.io import atomic_write, read_json, write_json

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


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "n/a"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def summarise(
    *,
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
