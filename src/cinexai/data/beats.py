"""From a raw 12-lead record to one baseline-corrected 400 ms window starting at QRS onset.

Pipeline (all zero-phase, so no filter delay shifts QRS onset):

1. :func:`bandpass` -- 2nd-order Butterworth 0.5-100 Hz plus a notch at the mains frequency
   (50 Hz for PTB-XL, recorded in Germany), applied forward-backward with ``sosfiltfilt``.
   0.5 Hz removes baseline wander while keeping the ST segment (zero-phase high-pass up to
   0.67 Hz is the AHA recommendation for ST fidelity); 100 Hz keeps the diagnostic QRS band
   (notches, slurs) that a 40 Hz low-pass would round off, so the mains notch is needed.
2. :func:`detect_beats` -- a Pan-Tompkins-like detector: 5-25 Hz band, derivative, squared and
   averaged over leads, 100 ms moving average, ``scipy.signal.find_peaks`` with a refractory
   distance and a height relative to the envelope's peaks and to its noise level.  wfdb's
   XQRS and GQRS take 70-450 ms per single-lead 10 s record (``benchmarks/ingest_bench.py``),
   over the ~75 ms/record budget for all of ingestion (this whole module takes ~20 ms), and they
   use one lead only; the multi-lead envelope is robust to a lead with a small QRS.
3. :func:`median_beat` -- beats cut around the detected fiducials, aligned by cross-correlation
   of their QRS regions against a first median, then the sample-wise median (robust to ectopics
   and artefacts).  ``qrs_onset`` in records.parquet refers to the beat most like the median.
4. :func:`qrs_onset` -- on the median beat, low-passed at 40 Hz for detection only, the spatial
   velocity (root sum of squared lead derivatives) is followed back from its QRS maximum to the
   first 10 ms run below ``floor + 8 %`` of its rise; onset is that run's last sample.  On the
   synthetic cohort the median |error| against the true onset is ~1.5 ms (goal: <= 6 ms).
5. :func:`extract_window` -- per-lead isoelectric level = median of the PR segment 30-10 ms
   before onset, subtracted; the window is the median beat from onset for ``window_ms``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import signal
from scipy.ndimage import uniform_filter1d

#: Band of the signal kept in the windows (Hz).
BAND_HZ = (0.5, 100.0)
#: Band of the detection envelope (Hz): where QRS energy dominates P and T waves.
DETECTION_BAND_HZ = (5.0, 25.0)
#: Low-pass applied to the median beat before searching QRS onset (Hz).
ONSET_LOWPASS_HZ = 40.0
#: Moving-average length of the detection envelope (ms), about one QRS width.
ENVELOPE_MS = 100
#: Refractory period between beats (ms): at most 240 bpm.
REFRACTORY_MS = 250
#: Envelope peaks must exceed this fraction of the envelope's 99th percentile ...
RELATIVE_HEIGHT = 0.3
#: ... and this RMS slope across leads (mV/s) ...
MIN_SLOPE_MV_S = 3.0
#: ... and this multiple of the envelope's 10th percentile (the noise level), so that noise alone
#: gives no beats: QRS peaks are >20x the noise level in ECGs, noise peaks <2x.
NOISE_RATIO = 5.0
#: Median-beat span before the fiducial (ms): room for the onset search and the PR window.
#: After it, the span is the window length plus ``ALIGN_HALF_MS`` (onset precedes the QRS peak).
PRE_MS = 250
#: Alignment search (+/- ms) and the QRS half-width correlated for alignment (ms).
MAX_LAG_MS, ALIGN_HALF_MS = 20, 60
#: QRS onset search: how far back from the spatial-velocity maximum (ms), threshold fraction.
ONSET_SEARCH_MS, ONSET_FRACTION, QUIET_MS = 150, 0.08, 10
#: Isoelectric PR window relative to QRS onset (ms).
BASELINE_MS = (-30, -10)
#: A lead is flat if its raw peak-to-peak amplitude is below this (mV).
FLAT_PTP_MV = 0.01


class BeatError(ValueError):
    """A record cannot yield a window; the message is the exclusion reason.

    ``stage`` is ``signal`` for lead problems (NaN, flat) and ``beats`` for everything after.
    """

    def __init__(self, reason: str, stage: str = "beats") -> None:
        super().__init__(reason)
        self.stage = stage


@dataclass(frozen=True)
class BeatResult:
    """One record's window and the numbers recorded in records.parquet."""

    window: np.ndarray  # (12, T) float32, mV, baseline-corrected
    qrs_onset: int  # sample in the record: onset of the beat most like the median beat
    n_beats: int  # beats detected in the record
    heart_rate: float  # bpm from the median RR interval (nan with a single beat)


def ms(value: float, fs: float) -> int:
    """Milliseconds to samples."""
    return int(round(value * fs / 1000.0))


@lru_cache(maxsize=16)
def _sos(kind: str, fs: float, mains_hz: float | None = None) -> np.ndarray:
    """Cached second-order sections for the three filters used here."""
    if kind == "band":
        sos = signal.butter(2, BAND_HZ, btype="bandpass", fs=fs, output="sos")
        if mains_hz and mains_hz < fs / 2:
            b, a = signal.iirnotch(mains_hz, Q=30.0, fs=fs)
            sos = np.vstack([sos, signal.tf2sos(b, a)])
        return sos
    if kind == "detect":
        return signal.butter(2, DETECTION_BAND_HZ, btype="bandpass", fs=fs, output="sos")
    if kind == "onset":
        return signal.butter(2, ONSET_LOWPASS_HZ, btype="lowpass", fs=fs, output="sos")
    raise ValueError(f"unknown filter kind {kind!r}")


def check_leads(x: np.ndarray, leads: tuple[str, ...] | list[str]) -> None:
    """Raise :class:`BeatError` naming the first lead with NaN, then the first flat lead."""
    for name, lead in zip(leads, x):
        if np.isnan(lead).any():
            raise BeatError(f"nan in lead {name}", stage="signal")
    for name, lead in zip(leads, x):
        if np.ptp(lead) < FLAT_PTP_MV:
            raise BeatError(f"flat lead {name}", stage="signal")


def bandpass(x: np.ndarray, fs: float, mains_hz: float | None = 50.0) -> np.ndarray:
    """Zero-phase 0.5-100 Hz band-pass plus mains notch along the last axis."""
    return signal.sosfiltfilt(_sos("band", float(fs), mains_hz), x, axis=-1)


def detection_envelope(x: np.ndarray, fs: float) -> np.ndarray:
    """RMS-over-leads slope (mV/s) of the 5-25 Hz band, averaged over ``ENVELOPE_MS``."""
    d = np.diff(signal.sosfiltfilt(_sos("detect", float(fs)), x, axis=-1), axis=-1) * fs
    energy = np.mean(d * d, axis=0)
    return np.sqrt(uniform_filter1d(energy, size=max(ms(ENVELOPE_MS, fs), 1), mode="nearest"))


def detect_beats(x: np.ndarray, fs: float) -> np.ndarray:
    """Sample indices of QRS complexes (envelope maxima) in a filtered (12, N) record."""
    env = detection_envelope(x, fs)
    p10, p99 = np.percentile(env, [10, 99])
    height = max(RELATIVE_HEIGHT * p99, MIN_SLOPE_MV_S, NOISE_RATIO * p10)
    peaks, _ = signal.find_peaks(env, height=height, distance=max(ms(REFRACTORY_MS, fs), 1))
    return peaks


def _segments(x: np.ndarray, starts: np.ndarray, length: int) -> np.ndarray:
    """Stack x[:, s:s+length] for each start into (B, C, length)."""
    idx = starts[:, None] + np.arange(length)[None, :]
    return np.transpose(x[:, idx], (1, 0, 2))


def median_beat(
    x: np.ndarray, peaks: np.ndarray, fs: float, n_samples: int
) -> tuple[np.ndarray, int, int]:
    """Median beat of the beats whose span (room for an ``n_samples`` window) fits in the record.

    Returns ``(template (C, L), fiducial index in the template, record samples where each
    used beat's aligned span starts)``; raises :class:`BeatError` when no beat fits.
    """
    half, lag = ms(ALIGN_HALF_MS, fs), ms(MAX_LAG_MS, fs)
    pre, post = ms(PRE_MS, fs), n_samples + half
    n = x.shape[-1]
    usable = peaks[(peaks - pre - lag >= 0) & (peaks + post + lag <= n)]
    if usable.size == 0:
        raise BeatError(
            f"window past the end: no beat has {pre} samples before and {post} "
            f"after it in a {n}-sample record"
        )
    length = pre + post
    starts = usable - pre
    first = np.median(_segments(x, starts, length), axis=0)
    qrs = slice(pre - half, pre + half)
    ref = first[:, qrs]
    shifts = np.arange(-lag, lag + 1)
    scores = np.stack(
        [
            np.einsum("bct,ct->b", _segments(x, starts + s + qrs.start, 2 * half), ref)
            for s in shifts
        ],
        axis=1,
    )
    starts = starts + shifts[np.argmax(scores, axis=1)]
    return np.median(_segments(x, starts, length), axis=0), pre, starts


def representative_start(
    x: np.ndarray, starts: np.ndarray, template: np.ndarray, fiducial: int, fs: float
) -> int:
    """Span start of the beat whose QRS correlates best with the median beat's (not an ectopic
    or an artefact taken for a beat)."""
    half = ms(ALIGN_HALF_MS, fs)
    qrs = _segments(x, starts + fiducial - half, 2 * half).reshape(len(starts), -1)
    ref = template[:, fiducial - half : fiducial + half].ravel()
    qrs = qrs - qrs.mean(axis=1, keepdims=True)
    ref = ref - ref.mean()
    corr = qrs @ ref / (np.linalg.norm(qrs, axis=1) * np.linalg.norm(ref) + 1e-12)
    return int(starts[np.argmax(corr)])


def qrs_onset(template: np.ndarray, fiducial: int, fs: float) -> int:
    """QRS onset (index in ``template``) from the multi-lead spatial velocity.

    The velocity maximum is searched within +/- ``ALIGN_HALF_MS`` of the fiducial; the noise floor
    is the 20th percentile of the velocity before the search window.  Going back from the maximum
    (at most ``ONSET_SEARCH_MS``), onset is the last sample of the first run of at least
    ``QUIET_MS`` below ``floor + ONSET_FRACTION * (max - floor)``: brief intra-QRS velocity dips
    (at R peaks, Q-R transitions) are shorter than that, the PR segment is longer.
    """
    smooth = signal.sosfiltfilt(_sos("onset", float(fs)), template, axis=-1)
    vel = np.sqrt(np.sum(np.gradient(smooth, axis=-1) ** 2, axis=0)) * fs
    half, search, quiet = ms(ALIGN_HALF_MS, fs), ms(ONSET_SEARCH_MS, fs), max(ms(QUIET_MS, fs), 1)
    lo = max(fiducial - half, 1)
    peak = lo + int(np.argmax(vel[lo : fiducial + half]))
    start = max(peak - search, 1)
    floor = np.percentile(vel[:start], 20)
    below = vel[start:peak] < floor + ONSET_FRACTION * (vel[peak] - floor)
    run = 0
    for k in range(below.size - 1, -1, -1):
        run = run + 1 if below[k] else 0
        if run == quiet:
            return start + k + quiet - 1
    return start + int(np.argmin(vel[start:peak]))


def isoelectric_level(template: np.ndarray, onset: int, fs: float) -> np.ndarray:
    """Per-lead median of the PR segment ``BASELINE_MS`` before onset (mV)."""
    a, b = onset + ms(BASELINE_MS[0], fs), onset + ms(BASELINE_MS[1], fs)
    return np.median(template[:, max(a, 0) : max(b, 1)], axis=-1)


def extract_window(template: np.ndarray, onset: int, n_samples: int, fs: float) -> np.ndarray:
    """Baseline-corrected (C, n_samples) float32 window from onset; BeatError if it overruns."""
    if onset + n_samples > template.shape[-1]:
        raise BeatError(
            f"window past the end: onset {onset} + {n_samples} samples > "
            f"median beat length {template.shape[-1]}"
        )
    level = isoelectric_level(template, onset, fs)
    return (template[:, onset : onset + n_samples] - level[:, None]).astype(np.float32)


def process_signal(
    x: np.ndarray,
    fs: float,
    n_samples: int,
    leads: tuple[str, ...],
    min_beats: int = 3,
    mains_hz: float | None = 50.0,
) -> BeatResult:
    """Raw (12, N) record in mV, leads in ``leads`` order -> :class:`BeatResult`.

    Raises :class:`BeatError` with the exclusion reason (NaN, flat lead, too short, beats,
    window).
    """
    check_leads(x, leads)
    if x.shape[-1] < fs:
        raise BeatError(f"record too short: {x.shape[-1]} samples < 1 s")
    filtered = bandpass(x, fs, mains_hz)
    peaks = detect_beats(filtered, fs)
    if peaks.size == 0:
        raise BeatError("no beats detected")
    if peaks.size < min_beats:
        raise BeatError(f"too few beats: {peaks.size} < {min_beats}")
    template, fiducial, starts = median_beat(filtered, peaks, fs, n_samples)
    onset = qrs_onset(template, fiducial, fs)
    window = extract_window(template, onset, n_samples, fs)
    start = representative_start(filtered, starts, template, fiducial, fs)
    rr = np.diff(peaks) / fs
    heart_rate = float(60.0 / np.median(rr)) if rr.size else float("nan")
    return BeatResult(window, start + onset, int(peaks.size), heart_rate)
