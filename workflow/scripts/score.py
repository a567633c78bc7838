from cinexai.evaluation.score import score
from cinexai.workflow import logged

with logged(snakemake):
    score(
        snakemake.input.attributions,
        snakemake.input.masks,
        snakemake.input.predictions,
        snakemake.output.scores,
        snakemake.output.sweep,
        snakemake.wildcards.pp,
        snakemake.params.cfg,
    )
