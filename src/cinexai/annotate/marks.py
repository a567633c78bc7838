"""A reviewer's marks: the protocol check the server applies, and the export the grid reads.

A work state is ``{"diagnosis": "normal" | "abnormal" | None, "note": str, "marks": {"ecg12":
[...], "cineecg": [...]}}``; a mark is ``{"lead", "kind", "start_ms", "end_ms"}``. The two
modalities hold separate mark lists (annotated independently). Protocol (paper section 3.5, the
constants of :mod:`cinexai.evaluation.annotations`): a segment is at least 25 ms wide if its centre
lies in 0-150 ms, else 50 ms (the page widens a drag to that before saving; the server refuses a
narrower one); a point is one time, widened by +/-10 ms only when masks are built.

The export writes exactly the columns the ``masks`` rule reads
(:data:`cinexai.evaluation.annotations.REQUIRED_COLUMNS`), one row per mark, the reviewer's name in
``annotator`` and the case's ecg_id (from the private key map) in ``case_id``.
"""

from __future__ import annotations

import logging
import math
import os
from typing import Any

import pandas as pd

from cinexai.evaluation.annotations import (
    ALL_LEADS,
    DIAGNOSES,
    KINDS,
    MIN_WIDTH_QRS_MS,
    MIN_WIDTH_REST_MS,
    MODALITIES,
    QRS_REGION_MS,
    REQUIRED_COLUMNS,
)
from cinexai.io import atomic_write
from cinexai.leads import LEADS

log = logging.getLogger(__name__)
MAX_MARKS = 500
MAX_NOTE = 5000
_TOL = 1e-6


def min_width(start: float, end: float) -> float:
    """The protocol's minimal window for a segment with this centre."""
    return MIN_WIDTH_QRS_MS if (start + end) / 2 < QRS_REGION_MS else MIN_WIDTH_REST_MS


def _check_mark(modality: str, mark: Any, window_ms: float) -> dict[str, Any]:
    if not isinstance(mark, dict):
        raise ValueError(f"{modality} mark must be an object")
    kind, lead = mark.get("kind"), mark.get("lead")
    try:
        start, end = float(mark["start_ms"]), float(mark["end_ms"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{modality} mark needs numeric start_ms and end_ms") from exc
    if kind not in KINDS:
        raise ValueError(f"{modality} mark kind {kind!r} not in {KINDS}")
    if modality == "ecg12" and lead not in LEADS:
        raise ValueError(f"ecg12 mark lead {lead!r} is not one of the 12 leads")
    if modality == "cineecg" and lead != ALL_LEADS:
        raise ValueError("a cineecg mark covers the whole trajectory (lead '*')")
    if not (math.isfinite(start) and math.isfinite(end)):
        raise ValueError(f"{modality} mark times must be finite")
    if not (-_TOL <= start <= end <= window_ms + _TOL):
        raise ValueError(f"{modality} mark {start:g}-{end:g} ms outside 0-{window_ms:g} ms")
    if kind == "point" and start != end:
        raise ValueError(f"{modality} point must have start_ms == end_ms")
    if kind == "segment" and end - start < min_width(start, end) - _TOL:
        raise ValueError(
            f"{modality} segment {start:g}-{end:g} ms on {lead} is narrower than the protocol's "
            f"minimal window ({min_width(start, end):g} ms)"
        )
    return {"lead": lead, "kind": kind, "start_ms": start, "end_ms": end}


def check_state(state: Any, window_ms: float, final: bool = False) -> dict[str, Any]:
    """A normalised copy of a work state, or ValueError naming the first problem.

    ``final`` (submit) also requires a diagnosis.
    """
    if not isinstance(state, dict):
        raise ValueError("state must be an object")
    diagnosis = state.get("diagnosis")
    if diagnosis not in (None, *DIAGNOSES):
        raise ValueError(f"diagnosis {diagnosis!r} not in {DIAGNOSES}")
    if final and diagnosis is None:
        raise ValueError("a diagnosis (normal/abnormal) is needed to submit")
    note = state.get("note") or ""
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        raise ValueError(f"note must be text of at most {MAX_NOTE} characters")
    marks = state.get("marks") or {}
    if not isinstance(marks, dict) or set(marks) - set(MODALITIES):
        raise ValueError(f"marks must be an object keyed by {MODALITIES}")
    out = {m: [_check_mark(m, mk, window_ms) for mk in marks.get(m) or []] for m in MODALITIES}
    if sum(len(v) for v in out.values()) > MAX_MARKS:
        raise ValueError(f"at most {MAX_MARKS} marks per case")
    return {"diagnosis": diagnosis, "note": note, "marks": out}


def annotation_rows(work: list[dict[str, Any]], key_map: dict[str, int]) -> pd.DataFrame:
    """Rows in the grid's annotation format from submitted work (reviewer name = annotator)."""
    rows = []
    for item in work:
        key, state = item["case_key"], item["state"]
        if key not in key_map:
            raise ValueError(f"case key {key} is not in the key map (another bundle?)")
        marks = state.get("marks", {})
        if not any(marks.get(m) for m in MODALITIES):
            log.warning(
                "reviewer %s, case %d: submitted without marks (diagnosis %s): no rows",
                item["reviewer"],
                key_map[key],
                state.get("diagnosis"),
            )
        for modality in MODALITIES:
            for mark in marks.get(modality, []):
                rows.append(
                    {
                        "case_id": key_map[key],
                        "annotator": item["reviewer"],
                        "modality": modality,
                        "lead": mark["lead"],
                        "start_ms": mark["start_ms"],
                        "end_ms": mark["end_ms"],
                        "kind": mark["kind"],
                        "diagnosis": state["diagnosis"],
                    }
                )
    df = pd.DataFrame(rows, columns=list(REQUIRED_COLUMNS))
    return df.sort_values(["case_id", "annotator", "modality", "lead", "start_ms"], kind="stable")


def write_annotations(df: pd.DataFrame, out: str | os.PathLike[str]) -> None:
    """Write the export atomically as CSV."""
    with atomic_write(out) as tmp:
        df.to_csv(tmp, index=False)
