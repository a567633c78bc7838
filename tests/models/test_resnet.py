"""Architecture properties that gradient-based attribution relies on."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from cinexai.models.resnet import ResNet1d


@pytest.mark.parametrize("stem", ["blur", "strided"])
def test_strided_stem_and_replication_padding_only(stem: str) -> None:
    model = ResNet1d(12, depth=3, kernel_size=5, stem=stem)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv1d)]
    pads = [m for m in model.modules() if isinstance(m, nn.ReplicationPad1d)]
    assert len(convs) == 1 + 2 * 3 and len(pads) == len(convs)
    assert all(c.padding == (0,) for c in convs)
    stem_conv = next(m for m in model.stem.modules() if isinstance(m, nn.Conv1d))
    assert stem_conv.stride == ((2,) if stem == "strided" else (1,))
    assert all(c.stride == (1,) for c in convs if c is not stem_conv)
    pooling = (nn.MaxPool1d, nn.AvgPool1d, nn.AdaptiveMaxPool1d)
    assert not any(isinstance(m, pooling) for m in model.modules())
    assert model.stem(torch.zeros(1, 12, 200)).shape[-1] == 100
    assert model.stem(torch.zeros(1, 12, 201)).shape[-1] == 101
    assert model.arch["stem"] == stem


def test_blur_stem_has_no_checkerboard_gradient() -> None:
    """A smooth gradient at the stem output reaches even and odd input samples alike (a learned
    stride-2 convolution alternates them)."""
    torch.manual_seed(0)
    ratios = {}
    for stem in ("blur", "strided"):
        model = ResNet1d(1, width=4, kernel_size=4, stem=stem).eval()
        x = torch.randn(1, 1, 200, requires_grad=True)
        model.stem(x)[..., 10:90].sum().backward()
        g = x.grad[0, 0, 40:160].abs()
        ratios[stem] = float(g[0::2].sum() / g[1::2].sum())
    assert abs(math.log(ratios["blur"])) < 0.05
    assert abs(math.log(ratios["strided"])) > abs(math.log(ratios["blur"]))


def test_unknown_stem_rejected() -> None:
    with pytest.raises(ValueError, match="stem"):
        ResNet1d(12, stem="maxpool")


@pytest.mark.parametrize(
    "arch",
    [{}, {"depth": 4, "kernel_size": 3, "width": 16}, {"depth": 1, "kernel_size": 9, "width": 8}],
)
def test_input_gradient_nonzero_at_every_position_and_channel(arch: dict) -> None:
    torch.manual_seed(0)
    model = ResNet1d(12, **arch).eval()
    x = torch.randn(3, 12, 200, requires_grad=True)
    logits = model(x)
    (logits[:, 1] - logits[:, 0]).sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape
    assert bool((x.grad != 0).all()), f"{int((x.grad == 0).sum())} zero input gradients"


@pytest.mark.parametrize("n_samples", [200, 150, 401, 16])
def test_head_is_length_agnostic(n_samples: int) -> None:
    torch.manual_seed(0)
    model = ResNet1d(3, n_samples=200).eval()
    out = model(torch.randn(5, 3, n_samples))
    assert out.shape == (5, 2) and bool(torch.isfinite(out).all())


def test_normalisation_is_inside_the_model() -> None:
    torch.manual_seed(0)
    mean, std = [0.5, -1.0, 2.0], [2.0, 0.5, 3.0]
    normed = ResNet1d(3, mean=mean, std=std).eval()
    plain = ResNet1d(3).eval()
    state = {k: v for k, v in normed.state_dict().items() if k not in ("mean", "std")}
    plain.load_state_dict(state, strict=False)
    x = torch.randn(4, 3, 200)
    z = (x - torch.tensor(mean).view(1, 3, 1)) / torch.tensor(std).view(1, 3, 1)
    torch.testing.assert_close(normed(x), plain(z))
    assert {"mean", "std"} <= set(normed.state_dict())


def test_eval_mode_is_deterministic_and_dropout_is_active_in_training() -> None:
    torch.manual_seed(0)
    model = ResNet1d(12, dropout=0.5)
    x = torch.randn(8, 12, 200)
    model.eval()
    torch.testing.assert_close(model(x), model(x))
    model.train()
    assert not torch.equal(model(x), model(x))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"kernel_size": 1}, "kernel_size"),
        ({"dropout": 1.0}, "dropout"),
        ({"std": [1.0, 0.0, 1.0]}, "positive"),
        ({"mean": [0.0, 0.0]}, "one per channel"),
        ({"mean": [0.0, math.nan, 0.0]}, "finite"),
    ],
)
def test_invalid_arguments_are_rejected(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ResNet1d(3, **kwargs)
