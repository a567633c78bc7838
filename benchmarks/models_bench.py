"""Classifier training benchmark (not a test): seconds per epoch and per Optuna trial.

Random data at the default run's sizes (about 540 train / 180 val windows; 12 x 200 ECG and
3 x 200 CineECG).  Per architecture: seconds per epoch of :func:`cinexai.models.training.fit`
(train + validation pass) and the implied seconds per trial (x ``tuning_epochs``); per modality:
the measured wall time per trial of a real :func:`cinexai.models.tuning.tune` call (storage,
sampling, training, pruning included).  Prints Markdown tables.

Usage: python benchmarks/models_bench.py [--threads 2] [--epochs 3] [--tune-trials 2]
       [--device cpu]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from cinexai.config import load_config
from cinexai.io import write_signals, write_table
from cinexai.leads import CINE_CHANNELS, LEADS
from cinexai.models.checkpoint import resolve_device
from cinexai.models.data import load_model_data
from cinexai.models.training import build_model, configure_runtime, fit
from cinexai.models.tuning import tune

CONFIG = Path(__file__).resolve().parents[1] / "config.yaml"
CHANNELS = {"ecg12": list(LEADS), "cineecg": list(CINE_CHANNELS)}
SPLIT_SIZES = {"train": 540, "val": 180, "test": 180}


def write_random(out: Path, modality: str, seed: int = 0) -> tuple[Path, Path]:
    """Random signals and records (one record per patient) at the default run's split sizes."""
    rng = np.random.default_rng(seed)
    splits = np.concatenate([[name] * n for name, n in SPLIT_SIZES.items()])
    ids = np.arange(len(splits), dtype=np.int64)
    rec = pd.DataFrame(
        {
            "ecg_id": ids,
            "patient_id": ids,
            "label": rng.integers(0, 2, len(ids)).astype(np.int8),
            "split": splits,
            "included": True,
        }
    )
    X = rng.normal(size=(len(ids), len(CHANNELS[modality]), 200)).astype(np.float32)
    write_signals(out / f"{modality}.parquet", ids, X, CHANNELS[modality], fs=500)
    write_table(rec, out / "records.parquet")
    return out / f"{modality}.parquet", out / "records.parquet"


def architectures(space: dict) -> dict[str, dict]:
    """Smallest and largest corners of the search space, and the ResNet1d defaults."""
    return {
        "smallest": {
            "depth": space["depth"][0],
            "width": space["width"][0],
            "kernel_size": min(space["kernel_size"]),
            "dropout": 0.0,
            "lr": 1e-3,
            "batch_size": max(space["batch_size"]),
        },
        "default": {
            "depth": 2,
            "width": 32,
            "kernel_size": 7,
            "dropout": 0.2,
            "lr": 1e-3,
            "batch_size": 64,
        },
        "largest": {
            "depth": space["depth"][1],
            "width": space["width"][1],
            "kernel_size": max(space["kernel_size"]),
            "dropout": 0.0,
            "lr": 1e-3,
            "batch_size": min(space["batch_size"]),
        },
    }


def matmul_gflops(n: int = 512, repeat: int = 20) -> float:
    """float32 matmul throughput now: a yardstick for how loaded this machine is."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    start = time.perf_counter()
    for _ in range(repeat):
        a @ b
    return 2 * n**3 * repeat / (time.perf_counter() - start) / 1e9


def seconds_per_epoch(
    signals: Path, records: Path, modality: str, params: dict, epochs: int, device: torch.device
) -> float:
    data = load_model_data(signals, records, modality)
    model = build_model(params, len(data.channels), data.n_samples)
    result = fit(
        model,
        data.splits["train"],
        data.splits["val"],
        lr=params["lr"],
        batch_size=params["batch_size"],
        max_epochs=epochs,
        patience=None,
        device=device,
        seed=0,
        desc=f"bench {modality}",
    )
    return result.seconds_per_epoch


def seconds_per_trial(
    signals: Path, records: Path, modality: str, cfg: dict, trials: int, threads: int, root: Path
) -> float:
    start = time.perf_counter()
    tune(
        signals=signals,
        records=records,
        storage=root / f"{modality}.journal",
        out_worker=root / f"{modality}.json",
        modality=modality,
        cfg={**cfg, "n_trials": trials},
        seed=0,
        threads=threads,
    )
    return (time.perf_counter() - start) / trials


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3, help="epochs timed per architecture")
    parser.add_argument("--tune-trials", type=int, default=2, help="0 skips the tune() timing")
    parser.add_argument("--device", default="cpu", help="cpu | cuda | auto")
    args = parser.parse_args()
    cfg = {**load_config(CONFIG)["models"], "device": args.device}
    configure_runtime(0, args.threads)
    device = resolve_device(args.device)
    tuning_epochs = int(cfg["tuning_epochs"])
    print(
        f"device {device}, {torch.get_num_threads()} threads, splits {SPLIT_SIZES}, "
        f"tuning_epochs {tuning_epochs}, matmul {matmul_gflops():.1f} GFLOP/s\n"
    )
    print(
        f"| modality | architecture (depth/width/kernel/batch) | s/epoch | "
        f"s/trial ({tuning_epochs} epochs) |\n|---|---|---:|---:|"
    )
    measured = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for modality in CHANNELS:
            (root / modality).mkdir()
            signals, records = write_random(root / modality, modality)
            for name, p in architectures(cfg["architectures"]["resnet"]).items():
                sec = seconds_per_epoch(signals, records, modality, p, args.epochs, device)
                arch = f"{name} ({p['depth']}/{p['width']}/{p['kernel_size']}/{p['batch_size']})"
                print(f"| {modality} | {arch} | {sec:.3f} | {sec * tuning_epochs:.1f} |")
            if args.tune_trials:
                measured[modality] = seconds_per_trial(
                    signals, records, modality, cfg, args.tune_trials, args.threads, root / modality
                )
    if measured:
        print(
            f"\n| modality | tune(): s/trial (mean of {args.tune_trials} TPE trials, "
            f"pruning on) |\n|---|---:|"
        )
        for modality, sec in measured.items():
            print(f"| {modality} | {sec:.1f} |")


if __name__ == "__main__":
    main()
