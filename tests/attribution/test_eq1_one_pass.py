"""Eq. 1: one pass on g = (f1 - f0)/2 equals (A1 - A0)/2 with shared random draws.

Probability output (the grid's default) and each method's default parameters, with smaller sample
counts where the equality does not depend on them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from cinexai.attribution import base, registry

#: Named variants of registered methods; each registered method itself, with its defaults, is
#: checked in test_registered_methods.py (parametrised over the registry).
CASES = {
    "integrated_gradients_ref": {
        "method": "integrated_gradients",
        "baseline": "reference_mean",
        "n_steps": 8,
        "nt_samples": 4,
    },
    "lime_all": {"method": "lime", "num_samples": 120, "num_features": "all"},
    "segment_kernel_shap_zero": {"method": "segment_kernel_shap", "baseline": "zero"},
    "segment_lime_narrow": {
        "method": "segment_lime",
        "n_samples": 120,
        "kernel_width": 1.5,
        "alpha": 0.1,
        "segment_ms": 10,
    },
}


@pytest.mark.parametrize("instance", sorted(CASES))
def test_one_pass_equals_two_pass_probability(instance: str, h: Any) -> None:
    name, params = registry.resolve(instance, CASES[instance])
    spec = registry.get(name)
    model = h.model(3)
    f = base.output_function(model, "probability")
    x = h.inputs(2, 3)
    ctx = h.context(3, params)
    ctx.case_ids = np.array([11, 12])
    one = base.bipolar_phi(spec, f, x, ctx, one_pass=True)
    two = base.bipolar_phi(spec, f, x, ctx, one_pass=False)
    assert one.shape == (2, 3, x.shape[2])
    assert np.abs(one).max() > 0
    np.testing.assert_allclose(one, two, rtol=1e-4, atol=1e-6 * np.abs(two).max())


@pytest.mark.parametrize("name", ["integrated_gradients", "gradient_shap"])
def test_one_pass_equals_two_pass_logit_for_linear_methods(name: str, h: Any) -> None:
    _, params = registry.resolve(
        name,
        {"n_steps": 8, "nt_samples": 4} if name == "integrated_gradients" else {"n_samples": 8},
    )
    f = base.output_function(h.model(3), "logit")
    x, ctx = h.inputs(2, 3), h.context(3, params)
    one = base.bipolar_phi(registry.get(name), f, x, ctx, one_pass=True)
    two = base.bipolar_phi(registry.get(name), f, x, ctx, one_pass=False)
    np.testing.assert_allclose(one, two, rtol=1e-4, atol=1e-6 * np.abs(two).max())


def test_passes_differ_without_shared_draws(h: Any) -> None:
    """The equality rests on shared draws: another seed for one pass breaks it."""
    _, params = registry.resolve("gradient_shap", {"n_samples": 8})
    spec, x = registry.get("gradient_shap"), h.inputs(1, 3)
    f = base.output_function(h.model(3), "probability")
    a = base.bipolar_phi(spec, f, x, h.context(3, params, seed=1), one_pass=True)
    b = base.bipolar_phi(spec, f, x, h.context(3, params, seed=2), one_pass=True)
    assert not np.allclose(a, b)


def test_output_function_and_g(h: Any) -> None:
    model = h.model(3)
    x = h.inputs(4, 3)
    p = base.output_function(model, "probability")(x)
    np.testing.assert_allclose(p.sum(1).detach().numpy(), 1.0, rtol=1e-6)
    logits = base.output_function(model, "logit")(x)
    g = base.one_pass_forward(base.output_function(model, "logit"))(x)
    np.testing.assert_allclose(
        g[:, 0].detach().numpy(), ((logits[:, 1] - logits[:, 0]) / 2).detach().numpy(), rtol=1e-6
    )
    with pytest.raises(ValueError, match="probability"):
        base.output_function(model, "log_softmax")


def test_seeded_is_repeatable_and_restores_global_state() -> None:
    np.random.seed(5)
    expected = np.random.rand()
    np.random.seed(5)
    with base.seeded(9):
        first = np.random.rand()
    with base.seeded(9):
        assert np.random.rand() == first
    assert np.random.rand() == expected


def test_reference_baselines(h: Any) -> None:
    ctx = h.context(3, {})
    x = h.inputs(2, 3)
    assert ctx.baseline("zero", x).abs().sum() == 0
    mean = ctx.baseline("reference_mean", x)
    assert mean.shape == (1, 3, x.shape[2])
    np.testing.assert_allclose(mean[0].numpy(), ctx.reference.mean(0), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="unknown baseline 'median'"):
        ctx.baseline("median", x)
    empty = base.AttributionContext(reference=np.zeros((0, 3, x.shape[2]), np.float32))
    with pytest.raises(ValueError, match="reference pool is empty"):
        empty.reference_pool()
