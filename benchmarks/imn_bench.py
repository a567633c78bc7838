"""ECG-IMN cost benchmark (not a test): prints Markdown tables.

1. training seconds per epoch of the IMN (published widths: width 16, kernel 15; and the smallest
   corner of the default search space: width 8, kernel 7) against the default-sized ResNet1d
   (depth 2, width 32, kernel 7), same random data, same batch size, :func:`fit` of the pipeline;
2. seconds per case of ``imn_weights`` (one forward pass) against Integrated Gradients with the
   paper's defaults (50 steps x 40 noise samples, one pass on g = (f1 - f0)/2), on the IMN and on
   the ResNet, through :func:`cinexai.attribution.base.bipolar_phi` as the attribute stage runs it.

Usage: python benchmarks/imn_bench.py [--train 512] [--epochs 1] [--threads 2] [--ig-cases 1]
       [--cases 64]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from cinexai.attribution import base, registry
from cinexai.models import architectures
from cinexai.models.data import Split
from cinexai.models.training import fit

T = 200
SOURCES = {"ecg12": 12, "cineecg": 3}
MODELS = {
    "resnet (depth 2, width 32, kernel 7)": (
        "resnet",
        {"depth": 2, "width": 32, "kernel_size": 7, "dropout": 0.2},
    ),
    "imn (width 16, kernel 15; published)": (
        "imn",
        {"width": 16, "kernel_size": 15, "dropout": 0.2, "l1_lambda": 1e-4},
    ),
    "imn (width 8, kernel 7)": (
        "imn",
        {"width": 8, "kernel_size": 7, "dropout": 0.2, "l1_lambda": 1e-4},
    ),
}


def build(name: str, channels: int) -> torch.nn.Module:
    arch, params = MODELS[name]
    torch.manual_seed(0)
    return architectures.from_params(arch, {**params, "lr": 1e-3, "batch_size": 64}, channels, T)


def split(n: int, channels: int, seed: int) -> Split:
    rng = np.random.default_rng(seed)
    return Split(
        np.arange(n),
        np.arange(n),
        rng.normal(size=(n, channels, T)).astype(np.float32),
        rng.integers(0, 2, n).astype(np.int64),
    )


def seconds_per_epoch(name: str, channels: int, n: int, epochs: int) -> float:
    model = build(name, channels)
    result = fit(
        model,
        split(n, channels, 0),
        split(max(64, n // 4), channels, 1),
        lr=1e-3,
        batch_size=64,
        max_epochs=epochs,
        patience=None,
        device=torch.device("cpu"),
        seed=0,
    )
    return result.seconds_per_epoch


def seconds_per_case(name: str, channels: int, method: str, n_cases: int) -> float:
    model = build(name, channels).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    registered, params = registry.resolve(method, {})
    x = torch.randn(n_cases, channels, T)
    ctx = base.AttributionContext(
        reference=np.zeros((1, channels, T), np.float32), params=params, batch_size=256
    )
    ctx.model, ctx.case_ids = model, np.arange(n_cases)
    f = base.output_function(model, "probability")
    spec = registry.get(registered)
    start = time.perf_counter()
    for k in range(n_cases):  # one case per batch, as the attribute stage (cases_per_batch: 1)
        ctx.case_ids = np.array([k])
        base.bipolar_phi(spec, f, x[k : k + 1], ctx, one_pass=True)
    return (time.perf_counter() - start) / n_cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=512, help="training windows per epoch")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--ig-cases", type=int, default=1)
    parser.add_argument("--cases", type=int, default=64, help="cases timed for imn_weights")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load = os.getloadavg()
    print(
        f"torch {torch.__version__}, CPU, {args.threads} threads, load average "
        f"{load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}, {args.train} training windows, batch 64\n"
    )
    print("| source | model | s/epoch | x ResNet |\n|---|---|---:|---:|")
    for source, channels in SOURCES.items():
        ref = None
        for name in MODELS:
            sec = seconds_per_epoch(name, channels, args.train, args.epochs)
            ref = ref or sec
            print(f"| {source} | {name} | {sec:.2f} | {sec / ref:.1f} |")
    print("\n| source | model | method | s/case | IG / imn_weights |\n|---|---|---|---:|---:|")
    for source, channels in SOURCES.items():
        for name in MODELS:
            ig = seconds_per_case(name, channels, "integrated_gradients", args.ig_cases)
            row = f"| {source} | {name} | integrated_gradients (50 x 40) | {ig:.3f} |"
            if MODELS[name][0] != "imn":
                print(row + " |")
                continue
            print(row + " |")
            w = seconds_per_case(name, channels, "imn_weights", args.cases)
            print(f"| {source} | {name} | imn_weights | {w:.5f} | {ig / w:.0f} |")


if __name__ == "__main__":
    main()
