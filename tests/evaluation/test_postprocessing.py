"""Sign alignment and the post-processings (positive, absolute, scaled)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from cinexai.evaluation import postprocessing as pp


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
