"""Shared test helpers: repository paths and a tiny config loader."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture()
def default_config() -> dict:
    return copy.deepcopy(yaml.safe_load((REPO / "config.yaml").read_text()))


@pytest.fixture()
def tiny_config() -> dict:
    return copy.deepcopy(yaml.safe_load((REPO / ".test" / "config.yaml").read_text()))
