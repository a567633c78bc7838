"""Ingest stage: PTB-XL layout (real or synthetic) -> windows, records and exclusions tables.

Entry point :func:`ingest`.  Every record that enters the selection (see
:mod:`cinexai.data.ptbxl`) either gets a 400 ms window (see :mod:`cinexai.data.beats`) or a row
in ``exclusions.parquet`` with its stage and reason; records without a label are excluded at
stage ``labels`` before selection.  Exclusion stages: ``labels``, ``read`` (unreadable, wrong
lead set, wrong sampling rate, unknown units), ``signal`` (implausible amplitude, NaN, flat
lead), ``beats`` (too short, no / too few beats, window past the end).  What a record must be to be
ingested is listed in docs/architecture.md ("Record requirements").
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import partial
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import wfdb
from tqdm import tqdm

from cinexai.data.beats import BeatError, BeatResult, ms, process_signal
from cinexai.data.layout import FILENAME_COLUMN
from cinexai.data.ptbxl import (
    label_conflicts,
    label_records,
    read_case_diagnoses,
    read_case_ids,
    read_database,
    read_statements,
    select_records,
)
from cinexai.io import package_versions, write_signals, write_table
from cinexai.leads import LEADS, canonical_lead

log = logging.getLogger(__name__)

#: Percentile of |x - median| compared with ``max_abs_mv`` (robust to a few spikes).
AMPLITUDE_PERCENTILE = 99.9
#: Physical units a lead may be stored in, and their factor to mV (after :func:`unit_key`).
TO_MV = {"mv": 1.0, "uv": 1e-3, "v": 1e3}

RECORDS_SCHEMA = pa.schema(
    [
        ("ecg_id", pa.int64()),
        ("patient_id", pa.int64()),
        ("label", pa.int8()),
        ("split", pa.string()),
        ("included", pa.bool_()),
        ("qrs_onset", pa.int32()),
        ("n_beats", pa.int32()),
        ("heart_rate", pa.float32()),
    ]
)
EXCLUSIONS_SCHEMA = pa.schema(
    [("ecg_id", pa.int64()), ("stage", pa.string()), ("reason", pa.string())]
)


class Excluded(Exception):
    """A record that yields no window: ``stage`` and ``reason`` go to exclusions.parquet."""

    def __init__(self, stage: str, reason: str) -> None:
        super().__init__(reason)
        self.stage, self.reason = stage, reason


@dataclass(frozen=True)
class Outcome:
    """One record's result: a :class:`BeatResult` or an exclusion."""

    ecg_id: int
    result: BeatResult | None = None
    stage: str = ""
    reason: str = ""


def unit_key(unit: str) -> str:
    """``mV``, ``mv``, ``uV``, ``µV`` (micro sign or Greek mu), ``V`` -> ``mv`` / ``uv`` / ``v``."""
    return unit.strip().replace("\u00b5", "u").replace("\u03bc", "u").lower()


def header_units(path: Path, n_sig: int) -> list[str]:
    """Each signal's units as written in the ``.hea`` file (WFDB default ``mV`` when absent).

    Read from the text because wfdb's parser drops a ``µ`` (``µV`` comes back as ``V``).
    """
    raw = Path(f"{path}.hea").read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    units = []
    for line in lines[1 : 1 + n_sig]:
        fields = line.split()
        match = re.search(r"/(.+)$", fields[2]) if len(fields) > 2 else None
        units.append(match.group(1) if match else "mV")
    return units


def load_record(path: Path, fs: float) -> np.ndarray:
    """Read a WFDB record as a (12, N) mV array in :data:`LEADS` order, or raise Excluded.

    The 12 leads are matched by :func:`~cinexai.leads.canonical_lead` (any order, any case); each
    lead is converted from its header units (mV, uV, V) to mV; other units, lead sets or sampling
    rates exclude the record naming what is wrong.
    """
    try:
        record = wfdb.rdrecord(str(path))
        units = header_units(path, record.n_sig)
    except Exception as exc:  # any read error makes the record unreadable, with wfdb's message
        raise Excluded("read", f"unreadable: {type(exc).__name__}: {exc}") from exc
    names = [canonical_lead(n) for n in record.sig_name]
    if sorted(n or "" for n in names) != sorted(LEADS):
        unknown = [str(r) for r, n in zip(record.sig_name, names, strict=True) if n is None]
        extra = f" (unknown: {unknown})" if unknown else ""
        raise Excluded("read", f"wrong lead set: {list(record.sig_name)}{extra}")
    if float(record.fs) != float(fs):
        raise Excluded(
            "read", f"wrong sampling rate: {record.fs:g} Hz (data.sampling_rate is {fs:g} Hz)"
        )
    scale = []
    for name, unit in zip(record.sig_name, units, strict=True):
        if unit_key(unit) not in TO_MV:
            raise Excluded("read", f"unknown units {unit!r} of lead {name} (expected mV, uV or V)")
        scale.append(TO_MV[unit_key(unit)])
    x = np.asarray(record.p_signal, dtype=np.float64).T * np.asarray(scale)[:, None]
    return x[[names.index(lead) for lead in LEADS]]


def check_amplitude(x: np.ndarray, max_abs_mv: float) -> None:
    """Exclude a mis-scaled record: some lead's robust amplitude exceeds ``max_abs_mv``.

    Robust amplitude: the :data:`AMPLITUDE_PERCENTILE` th percentile of |x - median| over the
    lead's finite samples (an ECG stays within a few mV; a record in uV read as mV is ~1000x).
    """
    for lead, signal in zip(LEADS, x, strict=True):
        finite = signal[np.isfinite(signal)]
        if finite.size == 0:
            continue  # all-NaN: the signal checks exclude it with that reason
        amplitude = float(np.percentile(np.abs(finite - np.median(finite)), AMPLITUDE_PERCENTILE))
        if amplitude > max_abs_mv:
            raise Excluded(
                "signal",
                f"implausible amplitude in lead {lead}: {AMPLITUDE_PERCENTILE:g}th percentile of "
                f"|x - median| is {amplitude:.4g} mV > data.max_abs_mv {max_abs_mv:g} mV; check "
                "the header's units and gain",
            )


def process_record(
    task: tuple[int, Path],
    fs: float,
    n_samples: int,
    min_beats: int,
    mains_hz: float | None,
    max_abs_mv: float,
) -> Outcome:
    """Read and window one record; bad data gives an exclusion, a bug an error naming the record."""
    ecg_id, path = task
    try:
        x = load_record(path, fs)
        check_amplitude(x, max_abs_mv)
        return Outcome(ecg_id, process_signal(x, fs, n_samples, LEADS, min_beats, mains_hz))
    except Excluded as exc:
        return Outcome(ecg_id, stage=exc.stage, reason=exc.reason)
    except BeatError as exc:
        return Outcome(ecg_id, stage=exc.stage, reason=str(exc))
    except Exception as exc:
        raise RuntimeError(f"ecg_id {ecg_id} ({path}): {type(exc).__name__}: {exc}") from exc


def run_records(tasks: list[tuple[int, Path]], worker: partial, threads: int) -> list[Outcome]:
    """Apply ``worker`` to every task, in order, in a Pool of ``threads`` processes."""
    bar = partial(tqdm, total=len(tasks), desc="ingest", unit="record", mininterval=2.0)
    if threads <= 1:
        return [worker(t) for t in bar(tasks)]
    with Pool(threads) as pool:
        return list(bar(pool.imap(worker, tasks, chunksize=8)))


def ingest(
    *,
    ptbxl_dir: str | Path,
    annotations: str | Path | None,
    out_dir: str | Path,
    cfg: dict,
    seed: int,
    threads: int = 1,
) -> None:
    """Write ``windows.parquet``, ``records.parquet`` and ``exclusions.parquet`` to ``out_dir``.

    ``cfg`` is ``config["data"]``; ``annotations`` (CSV/Parquet, only ``case_id`` is read) names
    the evaluation cases, or ``None`` for no evaluation split.
    """
    ptbxl_dir, out_dir = Path(ptbxl_dir), Path(out_dir)
    fs = int(cfg["sampling_rate"])
    if fs not in FILENAME_COLUMN:
        raise ValueError(f"data.sampling_rate must be one of {sorted(FILENAME_COLUMN)}, got {fs}")
    n_samples = ms(cfg["window_ms"], fs)
    db = read_database(ptbxl_dir)
    labels, label_reasons = label_records(db, read_statements(ptbxl_dir), cfg["norm_likelihood"])
    evaluation = read_case_ids(annotations) if annotations is not None else []
    selected = select_records(db, labels, evaluation, cfg, seed)
    conflicts = label_conflicts(labels, read_case_diagnoses(annotations) if evaluation else {})
    report_evaluation(evaluation, conflicts)

    worker = partial(
        process_record,
        fs=fs,
        n_samples=n_samples,
        min_beats=int(cfg["min_beats"]),
        mains_hz=cfg["mains_hz"],
        max_abs_mv=float(cfg["max_abs_mv"]),
    )
    tasks = [(int(i), ptbxl_dir / db.at[i, FILENAME_COLUMN[fs]]) for i in selected.index]
    outcomes = run_records(tasks, worker, threads)

    records = records_table(selected, outcomes)
    exclusions = exclusions_table(label_reasons, outcomes)
    ok = [o for o in outcomes if o.result is not None]
    X = (
        np.stack([o.result.window for o in ok])
        if ok
        else np.zeros((0, len(LEADS), n_samples), np.float32)
    )
    counts = {**summarize(db, records, exclusions), "label_conflicts": len(conflicts)}
    metadata = {
        "seed": seed,
        "config": cfg,
        "counts": counts,
        "versions": package_versions(),
        "annotations": str(annotations) if annotations is not None else None,
        "label_conflicts": conflicts,
    }
    log_summary(records, exclusions, counts)
    write_signals(
        out_dir / "windows.parquet",
        [o.ecg_id for o in ok],
        X,
        LEADS,
        fs,
        metadata={**metadata, "units": "mV", "baseline": "isoelectric PR level = 0"},
    )
    write_table(exclusions, out_dir / "exclusions.parquet", metadata)
    write_table(records, out_dir / "records.parquet", metadata)


def report_evaluation(evaluation: list[int], conflicts: list[dict]) -> None:
    """Log the annotated records taken into the evaluation split, and warn for each whose
    annotation contradicts its database label (kept, with the database label; counted)."""
    if evaluation:
        log.info(
            "%d annotated record(s) form the evaluation split (with their patients' other records "
            "they leave every development split)",
            len(evaluation),
        )
    for c in conflicts:
        log.warning(
            "label conflict: annotated case %d is %s in the annotations but %s in "
            "ptbxl_database.csv (the database label is kept for the models)",
            c["ecg_id"],
            c["annotation_diagnosis"],
            c["database_label"],
        )


def records_table(selected: pd.DataFrame, outcomes: list[Outcome]) -> pa.Table:
    """records.parquet: one row per selected record, with its window's numbers or -1/0/NaN."""
    by_id = {o.ecg_id: o.result for o in outcomes}
    results = [by_id[int(i)] for i in selected.index]
    frame = pd.DataFrame(
        {
            "ecg_id": selected.index.to_numpy(np.int64),
            "patient_id": selected["patient_id"].to_numpy(np.int64),
            "label": selected["label"].to_numpy(np.int8),
            "split": selected["split"].to_numpy(str),
            "included": [r is not None for r in results],
            "qrs_onset": [r.qrs_onset if r else -1 for r in results],
            "n_beats": [r.n_beats if r else 0 for r in results],
            "heart_rate": [r.heart_rate if r else np.nan for r in results],
        }
    )
    return pa.Table.from_pandas(frame, schema=RECORDS_SCHEMA, preserve_index=False)


def exclusions_table(label_reasons: pd.Series, outcomes: list[Outcome]) -> pa.Table:
    """exclusions.parquet: label exclusions, then per-record exclusions, by ecg_id."""
    rows = [(int(i), "labels", r) for i, r in label_reasons.items()]
    rows += [(o.ecg_id, o.stage, o.reason) for o in outcomes if o.result is None]
    frame = pd.DataFrame(rows, columns=["ecg_id", "stage", "reason"]).sort_values(
        "ecg_id", kind="stable"
    )
    return pa.Table.from_pandas(frame, schema=EXCLUSIONS_SCHEMA, preserve_index=False)


def summarize(db: pd.DataFrame, records: pa.Table, exclusions: pa.Table) -> dict:
    """Counts stored with every output: database size, exclusions, included per split x label."""
    rec = records.to_pandas()
    inc = rec[rec["included"]]
    per_split = {
        split: {"normal": int((g["label"] == 0).sum()), "abnormal": int((g["label"] == 1).sum())}
        for split, g in inc.groupby("split")
    }
    return {
        "database": len(db),
        "selected": len(rec),
        "included": len(inc),
        "excluded": exclusions.num_rows,
        "excluded_by_stage": exclusions.to_pandas()["stage"].value_counts().to_dict(),
        "included_by_split": per_split,
    }


def log_summary(records: pa.Table, exclusions: pa.Table, counts: dict) -> None:
    """Log the counts, and warn for every excluded evaluation case."""
    log.info(
        "ingest: %d of %d selected records windowed; %d exclusions %s; per split %s; "
        "%d label conflict(s)",
        counts["included"],
        counts["selected"],
        counts["excluded"],
        counts["excluded_by_stage"],
        counts["included_by_split"],
        counts["label_conflicts"],
    )
    rec = records.to_pandas()
    lost = rec[(rec["split"] == "evaluation") & ~rec["included"]]["ecg_id"]
    if len(lost):
        reasons = exclusions.to_pandas().set_index("ecg_id")["reason"]
        for ecg_id in lost:
            log.warning("evaluation case %d excluded: %s", ecg_id, reasons.get(ecg_id))
