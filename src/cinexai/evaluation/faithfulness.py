"""Faithfulness of a map to the model it explains: deletion and insertion curves (Petsiuk 2018).

Per configuration (source, architecture, method instance, post-processing) and case: the map is sign-aligned
(Phi' = -Phi for expert-normal cases, positive = evidence for the expert's class) and
post-processed over *all* cells of the model input (every channel x sample; the model sees the
unnamed leads too), then its cells are ranked, most relevant first, ties in a random order seeded
by ``[seed, case_id]`` (:func:`cinexai.evaluation.metrics.tie_broken_ranks`; a constant map is
thus ranked in a random order). At step k = 0..S (``evaluation.faithfulness.steps``) the
first round(k / S * C * T) cells of the ranking are

* deletion: replaced by the mean beat of the normal reference pool (the same cells of it);
* insertion: kept from the case, every other cell taken from the reference mean beat,

and the model's probability of the expert's class is recorded: the abnormal probability for an
abnormal case, 1 - abnormal probability for a normal one (the class the aligned map explains).
Each curve's area over the replaced fraction [0, 1] (trapezoid rule) is its AUC: a faithful map
has a low deletion AUC and a high insertion AUC. The model is the trained model of the source's
modality and the configuration's architecture (``models/{modality}/{arch}``; also for the
model-randomised and model-free controls: the question is whether the map reflects *that* model).

A mapped source (:attr:`cinexai.grid.Source.mapped`: ``mapped``) has no faithfulness: its maps
live in CineECG space (x/y/z x samples of the trajectory) but explain the 12-lead model, and no
input of that model corresponds to a CineECG cell (Eq. 2 maps each 12-lead sample onto a
trajectory point through all leads at once). Its cases get NaN curves and AUCs with the reason
:data:`MAPPED_REASON`, logged, never left out silently.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from cinexai import grid
from cinexai.attribution.run import select_finite, split_ids
from cinexai.evaluation import postprocessing as pp
from cinexai.evaluation.metrics import tie_broken_ranks
from cinexai.evaluation.score import attribution_identity, target_of
from cinexai.io import file_sha256, package_versions, read_signals, read_table, write_table
from cinexai.models import architectures
from cinexai.models.checkpoint import load_model, resolve_device

log = logging.getLogger(__name__)

#: Per-case columns of a faithfulness file besides the configuration and case.
COLUMNS = ("deletion_auc", "insertion_auc", "faithfulness_reason")
MAPPED_REASON = (
    "not defined for source mapped: its maps live in CineECG space but explain the 12-lead "
    "model, whose inputs have no CineECG cells to delete"
)


def fractions(steps: int) -> np.ndarray:
    """The replaced fractions k / S, k = 0..S, of the curves' x axis."""
    if int(steps) < 1:
        raise ValueError(f"evaluation.faithfulness.steps must be >= 1, got {steps}")
    return np.linspace(0.0, 1.0, int(steps) + 1)


def curve_auc(curves: np.ndarray) -> np.ndarray:
    """Area under ``(n, S + 1)`` curves over [0, 1] by the trapezoid rule."""
    return np.trapezoid(curves, dx=1.0 / (curves.shape[1] - 1), axis=1)


def perturbation_curves(
    forward: Any,
    x: np.ndarray,
    ranks: np.ndarray,
    reference: np.ndarray,
    steps: int,
    batch_size: int,
    device: torch.device,
) -> tuple[np.ndarray, np.ndarray]:
    """Deletion and insertion curves ``(N, S + 1)`` of ``forward`` over the cells of ``x``.

    ``x`` is ``(N, C, T)``; ``ranks`` ``(N, C * T)`` with 1 = least and C * T = most relevant
    (:func:`tie_broken_ranks`); ``reference`` ``(C, T)``. ``forward`` maps a float32 tensor
    ``(B, C, T)`` to a probability ``(B,)``; inputs are built and evaluated in chunks of
    ``batch_size`` without a graph.
    """
    n, c, t = x.shape
    n_cells = c * t
    counts = np.rint(fractions(steps) * n_cells).astype(np.int64)
    # position in the most-relevant-first order of every cell: 0 = most relevant
    position = torch.as_tensor(n_cells - ranks.reshape(n, n_cells), device=device)
    ref = torch.as_tensor(reference, dtype=torch.float32, device=device).reshape(1, n_cells)
    xs = torch.as_tensor(x, dtype=torch.float32, device=device).reshape(n, n_cells)
    cases = np.repeat(np.arange(n), len(counts))
    levels = np.tile(counts, n)
    out = {"deletion": np.empty(len(cases)), "insertion": np.empty(len(cases))}
    with torch.no_grad():
        for start in range(0, len(cases), max(1, int(batch_size))):
            sel = slice(start, start + int(batch_size))
            rows = torch.as_tensor(cases[sel], device=device)
            k = torch.as_tensor(levels[sel], device=device)
            top = position[rows] < k[:, None]
            for kind, inputs in (
                ("deletion", torch.where(top, ref, xs[rows])),
                ("insertion", torch.where(top, xs[rows], ref)),
            ):
                prob = forward(inputs.reshape(-1, c, t))
                out[kind][sel] = prob.double().cpu().numpy()
    return out["deletion"].reshape(n, -1), out["insertion"].reshape(n, -1)


def abnormal_probability(model: torch.nn.Module) -> Any:
    """``forward(x) -> (B,)``: the model's softmax probability of class 1 (abnormal)."""

    def forward(x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(model(x), dim=1)[:, 1]

    return forward


def faithfulness_arrays(
    model: torch.nn.Module,
    x: np.ndarray,
    phi: np.ndarray,
    abnormal: np.ndarray,
    case_ids: np.ndarray,
    reference: np.ndarray,
    postprocessing: str,
    steps: int,
    batch_size: int,
    seed: int,
    device: torch.device,
) -> dict[str, np.ndarray]:
    """Curves of the expert class's probability and their AUCs per case.

    ``phi`` are the maps ``(N, C, T)`` of cases ``x`` ``(N, C, T)``; ``abnormal`` the expert's
    diagnosis per case.
    """
    n, c, t = x.shape
    if phi.shape != x.shape:
        raise ValueError(f"attribution maps {phi.shape} do not match the signals {x.shape}")
    abnormal = np.asarray(abnormal, dtype=bool)
    flat = phi.reshape(n, c * t).astype(np.float64)
    valid = np.ones(flat.shape, dtype=bool)
    maps = pp.apply(postprocessing, pp.align_sign(flat, ~abnormal), valid)
    ranks = tie_broken_ranks(maps, valid, case_ids, seed)
    p1 = perturbation_curves(
        abnormal_probability(model), x, ranks, reference, steps, batch_size, device
    )
    deletion, insertion = (np.where(abnormal[:, None], p, 1.0 - p) for p in p1)
    return {
        "deletion_auc": curve_auc(deletion),
        "insertion_auc": curve_auc(insertion),
        "deletion_curve": deletion,
        "insertion_curve": insertion,
    }


def _phi_cube(attr: pd.DataFrame, cases: np.ndarray, channels: list[str], n_t: int) -> np.ndarray:
    """Attribution long table -> ``(N, C, T)`` in ``cases`` x ``channels`` order; names a hole."""
    cube = np.full((len(cases), len(channels), n_t), np.nan)
    ci = pd.Index(cases).get_indexer(attr["case_id"])
    chi = pd.Index(channels).get_indexer(attr["channel"])
    keep = (ci >= 0) & (chi >= 0)
    cube[ci[keep], chi[keep], attr["t"].to_numpy(dtype=np.int64)[keep]] = attr["phi"].to_numpy()[
        keep
    ]
    hole = np.argwhere(np.isnan(cube))
    if len(hole):
        k, ch, ti = hole[0]
        raise ValueError(
            f"no attribution for case {cases[k]}, channel {channels[ch]!r}, t {ti} "
            f"({len(hole)} cells missing)"
        )
    return cube


def _case_inputs(
    signals: str | os.PathLike[str],
    records: str | os.PathLike[str],
    cases: np.ndarray,
    label: str,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Signals ``(N, C, T)`` of ``cases``, the reference mean beat ``(C, T)``, channel names."""
    sig = read_signals(signals)
    eval_ids, ref_ids = split_ids(read_table(records), records)
    missing = sorted(set(cases.tolist()) - set(eval_ids.tolist()))
    if missing:
        raise ValueError(f"{label}: annotated case(s) {missing} are no evaluation records")
    x = select_finite(sig, cases, "evaluation", signals).X
    reference = select_finite(sig, ref_ids, "reference", signals).X
    if len(reference) == 0:
        raise ValueError(f"{label}: {records} has no included reference records")
    return x, reference.mean(axis=0), list(sig.channels)


def faithfulness(
    *,
    attributions: str | os.PathLike[str],
    masks: str | os.PathLike[str],
    out: Sequence[str | os.PathLike[str]],
    postprocessing: Sequence[str],
    cfg: dict,
    seed: int,
    signals: str | os.PathLike[str] | None = None,
    records: str | os.PathLike[str] | None = None,
    model: str | os.PathLike[str] | None = None,
    threads: int = 1,
) -> None:
    """Stage entry: deletion/insertion AUC per annotated case, one file per post-processing.

    ``out[i]`` receives post-processing ``postprocessing[i]`` (one job loads model and signals
    once for all of them). ``cfg`` holds ``faithfulness`` (``steps``, ``batch_size``, ``device``).
    ``signals``, ``records`` and ``model`` are the signal table of the source's model, the records
    table (reference pool) and the trained model of (the source's modality, the attributions'
    architecture); a mapped source needs none of them (not defined).
    ``threads`` caps torch's CPU threads (the rule's ``threads:``).
    """
    torch.set_num_threads(max(1, int(threads)))
    if len(out) != len(postprocessing):
        raise ValueError(f"{len(out)} output files for {len(postprocessing)} post-processings")
    meta = attribution_identity(attributions)
    source, arch, method = meta["source"], meta["arch"], meta["method"]
    target = target_of(source)
    label = f"faithfulness[source={source}, arch={arch}, method={method}]"
    settings = cfg["faithfulness"]
    steps = int(settings["steps"])
    mask_df = read_table(
        masks, filters=[("modality", "==", target)], columns=["case_id", "diagnosis"]
    )
    if mask_df.empty:
        raise ValueError(f"{label}: masks file {masks} has no {target} annotations")
    diagnosis = mask_df.groupby("case_id")["diagnosis"].first().sort_index()
    cases = diagnosis.index.to_numpy(dtype=np.int64)
    abnormal = diagnosis.to_numpy() == "abnormal"
    inputs = {"attributions": file_sha256(attributions), "masks": file_sha256(masks)}
    reason = MAPPED_REASON if grid.source(source).mapped else ""
    if reason:
        log.warning("%s: %s", label, reason)
    else:
        if signals is None or records is None or model is None:
            raise ValueError(f"{label}: needs the source's signals, records and model")
        x, reference, channels = _case_inputs(signals, records, cases, label)
        device = resolve_device(str(settings["device"]))
        net = load_model(model, expected_channels=len(channels), device=str(device))
        if architectures.name_of(net) != arch:
            raise ValueError(
                f"{label}: model {model} is a {architectures.name_of(net)!r} model, not {arch!r}"
            )
        attr = read_table(attributions, columns=["case_id", "channel", "t", "phi"])
        phi = _phi_cube(attr[attr["case_id"].isin(cases)], cases, channels, x.shape[2])
        inputs |= {
            "signals": file_sha256(signals),
            "records": file_sha256(records),
            "model": file_sha256(model),
        }
    for name, path in zip(postprocessing, out, strict=True):
        if reason:
            nan = np.full((len(cases), steps + 1), np.nan)
            res = {"deletion_auc": nan[:, 0], "insertion_auc": nan[:, 0]}
            res |= {"deletion_curve": nan, "insertion_curve": nan}
        else:
            res = faithfulness_arrays(
                net,
                x,
                phi,
                abnormal,
                cases,
                reference,
                name,
                steps,
                int(settings["batch_size"]),
                int(seed),
                device,
            )
            log.info(
                "%s/%s: %d cases, mean deletion AUC %.3f, insertion AUC %.3f",
                label,
                name,
                len(cases),
                res["deletion_auc"].mean(),
                res["insertion_auc"].mean(),
            )
        table = pd.DataFrame(
            {
                "case_id": cases,
                "source": source,
                "arch": arch,
                "method": method,
                "postprocessing": name,
                "deletion_auc": res["deletion_auc"],
                "insertion_auc": res["insertion_auc"],
                "faithfulness_reason": reason,
                "deletion_curve": list(res["deletion_curve"]),
                "insertion_curve": list(res["insertion_curve"]),
            }
        )
        write_table(
            table,
            path,
            {
                "source": source,
                "arch": arch,
                "method": method,
                "postprocessing": name,
                "steps": steps,
                "fractions": fractions(steps).tolist(),
                "tracked": "probability of the expert's class (abnormal: p1; normal: 1 - p1)",
                "replacement": "mean beat of the normal reference pool",
                "seed": int(seed),
                "reason": reason,
                "config": settings,
                "inputs_sha256": inputs,
                "versions": package_versions(),
            },
        )
