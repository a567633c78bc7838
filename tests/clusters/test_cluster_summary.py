"""The fidelity table, the checks.json entries against the target, and the heat maps."""

from __future__ import annotations

import json

import pandas as pd

from cinexai.clusters.landmarks import WAVES
from cinexai.clusters.summary import summarise


def _result(tmp_path, modality: str, k: int, agreement: float):
    result = tmp_path / f"{modality}{k}.json"
    values = {
        "modality": modality,
        "n_clusters": k,
        "n_test": 50,
        "agreement": agreement,
        "forest_accuracy": 0.8,
        "cnn_accuracy": 0.85,
        "forest_auroc": 0.9,
        "cnn_auroc": 0.92,
        "landmark_ami": 0.4,
        "mean_uncertainty": 0.1,
    }
    result.write_text(json.dumps(values))
    table = tmp_path / f"{modality}{k}.csv"
    pd.DataFrame(
        [
            {"cluster": c, "wave": w, "count": c + 1, "mean_uncertainty": 0.1}
            for c in range(k)
            for w in WAVES
        ]
    ).to_csv(table, index=False)
    return result, table


def test_table_checks_and_heat_maps(tmp_path) -> None:
    (r1, t1), (r2, t2) = _result(tmp_path, "ecg12", 4, 0.95), _result(tmp_path, "cineecg", 8, 0.85)
    md, csv, checks = tmp_path / "t.md", tmp_path / "t.csv", tmp_path / "c.json"
    pngs = [tmp_path / "a.png", tmp_path / "b.png"]
    summarise(
        results=[r1, r2],
        contingencies=[t1, t2],
        out_md=md,
        out_csv=csv,
        out_checks=checks,
        figures=pngs,
        clusters_cfg={"agreement_target": 0.9},
    )
    text = md.read_text()
    assert "| ecg12 | 4 | 50 | 0.950 |" in text and "| cineecg | 8 | 50 | 0.850 |" in text
    entries = json.loads(checks.read_text())
    assert entries["by_model"]["ecg12_k4"]["agreement_meets_target"] is True
    assert entries["by_model"]["cineecg_k8"]["agreement_meets_target"] is False
    assert entries["all_meet_target"] is False and entries["agreement_target"] == 0.9
    assert list(pd.read_csv(csv)["modality"]) == ["cineecg", "ecg12"]
    assert all(p.stat().st_size > 0 for p in pngs)


def test_heat_maps_are_optional(tmp_path) -> None:
    r, t = _result(tmp_path, "ecg12", 4, 0.95)
    summarise(
        results=[r],
        contingencies=[t],
        out_md=tmp_path / "t.md",
        out_csv=tmp_path / "t.csv",
        out_checks=tmp_path / "c.json",
        figures=[],
        clusters_cfg={},
    )
    assert json.loads((tmp_path / "c.json").read_text())["all_meet_target"] is True
    assert not list(tmp_path.glob("*.png"))
