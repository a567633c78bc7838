"""The 12-lead figure: calibrated page size, both formats written, bad input refused."""

from __future__ import annotations

import re

import numpy as np
import pytest
from figure_data import make_mask, make_phi, make_window
from matplotlib.image import imread

from cinexai.figures.ecg12 import plot_ecg12
from cinexai.figures.style import MM_PER_INCH

DPI = 100


def _attribution(window: np.ndarray) -> np.ndarray:
    a = np.abs(make_phi(window))
    return a / a.max()


def _render(tmp_path, name, **kw):
    w = make_window()
    size = plot_ecg12(
        w,
        _attribution(w),
        make_mask(),
        0.3,
        "Case 1 | abnormal | P = 0.99",
        tmp_path / f"{name}.png",
        tmp_path / f"{name}.svg",
        dpi=DPI,
        **kw,
    )
    return size, imread(tmp_path / f"{name}.png"), (tmp_path / f"{name}.svg").read_text()


def test_page_is_calibrated_in_mm(tmp_path):
    (width_mm, height_mm), png, svg = _render(tmp_path, "a")
    assert png.shape[1] == pytest.approx(width_mm / MM_PER_INCH * DPI, abs=1)
    assert png.shape[0] == pytest.approx(height_mm / MM_PER_INCH * DPI, abs=1)
    svg_width_pt = float(re.search(r'<svg[^>]*\swidth="([\d.]+)pt"', svg).group(1))
    assert svg_width_pt == pytest.approx(width_mm / MM_PER_INCH * 72, rel=1e-4)
    assert width_mm % 5 == 0 and height_mm % 5 == 0  # the page ends on major grid lines
    # 4 columns of 200 samples: at 50 mm/s each panel is 20 mm instead of 10 mm
    (width50, _), _, _ = _render(tmp_path, "b", speed_mm_s=50.0)
    assert width50 - width_mm == pytest.approx(40.0, abs=5.0)


def test_paper_grid_and_attribution_colours_present(tmp_path):
    _, png, _ = _render(tmp_path, "c")
    rgb = png[..., :3]
    reddish = (rgb[..., 0] > 0.8) & (rgb[..., 1] < 0.6) & (rgb[..., 2] < 0.6)
    blue = (rgb[..., 2] > 0.6) & (rgb[..., 0] < 0.3)
    assert reddish.mean() > 0.01 and blue.sum() > 20


@pytest.mark.parametrize("bad", ["range", "lead", "shape"])
def test_bad_input_is_refused(tmp_path, bad):
    w = make_window()
    attr, mask = _attribution(w), make_mask()
    if bad == "range":
        attr = attr * 2
    elif bad == "lead":
        mask["V7"] = mask["I"]
    else:
        attr = attr[:, :100]
    with pytest.raises((ValueError, KeyError)):
        plot_ecg12(w, attr, mask, 0.3, "x", tmp_path / "x.png", tmp_path / "x.svg", dpi=DPI)
    assert not (tmp_path / "x.png").exists()
