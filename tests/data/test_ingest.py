"""End-to-end ingestion of the fixture PTB-XL directory (see conftest.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import wfdb

from cinexai.data.ingest import Excluded, check_amplitude, ingest, load_record, process_record
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
    assert "V7" in reasons[904] and "unknown: ['V7']" in reasons[904]
    assert reasons[905] == "wrong sampling rate: 250 Hz (data.sampling_rate is 500 Hz)"
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


@pytest.fixture(scope="module")
def record_mv(tmp_path_factory: pytest.TempPathFactory, helpers) -> tuple[Path, np.ndarray]:
    """One record in mV (PTB-XL's storage) and the array read back from it."""
    x, _ = helpers.synth_record(np.random.default_rng(3), duration_s=4.0)
    path = tmp_path_factory.mktemp("units") / "mv"
    helpers.write_wfdb(path, x)
    return path, load_record(path, 500)


@pytest.mark.parametrize(
    ("units", "factor", "gain"), [("uV", 1e3, 1.0), ("V", 1e-3, 1e6), ("mv", 1.0, 1000.0)]
)
def test_record_units_are_converted_to_mv(
    record_mv, helpers, tmp_path: Path, units: str, factor: float, gain: float
) -> None:
    _, x = record_mv
    helpers.write_wfdb(tmp_path / "r", x * factor, units=units, gain=gain)
    np.testing.assert_allclose(load_record(tmp_path / "r", 500), x, atol=1e-3)


def test_micro_sign_units_are_microvolts(record_mv, helpers, tmp_path: Path) -> None:
    """wfdb's parser reads 'µV' as 'V'; the header's own text decides."""
    _, x = record_mv
    helpers.write_wfdb(tmp_path / "r", x * 1e3, units="uV", gain=1.0)
    header = tmp_path / "r.hea"
    header.write_text(header.read_text().replace("/uV", "/\u00b5V"), encoding="utf-8")
    assert wfdb.rdrecord(str(tmp_path / "r")).units[0] == "V"  # why we read the header ourselves
    np.testing.assert_allclose(load_record(tmp_path / "r", 500), x, atol=1e-3)


def test_unknown_units_exclude_the_record_naming_unit_and_lead(
    record_mv, helpers, tmp_path: Path
) -> None:
    _, x = record_mv
    helpers.write_wfdb(tmp_path / "r", x, units="mmHg")
    outcome = process_record((7, tmp_path / "r"), 500, 200, 3, 50.0, max_abs_mv=10.0)
    assert outcome.result is None and outcome.stage == "read"
    assert outcome.reason == "unknown units 'mmHg' of lead I (expected mV, uV or V)"


def test_mis_scaled_record_is_excluded_not_ingested(record_mv, helpers, tmp_path: Path) -> None:
    """A record in uV whose header says mV (gain 1) reads 1000x too large."""
    path, x = record_mv
    assert (
        process_record((1, path), 500, 200, 3, 50.0, max_abs_mv=10.0).result is not None
    )  # the control
    helpers.write_wfdb(tmp_path / "r", x * 1e3, units="mV", gain=1.0)
    outcome = process_record((7, tmp_path / "r"), 500, 200, 3, 50.0, max_abs_mv=10.0)
    assert outcome.result is None and outcome.stage == "signal"
    assert outcome.reason.startswith("implausible amplitude in lead ")
    assert outcome.reason.endswith("> data.max_abs_mv 10 mV; check the header's units and gain")


def test_amplitude_bound_is_the_config_value(record_mv) -> None:
    _, x = record_mv
    check_amplitude(x, 10.0)
    with pytest.raises(Excluded, match="data.max_abs_mv 0.01 mV"):
        check_amplitude(x, 0.01)


def test_ptbxl_lead_spellings_are_read(record_mv, helpers, tmp_path: Path) -> None:
    """PTB-XL's headers say AVR/AVL/AVF; lower case and shuffled order read the same."""
    _, x = record_mv
    names = [n.upper() for n in LEADS]
    assert names[3:6] == ["AVR", "AVL", "AVF"]
    helpers.write_wfdb(tmp_path / "upper", x, sig_name=names)
    np.testing.assert_allclose(load_record(tmp_path / "upper", 500), x, atol=1e-6)
    helpers.write_wfdb(tmp_path / "dup", x, sig_name=[*LEADS[:-1], "v5"])
    with pytest.raises(Excluded, match="wrong lead set"):
        load_record(tmp_path / "dup", 500)


def test_label_conflicts_are_logged_and_counted(
    ingested, ptbxl_fixture, helpers, tmp_path: Path, caplog
) -> None:
    out, _ = ingested
    assert read_metadata(out / "records.parquet")["counts"]["label_conflicts"] == 0
    root, _ = ptbxl_fixture
    annotations = pd.read_csv(root / "annotations.csv")
    annotations["diagnosis"] = "abnormal"  # 701 is normal in ptbxl_database.csv
    path = tmp_path / "annotations.csv"
    annotations.to_csv(path, index=False)
    with caplog.at_level("WARNING"):
        ingest(
            ptbxl_dir=root,
            annotations=path,
            out_dir=tmp_path / "out",
            cfg=dict(helpers.DATA_CFG),
            seed=0,
        )
    meta = read_metadata(tmp_path / "out" / "records.parquet")
    assert meta["counts"]["label_conflicts"] == 1
    assert meta["label_conflicts"] == [
        {"ecg_id": 701, "database_label": "normal", "annotation_diagnosis": "abnormal"}
    ]
    assert "label conflict: annotated case 701 is abnormal" in caplog.text
    records = read_table(tmp_path / "out" / "records.parquet").set_index("ecg_id")
    assert records.at[701, "label"] == 0 and records.at[701, "split"] == "evaluation"
