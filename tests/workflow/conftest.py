"""The tiny end-to-end run, shared: the end-to-end tests read it and the SLURM test compares
its own run's tables with it, so CI pays for one local run of the grid."""

from __future__ import annotations

from pathlib import Path

import pytest
from workflow_helpers import copy_project, snakemake


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project copy in which the whole grid ran on `.test/config.yaml` with 2 local cores."""
    project = copy_project(tmp_path_factory.mktemp("e2e"))
    snakemake(project, "--cores", "2", "--configfile", ".test/config.yaml")
    return project
