"""Two or more annotators of a case: the stated policy (union | intersection | majority)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cinexai.evaluation.annotations import build_masks
from cinexai.io import read_metadata, read_table, write_table

DATA_CFG = {"sampling_rate": 500, "window_ms": 400}
COLUMNS = ["case_id", "annotator", "modality", "lead", "start_ms", "end_ms", "kind", "diagnosis"]
# case 1: a marks I 0-100 and V1 200-300; b marks I 50-150; c marks I 60-90 and V1 200-250.
ROWS = [
    [1, "a", "ecg12", "I", 0, 100, "segment", "abnormal"],
    [1, "a", "ecg12", "V1", 200, 300, "segment", "abnormal"],
    [1, "b", "ecg12", "I", 50, 150, "segment", "normal"],
    [1, "c", "ecg12", "I", 60, 90, "segment", "abnormal"],
    [1, "c", "ecg12", "V1", 200, 250, "segment", "abnormal"],
]


def _masks(tmp_path, rows, policy):
    ann, rec, out = tmp_path / "a.csv", tmp_path / "r.parquet", tmp_path / f"m_{policy}.parquet"
    pd.DataFrame(rows, columns=COLUMNS).to_csv(ann, index=False)
    write_table(
        pd.DataFrame(
            {"ecg_id": np.array([1, 2], dtype=np.int64), "split": "evaluation", "included": True}
        ),
        rec,
    )
    build_masks(annotations=ann, records=rec, out_masks=out, cfg=DATA_CFG, annotators=policy)
    return read_table(out), read_metadata(out)


def _on(masks, channel):
    m = masks[masks.channel == channel].sort_values("t")["mask"].to_numpy()
    return set(np.flatnonzero(m).tolist())


def _cells(a, b):  # samples of [a, b) ms at 500 Hz
    return set(range(a // 2, b // 2))


@pytest.mark.parametrize(
    ("policy", "lead_i", "lead_v1", "diagnosis"),
    [
        ("union", _cells(0, 150), _cells(200, 300), "abnormal"),
        ("intersection", _cells(60, 90), None, "normal"),  # V1 not named by b
        ("majority", _cells(50, 100), _cells(200, 250), "abnormal"),  # 2 of 3
    ],
)
def test_policies_combine_cells_leads_and_diagnosis(tmp_path, policy, lead_i, lead_v1, diagnosis):
    masks, meta = _masks(tmp_path, ROWS, policy)
    assert _on(masks, "I") == lead_i
    if lead_v1 is None:
        assert "V1" not in set(masks.channel)
    else:
        assert _on(masks, "V1") == lead_v1
    assert set(masks.diagnosis) == {diagnosis}
    assert meta["protocol"]["annotators"] == policy


def test_two_annotators_without_overlap_leave_the_case_out_under_intersection(tmp_path, caplog):
    rows = [
        [1, "a", "ecg12", "I", 0, 50, "segment", "abnormal"],
        [1, "b", "ecg12", "I", 100, 150, "segment", "abnormal"],
        [2, "a", "ecg12", "II", 0, 50, "segment", "abnormal"],
        [2, "b", "ecg12", "II", 0, 50, "segment", "abnormal"],
    ]
    masks, _ = _masks(tmp_path, rows, "intersection")
    assert set(masks.case_id) == {2}
    assert "case 1 ecg12: no cell left under annotators=intersection" in caplog.text


def test_one_annotator_may_not_give_two_diagnoses_but_two_may_disagree(tmp_path):
    rows = ROWS + [[1, "a", "cineecg", "*", 0, 50, "segment", "normal"]]
    with pytest.raises(ValueError, match="two diagnoses"):
        _masks(tmp_path, rows, "union")
