"""The standard 12-lead set, lead-name spellings, and the four limb leads derived from I and II."""

from __future__ import annotations

import numpy as np

#: PTB-XL / WFDB lead order.
LEADS: tuple[str, ...] = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
#: The 8 independent leads, the column order of the VCG matrices.
INDEPENDENT_LEADS: tuple[str, ...] = ("I", "II", "V1", "V2", "V3", "V4", "V5", "V6")
#: CineECG trajectory channels (mm, heart-model axes).
CINE_CHANNELS: tuple[str, ...] = ("x", "y", "z")

_BY_LOWER = {lead.lower(): lead for lead in LEADS}


def canonical_lead(name: object) -> str | None:
    """The :data:`LEADS` spelling of a lead name, or None for a name that is none of them.

    Case-insensitive and blank-tolerant, so PTB-XL's own header names (``AVR``, ``AVL``, ``AVF``),
    WFDB's usual ``aVR`` and lower-case ``avr`` are all ``aVR``.  The record reader and the
    annotation reader both use it.
    """
    return _BY_LOWER.get(str(name).strip().lower())


def derive_limb_leads(i: np.ndarray, ii: np.ndarray) -> dict[str, np.ndarray]:
    """III, aVR, aVL, aVF from I and II (Einthoven/Goldberger)."""
    return {"III": ii - i, "aVR": -(i + ii) / 2, "aVL": i - ii / 2, "aVF": ii - i / 2}


def twelve_from_eight(e8: np.ndarray) -> np.ndarray:
    """Expand (..., 8, T) independent leads to (..., 12, T) in :data:`LEADS` order."""
    i, ii = e8[..., 0, :], e8[..., 1, :]
    d = derive_limb_leads(i, ii)
    return np.stack(
        [i, ii, d["III"], d["aVR"], d["aVL"], d["aVF"], *[e8[..., k, :] for k in range(2, 8)]],
        axis=-2,
    )
