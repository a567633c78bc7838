"""Per-case metrics: Dice/IoU, the all-salient floor and Spearman."""

from __future__ import annotations

import numpy as np
import pytest
from evaluation_helpers import random_case_arrays
from scipy import stats

from cinexai.evaluation.metrics import (
    dice_iou,
    floor_dice,
    mask_share,
    spearman,
    tie_broken_ranks,
)


def test_spearman_matches_scipy_and_is_nan_for_constant_map(caplog):
    maps, masks, valid = random_case_arrays(11, n_cases=3)
    maps[2] = 0.5
    rho, reasons = spearman(maps, masks, valid, np.array([10, 11, 12]))
    for k in range(2):
        expected = stats.spearmanr(maps[k][valid[k]], masks[k][valid[k]]).statistic
        assert rho[k] == pytest.approx(expected) and reasons[k] == ""
    assert np.isnan(rho[2]) and "constant map" in reasons[2]
    assert "case 12" in caplog.text


def test_dice_iou_floor_and_mask_share_by_hand():
    pred = np.array([[1, 1, 0, 0], [0, 0, 0, 0]], dtype=bool)
    truth = np.array([[1, 0, 1, 0], [0, 0, 0, 0]], dtype=bool)
    dice, iou = dice_iou(pred, truth)
    np.testing.assert_allclose(dice, [0.5, 0.0])  # 2 * 1 / (2 + 2); nothing anywhere -> 0
    np.testing.assert_allclose(iou, [1 / 3, 0.0])
    valid = np.array([[1, 1, 1, 0], [1, 1, 1, 1]], dtype=bool)
    np.testing.assert_allclose(mask_share(truth, valid), [2 / 3, 0.0])
    np.testing.assert_allclose(floor_dice(np.array([1 / 3, 1.0])), [0.5, 1.0])


def test_tie_broken_ranks_keep_the_map_order():
    maps = np.array([[0.2, 0.9, 0.2, 0.0, 0.5]])
    ranks = tie_broken_ranks(maps, np.ones_like(maps, bool), np.array([7]), seed=0)
    assert ranks[0, 1] == 5 and ranks[0, 4] == 4 and ranks[0, 3] == 1
    assert sorted(ranks[0, [0, 2]].tolist()) == [2, 3]
    padded = tie_broken_ranks(maps, np.array([[True, True, False, True, True]]), np.array([7]), 0)
    assert padded[0].tolist() == [2.0, 4.0, 0.0, 1.0, 3.0]  # padding cells get 0
