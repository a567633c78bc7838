"""File-level entry points of the figures stage: one case's figures (and, re-exported, the summary).

Attributions are shown exactly as they are scored: sign-aligned for cases the expert called
normal, then post-processed to [0, 1] with the normalisation constants of the *scored* cells (the
leads the expert named for ecg12; x, y, z for CineECG).  Leads the expert did not name are drawn
with the same constants, clipped to [0, 1], so the Dice threshold line means the same on every lead.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from cinexai import grid
from cinexai.cineecg.geometry import BiventricularModel
from cinexai.evaluation import postprocessing
from cinexai.evaluation.annotations import pooled_masks
from cinexai.evaluation.postprocessing import align_sign
from cinexai.figures import style
from cinexai.figures.cineecg3d import INLINE, CineFigureData, plot_cineecg_html, plot_cineecg_png
from cinexai.figures.ecg12 import plot_ecg12
from cinexai.figures.summary import render_summary
from cinexai.io import atomic_write, read_signals, read_table
from cinexai.leads import LEADS

__all__ = ["display_map", "plot_compare", "render_case", "render_summary"]

log = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]


def display_map(phi: np.ndarray, normal: bool, name: str, scored: np.ndarray) -> np.ndarray:
    """Post-process a (C, T) Phi for display, normalised over the ``scored`` channels (C,) only.

    Calls :func:`cinexai.evaluation.postprocessing.apply` (any registered post-processing) with the
    scored channels as its valid cells; cells outside them are transformed with the same constants
    (``extend``) and clipped to [0, 1].
    """
    aligned = align_sign(np.asarray(phi, dtype=np.float64)[None], np.array([normal]))[0]
    valid = np.broadcast_to(np.asarray(scored, dtype=bool)[:, None], aligned.shape)
    out = postprocessing.apply(name, aligned.reshape(1, -1), valid.reshape(1, -1), extend=True)
    return np.clip(out.reshape(aligned.shape), 0.0, 1.0)


def _attribution_matrix(
    path: PathLike, case_id: int, channels: Sequence[str], n_samples: int
) -> np.ndarray:
    """(C, T) Phi of one case from an attribution file."""
    df = read_table(
        path, columns=["case_id", "channel", "t", "phi"], filters=[("case_id", "=", int(case_id))]
    )
    if df.empty:
        raise KeyError(f"case_id {case_id} has no attributions in {path}")
    wide = df.pivot(index="channel", columns="t", values="phi")
    missing = [c for c in channels if c not in wide.index]
    if missing or wide.shape[1] != n_samples:
        raise KeyError(
            f"case_id {case_id} in {path}: missing channels {missing} or "
            f"{wide.shape[1]} samples instead of {n_samples}"
        )
    return wide.loc[list(channels)].to_numpy(dtype=np.float64)


def _probabilities(predictions: Sequence[PathLike], case_id: int) -> dict[tuple[str, str], float]:
    """P(abnormal) of a case per (modality, arch), from ``models/{modality}/{arch}/`` files."""
    out = {}
    for path in predictions:
        modality, arch = Path(path).parts[-3:-1]
        df = read_table(path, columns=["id", "prob_abnormal"])
        row = df[df["id"] == int(case_id)]
        if row.empty:
            raise KeyError(f"case_id {case_id} not in predictions {path}")
        out[(modality, arch)] = float(row["prob_abnormal"].iloc[0])
    return out


def _score(path: PathLike, case_id: int) -> pd.Series:
    df = read_table(path)
    row = df[df["case_id"] == int(case_id)]
    if row.empty:
        raise KeyError(f"case_id {case_id} not scored in {path}")
    return row.iloc[0]


def _case_masks(
    masks: PathLike, case_id: int, n_samples: int
) -> tuple[str, dict[str, np.ndarray], np.ndarray | None]:
    """Expert diagnosis, ecg12 lead masks and the CineECG time mask (any of x, y, z) of a case.

    Under ``evaluation.annotators: each`` the drawn mask is the union of the annotators' masks.
    """
    df = pooled_masks(read_table(masks, filters=[("case_id", "=", int(case_id))]))
    if df.empty:
        raise KeyError(f"case_id {case_id} has no expert annotation in {masks}")
    diagnosis = str(df["diagnosis"].iloc[0])

    def by_channel(modality: str) -> dict[str, np.ndarray]:
        out = {}
        for channel, g in df[df["modality"] == modality].groupby("channel"):
            m = np.zeros(n_samples, dtype=bool)
            m[g["t"].to_numpy(dtype=int)] = g["mask"].to_numpy(dtype=bool)
            out[str(channel)] = m
        return out

    cine = by_channel(grid.CINEECG)
    cine_mask = np.any(np.stack(list(cine.values())), axis=0) if cine else None
    return diagnosis, by_channel(grid.ECG12), cine_mask


def render_case(
    *,
    case_id: int,
    windows: PathLike,
    cineecg: PathLike,
    masks: PathLike,
    predictions: Sequence[PathLike],
    attributions: Mapping[str, PathLike],
    scores: Mapping[str, PathLike],
    out_dir: PathLike,
    cfg: Mapping[str, Any],
    plotly_js: str = INLINE,
) -> None:
    """Write ``out_dir/{ecg12.png, ecg12.svg, cineecg.png, cineecg.html, compare.png}`` for a case.

    ``attributions`` and ``scores`` map ``{role}_{source}`` to the declared files (roles:
    ``method``, ``figures.method`` on ``figures.architecture``; ``intrinsic``, the IMN's own
    map, when ``figures.intrinsic_method`` is set); sources absent from the grid are absent.
    ``predictions`` are ``models/{modality}/{arch}/predictions.parquet`` files. ``cfg`` is
    ``config["figures"]`` (schema defaults filled). ``plotly_js``: how ``cineecg.html`` loads
    plotly.js (:func:`plot_cineecg_html`).
    """
    pp = str(cfg["postprocessing"])
    ecg = read_signals(windows)
    if list(ecg.channels) != list(LEADS):
        raise ValueError(f"{windows}: channels {ecg.channels} are not the 12 leads {LEADS}")
    window = ecg.select([case_id]).X[0]
    trajectory = read_signals(cineecg).select([case_id]).X[0]
    n = window.shape[1]
    diagnosis, mask12, mask_cine = _case_masks(masks, case_id, n)
    normal = diagnosis == "normal"
    scored12 = np.array([lead in mask12 for lead in LEADS])
    if not scored12.any():
        log.warning("case_id %s: the expert named no ecg12 lead; normalising over all 12", case_id)
        scored12[:] = True
    sources = [s for s in grid.SOURCES if f"method_{s}" in attributions]
    scored = {
        s: scored12 if grid.SOURCES[s].target == grid.ECG12 else np.ones(3, dtype=bool)
        for s in sources
    }
    maps = {
        key: display_map(
            _attribution_matrix(path, case_id, grid.SOURCES[key.split("_", 1)[1]].channels, n),
            normal,
            pp,
            scored[key.split("_", 1)[1]],
        )
        for key, path in attributions.items()
    }
    marks = {key: _score(path, case_id) for key, path in scores.items()}
    probs = _probabilities(predictions, case_id)
    arch = str(cfg["architecture"])
    method = str(cfg["method"])
    head = f"Case {case_id} | expert: {diagnosis} | {method} ({arch}), {pp}"
    out_dir = Path(out_dir)
    blank12 = np.zeros((len(LEADS), n))
    attr12 = maps.get(f"method_{grid.ECG12}", blank12)
    s12 = marks.get(f"method_{grid.ECG12}")
    p12 = probs.get((grid.ECG12, arch), float("nan"))
    threshold = float(s12["threshold"]) if s12 is not None else 1.0
    dice12 = f"Dice {s12['dice']:.2f} at threshold {threshold:.2f}" if s12 is not None else ""
    plot_ecg12(
        window,
        attr12,
        mask12,
        threshold,
        f"{head}\nP(abnormal) = {p12:.2f} (12-lead {arch} model) | {dice12}",
        out_dir / "ecg12.png",
        out_dir / "ecg12.svg",
        fs=ecg.fs,
        speed_mm_s=float(cfg["paper_speed_mm_s"]),
        dpi=int(cfg["dpi"]),
    )
    per_time = {
        s: maps[f"method_{s}"].mean(0) if f"method_{s}" in maps else None
        for s in (grid.CINEECG, grid.MAPPED)
    }
    dice = ", ".join(
        f"{s} {marks[f'method_{s}']['dice']:.2f}" for s in sources if f"method_{s}" in marks
    )
    prob = ", ".join(f"{m} {p:.2f}" for (m, a), p in sorted(probs.items()) if a == arch)
    model = BiventricularModel()
    resolution = int(cfg["mesh_resolution"])
    data = CineFigureData(
        trajectory=trajectory,
        attr12=attr12,
        attr_cine=per_time[grid.CINEECG],
        attr_mapped=per_time[grid.MAPPED],
        meshes={part: model.surface_mesh(part, resolution=resolution) for part in ("lv", "rv")},
        title=f"{head} | P(abnormal): {prob} | Dice: {dice}",
        fs=ecg.fs,
        mask=mask_cine,
        mask12=mask12,
        landmarks=model.landmarks,
        tick_ms=float(cfg["tick_ms"]),
    )
    plot_cineecg_png(data, out_dir / "cineecg.png", dpi=int(cfg["dpi"]))
    plot_cineecg_html(data, out_dir / "cineecg.html", plotly_js)
    titles = {"method": f"{method} ({arch})", "intrinsic": f"{cfg['intrinsic_method']} (imn)"}
    plot_compare(
        {
            key: (
                f"{titles[key.split('_', 1)[0]]} | {grid.SOURCES[key.split('_', 1)[1]].title}",
                grid.SOURCES[key.split("_", 1)[1]].channels,
                value,
                marks[key]["dice"] if key in marks else float("nan"),
            )
            for key, value in maps.items()
        },
        [role for role in titles if any(key.startswith(f"{role}_") for key in maps)],
        sources,
        f"{head} | the IMN's intrinsic map beside the post-hoc map ({pp}, same scale)",
        out_dir / "compare.png",
        fs=ecg.fs,
        dpi=int(cfg["dpi"]),
    )


def plot_compare(
    panels: Mapping[str, tuple[str, Sequence[str], np.ndarray, float]],
    roles: Sequence[str],
    sources: Sequence[str],
    title: str,
    out_png: PathLike,
    fs: float,
    dpi: int,
) -> None:
    """Heat maps (channel x time, [0, 1]) in a grid: one row per role, one column per source.

    ``panels[f"{role}_{source}"] = (title, channels, map, dice)``.
    """
    fig, axes = plt.subplots(
        len(roles), len(sources), figsize=(3.6 * len(sources), 2.6 * len(roles)), squeeze=False
    )
    for r, role in enumerate(roles):
        for c, source in enumerate(sources):
            ax = axes[r, c]
            panel = panels.get(f"{role}_{source}")
            if panel is None:
                ax.set_axis_off()
                continue
            name, channels, values, dice = panel
            t_ms = values.shape[1] * 1000.0 / fs
            ax.imshow(
                values,
                aspect="auto",
                cmap=style.CMAP,
                vmin=0,
                vmax=1,
                extent=(0, t_ms, len(channels) - 0.5, -0.5),
                interpolation="nearest",
            )
            ax.set_yticks(range(len(channels)), list(channels), fontsize=6)
            ax.set_title(f"{name}\nDice {dice:.2f}", fontsize=7)
            ax.tick_params(axis="x", labelsize=6)
        axes[-1, 0].set_xlabel("time from QRS onset (ms)", fontsize=7)
    fig.suptitle(title, fontsize=8, x=0.01, ha="left")
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    try:
        with atomic_write(out_png) as tmp:
            fig.savefig(tmp, format="png", dpi=dpi // 2)
    finally:
        plt.close(fig)
