"""Fixtures of the annotation-platform tests: a small bundle, a real server, headless Chromium."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from annotate_data import make_bundle
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from cinexai.annotate.bundle import read_manifest
from cinexai.annotate.db import Store
from cinexai.annotate.loadtest import Server, server

CHROMEDRIVER = "/usr/bin/chromedriver"


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
    chromium = shutil.which("chromium")
    assert chromium and Path(CHROMEDRIVER).exists(), "needs Debian's chromium and chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1700,1250"):
        options.add_argument(arg)
    options.add_argument("--disable-dev-shm-usage")
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
