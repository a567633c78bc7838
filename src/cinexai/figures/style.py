"""Shared look of every cinexai figure: ECG paper calibration, colours, one attribution scale."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # figures are rendered headless, in rules and in tests

MM_PER_INCH = 25.4
#: Paper speed (mm/s) and gain (mm/mV) of a standard clinical 12-lead print.
PAPER_SPEED_MM_S = 25.0
GAIN_MM_MV = 10.0
#: Raster resolution of every PNG: at 300 dpi 1 mm of ECG paper is 11.8 pixels.
DPI = 300

#: Classic ECG paper: pink 1 mm minor grid, red 5 mm major grid.
GRID_MINOR = "#f6c4c4"
GRID_MAJOR = "#e06666"
PAPER = "#fffafa"
TRACE = "black"
#: Attribution colour of the paper's Fig. 3 (blue) and the expert-annotation shade.
ATTRIBUTION = "#1f5fbf"
ATTRIBUTION_LIGHT = "#9dbbe8"
EXPERT = "#2ca02c"

#: One colormap and one range for every attribution panel (maps are post-processed to [0, 1]).
CMAP = "viridis"
VMIN, VMAX = 0.0, 1.0
#: Plotly's name for the same colormap.
PLOTLY_CMAP = "Viridis"

#: Standard 3 x 4 print layout: columns are lead groups, rows run down each group.
ECG12_LAYOUT: tuple[tuple[str, ...], ...] = (
    ("I", "II", "III"),
    ("aVR", "aVL", "aVF"),
    ("V1", "V2", "V3"),
    ("V4", "V5", "V6"),
)


def mm_to_inch(mm: float) -> float:
    """Convert paper millimetres to inches (matplotlib's figure unit)."""
    return mm / MM_PER_INCH
