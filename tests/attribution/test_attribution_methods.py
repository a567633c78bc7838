"""Method-specific properties: IG completeness, SHAP efficiency and selection, LIME, random."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from lime.lime_tabular import LimeTabularExplainer

from cinexai.attribution import base, registry
from cinexai.attribution.kernel_shap import l1_setting, n_samples
from cinexai.attribution.lime_method import n_features, vectorized_undiscretize


def _phi(
    h: Any,
    instance: str,
    cfg: dict,
    x: torch.Tensor,
    channels: int = 3,
    seed: int = 3,
    one_pass: bool = True,
    output: str = "probability",
    ids: list[int] | None = None,
):
    name, params = registry.resolve(instance, cfg)
    ctx = h.context(channels, params, seed=seed)
    ctx.case_ids = None if ids is None else np.asarray(ids)
    f = base.output_function(h.model(channels), output)
    return base.bipolar_phi(registry.get(name), f, x, ctx, one_pass), ctx, f


@pytest.mark.parametrize("baseline", ["zero", "reference_mean"])
def test_ig_completeness_without_noise(baseline: str, h: Any) -> None:
    x = h.inputs(3, 3)
    phi, ctx, f = _phi(
        h, "integrated_gradients", {"baseline": baseline, "nt_samples": 0, "n_steps": 64}, x
    )
    g = base.one_pass_forward(f)
    with torch.no_grad():
        expected = (g(x) - g(ctx.baseline(baseline, x)))[:, 0].numpy()
    assert np.abs(expected).max() > 1e-4
    np.testing.assert_allclose(
        phi.sum(axis=(1, 2)), expected, rtol=2e-2, atol=2e-3 * np.abs(expected).max()
    )


def test_ig_noise_tunnel_is_seeded_and_changes_the_map(h: Any) -> None:
    x = h.inputs(1, 3)
    cfg = {"n_steps": 8, "nt_samples": 4}
    a, _, _ = _phi(h, "integrated_gradients", cfg, x, seed=1)
    b, _, _ = _phi(h, "integrated_gradients", cfg, x, seed=1)
    c, _, _ = _phi(h, "integrated_gradients", cfg, x, seed=2)
    plain, _, _ = _phi(h, "integrated_gradients", {**cfg, "nt_samples": 0}, x, seed=1)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c) and not np.allclose(a, plain)


def test_ig_internal_batch_size_does_not_change_the_path_integral(h: Any) -> None:
    """Chunking path steps changes nothing (noise draws do depend on the chunking: recorded)."""
    x = h.inputs(2, 3)
    cfg = {"n_steps": 10, "nt_samples": 0}
    small, _, _ = _phi(h, "integrated_gradients", {**cfg, "internal_batch_size": 8}, x)
    large, _, _ = _phi(h, "integrated_gradients", {**cfg, "internal_batch_size": 1000}, x)
    np.testing.assert_allclose(small, large, rtol=1e-4, atol=1e-7)


def test_gradient_shap_groups_cases_without_changing_shapes(h: Any) -> None:
    x = h.inputs(5, 3)
    name, params = registry.resolve("gradient_shap", {"n_samples": 4})
    ctx = h.context(3, params, batch_size=8)  # 2 cases per captum call
    f = base.one_pass_forward(base.output_function(h.model(3), "probability"))
    out = registry.get(name).fn(f, x, ctx, 0)
    assert out.shape == x.shape and np.isfinite(out).all()
    assert (np.abs(out).sum(axis=(1, 2)) > 0).all()  # every group was attributed


def test_kernel_shap_selection_and_efficiency(h: Any) -> None:
    x = h.inputs(2, 3)  # 120 features, fewer than nsamples
    sel, ctx, f = _phi(h, "kernel_shap", {"nsamples": 300}, x)
    full, _, _ = _phi(h, "kernel_shap", {"nsamples": 300, "l1_reg": "false"}, x)
    assert ((sel != 0).sum(axis=(1, 2)) <= 10).all()
    assert ((full != 0).sum(axis=(1, 2)) > 10).all()
    g = base.one_pass_forward(f)
    with torch.no_grad():
        expected = (g(x) - g(ctx.reference_mean()))[:, 0].numpy()
    np.testing.assert_allclose(full.sum(axis=(1, 2)), expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(sel.sum(axis=(1, 2)), expected, rtol=1e-5, atol=1e-7)


def test_kernel_shap_refuses_underdetermined_unregularised_fit(h: Any) -> None:
    with pytest.raises(ValueError, match=r"l1_reg=false needs nsamples > 120 features \(got 100\)"):
        _phi(h, "kernel_shap", {"l1_reg": False}, h.inputs(1, 3))
    assert n_samples("auto", 120) == 2 * 120 + 2048 and n_samples(7, 120) == 7


def test_kernel_shap_l1_setting() -> None:
    assert l1_setting("num_features(10)") == "num_features(10)"
    assert l1_setting("false") is False and l1_setting(False) is False
    assert l1_setting(None) is False and l1_setting(0) is False
    assert l1_setting(0.01) == 0.01


def test_vectorized_undiscretize_matches_lime() -> None:
    rng = np.random.default_rng(0)
    train = rng.normal(size=(40, 30))
    train[:, 4] = 1.0  # a constant feature (min == max in its bins)
    x = rng.normal(size=30)

    def predict(d: np.ndarray) -> np.ndarray:
        return d[:, :5].sum(1) * 0.1 + np.tanh(d[:, 10])

    maps = []
    for fast in (False, True):
        lime = LimeTabularExplainer(train, mode="regression", random_state=np.random.RandomState(4))
        if fast:
            lime.discretizer.undiscretize = vectorized_undiscretize(lime.discretizer)
        maps.append(
            sorted(lime.explain_instance(x, predict, num_features=30, num_samples=100).local_exp[1])
        )
    assert maps[0] == maps[1]


def test_lime_num_features_limits_the_map(h: Any) -> None:
    x = h.inputs(1, 3)
    ten, _, _ = _phi(h, "lime", {"num_samples": 100}, x, ids=[4])
    every, _, _ = _phi(h, "lime", {"num_samples": 100, "num_features": "all"}, x, ids=[4])
    again, _, _ = _phi(h, "lime", {"num_samples": 100}, x, ids=[4])
    assert (ten != 0).sum() == 10
    assert (every != 0).sum() > 10
    np.testing.assert_array_equal(ten, again)
    assert n_features("all", 600) == 600 and n_features(10, 600) == 10
    with pytest.raises(ValueError, match="num_features"):
        n_features(0, 600)


def test_random_control_is_seeded_per_case(h: Any) -> None:
    x = h.inputs(3, 12)
    a, _, _ = _phi(h, "random", {}, x, channels=12, seed=5, ids=[7, 8, 9])
    b, _, _ = _phi(h, "random", {}, x, channels=12, seed=5, ids=[7, 8, 9], one_pass=False)
    c, _, _ = _phi(h, "random", {}, x, channels=12, seed=6, ids=[7, 8, 9])
    alone, _, _ = _phi(h, "random", {}, x[1:2], channels=12, seed=5, ids=[8])
    np.testing.assert_array_equal(a, b)  # Eq. 1 does not apply to the control
    np.testing.assert_array_equal(a[1], alone[0])  # depends on (seed, case id) only
    assert not np.allclose(a, c)
    assert abs(a.mean()) < 0.1 and abs(a.std() - 1) < 0.1
