"""The case index: its table, an offline page, and sorting in a real headless Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from chromium import headless_chromium
from figure_data import CASE
from PIL import Image
from selenium.webdriver.common.by import By

from cinexai.figures.index import family, write_index
from cinexai.io import write_table

METHOD, PP = "integrated_gradients_normal_ref", "absolute"
SOURCES = ("ecg12", "cineecg", "mapped")
#: A URL the page would fetch from the network.
REMOTE = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", re.IGNORECASE)


@pytest.fixture
def index(results, tmp_path) -> tuple[Path, dict]:
    """The index of the two cases of the miniature results tree; the 12-lead model says
    abnormal for both, so the normal case disagrees with the expert."""
    root = tmp_path / "figures" / "cases"
    figures = []
    for k, case in enumerate((CASE, 7)):
        folder = root / str(case)
        folder.mkdir(parents=True)
        Image.new("RGB", (1800, 1200), (255, 255 - 100 * k, 255)).save(folder / "ecg12.png")
        (folder / "cineecg.html").write_text("<html></html>")
        figures += [folder / "ecg12.png", folder / "cineecg.html"]
    database = tmp_path / "ptbxl_database.csv"
    pd.DataFrame(
        {"ecg_id": [CASE, 7], "scp_codes": ["{'SR': 0.0, 'LAFB': 100.0}", "{'NORM': 100.0}"]}
    ).to_csv(database, index=False)
    write_table(
        pd.DataFrame(
            {
                "id": np.array([CASE, 7], dtype=np.int64),
                "split": "evaluation",
                "label": np.array([1, 0], dtype=np.int8),
                "prob_abnormal": np.array([0.9, 0.7], dtype=np.float32),
                "pred": np.array([1, 1], dtype=np.int8),
            }
        ),
        results["predictions"][0],  # the 12-lead ResNet
    )
    cells = [(s, "resnet", METHOD) for s in SOURCES] + [(s, "imn", "imn_weights") for s in SOURCES]
    scores = [
        results["scores"] / f"source={s}/arch={a}/method={m}/postprocessing={PP}/part-0.parquet"
        for s, a, m in cells
    ]
    out = root / "index.html"
    write_index(
        figures=figures,
        masks=results["masks"],
        database=database,
        predictions=results["predictions"],
        scores=scores,
        architecture="resnet",
        out=out,
    )
    dice = {
        cell: pd.read_parquet(p).set_index("case_id")["dice"].to_dict()
        for cell, p in zip(cells, scores, strict=True)
    }
    return out, dice


def test_family_is_the_statement_of_highest_likelihood():
    assert family("{'SR': 0.0, 'LAFB': 100.0}") == "LAFB"
    assert family("{'IRBBB': 50.0, 'CRBBB': 50.0}") == "CRBBB"
    assert family("") == ""


def test_index_rows_hold_what_a_clinician_sorts_by(index):
    out, dice = index
    text = out.read_text()
    headers = re.findall(r"<th[^>]*>([^<]+)</th>", text)
    assert headers == [
        "case",
        "12-lead figure",
        "diagnosis (expert)",
        "family",
        "P(abnormal) 12-lead resnet",
        "P(abnormal) 12-lead imn",
        "P(abnormal) CineECG resnet",
        "P(abnormal) CineECG imn",
        "prediction (12-lead resnet)",
        "agreement",
        *(f"Dice {s} resnet {METHOD}" for s in SOURCES),
        *(f"Dice {s} imn imn_weights" for s in SOURCES),
    ]
    pattern = r'<tr><td data-sort="(\d+)".*?</tr>'
    rows = {int(m.group(1)): m.group(0) for m in re.finditer(pattern, text)}
    assert set(rows) == {CASE, 7}
    assert "LAFB" in rows[CASE] and "NORM" in rows[7]
    assert ">agrees<" in rows[CASE] and 'class="disagrees"' in rows[7]
    cells = [re.findall(r'data-sort="([^"]*)"', rows[case])[-6:] for case in (CASE, 7)]
    for case, sorts in zip((CASE, 7), cells, strict=True):
        expected = [dice[(s, "resnet", METHOD)][case] for s in SOURCES]
        expected += [dice[(s, "imn", "imn_weights")][case] for s in SOURCES]
        assert [float(v) for v in sorts] == pytest.approx(expected, abs=1e-6)


def test_index_is_offline_with_embedded_thumbnails_and_relative_links(index):
    out, _ = index
    text = out.read_text()
    assert REMOTE.search(text) is None
    thumbs = re.findall(r'<img alt="case \d+" src="data:image/png;base64,([^"]+)"', text)
    assert len(thumbs) == 2 and all(len(t) < 60_000 for t in thumbs)
    assert f'href="{CASE}/ecg12.png"' in text and 'href="7/cineecg.html"' in text


@pytest.fixture
def browser():
    """Debian's chromium, headless, through Debian's chromedriver (nothing is downloaded)."""
    with headless_chromium() as driver:
        yield driver


def test_index_sorts_by_each_column_in_chromium_without_network(index, browser):
    out, dice = index
    browser.get(out.as_uri())

    def first_column() -> list[int]:
        rows = browser.find_elements(By.CSS_SELECTOR, "#cases tbody tr")
        return [int(r.find_element(By.TAG_NAME, "b").text) for r in rows]

    def header(name: str):
        (th,) = [h for h in browser.find_elements(By.TAG_NAME, "th") if h.text.startswith(name)]
        return th

    by_dice = sorted((CASE, 7), key=lambda c: dice[("cineecg", "imn", "imn_weights")][c])
    header("Dice cineecg imn").click()
    assert first_column() == by_dice
    header("Dice cineecg imn").click()
    assert first_column() == by_dice[::-1]
    header("diagnosis").click()
    assert first_column() == [CASE, 7]  # abnormal < normal
    header("agreement").click()
    assert first_column() == [CASE, 7]  # agrees < disagrees
    header("agreement").click()
    assert first_column() == [7, CASE]
    widths = browser.execute_script(
        "return Array.from(document.images).map(function (i) { return i.naturalWidth; });"
    )
    assert len(widths) == 2 and all(0 < w <= 360 for w in widths)
    urls = [
        entry["message"]
        for entry in browser.get_log("performance")
        if "Network.requestWillBeSent" in entry["message"]
    ]
    remote = [u for u in urls if re.search(r'"url":"https?:', u)]
    assert urls and remote == []
