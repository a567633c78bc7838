"""CineECG figure: static PNG, offline HTML (static scan and headless Chromium), input checks."""

from __future__ import annotations

import http.server
import re
import subprocess
import threading
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from figure_data import make_mask, make_phi, make_trajectory, make_window
from matplotlib.image import imread

from cinexai.figures.cineecg3d import (
    CineFigureData,
    plot_cineecg_html,
    plot_cineecg_png,
    write_plotly_js,
)
from cinexai.figures.style import MM_PER_INCH

CHROMIUM = Path("/usr/bin/chromium")
#: Debian's /usr/bin/chromium is a wrapper that adds --enable-remote-extensions and API keys; the
#: binary behind it is run directly so the page is tested with Chromium's plain defaults.
CHROMIUM_BINARY = Path("/usr/lib/chromium/chromium")
#: Chromium's own service endpoints (time sync, on-demand component updates, sign-in probe) that
#: headless Chromium 156 contacts even for an empty page, whatever the flags.  They are not the
#: page's requests; anything else reaching the recording proxy is.
BROWSER_SERVICE_HOSTS = {
    "update.googleapis.com",
    "clients2.google.com",
    "accounts.google.com",
    "clients1.google.com",
    "redirector.gvt1.com",
    "edgedl.me.gvt1.com",
}
#: Debian's Chromium (Dec 2026) also contacts other *.google.com hosts (www, android.clients)
#: with an empty page, varying run to run: a host under these suffixes is the browser's too (a
#: font or CDN the page would load -- fonts.googleapis.com, cdn.plot.ly -- is not).
BROWSER_SERVICE_SUFFIXES = (".google.com", ".gvt1.com")
EXTERNAL = re.compile(
    r"""(<script[^>]+src\s*=\s*["']?(https?:)?//|<link[^>]+href\s*=\s*["']?(https?:)?//|"""
    r"""@import\s+(url\()?\s*["']?(https?:)?//|url\(\s*["']?(https?:)?//)""",
    re.I,
)


@pytest.fixture(scope="module")
def data(meshes) -> CineFigureData:
    w = make_window()
    a = np.abs(make_phi(w))
    s = np.abs(make_phi(w).sum(0))
    return CineFigureData(
        make_trajectory(),
        a / a.max(),
        np.exp(-np.arange(200) / 10.0),
        s / s.max(),
        meshes,
        "Case 1 | abnormal",
        mask=make_mask()["I"],
        mask12=make_mask(),
    )


@pytest.fixture(scope="module")
def html(data, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("html") / "cineecg.html"
    plot_cineecg_html(data, out)
    return out


def test_png_has_the_requested_size(data, tmp_path):
    plot_cineecg_png(data, tmp_path / "c.png", dpi=60)
    png = imread(tmp_path / "c.png")
    assert png.shape[1] == pytest.approx(320 / MM_PER_INCH * 60, abs=1)
    assert png[..., :3].std() > 0.05  # something was drawn


def test_attributions_outside_unit_range_are_refused(data):
    with pytest.raises(ValueError, match="attr_mapped"):
        CineFigureData(
            data.trajectory, data.attr12, data.attr_cine, data.attr_mapped * 3, data.meshes, "x"
        )


def test_html_is_self_contained(html):
    text = html.read_text()
    assert EXTERNAL.search(text) is None
    scripts = re.findall(r"<script[^>]*>", text)
    assert scripts and not any("src=" in s for s in scripts)
    assert len(text) > 1_000_000  # plotly.js is inline (about 4.8 MB)
    assert '"displaylogo": false' in text


@pytest.fixture(scope="module")
def shared_html(data, tmp_path_factory) -> Path:
    """A case page that loads the plotly.js its folder's pages share (not a report item)."""
    root = tmp_path_factory.mktemp("shared")
    write_plotly_js(out=root / "plotly.min.js")
    out = root / "7" / "cineecg.html"
    plot_cineecg_html(data, out, plotly_js="../plotly.min.js")
    return out


def test_pages_sharing_plotly_load_it_once_from_their_folder(shared_html, data):
    text = shared_html.read_text()
    assert EXTERNAL.search(text) is None
    assert re.findall(r"<script[^>]*src=\"([^\"]+)\"", text) == ["../plotly.min.js"]
    assert len(text) < 500_000  # no inline plotly.js
    assert (shared_html.parent.parent / "plotly.min.js").stat().st_size > 1_000_000
    with pytest.raises(ValueError, match="plotly_js must be"):
        plot_cineecg_html(data, shared_html.parent / "x.html", plotly_js="cdn")


def test_external_pattern_would_catch_a_cdn():
    assert EXTERNAL.search('<script src="https://cdn.plot.ly/plotly-3.0.0.min.js"></script>')
    assert EXTERNAL.search("@import url(//fonts.example.org/a.css);")


class _Recorder(http.server.BaseHTTPRequestHandler):
    """A proxy that answers 502 to everything and remembers what was asked."""

    seen: list[str] = []

    def _refuse(self) -> None:
        type(self).seen.append(f"{self.command} {self.path}")
        self.send_response(502)
        self.end_headers()

    do_GET = do_POST = do_HEAD = do_CONNECT = _refuse

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass


def _chromium(url: str, proxy_port: int, profile: Path) -> str:
    binary = CHROMIUM_BINARY if CHROMIUM_BINARY.exists() else CHROMIUM
    cmd = [
        str(binary),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-default-apps",
        "--disable-extensions",
        "--no-pings",
        "--disable-domain-reliability",
        "--disable-client-side-phishing-detection",
        "--use-angle=swiftshader",
        "--enable-unsafe-swiftshader",
        "--enable-webgl",
        "--ignore-gpu-blocklist",
        f"--user-data-dir={profile}",
        f"--proxy-server=http://127.0.0.1:{proxy_port}",
        "--proxy-bypass-list=<-loopback>",
        "--virtual-time-budget=8000",
        "--dump-dom",
        url,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False).stdout


def _host(request_line: str) -> str:
    """Host of a recorded 'METHOD target' line (absolute URL or CONNECT host:port)."""
    target = request_line.split(" ", 1)[1]
    return urlsplit(target if "//" in target else f"//{target}").hostname or ""


@pytest.mark.slow
@pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="chromium not installed: apt-get install -y chromium (CI installs it)",
)
@pytest.mark.parametrize("page", ["html", "shared_html"])
def test_html_renders_offline_in_chromium(page, request, tmp_path):
    html = request.getfixturevalue(page)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        # canary: a page with one external image must reach the recorder (the net is wired)
        canary = tmp_path / "canary.html"
        canary.write_text(
            '<html><body><img src="http://cinexai-canary.invalid/x.png"></body></html>'
        )
        _chromium(canary.as_uri(), port, tmp_path / "p1")
        assert any("cinexai-canary.invalid" in s for s in _Recorder.seen), _Recorder.seen
        _Recorder.seen.clear()
        dom = _chromium(html.as_uri(), port, tmp_path / "p2")
    finally:
        server.shutdown()
    assert "main-svg" in dom  # plotly drew its SVG layers
    assert "gl-container" in dom  # the 3D scenes were created
    assert re.search(r"<canvas", dom)  # WebGL canvas present
    page_requests = [
        s
        for s in _Recorder.seen
        if _host(s) not in BROWSER_SERVICE_HOSTS and not _host(s).endswith(BROWSER_SERVICE_SUFFIXES)
    ]
    assert page_requests == []  # nothing the page asked for left the machine
