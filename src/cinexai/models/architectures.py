"""Architecture registry: build, tune and train either model (``resnet``, ``imn``) by name.

One :class:`Architecture` per name holds the model class, the Optuna search (which
hyperparameters, how each is drawn from ``models.architectures.{name}``) and the constructor
arguments taken from tuned hyperparameters.  ``lr`` and ``batch_size`` are training settings drawn
for every architecture.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from torch.nn import functional as F

from cinexai.models.imn import IMN
from cinexai.models.resnet import ResNet1d

if TYPE_CHECKING:  # optuna is imported by the tuning stage only
    import optuna

#: Hyperparameters every architecture draws (optimiser and loader, not the network).
TRAINING_KEYS = ("lr", "batch_size")


def _int(name: str) -> Callable[[optuna.Trial, list], int]:
    return lambda trial, bounds: trial.suggest_int(name, *bounds)


def _float(name: str, log: bool = False) -> Callable[[optuna.Trial, list], float]:
    return lambda trial, bounds: trial.suggest_float(name, *bounds, log=log)


def _choice(name: str) -> Callable[[optuna.Trial, list], Any]:
    return lambda trial, values: trial.suggest_categorical(name, list(values))


#: How the training settings are drawn (every architecture).
TRAINING_SEARCH = {"lr": _float("lr", log=True), "batch_size": _choice("batch_size")}


@dataclass(frozen=True)
class Architecture:
    """A model class and its search: ``search[key](trial, space[key])`` draws hyperparameter key."""

    name: str
    cls: type[nn.Module]
    search: Mapping[str, Callable[[optuna.Trial, Any], Any]]
    casts: Mapping[str, type]  # constructor arguments taken from tuned hyperparameters

    @property
    def hyperparameters(self) -> tuple[str, ...]:
        return (*self.search, *TRAINING_KEYS)


REGISTRY: dict[str, Architecture] = {
    "resnet": Architecture(
        "resnet",
        ResNet1d,
        {
            "depth": _int("depth"),
            "width": _int("width"),
            "kernel_size": _choice("kernel_size"),
            "dropout": _float("dropout"),
        },
        {"depth": int, "width": int, "kernel_size": int, "dropout": float},
    ),
    "imn": Architecture(
        "imn",
        IMN,
        {
            "width": _int("width"),
            "kernel_size": _choice("kernel_size"),
            "dropout": _float("dropout"),
            "l1_lambda": _float("l1_lambda", log=True),
        },
        {"width": int, "kernel_size": int, "dropout": float, "l1_lambda": float},
    ),
}


def get(name: str) -> Architecture:
    """The registered architecture ``name``; KeyError lists the registered ones."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown architecture {name!r}; registered: {sorted(REGISTRY)}") from None


def name_of(model: nn.Module) -> str:
    """Registered name of ``model``'s class."""
    for name, arch in REGISTRY.items():
        if type(model) is arch.cls:
            return name
    raise TypeError(f"{type(model).__name__} is not a registered architecture")


def build(name: str, arch: Mapping[str, Any]) -> nn.Module:
    """``name``'s model from its constructor arguments (a checkpoint's ``arch``)."""
    return get(name).cls(**arch)


def suggest(trial: optuna.Trial, name: str, space: Mapping[str, Any]) -> dict[str, Any]:
    """Draw one configuration of ``name`` from its search ``space`` (ranges inclusive)."""
    spec = get(name)
    missing = [k for k in spec.hyperparameters if k not in space]
    if missing:
        raise ValueError(f"models.architectures.{name} lacks {missing}")
    draw = {**spec.search, **TRAINING_SEARCH}
    return {key: draw[key](trial, space[key]) for key in spec.hyperparameters}


def from_params(
    name: str,
    params: Mapping[str, Any],
    in_channels: int,
    n_samples: int,
    mean: list[float] | None = None,
    std: list[float] | None = None,
) -> nn.Module:
    """``name``'s model from tuned hyperparameters (training settings ignored)."""
    spec = get(name)
    missing = [k for k in spec.hyperparameters if k not in params]
    if missing:
        raise ValueError(f"{name} hyperparameters lack {missing}")
    kwargs = {k: cast(params[k]) for k, cast in spec.casts.items()}
    return spec.cls(in_channels, n_samples, mean=mean, std=std, **kwargs)


def training_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The model's own training objective if it has one (IMN: CE + L1 on W), else cross-entropy."""
    if isinstance(model, IMN):
        return model.loss(x, y)
    return F.cross_entropy(model(x), y)
