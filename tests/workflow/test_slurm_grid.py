"""The real grid through the SLURM profile (workflow/profiles/slurm) on a one-node SLURM cluster.

Starts munged + slurmctld + slurmd with tests/cluster/slurm_local.sh (needs root and the Debian
packages slurm-wlm and munge), runs the whole grid on `.test/config.yaml` through the profile with
`--executor slurm`, and checks that

* every rule's jobs were sbatch jobs that SLURM ran to completion, with the threads the rules ask
  for as their CPUs, and
* every file under results/tiny/tables/ is byte for byte the local run's (the shared `tiny_run`,
  `snakemake --cores 2`): threads come from the rules (capped at 2 cores in both runs, and each
  stage sets torch's threads from them), seeds from the config, and the tables carry no host
  names or clock times, so a job computes the same whether SLURM or the local executor runs it.
  (The attribution and score files hold the same values too; their provenance names the model's
  SHA-256, equal since checkpoints are written through a file object: see save_model.)

The SLURM run is a second complete run of the tiny config from scratch on the same machine, so
this is also the check that two runs of the same config give byte-identical tables.

Test-only settings, on top of the profile: 2 cores (this machine's), status checks every 2 s.
The profile sends the fan-out rules (attribute, oracle, map_to_cineecg, score: 134 of the grid's
jobs, seconds each) as SLURM job arrays: the plugin submits a rule's ready jobs as one array (a
single job when one is ready), and the tasks run side by side on the node (the partition shares
cores, OverSubscribe=FORCE:4; memory bounds it at 6 jobs of 4 GB).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from workflow_helpers import copy_project, snakemake

REPO = Path(__file__).resolve().parents[2]
PROFILE = REPO / "workflow" / "profiles" / "slurm"
SLURM_LOCAL = REPO / "tests" / "cluster" / "slurm_local.sh"
PARTITION = "main"  # the partition slurm_local.sh creates, and the profile's default
TABLES = Path("results/tiny/tables")

CORES = ["--cores", "2", "--max-threads", "2"]  # as the local run: same threads per job
FAST_POLLING = [
    "--slurm-init-seconds-before-status-checks",
    "2",
    "--seconds-between-status-checks",
    "2",
    "--latency-wait",
    "5",
]
ARRAYS = ("attribute", "oracle", "map_to_cineecg", "score")  # slurm-array-jobs in the profile
SUBMITTED = re.compile(
    r"has been submitted with SLURM jobid (\d+) |Submitted array job .* SLURM job ID (\d+)\."
)
FINISHED = re.compile(r"Finished jobid: \S+ \(Rule: (\w+)\)")


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


def scontrol_jobs(job_id: str) -> list[dict[str, str]]:
    """`scontrol show job` as one key -> value dict per job or array task (slurm_local.sh keeps
    finished jobs for a day)."""
    out = subprocess.run(
        ["scontrol", "show", "job", job_id], capture_output=True, text=True, check=True
    ).stdout
    return [dict(re.findall(r"(\S+?)=(\S*)", rec)) for rec in re.split(r"\n\s*\n", out.strip())]


def log_unit(info: dict[str, str]) -> str:
    """The rule a SLURM job ran, from its log path (.snakemake/slurm_logs/rule_<rule>/...)."""
    return re.search(r"/slurm_logs/([^/]+)/", info["StdOut"]).group(1)


def table_files(project: Path) -> dict[str, bytes]:
    root = project / TABLES
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.cluster
@pytest.mark.slow
def test_grid_through_slurm_profile_equals_local_run(
    tiny_run: Path, slurm_cluster: None, tmp_path: Path
) -> None:
    project = copy_project(tmp_path)
    # The tiny config as the project's config.yaml: the SLURM jobs' own Snakemake runs get
    # --configfile but not --replace-workflow-config (Snakemake 9.27, slurm plugin 2.8), so they
    # would merge config.yaml's method instances into the tiny grid (README: Running on a cluster).
    shutil.copy(project / ".test" / "config.yaml", project / "config.yaml")
    run = snakemake(
        project,
        "--workflow-profile",
        str(PROFILE),
        *CORES,
        "--slurm-no-account",  # no accounting database on the local cluster
        *FAST_POLLING,
    )
    log = run.stdout + run.stderr

    # every rule of the grid (but the local target `all`) ran as sbatch jobs SLURM completed
    records = [
        (log_unit(info), info)
        for ids in SUBMITTED.findall(log)
        for info in scontrol_jobs("".join(ids))
    ]
    for unit, info in records:
        assert info["JobState"] == "COMPLETED", (unit, info)
        assert info["Partition"] == PARTITION
        if unit in ("rule_tune", "rule_train"):  # threads: 8, capped at 2 cores
            assert info["NumCPUs"] == "2", (unit, info["NumCPUs"])
    units = Counter(unit for unit, _ in records)
    rules = {"generate_synthetic", "ingest", "cineecg", "masks", "tune", "train", "tables"}
    assert {f"rule_{rule}" for rule in rules} <= set(units), units
    # each job of an array rule ran as a SLURM job of its own or as an array task, and the
    # rule's jobs went out as arrays (the plugin submits what is ready: one array or several)
    finished = Counter(FINISHED.findall(log))
    for rule in ARRAYS:
        tasks = sum(
            bool(info.get("ArrayTaskId")) for unit, info in records if unit == f"rule_{rule}"
        )
        ran = units[f"rule_{rule}"]
        assert ran == finished[rule] > 1 and tasks > 1, (rule, ran, tasks)

    local, cluster = table_files(tiny_run), table_files(project)
    # the end-to-end replicate test ran replicates: 2 on the shared run (its spread table only)
    local = {name: data for name, data in local.items() if not name.startswith("replicates.")}
    assert len(local) > 10 and sorted(cluster) == sorted(local)
    differ = [name for name in local if cluster[name] != local[name]]
    assert not differ, f"tables differ between the SLURM and the local run: {differ}"
