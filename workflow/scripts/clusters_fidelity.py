from cinexai.clusters.fidelity import fidelity
from cinexai.workflow import logged

with logged(snakemake):
    fidelity(
        snakemake.input.signals,
        snakemake.input.records,
        snakemake.input.model,
        snakemake.input.state,
        snakemake.input.truth or None,
        snakemake.output.result,
        snakemake.output.contingency,
        snakemake.wildcards.modality,
        snakemake.params.cfg,
        threads=snakemake.threads,
    )
