"""Debian's headless Chromium through Debian's chromedriver, for the browser tests (nothing is downloaded)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMEDRIVER = "/usr/bin/chromedriver"


@contextmanager
def headless_chromium(*extra_args: str) -> Iterator[webdriver.Chrome]:
    """A headless Chromium with the performance log on (tests read its network requests)."""
    chromium = shutil.which("chromium")
    assert chromium and Path(CHROMEDRIVER).exists(), "needs Debian's chromium and chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    for arg in extra_args:
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
