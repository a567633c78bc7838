"""cinexai: the cross-modal ECG explainability grid.

    generate_synthetic -> ingest -> cineecg
    -> tune/train [modality: ecg12, cineecg] x [arch: resnet, imn] -> classifier table
    -> attribute [source: ecg12, cineecg] x [arch] x [method instance on that arch]
       -> map_to_cineecg [source: mapped, per arch]
       (latent-cluster instances, resnet only: fit_clusters [modality x K] -> explain_clusters)
    -> score [source x arch x method; every post-processing in the job] (+ oracle control)
    -> tables 1-5, controls, families (optimisation pool over all archs, BCa) -> figures, report
    replicates: R > 1 reruns tune ... tables per replicate seed on the shared data
       -> replicate_table (spread of the headline figures)

Each stage is one file in workflow/rules/; final_targets() in common.smk expands the grid from
config.yaml with the grid's concepts (sources, architectures, where each method runs) from
src/cinexai/grid.py; all logic lives in the cinexai package (src/cinexai/).
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
include: "workflow/rules/replicates.smk"


rule all:
    default_target: True
    input:
        final_targets(),
