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


def copy_project(dest: Path) -> Path:
    """Copy what the workflow needs (not results, venv or git) so a test can edit it freely."""
    for name in COPIED:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest / name)
    return dest


def snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run snakemake in ``workdir`` with the copied package first on the path.

    A ``--configfile`` replaces ``config.yaml`` (``--replace-workflow-config``) rather than being
    laid over it: merged, ``config.yaml``'s method instances would stay in the grid, so the tiny
    run would be the tiny config's instances plus every default one.
    """
    env = {**os.environ, "PYTHONPATH": str(workdir / "src")}
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
