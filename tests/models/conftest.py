"""Tiny seeded synthetic two-class problems written in the pipeline's file formats."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from cinexai.io import write_signals, write_table
from cinexai.leads import CINE_CHANNELS, LEADS

#: Patients per split (1-2 records each); reference patients are all normal.
SPLIT_PATIENTS = {"train": 70, "val": 20, "test": 35, "reference": 6, "evaluation": 6}


def bump_windows(
    labels: np.ndarray, n_channels: int, n_samples: int, rng: np.random.Generator
) -> np.ndarray:
    """Gaussian noise; abnormal windows carry a bump on half the channels at a jittered time."""
    X = rng.normal(0.0, 0.5, size=(len(labels), n_channels, n_samples))
    t = np.arange(n_samples)
    for k in np.flatnonzero(labels):
        centre = rng.uniform(0.3, 0.7) * n_samples
        X[k, : max(1, n_channels // 2)] += 1.2 * np.exp(-0.5 * ((t - centre) / 6.0) ** 2)
    return X.astype(np.float32)


def write_problem(
    out: Path, modality: str = "ecg12", n_samples: int = 200, seed: int = 0
) -> tuple[Path, Path]:
    """Write ``signals.parquet`` and ``records.parquet`` (architecture.md schemas)."""
    rng = np.random.default_rng(seed)
    rows = []
    patient = 100
    for split, n_pat in SPLIT_PATIENTS.items():
        for _ in range(n_pat):
            label = 0 if split == "reference" else int(rng.integers(0, 2))
            for _ in range(int(rng.integers(1, 3))):
                rows.append({"patient_id": patient, "label": label, "split": split})
            patient += 1
    rec = pd.DataFrame(rows)
    rec.insert(0, "ecg_id", np.arange(1000, 1000 + len(rec), dtype=np.int64))
    rec["patient_id"] = rec["patient_id"].astype(np.int64)
    rec["label"] = rec["label"].astype(np.int8)
    rec["included"] = True
    channels = list(LEADS) if modality == "ecg12" else list(CINE_CHANNELS)
    X = bump_windows(rec["label"].to_numpy(), len(channels), n_samples, rng)
    out.mkdir(parents=True, exist_ok=True)
    signals, records = out / "signals.parquet", out / "records.parquet"
    write_signals(signals, rec["ecg_id"].to_numpy(), X, channels, fs=500)
    write_table(rec, records, {"seed": seed})
    return signals, records


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture
def problem(tmp_path: Path) -> Callable[..., tuple[Path, Path]]:
    """Factory: ``problem(modality, n_samples, seed) -> (signals, records)`` under tmp_path."""

    def make(modality: str = "ecg12", n_samples: int = 200, seed: int = 0) -> tuple[Path, Path]:
        return write_problem(tmp_path / f"{modality}-{n_samples}-{seed}", modality, n_samples, seed)

    return make


@pytest.fixture(scope="session")
def make_problem() -> Callable[..., tuple[Path, Path]]:
    """:func:`write_problem` itself, for module-scoped fixtures that pick their own folder."""
    return write_problem
