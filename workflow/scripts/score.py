from cinexai.evaluation.score import score
from cinexai.workflow import logged

with logged(snakemake):
    score(
        attributions=snakemake.input.attributions,
        masks=snakemake.input.masks,
        predictions=snakemake.input.predictions,
        out=snakemake.output.scores,
        out_sweep=snakemake.output.sweep,
        postprocessing=snakemake.wildcards.pp,
        cfg=snakemake.params.cfg,
        seed=snakemake.params.seed,
    )
