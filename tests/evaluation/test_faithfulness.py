"""Deletion/insertion faithfulness: oracle vs random ranking, curve ends, determinism, stage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from cinexai.evaluation.faithfulness import (
    MAPPED_REASON,
    curve_auc,
    faithfulness,
    faithfulness_arrays,
    fractions,
)
from cinexai.io import read_metadata, read_table, write_signals, write_table
from cinexai.leads import LEADS
from cinexai.models.checkpoint import save_model
from cinexai.models.resnet import ResNet1d

CPU = torch.device("cpu")
C, T, N = 3, 40, 8
CFG = {"faithfulness": {"steps": 10, "batch_size": 64, "device": "cpu"}}


class CellModel(torch.nn.Module):
    """logit_1 = alpha * sum over the cells ``used`` of (x - reference): uses exactly those cells."""

    def __init__(self, used: np.ndarray, reference: np.ndarray, alpha: float = 0.2) -> None:
        super().__init__()
        self.register_buffer("used", torch.as_tensor(used, dtype=torch.float32))
        self.register_buffer("ref", torch.as_tensor(reference, dtype=torch.float32))
        self.alpha = alpha

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.alpha * ((x - self.ref) * self.used).sum(dim=(1, 2))
        return torch.stack([torch.zeros_like(z), z], dim=1)


def _cohort(seed: int = 0):
    rng = np.random.default_rng(seed)
    reference = rng.normal(size=(C, T))
    used = np.zeros((C, T), bool)
    used[1, 10:22] = True  # the model looks at 12 of 120 cells
    abnormal = np.arange(N) % 2 == 0
    # abnormal cases deviate upwards on the used cells (p1 high), normal cases downwards
    shift = np.where(abnormal, 1.0, -1.0)[:, None, None] * used
    x = reference + shift + 0.3 * rng.normal(size=(N, C, T))
    x[:, used] = reference[used] + shift[:, used]  # the used cells carry the case's evidence
    return x, reference, used, abnormal


def _maps(kind: str, used: np.ndarray, abnormal: np.ndarray, seed: int = 1) -> np.ndarray:
    """Phi (evidence for abnormal): the oracle marks the used cells, random marks anything."""
    rng = np.random.default_rng(seed)
    if kind == "oracle":
        sign = np.where(abnormal, 1.0, -1.0)[:, None, None]
        return sign * (used + 0.01 * rng.random((N, C, T)))
    return rng.normal(size=(N, C, T))


def _run(phi, x, reference, used, abnormal, postprocessing="positive", batch_size=64, steps=10):
    model = CellModel(used, reference).eval()
    return faithfulness_arrays(
        model,
        x,
        phi,
        abnormal,
        np.arange(N),
        reference,
        postprocessing,
        steps,
        batch_size,
        0,
        CPU,
    )


@pytest.mark.parametrize("postprocessing", ["positive", "absolute", "scaled"])
def test_oracle_deletes_faster_and_inserts_faster_than_random(postprocessing):
    x, reference, used, abnormal = _cohort()
    oracle = _run(_maps("oracle", used, abnormal), x, reference, used, abnormal, postprocessing)
    random = _run(_maps("random", used, abnormal), x, reference, used, abnormal, postprocessing)
    # on every case, abnormal and normal: the model uses exactly the oracle's cells
    assert np.all(oracle["deletion_auc"] < random["deletion_auc"] - 0.1)
    assert np.all(oracle["insertion_auc"] > random["insertion_auc"] + 0.1)


def test_curve_ends_are_the_case_and_the_reference():
    x, reference, used, abnormal = _cohort()
    res = _run(_maps("random", used, abnormal), x, reference, used, abnormal)
    model = CellModel(used, reference)
    with torch.no_grad():
        p1_x = torch.softmax(model(torch.as_tensor(x, dtype=torch.float32)), 1)[:, 1].numpy()
    p_x = np.where(abnormal, p1_x, 1 - p1_x)  # probability of the expert's class
    assert res["deletion_curve"][:, 0] == pytest.approx(p_x, abs=1e-6)
    assert res["insertion_curve"][:, -1] == pytest.approx(p_x, abs=1e-6)
    assert res["deletion_curve"][:, -1] == pytest.approx(0.5, abs=1e-6)  # reference: logit 0
    assert res["insertion_curve"][:, 0] == pytest.approx(0.5, abs=1e-6)
    assert res["deletion_curve"].shape == (N, 11)
    assert res["deletion_auc"] == pytest.approx(curve_auc(res["deletion_curve"]))


def test_batching_does_not_change_the_curves_and_reruns_are_identical():
    x, reference, used, abnormal = _cohort()
    phi = _maps("random", used, abnormal)
    a = _run(phi, x, reference, used, abnormal, batch_size=7)
    b = _run(phi, x, reference, used, abnormal, batch_size=1000)
    c = _run(phi, x, reference, used, abnormal, batch_size=7)
    np.testing.assert_allclose(a["deletion_curve"], b["deletion_curve"], atol=1e-6)
    np.testing.assert_allclose(a["insertion_curve"], b["insertion_curve"], atol=1e-6)
    np.testing.assert_array_equal(a["deletion_curve"], c["deletion_curve"])


def test_constant_map_is_ranked_in_the_seeded_random_order():
    x, reference, used, abnormal = _cohort()
    zero = _run(np.zeros((N, C, T)), x, reference, used, abnormal)
    again = _run(np.zeros((N, C, T)), x, reference, used, abnormal)
    np.testing.assert_array_equal(zero["deletion_curve"], again["deletion_curve"])
    # a seeded random order neither deletes the model's cells first nor last
    oracle = _run(_maps("oracle", used, abnormal), x, reference, used, abnormal)
    assert np.all(zero["deletion_auc"] > oracle["deletion_auc"])
    assert np.all(zero["deletion_curve"][:, 5] < zero["deletion_curve"][:, 0])


def test_fractions_and_shape_errors_are_named():
    assert fractions(4).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    with pytest.raises(ValueError, match="evaluation.faithfulness.steps"):
        fractions(0)
    x, reference, used, abnormal = _cohort()
    with pytest.raises(ValueError, match="do not match the signals"):
        _run(np.zeros((N, C, T - 1)), x, reference, used, abnormal)


def _stage_files(tmp_path: Path, source: str, arch: str = "resnet") -> dict[str, Path]:
    rng = np.random.default_rng(0)
    cases, refs = np.array([11, 12, 13]), np.array([21, 22, 23, 24])
    t = 40
    ids = np.concatenate([cases, refs])
    X = rng.normal(size=(len(ids), 12, t)).astype(np.float32)
    paths = {k: tmp_path / f"{k}.parquet" for k in ("signals", "records", "attr", "masks")}
    write_signals(paths["signals"], ids, X, LEADS, 500.0)
    write_table(
        pd.DataFrame(
            {
                "ecg_id": ids,
                "split": ["evaluation"] * 3 + ["reference"] * 4,
                "included": True,
            }
        ),
        paths["records"],
    )
    channels = LEADS if source == "ecg12" else ("x", "y", "z")
    n_ch = len(channels)
    write_table(
        pd.DataFrame(
            {
                "case_id": np.repeat(cases, n_ch * t),
                "channel": np.tile(np.repeat(np.array(channels), t), 3),
                "t": np.tile(np.arange(t), 3 * n_ch),
                "phi": rng.normal(size=3 * n_ch * t).astype(np.float32),
            }
        ),
        paths["attr"],
        {"source": source, "arch": arch, "method": "ig"},
    )
    target = "ecg12" if source == "ecg12" else "cineecg"
    write_table(
        pd.DataFrame(
            {
                "case_id": np.repeat(cases, 2),
                "modality": target,
                "diagnosis": np.repeat(["abnormal", "normal", "abnormal"], 2),
                "channel": "I",
                "t": np.tile([0, 1], 3),
                "mask": True,
            }
        ),
        paths["masks"],
    )
    model = ResNet1d(in_channels=12, n_samples=t)
    paths["model"] = tmp_path / "model.pt"
    save_model(model, paths["model"], model.arch, "ecg12", LEADS)
    return paths


def test_stage_writes_auc_per_annotated_case(tmp_path):
    paths = _stage_files(tmp_path, "ecg12")
    out = tmp_path / "faithfulness.parquet"
    faithfulness(
        attributions=paths["attr"],
        masks=paths["masks"],
        out=[tmp_path / "positive.parquet", out],
        postprocessing=["positive", "absolute"],
        cfg=CFG,
        seed=0,
        signals=paths["signals"],
        records=paths["records"],
        model=paths["model"],
    )
    df = read_table(out)
    assert df["case_id"].tolist() == [11, 12, 13]
    assert df["deletion_auc"].between(0, 1).all() and df["insertion_auc"].between(0, 1).all()
    assert (df["faithfulness_reason"] == "").all() and (df["arch"] == "resnet").all()
    assert len(df["deletion_curve"].iloc[0]) == 11
    meta = read_metadata(out)
    assert meta["steps"] == 10 and set(meta["inputs_sha256"]) >= {"model", "signals", "records"}
    assert meta["postprocessing"] == "absolute" and (df.postprocessing == "absolute").all()
    positive = read_table(tmp_path / "positive.parquet")
    assert (positive.postprocessing == "positive").all()
    assert not np.allclose(positive.deletion_auc, df.deletion_auc)


def test_mapped_source_is_reported_missing_with_its_reason(tmp_path, caplog):
    paths = _stage_files(tmp_path, "mapped")
    out = tmp_path / "faithfulness.parquet"
    faithfulness(
        attributions=paths["attr"],
        masks=paths["masks"],
        out=[out],
        postprocessing=["positive"],
        cfg=CFG,
        seed=0,
    )
    df = read_table(out)
    assert len(df) == 3 and df["deletion_auc"].isna().all() and df["insertion_auc"].isna().all()
    assert (df["faithfulness_reason"] == MAPPED_REASON).all()
    assert MAPPED_REASON in caplog.text


def test_stage_without_model_names_what_it_needs(tmp_path):
    paths = _stage_files(tmp_path, "ecg12")
    with pytest.raises(ValueError, match="needs the source's signals, records and model"):
        faithfulness(
            attributions=paths["attr"],
            masks=paths["masks"],
            out=[tmp_path / "f.parquet"],
            postprocessing=["positive"],
            cfg=CFG,
            seed=0,
        )


def test_stage_refuses_a_model_of_another_architecture(tmp_path):
    """Attributions of the IMN are never measured against the ResNet's model."""
    paths = _stage_files(tmp_path, "ecg12", arch="imn")
    with pytest.raises(ValueError, match="is a 'resnet' model, not 'imn'"):
        faithfulness(
            attributions=paths["attr"],
            masks=paths["masks"],
            out=[tmp_path / "f.parquet"],
            postprocessing=["positive"],
            cfg=CFG,
            seed=0,
            signals=paths["signals"],
            records=paths["records"],
            model=paths["model"],
        )
