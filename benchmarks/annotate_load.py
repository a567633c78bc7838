"""Annotation-server load benchmark (not a test): concurrent autosaves against a real server.

Starts ``cinexai annotate serve`` on 127.0.0.1 (a free port, a fresh SQLite file in a temporary
folder), adds ``--reviewers`` reviewers, and has each send ``--saves`` autosaves (one thread per
reviewer, each save a growing mark list, ``synchronous=FULL``), then prints p50/p95/max latency,
throughput, and checks that every save landed exactly once.

Usage: python benchmarks/annotate_load.py --bundle results/tiny/annotate/bundle
       [--reviewers 20] [--saves 50]
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
from pathlib import Path

import numpy as np

from cinexai.annotate.bundle import read_manifest
from cinexai.annotate.db import Store
from cinexai.annotate.loadtest import run_load, server


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundle", required=True, help="a bundle from `snakemake annotate_bundle`")
    ap.add_argument("--reviewers", type=int, default=20)
    ap.add_argument("--saves", type=int, default=50)
    args = ap.parse_args()
    keys = read_manifest(args.bundle)["cases"]
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.sqlite"
        store = Store(db)
        tokens = [store.add_reviewer(f"r{k:03d}", keys) for k in range(args.reviewers)]
        with server(args.bundle, db, Path(tmp) / "server.log") as srv:
            result, _ = run_load(srv.base, tokens, args.saves)
        with sqlite3.connect(db) as con:
            saves = con.execute("SELECT COUNT(*) FROM audit WHERE action = 'save'").fetchone()[0]
    lat = np.asarray(result.latencies_s) * 1000
    n = len(lat)
    print("| reviewers x saves | p50 ms | p95 ms | max ms | saves/s | failed | stored |")
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {args.reviewers} x {args.saves} | {np.percentile(lat, 50):.1f} | "
        f"{np.percentile(lat, 95):.1f} | {lat.max():.1f} | {n / result.wall_s:.0f} | "
        f"{len(result.failures)} | {saves} of {n} |"
    )


if __name__ == "__main__":
    main()
