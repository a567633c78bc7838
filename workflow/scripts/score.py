from cinexai.evaluation.score import score_postprocessings
from cinexai.workflow import logged

with logged(snakemake):
    score_postprocessings(
        attributions=snakemake.input.attributions,
        masks=snakemake.input.masks,
        predictions=snakemake.input.predictions,
        outputs=snakemake.output.scores,
        sweeps=snakemake.output.sweeps,
        postprocessing=snakemake.params.postprocessing,
        cfg=snakemake.params.cfg,
        seed=snakemake.params.seed,
    )
