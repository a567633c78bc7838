"""Metric-stage timing: score() for every configuration of a grid, then make_tables().

Wall and CPU (process) seconds are both reported: CPU time is the figure to trust on a shared
machine.

Default grid = 20 cases x 3 sources x 7 methods x 3 post-processings (63 score jobs, run
sequentially in one process, as a single Snakemake core would) + tables with 2000 BCa resamples.
Scaling: score() per configuration for growing case counts, and the in-memory metric core
(post-processing + 101-threshold sweep + Spearman) alone.

    python benchmarks/evaluation_bench.py [--cases 20] [--methods 7] [--scaling 10 20 40 80]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from cinexai.config import defaults
from cinexai.evaluation.annotations import build_masks
from cinexai.evaluation.score import score, score_arrays, scored_cells
from cinexai.evaluation.tables import make_tables
from cinexai.evaluation.threshold import threshold_grid
from cinexai.io import read_table, write_table
from cinexai.leads import CINE_CHANNELS, LEADS

SOURCES = ("ecg12", "cineecg", "mapped")
POSTPROCESSING = ("positive", "absolute", "scaled")
CFG = {
    **defaults()["evaluation"],
    "threshold": "per_configuration",
    "threshold_step": 0.01,
    "controls": ["random", "oracle", "integrated_gradients_model_randomized"],
    "bootstrap": {"n_resamples": 2000, "confidence": 0.95},
}


def cohort(root: Path, n_cases: int, rng: np.random.Generator) -> pd.DataFrame:
    """Records, annotations (2-4 leads, 1-3 segments per case), masks, predictions."""
    ids = np.arange(1, n_cases + 1, dtype=np.int64)
    write_table(
        pd.DataFrame({"ecg_id": ids, "split": "evaluation", "included": True}),
        root / "records.parquet",
    )
    rows = []
    for case in ids:
        diag = "abnormal" if case % 2 else "normal"
        for _ in range(rng.integers(1, 4)):
            start = float(rng.uniform(0, 330))
            end = start + float(rng.uniform(10, 70))
            for lead in rng.choice(LEADS, rng.integers(2, 5), replace=False):
                rows.append([case, "a", "ecg12", lead, start, end, "segment", diag])
            rows.append([case, "a", "cineecg", "*", start, end, "segment", diag])
    cols = ["case_id", "annotator", "modality", "lead", "start_ms", "end_ms", "kind", "diagnosis"]
    pd.DataFrame(rows, columns=cols).to_csv(root / "annotations.csv", index=False)
    build_masks(
        annotations=root / "annotations.csv",
        records=root / "records.parquet",
        out_masks=root / "masks.parquet",
        cfg={"sampling_rate": 500, "window_ms": 400},
    )
    pred = (ids % 2).astype(np.int8)
    pred[: n_cases // 4] ^= 1
    write_table(
        pd.DataFrame(
            {
                "id": ids,
                "split": "evaluation",
                "label": ids % 2,
                "prob_abnormal": pred.astype(np.float32),
                "pred": pred,
            }
        ),
        root / "predictions.parquet",
    )
    return read_table(root / "masks.parquet")


def attribution(
    root: Path,
    masks: pd.DataFrame,
    source: str,
    method: str,
    strength: float,
    rng: np.random.Generator,
) -> Path:
    """Long attribution file: sign * (strength * mask + noise) on every channel of the source."""
    channels = LEADS if source == "ecg12" else CINE_CHANNELS
    target = "ecg12" if source == "ecg12" else "cineecg"
    m = masks[masks.modality == target]
    cases = np.sort(m.case_id.unique())
    truth = np.zeros((len(cases), len(channels), 200))
    ci = np.searchsorted(cases, m.case_id.to_numpy())
    chi = pd.Index(channels).get_indexer(m.channel)
    truth[ci, chi, m.t.to_numpy(int)] = m["mask"].to_numpy(float)
    sign = np.where(m.groupby("case_id").diagnosis.first().reindex(cases) == "normal", -1.0, 1.0)
    phi = sign[:, None, None] * (strength * truth + rng.normal(0, 1, truth.shape))
    n_c = len(channels)
    t = np.tile(np.arange(200, dtype=np.int16), len(cases) * n_c)
    df = pd.DataFrame(
        {
            "case_id": np.repeat(cases, n_c * 200),
            "channel": np.tile(np.repeat(channels, 200), len(cases)),
            "t": t,
            "time_ms": (2.0 * t).astype(np.float32),
            "phi": phi.ravel().astype(np.float32),
        }
    )
    path = root / f"attributions/source={source}/arch=resnet/method={method}/part-0.parquet"
    write_table(
        df,
        path,
        {"source": source, "arch": "resnet", "method": method, "registered_method": method},
    )
    return path


def run_grid(root: Path, n_cases: int, n_methods: int, seed: int = 0) -> dict[str, float]:
    """Score every configuration, then build the tables; seconds per phase."""
    rng = np.random.default_rng(seed)
    masks = cohort(root, n_cases, rng)
    methods = [f"method_{k}" for k in range(n_methods - 1)] + ["random"]
    attrs = [
        attribution(root, masks, s, m, 0.0 if m == "random" else 0.3 + 0.1 * k, rng)
        for s in SOURCES
        for k, m in enumerate(methods)
    ]
    scores, sweeps = [], []
    c0, t0 = time.process_time(), time.perf_counter()
    for a in attrs:
        for p in POSTPROCESSING:
            base = root / "scores" / a.parent.parent.name / a.parent.name / f"postprocessing={p}"
            score(
                attributions=a,
                masks=root / "masks.parquet",
                predictions=root / "predictions.parquet",
                out=base / "part-0.parquet",
                out_sweep=base / "sweep.parquet",
                postprocessing=p,
                cfg=CFG,
            )
            scores.append(base / "part-0.parquet")
            sweeps.append(base / "sweep.parquet")
    c1, t1 = time.process_time(), time.perf_counter()
    make_tables(scores=scores, sweeps=sweeps, out_dir=root / "tables", cfg=CFG, seed=seed)
    c2, t2 = time.process_time(), time.perf_counter()
    return {
        "cases": n_cases,
        "configurations": len(scores),
        "score_wall_s": t1 - t0,
        "score_cpu_s": c1 - c0,
        "score_cpu_per_configuration_s": (c1 - c0) / len(scores),
        "tables_wall_s": t2 - t1,
        "tables_cpu_s": c2 - c1,
        "total_wall_s": t2 - t0,
        "total_cpu_s": c2 - c0,
    }


def core_timing(n_cases: int, rng: np.random.Generator, repeats: int = 3) -> float:
    """CPU seconds (best of ``repeats``) of the in-memory metric core for one ecg12 configuration of ``n_cases``."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        masks = cohort(root, n_cases, rng)
        attr = read_table(attribution(root, masks, "ecg12", "m", 0.5, rng))
    m = masks[masks.modality == "ecg12"]
    phi, mask, valid, cases = scored_cells(m, attr, "bench")
    normal = np.asarray(m.groupby("case_id").diagnosis.first().reindex(cases) == "normal")
    grid = threshold_grid(0.01)
    best = np.inf
    for _ in range(repeats):
        t0 = time.process_time()
        score_arrays(phi, mask, valid, normal, "absolute", grid, "per_configuration", cases)
        best = min(best, time.process_time() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20)
    parser.add_argument("--methods", type=int, default=7)
    parser.add_argument("--scaling", type=int, nargs="*", default=[10, 20, 40, 80])
    args = parser.parse_args()
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["default_grid"] = run_grid(Path(tmp), args.cases, args.methods)
    print(json.dumps(results["default_grid"], indent=1), flush=True)
    scaling = []
    for n in args.scaling:
        with tempfile.TemporaryDirectory() as tmp:
            row = run_grid(Path(tmp), n, 2)
        row["core_cpu_s"] = core_timing(n, np.random.default_rng(n))
        scaling.append(row)
        print(json.dumps(row), flush=True)
    results["scaling"] = scaling


if __name__ == "__main__":
    main()
