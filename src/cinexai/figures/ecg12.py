"""Figure 3 of the paper: the 12-lead window on calibrated ECG paper with attribution and annotation.

The whole figure is one axes whose data unit is the paper millimetre and which fills the figure, so
the print is true to scale: 25 mm/s, 10 mm/mV, 1 mm minor and 5 mm major grid lines.  Leads sit in
the standard 3 x 4 print layout (columns I-III, aVR-aVF, V1-V3, V4-V6).  Under each trace a strip
shows the post-processed attribution (0 at the strip's foot, 1 at its top) in blue, darker where it
exceeds the Dice threshold (dotted line); the expert's annotated segments are shaded green.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection

from cinexai.figures import style
from cinexai.io import atomic_write
from cinexai.leads import LEADS

log = logging.getLogger(__name__)

#: Paper layout in millimetres.
MARGIN_LEFT = 15.0  # room for the 1 mV calibration pulse
MARGIN_RIGHT = 5.0
COLUMN_GAP = 10.0
STRIP_MM = 6.0  # height of the attribution strip (attribution 1.0 = 6 mm)
LABEL_MM = 4.0  # band above each trace for the lead label
ROW_GAP = 2.0
TITLE_MM = 15.0
FOOTER_MM = 15.0
FONT_PT = 6.0


@dataclass(frozen=True)
class Row:
    """Vertical placement (mm from the bottom of the page) of one row of leads."""

    strip_bottom: float
    baseline: float
    top: float


def _ceil_to(value: float, step: float) -> float:
    return step * math.ceil(value / step - 1e-9)


def _validate(
    window: np.ndarray, attribution: np.ndarray, mask: Mapping[str, np.ndarray], threshold: float
) -> None:
    if window.shape != attribution.shape or window.ndim != 2 or window.shape[0] != len(LEADS):
        raise ValueError(
            f"window {window.shape} and attribution {attribution.shape} must both be "
            f"({len(LEADS)}, T)"
        )
    if (
        not np.all(np.isfinite(attribution))
        or attribution.min() < -1e-6
        or attribution.max() > 1 + 1e-6
    ):
        raise ValueError("attribution must be the post-processed map, finite and in [0, 1]")
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold {threshold} outside [0, 1]")
    for lead, m in mask.items():
        if lead not in LEADS:
            raise KeyError(f"mask names unknown lead {lead!r}")
        if np.shape(m) != (window.shape[1],):
            raise ValueError(
                f"mask for lead {lead} has shape {np.shape(m)}, expected ({window.shape[1]},)"
            )


def _layout_rows(window: np.ndarray, gain: float) -> tuple[list[Row], float]:
    """Place the three rows bottom-up so that every baseline sits on a 5 mm major line."""
    rows_from_top: list[list[int]] = [
        [LEADS.index(col[r]) for col in style.ECG12_LAYOUT] for r in range(3)
    ]
    rows: list[Row] = []
    y = FOOTER_MM
    for leads in reversed(rows_from_top):
        upper = max(float(window[leads].max()), 0.5 / gain) * gain + 1.0
        lower = max(float(-window[leads].min()), 0.0) * gain + 1.0
        baseline = _ceil_to(y + STRIP_MM + 1.0 + lower, 5.0)
        top = max(baseline + upper, baseline + 10.5)  # the 10 mm calibration pulse must fit
        rows.append(Row(strip_bottom=y, baseline=baseline, top=top))
        y = top + LABEL_MM + ROW_GAP
    return rows[::-1], y


def _draw_grid(ax: Axes, width: float, height: float) -> None:
    """Pink 1 mm minor and red 5 mm major lines over the whole page."""
    for step, colour, lw in ((1.0, style.GRID_MINOR, 0.25), (5.0, style.GRID_MAJOR, 0.5)):
        xs = np.arange(0.0, width + 1e-9, step)
        ys = np.arange(0.0, height + 1e-9, step)
        segs = [((x, 0.0), (x, height)) for x in xs] + [((0.0, y), (width, y)) for y in ys]
        ax.add_collection(LineCollection(segs, colors=colour, linewidths=lw, zorder=0))


def _draw_calibration(ax: Axes, baseline: float, gain: float, speed: float) -> None:
    """The standard 1 mV x 200 ms calibration pulse left of a row."""
    x0, w = 4.0, 0.2 * speed
    xs = [x0 - 2.0, x0, x0, x0 + w, x0 + w, x0 + w + 2.0]
    ys = [baseline, baseline, baseline + gain, baseline + gain, baseline, baseline]
    ax.plot(xs, ys, color=style.TRACE, lw=0.6, zorder=3)


def _spans(mask: np.ndarray) -> list[tuple[int, int]]:
    """Start/stop sample indices of the runs of True in a boolean vector."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)))


def _draw_lead(
    ax: Axes,
    x0: float,
    row: Row,
    lead: str,
    trace: np.ndarray,
    attr: np.ndarray,
    mask: np.ndarray | None,
    threshold: float,
    gain: float,
    mm_per_sample: float,
) -> None:
    n = trace.size
    x = x0 + np.arange(n) * mm_per_sample
    width = n * mm_per_sample
    if mask is not None:
        for a, b in _spans(np.asarray(mask, dtype=bool)):
            ax.fill_between(
                [x0 + a * mm_per_sample, x0 + b * mm_per_sample],
                row.strip_bottom,
                row.top,
                color=style.EXPERT,
                alpha=0.22,
                lw=0,
                zorder=1,
            )
    strip = row.strip_bottom + attr * STRIP_MM
    ax.fill_between(x, row.strip_bottom, strip, color=style.ATTRIBUTION_LIGHT, lw=0, zorder=2)
    ax.fill_between(
        x,
        row.strip_bottom,
        strip,
        where=attr >= threshold,
        interpolate=True,
        color=style.ATTRIBUTION,
        lw=0,
        zorder=2,
    )
    ax.plot([x0, x0 + width], [row.strip_bottom] * 2, color="0.35", lw=0.3, zorder=2)
    ax.plot(
        [x0, x0 + width],
        [row.strip_bottom + threshold * STRIP_MM] * 2,
        color=style.ATTRIBUTION,
        lw=0.6,
        ls=(0, (1, 1)),
        zorder=3,
    )
    ax.plot(x, row.baseline + trace * gain, color=style.TRACE, lw=0.5, zorder=4)
    annotated = mask is not None
    ax.text(
        x0,
        row.top + 0.6,
        lead,
        fontsize=FONT_PT + 1,
        va="bottom",
        ha="left",
        fontweight="bold" if annotated else "normal",
        color="black" if annotated else "0.45",
        zorder=5,
    )


def plot_ecg12(
    window: np.ndarray,
    attribution: np.ndarray,
    mask: Mapping[str, np.ndarray],
    threshold: float,
    title: str,
    out_png: str | os.PathLike[str],
    out_svg: str | os.PathLike[str],
    fs: float = 500.0,
    speed_mm_s: float = style.PAPER_SPEED_MM_S,
    gain_mm_mv: float = style.GAIN_MM_MV,
    dpi: int = style.DPI,
) -> tuple[float, float]:
    """Draw the 12-lead figure to PNG (``dpi``) and SVG; return the page size (width, height) in mm.

    ``window`` and ``attribution`` are (12, T) in :data:`LEADS` order (mV and [0, 1]); ``mask``
    maps each lead the expert named to its boolean (T,) annotation; ``threshold`` is the Dice
    threshold on the attribution scale.
    """
    window = np.asarray(window, dtype=float)
    attribution = np.asarray(attribution, dtype=float)
    _validate(window, attribution, mask, threshold)
    mm_per_sample = speed_mm_s / fs
    panel_w = window.shape[1] * mm_per_sample
    rows, content_top = _layout_rows(window, gain_mm_mv)
    width = _ceil_to(MARGIN_LEFT + 4 * panel_w + 3 * COLUMN_GAP + MARGIN_RIGHT, 5.0)
    height = _ceil_to(content_top + TITLE_MM, 5.0)

    fig = plt.figure(
        figsize=(style.mm_to_inch(width), style.mm_to_inch(height)), facecolor=style.PAPER
    )
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_axis_off()
    ax.set_facecolor(style.PAPER)
    _draw_grid(ax, width, height)
    for row in rows:
        _draw_calibration(ax, row.baseline, gain_mm_mv, speed_mm_s)
    for c, column in enumerate(style.ECG12_LAYOUT):
        x0 = MARGIN_LEFT + c * (panel_w + COLUMN_GAP)
        for r, lead in enumerate(column):
            k = LEADS.index(lead)
            _draw_lead(
                ax,
                x0,
                rows[r],
                lead,
                window[k],
                attribution[k],
                mask.get(lead),
                threshold,
                gain_mm_mv,
                mm_per_sample,
            )
    ax.text(2.0, height - 2.0, title, fontsize=FONT_PT + 1, va="top", ha="left", wrap=True)
    ax.text(
        2.0,
        FOOTER_MM - 2.0,
        f"{speed_mm_s:g} mm/s   {gain_mm_mv:g} mm/mV   {dpi} dpi   window "
        f"{1000 * window.shape[1] / fs:.0f} ms from QRS onset\n"
        f"blue strip: attribution 0-1 (dark: above Dice threshold {threshold:.2f}, dotted)\n"
        "green: expert annotation; grey lead label: lead not annotated",
        fontsize=FONT_PT - 1,
        va="top",
        ha="left",
        linespacing=1.4,
    )
    try:
        with atomic_write(out_png) as tmp:
            fig.savefig(tmp, format="png", dpi=dpi, facecolor=fig.get_facecolor())
        with atomic_write(out_svg) as tmp:
            fig.savefig(tmp, format="svg", facecolor=fig.get_facecolor())
    finally:
        plt.close(fig)
    log.info("wrote %s and %s (%.0f x %.0f mm)", out_png, out_svg, width, height)
    return width, height
