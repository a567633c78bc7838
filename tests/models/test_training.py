"""Final training: learns a tiny synthetic problem, writes the contract files, is reproducible."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from cinexai.config import defaults
from cinexai.io import file_sha256, read_json, read_table
from cinexai.models.checkpoint import load_model
from cinexai.models.data import Split
from cinexai.models.training import early_stopping_split, train

PARAMS = {"depth": 1, "width": 16, "kernel_size": 7, "dropout": 0.1, "lr": 3e-3, "batch_size": 16}
CFG = {
    **defaults()["models"],
    "device": "cpu",
    "max_epochs": 30,
    "patience": 8,
    "early_stopping_fraction": 0.15,
    "augment": {"time_mask": {"probability": 0.0, "width_ms": [40, 120]}},  # no augmentation
}


def _run(signals: Path, records: Path, out: Path, modality: str = "ecg12", cfg: dict = CFG) -> Path:
    train(
        signals=signals,
        records=records,
        best_params=PARAMS,
        out_model=out / "model.pt",
        out_metrics=out / "metrics.json",
        out_predictions=out / "predictions.parquet",
        modality=modality,
        cfg=cfg,
        seed=3,
        threads=1,
    )
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, make_problem) -> tuple[Path, Path, Path]:
    """Two trainings with the same seed on the same data, plus the records file."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("train")
    signals, records = make_problem(root / "data", "ecg12")
    return _run(signals, records, root / "a"), _run(signals, records, root / "b"), records


def test_trained_model_beats_chance(runs: tuple[Path, Path, Path]) -> None:
    metrics = read_json(runs[0] / "metrics.json")
    assert metrics["accuracy"] > 0.75 and metrics["auroc"] > 0.8
    assert np.asarray(metrics["confusion_matrix"]).sum() == metrics["n_per_split"]["test"]


def test_same_seed_gives_identical_predictions_and_weights(runs: tuple[Path, Path, Path]) -> None:
    a, b, _ = runs
    pd.testing.assert_frame_equal(
        read_table(a / "predictions.parquet"), read_table(b / "predictions.parquet")
    )
    sa, sb = load_model(a / "model.pt").state_dict(), load_model(b / "model.pt").state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)


def test_predictions_follow_the_contract(runs: tuple[Path, Path, Path]) -> None:
    preds = read_table(runs[0] / "predictions.parquet")
    records = read_table(runs[2])
    assert list(preds.columns) == ["id", "split", "label", "prob_abnormal", "pred"]
    assert preds["id"].dtype == np.int64 and preds["prob_abnormal"].dtype == np.float32
    assert preds["label"].dtype == np.int8 and preds["pred"].dtype == np.int8
    wanted = records[records["split"].isin(["test", "reference", "evaluation"])]
    assert sorted(preds["id"]) == sorted(wanted["ecg_id"])
    merged = preds.merge(records, left_on="id", right_on="ecg_id", suffixes=("", "_rec"))
    assert (merged["split"] == merged["split_rec"]).all()
    assert (merged["label"] == merged["label_rec"]).all()
    assert preds["prob_abnormal"].between(0, 1).all()
    assert ((preds["prob_abnormal"] > 0.5) == (preds["pred"] == 1)).all()


def test_metrics_record_provenance(runs: tuple[Path, Path, Path]) -> None:
    out = runs[0]
    metrics = read_json(out / "metrics.json")
    records = read_table(runs[2])
    n = metrics["n_per_split"]
    assert n["train_fit"] + n["early_stopping"] == (records["split"] == "train").sum()
    assert 0.08 < n["early_stopping"] / (records["split"] == "train").sum() < 0.25
    assert metrics["model_sha256"] == file_sha256(out / "model.pt")
    assert metrics["seed"] == 3 and metrics["device"] == "cpu"
    assert 1 <= metrics["best_epoch"] <= metrics["epochs"] <= CFG["max_epochs"]
    assert len(metrics["history"]) == metrics["epochs"]
    assert metrics["timings"]["seconds_per_epoch"] > 0
    assert metrics["best_params"] == PARAMS


def test_cineecg_model_trains_on_three_channels(problem) -> None:
    signals, records = problem("cineecg", n_samples=100)
    out = _run(signals, records, signals.parent / "out", "cineecg", {**CFG, "max_epochs": 2})
    model = load_model(out / "model.pt", expected_channels=3)
    assert model.arch["in_channels"] == 3 and model.arch["n_samples"] == 100
    with pytest.raises(ValueError, match="expected a model with 12"):
        load_model(out / "model.pt", expected_channels=12)


def test_early_stopping_split_is_patient_level_stratified_and_seeded() -> None:
    rng = np.random.default_rng(0)
    patients = np.repeat(np.arange(100), 2)
    labels = np.repeat(rng.integers(0, 2, 100), 2)
    split = Split(np.arange(200), patients, np.zeros((200, 1, 4), np.float32), labels)
    fit_a, held_a = early_stopping_split(split, 0.15, seed=1)
    fit_b, held_b = early_stopping_split(split, 0.15, seed=1)
    _, held_c = early_stopping_split(split, 0.15, seed=2)
    assert not set(fit_a.patients) & set(held_a.patients)
    assert len(fit_a) + len(held_a) == 200 and len(set(held_a.patients)) == 15
    assert abs(held_a.y.mean() - labels.mean()) < 0.1
    assert np.array_equal(held_a.ids, held_b.ids) and not np.array_equal(held_a.ids, held_c.ids)
