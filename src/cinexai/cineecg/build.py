"""Stage entry: windows.parquet (12-lead, mV) -> cineecg.parquet (x, y, z; mm) and vcg.parquet."""

from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np
from tqdm import tqdm

from cinexai import io
from cinexai.cineecg import constants as C
from cinexai.cineecg.geometry import BiventricularModel
from cinexai.cineecg.trajectory import baseline_correct, qrs_end, trajectory
from cinexai.cineecg.vcg import ecg_to_vcg, vcg_matrix
from cinexai.leads import CINE_CHANNELS, LEADS

log = logging.getLogger(__name__)

_CHUNK = 1024

PathLike = str | os.PathLike[str]


def _resolve_cfg(cfg: dict[str, Any]) -> dict[str, Any]:
    """Validate ``config["cineecg"]`` (defaults filled by the schema); ValueError names a bad key."""
    out = {
        "vcg": cfg["vcg"],
        "qrs_path_mm": float(cfg["qrs_path_mm"]),
        "stt_path_mm": float(cfg["stt_path_mm"]),
    }
    vcg_matrix(out["vcg"])
    for key in ("qrs_path_mm", "stt_path_mm"):
        if not out[key] > 0:
            raise ValueError(f"cineecg.{key} must be > 0, got {out[key]}")
    return out


def _check_windows(signals: io.SignalSet, path: PathLike) -> None:
    """Lead set and finiteness; ValueError names the file or the first offending record id."""
    if list(signals.channels) != list(LEADS):
        raise ValueError(f"{path}: channels {signals.channels} are not the 12 leads {list(LEADS)}")
    bad = ~np.isfinite(signals.X).all(axis=(1, 2))
    if bad.any():
        first = int(signals.ids[np.argmax(bad)])
        raise ValueError(
            f"{path}: record id {first} has NaN or infinite samples "
            f"({int(bad.sum())} record(s) affected)"
        )


def build(
    *, windows: PathLike, out_cineecg: PathLike, out_vcg: PathLike, cfg: dict[str, Any]
) -> None:
    """Compute the VCG and the CineECG-like trajectory of every window and write both files.

    Both outputs keep the window ids and sample count; cineecg.parquet also holds ``qrs_end``
    (first ST-T sample).  Metadata records the resolved cfg, every constant and the model.
    """
    settings = _resolve_cfg(cfg)
    signals = io.read_signals(windows)
    _check_windows(signals, windows)
    model = BiventricularModel()
    vcg = ecg_to_vcg(signals.X.astype(np.float64), settings["vcg"])
    traj = np.empty_like(vcg)
    for start in tqdm(
        range(0, len(vcg), _CHUNK), desc="cineecg", unit="chunk", disable=len(vcg) <= _CHUNK
    ):
        chunk = slice(start, start + _CHUNK)
        traj[chunk] = trajectory(
            vcg[chunk], signals.fs, model, settings["qrs_path_mm"], settings["stt_path_mm"]
        )
    ends = qrs_end(baseline_correct(vcg, signals.fs), signals.fs).astype(np.int32)
    meta = {
        "cfg": settings,
        "constants": C.as_dict(),
        "model": model.to_dict(),
        "source": str(windows),
        "source_sha256": io.file_sha256(windows),
        "versions": io.package_versions(),
    }
    io.write_signals(
        out_vcg,
        signals.ids,
        vcg,
        C.VCG_CHANNELS,
        signals.fs,
        metadata={**meta, "units": "mV", "frame": "Frank (X left, Y inferior, Z posterior)"},
    )
    io.write_signals(
        out_cineecg,
        signals.ids,
        traj,
        CINE_CHANNELS,
        signals.fs,
        columns={"qrs_end": ends},
        metadata={
            **meta,
            "units": "mm",
            "frame": "heart model (x septum->LV free wall, y base->apex, z anterior->inferior)",
        },
    )
    log.info("cineecg: %d windows -> %s, %s", len(vcg), out_cineecg, out_vcg)
