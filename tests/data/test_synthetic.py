"""Tests of the synthetic PTB-XL generator: layout, labels, determinism, and ground truth."""

from __future__ import annotations

import ast
import filecmp
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import wfdb

from cinexai.cineecg.constants import FORWARD_DOWER
from cinexai.config import defaults
from cinexai.data import dipole, synthetic
from cinexai.leads import LEADS

TINY = {
    **defaults()["synthetic"],
    "n_patients": 12,
    "records_per_patient": [1, 2],
    "n_evaluation": 10,
    "duration_s": 2,
    "abnormal_fraction": 0.5,
    "families": ["lafb", "rbbb", "anterior_mi", "st_elevation", "lvh"],
    "severity": [0.15, 1.0],
    "noise": {
        "white_mv": 0.02,
        "baseline_wander_mv": 0.1,
        "mains_mv": 0.01,
        "artefact_probability": 0.3,
    },
    "truth_threshold": 0.1,
    "n_defective": 3,
}
CSVS = ("ptbxl_database.csv", "scp_statements.csv", "annotations.csv", "synthetic_truth.csv")


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("syn") / "synthetic-ptbxl"
    synthetic.generate(out_dir=out, cfg=TINY, seed=7)
    return out


def _read(out: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    db = pd.read_csv(out / "ptbxl_database.csv", index_col="ecg_id")
    truth = pd.read_csv(
        out / "synthetic_truth.csv", index_col="ecg_id", keep_default_na=False, na_values=[""]
    )
    ann = pd.read_csv(out / "annotations.csv")
    return db, truth, ann


def test_forward_dower_signs() -> None:
    e8 = dict(zip(["I", "II", "V1", "V2", "V3", "V4", "V5", "V6"], FORWARD_DOWER))
    left, posterior, inferior = 0, 2, 1
    assert e8["I"][left] > 0 and e8["V6"][left] > 0
    assert e8["V1"][posterior] < 0 and e8["V2"][posterior] < 0
    assert e8["II"][inferior] > 0
    beat = {name: dipole.Lobe(0, 10, 10, 20, np.zeros(3)) for name in dipole.LOBE_NAMES}
    beat["R"] = dipole.Lobe(0, 10, 10, 20, np.array([1.0, 0.0, 0.0]))
    x = dipole.beat_leads(beat, np.array([10.0]))[:, 0]
    assert x[LEADS.index("I")] > 0 and x[LEADS.index("V6")] > 0 and x[LEADS.index("aVR")] < 0


def test_same_seed_is_identical_and_other_seed_differs(cohort: Path, tmp_path: Path) -> None:
    again, other = tmp_path / "again", tmp_path / "other"
    synthetic.generate(out_dir=again, cfg=TINY, seed=7)
    synthetic.generate(out_dir=other, cfg=TINY, seed=8)
    for name in CSVS:
        assert filecmp.cmp(cohort / name, again / name, shallow=False), name
    assert not filecmp.cmp(
        cohort / "ptbxl_database.csv", other / "ptbxl_database.csv", shallow=False
    )
    a = wfdb.rdrecord(str(cohort / "records500/00000/00003_hr")).p_signal
    b = wfdb.rdrecord(str(again / "records500/00000/00003_hr")).p_signal
    c = wfdb.rdrecord(str(other / "records500/00000/00003_hr")).p_signal
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_generate_replaces_existing_dir_and_leaves_no_temp(tmp_path: Path) -> None:
    out = tmp_path / "syn"
    out.mkdir()
    (out / "stale.txt").write_text("old")
    synthetic.generate(
        out_dir=out, cfg={**TINY, "n_patients": 2, "n_evaluation": 2, "n_defective": 0}, seed=1
    )
    assert not (out / "stale.txt").exists() and (out / "ptbxl_database.csv").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["syn"]


def test_layout_reads_as_ptbxl(cohort: Path) -> None:
    db, _, _ = _read(cohort)
    assert list(pd.read_csv(cohort / "ptbxl_database.csv").columns[:2]) == ["ecg_id", "patient_id"]
    for col in (
        "age",
        "sex",
        "scp_codes",
        "strat_fold",
        "filename_lr",
        "filename_hr",
        "validated_by_human",
        "baseline_drift",
        "static_noise",
        "burst_noise",
        "electrodes_problems",
        "extra_beats",
        "pacemaker",
    ):
        assert col in db.columns, col
    assert db.strat_fold.between(1, 10).all()
    assert db.loc[1, "filename_hr"] == "records500/00000/00001_hr"
    assert db.loc[1, "filename_lr"] == "records100/00000/00001_lr"
    for ecg_id in (1, int(db.index[-1])):
        for col, fs in (("filename_hr", 500), ("filename_lr", 100)):
            rec = wfdb.rdrecord(str(cohort / db.loc[ecg_id, col]))
            assert rec.sig_name == list(LEADS) and rec.fs == fs
            assert rec.sig_len == 2 * fs and rec.units == ["mV"] * 12 and rec.fmt == ["16"] * 12
    statements = pd.read_csv(cohort / "scp_statements.csv", index_col=0)
    used = {code for s in db.scp_codes for code in ast.literal_eval(s)}
    assert used <= set(statements.index)
    assert statements.loc["SR", "rhythm"] == 1 and np.isnan(statements.loc["SR", "diagnostic"])
    diagnostic = statements[statements.diagnostic == 1]
    assert set(diagnostic.diagnostic_class) <= {"NORM", "MI", "STTC", "CD", "HYP"}


def test_writer_matches_wfdb_wrsamp(tmp_path: Path) -> None:
    x = np.random.default_rng(0).normal(0, 0.8, (12, 700))
    x[3, 50:80] = np.nan
    synthetic.write_wfdb(tmp_path / "ours", x, 500)
    (tmp_path / "ref").mkdir()
    wfdb.wrsamp(
        "ours",
        fs=500,
        units=["mV"] * 12,
        sig_name=list(LEADS),
        p_signal=x.T,
        fmt=["16"] * 12,
        adc_gain=[1000.0] * 12,
        baseline=[0] * 12,
        write_dir=str(tmp_path / "ref"),
    )
    assert (tmp_path / "ours.dat").read_bytes() == (tmp_path / "ref" / "ours.dat").read_bytes()
    assert (tmp_path / "ours.hea").read_text() == (tmp_path / "ref" / "ours.hea").read_text()
    back = wfdb.rdrecord(str(tmp_path / "ours")).p_signal.T
    assert np.isnan(back[3, 50:80]).all() and np.nanmax(np.abs(back - x)) <= 0.0005 + 1e-9


def test_decimation_keeps_signal_and_nan(cohort: Path) -> None:
    t = np.arange(5000) / 500
    x = np.tile(np.sin(2 * np.pi * 2 * t) + 0.5 * np.sin(2 * np.pi * 90 * t), (12, 1))
    y = synthetic.decimate(x)
    assert y.shape == (12, 1000)
    np.testing.assert_allclose(y[0, 50:-50], np.sin(2 * np.pi * 2 * t[::5])[50:-50], atol=0.02)
    x[2, 100:150] = np.nan
    y = synthetic.decimate(x)
    assert np.isnan(y[2, 20:30]).all() and not np.isnan(y[2, 40:]).any()


def test_labels_follow_ptbxl_rule(cohort: Path) -> None:
    db, truth, _ = _read(cohort)
    statements = pd.read_csv(cohort / "scp_statements.csv", index_col=0)
    for ecg_id, codes in db.scp_codes.map(ast.literal_eval).items():
        classes = {
            statements.loc[c, "diagnostic_class"]
            for c in codes
            if statements.loc[c, "diagnostic"] == 1
        }
        is_normal = classes == {"NORM"} and codes["NORM"] == 100.0
        assert is_normal == (truth.loc[ecg_id, "family"] == "normal"), ecg_id
        if not is_normal:
            assert "NORM" not in classes and len(classes) == 1
            assert all(codes[c] >= 35 for c in codes if statements.loc[c, "diagnostic"] == 1)


def test_cohorts_patients_and_defects(cohort: Path) -> None:
    db, truth, ann = _read(cohort)
    assert (db.patient_id == truth.patient_id).all()
    ev, dev = truth[truth.cohort == "evaluation"], truth[truth.cohort == "development"]
    assert len(ev) == TINY["n_evaluation"] and ev.patient_id.is_unique
    assert not set(ev.patient_id) & set(dev.patient_id)
    assert (ev.family == "normal").sum() == len(ev) // 2
    assert sorted(ev.family[ev.family != "normal"]) == sorted(TINY["families"])
    assert set(ann.case_id) == set(ev.index)
    assert db.groupby("patient_id").strat_fold.nunique().max() == 1
    defects = dev.defect.dropna().tolist()
    assert len(defects) == 3 and defects[2] == "no beats"
    flat = int(dev.index[dev.defect.fillna("").str.startswith("flat lead")][0])
    lead = dev.loc[flat, "defect"].split()[-1]
    sig = wfdb.rdrecord(str(cohort / db.loc[flat, "filename_hr"])).p_signal
    assert np.ptp(sig[:, LEADS.index(lead)]) == 0
    nan_id = int(dev.index[dev.defect.fillna("").str.startswith("nan in lead")][0])
    sig = wfdb.rdrecord(str(cohort / db.loc[nan_id, "filename_hr"])).p_signal
    lead = LEADS.index(dev.loc[nan_id, "defect"].split()[-1])
    assert np.isnan(sig[:, lead]).sum() == 250 and np.isnan(sig).sum() == 250
    assert np.isnan(dev.loc[int(dev.index[dev.defect == "no beats"][0]), "qrs_onset_ms"])


def test_qrs_onset_is_where_the_beat_starts(cohort: Path) -> None:
    db, truth, _ = _read(cohort)
    case = truth[(truth.cohort == "evaluation")].index[0]
    sig = wfdb.rdrecord(str(cohort / db.loc[case, "filename_hr"])).p_signal
    k = int(round(truth.loc[case, "qrs_onset_ms"] / 2))
    energy = np.abs(np.diff(sig, axis=0)).sum(1)
    # The steepest slope of the first beat lies inside its QRS (10-80 ms after the true onset).
    first = np.argmax(energy[k - 40 : k + 60]) + k - 40
    assert k + 5 <= first <= k + 40
    onsets = [float(v) for v in truth.loc[case, "qrs_onsets_ms"].split(";")]
    assert onsets[0] == truth.loc[case, "qrs_onset_ms"] and np.all(np.diff(onsets) > 400)


def test_annotations_obey_protocol(cohort: Path) -> None:
    _, truth, ann = _read(cohort)
    assert list(ann.columns) == [
        "case_id",
        "annotator",
        "modality",
        "lead",
        "start_ms",
        "end_ms",
        "kind",
        "diagnosis",
    ]
    assert (ann.start_ms >= 0).all() and (ann.end_ms <= 400).all()
    assert (ann.start_ms < ann.end_ms).all()
    mid = (ann.start_ms + ann.end_ms) / 2
    need = np.where(mid < 150, 25.0, 50.0)
    assert (ann.end_ms - ann.start_ms >= need - 1e-9).all()
    assert set(ann.modality) == {"ecg12", "cineecg"} and set(ann.kind) == {"segment"}
    assert set(ann.lead[ann.modality == "ecg12"]) <= set(LEADS)
    assert (ann.lead[ann.modality == "cineecg"] == "*").all()
    per_case = ann.groupby("case_id").diagnosis.agg(["nunique", "first"])
    assert (per_case["nunique"] == 1).all()
    expected = (
        truth.loc[per_case.index, "family"].ne("normal").map({True: "abnormal", False: "normal"})
    )
    assert (per_case["first"] == expected).all()
    assert (per_case["first"] == "normal").sum() == len(per_case) // 2
    for case, rows in ann[ann.annotator == synthetic.ANNOTATOR].groupby("case_id"):
        ecg = rows[rows.modality == "ecg12"]
        cine = rows[rows.modality == "cineecg"].sort_values("start_ms")
        assert len(ecg) and len(cine)
        assert (cine.start_ms.iloc[1:].to_numpy() > cine.end_ms.iloc[:-1].to_numpy()).all()
        # the trajectory truth overlaps the lead truth in time but is its own (dipole) rule
        overlap = [
            (min(r.end_ms, c.end_ms) - max(r.start_ms, c.start_ms)) > 0
            for _, r in ecg.iterrows()
            for _, c in cine.iterrows()
        ]
        assert any(overlap), case


def _case(truth: pd.DataFrame, family: str) -> int:
    return int(truth.index[(truth.cohort == "evaluation") & (truth.family == family)][0])


def test_truth_is_where_the_change_is(cohort: Path) -> None:
    _, truth, ann = _read(cohort)
    ecg = ann[(ann.modality == "ecg12") & (ann.annotator == synthetic.ANNOTATOR)]
    ste = ecg[ecg.case_id == _case(truth, "st_elevation")]
    qrs = truth.loc[_case(truth, "st_elevation"), "qrs_ms"]
    assert (ste.start_ms >= qrs - 30).all() and {"V2", "V3"} <= set(ste.lead)
    rbbb = ecg[ecg.case_id == _case(truth, "rbbb")]
    v1 = rbbb[rbbb.lead == "V1"]
    assert len(v1) and (v1.end_ms > truth.loc[_case(truth, "rbbb"), "qrs_ms"]).any()
    assert (rbbb.start_ms >= 40).all()
    lafb = ecg[ecg.case_id == _case(truth, "lafb")]
    assert {"aVL", "aVF"} <= set(lafb.lead) and (lafb.end_ms <= 150).all()
    mi = ecg[ecg.case_id == _case(truth, "anterior_mi")]
    assert {"V2"} <= set(mi.lead) and (mi.start_ms < 40).any()


def test_abnormal_truth_rule_and_normal_cap() -> None:
    patient = dipole.draw_patient(np.random.default_rng(3))
    twin = dipole.normal_beat(patient, 850.0)
    assert not synthetic.abnormal_truth(twin, twin, 0.1).any()
    beat = dipole.apply_family(twin, "st_elevation", 1.0)
    mask = synthetic.abnormal_truth(beat, twin, 0.1)
    assert mask.any() and not mask[:, : int(patient.qrs_ms * 0.6 / 2)].any()
    assert mask.sum() >= synthetic.abnormal_truth(beat, twin, 0.2).sum()
    normal = synthetic.normal_truth(twin, list(dipole.FAMILIES), 0.6, 0.1, 0.1)
    assert 0 < normal.mean() <= 0.1
    cine = synthetic.abnormal_truth(beat, twin, 0.1, "cineecg")
    assert cine.shape == (1, 200) and cine.any()
    assert not cine[:, : int(patient.qrs_ms * 0.6 / 2)].any()  # ST change: not in early QRS
    cine_normal = synthetic.normal_truth(twin, list(dipole.FAMILIES), 0.6, 0.1, 0.25, "cineecg")
    assert cine_normal.shape == (1, 200) and 0 < cine_normal.mean() <= 0.25


def test_mask_to_segments_rules() -> None:
    mask = np.zeros(200, bool)
    mask[[0, 1, 2]] = True  # 0-6 ms at the window start: widened to 25 ms from 0
    mask[40:43] = True  # 80-86 ms
    mask[46:48] = True  # 92-96 ms: merged with the previous (gap 6 ms)
    mask[199] = True  # 398-400 ms: widened to 50 ms, kept inside 400
    segs = synthetic.mask_to_segments(mask, merge_gap_ms=20.0)
    assert segs[0] == (0.0, 25.0)
    assert segs[1][0] <= 80 and segs[1][1] >= 96 and segs[1][1] - segs[1][0] >= 25
    assert segs[-1] == (350.0, 400.0)


def test_family_registry_and_severity_monotone() -> None:
    patient = dipole.draw_patient(np.random.default_rng(5))
    twin = dipole.normal_beat(patient, 900.0)
    t = np.arange(0.0, 400.0, 2.0)
    x0 = dipole.beat_leads(twin, t)
    for name, spec in dipole.FAMILIES.items():
        assert spec.code in synthetic.SCP_STATEMENTS, name
        small = np.abs(dipole.beat_leads(dipole.apply_family(twin, name, 0.2), t) - x0).max()
        large = np.abs(dipole.beat_leads(dipole.apply_family(twin, name, 1.0), t) - x0).max()
        assert 0 < small < large, name
    with pytest.raises(KeyError, match="unknown synthetic family"):
        dipole.apply_family(twin, "wpw", 0.5)
    with pytest.raises(KeyError, match="synthetic.families"):
        synthetic.resolve_config({**TINY, "families": ["lafb", "wpw"]})


def test_n_records_target_counts_development_records() -> None:
    cfg = synthetic.resolve_config({**TINY, "n_evaluation": 4, "n_defective": 2})
    _, specs = synthetic.plan_cohort(cfg, seed=0, n_records_target=37)
    dev = [s for s in specs if s.cohort == "development" and not s.defect]
    assert len(dev) == 37 and len(specs) == 37 + 2 + 4


def test_optional_signs_are_drawn_per_patient_with_the_family_minimum() -> None:
    rng = np.random.default_rng(0)
    assert dipole.draw_signs("normal", rng, 0.7) == ()
    assert dipole.draw_signs("lafb", rng, 1.0) == ()
    assert dipole.draw_signs("lvh", rng, 0.0) == ()  # strain is optional, no minimum
    for _ in range(50):  # at least one sign of an infarction, even at probability 0
        assert len(dipole.draw_signs("anterior_mi", rng, 0.0)) == 1
    assert dipole.draw_signs("anterior_mi", rng, 1.0) == ("q_waves", "t_inversion")
    draws = [dipole.draw_signs("anterior_mi", rng, 0.7) for _ in range(2000)]
    both = np.mean([len(d) == 2 for d in draws])
    assert abs(both - 0.49) < 0.04  # both shown: 0.7 x 0.7 (the minimum only tops up none)
    cfg = synthetic.resolve_config({**TINY, "n_patients": 60})
    _, specs = synthetic.plan_cohort(cfg, seed=1)
    by_patient = {}
    for spec in specs:
        by_patient.setdefault(spec.patient, set()).add(spec.signs)
        assert set(spec.signs) <= set(
            dipole.FAMILIES[spec.family].signs if spec.family != "normal" else ()
        )
    assert all(len(v) == 1 for v in by_patient.values())  # a patient's records share their signs


def test_each_sign_changes_only_its_own_part_of_the_beat() -> None:
    patient = dipole.draw_patient(np.random.default_rng(2))
    twin = dipole.normal_beat(patient, 900.0)
    t = np.arange(0.0, 400.0, 2.0)
    x0 = dipole.beat_leads(twin, t)
    late = t >= patient.qrs_ms + 20  # ST-T

    def change(family: str, signs: tuple[str, ...]) -> np.ndarray:
        return np.abs(dipole.beat_leads(dipole.apply_family(twin, family, 1.0, signs), t) - x0)

    q_only, t_only = change("anterior_mi", ("q_waves",)), change("anterior_mi", ("t_inversion",))
    assert q_only[:, ~late].max() > 0.1 and q_only[:, late].max() < 1e-9
    assert t_only[:, t < 40].max() < 1e-9 and t_only[:, late].max() > 0.1
    full = np.abs(dipole.beat_leads(dipole.apply_family(twin, "anterior_mi", 1.0), t) - x0)
    np.testing.assert_allclose(change("anterior_mi", ("q_waves", "t_inversion")), full)
    no_strain = change("lvh", ())
    assert no_strain[:, late].max() < 1e-9 and change("lvh", ("strain",))[:, late].max() > 0.1
    with pytest.raises(KeyError, match="no signs"):
        dipole.apply_family(twin, "lafb", 1.0, ("strain",))


def test_truth_follows_the_signs_a_case_shows(cohort: Path) -> None:
    _, truth, _ = _read(cohort)
    assert "signs" in truth.columns
    mi = truth[truth.family == "anterior_mi"]
    assert mi["signs"].notna().all()  # an infarction always shows a sign
    assert truth.loc[truth.family.isin(["lafb", "rbbb", "normal"]), "signs"].isna().all()


def test_wave_boundaries_are_ordered_and_in_the_truth(cohort: Path) -> None:
    _, truth, _ = _read(cohort)
    beats = truth[truth["qrs_onset_ms"].notna()]
    cols = list(synthetic.WAVE_COLUMNS[:-1])
    # P before QRS before T, in ms from the record start; the first beat's RR is positive
    assert (beats[cols].diff(axis=1).iloc[:, 1:] > 0).all().all()
    assert (beats["qrs_on_ms"] == beats["qrs_onset_ms"]).all()
    onsets = beats["qrs_onsets_ms"].str.split(";")
    several = onsets.str.len() > 1
    first_rr = onsets[several].map(lambda v: float(v[1]) - float(v[0]))
    assert several.any() and np.allclose(beats.loc[several, "rr_ms"], first_rr, atol=1e-3)
    # a record with a single beat takes the mean RR of its heart rate
    single = beats[~several]
    assert np.allclose(single["rr_ms"], 60000.0 / single["heart_rate"], rtol=1e-3)
    assert truth.loc[truth["qrs_onset_ms"].isna(), cols].isna().all().all()


def test_wave_boundaries_follow_the_lobes() -> None:
    patient = dipole.draw_patient(np.random.default_rng(3))
    beat = dipole.normal_beat(patient, 800.0)
    bounds = dipole.wave_boundaries(beat)
    assert bounds["p_on"] == -patient.pr_ms and bounds["qrs_on"] == 0.0
    assert bounds["qrs_off"] == pytest.approx(patient.qrs_ms)
    assert beat["T"].on < bounds["t_on"] < beat["T"].p1 and bounds["t_off"] == beat["T"].off
    # a right bundle branch block widens the QRS, a normal twin does not
    wide = dipole.wave_boundaries(dipole.apply_family(beat, "rbbb", 1.0))
    assert wide["qrs_off"] > bounds["qrs_off"] + 40
