"""The vectorised threshold sweep (Dice/IoU per case and threshold), the grid and the choice."""

from __future__ import annotations

import numpy as np
import pytest
from evaluation_helpers import random_case_arrays
from sklearn.metrics import f1_score, jaccard_score

from cinexai.evaluation import threshold as thr
from cinexai.evaluation.metrics import dice_iou, floor_dice, mask_share


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dice_iou_match_sklearn(seed):
    maps, masks, valid = random_case_arrays(seed)
    thresholds = np.array([0.0, 0.2, 0.5, 0.77, 1.0])
    dice, iou = thr.sweep(maps, masks, valid, thresholds)
    for k in range(len(maps)):
        y = masks[k][valid[k]]
        for j, t in enumerate(thresholds):
            p = maps[k][valid[k]] >= t
            assert dice[k, j] == pytest.approx(f1_score(y, p, zero_division=0.0))
            assert iou[k, j] == pytest.approx(jaccard_score(y, p, zero_division=0.0))


def test_vectorised_sweep_equals_naive_loop():
    maps, masks, valid = random_case_arrays(7, n_cases=9, n_cells=300)
    maps = np.round(maps, 2)  # values exactly on the grid exercise the >= boundary
    grid = thr.threshold_grid(0.01)
    dice, iou = thr.sweep(maps, masks, valid, grid)
    for j, t in enumerate(grid):
        d, i = dice_iou((maps >= t) & valid, masks & valid)
        np.testing.assert_array_equal(dice[:, j], d)
        np.testing.assert_array_equal(iou[:, j], i)
    assert dice.shape == (9, 101)


def test_threshold_zero_gives_all_salient_floor():
    maps, masks, valid = random_case_arrays(3)
    dice, _ = thr.sweep(maps, masks, valid, np.array([0.0]))
    np.testing.assert_allclose(dice[:, 0], floor_dice(mask_share(masks, valid)))


def test_threshold_grid_and_choice():
    grid = thr.threshold_grid(0.01)
    assert len(grid) == 101 and grid[0] == 0.0 and grid[-1] == 1.0 and 0.07 in grid
    with pytest.raises(ValueError):
        thr.threshold_grid(0.03)
    dice = np.array([[0.2, 0.9, 0.1], [0.6, 0.5, 0.8]])
    assert thr.choose(dice, grid[:3], "per_configuration").tolist() == [1, 1]
    assert thr.choose(dice, grid[:3], "per_case").tolist() == [1, 2]
    with pytest.raises(ValueError, match="unknown threshold mode"):
        thr.choose(dice, grid[:3], "global")
