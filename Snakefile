"""cinexai: the cross-modal ECG explainability grid.

    generate_synthetic -> ingest -> cineecg -> tune/train [modality: ecg12, cineecg]
    -> attribute [source: ecg12, cineecg] x [method instance]  -> map_to_cineecg [source: mapped]
       (latent-cluster instances: fit_clusters [modality x K] -> explain_clusters, same outputs)
    -> score [source x method x post-processing] (+ oracle control from the expert masks)
    -> tables 1-5 + controls (optimisation pool, BCa bootstrap) -> figures, report

Each stage is one file in workflow/rules/; final_targets() in common.smk expands the grid from
config.yaml; all logic lives in the cinexai package (src/cinexai/).
"""

from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config.yaml"


validate(config, "src/cinexai/schemas/config.schema.yaml", set_default=True)


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/synthetic.smk"
include: "workflow/rules/ingest.smk"
include: "workflow/rules/cineecg.smk"
include: "workflow/rules/models.smk"
include: "workflow/rules/attribution.smk"
include: "workflow/rules/clusters.smk"
include: "workflow/rules/evaluation.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/annotate.smk"


rule all:
    default_target: True
    input:
        final_targets(),
