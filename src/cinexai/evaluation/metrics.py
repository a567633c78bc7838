"""Dice, IoU and Spearman between importance maps and expert masks (paper section 3.6).

Arrays are ``(n_cases, n_cells)`` over the scored cells, padded where cases differ in size; the
boolean ``valid`` marks real cells (the threshold sweep lives in
:mod:`cinexai.evaluation.threshold`).
Dice = 2|P & M| / (|P| + |M|), IoU = |P & M| / |P | M| (0 when both sets are empty; expert masks
are never empty after :mod:`cinexai.evaluation.annotations`). The all-salient floor is the Dice of
marking every cell: with mask share p it is 2p / (1 + p), i.e. the Dice at threshold 0.
:func:`tie_broken_ranks` is the cell ranking of a map that the rank-based localisation metrics and
the faithfulness curves share.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy import stats

log = logging.getLogger(__name__)


def dice_iou(pred: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dice and IoU of boolean arrays over their last axis (any leading shape broadcasts).

    Cells outside the scored set must be False in both ``pred`` and ``truth``.
    """
    tp = np.count_nonzero(pred & truth, axis=-1)
    n_pred = np.count_nonzero(pred, axis=-1)
    n_true = np.count_nonzero(truth, axis=-1)
    return _ratio(2 * tp, n_pred + n_true), _ratio(tp, n_pred + n_true - tp)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num, den = np.broadcast_arrays(num, den)
    return np.divide(num, den, out=np.zeros(num.shape, dtype=np.float64), where=den > 0)


def mask_share(masks: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Fraction p of scored cells inside the expert mask, per case."""
    return np.count_nonzero(masks & valid, axis=1) / np.count_nonzero(valid, axis=1)


def floor_dice(p: np.ndarray) -> np.ndarray:
    """All-salient floor 2p / (1 + p): the Dice of declaring every scored cell salient."""
    return 2 * p / (1 + p)


def spearman(
    maps: np.ndarray, masks: np.ndarray, valid: np.ndarray, case_ids: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    """Spearman's rho (scipy) between each case's continuous map and its binary mask.

    Returns rho per case and a reason per case ('' when defined). rho is NaN, with the reason
    logged, when the map or the mask is constant over the scored cells.
    """
    rho = np.full(len(maps), np.nan)
    reasons = []
    for k, case in enumerate(case_ids):
        x, y = maps[k][valid[k]], masks[k][valid[k]]
        if np.ptp(x) == 0 or np.ptp(y.astype(np.int8)) == 0:
            what = "map" if np.ptp(x) == 0 else "mask"
            reason = f"constant {what} over the scored cells"
            log.warning("spearman undefined for case %s: %s", case, reason)
            reasons.append(reason)
            continue
        rho[k] = stats.spearmanr(x, y).statistic
        reasons.append("")
    return rho, reasons


def tie_broken_ranks(
    maps: np.ndarray, valid: np.ndarray, case_ids: np.ndarray, seed: int
) -> np.ndarray:
    """Rank score per cell: n_valid - position in the descending order (ties in seeded random order).

    ``maps`` and ``valid`` are ``(n_cases, n_cells)``; padding cells get 0. The random order of a
    case is drawn from ``default_rng([seed, case_id])``, so it is the same for every method.
    """
    ranks = np.zeros(maps.shape, dtype=np.float64)
    for k, case in enumerate(case_ids):
        cells = np.flatnonzero(valid[k])
        jitter = np.random.default_rng([int(seed), int(case)]).permutation(len(cells))
        order = np.lexsort((jitter, -maps[k, cells]))  # most relevant first
        ranks[k, cells[order]] = np.arange(len(cells), 0, -1, dtype=np.float64)
    return ranks
