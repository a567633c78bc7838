"""Every constant of the open CineECG approximation, in one place.

This is *our* documented approximation of CineECG (van Dam et al. 2020), not the commercial
software: VCG by a regression matrix, one fixed rotation into the heart model's axes, an integrated
mTSI-like path constrained to a generic biventricular model built in code.  See ``docs/cineecg.md``.
Matrix rows are Frank axes X (patient's left +), Y (inferior +), Z (posterior +); columns follow
:data:`cinexai.leads.INDEPENDENT_LEADS` (I, II, V1..V6).
"""

from __future__ import annotations

import numpy as np

#: Kors regression matrix (Kors et al., Eur Heart J 1990;11:1083): e8 -> VCG.
KORS = np.array(
    [
        [0.38, -0.07, -0.13, 0.05, -0.01, 0.14, 0.06, 0.54],
        [-0.07, 0.93, 0.06, -0.02, -0.05, 0.06, -0.17, 0.13],
        [0.11, -0.23, -0.43, -0.06, -0.14, -0.20, -0.11, 0.31],
    ]
)

#: Inverse Dower (Edenbrandt & Pahlm, J Electrocardiol 1988): e8 -> VCG.
INVERSE_DOWER = np.array(
    [
        [0.156, -0.010, -0.172, -0.074, 0.122, 0.231, 0.239, 0.194],
        [-0.227, 0.887, 0.057, -0.019, -0.106, -0.022, 0.041, 0.048],
        [0.022, 0.102, -0.229, -0.310, -0.246, -0.063, 0.055, 0.108],
    ]
)

#: Forward Dower (Dower, Clin Cardiol 1980;3:87): VCG (X, Y, Z) -> e8, rows I, II, V1..V6.
FORWARD_DOWER = np.array(
    [
        [0.632, -0.235, 0.059],
        [0.235, 1.066, -0.132],
        [-0.515, 0.157, -0.917],
        [0.044, 0.164, -1.387],
        [0.882, 0.098, -1.277],
        [1.213, 0.127, -0.601],
        [1.125, 0.127, -0.086],
        [0.831, 0.076, 0.230],
    ]
)

VCG_MATRICES = {"kors": KORS, "inverse_dower": INVERSE_DOWER}

#: Frank VCG channel names (mV).
VCG_CHANNELS: tuple[str, ...] = ("X", "Y", "Z")
#: Path lengths of :func:`cinexai.cineecg.trajectory.trajectory` when called without them; the
#: pipeline passes ``config["cineecg"]``, whose schema defaults are these values (tested).
QRS_PATH_MM = 60.0
STT_PATH_MM = 30.0

# --- Frank axes -> heart-model axes --------------------------------------------------------------
# Heart-model axes (right-handed, origin at the centre of the LV ellipsoid):
#   x: septal normal, from the RV across the septum to the LV free wall (lateral);
#   y: long axis, from base to apex;
#   z: x cross y, from the anterior toward the inferior (diaphragmatic) interventricular groove.
# The long axis points 45 deg below the horizontal in the frontal plane and is tilted 30 deg
# anteriorly out of it (apex left, inferior, anterior).  The septum is seen edge-on in a
# 45 deg left-anterior-oblique (LAO) view, so its normal is perpendicular to both the long axis
# and the LAO view direction, pointing left-posterior (toward the LV).
LONG_AXIS_FRONTAL_DEG = 45.0
LONG_AXIS_ANTERIOR_TILT_DEG = 30.0
SEPTUM_LAO_VIEW_DEG = 45.0


def _frank_to_heart_rotation(frontal_deg: float, anterior_deg: float, lao_deg: float) -> np.ndarray:
    """Rotation whose rows are the heart-model axes written in Frank coordinates (X, Y, Z)."""
    f, a, v = np.deg2rad([frontal_deg, anterior_deg, lao_deg])
    long_axis = np.array([np.cos(a) * np.cos(f), np.cos(a) * np.sin(f), -np.sin(a)])
    lao_view = np.array([np.sin(v), 0.0, -np.cos(v)])  # toward the viewer: left and anterior
    septal = np.cross(lao_view, long_axis)
    septal -= septal.dot(long_axis) * long_axis
    septal /= np.linalg.norm(septal)
    if septal[0] + septal[2] < 0:  # orient toward the LV: left-posterior
        septal = -septal
    return np.stack([septal, long_axis, np.cross(septal, long_axis)])


#: D_heart = ROTATION_FRANK_TO_HEART @ D_frank (a proper rotation, det = +1).
ROTATION_FRANK_TO_HEART = _frank_to_heart_rotation(
    LONG_AXIS_FRONTAL_DEG, LONG_AXIS_ANTERIOR_TILT_DEG, SEPTUM_LAO_VIEW_DEG
)

# --- Biventricular geometry (mm, heart-model axes) -----------------------------------------------
# Outer (epicardial) ventricular volume: LV = ellipsoid cut by the base plane and the septum plane
# (LV side); RV = a second ellipsoid cut by the same base plane and the septum plane (RV side).
LV_CENTER_MM = (0.0, 0.0, 0.0)
LV_SEMI_AXES_MM = (27.0, 75.0, 27.0)
RV_CENTER_MM = (-16.0, 0.0, 0.0)
RV_SEMI_AXES_MM = (24.0, 60.0, 34.0)
#: Septum plane x = SEPTUM_X_MM (LV on the + side); base plane y = BASE_Y_MM (apex on the + side).
SEPTUM_X_MM = -10.0
BASE_Y_MM = -15.0
#: p0 (mid-septum, LV side): this far into the LV from the septum plane, at this fraction of the
#: base-to-apex distance.  Every landmark sits LANDMARK_INSET_MM inside the surface.
P0_LONG_FRACTION = 0.4
LANDMARK_INSET_MM = 5.0

# --- Trajectory ----------------------------------------------------------------------------------
#: Isoelectric level = mean VCG over this many ms from the window start (the QRS onset).
BASELINE_MS = 6.0
#: QRS end: last sample in [0, QRS_MAX_MS) whose smoothed |D| >= QRS_END_HIGH_FRACTION x peak,
#: then within QRS_END_SEARCH_MS after it the first sample with |D| <= QRS_END_LOW_FRACTION x peak
#: (else the minimum of |D| there); clipped to [QRS_MIN_MS, QRS_MAX_MS].
QRS_MIN_MS = 60.0
QRS_MAX_MS = 180.0
QRS_END_HIGH_FRACTION = 0.3
QRS_END_LOW_FRACTION = 0.1
QRS_END_SEARCH_MS = 30.0
SMOOTH_MS = 10.0
#: A segment whose integrated |D| (mV s) is below this gets gain 0 (the point stays put).
MIN_SEGMENT_INTEGRAL = 1e-6
#: Membership tolerance of the implicit ellipsoid function (dimensionless) and the planes (mm).
CONTAINS_TOL = 1e-6


def as_dict() -> dict[str, object]:
    """Every constant above as JSON-able values (recorded in the outputs' metadata)."""
    return {
        name: (value.tolist() if isinstance(value, np.ndarray) else value)
        for name, value in globals().items()
        if name.isupper() and not name.startswith("_") and name != "VCG_MATRICES"
    }
