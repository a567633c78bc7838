"""Parquet and JSON I/O shared by every stage: atomic writes, signal tables, provenance.

Every file the pipeline writes goes through :func:`atomic_write` so that a crash never leaves a
partial file that looks complete.  Signals (ECG windows, CineECG trajectories, attribution maps kept
as arrays) are stored as one row per record with a ``fixed_size_list<float32>`` column holding the
C x T array flattened in channel-major order; channel names, sampling rate and any provenance live in
the file's key-value metadata under the ``cinexai`` key (a JSON object).  The full schema of every
table is documented in ``docs/architecture.md``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib
import importlib.metadata
import json
import os
import platform
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

METADATA_KEY = b"cinexai"
_UMASK = os.umask(0)
os.umask(_UMASK)

#: Packages whose versions are recorded with every output.
PROVENANCE_PACKAGES = (
    "cinexai",
    "numpy",
    "scipy",
    "pandas",
    "pyarrow",
    "torch",
    "captum",
    "shap",
    "lime",
    "optuna",
    "scikit-learn",
    "wfdb",
    "snakemake",
)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs are ordinary files
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _to_jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_to_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    return obj


def write_table(
    df: pd.DataFrame | pa.Table,
    path: str | os.PathLike[str],
    metadata: dict[str, Any] | None = None,
) -> None:
    """Write a table to Parquet atomically, with ``metadata`` (JSON-able) under the cinexai key."""
    table = df if isinstance(df, pa.Table) else pa.Table.from_pandas(df, preserve_index=False)
    if metadata is not None:
        existing = dict(table.schema.metadata or {})
        existing[METADATA_KEY] = json.dumps(_to_jsonable(metadata)).encode()
        table = table.replace_schema_metadata(existing)
    with atomic_write(path) as tmp:
        pq.write_table(table, tmp)


def read_table(
    path: str | os.PathLike[str], columns: Sequence[str] | None = None, filters: Any = None
) -> pd.DataFrame:
    """Read a Parquet file (or a hive-partitioned directory) into pandas."""
    return pq.read_table(
        path, columns=list(columns) if columns else None, filters=filters
    ).to_pandas()


def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Return the cinexai JSON metadata stored in a Parquet file (empty dict if none)."""
    meta = pq.read_schema(path).metadata or {}
    raw = meta.get(METADATA_KEY)
    return json.loads(raw) if raw else {}


@dataclass
class SignalSet:
    """An (N, C, T) float32 array with record ids, channel names and per-record columns."""

    ids: np.ndarray
    X: np.ndarray
    channels: list[str]
    fs: float
    frame: pd.DataFrame = field(default_factory=pd.DataFrame)
    meta: dict[str, Any] = field(default_factory=dict)

    def select(self, ids: Sequence[int]) -> SignalSet:
        """Return the subset for ``ids`` in the given order; KeyError names the first missing id."""
        index = {int(i): k for k, i in enumerate(self.ids)}
        missing = [int(i) for i in ids if int(i) not in index]
        if missing:
            raise KeyError(
                f"record id {missing[0]} not in signal table ({len(missing)} missing of {len(ids)})"
            )
        rows = np.array([index[int(i)] for i in ids], dtype=int)
        return SignalSet(
            self.ids[rows],
            self.X[rows],
            self.channels,
            self.fs,
            self.frame.iloc[rows].reset_index(drop=True),
            self.meta,
        )


def write_signals(
    path: str | os.PathLike[str],
    ids: Sequence[int] | np.ndarray,
    X: np.ndarray,
    channels: Sequence[str],
    fs: float,
    columns: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
) -> None:
    """Write an (N, C, T) array as one row per record: ``id``, extra ``columns``, ``signal``.

    ``signal`` is ``fixed_size_list<float32>[C*T]`` in channel-major order.  Channel names, ``fs``
    and ``n_samples`` are stored in the metadata so :func:`read_signals` restores the shape.
    """
    X = np.ascontiguousarray(X, dtype=np.float32)
    if X.ndim != 3 or X.shape[1] != len(channels):
        raise ValueError(f"signals must be (N, {len(channels)}, T), got {X.shape}")
    n, c, t = X.shape
    flat = pa.array(X.reshape(-1), type=pa.float32())
    arrays = {"id": pa.array(np.asarray(ids, dtype=np.int64))}
    for name, values in (columns or {}).items():
        arrays[name] = pa.array(values)
    arrays["signal"] = (
        pa.FixedSizeListArray.from_arrays(flat, c * t)
        if n
        else pa.array([], type=pa.list_(pa.float32(), c * t))
    )
    table = pa.table(arrays)
    meta = {"channels": list(channels), "fs": float(fs), "n_samples": int(t), **(metadata or {})}
    write_table(table, path, meta)


def read_signals(path: str | os.PathLike[str]) -> SignalSet:
    """Read a file written by :func:`write_signals`."""
    table = pq.read_table(path)
    meta = read_metadata(path)
    channels, t = meta["channels"], int(meta["n_samples"])
    sig = table.column("signal").combine_chunks()
    values = sig.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    X = values.reshape(len(table), len(channels), t)
    frame = table.drop(["id", "signal"]).to_pandas()
    ids = table.column("id").to_numpy()
    return SignalSet(ids, X, list(channels), float(meta["fs"]), frame, meta)


def write_json(obj: Any, path: str | os.PathLike[str]) -> None:
    """Write JSON atomically (sorted keys, indented)."""
    with atomic_write(path) as tmp:
        tmp.write_text(json.dumps(_to_jsonable(obj), indent=2, sort_keys=True) + "\n")


def read_json(path: str | os.PathLike[str]) -> Any:
    return json.loads(Path(path).read_text())


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes (model checksums, provenance)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@functools.cache
def _versions() -> tuple[tuple[str, str], ...]:
    out = [("python", platform.python_version())]
    for name in PROVENANCE_PACKAGES:
        try:
            out.append((name, importlib.metadata.version(name)))
        except importlib.metadata.PackageNotFoundError:
            continue
    return tuple(out)


def package_versions() -> dict[str, str]:
    """Versions of the packages that shape results, plus Python's (looked up once per process)."""
    return dict(_versions())
