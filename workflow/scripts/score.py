from cinexai.evaluation.faithfulness import faithfulness
from cinexai.evaluation.score import score_postprocessings
from cinexai.workflow import logged

with logged(snakemake):
    pps = list(snakemake.params.postprocessing)
    score_postprocessings(
        attributions=snakemake.input.attributions,
        masks=snakemake.input.masks,
        predictions=snakemake.input.predictions,
        outputs=snakemake.output.scores,
        sweeps=snakemake.output.sweeps,
        postprocessing=pps,
        cfg=snakemake.params.cfg,
        seed=snakemake.params.seed,
    )
    faithfulness(
        attributions=snakemake.input.attributions,
        masks=snakemake.input.masks,
        out=list(snakemake.output.faithfulness),
        postprocessing=pps,
        cfg=snakemake.params.cfg,
        seed=snakemake.params.seed,
        signals=snakemake.input.get("signals"),
        records=snakemake.input.get("records"),
        model=snakemake.input.get("model"),
        threads=snakemake.threads,
    )
