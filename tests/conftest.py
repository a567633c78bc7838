"""Shared test helpers: repository paths, a tiny config loader, a latent-cluster problem."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from cinexai.io import write_signals, write_table
from cinexai.leads import LEADS
from cinexai.models.checkpoint import save_model
from cinexai.models.resnet import ResNet1d

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture()
def default_config() -> dict:
    return copy.deepcopy(yaml.safe_load((REPO / "config.yaml").read_text()))


@pytest.fixture()
def tiny_config() -> dict:
    return copy.deepcopy(yaml.safe_load((REPO / ".test" / "config.yaml").read_text()))


# Latent clusters (tests/clusters, tests/attribution/test_latent_clusters.py)
T = 200
SPLITS = {"train": 30, "val": 4, "test": 16, "reference": 4, "evaluation": 6}


@dataclass
class Problem:
    signals: Path
    records: Path
    model: Path
    truth: Path
    net: ResNet1d


def _windows(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A QRS-like spike at 20 ms, a T-like bump at 250 ms; abnormal windows invert the T."""
    t = np.arange(T) * 2.0
    qrs = np.exp(-0.5 * ((t - 20) / 8) ** 2)
    wave_t = np.exp(-0.5 * ((t - 250) / 40) ** 2) * 0.4
    x = rng.normal(0, 0.05, (len(labels), len(LEADS), T))
    x += qrs + np.where(labels[:, None, None] == 1, -wave_t, wave_t)
    return x.astype(np.float32)


def _model(x_train: np.ndarray, depth: int) -> ResNet1d:
    """A random ResNet1d whose bias puts the median training window on the decision boundary."""
    torch.manual_seed(0)
    net = ResNet1d(len(LEADS), T, depth=depth, width=8, kernel_size=5, dropout=0.0).eval()
    with torch.no_grad():
        logits = net(torch.as_tensor(x_train))
        margin = (logits[:, 1] - logits[:, 0]).median()
        net.fc.bias[1] -= margin - 1e-4
    return net


def write_problem(out: Path, depth: int = 2) -> Problem:
    rng = np.random.default_rng(0)
    rows = [
        {"split": split, "label": int(k % 2) if split != "reference" else 0}
        for split, n in SPLITS.items()
        for k in range(n)
    ]
    rec = pd.DataFrame(rows)
    rec.insert(0, "ecg_id", np.arange(500, 500 + len(rec), dtype=np.int64))
    rec["patient_id"] = rec["ecg_id"] + 1000
    rec["included"] = True
    x = _windows(rec["label"].to_numpy(), rng)
    out.mkdir(parents=True, exist_ok=True)
    signals, records, model = out / "windows.parquet", out / "records.parquet", out / "model.pt"
    write_signals(signals, rec["ecg_id"].to_numpy(), x, list(LEADS), fs=500)
    write_table(rec, records)
    net = _model(x[rec["split"].to_numpy() == "train"], depth)
    save_model(net, model, net.arch, "ecg12", list(LEADS))
    truth = out / "synthetic_truth.csv"
    onset = rng.uniform(300, 400, len(rec))
    pd.DataFrame(
        {
            "ecg_id": rec["ecg_id"],
            "p_on_ms": onset - 160,
            "p_off_ms": onset - 60,
            "qrs_on_ms": onset,
            "qrs_off_ms": onset + 92,
            "t_on_ms": onset + 150,
            "t_off_ms": onset + 380,
            "rr_ms": 800.0,
        }
    ).to_csv(truth, index=False)
    return Problem(signals, records, model, truth, net)


@pytest.fixture(scope="session")
def cluster_problem(tmp_path_factory: pytest.TempPathFactory) -> Problem:
    """Windows, records, truth and a model for the latent-cluster tests."""
    return write_problem(tmp_path_factory.mktemp("clusters"))


#: Cheap fit settings for the tests.
CFG = {"pca_components": 6, "max_timestamps": 3000, "n_trees": 15, "max_iter": 100}


@pytest.fixture(scope="session")
def cluster_cfg() -> dict:
    return dict(CFG)


@pytest.fixture(scope="session")
def fit_state(cluster_problem: Problem, cluster_cfg: dict):
    """Fit the latent clusterer and forest of ``cluster_problem`` (cheap settings) into ``out``."""
    from cinexai.clusters.fit import fit

    def run(out: Path, n_clusters: int, instance: str, **overrides) -> Path:
        fit(
            **{
                "signals": cluster_problem.signals,
                "records": cluster_problem.records,
                "model": cluster_problem.model,
                "out": out,
                "n_clusters": n_clusters,
                "instances": [instance],
                "cfg": cluster_cfg,
                "seed": 0,
                **overrides,
            }
        )
        return out

    return run
