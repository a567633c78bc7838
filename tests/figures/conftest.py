"""Fixtures for the figure tests: heart meshes and a miniature results tree."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from figure_data import CASE, FS, T, make_mask, make_phi, make_trajectory, make_window

from cinexai.cineecg.geometry import BiventricularModel
from cinexai.io import write_signals, write_table
from cinexai.leads import CINE_CHANNELS, LEADS


@pytest.fixture(scope="session")
def meshes() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    model = BiventricularModel()
    return {part: model.surface_mesh(part, resolution=16) for part in ("lv", "rv")}


@pytest.fixture
def results(tmp_path: Path) -> dict[str, Path]:
    """A miniature results tree in the architecture's layout for two cases (one normal)."""
    cases = [CASE, 7]
    window = make_window()
    X = np.stack([window, -0.6 * window])
    traj = np.stack([make_trajectory(), 0.8 * make_trajectory()])
    paths = {
        "windows": tmp_path / "data/windows.parquet",
        "cineecg": tmp_path / "data/cineecg.parquet",
        "masks": tmp_path / "data/masks.parquet",
        "attributions": tmp_path / "attributions",
        "scores": tmp_path / "scores",
        "predictions": [
            tmp_path / f"models/{m}/{a}/predictions.parquet"
            for m in ("ecg12", "cineecg")
            for a in ("resnet", "imn")
        ],
    }
    write_signals(paths["windows"], cases, X, LEADS, FS)
    write_signals(paths["cineecg"], cases, traj, CINE_CHANNELS, FS)
    t = np.arange(T, dtype=np.int16)
    mask_rows, attr = [], {"ecg12": [], "cineecg": [], "mapped": []}
    for k, (case, diagnosis) in enumerate(zip(cases, ("abnormal", "normal"))):
        for lead, m in make_mask().items():
            mask_rows.append(
                pd.DataFrame(
                    {
                        "case_id": case,
                        "modality": "ecg12",
                        "channel": lead,
                        "t": t,
                        "mask": m,
                        "diagnosis": diagnosis,
                    }
                )
            )
        for ch in CINE_CHANNELS:
            mask_rows.append(
                pd.DataFrame(
                    {
                        "case_id": case,
                        "modality": "cineecg",
                        "channel": ch,
                        "t": t,
                        "mask": make_mask()["I"],
                        "diagnosis": diagnosis,
                    }
                )
            )
        phi12 = make_phi(X[k], seed=k)
        phicine = make_phi(traj[k] / 20, seed=10 + k)
        summed = phi12.sum(0)
        mapped = np.repeat((summed / np.abs(summed).max())[None], 3, 0)
        for source, phi, chans in (
            ("ecg12", phi12, LEADS),
            ("cineecg", phicine, CINE_CHANNELS),
            ("mapped", mapped, CINE_CHANNELS),
        ):
            for c, ch in enumerate(chans):
                attr[source].append(
                    pd.DataFrame(
                        {
                            "case_id": np.int64(case),
                            "channel": ch,
                            "t": t,
                            "time_ms": (t * 2).astype(np.float32),
                            "phi": phi[c].astype(np.float32),
                        }
                    )
                )
    write_table(pd.concat(mask_rows, ignore_index=True), paths["masks"])
    method = "integrated_gradients_normal_ref"
    # the figure method on the ResNet, the IMN's intrinsic map (here: the same maps, negated)
    for arch, m, sign in (("resnet", method, 1.0), ("imn", "imn_weights", -1.0)):
        for source, frames in attr.items():
            table = pd.concat(frames, ignore_index=True)
            table["phi"] = (sign * table["phi"]).astype(np.float32)
            write_table(
                table,
                paths["attributions"] / f"source={source}/arch={arch}/method={m}/part-0.parquet",
                {"source": source, "arch": arch, "method": m},
            )
    for path, probs in zip(paths["predictions"], ((0.99, 0.2), (0.9, 0.3), (0.8, 0.6), (0.7, 0.4))):
        write_table(
            pd.DataFrame(
                {
                    "id": np.array(cases, dtype=np.int64),
                    "split": "evaluation",
                    "label": np.array([1, 0], dtype=np.int8),
                    "prob_abnormal": np.array(probs, dtype=np.float32),
                    "pred": np.array([p >= 0.5 for p in probs], dtype=np.int8),
                }
            ),
            path,
        )
    rng = np.random.default_rng(3)
    for source, target in (("ecg12", "ecg12"), ("cineecg", "cineecg"), ("mapped", "cineecg")):
        for arch, m in (("resnet", method), ("resnet", "random"), ("imn", "imn_weights")):
            for pp in ("positive", "absolute", "scaled"):
                d = paths["scores"] / f"source={source}/arch={arch}/method={m}/postprocessing={pp}"
                dice = rng.uniform(0.2, 0.8, len(cases))
                write_table(
                    pd.DataFrame(
                        {
                            "case_id": np.array(cases, dtype=np.int64),
                            "source": source,
                            "arch": arch,
                            "method": m,
                            "postprocessing": pp,
                            "target": target,
                            "diagnosis": ["abnormal", "normal"],
                            "pred": [1, 0],
                            "agreement": True,
                            "threshold": 0.35,
                            "dice": dice,
                            "iou": dice / (2 - dice),
                            "spearman": 0.2,
                            "mask_share": 0.2,
                            "floor_dice": 0.33,
                        }
                    ),
                    d / "part-0.parquet",
                )
                thr = np.round(np.arange(0, 1.001, 0.01), 2)
                write_table(
                    pd.DataFrame(
                        {
                            "threshold": thr,
                            "mean_dice": 0.33
                            + 0.3 * np.exp(-(((thr - 0.4) / 0.2) ** 2)) * rng.uniform(0.5, 1),
                        }
                    ),
                    d / "sweep.parquet",
                )
    return paths
