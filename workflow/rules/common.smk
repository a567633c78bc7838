"""Shared wiring: paths, grid dimensions, code hashes and config checks (no pipeline logic)."""

from pathlib import Path

from cinexai.config import check_config
from cinexai.io import module_hash, read_table

check_config(config)

RUN = config.get("run") or config["dataset"]
RES = f"results/{RUN}"
SEED = config["seed"]
MODALITIES = config["models"]["modalities"]
SOURCES = config["attribution"]["sources"]  # attributed directly with their own model
METHODS = list(config["methods"])  # named method instances
SCORED_SOURCES = SOURCES + (["mapped"] if config["attribution"]["mapped"] else [])
SCORED_METHODS = METHODS + (["oracle"] if "oracle" in config["evaluation"]["controls"] else [])
HAS_ANNOTATIONS = config["dataset"] == "synthetic" or config.get("annotations") is not None

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


def annotations_file():
    """The expert-annotation file: the user's, else the synthetic cohort's own, else none."""
    if config.get("annotations"):
        return config["annotations"]
    if config["dataset"] == "synthetic":
        return f"{RES}/synthetic-ptbxl/annotations.csv"
    return []


def code(*modules):
    """A hash of the package modules a rule runs, so editing them reruns only that rule's jobs."""
    return module_hash(*modules)


def logfile(name):
    return f"{RES}/logs/{name}.log"


def benchfile(name):
    return f"{RES}/benchmarks/{name}.tsv"
