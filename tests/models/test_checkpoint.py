"""Checkpoint round trip, rejection of bad files, device selection."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from model_helpers import trained_like

from cinexai.leads import CINE_CHANNELS, LEADS
from cinexai.models.checkpoint import load_model, resolve_device, save_model
from cinexai.models.resnet import ResNet1d


def test_round_trip_gives_identical_outputs(tmp_path: Path) -> None:
    model = trained_like(3, depth=3, width=8, kernel_size=5)
    path = tmp_path / "model.pt"
    save_model(model, path, model.arch, "cineecg", list(CINE_CHANNELS))
    loaded = load_model(path, expected_channels=3)
    assert not loaded.training and loaded.arch == model.arch
    x = torch.randn(4, 3, 200)
    assert torch.equal(loaded(x), model(x))
    payload = torch.load(path, weights_only=True)
    assert payload["modality"] == "cineecg" and payload["channels"] == list(CINE_CHANNELS)


def test_the_same_model_saves_to_the_same_bytes(tmp_path: Path) -> None:
    """Reproducible model files: model_sha256 in provenance is equal across identical runs."""
    model = trained_like(3, depth=1, width=8, kernel_size=5)
    for name in ("a.pt", "b.pt"):
        save_model(model, tmp_path / name, model.arch, "cineecg", list(CINE_CHANNELS))
    assert (tmp_path / "a.pt").read_bytes() == (tmp_path / "b.pt").read_bytes()


def test_wrong_channel_count_is_rejected_with_both_counts(tmp_path: Path) -> None:
    model = trained_like(3)
    path = tmp_path / "cine.pt"
    save_model(model, path, model.arch, "cineecg", list(CINE_CHANNELS))
    with pytest.raises(ValueError, match=r"cine\.pt.*expected .*12 input channels, found 3"):
        load_model(path, expected_channels=12)


def test_state_that_does_not_match_arch_is_rejected(tmp_path: Path) -> None:
    small = ResNet1d(12, depth=1)
    path = tmp_path / "mismatch.pt"
    torch.save(
        {
            "state_dict": small.state_dict(),
            "arch": ResNet1d(12, depth=2).arch,
            "modality": "ecg12",
            "channels": list(LEADS),
        },
        path,
    )
    with pytest.raises(ValueError, match=r"mismatch\.pt.*does not match its arch"):
        load_model(path)


@pytest.mark.parametrize("kind", ["text", "foreign_dict", "pickled_module"])
def test_not_a_checkpoint_is_rejected(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"{kind}.pt"
    if kind == "text":
        path.write_text("definitely not a model\n")
    elif kind == "foreign_dict":
        torch.save({"weights": torch.zeros(3)}, path)
    else:  # a whole pickled module: refused by weights_only=True
        torch.save(ResNet1d(3), path)
    with pytest.raises(ValueError, match=rf"{kind}\.pt is not a cinexai model checkpoint"):
        load_model(path)


def test_save_rejects_inconsistent_metadata(tmp_path: Path) -> None:
    model = ResNet1d(3)
    with pytest.raises(ValueError, match="does not describe the model"):
        save_model(
            model, tmp_path / "a.pt", {**model.arch, "depth": 3}, "cineecg", list(CINE_CHANNELS)
        )
    with pytest.raises(ValueError, match="2 channel names"):
        save_model(model, tmp_path / "b.pt", model.arch, "cineecg", ["x", "y"])
    with pytest.raises(ValueError, match="unknown modality"):
        save_model(model, tmp_path / "c.pt", model.arch, "vcg", list(CINE_CHANNELS))
    assert not list(tmp_path.iterdir())


def test_resolve_device() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    if torch.cuda.is_available():
        assert resolve_device("cuda").type == "cuda"
    else:
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda")
