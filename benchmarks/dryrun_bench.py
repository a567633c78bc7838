"""Wall time of ``snakemake -n`` on a finished run (goal: <= 2 s for the default run).

A finished run is made without running a stage (tests/workflow/workflow_helpers.finish_by_touch:
every output exists, the masks checkpoint lists ``--cases`` case ids, and Snakemake holds each
job's params and code as after a real run), in a copy of the repository; or ``--existing`` times a
real finished run in place. The first dry run (it fills the code-digest cache) is reported apart.

    python benchmarks/dryrun_bench.py                        # default config, 80 cases
    python benchmarks/dryrun_bench.py --configfile .test/config.yaml --cases 6
    python benchmarks/dryrun_bench.py --existing /path/to/project --configfile config.yaml
"""

from __future__ import annotations

import argparse
import importlib.util
import os
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


def dry_run_seconds(workdir: Path, configfile: str) -> tuple[float, str]:
    """Wall seconds of one ``snakemake -n`` in ``workdir`` and its last output line."""
    env = {**os.environ, "PYTHONPATH": str(workdir / "src")}
    cmd = [sys.executable, "-m", "snakemake", "-n", "--configfile", configfile]
    cmd += ["--replace-workflow-config"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    lines = (proc.stdout + proc.stderr).strip().splitlines()
    return seconds, lines[-1] if lines else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configfile", default="config.yaml")
    parser.add_argument("--cases", type=int, default=80, help="annotated cases of the fake run")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--existing", type=Path, help="a finished project folder to time")
    parser.add_argument("--workdir", type=Path, help="where to build the fake finished run")
    args = parser.parse_args()

    if args.existing:
        workdir = args.existing.resolve()
    else:
        workdir = (args.workdir or Path(tempfile.mkdtemp(prefix="dryrun-bench-"))).resolve()
        helpers = _helpers()
        if not (workdir / "Snakefile").exists():
            workdir.mkdir(parents=True, exist_ok=True)
            helpers.copy_project(workdir)
        start = time.perf_counter()
        helpers.finish_by_touch(
            workdir,
            "--configfile",
            args.configfile,
            case_ids=tuple(range(1, args.cases + 1)),
        )
        print(f"finished run made by touching in {time.perf_counter() - start:.1f} s: {workdir}")

    first, _ = dry_run_seconds(workdir, args.configfile)
    times = []
    for _ in range(args.repeats):
        seconds, last = dry_run_seconds(workdir, args.configfile)
        times.append(seconds)
    print(f"last line: {last}")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    print(f"first dry run (cold digest cache): {first:.2f} s")
    print(
        f"dry run of the finished run over {args.repeats}: median {statistics.median(times):.2f} s,"
        f" min {min(times):.2f} s (goal <= 2 s)"
    )


if __name__ == "__main__":
    main()
