"""Exact reruns on a finished tiny run: what a config or code edit makes a dry run plan.

The finished run is made by touching every output (no stage runs), so Snakemake holds each job's
recorded params and code hash exactly as after a real run; each test edits a copy and dry-runs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from workflow_helpers import copy_project, finish_by_touch, planned_jobs, snakemake

TINY = ("--configfile", ".test/config.yaml")
RANDOMIZED = "integrated_gradients_model_randomized"
#: The IMN's intrinsic instances of the tiny config (imn_weights on the imn architecture only).
IMN_INSTANCES = {"imn_weights", "imn_weights_raw", "imn_weights_model_randomized"}
DIRECT = ("ecg12", "cineecg")
#: Packages that building the DAG must not import.
HEAVY = ("torch", "captum", "shap", "lime", "sklearn", "matplotlib", "plotly", "optuna", "wfdb")


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    root = copy_project(tmp_path_factory.mktemp("finished"))
    finish_by_touch(root, *TINY)
    return root


@pytest.fixture
def project(finished, tmp_path) -> Path:
    """A copy of the finished run that a test may edit."""
    dest = tmp_path / "run"
    shutil.copytree(finished, dest, symlinks=True)
    return dest


def _planned(project: Path, *args: str) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
    proc = snakemake(project, "-n", *(args or TINY))
    jobs = planned_jobs(proc.stdout + proc.stderr)
    return {(rule, tuple(sorted(wc.items()))) for rule, wc in jobs if rule != "all"}


def _rules(planned: set) -> set[str]:
    return {rule for rule, _ in planned}


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1))


def test_a_finished_run_has_nothing_to_do_even_with_its_keys_reordered(project):
    assert _planned(project) == set()
    cfg = yaml.safe_load((project / ".test/config.yaml").read_text())
    reordered = project / "reordered.yaml"
    reordered.write_text(yaml.safe_dump(_reversed(cfg), sort_keys=False))
    assert list(yaml.safe_load(reordered.read_text())) != list(cfg)
    assert _planned(project, "--configfile", str(reordered)) == set()


def _reversed(value):
    if isinstance(value, dict):
        return {k: _reversed(value[k]) for k in reversed(list(value))}
    return value


def test_a_bootstrap_change_reruns_only_the_rules_that_read_it(project):
    path = project / ".test/config.yaml"
    cfg = yaml.safe_load(path.read_text())
    cfg["evaluation"]["bootstrap"]["n_resamples"] += 1
    path.write_text(yaml.safe_dump(cfg))
    # agreement also reads table1.csv, which tables rewrites; the scores do not rerun
    assert _rules(_planned(project)) == {
        "tables",
        "agreement",
        "summary_figures",
        "classifier_table",
    }


def test_editing_the_randomisation_reruns_only_the_randomised_controls_and_consumers(project):
    _edit(
        project / "src/cinexai/models/randomize.py",
        "    return fresh.eval()",
        "    fresh = fresh.float()\n    return fresh.eval()",
    )
    planned = _planned(project)
    attributed = {
        (w["source"], w["arch"], w["method"])
        for rule, wc in planned
        if rule == "attribute"
        for w in [dict(wc)]
    }
    # IG's control on both architectures; the IMN's re-initialised hypernetwork on the IMN
    assert attributed == {(s, a, RANDOMIZED) for s in DIRECT for a in ("resnet", "imn")} | {
        (s, "imn", "imn_weights_model_randomized") for s in DIRECT
    }
    per_method = [dict(wc)["method"] for rule, wc in planned if "method" in dict(wc)]
    assert per_method and set(per_method) == {RANDOMIZED, "imn_weights_model_randomized"}
    assert _rules(planned) == {
        "attribute",
        "map_to_cineecg",
        "score",  # the new maps' Dice ... deletion/insertion curves
        "tables",
        "agreement",
        "summary_figures",
    }


def test_editing_one_architectures_search_space_reruns_only_that_architecture(project):
    path = project / ".test/config.yaml"
    cfg = yaml.safe_load(path.read_text())
    cfg["models"]["architectures"]["imn"]["dropout"] = [0.0, 0.1]
    path.write_text(yaml.safe_dump(cfg))
    planned = _planned(project)
    assert {dict(wc)["arch"] for _, wc in planned if "arch" in dict(wc)} == {"imn"}
    assert {dict(wc)["modality"] for rule, wc in planned if rule == "tune"} == set(DIRECT)
    rules = _rules(planned)
    assert {"tune", "train", "attribute", "score", "classifier_table", "tables"} <= rules
    # the case figures draw the IMN's intrinsic map; the ResNet's latent clusters stay
    assert {"case_figures", "figure_index"} <= rules
    assert not rules & {"fit_clusters", "explain_clusters", "clusters_fidelity", "masks"}


def test_editing_the_intrinsic_method_reruns_only_its_instances_and_consumers(project):
    _edit(
        project / "src/cinexai/attribution/imn_weights.py",
        "    return phi.cpu().numpy()",
        "    phi = phi.float()\n    return phi.cpu().numpy()",
    )
    planned = _planned(project)
    per_method = {
        (dict(wc)["arch"], dict(wc)["method"]) for _, wc in planned if "method" in dict(wc)
    }
    assert per_method == {("imn", m) for m in IMN_INSTANCES}
    assert _rules(planned) == {
        "attribute",
        "map_to_cineecg",
        "score",  # the new maps' Dice ... deletion/insertion curves
        "tables",
        "agreement",
        "summary_figures",
        "case_figures",
        "figure_index",
    }


def test_comments_and_docstrings_rerun_nothing_and_a_code_edit_reruns_its_importers(project):
    """Code is hashed as its AST without docstrings (cinexai.rerun): a comment-only or
    docstring-only edit is not a change; models/augment.py, which no rule names, is."""
    checkpoint = project / "src/cinexai/models/checkpoint.py"
    _edit(checkpoint, '"""Safe model checkpoints', '"""Safe (weights-only) model checkpoints')
    checkpoint.write_text(checkpoint.read_text() + "\n# a comment-only edit\n")
    assert _planned(project) == set()
    _edit(
        project / "src/cinexai/models/augment.py",
        "from __future__ import annotations\n",
        "from __future__ import annotations\n\nEDITED = True\n",
    )
    rules = _rules(_planned(project))
    assert {"tune", "train", "attribute", "score"} <= rules
    assert not rules & {"generate_synthetic", "ingest", "cineecg", "masks", "oracle"}


def test_the_dag_is_built_without_importing_torch_or_other_heavy_packages(project, tmp_path):
    fake = tmp_path / "fake"
    for name in HEAVY:
        (fake / name).mkdir(parents=True)
        (fake / name / "__init__.py").write_text(f"raise ImportError('{name} imported')\n")
    proc = snakemake(project, "-n", *TINY, path_first=fake)
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_raising_replicates_on_a_finished_run_plans_only_the_new_replicate(project):
    """Replicate 0 is the finished run (same jobs, params and code): R = 2 adds replicate 1's
    model-and-after jobs and the spread table, and reruns none of the run's own jobs."""
    planned = _planned(project, *TINY, ".test/variants/replicates.yaml")
    rules = _rules(planned)
    assert {"tune_rep", "train_rep", "attribute_rep", "tables_rep", "replicate_table"} <= rules
    assert all(rule.endswith("_rep") or rule == "replicate_table" for rule in rules), rules
    assert {dict(wc).get("rep") for rule, wc in planned if rule != "replicate_table"} == {"1"}
