"""Quantus localisation metrics: the (N, C, T) rejection, equality with Quantus and formulas."""

from __future__ import annotations

import re

import numpy as np
import pytest
import quantus
from evaluation_helpers import random_case_arrays
from sklearn.metrics import roc_auc_score

from cinexai.evaluation.localisation import COLUMNS, localisation
from cinexai.evaluation.metrics import tie_broken_ranks

#: The exact error of quantus 0.6.0 for a mask with more than one channel.
NCT_ERROR = "The second dimension of the segmentations 's_batch' should be equal to 1."
METRICS = {
    "relevance_mass_accuracy": lambda k: quantus.RelevanceMassAccuracy,
    "relevance_rank_accuracy": lambda k: quantus.RelevanceRankAccuracy,
    "localisation_auc": lambda k: quantus.AUC,
    "top_k": lambda k: lambda **kw: quantus.TopKIntersection(k=k, **kw),
}


def _quantus(name, a, s, k=10):
    metric = METRICS[name](k)(abs=False, normalise=False, disable_warnings=True)
    return np.asarray(
        metric(
            model=None,
            x_batch=np.zeros(a.shape, np.float32),
            y_batch=np.zeros(len(a), int),
            a_batch=a,
            s_batch=s.astype(float),
            channel_first=True,
        )
    )


@pytest.mark.parametrize("name", list(METRICS))
def test_quantus_rejects_nct_masks_with_its_exact_error(name):
    rng = np.random.default_rng(0)
    a = rng.random((4, 12, 200))
    s = rng.random((4, 12, 200)) < 0.3
    with pytest.raises(AssertionError, match=f"^{re.escape(NCT_ERROR)}$"):
        _quantus(name, a, s)


@pytest.mark.parametrize("name", list(METRICS))
def test_equals_quantus_on_one_channel_maps(name):
    """On (N, 1, T), the shape Quantus accepts, tie-free maps give Quantus's numbers exactly."""
    rng = np.random.default_rng(1)
    a = rng.random((6, 1, 150))
    s = rng.random((6, 1, 150)) < rng.uniform(0.1, 0.6, (6, 1, 1))
    s[:, 0, 0] = True
    ours, _ = localisation(
        a[:, 0], s[:, 0], np.ones((6, 150), bool), np.arange(6), top_k_fraction=0.1, seed=0
    )
    np.testing.assert_allclose(ours[name], _quantus(name, a, s, k=15), rtol=1e-12)


def test_nct_maps_give_the_metric_formulas_over_all_cells():
    """(N, C, T) maps flattened to their cells: the four definitions, computed independently."""
    rng = np.random.default_rng(2)
    a = rng.random((5, 12, 50))
    s = rng.random((5, 12, 50)) < 0.25
    flat_a, flat_s = a.reshape(5, -1), s.reshape(5, -1)
    ours, reasons = localisation(
        flat_a, flat_s, np.ones(flat_a.shape, bool), np.arange(5), top_k_fraction=0.05, seed=0
    )
    k = 30  # 5 % of 600 cells
    for i in range(5):
        order = np.argsort(-flat_a[i])
        m = int(flat_s[i].sum())
        assert ours["relevance_mass_accuracy"][i] == pytest.approx(
            flat_a[i][flat_s[i]].sum() / flat_a[i].sum()
        )
        assert ours["relevance_rank_accuracy"][i] == pytest.approx(flat_s[i][order[:m]].mean())
        assert ours["localisation_auc"][i] == pytest.approx(roc_auc_score(flat_s[i], flat_a[i]))
        assert ours["top_k"][i] == pytest.approx(flat_s[i][order[:k]].mean())
    assert reasons == [""] * 5


def test_padded_cells_are_ignored():
    """Ragged cases: each equals Quantus on its own scored cells alone."""
    maps, masks, valid = random_case_arrays(3)
    ours, _ = localisation(maps, masks, valid, np.arange(len(maps)), top_k_fraction=0.1, seed=0)
    for i in range(len(maps)):
        a, s = maps[i][valid[i]][None, None], masks[i][valid[i]][None, None]
        k = max(1, round(0.1 * valid[i].sum()))
        for name in COLUMNS:
            assert ours[name][i] == pytest.approx(_quantus(name, a, s, k=k)[0]), name


def test_ties_are_broken_in_a_seeded_order_the_same_for_every_map():
    maps, masks, valid = random_case_arrays(4)
    zero = np.zeros_like(maps)
    ids = np.arange(100, 100 + len(maps))
    a, reasons = localisation(zero, masks, valid, ids, top_k_fraction=0.2, seed=5)
    b, _ = localisation(zero, masks, valid, ids, top_k_fraction=0.2, seed=5)
    for name in COLUMNS:
        np.testing.assert_array_equal(a[name], b[name])
    # a constant map: Quantus refuses it for mass accuracy and AUC (NaN, with the reason)
    assert np.isnan(a["relevance_mass_accuracy"]).all() and np.isnan(a["localisation_auc"]).all()
    assert reasons == ["constant map over the scored cells"] * len(maps)
    # the rank metrics are those of the seeded random order (same order as faithfulness)
    ranks = tie_broken_ranks(zero, valid, ids, seed=5)
    c, _ = localisation(ranks, masks, valid, ids, top_k_fraction=0.2, seed=5)
    np.testing.assert_array_equal(a["top_k"], c["top_k"])
    np.testing.assert_array_equal(a["relevance_rank_accuracy"], c["relevance_rank_accuracy"])
    other, _ = localisation(zero, masks, valid, ids, top_k_fraction=0.2, seed=6)
    assert not np.array_equal(other["top_k"], a["top_k"])


def test_quantus_refuses_a_constant_batch_with_its_exact_error():
    rng = np.random.default_rng(6)
    s = rng.random((3, 1, 40)) < 0.3
    with pytest.raises(AssertionError, match="all equal to zero"):
        _quantus("localisation_auc", np.zeros((3, 1, 40)), s)
    with pytest.raises(AssertionError, match="uniformly distributed"):
        _quantus("relevance_mass_accuracy", np.full((3, 1, 40), 0.5), s)


def test_constant_case_beside_varying_ones_keeps_their_values():
    maps, masks, valid = random_case_arrays(7)
    maps[2] = 0.0
    ours, reasons = localisation(maps, masks, valid, np.arange(len(maps)), 0.1, seed=0)
    assert np.isnan(ours["localisation_auc"][2]) and reasons[2] != ""
    assert np.isfinite(np.delete(ours["localisation_auc"], 2)).all()
    assert np.isfinite(ours["top_k"]).all() and np.isfinite(ours["relevance_rank_accuracy"]).all()


def test_top_k_fraction_out_of_range_names_the_key():
    maps, masks, valid = random_case_arrays(5)
    with pytest.raises(ValueError, match="evaluation.localisation.top_k_fraction"):
        localisation(maps, masks, valid, np.arange(len(maps)), top_k_fraction=1.0, seed=0)
