"""Stage entry: attribute the evaluation cases of one source with one method instance.

Reads the signal table of the source (its signal file in :data:`cinexai.grid.SOURCES`) and
``records.parquet`` (evaluation cases: ``split == 'evaluation' & included``; normal reference
pool: ``split == 'reference' & included``), computes Phi of Eq. 1 and writes the attribution long
format once, at the end, atomically, with its provenance.

Sharding (``attribution.shards``): shard ``i`` of ``S`` attributes a contiguous run of the batches
of ``cases_per_batch`` cases (:func:`shard_batches`); every batch is seeded from its case ids, so a
batch's Phi does not depend on ``S``, and :func:`gather` concatenates the shards in order into the
file an unsharded run writes, byte for byte (the provenance describes the whole run in every shard).
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import torch
from tqdm import tqdm

from cinexai import grid
from cinexai.attribution import base, registry
from cinexai.attribution.mapping import long_table
from cinexai.io import (
    SignalSet,
    file_sha256,
    package_versions,
    read_metadata,
    read_signals,
    read_table,
    write_table,
)
from cinexai.models import architectures
from cinexai.models.checkpoint import load_model, resolve_device

log = logging.getLogger(__name__)

#: The ``attribution:`` keys this stage reads (their defaults live in the config schema).
SETTINGS = ("output", "one_pass", "batch_size", "cases_per_batch", "device")


def split_ids(records: pd.DataFrame, path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """Sorted ids of the included evaluation cases and of the included reference pool."""
    missing = [c for c in ("ecg_id", "split", "included") if c not in records.columns]
    if missing:
        raise ValueError(f"{path}: records table lacks column(s) {missing}")
    included = records["included"].astype(bool)
    ids = {
        split: np.sort(
            records.loc[included & (records["split"] == split), "ecg_id"].to_numpy(dtype=np.int64)
        )
        for split in ("evaluation", "reference")
    }
    if len(ids["evaluation"]) == 0:
        raise ValueError(f"{path}: no included records with split == 'evaluation' to attribute")
    return ids["evaluation"], ids["reference"]


def select_finite(
    signals: SignalSet, ids: np.ndarray, role: str, path: str | os.PathLike[str]
) -> SignalSet:
    """The rows for ``ids``; KeyError names a missing id, ValueError a non-finite window."""
    try:
        subset = signals.select(ids)
    except KeyError as exc:
        raise KeyError(f"{path}: {role} case missing from the signals: {exc.args[0]}") from None
    bad = ~np.isfinite(subset.X).all(axis=(1, 2))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        channel = subset.channels[int(np.flatnonzero(~np.isfinite(subset.X[k]).all(axis=1))[0])]
        raise ValueError(
            f"{path}: {role} case {int(subset.ids[k])} has NaN/inf in channel "
            f"{channel} ({int(bad.sum())} such case(s))"
        )
    return subset


def check_source(signals: SignalSet, source: str, path: str | os.PathLike[str]) -> None:
    """``source`` is attributed directly and the signal table carries its channels."""
    direct = sorted(s.name for s in grid.SOURCES.values() if not s.mapped)
    if source not in direct:
        raise ValueError(
            f"source must be one of {direct} (mapped sources are derived by "
            f"mapping.map_file), got {source!r}"
        )
    expected = list(grid.source(source).channels)
    if list(signals.channels) != expected:
        raise ValueError(
            f"{path}: source {source!r} expects channels {expected}, found {signals.channels}"
        )


def randomization_seed(seed: int, case_ids: Sequence[int] | np.ndarray) -> int:
    """Seed of the weight-randomised network that explains ``case_ids`` (one batch of cases):
    derived from the run seed and the case ids, apart from the run seed itself (which may also
    have initialised the trained model)."""
    return base.derive_seed(seed, [1, *(int(i) for i in case_ids)])


def _frozen(model: torch.nn.Module) -> torch.nn.Module:
    for p in model.parameters():
        p.requires_grad_(False)
    return model.eval()


def load_checked_model(
    path: str | os.PathLike[str],
    n_channels: int,
    signals_path: Any,
    device: torch.device,
    arch: str | None = None,
) -> torch.nn.Module:
    """Load the model, check its architecture (when given) and input channels, freeze it."""
    model = load_model(path, device=str(device))
    if arch is not None and architectures.name_of(model) != arch:
        raise ValueError(f"model {path} is a {architectures.name_of(model)!r} model, not {arch!r}")
    found = model.arch.get("in_channels")
    if found != n_channels:
        raise ValueError(
            f"model {path} expects {found} input channels but {signals_path} has "
            f"{n_channels}: model and source do not match"
        )
    return _frozen(model)


def randomized_models(model: torch.nn.Module, seed: int) -> Callable[[np.ndarray], torch.nn.Module]:
    """Case ids -> a fresh weight-randomised copy of ``model`` (Adebayo et al. 2018), one per batch.

    Each batch of cases (one case by default, ``attribution.cases_per_batch``) is explained by its
    own random network: the Dice of one random draw varies widely (on the default run, between
    0.51 and 0.60 on the CineECG target over four draws), so a control built on a single draw
    would report that draw, not the method on random weights.  Across cases, the control's mean
    then estimates the expectation over random initialisations.
    """
    randomize = importlib.import_module(registry.VARIANT_MODULES["randomized"])  # by name: rerun.py
    return lambda ids: _frozen(randomize.randomized_copy(model, randomization_seed(seed, ids)))


def shard_batches(n_cases: int, cases_per_batch: int, shard: int, shards: int) -> slice:
    """The cases of shard ``shard`` of ``shards``: contiguous whole batches, the first
    ``n_batches % shards`` shards one batch more (as :func:`numpy.array_split`)."""
    n_batches = -(-n_cases // cases_per_batch)
    if not 0 <= shard < shards:
        raise ValueError(f"shard {shard} is not in 0..{shards - 1}")
    if shards > n_batches:
        raise ValueError(
            f"attribution.shards {shards} exceeds the {n_batches} batches of "
            f"attribution.cases_per_batch {cases_per_batch} of the {n_cases} evaluation cases"
        )
    size, extra = divmod(n_batches, shards)
    first = shard * size + min(shard, extra)
    last = first + size + (shard < extra)
    return slice(first * cases_per_batch, min(last * cases_per_batch, n_cases))


def eq1_description(spec: registry.MethodSpec, one_pass: bool) -> str:
    """How Eq. 1 was applied (provenance)."""
    if spec.model_free:
        return "not applied (model-free control)"
    if spec.intrinsic:
        return "intrinsic: the model's own decomposition, (part_1 - part_0)/2 on the logits"
    return "one pass on g = (f1 - f0)/2" if one_pass else "(A1 - A0)/2"


def _settings(cfg: dict[str, Any]) -> dict[str, Any]:
    settings = {k: cfg[k] for k in SETTINGS}
    if settings["output"] not in base.OUTPUTS:
        raise ValueError(
            f"attribution.output must be one of {base.OUTPUTS}, got {settings['output']!r}"
        )
    return settings


def compute(
    spec: registry.MethodSpec,
    model: torch.nn.Module,
    cases: SignalSet,
    ctx: base.AttributionContext,
    output: str,
    one_pass: bool,
    cases_per_batch: int,
    label: str = "",
    model_for: Callable[[np.ndarray], torch.nn.Module] | None = None,
) -> np.ndarray:
    """Phi ``(N, C, T)`` for every case, in batches of ``cases_per_batch`` (tqdm progress).

    ``model_for(case_ids)``, when given, supplies the model of each batch instead of ``model``.
    """
    f = base.output_function(model, output)
    ctx.model = model
    parts = []
    starts = range(0, len(cases.ids), cases_per_batch)
    for start in tqdm(starts, desc=f"attribute {label}", unit="batch"):
        x = torch.as_tensor(cases.X[start : start + cases_per_batch], device=ctx.device)
        ctx.case_ids = cases.ids[start : start + cases_per_batch]
        if model_for is not None:
            ctx.model = model_for(ctx.case_ids)
            f = base.output_function(ctx.model, output)
        parts.append(base.bipolar_phi(spec, f, x, ctx, one_pass))
    return np.concatenate(parts, axis=0)


def attribute(
    *,
    signals: str | os.PathLike[str],
    records: str | os.PathLike[str],
    model: str | os.PathLike[str],
    out: str | os.PathLike[str],
    source: str,
    name: str,
    method_cfg: dict[str, Any],
    cfg: dict[str, Any],
    seed: int,
    arch: str = "resnet",
    threads: int = 1,
    shard: int = 0,
    shards: int = 1,
) -> None:
    """Attribute the evaluation cases of ``source`` explained by its ``arch`` model with method
    instance ``name``; write ``out``: all of them, or shard ``shard`` of ``shards`` (its metadata
    that of the whole run plus ``shard``: [shard, shards], for :func:`gather`)."""
    torch.set_num_threads(max(1, int(threads)))
    registered, params = registry.resolve(name, method_cfg)
    spec = registry.get(registered)
    settings = _settings(cfg)
    variant = registry.model_variant(method_cfg)

    sig = read_signals(signals)
    check_source(sig, source, signals)
    eval_ids, ref_ids = split_ids(read_table(records), records)
    cases = select_finite(sig, eval_ids, "evaluation", signals)
    reference = select_finite(sig, ref_ids, "reference", signals).X
    device = resolve_device(str(settings["device"]))
    net = load_checked_model(model, len(sig.channels), signals, device, arch)
    if arch not in grid.method_architectures(registered):
        raise ValueError(
            f"methods.{name}: method {registered!r} is only defined for architecture(s) "
            f"{list(grid.method_architectures(registered))}, not {arch!r}"
        )
    model_for = randomized_models(net, int(seed)) if variant == "randomized" else None

    ctx = base.AttributionContext(
        reference=reference,
        params=params,
        seed=int(seed),
        batch_size=int(settings["batch_size"]),
        device=device,
        fs=float(sig.fs),
    )
    log.info(
        "%s/%s/%s (%s): %d cases, %d reference windows, output=%s, one_pass=%s",
        source,
        arch,
        name,
        registered,
        len(cases.ids),
        len(reference),
        settings["output"],
        settings["one_pass"],
    )
    cases_per_batch = int(settings["cases_per_batch"])
    part = shard_batches(len(cases.ids), cases_per_batch, shard, shards)
    mine = cases.select(cases.ids[part])
    phi = compute(
        spec,
        net,
        mine,
        ctx,
        settings["output"],
        bool(settings["one_pass"]),
        cases_per_batch,
        f"{source}/{arch}/{name}",
        model_for,
    )

    t = np.arange(phi.shape[2])
    table = long_table(mine.ids, sig.channels, t, t * 1000.0 / sig.fs, phi)
    metadata = {
        "source": source,
        "arch": arch,
        "method": name,
        "registered_method": registered,
        "params": params,
        "baseline": params.get("baseline", params.get("background", "none")),
        "output": settings["output"],
        "one_pass": bool(settings["one_pass"]),
        "eq1": eq1_description(spec, bool(settings["one_pass"])),
        "model": variant,
        "seed": int(seed),
        "model_sha256": file_sha256(model),
        "randomization_seeds": [
            randomization_seed(seed, cases.ids[i : i + cases_per_batch])
            for i in range(0, len(cases.ids), cases_per_batch)
        ]
        if variant == "randomized"
        else None,
        "batch_size": ctx.batch_size,
        "cases_per_batch": cases_per_batch,
        "device": str(device),
        "n_cases": int(len(cases.ids)),
        "n_reference": int(len(reference)),
        "fs": float(sig.fs),
        "versions": package_versions(),
    }
    if shards > 1:
        metadata["shard"] = [shard, shards]
    write_table(table, out, metadata)


def gather(*, shards: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str]) -> None:
    """Concatenate the shard files of one attribution (in shard order) into ``out``: the file an
    unsharded run writes. ValueError when they are not shards 0..S-1 of one run."""
    metas = [read_metadata(path) for path in shards]
    found = [meta.pop("shard", None) for meta in metas]
    if found != [[i, len(shards)] for i in range(len(shards))]:
        raise ValueError(
            f"{[str(p) for p in shards]}: expected shards 0..{len(shards) - 1} of "
            f"{len(shards)} in order, found {found}"
        )
    odd = [str(p) for p, meta in zip(shards, metas) if meta != metas[0]]
    if odd:
        raise ValueError(f"{odd}: provenance differs from {shards[0]} (not one attribution run)")
    # One chunk per column, as the unsharded writer's table: page boundaries follow chunks.
    table = pa.concat_tables([pq.read_table(path) for path in shards]).combine_chunks()
    write_table(table, out, metas[0])
