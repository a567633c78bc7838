"""Wall time of ``snakemake -n`` on a finished run (goal: <= 2 s for the default run).

A finished run is made without running a stage (tests/workflow/workflow_helpers.finish_by_touch:
every output exists, the masks checkpoint lists ``--cases`` case ids, and Snakemake holds each
job's params and code as after a real run), in a copy of the repository (``--repo``: another
checkout, e.g. main's, to compare); or ``--existing`` times a real finished run in place. The first
dry run (it fills the code-digest cache) is reported apart. Wall time counts waiting for a CPU on a
loaded machine: the CPU seconds (user + sys) of the dry run and of ``snakemake --version`` (the
floor: Snakemake's own start-up) are printed too.

    python benchmarks/dryrun_bench.py                        # default config, 80 cases
    python benchmarks/dryrun_bench.py --configfile .test/config.yaml --cases 6
    python benchmarks/dryrun_bench.py --repo /work/main --workdir /tmp/dryrun-main
    python benchmarks/dryrun_bench.py --existing /path/to/project --configfile config.yaml
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _helpers():
    path = ROOT / "tests/workflow/workflow_helpers.py"
    spec = importlib.util.spec_from_file_location("workflow_helpers", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(workdir: Path, *args: str) -> tuple[float, float, str]:
    """Wall and CPU (user + sys) seconds of ``snakemake *args`` in ``workdir``; its last line."""
    env = {**os.environ, "PYTHONPATH": str(workdir / "src")}
    cmd = [sys.executable, "-m", "snakemake", *args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = (proc.stdout + proc.stderr).strip().splitlines()
    return wall, cpu, lines[-1] if lines else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configfile", default="config.yaml")
    parser.add_argument("--cases", type=int, default=80, help="annotated cases of the fake run")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--existing", type=Path, help="a finished project folder to time")
    parser.add_argument("--workdir", type=Path, help="where to build the fake finished run")
    parser.add_argument("--repo", type=Path, default=ROOT, help="the checkout to copy")
    args = parser.parse_args()

    if args.existing:
        workdir = args.existing.resolve()
    else:
        workdir = (args.workdir or Path(tempfile.mkdtemp(prefix="dryrun-bench-"))).resolve()
        helpers = _helpers()
        if not (workdir / "Snakefile").exists():
            workdir.mkdir(parents=True, exist_ok=True)
            helpers.copy_project(workdir, args.repo.resolve())
        start = time.perf_counter()
        helpers.finish_by_touch(
            workdir,
            "--configfile",
            args.configfile,
            case_ids=tuple(range(1, args.cases + 1)),
        )
        print(f"finished run made by touching in {time.perf_counter() - start:.1f} s: {workdir}")

    dry = ("-n", "--configfile", args.configfile, "--replace-workflow-config")
    first = timed(workdir, *dry)
    runs = [timed(workdir, *dry) for _ in range(args.repeats)]
    floor = [timed(workdir, "--version") for _ in range(args.repeats)]
    wall, cpu = [r[0] for r in runs], [r[1] for r in runs]
    print(f"last line: {runs[-1][2]}")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    print(f"first dry run (cold digest cache): wall {first[0]:.2f} s, CPU {first[1]:.2f} s")
    print(
        f"dry run of the finished run, {args.repeats} runs: wall median "
        f"{statistics.median(wall):.2f} s (min {min(wall):.2f}), CPU median "
        f"{statistics.median(cpu):.2f} s (min {min(cpu):.2f}); goal <= 2 s"
    )
    print(
        f"snakemake --version (start-up floor): wall median "
        f"{statistics.median(r[0] for r in floor):.2f} s, CPU median "
        f"{statistics.median(r[1] for r in floor):.2f} s"
    )


if __name__ == "__main__":
    main()
