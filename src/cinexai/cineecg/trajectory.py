"""VCG to an mTSI-like trajectory inside the generic biventricular model (our approximation).

Steps (constants in :mod:`cinexai.cineecg.constants`, rationale in ``docs/cineecg.md``):

1. baseline: subtract the VCG level at the window start (= QRS onset), so D ~ 0 there;
2. frame: D_heart = ROTATION_FRANK_TO_HEART @ D_frank;
3. integrate from p0 (mid-septum, LV side): p[0] = p0, p[k] = P(p[k-1] + g_seg(k) D[k] dt), with
   one gain for the QRS samples and one for the ST-T samples chosen so that the unconstrained QRS
   path is ``qrs_path_mm`` long and the ST-T path ``stt_path_mm``; the speed is proportional to |D|;
4. P: nearest point of the ventricular volume (identity inside), so the stored path can only be
   shorter than the target.

Every trajectory sample depends on the whole VCG before it (an integral) and, through the gains and
the QRS end, on the whole window: attributions computed on the trajectory are not time-local.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy.ndimage import uniform_filter1d

from cinexai.cineecg import constants as C
from cinexai.cineecg.geometry import BiventricularModel

log = logging.getLogger(__name__)


def _samples(ms: float, fs: float) -> int:
    return max(1, int(round(ms * 1e-3 * fs)))


def baseline_correct(vcg: np.ndarray, fs: float) -> np.ndarray:
    """Subtract the mean of the first BASELINE_MS (the level at QRS onset) from each channel."""
    n = _samples(C.BASELINE_MS, fs)
    return vcg - vcg[..., :n].mean(-1, keepdims=True)


def qrs_end(vcg: np.ndarray, fs: float) -> np.ndarray:
    """First ST-T sample of each window from the (baseline-corrected) VCG magnitude, shape (...).

    |D| is smoothed over SMOOTH_MS.  Within the first QRS_MAX_MS, take the last sample whose
    magnitude is at least QRS_END_HIGH_FRACTION of the peak (the last substantial QRS force, so a
    late RBBB-like force is kept); within QRS_END_SEARCH_MS after it, the first sample below
    QRS_END_LOW_FRACTION of the peak (the J point), or failing that (ST elevation) the magnitude
    minimum there.  The result is clipped to [QRS_MIN_MS, QRS_MAX_MS] and the window.
    """
    t = vcg.shape[-1]
    n_max = min(_samples(C.QRS_MAX_MS, fs), t)
    n_min = min(_samples(C.QRS_MIN_MS, fs), n_max)
    mag = uniform_filter1d(
        np.linalg.norm(vcg, axis=-2), _samples(C.SMOOTH_MS, fs), axis=-1, mode="nearest"
    )[..., :n_max]
    peak = mag.max(-1, keepdims=True)
    high = mag >= C.QRS_END_HIGH_FRACTION * peak
    last_high = n_max - 1 - np.argmax(high[..., ::-1], axis=-1)
    idx = np.arange(n_max)
    offsets = idx - last_high[..., None]
    in_search = (offsets >= 0) & (offsets <= _samples(C.QRS_END_SEARCH_MS, fs))
    low = in_search & (mag <= C.QRS_END_LOW_FRACTION * peak)
    end = np.where(
        low.any(-1), np.argmax(low, axis=-1), np.argmin(np.where(in_search, mag, np.inf), axis=-1)
    )
    return np.clip(end, n_min, n_max).astype(np.int64)


def _segment_gains(
    speed: np.ndarray, end: np.ndarray, dt: float, qrs_path_mm: float, stt_path_mm: float
) -> tuple[np.ndarray, np.ndarray]:
    """Gains (mm per mV s) that make the unconstrained QRS and ST-T paths the target lengths.

    Step k (into sample k, k >= 1) belongs to the QRS if k < end, to the ST-T otherwise.
    """
    k = np.arange(speed.shape[-1])
    qrs = (k >= 1) & (k < end[:, None])
    stt = k >= end[:, None]
    gains = []
    for mask, length in ((qrs, qrs_path_mm), (stt, stt_path_mm)):
        integral = (speed * mask).sum(-1) * dt
        flat = integral < C.MIN_SEGMENT_INTEGRAL
        if np.any(flat & mask.any(-1)):
            log.warning(
                "%d window(s) have a flat segment (integral |D| < %g mV s): gain 0, the "
                "trajectory does not move there",
                int((flat & mask.any(-1)).sum()),
                C.MIN_SEGMENT_INTEGRAL,
            )
        gains.append(np.where(flat, 0.0, length / np.where(flat, 1.0, integral)))
    return gains[0], gains[1]


def trajectory(
    vcg: np.ndarray,
    fs: float,
    model: BiventricularModel | None = None,
    qrs_path_mm: float = C.QRS_PATH_MM,
    stt_path_mm: float = C.STT_PATH_MM,
) -> np.ndarray:
    """mTSI-like trajectory (..., 3, T) in mm, heart-model axes, from a Frank VCG (..., 3, T) in mV.

    The window must start at QRS onset.  Deterministic; vectorised over the leading dimensions.
    """
    vcg = np.asarray(vcg, dtype=float)
    if vcg.ndim < 2 or vcg.shape[-2] != 3:
        raise ValueError(f"VCG must be (..., 3, T), got {vcg.shape}")
    if not np.isfinite(vcg).all():
        raise ValueError("VCG contains NaN or infinite values")
    model = model or BiventricularModel()
    lead_shape, t = vcg.shape[:-2], vcg.shape[-1]
    d = baseline_correct(vcg.reshape(-1, 3, t), fs)
    end = qrs_end(d, fs)
    d = np.einsum("ij,njt->nit", C.ROTATION_FRANK_TO_HEART, d)
    dt = 1.0 / fs
    g_qrs, g_stt = _segment_gains(np.linalg.norm(d, axis=1), end, dt, qrs_path_mm, stt_path_mm)
    out = np.empty_like(d)
    p = np.broadcast_to(model.p0, (len(d), 3)).copy()
    out[:, :, 0] = p
    for k in range(1, t):
        gain = np.where(k < end, g_qrs, g_stt)
        p = model.project(p + (gain * dt)[:, None] * d[:, :, k])
        out[:, :, k] = p
    return out.reshape(*lead_shape, 3, t)


def path_length(
    traj: np.ndarray, start: int | np.ndarray = 0, stop: int | np.ndarray | None = None
) -> np.ndarray:
    """Length (mm) of the polyline traj[..., :, start:stop], per window (start/stop may vary)."""
    t = traj.shape[-1]
    steps = np.linalg.norm(np.diff(traj, axis=-1), axis=-2)  # step k-1 -> k stored at k-1
    k = np.arange(1, t)
    stop = t if stop is None else stop
    mask = (k >= np.asarray(start)[..., None] + 1) & (k < np.asarray(stop)[..., None])
    return (steps * mask).sum(-1)
