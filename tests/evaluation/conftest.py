"""The small scored grid shared by the score, controls and tables tests (built once per session)."""

from __future__ import annotations

import pytest
from evaluation_helpers import make_grid


@pytest.fixture(scope="session")
def grid(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("grid")
    return make_grid(tmp)
