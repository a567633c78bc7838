"""Figure 4 of the paper: attributions on the CineECG trajectory inside the biventricular model.

Three panels on one attribution scale (colormap and limits shared, one colorbar): (a) the 12-lead
model's post-processed map as a lead x time heatmap, (b) the CineECG model's attributions on the
trajectory, (c) the 12-lead attributions mapped onto the trajectory (Eq. 2).  A static PNG
(matplotlib 3D) and an interactive, fully offline HTML (plotly, inline plotly.js) are drawn from the
same :class:`CineFigureData`.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np
import plotly.graph_objects as go
import plotly.offline
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import Normalize
from matplotlib.ticker import FuncFormatter
from mpl_toolkits.mplot3d.art3d import Line3DCollection, Poly3DCollection
from plotly.subplots import make_subplots

from cinexai.figures import style
from cinexai.io import atomic_write
from cinexai.leads import LEADS

log = logging.getLogger(__name__)

Mesh = tuple[np.ndarray, np.ndarray]
#: Muted wall colours that do not compete with the attribution colormap.
#: ``plotly_js`` value for a self-contained page (plotly.js inline).
INLINE = "inline"
MESH_COLOURS = {"lv": "#c9877f", "rv": "#7f9cc9"}
MESH_OPACITY = 0.12
#: Landmarks of BiventricularModel labelled in the figures.
LANDMARK_LABELS = {"apex": "apex", "lv_free_wall": "LV wall", "rv_free_wall": "RV wall"}
PANEL_TITLES = (
    "(a) 12-lead model attributions",
    "(b) CineECG model attributions",
    "(c) 12-lead attributions mapped onto CineECG",
)


@dataclass
class CineFigureData:
    """Everything the CineECG figure draws for one case (attributions already in [0, 1]).

    ``trajectory`` (3, T) in mm; ``attr12`` (12, T) in :data:`LEADS` order; ``attr_cine`` and
    ``attr_mapped`` (T,) one value per trajectory point, or None for a source not in the grid (its
    panel says so); ``meshes`` part -> (vertices, faces);
    ``mask`` (T,) the expert's CineECG annotation; ``mask12`` lead -> (T,) for the named leads;
    ``landmarks`` name -> (3,) points labelled for orientation (apex, free walls).
    """

    trajectory: np.ndarray
    attr12: np.ndarray
    attr_cine: np.ndarray | None
    attr_mapped: np.ndarray | None
    meshes: dict[str, Mesh]
    title: str
    fs: float = 500.0
    mask: np.ndarray | None = None
    mask12: dict[str, np.ndarray] = field(default_factory=dict)
    landmarks: dict[str, np.ndarray] = field(default_factory=dict)
    tick_ms: float = 50.0

    def __post_init__(self) -> None:
        n = self.trajectory.shape[-1]
        if self.trajectory.shape != (3, n):
            raise ValueError(f"trajectory must be (3, T), got {self.trajectory.shape}")
        for name, arr, shape in (
            ("attr12", self.attr12, (len(LEADS), n)),
            ("attr_cine", self.attr_cine, (n,)),
            ("attr_mapped", self.attr_mapped, (n,)),
        ):
            if arr is None and name != "attr12":
                continue
            arr = np.asarray(arr, dtype=float)
            if arr.shape != shape:
                raise ValueError(f"{name} must be {shape}, got {arr.shape}")
            if not np.all(np.isfinite(arr)) or arr.min() < -1e-6 or arr.max() > 1 + 1e-6:
                raise ValueError(f"{name} must be a post-processed map, finite and in [0, 1]")
        if self.mask is not None and np.shape(self.mask) != (n,):
            raise ValueError(f"mask must be ({n},), got {np.shape(self.mask)}")

    @property
    def time_ms(self) -> np.ndarray:
        return np.arange(self.trajectory.shape[-1]) * 1000.0 / self.fs

    @property
    def tick_index(self) -> np.ndarray:
        """Samples at every ``tick_ms`` milliseconds along the path (0 ms included)."""
        step = max(int(round(self.tick_ms * self.fs / 1000.0)), 1)
        return np.arange(0, self.trajectory.shape[-1], step)


def _mask_spans(mask: np.ndarray) -> list[tuple[int, int]]:
    edges = np.diff(np.concatenate([[0], np.asarray(mask, dtype=np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)))


def _spaced(points: np.ndarray, ticks: np.ndarray, min_mm: float = 4.0) -> np.ndarray:
    """The ticks whose label would not sit within ``min_mm`` of the previous label (no overprint)."""
    kept: list[int] = []
    for k in ticks:
        if not kept or np.linalg.norm(points[k] - points[kept[-1]]) >= min_mm:
            kept.append(int(k))
    return np.asarray(kept, dtype=int)


# --------------------------------------------------------------------------- static PNG


def _heatmap(ax: Axes, data: CineFigureData, norm: Normalize) -> None:
    t = data.time_ms
    dt = t[1] - t[0] if t.size > 1 else 1.0
    ax.imshow(
        data.attr12,
        aspect="auto",
        cmap=style.CMAP,
        norm=norm,
        interpolation="nearest",
        extent=(t[0], t[-1] + dt, len(LEADS) - 0.5, -0.5),
    )
    for lead, m in data.mask12.items():
        k = LEADS.index(lead)
        for a, b in _mask_spans(m):
            ax.add_patch(
                plt.Rectangle(
                    (t[a], k - 0.5),
                    (b - a) * dt,
                    1.0,
                    fill=False,
                    edgecolor="white",
                    lw=0.8,
                    ls="--",
                )
            )
    ax.set_yticks(range(len(LEADS)), LEADS, fontsize=7)
    ax.set_xlabel("time from QRS onset (ms)", fontsize=7)
    ax.tick_params(axis="x", labelsize=7)
    ax.set_title(PANEL_TITLES[0], fontsize=8, loc="left")
    ax.text(0.0, -0.16, "white dashed: expert annotation", transform=ax.transAxes, fontsize=6)


def _screen(points: np.ndarray) -> np.ndarray:
    """Heart-model (x, y, z) -> matplotlib axes (x, z, -y): RV left, LV right, apex down."""
    p = np.atleast_2d(points)
    return np.stack([p[:, 0], p[:, 2], -p[:, 1]], axis=-1)


def _trajectory_3d(
    ax,
    data: CineFigureData,
    attr: np.ndarray,
    title: str,
    norm: Normalize,
    view: tuple[float, float],
) -> None:
    ax.computed_zorder = False
    for part, (verts, faces) in data.meshes.items():
        poly = Poly3DCollection(
            _screen(verts)[faces],
            facecolor=MESH_COLOURS.get(part, "0.7"),
            edgecolor="none",
            alpha=MESH_OPACITY,
            zorder=1,
        )
        ax.add_collection3d(poly)
    p = _screen(data.trajectory.T)
    segs = np.stack([p[:-1], p[1:]], axis=1)
    if data.mask is not None:
        under = np.asarray(data.mask[:-1], dtype=bool) & np.asarray(data.mask[1:], dtype=bool)
        ax.add_collection3d(
            Line3DCollection(segs[under], colors="0.25", linewidths=6.5, alpha=0.35, zorder=2)
        )
    line = Line3DCollection(segs, cmap=style.CMAP, norm=norm, linewidths=2.5, zorder=3)
    line.set_array(0.5 * (attr[:-1] + attr[1:]))
    ax.add_collection3d(line)
    ticks = data.tick_index
    ax.scatter(
        *p[ticks].T,
        c=attr[ticks],
        cmap=style.CMAP,
        norm=norm,
        s=12,
        edgecolor="black",
        linewidths=0.5,
        depthshade=False,
        zorder=4,
    )
    for k in _spaced(data.trajectory.T, ticks):
        ax.text(*p[k], f"  {data.time_ms[k]:.0f}", fontsize=6, zorder=5)
    for name, point in data.landmarks.items():
        if name in LANDMARK_LABELS:
            ax.text(
                *_screen(point)[0],
                LANDMARK_LABELS[name],
                fontsize=6,
                color="0.3",
                ha="center",
                zorder=5,
            )
    allv = np.concatenate([_screen(v) for v, _ in data.meshes.values()] + [p])
    lo, hi = allv.min(0), allv.max(0)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_zlim(lo[2], hi[2])
    ax.set_box_aspect(hi - lo, zoom=1.15)
    ax.view_init(elev=view[0], azim=view[1])
    ax.set_xlabel("x: RV \u2192 LV (mm)", fontsize=6, labelpad=-6)
    ax.set_ylabel("z (mm)", fontsize=6, labelpad=-6)
    ax.set_zlabel("y: apex \u2192 base (mm)", fontsize=6, labelpad=-6)
    ax.zaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{-v:g}"))
    ax.tick_params(labelsize=5, pad=-2)
    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
        axis.set_pane_color((1.0, 1.0, 1.0, 0.0))
    ax.set_title(title, fontsize=8, loc="left")


def plot_cineecg_png(
    data: CineFigureData,
    out_png: str | os.PathLike[str],
    dpi: int = style.DPI,
    view: tuple[float, float] = (12.0, -75.0),
) -> None:
    """Three-panel static figure; the colorbar is shared by all panels (range 0-1)."""
    norm = Normalize(style.VMIN, style.VMAX)
    with plt.rc_context({"grid.color": "0.88", "grid.linewidth": 0.4}):
        fig = _draw_png(data, norm, view)
    try:
        with atomic_write(out_png) as tmp:
            fig.savefig(tmp, format="png", dpi=dpi)
    finally:
        plt.close(fig)
    log.info("wrote %s", out_png)


def _draw_png(data: CineFigureData, norm: Normalize, view: tuple[float, float]) -> plt.Figure:
    fig = plt.figure(figsize=(style.mm_to_inch(320), style.mm_to_inch(115)))
    fig.suptitle(data.title, fontsize=9, x=0.01, ha="left")
    grid = fig.add_gridspec(
        1,
        4,
        width_ratios=(1.0, 1.25, 1.25, 0.05),
        left=0.04,
        right=0.95,
        bottom=0.14,
        top=0.86,
        wspace=0.12,
    )
    _heatmap(fig.add_subplot(grid[0, 0]), data, norm)
    for col, attr, title in (
        (1, data.attr_cine, PANEL_TITLES[1]),
        (2, data.attr_mapped, PANEL_TITLES[2]),
    ):
        if attr is None:
            ax = fig.add_subplot(grid[0, col])
            ax.set_axis_off()
            ax.text(0.5, 0.5, f"{title}:\nnot in this grid", ha="center", fontsize=8)
            continue
        _trajectory_3d(
            fig.add_subplot(grid[0, col], projection="3d"),
            data,
            np.asarray(attr),
            title,
            norm,
            view,
        )
    cbar = fig.colorbar(
        plt.cm.ScalarMappable(norm=norm, cmap=colormaps[style.CMAP]),
        cax=fig.add_subplot(grid[0, 3]),
    )
    cbar.set_label("attribution (post-processed, shared scale)", fontsize=7)
    cbar.ax.tick_params(labelsize=6)
    fig.text(
        0.35,
        0.03,
        "numbers on the paths: ms from QRS onset; grey halo: expert annotation; "
        "walls: LV (red), RV (blue)",
        fontsize=6,
    )
    return fig


# --------------------------------------------------------------------------- interactive HTML


def _plotly_traces(
    data: CineFigureData, attr: np.ndarray, show_legend: bool
) -> list[go.BaseTraceType]:
    traces: list[go.BaseTraceType] = []
    for part, (verts, faces) in data.meshes.items():
        traces.append(
            go.Mesh3d(
                x=verts[:, 0],
                y=verts[:, 1],
                z=verts[:, 2],
                i=faces[:, 0],
                j=faces[:, 1],
                k=faces[:, 2],
                color=MESH_COLOURS.get(part, "grey"),
                opacity=0.15,
                name=part.upper(),
                hoverinfo="name",
                showlegend=show_legend,
                legendgroup=part,
            )
        )
    x, y, z = data.trajectory
    if data.mask is not None:
        m = np.asarray(data.mask, dtype=bool)
        traces.append(
            go.Scatter3d(
                x=np.where(m, x, np.nan),
                y=np.where(m, y, np.nan),
                z=np.where(m, z, np.nan),
                mode="lines",
                line={"color": "rgba(120,120,120,0.45)", "width": 16},
                name="expert annotation",
                hoverinfo="skip",
                showlegend=show_legend,
                legendgroup="expert",
            )
        )
    hover = [f"{t:.0f} ms<br>attribution {a:.2f}" for t, a in zip(data.time_ms, attr)]
    traces.append(
        go.Scatter3d(
            x=x,
            y=y,
            z=z,
            mode="lines+markers",
            text=hover,
            hoverinfo="text",
            line={"color": attr, "coloraxis": "coloraxis", "width": 7},
            marker={"color": attr, "coloraxis": "coloraxis", "size": 2},
            name="trajectory",
            showlegend=False,
        )
    )
    ticks = data.tick_index
    labelled = set(_spaced(data.trajectory.T, ticks).tolist())
    traces.append(
        go.Scatter3d(
            x=x[ticks],
            y=y[ticks],
            z=z[ticks],
            mode="markers+text",
            text=[f"{data.time_ms[k]:.0f}" if k in labelled else "" for k in ticks],
            textposition="top center",
            textfont={"size": 11},
            marker={"size": 3, "color": "black"},
            hoverinfo="skip",
            name=f"every {data.tick_ms:g} ms",
            showlegend=show_legend,
            legendgroup="ticks",
        )
    )
    if data.landmarks:
        names = [n for n in LANDMARK_LABELS if n in data.landmarks]
        pts = np.array([data.landmarks[n] for n in names]).reshape(-1, 3)
        traces.append(
            go.Scatter3d(
                x=pts[:, 0],
                y=pts[:, 1],
                z=pts[:, 2],
                mode="text",
                text=[LANDMARK_LABELS[n] for n in names],
                textfont={"color": "dimgray", "size": 11},
                hoverinfo="skip",
                showlegend=False,
            )
        )
    return traces


def cineecg_figure(data: CineFigureData) -> go.Figure:
    """The plotly figure behind the HTML (heatmap + two rotatable scenes, one coloraxis)."""
    fig = make_subplots(
        rows=1,
        cols=3,
        column_widths=(0.28, 0.36, 0.36),
        specs=[[{"type": "xy"}, {"type": "scene"}, {"type": "scene"}]],
        subplot_titles=PANEL_TITLES,
        horizontal_spacing=0.06,
    )
    fig.add_trace(
        go.Heatmap(
            z=data.attr12,
            x=data.time_ms,
            y=list(LEADS),
            coloraxis="coloraxis",
            hovertemplate="%{y} %{x:.0f} ms: %{z:.2f}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.update_yaxes(autorange="reversed", row=1, col=1)
    fig.update_xaxes(title_text="time from QRS onset (ms)", row=1, col=1)
    for col, attr in ((2, data.attr_cine), (3, data.attr_mapped)):
        if attr is None:  # a source not in this grid: its scene stays empty
            continue
        for trace in _plotly_traces(data, np.asarray(attr, dtype=float), show_legend=col == 2):
            fig.add_trace(trace, row=1, col=col)
    scene = {
        "aspectmode": "data",
        "xaxis_title": "x: RV\u2192LV (mm)",
        "yaxis_title": "y: base\u2192apex (mm)",
        "zaxis_title": "z (mm)",
        "camera": {"up": {"x": 0, "y": -1, "z": 0}, "eye": {"x": 0.5, "y": -0.4, "z": -1.9}},
    }
    fig.update_layout(
        title={"text": data.title, "x": 0.01},
        scene=scene,
        scene2=scene,
        coloraxis={
            "colorscale": style.PLOTLY_CMAP,
            "cmin": style.VMIN,
            "cmax": style.VMAX,
            "colorbar": {"title": {"text": "attribution"}},
        },
        legend={"orientation": "h", "y": -0.05},
        height=620,
        width=1500,
        margin={"l": 40, "r": 20, "t": 80, "b": 40},
    )
    return fig


def plot_cineecg_html(
    data: CineFigureData, out_html: str | os.PathLike[str], plotly_js: str = INLINE
) -> None:
    """Offline HTML (no MathJax, no CDN, no logo link): plotly.js inline (``INLINE``: the page is
    self-contained, as a report item must be) or loaded from ``plotly_js``, a path relative to
    the page of the one copy that pages in a folder share (:func:`write_plotly_js`)."""
    if plotly_js != INLINE and not plotly_js.endswith(".js"):
        raise ValueError(f"plotly_js must be {INLINE!r} or a path ending in .js, got {plotly_js!r}")
    html = cineecg_figure(data).to_html(
        include_plotlyjs=True if plotly_js == INLINE else plotly_js,
        include_mathjax=False,
        full_html=True,
        config={"displaylogo": False, "responsive": True},
    )
    with atomic_write(out_html) as tmp:
        tmp.write_text(html, encoding="utf-8")
    log.info("wrote %s", out_html)


def write_plotly_js(*, out: str | os.PathLike[str]) -> None:
    """The plotly.js bundled with the installed plotly (no download), for pages to share."""
    with atomic_write(out) as tmp:
        tmp.write_text(plotly.offline.get_plotlyjs(), encoding="utf-8")
