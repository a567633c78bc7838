"""The SLURM profile (workflow/profiles/slurm) on a real one-node SLURM cluster.

Starts munged + slurmctld + slurmd with tests/cluster/slurm_local.sh (needs root and the Debian
packages slurm-wlm and munge), runs the three-job toy workflow through the profile, and checks that
every job ran as a SLURM job with the resources its rule declared.
"""

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PROFILE = REPO / "workflow" / "profiles" / "slurm"
SLURM_LOCAL = HERE / "slurm_local.sh"
TOY = HERE / "Snakefile.toy"
PARTITION = "main"  # the partition slurm_local.sh creates, and the profile's default

# Faster than the profile's site settings: a local file system, and jobs that last seconds.
FAST_POLLING = [
    "--slurm-init-seconds-before-status-checks",
    "2",
    "--seconds-between-status-checks",
    "2",
    "--latency-wait",
    "5",
]
# Expected SLURM limits per rule, from the resources in Snakefile.toy.
EXPECTED = {
    "part": {"threads": "2", "mem": "100M", "time": "00:05:00"},  # threads: workflow.cores, capped
    "solo": {"threads": "1", "mem": "150M", "time": "00:03:00"},
}
OUTPUTS = ["part_a.txt", "part_b.txt", "solo.txt"]
JOB_LINE = re.compile(
    r"^rule=(?P<rule>\w+) threads=(?P<threads>\d+)"
    r" slurm_job_id=(?P<job>\S+) cpus_per_task=(?P<cpus>\S+)$"
)


@pytest.fixture(scope="module")
def slurm_cluster() -> Iterator[None]:
    """A running one-node SLURM cluster; stopped at teardown if this fixture started it."""
    if shutil.which("sbatch") is None:
        pytest.skip("sbatch not installed (apt-get install slurm-wlm munge runs this test)")
    start = subprocess.run(
        ["bash", str(SLURM_LOCAL), "start"], capture_output=True, text=True, timeout=120
    )
    assert start.returncode == 0, f"slurm_local.sh start failed:\n{start.stderr}"
    assert start.stdout.strip() in {"started", "running"}, start.stdout
    try:
        yield
    finally:
        if start.stdout.strip() == "started":
            subprocess.run(["bash", str(SLURM_LOCAL), "stop"], check=True, timeout=120)


def scontrol_job(job_id: str) -> dict[str, str]:
    """`scontrol show job` as key -> value (finished jobs stay visible for MinJobAge=600 s)."""
    out = subprocess.run(
        ["scontrol", "show", "job", job_id], capture_output=True, text=True, check=True
    ).stdout
    return dict(re.findall(r"(\S+?)=(\S*)", out))


@pytest.mark.cluster
@pytest.mark.slow
def test_toy_workflow_runs_as_slurm_jobs(slurm_cluster: None, tmp_path: Path) -> None:
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(TOY),
        "--directory",
        str(tmp_path),
        "--workflow-profile",
        str(PROFILE),
        "--max-threads",
        EXPECTED["part"]["threads"],  # the profile's cap is a site value
        "--slurm-no-account",  # no accounting database on the local cluster
        *FAST_POLLING,
    ]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=400)
    assert run.returncode == 0, f"snakemake failed:\n{run.stderr[-4000:]}"

    lines = [(tmp_path / name).read_text().strip() for name in OUTPUTS]
    jobs = [JOB_LINE.match(line) for line in lines]
    assert all(jobs), f"unexpected job output: {lines}"
    assert [m["rule"] for m in jobs] == ["part", "part", "solo"]
    job_ids = [m["job"] for m in jobs]
    assert all(j.isdigit() for j in job_ids), f"a job did not run under SLURM: {lines}"
    assert len(set(job_ids)) == 3, f"jobs share a SLURM job id: {job_ids}"

    for m in jobs:
        assert m["threads"] == EXPECTED[m["rule"]]["threads"], m[0]
        assert m["cpus"] == m["threads"], f"threads not passed as --cpus-per-task: {m[0]}"
        info = scontrol_job(m["job"])
        assert info["JobState"] == "COMPLETED", info
        assert info["Partition"] == PARTITION
        assert info["MinMemoryNode"] == EXPECTED[m["rule"]]["mem"]
        assert info["TimeLimit"] == EXPECTED[m["rule"]]["time"]
        assert "gres/gpu" not in info["TRES"], f"gpu=0 requested a GPU: {info['TRES']}"
