"""The DAG builds: dry run of the tiny config, lint, and config rejection at DAG build."""

from __future__ import annotations

import re

import pytest
from workflow_helpers import copy_project, planned_jobs, snakemake


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return copy_project(tmp_path_factory.mktemp("dag"))


def test_dry_run_plans_the_grid(project):
    proc = snakemake(project, "-n", "--configfile", ".test/config.yaml")
    rules = {rule for rule, _ in planned_jobs(proc.stdout + proc.stderr)}
    assert {
        "generate_synthetic",
        "ingest",
        "cineecg",
        "tune",
        "tune_best",
        "train",
        "attribute",
        "map_to_cineecg",
        "masks",
        "oracle",
        "score",
        "tables",
        "classifier_table",
    } <= rules
    jobs = planned_jobs(proc.stdout + proc.stderr)
    attribute = [wc for rule, wc in jobs if rule == "attribute"]
    # x 2 directly attributed sources: on the ResNet 11 instances (3 IG, GradientSHAP, KernelSHAP,
    # LIME, the 2 segment methods, random, the 2 input maps); on the IMN the 5 not narrowed to the
    # ResNet in .test (3 IG, GradientSHAP, random) + 3 imn_weights instances
    assert len(attribute) == 2 * 11 + 2 * 8
    assert {wc["source"] for wc in attribute} == {"ecg12", "cineecg"}
    by_arch = {a: {wc["method"] for wc in attribute if wc["arch"] == a} for a in ("resnet", "imn")}
    assert {"imn_weights", "imn_weights_raw", "imn_weights_model_randomized"} <= by_arch["imn"]
    assert not {m for m in by_arch["resnet"] if m.startswith("imn_weights")}
    narrowed = {"kernel_shap", "lime", "segment_kernel_shap", "segment_lime"}
    narrowed |= {"input_amplitude", "input_deviation"}
    assert narrowed <= by_arch["resnet"] and not narrowed & by_arch["imn"]
    assert "random" in by_arch["imn"]
    assert {(wc["modality"], wc["arch"]) for r, wc in jobs if r == "train"} == {
        (m, a) for m in ("ecg12", "cineecg") for a in ("resnet", "imn")
    }
    clusters = [wc for rule, wc in jobs if rule in ("fit_clusters", "explain_clusters")]
    assert clusters and {wc["arch"] for wc in clusters} == {"resnet"}
    mapped = [wc for rule, wc in jobs if rule == "map_to_cineecg"]
    assert {wc["arch"] for wc in mapped} == {"resnet", "imn"}
    # score (Dice ... faithfulness, every post-processing) per scored (source, arch, instance):
    # ResNet 11 + 2 latent-cluster instances + the oracle, IMN 8 + the oracle, x 3 scored sources
    score = [wc for rule, wc in jobs if rule == "score"]
    assert len(score) == 3 * ((11 + 2 + 1) + (8 + 1))
    assert {(wc["source"], wc["arch"]) for wc in score} == {
        (s, a) for s in ("ecg12", "cineecg", "mapped") for a in ("resnet", "imn")
    }


def test_tune_workers_plan_one_tune_job_per_worker(project):
    """models.tune_workers 2: two tune jobs per (modality, arch) feeding one tune_best."""
    (project / "workers.yaml").write_text("models: {tune_workers: 2}\n")
    proc = snakemake(project, "-n", "--configfile", ".test/config.yaml", "workers.yaml")
    jobs = planned_jobs(proc.stdout + proc.stderr)
    pairs = {(m, a) for m in ("ecg12", "cineecg") for a in ("resnet", "imn")}
    tune = sorted((wc["modality"], wc["arch"], wc["worker"]) for r, wc in jobs if r == "tune")
    assert tune == sorted((m, a, w) for m, a in pairs for w in ("0", "1"))
    best = [(wc["modality"], wc["arch"]) for r, wc in jobs if r == "tune_best"]
    assert sorted(best) == sorted(pairs)


def test_attribution_shards_plan_shard_jobs_and_one_gather(project):
    """attribution.shards 2: each attribute job becomes two shard jobs plus a gather writing the
    same part-0.parquet; S = 1 plans neither (the default DAG unchanged)."""
    one = planned_jobs(snakemake(project, "-n", "--configfile", ".test/config.yaml").stdout)
    (project / "shards.yaml").write_text("attribution: {shards: 2}\n")
    proc = snakemake(project, "-n", "--configfile", ".test/config.yaml", "shards.yaml")
    two = planned_jobs(proc.stdout + proc.stderr)
    key = ("source", "arch", "method")
    unsharded = sorted(tuple(wc[k] for k in key) for r, wc in one if r == "attribute")
    shards = sorted(tuple(wc[k] for k in (*key, "shard")) for r, wc in two if r == "attribute")
    gathers = sorted(tuple(wc[k] for k in key) for r, wc in two if r == "gather_attribution")
    assert not [r for r, _ in one if r == "gather_attribution"] and unsharded
    assert gathers == unsharded
    assert shards == sorted((*job, i) for job in unsharded for i in ("0", "1"))
    assert {wc["shards"] for r, wc in two if r == "attribute"} == {"2"}
    others = [r for r, _ in one if r not in ("attribute",)]
    assert sorted(others) == sorted(
        r for r, _ in two if r not in ("attribute", "gather_attribution")
    )


def test_fewer_than_one_tune_worker_fails_at_dag_build(project):
    (project / "workers0.yaml").write_text("models: {tune_workers: 0}\n")
    proc = snakemake(
        project, "-n", "--configfile", ".test/config.yaml", "workers0.yaml", check=False
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "0 is less than the minimum of 1" in out
    assert "['models']['tune_workers']" in out


def _jobs(output: str) -> list[tuple[str, str, str]]:
    """Sorted (rule, wildcards, outputs) of every job a dry run plans."""
    jobs = []
    for block in re.split(r"\n(?=(?:local)?(?:rule|checkpoint) \w+:)", "\n" + output):
        head = re.match(r"(?:local)?(?:rule|checkpoint) (\w+):", block.strip())
        if head:
            wildcards = re.search(r"wildcards: (.*)", block)
            out = re.search(r"output: (.*)", block)
            jobs.append(
                (
                    head.group(1),
                    ", ".join(sorted(wildcards.group(1).split(", "))) if wildcards else "",
                    ", ".join(sorted(out.group(1).split(", "))) if out else "",
                )
            )
    return sorted(jobs)


def test_config_of_two_keys_plans_the_full_default_grid(project):
    """The schema fills every other key: the same jobs as config.yaml with seed 1."""
    (project / "minimal.yaml").write_text("dataset: synthetic\nseed: 1\n")
    minimal = snakemake(project, "-n", "--configfile", "minimal.yaml", "--replace-workflow-config")
    full = snakemake(project, "-n", "--config", "seed=1")
    planned = _jobs(minimal.stdout + minimal.stderr)
    assert planned == _jobs(full.stdout + full.stderr)
    rules = [rule for rule, _, _ in planned]
    # the whole grid, x 2 sources: 12 attributed instances on the ResNet (3 IG, GradientSHAP,
    # KernelSHAP, LIME, 3 segment instances, random, 2 input maps), the same 12 + 3 imn_weights on
    # the IMN; scored x 3 sources, one score job per instance (every post-processing and metric
    # in it): ResNet 12 + 4 latent-cluster instances + the oracle, IMN 15 + the oracle
    assert rules.count("attribute") == 2 * (12 + 15) and rules.count("score") == (17 + 16) * 3
    assert rules.count("explain_clusters") == 8 and rules.count("train") == 4
    # model-free controls are expanded once per architecture (2 sources x 2 architectures)
    for control in ("random", "input_amplitude", "input_deviation"):
        assert (
            sum(r == "attribute" and f"method={control}" in wc.split(", ") for r, wc, _ in planned)
            == 4
        )
    assert any("results/synthetic/tables/table1.md" in out for _, _, out in planned)


@pytest.mark.parametrize(
    ("variant", "sources"),
    [("no_mapped", {"ecg12", "cineecg"}), ("ecg12_only", {"ecg12", "mapped"})],
)
def test_variant_configs_plan_through_the_figures(project, variant, sources):
    """attribution.mapped: false and models.modalities: [ecg12] reach the figure rules."""
    proc = snakemake(
        project,
        "-n",
        "--configfile",
        ".test/config.yaml",
        f".test/variants/{variant}.yaml",
    )
    jobs = planned_jobs(proc.stdout + proc.stderr)
    rules = {rule for rule, _ in jobs}
    assert {"summary_figures", "tables", "classifier_table", "score"} <= rules
    assert {wc["source"] for r, wc in jobs if r == "score"} == sources
    assert ("map_to_cineecg" in rules) == ("mapped" in sources)
    trained = {wc["modality"] for r, wc in jobs if r == "train"}
    assert trained == ({"ecg12"} if variant == "ecg12_only" else {"ecg12", "cineecg"})


#: The rules a replicate reruns (replicates.smk: each as ``{rule}_rep``).
REPLICATED = (
    "tune",
    "tune_best",
    "train",
    "classifier_table",
    "attribute",
    "map_to_cineecg",
    "oracle",
    "fit_clusters",
    "explain_clusters",
    "score",
    "tables",
)


def test_replicates_rerun_models_and_attributions_on_the_shared_data(project):
    """R = 2: replicate 1 reruns every model-and-after job of replicate 0 under its own folder,
    the data stages run once, and replicate 0's jobs are exactly those of R = 1."""
    one = snakemake(project, "-n", "--configfile", ".test/config.yaml")
    two = snakemake(
        project, "-n", "--configfile", ".test/config.yaml", ".test/variants/replicates.yaml"
    )
    planned_one, planned_two = _jobs(one.stdout + one.stderr), _jobs(two.stdout + two.stderr)
    assert not [r for r, _, _ in planned_one if r.endswith("_rep") or r == "replicate_table"]
    replicated = [job for job in planned_two if job[0].endswith("_rep")]
    rest = [job for job in planned_two if not job[0].endswith("_rep")]
    assert [r for r, _, _ in rest if r == "replicate_table"] == ["replicate_table"]
    # replicate 0 is the run without replicates: same jobs, wildcards and paths
    assert [j for j in rest if j[0] not in ("replicate_table", "all")] == [
        j for j in planned_one if j[0] != "all"
    ]
    for rule in REPLICATED:
        mine = sorted(
            (wc.replace("rep=1, ", "").replace(", rep=1", "").replace("rep=1", ""), out)
            for r, wc, out in replicated
            if r == f"{rule}_rep"
        )
        theirs = sorted(
            (wc, out.replace("results/tiny/", "results/tiny/replicates/r1/"))
            for r, wc, out in planned_one
            if r == rule
        )
        assert mine and mine == theirs, rule
    assert {r for r, _, _ in replicated} == {f"{rule}_rep" for rule in REPLICATED}
    assert all("rep=1" in wc.split(", ") for _, wc, _ in replicated)
    for rule in ("generate_synthetic", "ingest", "cineecg", "masks"):  # the cohort is shared
        assert [r for r, _, _ in planned_two].count(rule) == 1, rule


def test_replicates_follow_tune_workers_and_attribution_shards(project):
    """A replicate runs the run's tune workers and attribution shards, each in its own folder."""
    (project / "scale.yaml").write_text("attribution: {shards: 2}\nmodels: {tune_workers: 2}\n")
    proc = snakemake(
        project,
        "-n",
        "--configfile",
        ".test/config.yaml",
        ".test/variants/replicates.yaml",
        "scale.yaml",
    )
    jobs = planned_jobs(proc.stdout + proc.stderr)
    rules = [rule for rule, _ in jobs]
    for rule in ("tune", "tune_best", "attribute", "gather_attribution"):
        assert rules.count(f"{rule}_rep") == rules.count(rule) > 0, rule
    assert rules.count("tune_rep") == 2 * rules.count("tune_best_rep")
    assert {wc["rep"] for rule, wc in jobs if rule.endswith("_rep")} == {"1"}


def test_dry_run_of_real_ptbxl_without_annotations_trains_models_only(project, tmp_path):
    (tmp_path / "ptbxl_database.csv").write_text(
        "ecg_id,filename_lr,filename_hr\n1,records100/00001_lr,records500/00001_hr\n"
    )
    record = tmp_path / "records500" / "00001_hr.hea"  # a record file is an input of ingest
    record.parent.mkdir()
    record.write_text("00001_hr 12 500 5000\n")
    proc = snakemake(
        project,
        "-n",
        "--configfile",
        ".test/config.yaml",
        "--config",
        "dataset=ptbxl",
        f"ptbxl_dir={tmp_path}",
    )
    rules = {rule for rule, _ in planned_jobs(proc.stdout + proc.stderr)}
    assert {"ingest", "tune", "train"} <= rules
    assert not rules & {"generate_synthetic", "attribute", "score", "tables"}
    assert str(record) in proc.stdout + proc.stderr


def test_bad_config_fails_at_dag_build_naming_the_key(project):
    proc = snakemake(
        project,
        "-n",
        "--configfile",
        ".test/config.yaml",
        "--config",
        "evaluation={'threshold': 'global'}",
        check=False,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "['evaluation']['threshold']" in out and "'global'" in out


def test_unregistered_method_fails_naming_the_instance(project):
    proc = snakemake(
        project,
        "-n",
        "--configfile",
        ".test/config.yaml",
        "--config",
        "methods={'my_saliency': {'method': 'saliency_xyz'}}",
        check=False,
    )
    assert proc.returncode != 0 and "methods.my_saliency" in proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("run=..", "'..' does not match"),
        (
            "methods={'lime': {'num_samples': 'many'}}",
            "config key 'methods.lime.num_samples': must be a positive integer, got 'many'",
        ),
        ("dataset=ptbxl", "config key 'ptbxl_dir': dataset 'ptbxl' needs ptbxl_dir"),
        (
            "evaluation={'table4_method': 'integrated_gradients_normal_ref'}",
            "config key 'evaluation.table4_method'",
        ),
        (
            "methods={'imn_weights': {'architectures': ['resnet']}}",
            "config key 'methods.imn_weights.architectures': method 'imn_weights' is only "
            "defined for architecture(s) ['imn'], not 'resnet'",
        ),
        ("models={'tune_storage': 'optuna.db'}", "'optuna.db' does not match '^[a-z0-9+]+://'"),
    ],
)
def test_bad_values_fail_at_dag_build_naming_the_key(project, override, message):
    proc = snakemake(
        project, "-n", "--configfile", ".test/config.yaml", "--config", override, check=False
    )
    assert proc.returncode != 0 and message in proc.stdout + proc.stderr


def test_lint_is_clean(project):
    proc = snakemake(project, "--lint", "--configfile", ".test/config.yaml", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
