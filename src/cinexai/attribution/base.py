"""Shared pieces of every attribution method: outputs f_k, Eq. 1, baselines and seeding.

Eq. 1 of the paper: ``Phi = (A1 - A0) / 2`` with ``A^k`` the attribution of output ``f_k``.  The
one-pass alternative attributes ``g = (f1 - f0) / 2`` once.  The two agree exactly for methods that
are linear in the attributed output when both passes share their random draws (IG, GradientSHAP,
KernelSHAP without l1 selection, LIME without feature selection), and for all four methods when
``f`` are softmax probabilities (then ``f0 = 1 - f1``, ``g = f1 - 1/2``; each method ignores a
constant shift and flips sign with its target).  Both passes therefore run under the same seed.

A method module implements ``attribute(forward, x, ctx, target) -> np.ndarray (N, C, T)`` where
``forward`` maps ``(N, C, T)`` to ``(N, K)`` and ``target`` selects the output column.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from cinexai.attribution.registry import MethodSpec

#: Values of ``attribution.output``.
OUTPUTS = ("probability", "logit")

Forward = Callable[[torch.Tensor], torch.Tensor]


@dataclass
class AttributionContext:
    """Everything a method needs besides the model output and the inputs.

    ``reference``: the normal reference pool ``(R, C, T)`` (SHAP/LIME baselines); ``case_ids``:
    ids of the rows of ``x`` (per-case seeds, so per-case methods do not depend on batching);
    ``cache``: per-run state a method may reuse across batches and passes (fitted explainers);
    ``model``: the network explained for the current batch (what intrinsic methods read).
    """

    reference: np.ndarray
    params: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    batch_size: int = 256
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    case_ids: np.ndarray | None = None
    cache: dict[str, Any] = field(default_factory=dict)
    model: torch.nn.Module | None = None

    def cached(self, key: str, build: Callable[[], Any]) -> Any:
        """``cache[key]``, built by ``build()`` on first use."""
        if key not in self.cache:
            self.cache[key] = build()
        return self.cache[key]

    def ids_for(self, n: int) -> np.ndarray:
        """Case ids of ``n`` rows (their positions when no ids were given)."""
        return np.arange(n) if self.case_ids is None else np.asarray(self.case_ids)

    def reference_pool(self) -> torch.Tensor:
        """The reference pool as a float32 tensor on the context's device."""
        if self.reference.shape[0] == 0:
            raise ValueError(
                "the normal reference pool is empty (records.parquet has no "
                "included split=='reference' rows); this method needs it"
            )
        return torch.as_tensor(self.reference, dtype=torch.float32, device=self.device)

    def reference_mean(self) -> torch.Tensor:
        """Mean of the reference pool, shape ``(1, C, T)``."""
        return self.reference_pool().mean(dim=0, keepdim=True)

    def baseline(self, name: str, like: torch.Tensor) -> torch.Tensor:
        """``zero`` -> zeros ``(1, C, T)``; ``reference_mean`` -> pool mean ``(1, C, T)``."""
        if name == "zero":
            return torch.zeros((1, *like.shape[1:]), dtype=like.dtype, device=like.device)
        if name == "reference_mean":
            return self.reference_mean().to(like.dtype)
        raise ValueError(f"unknown baseline {name!r}; expected 'zero' or 'reference_mean'")


def output_function(model: torch.nn.Module, output: str) -> Forward:
    """``f(x) -> (N, K)``: softmax probabilities or raw logits of ``model``."""
    if output not in OUTPUTS:
        raise ValueError(f"attribution.output must be one of {OUTPUTS}, got {output!r}")
    if output == "logit":
        return model

    def probabilities(x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(model(x), dim=1)

    return probabilities


def one_pass_forward(f: Forward) -> Forward:
    """``g(x) = (f1(x) - f0(x)) / 2`` as an ``(N, 1)`` output (attributed with target 0)."""

    def g(x: torch.Tensor) -> torch.Tensor:
        out = f(x)
        return ((out[:, 1] - out[:, 0]) / 2).unsqueeze(1)

    return g


def derive_seed(seed: int, keys: Sequence[int] | np.ndarray = ()) -> int:
    """A 32-bit seed derived from ``seed`` and integer ``keys`` (case ids)."""
    entropy = [int(seed)] + [int(k) for k in np.asarray(keys).ravel()]
    return int(np.random.SeedSequence([abs(e) for e in entropy]).generate_state(1)[0])


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed torch, NumPy's and Python's global RNGs; restore their states afterwards.

    captum and shap draw from the global RNGs, so running both passes of Eq. 1 under the same
    ``seeded`` block makes them share their random draws.
    """
    np_state, py_state = np.random.get_state(), random.getstate()
    devices = [torch.cuda.current_device()] if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        np.random.seed(seed)
        random.seed(seed)
        try:
            yield
        finally:
            np.random.set_state(np_state)
            random.setstate(py_state)


def bipolar_phi(
    spec: MethodSpec, f: Forward, x: torch.Tensor, ctx: AttributionContext, one_pass: bool
) -> np.ndarray:
    """Phi of Eq. 1 for ``x`` ``(N, C, T)``: one pass on ``g`` or ``(A1 - A0) / 2``.

    Model-free methods (controls) and intrinsic methods (which apply Eq. 1 to the model's own
    decomposition) return their map directly.
    """
    seed = derive_seed(ctx.seed, ctx.ids_for(x.shape[0]))
    if spec.model_free or spec.intrinsic:
        with seeded(seed):
            return np.asarray(spec.fn(None, x, ctx, None), dtype=np.float32)
    if one_pass:
        with seeded(seed):
            return np.asarray(spec.fn(one_pass_forward(f), x, ctx, 0), dtype=np.float32)
    with seeded(seed):
        a1 = np.asarray(spec.fn(f, x, ctx, 1), dtype=np.float64)
    with seeded(seed):
        a0 = np.asarray(spec.fn(f, x, ctx, 0), dtype=np.float64)
    return ((a1 - a0) / 2).astype(np.float32)


def numpy_output(
    forward: Forward, target: int, shape: tuple[int, int], ctx: AttributionContext
) -> Callable[[np.ndarray], np.ndarray]:
    """Wrap ``forward`` for shap/lime: flat ``(n, C*T)`` array -> ``(n,)`` output ``target``.

    Evaluates in chunks of ``ctx.batch_size`` without building a graph.
    """
    c, t = shape

    def predict(flat: np.ndarray) -> np.ndarray:
        flat = np.asarray(flat, dtype=np.float32).reshape(-1, c, t)
        out = np.empty(flat.shape[0], dtype=np.float64)
        with torch.no_grad():
            for start in range(0, flat.shape[0], ctx.batch_size):
                chunk = torch.from_numpy(flat[start : start + ctx.batch_size]).to(ctx.device)
                out[start : start + chunk.shape[0]] = (
                    forward(chunk)[:, target].double().cpu().numpy()
                )
        return out

    return predict
