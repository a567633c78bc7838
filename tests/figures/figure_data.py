"""Small data for the figure tests: an LAFB-like beat, its attributions and masks."""

from __future__ import annotations

import numpy as np

from cinexai.cineecg.constants import FORWARD_DOWER
from cinexai.cineecg.geometry import BiventricularModel
from cinexai.leads import twelve_from_eight

FS, T = 500.0, 200
CASE = 18315


def _bump(t_ms: np.ndarray, centre: float, width: float) -> np.ndarray:
    return np.exp(-0.5 * ((t_ms - centre) / width) ** 2)


def make_vcg() -> np.ndarray:
    """(3, T) Frank-axis dipole: septal, left-superior main force (LAFB-like), terminal, T wave."""
    t_ms = np.arange(T) * 1000 / FS
    vcg = np.zeros((3, T))
    vcg += np.array([[0.3], [0.4], [-0.3]]) * _bump(t_ms, 15, 7)
    vcg += np.array([[1.2], [-1.0], [0.4]]) * _bump(t_ms, 50, 14)
    vcg += np.array([[-0.2], [-0.3], [0.3]]) * _bump(t_ms, 85, 10)
    vcg += np.array([[0.3], [0.15], [-0.15]]) * _bump(t_ms, 300, 45)
    return vcg


def make_window() -> np.ndarray:
    """(12, T) mV from the fixture dipole through the forward Dower matrix."""
    return twelve_from_eight(FORWARD_DOWER @ make_vcg()).astype(np.float32)


def make_trajectory() -> np.ndarray:
    """(3, T) mm: the dipole integrated from the model's septum point (QRS path ~60 mm, ST-T ~30 mm).

    A stand-in for the CineECG build stage, good enough to look at: speed follows |D|.
    """
    model = BiventricularModel()
    d = make_vcg() * np.array([[1.0], [1.0], [-1.0]])  # Frank Z posterior -> model z, roughly
    qrs = np.arange(T) < 60
    speed = np.linalg.norm(d, axis=0)
    gain = np.where(qrs, 60 / speed[qrs].sum(), 30 / speed[~qrs].sum())
    p = [model.p0]
    for k in range(T - 1):
        p.append(model.project(p[-1] + gain[k] * d[:, k]))
    return np.asarray(p, dtype=np.float32).T


def make_phi(window: np.ndarray, seed: int = 0) -> np.ndarray:
    """Signed attributions concentrated on 30-100 ms, noisy elsewhere."""
    rng = np.random.default_rng(seed)
    t_ms = np.arange(window.shape[-1]) * 1000 / FS
    focus = _bump(t_ms, 65, 20)
    return (window * focus * 0.5 + 0.02 * rng.standard_normal(window.shape)).astype(np.float32)


def make_mask() -> dict[str, np.ndarray]:
    t_ms = np.arange(T) * 1000 / FS
    seg = (t_ms >= 30) & (t_ms < 100)
    return {lead: seg.copy() for lead in ("I", "II", "III", "aVL", "aVF", "V5", "V6")}
