"""build(): windows.parquet -> cineecg.parquet + vcg.parquet round trip."""

from __future__ import annotations

import numpy as np
import pytest
from cineecg_beats import FS, dipole_to_ecg, normal_dipole, rbbb_dipole

from cinexai.cineecg import constants as C
from cinexai.cineecg.build import build
from cinexai.cineecg.geometry import BiventricularModel
from cinexai.cineecg.trajectory import trajectory
from cinexai.cineecg.vcg import ecg_to_vcg
from cinexai.config import defaults
from cinexai.io import read_signals, write_signals
from cinexai.leads import CINE_CHANNELS, LEADS

CFG = {"vcg": "inverse_dower", "qrs_path_mm": 50, "stt_path_mm": 25}


@pytest.fixture()
def windows(tmp_path):
    rng = np.random.default_rng(3)
    X = dipole_to_ecg(np.stack([normal_dipole(), rbbb_dipole(), 0.7 * normal_dipole()]))
    X = (X + rng.normal(0, 0.02, X.shape)).astype(np.float32)
    path = tmp_path / "windows.parquet"
    write_signals(path, [11, 7, 42], X, LEADS, FS)
    return path, X


def test_build_round_trip(tmp_path, windows):
    path, X = windows
    out_c, out_v = tmp_path / "cineecg.parquet", tmp_path / "vcg.parquet"
    build(windows=path, out_cineecg=out_c, out_vcg=out_v, cfg=CFG)
    cine, vcg = read_signals(out_c), read_signals(out_v)
    for sig, channels in ((cine, CINE_CHANNELS), (vcg, C.VCG_CHANNELS)):
        assert list(sig.ids) == [11, 7, 42]
        assert sig.channels == list(channels) and sig.fs == FS
        assert sig.X.shape == (3, 3, X.shape[-1])
    expected_vcg = ecg_to_vcg(X.astype(float), "inverse_dower")
    np.testing.assert_allclose(vcg.X, expected_vcg, atol=1e-5)
    expected = trajectory(expected_vcg, FS, qrs_path_mm=50, stt_path_mm=25)
    np.testing.assert_allclose(cine.X, expected, atol=1e-4)
    assert BiventricularModel().contains(np.moveaxis(cine.X, 1, 2)).all()
    assert cine.meta["cfg"] == {"vcg": "inverse_dower", "qrs_path_mm": 50.0, "stt_path_mm": 25.0}
    assert cine.meta["constants"]["SEPTUM_X_MM"] == C.SEPTUM_X_MM
    assert cine.meta["units"] == "mm" and vcg.meta["units"] == "mV"
    assert ((cine.frame["qrs_end"] > 0) & (cine.frame["qrs_end"] < X.shape[-1])).all()


def test_nan_window_names_the_record(tmp_path, windows):
    path, X = windows
    X = X.copy()
    X[1, 8, 50] = np.nan
    write_signals(path, [11, 7, 42], X, LEADS, FS)
    out_c = tmp_path / "cineecg.parquet"
    with pytest.raises(ValueError, match="record id 7"):
        build(windows=path, out_cineecg=out_c, out_vcg=tmp_path / "vcg.parquet", cfg=CFG)
    assert not out_c.exists()


def test_wrong_channels_and_bad_cfg_are_named(tmp_path, windows):
    path, X = windows
    with pytest.raises(ValueError, match="stt_path_mm"):
        build(
            windows=path,
            out_cineecg=tmp_path / "c.parquet",
            out_vcg=tmp_path / "v.parquet",
            cfg={**CFG, "stt_path_mm": 0},
        )
    bad = tmp_path / "bad.parquet"
    write_signals(bad, [1, 2, 3], X[:, :8], [f"L{i}" for i in range(8)], FS)
    with pytest.raises(ValueError, match="channels"):
        build(
            windows=bad, out_cineecg=tmp_path / "c.parquet", out_vcg=tmp_path / "v.parquet", cfg=CFG
        )


def test_schema_defaults_are_the_trajectory_defaults():
    assert defaults()["cineecg"] == {
        "vcg": "kors",
        "qrs_path_mm": C.QRS_PATH_MM,
        "stt_path_mm": C.STT_PATH_MM,
    }
