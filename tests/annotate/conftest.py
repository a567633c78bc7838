"""Fixtures of the annotation-platform tests: a small bundle, a real server, headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from annotate_data import make_bundle
from chromium import headless_chromium

from cinexai.annotate.bundle import read_manifest
from cinexai.annotate.db import Store
from cinexai.annotate.loadtest import Server, server


@dataclass
class Study:
    """A bundle, its private key map, the study database and a running server."""

    paths: dict[str, Path]
    db: Path
    srv: Server
    root: Path

    @property
    def base(self) -> str:
        return self.srv.base

    def add_reviewer(self, name: str, admin: bool = False) -> str:
        """A one-time token (what the login link carries after '#')."""
        keys = read_manifest(self.paths["bundle"])["cases"]
        return Store(self.db).add_reviewer(name, keys, admin=admin)


@pytest.fixture
def study(tmp_path: Path) -> Iterator[Study]:
    paths = make_bundle(tmp_path)
    db = tmp_path / "private" / "study.sqlite"
    with server(paths["bundle"], db, tmp_path / "server.log") as srv:
        yield Study(paths, db, srv, tmp_path)


@pytest.fixture
def browser():
    """Debian's chromium, headless, through Debian's chromedriver (nothing is downloaded)."""
    with headless_chromium("--window-size=1700,1250") as driver:
        yield driver
