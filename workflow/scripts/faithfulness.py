from cinexai.evaluation.faithfulness import faithfulness
from cinexai.workflow import logged

with logged(snakemake):
    faithfulness(
        attributions=snakemake.input.attributions,
        masks=snakemake.input.masks,
        out=list(snakemake.output),
        postprocessing=list(snakemake.params.postprocessing),
        cfg=snakemake.params.cfg,
        seed=snakemake.params.seed,
        signals=snakemake.input.get("signals"),
        records=snakemake.input.get("records"),
        model=snakemake.input.get("model"),
        threads=snakemake.threads,
    )
