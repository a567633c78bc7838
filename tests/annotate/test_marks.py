"""The protocol check of a work state and the export rows (the grid's annotation format)."""

from __future__ import annotations

import pytest

from cinexai.annotate.marks import annotation_rows, check_state
from cinexai.evaluation.annotations import REQUIRED_COLUMNS, validate_annotations


def _seg(lead, a, b, kind="segment"):
    return {"lead": lead, "kind": kind, "start_ms": a, "end_ms": b}


@pytest.mark.parametrize(
    ("mark", "message"),
    [
        (_seg("II", 10, 30), "narrower than the protocol's minimal window \\(25"),
        (_seg("II", 140, 180), "minimal window \\(50"),  # centre 160: the 50 ms region
        (_seg("II", 100, 100, "point") | {"end_ms": 101}, "start_ms == end_ms"),
        (_seg("X", 10, 60), "not one of the 12 leads"),
        (_seg("II", -5, 60), "outside"),
    ],
)
def test_bad_marks_are_refused_with_the_reason(mark, message):
    with pytest.raises(ValueError, match=message):
        check_state({"marks": {"ecg12": [mark]}}, 400.0)


def test_minimal_windows_at_their_bounds_pass_and_submit_needs_a_diagnosis():
    state = {
        "marks": {
            "ecg12": [_seg("II", 0, 25), _seg("V1", 350, 400)],
            "cineecg": [_seg("*", 5, 5, "point")],
        }
    }
    out = check_state(state, 400.0)
    assert out["diagnosis"] is None and len(out["marks"]["ecg12"]) == 2
    with pytest.raises(ValueError, match="diagnosis"):
        check_state(state, 400.0, final=True)


def test_export_rows_are_the_masks_format_and_validate():
    work = [
        {
            "reviewer": "dr_a",
            "case_key": "k1",
            "state": {
                "diagnosis": "abnormal",
                "marks": {"ecg12": [_seg("V2", 40, 90)], "cineecg": [_seg("*", 200, 200, "point")]},
            },
        },
        {"reviewer": "dr_b", "case_key": "k1", "state": {"diagnosis": "normal", "marks": {}}},
    ]
    df = annotation_rows(work, {"k1": 731904})
    assert list(df.columns) == list(REQUIRED_COLUMNS) and len(df) == 2
    assert set(df["annotator"]) == {"dr_a"}  # dr_b submitted no marks: logged, no rows
    rows = validate_annotations(df.reset_index(drop=True), {731904}, 400.0)
    assert rows["modality"].tolist() == ["cineecg", "ecg12"]
    with pytest.raises(ValueError, match="not in the key map"):
        annotation_rows(work, {"other": 1})
