"""ECG-IMN: exact decomposition, its reference point, loss, any length, checkpoints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from captum.attr import IntegratedGradients
from torch.nn import functional as F

from cinexai.models import architectures
from cinexai.models.checkpoint import load_model, save_model
from cinexai.models.imn import IMN
from cinexai.models.randomize import randomized_copy


def _imn(channels: int, n: int = 200, seed: int = 0, **kw) -> IMN:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    mean = rng.normal(size=channels).tolist()
    std = rng.uniform(0.5, 2.0, size=channels).tolist()
    return IMN(channels, n, width=4, kernel_size=7, dropout=0.0, mean=mean, std=std, **kw).eval()


def _x(channels: int, n: int = 200, count: int = 3, seed: int = 1) -> torch.Tensor:
    return torch.as_tensor(
        np.random.default_rng(seed).normal(size=(count, channels, n)), dtype=torch.float32
    )


@pytest.mark.parametrize(("channels", "n"), [(12, 200), (3, 200), (12, 203), (3, 37)])
def test_weights_have_the_input_shape_and_sum_w_z_plus_b_is_the_logit(channels, n):
    """Both modalities, and lengths that are not a multiple of the pooling factor."""
    model, x = _imn(channels, n), _x(channels, n)
    with torch.no_grad():
        weights, bias, z = model.generate(x)
        logits = model(x)
    assert weights.shape == (3, 2, channels, n) and bias.shape == (3, 2)
    rebuilt = (weights * z.unsqueeze(1)).sum(dim=(2, 3)) + bias
    torch.testing.assert_close(rebuilt, logits, atol=1e-5, rtol=0)


def test_decomposition_is_relative_to_the_per_lead_training_mean():
    """W * z = (W / std) * (x - mean): a cell at its lead's mean contributes exactly 0."""
    model, x = _imn(12), _x(12)
    x[:, 4, 50:60] = model.mean[0, 4, 0]  # lead 5 at its training mean for 10 samples
    with torch.no_grad():
        parts, _ = model.contributions(x)
        weights, _, _ = model.generate(x)
    assert torch.count_nonzero(parts[:, :, 4, 50:60]) == 0
    assert torch.count_nonzero(parts[:, :, 4, 60:70]) > 0
    expected = weights * ((x - model.mean) / model.std).unsqueeze(1)
    torch.testing.assert_close(parts, expected)


def test_gradient_attribution_differs_from_w_z_where_dw_dx_matters():
    """Why both are in the grid: IG of the IMN (baseline: the per-lead mean, where W * z is 0)
    explains f(x) - f(mean) through W(x) *and* its dependence on x; W * z holds W fixed. With
    the hypernetwork's input path cut (W and b constant in x) the two coincide exactly."""

    def ig_and_wz(model: IMN, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        def g(inp):
            out = model(inp)
            return ((out[:, 1] - out[:, 0]) / 2).unsqueeze(1)

        baseline = model.mean.expand_as(x).contiguous()
        ig = IntegratedGradients(g).attribute(x, baselines=baseline, target=0, n_steps=64)
        with torch.no_grad():
            parts, _ = model.contributions(x)
        return ig, (parts[:, 1] - parts[:, 0]) / 2

    x = _x(12, count=2)
    ig, wz = ig_and_wz(_imn(12), x)
    assert not torch.allclose(ig, wz, atol=1e-3)
    rel = (ig - wz).norm() / wz.norm()
    assert rel > 0.05, f"IG and W*z nearly equal ({rel:.3g}): dW/dx would not matter"

    frozen = _imn(12)
    with torch.no_grad():
        frozen.backbone[0].weight.zero_()  # latent no longer depends on x: W, b constant
    ig, wz = ig_and_wz(frozen, x)
    torch.testing.assert_close(ig, wz, atol=1e-4, rtol=1e-3)


def test_loss_is_cross_entropy_plus_lambda_mean_abs_w():
    x, y = _x(3, 64, count=4), torch.tensor([0, 1, 1, 0])
    plain = _imn(3, 64, l1_lambda=0.0)
    sparse = _imn(3, 64, l1_lambda=0.5)
    with torch.no_grad():
        weights, _, _ = sparse.generate(x)
        ce = F.cross_entropy(sparse(x), y)
        torch.testing.assert_close(plain.loss(x, y), ce)
        torch.testing.assert_close(sparse.loss(x, y), ce + 0.5 * weights.abs().mean())
        torch.testing.assert_close(architectures.training_loss(sparse, x, y), sparse.loss(x, y))


def test_fully_differentiable_wrt_the_input():
    x = _x(3, 40).requires_grad_(True)
    _imn(3, 40)(x)[:, 1].sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_checkpoint_round_trip_and_randomized_hypernetwork(tmp_path: Path):
    model, x = _imn(12, seed=3), _x(12)
    path = tmp_path / "model.pt"
    save_model(model, path, model.arch, "ecg12", [f"c{i}" for i in range(12)])
    payload = torch.load(path, weights_only=True)
    assert payload["architecture"] == "imn"
    loaded = load_model(path)
    assert isinstance(loaded, IMN) and loaded.arch == model.arch
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x))
        fresh = randomized_copy(model, seed=9)
        assert isinstance(fresh, IMN)
        torch.testing.assert_close(fresh.mean, model.mean)
        assert not torch.allclose(fresh.generate(x)[0], model.generate(x)[0])


def test_registry_builds_either_model_by_name_from_tuned_params():
    imn = architectures.from_params(
        "imn",
        {
            "width": 3,
            "kernel_size": 5,
            "dropout": 0.1,
            "l1_lambda": 1e-4,
            "lr": 0.01,
            "batch_size": 8,
        },
        3,
        50,
    )
    resnet = architectures.from_params(
        "resnet",
        {"depth": 1, "width": 4, "kernel_size": 3, "dropout": 0.0, "lr": 0.01, "batch_size": 8},
        3,
        50,
    )
    assert architectures.name_of(imn) == "imn" and architectures.name_of(resnet) == "resnet"
    assert imn.arch["l1_lambda"] == 1e-4 and imn.arch["width"] == 3
    with pytest.raises(ValueError, match=r"imn hyperparameters lack \['l1_lambda'\]"):
        architectures.from_params(
            "imn",
            {"width": 3, "kernel_size": 5, "dropout": 0.1, "lr": 0.01, "batch_size": 8},
            3,
            50,
        )
    with pytest.raises(KeyError, match="unknown architecture 'vit'"):
        architectures.get("vit")
