"""Wave labels per timestamp from the truth's boundaries, and the landmark AMI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cinexai.clusters.landmarks import (
    WAVES,
    contingency,
    landmark_ami,
    read_boundaries,
    wave_labels,
)


def _bounds(n: int = 1, rr: float = 600.0) -> pd.DataFrame:
    on = 1000.0
    return pd.DataFrame(
        {
            "p_on_ms": [on - 160] * n,
            "p_off_ms": [on - 60] * n,
            "qrs_on_ms": [on] * n,
            "qrs_off_ms": [on + 90] * n,
            "t_on_ms": [on + 150] * n,
            "t_off_ms": [on + 380] * n,
            "rr_ms": [rr] * n,
        }
    )


def test_wave_labels_follow_the_cycle_from_qrs_onset() -> None:
    labels = wave_labels(_bounds(), 400, 500.0)[0]  # 800 ms: more than one cycle
    ms = np.arange(400) * 2.0
    expect = {
        0: "QRS",
        88: "QRS",
        90: "ST",
        148: "ST",
        150: "T",
        378: "T",
        380: "TP",
        438: "TP",
        440: "P",
        538: "P",
        540: "PR",
        598: "PR",
        600: "QRS",
        700: "ST",
    }
    for t, wave in expect.items():
        assert WAVES[labels[ms == t][0]] == wave, t


def test_ami_is_one_for_the_waves_and_near_zero_when_shuffled() -> None:
    waves = wave_labels(_bounds(20, rr=700.0), 200, 500.0)
    renamed = (waves * 7 + 3) % 11  # the same partition under other names
    assert landmark_ami(renamed, waves) == pytest.approx(1.0)
    shuffled = np.random.default_rng(0).permutation(renamed.ravel())
    assert abs(landmark_ami(shuffled, waves)) < 0.01
    with pytest.raises(ValueError, match="cluster labels"):
        landmark_ami(renamed[:, :10], waves)


def test_contingency_counts_every_timestamp() -> None:
    waves = wave_labels(_bounds(3), 200, 500.0)
    clusters = (waves == WAVES.index("QRS")).astype(int)
    table = contingency(clusters, waves, np.zeros_like(waves, float), 2)
    assert len(table) == 2 * len(WAVES) and table["count"].sum() == waves.size
    qrs = table[(table.cluster == 1)]
    assert qrs.set_index("wave")["count"].drop("QRS").eq(0).all()


def test_read_boundaries_names_missing_records_and_columns(tmp_path) -> None:
    path = tmp_path / "truth.csv"
    _bounds(2).assign(ecg_id=[5, 6]).to_csv(path, index=False)
    assert len(read_boundaries(path, np.array([6, 5]))) == 2
    with pytest.raises(ValueError, match="record 7"):
        read_boundaries(path, np.array([7]))
    _bounds(1).assign(ecg_id=[5]).drop(columns="t_on_ms").to_csv(path, index=False)
    with pytest.raises(ValueError, match="t_on_ms"):
        read_boundaries(path, np.array([5]))
