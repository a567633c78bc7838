from cinexai.evaluation.controls import oracle
from cinexai.workflow import logged

with logged(snakemake):
    oracle(
        masks=snakemake.input.masks,
        source=snakemake.wildcards.source,
        out=snakemake.output[0],
        cfg=snakemake.params.cfg,
        seed=snakemake.params.seed,
    )
