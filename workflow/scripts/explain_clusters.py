from cinexai.attribution.latent_clusters import explain
from cinexai.workflow import logged

with logged(snakemake):
    explain(
        snakemake.input.signals,
        snakemake.input.records,
        snakemake.input.model,
        snakemake.input.state,
        snakemake.output[0],
        snakemake.wildcards.source,
        snakemake.wildcards.method,
        snakemake.params.method_cfg,
        snakemake.params.cfg,
        snakemake.params.seed,
        threads=snakemake.threads,
    )
