"""PTB-XL metadata: labels, case ids, balanced subset, reference pool, patient-level splits."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cinexai.data import ptbxl
from cinexai.io import write_table


def test_read_database_types(ptbxl_fixture) -> None:
    root, truth = ptbxl_fixture
    db = ptbxl.read_database(root)
    assert db.index.dtype == np.int64 and db["patient_id"].dtype == np.int64
    assert db.loc[1, "scp_codes"] == {"NORM": 100.0, "SR": 0.0}
    assert {int(i): int(p) for i, p in db["patient_id"].items()} == truth["patients"]


def test_bad_scp_codes_names_the_record(tmp_path: Path, helpers) -> None:
    rows = [helpers.database_row(i, i, {"NORM": 100.0}) for i in (1, 2)]
    rows[1]["scp_codes"] = "{'NORM': 100.0"
    helpers.write_ptbxl(tmp_path, rows)
    with pytest.raises(ValueError, match="ecg_id 2"):
        ptbxl.read_database(tmp_path)


def test_labels_from_scp_codes(tmp_path: Path, helpers) -> None:
    codes = {
        1: {"NORM": 100.0, "SR": 0.0},
        2: {"NORM": 100.0, "IMI": 0.0},
        3: {"NORM": 80.0, "SR": 0.0},
        4: {"SR": 0.0},
        5: {"NDT": 50.0},
        6: {"LAFB": 100.0, "LVH": 15.0},
        7: {},
    }
    helpers.write_ptbxl(tmp_path, [helpers.database_row(i, i, c) for i, c in codes.items()])
    db = ptbxl.read_database(tmp_path)
    statements = ptbxl.read_statements(tmp_path)
    labels, reasons = ptbxl.label_records(db, statements, norm_likelihood=100)
    assert labels.to_dict() == {1: 0, 2: 1, 5: 1, 6: 1}
    assert labels.dtype == np.int8
    assert reasons[3] == "uncertain NORM: likelihood 80 < 100"
    assert reasons[4] == reasons[7] == "no diagnostic statement"
    lenient, _ = ptbxl.label_records(db, statements, norm_likelihood=50)
    assert lenient[3] == 0


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_read_case_ids(tmp_path: Path, suffix: str) -> None:
    frame = pd.DataFrame({"case_id": [5, 3, 5], "lead": ["II", "V1", "*"]})
    path = tmp_path / f"ann{suffix}"
    frame.to_csv(path, index=False) if suffix == ".csv" else write_table(frame, path)
    assert ptbxl.read_case_ids(path) == [3, 5]


def test_read_case_ids_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "ann.csv"
    pd.DataFrame({"case_id": [1, "x7"]}).to_csv(path, index=False)
    with pytest.raises(ValueError, match="row 1: case_id 'x7'"):
        ptbxl.read_case_ids(path)
    pd.DataFrame({"case": [1]}).to_csv(path, index=False)
    with pytest.raises(ValueError, match="no 'case_id' column"):
        ptbxl.read_case_ids(path)


def _cohort(n_patients: int = 400, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """A metadata-only cohort: 1-3 records per patient, label per patient (60 % normal)."""
    rng = np.random.default_rng(seed)
    rows, labels = [], {}
    ecg_id = 1
    for patient in range(1, n_patients + 1):
        label = int(rng.random() < 0.4)
        for _ in range(rng.integers(1, 4)):
            rows.append({"ecg_id": ecg_id, "patient_id": patient})
            labels[ecg_id] = label if rng.random() < 0.9 else 1 - label
            ecg_id += 1
    db = pd.DataFrame(rows).set_index("ecg_id")
    return db, pd.Series(labels, dtype=np.int8, name="label").rename_axis("ecg_id")


CFG = {"n_records": 400, "split": [0.6, 0.2, 0.2], "reference_pool": 50}


def test_selection_is_balanced_disjoint_and_stratified(caplog) -> None:
    db, labels = _cohort()
    evaluation = [3, 10, 50]
    with caplog.at_level(logging.INFO, logger="cinexai.data.ptbxl"):
        sel = ptbxl.select_records(db, labels, evaluation, CFG, seed=1)
    assert sorted(sel.index[sel["split"] == "evaluation"]) == evaluation
    ref = sel[sel["split"] == "reference"]
    assert len(ref) == 50 and (ref["label"] == 0).all()
    dev = sel[sel["split"].isin(["train", "val", "test"])]
    assert len(dev) == 400 and (dev["label"] == 1).sum() == 200
    patients = sel.groupby("patient_id")["split"].nunique()
    assert (patients == 1).all(), patients[patients > 1]
    evaluation_patients = set(db.loc[evaluation, "patient_id"])
    assert set(sel[sel["split"] != "evaluation"]["patient_id"]).isdisjoint(evaluation_patients)
    shares = dev["split"].value_counts(normalize=True)
    assert shares["train"] == pytest.approx(0.6, abs=0.05)
    assert shares["val"] == pytest.approx(0.2, abs=0.05)
    for split, group in dev.groupby("split"):
        assert group["label"].mean() == pytest.approx(0.5, abs=0.1), split
    assert "reference pool capped" not in caplog.text


def test_selection_is_seeded() -> None:
    db, labels = _cohort()
    a = ptbxl.select_records(db, labels, [3], CFG, seed=1)
    b = ptbxl.select_records(db, labels, [3], CFG, seed=1)
    c = ptbxl.select_records(db, labels, [3], CFG, seed=2)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_caps_are_logged(caplog) -> None:
    db, labels = _cohort(n_patients=60)
    with caplog.at_level(logging.INFO, logger="cinexai.data.ptbxl"):
        sel = ptbxl.select_records(db, labels, [], {**CFG, "n_records": 10_000}, seed=0)
    assert "balanced subset capped" in caplog.text
    assert "reference pool capped" in caplog.text
    n_normal = int((labels[labels.index.isin(db.index)] == 0).sum())
    assert (sel["split"] == "reference").sum() <= ptbxl.REFERENCE_MAX_FRACTION * n_normal
    assert "evaluation" not in set(sel["split"])


def test_missing_case_id_is_named() -> None:
    db, labels = _cohort(n_patients=50)
    with pytest.raises(ValueError, match="case id 99999"):
        ptbxl.select_records(db, labels, [1, 99999], CFG, seed=0)


def test_label_conflicts_between_annotation_and_database(tmp_path: Path) -> None:
    path = tmp_path / "ann.csv"
    pd.DataFrame(
        {"case_id": [1, 1, 2, 3, 9], "diagnosis": ["normal", "normal", "normal", "abnormal", "x"]}
    ).to_csv(path, index=False)
    diagnoses = ptbxl.read_case_diagnoses(path)
    assert diagnoses == {1: "normal", 2: "normal", 3: "abnormal"}
    labels = pd.Series({1: 0, 2: 1, 3: 1}, dtype=np.int8)
    assert ptbxl.label_conflicts(labels, diagnoses) == [
        {"ecg_id": 2, "database_label": "abnormal", "annotation_diagnosis": "normal"}
    ]


def test_empty_annotation_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "ann.csv"
    path.write_text("")
    with pytest.raises(ValueError, match=f"annotation file {path} is empty"):
        ptbxl.read_case_ids(path)
    path.write_text("case_id,diagnosis\n")
    with pytest.raises(ValueError, match=f"annotation file {path} has no rows"):
        ptbxl.read_case_ids(path)
