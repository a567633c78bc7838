"""Eq. 2 on hand-computed examples and the source=mapped file."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from cinexai.attribution.mapping import long_table, map_file, map_phi
from cinexai.io import read_metadata, read_table, write_table
from cinexai.leads import LEADS


def test_map_phi_hand_computed() -> None:
    phi = np.zeros((2, 12, 3))
    phi[0, 0] = [1.0, -1.0, 0.5]  # lead sums: [1 + 1, -1 - 3, 0.5 + 0] = [2, -4, 0.5]
    phi[0, 7] = [1.0, -3.0, 0.0]
    phi[1, 11] = [0.0, 0.25, -0.5]  # sums [0, 0.25, -0.5] -> max |.| = 0.5
    out = map_phi(phi)
    np.testing.assert_allclose(out[0], [0.5, -1.0, 0.125])
    np.testing.assert_allclose(out[1], [0.0, 0.5, -1.0])


def test_map_phi_cancelling_leads_give_zeros_and_a_log(caplog: pytest.LogCaptureFixture) -> None:
    phi = np.zeros((2, 12, 4))
    phi[0, 0], phi[0, 1] = 1.0, -1.0  # leads cancel: the sum is zero everywhere
    phi[1, 2] = 2.0
    with caplog.at_level(logging.WARNING):
        out = map_phi(phi, case_ids=[41, 42])
    np.testing.assert_array_equal(out[0], 0.0)
    np.testing.assert_array_equal(out[1], 1.0)
    assert "case 41" in caplog.text and "case 42" not in caplog.text


def test_map_phi_rejects_non_12_lead() -> None:
    with pytest.raises(ValueError, match=r"\(N, 12, T\)"):
        map_phi(np.zeros((1, 3, 5)))


def _ecg12_file(path: Path, phi: np.ndarray, ids: list[int]) -> None:
    t = np.arange(phi.shape[2])
    write_table(
        long_table(np.array(ids), LEADS, t, t * 2.0, phi),
        path,
        {"source": "ecg12", "method": "integrated_gradients", "seed": 3},
    )


def test_map_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    phi = rng.normal(size=(2, 12, 5))
    src = tmp_path / "source=ecg12" / "method=ig" / "part-0.parquet"
    out = tmp_path / "source=mapped" / "method=ig" / "part-0.parquet"
    _ecg12_file(src, phi, [9, 3])
    map_file(ecg12_attr=src, out=out)
    df = read_table(out)
    assert list(df.columns) == ["case_id", "channel", "t", "time_ms", "phi"]
    assert set(df["channel"]) == {"x", "y", "z"} and len(df) == 2 * 3 * 5
    expected = phi.sum(1) / np.abs(phi.sum(1)).max(1, keepdims=True)
    for k, case in enumerate([9, 3]):
        for ch in "xyz":
            rows = df[(df.case_id == case) & (df.channel == ch)].sort_values("t")
            np.testing.assert_allclose(rows["phi"], expected[k], rtol=1e-6)
            np.testing.assert_allclose(rows["time_ms"], np.arange(5) * 2.0)
    meta = read_metadata(out)
    assert meta["source"] == "mapped" and meta["method"] == "integrated_gradients"
    assert meta["seed"] == 3 and "Eq. 2" in meta["mapping"] and meta["mapping_zero_cases"] == []


def test_map_file_missing_lead_names_case_and_writes_nothing(tmp_path: Path) -> None:
    src, out = tmp_path / "in.parquet", tmp_path / "out" / "part-0.parquet"
    _ecg12_file(src, np.ones((2, 12, 4)), [5, 6])
    df = read_table(src)
    write_table(df[~((df.case_id == 6) & (df.channel == "V4"))], src, read_metadata(src))
    with pytest.raises(ValueError, match=r"case 6 .*missing leads: \['V4'\]"):
        map_file(ecg12_attr=src, out=out)
    assert not out.exists()


def test_map_file_rejects_other_sources(tmp_path: Path) -> None:
    src = tmp_path / "in.parquet"
    t = np.arange(4)
    write_table(
        long_table(np.array([1]), ["x", "y", "z"], t, t * 2.0, np.ones((1, 3, 4))),
        src,
        {"source": "cineecg"},
    )
    with pytest.raises(ValueError, match="source=ecg12"):
        map_file(ecg12_attr=src, out=tmp_path / "out.parquet")
