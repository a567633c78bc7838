"""Latent-cluster figures: a case's 12 leads over its cluster segmentation (coloured bands) with
the uncertainty as a strip under each lead (the seed paper's view), and the cluster x wave
contingency heat map of one (modality, K)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from cinexai.clusters.landmarks import WAVES
from cinexai.figures import style  # noqa: F401  (headless backend)
from cinexai.io import atomic_write, read_metadata, read_signals, read_table

log = logging.getLogger(__name__)

DPI = 110


def _colours(n_clusters: int) -> np.ndarray:
    cmap = plt.get_cmap("tab20" if n_clusters > 10 else "tab10")
    return np.asarray([cmap(k % cmap.N) for k in range(n_clusters)])


def _runs(labels: np.ndarray) -> list[tuple[int, int, int]]:
    """(start, end, label) of each run of equal labels."""
    cuts = np.flatnonzero(np.diff(labels)) + 1
    starts, ends = np.r_[0, cuts], np.r_[cuts, len(labels)]
    return [(int(s), int(e), int(labels[s])) for s, e in zip(starts, ends, strict=True)]


def plot_case(
    x: np.ndarray,
    channels: list[str],
    fs: float,
    labels: np.ndarray,
    uncertainty: np.ndarray,
    n_clusters: int,
    title: str,
    out_png: str | os.PathLike[str],
) -> None:
    """Leads ``x`` ``(C, T)`` over cluster bands; under each lead its normalised uncertainty."""
    c, t = x.shape
    ms = np.arange(t + 1) * 1000.0 / fs
    colours = _colours(n_clusters)
    fig, axes = plt.subplots(
        2 * c, 1, figsize=(7, 1.0 * c), sharex=True, gridspec_kw={"height_ratios": [4, 1] * c}
    )
    for i in range(c):
        ax, strip = axes[2 * i], axes[2 * i + 1]
        for start, end, k in _runs(labels):
            ax.axvspan(ms[start], ms[end], color=colours[k], alpha=0.35, lw=0)
        ax.plot(ms[:-1], x[i], color="black", lw=0.8)
        ax.set_ylabel(channels[i], rotation=0, ha="right", va="center", fontsize=7)
        ax.set_yticks([])
        strip.imshow(
            uncertainty[None, :],
            aspect="auto",
            cmap="Greys",
            vmin=0,
            vmax=1,
            extent=(ms[0], ms[-1], 0, 1),
        )
        strip.set_yticks([])
    axes[-1].set_xlabel("ms from QRS onset")
    handles = [plt.Rectangle((0, 0), 1, 1, color=colours[k], alpha=0.5) for k in range(n_clusters)]
    fig.legend(handles, [f"c{k}" for k in range(n_clusters)], loc="upper right", fontsize=6, ncol=2)
    fig.suptitle(title + "\nbands: cluster; grey strip: uncertainty (entropy / log K)", fontsize=8)
    fig.subplots_adjust(hspace=0.05, left=0.08, right=0.86, top=0.94, bottom=0.04)
    _save(fig, out_png)


def plot_contingency(table: pd.DataFrame, title: str, out_png: str | os.PathLike[str]) -> None:
    """Heat map of each cluster's share of timestamps per true wave (rows sum to 1)."""
    counts = table.pivot(index="cluster", columns="wave", values="count").reindex(columns=WAVES)
    shares = counts.div(counts.sum(axis=1).replace(0, np.nan), axis=0).fillna(0.0)
    fig, ax = plt.subplots(figsize=(4.5, 0.35 * len(shares) + 1.5))
    image = ax.imshow(shares.to_numpy(), cmap="viridis", vmin=0, vmax=1, aspect="auto")
    for (i, j), value in np.ndenumerate(shares.to_numpy()):
        ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=6, color="white")
    ax.set_xticks(range(len(WAVES)), WAVES)
    ax.set_yticks(range(len(shares)), [f"c{k} (n={int(n)})" for k, n in counts.sum(axis=1).items()])
    ax.set_title(title, fontsize=8)
    fig.colorbar(image, ax=ax, label="share of the cluster's timestamps")
    fig.tight_layout()
    _save(fig, out_png)


def _save(fig: plt.Figure, out_png: str | os.PathLike[str]) -> None:
    try:
        with atomic_write(out_png) as tmp:
            fig.savefig(tmp, format="png", dpi=DPI)
    finally:
        plt.close(fig)
    log.info("wrote %s", out_png)


def render_cases(
    *,
    attributions: str | os.PathLike[str],
    signals: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
) -> None:
    """Stage entry: one figure per case of a ``latent_clusters`` attribution file."""
    meta = read_metadata(attributions)
    table = read_table(attributions, columns=["case_id", "channel", "t", "uncertainty", "cluster"])
    first = table[table["channel"] == table["channel"].iloc[0]].sort_values(["case_id", "t"])
    k = int(meta["params"]["n_clusters"])
    sig = read_signals(signals)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for case, rows in first.groupby("case_id"):
        x = sig.select([case]).X[0]
        p = meta["forest_proba"][str(case)]
        plot_case(
            x,
            list(sig.channels),
            sig.fs,
            rows["cluster"].to_numpy(),
            rows["uncertainty"].to_numpy() / np.log(k),
            k,
            f"case {case}: {meta['method']} (K={k}), forest P(abnormal) {p:.2f}",
            out_dir / f"{case}.png",
        )


def render_contingency(
    contingency: str | os.PathLike[str], title: str, out_png: str | os.PathLike[str]
) -> None:
    """Stage entry: the heat map of one (modality, K) contingency file."""
    plot_contingency(pd.read_csv(contingency), title, out_png)
