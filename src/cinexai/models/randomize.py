"""The model-randomisation control (Adebayo et al. 2018): a freshly initialised copy of a model.

Its own module, imported by name only by the instances that use it
(:data:`cinexai.attribution.registry.VARIANT_MODULES`), so that editing it reruns only the
randomised controls (see :mod:`cinexai.rerun`).
"""

from __future__ import annotations

import torch
from torch import nn

from cinexai.models import architectures


def randomized_copy(model: nn.Module, seed: int) -> nn.Module:
    """Same architecture and normalisation buffers, freshly initialised weights (Adebayo 2018).

    Any registered architecture (:mod:`cinexai.models.architectures`): for the IMN this is a
    re-initialised hypernetwork, whose generated W are read the same way.

    The copy is built on the CPU under a forked, seeded RNG (the global RNG is left untouched),
    then moved to the model's device and put in eval mode.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        fresh = architectures.build(architectures.name_of(model), model.arch)
    fresh = fresh.to(model.mean.device)
    with torch.no_grad():
        fresh.mean.copy_(model.mean)
        fresh.std.copy_(model.std)
    return fresh.eval()
