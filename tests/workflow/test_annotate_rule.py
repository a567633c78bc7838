"""The annotate_bundle rule: off the default targets, and a real run on the tiny config."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from workflow_helpers import copy_project, planned_jobs, snakemake

from cinexai.io import read_table


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return copy_project(tmp_path_factory.mktemp("annotate"))


def test_bundle_rule_is_not_a_default_target_but_plans_alone(project):
    default = snakemake(project, "-n", "--configfile", ".test/config.yaml")
    assert "annotate_bundle" not in {r for r, _ in planned_jobs(default.stdout + default.stderr)}
    alone = snakemake(project, "annotate_bundle", "-n", "--configfile", ".test/config.yaml")
    rules = {r for r, _ in planned_jobs(alone.stdout + alone.stderr)}
    assert rules == {"generate_synthetic", "ingest", "cineecg", "annotate_bundle"}


@pytest.mark.slow
def test_bundle_rule_writes_blinded_cases_and_a_private_key_map(project):
    snakemake(project, "annotate_bundle", "--cores", "2", "--configfile", ".test/config.yaml")
    res = project / "results" / "tiny"
    bundle, key_map = res / "annotate" / "bundle", res / "annotate" / "private" / "key_map.csv"
    records = read_table(res / "data" / "records.parquet")
    keys = pd.read_csv(key_map, dtype={"key": str})
    evaluation = records[(records["split"] == "evaluation") & records["included"]]
    assert sorted(keys["ecg_id"]) == sorted(evaluation["ecg_id"])
    assert not (bundle / "key_map.csv").exists()
    for key in keys["key"]:
        case = json.loads((bundle / "cases" / f"{key}.json").read_text())
        assert case["record"] is not None and len(case["record"]["signal"]) == 12
    served = " ".join(p.read_text() for p in bundle.rglob("*.json"))
    assert "ecg_id" not in served and "label" not in served and "patient" not in served
