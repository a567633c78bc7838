"""The whole grid on the tiny config, then rerun semantics and the Snakemake report.

One session-scoped run (conftest.py; a few minutes on 2 cores) feeds every test here and the
SLURM comparison (test_slurm_grid.py).
"""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pandas as pd
import pytest
import yaml
from workflow_helpers import planned_jobs, snakemake

from cinexai import grid, io
from cinexai.config import validate_schema
from cinexai.evaluation.replicates import replicate_seed

pytestmark = pytest.mark.slow
RES = "results/tiny"


@pytest.fixture(scope="module")
def project(tiny_run):
    """The shared tiny run (conftest.py); the tests here may edit its code and restore it."""
    return tiny_run


def _tiny(project):
    return yaml.safe_load((project / ".test" / "config.yaml").read_text())


def test_data_stage_outputs_and_exclusions(project):
    records = io.read_table(project / RES / "data" / "records.parquet")
    exclusions = io.read_table(project / RES / "data" / "exclusions.parquet")
    windows = io.read_signals(project / RES / "data" / "windows.parquet")
    cine = io.read_signals(project / RES / "data" / "cineecg.parquet")
    assert windows.X.shape[1:] == (12, 200) and cine.X.shape[1:] == (3, 200)
    assert list(windows.ids) == list(cine.ids)
    # every record is either windowed or excluded with a reason: nothing dropped silently
    included = set(records.loc[records["included"], "ecg_id"])
    assert included == set(windows.ids)
    assert set(records.loc[~records["included"], "ecg_id"]) <= set(exclusions["ecg_id"])
    assert exclusions["reason"].str.len().gt(0).all()
    assert len(exclusions) >= _tiny(project)["synthetic"]["n_defective"]
    assert (records["split"] == "evaluation").sum() == _tiny(project)["synthetic"]["n_evaluation"]


def test_every_grid_cell_has_attributions_scores_and_provenance(project):
    """Every (source, arch, instance) the grid expands (grid.py), the oracle included."""
    cfg = _tiny(project)
    validate_schema(cfg)
    n_cases = cfg["synthetic"]["n_evaluation"]
    cells = 0
    for arch in grid.architectures(cfg):
        for method in grid.grid_instances(cfg, arch) + ["oracle"]:
            for source in grid.scored_sources(cfg):
                base = f"source={source}/arch={arch}/method={method}"
                path = project / RES / "attributions" / base / "part-0.parquet"
                table = io.read_table(path)
                assert table["case_id"].nunique() == n_cases, path
                assert table["phi"].notna().all()
                meta = io.read_metadata(path)
                if method != "oracle":
                    assert meta["seed"] == cfg["seed"] and len(meta["model_sha256"]) == 64
                    assert meta["arch"] == arch
                for pp in cfg["postprocessing"]:
                    scores = io.read_table(
                        project / RES / "scores" / base / f"postprocessing={pp}" / "part-0.parquet"
                    )
                    assert len(scores) == n_cases and set(scores["arch"]) == {arch}
                    assert scores["dice"].between(0, 1).all()
                    # undefined (e.g. Quantus refuses a constant map): NaN exactly where a reason is given
                    loc, undefined = scores["localisation_auc"], scores["localisation_reason"] != ""
                    assert loc[~undefined].between(0, 1).all() and loc[undefined].isna().all()
                    faith = io.read_table(
                        project
                        / RES
                        / "scores"
                        / base
                        / f"postprocessing={pp}"
                        / "faithfulness.parquet"
                    )
                    assert len(faith) == n_cases and set(faith["arch"]) == {arch}
                    if grid.source(source).mapped:  # not defined there: missing, with the reason
                        assert faith["deletion_auc"].isna().all()
                        assert faith["faithfulness_reason"].str.contains("mapped").all()
                    else:
                        assert faith["deletion_auc"].between(0, 1).all()
                        assert faith["insertion_auc"].between(0, 1).all()
                cells += 1
    # ResNet: 11 attributed instances + 2 latent-cluster ones + the oracle; IMN: 5 + 3 imn_weights
    # instances + the oracle (.test narrows KernelSHAP, LIME, the segment methods and the input
    # maps to the ResNet)
    assert cells == 3 * ((11 + 2 + 1) + (8 + 1))  # both architectures are in the grid


def test_both_architectures_trained_and_the_imn_explains_itself(project):
    for modality in ("ecg12", "cineecg"):
        for arch in ("resnet", "imn"):
            metrics = json.loads(
                (project / RES / "models" / modality / arch / "metrics.json").read_text()
            )
            assert metrics["architecture"] == arch and metrics["epochs"] >= 1
    assert (
        json.loads((project / RES / "models/ecg12/imn/metrics.json").read_text())["arch"][
            "l1_lambda"
        ]
        > 0
    )
    meta = io.read_metadata(
        project / RES / "attributions/source=ecg12/arch=imn/method=imn_weights/part-0.parquet"
    )
    assert meta["eq1"].startswith("intrinsic") and meta["registered_method"] == "imn_weights"
    tables = project / RES / "tables"
    classifier = pd.read_csv(tables / "classifier.csv")
    assert {(r.modality, r.arch) for r in classifier.itertuples()} == {
        (m, a) for m in ("ecg12", "cineecg") for a in ("resnet", "imn")
    }
    families = pd.read_csv(tables / "families.csv")
    assert "intrinsic (imn)" in set(families["family"])
    assert {"resnet", "imn"} <= set(pd.read_csv(tables / "table4.csv")["arch"])


def test_tables_controls_and_figures_exist(project):
    tables = project / RES / "tables"
    for name in [f"table{i}" for i in range(1, 6)] + ["controls", "families", "classifier"]:
        assert (tables / f"{name}.csv").stat().st_size > 0
        assert "|" in (tables / f"{name}.md").read_text()
    checks = json.loads((tables / "checks.json").read_text())
    assert checks["oracle_near_one"] is True  # the metric path works even on the tiny cohort
    cases = io.read_table(project / RES / "data" / "masks.parquet")["case_id"].unique()
    for case in cases:
        for name in ("ecg12.png", "ecg12.svg", "cineecg.png", "cineecg.html", "compare.png"):
            assert (project / RES / "figures" / "cases" / str(case) / name).stat().st_size > 0
    assert (tables / "threshold_curves.csv").stat().st_size > 0
    assert (project / RES / "figures" / "summary" / "dice_by_config.png").exists()
    figures = project / RES / "figures" / "cases"
    index = (figures / "index.html").read_text()
    assert index.count('src="data:image/png;base64,') == len(cases)  # one thumbnail per case
    assert (figures / "plotly.min.js").stat().st_size > 1_000_000  # the one shared copy
    assert 'src="../plotly.min.js"' in (figures / str(cases[0]) / "cineecg.html").read_text()
    agreement = json.loads((tables / "agreement.json").read_text())
    assert agreement["annotators"] == ["synthetic-rater2", "synthetic-truth"]
    ceiling = agreement["human_ceiling"]["12-Lead Signal"]
    assert 2 <= ceiling["n"] <= _tiny(project)["synthetic"]["n_evaluation"]
    assert 0 < ceiling["annotator_dice"] < 1  # jitter, a missed lead, extra segments


def test_latent_clusters_are_explained_checked_and_drawn(project):
    cfg = _tiny(project)
    instances = {
        m: e["n_clusters"]
        for m, e in cfg["methods"].items()
        if e.get("method") == "latent_clusters"
    }
    assert instances, "the tiny config must run the latent-cluster family"
    for method, k in instances.items():
        path = (
            project
            / RES
            / "attributions"
            / "source=ecg12"
            / "arch=resnet"
            / f"method={method}"
            / "part-0.parquet"
        )
        table = io.read_table(path)
        assert table["uncertainty"].between(0, np.log(k) + 1e-6).all()
        assert table["cluster"].between(0, k - 1).all()
    tables = project / RES / "tables"
    checks = json.loads((tables / "checks.json").read_text())["clusters_checks"]
    models = {f"{s}_k{k}" for s in cfg["attribution"]["sources"] for k in instances.values()}
    assert set(checks["by_model"]) == models
    for entry in checks["by_model"].values():
        assert 0 <= entry["agreement"] <= 1 and -1 <= entry["landmark_ami"] <= 1
    assert "| ecg12 |" in (tables / "clusters_fidelity.md").read_text()
    # the family competes in the tables like any method
    assert "latent_clusters" in set(pd.read_csv(tables / "table3.csv")["attribution"])
    figures = project / RES / "figures"
    for name in models:
        modality, k = name.rsplit("_", 1)
        contingency = figures / "summary" / f"clusters_contingency_{modality}_resnet_{k}.png"
        assert contingency.stat().st_size
    cases = io.read_table(project / RES / "data" / "masks.parquet")["case_id"].unique()
    for method in ("latent_clusters_k4", "latent_clusters_k8"):
        assert {p.stem for p in (figures / "clusters" / "resnet" / method).glob("*.png")} == {
            str(c) for c in cases
        }


def test_every_rule_wrote_a_benchmark_and_a_log(project):
    benches = list((project / RES / "benchmarks").rglob("*.tsv"))
    logs = list((project / RES / "logs").rglob("*.log"))
    for rule in ("generate_synthetic", "ingest", "cineecg", "masks", "tables"):
        assert any(p.stem == rule for p in benches), rule
        assert any(p.stem == rule for p in logs), rule
    assert len(benches) == len(logs)


def test_nothing_to_do_after_a_complete_run(project):
    proc = snakemake(project, "-n", "--configfile", ".test/config.yaml")
    assert planned_jobs(proc.stdout + proc.stderr) == []


def _lime_only(jobs):
    assert jobs, "a change to LIME must rerun its jobs"
    for rule, wc in jobs:
        if rule in ("attribute", "map_to_cineecg", "score"):
            assert wc["method"] == "lime", (rule, wc)
        else:
            assert rule in ("tables", "agreement", "summary_figures", "all"), rule
    assert {(r, w.get("source")) for r, w in jobs if r == "attribute"} == {
        ("attribute", "ecg12"),
        ("attribute", "cineecg"),
    }


def test_changing_one_method_parameter_reruns_only_that_method(project):
    cfg = _tiny(project)
    lime = dict(cfg["methods"]["lime"], num_samples=cfg["methods"]["lime"]["num_samples"] + 1)
    override = project / "override.yaml"
    override.write_text(
        yaml.safe_dump({**cfg, "methods": {**cfg["methods"], "lime": lime}}, sort_keys=False)
    )  # key order is part of params
    proc = snakemake(project, "-n", "--configfile", str(override))
    _lime_only(planned_jobs(proc.stdout + proc.stderr))


def test_editing_one_method_module_reruns_only_that_method(project):
    from cinexai.attribution.registry import module_of

    module = project / "src" / (module_of("lime").replace(".", "/") + ".py")
    original = module.read_text()
    module.write_text(
        original + "\nEDITED = True  # a code edit (a comment alone reruns nothing)\n"
    )
    try:
        proc = snakemake(project, "-n", "--configfile", ".test/config.yaml")
        _lime_only(planned_jobs(proc.stdout + proc.stderr))
    finally:
        module.write_text(original)


def test_snakemake_report_collects_tables_and_figures(project):
    snakemake(project, "--configfile", ".test/config.yaml", "--report", "report.zip")
    assert (project / "report.zip").stat().st_size > 10_000
    with zipfile.ZipFile(project / "report.zip") as report:
        names = report.namelist()
    assert any(n.endswith("/index.html") and "/data/raw/" in n for n in names), names
    # no case is featured in the tiny config: no per-case figure is in the report
    assert not any(n.endswith(("/ecg12.png", "/cineecg.html")) for n in names), names


def test_input_maps_and_segment_methods_run_in_the_grid(project):
    """|x| and the deviation map are controls like random; the segment methods are scored."""
    tables = project / RES / "tables"
    controls = pd.read_csv(tables / "controls.csv")
    targets = set(controls.loc[controls.control == "random", "modality"])
    assert len(targets) == 2
    for name in ("input_amplitude", "input_deviation"):
        assert set(controls.loc[controls.control == name, "modality"]) == targets, name
    checks = json.loads((tables / "checks.json").read_text())
    assert checks["best_beats_input_maps"] in (True, False)
    for target in checks["per_target"].values():
        assert set(target["input_map_dice_high"]) == {"input_amplitude", "input_deviation"}
        assert not {"input_amplitude", "input_deviation"} & set(target["randomized_gap"])
    for source in ("ecg12", "cineecg", "mapped"):
        for method in ("segment_kernel_shap", "segment_lime"):  # narrowed to the ResNet in .test
            part = project / RES / f"scores/source={source}/arch=resnet/method={method}"
            assert (part / "postprocessing=absolute/part-0.parquet").exists(), (source, method)
        part = project / RES / f"scores/source={source}/arch=resnet/method=input_deviation"
        assert (part / "postprocessing=absolute/part-0.parquet").exists(), source
    truth = pd.read_csv(project / RES / "synthetic-ptbxl/synthetic_truth.csv")
    assert "variants" in truth.columns


def test_replicates_rerun_under_their_own_seed_and_report_the_spread(project):
    """R = 2 on the finished tiny run: only replicate 1 (models onwards) and the spread run."""
    variant = (".test/config.yaml", ".test/variants/replicates.yaml")
    target = f"{RES}/tables/replicates.md"  # before --configfile, which takes a list
    plan = snakemake(project, target, "-n", "--configfile", *variant)
    rules = {rule for rule, _ in planned_jobs(plan.stdout + plan.stderr)}
    assert "replicate_table" in rules and "tune_rep" in rules
    assert not {"generate_synthetic", "ingest", "cineecg", "masks", "tune", "tables"} & rules
    snakemake(project, target, "--cores", "2", "--configfile", *variant)
    seed = _tiny(project)["seed"]
    r1 = replicate_seed(seed, 1)
    assert r1 != seed
    rep = project / RES / "replicates" / "r1"
    meta = io.read_metadata(
        rep / "attributions/source=ecg12/arch=resnet/method=integrated_gradients/part-0.parquet"
    )
    assert meta["seed"] == r1
    assert json.loads((rep / "models/ecg12/resnet/metrics.json").read_text())["seed"] == r1
    assert json.loads((rep / "tables/checks.json").read_text())["seed"] == r1
    table = pd.read_csv(project / RES / "tables" / "replicates.csv")
    table1 = pd.read_csv(project / RES / "tables" / "table1.csv")
    best = table[table["table"] == "table1"].set_index("modality")
    assert set(best.index) == set(table1["modality"])
    for row in table1.itertuples():  # replicate 0 is the run itself
        assert best.loc[row.modality, "r0"] == pytest.approx(row.dice)
    assert best["r1"].between(0, 1).all() and (best["n"] == 2).all()
    assert (best["min"] <= best["mean"]).all() and (best["mean"] <= best["max"]).all()
    cfg = _tiny(project)
    models = len(cfg["models"]["modalities"]) * len(cfg["models"]["architectures"])
    assert (table["table"] == "classifier").sum() == 2 * models  # AUROC, accuracy per model
    assert f"r0: {seed}, r1: {r1}" in (project / RES / "tables" / "replicates.md").read_text()
