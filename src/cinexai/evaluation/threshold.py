"""Vectorised threshold sweep and threshold choice (paper section 3.6).

Thresholds run over [0, 1] with ``threshold_step``; a cell is salient when ``map >= threshold``.
All thresholds are evaluated at once by broadcasting ``(cases, 1, cells) >= (1, thresholds, 1)``.
Threshold modes:

* ``per_configuration`` (default): one threshold for the whole configuration, the one that
  maximises the mean Dice over cases;
* ``per_case``: each case takes the threshold that maximises its own Dice.

Ties go to the smallest threshold (``numpy.argmax``). Threshold 0 marks every cell salient, so the
chosen Dice is never below the all-salient floor (per case, or in the mean over cases).
"""

from __future__ import annotations

import numpy as np

from cinexai.evaluation.metrics import dice_iou

MODES = ("per_configuration", "per_case")


def threshold_grid(step: float) -> np.ndarray:
    """Thresholds 0, step, ..., 1 (inclusive) without floating drift."""
    n = int(round(1.0 / step))
    if n <= 0 or not np.isclose(n * step, 1.0):
        raise ValueError(f"threshold_step {step} must divide 1 (e.g. 0.01)")
    return np.round(np.linspace(0.0, 1.0, n + 1), 10)


def sweep(
    maps: np.ndarray, masks: np.ndarray, valid: np.ndarray, thresholds: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Dice and IoU of every case at every threshold: two ``(n_cases, n_thresholds)`` arrays."""
    valid = np.asarray(valid, dtype=bool)
    truth = np.asarray(masks, dtype=bool) & valid
    pred = np.asarray(maps)[:, None, :] >= np.asarray(thresholds)[None, :, None]
    return dice_iou(pred & valid[:, None, :], truth[:, None, :])


def choose(dice: np.ndarray, thresholds: np.ndarray, mode: str) -> np.ndarray:
    """Index into ``thresholds`` chosen for each case under ``mode`` (one index repeated for
    ``per_configuration``)."""
    if mode == "per_configuration":
        return np.full(dice.shape[0], int(np.argmax(dice.mean(axis=0))))
    if mode == "per_case":
        return np.argmax(dice, axis=1)
    raise ValueError(f"unknown threshold mode {mode!r}; expected one of {MODES}")
