"""Controls of the alignment metrics: the oracle attribution and the control checks.

* ``oracle``: Phi = s * (expert mask + N(0, oracle_noise^2)) with s = -1 for expert-normal cases,
  so sign alignment (Phi' = -Phi for normal) returns mask + noise; it must score near 1. Under
  ``evaluation.annotators: each`` the expert mask is the union of the annotators' masks
  (:func:`cinexai.evaluation.annotations.pooled_masks`), so the oracle is scored against each
  annotator's own mask like any other method.
* ``random`` and the model-randomised Integrated Gradients are attribution methods like any other
  (produced by :mod:`cinexai.attribution`); here they are only selected and compared.
"""

from __future__ import annotations

import logging
import os
import zlib
from typing import Any

import numpy as np
import pandas as pd

from cinexai import grid
from cinexai.evaluation.annotations import pooled_masks
from cinexai.evaluation.score import target_of
from cinexai.io import (
    file_sha256,
    package_versions,
    read_metadata,
    read_table,
    write_table,
)

log = logging.getLogger(__name__)

ORACLE = "oracle"


def source_channels(source: str) -> tuple[str, ...]:
    """Channels of an attribution file of ``source``."""
    return grid.source(source).channels


def oracle_phi(
    masks: pd.DataFrame,
    channels: tuple[str, ...],
    n_samples: int,
    noise: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Oracle Phi ``(n_cases, n_channels, n_samples)`` and its case ids.

    Channels without a mask (unnamed leads) get noise only; normal cases are sign-flipped.
    """
    cases = np.sort(masks["case_id"].unique())
    truth = np.zeros((len(cases), len(channels), n_samples))
    present = masks[masks["channel"].isin(channels)]
    ci = np.searchsorted(cases, present["case_id"].to_numpy())
    chi = pd.Index(channels).get_indexer(present["channel"])
    truth[ci, chi, present["t"].to_numpy(dtype=int)] = present["mask"].to_numpy(dtype=float)
    normal = masks.groupby("case_id")["diagnosis"].first().reindex(cases).to_numpy() == "normal"
    sign = np.where(normal, -1.0, 1.0)[:, None, None]
    return sign * (truth + rng.normal(0.0, noise, truth.shape)), cases


def oracle(
    *, masks: str | os.PathLike[str], source: str, out: str | os.PathLike[str], cfg: dict, seed: int
) -> None:
    """Stage entry: write the oracle control as ``attributions/source=S/method=oracle`` file.

    ``cfg`` is ``config["evaluation"]`` (``oracle_noise``). The noise generator is
    seeded with ``[seed, crc32(source)]``.
    """
    target = target_of(source)
    channels = source_channels(source)
    mask_df = pooled_masks(read_table(masks, filters=[("modality", "==", target)]))
    if mask_df.empty:
        raise ValueError(f"oracle[{source}]: masks file {masks} has no {target} annotations")
    mask_meta = read_metadata(masks)
    n_samples = int(mask_meta.get("n_samples", mask_df["t"].max() + 1))
    fs = float(mask_meta.get("fs", 500.0))
    noise = float(cfg["oracle_noise"])
    rng_seed = [int(seed), zlib.crc32(source.encode())]
    phi, cases = oracle_phi(mask_df, channels, n_samples, noise, np.random.default_rng(rng_seed))
    n_case, n_ch = len(cases), len(channels)
    t = np.tile(np.arange(n_samples, dtype=np.int16), n_case * n_ch)
    table = pd.DataFrame(
        {
            "case_id": np.repeat(cases, n_ch * n_samples).astype(np.int64),
            "channel": np.tile(np.repeat(np.array(channels), n_samples), n_case),
            "t": t,
            "time_ms": (t * (1000.0 / fs)).astype(np.float32),
            "phi": phi.reshape(-1).astype(np.float32),
        }
    )
    log.info("oracle[%s]: %d cases x %d channels, noise sd %.3g", source, n_case, n_ch, noise)
    write_table(
        table,
        out,
        {
            "source": source,
            "method": ORACLE,
            "registered_method": ORACLE,
            "params": {"oracle_noise": noise},
            "baseline": None,
            "output": None,
            "one_pass": None,
            "seed": int(seed),
            "rng_seed": rng_seed,
            "model_sha256": None,
            "masks_sha256": file_sha256(masks),
            "channels": list(channels),
            "fs": fs,
            "n_samples": n_samples,
            "versions": package_versions(),
        },
    )


CHECK_DEFINITIONS = {
    "best_beats_random": "BCa lower bound of the best configuration's mean Dice > BCa upper bound "
    "of the random control at its own best (non-overlapping intervals)",
    "best_beats_floor": "BCa lower bound of the best configuration's mean Dice > mean all-salient "
    "floor 2p/(1+p) over the same cases",
    "randomized_toward_floor": "each model-randomised control, under the best configuration's "
    "post-processing and source, has a smaller mean Dice minus mean "
    "floor than the best configuration",
    "oracle_near_one": "the oracle's mean Dice at its own best >= oracle_min_dice",
}


def _bound(row: pd.Series, side: str) -> float:
    """A CI bound, or the mean where the interval is undefined (degenerate group)."""
    value = row[f"dice_{side}"]
    return float(row["dice"] if np.isnan(value) else value)


def _pick(controls: pd.DataFrame, modality: str, control: str, selection: str) -> pd.Series | None:
    sel = controls[
        (controls["modality"] == modality)
        & (controls["control"] == control)
        & (controls["selection"] == selection)
        & (controls["n"] > 0)
    ]
    return None if sel.empty else sel.iloc[0]


def control_checks(
    table1: pd.DataFrame, controls: pd.DataFrame, names: list[str], cfg: dict
) -> dict[str, Any]:
    """Machine-readable sanity checks (booleans; null when a control is absent) per target.

    Top-level values hold over every target where the check applies; ``per_target`` gives
    the values and numbers behind them; ``definitions`` states each check.
    """
    min_oracle = float(cfg["oracle_min_dice"])
    randomized = [c for c in names if c not in ("random", ORACLE)]
    per_target: dict[str, dict[str, Any]] = {}
    for ref in table1[table1["n"] > 0].to_dict("records"):
        mod = ref["modality"]
        gap = ref["dice"] - ref["floor_dice"]
        res: dict[str, Any] = {
            "best_dice": ref["dice"],
            "best_dice_low": ref["dice_low"],
            "best_floor": ref["floor_dice"],
            "best_beats_floor": bool(_bound(pd.Series(ref), "low") > ref["floor_dice"]),
        }
        rnd = _pick(controls, mod, "random", "own best")
        if rnd is not None:
            res["random_dice_high"] = _bound(rnd, "high")
            res["best_beats_random"] = bool(_bound(pd.Series(ref), "low") > res["random_dice_high"])
        orc = _pick(controls, mod, ORACLE, "own best")
        if orc is not None:
            res["oracle_dice"] = float(orc["dice"])
            res["oracle_near_one"] = bool(orc["dice"] >= min_oracle)
        gaps = {}
        for name in randomized:
            row = _pick(controls, mod, name, "best configuration's post-processing")
            if row is not None:
                gaps[name] = float(row["dice"] - row["floor_dice"])
        if gaps:
            res["randomized_gap"], res["best_gap"] = gaps, float(gap)
            # how much of the best configuration's lead over the floor survives randomisation
            res["randomized_gap_share"] = {k: g / gap if gap > 0 else None for k, g in gaps.items()}
            res["randomized_toward_floor"] = bool(all(g < gap for g in gaps.values()))
        per_target[mod] = res
    out: dict[str, Any] = {}
    for check in CHECK_DEFINITIONS:
        values = [r[check] for r in per_target.values() if check in r]
        out[check] = bool(all(values)) if values else None
    return {
        **out,
        "per_target": per_target,
        "definitions": CHECK_DEFINITIONS,
        "oracle_min_dice": min_oracle,
    }
