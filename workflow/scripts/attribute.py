from cinexai.attribution.run import attribute
from cinexai.workflow import logged

with logged(snakemake):
    attribute(
        signals=snakemake.input.signals,
        records=snakemake.input.records,
        model=snakemake.input.model,
        out=snakemake.output[0],
        source=snakemake.wildcards.source,
        arch=snakemake.wildcards.arch,
        name=snakemake.wildcards.method,
        method_cfg=snakemake.params.method_cfg,
        cfg=snakemake.params.cfg,
        seed=snakemake.params.seed,
        threads=snakemake.threads,
        shard=int(snakemake.wildcards.get("shard", 0)),
        shards=int(snakemake.wildcards.get("shards", 1)),
    )
