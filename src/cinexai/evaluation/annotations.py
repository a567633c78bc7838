"""Validate expert annotations and turn them into binary sample masks (paper section 3.5).

Protocol (times in ms from QRS onset, window ``0..window_ms``):

* a segment shorter than the minimum width (25 ms if its centre lies in the QRS region 0-150 ms,
  50 ms otherwise) is widened symmetrically about its centre to that width, then clipped to the
  window (so a segment at the window edge may stay shorter than the minimum);
* a point (``kind == point``, time ``start_ms``; ``end_ms`` empty or equal) becomes
  ``[t - 10, t + 10]`` ms, clipped to the window, and is not widened further;
* ecg12 rows name one lead (``*`` = all 12; names as :func:`cinexai.leads.canonical_lead` reads
  them, e.g. ``aVR``, ``AVR``, ``avr``); the mask covers only the leads named for that case,
  so metrics are computed only inside them; cineecg rows (lead ``*`` or empty) apply to the whole
  trajectory: channels x, y, z share one time mask;
* two or more annotators of a case are combined by the policy ``evaluation.annotators``, cell by
  cell over the annotators of that case and modality: ``union`` (any annotator marked it, the
  default), ``intersection`` (all did) or ``majority`` (more than half did; with two annotators
  this equals the intersection). A lead enters the mask under the same rule (named by any / all /
  more than half); a case whose combined mask is empty for a modality is left out of that
  modality with a logged reason. Each annotator gives one diagnosis per case; the case's
  diagnosis follows the same policy (abnormal if any / all / more than half said abnormal), and
  disagreements are logged.
* ``each`` keeps every annotator's mask separately: ``masks.parquet`` then holds one block per
  annotator (column ``annotator`` = the annotator's id) and each configuration is scored against
  each annotator's mask, a case's metrics being the mean over its annotators
  (:func:`cinexai.evaluation.score.score_each`). The case's diagnosis (sign alignment, agreement
  with the model) follows the union rule (abnormal if any annotator said abnormal). Under the
  combining policies the column ``annotator`` holds the sentinel ``*`` (:data:`COMBINED`).
  Consumers needing one mask per case (the oracle control, the case figures) read
  :func:`pooled_masks`: the union of the annotators' masks under ``each``, the mask itself otherwise.
* an annotated case that ingestion excluded (``exclusions.parquet``) is left out of the masks with
  ingestion's stage and reason (logged, listed in the masks' metadata).

Sample <-> ms rule: with ``dt = 1000 / fs`` ms, sample ``t`` covers ``[t*dt, (t+1)*dt)`` ms (at
500 Hz sample t covers ``[2t, 2t+2)``). A segment ``[a, b]`` marks every sample whose interval
overlaps it: ``t = floor(a/dt) .. ceil(b/dt) - 1``.
"""

from __future__ import annotations

import logging
import math
import os
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from cinexai.io import file_sha256, package_versions, read_table, write_table
from cinexai.leads import CINE_CHANNELS, LEADS, canonical_lead

log = logging.getLogger(__name__)

REQUIRED_COLUMNS = (
    "case_id",
    "annotator",
    "modality",
    "lead",
    "start_ms",
    "end_ms",
    "kind",
    "diagnosis",
)
MODALITIES = ("ecg12", "cineecg")
KINDS = ("segment", "point")
DIAGNOSES = ("normal", "abnormal")
#: How two or more annotators of one case are combined (config ``evaluation.annotators``).
ANNOTATOR_POLICIES = ("union", "intersection", "majority", "each")
#: Policy keeping each annotator's mask apart (scored per annotator, then averaged per case).
EACH = "each"
#: ``annotator`` value of the mask rows of a combining policy (union, intersection, majority).
COMBINED = "*"
ALL_LEADS = "*"
#: Protocol constants (paper section 3.5).
QRS_REGION_MS = 150.0
MIN_WIDTH_QRS_MS = 25.0
MIN_WIDTH_REST_MS = 50.0
POINT_TOLERANCE_MS = 10.0
SAMPLE_RULE = (
    "sample t covers [t*dt, (t+1)*dt) ms, dt = 1000/fs; a segment [a, b] marks samples "
    "floor(a/dt) .. ceil(b/dt)-1"
)
_EPS = 1e-9


def read_annotations(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read an annotation file (``.csv`` or ``.parquet``) as strings/numbers, no index.

    Raises ValueError naming the file when it is empty or holds no rows.
    """
    path = Path(path)
    if path.stat().st_size == 0:
        raise ValueError(f"annotation file {path} is empty (expected a header and rows)")
    if path.suffix.lower() in (".parquet", ".pq"):
        table = read_table(path)
    else:
        table = pd.read_csv(
            path,
            dtype={"lead": str, "annotator": str},
            keep_default_na=False,
            na_values={"start_ms": [""], "end_ms": [""]},
        )
    if table.empty:
        raise ValueError(f"annotation file {path} has no rows")
    return table


def evaluation_cases(records: pd.DataFrame) -> set[int]:
    """Ids of the included records of the held-out evaluation split."""
    sel = records["included"].astype(bool) & (records["split"] == "evaluation")
    return {int(i) for i in records.loc[sel, "ecg_id"]}


def _as_float(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def excluded_cases(exclusions: pd.DataFrame, cases: set[int]) -> dict[int, tuple[str, str]]:
    """Ingestion's (stage, reason) per excluded record that is not an included evaluation case."""
    return {
        int(row.ecg_id): (str(row.stage), str(row.reason))
        for row in exclusions.itertuples(index=False)
        if int(row.ecg_id) not in cases
    }


def _lead(value: object) -> str:
    """A row's lead: '' when empty, ``*``, the canonical name, or the value as written."""
    text = "" if pd.isna(value) else str(value).strip()
    return text if text in ("", ALL_LEADS) else canonical_lead(text) or text


def _row_problems(
    row: pd.Series, cases: set[int], window_ms: float, excluded: dict[int, tuple[str, str]]
) -> tuple[str, list[str]]:
    """Return the row's case label and every problem found in it."""
    problems: list[str] = []
    try:
        case = int(row["case_id"])
        label = str(case)
        if case != float(row["case_id"]):
            raise ValueError
    except (TypeError, ValueError):
        return repr(row["case_id"]), [f"case_id {row['case_id']!r} is not an integer"]
    if case not in cases and case not in excluded:
        problems.append("unknown case (not an included evaluation record in records.parquet)")
    modality, kind = str(row["modality"]).strip(), str(row["kind"]).strip()
    diagnosis = str(row["diagnosis"]).strip()
    lead = _lead(row["lead"])
    if modality not in MODALITIES:
        problems.append(f"unknown modality {modality!r} (expected one of {', '.join(MODALITIES)})")
    if kind not in KINDS:
        problems.append(f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})")
    if diagnosis not in DIAGNOSES:
        problems.append(f"unknown diagnosis {diagnosis!r} (expected one of {', '.join(DIAGNOSES)})")
    if modality == "ecg12" and lead not in (*LEADS, ALL_LEADS):
        problems.append(
            f"unknown lead {lead!r} (expected one of {', '.join(LEADS)} or '*', any case)"
        )
    if modality == "cineecg" and lead not in (ALL_LEADS, ""):
        problems.append(
            f"lead {lead!r} on a cineecg row (the trajectory is annotated as a whole: use '*')"
        )
    start, end = _as_float(row["start_ms"]), _as_float(row["end_ms"])
    if kind == "point" and math.isnan(end):
        end = start
    if math.isnan(start) or math.isnan(end):
        problems.append(f"start_ms/end_ms not numeric ({row['start_ms']!r}, {row['end_ms']!r})")
        return label, problems
    if not (0.0 <= start <= window_ms and 0.0 <= end <= window_ms):
        problems.append(f"time outside 0-{window_ms:g} ms (start_ms={start:g}, end_ms={end:g})")
    if start > end:
        problems.append(f"start_ms {start:g} > end_ms {end:g}")
    if kind == "point" and start != end:
        problems.append(f"point with end_ms {end:g} != start_ms {start:g} (a point is one time)")
    return label, problems


def validate_annotations(
    df: pd.DataFrame,
    cases: set[int],
    window_ms: float,
    excluded: dict[int, tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """Check every row; raise ValueError naming each bad row (1-based) and its case.

    Returns a normalised copy (int case ids, stripped strings, canonical lead names, float times;
    a point's ``end_ms`` = ``start_ms``).  Rows of the cases in ``excluded`` (ingestion's
    exclusions: case id -> (stage, reason)) are checked like the others but not flagged as unknown cases.
    """
    excluded = excluded or {}
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(
            f"annotation file lacks column(s) {missing}; needs {list(REQUIRED_COLUMNS)}"
        )
    errors = []
    for i, (_, row) in enumerate(df.iterrows(), start=1):
        label, problems = _row_problems(row, cases, window_ms, excluded)
        errors += [f"annotation row {i} (case {label}): {p}" for p in problems]
    if errors:
        raise ValueError(
            "; ".join(errors[:20]) + (f"; ... {len(errors) - 20} more" if len(errors) > 20 else "")
        )
    out = pd.DataFrame(
        {
            "row": np.arange(1, len(df) + 1),
            "case_id": df["case_id"].astype(float).astype(np.int64).to_numpy(),
            "annotator": df["annotator"].astype(str).str.strip().to_numpy(),
            "modality": df["modality"].astype(str).str.strip().to_numpy(),
            "lead": [_lead(v) or ALL_LEADS for v in df["lead"]],
            "start_ms": df["start_ms"].map(_as_float).to_numpy(),
            "end_ms": df["end_ms"].map(_as_float).to_numpy(),
            "kind": df["kind"].astype(str).str.strip().to_numpy(),
            "diagnosis": df["diagnosis"].astype(str).str.strip().to_numpy(),
        }
    )
    points = out["kind"] == "point"
    out.loc[points, "end_ms"] = out.loc[points, "start_ms"]
    _check_one_diagnosis(out)
    return out


def _check_one_diagnosis(df: pd.DataFrame) -> None:
    """An annotator gives a case one diagnosis; name the first row that contradicts it."""
    for (case, _), group in df.groupby(["case_id", "annotator"], sort=True):
        first = group["diagnosis"].iloc[0]
        bad = group[group["diagnosis"] != first]
        if len(bad):
            raise ValueError(
                f"annotation row {int(bad['row'].iloc[0])} (case {case}): case "
                f"annotated with two diagnoses ({first!r} and "
                f"{bad['diagnosis'].iloc[0]!r})"
            )


def segment_bounds(start: float, end: float, kind: str, window_ms: float) -> tuple[float, float]:
    """Protocol bounds (ms) of one annotation: point tolerance or minimum width, clipped."""
    if kind == "point":
        return max(0.0, start - POINT_TOLERANCE_MS), min(window_ms, start + POINT_TOLERANCE_MS)
    centre = (start + end) / 2
    min_width = MIN_WIDTH_QRS_MS if centre < QRS_REGION_MS else MIN_WIDTH_REST_MS
    if end - start < min_width:
        start, end = centre - min_width / 2, centre + min_width / 2
    return max(0.0, start), min(window_ms, end)


def sample_range(start: float, end: float, fs: float, n_samples: int) -> slice:
    """Samples overlapping ``[start, end]`` ms under the module's sample <-> ms rule."""
    dt = 1000.0 / fs
    first = int(math.floor(start / dt + _EPS))
    last = int(math.ceil(end / dt - _EPS))
    return slice(max(0, first), min(n_samples, max(last, first + 1)))


def annotator_masks(
    df: pd.DataFrame, fs: float, n_samples: int, window_ms: float
) -> dict[tuple[int, str], dict[str, dict[str, np.ndarray]]]:
    """(case, modality) -> annotator -> channel -> (n_samples,) mask of each annotator's rows."""
    out: dict[tuple[int, str], dict[str, dict[str, np.ndarray]]] = {}
    for row in df.itertuples(index=False):
        a, b = segment_bounds(row.start_ms, row.end_ms, row.kind, window_ms)
        span = sample_range(a, b, fs, n_samples)
        if row.modality == "ecg12":
            channels = LEADS if row.lead == ALL_LEADS else (row.lead,)
        else:
            channels = CINE_CHANNELS
        own = out.setdefault((row.case_id, row.modality), {}).setdefault(row.annotator, {})
        for ch in channels:
            own.setdefault(ch, np.zeros(n_samples, dtype=bool))[span] = True
    return out


def _needed(n_annotators: int, policy: str) -> int:
    """How many annotators must agree under ``policy``."""
    if policy not in ANNOTATOR_POLICIES:
        raise ValueError(f"evaluation.annotators {policy!r} not in {ANNOTATOR_POLICIES}")
    if policy == EACH:  # only the diagnosis is combined under each: by the union rule
        return 1
    return {"union": 1, "intersection": n_annotators, "majority": n_annotators // 2 + 1}[policy]


def combine(per_annotator: dict[str, dict[str, np.ndarray]], policy: str) -> dict[str, np.ndarray]:
    """Channel masks of several annotators of one case and modality, combined by ``policy``."""
    need = _needed(len(per_annotator), policy)
    names = Counter(ch for masks in per_annotator.values() for ch in masks)
    out = {}
    for ch, n_named in names.items():
        if n_named >= need:
            votes = sum(m[ch].astype(np.int16) for m in per_annotator.values() if ch in m)
            out[ch] = votes >= need
    return out


def case_diagnoses(df: pd.DataFrame, policy: str) -> pd.Series:
    """case_id -> diagnosis combined over the case's annotators by ``policy``; disagreement logged."""
    per = df.groupby(["case_id", "annotator"])["diagnosis"].first().eq("abnormal")
    out = {}
    for case, votes in per.groupby(level=0):
        abnormal = int(votes.sum()) >= _needed(len(votes), policy)
        out[case] = "abnormal" if abnormal else "normal"
        if 0 < votes.sum() < len(votes):
            log.info(
                "case %d: annotators disagree on the diagnosis (%d of %d abnormal) -> %s (%s)",
                case,
                int(votes.sum()),
                len(votes),
                out[case],
                policy,
            )
    return pd.Series(out, name="diagnosis")


def mask_table(
    df: pd.DataFrame, fs: float, n_samples: int, window_ms: float, policy: str = "union"
) -> pd.DataFrame:
    """Long mask table (case_id, modality, annotator, channel, t, mask, diagnosis).

    ``annotator`` is :data:`COMBINED` under a combining policy, the annotator's id under ``each``.
    """
    diagnosis = case_diagnoses(df, policy)
    order = {ch: k for k, ch in enumerate((*LEADS, *CINE_CHANNELS))}
    frames = []
    for (case, modality), per_annotator in sorted(
        annotator_masks(df, fs, n_samples, window_ms).items()
    ):
        if policy == EACH:
            blocks = {name: per_annotator[name] for name in sorted(per_annotator)}
        else:
            blocks = {COMBINED: combine(per_annotator, policy)}
        for name, channels in blocks.items():
            if not any(m.any() for m in channels.values()):
                log.warning(
                    "case %d %s: no cell left under annotators=%s (%d annotators): not scored",
                    case,
                    modality,
                    policy,
                    len(per_annotator),
                )
                continue
            for ch in sorted(channels, key=order.__getitem__):
                frames.append(
                    pd.DataFrame(
                        {
                            "case_id": np.full(n_samples, case, dtype=np.int64),
                            "modality": modality,
                            "annotator": name,
                            "channel": ch,
                            "t": np.arange(n_samples, dtype=np.int16),
                            "mask": channels[ch],
                            "diagnosis": diagnosis[case],
                        }
                    )
                )
    if not frames:
        raise ValueError(f"no case keeps a mask under annotators={policy}")
    return pd.concat(frames, ignore_index=True)


def pooled_masks(masks: pd.DataFrame) -> pd.DataFrame:
    """One mask per (case, modality, channel, t): the union over annotators under ``each``.

    Rows of a combining policy (``annotator`` = :data:`COMBINED`, or a file without the column)
    are returned as they are; under ``each`` a cell is marked when any annotator marked it and a
    channel is present when any annotator named it (the union policy's mask).
    """
    if "annotator" not in masks.columns or (masks["annotator"] == COMBINED).all():
        return masks
    keys = ["case_id", "modality", "channel", "t"]
    pooled = masks.groupby(keys, sort=False, as_index=False).agg(
        mask=("mask", "max"), diagnosis=("diagnosis", "first")
    )
    return pooled.assign(annotator=COMBINED)


def window_geometry(cfg: dict) -> tuple[float, float, int]:
    """(fs, window_ms, n_samples) from ``config["data"]``."""
    fs, window_ms = float(cfg["sampling_rate"]), float(cfg["window_ms"])
    return fs, window_ms, int(round(window_ms * fs / 1000.0))


def build_masks(
    *,
    annotations: str | os.PathLike[str],
    records: str | os.PathLike[str],
    out_masks: str | os.PathLike[str],
    cfg: dict,
    exclusions: str | os.PathLike[str] | None = None,
    annotators: str = "union",
) -> None:
    """Stage entry: validate the expert annotations and write ``masks.parquet``.

    ``cfg`` is ``config["data"]`` (``sampling_rate``, ``window_ms``); ``annotators`` the policy
    combining several annotators of a case (:data:`ANNOTATOR_POLICIES`). Any bad row raises a
    ValueError naming the 1-based row number and case id; nothing is written then.  An annotated
    case that ingestion excluded (``exclusions``, ingestion's exclusions.parquet) is left out with
    a warning giving ingestion's stage and reason, and listed in the metadata.
    """
    fs, window_ms, n_samples = window_geometry(cfg)
    cases = evaluation_cases(read_table(records, columns=["ecg_id", "split", "included"]))
    excluded = (
        excluded_cases(read_table(exclusions, columns=["ecg_id", "stage", "reason"]), cases)
        if exclusions is not None
        else {}
    )
    rows = validate_annotations(read_annotations(annotations), cases, window_ms, excluded)
    left_out = {int(c): excluded[int(c)] for c in sorted(set(rows["case_id"]) & set(excluded))}
    for case, (stage, reason) in left_out.items():
        log.warning(
            "annotated case %d excluded by ingestion (stage %s: %s): not scored",
            case,
            stage,
            reason,
        )
    rows = rows[~rows["case_id"].isin(list(left_out))]
    if rows.empty:
        raise ValueError(
            f"annotation file {annotations}: every annotated case was excluded by ingestion: "
            + "; ".join(f"case {c} (stage {s}: {r})" for c, (s, r) in left_out.items())
        )
    table = mask_table(rows, fs, n_samples, window_ms, annotators)
    per_modality = table.groupby("modality")["case_id"].nunique().to_dict()
    unannotated = sorted(cases - set(rows["case_id"]))
    if unannotated:
        log.warning(
            "%d evaluation records carry no annotation and are not scored: %s",
            len(unannotated),
            unannotated,
        )
    log.info("masks: %d rows -> %d cases (%s)", len(rows), rows["case_id"].nunique(), per_modality)
    write_table(
        table,
        out_masks,
        {
            "fs": fs,
            "window_ms": window_ms,
            "n_samples": n_samples,
            "sample_rule": SAMPLE_RULE,
            "protocol": {
                "qrs_region_ms": QRS_REGION_MS,
                "min_width_qrs_ms": MIN_WIDTH_QRS_MS,
                "min_width_rest_ms": MIN_WIDTH_REST_MS,
                "point_tolerance_ms": POINT_TOLERANCE_MS,
                "annotators": annotators,
            },
            "cases_per_modality": per_modality,
            "unannotated_evaluation_cases": unannotated,
            "excluded_annotated_cases": [
                {"case_id": case, "stage": stage, "reason": reason}
                for case, (stage, reason) in left_out.items()
            ],
            "annotators": sorted(rows["annotator"].unique()),
            "annotations_sha256": file_sha256(annotations),
            "records_sha256": file_sha256(records),
            "config": cfg,
            "versions": package_versions(),
        },
    )
