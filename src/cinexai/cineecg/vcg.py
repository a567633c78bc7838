"""12-lead ECG to vectorcardiogram (Frank axes) by a regression matrix (Kors or inverse Dower)."""

from __future__ import annotations

import numpy as np

from cinexai.cineecg.constants import VCG_MATRICES
from cinexai.leads import INDEPENDENT_LEADS, LEADS

#: Positions of I, II, V1..V6 in the 12-lead order.
_E8_INDEX = [LEADS.index(lead) for lead in INDEPENDENT_LEADS]


def vcg_matrix(method: str) -> np.ndarray:
    """The (3, 8) matrix of ``method`` (kors | inverse_dower); ValueError names an unknown one."""
    try:
        return VCG_MATRICES[method]
    except KeyError:
        raise ValueError(
            f"unknown VCG method {method!r}; expected one of {sorted(VCG_MATRICES)}"
        ) from None


def ecg_to_vcg(ecg12: np.ndarray, method: str = "kors") -> np.ndarray:
    """VCG (..., 3, T) in Frank axes (X left, Y inferior, Z posterior) from ECG (..., 12, T).

    Only the 8 independent leads I, II, V1..V6 enter: III, aVR, aVL, aVF are combinations of I, II.
    """
    ecg12 = np.asarray(ecg12)
    if ecg12.ndim < 2 or ecg12.shape[-2] != len(LEADS):
        raise ValueError(f"ECG must be (..., {len(LEADS)}, T) in LEADS order, got {ecg12.shape}")
    return np.einsum("ij,...jt->...it", vcg_matrix(method), ecg12[..., _E8_INDEX, :])
