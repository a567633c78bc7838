"""The paper-scale config and the wall-time projection (cinexai.scale,
benchmarks/project_paper_scale.py): arithmetic checked against values computed by hand."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cinexai import scale
from cinexai.config import load_config

REPO = Path(__file__).resolve().parents[1]
PAPER = REPO / "config" / "paper.yaml"


def test_paper_config_has_the_papers_settings() -> None:
    cfg = load_config(PAPER)
    assert cfg["data"]["n_records"] == 8000 and cfg["data"]["reference_pool"] == 150
    assert cfg["models"]["n_trials"] == 130 and cfg["synthetic"]["n_evaluation"] == 20
    m = cfg["methods"]
    assert (m["integrated_gradients"]["n_steps"], m["integrated_gradients"]["nt_samples"]) == (
        50,
        40,
    )
    assert m["kernel_shap"]["nsamples"] == 100 and m["lime"]["num_samples"] == 500
    assert scale.method_budget("integrated_gradients", m["integrated_gradients"]) == 2000


def test_paper_config_builds_a_dag(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "-n",
            "--cores",
            "8",
            "--snakefile",
            str(REPO / "Snakefile"),
            "--directory",
            str(tmp_path),
            "--configfile",
            str(PAPER),
            "--replace-workflow-config",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    jobs = scale.parse_dry_run(proc.stdout, "results/paper")
    tune = [j for j in jobs if j.rule == "tune"]
    assert {(j.wildcards["modality"], j.wildcards["arch"]) for j in tune} == {
        ("ecg12", "resnet"),
        ("cineecg", "resnet"),
    }
    assert all(j.threads == 8 for j in tune)
    assert len(tune) == 2 * 13  # tune_workers: 13 per modality
    # 4 paper methods + 4 controls, on 2 attributed sources, one architecture, 4 shards each
    assert sum(j.rule == "attribute" for j in jobs) == 2 * 8 * 4
    assert sum(j.rule == "gather_attribution" for j in jobs) == 2 * 8
    deps = scale.dependencies(jobs)
    train = next(i for i, j in enumerate(jobs) if j.rule == "train")
    best = [d for d in deps[train] if jobs[d].rule == "tune_best"]  # train <- tune_best <- tune
    assert len(best) == 1 and sum(jobs[d].rule == "tune" for d in deps[best[0]]) == 13


def _cfg(n_trials: int, n_steps: int) -> dict:
    return {
        "models": {"n_trials": n_trials, "tuning_epochs": 5},
        "methods": {
            "integrated_gradients": {"n_steps": n_steps, "nt_samples": 2},
            "random": {},
        },
    }


def _jobs() -> list[scale.Job]:
    data = "results/r/data/windows.parquet"
    model = "results/r/models/ecg12/resnet/best_params.json"
    attr = [f"results/r/attributions/{m}.parquet" for m in ("integrated_gradients", "random")]
    wc = {"source": "ecg12", "arch": "resnet"}
    return [
        scale.Job(
            "tune",
            "tune/ecg12/resnet",
            {"modality": "ecg12", "arch": "resnet"},
            2,
            (data,),
            (model,),
        ),
        scale.Job(
            "attribute",
            "attribute/ecg12/resnet/integrated_gradients",
            {**wc, "method": "integrated_gradients"},
            1,
            (model,),
            (attr[0],),
        ),
        scale.Job(
            "attribute",
            "attribute/ecg12/resnet/random",
            {**wc, "method": "random"},
            1,
            (model,),
            (attr[1],),
        ),
        scale.Job("tables", "tables", {}, 1, tuple(attr), ("results/r/tables/t.csv",)),
        scale.Job("agreement", "agreement", {}, 1, (), ("results/r/tables/a.json",)),
    ]


def test_projection_arithmetic_by_hand(tmp_path: Path) -> None:
    bench = tmp_path / "benchmarks"
    measured = {
        "tune/ecg12/resnet": 102.0,
        "attribute/ecg12/resnet/integrated_gradients": 12.0,
        "attribute/ecg12/resnet/random": 2.0,  # the cheapest job: start-up 2 s
        "tables": 7.0,
    }  # agreement: not measured
    for name, s in measured.items():
        path = bench / f"{name}.tsv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"s\th:m:s\tmax_rss\tcpu_time\n{s}\t0:00:00\t1.0\t{s / 2}\n")
    seconds = scale.read_benchmarks(bench)
    assert seconds == measured
    assert scale.read_benchmarks(bench, "cpu_time") == {k: s / 2 for k, s in measured.items()}

    # measured: 2 trials x 5 epochs x 10 windows; IG 4 x 2 evaluations x 5 cases
    facts_m = scale.Facts(20, 10, 5, {}, _cfg(n_trials=2, n_steps=4))
    costs = scale.measure(seconds, _jobs(), facts_m)
    assert costs.by_bench["tune/ecg12/resnet"] == pytest.approx((2, (102 - 2) / (2 * 5 * 10)))
    assert costs.by_bench["attribute/ecg12/resnet/integrated_gradients"] == pytest.approx(
        (2, (12 - 2) / (5 * 4 * 2))
    )  # start-up 2 s, 0.25 s per case and model evaluation
    assert costs.by_bench["tables"] == (7.0, 0.0)  # a fixed-cost rule
    assert costs.by_rule["attribute"] == pytest.approx((2, (0.25 + 0.0) / 2))

    # projected: 4 trials x 5 epochs x 20 windows; IG 10 x 2 evaluations x 10 cases
    facts_p = scale.Facts(40, 20, 10, {}, _cfg(n_trials=4, n_steps=10))
    proj = scale.project(costs, _jobs(), facts_p)
    assert proj.seconds == pytest.approx([2 + 1.0 * 400, 2 + 0.25 * 200, 2 + 0.0, 7.0, None])
    assert proj.missing == {"agreement": 1}
    table = proj.by_rule()
    assert table.loc["attribute", "total_s"] == pytest.approx(52 + 2)
    assert table.loc["tune", "own_measurement"] == 1 and pd.isna(table.loc["agreement", "total_s"])
    # one node of 2 cores: tune (402 s, both cores), then both attributions side by side
    # (IG 52 s), then tables (7 s); the unmeasured agreement counts 0 s
    assert proj.makespan(nodes=1, cores=2) == pytest.approx(402 + 52 + 7)

    # a second run (start-up 1 s) whose jobs are tuning only: its tune cost replaces the first's
    other = scale.measure({"tune/ecg12/resnet": 52.0, "tables": 1.0}, _jobs()[:1], facts_m)
    merged = costs.update(other)
    assert merged.by_bench["tune/ecg12/resnet"] == pytest.approx((1, (52 - 1) / 100))
    assert merged.by_bench["tables"] == (7.0, 0.0)  # not among its jobs: the first run's
    assert merged.seconds(_jobs()[0], facts_p) == pytest.approx(1 + 0.51 * 400)


def test_a_later_run_replaces_a_whole_rule() -> None:
    tiny = scale.Costs(
        {"tune/a": (1, 9.0), "tune/b": (1, 7.0), "tables": (7, 0)},
        {"tune": (1, 8.0), "tables": (7, 0)},
        {"tune/a": "tune", "tune/b": "tune", "tables": "tables"},
    )
    large = scale.Costs({"tune/a": (2, 0.5)}, {"tune": (2, 0.5)}, {"tune/a": "tune"})
    merged = tiny.update(large)
    assert merged.by_bench == {"tune/a": (2, 0.5), "tables": (7, 0)}  # tiny's tune/b dropped
    job_b = scale.Job("tune", "tune/b", {"modality": "b", "arch": "resnet"})
    facts = scale.Facts(1, 10, 1, {}, {"models": {"n_trials": 2, "tuning_epochs": 5}})
    assert merged.seconds(job_b, facts) == pytest.approx(2 + 0.5 * 2 * 5 * 10)  # large's mean


def test_a_tune_worker_costs_its_share_of_the_trials() -> None:
    """10 trials on 3 workers: shares 4, 3, 3 trials x 5 epochs x 10 windows; a tune job without
    a worker wildcard (measured before tune workers) ran the whole study."""
    cfg = _cfg(n_trials=10, n_steps=4)
    cfg["models"]["tune_workers"] = 3
    facts = scale.Facts(20, 10, 5, {}, cfg)
    wc = {"modality": "ecg12", "arch": "resnet"}
    sizes = [
        scale.size(
            scale.Job("tune", f"tune/ecg12/resnet/worker-{i}", {**wc, "worker": str(i)}), facts
        )
        for i in range(3)
    ]
    assert sizes == [4 * 5 * 10, 3 * 5 * 10, 3 * 5 * 10]
    assert scale.size(scale.Job("tune", "tune/ecg12/resnet", wc), facts) == 10 * 5 * 10
    # a one-worker run measured worker-0 (10 trials x 5 epochs x 10 windows, 2 s start-up): 0.2 s,
    # which every worker of a spread study pays for its own share
    costs = scale.measure(
        {"tune/ecg12/resnet/worker-0": 102.0, "tables": 2.0},
        [scale.Job("tune", "tune/ecg12/resnet/worker-0", {**wc, "worker": "0"})],
        scale.Facts(20, 10, 5, {}, _cfg(n_trials=10, n_steps=4)),
    )
    assert costs.by_bench == {"tune/ecg12/resnet": pytest.approx((2, 0.2))}
    job = scale.Job("tune", "tune/ecg12/resnet/worker-2", {**wc, "worker": "2"})
    assert costs.seconds(job, facts) == pytest.approx(2 + 0.2 * 150)


def test_an_attribution_shard_costs_its_cases() -> None:
    """7 cases in 3 shards of whole batches (as numpy.array_split): 3, 2, 2 cases x 8 model
    evaluations; each shard takes the unsharded job's cost per case and evaluation."""
    cfg = _cfg(n_trials=2, n_steps=4)
    cfg["attribution"] = {"cases_per_batch": 1, "shards": 3}
    facts = scale.Facts(20, 10, 7, {}, cfg)
    wc = {"source": "ecg12", "arch": "resnet", "method": "integrated_gradients", "shards": "3"}
    whole = "attribute/ecg12/resnet/integrated_gradients"
    jobs = [
        scale.Job("attribute", f"{whole}/shard-{i}-of-3", {**wc, "shard": str(i)}) for i in range(3)
    ]
    assert [scale.size(j, facts) for j in jobs] == [3 * 8, 2 * 8, 2 * 8]
    costs = scale.Costs({whole: (1.0, 0.5)}, {"attribute": (9.0, 9.0)}, {whole: "attribute"})
    assert [costs.seconds(j, facts) for j in jobs] == [1 + 12, 1 + 8, 1 + 8]


def test_list_scheduling_by_hand() -> None:
    no_deps: list[set[int]] = [set(), set(), set()]
    # one node of 2 cores: 3 s and 2 s start at 0, the other 2 s at 2 -> 4 s
    assert scale.schedule([3, 2, 2], [1, 1, 1], no_deps, nodes=1, cores=2) == 4
    assert scale.schedule([3, 2, 2], [1, 1, 1], no_deps, nodes=2, cores=2) == 3
    # 2-thread jobs on one node of 2 cores run one after the other
    assert scale.schedule([3, 2, 2], [2, 2, 2], no_deps, nodes=1, cores=2) == 7
    # longest remaining path first: C (1 s) leads to D (4 s), so C starts before A and B (2 s):
    # C 0-1, A 0-2, D 1-5, B 2-4 -> 5 s (A and B first would give 7 s)
    deps = [set(), set(), set(), {2}]
    assert scale.schedule([2, 2, 1, 4], [1, 1, 1, 1], deps, nodes=1, cores=2) == 5


def test_parse_dry_run() -> None:
    text = """
rule tune:
    input: results/p/data/windows.parquet, results/p/data/records.parquet
    output: results/p/models/ecg12/resnet/best_params.json
    jobid: 4
    benchmark: results/p/benchmarks/tune/ecg12/resnet.tsv
    wildcards: modality=ecg12, arch=resnet
    threads: 8
    resources: tmpdir=/tmp, gpu=0

localrule all:
    input: results/p/models/ecg12/resnet/best_params.json
    jobid: 0
"""
    (job,) = scale.parse_dry_run(text, "results/p")  # 'all' has no benchmark: not a cost
    assert job.rule == "tune" and job.bench == "tune/ecg12/resnet" and job.threads == 8
    assert job.wildcards == {"modality": "ecg12", "arch": "resnet"}
    assert job.inputs == ("results/p/data/windows.parquet", "results/p/data/records.parquet")
