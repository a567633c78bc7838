from cinexai.attribution.latent_clusters import explain
from cinexai.workflow import logged

with logged(snakemake):
    explain(
        signals=snakemake.input.signals,
        records=snakemake.input.records,
        model=snakemake.input.model,
        state=snakemake.input.state,
        out=snakemake.output[0],
        source=snakemake.wildcards.source,
        arch=snakemake.wildcards.arch,
        name=snakemake.wildcards.method,
        method_cfg=snakemake.params.method_cfg,
        clusters_cfg=snakemake.params.cfg,
        seed=snakemake.params.seed,
        threads=snakemake.threads,
    )
