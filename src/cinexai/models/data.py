"""Model inputs: signals joined to records per split, normalisation statistics, data signature."""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cinexai.io import read_signals, read_table
from cinexai.models.checkpoint import MODALITY_CHANNELS

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test", "reference", "evaluation")
RECORD_COLUMNS = ("ecg_id", "patient_id", "label", "split", "included")


@dataclass
class Split:
    """One split's arrays: ids, patient ids, signals (N, C, T) float32 and labels int64."""

    ids: np.ndarray
    patients: np.ndarray
    X: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, mask: np.ndarray) -> Split:
        return Split(self.ids[mask], self.patients[mask], self.X[mask], self.y[mask])


@dataclass
class ModelData:
    """All splits of one modality plus its channel names and sampling rate (Hz)."""

    modality: str
    channels: list[str]
    splits: dict[str, Split]
    fs: float

    @property
    def n_samples(self) -> int:
        return int(self.splits["train"].X.shape[-1])

    def counts(self) -> dict[str, int]:
        return {name: len(split) for name, split in self.splits.items()}

    def signature(self, names: tuple[str, ...] = ("train", "val")) -> str:
        """SHA-256 over ids, labels and signal bytes of ``names`` (identifies the tuning data)."""
        h = hashlib.sha256(f"{self.modality}|{','.join(self.channels)}".encode())
        for name in names:
            split = self.splits[name]
            h.update(name.encode())
            for arr in (split.ids.astype(np.int64), split.y.astype(np.int64), split.X):
                h.update(np.ascontiguousarray(arr).tobytes())
        return h.hexdigest()


def load_model_data(
    signals: str | os.PathLike[str], records: str | os.PathLike[str], modality: str
) -> ModelData:
    """Join included records to their signals (id == ecg_id) and group them by split.

    Raises ValueError for a wrong channel count, an unknown split or label, duplicate ids or
    non-finite signals (naming the record), and KeyError for an included record without a signal.
    """
    if modality not in MODALITY_CHANNELS:
        raise ValueError(
            f"unknown modality {modality!r}; expected one of {sorted(MODALITY_CHANNELS)}"
        )
    sig = read_signals(signals)
    if len(sig.channels) != MODALITY_CHANNELS[modality]:
        raise ValueError(
            f"{signals}: modality {modality!r} needs "
            f"{MODALITY_CHANNELS[modality]} channels, found {sig.channels}"
        )
    rec = _read_records(records)
    splits = {}
    for name in SPLITS:
        rows = rec[rec["split"] == name]
        sub = sig.select(rows["ecg_id"].to_numpy())
        _check_finite(sub.X, sub.ids, signals)
        splits[name] = Split(
            rows["ecg_id"].to_numpy(np.int64),
            rows["patient_id"].to_numpy(np.int64),
            np.ascontiguousarray(sub.X, dtype=np.float32),
            rows["label"].to_numpy(np.int64),
        )
    if len(splits["train"]) == 0 or len(splits["val"]) == 0:
        raise ValueError(
            f"{records}: splits 'train' and 'val' must be non-empty, got "
            f"{len(splits['train'])} and {len(splits['val'])} included records"
        )
    data = ModelData(modality, list(sig.channels), splits, float(sig.fs))
    log.info("%s: %s records per split", modality, data.counts())
    return data


def _read_records(records: str | os.PathLike[str]) -> pd.DataFrame:
    rec = read_table(records)
    missing = [c for c in RECORD_COLUMNS if c not in rec.columns]
    if missing:
        raise ValueError(f"{records}: missing columns {missing}")
    rec = rec[rec["included"].astype(bool)]
    bad_split = rec[~rec["split"].isin(SPLITS)]
    if len(bad_split):
        row = bad_split.iloc[0]
        raise ValueError(
            f"{records}: ecg_id {row['ecg_id']} has split {row['split']!r}, "
            f"expected one of {list(SPLITS)}"
        )
    bad_label = rec[~rec["label"].isin([0, 1])]
    if len(bad_label):
        row = bad_label.iloc[0]
        raise ValueError(
            f"{records}: ecg_id {row['ecg_id']} has label {row['label']!r}, expected 0 or 1"
        )
    dup = rec["ecg_id"][rec["ecg_id"].duplicated()]
    if len(dup):
        raise ValueError(f"{records}: ecg_id {dup.iloc[0]} appears more than once")
    return rec


def _check_finite(X: np.ndarray, ids: np.ndarray, path: str | os.PathLike[str]) -> None:
    bad = ~np.isfinite(X).all(axis=(1, 2))
    if bad.any():
        raise ValueError(
            f"{path}: record id {ids[bad][0]} has non-finite samples "
            f"({int(bad.sum())} records affected)"
        )


def channel_stats(X: np.ndarray, channels: list[str]) -> tuple[list[float], list[float]]:
    """Per-channel mean and std over records and time; a flat channel gets std 1 (logged)."""
    mean = X.mean(axis=(0, 2), dtype=np.float64)
    std = X.std(axis=(0, 2), dtype=np.float64)
    for name, s in zip(channels, std, strict=True):
        if s < 1e-8:
            log.warning("channel %s is flat on the training split (std %.3g); using std 1", name, s)
    std = np.where(std < 1e-8, 1.0, std)
    return mean.tolist(), std.tolist()
