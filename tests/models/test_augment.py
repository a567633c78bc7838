"""Time-mask augmentation: one contiguous stretch at 0 mV per masked window, seeded, config-driven."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from cinexai.config import defaults
from cinexai.io import read_json
from cinexai.models.augment import TimeMask
from cinexai.models.checkpoint import load_model
from cinexai.models.training import train

PARAMS = {"depth": 1, "width": 8, "kernel_size": 5, "dropout": 0.0, "lr": 3e-3, "batch_size": 16}
CFG = {
    **defaults()["models"],
    "device": "cpu",
    "max_epochs": 3,
    "patience": 3,
    "early_stopping_fraction": 0.15,
    "augment": {"time_mask": {"probability": 0.0, "width_ms": [40, 120]}},  # no augmentation
}


def _signals(n: int = 64, c: int = 12, t: int = 200) -> torch.Tensor:
    return torch.randn(n, c, t, generator=torch.Generator().manual_seed(0)) + 5.0  # never 0


def test_from_config_converts_ms_to_samples_and_disables_at_zero() -> None:
    assert TimeMask.from_config({"probability": 0.5, "width_ms": [40, 120]}, 500.0) == TimeMask(
        0.5, 20, 60
    )
    assert TimeMask.from_config({"probability": 0.5, "width_ms": [40, 120]}, 100.0) == TimeMask(
        0.5, 4, 12
    )
    assert TimeMask.from_config(None, 500.0) is None
    assert TimeMask.from_config({"probability": 0.0, "width_ms": [40, 120]}, 500.0) is None


@pytest.mark.parametrize(
    ("args", "match"),
    [((1.5, 2, 4), "probability"), ((0.5, 0, 4), "width"), ((0.5, 5, 4), "width")],
)
def test_invalid_settings_are_rejected(args: tuple, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        TimeMask(*args)


def test_every_masked_window_has_one_stretch_of_allowed_width_on_all_channels() -> None:
    x = _signals()
    out = TimeMask(1.0, 20, 60)(x, torch.Generator().manual_seed(1))
    assert torch.equal(x, _signals())  # the input is left untouched
    zero = out == 0
    assert torch.equal(zero, zero[:, :1].expand_as(zero))  # the same stretch on every channel
    for row in zero[:, 0].numpy():
        idx = np.flatnonzero(row)
        assert 20 <= len(idx) <= 60 and np.all(np.diff(idx) == 1)  # one contiguous stretch
    assert torch.equal(out[~zero], x[~zero])


def test_probability_sets_the_share_of_masked_windows_and_the_seed_fixes_them() -> None:
    x = _signals(n=2000, c=1, t=50)
    mask = TimeMask(0.3, 5, 10)
    a = mask(x, torch.Generator().manual_seed(7))
    b = mask(x, torch.Generator().manual_seed(7))
    c = mask(x, torch.Generator().manual_seed(8))
    share = float(((a == 0).any(dim=2)).float().mean())
    assert 0.26 < share < 0.34
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(TimeMask(0.0, 5, 10)(x, torch.Generator().manual_seed(7)), x)


def test_wider_than_the_window_is_clipped_to_the_window() -> None:
    out = TimeMask(1.0, 50, 80)(_signals(n=8, c=2, t=40), torch.Generator().manual_seed(0))
    assert bool((out == 0).all())


def test_training_uses_the_configured_mask_and_records_it(problem, tmp_path: Path) -> None:
    signals, records = problem("ecg12", n_samples=100)
    cfg = {**CFG, "augment": {"time_mask": {"probability": 1.0, "width_ms": [40, 80]}}}
    out = {}
    for name, c in (("plain", CFG), ("masked", cfg), ("masked2", cfg)):
        d = tmp_path / name
        train(
            signals=signals,
            records=records,
            best_params=PARAMS,
            out_model=d / "model.pt",
            out_metrics=d / "metrics.json",
            out_predictions=d / "predictions.parquet",
            modality="ecg12",
            cfg=c,
            seed=3,
            threads=1,
        )
        out[name] = (load_model(d / "model.pt").state_dict(), read_json(d / "metrics.json"))
    assert out["plain"][1]["augment"] is None
    fs = 500.0
    assert out["masked"][1]["augment"] == {
        "probability": 1.0,
        "min_samples": round(0.04 * fs),
        "max_samples": round(0.08 * fs),
    }
    plain, masked, again = out["plain"][0], out["masked"][0], out["masked2"][0]
    assert any(not torch.equal(plain[k], masked[k]) for k in plain)  # augmentation took effect
    assert all(torch.equal(masked[k], again[k]) for k in masked)  # and is seeded
