"""Small blinded-bundle inputs for the annotation tests (no workflow run): a handful of records.

Ids are distinctive (6-7 digits) so that a leak can be searched for in any response body.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cinexai.annotate.bundle import build_bundle
from cinexai.data.synthetic import record_paths, write_wfdb
from cinexai.io import write_signals, write_table
from cinexai.leads import CINE_CHANNELS, LEADS

FS = 500.0
WINDOW_MS = 400.0
N = int(WINDOW_MS * FS / 1000)
#: Evaluation cases (ecg_id -> patient_id, label); one development record that must stay out.
CASES = {731904: (4417203, 1), 731911: (4417219, 0), 731925: (4417231, 1)}
OTHER = {731950: (4417288, 0)}


def _beat(t_ms: np.ndarray, k: int) -> np.ndarray:
    """A QRS-T-like shape per lead (mV) on the window's time grid."""
    rng = np.random.default_rng(k)
    out = []
    for lead in range(len(LEADS)):
        a = rng.uniform(0.4, 1.5) * (1 if lead % 3 else -1)
        out.append(
            a * np.exp(-(((t_ms - 45) / 12) ** 2))
            - 0.25 * a * np.exp(-(((t_ms - 75) / 10) ** 2))
            + 0.3 * np.exp(-(((t_ms - 300) / 45) ** 2))
        )
    return np.asarray(out)


def make_run(root: Path) -> dict[str, Path]:
    """records.parquet, windows.parquet, cineecg.parquet and a PTB-XL-layout folder in ``root``."""
    t = np.arange(N) * 1000.0 / FS
    every = {**CASES, **OTHER}
    ids = list(every)
    X = np.stack([_beat(t, k) for k in range(len(ids))]).astype(np.float32)
    traj = np.stack(
        [
            np.stack([20 * np.sin(t / 60 + k), 15 * np.cos(t / 70), 5 * np.sin(t / 90)])
            for k in range(len(ids))
        ]
    ).astype(np.float32)
    records = pd.DataFrame(
        {
            "ecg_id": np.array(ids, dtype=np.int64),
            "patient_id": np.array([every[i][0] for i in ids], dtype=np.int64),
            "label": np.array([every[i][1] for i in ids], dtype=np.int8),
            "split": ["evaluation"] * len(CASES) + ["train"] * len(OTHER),
            "included": True,
            "qrs_onset": np.int32(800),
            "n_beats": np.int32(10),
            "heart_rate": np.array([61.0, 83.0, 97.0, 70.0], dtype=np.float32),
        }
    )
    data = root / "run"
    write_table(records, data / "records.parquet")
    write_signals(data / "windows.parquet", ids, X, LEADS, FS)
    write_signals(data / "cineecg.parquet", ids, traj, CINE_CHANNELS, FS)
    ptbxl = root / "ptbxl"
    rows = []
    for k, ecg_id in enumerate(ids):
        lr, hr = record_paths(ecg_id)
        full = np.tile(_beat(np.arange(int(FS)) * 1000.0 / FS, k), (1, 10))
        write_wfdb(ptbxl / hr, full, FS)
        rows.append(
            {
                "ecg_id": ecg_id,
                "patient_id": every[ecg_id][0],
                "scp_codes": "{'NORM': 100.0}",
                "filename_lr": lr,
                "filename_hr": hr,
            }
        )
    ptbxl.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(ptbxl / "ptbxl_database.csv", index=False)
    return {"data": data, "ptbxl": ptbxl}


def make_bundle(root: Path) -> dict[str, Path]:
    """The run above and its blinded bundle (``bundle``) with its private key map."""
    paths = make_run(root)
    d = paths["data"]
    bundle, key_map = root / "served" / "bundle", root / "private" / "key_map.csv"
    build_bundle(
        windows=d / "windows.parquet",
        cineecg=d / "cineecg.parquet",
        records=d / "records.parquet",
        out_dir=bundle,
        key_map=key_map,
        dataset_dir=paths["ptbxl"],
        window_ms=WINDOW_MS,
    )
    return {**paths, "bundle": bundle, "key_map": key_map, "records": d / "records.parquet"}
