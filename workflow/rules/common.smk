"""Shared wiring: paths, grid dimensions, code hashes and config checks (no pipeline logic).

Building the DAG imports no heavy library (torch, captum, shap, lime, matplotlib, plotly): the
registry reads method declarations from source and code hashes parse imports (cinexai.rerun).
"""

import functools
from pathlib import Path

import pyarrow.parquet as pq

from cinexai import grid
from cinexai.attribution.registry import instance_modules, resolve
from cinexai.config import check_config
from cinexai.data.layout import record_files
from cinexai.evaluation.replicates import replicate_seed
from cinexai import rerun
from cinexai.rerun import canonical, code_hash, only

check_config(config)

RUN = config.get("run") or config["dataset"]
RES = f"results/{RUN}"
SEED = config["seed"]
#: Replicates (replicates.smk): replicate 0 is the run itself; r >= 1 reruns the models and
#: everything after them under RES/replicates/r{r}/ with its own seed, sharing the data stages.
REPLICATES = config["replicates"]
MODALITIES = config["models"]["modalities"]
#: Architectures (a grid dimension): every modality is tuned and trained once per architecture.
ARCHS = grid.architectures(config)
SOURCES = grid.attributed_sources(config)  # attributed directly with their own model
SCORED_SOURCES = grid.scored_sources(config)  # + the mapped source when attribution.mapped
METHODS = list(config["methods"])  # named method instances
#: Method instances that run on each architecture (imn_weights on imn, latent clusters on resnet).
ARCH_METHODS = {a: grid.grid_instances(config, a) for a in ARCHS}
#: Latent-cluster instances (explained by explain_clusters with the fitted clusterer and forest),
#: and the K each needs; every other instance is run by the attribute rule.
CLUSTERS = config.get("clusters") or {}
CLUSTER_K = {
    m: int(resolve(m, config["methods"][m])[1]["n_clusters"])
    for m in METHODS
    if resolve(m, config["methods"][m])[0] == "latent_clusters"
}
CLUSTER_METHODS = list(CLUSTER_K)
#: Architectures the latent clusters run on (the ResNet: they read its residual blocks).
CLUSTER_ARCHS = [a for a in ARCHS if a in grid.method_architectures("latent_clusters")]
ATTRIBUTE_METHODS = [m for m in METHODS if m not in CLUSTER_K]
HAS_ORACLE = "oracle" in config["evaluation"]["controls"]
HAS_ANNOTATIONS = config["dataset"] == "synthetic" or config.get("annotations") is not None

#: The paper's tables 1-5, our controls and explanation-families tables, each as .csv and .md.
TABLES = [f"table{i}" for i in range(1, 6)] + ["controls", "families"]

#: The signal file each model modality reads.
SIGNALS = {m: f"{RES}/data/{kind}.parquet" for m, kind in grid.MODALITY_SIGNALS.items()}


wildcard_constraints:
    modality="|".join(MODALITIES),
    arch="|".join(ARCHS),
    source="|".join(grid.SOURCES),
    method="[A-Za-z0-9_]+",
    worker=r"\d+",
    pp="|".join(config["postprocessing"]),
    rep=r"[1-9]\d*",


def dataset_dir():
    """The PTB-XL-layout folder: generated for the synthetic dataset, the user's for real PTB-XL."""
    if config["dataset"] == "synthetic":
        return f"{RES}/synthetic-ptbxl"
    return config["ptbxl_dir"].rstrip("/")


def ptbxl_record_files():
    """The files of a user's PTB-XL folder that ingest reads (replacing, adding or removing one
    reruns it); none for the synthetic dataset, whose folder is generate_synthetic's output."""
    if config["dataset"] == "synthetic":
        return []
    return record_files(dataset_dir(), config["data"]["sampling_rate"])


def annotations_file():
    """The expert-annotation file: the user's, else the synthetic cohort's own, else none."""
    if config.get("annotations"):
        return config["annotations"]
    if config["dataset"] == "synthetic":
        return f"{RES}/synthetic-ptbxl/annotations.csv"
    return []


SCRIPTS = Path(workflow.basedir) / "workflow" / "scripts"
rerun.CACHE_FILE = Path(".snakemake/cinexai/code-digests.json")  # parse only changed files


@functools.cache  # one hash per (script, modules) per DAG build: files do not change during it
def code(script, *modules):
    """Hash of the code a job runs -- its script, the script's import closure inside cinexai and
    ``modules`` (imported by name at run time); editing any of them reruns that rule's jobs."""
    return code_hash(SCRIPTS / f"{script}.py", *modules)


def logfile(name):
    return f"{RES}/logs/{name}.log"


def benchfile(name):
    return f"{RES}/benchmarks/{name}.tsv"


def method_code(wc):
    """Hash of the code one method instance runs: editing lime_method.py reruns only LIME's jobs,
    editing models/randomize.py only the model-randomised instances."""
    return code("attribute", *instance_modules(wc.method, config["methods"][wc.method]))


def method_cfg(wc):
    """One instance's config, canonical (key order does not rerun it), without its
    ``architectures`` (the grid reads it: narrowing them does not rerun the remaining jobs)."""
    entry = config["methods"][wc.method] or {}
    return canonical({k: v for k, v in entry.items() if k != "architectures"})


def model_file(name):
    """Input function: ``{RES}/models/{modality}/{arch}/{name}`` of the model behind a source."""

    def path(wc):
        modality = grid.source(wc.source).modality if "source" in wc.keys() else wc.modality
        return f"{RES}/models/{modality}/{wc.arch}/{name}"

    return path


def tune_cfg(wc):
    """What tune reads of ``config["models"]``, with only this job's architecture's search space
    (editing another architecture's space does not rerun it)."""
    return {
        **only(
            config["models"],
            "augment",
            "device",
            "n_trials",
            "tune_workers",
            "tuning_epochs",
            where="models",
        ),
        "architectures": canonical({wc.arch: grid.search_space(config, wc.arch)}),
    }


def tune_storage(wc):
    """The study all tune workers of (modality, arch) share: the user's RDB URL (one study name
    per (modality, arch, search) in it), else a journal file beside the models."""
    return config["models"]["tune_storage"] or f"{RES}/models/{wc.modality}/{wc.arch}/study.journal"


def tune_workers(wc):
    """The tune worker reports of (modality, arch), one per ``models.tune_workers``."""
    return [
        f"{RES}/models/{wc.modality}/{wc.arch}/tune/worker-{i}.json"
        for i in range(config["models"]["tune_workers"])
    ]


def source_signals(wc):
    """The signal file the model of source ``wc.source`` reads."""
    return SIGNALS[grid.source(wc.source).modality]


def scored_cells():
    """Every scored (source, arch, method instance) of the grid, the oracle control included."""
    return [
        (source, arch, method)
        for arch in ARCHS
        for method in ARCH_METHODS[arch] + (["oracle"] if HAS_ORACLE else [])
        for source in SCORED_SOURCES
    ]


def score_inputs(wc):
    """Attributions, masks and the predictions of the model behind the source; for a directly
    attributed source also the signals, records and model (faithfulness), from grid.py's facts.

    A mapped source has no faithfulness (its maps live in CineECG space but explain the 12-lead
    model): the stage writes the reason instead, so it needs no model.
    """
    files = {
        "attributions": attribution_file(wc.source, wc.arch, wc.method),
        "masks": f"{RES}/data/masks.parquet",
        "predictions": model_file("predictions.parquet")(wc),
    }
    if not grid.source(wc.source).mapped:
        files["signals"] = source_signals(wc)
        files["records"] = f"{RES}/data/records.parquet"
        files["model"] = model_file("model.pt")(wc)
    return files


#: One attribution file per (source, arch, method), and per post-processing of it one score,
#: sweep or faithfulness file (``kind``).
ATTRIBUTION = f"{RES}/attributions/source={{source}}/arch={{arch}}/method={{method}}/part-0.parquet"
SCORE_FILE = f"{RES}/scores/source={{source}}/arch={{arch}}/method={{method}}/postprocessing={{pp}}/{{kind}}.parquet"


def attribution_file(source="{source}", arch="{arch}", method="{method}"):
    """ATTRIBUTION with the parts given filled in (the others stay wildcards)."""
    return ATTRIBUTION.format(source=source, arch=arch, method=method)


def scored_files(kind):
    """Output pattern of one score job: its ``kind`` file under every post-processing."""
    return expand(SCORE_FILE, kind=kind, pp=config["postprocessing"], allow_missing=True)


def score_files(kind):
    """Every (source, arch, method, post-processing) configuration's ``kind`` file."""
    return [
        SCORE_FILE.format(source=s, arch=a, method=m, pp=pp, kind=kind)
        for s, a, m in scored_cells()
        for pp in config["postprocessing"]
    ]


def model_files(name):
    """``name`` (metrics.json, predictions.parquet) of every (modality, architecture) model."""
    return expand(f"{RES}/models/{{modality}}/{{arch}}/{name}", modality=MODALITIES, arch=ARCHS)


FIG = config["figures"]
#: Cases whose figures go into the report (the case index links every case).
FEATURED = [str(c) for c in FIG["featured_cases"]]
#: What render_case reads of the figure settings (not featured_cases: featuring one case does
#: not redraw the others).
FIGURE_CFG = only(
    FIG,
    "architecture",
    "dpi",
    "intrinsic_method",
    "mesh_resolution",
    "method",
    "paper_speed_mm_s",
    "postprocessing",
    "tick_ms",
    where="figures",
)
#: The plotly.js that non-featured case pages share, in the cases folder.
PLOTLY_JS = "plotly.min.js"
#: The (arch, method instance) pairs a case figure draws: figures.method on figures.architecture,
#: and the IMN's intrinsic map when figures.intrinsic_method is set.
FIGURE_METHODS = {"method": (FIG["architecture"], FIG["method"])}
if FIG["intrinsic_method"]:
    FIGURE_METHODS["intrinsic"] = (
        grid.method_architectures("imn_weights")[0],
        FIG["intrinsic_method"],
    )


def case_figures(wildcards=None):
    """One figure set per annotated case (known once the masks checkpoint has run) + featured ones."""
    masks = checkpoints.masks.get().output[0]
    annotated = pq.read_table(masks, columns=["case_id"]).column("case_id").to_pylist()
    cases = sorted({int(c) for c in annotated} | set(FIG["featured_cases"]))
    return expand(
        f"{RES}/figures/cases/{{case}}/{{name}}",
        case=cases,
        name=["ecg12.png", "cineecg.png", "cineecg.html", "compare.png"],
    )


def figure_predictions():
    """The predictions of every modality's model on each architecture the figures draw."""
    return expand(
        f"{RES}/models/{{modality}}/{{arch}}/predictions.parquet",
        modality=MODALITIES,
        arch=sorted({arch for arch, _ in FIGURE_METHODS.values()}),
    )


def figure_inputs(kind):
    """Declared attribution or score files of every figure method on every scored source,
    as ``{role}_{source}`` -> path (roles: method, intrinsic)."""
    out = {}
    for role, (arch, method) in FIGURE_METHODS.items():
        for source in SCORED_SOURCES:
            out[f"{role}_{source}"] = (
                attribution_file(source, arch, method)
                if kind == "attributions"
                else SCORE_FILE.format(
                    source=source, arch=arch, method=method, pp=FIG["postprocessing"], kind="part-0"
                )
            )
    return out


def alternatives(names):
    """A wildcard constraint matching exactly ``names`` (nothing when there are none)."""
    return "|".join(names) or "(?!)"


def cluster_instances(k):
    """The latent-cluster instances that share the fit with K = ``k``."""
    return [m for m, mk in CLUSTER_K.items() if mk == int(k)]


def cluster_state(wc):
    """The fitted clusterer and forest a latent-cluster instance explains a source with."""
    k = CLUSTER_K[wc.method]
    return f"{RES}/clusters/{grid.source(wc.source).modality}/{wc.arch}/k{k}/state.npz"


def synthetic_truth():
    """The synthetic generator's truth table (wave boundaries); none for real PTB-XL."""
    if config["dataset"] == "synthetic":
        return f"{RES}/synthetic-ptbxl/synthetic_truth.csv"
    return []


def cluster_fidelity_files(name):
    """One fidelity file ``name`` per (directly attributed modality, cluster arch, K)."""
    return expand(
        f"{RES}/clusters/{{modality}}/{{arch}}/k{{k}}/{name}",
        modality=[grid.source(s).modality for s in SOURCES],
        arch=CLUSTER_ARCHS,
        k=sorted(set(CLUSTER_K.values())),
    )


def contingency_figures():
    """One cluster x wave heat map per (modality, arch, K) where the truth has wave boundaries."""
    if config["dataset"] != "synthetic":
        return []
    return expand(
        f"{RES}/figures/summary/clusters_contingency_{{modality}}_{{arch}}_k{{k}}.png",
        modality=[grid.source(s).modality for s in SOURCES],
        arch=CLUSTER_ARCHS,
        k=sorted(set(CLUSTER_K.values())),
    )


def cluster_checks():
    """The clusters' checks.json entries, merged by the tables rule (none without instances)."""
    return [f"{RES}/tables/clusters_checks.json"] if CLUSTER_METHODS else []


def cluster_targets():
    """Fidelity table, heat maps and case figures (one per K: weighting does not change them)."""
    if not CLUSTER_METHODS:
        return []
    targets = [f"{RES}/tables/clusters_fidelity.md", *contingency_figures()]
    if grid.ECG12 in SOURCES:
        unweighted = [
            m for m in CLUSTER_METHODS if resolve(m, config["methods"][m])[1]["weighting"] == "none"
        ]
        targets += expand(
            f"{RES}/figures/clusters/{{arch}}/{{method}}", arch=CLUSTER_ARCHS, method=unweighted
        )
    return targets


def replicate_path(path, rep="{rep}"):
    """``path`` of replicate ``rep``: ``RES/x`` -> ``RES/replicates/r{rep}/x``, except the data
    stages' files (``RES/data``, the synthetic cohort) that every replicate shares."""
    shared = (f"{RES}/data/", f"{RES}/synthetic-ptbxl/")
    if not path.startswith(f"{RES}/") or path.startswith(shared):
        return path
    return f"{RES}/replicates/r{rep}/{path[len(RES) + 1:]}"


def in_replicate(files):
    """A rule's files moved into replicate ``{rep}``: a path, a list or dict of paths, a
    Snakemake file list (``rules.X.input``, names kept) or an input function (its paths moved
    into replicate ``wc.rep`` once it is called with the job's wildcards)."""
    if hasattr(files, "items"):
        files = dict(files.items()) if list(files.keys()) else list(files)
    return _moved(files, "{rep}")


def _moved(files, rep):
    if callable(files):
        return lambda wc: _moved(files(wc), wc.rep)
    if isinstance(files, str):
        return replicate_path(files, rep)
    if isinstance(files, dict):
        return {name: _moved(f, rep) for name, f in files.items()}
    return [_moved(f, rep) for f in files]


def rep_seed(wc):
    """The seed of replicate ``wc.rep`` (cinexai.evaluation.replicates.replicate_seed)."""
    return replicate_seed(SEED, int(wc.rep))


def replicate_tables(name):
    """``tables/{name}`` of every replicate, replicate 0 (the run itself) first."""
    path = f"{RES}/tables/{name}"
    return [path] + [replicate_path(path, r) for r in range(1, REPLICATES)]


def final_targets():
    """The whole grid: models per (modality, arch) and their classifier table, then source x arch x
    method x post-processing scores, tables and figures."""
    targets = model_files("metrics.json") + [f"{RES}/tables/classifier.md"]
    if not HAS_ANNOTATIONS:  # real PTB-XL without expert annotations: models only
        return targets
    targets += score_files("part-0")
    targets += expand(f"{RES}/tables/{{name}}.md", name=TABLES)
    targets += [f"{RES}/tables/agreement.md"]
    targets += [f"{RES}/figures/summary/dice_by_config.png", f"{RES}/figures/cases/index.html"]
    if REPLICATES > 1:
        targets += [f"{RES}/tables/replicates.md"]
    return targets + cluster_targets()
