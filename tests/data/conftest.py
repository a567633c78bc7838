"""A tiny PTB-XL-layout directory with known QRS onsets and one record per bad case.

The beat synthesiser here is deliberately independent of ``cinexai.data.synthetic``: every wave is
a raised-cosine lobe with compact support, so QRS onset is exactly the start of the first QRS lobe
(the Q lobe, present in every independent lead).  ``benchmarks/ingest_bench.py`` reuses
:func:`write_ptbxl` and :func:`synth_record` when the synthetic generator is not available.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import wfdb

from cinexai.config import defaults
from cinexai.data import synthetic
from cinexai.leads import LEADS, twelve_from_eight

FS = 500
#: (start relative to QRS onset, width) in seconds of the P, Q, R, S, T lobes.
LOBES = {
    "P": (-0.16, 0.09),
    "Q": (0.0, 0.024),
    "R": (0.012, 0.05),
    "S": (0.05, 0.035),
    "T": (0.20, 0.17),
}

STATEMENTS = pd.DataFrame(
    {
        "description": [
            "normal ECG",
            "inferior MI",
            "left anterior fascicular block",
            "non-diagnostic T abnormalities",
            "left ventricular hypertrophy",
            "sinus rhythm",
        ],
        "diagnostic": [1.0, 1.0, 1.0, 1.0, 1.0, np.nan],
        "form": [np.nan, np.nan, np.nan, 1.0, np.nan, np.nan],
        "rhythm": [np.nan, np.nan, np.nan, np.nan, np.nan, 1.0],
        "diagnostic_class": ["NORM", "MI", "CD", "STTC", "HYP", np.nan],
        "diagnostic_subclass": ["NORM", "IMI", "LAFB/LPFB", "STTC", "LVH", np.nan],
    },
    index=["NORM", "IMI", "LAFB", "NDT", "LVH", "SR"],
)


def _lobe(t: np.ndarray, start: float, width: float) -> np.ndarray:
    """Raised-cosine lobe, exactly zero outside [start, start + width]."""
    u = (t - start) / width
    return np.where((u >= 0) & (u <= 1), 0.5 * (1 - np.cos(2 * np.pi * u)), 0.0)


def synth_record(
    rng: np.random.Generator,
    fs: int = FS,
    duration_s: float = 10.0,
    hr: float = 70.0,
    abnormal: bool = False,
    noise: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """A (12, N) record in mV in LEADS order and its true QRS onsets (samples)."""
    n = int(round(duration_s * fs))
    t = np.arange(n) / fs
    amps = {
        "P": rng.uniform(0.05, 0.15, 8),
        "Q": -rng.uniform(0.1, 0.2, 8),
        "R": rng.uniform(0.5, 1.5, 8) * rng.choice([1, -1], 8, p=[0.8, 0.2]),
        "S": -rng.uniform(0.1, 0.5, 8),
        "T": rng.uniform(0.1, 0.3, 8),
    }
    lobes = dict(LOBES)
    if abnormal:  # wide, late S and inverted T: a bundle-branch-like change
        lobes["S"] = (0.06, 0.07)
        amps["T"] = -amps["T"]
    rel = np.arange(int(-0.2 * fs), int(0.4 * fs)) / fs  # one beat, -200..400 ms from onset
    beat = sum(
        amps[name][:, None] * _lobe(rel, start, width)[None, :]
        for name, (start, width) in lobes.items()
    )
    first = 0.35 + rng.uniform(0, 0.2)
    onsets_s = np.arange(first, duration_s - 0.45, 60.0 / hr)
    onsets_s = onsets_s + rng.normal(0, 0.01, onsets_s.size)  # RR variability
    onsets = np.round(onsets_s * fs).astype(int)
    e8 = np.zeros((8, n))
    for onset in onsets:
        e8[:, onset + int(-0.2 * fs) : onset + int(0.4 * fs)] += beat
    x = twelve_from_eight(e8)
    if noise:
        x = (
            x
            + rng.normal(0, 0.02, x.shape)
            + 0.1 * np.sin(2 * np.pi * 0.3 * t + rng.uniform(0, 2 * np.pi, (12, 1)))
            + 0.01 * np.sin(2 * np.pi * 50 * t)
            + rng.uniform(-0.3, 0.3, (12, 1))
        )
    return x, onsets


def write_wfdb(
    path: Path,
    x: np.ndarray,
    fs: float = FS,
    sig_name: list[str] | None = None,
    units: str = "mV",
    gain: float = 1000.0,
) -> None:
    """Write a (C, N) array as a 16-bit WFDB record with ``wfdb.wrsamp``.

    ``x`` is in ``units`` and ``gain`` is digital units per ``units`` (PTB-XL: mV, 1000).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    names = list(sig_name or LEADS)
    wfdb.wrsamp(
        path.name,
        fs=fs,
        units=[units] * len(names),
        sig_name=names,
        p_signal=np.ascontiguousarray(x.T),
        fmt=["16"] * len(names),
        adc_gain=[gain] * len(names),
        baseline=[0] * len(names),
        write_dir=str(path.parent),
    )


def write_wfdb_fast(path: Path, x: np.ndarray, fs: float = FS) -> None:
    """The same record as :func:`write_wfdb`, written by the generator's direct writer.

    ``wfdb.wrsamp`` spends ~0.3-0.7 s per record validating header fields; the generator's
    writer produces the identical .hea/.dat in ~1 ms (a test checks they read back the same).
    """
    synthetic.write_wfdb(path, x, fs)


def database_row(ecg_id: int, patient_id: int, scp_codes: dict[str, float]) -> dict:
    """One ptbxl_database.csv row in the PTB-XL 1.0.3 layout."""
    filename_lr, filename_hr = synthetic.record_paths(ecg_id)
    return {
        "ecg_id": ecg_id,
        "patient_id": float(patient_id),
        "age": 60.0,
        "sex": 0,
        "scp_codes": repr(scp_codes),
        "strat_fold": ecg_id % 10 + 1,
        "filename_lr": filename_lr,
        "filename_hr": filename_hr,
        "validated_by_human": True,
        "baseline_drift": np.nan,
        "static_noise": np.nan,
        "burst_noise": np.nan,
        "electrodes_problems": np.nan,
        "extra_beats": np.nan,
        "pacemaker": np.nan,
    }


def write_ptbxl(root: Path, rows: list[dict]) -> None:
    """Write ptbxl_database.csv and scp_statements.csv for ``rows`` (records written separately)."""
    root.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).set_index("ecg_id").to_csv(root / "ptbxl_database.csv")
    STATEMENTS.to_csv(root / "scp_statements.csv")


NORMAL = {"NORM": 100.0, "SR": 0.0}
ABNORMAL = {"IMI": 50.0, "NDT": 100.0, "SR": 0.0}

#: Bad records: ecg_id -> (expected exclusion reason prefix).  All abnormal (the minority class,
#: so the balanced subset always takes them).
BAD = {
    901: "unreadable",
    902: "nan in lead V3",
    903: "flat lead aVL",
    904: "wrong lead set",
    905: "wrong sampling rate: 250",
    906: "no beats detected",
}
LABEL_EXCLUDED = {801: "no diagnostic statement", 802: "uncertain NORM"}
EVALUATION = [701, 702]


def build_fixture(root: Path, seed: int = 0) -> dict:
    """Write the fixture; return truth: onsets per ecg_id, patients, labels, special ids."""
    rng = np.random.default_rng(seed)
    rows, onsets, labels = [], {}, {}

    def add(
        ecg_id: int,
        patient: int,
        codes: dict,
        x: np.ndarray | None = None,
        fs: float = FS,
        sig_name: list[str] | None = None,
        fast: bool = True,
    ) -> None:
        rows.append(database_row(ecg_id, patient, codes))
        if x is not None and fast:
            write_wfdb_fast(root / rows[-1]["filename_hr"], x)
        elif x is not None:
            write_wfdb(root / rows[-1]["filename_hr"], x, fs, sig_name)

    ecg_id, signals = 1, {}
    for patient in range(1, 25):  # 24 patients x 2 records: 16 all-normal, 8 all-abnormal
        abnormal = patient > 16
        for _ in range(2):
            x, on = synth_record(rng, hr=rng.uniform(55, 95), abnormal=abnormal)
            add(ecg_id, patient, ABNORMAL if abnormal else NORMAL, x)
            onsets[ecg_id], labels[ecg_id], signals[ecg_id] = on, int(abnormal), x
            ecg_id += 1
    # same signal as record 47, stored with shuffled, lower-case lead names
    order = rng.permutation(12)
    add(
        ecg_id,
        24,
        ABNORMAL,
        signals[47][order],
        sig_name=[LEADS[k].lower() for k in order],
        fast=False,
    )
    shuffled_twin = ecg_id
    onsets[ecg_id], labels[ecg_id] = onsets[47], 1

    for k, bad_id in enumerate(BAD):
        x, _ = synth_record(rng, abnormal=True)
        patient, names, fs = 30 + k, None, FS
        if bad_id == 902:
            x[LEADS.index("V3"), 1000:1100] = np.nan
        elif bad_id == 903:
            x[LEADS.index("aVL")] = 0.0
        elif bad_id == 904:
            names = [*LEADS[:-1], "V7"]
        elif bad_id == 905:
            x, fs = x[:, ::2], 250
        elif bad_id == 906:
            t = np.arange(x.shape[1]) / FS
            x = 0.1 * np.sin(2 * np.pi * 0.2 * t) + rng.normal(0, 0.003, x.shape)
        add(bad_id, patient, ABNORMAL, x, fs, names, fast=False)
        labels[bad_id] = 1
    unreadable = root / rows[-len(BAD)]["filename_hr"]
    unreadable.with_suffix(".dat").write_bytes(b"\x00\x01\x02")

    add(801, 40, {"SR": 0.0, "NT_": 0.0})
    add(802, 41, {"NORM": 50.0, "SR": 0.0})
    for k, case in enumerate(EVALUATION):  # two evaluation cases; patient 50 has a second record
        x, on = synth_record(rng, abnormal=bool(k))
        add(case, 50 + k, ABNORMAL if k else NORMAL, x)
        onsets[case], labels[case] = on, k
    x, _ = synth_record(rng)
    add(703, 50, NORMAL, x)

    write_ptbxl(root, rows)
    pd.DataFrame(
        {
            "case_id": [701, 701, 702],
            "annotator": "A",
            "modality": "ecg12",
            "lead": ["II", "V1", "*"],
            "start_ms": [0, 20, 100],
            "end_ms": [40, 60, 300],
            "kind": "segment",
            "diagnosis": ["normal", "normal", "abnormal"],
        }
    ).to_csv(root / "annotations.csv", index=False)
    return {
        "onsets": onsets,
        "labels": labels,
        "shuffled_twin": shuffled_twin,
        "patients": {r["ecg_id"]: int(r["patient_id"]) for r in rows},
    }


DATA_CFG = {
    **defaults()["data"],
    "sampling_rate": 500,
    "window_ms": 400,
    "n_records": 1000,
    "split": [0.6, 0.2, 0.2],
    "reference_pool": 4,
    "norm_likelihood": 100,
}


@pytest.fixture(scope="session")
def ptbxl_fixture(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """(root, truth) of the fixture directory, built once per session."""
    root = tmp_path_factory.mktemp("ptbxl")
    return root, build_fixture(root)


@pytest.fixture(scope="session")
def ingested(
    ptbxl_fixture: tuple[Path, dict], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict]:
    """(out_dir, truth) after one ingest of the fixture with seed 0."""
    from cinexai.data.ingest import ingest

    root, truth = ptbxl_fixture
    out = tmp_path_factory.mktemp("ingested")
    ingest(
        ptbxl_dir=root,
        annotations=root / "annotations.csv",
        out_dir=out,
        cfg=dict(DATA_CFG),
        seed=0,
        threads=1,
    )
    return out, truth


@pytest.fixture
def synth():
    """The beat synthesiser, for tests that need a record with known onsets."""
    return synth_record


@pytest.fixture(scope="session")
def helpers() -> SimpleNamespace:
    """This module's writers and constants (tests get them here rather than importing conftest)."""
    return SimpleNamespace(
        DATA_CFG=DATA_CFG,
        STATEMENTS=STATEMENTS,
        BAD=BAD,
        EVALUATION=EVALUATION,
        LABEL_EXCLUDED=LABEL_EXCLUDED,
        database_row=database_row,
        write_ptbxl=write_ptbxl,
        write_wfdb=write_wfdb,
        write_wfdb_fast=write_wfdb_fast,
        synth_record=synth_record,
    )
