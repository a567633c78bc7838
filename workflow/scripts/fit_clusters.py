from cinexai.clusters.fit import fit
from cinexai.workflow import logged

with logged(snakemake):
    fit(
        signals=snakemake.input.signals,
        records=snakemake.input.records,
        model=snakemake.input.model,
        out=snakemake.output.state,
        n_clusters=int(snakemake.wildcards.k),
        instances=snakemake.params.instances,
        cfg=snakemake.params.cfg,
        seed=snakemake.params.seed,
        threads=snakemake.threads,
    )
