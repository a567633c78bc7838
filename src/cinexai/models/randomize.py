"""The model-randomisation control (Adebayo et al. 2018): a freshly initialised copy of a model.

Its own module, imported by name only by the instances that use it
(:data:`cinexai.attribution.registry.VARIANT_MODULES`), so that editing it reruns only the
randomised controls (see :mod:`cinexai.rerun`).
"""

from __future__ import annotations

import torch

from cinexai.models.resnet import ResNet1d


def randomized_copy(model: ResNet1d, seed: int) -> ResNet1d:
    """Same architecture and normalisation buffers, freshly initialised weights (Adebayo 2018).

    The copy is built on the CPU under a forked, seeded RNG (the global RNG is left untouched),
    then moved to the model's device and put in eval mode.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        fresh = ResNet1d(**model.arch)
    fresh = fresh.to(model.mean.device)
    with torch.no_grad():
        fresh.mean.copy_(model.mean)
        fresh.std.copy_(model.std)
    return fresh.eval()
