"""Two or more annotators of a case: the stated policy (union | intersection | majority | each)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from cinexai.config import SCHEMA
from cinexai.evaluation.annotations import ANNOTATOR_POLICIES, COMBINED, build_masks, pooled_masks
from cinexai.evaluation.controls import oracle
from cinexai.evaluation.score import score
from cinexai.figures.case import _case_masks
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


# `each`: case 1: a marks I 0-100 ms (samples 0..49), b marks I 50-150 ms (samples 25..74);
# case 2: a alone marks I 0-100 ms. Phi = 1 on samples 0..39 of lead I, 0 elsewhere.
EACH_ROWS = [
    [1, "a", "ecg12", "I", 0, 100, "segment", "abnormal"],
    [1, "b", "ecg12", "I", 50, 150, "segment", "abnormal"],
    [2, "a", "ecg12", "I", 0, 100, "segment", "abnormal"],
]
EVAL_CFG = {"threshold": "per_configuration", "threshold_step": 0.01, "oracle_noise": 0.1}


def _scored(tmp_path, policy):
    masks, _ = _masks(tmp_path, EACH_ROWS, policy)
    phi = np.zeros((2, 200), dtype=np.float32)
    phi[:, :40] = 1.0
    attr = tmp_path / "attributions/source=ecg12/arch=resnet/method=m/part-0.parquet"
    write_table(
        pd.DataFrame(
            {
                "case_id": np.repeat(np.array([1, 2], dtype=np.int64), 200),
                "channel": "I",
                "t": np.tile(np.arange(200, dtype=np.int16), 2),
                "phi": phi.ravel(),
            }
        ),
        attr,
        {"source": "ecg12", "method": "m"},
    )
    pred = tmp_path / "pred.parquet"
    write_table(pd.DataFrame({"id": np.array([1, 2], dtype=np.int64), "pred": 1}), pred)
    out = tmp_path / f"s_{policy}.parquet"
    score(
        attributions=attr,
        masks=tmp_path / f"m_{policy}.parquet",
        predictions=pred,
        out=out,
        out_sweep=tmp_path / f"w_{policy}.parquet",
        postprocessing="absolute",
        cfg=EVAL_CFG,
    )
    return masks, read_table(out).set_index("case_id")


def test_each_keeps_every_annotator_mask_with_its_id(tmp_path):
    masks, meta = _masks(tmp_path, EACH_ROWS, "each")
    one = masks[masks.case_id == 1]
    assert set(one.annotator) == {"a", "b"}
    assert _on(one[one.annotator == "a"], "I") == _cells(0, 100)
    assert _on(one[one.annotator == "b"], "I") == _cells(50, 150)
    assert set(masks[masks.case_id == 2].annotator) == {"a"}
    assert meta["protocol"]["annotators"] == "each"
    union, _ = _masks(tmp_path, EACH_ROWS, "union")
    assert set(union.annotator) == {COMBINED}
    pooled = pooled_masks(masks).sort_values(["case_id", "channel", "t"], ignore_index=True)
    expected = union.sort_values(["case_id", "channel", "t"], ignore_index=True)
    assert pooled[expected.columns.tolist()].equals(expected)


def test_each_scores_a_case_as_the_mean_over_its_annotators(tmp_path):
    _, each = _scored(tmp_path, "each")
    # prediction: samples 0..39 (40) at every threshold > 0; a: 50 cells, overlap 40;
    # b: 50 cells, overlap 15 (samples 25..39). Threshold 0 (all 200 salient) gives 0.4 for both.
    dice_a, dice_b, iou_a, iou_b = 80 / 90, 30 / 90, 40 / 50, 15 / 75
    assert len(each) == 2  # one row per case: a case with two annotators is counted once
    assert each.loc[1, "dice"] == pytest.approx((dice_a + dice_b) / 2)
    assert each.loc[1, "iou"] == pytest.approx((iou_a + iou_b) / 2)
    assert each.loc[2, "dice"] == pytest.approx(dice_a)
    assert each.loc[1, "threshold"] == pytest.approx(0.01)
    x = np.r_[np.ones(40), np.zeros(160)]
    rho_a = stats.spearmanr(x, np.isin(np.arange(200), np.arange(0, 50))).statistic
    rho_b = stats.spearmanr(x, np.isin(np.arange(200), np.arange(25, 75))).statistic
    assert each.loc[1, "spearman"] == pytest.approx((rho_a + rho_b) / 2)
    assert each.loc[1, "mask_share"] == pytest.approx(50 / 200)
    per = json.loads(each.loc[1, "per_annotator"])
    assert per["a"]["dice"] == pytest.approx(dice_a) and per["b"]["dice"] == pytest.approx(dice_b)
    assert per["b"]["spearman"] == pytest.approx(rho_b)
    assert set(json.loads(each.loc[2, "per_annotator"])) == {"a"}


@pytest.mark.parametrize(
    ("policy", "dice", "iou"),
    [("union", 80 / 115, 40 / 75), ("intersection", 30 / 65, 15 / 50)],  # 0..74 | 25..49
)
def test_combining_policies_score_the_combined_mask(tmp_path, policy, dice, iou):
    _, df = _scored(tmp_path, policy)
    assert df.loc[1, "dice"] == pytest.approx(dice) and df.loc[1, "iou"] == pytest.approx(iou)
    assert df.loc[2, "dice"] == pytest.approx(80 / 90)
    per = json.loads(df.loc[1, "per_annotator"])
    assert set(per) == {COMBINED} and per[COMBINED]["dice"] == pytest.approx(dice)


def test_oracle_and_case_figure_use_the_union_under_each(tmp_path):
    _masks(tmp_path, EACH_ROWS, "each")
    _masks(tmp_path, EACH_ROWS, "union")
    phis = {}
    for policy in ("each", "union"):
        out = tmp_path / f"oracle_{policy}.parquet"
        oracle(
            masks=tmp_path / f"m_{policy}.parquet", source="ecg12", out=out, cfg=EVAL_CFG, seed=3
        )
        phis[policy] = read_table(out)
        diagnosis, leads, cine = _case_masks(tmp_path / f"m_{policy}.parquet", 1, 200)
        assert diagnosis == "abnormal" and cine is None
        assert set(np.flatnonzero(leads["I"]).tolist()) == _cells(0, 150)
    assert phis["each"].equals(phis["union"])


def test_schema_accepts_every_policy_and_only_those():
    prop = yaml.safe_load(Path(SCHEMA).read_text())["properties"]["evaluation"]["properties"][
        "annotators"
    ]
    assert tuple(prop["enum"]) == ANNOTATOR_POLICIES and "each" in prop["enum"]
