"""Synthetic dipole beats (Frank axes) turned into 12-lead ECGs by the forward Dower matrix."""

from __future__ import annotations

import numpy as np

from cinexai.cineecg.constants import FORWARD_DOWER
from cinexai.leads import twelve_from_eight

FS = 500.0
N_SAMPLES = 200  # 400 ms from QRS onset


def lobe(direction: list[float], centre_ms: float, width_ms: float) -> np.ndarray:
    """A Gaussian dipole lobe (3, T) along ``direction`` (Frank X left, Y inferior, Z posterior)."""
    t_ms = np.arange(N_SAMPLES) / FS * 1000
    shape = np.exp(-0.5 * ((t_ms - centre_ms) / width_ms) ** 2)
    return np.asarray(direction, float)[:, None] * shape


def normal_dipole() -> np.ndarray:
    """Septal rightward-anterior force, main leftward-posterior-inferior force, leftward T wave."""
    return (
        lobe([-0.3, 0.1, -0.3], 14, 6)
        + lobe([1.3, 0.7, 0.6], 45, 11)
        + lobe([-0.2, -0.3, 0.4], 75, 8)
        + lobe([0.35, 0.25, -0.1], 280, 45)
    )


def rbbb_dipole() -> np.ndarray:
    """The normal beat plus a late rightward-anterior QRS force."""
    return normal_dipole() + lobe([-0.9, 0.0, -0.6], 105, 14)


def dipole_to_ecg(dipole: np.ndarray) -> np.ndarray:
    """(..., 3, T) heart dipole -> (..., 12, T) ECG in LEADS order via forward Dower."""
    return twelve_from_eight(np.einsum("ij,...jt->...it", FORWARD_DOWER, dipole))
