"""Inter-annotator agreement as the human ceiling beside the best configuration (paper section 3.5).

For every case and modality annotated by two or more annotators, the Dice coefficient between
each pair of annotators' masks (protocol widening, the sample rule and the named leads exactly as
in :mod:`cinexai.evaluation.annotations`) is computed over the cells of the channels named by
either of the pair (a lead one of them did not name counts as unmarked for them); a case's value is
the mean over its pairs. Per target modality the table gives the mean over cases with its BCa
interval (:func:`cinexai.evaluation.bootstrap.bca_mean`, scipy.stats.bootstrap) beside Table 1's
best configuration for that target, plus the share of cases on which the annotators' diagnoses
agree. With a single annotator the table says so (no ceiling can be measured).
"""

from __future__ import annotations

import logging
import os
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

from cinexai.evaluation.annotations import (
    annotator_masks,
    evaluation_cases,
    read_annotations,
    validate_annotations,
    window_geometry,
)
from cinexai.evaluation.bootstrap import bca_mean, row_seed
from cinexai.evaluation.tables import TARGET_NAMES, fmt_interval
from cinexai.io import atomic_write, file_sha256, package_versions, read_table, write_json

log = logging.getLogger(__name__)


def pair_dice(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> float:
    """Dice of two annotators' channel masks over the channels either named (NaN if both empty)."""
    channels = sorted(set(a) | set(b))
    n = len(next(iter({**a, **b}.values())))
    zero = np.zeros(n, dtype=bool)
    ma = np.concatenate([a.get(ch, zero) for ch in channels])
    mb = np.concatenate([b.get(ch, zero) for ch in channels])
    total = int(ma.sum() + mb.sum())
    return 2.0 * int((ma & mb).sum()) / total if total else float("nan")


def case_agreement(rows: pd.DataFrame, fs: float, n_samples: int, window_ms: float) -> pd.DataFrame:
    """Per (case, modality) with 2+ annotators: n_annotators, mean pairwise Dice, same diagnosis."""
    diagnoses = rows.groupby(["case_id", "annotator"])["diagnosis"].first()
    out = []
    for (case, modality), per in sorted(annotator_masks(rows, fs, n_samples, window_ms).items()):
        if len(per) < 2:
            continue
        values = [pair_dice(per[x], per[y]) for x, y in combinations(sorted(per), 2)]
        out.append(
            {
                "case_id": int(case),
                "modality": modality,
                "n_annotators": len(per),
                "dice": float(np.nanmean(values)) if not np.all(np.isnan(values)) else np.nan,
                "same_diagnosis": bool(diagnoses.loc[case].nunique() == 1),
            }
        )
    cols = ["case_id", "modality", "n_annotators", "dice", "same_diagnosis"]
    return pd.DataFrame(out, columns=cols)


def _best(table1: pd.DataFrame, target: str) -> dict:
    row = table1[table1["modality"] == TARGET_NAMES[target]]
    if row.empty:
        return {"best_dice": "n/a", "best_configuration": "none", "best_dice_mean": np.nan}
    r = row.iloc[0]
    conf = f"{r['method']} / {r['postprocessing']} / {r['source']}"
    reason = "" if pd.isna(r["dice_reason"]) else str(r["dice_reason"])
    return {
        "best_dice": fmt_interval(r["dice"], r["dice_low"], r["dice_high"], reason),
        "best_configuration": conf,
        "best_dice_mean": float(r["dice"]),
    }


def make_agreement(
    *,
    annotations: str | os.PathLike[str],
    records: str | os.PathLike[str],
    table1: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    data_cfg: dict,
    eval_cfg: dict,
    seed: int,
) -> None:
    """Stage entry: ``agreement.md``, ``agreement.csv``, ``agreement_cases.csv``, ``agreement.json``."""
    out_dir = Path(out_dir)
    fs, window_ms, n_samples = window_geometry(data_cfg)
    cases = evaluation_cases(read_table(records, columns=["ecg_id", "split", "included"]))
    rows = validate_annotations(read_annotations(annotations), cases, window_ms)
    per_case = case_agreement(rows, fs, n_samples, window_ms)
    boot = eval_cfg["bootstrap"]
    n_resamples, confidence = (
        int(boot["n_resamples"]),
        float(boot["confidence"]),
    )
    best = pd.read_csv(table1, keep_default_na=False, na_values=[""])
    summary = []
    for target in TARGET_NAMES:
        sel = per_case[per_case["modality"] == target].sort_values("case_id")
        ci = bca_mean(
            sel["dice"].to_numpy(), n_resamples, confidence, row_seed(seed, f"agreement|{target}")
        )
        summary.append(
            {
                "modality": TARGET_NAMES[target],
                "n": ci.n,
                "annotator_dice": ci.mean,
                "annotator_dice_low": ci.low,
                "annotator_dice_high": ci.high,
                "annotator_dice_reason": ci.reason,
                "same_diagnosis": float(sel["same_diagnosis"].mean()) if len(sel) else np.nan,
                **_best(best, target),
            }
        )
    df = pd.DataFrame(summary)
    annotators = sorted(rows["annotator"].unique())
    with atomic_write(out_dir / "agreement.csv") as tmp:
        df.to_csv(tmp, index=False)
    with atomic_write(out_dir / "agreement_cases.csv") as tmp:
        per_case.to_csv(tmp, index=False)
    with atomic_write(out_dir / "agreement.md") as tmp:
        tmp.write_text(to_markdown(df, annotators, confidence, n_resamples, seed))
    write_json(
        {
            "annotators": annotators,
            "policy": eval_cfg["annotators"],
            "human_ceiling": {
                r["modality"]: {
                    "n": int(r["n"]),
                    "annotator_dice": r["annotator_dice"],
                    "ci": [r["annotator_dice_low"], r["annotator_dice_high"]],
                    "best_configuration_dice": r["best_dice_mean"],
                    "best_below_ceiling": bool(r["best_dice_mean"] < r["annotator_dice"]),
                }
                for r in summary
            },
            "seed": int(seed),
            "annotations_sha256": file_sha256(annotations),
            "versions": package_versions(),
        },
        out_dir / "agreement.json",
    )
    log.info("agreement: %s", df[["modality", "n", "annotator_dice"]].to_dict("records"))


def to_markdown(
    df: pd.DataFrame, annotators: list[str], confidence: float, n_resamples: int, seed: int
) -> str:
    """The human ceiling table beside Table 1's best configurations."""
    head = [
        "Target",
        "n cases",
        "Inter-annotator Dice",
        "Same diagnosis",
        "Best configuration Dice",
        "Configuration",
    ]
    lines = [
        "**Inter-annotator agreement (human ceiling) beside the best configuration**",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for r in df.to_dict("records"):
        ceiling = fmt_interval(
            r["annotator_dice"],
            r["annotator_dice_low"],
            r["annotator_dice_high"],
            r["annotator_dice_reason"],
        )
        same = "n/a" if np.isnan(r["same_diagnosis"]) else f"{r['same_diagnosis']:.0%}"
        lines.append(
            f"| {r['modality']} | {r['n']} | {ceiling} | {same} | {r['best_dice']} | "
            f"{r['best_configuration']} |"
        )
    note = (
        f"Annotators: {', '.join(annotators)}. Dice between each pair of annotators per case (cells of "
        f"the leads either named), mean over pairs, then over cases ({confidence:.0%} BCa interval, "
        f"{n_resamples} resamples, seed {seed}). "
    )
    if len(annotators) < 2:
        note += "Only one annotator: no human ceiling can be measured."
    return "\n".join(lines + ["", note, ""])
