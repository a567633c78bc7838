"""Fixtures: a normal and an RBBB-like synthetic 12-lead beat (see cineecg_beats)."""

from __future__ import annotations

import numpy as np
import pytest
from cineecg_beats import dipole_to_ecg, normal_dipole, rbbb_dipole


@pytest.fixture()
def normal_ecg() -> np.ndarray:
    return dipole_to_ecg(normal_dipole())


@pytest.fixture()
def rbbb_ecg() -> np.ndarray:
    return dipole_to_ecg(rbbb_dipole())
