from cinexai.evaluation.controls import oracle
from cinexai.workflow import logged

with logged(snakemake):
    oracle(
        snakemake.input.masks,
        snakemake.wildcards.source,
        snakemake.output[0],
        snakemake.params.cfg,
        snakemake.params.seed,
    )
