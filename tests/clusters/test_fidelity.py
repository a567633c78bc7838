"""Fidelity checks on the test split: agreement, accuracy, AUROC, landmark AMI, contingency."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from cinexai.clusters.fidelity import fidelity


def test_fidelity_on_the_test_split(cluster_problem, cluster_cfg, fit_state, tmp_path) -> None:
    state = tmp_path / "state.npz"
    fit_state(state, 3, "latent_clusters_k3")
    result, table = tmp_path / "fidelity.json", tmp_path / "contingency.csv"
    fidelity(
        signals=cluster_problem.signals,
        records=cluster_problem.records,
        model=cluster_problem.model,
        state=state,
        truth=cluster_problem.truth,
        out_json=result,
        out_contingency=table,
        modality="ecg12",
        clusters_cfg=cluster_cfg,
    )
    r = json.loads(result.read_text())
    assert r["n_test"] == 16 and r["n_clusters"] == 3
    for key in ("agreement", "forest_accuracy", "cnn_accuracy", "forest_auroc", "cnn_auroc"):
        assert 0.0 <= r[key] <= 1.0, key
    assert -1.0 <= r["landmark_ami"] <= 1.0 and 0 <= r["mean_uncertainty"] <= 1
    counts = pd.read_csv(table)
    assert counts["count"].sum() == 16 * 200


def test_fidelity_without_truth_reports_no_ami(
    cluster_problem, cluster_cfg, fit_state, tmp_path
) -> None:
    state = tmp_path / "state.npz"
    fit_state(state, 2, "k2")
    result = tmp_path / "f.json"
    fidelity(
        signals=cluster_problem.signals,
        records=cluster_problem.records,
        model=cluster_problem.model,
        state=state,
        truth=None,
        out_json=result,
        out_contingency=tmp_path / "c.csv",
        modality="ecg12",
        clusters_cfg=cluster_cfg,
    )
    r = json.loads(result.read_text())
    assert r["landmark_ami"] is None and "no wave-boundary truth" in r["landmark_note"]
    assert np.isfinite(r["agreement"])
