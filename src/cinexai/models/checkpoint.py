"""Safe model checkpoints and device selection.

A checkpoint is ``torch.save({"state_dict", "arch", "modality", "channels", "architecture"})``
holding only tensors and primitives, so it loads with ``torch.load(weights_only=True)`` (no
arbitrary unpickling).  ``architecture`` names the registered model class
(:mod:`cinexai.models.architectures`); a checkpoint without it is a ResNet1d.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from cinexai.io import atomic_write
from cinexai.models import architectures

log = logging.getLogger(__name__)

CHECKPOINT_KEYS = ("state_dict", "arch", "modality", "channels")
#: Number of input channels of each modality's model.
MODALITY_CHANNELS = {"ecg12": 12, "cineecg": 3}


def resolve_device(name: str) -> torch.device:
    """``auto`` -> ``cuda`` if available else ``cpu``; an unavailable CUDA request is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"models.device is {name!r} but CUDA is not available (use 'auto' or 'cpu')"
        )
    return device


def save_model(
    model: nn.Module,
    path: str | os.PathLike[str],
    arch: dict[str, Any],
    modality: str,
    channels: Sequence[str],
) -> None:
    """Write ``model`` atomically as a cinexai checkpoint (weights moved to CPU)."""
    if dict(arch) != model.arch:
        raise ValueError(f"arch {dict(arch)} does not describe the model ({model.arch})")
    if modality not in MODALITY_CHANNELS:
        raise ValueError(
            f"unknown modality {modality!r}; expected one of {sorted(MODALITY_CHANNELS)}"
        )
    if len(channels) != arch["in_channels"]:
        raise ValueError(
            f"{len(channels)} channel names for a model with {arch['in_channels']} input channels"
        )
    payload = {
        "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        "arch": dict(arch),
        "modality": str(modality),
        "channels": [str(c) for c in channels],
        "architecture": architectures.name_of(model),
    }
    # Saved through a file object: given a path, torch names the zip's records after the file,
    # here a random temporary name, so the bytes (and model_sha256) would differ on every run.
    with atomic_write(path) as tmp, open(tmp, "wb") as fh:
        torch.save(payload, fh)


def read_checkpoint(path: str | os.PathLike[str], device: str = "cpu") -> dict[str, Any]:
    """Load and validate the checkpoint dict (``weights_only=True``); ValueError names the file."""
    try:
        payload = torch.load(path, map_location=device, weights_only=True)
    except Exception as exc:  # torch raises pickle, zip and runtime errors for foreign files
        raise ValueError(
            f"{path} is not a cinexai model checkpoint (torch.load failed: "
            f"{type(exc).__name__}: {exc})"
        ) from exc
    missing = [k for k in CHECKPOINT_KEYS if not isinstance(payload, dict) or k not in payload]
    if missing:
        found = sorted(payload) if isinstance(payload, dict) else type(payload).__name__
        raise ValueError(
            f"{path} is not a cinexai model checkpoint: expected keys "
            f"{list(CHECKPOINT_KEYS)}, found {found}"
        )
    return payload


def load_model(
    path: str | os.PathLike[str], expected_channels: int | None = None, device: str = "cpu"
) -> nn.Module:
    """Rebuild the model (any registered architecture) from a checkpoint, eval mode, ``device``."""
    payload = read_checkpoint(path, device)
    arch = payload["arch"]
    found = arch.get("in_channels") if isinstance(arch, dict) else None
    if expected_channels is not None and found != expected_channels:
        raise ValueError(
            f"{path}: expected a model with {expected_channels} input channels, "
            f"found {found} (modality {payload['modality']!r})"
        )
    try:
        model = architectures.build(str(payload.get("architecture", "resnet")), arch)
        model.load_state_dict(payload["state_dict"], strict=True)
    except (TypeError, ValueError, RuntimeError, KeyError) as exc:
        raise ValueError(f"{path}: state_dict does not match its arch {arch}: {exc}") from exc
    return model.to(device).eval()
