"""Inter-annotator agreement (human ceiling) beside Table 1's best configuration."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cinexai.evaluation.agreement import make_agreement, pair_dice
from cinexai.io import write_table

COLUMNS = ["case_id", "annotator", "modality", "lead", "start_ms", "end_ms", "kind", "diagnosis"]


def test_pair_dice_counts_a_lead_named_by_one_annotator_as_disagreement():
    on, off = np.ones(4, bool), np.zeros(4, bool)
    assert pair_dice({"I": on}, {"I": on}) == 1.0
    assert pair_dice({"I": on, "V1": on}, {"I": on}) == pytest.approx(2 * 4 / 12)
    assert np.isnan(pair_dice({"I": off}, {"I": off}))


def _run(tmp_path, rows):
    ann, rec, t1 = tmp_path / "a.csv", tmp_path / "r.parquet", tmp_path / "table1.csv"
    pd.DataFrame(rows, columns=COLUMNS).to_csv(ann, index=False)
    ids = np.arange(1, 7, dtype=np.int64)
    write_table(pd.DataFrame({"ecg_id": ids, "split": "evaluation", "included": True}), rec)
    pd.DataFrame(
        [
            {
                "modality": "CineECG Signal",
                "dice": 0.41,
                "dice_low": 0.35,
                "dice_high": 0.47,
                "dice_reason": "",
                "method": "ig",
                "postprocessing": "absolute",
                "source": "mapped",
            },
            {
                "modality": "12-Lead Signal",
                "dice": 0.52,
                "dice_low": 0.45,
                "dice_high": 0.58,
                "dice_reason": "",
                "method": "ig",
                "postprocessing": "absolute",
                "source": "ecg12",
            },
        ]
    ).to_csv(t1, index=False)
    cfg = {"bootstrap": {"n_resamples": 500, "confidence": 0.95}, "annotators": "union"}
    make_agreement(
        annotations=ann,
        records=rec,
        table1=t1,
        out_dir=tmp_path / "tables",
        data_cfg={"sampling_rate": 500, "window_ms": 400},
        eval_cfg=cfg,
        seed=0,
    )
    return tmp_path / "tables"


def test_agreement_table_reports_per_case_dice_with_bca_beside_the_best(tmp_path):
    rows = []
    for case, (b_end, dx_b) in enumerate(
        [(100, "abnormal"), (50, "abnormal"), (80, "normal"), (60, "abnormal")], 1
    ):
        rows.append([case, "a", "ecg12", "I", 0, 100, "segment", "abnormal"])
        rows.append([case, "b", "ecg12", "I", 0, b_end, "segment", dx_b])
    rows.append([5, "a", "ecg12", "II", 0, 100, "segment", "normal"])  # one annotator: no pair
    out = _run(tmp_path, rows)
    cases = pd.read_csv(out / "agreement_cases.csv")
    expected = [1.0, 2 * 50 / 150, 2 * 80 / 180, 2 * 60 / 160]
    assert cases["case_id"].tolist() == [1, 2, 3, 4]
    assert np.allclose(cases["dice"], expected)
    assert cases["same_diagnosis"].tolist() == [True, True, False, True]
    summary = pd.read_csv(out / "agreement.csv").set_index("modality")
    lead = summary.loc["12-Lead Signal"]
    assert lead["n"] == 4 and lead["annotator_dice"] == pytest.approx(np.mean(expected))
    assert lead["annotator_dice_low"] < lead["annotator_dice"] < lead["annotator_dice_high"]
    assert lead["best_dice"] == "0.52 (0.45–0.58)" and lead["same_diagnosis"] == 0.75
    assert summary.loc["CineECG Signal", "n"] == 0  # no CineECG rows: stated, not invented
    md = (out / "agreement.md").read_text()
    assert "Inter-annotator" in md and "ig / absolute / ecg12" in md
    checks = json.loads((out / "agreement.json").read_text())
    assert checks["annotators"] == ["a", "b"]
    assert checks["human_ceiling"]["12-Lead Signal"]["best_below_ceiling"] is True


def test_single_annotator_says_no_ceiling(tmp_path):
    out = _run(tmp_path, [[1, "a", "ecg12", "I", 0, 100, "segment", "abnormal"]])
    assert "Only one annotator" in (out / "agreement.md").read_text()
