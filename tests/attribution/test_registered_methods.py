"""Checks every registered method gets automatically: shape, seeding, determinism, Eq. 1 one pass.

Parametrised over ``registry.available()``, so a newly registered method is tested without editing
this file. ``CHEAP`` only lowers sample counts of the known methods to keep the tests fast; a
method not named there runs with its registered defaults.  ``NEEDS_FITTED_STATE`` methods are
excluded: they ignore the forward function these checks pass and explain through a state fitted
by their own stage (see each entry's reason); their own tests cover them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from cinexai import grid
from cinexai.attribution import base, registry

CHEAP = {
    "integrated_gradients": {"n_steps": 8, "nt_samples": 4},
    "gradient_shap": {"n_samples": 8},
    "lime": {"num_samples": 120},
}
#: Methods these generic checks cannot run, with the reason and where they are tested instead.
NEEDS_FITTED_STATE = {
    "latent_clusters": "reads the residual-block activations of a cinexai ResNet through the "
    "clusterer and forest fitted by fit_clusters (ctx.cache), not the forward function; tested "
    "in tests/attribution/test_latent_clusters.py and tests/clusters/",
}
METHODS = [name for name in registry.available() if name not in NEEDS_FITTED_STATE]
N, C = 2, 3


def _phi(h: Any, name: str, seed: int = 3, one_pass: bool = True) -> np.ndarray:
    registered, params = registry.resolve(name, CHEAP.get(name, {}))
    ctx = h.context(C, params, seed=seed)
    ctx.case_ids = np.array([11, 12])
    # a method defined on the IMN only (intrinsic) reads an IMN; every other method a ResNet
    imn_only = grid.method_architectures(registered) == ("imn",)
    ctx.model = h.imn(C) if imn_only else h.model(C)
    f = base.output_function(ctx.model, "probability")
    return base.bipolar_phi(registry.get(registered), f, h.inputs(N, C), ctx, one_pass)


def test_the_registry_lists_the_grid_methods():
    assert {"integrated_gradients", "gradient_shap", "kernel_shap", "lime", "random"} <= set(
        METHODS
    )


def test_only_known_methods_are_excluded_and_they_refuse_without_their_state(h: Any) -> None:
    assert set(NEEDS_FITTED_STATE) <= set(registry.available())
    for name in NEEDS_FITTED_STATE:
        with pytest.raises(ValueError, match="fit"):
            _phi(h, name)


@pytest.mark.parametrize("name", METHODS)
def test_shape_dtype_and_a_nonzero_map_per_case(name: str, h: Any) -> None:
    phi = _phi(h, name)
    assert phi.shape == tuple(h.inputs(N, C).shape) and phi.dtype == np.float32
    assert np.isfinite(phi).all()
    assert (np.abs(phi).reshape(N, -1).max(axis=1) > 0).all()


@pytest.mark.parametrize("name", METHODS)
def test_seeded_from_the_context_not_the_global_state(name: str, h: Any) -> None:
    np.random.seed(123)
    torch.manual_seed(123)
    first = _phi(h, name, seed=5)
    np.random.seed(999)
    torch.manual_seed(999)
    np.random.rand(17)
    np.testing.assert_array_equal(first, _phi(h, name, seed=5))


@pytest.mark.parametrize("name", METHODS)
def test_deterministic_for_the_same_inputs(name: str, h: Any) -> None:
    np.testing.assert_array_equal(_phi(h, name), _phi(h, name))


@pytest.mark.parametrize("name", METHODS)
def test_one_pass_equals_two_passes(name: str, h: Any) -> None:
    """Eq. 1 with shared draws; model-free controls return the same map either way."""
    one, two = _phi(h, name, one_pass=True), _phi(h, name, one_pass=False)
    if registry.get(name).model_free or registry.get(name).intrinsic:
        np.testing.assert_array_equal(one, two)
    else:
        np.testing.assert_allclose(one, two, rtol=1e-4, atol=1e-6 * np.abs(two).max())
