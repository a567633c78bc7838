from cinexai.models.training import train
from cinexai.workflow import logged

with logged(snakemake):
    train(
        signals=snakemake.input.signals,
        records=snakemake.input.records,
        best_params=snakemake.input.best,
        out_model=snakemake.output.model,
        out_metrics=snakemake.output.metrics,
        out_predictions=snakemake.output.predictions,
        modality=snakemake.wildcards.modality,
        arch=snakemake.wildcards.arch,
        cfg=snakemake.params.cfg,
        seed=snakemake.params.seed,
        threads=snakemake.threads,
    )
