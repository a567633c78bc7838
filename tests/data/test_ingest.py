"""End-to-end ingestion of the fixture PTB-XL directory (see conftest.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import wfdb

from cinexai.data.ingest import ingest
from cinexai.io import read_metadata, read_signals, read_table
from cinexai.leads import LEADS


def _tables(out: Path) -> tuple[pd.DataFrame, pd.DataFrame, object]:
    return (
        read_table(out / "records.parquet"),
        read_table(out / "exclusions.parquet"),
        read_signals(out / "windows.parquet"),
    )


def test_fixture_writer_matches_wfdb(tmp_path: Path, helpers) -> None:
    x, _ = helpers.synth_record(np.random.default_rng(0), duration_s=2.0)
    helpers.write_wfdb(tmp_path / "a", x)
    helpers.write_wfdb_fast(tmp_path / "b", x)
    assert (tmp_path / "a.dat").read_bytes() == (tmp_path / "b.dat").read_bytes()
    a, b = wfdb.rdrecord(str(tmp_path / "a")), wfdb.rdrecord(str(tmp_path / "b"))
    np.testing.assert_array_equal(a.p_signal, b.p_signal)
    assert a.sig_name == b.sig_name and a.fs == b.fs


def test_each_bad_record_is_excluded_with_its_reason(ingested, helpers) -> None:
    out, _ = ingested
    records, exclusions, windows = _tables(out)
    reasons = exclusions.set_index("ecg_id")["reason"]
    for ecg_id, expected in helpers.BAD.items():
        assert reasons[ecg_id].startswith(expected), (ecg_id, reasons[ecg_id])
        assert ecg_id not in set(windows.ids)
        assert not records.set_index("ecg_id").at[ecg_id, "included"]
    assert "V7" in reasons[904]
    stages = exclusions.set_index("ecg_id")["stage"]
    assert stages[901] == stages[904] == stages[905] == "read"
    assert stages[902] == stages[903] == "signal" and stages[906] == "beats"
    for ecg_id, expected in helpers.LABEL_EXCLUDED.items():
        assert reasons[ecg_id].startswith(expected) and stages[ecg_id] == "labels"
        assert ecg_id not in set(records["ecg_id"])


def test_nothing_dropped_silently(ingested) -> None:
    out, _ = ingested
    records, exclusions, windows = _tables(out)
    included = set(records.loc[records["included"], "ecg_id"])
    excluded = set(records.loc[~records["included"], "ecg_id"])
    assert included == set(windows.ids)
    assert excluded == set(exclusions["ecg_id"]) & set(records["ecg_id"])
    assert (records.loc[~records["included"], "qrs_onset"] == -1).all()


def test_labels_and_schema(ingested) -> None:
    out, truth = ingested
    records, exclusions, _ = _tables(out)
    schema = pq.read_schema(out / "records.parquet")
    assert {f.name: str(f.type) for f in schema} == {
        "ecg_id": "int64",
        "patient_id": "int64",
        "label": "int8",
        "split": "string",
        "included": "bool",
        "qrs_onset": "int32",
        "n_beats": "int32",
        "heart_rate": "float",
    }
    for ecg_id, label in records.set_index("ecg_id")["label"].items():
        assert label == truth["labels"][ecg_id], ecg_id
        assert records.set_index("ecg_id").at[ecg_id, "patient_id"] == truth["patients"][ecg_id]
    assert list(exclusions.columns) == ["ecg_id", "stage", "reason"]
    meta = read_metadata(out / "records.parquet")
    assert meta["seed"] == 0 and meta["counts"]["included"] == int(records["included"].sum())


def test_patient_level_split_and_evaluation_cohort(ingested, helpers) -> None:
    out, truth = ingested
    records, _, _ = _tables(out)
    assert set(records["split"]) == {"train", "val", "test", "reference", "evaluation"}
    per_patient = records.groupby("patient_id")["split"].nunique()
    assert (per_patient == 1).all(), per_patient[per_patient > 1]
    assert sorted(records.loc[records["split"] == "evaluation", "ecg_id"]) == helpers.EVALUATION
    assert 703 not in set(records["ecg_id"])  # the evaluation patient's other record
    reference = records[records["split"] == "reference"]
    assert len(reference) == helpers.DATA_CFG["reference_pool"] and (reference["label"] == 0).all()


def test_windows_and_onsets(ingested) -> None:
    out, truth = ingested
    records, _, windows = _tables(out)
    assert windows.X.dtype == np.float32 and windows.X.shape == (len(windows.ids), 12, 200)
    assert windows.channels == list(LEADS) and windows.fs == 500
    assert np.abs(windows.X[:, :, 0]).max() < 0.05  # isoelectric level at onset
    inc = records[records["included"]].set_index("ecg_id")
    errors = [np.min(np.abs(truth["onsets"][i] - inc.at[i, "qrs_onset"])) for i in inc.index]
    assert np.median(errors) * 2 <= 6 and max(errors) * 2 <= 10, errors
    for i in inc.index:
        hr = 60 * 500 / np.median(np.diff(truth["onsets"][i]))
        assert inc.at[i, "heart_rate"] == pytest.approx(hr, abs=3), i
        assert inc.at[i, "n_beats"] == truth["onsets"][i].size, i


def test_leads_are_reordered_by_name(ingested) -> None:
    out, truth = ingested
    windows = read_signals(out / "windows.parquet")
    twin = windows.select([47, truth["shuffled_twin"]]).X
    np.testing.assert_allclose(twin[0], twin[1], atol=1e-6)


def test_missing_case_id_raises(ptbxl_fixture, helpers, tmp_path: Path) -> None:
    root, _ = ptbxl_fixture
    path = tmp_path / "ann.csv"
    pd.DataFrame({"case_id": [701, 424242]}).to_csv(path, index=False)
    with pytest.raises(ValueError, match="424242"):
        ingest(
            ptbxl_dir=root,
            annotations=path,
            out_dir=tmp_path / "out",
            cfg=dict(helpers.DATA_CFG),
            seed=0,
        )
    assert not (tmp_path / "out" / "records.parquet").exists()


def test_deterministic_with_a_pool(ingested, ptbxl_fixture, helpers, tmp_path: Path) -> None:
    """Same seed, two worker processes: identical tables; no annotations: no evaluation split."""
    out, _ = ingested
    root, _ = ptbxl_fixture
    cfg = dict(helpers.DATA_CFG)
    ingest(
        ptbxl_dir=root,
        annotations=root / "annotations.csv",
        out_dir=tmp_path / "a",
        cfg=cfg,
        seed=0,
        threads=2,
    )
    first, again = _tables(out), _tables(tmp_path / "a")
    pd.testing.assert_frame_equal(first[0], again[0])
    pd.testing.assert_frame_equal(first[1], again[1])
    np.testing.assert_array_equal(first[2].X, again[2].X)
    ingest(
        ptbxl_dir=root, annotations=None, out_dir=tmp_path / "b", cfg=dict(helpers.DATA_CFG), seed=1
    )
    other = read_table(tmp_path / "b" / "records.parquet")
    assert "evaluation" not in set(other["split"])
    shared = first[0].merge(other, on="ecg_id")
    assert (shared["split_x"] != shared["split_y"]).any()  # another seed, another split
