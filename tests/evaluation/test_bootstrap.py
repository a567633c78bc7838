"""BCa intervals: agreement with scipy, reproducible saved indices, degenerate groups."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from cinexai.evaluation.bootstrap import bca_mean, nanmean, resample_indices, row_seed


def test_bca_matches_scipy_and_indices_reproduce_distribution():
    x = np.random.default_rng(0).beta(2, 3, size=20)
    seed = row_seed(0, "ecg12|integrated_gradients|absolute")
    iv = bca_mean(x, 2000, 0.95, seed)
    ref = stats.bootstrap(
        (x,),
        np.mean,
        n_resamples=2000,
        confidence_level=0.95,
        method="BCa",
        rng=np.random.default_rng(seed),
    )
    assert iv.low == pytest.approx(ref.confidence_interval.low)
    assert iv.high == pytest.approx(ref.confidence_interval.high)
    assert iv.indices.shape == (2000, 20)
    np.testing.assert_allclose(x[iv.indices].mean(axis=1), ref.bootstrap_distribution)
    np.testing.assert_array_equal(iv.indices, resample_indices(20, 2000, seed))
    assert iv.low < x.mean() < iv.high and iv.mean == pytest.approx(x.mean())
    assert iv.reason == ""


def test_seed_changes_indices_and_nan_values_keep_their_place():
    x = np.random.default_rng(1).normal(size=12)
    x[3] = np.nan
    a = bca_mean(x, 500, 0.95, [0, 1])
    b = bca_mean(x, 500, 0.95, [0, 2])
    assert not np.array_equal(a.indices, b.indices)
    assert a.n == 12 and a.n_defined == 11 and a.mean == pytest.approx(np.nanmean(x))
    np.testing.assert_array_equal(nanmean(x[a.indices]), a.distribution)


@pytest.mark.parametrize(
    "values, reason",
    [
        ([], "empty group"),
        ([0.4], "n=1"),
        ([0.3, 0.3, 0.3], "all values equal"),
        ([np.nan, np.nan], "no defined value"),
    ],
)
def test_degenerate_group_gives_nan_bounds_with_reason(values, reason):
    iv = bca_mean(values, 200, 0.95, [0, 0])
    assert np.isnan(iv.low) and np.isnan(iv.high) and iv.reason == reason
    assert iv.indices is None
    if reason in ("n=1", "all values equal"):
        assert iv.mean == pytest.approx(values[0])
