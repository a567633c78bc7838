"""A blinded case bundle for the annotation platform (paper section 3.5).

The bundle is the only data the server shows: ``<bundle>/cases/<key>.json`` per evaluation case
(12-lead window, the 10 s record where the dataset has it, CineECG trajectory, heart rate) and
``<bundle>/heart.json`` (the biventricular model's surfaces, the same for every case). Each case
key is drawn from the operating system's randomness (:mod:`secrets`), so it carries nothing of the
ecg_id, the label, the patient or the order; ``manifest.json`` lists the keys sorted, which is a
random order. The key -> ecg_id map is written to ``key_map`` *outside* the served folder: only the
export reads it. No label, prediction, attribution, patient id or ecg_id enters the bundle.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cinexai.cineecg.geometry import BiventricularModel
from cinexai.data.ingest import Excluded, load_record
from cinexai.data.layout import FILENAME_COLUMN
from cinexai.data.ptbxl import read_database
from cinexai.evaluation.annotations import evaluation_cases
from cinexai.io import atomic_write, read_signals, read_table
from cinexai.leads import CINE_CHANNELS, LEADS

log = logging.getLogger(__name__)

#: Bytes of OS randomness per case key (96 bits, URL-safe base64 -> 16 characters).
KEY_BYTES = 12
#: Signal values are rounded to this many decimals (mV: 1 uV; mm: 1 um).
DECIMALS = 3
MESH_RESOLUTION = 16


def new_key() -> str:
    """An opaque case key from the OS's cryptographic randomness."""
    return secrets.token_urlsafe(KEY_BYTES)


def _rounded(x: np.ndarray) -> list[list[float]]:
    return np.round(np.asarray(x, dtype=np.float64), DECIMALS).tolist()


def _write_json(obj: Any, path: Path) -> None:
    with atomic_write(path) as tmp:
        tmp.write_text(json.dumps(obj, separators=(",", ":")), encoding="utf-8")


def heart_model(resolution: int = MESH_RESOLUTION) -> dict[str, Any]:
    """LV/RV surfaces (vertices mm, faces) and landmarks of the figures' biventricular model."""
    model = BiventricularModel()
    meshes = {}
    for part in ("lv", "rv"):
        verts, faces = model.surface_mesh(part, resolution=resolution)
        meshes[part] = {"vertices": _rounded(verts), "faces": np.asarray(faces).tolist()}
    landmarks = {k: _rounded(np.asarray(v).reshape(3)) for k, v in model.landmarks.items()}
    return {"meshes": meshes, "landmarks": landmarks}


def _ten_second_record(dataset_dir: Path | None, db: pd.DataFrame | None, ecg_id: int, fs: float):
    """The full record (12, N) mV where the dataset has it, else None (logged)."""
    if dataset_dir is None or db is None:
        return None
    column = FILENAME_COLUMN.get(int(fs))
    if column is None or ecg_id not in db.index:
        log.warning(
            "case %d: no %g Hz record in the database; bundle shows the window only", ecg_id, fs
        )
        return None
    try:
        return load_record(dataset_dir / str(db.loc[ecg_id, column]), fs)
    except Excluded as exc:
        log.warning("case %d: 10 s record not shown (%s)", ecg_id, exc.reason)
        return None


def build_bundle(
    *,
    windows: str | os.PathLike[str],
    cineecg: str | os.PathLike[str],
    records: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    key_map: str | os.PathLike[str],
    dataset_dir: str | os.PathLike[str] | None = None,
    window_ms: float,
) -> dict[str, str]:
    """Write the bundle of every included evaluation case; return key -> ecg_id (as strings).

    ``key_map`` must lie outside ``out_dir`` (the served folder): a ValueError says so otherwise.
    """
    out, kmap = Path(out_dir).resolve(), Path(key_map).resolve()
    if out == kmap.parent or out in kmap.parents:
        raise ValueError(f"key_map {key_map} lies inside the served bundle folder {out_dir}")
    rec = read_table(records).set_index("ecg_id")
    cases = sorted(evaluation_cases(rec.reset_index()))
    if not cases:
        raise ValueError(f"{records}: no included evaluation case to annotate")
    ecg, cine = read_signals(windows).select(cases), read_signals(cineecg).select(cases)
    if list(ecg.channels) != list(LEADS) or list(cine.channels) != list(CINE_CHANNELS):
        raise ValueError(f"unexpected channels: {ecg.channels} / {cine.channels}")
    ddir = Path(dataset_dir) if dataset_dir else None
    db = read_database(ddir) if ddir is not None else None
    keys = {case: new_key() for case in cases}
    tmp = out.with_name(f".{out.name}.tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    (tmp / "cases").mkdir(parents=True)
    row = {case: k for k, case in enumerate(cases)}
    for case in sorted(
        cases, key=keys.__getitem__
    ):  # written in key (random) order: no mtime order
        k = row[case]
        full = _ten_second_record(ddir, db, case, ecg.fs)
        hr = float(rec.loc[case, "heart_rate"])
        _write_json(
            {
                "fs": ecg.fs,
                "window_ms": window_ms,
                "leads": list(LEADS),
                "window": _rounded(ecg.X[k]),
                "trajectory": _rounded(cine.X[k]),
                "heart_rate": round(hr) if np.isfinite(hr) else None,
                "record": None if full is None else {"fs": ecg.fs, "signal": _rounded(full)},
            },
            tmp / "cases" / f"{keys[case]}.json",
        )
    _write_json(heart_model(), tmp / "heart.json")
    _write_json(
        {
            "cases": sorted(keys.values()),
            "fs": ecg.fs,
            "window_ms": window_ms,
            "leads": list(LEADS),
        },
        tmp / "manifest.json",
    )
    table = pd.DataFrame({"key": list(keys.values()), "ecg_id": list(keys)}).sort_values("key")
    with atomic_write(kmap) as t:
        table.to_csv(t, index=False)
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)
    log.info("bundle: %d blinded cases in %s (key map %s)", len(cases), out, kmap)
    return {key: str(case) for case, key in keys.items()}


def read_manifest(bundle: str | os.PathLike[str]) -> dict[str, Any]:
    """The bundle's manifest (case keys, fs, window)."""
    return json.loads((Path(bundle) / "manifest.json").read_text(encoding="utf-8"))


def read_key_map(path: str | os.PathLike[str]) -> dict[str, int]:
    """key -> ecg_id from the private key map."""
    df = pd.read_csv(path, dtype={"key": str})
    return {str(k): int(v) for k, v in zip(df["key"], df["ecg_id"])}
