"""The ``clusters:`` config section: defaults and validation (no heavy imports, for every stage)."""

from __future__ import annotations

from typing import Any

from cinexai.config import ConfigError

#: Defaults of the ``clusters:`` config keys.
CFG_DEFAULTS: dict[str, Any] = {
    "n_layers": 3,  # last residual blocks clustered (the paper: three)
    "pca_components": 16,
    "max_timestamps": 50000,
    "max_iter": 200,
    "n_trees": 200,
    "min_samples_leaf": 1,
    "agreement_target": 0.9,
}


def settings(cfg: dict[str, Any] | None) -> dict[str, Any]:
    """``cfg`` over :data:`CFG_DEFAULTS`; an unknown key is an error naming it."""
    unknown = sorted(set(cfg or {}) - set(CFG_DEFAULTS))
    if unknown:
        raise ConfigError(f"config key 'clusters': unknown key(s) {unknown}")
    return {**CFG_DEFAULTS, **(cfg or {})}
