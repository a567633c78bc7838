"""The fit stage reads the training split only and rejects bad K and models by name."""

from __future__ import annotations

import numpy as np
import pytest

from cinexai.clusters.store import load_state
from cinexai.config import ConfigError
from cinexai.io import read_signals, read_table, write_signals
from cinexai.models.checkpoint import save_model
from cinexai.models.resnet import ResNet1d


def test_fit_uses_training_ids_only(cluster_problem, fit_state, tmp_path) -> None:
    out = tmp_path / "a" / "state.npz"
    fit_state(out, 3, "latent_clusters_k3")
    state, _ = load_state(out)
    rec = read_table(cluster_problem.records)
    train = np.sort(rec.loc[rec["split"] == "train", "ecg_id"].to_numpy())
    assert np.array_equal(state.train_ids, train)
    assert state.meta["n_train_windows"] == len(train) and state.meta["n_clusters"] == 3
    # every non-training window replaced by NaN: the fit cannot see them, so nothing changes
    sig = read_signals(cluster_problem.signals)
    poisoned = sig.X.copy()
    poisoned[~np.isin(sig.ids, train)] = np.nan
    other = tmp_path / "poisoned.parquet"
    write_signals(other, sig.ids, poisoned, sig.channels, fs=sig.fs)
    out2 = tmp_path / "b" / "state.npz"
    fit_state(out2, 3, "latent_clusters_k3", signals=other)
    again, _ = load_state(out2)
    assert np.array_equal(again.clusterer.means, state.clusterer.means)
    assert np.array_equal(again.forest.threshold, state.forest.threshold)


def test_k_above_the_training_timestamps_is_rejected_by_name(
    cluster_problem, fit_state, tmp_path
) -> None:
    with pytest.raises(ConfigError, match=r"methods\.latent_clusters_huge\.n_clusters.*exceed"):
        fit_state(tmp_path / "s.npz", 10**6, "latent_clusters_huge")


def test_model_without_residual_blocks_is_rejected_by_name(
    cluster_problem, fit_state, tmp_path
) -> None:
    flat = ResNet1d(12, 200, depth=0, width=8, kernel_size=5)
    path = tmp_path / "flat.pt"
    save_model(
        flat,
        path,
        flat.arch,
        "ecg12",
        [str(c) for c in read_signals(cluster_problem.signals).channels],
    )
    with pytest.raises(ConfigError, match=r"methods\.latent_clusters_k4"):
        fit_state(tmp_path / "s.npz", 4, "latent_clusters_k4", model=path)
    assert not (tmp_path / "s.npz").exists()
