"""Fixtures for the attribution tests: a small ResNet1d, reference pools and a tiny dataset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from cinexai.attribution import base
from cinexai.io import write_signals, write_table
from cinexai.leads import CINE_CHANNELS, LEADS
from cinexai.models.checkpoint import save_model
from cinexai.models.imn import IMN
from cinexai.models.resnet import ResNet1d

T = 40  # samples per window in the unit tests (the model accepts any length)


@pytest.fixture(autouse=True, scope="session")
def _one_thread() -> None:
    torch.set_num_threads(1)


def make_model(in_channels: int, seed: int = 0, n_samples: int = T) -> ResNet1d:
    """A small randomly initialised ResNet1d in eval mode (outputs depend on every input)."""
    torch.manual_seed(seed)
    return ResNet1d(
        in_channels, n_samples=n_samples, depth=1, width=8, kernel_size=5, dropout=0.0
    ).eval()


def make_imn(in_channels: int, seed: int = 0) -> IMN:
    """A small randomly initialised IMN in eval mode."""
    torch.manual_seed(seed)
    return IMN(in_channels, n_samples=T, width=4, kernel_size=5, dropout=0.0).eval()


def make_context(
    channels: int, params: dict, seed: int = 3, n_ref: int = 20, batch_size: int = 64
) -> base.AttributionContext:
    ref = np.random.default_rng(100).normal(scale=0.3, size=(n_ref, channels, T))
    return base.AttributionContext(
        reference=ref.astype(np.float32), params=params, seed=seed, batch_size=batch_size
    )


def make_inputs(n: int, channels: int, seed: int = 1) -> torch.Tensor:
    return torch.as_tensor(
        np.random.default_rng(seed).normal(size=(n, channels, T)).astype(np.float32)
    )


class Helpers:
    """Factories shared by the attribution tests (a fixture, so no test-package imports)."""

    model = staticmethod(make_model)
    imn = staticmethod(make_imn)
    context = staticmethod(make_context)
    inputs = staticmethod(make_inputs)


@pytest.fixture()
def h() -> type[Helpers]:
    return Helpers


@pytest.fixture()
def dataset(tmp_path: Path) -> dict[str, Path]:
    """windows/cineecg signal tables, records (4 evaluation + 6 reference) and both models."""
    rng = np.random.default_rng(7)
    ids = np.arange(100, 112, dtype=np.int64)
    splits = ["evaluation"] * 4 + ["reference"] * 6 + ["train", "evaluation"]
    included = [True] * 11 + [False]
    records = pd.DataFrame(
        {
            "ecg_id": ids,
            "patient_id": ids,
            "label": np.int8(0),
            "split": splits,
            "included": included,
        }
    )
    paths = {
        "records": tmp_path / "records.parquet",
        "windows": tmp_path / "windows.parquet",
        "cineecg": tmp_path / "cineecg.parquet",
        "model12": tmp_path / "m12" / "model.pt",
        "model3": tmp_path / "m3" / "model.pt",
    }
    write_table(records, paths["records"])
    write_signals(paths["windows"], ids, rng.normal(size=(len(ids), 12, T)), LEADS, 500.0)
    write_signals(paths["cineecg"], ids, rng.normal(size=(len(ids), 3, T)), CINE_CHANNELS, 500.0)
    for key, c, modality, names in (
        ("model12", 12, "ecg12", LEADS),
        ("model3", 3, "cineecg", CINE_CHANNELS),
    ):
        model = make_model(c)
        save_model(model, paths[key], model.arch, modality, names)
    return paths
