from cinexai.attribution.run import attribute
from cinexai.workflow import logged

with logged(snakemake):
    attribute(
        snakemake.input.signals,
        snakemake.input.records,
        snakemake.input.model,
        snakemake.output[0],
        snakemake.wildcards.source,
        snakemake.wildcards.method,
        snakemake.params.method_cfg,
        snakemake.params.cfg,
        snakemake.params.seed,
        threads=snakemake.threads,
    )
