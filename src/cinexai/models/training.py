"""Final training of one architecture (Adam + its loss, early stopping), test metrics, predictions.

Entry point of the ``train`` rule: :func:`train`.  :func:`fit` is shared with the Optuna objective
in :mod:`cinexai.models.tuning`.  Runs are seeded and deterministic on the CPU (same seed, same
thread count -> identical predictions); on CUDA some kernels (replication-pad and average-pool
backward) have no deterministic implementation and only warn.
"""

from __future__ import annotations

import copy
import logging
import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, roc_auc_score
from sklearn.model_selection import train_test_split
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from tqdm import tqdm

from cinexai.io import file_sha256, package_versions, read_json, write_json, write_table
from cinexai.models import architectures
from cinexai.models.augment import TimeMask
from cinexai.models.checkpoint import resolve_device, save_model
from cinexai.models.data import ModelData, Split, channel_stats, load_model_data

log = logging.getLogger(__name__)

#: Splits written to predictions.parquet (any may be empty).
PREDICTION_SPLITS = ("test", "reference", "evaluation")
EVAL_BATCH_SIZE = 512


def configure_runtime(seed: int, threads: int) -> None:
    """Thread count, deterministic algorithms and every global RNG seeded from ``seed``."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    seed_everything(seed)


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's (CPU and CUDA) global generators."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def build_model(
    params: Mapping[str, Any],
    in_channels: int,
    n_samples: int,
    mean: list[float] | None = None,
    std: list[float] | None = None,
    arch: str = "resnet",
) -> nn.Module:
    """Architecture ``arch`` from tuned hyperparameters (see :mod:`cinexai.models.architectures`)."""
    return architectures.from_params(arch, params, in_channels, n_samples, mean, std)


def time_mask(cfg: Mapping[str, Any], fs: float) -> TimeMask | None:
    """The time-mask augmentation of ``config["models"]`` (``augment.time_mask``), or None."""
    return TimeMask.from_config(cfg["augment"]["time_mask"], fs)


@dataclass
class FitResult:
    """Outcome of :func:`fit`; the model already holds the best weights."""

    best_epoch: int
    best_val_loss: float
    epochs_run: int
    seconds_per_epoch: float
    history: list[dict[str, Any]] = field(default_factory=list)


def fit(
    model: nn.Module,
    train_split: Split,
    val_split: Split,
    *,
    lr: float,
    batch_size: int,
    max_epochs: int,
    patience: int | None,
    device: torch.device,
    seed: int,
    on_epoch: Callable[[int, float], None] | None = None,
    desc: str = "epochs",
    augment: TimeMask | None = None,
) -> FitResult:
    """Train with Adam on the model's loss, monitor the validation loss, restore the best weights.

    The loss is :func:`cinexai.models.architectures.training_loss` (cross-entropy; for the IMN
    plus ``l1_lambda * mean|W|``); the monitored validation loss is the cross-entropy alone.

    ``patience`` epochs without improvement stop training (None: run all ``max_epochs``).
    ``on_epoch(epoch, val_loss)`` is called after every epoch (Optuna reports and prunes there;
    an exception it raises propagates).  Batches are shuffled by a generator seeded with ``seed``;
    ``augment`` (time masking) transforms training batches only, drawing from its own generator
    seeded with ``seed``.
    """
    if max_epochs < 1:
        raise ValueError(f"max_epochs must be >= 1, got {max_epochs}")
    model.to(device)
    loader = DataLoader(
        TensorDataset(torch.from_numpy(train_split.X), torch.from_numpy(train_split.y)),
        batch_size=int(batch_size),
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=float(lr))
    aug_rng = torch.Generator().manual_seed(seed)
    best = (float("inf"), 0, copy.deepcopy(model.state_dict()))
    history: list[dict[str, Any]] = []
    start = time.perf_counter()
    bar = tqdm(range(1, max_epochs + 1), desc=desc, leave=False)
    for epoch in bar:
        train_loss = _train_epoch(model, loader, optimizer, device, augment, aug_rng)
        val_loss, val_auroc = evaluate(model, val_split, device)
        history.append(
            {
                "epoch": epoch,
                "train_loss": train_loss,
                "val_loss": val_loss,
                "val_auroc": val_auroc if np.isfinite(val_auroc) else None,
            }
        )
        bar.set_postfix(train=f"{train_loss:.3f}", val=f"{val_loss:.3f}")
        if on_epoch is not None:
            on_epoch(epoch, val_loss)
        if val_loss < best[0]:
            best = (val_loss, epoch, copy.deepcopy(model.state_dict()))
        elif patience is not None and epoch - best[1] >= patience:
            log.info("early stopping at epoch %d (best %d, val loss %.4f)", epoch, best[1], best[0])
            break
    bar.close()
    seconds = (time.perf_counter() - start) / max(len(history), 1)
    model.load_state_dict(best[2])
    model.eval()
    return FitResult(best[1], best[0], len(history), seconds, history)


def _train_epoch(
    model: nn.Module,
    loader: DataLoader,
    optimizer: torch.optim.Optimizer,
    device: torch.device,
    augment: TimeMask | None,
    aug_rng: torch.Generator,
) -> float:
    model.train()
    total, n = 0.0, 0
    for xb, yb in loader:
        if augment is not None:
            xb = augment(xb, aug_rng)
        xb, yb = xb.to(device), yb.to(device)
        optimizer.zero_grad(set_to_none=True)
        loss = architectures.training_loss(model, xb, yb)
        loss.backward()
        optimizer.step()
        total += float(loss.detach()) * len(yb)
        n += len(yb)
    return total / n


def predict_logits(
    model: nn.Module, X: np.ndarray, device: torch.device, batch_size: int = EVAL_BATCH_SIZE
) -> np.ndarray:
    """Logits (N, n_classes) float32 in eval mode, without gradients."""
    model.eval()
    out = [np.zeros((0, model.arch["n_classes"]), np.float32)]
    with torch.inference_mode():
        for i in range(0, len(X), batch_size):
            xb = torch.from_numpy(np.ascontiguousarray(X[i : i + batch_size])).to(device)
            out.append(model(xb).float().cpu().numpy())
    return np.concatenate(out)


def probabilities(logits: np.ndarray) -> np.ndarray:
    """Softmax probability of class 1 (abnormal), float32."""
    return torch.softmax(torch.from_numpy(logits), dim=1)[:, 1].numpy().astype(np.float32)


def evaluate(model: nn.Module, split: Split, device: torch.device) -> tuple[float, float]:
    """Mean cross-entropy and AUROC (NaN when one class is missing) on ``split``."""
    logits = predict_logits(model, split.X, device)
    loss = float(nn.functional.cross_entropy(torch.from_numpy(logits), torch.from_numpy(split.y)))
    auroc = (
        float(roc_auc_score(split.y, probabilities(logits)))
        if len(np.unique(split.y)) == 2
        else float("nan")
    )
    return loss, auroc


def early_stopping_split(split: Split, fraction: float, seed: int) -> tuple[Split, Split]:
    """Hold out ``fraction`` of the patients (stratified by their label) for early stopping.

    A patient's label is the maximum of their records' labels, so every record of a patient lands
    on the same side.
    """
    frame = pd.DataFrame({"patient": split.patients, "label": split.y})
    per_patient = frame.groupby("patient")["label"].max()
    try:
        _, held = train_test_split(
            per_patient.index.to_numpy(),
            test_size=fraction,
            stratify=per_patient.to_numpy(),
            random_state=seed,
        )
    except ValueError as exc:
        raise ValueError(
            f"cannot hold out {fraction} of {len(per_patient)} training patients "
            f"stratified by label for early stopping: {exc}"
        ) from exc
    mask = np.isin(split.patients, held)
    return split.subset(~mask), split.subset(mask)


def test_metrics(y: np.ndarray, prob: np.ndarray, pred: np.ndarray) -> dict[str, Any]:
    """Accuracy, macro-F1, AUROC (None with one class) and the 2x2 confusion matrix."""
    if len(y) == 0:
        log.warning("test split is empty: no test metrics")
        return {"accuracy": None, "macro_f1": None, "auroc": None, "confusion_matrix": None}
    return {
        "accuracy": float(accuracy_score(y, pred)),
        "macro_f1": float(f1_score(y, pred, average="macro", labels=[0, 1], zero_division=0)),
        "auroc": float(roc_auc_score(y, prob)) if len(np.unique(y)) == 2 else None,
        "confusion_matrix": confusion_matrix(y, pred, labels=[0, 1]).tolist(),
    }


def _read_params(
    best_params: str | os.PathLike[str] | Mapping[str, Any], arch: str
) -> dict[str, Any]:
    """Hyperparameters of ``arch`` from best_params.json (its ``params``) or a mapping."""
    payload = best_params if isinstance(best_params, Mapping) else read_json(best_params)
    params = dict(payload.get("params", payload))
    missing = [k for k in architectures.get(arch).hyperparameters if k not in params]
    if missing:
        raise ValueError(f"best params {best_params!s:.200} lack {missing}")
    return params


def _predictions(model: nn.Module, data: ModelData, device: torch.device) -> pd.DataFrame:
    frames = []
    for name in PREDICTION_SPLITS:
        split = data.splits[name]
        logits = predict_logits(model, split.X, device)
        frames.append(
            pd.DataFrame(
                {
                    "id": split.ids.astype(np.int64),
                    "split": pd.Series([name] * len(split), dtype=object),
                    "label": split.y.astype(np.int8),
                    "prob_abnormal": probabilities(logits),
                    "pred": logits.argmax(axis=1).astype(np.int8),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def train(
    *,
    signals: str | os.PathLike[str],
    records: str | os.PathLike[str],
    best_params: str | os.PathLike[str] | Mapping[str, Any],
    out_model: str | os.PathLike[str],
    out_metrics: str | os.PathLike[str],
    out_predictions: str | os.PathLike[str],
    modality: str,
    cfg: dict[str, Any],
    seed: int,
    arch: str = "resnet",
    threads: int = 1,
) -> None:
    """Train the final ``arch`` model of ``modality``; write model.pt, metrics.json, predictions.

    Trains on split ``train`` minus a patient-level, stratified ``early_stopping_fraction`` hold-out
    that drives early stopping (``patience``, ``max_epochs``); reports test metrics and predicts
    the test, reference and evaluation splits.
    """
    configure_runtime(seed, threads)
    device = resolve_device(str(cfg["device"]))
    params = _read_params(best_params, arch)
    data = load_model_data(signals, records, modality)
    train_all = data.splits["train"]
    fit_split, es_split = early_stopping_split(
        train_all, float(cfg["early_stopping_fraction"]), seed
    )
    mean, std = channel_stats(train_all.X, data.channels)
    model = build_model(params, len(data.channels), data.n_samples, mean, std, arch)
    augment = time_mask(cfg, data.fs)
    result = fit(
        model,
        fit_split,
        es_split,
        lr=params["lr"],
        batch_size=params["batch_size"],
        max_epochs=int(cfg["max_epochs"]),
        patience=int(cfg["patience"]),
        device=device,
        seed=seed,
        desc=f"train {modality}/{arch}",
        augment=augment,
    )
    save_model(model, out_model, model.arch, modality, data.channels)
    sha = file_sha256(out_model)
    preds = _predictions(model, data, device)
    test = preds[preds["split"] == "test"]
    metrics = test_metrics(
        test["label"].to_numpy(), test["prob_abnormal"].to_numpy(), test["pred"].to_numpy()
    )
    log.info("%s/%s test metrics: %s", modality, arch, metrics)
    write_table(
        preds,
        out_predictions,
        {
            "modality": modality,
            "architecture": arch,
            "seed": seed,
            "model_sha256": sha,
            "splits": list(PREDICTION_SPLITS),
        },
    )
    write_json(
        {
            **metrics,
            "modality": modality,
            "architecture": arch,
            "channels": data.channels,
            "best_params": params,
            "arch": model.arch,
            "augment": augment and asdict(augment),
            "epochs": result.epochs_run,
            "best_epoch": result.best_epoch,
            "early_stopping_loss": result.best_val_loss,
            "history": result.history,
            "timings": {
                "seconds_per_epoch": result.seconds_per_epoch,
                "seconds_total": result.seconds_per_epoch * result.epochs_run,
            },
            "seed": seed,
            "threads": threads,
            "device": str(device),
            "n_per_split": {
                "train_fit": len(fit_split),
                "early_stopping": len(es_split),
                **{k: v for k, v in data.counts().items() if k != "train"},
            },
            "model_sha256": sha,
            "versions": package_versions(),
        },
        out_metrics,
    )
