"""The model-randomisation control."""

from __future__ import annotations

import torch
from model_helpers import trained_like

from cinexai.models.randomize import randomized_copy


def test_randomized_copy_reinitialises_weights_only() -> None:
    model = trained_like(3)
    rng_before = torch.get_rng_state()
    a, b, c = randomized_copy(model, 7), randomized_copy(model, 7), randomized_copy(model, 8)
    assert torch.equal(torch.get_rng_state(), rng_before)
    assert a.arch == model.arch and not a.training
    assert torch.equal(a.mean, model.mean) and torch.equal(a.std, model.std)
    assert torch.equal(a.fc.weight, b.fc.weight)
    assert not torch.equal(a.fc.weight, c.fc.weight)
    assert not torch.equal(a.fc.weight, model.fc.weight)
    assert torch.equal(a.stem[1].running_var, torch.ones_like(a.stem[1].running_var))
    x = torch.randn(2, 3, 200)
    assert not torch.allclose(a(x), model(x))
