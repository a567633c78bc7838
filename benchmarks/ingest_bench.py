"""Ingestion throughput on PTB-XL-size records (10 s, 500 Hz, 12 leads, 16-bit WFDB).

Writes N records (not timed) with ``cinexai.data.synthetic.generate`` when available, else with
the test fixture's writer (tests/data/conftest.py), then times ``ingest(..., threads=T)``.
Goal: 8000 records in <= 5 min on 2 cores.  Also times wfdb's XQRS and GQRS detectors on one
lead of one record, the reason ``cinexai.data.beats`` uses its own multi-lead detector.

    python benchmarks/ingest_bench.py --n 8000 --threads 2 --workdir /tmp/ingest-bench
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import resource
import time
from pathlib import Path

import numpy as np
from wfdb import processing

from cinexai.config import load_config
from cinexai.data.ingest import ingest
from cinexai.io import read_table

ROOT = Path(__file__).resolve().parents[1]


def _fixture_module():
    spec = importlib.util.spec_from_file_location("ptbxl_fixture", ROOT / "tests/data/conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_records(out: Path, n: int, seed: int) -> str:
    """Write >= n development records to ``out``; return which writer was used."""
    try:
        from cinexai.data.synthetic import generate
    except ImportError:
        generate = None
    if generate is not None:
        cfg = load_config(ROOT / "config.yaml")["synthetic"]
        generate(out_dir=out, cfg=cfg, seed=seed, n_records_target=n)
        return "cinexai.data.synthetic.generate"
    fx = _fixture_module()
    rng = np.random.default_rng(seed)
    rows = []
    for ecg_id in range(1, n + 1):
        abnormal = bool(ecg_id % 2)
        x, _ = fx.synth_record(rng, hr=rng.uniform(50, 100), abnormal=abnormal)
        codes = fx.ABNORMAL if abnormal else fx.NORMAL
        rows.append(fx.database_row(ecg_id, (ecg_id + 1) // 2, codes))
        fx.write_wfdb_fast(out / rows[-1]["filename_hr"], x)
    fx.write_ptbxl(out, rows)
    return "tests/data/conftest.py fixture writer"


def time_wfdb_detectors(ptbxl_dir: Path, repeats: int = 3) -> dict[str, float]:
    """Median ms per call of XQRS and GQRS on lead II of the first record."""
    import wfdb

    first = sorted((ptbxl_dir / "records500").rglob("*.hea"))[0]
    lead = wfdb.rdrecord(str(first.with_suffix(""))).p_signal[:, 1]
    out = {}
    for name, fn in (
        ("xqrs", lambda: processing.xqrs_detect(lead, 500, verbose=False)),
        ("gqrs", lambda: processing.gqrs_detect(lead, 500)),
    ):
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        out[name] = 1000 * float(np.median(times))
    return out


def _cpu_seconds() -> float:
    """User + system CPU time of this process and its reaped children (the Pool workers)."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=8000, help="records to ingest")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/ingest-bench"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    data_dir = args.workdir / f"ptbxl-{args.n}"
    if not (data_dir / "ptbxl_database.csv").exists():
        t = time.perf_counter()
        writer = write_records(data_dir, args.n, args.seed)
        elapsed = time.perf_counter() - t
        print(f"wrote {args.n} records with {writer} in {elapsed:.1f} s (not timed)")
    cfg = load_config(ROOT / "config.yaml")["data"]
    cfg = {**cfg, "n_records": 10 * args.n, "reference_pool": 0}  # ingest every labelled record
    out = args.workdir / f"out-{args.n}"
    t, cpu = time.perf_counter(), _cpu_seconds()
    ingest(
        ptbxl_dir=data_dir,
        annotations=None,
        out_dir=out,
        cfg=cfg,
        seed=args.seed,
        threads=args.threads,
    )
    elapsed, cpu = time.perf_counter() - t, _cpu_seconds() - cpu
    n = len(read_table(out / "records.parquet"))
    print(
        f"ingest: {n} records, threads={args.threads}, wall {elapsed:.1f} s = "
        f"{n / elapsed:.1f} records/s -> 8000 records in {8000 * elapsed / n / 60:.2f} min; "
        f"CPU {1000 * cpu / n:.1f} ms/record (all processes) -> 8000 records on "
        f"{args.threads} idle cores in {8000 * cpu / n / args.threads / 60:.2f} min "
        f"(1-min load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
    )
    print("wfdb detectors, ms per single-lead 10 s record:", time_wfdb_detectors(data_dir))


if __name__ == "__main__":
    main()
