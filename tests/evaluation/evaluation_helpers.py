"""Helpers shared by the evaluation tests: random per-case arrays and a small scored grid."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cinexai.config import defaults
from cinexai.evaluation.annotations import build_masks
from cinexai.evaluation.controls import oracle
from cinexai.evaluation.score import attribution_identity, score
from cinexai.evaluation.tables import make_tables
from cinexai.io import read_table, write_table
from cinexai.leads import CINE_CHANNELS, LEADS


def random_case_arrays(seed, n_cases=6, n_cells=120):
    """(maps, masks, valid) of ``n_cases`` cases with ragged valid lengths."""
    rng = np.random.default_rng(seed)
    maps = rng.random((n_cases, n_cells))
    masks = rng.random((n_cases, n_cells)) < rng.uniform(0.1, 0.6, (n_cases, 1))
    sizes = rng.integers(n_cells // 3, n_cells + 1, n_cases)
    valid = np.arange(n_cells)[None, :] < sizes[:, None]
    masks[:, 0] = True  # never an empty expert mask
    return maps, masks, valid


N_CASES = 10
EVAL_CFG = {
    **defaults()["evaluation"],
    "threshold": "per_configuration",
    "threshold_step": 0.01,
    "oracle_noise": 0.1,
    "controls": ["random", "oracle", "integrated_gradients_model_randomized"],
    "bootstrap": {"n_resamples": 300, "confidence": 0.95},
}
# instance -> (registered method, signal strength, noise sd); larger signal = better alignment
METHODS = {
    "integrated_gradients": ("integrated_gradients", 1.0, 0.5),
    "gradient_shap": ("gradient_shap", 0.5, 0.5),
    "random": ("random", 0.0, 1.0),
    "integrated_gradients_model_randomized": ("integrated_gradients", 0.0, 1.0),
}
#: The IMN architecture's instances in :func:`make_grid` (its intrinsic weights align best).
IMN_METHODS = {
    "integrated_gradients": ("integrated_gradients", 0.7, 0.5),
    "imn_weights": ("imn_weights", 1.5, 0.5),
    "random": ("random", 0.0, 1.0),
    "imn_weights_model_randomized": ("imn_weights", 0.0, 1.0),
}
ARCH_METHODS = {"resnet": METHODS, "imn": IMN_METHODS}


def cohort(tmp_path):
    """records, annotations -> masks, predictions for N_CASES evaluation cases."""
    ids = np.arange(1, N_CASES + 1, dtype=np.int64)
    write_table(
        pd.DataFrame({"ecg_id": ids, "split": "evaluation", "included": True}),
        tmp_path / "records.parquet",
    )
    rows = []
    for k, case in enumerate(ids):
        diag = "abnormal" if k % 2 else "normal"
        start = 20 + 15 * k
        rows += [
            [case, "a", "ecg12", LEADS[k % 12], start, start + 60, "segment", diag],
            [case, "a", "ecg12", "V2", 200, 260, "segment", diag],
            [case, "b", "cineecg", "*", start, start + 80, "segment", diag],
            [case, "b", "cineecg", "*", 300, 300, "point", diag],
        ]
    cols = ["case_id", "annotator", "modality", "lead", "start_ms", "end_ms", "kind", "diagnosis"]
    pd.DataFrame(rows, columns=cols).to_csv(tmp_path / "annotations.csv", index=False)
    build_masks(
        annotations=tmp_path / "annotations.csv",
        records=tmp_path / "records.parquet",
        out_masks=tmp_path / "masks.parquet",
        cfg={"sampling_rate": 500, "window_ms": 400},
    )
    label = (ids % 2 == 0).astype(np.int8)  # case k=odd index -> abnormal -> even id
    pred = label.copy()
    pred[:3] = 1 - pred[:3]  # three disagreements
    write_table(
        pd.DataFrame(
            {
                "id": ids,
                "split": "evaluation",
                "label": label,
                "prob_abnormal": pred.astype(np.float32),
                "pred": pred,
            }
        ),
        tmp_path / "predictions.parquet",
    )
    return read_table(tmp_path / "masks.parquet")


def attribution(tmp_path, masks, source, method, seed, arch="resnet"):
    """Phi = sign * (strength * mask + noise) on every channel of the source."""
    registered, strength, noise = ARCH_METHODS[arch][method]
    target = "ecg12" if source == "ecg12" else "cineecg"
    channels = LEADS if target == "ecg12" else CINE_CHANNELS
    m = masks[masks.modality == target]
    rng = np.random.default_rng(seed)
    frames = []
    for case, g in m.groupby("case_id"):
        sign = -1.0 if g.diagnosis.iloc[0] == "normal" else 1.0
        truth = g.pivot(index="channel", columns="t", values="mask").reindex(channels)
        truth = truth.fillna(False).to_numpy(dtype=float)
        phi = sign * (strength * truth + rng.normal(0, noise, truth.shape))
        frames.append(
            pd.DataFrame(
                {
                    "case_id": case,
                    "channel": np.repeat(channels, 200),
                    "t": np.tile(np.arange(200, dtype=np.int16), len(channels)),
                    "time_ms": np.tile(np.arange(200) * 2.0, len(channels)),
                    "phi": phi.ravel().astype(np.float32),
                }
            )
        )
    path = tmp_path / f"attributions/source={source}/arch={arch}/method={method}/part-0.parquet"
    write_table(
        pd.concat(frames),
        path,
        {"source": source, "arch": arch, "method": method, "registered_method": registered},
    )
    return path


def score_configuration(tmp_path, attr, post, cfg=EVAL_CFG):
    meta = attribution_identity(attr)  # the oracle's arch comes from its hive path
    base = (
        tmp_path
        / f"scores/source={meta['source']}/arch={meta['arch']}/method={meta['method']}"
        / f"postprocessing={post}"
    )
    score(
        attributions=attr,
        masks=tmp_path / "masks.parquet",
        predictions=tmp_path / "predictions.parquet",
        out=base / "part-0.parquet",
        out_sweep=base / "sweep.parquet",
        postprocessing=post,
        cfg=cfg,
    )
    return base / "part-0.parquet", base / "sweep.parquet"


def make_grid(tmp, archs=("resnet",), cfg=EVAL_CFG):
    """Attributions of every (source, arch, method) plus the oracle, scored and tabulated."""
    masks = cohort(tmp)
    cells = [
        (s, a, m) for a in archs for s in ("ecg12", "cineecg", "mapped") for m in ARCH_METHODS[a]
    ]
    attrs = [attribution(tmp, masks, s, m, k, a) for k, (s, a, m) in enumerate(cells)]
    for s in ("ecg12", "cineecg", "mapped"):
        for a in archs:
            out = tmp / f"attributions/source={s}/arch={a}/method=oracle/part-0.parquet"
            oracle(masks=tmp / "masks.parquet", source=s, out=out, cfg=cfg, seed=0)
            attrs.append(out)
    paths = [
        score_configuration(tmp, a, p) for a in attrs for p in ("positive", "absolute", "scaled")
    ]
    make_tables(
        scores=[p for p, _ in paths],
        sweeps=[s for _, s in paths],
        out_dir=tmp / "tables",
        cfg=cfg,
        seed=0,
    )
    return tmp, paths


def scores(tmp, source, method, post, arch="resnet"):
    return read_table(
        tmp / f"scores/source={source}/arch={arch}/method={method}/postprocessing={post}/"
        "part-0.parquet"
    )


def pool_best(tmp, targets, exclude):
    frames = [read_table(p) for p in (tmp / "scores").rglob("part-0.parquet")]
    df = pd.concat(frames)
    df = df[df.target.isin(targets) & ~df.method.isin(exclude)]
    means = df.groupby(["source", "method", "postprocessing"])["dice"].mean()
    return means.idxmax(), means.max()
