"""Score one (source, arch, method, post-processing) configuration against the expert masks.

Target modality: each source's target in :data:`cinexai.grid.SOURCES` (``ecg12`` annotations score
source ``ecg12``; ``cineecg`` annotations score sources ``cineecg`` and ``mapped``). Per case: Phi'
= -Phi for expert-normal cases, post-processing to [0, 1] over the scored cells (named leads x
samples for ecg12, x/y/z x samples for cineecg), Dice/IoU at every threshold of the grid, the
chosen threshold, Spearman between the continuous map and the mask, the all-salient floor, and
the Quantus localisation metrics of the same map and mask (:mod:`cinexai.evaluation.localisation`:
relevance mass and rank accuracy, AUC, Top-K intersection). Cells outside the scored set (unnamed
leads) are ignored.

Under ``evaluation.annotators: each`` the masks hold one block per annotator and
:func:`score_each` scores the configuration against each annotator's mask; a case's Dice/IoU
sweep, Spearman, mask share and floor are the means over its annotators (one row per case, so the
bootstrap counts a case once), the threshold is chosen on that mean sweep, and the per-annotator
values are kept in the column ``per_annotator`` (JSON; key ``*`` under a combining policy).
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cinexai import grid
from cinexai.evaluation import postprocessing as pp
from cinexai.evaluation import threshold as thr
from cinexai.evaluation.annotations import COMBINED
from cinexai.evaluation.localisation import COLUMNS as LOCALISATION
from cinexai.evaluation.localisation import localisation
from cinexai.evaluation.metrics import floor_dice, mask_share, spearman
from cinexai.io import file_sha256, package_versions, read_metadata, read_table, write_table

log = logging.getLogger(__name__)


#: Attribution-file keys that identify a configuration (metadata, else the hive path).
IDENTITY = ("source", "arch", "method")


def target_of(source: str) -> str:
    """Annotation modality that scores ``source``."""
    return grid.target_of(source)


def attribution_identity(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Metadata of an attribution file, with ``source``/``arch``/``method`` from the hive path if
    absent."""
    meta = dict(read_metadata(path))
    for key in IDENTITY:
        if key not in meta:
            found = re.search(rf"{key}=([^/\\]+)", str(Path(path)))
            if not found:
                raise ValueError(f"attribution file {path} names no {key} (metadata or path)")
            meta[key] = found.group(1)
    meta.setdefault("registered_method", meta["method"])
    return meta


def scored_cells(
    masks: pd.DataFrame, attributions: pd.DataFrame, label: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Padded ``(n_cases, n_cells)`` arrays phi, mask, valid for the masks' cells, plus case ids.

    Raises ValueError naming a case with no attribution rows, or a missing/duplicated cell.
    """
    keys = ["case_id", "channel", "t"]
    dup = attributions.duplicated(keys)
    if dup.any():
        row = attributions.loc[dup].iloc[0]
        raise ValueError(
            f"{label}: duplicated attribution cell case {row['case_id']}, "
            f"channel {row['channel']}, t {row['t']}"
        )
    cases = masks["case_id"].unique()
    absent = sorted(set(cases.tolist()) - set(attributions["case_id"].unique().tolist()))
    if absent:
        raise ValueError(
            f"{label}: annotated case {absent[0]} has no attribution rows "
            f"({len(absent)} such case(s): {absent})"
        )
    merged = masks[keys + ["mask"]].merge(attributions[keys + ["phi"]], on=keys, how="left")
    hole = merged["phi"].isna()
    if hole.any():
        row = merged.loc[hole].iloc[0]
        raise ValueError(
            f"{label}: case {row['case_id']} lacks attribution for channel "
            f"{row['channel']!r} (t={row['t']}; {int(hole.sum())} cells missing "
            "or NaN)"
        )
    case_index = pd.Index(cases)
    rows = case_index.get_indexer(merged["case_id"])
    cols = merged.groupby("case_id", sort=False).cumcount().to_numpy()
    shape = (len(cases), int(cols.max()) + 1)
    phi, mask, valid = np.zeros(shape), np.zeros(shape, bool), np.zeros(shape, bool)
    phi[rows, cols] = merged["phi"].to_numpy(dtype=np.float64)
    mask[rows, cols] = merged["mask"].to_numpy(dtype=bool)
    valid[rows, cols] = True
    return phi, mask, valid, np.asarray(cases, dtype=np.int64)


def case_predictions(predictions: pd.DataFrame, cases: np.ndarray, label: str) -> np.ndarray:
    """Model prediction (0/1) per case, in ``cases`` order; ValueError names a missing case."""
    sel = predictions[predictions["id"].isin(cases)].drop_duplicates(["id", "pred"])
    if sel["id"].duplicated().any():
        raise ValueError(
            f"{label}: conflicting predictions for case "
            f"{sel.loc[sel['id'].duplicated(), 'id'].iloc[0]}"
        )
    pred = sel.set_index("id")["pred"].reindex(cases)
    if pred.isna().any():
        raise ValueError(
            f"{label}: no model prediction for annotated case {int(pred.index[pred.isna()][0])}"
        )
    return pred.to_numpy(dtype=np.int8)


def score_arrays(
    phi: np.ndarray,
    mask: np.ndarray,
    valid: np.ndarray,
    normal: np.ndarray,
    postprocessing: str,
    thresholds: np.ndarray,
    mode: str,
    case_ids: np.ndarray,
    top_k_fraction: float,
    seed: int,
) -> dict[str, np.ndarray | list[str]]:
    """All per-case metrics for one configuration; also the full Dice/IoU sweep.

    Besides Dice/IoU/Spearman: the Quantus localisation metrics of
    :mod:`cinexai.evaluation.localisation` on the same post-processed map and mask.
    """
    maps = pp.apply(postprocessing, pp.align_sign(phi, normal), valid)
    dice, iou = thr.sweep(maps, mask, valid, thresholds)
    chosen = thr.choose(dice, thresholds, mode)
    rows = np.arange(len(case_ids))
    rho, reasons = spearman(maps, mask, valid, case_ids)
    p = mask_share(mask, valid)
    local, local_reasons = localisation(maps, mask, valid, case_ids, top_k_fraction, seed)
    return {
        **local,
        "localisation_reason": local_reasons,
        "threshold": thresholds[chosen],
        "dice": dice[rows, chosen],
        "iou": iou[rows, chosen],
        "spearman": rho,
        "spearman_reason": reasons,
        "mask_share": p,
        "floor_dice": floor_dice(p),
        "dice_sweep": dice,
        "iou_sweep": iou,
    }


def _nanmean(values: list[float]) -> float:
    """Mean of the defined values (NaN if none)."""
    defined = [v for v in values if not np.isnan(v)]
    return float(np.mean(defined)) if defined else float("nan")


def _per_annotator_json(values: dict[str, dict[str, float]]) -> str:
    """``{annotator: {dice, iou, spearman}}`` as JSON (NaN written as null)."""
    clean = {
        a: {k: (None if np.isnan(v) else float(v)) for k, v in m.items()} for a, m in values.items()
    }
    return json.dumps(clean, sort_keys=True)


def score_each(
    mask_df: pd.DataFrame,
    attr: pd.DataFrame,
    postprocessing: str,
    thresholds: np.ndarray,
    mode: str,
    label: str,
    top_k_fraction: float,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Score against each annotator's mask; per case the mean over its annotators.

    Returns the sorted case ids, their diagnosis and :func:`score_arrays`' keys (the sweeps are the
    per-case means over annotators, the threshold is chosen on them) plus ``per_annotator``: one
    JSON string per case with each annotator's Dice/IoU at the chosen threshold and Spearman.
    Spearman and the localisation metrics are the means over the annotators where they are
    defined (NaN, with the reasons, if none).
    """
    cases = np.sort(mask_df["case_id"].unique())
    diagnosis = mask_df.groupby("case_id")["diagnosis"].first().reindex(cases)
    n_thr = len(thresholds)
    dice_sum, iou_sum = np.zeros((len(cases), n_thr)), np.zeros((len(cases), n_thr))
    count, share_sum, floor_sum = np.zeros(len(cases)), np.zeros(len(cases)), np.zeros(len(cases))
    per: list[dict[str, Any]] = [{} for _ in cases]
    local: dict[str, list[list[float]]] = {c: [[] for _ in cases] for c in LOCALISATION}
    local_reasons: list[set[str]] = [set() for _ in cases]
    for name, block in mask_df.groupby("annotator", sort=True):
        phi, mask, valid, ids = scored_cells(block, attr, f"{label} annotator {name}")
        normal = diagnosis.reindex(ids).to_numpy() == "normal"
        res = score_arrays(
            phi, mask, valid, normal, postprocessing, thresholds, mode, ids, top_k_fraction, seed
        )
        rows = np.searchsorted(cases, ids)
        dice_sum[rows] += res["dice_sweep"]
        iou_sum[rows] += res["iou_sweep"]
        share_sum[rows] += res["mask_share"]
        floor_sum[rows] += res["floor_dice"]
        count[rows] += 1
        for k, row in enumerate(rows):
            for c in LOCALISATION:
                local[c][row].append(res[c][k])
            local_reasons[row].add(res["localisation_reason"][k])
            per[row][str(name)] = (
                res["dice_sweep"][k],
                res["iou_sweep"][k],
                res["spearman"][k],
                res["spearman_reason"][k],
            )
    dice, iou = dice_sum / count[:, None], iou_sum / count[:, None]
    chosen = thr.choose(dice, thresholds, mode)
    rho, reasons, per_json = np.full(len(cases), np.nan), [], []
    for k, values in enumerate(per):
        rhos = [v[2] for v in values.values() if not np.isnan(v[2])]
        rho[k] = np.mean(rhos) if rhos else np.nan
        reasons.append("" if rhos else "; ".join(sorted({v[3] for v in values.values()})))
        per_json.append(
            _per_annotator_json(
                {
                    a: {"dice": v[0][chosen[k]], "iou": v[1][chosen[k]], "spearman": v[2]}
                    for a, v in values.items()
                }
            )
        )
    rows = np.arange(len(cases))
    means = {c: np.array([_nanmean(v) for v in local[c]]) for c in LOCALISATION}
    return (
        cases,
        diagnosis.to_numpy(),
        {
            **means,
            "localisation_reason": [
                "" if np.isfinite(means[LOCALISATION[0]][k]) else "; ".join(sorted(r - {""}))
                for k, r in enumerate(local_reasons)
            ],
            "threshold": thresholds[chosen],
            "dice": dice[rows, chosen],
            "iou": iou[rows, chosen],
            "spearman": rho,
            "spearman_reason": reasons,
            "mask_share": share_sum / count,
            "floor_dice": floor_sum / count,
            "dice_sweep": dice,
            "iou_sweep": iou,
            "per_annotator": per_json,
        },
    )


def score(
    *,
    attributions: str | os.PathLike[str],
    masks: str | os.PathLike[str],
    predictions: str | os.PathLike[str],
    out: str | os.PathLike[str],
    out_sweep: str | os.PathLike[str],
    postprocessing: str,
    cfg: dict,
    seed: int,
) -> None:
    """Stage entry: score one attribution file under one post-processing.

    ``cfg`` is ``config["evaluation"]`` (``threshold``, ``threshold_step``,
    ``localisation.top_k_fraction``); ``seed`` orders tied cells (rank metrics). ``predictions`` is
    the predictions file of the model the attributions explain (the source's modality and the
    architecture); it gives ``pred`` and ``agreement``.
    """
    meta = attribution_identity(attributions)
    source, arch, method = meta["source"], meta["arch"], meta["method"]
    target = target_of(source)
    label = f"score[source={source}, arch={arch}, method={method}, postprocessing={postprocessing}]"
    if postprocessing not in pp.REGISTRY:
        raise KeyError(f"{label}: unknown post-processing; known: {sorted(pp.REGISTRY)}")
    mode = cfg["threshold"]
    thresholds = thr.threshold_grid(float(cfg["threshold_step"]))
    top_k = float(cfg["localisation"]["top_k_fraction"])

    mask_df = read_table(masks, filters=[("modality", "==", target)])
    if mask_df.empty:
        raise ValueError(f"{label}: masks file {masks} has no {target} annotations")
    attr = read_table(attributions, columns=["case_id", "channel", "t", "phi"])
    attr = attr[attr["case_id"].isin(mask_df["case_id"].unique())]
    if "annotator" in mask_df.columns and (mask_df["annotator"] != COMBINED).any():
        cases, diagnosis, res = score_each(
            mask_df, attr, postprocessing, thresholds, mode, label, top_k, int(seed)
        )
    else:
        phi, mask, valid, cases = scored_cells(mask_df, attr, label)
        diagnosis = mask_df.groupby("case_id")["diagnosis"].first().reindex(cases).to_numpy()
        res = score_arrays(
            phi,
            mask,
            valid,
            diagnosis == "normal",
            postprocessing,
            thresholds,
            mode,
            cases,
            top_k,
            int(seed),
        )
        res["per_annotator"] = [
            _per_annotator_json({COMBINED: {"dice": d, "iou": i, "spearman": r}})
            for d, i, r in zip(res["dice"], res["iou"], res["spearman"], strict=True)
        ]
    pred = case_predictions(read_table(predictions), cases, label)
    table = pd.DataFrame(
        {
            "case_id": cases,
            "source": source,
            "arch": arch,
            "method": method,
            "registered_method": meta["registered_method"],
            "postprocessing": postprocessing,
            "target": target,
            "diagnosis": diagnosis,
            "pred": pred,
            "agreement": pred.astype(bool) == (diagnosis == "abnormal"),
            "threshold": res["threshold"],
            "threshold_mode": mode,
            "dice": res["dice"],
            "iou": res["iou"],
            "spearman": res["spearman"],
            "spearman_reason": res["spearman_reason"],
            "mask_share": res["mask_share"],
            "floor_dice": res["floor_dice"],
            "per_annotator": res["per_annotator"],
            **{c: res[c] for c in LOCALISATION},
            "localisation_reason": res["localisation_reason"],
        }
    )
    n_thr = len(thresholds)
    sweep = pd.DataFrame(
        {
            "source": source,
            "arch": arch,
            "method": method,
            "postprocessing": postprocessing,
            "target": target,
            "case_id": np.repeat(cases, n_thr),
            "threshold": np.tile(thresholds, len(cases)),
            "dice": res["dice_sweep"].ravel(),
            "iou": res["iou_sweep"].ravel(),
            "mean_dice": np.tile(res["dice_sweep"].mean(axis=0), len(cases)),
        }
    )
    provenance = {
        "source": source,
        "arch": arch,
        "method": method,
        "registered_method": meta["registered_method"],
        "postprocessing": postprocessing,
        "target": target,
        "threshold_mode": mode,
        "thresholds": {"start": 0.0, "stop": 1.0, "n": n_thr},
        "seed": int(seed),
        "n_cases": len(cases),
        "mean_dice": float(table["dice"].mean()),
        "config": cfg,
        "attribution": meta,
        "inputs_sha256": {
            "attributions": file_sha256(attributions),
            "masks": file_sha256(masks),
            "predictions": file_sha256(predictions),
        },
        "versions": package_versions(),
    }
    log.info(
        "%s: %d cases, mean Dice %.3f (threshold %s)", label, len(cases), table["dice"].mean(), mode
    )
    write_table(sweep, out_sweep, provenance)
    write_table(table, out, provenance)


def score_postprocessings(
    *,
    attributions: str | os.PathLike[str],
    masks: str | os.PathLike[str],
    predictions: str | os.PathLike[str],
    outputs: Sequence[str | os.PathLike[str]],
    sweeps: Sequence[str | os.PathLike[str]],
    postprocessing: Sequence[str],
    cfg: dict,
    seed: int,
) -> None:
    """Stage entry: :func:`score` under every post-processing of one attribution file, so one
    job pays one start-up; ``outputs[i]`` and ``sweeps[i]`` receive ``postprocessing[i]``."""
    if not len(outputs) == len(sweeps) == len(postprocessing):
        raise ValueError(
            f"{len(outputs)} score and {len(sweeps)} sweep files for "
            f"{len(postprocessing)} post-processings {list(postprocessing)}"
        )
    for name, out, out_sweep in zip(postprocessing, outputs, sweeps, strict=True):
        score(
            attributions=attributions,
            masks=masks,
            predictions=predictions,
            out=out,
            out_sweep=out_sweep,
            postprocessing=name,
            cfg=cfg,
            seed=seed,
        )
