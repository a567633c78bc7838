"""cinexai: the cross-modal ECG explainability grid.

method x post-processing x source -> Parquet jobs -> optimised subsets -> bootstrap tables.
Each stage lives in workflow/rules/<stage>.smk; all logic lives in src/cinexai/.
"""

from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/synthetic.smk"
include: "workflow/rules/ingest.smk"
include: "workflow/rules/cineecg.smk"
include: "workflow/rules/models.smk"
include: "workflow/rules/attribution.smk"
include: "workflow/rules/evaluation.smk"
include: "workflow/rules/figures.smk"


def final_targets():
    """The whole grid: models, then method x post-processing x source scores, tables and figures."""
    targets = expand(f"{RES}/models/{{modality}}/metrics.json", modality=MODALITIES)
    if not HAS_ANNOTATIONS:  # real PTB-XL without expert annotations: models only
        return targets
    targets += expand(
        f"{RES}/scores/source={{source}}/method={{method}}/postprocessing={{pp}}/part-0.parquet",
        source=SCORED_SOURCES, method=SCORED_METHODS, pp=config["postprocessing"])
    targets += [f"{RES}/tables/table{i}.md" for i in range(1, 6)] + [f"{RES}/tables/controls.md"]
    targets += [f"{RES}/figures/summary/dice_by_config.png", f"{RES}/figures/cases/index.html"]
    return targets


rule all:
    input:
        final_targets(),
    default_target: True
