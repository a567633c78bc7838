"""True ECG landmarks per timestamp and their agreement with the latent clusters.

A window starts at the QRS onset (ingestion aligns it to the detected onset, the synthetic truth
to the true one).  Each sample gets the wave of its time since that onset, repeating with the
RR interval: QRS, ST, T, TP, then the next beat's P and PR.  The boundaries come from
``synthetic_truth.csv`` (first beat of the record, see :mod:`cinexai.data.synthetic`).
Alignment is the adjusted mutual information (scikit-learn) between the cluster labels and the
wave labels of all timestamps pooled: 1 for a clustering that equals the waves up to renaming,
about 0 for one independent of them.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_mutual_info_score

#: Wave labels, in the order of their integer codes.
WAVES = ("P", "PR", "QRS", "ST", "T", "TP")
BOUNDARY_COLUMNS = (
    "p_on_ms",
    "p_off_ms",
    "qrs_on_ms",
    "qrs_off_ms",
    "t_on_ms",
    "t_off_ms",
    "rr_ms",
)


def read_boundaries(path: str | os.PathLike[str], ids: np.ndarray) -> pd.DataFrame:
    """Boundary columns of ``ids`` from a truth CSV; a missing column, record or value is an
    error naming it."""
    truth = pd.read_csv(path)
    missing = [c for c in ("ecg_id", *BOUNDARY_COLUMNS) if c not in truth.columns]
    if missing:
        raise ValueError(f"{path}: no wave-boundary column(s) {missing}")
    truth = truth.set_index("ecg_id")
    absent = sorted(set(int(i) for i in ids) - set(truth.index))
    if absent:
        raise ValueError(f"{path}: record {absent[0]} has no truth row ({len(absent)} missing)")
    bounds = truth.loc[np.asarray(ids), list(BOUNDARY_COLUMNS)]
    bad = bounds.isna().any(axis=1)
    if bad.any():
        raise ValueError(f"{path}: record {bounds.index[bad][0]} has no wave boundaries")
    return bounds


def wave_labels(bounds: pd.DataFrame, n_samples: int, fs: float) -> np.ndarray:
    """``(N, n_samples)`` wave codes (index into :data:`WAVES`) of windows starting at QRS onset."""
    b = {c: bounds[c].to_numpy(float)[:, None] for c in BOUNDARY_COLUMNS}
    on = b["qrs_on_ms"]
    rr = b["rr_ms"]
    tau = np.mod(np.arange(n_samples)[None, :] * 1000.0 / fs, rr)
    edges = [  # (upper edge of the wave, code), in order along the cycle from QRS onset
        (b["qrs_off_ms"] - on, WAVES.index("QRS")),
        (b["t_on_ms"] - on, WAVES.index("ST")),
        (b["t_off_ms"] - on, WAVES.index("T")),
        (rr + b["p_on_ms"] - on, WAVES.index("TP")),
        (rr + b["p_off_ms"] - on, WAVES.index("P")),
    ]
    labels = np.full(tau.shape, WAVES.index("PR"), dtype=np.int64)
    for edge, code in reversed(edges):
        labels = np.where(tau < edge, code, labels)
    return labels


def landmark_ami(clusters: np.ndarray, waves: np.ndarray) -> float:
    """Adjusted mutual information between cluster and wave labels over all timestamps."""
    clusters, waves = np.asarray(clusters).ravel(), np.asarray(waves).ravel()
    if clusters.shape != waves.shape:
        raise ValueError(f"{clusters.shape} cluster labels for {waves.shape} wave labels")
    return float(adjusted_mutual_info_score(waves, clusters))


def contingency(
    clusters: np.ndarray, waves: np.ndarray, uncertainty: np.ndarray, n_clusters: int
) -> pd.DataFrame:
    """Long cluster x wave table: timestamp counts and mean uncertainty of each cell."""
    frame = pd.DataFrame(
        {
            "cluster": np.asarray(clusters).ravel(),
            "wave": np.asarray(WAVES)[np.asarray(waves).ravel()],
            "uncertainty": np.asarray(uncertainty).ravel(),
        }
    )
    grid = pd.MultiIndex.from_product([range(n_clusters), WAVES], names=["cluster", "wave"])
    cells = frame.groupby(["cluster", "wave"])["uncertainty"].agg(["size", "mean"])
    cells = cells.reindex(grid).rename(columns={"size": "count", "mean": "mean_uncertainty"})
    cells["count"] = cells["count"].fillna(0).astype(np.int64)
    return cells.reset_index()
