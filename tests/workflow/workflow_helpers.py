"""Helpers to run the Snakemake workflow from a copy of the repository in a temporary folder."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
COPIED = ("Snakefile", "config.yaml", "workflow", "src", "envs", ".test")


def copy_project(dest: Path, repo: Path = REPO) -> Path:
    """Copy what the workflow needs (not results, venv or git) so a test can edit it freely."""
    for name in COPIED:
        src = repo / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest / name)
    return dest


def snakemake(
    workdir: Path, *args: str, check: bool = True, path_first: Path | None = None
) -> subprocess.CompletedProcess:
    """Run snakemake in ``workdir`` with the copied package first on the path (after
    ``path_first``, if given).

    A ``--configfile`` replaces ``config.yaml`` (``--replace-workflow-config``) rather than being
    laid over it: merged, ``config.yaml``'s method instances would stay in the grid, so the tiny
    run would be the tiny config's instances plus every default one.
    """
    paths = [str(path_first)] if path_first else []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([*paths, str(workdir / "src")])}
    if "--configfile" in args and "--replace-workflow-config" not in args:
        args = (*args, "--replace-workflow-config")
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--directory",
        str(workdir),
        "--snakefile",
        str(workdir / "Snakefile"),
        *args,
    ]
    proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(args)} failed ({proc.returncode}):\n"
            f"{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}"
        )
    return proc


def planned_jobs(output: str) -> list[tuple[str, dict[str, str]]]:
    """(rule, wildcards) for each job a dry run lists."""
    jobs: list[tuple[str, dict[str, str]]] = []
    for block in re.split(r"\n(?=(?:local)?(?:rule|checkpoint) \w+:)", "\n" + output):
        head = re.match(r"(?:local)?(?:rule|checkpoint) (\w+):", block.strip())
        if not head:
            continue
        wc = re.search(r"wildcards: (.*)", block)
        pairs = dict(p.split("=", 1) for p in wc.group(1).split(", ")) if wc else {}
        jobs.append((head.group(1), pairs))
    return jobs


def finish_by_touch(workdir: Path, *args: str, case_ids: tuple[int, ...] = (1, 2, 3)) -> None:
    """Make ``workdir`` look like a finished run without running a stage: every output exists
    (empty; the masks checkpoint a real table of ``case_ids``) and Snakemake has recorded each
    job's params and code, as after a real run (``--touch``). ``args`` pick the config."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    for line in snakemake(workdir, "--summary", *args).stdout.splitlines()[1:]:
        path = workdir / line.split("\t")[0]
        if path.name == "masks.parquet":
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.table({"case_id": list(case_ids)}), path)
    for line in snakemake(workdir, "--summary", *args).stdout.splitlines()[1:]:
        path = workdir / line.split("\t")[0]
        if path.suffix == "":  # a directory() output
            path.mkdir(parents=True, exist_ok=True)
        elif not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
    snakemake(workdir, "--touch", "--forceall", "--cores", "1", *args)
