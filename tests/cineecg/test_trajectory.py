"""CineECG-like trajectory: sanity, physiology of synthetic beats, path lengths."""

from __future__ import annotations

import numpy as np
import pytest
from cineecg_beats import FS, dipole_to_ecg, lobe, normal_dipole

from cinexai.cineecg.geometry import BiventricularModel
from cinexai.cineecg.trajectory import baseline_correct, path_length, qrs_end, trajectory
from cinexai.cineecg.vcg import ecg_to_vcg


@pytest.fixture(scope="module")
def model() -> BiventricularModel:
    return BiventricularModel()


def _run(ecg: np.ndarray, **kw) -> tuple[np.ndarray, np.ndarray]:
    vcg = ecg_to_vcg(ecg)
    return trajectory(vcg, FS, **kw), qrs_end(baseline_correct(vcg, FS), FS)


def test_finite_inside_same_length_deterministic(model, normal_ecg, rbbb_ecg):
    rng = np.random.default_rng(0)
    ecg = np.stack([normal_ecg, rbbb_ecg]) + rng.normal(0, 0.05, size=(2, *normal_ecg.shape))
    traj, _ = _run(ecg)
    assert traj.shape == (2, 3, normal_ecg.shape[-1])
    assert np.isfinite(traj).all()
    assert model.contains(np.moveaxis(traj, -2, -1)).all()
    np.testing.assert_array_equal(traj, _run(ecg)[0])
    np.testing.assert_array_equal(traj[0, :, 0], model.p0)


def test_vectorised_equals_per_record(normal_ecg, rbbb_ecg):
    batch, _ = _run(np.stack([normal_ecg, rbbb_ecg])[None])  # (1, 2, 12, T)
    np.testing.assert_allclose(batch[0, 1], _run(rbbb_ecg)[0], atol=1e-12)


def test_normal_qrs_ends_toward_lv_free_wall(model, normal_ecg):
    traj, end = _run(normal_ecg)
    lm = model.landmarks
    terminal = traj[:, end - 1]
    assert np.linalg.norm(terminal - lm["lv_free_wall"]) < np.linalg.norm(
        lm["septum"] - lm["lv_free_wall"]
    )


def test_late_rightward_anterior_force_moves_terminal_qrs_toward_rv(model, normal_ecg, rbbb_ecg):
    rv = model.landmarks["rv_free_wall"]
    t_norm, e_norm = _run(normal_ecg)
    t_rbbb, e_rbbb = _run(rbbb_ecg)
    assert e_rbbb > e_norm  # the late force widens the detected QRS
    assert np.linalg.norm(t_rbbb[:, e_rbbb - 1] - rv) < np.linalg.norm(t_norm[:, e_norm - 1] - rv)


def test_qrs_end_is_bounded_and_tracks_the_beat(normal_ecg):
    vcg = baseline_correct(ecg_to_vcg(normal_ecg), FS)
    end = int(qrs_end(vcg, FS))
    assert 80 <= end * 1000 / FS <= 110  # QRS lobes end near 90 ms
    flat = np.zeros_like(vcg)
    flat[:, :] = lobe([1.0, 0, 0], 300, 5)  # no force in the QRS window at all
    assert 60 <= int(qrs_end(flat, FS)) * 1000 / FS <= 180


def test_path_lengths_match_targets_when_inside(model):
    # A small beat stays inside the volume: the lengths are exact.
    ecg = dipole_to_ecg(normal_dipole())
    traj, end = _run(ecg, qrs_path_mm=12.0, stt_path_mm=6.0)
    assert path_length(traj, 0, end) == pytest.approx(12.0, rel=1e-9)
    assert path_length(traj, end - 1) == pytest.approx(6.0, rel=1e-9)


def test_path_lengths_with_projection_are_at_most_the_target(normal_ecg, rbbb_ecg):
    # Projection removes the outward part of each step: the path can only get shorter.
    for ecg in (normal_ecg, rbbb_ecg):
        traj, end = _run(ecg, qrs_path_mm=60.0, stt_path_mm=30.0)
        qrs, stt = path_length(traj, 0, end), path_length(traj, end - 1)
        assert 0.8 * 60 <= qrs <= 60 + 1e-9
        assert 0.5 * 30 <= stt <= 30 + 1e-9


def test_doubling_the_path_target_moves_further(normal_ecg):
    short, end = _run(normal_ecg, qrs_path_mm=10.0)
    long, _ = _run(normal_ecg, qrs_path_mm=20.0)
    np.testing.assert_allclose(long[:, end - 1] - long[:, 0], 2 * (short[:, end - 1] - short[:, 0]))


def test_nan_vcg_is_rejected():
    vcg = np.zeros((2, 3, 50))
    vcg[1, 0, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        trajectory(vcg, FS)


def test_flat_window_stays_at_p0(model):
    traj = trajectory(np.zeros((3, 200)), FS)
    np.testing.assert_array_equal(traj, np.repeat(model.p0[:, None], 200, axis=1))
