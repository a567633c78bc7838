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

import numpy as np
import pandas as pd

from cinexai.cineecg.geometry import BiventricularModel
from cinexai.evaluation.annotations import pooled_masks
from cinexai.evaluation.postprocessing import REGISTRY, align_sign
from cinexai.figures.cineecg3d import (
    INLINE,
    CineFigureData,
    plot_cineecg_html,
    plot_cineecg_png,
)
from cinexai.figures.ecg12 import plot_ecg12
from cinexai.figures.summary import render_summary
from cinexai.io import read_signals, read_table
from cinexai.leads import CINE_CHANNELS, LEADS

__all__ = ["display_map", "render_case", "render_summary"]

log = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]


def display_map(phi: np.ndarray, normal: bool, name: str, scored: np.ndarray) -> np.ndarray:
    """Post-process a (C, T) Phi for display, normalised over the ``scored`` channels (C,) only.

    Same rules as :mod:`cinexai.evaluation.postprocessing` (tested against it); cells outside the
    scored channels reuse the scored constants and are clipped to [0, 1].
    """
    if name not in REGISTRY:
        raise KeyError(f"unknown post-processing {name!r}; known: {sorted(REGISTRY)}")
    aligned = align_sign(np.asarray(phi, dtype=np.float64)[None], np.array([normal]))[0]
    ref = aligned[np.asarray(scored, dtype=bool)]
    if name == "scaled":
        lo, span = ref.min(), ref.max() - ref.min()
        out = (aligned - lo) / span if span > 0 else np.zeros_like(aligned)
    else:
        values = np.maximum(aligned, 0.0) if name == "positive" else np.abs(aligned)
        top = (np.maximum(ref, 0.0) if name == "positive" else np.abs(ref)).max()
        out = values / top if top > 0 else np.zeros_like(aligned)
    return np.clip(out, 0.0, 1.0)


def _attribution_matrix(
    root: PathLike, source: str, method: str, case_id: int, channels: Sequence[str], n_samples: int
) -> np.ndarray:
    """(C, T) Phi of one case from ``attributions/source=S/method=M/part-0.parquet``."""
    path = Path(root) / f"source={source}" / f"method={method}" / "part-0.parquet"
    if not path.exists():
        raise FileNotFoundError(f"no attributions for source={source}, method={method}: {path}")
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


def _probability(predictions: PathLike, case_id: int) -> float:
    df = read_table(predictions, columns=["id", "prob_abnormal"])
    row = df[df["id"] == int(case_id)]
    if row.empty:
        raise KeyError(f"case_id {case_id} not in predictions {predictions}")
    return float(row["prob_abnormal"].iloc[0])


def _score(
    scores_root: PathLike, source: str, method: str, postprocessing: str, case_id: int
) -> pd.Series:
    path = (
        Path(scores_root)
        / f"source={source}"
        / f"method={method}"
        / f"postprocessing={postprocessing}"
        / "part-0.parquet"
    )
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

    cine = by_channel("cineecg")
    cine_mask = np.any(np.stack(list(cine.values())), axis=0) if cine else None
    return diagnosis, by_channel("ecg12"), cine_mask


def render_case(
    *,
    case_id: int,
    windows: PathLike,
    cineecg: PathLike,
    attributions_root: PathLike,
    masks: PathLike,
    predictions_ecg12: PathLike,
    predictions_cineecg: PathLike,
    scores_root: PathLike,
    out_dir: PathLike,
    cfg: Mapping[str, Any],
    plotly_js: str = INLINE,
) -> None:
    """Write ``out_dir/{ecg12.png, ecg12.svg, cineecg.png, cineecg.html}`` for one annotated case.

    ``plotly_js``: how ``cineecg.html`` loads plotly.js (:func:`plot_cineecg_html`).

    ``cfg`` is ``config["figures"]`` (schema defaults filled): ``method`` (instance name),
    ``postprocessing``, ``paper_speed_mm_s``, ``dpi``, ``tick_ms``, ``mesh_resolution``.
    """
    method = str(cfg["method"])
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
    attr12 = display_map(
        _attribution_matrix(attributions_root, "ecg12", method, case_id, LEADS, n),
        normal,
        pp,
        scored12,
    )
    all_cine = np.ones(len(CINE_CHANNELS), dtype=bool)
    per_time = {
        s: display_map(
            _attribution_matrix(attributions_root, s, method, case_id, CINE_CHANNELS, n),
            normal,
            pp,
            all_cine,
        ).mean(0)
        for s in ("cineecg", "mapped")
    }
    p12, pcine = (
        _probability(predictions_ecg12, case_id),
        _probability(predictions_cineecg, case_id),
    )
    s12 = _score(scores_root, "ecg12", method, pp, case_id)
    smap = _score(scores_root, "mapped", method, pp, case_id)
    scine = _score(scores_root, "cineecg", method, pp, case_id)
    head = f"Case {case_id} | expert: {diagnosis} | {method}, {pp}"
    out_dir = Path(out_dir)
    plot_ecg12(
        window,
        attr12,
        mask12,
        float(s12["threshold"]),
        f"{head}\nP(abnormal) = {p12:.2f} (12-lead model) | Dice {s12['dice']:.2f} "
        f"at threshold {s12['threshold']:.2f}",
        out_dir / "ecg12.png",
        out_dir / "ecg12.svg",
        fs=ecg.fs,
        speed_mm_s=float(cfg["paper_speed_mm_s"]),
        dpi=int(cfg["dpi"]),
    )
    model = BiventricularModel()
    resolution = int(cfg["mesh_resolution"])
    data = CineFigureData(
        trajectory=trajectory,
        attr12=attr12,
        attr_cine=per_time["cineecg"],
        attr_mapped=per_time["mapped"],
        meshes={part: model.surface_mesh(part, resolution=resolution) for part in ("lv", "rv")},
        title=(
            f"{head} | P(abnormal): 12-lead {p12:.2f}, CineECG {pcine:.2f} | Dice: 12-lead "
            f"{s12['dice']:.2f}, CineECG {scine['dice']:.2f}, mapped {smap['dice']:.2f}"
        ),
        fs=ecg.fs,
        mask=mask_cine,
        mask12=mask12,
        landmarks=model.landmarks,
        tick_ms=float(cfg["tick_ms"]),
    )
    plot_cineecg_png(data, out_dir / "cineecg.png", dpi=int(cfg["dpi"]))
    plot_cineecg_html(data, out_dir / "cineecg.html", plotly_js)
