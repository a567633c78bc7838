"""Sign alignment and the post-processing registry that turns Phi' into an importance map in [0, 1].

Maps are ``(n_cases, n_cells)`` arrays over the *scored cells* of each case (named leads x samples
for ecg12, x/y/z x samples for cineecg); ``valid`` marks the real cells of a padded row (ecg12 cases
name different numbers of leads). Every variant is brought to [0, 1] per case over its valid cells
so that one threshold grid [0, 1] serves all of them (Spearman is unaffected: positive rescaling
keeps ranks):

* ``positive``: ``max(0, Phi') / max_case`` (all zeros if no positive cell);
* ``absolute``: ``|Phi'| / max_case`` (all zeros if Phi' is all zero);
* ``scaled``:   ``(Phi' - min_case) / (max_case - min_case)`` (all zeros if Phi' is constant).

Padding cells are returned as 0 and must be ignored through ``valid``; with ``extend=True`` every
cell is transformed with the constants of the valid cells instead (what the figures draw for leads
the expert did not name).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

PostProcessor = Callable[..., np.ndarray]


def align_sign(phi: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """Phi' = -Phi for cases the expert diagnosed normal (so evidence for the true class is > 0).

    ``phi`` is ``(n_cases, ...)``; ``normal`` a boolean per case.
    """
    sign = np.where(np.asarray(normal, dtype=bool), -1.0, 1.0)
    return phi * sign.reshape((-1,) + (1,) * (phi.ndim - 1))


def _divide_by_max(values: np.ndarray, valid: np.ndarray, extend: bool) -> np.ndarray:
    top = np.where(valid, values, -np.inf).max(axis=1, keepdims=True)
    out = np.divide(values, top, out=np.zeros_like(values), where=top > 0)
    return out if extend else np.where(valid, out, 0.0)


def positive(phi: np.ndarray, valid: np.ndarray, extend: bool = False) -> np.ndarray:
    """Only evidence for the expert's class: ``max(0, Phi')``, divided by its per-case maximum."""
    return _divide_by_max(np.maximum(phi, 0.0), valid, extend)


def absolute(phi: np.ndarray, valid: np.ndarray, extend: bool = False) -> np.ndarray:
    """Evidence for either class: ``|Phi'|``, divided by its per-case maximum."""
    return _divide_by_max(np.abs(phi), valid, extend)


def scaled(phi: np.ndarray, valid: np.ndarray, extend: bool = False) -> np.ndarray:
    """Min-max normalisation of Phi' per case (keeps the full continuous ranking)."""
    lo = np.where(valid, phi, np.inf).min(axis=1, keepdims=True)
    hi = np.where(valid, phi, -np.inf).max(axis=1, keepdims=True)
    span = hi - lo
    out = np.divide(phi - lo, span, out=np.zeros_like(phi), where=span > 0)
    return out if extend else np.where(valid, out, 0.0)


REGISTRY: dict[str, PostProcessor] = {"positive": positive, "absolute": absolute, "scaled": scaled}


def apply(name: str, phi: np.ndarray, valid: np.ndarray, extend: bool = False) -> np.ndarray:
    """Apply the registered post-processing ``name`` (constants from the ``valid`` cells; other
    cells 0, or transformed alike with ``extend``); KeyError lists the known names."""
    try:
        fn = REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown post-processing {name!r}; known: {sorted(REGISTRY)}") from None
    return fn(np.asarray(phi, dtype=np.float64), np.asarray(valid, dtype=bool), extend)
