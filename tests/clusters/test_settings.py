"""The ``clusters:`` settings: defaults, and unknown keys rejected by name."""

from __future__ import annotations

import pytest

from cinexai.clusters.settings import CFG_DEFAULTS, settings
from cinexai.config import ConfigError


def test_defaults_and_overrides() -> None:
    assert settings(None) == CFG_DEFAULTS
    assert settings({"n_trees": 7})["n_trees"] == 7


def test_unknown_clusters_key_is_an_error() -> None:
    with pytest.raises(ConfigError, match="n_componets"):
        settings({"n_componets": 3})
