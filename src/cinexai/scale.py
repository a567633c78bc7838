"""Project a config's wall time on N SLURM nodes from a finished run's benchmark files.

Why: the paper's settings (130 Optuna trials per modality, 8000 records, IG with 50 x 40 model
evaluations per case) cannot be run to find out what they cost; a finished smaller run measures
each job's wall seconds (Snakemake's ``benchmark:`` TSVs), and each job's cost scales with a work
size we know for both configs.

Cost model, per job (one row of :data:`SIZES`):

* every job pays a start-up cost ``startup`` (Python, Snakemake, imports): the run's cheapest job;
* the rest scales with the job's *work size*: trials x tuning epochs x training windows for
  ``tune`` (a tune worker's share of the trials), epochs x training windows for ``train``, cases
  x model evaluations per case (the method's budget, :func:`method_budget`) for ``attribute``,
  cases for the per-case rules, records for the data stages; a rule without a size costs what
  it cost (a fixed-cost job);
* the unit cost is ``(s - startup) / size`` of the measured job with the same benchmark file, else
  the mean over the measured jobs of the rule; a job of a rule that was never measured has no
  cost and is reported *missing* (its time is left out of the projection, never guessed);
* several runs can be combined (:meth:`Costs.update`): a rule a later run measured is taken from
  that run alone, e.g. tuning from the default run, attribution from the tiny one (a tiny run's
  per-window training cost is mostly fixed per-epoch overhead, so it overstates a large run's).

Scheduling: list scheduling of the DAG on N nodes of C cores (a job takes ``min(threads, C)``
cores of one node), ready jobs by longest remaining path first (critical-path priority).
"""

from __future__ import annotations

import heapq
import json
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cinexai.attribution.registry import resolve
from cinexai.attribution.run import shard_batches
from cinexai.models.tuning import worker_share


@dataclass
class Job:
    """One job of a dry run: its rule, benchmark file (relative to the run's benchmarks/),
    wildcards, threads, and the files it reads and writes (for the DAG's edges)."""

    rule: str
    bench: str
    wildcards: dict[str, str] = field(default_factory=dict)
    threads: int = 1
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Facts:
    """What a job's work size depends on, for one config (measured or projected)."""

    n_records: int  # development records (data stages)
    n_train: int  # training windows (tune, train)
    n_cases: int  # annotated evaluation cases (attribution, scoring, figures)
    epochs: Mapping[tuple[str, str], float]  # (modality, arch) -> training epochs
    config: Mapping[str, Any]


#: Registered method -> parameters whose product is its model evaluations per case.
BUDGET_KEYS: dict[str, tuple[str, ...]] = {
    "integrated_gradients": ("n_steps", "nt_samples"),
    "gradient_shap": ("n_samples",),
    "kernel_shap": ("nsamples",),
    "lime": ("num_samples",),
    "segment_kernel_shap": ("n_samples",),
    "segment_lime": ("n_samples",),
}


def method_budget(name: str, entry: Mapping[str, Any] | None) -> float:
    """Model evaluations per case of method instance ``name`` (1: one pass, or no model)."""
    method, params = resolve(name, entry)
    return float(math.prod(max(1, params[key] or 1) for key in BUDGET_KEYS.get(method, ())))


def _trials(wc: Mapping[str, str], cfg: Mapping[str, Any]) -> float:
    """Trials x tuning epochs of one tune job: its worker's share of ``n_trials``
    (``models.tune_workers``; a job without a worker wildcard ran the whole study)."""
    models = cfg["models"]
    n_trials = models["n_trials"]
    if "worker" in wc:
        n_trials = worker_share(n_trials, models.get("tune_workers", 1), int(wc["worker"]))
    return float(n_trials * models["tuning_epochs"])


def _cases(wc: Mapping[str, str], f: Facts) -> int:
    """Evaluation cases of one attribute job: its shard's (``attribution.shards``), else all."""
    if "shard" not in wc:
        return f.n_cases
    per_batch = f.config["attribution"].get("cases_per_batch", 1)
    part = shard_batches(f.n_cases, per_batch, int(wc["shard"]), int(wc["shards"]))
    return part.stop - part.start


#: A part of a spread job (a tune worker, an attribution shard) names itself at the end of its
#: benchmark file; all parts of a job share its unit cost, measured whole or as parts.
PART = re.compile(r"/(worker-\d+|shard-\d+-of-\d+)$")


def unit(bench: str) -> str:
    """The benchmark name of the whole job a part belongs to (``attribute/ecg12/resnet/lime``)."""
    return PART.sub("", bench)


#: rule -> work size of one of its jobs (None: a fixed-cost job).
SIZES: dict[str, Callable[[Mapping[str, str], Facts], float]] = {
    "tune": lambda wc, f: _trials(wc, f.config) * f.n_train,
    "train": lambda wc, f: f.epochs[(wc["modality"], wc["arch"])] * f.n_train,
    "attribute": lambda wc, f: (
        _cases(wc, f) * method_budget(wc["method"], f.config["methods"][wc["method"]])
    ),
    "map_to_cineecg": lambda wc, f: f.n_cases,
    "oracle": lambda wc, f: f.n_cases,
    "score": lambda wc, f: f.n_cases * len(f.config["postprocessing"]),
    "generate_synthetic": lambda wc, f: f.n_records,
    "ingest": lambda wc, f: f.n_records,
    "cineecg": lambda wc, f: f.n_records,
}


def size(job: Job, facts: Facts) -> float | None:
    fn = SIZES.get(job.rule)
    return None if fn is None else float(fn(job.wildcards, facts))


#: A job's cost: ``(a, b)`` -> ``a + b * size`` seconds (a fixed-cost job: ``(s, 0)``).
Cost = tuple[float, float]


@dataclass
class Costs:
    """Costs measured on finished runs, per benchmark file and per rule (the mean)."""

    by_bench: dict[str, Cost]
    by_rule: dict[str, Cost]
    rule_of: dict[str, str]  # benchmark file -> its rule

    def seconds(self, job: Job, facts: Facts) -> float | None:
        """Projected wall seconds of ``job`` under ``facts``; None when the rule was never
        measured."""
        cost = self.by_bench.get(unit(job.bench), self.by_rule.get(job.rule))
        if cost is None:
            return None
        work = size(job, facts)
        return cost[0] + cost[1] * (0.0 if work is None else work)

    def update(self, other: Costs) -> Costs:
        """These costs, with every rule ``other`` measured taken from ``other`` alone (a larger
        run's per-window or per-case costs carry less fixed overhead than a tiny run's)."""
        kept = {b: c for b, c in self.by_bench.items() if self.rule_of[b] not in other.by_rule}
        return Costs(
            {**kept, **other.by_bench},
            {**self.by_rule, **other.by_rule},
            {**self.rule_of, **other.rule_of},
        )


def read_benchmarks(bench_dir: Path, column: str = "s") -> dict[str, float]:
    """Seconds (``column``, last row: ``s`` wall, or ``cpu_time`` where the measuring machine was
    shared) of every benchmark TSV under ``bench_dir``, keyed by the path relative to it without
    the suffix (``attribute/ecg12/resnet/lime``)."""
    return {
        tsv.relative_to(bench_dir).with_suffix("").as_posix(): float(
            pd.read_csv(tsv, sep="\t")[column].iloc[-1]
        )
        for tsv in sorted(bench_dir.rglob("*.tsv"))
    }


def measure(seconds: Mapping[str, float], jobs: Iterable[Job], facts: Facts) -> Costs:
    """Costs from measured ``seconds`` per benchmark file of the measured run's ``jobs``; the
    start-up every job pays is the run's cheapest job."""
    startup = min(seconds.values())
    rule_of: dict[str, str] = {}
    per_rule: dict[str, list[Cost]] = defaultdict(list)
    parts: dict[str, list[Cost]] = defaultdict(list)  # whole job (unit) -> its measured parts
    for job in jobs:
        if job.bench not in seconds:
            continue
        work, s = size(job, facts), seconds[job.bench]
        cost = (s, 0.0) if work is None else (startup, max(s - startup, 0) / work)
        parts[unit(job.bench)].append(cost)
        rule_of[unit(job.bench)] = job.rule
        per_rule[job.rule].append(cost)
    return Costs(
        {name: _mean(costs) for name, costs in parts.items()},
        {rule: _mean(costs) for rule, costs in per_rule.items()},
        rule_of,
    )


def _mean(costs: list[Cost]) -> Cost:
    return (sum(a for a, _ in costs) / len(costs), sum(b for _, b in costs) / len(costs))


def dependencies(jobs: list[Job]) -> list[set[int]]:
    """For each job, the indices of the jobs that write one of its inputs."""
    writer = {out: i for i, job in enumerate(jobs) for out in job.outputs}
    return [
        {writer[f] for f in job.inputs if f in writer and writer[f] != i}
        for i, job in enumerate(jobs)
    ]


def schedule(
    durations: list[float], threads: list[int], deps: list[set[int]], nodes: int, cores: int
) -> float:
    """Makespan (s) of list-scheduling the DAG on ``nodes`` nodes of ``cores`` cores.

    A ready job starts on the first node with enough free cores (a job asks for
    ``min(threads, cores)``); among ready jobs the one with the longest remaining path
    (its duration plus its longest chain of dependants) goes first.
    """
    n = len(durations)
    children: list[list[int]] = [[] for _ in range(n)]
    for i, ds in enumerate(deps):
        for d in ds:
            children[d].append(i)
    rank = [0.0] * n
    for i in reversed(_toposort(deps)):
        rank[i] = durations[i] + max((rank[c] for c in children[i]), default=0.0)
    waiting = [len(ds) for ds in deps]
    ready = [(-rank[i], i) for i in range(n) if waiting[i] == 0]
    heapq.heapify(ready)
    free = [cores] * nodes
    running: list[tuple[float, int, int]] = []  # (end, job, node)
    now = 0.0
    while ready or running:
        blocked = []
        while ready:
            prio, i = heapq.heappop(ready)
            need = min(max(threads[i], 1), cores)
            node = next((k for k in range(nodes) if free[k] >= need), None)
            if node is None:
                blocked.append((prio, i))
                continue
            free[node] -= need
            heapq.heappush(running, (now + durations[i], i, node))
        for item in blocked:
            heapq.heappush(ready, item)
        end, i, node = heapq.heappop(running)
        now = end
        free[node] += min(max(threads[i], 1), cores)
        for c in children[i]:
            waiting[c] -= 1
            if waiting[c] == 0:
                heapq.heappush(ready, (-rank[c], c))
    return now


def _toposort(deps: list[set[int]]) -> list[int]:
    order, seen = [], set()

    def visit(i: int) -> None:
        if i in seen:
            return
        seen.add(i)
        for d in deps[i]:
            visit(d)
        order.append(i)

    for i in range(len(deps)):
        visit(i)
    return order


@dataclass
class Projection:
    """Projected seconds per job (None: missing), and the rules without a measurement."""

    jobs: list[Job]
    seconds: list[float | None]
    exact: list[bool]  # the job (whole or a part of it) was measured (else: its rule's mean)

    @property
    def missing(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for job, s in zip(self.jobs, self.seconds, strict=True):
            if s is None:
                out[job.rule] += 1
        return dict(out)

    def by_rule(self) -> pd.DataFrame:
        """Per rule: jobs, how many of them were measured themselves (the others take the rule's
        mean), projected wall seconds summed and the longest job's."""
        rows = [
            {"rule": j.rule, "s": s, "exact": e}
            for j, s, e in zip(self.jobs, self.seconds, self.exact, strict=True)
        ]
        frame = pd.DataFrame(rows)
        return frame.groupby("rule").agg(
            jobs=("s", "size"),
            own_measurement=("exact", "sum"),
            total_s=("s", lambda x: x.sum(min_count=1)),
            longest_s=("s", "max"),
        )

    def makespan(self, nodes: int, cores: int) -> float:
        durations = [0.0 if s is None else s for s in self.seconds]
        threads = [j.threads for j in self.jobs]
        return schedule(durations, threads, dependencies(self.jobs), nodes, cores)


def project(costs: Costs, jobs: list[Job], facts: Facts) -> Projection:
    return Projection(
        jobs,
        [costs.seconds(job, facts) for job in jobs],
        [unit(j.bench) in costs.by_bench for j in jobs],
    )


# ----------------------------------------------------------------------------------------------
# Facts and jobs of a config or a finished run

_BLOCK = re.compile(r"^\s*(?:local)?(?:rule|checkpoint) (\w+):\s*$")


def parse_dry_run(text: str, res: str) -> list[Job]:
    """Jobs of ``snakemake -n`` output (``res``: the run's results folder, e.g. results/paper)."""
    jobs: list[Job] = []
    fields: dict[str, str] = {}
    rule = None

    def flush() -> None:
        if rule is None or "benchmark" not in fields:
            return
        bench = fields["benchmark"]
        prefix = f"{res}/benchmarks/"
        wc = (
            dict(p.split("=", 1) for p in fields["wildcards"].split(", "))
            if "wildcards" in fields
            else {}
        )
        jobs.append(
            Job(
                rule,
                bench.removeprefix(prefix).removesuffix(".tsv"),
                wc,
                int(fields.get("threads", 1)),
                tuple(fields["input"].split(", ")) if "input" in fields else (),
                tuple(fields["output"].split(", ")) if "output" in fields else (),
            )
        )

    for line in text.splitlines():
        head = _BLOCK.match(line)
        if head:
            flush()
            rule, fields = head.group(1), {}
        elif rule is not None:
            m = re.match(r"^\s{4}(\w+): (.*)$", line)
            if m:
                fields[m.group(1)] = m.group(2)
    flush()
    return jobs


def config_facts(cfg: Mapping[str, Any]) -> Facts:
    """Work sizes a config asks for: training runs its full ``max_epochs`` (early stopping can
    only shorten it, so the projection is an upper bound there)."""
    n_records = int(cfg["data"]["n_records"])
    epochs = defaultdict(lambda: float(cfg["models"]["max_epochs"]))
    return Facts(
        n_records=n_records,
        n_train=round(n_records * cfg["data"]["split"][0]),
        n_cases=int(cfg["synthetic"]["n_evaluation"]),
        epochs=epochs,
        config=cfg,
    )


def run_facts(run: Path, cfg: Mapping[str, Any]) -> Facts:
    """Work sizes a finished run did: its records, training windows, cases and epochs."""
    from cinexai.io import read_table

    records = read_table(run / "data" / "records.parquet")
    included = records[records["included"]]
    masks = run / "data" / "masks.parquet"
    n_cases = (
        int(read_table(masks)["case_id"].nunique())
        if masks.exists()
        else int(cfg["synthetic"]["n_evaluation"])
    )
    epochs = {}
    for metrics in (run / "models").glob("*/*/metrics.json"):
        epochs[(metrics.parent.parent.name, metrics.parent.name)] = float(
            json.loads(metrics.read_text())["epochs"]
        )
    return Facts(
        n_records=int(len(included)),
        n_train=int((included["split"] == "train").sum()),
        n_cases=n_cases,
        epochs=epochs,
        config=cfg,
    )


def case_jobs(seconds: Mapping[str, float], facts: Facts, after: list[Job]) -> list[Job]:
    """The per-case figure jobs, which a dry run cannot list (they follow the masks checkpoint):
    the measured ones from their benchmark files (``figures/<case id>``), else one per case of
    ``facts`` reading the outputs of the ``after`` jobs."""
    measured = [b for b in seconds if re.fullmatch(r"figures/\d+", b)]
    if measured:
        return [Job("case_figures", b) for b in measured]
    reads = tuple(f for job in after for f in job.outputs)
    return [Job("case_figures", f"figures/case-{k}", inputs=reads) for k in range(facts.n_cases)]


def hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f}" if math.isfinite(seconds) else "-"
