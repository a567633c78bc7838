"""Segment-level KernelSHAP/LIME (feature groups) and the model-free input-map controls."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from cinexai.attribution import base, registry


@pytest.mark.parametrize("fs, segment_ms, length", [(500.0, 20.0, 10), (250.0, 20.0, 5)])
def test_segment_mask_groups_channel_and_time(fs: float, segment_ms: float, length: int) -> None:
    mask = base.segment_mask((3, 40), fs, segment_ms)[0].numpy()
    n_seg = 40 // length
    assert mask.shape == (3, 40) and len(np.unique(mask)) == 3 * n_seg
    assert mask[1, 0] == n_seg and mask[2, 39] == 3 * n_seg - 1
    for c in range(3):
        for k in range(n_seg):
            assert len(set(mask[c, k * length : (k + 1) * length])) == 1


def test_segment_mask_keeps_a_short_last_segment() -> None:
    mask = base.segment_mask((2, 25), 500.0, 20.0)[0].numpy()
    assert len(np.unique(mask)) == 2 * 3 and (mask[0, 20:] == 2).all()


@pytest.mark.parametrize("arch", ["resnet", "imn"])  # config.yaml runs them on both
@pytest.mark.parametrize("name", ["segment_kernel_shap", "segment_lime"])
def test_segment_methods_are_constant_within_a_segment(name: str, arch: str, h: Any) -> None:
    _, params = registry.resolve(name, {"n_samples": 60})
    ctx = h.context(3, params)
    ctx.case_ids = np.array([5, 6])
    f = base.output_function(h.imn(3) if arch == "imn" else h.model(3), "probability")
    phi = base.bipolar_phi(registry.get(name), f, h.inputs(2, 3), ctx, one_pass=True)
    blocks = phi.reshape(2, 3, 4, 10)  # T = 40 samples at 500 Hz: four 20 ms segments
    assert np.all(blocks == blocks[..., :1])
    assert len(np.unique(blocks[..., 0])) > 6  # segments get distinct values


@pytest.mark.parametrize("name", ["segment_kernel_shap", "segment_lime"])
def test_segment_methods_find_the_segment_the_output_reads(name: str) -> None:
    """A forward that reads only channel 1, samples 10-19, is explained by that segment."""

    def forward(x: torch.Tensor) -> torch.Tensor:
        s = torch.sigmoid(x[:, 1, 10:20].sum(dim=1))
        return torch.stack([1 - s, s], dim=1)

    _, params = registry.resolve(name, {"n_samples": 200})
    ctx = base.AttributionContext(reference=np.zeros((4, 3, 40), np.float32), params=params)
    x = torch.ones((1, 3, 40))
    phi = base.bipolar_phi(registry.get(name), forward, x, ctx, one_pass=True)[0]
    top = np.unravel_index(np.argmax(np.abs(phi)), phi.shape)
    assert top[0] == 1 and 10 <= top[1] < 20
    others = np.abs(phi).copy()
    others[1, 10:20] = 0
    assert others.max() < 0.1 * np.abs(phi[1, 10])


def test_segment_methods_reject_bad_params() -> None:
    with pytest.raises(registry.ParamError, match="methods.seg.segment_ms"):
        registry.resolve("seg", {"method": "segment_lime", "segment_ms": 0})
    with pytest.raises(registry.ParamError, match="methods.seg.n_samples"):
        registry.resolve("seg", {"method": "segment_kernel_shap", "n_samples": 1})


def test_input_maps_follow_the_input(h: Any) -> None:
    ctx = h.context(3, {})
    x = h.inputs(2, 3)
    amp = base.bipolar_phi(registry.get("input_amplitude"), None, x, ctx, one_pass=True)
    dev = base.bipolar_phi(registry.get("input_deviation"), None, x, ctx, one_pass=True)
    np.testing.assert_allclose(amp, np.abs(x.numpy()), rtol=1e-6)
    np.testing.assert_allclose(dev, np.abs(x.numpy() - ctx.reference.mean(0)), rtol=1e-5)
    assert registry.get("input_amplitude").model_free and registry.get("input_deviation").model_free
