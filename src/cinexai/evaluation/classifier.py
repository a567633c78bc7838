"""The classifier table: accuracy, macro-F1 and AUROC with BCa intervals per (modality, arch).

Computed on the held-out test split of each model's ``predictions.parquet``; the intervals are
``scipy.stats.bootstrap(method='BCa')`` over test cases (label, probability and prediction
resampled together), seeded per row from the run seed and the row's key.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from cinexai.evaluation.bootstrap import degenerate_reason, row_seed
from cinexai.evaluation.tables import fmt_interval
from cinexai.io import atomic_write, read_table

log = logging.getLogger(__name__)

COLUMNS = ("modality", "arch", "n_test")
METRICS = ("accuracy", "macro_f1", "auroc")


def accuracy(y: np.ndarray, prob: np.ndarray, pred: np.ndarray) -> float:
    return float(np.mean(y == pred))


def macro_f1(y: np.ndarray, prob: np.ndarray, pred: np.ndarray) -> float:
    """Mean F1 over classes 0 and 1 (a class never predicted nor present counts 0)."""
    f1 = []
    for k in (0, 1):
        tp = np.sum((pred == k) & (y == k))
        denom = np.sum(pred == k) + np.sum(y == k)
        f1.append(2 * tp / denom if denom else 0.0)
    return float(np.mean(f1))


def auroc(y: np.ndarray, prob: np.ndarray, pred: np.ndarray) -> float:
    """Mann-Whitney AUROC (ties count one half); NaN with one class."""
    pos, neg = y == 1, y == 0
    if not pos.any() or not neg.any():
        return float("nan")
    ranks = stats.rankdata(prob)
    return float((ranks[pos].sum() - pos.sum() * (pos.sum() + 1) / 2) / (pos.sum() * neg.sum()))


STATISTICS: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], float]] = {
    "accuracy": accuracy,
    "macro_f1": macro_f1,
    "auroc": auroc,
}


def interval(
    name: str, test: pd.DataFrame, n_resamples: int, confidence: float, seed: list[int]
) -> dict[str, float | str]:
    """``{name, name_low, name_high, name_reason}`` for one metric on one test split."""
    y = test["label"].to_numpy(dtype=int)
    prob = test["prob_abnormal"].to_numpy(dtype=float)
    pred = test["pred"].to_numpy(dtype=int)
    fn = STATISTICS[name]
    value = fn(y, prob, pred) if len(y) else float("nan")
    reason = degenerate_reason(y.astype(float)) or ("undefined" if np.isnan(value) else "")
    low = high = float("nan")
    if not reason:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = stats.bootstrap(
                (y, prob, pred),
                fn,
                paired=True,
                vectorized=False,
                n_resamples=n_resamples,
                confidence_level=confidence,
                method="BCa",
                rng=np.random.default_rng(seed),
            )
        low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
        if np.isnan(low) or np.isnan(high):
            reason = "BCa undefined (degenerate bootstrap distribution)"
    return {name: value, f"{name}_low": low, f"{name}_high": high, f"{name}_reason": reason}


def classifier_table(
    *,
    predictions: Sequence[str | os.PathLike[str]],
    out_md: str | os.PathLike[str],
    out_csv: str | os.PathLike[str],
    n_resamples: int,
    confidence: float,
    seed: int,
) -> None:
    """Stage entry: one row per ``models/{modality}/{arch}/predictions.parquet`` (test split)."""
    rows = []
    for path in predictions:
        modality, arch = Path(path).parts[-3:-1]
        test = read_table(path)
        test = test[test["split"] == "test"]
        row: dict[str, object] = {"modality": modality, "arch": arch, "n_test": len(test)}
        for name in METRICS:
            row.update(
                interval(
                    name, test, n_resamples, confidence, row_seed(seed, f"{modality}|{arch}|{name}")
                )
            )
        rows.append(row)
    frame = pd.DataFrame(rows)
    with atomic_write(out_csv) as tmp:
        frame.to_csv(tmp, index=False)
    head = ["Modality", "Architecture", "n (test)", "Accuracy", "Macro-F1", "AUROC"]
    lines = [
        "**Classifiers on the held-out test split**",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for r in rows:
        cells = [str(r["modality"]), str(r["arch"]), str(r["n_test"])] + [
            fmt_interval(r[m], r[f"{m}_low"], r[f"{m}_high"], r[f"{m}_reason"]) for m in METRICS
        ]
        lines.append("| " + " | ".join(cells) + " |")
    note = (
        f"Note: {confidence:.0%} BCa bootstrap intervals over test cases ({n_resamples} "
        f"resamples, seed {seed})."
    )
    with atomic_write(out_md) as tmp:
        tmp.write_text("\n".join(lines + ["", note, ""]))
    log.info("classifier table: %d models", len(rows))
