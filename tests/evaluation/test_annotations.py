"""Mask construction rules and annotation validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cinexai.evaluation.annotations import build_masks, sample_range, segment_bounds
from cinexai.io import read_metadata, read_table, write_table
from cinexai.leads import LEADS

DATA_CFG = {"sampling_rate": 500, "window_ms": 400}
COLUMNS = ["case_id", "annotator", "modality", "lead", "start_ms", "end_ms", "kind", "diagnosis"]


def _records(tmp_path, ids=(1, 2, 3)):
    df = pd.DataFrame(
        {
            "ecg_id": np.array([*ids, 50, 51], dtype=np.int64),
            "split": [*["evaluation"] * len(ids), "train", "evaluation"],
            "included": [*[True] * len(ids), True, False],
        }
    )
    path = tmp_path / "records.parquet"
    write_table(df, path)
    return path


def _masks(tmp_path, rows, ext="csv"):
    ann = tmp_path / f"annotations.{ext}"
    df = pd.DataFrame(rows, columns=COLUMNS)
    if ext == "csv":
        df.to_csv(ann, index=False)
    else:
        write_table(df, ann)
    out = tmp_path / "masks.parquet"
    build_masks(annotations=ann, records=_records(tmp_path), out_masks=out, cfg=DATA_CFG)
    return read_table(out)


def _mask_of(masks, case, modality, channel):
    sel = masks[(masks.case_id == case) & (masks.modality == modality) & (masks.channel == channel)]
    return sel.sort_values("t")["mask"].to_numpy()


def _span(mask):
    on = np.flatnonzero(mask)
    return int(on[0]), int(on[-1])


def test_minimum_width_in_qrs_region_widened_symmetrically(tmp_path):
    masks = _masks(tmp_path, [[1, "a", "ecg12", "V2", 40, 50, "segment", "abnormal"]])
    # 10 ms centred at 45 -> 25 ms: [32.5, 57.5] -> samples 16..28
    assert _span(_mask_of(masks, 1, "ecg12", "V2")) == (16, 28)


def test_minimum_width_after_qrs_region(tmp_path):
    masks = _masks(tmp_path, [[1, "a", "ecg12", "I", 200, 220, "segment", "abnormal"]])
    # 20 ms centred at 210 -> 50 ms: [185, 235] -> samples 92..117
    assert _span(_mask_of(masks, 1, "ecg12", "I")) == (92, 117)


def test_long_segment_kept_and_sample_rule(tmp_path):
    masks = _masks(tmp_path, [[1, "a", "ecg12", "I", 10, 100, "segment", "abnormal"]])
    assert _span(_mask_of(masks, 1, "ecg12", "I")) == (5, 49)
    meta = read_metadata(tmp_path / "masks.parquet")
    assert meta["n_samples"] == 200 and "floor(a/dt)" in meta["sample_rule"]


def test_point_becomes_plus_minus_10ms_without_minimum_widening(tmp_path):
    masks = _masks(tmp_path, [[1, "a", "cineecg", "*", 300, 300, "point", "normal"]])
    for ch in "xyz":
        assert _span(_mask_of(masks, 1, "cineecg", ch)) == (145, 154)  # [290, 310]


def test_clipping_at_window_edges():
    assert segment_bounds(0, 5, "segment", 400) == (0.0, 15.0)
    assert segment_bounds(390, 400, "segment", 400) == (370.0, 400.0)
    assert segment_bounds(395, 395, "point", 400) == (385.0, 400.0)
    assert sample_range(385.0, 400.0, 500, 200) == slice(192, 200)


def test_star_expands_to_all_leads_and_only_named_leads_appear(tmp_path):
    masks = _masks(
        tmp_path,
        [
            [1, "a", "ecg12", "*", 0, 100, "segment", "abnormal"],
            [2, "a", "ecg12", "V1", 0, 100, "segment", "normal"],
            [2, "b", "ecg12", "aVL", 200, 300, "segment", "normal"],
            [3, "a", "cineecg", "*", 50, 120, "segment", "abnormal"],
        ],
        ext="parquet",
    )
    assert list(masks[(masks.case_id == 1)].channel.unique()) == list(LEADS)
    assert list(masks[(masks.case_id == 2)].channel.unique()) == ["aVL", "V1"]
    assert set(masks[masks.case_id == 3].channel) == {"x", "y", "z"}
    assert set(masks[masks.case_id == 3].modality) == {"cineecg"}
    assert (masks.groupby(["case_id", "channel"]).size() == 200).all()
    assert masks.loc[masks.case_id == 2, "diagnosis"].eq("normal").all()


def test_annotators_are_merged_by_union(tmp_path):
    masks = _masks(
        tmp_path,
        [
            [1, "a", "ecg12", "I", 0, 40, "segment", "abnormal"],
            [1, "b", "ecg12", "I", 100, 140, "segment", "abnormal"],
        ],
    )
    m = _mask_of(masks, 1, "ecg12", "I")
    assert m[:20].all() and m[50:70].all() and not m[20:50].any() and m.sum() == 40


GOOD = [1, "a", "ecg12", "I", 10, 60, "segment", "abnormal"]


@pytest.mark.parametrize(
    "bad, message",
    [
        ([99, "a", "ecg12", "I", 10, 60, "segment", "abnormal"], "unknown case"),
        ([50, "a", "ecg12", "I", 10, 60, "segment", "abnormal"], "unknown case"),  # train split
        ([51, "a", "ecg12", "I", 10, 60, "segment", "abnormal"], "unknown case"),  # not included
        ([2, "a", "ecg12", "V7", 10, 60, "segment", "abnormal"], "unknown lead"),
        ([2, "a", "cineecg", "V1", 10, 60, "segment", "abnormal"], "lead 'V1' on a cineecg"),
        ([2, "a", "vcg", "I", 10, 60, "segment", "abnormal"], "unknown modality"),
        ([2, "a", "ecg12", "I", 10, 60, "blob", "abnormal"], "unknown kind"),
        ([2, "a", "ecg12", "I", 60, 10, "segment", "abnormal"], "start_ms 60 > end_ms 10"),
        ([2, "a", "ecg12", "I", 10, 420, "segment", "abnormal"], "outside 0-400"),
        ([2, "a", "ecg12", "I", -5, 20, "segment", "abnormal"], "outside 0-400"),
        ([2, "a", "ecg12", "I", 10, 60, "segment", "sick"], "unknown diagnosis"),
        ([1, "a", "cineecg", "*", 10, 60, "segment", "normal"], "two diagnoses"),
    ],
)
def test_bad_row_names_row_and_case(tmp_path, bad, message):
    with pytest.raises(ValueError, match=rf"row 2 \(case {bad[0]}\).*{message}"):
        _masks(tmp_path, [GOOD, bad])
    assert not (tmp_path / "masks.parquet").exists()


def test_missing_column_raises(tmp_path):
    ann = tmp_path / "annotations.csv"
    pd.DataFrame([GOOD], columns=COLUMNS).drop(columns="kind").to_csv(ann, index=False)
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['kind'\]"):
        build_masks(
            annotations=ann,
            records=_records(tmp_path),
            out_masks=tmp_path / "masks.parquet",
            cfg=DATA_CFG,
        )


@pytest.mark.parametrize("content", ["", "case_id,annotator,modality,lead,start_ms,end_ms,kind\n"])
def test_empty_annotation_file_is_named(tmp_path, content):
    ann = tmp_path / "annotations.csv"
    ann.write_text(content)
    with pytest.raises(ValueError, match=rf"annotation file {ann} (is empty|has no rows)"):
        build_masks(
            annotations=ann,
            records=_records(tmp_path),
            out_masks=tmp_path / "masks.parquet",
            cfg=DATA_CFG,
        )


def test_lead_names_in_any_case_and_ptbxl_spelling(tmp_path):
    masks = _masks(
        tmp_path,
        [
            [1, "a", "ecg12", "AVR", 10, 60, "segment", "abnormal"],
            [1, "a", "ecg12", "avl", 10, 60, "segment", "abnormal"],
            [1, "a", "ecg12", " v1 ", 10, 60, "segment", "abnormal"],
        ],
    )
    assert set(masks.loc[masks.case_id == 1, "channel"]) == {"aVR", "aVL", "V1"}


def _exclusions(tmp_path):
    path = tmp_path / "exclusions.parquet"
    frame = pd.DataFrame({"ecg_id": [51, 60], "stage": ["signal", "labels"]})
    write_table(frame.assign(reason=["flat lead aVL", "no diagnostic statement"]), path)
    return path


def test_case_excluded_by_ingestion_is_left_out_with_its_reason(tmp_path, caplog):
    ann = tmp_path / "annotations.csv"
    rows = [GOOD, [51, "a", "ecg12", "II", 10, 60, "segment", "normal"]]
    pd.DataFrame(rows, columns=COLUMNS).to_csv(ann, index=False)
    out = tmp_path / "masks.parquet"
    with pytest.raises(ValueError, match=r"row 2 \(case 51\).*unknown case"):  # no exclusions
        build_masks(annotations=ann, records=_records(tmp_path), out_masks=out, cfg=DATA_CFG)
    with caplog.at_level("WARNING"):
        build_masks(
            annotations=ann,
            records=_records(tmp_path),
            out_masks=out,
            cfg=DATA_CFG,
            exclusions=_exclusions(tmp_path),
        )
    assert set(read_table(out)["case_id"]) == {1}
    assert read_metadata(out)["excluded_annotated_cases"] == [
        {"case_id": 51, "stage": "signal", "reason": "flat lead aVL"}
    ]
    assert "annotated case 51 excluded by ingestion (stage signal: flat lead aVL)" in caplog.text


def test_every_annotated_case_excluded_is_an_error_naming_them(tmp_path):
    ann = tmp_path / "annotations.csv"
    pd.DataFrame([[60, "a", "ecg12", "II", 10, 60, "segment", "normal"]], columns=COLUMNS).to_csv(
        ann, index=False
    )
    with pytest.raises(ValueError, match=r"case 60 \(stage labels: no diagnostic statement\)"):
        build_masks(
            annotations=ann,
            records=_records(tmp_path),
            out_masks=tmp_path / "m.parquet",
            cfg=DATA_CFG,
            exclusions=_exclusions(tmp_path),
        )
