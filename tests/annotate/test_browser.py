"""The reviewer page in a real headless Chromium against a real server (paper section 3.5).

Log in through the link, drag a segment on V2, click a point on V5, drag a short segment on the
CineECG time axis (widened to the minimal window), diagnose, submit; then export -> masks must hold
exactly the cells of those marks, and no response the browser received may leak an id.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import requests
from annotate_data import CASES, OTHER, WINDOW_MS
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from cinexai.annotate.bundle import read_key_map
from cinexai.evaluation.annotations import build_masks, sample_range, segment_bounds
from cinexai.io import read_table
from cinexai.leads import CINE_CHANNELS

WAIT_S = 60


def _wait(driver, predicate):
    """Wait for ``predicate``; an element replaced by a navigation is looked up again."""
    ignored = (StaleElementReferenceException, NoSuchElementException)
    return WebDriverWait(driver, WAIT_S, ignored_exceptions=ignored).until(predicate)


def _drag(driver, canvas, a_ms: float, b_ms: float) -> None:
    """Drag across ``canvas`` from a_ms to b_ms (offsets from the element's centre)."""
    k = float(canvas.get_attribute("data-px-per-ms"))
    width, height = canvas.size["width"], canvas.size["height"]
    y = int(height * 0.6) - height // 2
    chain = ActionChains(driver)
    chain.move_to_element_with_offset(canvas, int(a_ms * k) - width // 2, y).click_and_hold()
    chain.move_by_offset(int((b_ms - a_ms) * k) // 2, 0)
    chain.move_by_offset(int((b_ms - a_ms) * k) - int((b_ms - a_ms) * k) // 2, 0).release()
    chain.perform()


def _click(driver, canvas, t_ms: float) -> None:
    k = float(canvas.get_attribute("data-px-per-ms"))
    width = canvas.size["width"]
    ActionChains(driver).move_to_element_with_offset(
        canvas, int(t_ms * k) - width // 2, 0
    ).click().perform()


def _bodies(driver, study) -> list[tuple[str, str]]:
    """(url, body) of every response the browser received (DevTools log)."""
    out = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg["method"] != "Network.responseReceived":
            continue
        url = msg["params"]["response"]["url"]
        if not url.startswith(study.base):
            continue
        try:
            body = driver.execute_cdp_cmd(
                "Network.getResponseBody", {"requestId": msg["params"]["requestId"]}
            )
        except Exception:  # evicted with a previous page: fetch it again with the same cookie
            cookies = {c["name"]: c["value"] for c in driver.get_cookies()}
            body = {"body": requests.get(url, cookies=cookies, timeout=30).text}
        out.append((url, body["body"]))
    return out


def test_reviewer_session_marks_export_masks_and_blinding(study, browser, tmp_path):
    token = study.add_reviewer("dr_a")
    browser.get(f"{study.base}/login#{token}")
    _wait(browser, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
    assert "#" not in browser.current_url  # the token left the address bar
    v2 = browser.find_element(By.ID, "lead-V2")
    tol = 2.5 / float(v2.get_attribute("data-px-per-ms"))  # ms: integer pixel offsets
    _drag(browser, v2, 60.0, 110.0)
    _click(browser, browser.find_element(By.ID, "lead-V5"), 250.0)
    _drag(browser, browser.find_element(By.ID, "cine-time"), 20.0, 36.0)
    browser.find_element(By.ID, "dx-abnormal").click()
    browser.find_element(By.ID, "note").send_keys("broad R in V2")
    _wait(browser, lambda d: d.find_element(By.ID, "save-status").text.startswith("saved (#"))
    shot = tmp_path / "annotate_reviewer.png"
    browser.execute_script("window.scrollTo(0, 0)")
    browser.save_screenshot(str(shot))
    if os.environ.get("CINEXAI_SCREENSHOT_DIR"):
        shutil.copy(shot, os.path.join(os.environ["CINEXAI_SCREENSHOT_DIR"], shot.name))
    browser.find_element(By.ID, "submit").click()
    _wait(browser, lambda d: "locked" in d.find_element(By.ID, "save-status").text)
    assert not browser.find_element(By.ID, "dx-normal").is_enabled()

    out = tmp_path / "annotations.csv"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "cinexai.annotate.cli",
            "annotate",
            "export",
            "--db",
            str(study.db),
            "--key-map",
            str(study.paths["key_map"]),
            "--out",
            str(out),
        ],
        check=True,
    )
    rows = pd.read_csv(out, dtype={"lead": str}, keep_default_na=False)
    assert list(rows.columns) == [
        "case_id",
        "annotator",
        "modality",
        "lead",
        "start_ms",
        "end_ms",
        "kind",
        "diagnosis",
    ]
    assert rows["case_id"].nunique() == 1 and int(rows["case_id"].iloc[0]) in CASES
    assert set(rows["annotator"]) == {"dr_a"} and set(rows["diagnosis"]) == {"abnormal"}
    seg = rows[(rows["lead"] == "V2")].iloc[0]
    pt = rows[(rows["lead"] == "V5")].iloc[0]
    cine = rows[rows["modality"] == "cineecg"].iloc[0]
    assert len(rows) == 3 and seg["kind"] == "segment" and pt["kind"] == "point"
    assert abs(seg["start_ms"] - 60) < tol and abs(seg["end_ms"] - 110) < tol
    assert abs(pt["start_ms"] - 250) < tol and pt["end_ms"] == pt["start_ms"]
    assert cine["lead"] == "*" and cine["end_ms"] - cine["start_ms"] >= 25.0 - 1e-9
    assert abs((cine["start_ms"] + cine["end_ms"]) / 2 - 28) < tol  # widened about its centre

    masks_path = tmp_path / "masks.parquet"
    build_masks(
        annotations=out,
        records=study.paths["records"],
        out_masks=masks_path,
        cfg={"sampling_rate": 500, "window_ms": WINDOW_MS},
    )
    masks = read_table(masks_path)
    n = int(WINDOW_MS * 500 / 1000)
    expected = {}
    for r in rows.itertuples():
        span = sample_range(*segment_bounds(r.start_ms, r.end_ms, r.kind, WINDOW_MS), 500, n)
        for ch in CINE_CHANNELS if r.modality == "cineecg" else (r.lead,):
            expected.setdefault((r.modality, ch), np.zeros(n, bool))[span] = True
    got = {
        (m, ch): g.sort_values("t")["mask"].to_numpy()
        for (m, ch), g in masks.groupby(["modality", "channel"])
    }
    assert set(got) == set(expected)
    for key, mask in expected.items():
        assert np.array_equal(got[key], mask), key
    assert got[("ecg12", "V5")].sum() in (10, 11)  # the point: +/-10 ms at 500 Hz

    bodies = _bodies(browser, study)
    urls = " ".join(u for u, _ in bodies)
    assert "/case" in urls and "/api/me" in urls and "plotly.min.js" in urls
    secrets = [str(i) for i in CASES] + [str(i) for i in OTHER]
    secrets += [str(p) for p, _ in CASES.values()] + [str(p) for p, _ in OTHER.values()]
    secrets += list(read_key_map(study.paths["key_map"]))  # case keys stay server side too
    for url, body in bodies:
        for s in secrets:
            assert not re.search(rf"(?<![\w-]){re.escape(s)}(?![\w-])", body), (s, url)
        if url.split("?")[0].rsplit("/", 1)[-1] in ("case", "me") or "/api/work/" in url:
            text = body.lower()
            for word in ("label", "prediction", "ecg_id", "patient", "attribution", "probab"):
                assert f'"{word}' not in text, (word, url)
