"""Synthetic PTB-XL with known ground truth: the project's embedded default dataset.

Writes the PTB-XL 1.0.3 layout (``ptbxl_database.csv``, ``scp_statements.csv``, WFDB 16-bit
records in ``records500/`` and ``records100/``) plus ``annotations.csv`` (expert-annotation format,
evaluation cohort only), ``synthetic_truth.csv`` and ``generator.json`` (seed, config, versions).
Beats come from the smooth-lobe dipole model of :mod:`cinexai.data.dipole`, projected with the
forward Dower matrix, plus baseline wander, 50 Hz mains, white noise and occasional artefact
bursts.  Every draw uses a numpy Generator seeded from ``(seed, stream, index)``.

Cohorts
    *development*: ``n_patients`` patients with ``records_per_patient`` records each; a patient is
    normal or has one family (``abnormal_fraction``), each record's severity is the patient's
    severity plus a small jitter, within ``severity``.  A family's optional signs (anterior MI:
    Q waves, T inversion; ST elevation: hyperacute T; LVH: strain) are drawn per
    patient, each with ``sign_probability`` and at least the family's minimum (see
    :class:`cinexai.data.dipole.FamilySpec`); the truth follows the signs the record shows.
    ``n_defective`` extra single-record patients carry a flat lead, a NaN stretch, or no beats
    (labelled NORM, to be excluded).
    *normal variants* (``normal_variants``, :data:`cinexai.data.dipole.VARIANTS`): every patient,
    normal or abnormal alike, shows each variant with its ``rate`` (own random stream, so the
    draws are independent of the label and leave every other draw unchanged), at a severity drawn
    uniformly from its ``severity`` range.  The variant changes the patient's normal beat before
    the family does, so the noise-free twin carries it too: it never enters an abnormal case's
    truth.
    *evaluation*: ``n_evaluation`` single-record patients, half normal, half abnormal with the
    families in turn; abnormal severities are drawn from the upper half of ``severity`` (clear
    cases, as annotated cases are) and records carry no artefact burst.

Ground truth (``annotations.csv``, independent of any model)
    Time is measured from the TRUE QRS onset (onset of the dipole's first ventricular lobe),
    window 0-400 ms on the 500 Hz grid (cell k covers [2k, 2k+2) ms).  The case's noise-free
    beat and its noise-free normal twin (same patient, record parameters and normal variants, no
    family change) are rendered in the 12 leads.
    * abnormal case: cells where |beat - twin| > ``truth_threshold`` x max |beat| (over leads and
      window);
    * normal case (evidence of normality: where the cohort's families would show): every
      cohort family is applied to the case's own beat at ``truth_reference_severity``.  A cell
      is a candidate where some family changes it by more than ``truth_threshold`` x max
      |family beat| (visible).  ``truth_normal_rule: normal_spread`` (default) ranks the
      candidates by max over families of |family beat - beat| / (s + 0.02 mV), with s the
      standard deviation of the noise-free normal beat at that cell across 200 patients of the
      normal population with their variants (:func:`population_spread`, own random streams):
      evidence is where a family would stand out from normal variation.  ``beat_peak`` (the
      earlier rule) ranks them by the visibility score itself, which follows the beat's largest
      lobes and so rewards a map of |x| (measured in docs/truth.md).  At most
      ``truth_normal_max_coverage`` of the 12 x 200 cells are kept, the highest ranked.
    Per lead, runs of cells become segments [start, end] ms; segments closer than
    ``truth_merge_gap_ms`` are merged; a segment shorter than the protocol minimum (25 ms if its
    midpoint is in 0-150 ms, else 50 ms) is widened symmetrically to it, kept inside 0-400 ms,
    and overlaps are merged again.  These are the ``ecg12`` rows.  The ``cineecg`` rows (lead
    ``*``, the whole trajectory) apply the same rule to the 3D heart dipole that the trajectory
    is built from: times where the norm of the dipole change exceeds ``truth_threshold`` x the
    beat's peak dipole norm (for normal cases, the same rule on the dipole: the norm of the
    change over the root summed variance of the population's dipole, capped at
    ``truth_normal_max_coverage`` of the 200 samples).  Leads without a segment are not
    annotated.

``synthetic_truth.csv``
    ``ecg_id, patient_id, family, signs, variants, severity, cohort, label, defect, heart_rate,
    qrs_ms, qt_ms, qrs_onset_ms, qrs_onsets_ms`` (``signs``: the optional signs shown,
    ``;``-separated; ``variants``: the normal variants shown, ``name:severity`` ``;``-separated).
    ``qrs_onset_ms`` is the true QRS onset of the first beat in ms from the record start
    (sample ``round(qrs_onset_ms / 2)`` at 500 Hz, ``/ 10`` at 100 Hz);
    ``qrs_onsets_ms`` lists every beat's onset separated by ``;``.  Both are empty for a record
    without beats.  Wave boundaries of the first beat (landmark truth for the latent-cluster
    check), in ms from the record start: ``p_on_ms, p_off_ms`` (P wave: first P lobe's start to
    second P lobe's end), ``qrs_on_ms`` (= ``qrs_onset_ms``), ``qrs_off_ms`` (last end of a
    non-zero depolarisation lobe, so RBBB and LVH widen it), ``t_on_ms`` (where the T lobe has
    risen by 10 %), ``t_off_ms`` (end of the T lobe), and ``rr_ms`` (first RR interval);
    see :func:`cinexai.data.dipole.wave_boundaries`.  Empty for a record without beats.

WFDB records are written by :func:`write_wfdb`, a direct writer of the same bytes as
``wfdb.wrsamp(..., fmt='16', adc_gain=1000, baseline=0)`` (tested): ``wfdb.wrsamp`` spends
~0.2 s per record in header bookkeeping, too slow for 8000-record benchmarks.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import signal as sps
from tqdm import tqdm

from cinexai.cineecg.constants import FORWARD_DOWER
from cinexai.data import dipole
from cinexai.evaluation.annotations import REQUIRED_COLUMNS as ANNOTATION_COLUMNS
from cinexai.io import package_versions, write_json
from cinexai.leads import INDEPENDENT_LEADS, LEADS, twelve_from_eight

log = logging.getLogger(__name__)

FS_HR, FS_LR = 500, 100
WINDOW_MS, QRS_REGION_MS = 400.0, 150.0
MIN_QRS_MS, MIN_REST_MS = 25.0, 50.0
ADC_GAIN = 1000.0  # digital units per mV, as PTB-XL
ANNOTATOR = "synthetic-truth"
#: A second annotator with realistic disagreement: each boundary jittered by N(0, 6 ms), with
#: probability 0.5 one named lead missed, with probability 0.5 one extra 30-60 ms segment.
RATER2 = "synthetic-rater2"
RATER2_JITTER_MS = 6.0
RATER2_MISS_P = 0.5
RATER2_EXTRA_P = 0.5

#: PTB-XL statements used by the generator: code -> (description, kind, class, subclass).
SCP_STATEMENTS: dict[str, tuple[str, str, str | None, str | None]] = {
    "NORM": ("normal ECG", "diagnostic", "NORM", "NORM"),
    "LAFB": ("left anterior fascicular block", "diagnostic", "CD", "LAFB/LPFB"),
    "IRBBB": ("incomplete right bundle branch block", "diagnostic", "CD", "IRBBB"),
    "CRBBB": ("complete right bundle branch block", "diagnostic", "CD", "CRBBB"),
    "ASMI": ("anteroseptal myocardial infarction", "diagnostic", "MI", "AMI"),
    "AMI": ("anterior myocardial infarction", "diagnostic", "MI", "AMI"),
    "INJAS": ("subendocardial injury in anteroseptal leads", "diagnostic", "MI", "AMI"),
    "LVH": ("left ventricular hypertrophy", "diagnostic", "HYP", "LVH"),
    "ABQRS": ("abnormal QRS", "form", None, None),
    "STE_": ("non-specific ST elevation", "form", None, None),
    "VCLVH": ("voltage criteria (QRS) for left ventricular hypertrophy", "form", None, None),
    "SR": ("sinus rhythm", "rhythm", None, None),
}
DEFECTS = ("flat", "nan", "no_beats")
_STREAM_PLAN, _STREAM_PATIENT, _STREAM_RECORD, _STREAM_SIGNS = 1, 2, 3, 4
_STREAM_RATER2 = 5
_STREAM_VARIANTS = 6
_STREAM_SPREAD, _STREAM_SPREAD_VARIANTS = 7, 8


@dataclass
class RecordSpec:
    """One record to synthesise."""

    ecg_id: int
    patient: int  # index into the patient list (patient_id = patient + 1)
    family: str
    severity: float
    cohort: str
    strat_fold: int
    validated: bool
    defect: str = ""  # "" | "flat" | "nan" | "no_beats"
    defect_lead: int = 0  # lead index for "flat" and "nan"
    signs: tuple[str, ...] = ()  # the family's optional signs this patient shows
    variants: tuple[tuple[str, float], ...] = ()  # the patient's normal variants (name, severity)

    @property
    def defect_reason(self) -> str:
        """Human-readable defect, as the ingestion should report it."""
        return {
            "": "",
            "flat": f"flat lead {LEADS[self.defect_lead]}",
            "nan": f"nan in lead {LEADS[self.defect_lead]}",
            "no_beats": "no beats",
        }[self.defect]


def _rng(seed: int, stream: int, index: int = 0) -> np.random.Generator:
    return np.random.default_rng([int(seed), stream, int(index)])


def resolve_config(cfg: dict[str, Any]) -> dict[str, Any]:
    """``cfg`` (``config["synthetic"]``, schema defaults filled) checked; errors name the key."""
    out = dict(cfg)
    unknown = sorted(set(out["families"]) - set(dipole.FAMILIES))
    if unknown:
        raise KeyError(
            f"synthetic.families: unknown {unknown}; registered {sorted(dipole.FAMILIES)}"
        )
    lo, hi = out["records_per_patient"]
    if not 1 <= lo <= hi:
        raise ValueError(f"synthetic.records_per_patient must be 1 <= lo <= hi, got {[lo, hi]}")
    s_lo, s_hi = out["severity"]
    if not 0 < s_lo <= s_hi <= 1:
        raise ValueError(f"synthetic.severity must satisfy 0 < lo <= hi <= 1, got {[s_lo, s_hi]}")
    if out["duration_s"] * 1000 < 1500:
        raise ValueError(f"synthetic.duration_s must be >= 1.5 s, got {out['duration_s']}")
    for name, variant in out["normal_variants"].items():
        v_lo, v_hi = variant["severity"]
        top = np.inf if name in dipole.GAIN_VARIANTS else 1.0
        if not 0 < v_lo <= v_hi <= top:
            raise ValueError(
                f"synthetic.normal_variants.{name}.severity must satisfy 0 < lo <= hi"
                f"{' <= 1' if top == 1.0 else ''}, got {[v_lo, v_hi]}"
            )
    if out["truth_normal_rule"] not in NORMAL_RULES:
        raise ValueError(
            f"synthetic.truth_normal_rule must be one of {list(NORMAL_RULES)}, "
            f"got {out['truth_normal_rule']!r}"
        )
    if out["evaluation_severity"] is None:
        out["evaluation_severity"] = [(s_lo + s_hi) / 2, s_hi]
    return out


# ----------------------------------------------------------------------------------------------
# Cohort plan


def plan_cohort(
    cfg: dict[str, Any], seed: int, n_records_target: int | None = None
) -> tuple[list[dipole.Patient], list[RecordSpec]]:
    """Patients and record specs: development, defective, then evaluation records."""
    rng = _rng(seed, _STREAM_PLAN)
    families, (s_lo, s_hi) = list(cfg["families"]), cfg["severity"]
    lo, hi = cfg["records_per_patient"]
    patients: list[dipole.Patient] = []
    specs: list[RecordSpec] = []

    def add_patient(
        n_rec: int, family: str, severity: float, cohort: str, jitter: float, defect: str = ""
    ) -> None:
        p = len(patients)
        patients.append(dipole.draw_patient(_rng(seed, _STREAM_PATIENT, p)))
        signs = dipole.draw_signs(family, _rng(seed, _STREAM_SIGNS, p), cfg["sign_probability"])
        variants = dipole.draw_variants(_rng(seed, _STREAM_VARIANTS, p), cfg["normal_variants"])
        fold, validated = int(rng.integers(1, 11)), bool(rng.random() < 0.75)
        for _ in range(n_rec):
            sev = (
                0.0
                if family == "normal"
                else float(np.clip(severity + rng.normal(0, jitter), s_lo, s_hi))
            )
            specs.append(
                RecordSpec(
                    len(specs) + 1,
                    p,
                    family,
                    sev,
                    cohort,
                    fold,
                    validated,
                    defect,
                    int(rng.integers(0, 12)),
                    signs,
                    variants,
                )
            )

    n_dev = 0
    for i in range(10**9):
        if n_records_target is None and i >= cfg["n_patients"]:
            break
        if n_records_target is not None and n_dev >= n_records_target:
            break
        n_rec = int(rng.integers(lo, hi + 1))
        if n_records_target is not None:
            n_rec = min(n_rec, n_records_target - n_dev)
        abnormal = rng.random() < cfg["abnormal_fraction"]
        family = str(rng.choice(families)) if abnormal else "normal"
        add_patient(n_rec, family, float(rng.uniform(s_lo, s_hi)), "development", 0.05)
        n_dev += n_rec
    for k in range(int(cfg["n_defective"])):
        add_patient(1, "normal", 0.0, "development", 0.0, defect=DEFECTS[k % len(DEFECTS)])
    n_eval = int(cfg["n_evaluation"])
    e_lo, e_hi = cfg["evaluation_severity"]
    for k in range(n_eval):
        abnormal_index = k - n_eval // 2
        family = "normal" if abnormal_index < 0 else families[abnormal_index % len(families)]
        add_patient(1, family, float(rng.uniform(e_lo, e_hi)), "evaluation", 0.0)
    return patients, specs


# ----------------------------------------------------------------------------------------------
# Signal synthesis


@dataclass
class RecordSignal:
    """A synthesised record: 12-lead mV signal at 500 Hz and what the truth needs."""

    x: np.ndarray  # (12, T)
    beat: dipole.Beat | None  # the record's template beat (family applied)
    twin: dipole.Beat | None  # the same beat without the family change
    onsets_ms: np.ndarray
    heart_rate: float
    qt_ms: float
    quality: dict[str, str | float]


def _beat_train(
    rng: np.random.Generator, rr_ms: float, pr_ms: float, duration_ms: float
) -> np.ndarray:
    """QRS onset times (ms): first after its P wave, then RR with respiratory sinus arrhythmia."""
    f_resp, phase = rng.uniform(0.15, 0.35), rng.uniform(0, 2 * np.pi)
    t = rng.uniform(pr_ms + 80.0, pr_ms + 80.0 + 0.8 * rr_ms)
    onsets = []
    while t < duration_ms:
        onsets.append(t)
        rr = rr_ms * (
            1 + 0.03 * np.sin(2 * np.pi * f_resp * t / 1000 + phase) + rng.normal(0, 0.012)
        )
        t += rr
    return np.asarray(onsets)


def _noise_e8(
    rng: np.random.Generator, noise: dict[str, float], n: int, burst: bool
) -> tuple[np.ndarray, dict[str, str | float]]:
    """Noise in the 8 independent leads (derived leads inherit it) and PTB-XL quality notes."""
    t = np.arange(n) / FS_HR
    k_white, k_wander, k_mains = rng.lognormal(0, 0.3), rng.lognormal(0, 0.5), rng.lognormal(0, 0.4)
    out = noise["white_mv"] * k_white * rng.standard_normal((8, n))
    f_resp = rng.uniform(0.15, 0.35)
    resp = np.sin(2 * np.pi * f_resp * t + rng.uniform(0, 2 * np.pi))
    slow = np.sin(2 * np.pi * rng.uniform(0.03, 0.12) * t + rng.uniform(0, 2 * np.pi))
    out += (
        noise["baseline_wander_mv"]
        * k_wander
        * (rng.normal(0, 0.7, (8, 1)) * resp + rng.normal(0, 0.7, (8, 1)) * slow)
    )
    mains = np.sin(2 * np.pi * 50.0 * t + rng.uniform(0, 2 * np.pi))
    out += noise["mains_mv"] * k_mains * rng.uniform(0.5, 1.5, (8, 1)) * mains
    quality: dict[str, str | float] = {
        "baseline_drift": "I-V6" if k_wander > 1.8 else np.nan,
        "static_noise": "I-V6" if k_white > 1.6 else np.nan,
        "burst_noise": np.nan,
    }
    if burst:
        leads = np.sort(rng.choice(8, size=int(rng.integers(1, 4)), replace=False))
        length = int(rng.uniform(0.3, 1.5) * FS_HR)
        start = int(rng.integers(0, max(n - length, 1)))
        sos = sps.butter(4, [5.0, 40.0], btype="bandpass", fs=FS_HR, output="sos")
        raw = sps.sosfiltfilt(sos, rng.standard_normal((len(leads), n)), axis=1)
        envelope = np.zeros(n)
        envelope[start : start + length] = np.hanning(min(length, n - start))
        amp = rng.uniform(0.15, 0.6) / raw.std()
        out[leads] += amp * raw * envelope
        quality["burst_noise"] = ",".join(INDEPENDENT_LEADS[i] for i in leads)
    return out, quality


def synthesize(
    spec: RecordSpec, patient: dipole.Patient, cfg: dict[str, Any], seed: int
) -> RecordSignal:
    """One record (500 Hz, 12 leads, mV) from its spec and the patient's morphology."""
    rng = _rng(seed, _STREAM_RECORD, spec.ecg_id)
    n = int(round(cfg["duration_s"] * FS_HR))
    hr = float(np.clip(patient.heart_rate + rng.normal(0, 4), 45, 110))
    rr = 60000.0 / hr
    burst = spec.cohort == "development" and rng.random() < cfg["noise"]["artefact_probability"]
    noise, quality = _noise_e8(rng, cfg["noise"], n, burst)
    quality["electrodes_problems"] = np.nan
    jitter = rng.lognormal(0, 0.05) * dipole.rotation(*rng.normal(0, [3.0, 3.0, 2.0]))
    twin = dipole.apply_variants(dipole.normal_beat(patient, rr, jitter), spec.variants)
    beat = dipole.apply_family(twin, spec.family, spec.severity, spec.signs)
    if spec.defect == "no_beats":
        x = twelve_from_eight(noise * 3.0)
        return RecordSignal(x, None, None, np.array([]), hr, np.nan, quality)
    onsets = _beat_train(rng, rr, patient.pr_ms, cfg["duration_s"] * 1000.0)
    resp = 1 + 0.04 * np.sin(
        2 * np.pi * rng.uniform(0.15, 0.35) * onsets / 1000 + rng.uniform(0, 2 * np.pi)
    )
    gains = resp[:, None] * (1 + rng.normal(0, 0.02, (len(onsets), len(dipole.LOBE_NAMES))))
    d = dipole.render_dipole(beat, onsets, gains, n, FS_HR)
    x = twelve_from_eight(FORWARD_DOWER @ d + noise)
    if spec.defect == "flat":
        x[spec.defect_lead] = 0.0
        quality["electrodes_problems"] = LEADS[spec.defect_lead]
    elif spec.defect == "nan":
        start = int(rng.integers(0, n - FS_HR // 2))
        x[spec.defect_lead, start : start + FS_HR // 2] = np.nan
    return RecordSignal(x, beat, twin, onsets, hr, dipole.qt_ms(patient, rr), quality)


@functools.cache
def _fir(factor: int) -> np.ndarray:
    """The anti-aliasing filter ``resample_poly`` designs by default, computed once."""
    return sps.firwin(2 * 10 * factor + 1, 1.0 / factor, window=("kaiser", 5.0))


def decimate(x: np.ndarray, factor: int = FS_HR // FS_LR) -> np.ndarray:
    """Anti-aliased polyphase decimation; output samples touching a NaN input stay NaN."""
    nan = np.isnan(x)
    y = sps.resample_poly(np.where(nan, 0.0, x), 1, factor, axis=-1, window=_fir(factor))
    if nan.any():
        blocks = nan[..., : y.shape[-1] * factor].reshape(*x.shape[:-1], -1, factor).any(-1)
        y[blocks] = np.nan
    return y


# ----------------------------------------------------------------------------------------------
# WFDB output


def write_wfdb(base: Path, x_mv: np.ndarray, fs: float) -> None:
    """Write ``x_mv`` (12, T) as WFDB record ``base`` (.hea + .dat, fmt 16, gain 1000/mV).

    Byte-identical to ``wfdb.wrsamp(name, fs, ['mV']*12, LEADS, p_signal=x.T, fmt=['16']*12,
    adc_gain=[1000.0]*12, baseline=[0]*12)``; NaN is written as the invalid sample -32768.
    """
    base.parent.mkdir(parents=True, exist_ok=True)
    d = np.round(np.clip(x_mv * ADC_GAIN, -32767, 32767))
    d = np.where(np.isnan(x_mv), -32768, d).astype(np.int64)
    base.with_suffix(".dat").write_bytes(d.T.astype("<i2").tobytes())
    name = base.name
    lines = [f"{name} {len(LEADS)} {fs:g} {d.shape[1]}"]
    for lead, row in zip(LEADS, d):
        lines.append(
            f"{name}.dat 16 {ADC_GAIN}(0)/mV 16 0 {int(row[0])} {int(row.sum() % 65536)} 0 {lead}"
        )
    base.with_suffix(".hea").write_text("\n".join(lines) + "\n")


def record_paths(ecg_id: int) -> tuple[str, str]:
    """PTB-XL ``filename_lr``, ``filename_hr`` for an ecg_id."""
    folder = f"{(ecg_id // 1000) * 1000:05d}"
    return (f"records100/{folder}/{ecg_id:05d}_lr", f"records500/{folder}/{ecg_id:05d}_hr")


# ----------------------------------------------------------------------------------------------
# Ground truth


def _window_grid() -> np.ndarray:
    return np.arange(0.0, WINDOW_MS, 1000.0 / FS_HR)


def _view(beat: dipole.Beat, modality: str) -> np.ndarray:
    """The noise-free beat as an annotated modality sees it: 12 leads, or the 3D heart dipole."""
    t = _window_grid()
    return dipole.beat_leads(beat, t) if modality == "ecg12" else dipole.beat_dipole(beat, t)


def _peak(x: np.ndarray, modality: str) -> float:
    """Peak amplitude of a view: max |lead| for ecg12, max dipole norm for cineecg."""
    return float(np.abs(x).max() if modality == "ecg12" else np.linalg.norm(x, axis=0).max())


def _change(x: np.ndarray, x0: np.ndarray, modality: str) -> np.ndarray:
    """Change relative to x's peak: per cell (12, T) for ecg12, of the vector (1, T) for cineecg."""
    if modality == "ecg12":
        return np.abs(x - x0) / _peak(x, modality)
    return np.linalg.norm(x - x0, axis=0, keepdims=True) / _peak(x, modality)


def abnormal_truth(
    beat: dipole.Beat, twin: dipole.Beat, threshold: float, modality: str = "ecg12"
) -> np.ndarray:
    """Cells where the change from the normal twin exceeds threshold x the beat's peak:
    (12, 200) leads x time for ecg12, (1, 200) time for cineecg (norm of the dipole change)."""
    return _change(_view(beat, modality), _view(twin, modality), modality) > threshold


#: Values of ``truth_normal_rule`` (see the module docstring and docs/truth.md).
NORMAL_RULES = ("normal_spread", "beat_peak")
#: Patients of the normal population whose spread scales a normal case's evidence.
SPREAD_PATIENTS = 200
#: Added to the spread (mV): a change below the recording noise is no evidence anywhere.
SPREAD_FLOOR_MV = 0.02


def population_spread(cfg: dict[str, Any], seed: int, modality: str) -> np.ndarray:
    """Standard deviation of the noise-free normal beat across :data:`SPREAD_PATIENTS` patients
    with their normal variants (own random streams, no record of the cohort): ``(12, 200)``
    per lead and time for ecg12, ``(1, 200)`` (root of the summed variances of the dipole
    components) for cineecg."""
    views = []
    for p in range(SPREAD_PATIENTS):
        patient = dipole.draw_patient(_rng(seed, _STREAM_SPREAD, p))
        variants = dipole.draw_variants(
            _rng(seed, _STREAM_SPREAD_VARIANTS, p), cfg["normal_variants"]
        )
        beat = dipole.normal_beat(patient, 60000.0 / patient.heart_rate)
        views.append(_view(dipole.apply_variants(beat, variants), modality))
    var = np.var(np.stack(views), axis=0)
    return np.sqrt(var if modality == "ecg12" else var.sum(axis=0, keepdims=True))


def normal_truth(
    beat: dipole.Beat,
    families: list[str],
    reference_severity: float,
    threshold: float,
    max_coverage: float,
    modality: str = "ecg12",
    spread: np.ndarray | None = None,
) -> np.ndarray:
    """Evidence of normality: where the cohort's families would show (see module doc).

    Candidate cells: a family at ``reference_severity`` changes the beat there by more than
    ``threshold`` x the changed beat's peak.  ``spread`` (the ``normal_spread`` rule): the cells
    are ranked by the family change over the normal population's spread there
    (:func:`population_spread` + :data:`SPREAD_FLOOR_MV`), so a change counts where it would
    stand out from normal variation, not where the beat is large; ``None`` (``beat_peak``, the
    earlier rule): ranked by the visibility score itself.  At most ``max_coverage`` of the cells
    are kept (the highest ranked).
    """
    x0 = _view(beat, modality)
    visible = np.zeros((12 if modality == "ecg12" else 1, x0.shape[-1]))
    rank = np.zeros_like(visible)
    for family in families:
        x = _view(dipole.apply_family(beat, family, reference_severity), modality)
        visible = np.maximum(visible, _change(x, x0, modality))
        if spread is not None:
            change = _change(x, x0, modality) * _peak(x, modality)
            rank = np.maximum(rank, change / (spread + SPREAD_FLOOR_MV))
    if spread is None:
        cut = max(threshold, float(np.quantile(visible, 1.0 - max_coverage)))
        return visible > cut
    candidate = visible > threshold
    rank = np.where(candidate, rank, 0.0)
    return candidate & (rank > float(np.quantile(rank, 1.0 - max_coverage)))


def _min_length(start: float, end: float) -> float:
    return MIN_QRS_MS if (start + end) / 2 < QRS_REGION_MS else MIN_REST_MS


def _merge(segments: list[tuple[float, float]], gap: float) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for s, e in sorted(segments):
        if out and s - out[-1][1] <= gap:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def mask_to_segments(mask: np.ndarray, merge_gap_ms: float) -> list[tuple[float, float]]:
    """Protocol segments (ms) from a boolean cell mask over the 0-400 ms window."""
    step = 1000.0 / FS_HR
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    runs = [(a * step, b * step) for a, b in zip(edges[::2], edges[1::2])]
    widened = []
    for s, e in _merge(runs, merge_gap_ms):
        need = _min_length(s, e) - (e - s)
        if need > 0:
            s, e = s - need / 2, e + need / 2
            shift = max(0.0, -s) - max(0.0, e - WINDOW_MS)
            s, e = s + shift, e + shift
        widened.append((s, e))
    return _merge(widened, 0.0)


def annotation_rows(
    case_id: int, masks: dict[str, np.ndarray], diagnosis: str, merge_gap_ms: float
) -> list[dict[str, Any]]:
    """ecg12 rows per lead and cineecg rows (whole trajectory, lead ``*``) for one case."""
    rows = [
        ("ecg12", lead, s, e)
        for lead, lead_mask in zip(LEADS, masks["ecg12"])
        for s, e in mask_to_segments(lead_mask, merge_gap_ms)
    ]
    rows += [("cineecg", "*", s, e) for s, e in mask_to_segments(masks["cineecg"][0], merge_gap_ms)]
    return [
        {
            "case_id": case_id,
            "annotator": ANNOTATOR,
            "modality": m,
            "lead": lead,
            "start_ms": round(s, 3),
            "end_ms": round(e, 3),
            "kind": "segment",
            "diagnosis": diagnosis,
        }
        for m, lead, s, e in rows
    ]


# ----------------------------------------------------------------------------------------------
# Tables


def _likelihood(severity: float) -> float:
    return 50.0 if severity < 0.3 else 80.0 if severity < 0.55 else 100.0


def scp_codes(family: str, severity: float) -> dict[str, float]:
    """PTB-XL statements of a record (normal: NORM with likelihood 100)."""
    if family == "normal":
        return {"NORM": 100.0, "SR": 0.0}
    return dipole.FAMILIES[family].scp_codes(severity, _likelihood(severity))


def scp_statements_table() -> pd.DataFrame:
    """``scp_statements.csv`` content for every statement the generator uses."""
    rows = []
    for code, (desc, kind, cls, sub) in SCP_STATEMENTS.items():
        rows.append(
            {
                "": code,
                "description": desc,
                "diagnostic": 1.0 if kind == "diagnostic" else np.nan,
                "form": 1.0 if kind == "form" else np.nan,
                "rhythm": 1.0 if kind == "rhythm" else np.nan,
                "diagnostic_class": cls,
                "diagnostic_subclass": sub,
            }
        )
    return pd.DataFrame(rows).set_index("")


def _database_row(spec: RecordSpec, patient: dipole.Patient, rec: RecordSignal) -> dict[str, Any]:
    lr, hr = record_paths(spec.ecg_id)
    return {
        "ecg_id": spec.ecg_id,
        "patient_id": float(spec.patient + 1),
        "age": float(patient.age),
        "sex": patient.sex,
        "scp_codes": str(scp_codes(spec.family, spec.severity)),
        "validated_by_human": spec.validated,
        **rec.quality,
        "extra_beats": np.nan,
        "pacemaker": np.nan,
        "strat_fold": spec.strat_fold,
        "filename_lr": lr,
        "filename_hr": hr,
    }


def _truth_row(spec: RecordSpec, patient: dipole.Patient, rec: RecordSignal) -> dict[str, Any]:
    return {
        "ecg_id": spec.ecg_id,
        "patient_id": spec.patient + 1,
        "family": spec.family,
        "signs": ";".join(spec.signs),
        "variants": ";".join(f"{name}:{sev:g}" for name, sev in spec.variants),
        "severity": round(spec.severity, 4),
        "cohort": spec.cohort,
        "label": int(spec.family != "normal"),
        "defect": spec.defect_reason,
        "heart_rate": round(rec.heart_rate, 2),
        "qrs_ms": round(patient.qrs_ms, 2),
        "qt_ms": round(rec.qt_ms, 2),
        "qrs_onset_ms": round(float(rec.onsets_ms[0]), 3) if len(rec.onsets_ms) else np.nan,
        "qrs_onsets_ms": ";".join(f"{t:.3f}" for t in rec.onsets_ms),
        **_wave_columns(rec),
    }


#: Wave-boundary columns of ``synthetic_truth.csv`` (first beat; ms from the record start).
WAVE_COLUMNS = ("p_on_ms", "p_off_ms", "qrs_on_ms", "qrs_off_ms", "t_on_ms", "t_off_ms", "rr_ms")


def _wave_columns(rec: RecordSignal) -> dict[str, float]:
    """The first beat's wave boundaries (ms from the record start) and its RR interval."""
    if rec.beat is None or not len(rec.onsets_ms):
        return dict.fromkeys(WAVE_COLUMNS, np.nan)
    onset = float(rec.onsets_ms[0])
    bounds = dipole.wave_boundaries(rec.beat)
    rr = np.diff(rec.onsets_ms[:2])
    return {
        **{f"{k}_ms": round(onset + v, 3) for k, v in bounds.items()},
        "rr_ms": round(float(rr[0]) if len(rr) else 60000.0 / rec.heart_rate, 3),
    }


@contextlib.contextmanager
def _atomic_dir(out_dir: Path) -> Iterator[Path]:
    """Yield a temporary sibling directory; on success it replaces ``out_dir``."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    try:
        yield tmp
        tmp.chmod(0o755)
        if out_dir.exists():
            old = Path(
                tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".old", dir=out_dir.parent)
            )
            os.replace(out_dir, old / "x")
            os.replace(tmp, out_dir)
            shutil.rmtree(old)
        else:
            os.replace(tmp, out_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def generate(
    *, out_dir: str | Path, cfg: dict[str, Any], seed: int, n_records_target: int | None = None
) -> None:
    """Write the synthetic PTB-XL (see module docstring) to ``out_dir``, atomically.

    ``n_records_target`` (benchmarks): generate development patients until exactly this many
    development records exist, instead of ``n_patients`` patients.
    """
    cfg = resolve_config(cfg)
    patients, specs = plan_cohort(cfg, seed, n_records_target)
    log.info(
        "synthetic PTB-XL: %d records from %d patients (seed %d)", len(specs), len(patients), seed
    )
    db_rows, truth_rows, ann_rows = [], [], []
    spreads = (
        {m: population_spread(cfg, seed, m) for m in ("ecg12", "cineecg")}
        if cfg["truth_normal_rule"] == "normal_spread"
        else None
    )
    with _atomic_dir(Path(out_dir)) as tmp:
        for spec in tqdm(specs, desc="synthetic records", unit="rec", mininterval=2.0):
            patient = patients[spec.patient]
            rec = synthesize(spec, patient, cfg, seed)
            lr, hr = record_paths(spec.ecg_id)
            write_wfdb(tmp / hr, rec.x, FS_HR)
            write_wfdb(tmp / lr, decimate(rec.x), FS_LR)
            db_rows.append(_database_row(spec, patient, rec))
            truth_rows.append(_truth_row(spec, patient, rec))
            if spec.cohort == "evaluation":
                rows = _case_annotations(spec, rec, cfg, spreads)
                ann_rows += rows + second_rater_rows(rows, seed, spec.ecg_id)
        pd.DataFrame(db_rows).to_csv(tmp / "ptbxl_database.csv", index=False)
        scp_statements_table().to_csv(tmp / "scp_statements.csv")
        pd.DataFrame(truth_rows).to_csv(tmp / "synthetic_truth.csv", index=False)
        pd.DataFrame(ann_rows, columns=list(ANNOTATION_COLUMNS)).to_csv(
            tmp / "annotations.csv", index=False
        )
        counts = pd.DataFrame(truth_rows).groupby(["cohort", "family"]).size()
        write_json(
            {
                "seed": seed,
                "config": cfg,
                "n_records_target": n_records_target,
                "counts": {f"{c}/{f}": int(v) for (c, f), v in counts.items()},
                "versions": package_versions(),
            },
            tmp / "generator.json",
        )


def _protocol_segment(start: float, end: float) -> tuple[float, float]:
    """Clip to the window and widen to the protocol minimum, kept inside the window."""
    start, end = max(0.0, min(start, end)), min(WINDOW_MS, max(start, end))
    need = _min_length(start, end) - (end - start)
    if need > 0:
        start, end = start - need / 2, end + need / 2
        shift = max(0.0, -start) - max(0.0, end - WINDOW_MS)
        start, end = start + shift, end + shift
    return start, end


def second_rater_rows(rows: list[dict[str, Any]], seed: int, case_id: int) -> list[dict[str, Any]]:
    """The second synthetic annotator's rows for one case (see :data:`RATER2`), seeded per case."""
    rng = _rng(seed, _STREAM_RATER2, case_id)
    leads = sorted({r["lead"] for r in rows if r["modality"] == "ecg12"}, key=LEADS.index)
    missed = None
    if len(leads) > 1 and rng.random() < RATER2_MISS_P:
        missed = leads[int(rng.integers(len(leads)))]
    out = []
    for r in rows:
        if r["modality"] == "ecg12" and r["lead"] == missed:
            continue
        s, e = _protocol_segment(
            *(r[k] + rng.normal(0.0, RATER2_JITTER_MS) for k in ("start_ms", "end_ms"))
        )
        out.append({**r, "annotator": RATER2, "start_ms": round(s, 3), "end_ms": round(e, 3)})
    if rows and rng.random() < RATER2_EXTRA_P:
        width = rng.uniform(30.0, 60.0)
        start = rng.uniform(0.0, WINDOW_MS - width)
        s, e = _protocol_segment(start, start + width)
        lead = LEADS[int(rng.integers(len(LEADS)))]
        extra = {**rows[0], "modality": "ecg12", "lead": lead, "kind": "segment"}
        out.append({**extra, "annotator": RATER2, "start_ms": round(s, 3), "end_ms": round(e, 3)})
    return out


def _case_annotations(
    spec: RecordSpec,
    rec: RecordSignal,
    cfg: dict[str, Any],
    spreads: dict[str, np.ndarray] | None = None,
) -> list[dict[str, Any]]:
    """Annotation rows of one evaluation case; an empty truth is an error naming the case.

    ``spreads``: the normal population's spread per modality (``normal_spread`` rule), or None.
    """
    assert rec.beat is not None and rec.twin is not None
    if spec.family == "normal":
        masks = {
            m: normal_truth(
                rec.beat,
                list(cfg["families"]),
                cfg["truth_reference_severity"],
                cfg["truth_threshold"],
                cfg["truth_normal_max_coverage"],
                m,
                spreads[m] if spreads else None,
            )
            for m in ("ecg12", "cineecg")
        }
        diagnosis = "normal"
    else:
        masks = {
            m: abnormal_truth(rec.beat, rec.twin, cfg["truth_threshold"], m)
            for m in ("ecg12", "cineecg")
        }
        diagnosis = "abnormal"
    if not all(mask.any() for mask in masks.values()):
        raise RuntimeError(
            f"evaluation case {spec.ecg_id} ({spec.family}, severity "
            f"{spec.severity:.2f}) has no truth above truth_threshold="
            f"{cfg['truth_threshold']}; raise evaluation_severity"
        )
    return annotation_rows(spec.ecg_id, masks, diagnosis, cfg["truth_merge_gap_ms"])
