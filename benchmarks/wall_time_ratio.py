"""Wall time of a whole run from scratch at two commits, on this machine in one session, and the
ratio candidate / baseline (issue 16's speed goal: the default run at <= 0.7x the landed main's).

Each commit's tree is exported (``git archive``) into its own folder under ``--workdir`` and the
grid runs there with ``snakemake --cores N`` (the commit's own ``src`` first on PYTHONPATH, so the
installed package does not leak in); ``--configfile`` paths are read from each commit's own tree
(an absolute path is shared; several files are laid over each other, as Snakemake does). Runs
alternate baseline, candidate, candidate, baseline, ... (``--repeats`` pairs) so a drift in the
machine's load hits both alike; each run starts from an empty results folder. Wall time includes
waiting for a CPU: the CPU seconds (user + sys) of every run are printed beside it, with the job
count the run reported.

    python benchmarks/wall_time_ratio.py --baseline 945ca42                  # default config
    python benchmarks/wall_time_ratio.py --baseline 945ca42 --configfile .test/config.yaml
    python benchmarks/wall_time_ratio.py --baseline 945ca42 \
        --configfile .test/config.yaml .test/variants/ecg12_only.yaml
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STEPS = re.compile(r"(\d+) of (\d+) steps \(100%\) done")


def export(rev: str, dest: Path) -> Path:
    """The tree of commit ``rev`` as plain files in ``dest`` (no git, no results)."""
    dest.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", rev],
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def run_once(tree: Path, configfiles: list[str], cores: int) -> tuple[float, float, int]:
    """Wall s, CPU s and jobs of one run of the grid from scratch in ``tree``."""
    for stale in ("results", ".snakemake"):
        shutil.rmtree(tree / stale, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    cmd = [
        *(sys.executable, "-m", "snakemake", "--cores", str(cores)),
        *("--configfile", *configfiles, "--replace-workflow-config"),
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"run in {tree} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    done = STEPS.findall(proc.stdout + proc.stderr)
    return wall, cpu, int(done[-1][1]) if done else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="git revision to compare against")
    parser.add_argument("--candidate", default="HEAD", help="git revision to time (HEAD)")
    parser.add_argument(
        "--configfile", nargs="+", default=["config.yaml"], help="paths inside each tree"
    )
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1, help="pairs of runs (ABBA order)")
    parser.add_argument("--workdir", type=Path, help="where the trees go (default: a temp dir)")
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="wall-ratio-"))
    revs = {"baseline": args.baseline, "candidate": args.candidate}
    trees = {name: export(rev, workdir / name) for name, rev in revs.items()}
    order = [
        ("baseline", "candidate") if i % 2 == 0 else ("candidate", "baseline")
        for i in range(args.repeats)
    ]
    walls: dict[str, list[float]] = {name: [] for name in revs}
    print(f"{'run':<10} {'revision':<12} {'wall s':>8} {'cpu s':>8} {'jobs':>5}", flush=True)
    for pair in order:
        for name in pair:
            wall, cpu, jobs = run_once(trees[name], args.configfile, args.cores)
            walls[name].append(wall)
            print(f"{name:<10} {revs[name]:<12} {wall:8.1f} {cpu:8.1f} {jobs:5d}", flush=True)
    base, cand = (statistics.median(walls[n]) for n in ("baseline", "candidate"))
    print(f"median wall: baseline {base:.1f} s, candidate {cand:.1f} s; ratio {cand / base:.3f}")


if __name__ == "__main__":
    main()
