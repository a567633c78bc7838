"""Grid summary plots: mean Dice per configuration with BCa intervals, and Dice-threshold curves."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from cinexai import grid
from cinexai.evaluation.bootstrap import bca_mean, row_seed
from cinexai.figures import style
from cinexai.io import atomic_write, read_table

log = logging.getLogger(__name__)

SOURCE_ORDER = tuple(grid.SOURCES)
SOURCE_TITLES = {name: s.title for name, s in grid.SOURCES.items()}
POSTPROCESSING_COLOURS = {"positive": "#d95f02", "absolute": "#1b9e77", "scaled": "#7570b3"}
#: A configuration, in the tables' order (same bootstrap row keys, so the same intervals).
KEYS = ["source", "arch", "method", "postprocessing"]


def _label(frame: pd.DataFrame) -> pd.Series:
    """``method (arch)``: one bar or line per method instance and architecture."""
    return frame["method"].astype(str) + " (" + frame["arch"].astype(str) + ")"


def _ordered(values: pd.Series, order: tuple[str, ...]) -> list[str]:
    present = list(dict.fromkeys(values.astype(str)))
    return [v for v in order if v in present] + sorted(v for v in present if v not in order)


def dice_intervals(
    scores: pd.DataFrame, *, n_resamples: int, confidence: float, seed: int
) -> pd.DataFrame:
    """Mean Dice and its BCa interval per (source, arch, method, postprocessing), one row each.

    With the tables' ``n_resamples``, ``confidence`` and ``seed`` the intervals equal table rows'.
    """
    missing = set(KEYS + ["dice"]) - set(scores.columns)
    if missing:
        raise KeyError(f"score table lacks columns {sorted(missing)}")
    rows = []
    for key, group in scores.groupby(KEYS, sort=True):
        # same case order and row key as cinexai.evaluation.tables: identical resamples and CI
        group = group.sort_values("case_id") if "case_id" in group else group
        iv = bca_mean(
            group["dice"].to_numpy(dtype=float),
            n_resamples,
            confidence,
            row_seed(seed, "|".join(map(str, key))),
        )
        if iv.reason:
            log.info("Dice interval of %s: %s", "/".join(map(str, key)), iv.reason)
        floor = float(group["floor_dice"].mean()) if "floor_dice" in group else np.nan
        rows.append(
            dict(
                zip(KEYS, key),
                mean=iv.mean,
                low=iv.low,
                high=iv.high,
                n=iv.n,
                floor_dice=floor,
                reason=iv.reason,
            )
        )
    return pd.DataFrame(rows)


def plot_dice_by_config(
    scores: pd.DataFrame,
    out_png: str | os.PathLike[str],
    *,
    n_resamples: int,
    confidence: float,
    seed: int,
) -> None:
    """Bars of mean Dice (method (arch) x post-processing), one panel per source, BCa error bars."""
    table = dice_intervals(scores, n_resamples=n_resamples, confidence=confidence, seed=seed)
    table["label"] = _label(table)
    sources = _ordered(table["source"], SOURCE_ORDER)
    methods = sorted(table["label"].unique())
    pps = _ordered(table["postprocessing"], tuple(POSTPROCESSING_COLOURS))
    width = 0.8 / len(pps)
    panel_w = max(3.2, 1.2 + 0.8 * len(methods))
    fig, axes = plt.subplots(
        1, len(sources), figsize=(panel_w * len(sources), 4.6), sharey=True, squeeze=False
    )
    for ax, source in zip(axes[0], sources):
        sub = table[table["source"] == source]
        for j, pp in enumerate(pps):
            cell = sub[sub["postprocessing"] == pp].set_index("label").reindex(methods)
            x = np.arange(len(methods)) + (j - (len(pps) - 1) / 2) * width
            err = np.vstack([cell["mean"] - cell["low"], cell["high"] - cell["mean"]])
            ax.bar(
                x,
                cell["mean"],
                width,
                yerr=np.nan_to_num(err),
                capsize=2,
                color=POSTPROCESSING_COLOURS.get(pp, "0.5"),
                label=pp,
                error_kw={"lw": 0.8},
            )
        floor = sub["floor_dice"].mean()
        if np.isfinite(floor):
            ax.axhline(floor, color="0.3", ls="--", lw=0.8, label="floor (all cells on)")
        ax.set_xticks(range(len(methods)), methods, rotation=35, ha="right", fontsize=7)
        ax.set_title(SOURCE_TITLES.get(source, source), fontsize=9)
        ax.set_ylim(0, 1)
        ax.grid(axis="y", lw=0.3)
    axes[0, 0].set_ylabel(f"mean Dice ({confidence:.0%} BCa CI)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    _save(fig, out_png)


def threshold_curves(sweeps: pd.DataFrame) -> pd.DataFrame:
    """Mean Dice per threshold and configuration (``mean_dice``, or the mean of per-case ``dice``)."""
    value = "mean_dice" if "mean_dice" in sweeps.columns else "dice"
    missing = set(KEYS + ["threshold", value]) - set(sweeps.columns)
    if missing:
        raise KeyError(f"sweep table lacks columns {sorted(missing)}")
    return (
        sweeps.groupby(KEYS + ["threshold"], sort=True)[value]
        .mean()
        .rename("mean_dice")
        .reset_index()
    )


def plot_threshold_curves(sweeps: pd.DataFrame, out_png: str | os.PathLike[str]) -> None:
    """Mean Dice against threshold: rows = source, columns = post-processing, a line per method
    instance and architecture."""
    curves = threshold_curves(sweeps)
    curves["label"] = _label(curves)
    sources = _ordered(curves["source"], SOURCE_ORDER)
    pps = _ordered(curves["postprocessing"], tuple(POSTPROCESSING_COLOURS))
    methods = sorted(curves["label"].unique())
    colours = dict(zip(methods, plt.colormaps["tab10"](np.arange(len(methods)) % 10)))
    fig, axes = plt.subplots(
        len(sources),
        len(pps),
        figsize=(3.2 * len(pps), 2.6 * len(sources)),
        sharex=True,
        sharey=True,
        squeeze=False,
    )
    for r, source in enumerate(sources):
        for c, pp in enumerate(pps):
            ax = axes[r, c]
            cell = curves[(curves["source"] == source) & (curves["postprocessing"] == pp)]
            for method, g in cell.groupby("label"):
                ax.plot(g["threshold"], g["mean_dice"], lw=1.0, color=colours[method], label=method)
                best = g.loc[g["mean_dice"].idxmax()]
                ax.plot(best["threshold"], best["mean_dice"], "o", ms=3, color=colours[method])
            ax.set_title(f"{SOURCE_TITLES.get(source, source)} | {pp}", fontsize=8)
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1)
            ax.grid(lw=0.3)
        axes[r, 0].set_ylabel("mean Dice")
    for ax in axes[-1]:
        ax.set_xlabel("threshold")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(
        handles, labels, loc="lower center", ncol=min(len(methods), 4), fontsize=7, frameon=False
    )
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    _save(fig, out_png)


def _save(fig: plt.Figure, out_png: str | os.PathLike[str]) -> None:
    try:
        with atomic_write(out_png) as tmp:
            fig.savefig(tmp, format="png", dpi=style.DPI // 2)
    finally:
        plt.close(fig)
    log.info("wrote %s", out_png)


def _read_with_keys(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a score/sweep file; fill source/arch/method/postprocessing from the hive path if
    absent."""
    df = read_table(path)
    for part in Path(path).parts:
        key, sep, value = part.partition("=")
        if sep and key in KEYS and key not in df.columns:
            df[key] = value
    missing = set(KEYS) - set(df.columns)
    if missing:
        raise KeyError(f"{path}: cannot tell its {sorted(missing)} (no column, no hive key)")
    return df


def render_summary(
    *,
    score_files: Sequence[str | os.PathLike[str]],
    sweep_files: Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    n_resamples: int,
    confidence: float,
    seed: int,
) -> None:
    """Write ``out_dir/{dice_by_config.png, threshold_curves.png}`` from the grid's score files."""
    if not score_files or not sweep_files:
        raise ValueError("render_summary needs at least one score file and one sweep file")
    scores = pd.concat([_read_with_keys(p) for p in score_files], ignore_index=True)
    sweeps = pd.concat([_read_with_keys(p) for p in sweep_files], ignore_index=True)
    out_dir = Path(out_dir)
    plot_dice_by_config(
        scores,
        out_dir / "dice_by_config.png",
        n_resamples=n_resamples,
        confidence=confidence,
        seed=seed,
    )
    plot_threshold_curves(sweeps, out_dir / "threshold_curves.png")
