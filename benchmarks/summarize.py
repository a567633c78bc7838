"""Summarise a run's Snakemake benchmark files (one per job) into a Markdown table per rule.

    python benchmarks/summarize.py results/synthetic

Wall seconds (``s``) and peak RSS (``max_rss`` MB) come from Snakemake's ``benchmark:`` TSVs; the
ingest row also reports records per second from ``data/records.parquet``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from cinexai.io import read_table


def summarize(run: Path) -> pd.DataFrame:
    """Jobs, total and mean wall seconds, and peak memory per rule."""
    rows = []
    for tsv in sorted((run / "benchmarks").rglob("*.tsv")):
        rel = tsv.relative_to(run / "benchmarks").with_suffix("")
        rule = rel.parts[0] if len(rel.parts) > 1 else rel.name
        bench = pd.read_csv(tsv, sep="\t")
        rows.append({"rule": rule, "s": bench["s"].iloc[-1], "max_rss": bench["max_rss"].iloc[-1]})
    jobs = pd.DataFrame(rows)
    return (
        jobs.groupby("rule")
        .agg(
            jobs=("s", "size"),
            total_s=("s", "sum"),
            mean_s=("s", "mean"),
            peak_rss_mb=("max_rss", "max"),
        )
        .round(2)
    )


def main(run: str) -> None:
    run_dir = Path(run)
    table = summarize(run_dir)
    print(table.to_markdown())
    records = run_dir / "data" / "records.parquet"
    if records.exists() and "ingest" in table.index:
        n = len(read_table(records, columns=["ecg_id"]))
        print(
            f"\ningest: {n} records in {table.loc['ingest', 'total_s']:.1f} s = "
            f"{n / table.loc['ingest', 'total_s']:.1f} records/s"
        )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "results/synthetic")
