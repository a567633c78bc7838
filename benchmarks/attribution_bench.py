"""Attribution throughput benchmark (not a test): prints Markdown tables.

1. the physical floor: raw forward+backward (input gradient) throughput of a default-sized
   ResNet1d at several batch sizes;
2. IG (paper defaults: 50 steps x 40 noise samples) throughput relative to that floor;
3. the one-pass speed-up over two passes (Eq. 1) per method;
4. seconds per case for every method and source (12 and 3 channels), one pass, paper defaults.

Usage: python benchmarks/attribution_bench.py [--cases 2] [--batch-size 256] [--threads 2]
       [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import torch

from cinexai.attribution import base, registry
from cinexai.models.resnet import ResNet1d

T = 200
SOURCES = {"ecg12": 12, "cineecg": 3}
METHODS = ("integrated_gradients", "gradient_shap", "kernel_shap", "lime", "random")


def timed(fn: Callable[[], object], repeat: int = 1) -> float:
    """Best wall time of ``repeat`` calls (seconds)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def model_for(channels: int) -> torch.nn.Module:
    torch.manual_seed(0)
    model = ResNet1d(channels, n_samples=T, depth=2, width=32, kernel_size=7, dropout=0.2).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def floor(model: torch.nn.Module, channels: int, batch: int) -> float:
    """Input-gradient forward+backward samples per second at ``batch``."""
    x = torch.randn(batch, channels, T)
    g = base.one_pass_forward(base.output_function(model, "probability"))

    def step() -> None:
        xi = x.clone().requires_grad_(True)
        torch.autograd.grad(g(xi)[:, 0].sum(), xi)

    step()
    n = max(3, 2048 // batch)
    return n * batch / timed(lambda: [step() for _ in range(n)], repeat=2)


def context(channels: int, params: dict, batch: int, n_cases: int) -> base.AttributionContext:
    rng = np.random.default_rng(0)
    ref = rng.normal(scale=0.3, size=(150, channels, T)).astype(np.float32)
    return base.AttributionContext(
        reference=ref, params=params, seed=0, batch_size=batch, case_ids=np.arange(n_cases)
    )


def per_case(
    name: str,
    channels: int,
    n_cases: int,
    batch: int,
    one_pass: bool,
    repeat: int = 1,
    overrides: dict | None = None,
) -> float:
    """Seconds per case (cases attributed one by one, as run.py does by default)."""
    registered, params = registry.resolve(name, overrides or {})
    spec = registry.get(registered)
    model = model_for(channels)
    f = base.output_function(model, "probability")
    x = torch.as_tensor(
        np.random.default_rng(1).normal(size=(n_cases, channels, T)).astype(np.float32)
    )
    ctx = context(channels, params, batch, n_cases)
    if name in ("lime", "kernel_shap"):  # fit the explainer/background once, as a run does
        ctx.case_ids = np.array([0])
        base.bipolar_phi(spec, f, x[:1], ctx, one_pass)

    def run_all() -> None:
        for i in range(n_cases):
            ctx.case_ids = np.array([i])
            base.bipolar_phi(spec, f, x[i : i + 1], ctx, one_pass)

    return timed(run_all, repeat) / n_cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="interleaved repeats, best kept")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, T={T}, "
        f"ResNet1d depth 2 width 32 kernel 7\n"
    )

    print("| source | batch | fwd+bwd samples/s |\n|---|---|---|")
    for source, c in SOURCES.items():
        for batch in (64, 128, 256, 512):
            print(f"| {source} | {batch} | {floor(model_for(c), c, batch):.0f} |")

    # the machine is shared: interleave floor and IG, keep the best of each
    print(
        f"\n| source | IG samples/s (50 x 40 per case) | floor at batch {args.batch_size} "
        "| ratio |\n|---|---|---|---|"
    )
    for source, c in SOURCES.items():
        rates, floors = [], []
        for _ in range(args.repeat):
            floors.append(floor(model_for(c), c, args.batch_size))
            rates.append(
                50 * 40 / per_case("integrated_gradients", c, args.cases, args.batch_size, True)
            )
        print(
            f"| {source} | {max(rates):.0f} | {max(floors):.0f} | {max(rates) / max(floors):.2f} |"
        )

    print(
        "\n| method | source | s/case one pass | s/case two passes | speed-up |\n"
        "|---|---|---|---|---|"
    )
    for name in METHODS:
        for source, c in SOURCES.items():
            if registry.get(name).model_free:
                one = per_case(name, c, args.cases, args.batch_size, True, args.repeat)
                print(f"| {name} | {source} | {one:.3f} | (Eq. 1 n/a) | - |")
                continue
            ones, twos = [], []
            for _ in range(args.repeat):
                ones.append(per_case(name, c, args.cases, args.batch_size, True))
                twos.append(per_case(name, c, args.cases, args.batch_size, False))
            one, two = min(ones), min(twos)
            print(f"| {name} | {source} | {one:.3f} | {two:.3f} | {two / one:.2f}x |")


if __name__ == "__main__":
    main()
