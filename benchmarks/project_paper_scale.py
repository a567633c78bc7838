"""Project the paper config's wall time on N SLURM nodes from a finished run's benchmark files.

    python benchmarks/project_paper_scale.py --run results/tiny .test/config.yaml \
        [--run results/synthetic config.yaml] [--paper config/paper.yaml] \
        [--cores-per-node 32] [--nodes 1 2 4 8 16]

Each ``--run`` is a finished (or partial) run's results folder and the config it ran with; a later
run's measurements of a rule replace an earlier one's. The configs' jobs come from dry runs
(``snakemake -n --forceall`` in an empty folder: a run is only read). Unit costs -- per trial, per
epoch, per case and model evaluation, per case -- come from the runs' ``benchmarks/*.tsv``; the
model and its assumptions are in :mod:`cinexai.scale`. Rules no run measured are listed as missing
and left out of the projection.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from cinexai import scale
from cinexai.config import load_config

REPO = Path(__file__).resolve().parents[1]


def dry_run_jobs(config: Path, cfg: dict, cores: int) -> list[scale.Job]:
    """Every job of ``config``'s grid, as an empty folder's dry run lists it."""
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "snakemake",
                "-n",
                "--forceall",
                "--cores",
                str(cores),
                "--snakefile",
                str(REPO / "Snakefile"),
                "--directory",
                tmp,
                "--configfile",
                str(config.resolve()),
                "--replace-workflow-config",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    return scale.parse_dry_run(proc.stdout, f"results/{cfg['run'] or cfg['dataset']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--run",
        nargs=2,
        action="append",
        required=True,
        metavar=("RESULTS", "CONFIG"),
        help="a run's results folder (e.g. results/tiny) and the config it ran with",
    )
    ap.add_argument("--paper", type=Path, default=REPO / "config" / "paper.yaml")
    ap.add_argument("--cores-per-node", type=int, default=32)
    ap.add_argument("--nodes", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    ap.add_argument(
        "--column",
        default="s",
        choices=["s", "cpu_time"],
        help="benchmark column: wall seconds, or CPU seconds where the run shared its machine",
    )
    args = ap.parse_args()

    costs = scale.Costs({}, {}, {})
    for results, config in args.run:
        run, cfg_m = Path(results), load_config(config)
        seconds = scale.read_benchmarks(run / "benchmarks", args.column)
        facts_m = scale.run_facts(run, cfg_m)
        jobs_m = dry_run_jobs(Path(config), cfg_m, args.cores_per_node)
        jobs_m += scale.case_jobs(seconds, facts_m, [])
        costs = costs.update(scale.measure(seconds, jobs_m, facts_m))
        print(
            f"measured: {run} ({len(seconds)} benchmark files; start-up {min(seconds.values()):.1f}"
            f" s): records {facts_m.n_records}, training windows {facts_m.n_train}, cases "
            f"{facts_m.n_cases}"
        )

    cfg_p = load_config(args.paper)
    facts_p = scale.config_facts(cfg_p)
    jobs_p = dry_run_jobs(args.paper, cfg_p, args.cores_per_node)
    attributions = [j for j in jobs_p if j.rule in ("attribute", "map_to_cineecg")]
    jobs_p += scale.case_jobs({}, facts_p, attributions)
    projection = scale.project(costs, jobs_p, facts_p)

    print(
        f"projected: {args.paper}: records {facts_p.n_records}, training windows "
        f"{facts_p.n_train}, cases {facts_p.n_cases}\n"
    )
    table = projection.by_rule()
    table["total_h"] = (table.pop("total_s") / 3600).round(3)
    table["longest_h"] = (table.pop("longest_s") / 3600).round(3)
    print(table.astype(object).where(table.notna(), "missing").to_markdown())
    missing = projection.missing
    if missing:
        print(
            "\nmissing (no measurement in this run; left out, not estimated): "
            + ", ".join(f"{rule} ({n} jobs)" for rule, n in sorted(missing.items()))
        )
    busy = sum(
        (s or 0.0) * min(j.threads, args.cores_per_node)
        for j, s in zip(projection.jobs, projection.seconds, strict=True)
    )
    print(f"\ncore-hours of all projected jobs: {busy / 3600:.1f}")
    note = ", measured stages only" if missing else ""
    print(f"\n| nodes | cores | projected wall time (h{note}) |\n|---|---|---|")
    for n in args.nodes:
        span = projection.makespan(n, args.cores_per_node)
        print(f"| {n} | {n * args.cores_per_node} | {scale.hours(span)} |")


if __name__ == "__main__":
    main()
