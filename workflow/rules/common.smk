"""Shared wiring: paths, grid dimensions, code hashes and config checks (no pipeline logic).

Building the DAG imports no heavy library (torch, captum, shap, lime, matplotlib, plotly): the
registry reads method declarations from source and code hashes parse imports (cinexai.rerun).
"""

from pathlib import Path

import pyarrow.parquet as pq

from cinexai.attribution.registry import instance_modules, resolve
from cinexai.config import check_config
from cinexai.data.layout import record_files
from cinexai import rerun
from cinexai.rerun import canonical, code_hash, only

check_config(config)

RUN = config.get("run") or config["dataset"]
RES = f"results/{RUN}"
SEED = config["seed"]
MODALITIES = config["models"]["modalities"]
SOURCES = config["attribution"]["sources"]  # attributed directly with their own model
METHODS = list(config["methods"])  # named method instances
#: Latent-cluster instances (explained by explain_clusters with the fitted clusterer and forest),
#: and the K each needs; every other instance is run by the attribute rule.
CLUSTERS = config.get("clusters") or {}
CLUSTER_K = {
    m: int(resolve(m, config["methods"][m])[1]["n_clusters"])
    for m in METHODS
    if resolve(m, config["methods"][m])[0] == "latent_clusters"
}
CLUSTER_METHODS = list(CLUSTER_K)
ATTRIBUTE_METHODS = [m for m in METHODS if m not in CLUSTER_K]
SCORED_SOURCES = SOURCES + (["mapped"] if config["attribution"]["mapped"] else [])
SCORED_METHODS = METHODS + (["oracle"] if "oracle" in config["evaluation"]["controls"] else [])
HAS_ANNOTATIONS = config["dataset"] == "synthetic" or config.get("annotations") is not None

#: The paper's tables 1-5 and our controls table, each as .csv and .md.
TABLES = [f"table{i}" for i in range(1, 6)] + ["controls"]

#: Which signal file and model each source reads.
SIGNALS = {"ecg12": f"{RES}/data/windows.parquet", "cineecg": f"{RES}/data/cineecg.parquet"}


wildcard_constraints:
    modality="|".join(MODALITIES),
    source="ecg12|cineecg|mapped",
    method="[A-Za-z0-9_]+",
    pp="|".join(config["postprocessing"]),


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
    """One instance's config, canonical (key order does not rerun it)."""
    return canonical(config["methods"][wc.method])


def predictions_for(wc):
    """Model predictions behind a source: mapped attributions come from the 12-lead model."""
    modality = "ecg12" if wc.source in ("ecg12", "mapped") else wc.source
    return f"{RES}/models/{modality}/predictions.parquet"


def score_files(kind):
    """Every (source, method, post-processing) configuration's score or sweep file."""
    return expand(
        f"{RES}/scores/source={{source}}/method={{method}}/postprocessing={{pp}}/{kind}.parquet",
        source=SCORED_SOURCES,
        method=SCORED_METHODS,
        pp=config["postprocessing"],
    )


FIG = config["figures"]
#: Cases whose figures go into the report (the case index links every case).
FEATURED = [str(c) for c in FIG["featured_cases"]]
#: What render_case reads of the figure settings (not featured_cases: featuring one case does
#: not redraw the others).
FIGURE_CFG = only(
    FIG, "dpi", "mesh_resolution", "method", "paper_speed_mm_s", "postprocessing", "tick_ms"
)
#: The plotly.js that non-featured case pages share, in the cases folder.
PLOTLY_JS = "plotly.min.js"


def case_figures(wildcards=None):
    """One figure set per annotated case (known once the masks checkpoint has run) + featured ones."""
    masks = checkpoints.masks.get().output[0]
    annotated = pq.read_table(masks, columns=["case_id"]).column("case_id").to_pylist()
    cases = sorted({int(c) for c in annotated} | set(FIG["featured_cases"]))
    return expand(
        f"{RES}/figures/cases/{{case}}/{{name}}",
        case=cases,
        name=["ecg12.png", "cineecg.png", "cineecg.html"],
    )


def figure_attributions(wc):
    return expand(
        f"{RES}/attributions/source={{source}}/method={FIG['method']}/part-0.parquet",
        source=SCORED_SOURCES,
    )


def figure_scores(wc):
    return expand(
        f"{RES}/scores/source={{source}}/method={FIG['method']}/"
        f"postprocessing={FIG['postprocessing']}/part-0.parquet",
        source=SCORED_SOURCES,
    )


def alternatives(names):
    """A wildcard constraint matching exactly ``names`` (nothing when there are none)."""
    return "|".join(names) or "(?!)"


def cluster_instances(k):
    """The latent-cluster instances that share the fit with K = ``k``."""
    return [m for m, mk in CLUSTER_K.items() if mk == int(k)]


def cluster_state(wc):
    """The fitted clusterer and forest a latent-cluster instance explains a source with."""
    k = CLUSTER_K[wc.method]
    return f"{RES}/clusters/{wc.source}/k{k}/state.npz"


def synthetic_truth():
    """The synthetic generator's truth table (wave boundaries); none for real PTB-XL."""
    if config["dataset"] == "synthetic":
        return f"{RES}/synthetic-ptbxl/synthetic_truth.csv"
    return []


def cluster_fidelity_files(name):
    """One fidelity file ``name`` per (directly attributed modality, K)."""
    return expand(
        f"{RES}/clusters/{{modality}}/k{{k}}/{name}",
        modality=SOURCES,
        k=sorted(set(CLUSTER_K.values())),
    )


def contingency_figures():
    """One cluster x wave heat map per (modality, K) where the truth has wave boundaries."""
    if config["dataset"] != "synthetic":
        return []
    return expand(
        f"{RES}/figures/summary/clusters_contingency_{{modality}}_k{{k}}.png",
        modality=SOURCES,
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
    if "ecg12" in SOURCES:
        unweighted = [
            m for m in CLUSTER_METHODS if resolve(m, config["methods"][m])[1]["weighting"] == "none"
        ]
        targets += expand(f"{RES}/figures/clusters/{{method}}", method=unweighted)
    return targets


def final_targets():
    """The whole grid: models, then method x post-processing x source scores, tables and figures."""
    targets = expand(f"{RES}/models/{{modality}}/metrics.json", modality=MODALITIES)
    if not HAS_ANNOTATIONS:  # real PTB-XL without expert annotations: models only
        return targets
    targets += score_files("part-0")
    targets += expand(f"{RES}/tables/{{name}}.md", name=TABLES)
    targets += [f"{RES}/tables/agreement.md"]
    targets += [f"{RES}/figures/summary/dice_by_config.png", f"{RES}/figures/cases/index.html"]
    return targets + cluster_targets()
