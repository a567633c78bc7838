"""The optimisation pool and tables 1-5 + controls with BCa intervals (paper section 4).

A *configuration* is (source, architecture, method instance, post-processing). The optimisation
pool spans the architectures and holds every configuration except the controls
(``cfg["controls"]``: a configuration is a control when its method instance or registered method is
listed). Within each context the configuration with the highest mean Dice over the cases is kept
(ties: first in (source, arch, method, post-processing) order); every row names its configuration,
the architecture included:

* Table 1: best CineECG-target configuration (sources cineecg and mapped) vs best 12-lead;
* Table 2: those two, stratified by expert diagnosis and by model agreement;
* Table 3: per target and registered method, its best (instance, post-processing, source);
* Table 4: per source and architecture, the best instance x post-processing of
  ``cfg["table4_method"]`` (IG), titled by that method;
* Table 5: per source and post-processing, the best method;
* Controls: per target and control, the control under the best configuration's post-processing
  (same source and architecture where available) and at its own best, beside the best
  configuration itself;
* Families: per target, the best post-hoc configuration of each architecture and the best
  intrinsic one (``imn_weights`` on the IMN), each beside its matched controls: the model-free
  ones (random, oracle) and the model-randomised ones of its own kind (post-hoc or intrinsic) on
  its architecture, under its post-processing and source where available.

Every row: n, mean Dice/IoU/Spearman with BCa intervals, the mean all-salient floor, the
configuration and its threshold. Resamples of a row are drawn from ``default_rng([seed,
crc32(key)])`` with key = "source|arch|method|postprocessing|stratum", so a configuration gets the same
interval in every table; they index the row's cases sorted by ``case_id`` and are saved in
``bootstrap_indices.parquet``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from cinexai import grid
from cinexai.evaluation.bootstrap import Interval, bca_mean, row_seed
from cinexai.evaluation.controls import control_checks
from cinexai.io import (
    atomic_write,
    package_versions,
    read_json,
    read_table,
    write_json,
    write_table,
)

log = logging.getLogger(__name__)

CONFIG = ["source", "arch", "method", "postprocessing"]
METRICS = ("dice", "iou", "spearman")
TARGET_NAMES = grid.TARGETS
SOURCE_NAMES = {name: s.title for name, s in grid.SOURCES.items()}
METHOD_NAMES = {
    "integrated_gradients": "Integrated Grad.",
    "gradient_shap": "Gradient SHAP",
    "kernel_shap": "Kernel SHAP",
    "lime": "LIME",
    "random": "Random",
    "oracle": "Oracle",
    "imn_weights": "IMN weights",
}
STRATA = (
    ("diagnosis", "abnormal", "Abnormal"),
    ("diagnosis", "normal", "Normal"),
    ("agreement", True, "Agreement"),
    ("agreement", False, "Disagreement"),
)
SCORE_COLUMNS = (
    "case_id",
    "source",
    "arch",
    "method",
    "registered_method",
    "postprocessing",
    "target",
    "diagnosis",
    "agreement",
    "threshold",
    "threshold_mode",
    "dice",
    "iou",
    "spearman",
    "floor_dice",
)


def load_scores(paths: Sequence[str | os.PathLike[str]]) -> pd.DataFrame:
    """Concatenate per-configuration score files; ValueError names a file lacking a column."""
    frames = []
    for path in paths:
        df = read_table(path)
        missing = [c for c in SCORE_COLUMNS if c not in df.columns]
        if missing:
            raise ValueError(f"score file {path} lacks column(s) {missing}")
        frames.append(df)
    if not frames:
        raise ValueError("make_tables needs at least one score file")
    scores = pd.concat(frames, ignore_index=True)
    dup = scores.duplicated(CONFIG + ["case_id"])
    if dup.any():
        raise ValueError(
            f"configuration {scores.loc[dup, CONFIG].iloc[0].tolist()} scored twice "
            f"for case {scores.loc[dup, 'case_id'].iloc[0]}"
        )
    return scores


def summarise(scores: pd.DataFrame, controls: Sequence[str]) -> pd.DataFrame:
    """One row per configuration: target, registered method, n, mean Dice, control flag."""
    summary = (
        scores.groupby(CONFIG, sort=True)
        .agg(
            target=("target", "first"),
            registered_method=("registered_method", "first"),
            n=("case_id", "size"),
            mean_dice=("dice", "mean"),
        )
        .reset_index()
    )
    summary["control"] = summary["method"].isin(controls) | summary["registered_method"].isin(
        controls
    )
    return summary


def best(configs: pd.DataFrame) -> pd.Series | None:
    """The configuration with the highest mean Dice (None if there is none)."""
    if configs.empty:
        return None
    return configs.sort_values(
        ["mean_dice"] + CONFIG, ascending=[False] + [True] * len(CONFIG), kind="stable"
    ).iloc[0]


class TableBuilder:
    """Computes table rows (bootstrap intervals) and collects their resample indices."""

    def __init__(self, scores: pd.DataFrame, cfg: dict, seed: int) -> None:
        self.scores = scores
        self.seed = int(seed)
        boot = cfg["bootstrap"]
        self.n_resamples = int(boot["n_resamples"])
        self.confidence = float(boot["confidence"])
        self.indices: list[dict[str, Any]] = []
        self.case_order: dict[str, list[int]] = {}
        self.counts: dict[str, int] = {}

    def row(
        self,
        table: str,
        labels: dict[str, Any],
        config: pd.Series | None,
        stratum: tuple[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One table row for ``config`` (optionally restricted to a stratum of cases)."""
        key = "none" if config is None else "|".join(str(config[c]) for c in CONFIG)
        if config is None:
            group = self.scores.iloc[0:0]
        else:
            sel = np.logical_and.reduce([self.scores[c] == config[c] for c in CONFIG])
            group = self.scores[sel]
        if stratum is not None:
            group = group[group[stratum[0]] == stratum[1]]
            key += f"|{stratum[0]}={stratum[1]}"
        group = group.sort_values("case_id")
        seed = row_seed(self.seed, key)
        out: dict[str, Any] = {"table": table, "row": self.counts.get(table, 0), **labels}
        self.counts[table] = out["row"] + 1
        intervals = {
            m: bca_mean(group[m].to_numpy(dtype=float), self.n_resamples, self.confidence, seed)
            for m in METRICS
        }
        out["n"] = len(group)
        for m, iv in intervals.items():
            out.update(
                {m: iv.mean, f"{m}_low": iv.low, f"{m}_high": iv.high, f"{m}_reason": iv.reason}
            )
            if m == "dice":
                out["floor_dice"] = float(group["floor_dice"].mean()) if len(group) else np.nan
        out["n_spearman"] = intervals["spearman"].n_defined
        out.update(self._configuration(config, group))
        out["rng_seed"] = str(seed)
        drawn = [iv for iv in intervals.values() if iv.indices is not None]  # all share one draw
        self._save_indices(out, drawn[0] if drawn else None, group["case_id"].tolist(), seed)
        return out

    def _configuration(self, config: pd.Series | None, group: pd.DataFrame) -> dict[str, Any]:
        if config is None:
            return {
                "source": "",
                "arch": "",
                "method": "",
                "registered_method": "",
                "postprocessing": "",
                "threshold": np.nan,
                "threshold_mode": "",
            }
        mode = str(group["threshold_mode"].iloc[0]) if len(group) else ""
        return {
            **{c: config[c] for c in CONFIG},
            "registered_method": config["registered_method"],
            "threshold": float(group["threshold"].median()) if len(group) else np.nan,
            "threshold_mode": mode,
        }

    def _save_indices(
        self, row: dict[str, Any], iv: Interval | None, cases: list[int], seed: list[int]
    ) -> None:
        self.case_order[f"{row['table']}/{row['row']}"] = cases
        if iv is not None and iv.indices is not None:
            self.indices.append(
                {
                    "table": row["table"],
                    "row": row["row"],
                    "n": iv.n,
                    "rng_seed": str(seed),
                    "indices": iv.indices,
                }
            )

    def indices_table(self) -> pa.Table:
        """Long table (table, row, resample, indices) of every saved resample."""
        cols: dict[str, list[Any]] = {
            "table": [],
            "row": [],
            "resample": [],
            "n": [],
            "rng_seed": [],
        }
        values, offsets = [], [0]
        for rec in self.indices:
            b = len(rec["indices"])
            cols["table"] += [rec["table"]] * b
            cols["row"] += [rec["row"]] * b
            cols["resample"] += list(range(b))
            cols["n"] += [rec["n"]] * b
            cols["rng_seed"] += [rec["rng_seed"]] * b
            values.append(rec["indices"].astype(np.int32).ravel())
            offsets += list(offsets[-1] + rec["n"] * np.arange(1, b + 1))
        flat = np.concatenate(values) if values else np.zeros(0, np.int32)
        lists = pa.ListArray.from_arrays(
            pa.array(np.asarray(offsets, dtype=np.int32)), pa.array(flat, type=pa.int32())
        )
        return pa.table(
            {
                "table": pa.array(cols["table"], pa.string()),
                "row": pa.array(cols["row"], pa.int32()),
                "resample": pa.array(cols["resample"], pa.int32()),
                "n": pa.array(cols["n"], pa.int32()),
                "rng_seed": pa.array(cols["rng_seed"], pa.string()),
                "indices": lists,
            }
        )


def _pool_best(summary: pd.DataFrame, **where: Any) -> pd.Series | None:
    sel = ~summary["control"]
    for col, value in where.items():
        sel &= summary[col] == value
    return best(summary[sel])


def _targets(summary: pd.DataFrame) -> list[str]:
    """Targets scored in this grid, in table order."""
    return [t for t in TARGET_NAMES if (summary["target"] == t).any()]


def table1(tb: TableBuilder, summary: pd.DataFrame) -> tuple[list[dict], dict[str, pd.Series]]:
    """Best CineECG-target configuration vs best 12-lead configuration (any architecture)."""
    chosen = {t: _pool_best(summary, target=t) for t in _targets(summary)}
    return [tb.row("table1", {"modality": TARGET_NAMES[t]}, chosen[t]) for t in chosen], chosen


def table2(tb: TableBuilder, chosen: dict[str, pd.Series]) -> list[dict]:
    """Table 1's configurations stratified by diagnosis and by agreement."""
    return [
        tb.row(
            "table2",
            {"stratification": col, "modality": TARGET_NAMES[t], "condition": name},
            chosen[t],
            (col, value),
        )
        for col in ("diagnosis", "agreement")
        for t in chosen
        for c, value, name in STRATA
        if c == col
    ]


def table3(tb: TableBuilder, summary: pd.DataFrame) -> list[dict]:
    """Per target, each registered method at its best (instance, post-processing, source)."""
    rows = []
    for t in _targets(summary):
        methods = sorted(
            summary.loc[
                ~summary["control"] & (summary["target"] == t), "registered_method"
            ].unique()
        )
        rows += [
            tb.row(
                "table3",
                {"modality": TARGET_NAMES[t], "attribution": METHOD_NAMES.get(m, m)},
                _pool_best(summary, target=t, registered_method=m),
            )
            for m in methods
        ]
    return rows


def table4(tb: TableBuilder, summary: pd.DataFrame, method: str) -> list[dict]:
    """Per source and architecture, the best instance x post-processing of one registered method."""
    present = summary[["source", "arch"]].drop_duplicates()
    return [
        tb.row(
            "table4",
            {
                "target": TARGET_NAMES[grid.target_of(s)],
                "attribution": SOURCE_NAMES[s],
                "architecture": a,
                "registered_method_selected": method,
            },
            _pool_best(summary, source=s, arch=a, registered_method=method),
        )
        for t in TARGET_NAMES
        for s in grid.SOURCES
        if grid.target_of(s) == t
        for a in sorted(present.loc[present["source"] == s, "arch"])
    ]


def table5(tb: TableBuilder, summary: pd.DataFrame) -> list[dict]:
    """Per source and post-processing, the best method."""
    rows = []
    for s in [s for s in grid.SOURCES if (summary["source"] == s).any()]:
        pps = sorted(
            summary.loc[~summary["control"] & (summary["source"] == s), "postprocessing"].unique()
        )
        rows += [
            tb.row(
                "table5",
                {
                    "data_type": SOURCE_NAMES[s].replace("Attr.", "Attributions"),
                    "prep_type": p.capitalize(),
                },
                _pool_best(summary, source=s, postprocessing=p),
            )
            for p in pps
        ]
    return rows


def controls_table(
    tb: TableBuilder, summary: pd.DataFrame, chosen: dict[str, pd.Series], controls: Sequence[str]
) -> list[dict]:
    """Per target: the best configuration, then each control matched and at its own best."""
    rows = []
    for t, ref in chosen.items():
        if ref is None:
            continue
        rows.append(
            tb.row(
                "controls",
                {"modality": TARGET_NAMES[t], "control": "best", "selection": "optimisation pool"},
                ref,
            )
        )
        for c in controls:
            mine = summary[
                ((summary["method"] == c) | (summary["registered_method"] == c))
                & (summary["target"] == t)
            ]
            if mine.empty:
                log.warning("control %s has no %s-target configuration", c, t)
                continue
            matched = _matched(mine, ref)
            rows.append(
                tb.row(
                    "controls",
                    {
                        "modality": TARGET_NAMES[t],
                        "control": c,
                        "selection": "best configuration's post-processing",
                    },
                    matched,
                )
            )
            rows.append(
                tb.row(
                    "controls",
                    {"modality": TARGET_NAMES[t], "control": c, "selection": "own best"},
                    best(mine),
                )
            )
    return rows


def _matched(mine: pd.DataFrame, ref: pd.Series) -> pd.Series | None:
    """A control's configuration under ``ref``'s post-processing, on its source and architecture
    where available (source first)."""
    same_pp = mine[mine["postprocessing"] == ref["postprocessing"]]
    for keys in (("source", "arch"), ("source",), ()):
        sel = same_pp
        for key in keys:
            sel = sel[sel[key] == ref[key]]
        if not sel.empty:
            return best(sel)
    return None


def families_table(tb: TableBuilder, summary: pd.DataFrame, controls: Sequence[str]) -> list[dict]:
    """Per target: best post-hoc per architecture and best intrinsic, each with matched controls.

    A family's controls are the model-free ones (their registered method runs nowhere in the
    pool: random, oracle) and the model-randomised ones of the family's kind, all on the
    family's architecture.
    """
    pool_methods = set(summary.loc[~summary["control"], "registered_method"])
    intrinsic = summary["registered_method"].isin(grid.INTRINSIC_METHODS)
    rows = []
    for t in _targets(summary):
        families = [(f"post-hoc ({a})", a, False) for a in sorted(summary["arch"].unique())] + [
            (f"intrinsic ({a})", a, True) for a in sorted(summary.loc[intrinsic, "arch"].unique())
        ]
        for family, arch, kind in families:
            here = (summary["target"] == t) & (summary["arch"] == arch) & (intrinsic == kind)
            ref = best(summary[here & ~summary["control"]])
            labels = {"modality": TARGET_NAMES[t], "family": family}
            rows.append(tb.row("families", {**labels, "entry": "best"}, ref))
            if ref is None:
                continue
            for c in controls:
                mine = summary[
                    ((summary["method"] == c) | (summary["registered_method"] == c))
                    & (summary["target"] == t)
                    & (summary["arch"] == arch)
                ]
                if mine.empty:
                    continue
                model_free = not mine["registered_method"].isin(pool_methods).any()
                same_kind = (
                    bool(mine["registered_method"].isin(grid.INTRINSIC_METHODS).all()) == kind
                )
                if model_free or same_kind:
                    rows.append(tb.row("families", {**labels, "entry": c}, _matched(mine, ref)))
    return rows


def fmt_interval(mean: float, low: float, high: float, reason: str) -> str:
    """Paper-style "0.56 (0.51–0.62)"; a missing interval shows its reason."""
    if np.isnan(mean):
        return f"n/a ({reason})" if reason else "n/a"
    if reason or np.isnan(low) or np.isnan(high):
        return f"{mean:.2f} (CI n/a: {reason})"
    return f"{mean:.2f} ({low:.2f}–{high:.2f})"


def to_markdown(df: pd.DataFrame, labels: Sequence[str], title: str, note: str) -> str:
    """A pipe table with label columns, n, Dice (+ floor), IoU, Spearman, configuration."""
    head = [
        *labels,
        "n",
        "Dice Score",
        "Floor Dice",
        "IoU Score",
        "Spearman Cor.",
        "Configuration",
        "Threshold",
    ]
    lines = [f"**{title}**", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in df.to_dict("records"):
        conf = (
            f"{r['method']} / {r['postprocessing']} / {r['source']} / {r['arch']}"
            if r["method"]
            else "none"
        )
        thr = (
            ""
            if np.isnan(r["threshold"])
            else (
                f"{r['threshold']:.2f}"
                + (" (median, per case)" if r["threshold_mode"] == "per_case" else "")
            )
        )
        ci = {
            m: fmt_interval(r[m], r[f"{m}_low"], r[f"{m}_high"], r[f"{m}_reason"]) for m in METRICS
        }
        floor = "n/a" if np.isnan(r["floor_dice"]) else f"{r['floor_dice']:.2f}"
        cells = [
            *(str(r[c]) for c in labels),
            str(r["n"]),
            ci["dice"],
            floor,
            ci["iou"],
            ci["spearman"],
            conf,
            thr,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines + ["", note, ""])


def write_outputs(
    name: str, rows: list[dict], labels: Sequence[str], title: str, note: str, out_dir: Path
) -> pd.DataFrame:
    """Write ``{name}.csv`` and ``{name}.md`` atomically; return the frame."""
    df = pd.DataFrame(rows)
    with atomic_write(out_dir / f"{name}.csv") as tmp:
        df.to_csv(tmp, index=False)
    with atomic_write(out_dir / f"{name}.md") as tmp:
        tmp.write_text(to_markdown(df, labels, title, note))
    return df


def threshold_curves(
    sweeps: Sequence[str | os.PathLike[str]], summary: pd.DataFrame
) -> pd.DataFrame:
    """Mean Dice against threshold for every configuration; ValueError if one lacks a sweep."""
    frames = [
        read_table(p, columns=[*CONFIG, "target", "threshold", "mean_dice"]).drop_duplicates(
            [*CONFIG, "threshold"]
        )
        for p in sweeps
    ]
    curves = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=CONFIG)
    have = set(map(tuple, curves[CONFIG].drop_duplicates().to_numpy().tolist()))
    for conf in summary[CONFIG].itertuples(index=False):
        if tuple(conf) not in have:
            raise ValueError(f"no sweep file for configuration {tuple(conf)}")
    return curves


def make_tables(
    *,
    scores: Sequence[str | os.PathLike[str]],
    sweeps: Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    cfg: dict,
    seed: int,
    extra_checks: Sequence[str | os.PathLike[str]] = (),
) -> None:
    """Stage entry: tables 1-5, controls, families, bootstrap indices, threshold curves and
    checks.json.

    ``cfg`` is ``config["evaluation"]`` (``controls``, ``bootstrap``, ``table4_method``,
    ``oracle_min_dice``).  Each of ``extra_checks`` (JSON written by another family's stage,
    e.g. ``clusters_checks.json``) is merged into checks.json under its file stem.
    """
    out_dir = Path(out_dir)
    controls = list(cfg["controls"])
    frame = load_scores(scores)
    summary = summarise(frame, controls)
    curves = threshold_curves(sweeps, summary)
    tb = TableBuilder(frame, cfg, seed)
    note = (
        f"Note: bootstrap-estimated means ({tb.confidence:.0%} BCa confidence interval, "
        f"{tb.n_resamples} resamples, seed {seed}); Floor Dice = mean all-salient floor "
        "2p/(1+p)."
    )
    t1, chosen = table1(tb, summary)
    table4_method = cfg["table4_method"]
    specs = [
        ("table1", t1, ["modality"], "Table 1: optimised CineECG vs 12-lead alignment"),
        (
            "table2",
            table2(tb, chosen),
            ["stratification", "modality", "condition"],
            "Table 2: diagnosis and agreement strata",
        ),
        (
            "table3",
            table3(tb, summary),
            ["modality", "attribution"],
            "Table 3: attribution methods under optimised post-processing",
        ),
        (
            "table4",
            table4(tb, summary, table4_method),
            ["target", "attribution", "architecture"],
            f"Table 4: attribution source ({METHOD_NAMES.get(table4_method, table4_method)})",
        ),
        (
            "table5",
            table5(tb, summary),
            ["data_type", "prep_type"],
            "Table 5: post-processing by attribution source",
        ),
        (
            "controls",
            controls_table(tb, summary, chosen, controls),
            ["modality", "control", "selection"],
            "Controls: random, oracle, model-randomised",
        ),
        (
            "families",
            families_table(tb, summary, controls),
            ["modality", "family", "entry"],
            "Explanation families: post-hoc per architecture vs the IMN's intrinsic weights",
        ),
    ]
    frames = {
        name: write_outputs(name, rows, labels, title, note, out_dir)
        for name, rows, labels, title in specs
    }
    write_table(
        tb.indices_table(),
        out_dir / "bootstrap_indices.parquet",
        {
            "seed": int(seed),
            "n_resamples": tb.n_resamples,
            "confidence": tb.confidence,
            "rule": "indices[b] index the row's cases sorted by case_id; the row's statistic on "
            "resample b is nanmean(values[indices[b]])",
            "case_ids": tb.case_order,
            "versions": package_versions(),
        },
    )
    with atomic_write(out_dir / "threshold_curves.csv") as tmp:
        curves.to_csv(tmp, index=False)
    checks = control_checks(frames["table1"], frames["controls"], controls, cfg)
    write_json(
        {
            **checks,
            "seed": int(seed),
            "n_configurations": len(summary),
            "n_pool": int((~summary["control"]).sum()),
            **{Path(p).stem: read_json(p) for p in extra_checks},
        },
        out_dir / "checks.json",
    )
    log.info("tables written to %s: %s", out_dir, {k: len(v) for k, v in frames.items()})
