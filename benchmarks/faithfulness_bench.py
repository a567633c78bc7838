"""Faithfulness timing: deletion + insertion curves of one configuration (one post-processing).

A default-architecture 1D-ResNet (untrained: the timing does not depend on the weights) on
``--cases`` random 12 x 200 windows, ``--steps`` curve steps, ``--batch-size`` perturbed inputs per
forward pass, on the CPU and, where present, on CUDA. One configuration evaluates
2 x cases x (steps + 1) inputs; a score job runs three (one per post-processing).
Wall and CPU (process) seconds, best of ``--repeats``; results are also checked equal across
devices (max abs difference of the AUCs).

    python benchmarks/faithfulness_bench.py [--cases 80] [--steps 20] [--batch-size 512]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from cinexai.evaluation.faithfulness import faithfulness_arrays
from cinexai.models.resnet import ResNet1d


def timed(device: torch.device, args: argparse.Namespace) -> tuple[dict[str, float], np.ndarray]:
    """Best-of-``repeats`` seconds of one configuration on ``device``, and its deletion AUCs."""
    rng = np.random.default_rng(0)
    x = rng.normal(0, 0.3, (args.cases, 12, 200)).astype(np.float32)
    phi = rng.normal(size=x.shape)
    abnormal = np.arange(args.cases) % 2 == 0
    reference = rng.normal(0, 0.3, (12, 200))
    torch.manual_seed(0)
    model = ResNet1d(in_channels=12).to(device).eval()
    best = {"wall_s": np.inf, "cpu_s": np.inf}
    for _ in range(args.repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        res = faithfulness_arrays(
            model,
            x,
            phi,
            abnormal,
            np.arange(args.cases),
            reference,
            "absolute",
            args.steps,
            args.batch_size,
            0,
            device,
        )
        if device.type == "cuda":
            torch.cuda.synchronize()
        best["wall_s"] = min(best["wall_s"], time.perf_counter() - t0)
        best["cpu_s"] = min(best["cpu_s"], time.process_time() - c0)
    n_inputs = 2 * args.cases * (args.steps + 1)
    return {
        "device": str(device),
        "cases": args.cases,
        "steps": args.steps,
        "batch_size": args.batch_size,
        "inputs": n_inputs,
        **best,
        "inputs_per_wall_s": n_inputs / best["wall_s"],
        "threads": torch.get_num_threads(),
    }, res["deletion_auc"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=80)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    aucs = {}
    for device in devices:
        row, aucs[device.type] = timed(device, args)
        print(json.dumps(row), flush=True)
    if "cuda" in aucs:
        diff = float(np.abs(aucs["cuda"] - aucs["cpu"]).max())
        print(json.dumps({"max_abs_auc_difference_cpu_cuda": diff}), flush=True)


if __name__ == "__main__":
    main()
