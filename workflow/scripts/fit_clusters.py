from cinexai.clusters.fit import fit
from cinexai.workflow import logged

with logged(snakemake):
    fit(
        snakemake.input.signals,
        snakemake.input.records,
        snakemake.input.model,
        snakemake.output.state,
        int(snakemake.wildcards.k),
        snakemake.params.instances,
        snakemake.params.cfg,
        snakemake.params.seed,
        threads=snakemake.threads,
    )
