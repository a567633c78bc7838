"""The fitted clusterer and forest on disk: one ``.npz`` of plain arrays plus a SHA-256 sidecar.

Nothing is pickled: the file holds numeric and string arrays only and is read with
``np.load(allow_pickle=False)``.  The sidecar ``<file>.sha256`` is written after the ``.npz`` (both
atomically); :func:`load_state` hashes the bytes it read and refuses them, before parsing, when the
hash differs from the sidecar, so a file changed after the fit stage wrote it is never used.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cinexai.clusters.latent import Clusterer, Forest
from cinexai.io import atomic_write

FORMAT = "cinexai-latent-clusters-1"


@dataclass
class FittedState:
    """Everything the explanation needs from the fit stage, plus its provenance."""

    clusterer: Clusterer
    forest: Forest
    train_ids: np.ndarray  # ids of the training windows the clusterer and forest saw
    meta: dict[str, Any]


def sidecar(path: str | os.PathLike[str]) -> Path:
    """The SHA-256 sidecar of a state file."""
    return Path(f"{path}.sha256")


def save_state(state: FittedState, path: str | os.PathLike[str]) -> str:
    """Write the state atomically, then its sidecar; returns the hex SHA-256."""
    arrays = {f"clusterer_{k}": v for k, v in dataclasses.asdict(state.clusterer).items()}
    arrays |= {f"forest_{k}": v for k, v in dataclasses.asdict(state.forest).items()}
    buffer = io.BytesIO()
    np.savez(
        buffer,
        **arrays,
        train_ids=np.asarray(state.train_ids, dtype=np.int64),
        meta=np.array(json.dumps({"format": FORMAT, **state.meta}, sort_keys=True)),
    )
    data = buffer.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    with atomic_write(path) as tmp:
        tmp.write_bytes(data)
    with atomic_write(sidecar(path)) as tmp:
        tmp.write_text(f"{digest}  {Path(path).name}\n")
    return digest


def load_state(path: str | os.PathLike[str]) -> tuple[FittedState, str]:
    """Read a state file whose bytes match its sidecar's SHA-256; ValueError names the file."""
    side = sidecar(path)
    if not side.is_file():
        raise ValueError(f"{path}: no SHA-256 sidecar {side}; refusing an unverified state file")
    expected = (side.read_text().split() or [""])[0]
    data = Path(path).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected:
        raise ValueError(
            f"{path}: SHA-256 {digest} differs from its sidecar ({expected or 'empty'}); "
            "the file was changed after the fit stage wrote it"
        )
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = json.loads(str(arrays.pop("meta")))
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: format {meta.get('format')!r}, expected {FORMAT!r}")
    fields = {
        cls: {f.name: arrays[f"{prefix}_{f.name}"] for f in dataclasses.fields(cls)}
        for cls, prefix in ((Clusterer, "clusterer"), (Forest, "forest"))
    }
    state = FittedState(
        Clusterer(**fields[Clusterer]), Forest(**fields[Forest]), arrays["train_ids"], meta
    )
    return state, digest
