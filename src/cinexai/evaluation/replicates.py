"""Replicates: each replicate's seed and the across-replicate spread of the headline figures.

Replicate r (0..R-1, config ``replicates: R``) reruns the models (tune + train), the attributions
and everything downstream of them under :func:`replicate_seed`; the data stages (cohort, windows,
CineECG, masks) are shared, so the spread is seed noise of training and explanation on one fixed
cohort.  Replicate 0 is the run itself (its seed, its paths).

:func:`replicate_table` reads every replicate's Table 1, controls table and classifier table and
writes ``replicates.csv`` / ``.md``: one row per headline figure -- Table 1's best configuration's
Dice per target, each control's Dice (matched to the best configuration's post-processing and at
its own best) and each classifier's test AUROC and accuracy per (modality, arch) -- with its value
in every replicate, the across-replicate mean, SD (ddof 1), min and max over the replicates where
it is defined, and the configuration each replicate picked (the optimised pick can change).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from cinexai.io import atomic_write

log = logging.getLogger(__name__)

#: Columns naming a headline figure (one row of the replicate table).
KEY = ["table", "modality", "entry", "metric"]
#: The classifier table's headline metrics.
CLASSIFIER_METRICS = ("auroc", "accuracy")


def replicate_seed(seed: int, replicate: int) -> int:
    """The seed of replicate ``replicate`` of a run with root ``seed``.

    Replicate 0 is the run itself (``seed``: R = 1 changes nothing); replicate r >= 1 takes its seed
    from numpy's ``SeedSequence(seed, spawn_key=(r,))``, the way numpy spawns independent streams,
    so replicates do not overlap with each other or with runs of seed + r.
    """
    if replicate < 0:
        raise ValueError(f"replicate must be >= 0, got {replicate}")
    if replicate == 0:
        return int(seed)
    state = np.random.SeedSequence(int(seed), spawn_key=(int(replicate),)).generate_state(1)
    return int(state[0]) & 0x7FFFFFFF  # 31 bits: a valid seed for numpy, torch and Optuna


def _configuration(row: pd.Series) -> str:
    """A table row's configuration as the tables print it (method / pp / source / arch)."""
    if not isinstance(row["method"], str) or not row["method"]:
        return "none"
    return f"{row['method']} / {row['postprocessing']} / {row['source']} / {row['arch']}"


def headline_figures(
    table1: pd.DataFrame, controls: pd.DataFrame, classifier: pd.DataFrame
) -> pd.DataFrame:
    """One replicate's headline figures: KEY columns, ``value`` and ``configuration``."""
    rows = [
        {
            "table": "table1",
            "modality": r["modality"],
            "entry": "best",
            "metric": "dice",
            "value": r["dice"],
            "configuration": _configuration(r),
        }
        for _, r in table1.iterrows()
    ]
    rows += [
        {
            "table": "controls",
            "modality": r["modality"],
            "entry": f"{r['control']} ({r['selection']})",
            "metric": "dice",
            "value": r["dice"],
            "configuration": _configuration(r),
        }
        for _, r in controls[controls["control"] != "best"].iterrows()  # best: Table 1's row
    ]
    rows += [
        {
            "table": "classifier",
            "modality": r["modality"],
            "entry": r["arch"],
            "metric": m,
            "value": r[m],
            "configuration": f"{r['modality']} / {r['arch']}",
        }
        for _, r in classifier.iterrows()
        for m in CLASSIFIER_METRICS
    ]
    return pd.DataFrame(rows, columns=[*KEY, "value", "configuration"])


def spread(figures: Sequence[pd.DataFrame], seeds: Sequence[int]) -> pd.DataFrame:
    """Per headline figure: ``r{i}`` and ``configuration_r{i}`` of each replicate, then n (the
    replicates where it is defined), mean, sd, min and max; rows in replicate 0's order, figures
    that only some replicates have last (missing where absent)."""
    if len(figures) != len(seeds) or len(figures) < 2:
        raise ValueError(
            f"need one table per seed and at least 2 replicates, got {len(figures)} tables "
            f"and {len(seeds)} seeds"
        )
    parts = []
    for i, frame in enumerate(figures):
        if frame.duplicated(KEY).any():
            raise ValueError(f"replicate {i}: duplicate headline figures {frame[KEY].values}")
        parts.append(frame.set_index(KEY).add_suffix(f"_r{i}"))
    order = list(dict.fromkeys(k for frame in figures for k in map(tuple, frame[KEY].values)))
    wide = pd.concat(parts, axis=1).reindex(pd.MultiIndex.from_tuples(order, names=KEY))
    wide = wide.rename(columns={f"value_r{i}": f"r{i}" for i in range(len(figures))})
    wide = wide.reset_index()
    values = wide[[f"r{i}" for i in range(len(figures))]].astype(float)
    wide["n"] = values.notna().sum(axis=1)
    wide["mean"] = values.mean(axis=1)
    wide["sd"] = values.std(axis=1, ddof=1)
    wide["min"] = values.min(axis=1)
    wide["max"] = values.max(axis=1)
    configs = [f"configuration_r{i}" for i in range(len(figures))]
    wide["configuration_changed"] = wide[configs].nunique(axis=1, dropna=False) > 1
    return wide[
        [*KEY, *values.columns, "n", "mean", "sd", "min", "max", *configs, "configuration_changed"]
    ]


def _num(value: float) -> str:
    return "n/a" if pd.isna(value) else f"{value:.3f}"


def to_markdown(table: pd.DataFrame, seeds: Sequence[int]) -> str:
    """The spread as a pipe table, the configuration column listing each replicate's pick."""
    reps = [f"r{i}" for i in range(len(seeds))]
    head = ["Table", "Target / modality", "Entry", "Metric", *reps]
    head += ["Mean", "SD", "Min", "Max", "Configuration per replicate"]
    lines = [
        f"**Replicates: spread of the headline figures over {len(seeds)} seeds**",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for r in table.to_dict("records"):
        picks = [str(r[f"configuration_{x}"]) for x in reps]
        config = (
            picks[0]
            if len(set(picks)) == 1
            else "; ".join(f"{x}: {p}" for x, p in zip(reps, picks))
        )
        cells = [r["table"], r["modality"], r["entry"], r["metric"]]
        cells += [_num(r[x]) for x in reps] + [_num(r[s]) for s in ("mean", "sd", "min", "max")]
        lines.append("| " + " | ".join(map(str, cells + [config])) + " |")
    seeds_note = ", ".join(f"r{i}: {s}" for i, s in enumerate(seeds))
    note = (
        f"Note: one value per replicate (seeds {seeds_note}); mean, SD (ddof 1), min and max over "
        "the replicates where the figure is defined. Each replicate retrains the models and "
        "reruns the attributions on the same cohort (data stages shared); Table 1 and the "
        "controls pick their configuration anew in each replicate."
    )
    return "\n".join([*lines, "", note, ""])


def replicate_table(
    *,
    table1: Sequence[str | os.PathLike[str]],
    controls: Sequence[str | os.PathLike[str]],
    classifier: Sequence[str | os.PathLike[str]],
    seeds: Sequence[int],
    out_csv: str | os.PathLike[str],
    out_md: str | os.PathLike[str],
) -> pd.DataFrame:
    """Stage entry: the ``i``-th file of each list is replicate i's (seed ``seeds[i]``)."""
    if not len(table1) == len(controls) == len(classifier) == len(seeds):
        raise ValueError(
            f"one table1, controls and classifier file per seed: got {len(table1)}, "
            f"{len(controls)}, {len(classifier)} files and {len(seeds)} seeds"
        )
    figures = [
        headline_figures(pd.read_csv(t), pd.read_csv(c), pd.read_csv(k))
        for t, c, k in zip(table1, controls, classifier)
    ]
    table = spread(figures, seeds)
    with atomic_write(out_csv) as tmp:
        table.to_csv(tmp, index=False)
    with atomic_write(out_md) as tmp:
        tmp.write_text(to_markdown(table, seeds))
    log.info("replicate table: %d figures over %d replicates", len(table), len(seeds))
    return table
