"""Dice/IoU/Spearman, the vectorised threshold sweep, sign alignment and post-processing."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import f1_score, jaccard_score

from cinexai.evaluation import postprocessing as pp
from cinexai.evaluation import threshold as thr
from cinexai.evaluation.metrics import dice_iou, floor_dice, mask_share, spearman


def _random_case_arrays(seed, n_cases=6, n_cells=120):
    rng = np.random.default_rng(seed)
    maps = rng.random((n_cases, n_cells))
    masks = rng.random((n_cases, n_cells)) < rng.uniform(0.1, 0.6, (n_cases, 1))
    sizes = rng.integers(n_cells // 3, n_cells + 1, n_cases)
    valid = np.arange(n_cells)[None, :] < sizes[:, None]
    masks[:, 0] = True  # never an empty expert mask
    return maps, masks, valid


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dice_iou_match_sklearn(seed):
    maps, masks, valid = _random_case_arrays(seed)
    thresholds = np.array([0.0, 0.2, 0.5, 0.77, 1.0])
    dice, iou = thr.sweep(maps, masks, valid, thresholds)
    for k in range(len(maps)):
        y = masks[k][valid[k]]
        for j, t in enumerate(thresholds):
            p = maps[k][valid[k]] >= t
            assert dice[k, j] == pytest.approx(f1_score(y, p, zero_division=0.0))
            assert iou[k, j] == pytest.approx(jaccard_score(y, p, zero_division=0.0))


def test_vectorised_sweep_equals_naive_loop():
    maps, masks, valid = _random_case_arrays(7, n_cases=9, n_cells=300)
    maps = np.round(maps, 2)  # values exactly on the grid exercise the >= boundary
    grid = thr.threshold_grid(0.01)
    dice, iou = thr.sweep(maps, masks, valid, grid)
    for j, t in enumerate(grid):
        d, i = dice_iou((maps >= t) & valid, masks & valid)
        np.testing.assert_array_equal(dice[:, j], d)
        np.testing.assert_array_equal(iou[:, j], i)
    assert dice.shape == (9, 101)


def test_threshold_zero_gives_all_salient_floor():
    maps, masks, valid = _random_case_arrays(3)
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


def test_sign_alignment_flips_normal_cases_only():
    phi = np.arange(12, dtype=float).reshape(2, 3, 2) - 5
    out = pp.align_sign(phi, np.array([True, False]))
    np.testing.assert_array_equal(out[0], -phi[0])
    np.testing.assert_array_equal(out[1], phi[1])


@pytest.mark.parametrize("name", sorted(pp.REGISTRY))
def test_postprocessing_ranges_and_padding(name):
    rng = np.random.default_rng(5)
    phi = rng.normal(size=(4, 50))
    valid = np.ones((4, 50), bool)
    valid[1, 30:] = False
    phi[1, 30:] = 1e6  # padding must not influence the scaling
    out = pp.apply(name, phi, valid)
    assert out[valid].min() >= 0 and np.isclose(out[valid].max(), 1.0)
    np.testing.assert_allclose(out[1, :30].max(axis=-1), 1.0)
    assert (out[~valid] == 0).all()
    if name == "scaled":
        assert np.isclose(out[0].min(), 0.0)
        assert stats.spearmanr(out[0], phi[0]).statistic == pytest.approx(1.0)
    if name == "positive":
        assert (out[phi < 0] == 0).all()
    if name == "absolute":
        np.testing.assert_allclose(out[0], np.abs(phi[0]) / np.abs(phi[0]).max())


def test_postprocessing_constant_maps_are_zero_and_unknown_name_raises():
    phi = -np.ones((1, 10))
    valid = np.ones((1, 10), bool)
    assert (pp.apply("positive", phi, valid) == 0).all()
    assert (pp.apply("scaled", phi, valid) == 0).all()
    with pytest.raises(KeyError, match="unknown post-processing 'log'"):
        pp.apply("log", phi, valid)


def test_spearman_matches_scipy_and_is_nan_for_constant_map(caplog):
    maps, masks, valid = _random_case_arrays(11, n_cases=3)
    maps[2] = 0.5
    rho, reasons = spearman(maps, masks, valid, np.array([10, 11, 12]))
    for k in range(2):
        expected = stats.spearmanr(maps[k][valid[k]], masks[k][valid[k]]).statistic
        assert rho[k] == pytest.approx(expected) and reasons[k] == ""
    assert np.isnan(rho[2]) and "constant map" in reasons[2]
    assert "case 12" in caplog.text
