"""Sign conventions of the Kors / Dower matrices and of ecg_to_vcg."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from cinexai.cineecg.constants import FORWARD_DOWER, INVERSE_DOWER, KORS
from cinexai.cineecg.vcg import ecg_to_vcg
from cinexai.leads import INDEPENDENT_LEADS, twelve_from_eight

LEFT, POSTERIOR = np.array([1.0, 0, 0]), np.array([0, 0, 1.0])
LEAD = {name: k for k, name in enumerate(INDEPENDENT_LEADS)}


def test_forward_dower_leftward_dipole_is_positive_in_i_and_v6():
    e8 = FORWARD_DOWER @ LEFT
    assert e8[LEAD["I"]] > 0 and e8[LEAD["V6"]] > 0


def test_forward_dower_posterior_dipole_is_negative_in_v1_v2():
    e8 = FORWARD_DOWER @ POSTERIOR
    assert e8[LEAD["V1"]] < 0 and e8[LEAD["V2"]] < 0


def test_pinv_forward_dower_matches_inverse_dower():
    # The published inverse Dower is the pseudo-inverse rounded to 3 decimals: 1e-3 tolerance.
    np.testing.assert_allclose(np.linalg.pinv(FORWARD_DOWER), INVERSE_DOWER, atol=1e-3)


@pytest.mark.parametrize("signs", list(itertools.product([-1.0, 1.0], repeat=3)))
def test_kors_after_forward_dower_recovers_each_axis_sign(signs):
    d = np.array(signs)
    assert np.array_equal(np.sign(KORS @ FORWARD_DOWER @ d), np.sign(d))


def test_kors_after_forward_dower_is_close_to_identity():
    # Kors is a regression on real data, not the inverse of Dower's torso model: the largest
    # discrepancy is Z picking up -0.38 Y.  Documented tolerance: operator norm of (K F - I) < 0.45.
    err = np.linalg.norm(KORS @ FORWARD_DOWER - np.eye(3), ord=2)
    assert err < 0.45


@pytest.mark.parametrize("method", ["kors", "inverse_dower"])
def test_leftward_dipole_gives_positive_x(method):
    t = np.linspace(0, 1, 50)
    dipole = LEFT[:, None] * np.sin(np.pi * t)
    vcg = ecg_to_vcg(twelve_from_eight(FORWARD_DOWER @ dipole), method)
    assert vcg.shape == (3, 50)
    assert vcg[0, 25] > 0 and abs(vcg[0, 25]) > 3 * np.abs(vcg[1:, 25]).max()


def test_ecg_to_vcg_uses_only_independent_leads_and_broadcasts():
    rng = np.random.default_rng(0)
    ecg = twelve_from_eight(rng.normal(size=(2, 4, 8, 30)))
    ecg_bad_derived = ecg.copy()
    ecg_bad_derived[..., 2:6, :] = 99.0  # III, aVR, aVL, aVF are ignored
    np.testing.assert_allclose(ecg_to_vcg(ecg), ecg_to_vcg(ecg_bad_derived))
    assert ecg_to_vcg(ecg).shape == (2, 4, 3, 30)


def test_unknown_method_is_named():
    with pytest.raises(ValueError, match="frank"):
        ecg_to_vcg(np.zeros((12, 5)), "frank")
