"""The fit stage reads the training split only and rejects bad K and models by name."""

from __future__ import annotations

import numpy as np
import pytest

from cinexai.clusters.fit import fit
from cinexai.clusters.store import load_state
from cinexai.config import ConfigError
from cinexai.io import read_signals, read_table, write_signals
from cinexai.models.checkpoint import save_model
from cinexai.models.resnet import ResNet1d


def test_fit_uses_training_ids_only(cluster_problem, cluster_cfg, tmp_path) -> None:
    out = tmp_path / "a" / "state.npz"
    fit(
        signals=cluster_problem.signals,
        records=cluster_problem.records,
        model=cluster_problem.model,
        out=out,
        n_clusters=3,
        instances=["latent_clusters_k3"],
        cfg=cluster_cfg,
        seed=0,
    )
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
    fit(
        signals=other,
        records=cluster_problem.records,
        model=cluster_problem.model,
        out=out2,
        n_clusters=3,
        instances=["latent_clusters_k3"],
        cfg=cluster_cfg,
        seed=0,
    )
    again, _ = load_state(out2)
    assert np.array_equal(again.clusterer.means, state.clusterer.means)
    assert np.array_equal(again.forest.threshold, state.forest.threshold)


def test_k_above_the_training_timestamps_is_rejected_by_name(
    cluster_problem, cluster_cfg, tmp_path
) -> None:
    with pytest.raises(ConfigError, match=r"methods\.latent_clusters_huge\.n_clusters.*exceed"):
        fit(
            signals=cluster_problem.signals,
            records=cluster_problem.records,
            model=cluster_problem.model,
            out=tmp_path / "s.npz",
            n_clusters=10**6,
            instances=["latent_clusters_huge"],
            cfg=cluster_cfg,
            seed=0,
        )


def test_model_without_residual_blocks_is_rejected_by_name(
    cluster_problem, cluster_cfg, tmp_path
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
        fit(
            signals=cluster_problem.signals,
            records=cluster_problem.records,
            model=path,
            out=tmp_path / "s.npz",
            n_clusters=4,
            instances=["latent_clusters_k4"],
            cfg=cluster_cfg,
            seed=0,
        )
    assert not (tmp_path / "s.npz").exists()
