"""Latent-cluster benchmark (not a test): fit time on a training split, and explanation seconds
per case against Integrated Gradients (paper defaults, one pass); prints Markdown tables.

The model is a default-sized ResNet1d (the default run's 12-lead model: depth 2, width 39,
kernel 5) with random weights, its bias set so that it predicts both classes; the windows are
random.  Timings depend on sizes, not on what the model learned.

Usage: python benchmarks/clusters_bench.py [--train 1427] [--cases 20] [--k 4 8 12]
       [--threads 2] [--depth 2] [--width 39] [--kernel 5]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from cinexai.attribution import base, registry
from cinexai.clusters import latent
from cinexai.clusters.fit import fit_state
from cinexai.io import SignalSet
from cinexai.leads import LEADS
from cinexai.models.resnet import ResNet1d

T = 200


def model(depth: int, width: int, kernel: int, x: np.ndarray) -> ResNet1d:
    """A random ResNet1d whose median window sits on the decision boundary."""
    torch.manual_seed(0)
    net = ResNet1d(len(LEADS), T, depth=depth, width=width, kernel_size=kernel).eval()
    with torch.no_grad():
        logits = net(torch.as_tensor(x[:512]))
        net.fc.bias[1] -= (logits[:, 1] - logits[:, 0]).median()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def ig_per_case(net: ResNet1d, x: np.ndarray) -> float:
    """Seconds per case of IG (50 steps x 40 noise samples, one pass, batch 256)."""
    _, params = registry.resolve("integrated_gradients", {})
    spec = registry.get("integrated_gradients")
    ctx = base.AttributionContext(
        reference=np.zeros((1, *x.shape[1:]), np.float32), params=params, batch_size=256
    )
    f = base.output_function(net, "probability")
    start = time.perf_counter()
    for i in range(len(x)):
        ctx.case_ids = np.array([i])
        base.bipolar_phi(spec, f, torch.as_tensor(x[i : i + 1]), ctx, True)
    return (time.perf_counter() - start) / len(x)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=1427)
    parser.add_argument("--cases", type=int, default=20)
    parser.add_argument("--k", type=int, nargs="+", default=[4, 8, 12])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--width", type=int, default=39)
    parser.add_argument("--kernel", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    x = rng.normal(0, 0.3, (args.train + args.cases, len(LEADS), T)).astype(np.float32)
    net = model(args.depth, args.width, args.kernel, x)
    train = SignalSet(np.arange(args.train), x[: args.train], list(LEADS), 500.0)
    cases = x[args.train :]
    print(
        f"torch {torch.__version__}, {args.threads} threads; ResNet1d depth {args.depth} width "
        f"{args.width} kernel {args.kernel}; {args.train} training windows x {T} samples\n"
    )
    print(
        "| K | fit s (activations + mixture + forest) | explain s/case, one by one "
        "| explain s/case, all cases at once (as the stage runs) |"
    )
    print("|---|---|---|---|")
    per_case = {}
    for k in args.k:
        start = time.perf_counter()
        state = fit_state(net, train, k, [f"latent_clusters_k{k}"], {}, 0)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        for i in range(len(cases)):
            latent.explain(net, state.clusterer, state.forest, cases[i : i + 1], ["bench"])
        one_by_one = (time.perf_counter() - start) / len(cases)
        start = time.perf_counter()
        latent.explain(net, state.clusterer, state.forest, cases, ["bench"])
        per_case[k] = (time.perf_counter() - start) / len(cases)
        print(f"| {k} | {fit_s:.1f} | {one_by_one:.3f} | {per_case[k]:.4f} |")
    ig = ig_per_case(net, cases[: min(len(cases), 3)])
    fastest = min(per_case.values())
    print(
        f"\nIG (50 x 40, one pass, same model): {ig:.3f} s/case; the stage's latent-cluster "
        f"explanation is {ig / fastest:.0f}x faster at best"
    )


if __name__ == "__main__":
    main()
