"""The synthetic cohort's second annotator: seeded, realistic disagreement, protocol kept."""

from __future__ import annotations

import numpy as np

from cinexai.data.synthetic import ANNOTATOR, RATER2, second_rater_rows

ROWS = [
    {
        "case_id": 7,
        "annotator": ANNOTATOR,
        "modality": "ecg12",
        "lead": lead,
        "start_ms": a,
        "end_ms": b,
        "kind": "segment",
        "diagnosis": "abnormal",
    }
    for lead, a, b in (("I", 20.0, 80.0), ("V2", 30.0, 90.0), ("V5", 200.0, 300.0))
] + [
    {
        "case_id": 7,
        "annotator": ANNOTATOR,
        "modality": "cineecg",
        "lead": "*",
        "start_ms": 10.0,
        "end_ms": 70.0,
        "kind": "segment",
        "diagnosis": "abnormal",
    }
]


def test_second_rater_is_seeded_and_disagrees_realistically():
    runs = {
        case: second_rater_rows([{**r, "case_id": case} for r in ROWS], 3, case)
        for case in range(200)
    }
    assert runs[5] == second_rater_rows([{**r, "case_id": 5} for r in ROWS], 3, 5)
    shifts, missed, extra = [], 0, 0
    for rows in runs.values():
        assert {r["annotator"] for r in rows} == {RATER2}
        assert {r["diagnosis"] for r in rows} == {"abnormal"}
        for r in rows:
            mid = (r["start_ms"] + r["end_ms"]) / 2
            assert 0 <= r["start_ms"] < r["end_ms"] <= 400
            assert r["end_ms"] - r["start_ms"] >= (25 if mid < 150 else 50) - 1e-9
        leads = [r["lead"] for r in rows if r["modality"] == "ecg12"]
        missed += len({"I", "V2", "V5"} - set(leads)) > 0
        extra += len(rows) > len(ROWS) - (len({"I", "V2", "V5"} - set(leads)) > 0)
        same = [r for r in rows if r["modality"] == "cineecg"]
        shifts.append(same[0]["start_ms"] - 10.0)
    assert 0.35 < missed / 200 < 0.65 and 0.35 < extra / 200 < 0.65
    assert 4.0 < np.std(shifts) < 8.0  # boundary jitter ~N(0, 6 ms)
