"""Eq. 2: 12-lead Phi -> one temporal profile in [-1, 1], given to x, y and z of the trajectory.

``a[t] = sum_l Phi[l, t] / max_t |sum_l Phi[l, t]|``.  A case whose lead sum is zero everywhere maps
to zeros (logged, listed in the output metadata) instead of dividing by zero.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from cinexai import grid
from cinexai.io import file_sha256, read_metadata, read_table, write_table
from cinexai.leads import CINE_CHANNELS, LEADS

log = logging.getLogger(__name__)

COLUMNS = ("case_id", "channel", "t", "time_ms", "phi")
NOTE = (
    "Eq. 2: sum of Phi over the 12 leads divided by max_t |sum|; the same value on x, y, z. "
    "Provenance above is that of the source=ecg12 attributions it was mapped from."
)


def map_phi(phi12: np.ndarray, case_ids: Sequence[int] | None = None) -> np.ndarray:
    """``(N, 12, T)`` -> ``(N, T)`` per Eq. 2; an all-zero lead sum gives zeros (logged)."""
    phi12 = np.asarray(phi12, dtype=np.float64)
    if phi12.ndim != 3 or phi12.shape[1] != len(LEADS):
        raise ValueError(
            f"map_phi expects (N, {len(LEADS)}, T) 12-lead attributions, got shape {phi12.shape}"
        )
    total = phi12.sum(axis=1)
    peak = np.abs(total).max(axis=1, keepdims=True) if total.size else np.zeros((len(total), 1))
    zero = peak[:, 0] == 0
    for k in np.flatnonzero(zero):
        case = case_ids[k] if case_ids is not None else k
        log.warning(
            "case %s: the 12-lead attribution sums to zero at every sample; "
            "mapped profile set to zeros",
            case,
        )
    return np.divide(total, peak, out=np.zeros_like(total), where=~zero[:, None])


def _cube(
    df: pd.DataFrame, path: str | os.PathLike[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Long 12-lead table -> (case ids, t values, time_ms per t, Phi (N, 12, T)), checked."""
    unknown = sorted(set(df["channel"]) - set(LEADS))
    if unknown:
        raise ValueError(f"{path}: channels {unknown} are not 12-lead names; is this source=ecg12?")
    dup = df.duplicated(["case_id", "channel", "t"])
    if dup.any():
        row = df[dup].iloc[0]
        raise ValueError(
            f"{path}: duplicate row for case {row.case_id}, channel {row.channel}, t {row.t}"
        )
    ids, ts = np.unique(df["case_id"].to_numpy()), np.unique(df["t"].to_numpy())
    sizes = df.groupby("case_id").size()
    for case, size in sizes.items():
        if size != len(LEADS) * len(ts):
            have = set(df.loc[df["case_id"] == case, "channel"])
            raise ValueError(
                f"{path}: case {case} has {size} rows, expected {len(LEADS)} leads x "
                f"{len(ts)} samples (missing leads: {sorted(set(LEADS) - have)})"
            )
    cube = np.zeros((len(ids), len(LEADS), len(ts)), dtype=np.float64)
    lead_index = {lead: k for k, lead in enumerate(LEADS)}
    cube[
        np.searchsorted(ids, df["case_id"].to_numpy()),
        df["channel"].map(lead_index).to_numpy(),
        np.searchsorted(ts, df["t"].to_numpy()),
    ] = df["phi"].to_numpy()
    time_ms = df.drop_duplicates("t").set_index("t")["time_ms"].reindex(ts).to_numpy()
    return ids, ts, time_ms, cube


def long_table(
    ids: np.ndarray, channels: Sequence[str], ts: np.ndarray, time_ms: np.ndarray, phi: np.ndarray
) -> pd.DataFrame:
    """The attribution long format from ``phi`` ``(N, C, T)`` (rows: case, channel, t)."""
    n, c, t = phi.shape
    return pd.DataFrame(
        {
            "case_id": np.repeat(np.asarray(ids, dtype=np.int64), c * t),
            "channel": np.tile(np.repeat(np.asarray(channels, dtype=object), t), n),
            "t": np.tile(np.asarray(ts, dtype=np.int16), n * c),
            "time_ms": np.tile(np.asarray(time_ms, dtype=np.float32), n * c),
            "phi": np.asarray(phi, dtype=np.float32).reshape(-1),
        }
    )


def map_file(*, ecg12_attr: str | os.PathLike[str], out: str | os.PathLike[str]) -> None:
    """Map a ``source=ecg12`` attribution file to ``source=mapped`` (x, y, z share Eq. 2)."""
    meta = read_metadata(ecg12_attr)
    if meta.get("source", grid.ECG12) != grid.ECG12:
        raise ValueError(
            f"{ecg12_attr}: Eq. 2 maps source=ecg12 attributions, "
            f"this file is source={meta['source']!r}"
        )
    df = read_table(ecg12_attr, columns=list(COLUMNS))
    ids, ts, time_ms, cube = _cube(df, ecg12_attr)
    profile = map_phi(cube, ids)
    zero_cases = [int(i) for i, row in zip(ids, profile) if not row.any()]
    phi3 = np.repeat(profile[:, None, :], len(CINE_CHANNELS), axis=1)
    metadata = {
        **meta,
        "source": grid.MAPPED,
        "mapped_from": grid.ECG12,
        "mapped_from_sha256": file_sha256(ecg12_attr),
        "mapping": NOTE,
        "mapping_zero_cases": zero_cases,
    }
    write_table(long_table(ids, CINE_CHANNELS, ts, time_ms, phi3), out, metadata)
